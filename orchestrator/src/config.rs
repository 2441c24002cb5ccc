//! The orchestrator's configuration: a TOML file (`--config`), every option
//! with a default, and command-line flags that override the file.
//!
//! `mosaic.toml` at the repository root documents every option; a test below
//! parses it, so the sample and this struct cannot drift apart. Unknown keys
//! are an error naming the key: a typo must not silently fall back to a
//! default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use protocol::RungSpec;
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
    /// The RTMP ingest's listen address.
    pub rtmp: SocketAddr,
    /// The host name users reach this orchestrator by, for the URLs
    /// `mosaic streams` prints; empty: the host the client asked.
    pub public_host: String,
    /// Segments are cut at the first keyframe this long after their start.
    pub segment_seconds: f64,
    /// A publisher without a keyframe for this long is cut off.
    pub max_keyframe_interval_seconds: u64,
    /// The largest source segment (and rendition), in bytes.
    pub max_segment_bytes: u64,
    /// A publisher that sends nothing (or stalls in the handshake) for this
    /// long is cut off.
    pub rtmp_timeout_seconds: u64,
    /// At most this many RTMP connections at once.
    pub max_rtmp_connections: u32,
    /// A segment's deadline on a worker, as a multiple of its duration.
    pub live_deadline_factor: f64,
    /// A segment still without renditions this many durations after it was
    /// cut is published as a gap.
    pub live_gap_factor: f64,
    /// Workers transcoding slower than this (x real time) are taken off
    /// live work for `live_bench_seconds`.
    pub live_min_speed: f64,
    pub live_bench_seconds: u64,
    /// Segments in a live playlist.
    pub hls_window: u32,
    /// The share of results duplicated on another operator's node and compared.
    pub spot_check_rate: f64,
    /// A node's first this many results are all duplicated.
    pub spot_check_warmup: u64,
    /// Random sample times per segment comparison.
    pub check_samples: u32,
    /// Credits a node must have staked to get work.
    pub min_stake: f64,
    /// The share of its stake a node loses on proven fraud.
    pub slash_share: f64,
    /// An unchecked result is paid this long after it was accepted, unless
    /// its node is proven to cheat before then.
    pub settle_seconds: u64,
    /// Credits per 10^9 pixel-samples rendered (width x height x spp).
    pub render_price: f64,
    /// Credits per 10^9 output pixels transcoded (each rung's width x height x frames).
    pub video_price: f64,
    /// The ABR ladder: rungs by height and video bitrate.
    pub ladder: Vec<RungSpec>,
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
            rtmp: SocketAddr::from(([0, 0, 0, 0], 1935)),
            public_host: String::new(),
            segment_seconds: 2.0,
            max_keyframe_interval_seconds: 30,
            max_segment_bytes: 64 * 1024 * 1024,
            rtmp_timeout_seconds: 10,
            max_rtmp_connections: 256,
            live_deadline_factor: 1.5,
            live_gap_factor: 3.0,
            live_min_speed: 1.0,
            live_bench_seconds: 60,
            hls_window: 6,
            spot_check_rate: 0.1,
            spot_check_warmup: 20,
            check_samples: 4,
            min_stake: 100.0,
            slash_share: 0.5,
            settle_seconds: 600,
            render_price: 1.0,
            video_price: 1.0,
            ladder: protocol::ladder::default_ladder(),
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
    #[error("config option ladder: {0}")]
    Ladder(String),
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
        if !(self.segment_seconds >= 0.5 && self.segment_seconds <= 30.0) {
            return Err(invalid("segment_seconds", &self.segment_seconds, "must be 0.5 to 30"));
        }
        if self.max_keyframe_interval_seconds < 1 {
            return Err(invalid(
                "max_keyframe_interval_seconds",
                &self.max_keyframe_interval_seconds,
                "must be at least 1",
            ));
        }
        if self.max_segment_bytes < 1 << 20 {
            return Err(invalid(
                "max_segment_bytes",
                &self.max_segment_bytes,
                "must be at least 1 MiB",
            ));
        }
        if self.rtmp_timeout_seconds == 0 {
            return Err(invalid("rtmp_timeout_seconds", &0, "must be at least 1"));
        }
        if self.max_rtmp_connections == 0 {
            return Err(invalid("max_rtmp_connections", &0, "must be at least 1"));
        }
        if !(self.live_deadline_factor >= 1.0 && self.live_deadline_factor <= 100.0) {
            return Err(invalid(
                "live_deadline_factor",
                &self.live_deadline_factor,
                "must be 1 to 100",
            ));
        }
        if !(self.live_gap_factor >= self.live_deadline_factor && self.live_gap_factor <= 1000.0) {
            return Err(invalid(
                "live_gap_factor",
                &self.live_gap_factor,
                "must be at least live_deadline_factor (and at most 1000)",
            ));
        }
        if !(self.live_min_speed >= 0.0 && self.live_min_speed <= 100.0) {
            return Err(invalid("live_min_speed", &self.live_min_speed, "must be 0 to 100"));
        }
        if self.hls_window < 3 {
            return Err(invalid(
                "hls_window",
                &self.hls_window,
                "must be at least 3 (players hold back three segments)",
            ));
        }
        if self.public_host.contains(['/', ' ']) {
            return Err(invalid(
                "public_host",
                &self.public_host,
                "must be a host name or address, without a scheme or path",
            ));
        }
        let share = |x: f64| (0.0..=1.0).contains(&x);
        if !share(self.spot_check_rate) {
            return Err(invalid("spot_check_rate", &self.spot_check_rate, "must be 0 to 1"));
        }
        if !share(self.slash_share) {
            return Err(invalid("slash_share", &self.slash_share, "must be 0 to 1"));
        }
        if self.check_samples == 0 || self.check_samples > 32 {
            return Err(invalid("check_samples", &self.check_samples, "must be 1 to 32"));
        }
        let credits = |x: f64| x.is_finite() && (0.0..=1e12).contains(&x);
        if !credits(self.min_stake) {
            return Err(invalid("min_stake", &self.min_stake, "must be 0 to 10^12 credits"));
        }
        if !credits(self.render_price) {
            return Err(invalid("render_price", &self.render_price, "must be 0 to 10^12 credits"));
        }
        if !credits(self.video_price) {
            return Err(invalid("video_price", &self.video_price, "must be 0 to 10^12 credits"));
        }
        protocol::ladder::validate(&self.ladder).map_err(|e| ConfigError::Ladder(e.to_string()))?;
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
        let err = Config::parse("[[ladder]]\nheight = 721\nbitrate = 1000000").unwrap_err();
        assert!(err.contains("ladder") && err.contains("721"), "{err}");
        assert!(Config::parse("live_gap_factor = 1.0").unwrap_err().contains("live_gap_factor"));
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
        rtmp: String,
        public_host: String,
        segment_seconds: f64,
        max_keyframe_interval_seconds: u64,
        max_segment_bytes: u64,
        rtmp_timeout_seconds: u64,
        max_rtmp_connections: u32,
        live_deadline_factor: f64,
        live_gap_factor: f64,
        live_min_speed: f64,
        live_bench_seconds: u64,
        hls_window: u32,
        spot_check_rate: f64,
        spot_check_warmup: u64,
        check_samples: u32,
        min_stake: f64,
        slash_share: f64,
        settle_seconds: u64,
        render_price: f64,
        video_price: f64,
        ladder: Vec<RungSpec>,
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
                rtmp,
                public_host,
                segment_seconds,
                max_keyframe_interval_seconds,
                max_segment_bytes,
                rtmp_timeout_seconds,
                max_rtmp_connections,
                live_deadline_factor,
                live_gap_factor,
                live_min_speed,
                live_bench_seconds,
                hls_window,
                spot_check_rate,
                spot_check_warmup,
                check_samples,
                min_stake,
                slash_share,
                settle_seconds,
                render_price,
                video_price,
                ladder,
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
                rtmp: rtmp.to_string(),
                public_host,
                segment_seconds,
                max_keyframe_interval_seconds,
                max_segment_bytes,
                rtmp_timeout_seconds,
                max_rtmp_connections,
                live_deadline_factor,
                live_gap_factor,
                live_min_speed,
                live_bench_seconds,
                hls_window,
                spot_check_rate,
                spot_check_warmup,
                check_samples,
                min_stake,
                slash_share,
                settle_seconds,
                render_price,
                video_price,
                ladder,
            }
        }
    }
}
