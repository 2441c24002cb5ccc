//! The orchestrator's configuration: a TOML file (`--config`), every option
//! with a default, and command-line flags that override the file.
//!
//! `mosaic.toml` at the repository root documents every option; a test below
//! parses it, so the sample and this struct cannot drift apart. Unknown keys
//! are an error naming the key: a typo must not silently fall back to a
//! default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// 256 MiB: the largest scene upload accepted by default.
pub const DEFAULT_MAX_SCENE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database, blobs, identity and admin token live.
    pub data_dir: PathBuf,
    /// The HTTP API's listen address.
    pub http: SocketAddr,
    /// The libp2p listen address that workers dial.
    pub p2p: String,
    /// How long a worker holds a task without renewing its lease.
    pub lease_seconds: u64,
    /// The largest scene upload, in bytes.
    pub max_scene_bytes: u64,
    /// Failures (on different workers) after which a task's frames fail.
    pub max_task_failures: u32,
    /// Failed tasks of one job after which a worker gets no more of its tasks.
    pub worker_job_failures_to_blocklist: u32,
    /// Frames per task for a job that asks for chunk 0.
    pub default_chunk: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("mosaic-data"),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            p2p: "/ip4/0.0.0.0/tcp/4001".to_owned(),
            lease_seconds: 30,
            max_scene_bytes: DEFAULT_MAX_SCENE_BYTES,
            max_task_failures: 3,
            worker_job_failures_to_blocklist: 3,
            default_chunk: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config option {option} = {value}: {reason}")]
    Invalid { option: &'static str, value: String, reason: &'static str },
}

impl Config {
    /// Reads and checks a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })
    }

    /// Parses TOML text; the error message names the offending key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Rejects values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |option, value: &dyn std::fmt::Display, reason| ConfigError::Invalid {
            option,
            value: value.to_string(),
            reason,
        };
        if self.lease_seconds == 0 || self.lease_seconds > 24 * 3600 {
            return Err(invalid("lease_seconds", &self.lease_seconds, "must be 1 to 86400"));
        }
        if self.max_scene_bytes == 0 {
            return Err(invalid("max_scene_bytes", &self.max_scene_bytes, "must be at least 1"));
        }
        if self.max_task_failures == 0 {
            return Err(invalid(
                "max_task_failures",
                &self.max_task_failures,
                "must be at least 1",
            ));
        }
        if self.worker_job_failures_to_blocklist == 0 {
            return Err(invalid(
                "worker_job_failures_to_blocklist",
                &self.worker_job_failures_to_blocklist,
                "must be at least 1",
            ));
        }
        if self.default_chunk == 0 || self.default_chunk > protocol::api::MAX_CHUNK {
            return Err(invalid("default_chunk", &self.default_chunk, "must be 1 to 1000"));
        }
        if self.p2p.parse::<libp2p::Multiaddr>().is_err() {
            return Err(invalid("p2p", &self.p2p, "is not a multiaddr like /ip4/0.0.0.0/tcp/4001"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_config_at_repo_root_parses_to_the_defaults() {
        let text = include_str!("../../mosaic.toml");
        let config = Config::parse(text).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn sample_config_documents_every_option() {
        let text = include_str!("../../mosaic.toml");
        let table: toml::Table = toml::from_str(text).unwrap();
        let defaults = toml::Table::try_from(DefaultsAsToml::from(Config::default())).unwrap();
        for key in defaults.keys() {
            assert!(table.contains_key(key), "mosaic.toml does not set {key}");
        }
    }

    #[test]
    fn empty_file_gives_defaults_and_options_override() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let config = Config::parse("lease_seconds = 5\nhttp = \"127.0.0.1:0\"").unwrap();
        assert_eq!(config.lease_seconds, 5);
        assert_eq!(config.http.port(), 0);
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = Config::parse("lease_secs = 5").unwrap_err();
        assert!(err.contains("lease_secs"), "{err}");
    }

    #[test]
    fn nonsense_values_are_rejected() {
        assert!(Config::parse("lease_seconds = 0").unwrap_err().contains("lease_seconds"));
        assert!(Config::parse("p2p = \"tcp:4001\"").unwrap_err().contains("p2p"));
        assert!(Config::parse("http = \"nowhere\"").is_err());
        assert!(Config::parse("default_chunk = 0").unwrap_err().contains("default_chunk"));
    }

    /// The option names, for checking that the sample file sets each.
    #[derive(serde::Serialize)]
    struct DefaultsAsToml {
        data_dir: String,
        http: String,
        p2p: String,
        lease_seconds: u64,
        max_scene_bytes: u64,
        max_task_failures: u32,
        worker_job_failures_to_blocklist: u32,
        default_chunk: u32,
    }

    impl From<Config> for DefaultsAsToml {
        fn from(c: Config) -> Self {
            // Destructured so that a new option fails to compile here until
            // it is added (and so to the check against mosaic.toml).
            let Config {
                data_dir,
                http,
                p2p,
                lease_seconds,
                max_scene_bytes,
                max_task_failures,
                worker_job_failures_to_blocklist,
                default_chunk,
            } = c;
            Self {
                data_dir: data_dir.display().to_string(),
                http: http.to_string(),
                p2p,
                lease_seconds,
                max_scene_bytes,
                max_task_failures,
                worker_job_failures_to_blocklist,
                default_chunk,
            }
        }
    }
}
