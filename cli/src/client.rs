//! Talking to the orchestrator's HTTP API: where the token comes from, how a
//! failed request becomes a message a user can act on, and reading the job
//! progress stream (server-sent events).
//!
//! It never prints; callers decide what the user sees.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use protocol::api::{ApiError, JobDetail, JobSummary};
use protocol::JobId;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The orchestrator's default data directory, relative to where it was
/// started: running `mosaic` next to a local orchestrator just works.
pub const DEFAULT_TOKEN_FILE: &str = "mosaic-data/admin.token";

/// A bearer token and where it was found, so a refusal can say which one.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    pub source: TokenSource,
}

impl fmt::Debug for Token {
    /// Never shows the secret itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("source", &self.source).finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `--token` or `MOSAIC_TOKEN`.
    Given,
    /// `--token-file`, `MOSAIC_TOKEN_FILE` or one of the default files.
    File(PathBuf),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Given => f.write_str("--token / MOSAIC_TOKEN"),
            TokenSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The files tried, in order, when no token and no token file is given:
/// the orchestrator's default data dir under the current directory, then
/// the user's config directory.
pub fn default_token_files(xdg_config_home: Option<&Path>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from(DEFAULT_TOKEN_FILE)];
    match (xdg_config_home, home) {
        (Some(xdg), _) if xdg.is_absolute() => files.push(xdg.join("mosaic/token")),
        (_, Some(home)) => files.push(home.join(".config/mosaic/token")),
        _ => {}
    }
    files
}

/// Finds the token: a given one wins, then a given file (which must exist),
/// then the first default file that exists. `Ok(None)` when there is none:
/// the request goes out without one and the 401 explains what to do.
pub fn find_token(
    given: Option<&str>,
    given_file: Option<&Path>,
    default_files: &[PathBuf],
) -> Result<Option<Token>> {
    if let Some(value) = given {
        let value = value.trim();
        if value.is_empty() {
            anyhow::bail!("the token given with --token / MOSAIC_TOKEN is empty");
        }
        return Ok(Some(Token { value: value.to_owned(), source: TokenSource::Given }));
    }
    if let Some(path) = given_file {
        return read_token_file(path).map(Some);
    }
    for path in default_files {
        if path.is_file() {
            return read_token_file(path).map(Some);
        }
    }
    Ok(None)
}

fn read_token_file(path: &Path) -> Result<Token> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let value = text.trim();
    if value.is_empty() {
        anyhow::bail!("the token file {} is empty", path.display());
    }
    Ok(Token { value: value.to_owned(), source: TokenSource::File(path.to_owned()) })
}

/// A client for one orchestrator.
pub struct Client {
    base: String,
    token: Option<Token>,
    agent: ureq::Agent,
    /// For the progress stream: no overall timeout, a long read timeout.
    stream_agent: ureq::Agent,
}

impl Client {
    pub fn new(url: &str, token: Option<Token>) -> Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            anyhow::bail!(
                "--url {url:?} must start with http:// (the orchestrator serves plain HTTP; \
                 put a TLS proxy in front of it for remote use)"
            );
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout_read(Duration::from_secs(120))
            .timeout_write(Duration::from_secs(120))
            .build();
        let stream_agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout_read(Duration::from_secs(60))
            .build();
        Ok(Self { base, token, agent, stream_agent })
    }

    fn request(&self, agent: &ureq::Agent, method: &str, path: &str) -> ureq::Request {
        let mut req = agent.request(method, &format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.set("Authorization", &format!("Bearer {}", token.value));
        }
        req
    }

    fn check(
        &self,
        method: &str,
        path: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<ureq::Response> {
        result.map_err(|err| self.explain(method, path, err))
    }

    /// Turns a failed request into a message that says what to do.
    fn explain(&self, method: &str, path: &str, err: ureq::Error) -> anyhow::Error {
        let request = format!("{method} {path}");
        let err = match err {
            ureq::Error::Status(401, _) => ClientError::Unauthorized {
                request,
                url: self.base.clone(),
                hint: token_hint(self.token.as_ref()),
            },
            ureq::Error::Status(status, response) => {
                let body = response.into_string().unwrap_or_default();
                let message = match serde_json::from_str::<ApiError>(&body) {
                    Ok(api) => api.error,
                    Err(_) if body.trim().is_empty() => "no details".to_owned(),
                    Err(_) => body.trim().chars().take(500).collect(),
                };
                ClientError::Status { request, status, message }
            }
            ureq::Error::Transport(t) => match t.kind() {
                ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Dns => {
                    ClientError::Unreachable { url: self.base.clone(), cause: t.to_string() }
                }
                _ => {
                    ClientError::Transport { request, url: self.base.clone(), cause: t.to_string() }
                }
            },
        };
        err.into()
    }

    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let response = self.check("GET", path, self.request(&self.agent, "GET", path).call())?;
        decode(response, "GET", path)
    }

    pub fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let response =
            self.check("POST", path, self.request(&self.agent, "POST", path).send_json(body))?;
        decode(response, "POST", path)
    }

    pub fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let response =
            self.check("DELETE", path, self.request(&self.agent, "DELETE", path).call())?;
        decode(response, "DELETE", path)
    }

    pub fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let response = self.check("POST", path, self.request(&self.agent, "POST", path).call())?;
        decode(response, "POST", path)
    }

    pub fn post_bytes<T: DeserializeOwned>(&self, path: &str, bytes: &[u8]) -> Result<T> {
        let request =
            self.request(&self.agent, "POST", path).set("Content-Type", "application/octet-stream");
        let response = self.check("POST", path, request.send_bytes(bytes))?;
        decode(response, "POST", path)
    }

    /// Starts a download; the caller reads the body.
    pub fn download(&self, path: &str) -> Result<Box<dyn Read + Send + Sync>> {
        let response = self.check("GET", path, self.request(&self.agent, "GET", path).call())?;
        Ok(response.into_reader())
    }

    pub fn job(&self, job: JobId) -> Result<JobDetail> {
        self.get_json(&format!("/api/jobs/{job}"))
    }

    /// Opens the job's progress stream.
    pub fn job_events(
        &self,
        job: JobId,
    ) -> Result<JobEvents<std::io::BufReader<Box<dyn Read + Send + Sync>>>> {
        let path = format!("/api/jobs/{job}/events");
        let request =
            self.request(&self.stream_agent, "GET", &path).set("Accept", "text/event-stream");
        let response = self.check("GET", &path, request.call())?;
        Ok(JobEvents::new(std::io::BufReader::new(response.into_reader())))
    }
}

fn decode<T: DeserializeOwned>(response: ureq::Response, method: &str, path: &str) -> Result<T> {
    response.into_json().with_context(|| {
        format!("{method} {path}: the orchestrator's answer is not what this mosaic expects")
    })
}

/// Why a request failed, in words a user can act on. Callers that follow a
/// job look at the kind: an unreachable orchestrator may come back.
#[derive(Debug)]
pub enum ClientError {
    Unauthorized { request: String, url: String, hint: String },
    Status { request: String, status: u16, message: String },
    Unreachable { url: String, cause: String },
    Transport { request: String, url: String, cause: String },
}

impl ClientError {
    /// Whether trying again later may succeed (the orchestrator restarting).
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. } | ClientError::Transport { .. })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unauthorized { request, url, hint } => {
                write!(
                    f,
                    "{request}: the orchestrator at {url} refused the token (HTTP 401). {hint}"
                )
            }
            ClientError::Status { request, status, message } => {
                write!(f, "{request}: {message} (HTTP {status})")
            }
            ClientError::Unreachable { url, cause } => write!(
                f,
                "cannot reach the orchestrator at {url} ({cause}). Start `mosaic-orchestrator`, \
                 or point --url / MOSAIC_URL at a running one"
            ),
            ClientError::Transport { request, url, cause } => {
                write!(f, "{request} at {url}: {cause}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

/// What to do about a refused token, naming the token that was tried.
pub fn token_hint(token: Option<&Token>) -> String {
    let tried = match token {
        Some(token) => format!("The token came from {}. ", token.source),
        None => "No token was found. ".to_owned(),
    };
    format!(
        "{tried}Pass --token / MOSAIC_TOKEN, or point --token-file / MOSAIC_TOKEN_FILE at the \
         orchestrator's DATA_DIR/admin.token"
    )
}

/// Server-sent events from a line reader: each event's `data:` lines joined.
/// Comments (`:` keep-alives), `event:`, `id:` and `retry:` lines are skipped.
pub struct SseEvents<R> {
    reader: R,
    line: String,
}

impl<R: BufRead> SseEvents<R> {
    pub fn new(reader: R) -> Self {
        Self { reader, line: String::new() }
    }
}

impl<R: BufRead> Iterator for SseEvents<R> {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut data: Option<String> = None;
        loop {
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Err(err) => return Some(Err(err)),
                // End of stream: an event not closed by a blank line is dropped,
                // as the SSE spec says.
                Ok(0) => return None,
                Ok(_) => {}
            }
            let line = self.line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if let Some(data) = data.take() {
                    return Some(Ok(data));
                }
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            if field == "data" {
                match &mut data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                }
            }
        }
    }
}

/// A job's progress stream: each event is a [`JobSummary`].
pub struct JobEvents<R> {
    events: SseEvents<R>,
}

impl<R: BufRead> JobEvents<R> {
    pub fn new(reader: R) -> Self {
        Self { events: SseEvents::new(reader) }
    }
}

impl<R: BufRead> Iterator for JobEvents<R> {
    type Item = Result<JobSummary>;

    fn next(&mut self) -> Option<Self::Item> {
        let data = match self.events.next()? {
            Ok(data) => data,
            Err(err) => return Some(Err(anyhow!(err).context("the progress stream broke off"))),
        };
        Some(
            serde_json::from_str(&data)
                .with_context(|| format!("a progress event is not a job summary: {data:?}")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_token_wins_over_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, "from-file\n").unwrap();
        let token =
            find_token(Some("given"), Some(&file), std::slice::from_ref(&file)).unwrap().unwrap();
        assert_eq!(token.value, "given");
        assert_eq!(token.source, TokenSource::Given);
    }

    #[test]
    fn a_given_file_wins_over_the_defaults_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let given = dir.path().join("given");
        let default = dir.path().join("default");
        std::fs::write(&given, "  g-token \n").unwrap();
        std::fs::write(&default, "d-token").unwrap();
        let token =
            find_token(None, Some(&given), std::slice::from_ref(&default)).unwrap().unwrap();
        assert_eq!(token.value, "g-token");
        assert_eq!(token.source, TokenSource::File(given));

        let missing = dir.path().join("missing");
        let err = find_token(None, Some(&missing), &[default]).unwrap_err();
        assert!(format!("{err:#}").contains("missing"), "{err:#}");
    }

    #[test]
    fn the_first_existing_default_file_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        let third = dir.path().join("third");
        std::fs::write(&second, "second").unwrap();
        std::fs::write(&third, "third").unwrap();
        let token =
            find_token(None, None, &[first.clone(), second.clone(), third]).unwrap().unwrap();
        assert_eq!(token.value, "second");
        assert_eq!(find_token(None, None, &[first]).unwrap(), None);
    }

    #[test]
    fn empty_tokens_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(find_token(Some("  "), None, &[]).is_err());
        assert!(find_token(None, Some(&empty), &[]).is_err());
    }

    #[test]
    fn default_files_prefer_xdg_over_home() {
        let files = default_token_files(Some(Path::new("/x")), Some(Path::new("/h")));
        assert_eq!(files, [PathBuf::from(DEFAULT_TOKEN_FILE), PathBuf::from("/x/mosaic/token")]);
        let files = default_token_files(None, Some(Path::new("/h")));
        assert_eq!(
            files,
            [PathBuf::from(DEFAULT_TOKEN_FILE), PathBuf::from("/h/.config/mosaic/token")]
        );
        // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
        let files = default_token_files(Some(Path::new("rel")), Some(Path::new("/h")));
        assert_eq!(files[1], PathBuf::from("/h/.config/mosaic/token"));
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let token = find_token(Some("s3cret"), None, &[]).unwrap().unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn sse_events_join_data_lines_and_skip_comments() {
        let stream = ": keep-alive\n\ndata: one\n\nevent: progress\nid: 3\ndata: two\ndata: lines\r\n\r\ndata:three\n\ndata: unterminated";
        let events: Vec<String> =
            SseEvents::new(std::io::Cursor::new(stream)).map(|e| e.unwrap()).collect();
        assert_eq!(events, ["one", "two\nlines", "three"]);
    }

    #[test]
    fn job_events_decode_summaries_and_reject_garbage() {
        let summary = r#"{"id":7,"name":"box.glb","state":"running","frames_total":6,"frames_done":2,"frames_failed":0,"created_at":1,"finished_at":null,"priority":0}"#;
        let stream = format!("data: {summary}\n\ndata: nonsense\n\n");
        let mut events = JobEvents::new(std::io::Cursor::new(stream));
        let first = events.next().unwrap().unwrap();
        assert_eq!(first.id, JobId(7));
        assert_eq!(first.frames_done, 2);
        let err = events.next().unwrap().unwrap_err();
        assert!(format!("{err:#}").contains("nonsense"));
        assert!(events.next().is_none());
    }

    #[test]
    fn the_token_hint_names_the_source_and_the_fix() {
        let hint = token_hint(Some(&Token {
            value: "x".into(),
            source: TokenSource::File(PathBuf::from("/d/admin.token")),
        }));
        assert!(hint.contains("/d/admin.token") && hint.contains("--token"), "{hint}");
        assert!(token_hint(None).contains("No token was found"));
    }
}
