//! The HTTP API (axum): scene uploads, jobs, progress as server-sent events,
//! frame and video downloads, the worker list, live streams; and HLS
//! playback. Routes and bodies are those of `protocol::api`.
//!
//! Every `/api` route needs the admin token as a bearer token; a missing or
//! wrong one gets 401 and no data. `GET /healthz` is open, for readiness
//! checks, and so is `/live/...`, the playlists and segments viewers play
//! (with CORS, so a player on a page from another origin can load them),
//! and `/ledger/...`, the ledger's entries, balances, signed tree heads and
//! proofs: a transparency log anyone may audit (staking needs the token).
//! Every error is a JSON `ApiError`. Handlers decide nothing: they parse,
//! call the [`Farm`] on a blocking thread, and map its answer.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use protocol::api::{
    ApiError, JobCreated, JobRequest, JobSummary, LedgerProof, NewStream, StakeRequest,
};
use protocol::JobId;
use tokio::io::AsyncReadExt;

use crate::farm::{Farm, FarmError, PublicUrls};
use crate::hls::Kind;

/// How often a progress stream looks at its job.
const EVENT_POLL: Duration = Duration::from_millis(300);
/// Bytes per read when streaming a file out.
const FILE_CHUNK: usize = 256 * 1024;

#[derive(Clone)]
struct ApiState {
    farm: Arc<Farm>,
    /// The token's hash: comparing hashes takes the same time whatever the
    /// guess (blake3's `Hash` compares in constant time).
    token: blake3::Hash,
    addresses: Arc<Addresses>,
}

/// What the URLs of a stream are made of.
#[derive(Clone, Debug, Default)]
pub struct Addresses {
    /// The configured public host; empty: the host the client asked for.
    pub public_host: String,
    pub http_port: u16,
    pub rtmp_port: u16,
}

impl Addresses {
    /// The URLs for a client that reached us as `host` (its Host header).
    fn urls(&self, host: Option<&str>) -> PublicUrls {
        let asked = host.map(split_host).unwrap_or(("127.0.0.1", None));
        let name = if self.public_host.is_empty() { asked.0 } else { &self.public_host };
        let http_port = asked.1.filter(|_| self.public_host.is_empty()).unwrap_or(self.http_port);
        PublicUrls {
            rtmp: format!("rtmp://{name}:{}", self.rtmp_port),
            http: format!("http://{name}:{http_port}"),
        }
    }
}

/// `example.com:8080` -> (`example.com`, 8080); `[::1]:80` -> (`[::1]`, 80).
fn split_host(host: &str) -> (&str, Option<u16>) {
    let split =
        if host.starts_with('[') { host.rfind("]:").map(|i| i + 1) } else { host.rfind(':') };
    match split {
        Some(i) => (&host[..i], host[i + 1..].parse().ok()),
        None => (host, None),
    }
}

/// The API's routes over `farm`, guarded by `token`, and the open playback
/// routes.
pub fn router(farm: Arc<Farm>, token: &str, addresses: Addresses) -> Router {
    let state =
        ApiState { farm, token: blake3::hash(token.as_bytes()), addresses: Arc::new(addresses) };
    let api = Router::new()
        // The handler bounds the upload itself (see OVERSIZE_DRAIN).
        .route("/scenes", post(upload_scene).layer(DefaultBodyLimit::disable()))
        .route("/jobs", post(create_job).get(list_jobs))
        .route("/jobs/{id}", get(get_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/jobs/{id}/events", get(job_events))
        .route("/jobs/{id}/frames/{frame}", get(get_frame))
        .route("/jobs/{id}/video", get(get_video))
        .route("/workers", get(list_workers))
        .route("/streams", post(add_stream).get(list_streams))
        .route("/streams/{name}", get(get_stream).delete(remove_stream))
        .route("/ledger/stake", post(stake))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    let live = Router::new()
        .route("/{name}/{file}", get(stream_playlist).options(preflight))
        .route("/{name}/{rung}/{file}", get(rung_file).options(preflight))
        .layer(middleware::from_fn(cors));
    let ledger = Router::new()
        .route("/", get(ledger_summary))
        .route("/entries", get(ledger_entries))
        .route("/heads", get(tree_heads))
        .route("/proof/inclusion", get(inclusion_proof))
        .route("/proof/consistency", get(consistency_proof));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api", api)
        .nest("/ledger", ledger)
        .nest("/live", live)
        .fallback(|| async { failure(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            failure(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
        })
        .with_state(state)
}

/// An error response: a status and an [`ApiError`] body.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    message: String,
}

fn failure(status: StatusCode, message: impl Into<String>) -> Failure {
    Failure { status, message: message.into() }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(ApiError { error: self.message })).into_response()
    }
}

impl From<FarmError> for Failure {
    fn from(e: FarmError) -> Self {
        let status = match &e {
            FarmError::Invalid(_) => StatusCode::BAD_REQUEST,
            FarmError::NotFound(_) => StatusCode::NOT_FOUND,
            FarmError::Conflict(_) => StatusCode::CONFLICT,
            FarmError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            FarmError::Store(_) | FarmError::Blob(_) | FarmError::Io { .. } => {
                tracing::error!(error = %e, "request failed inside the orchestrator");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        failure(status, e.to_string())
    }
}

/// Runs a farm call on a blocking thread (it may touch disk).
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, FarmError> + Send + 'static,
) -> Result<T, Failure> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result.map_err(Failure::from),
        Err(e) => {
            tracing::error!(error = %e, "a request's farm call panicked");
            Err(failure(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let token = header.and_then(|v| v.strip_prefix(b"Bearer ")).map(|t| t.trim_ascii());
    let message = match token {
        Some(token) if blake3::hash(token) == state.token => return next.run(request).await,
        Some(_) => "wrong token: use the one in the orchestrator's DATA_DIR/admin.token",
        None => "missing token: send `Authorization: Bearer TOKEN` (see DATA_DIR/admin.token)",
    };
    let mut response = failure(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn job_id(path: Result<Path<i64>, PathRejection>) -> Result<JobId, Failure> {
    match path {
        Ok(Path(id)) => Ok(JobId(id)),
        Err(_) => Err(failure(StatusCode::BAD_REQUEST, "a job id is a number, like 12")),
    }
}

/// How much of an oversized upload is read (and thrown away) before the
/// 413 goes out: a client still sending when the server closes sees a
/// broken pipe instead of the reason, so a moderately oversized upload is
/// drained first. Anything larger gets the answer at once.
const OVERSIZE_DRAIN: u64 = 16 << 20;

async fn upload_scene(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Response, Failure> {
    let max = state.farm.max_scene_bytes();
    let too_large = || {
        failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the scene is larger than {max} bytes, the most this orchestrator accepts \
                 (max_scene_bytes)"
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(OVERSIZE_DRAIN)) {
        return Err(too_large());
    }
    let mut stream = request.into_body().into_data_stream();
    let mut body = Vec::new();
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            failure(StatusCode::BAD_REQUEST, format!("cannot read the upload: {e}"))
        })?;
        seen += chunk.len() as u64;
        if seen > max.saturating_add(OVERSIZE_DRAIN) {
            return Err(too_large());
        }
        if seen <= max {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > max {
        return Err(too_large());
    }
    if body.is_empty() {
        return Err(failure(StatusCode::BAD_REQUEST, "the upload is empty: send a .glb file"));
    }
    let farm = state.farm.clone();
    let info = blocking(move || farm.add_scene(&body)).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn create_job(
    State(state): State<ApiState>,
    request: Result<Json<JobRequest>, JsonRejection>,
) -> Result<Response, Failure> {
    let Json(request) = request.map_err(|rejection| {
        failure(StatusCode::BAD_REQUEST, format!("invalid job request: {}", rejection.body_text()))
    })?;
    let farm = state.farm.clone();
    let job = blocking(move || farm.create_job(&request)).await?;
    Ok((StatusCode::CREATED, Json(JobCreated { job })).into_response())
}

async fn list_jobs(State(state): State<ApiState>) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.list_jobs()).await?).into_response())
}

async fn get_job(
    State(state): State<ApiState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, Failure> {
    let id = job_id(path)?;
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.job_detail(id)).await?).into_response())
}

async fn cancel_job(
    State(state): State<ApiState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, Failure> {
    let id = job_id(path)?;
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.cancel_job(id)).await?).into_response())
}

async fn list_workers(State(state): State<ApiState>) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.workers()).await?).into_response())
}

/// A [`JobSummary`] whenever the job changes, starting with its state now;
/// the stream ends once the job has reached a final state.
async fn job_events(
    State(state): State<ApiState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let id = job_id(path)?;
    let farm = state.farm.clone();
    let first = blocking(move || farm.job_summary(id)).await?;
    struct Follow {
        farm: Arc<Farm>,
        id: JobId,
        next: Option<JobSummary>,
        last: Option<String>,
        ended: bool,
    }
    let follow = Follow { farm: state.farm, id, next: Some(first), last: None, ended: false };
    let events = futures::stream::unfold(follow, |mut follow| async move {
        loop {
            if follow.ended {
                return None;
            }
            let summary = match follow.next.take() {
                Some(summary) => summary,
                None => {
                    tokio::time::sleep(EVENT_POLL).await;
                    let (farm, id) = (follow.farm.clone(), follow.id);
                    // The job vanishing or the store failing ends the stream.
                    blocking(move || farm.job_summary(id)).await.ok()?
                }
            };
            follow.ended = summary.state.is_final();
            let json = serde_json::to_string(&summary).expect("summaries serialize");
            if follow.last.as_deref() != Some(json.as_str()) {
                follow.last = Some(json.clone());
                return Some((Ok(Event::default().data(json)), follow));
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

async fn get_frame(
    State(state): State<ApiState>,
    path: Result<Path<(i64, u32)>, PathRejection>,
) -> Result<Response, Failure> {
    let Ok(Path((id, frame))) = path else {
        return Err(failure(
            StatusCode::BAD_REQUEST,
            "expected /api/jobs/JOB/frames/FRAME with numbers, like /api/jobs/12/frames/1",
        ));
    };
    let farm = state.farm.clone();
    let (path, format) = blocking(move || farm.frame_file(JobId(id), frame)).await?;
    let name = format!("{frame:04}.{}", format.extension());
    send_file(path, format.mime(), &name).await
}

async fn get_video(
    State(state): State<ApiState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, Failure> {
    let id = job_id(path)?;
    let farm = state.farm.clone();
    let path = blocking(move || farm.video_file(id)).await?;
    send_file(path, "video/mp4", &format!("job-{id}.mp4")).await
}

// ---------------------------------------------------------------- streams

/// The URLs a stream shows, for the host this request was sent to.
struct Urls(PublicUrls);

impl axum::extract::FromRequestParts<ApiState> for Urls {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &ApiState,
    ) -> Result<Self, Infallible> {
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok());
        Ok(Urls(state.addresses.urls(host)))
    }
}

async fn add_stream(
    State(state): State<ApiState>,
    Urls(urls): Urls,
    request: Result<Json<NewStream>, JsonRejection>,
) -> Result<Response, Failure> {
    let Json(request) = request.map_err(|rejection| {
        failure(
            StatusCode::BAD_REQUEST,
            format!("invalid stream request: {}", rejection.body_text()),
        )
    })?;
    let farm = state.farm.clone();
    let info = blocking(move || farm.add_stream(&request.name, &urls)).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn list_streams(
    State(state): State<ApiState>,
    Urls(urls): Urls,
) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.list_streams(&urls)).await?).into_response())
}

async fn get_stream(
    State(state): State<ApiState>,
    Urls(urls): Urls,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.stream_info(&name, &urls)).await?).into_response())
}

async fn remove_stream(
    State(state): State<ApiState>,
    Urls(urls): Urls,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.remove_stream(&name, &urls)).await?).into_response())
}

// ---------------------------------------------------------------- ledger

async fn stake(
    State(state): State<ApiState>,
    request: Result<Json<StakeRequest>, JsonRejection>,
) -> Result<Response, Failure> {
    let Json(request) = request.map_err(|rejection| {
        failure(StatusCode::BAD_REQUEST, format!("invalid stake: {}", rejection.body_text()))
    })?;
    let farm = state.farm.clone();
    let entry = blocking(move || farm.stake(&request.peer, request.amount)).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

async fn ledger_summary(State(state): State<ApiState>) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.ledger_summary()).await?).into_response())
}

#[derive(serde::Deserialize)]
struct Range {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    to: Option<u64>,
}

async fn ledger_entries(
    State(state): State<ApiState>,
    Query(range): Query<Range>,
) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    let (from, to) = (range.from.unwrap_or(1), range.to.unwrap_or(u64::MAX));
    Ok(Json(blocking(move || farm.ledger_entries(from, to)).await?).into_response())
}

async fn tree_heads(State(state): State<ApiState>) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    Ok(Json(blocking(move || farm.tree_heads()).await?).into_response())
}

#[derive(serde::Deserialize)]
struct InclusionQuery {
    seq: u64,
    size: u64,
}

async fn inclusion_proof(
    State(state): State<ApiState>,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let Query(q) = query.map_err(|_| {
        failure(StatusCode::BAD_REQUEST, "give the entry and the tree size: ?seq=N&size=M")
    })?;
    let farm = state.farm.clone();
    let proof = blocking(move || farm.inclusion_proof(q.seq, q.size)).await?;
    Ok(Json(LedgerProof { proof }).into_response())
}

#[derive(serde::Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency_proof(
    State(state): State<ApiState>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let Query(q) = query
        .map_err(|_| failure(StatusCode::BAD_REQUEST, "give both tree sizes: ?old=N&new=M"))?;
    let farm = state.farm.clone();
    let proof = blocking(move || farm.consistency_proof(q.old, q.new)).await?;
    Ok(Json(LedgerProof { proof }).into_response())
}

// ---------------------------------------------------------------- playback

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE: &str = "video/mp2t";

/// Open to every origin: playback needs no credentials, and hls.js on
/// another site fetches playlists and segments with XHR.
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == axum::http::Method::OPTIONS;
    let mut response =
        if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Range"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

/// A CORS preflight (a player sending `Range`): the headers say it all.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// A playlist: never cached, since a live one changes every segment.
fn playlist(text: String) -> Response {
    ([(header::CONTENT_TYPE, PLAYLIST_TYPE), (header::CACHE_CONTROL, "no-cache")], text)
        .into_response()
}

fn kind_of(file: &str) -> Option<Kind> {
    [Kind::Live, Kind::Recording].into_iter().find(|k| k.file() == file)
}

/// `/live/NAME/master.m3u8` (the live ladder) or `/live/NAME/recording.m3u8`.
async fn stream_playlist(
    State(state): State<ApiState>,
    Path((name, file)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let kind = match file.as_str() {
        "master.m3u8" => Kind::Live,
        "recording.m3u8" => Kind::Recording,
        _ => {
            return Err(failure(
                StatusCode::NOT_FOUND,
                format!("no {file} here: play {name}/master.m3u8"),
            ))
        }
    };
    let farm = state.farm.clone();
    Ok(playlist(blocking(move || farm.master_playlist(&name, kind)).await?))
}

/// `/live/NAME/RUNG/index.m3u8`, `.../recording.m3u8` or a segment.
async fn rung_file(
    State(state): State<ApiState>,
    Path((name, rung, file)): Path<(String, String, String)>,
) -> Result<Response, Failure> {
    let farm = state.farm.clone();
    if let Some(kind) = kind_of(&file) {
        return Ok(playlist(blocking(move || farm.media_playlist(&name, &rung, kind)).await?));
    }
    let path = blocking(move || farm.rendition_file(&name, &rung, &file)).await?;
    let mut response = send_file(path, SEGMENT_TYPE, "segment.ts").await?;
    // A segment's URL names its broadcast and sequence, but a spot check
    // that proves its renditions wrong swaps them (a clawback): caches may
    // keep it a minute, not forever.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}

/// Streams a blob file out with its length, type and a file name.
async fn send_file(path: PathBuf, content_type: &str, name: &str) -> Result<Response, Failure> {
    let internal = |e: std::io::Error| {
        tracing::error!(path = %path.display(), error = %e, "cannot read a stored file");
        failure(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the stored file")
    };
    let file = tokio::fs::File::open(&path).await.map_err(internal)?;
    let len = file.metadata().await.map_err(internal)?.len();
    let chunks = futures::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0; FILE_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let disposition = format!("inline; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::Method;
    use protocol::api::{JobDetail, JobState, SceneInfo};
    use protocol::{ContentId, FrameSpec, RenderSettings};
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::*;
    use crate::farm::FarmSettings;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    struct Api {
        router: Router,
        farm: Arc<Farm>,
        _dir: tempfile::TempDir,
    }

    fn api_with_limit(max_scene_bytes: u64) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let settings = FarmSettings {
            lease_seconds: 30,
            max_scene_bytes,
            max_task_failures: 3,
            worker_job_failures_to_blocklist: 3,
            default_chunk: 1,
            live: crate::farm::FarmSettings::from(&crate::config::Config::default()).live,
            verify: crate::farm::verify::unchecked(),
        };
        let farm = Arc::new(Farm::open(dir.path(), settings).unwrap());
        let addresses = Addresses { public_host: String::new(), http_port: 8080, rtmp_port: 1935 };
        Api { router: router(farm.clone(), TOKEN, addresses), farm, _dir: dir }
    }

    fn api() -> Api {
        api_with_limit(256 << 20)
    }

    impl Api {
        async fn call(
            &self,
            method: Method,
            uri: &str,
            token: Option<&str>,
            body: impl Into<Body>,
        ) -> (StatusCode, Vec<u8>, Option<String>) {
            let mut request = Request::builder().method(method).uri(uri);
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let request =
                request.header(header::CONTENT_TYPE, "application/json").body(body.into()).unwrap();
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, bytes.to_vec(), content_type)
        }

        async fn json(
            &self,
            method: Method,
            uri: &str,
            body: impl Into<Body>,
        ) -> (StatusCode, Value) {
            let (status, bytes, _) = self.call(method, uri, Some(TOKEN), body).await;
            let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
            });
            (status, value)
        }

        /// A scene row registered without the loader, for job tests.
        fn scene(&self) -> ContentId {
            let cid = ContentId::of(b"scene");
            self.farm
                .record_scene(&SceneInfo {
                    cid,
                    bytes: 5,
                    triangles: 1,
                    cameras: vec!["Camera".into()],
                    lights: 1,
                    animation_seconds: 0.0,
                })
                .unwrap();
            cid
        }
    }

    fn job_body(scene: ContentId, frames: &str) -> String {
        json!({
            "scene": scene,
            "name": "secret-project",
            "frames": frames,
            "settings": RenderSettings { width: 16, height: 12, ..Default::default() },
            "chunk": 1,
            "priority": 0,
        })
        .to_string()
    }

    fn error_of(value: &Value) -> &str {
        value["error"].as_str().unwrap_or_else(|| panic!("no error in {value}"))
    }

    #[tokio::test]
    async fn streams_are_managed_with_the_token_and_played_without_it() {
        let api = api();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/streams")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::HOST, "farm.example:8080")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"name":"studio"}"#))
            .unwrap();
        let response = api.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let stream: Value = serde_json::from_slice(&bytes).unwrap();
        let key = stream["key"].as_str().unwrap();
        assert_eq!(stream["ingest_url"], format!("rtmp://farm.example:1935/live/{key}"));
        assert_eq!(stream["playback_url"], "http://farm.example:8080/live/studio/master.m3u8");

        let (status, body) = api.json(Method::POST, "/api/streams", r#"{"name":"studio"}"#).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, body) = api.json(Method::POST, "/api/streams", r#"{"name":"a b"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _, _) = api.call(Method::GET, "/api/streams", None, Body::empty()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Playback is open, says why there is nothing yet, and allows any origin.
        let request =
            Request::builder().uri("/live/studio/master.m3u8").body(Body::empty()).unwrap();
        let response = api.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("has not been broadcast yet"));
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/live/studio/720p/index.m3u8")
            .body(Body::empty())
            .unwrap();
        let response = api.router.clone().oneshot(preflight).await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS], "Range");

        let (status, body) = api.json(Method::DELETE, "/api/streams/studio", Body::empty()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = api.json(Method::GET, "/api/streams/studio", Body::empty()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn hosts_split_into_name_and_port() {
        assert_eq!(split_host("example.com:8080"), ("example.com", Some(8080)));
        assert_eq!(split_host("example.com"), ("example.com", None));
        assert_eq!(split_host("[::1]:80"), ("[::1]", Some(80)));
        assert_eq!(split_host("[::1]"), ("[::1]", None));
        let fixed = Addresses { public_host: "cdn.example".into(), http_port: 80, rtmp_port: 1935 };
        assert_eq!(fixed.urls(Some("127.0.0.1:8080")).http, "http://cdn.example:80");
    }

    #[tokio::test]
    async fn missing_or_wrong_token_gets_401_and_no_data() {
        let api = api();
        let scene = api.scene();
        let (status, _) = api.json(Method::POST, "/api/jobs", job_body(scene, "1-2")).await;
        assert_eq!(status, StatusCode::CREATED);
        for token in [None, Some("wrong"), Some(&TOKEN[1..])] {
            for (method, uri) in [
                (Method::GET, "/api/jobs"),
                (Method::GET, "/api/jobs/1"),
                (Method::GET, "/api/workers"),
            ] {
                let (status, body, _) = api.call(method, uri, token, Body::empty()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri} with {token:?}");
                let text = String::from_utf8(body).unwrap();
                assert!(!text.contains("secret-project"), "{text}");
                let value: Value = serde_json::from_str(&text).unwrap();
                assert!(error_of(&value).contains("token"));
            }
        }
        let (status, _, _) =
            api.call(Method::POST, "/api/scenes", Some("wrong"), vec![0u8; 10]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = api.call(Method::GET, "/healthz", None, Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn invalid_scene_upload_is_400_with_the_loaders_message() {
        let api = api();
        let bytes = b"glTF but not really".to_vec();
        let loader = match renderer::SceneAsset::from_bytes(&bytes, &renderer::Limits::default()) {
            Ok(_) => panic!("the loader accepted garbage"),
            Err(e) => e.to_string(),
        };
        let (status, value) = api.json(Method::POST, "/api/scenes", bytes).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains(&loader), "{value}");
        let (status, value) = api.json(Method::POST, "/api/scenes", Body::empty()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("empty"));
    }

    #[tokio::test]
    async fn scene_over_the_limit_is_413() {
        let api = api_with_limit(1024);
        let (status, value) = api.json(Method::POST, "/api/scenes", vec![0u8; 4096]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(error_of(&value).contains("max_scene_bytes"), "{value}");
    }

    #[tokio::test]
    async fn sample_scene_uploads_and_renders_as_a_job() {
        let api = api();
        let bytes = samples::cornell_box_animated();
        let (status, value) = api.json(Method::POST, "/api/scenes", bytes.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        let info: SceneInfo = serde_json::from_value(value).unwrap();
        assert_eq!(info.cid, ContentId::of(&bytes));
        assert!(!info.cameras.is_empty());
        let (status, value) = api.json(Method::POST, "/api/jobs", job_body(info.cid, "1-3")).await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
    }

    #[tokio::test]
    async fn job_requests_are_validated() {
        let api = api();
        let scene = api.scene();
        let (status, value) = api.json(Method::POST, "/api/jobs", job_body(scene, "5-1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("5-1"), "{value}");
        let (status, value) =
            api.json(Method::POST, "/api/jobs", job_body(ContentId::of(b"x"), "1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("upload it first"), "{value}");
        let mut body: Value = serde_json::from_str(&job_body(scene, "1")).unwrap();
        body["settings"]["spp"] = json!(0);
        let (status, value) = api.json(Method::POST, "/api/jobs", body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("spp"), "{value}");
        body["settings"]["spp"] = json!(1);
        body["settings"]["camera"] = json!("Missing");
        let (status, value) = api.json(Method::POST, "/api/jobs", body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("Missing"), "{value}");
        let (status, value) = api.json(Method::POST, "/api/jobs", "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_of(&value).contains("invalid job request"), "{value}");
    }

    #[tokio::test]
    async fn jobs_are_listed_shown_and_cancelled() {
        let api = api();
        let scene = api.scene();
        let (status, value) = api.json(Method::POST, "/api/jobs", job_body(scene, "1-4")).await;
        assert_eq!(status, StatusCode::CREATED);
        let id = value["job"].as_i64().unwrap();

        let (status, value) = api.json(Method::GET, "/api/jobs", Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
        let jobs: Vec<JobSummary> = serde_json::from_value(value).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!((jobs[0].id.0, jobs[0].frames_total, jobs[0].state), (id, 4, JobState::Queued));

        let (status, value) =
            api.json(Method::GET, &format!("/api/jobs/{id}"), Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
        let detail: JobDetail = serde_json::from_value(value).unwrap();
        assert_eq!(detail.frame_spec, FrameSpec::parse("1-4").unwrap());
        assert_eq!(detail.frames.len(), 4);

        for uri in ["/api/jobs/99", "/api/jobs/99/video", "/api/jobs/99/events"] {
            let (status, value) = api.json(Method::GET, uri, Body::empty()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert!(error_of(&value).contains("job 99"), "{value}");
        }
        let (status, value) =
            api.json(Method::GET, &format!("/api/jobs/{id}/frames/1"), Body::empty()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(error_of(&value).contains("not rendered"), "{value}");
        let (status, value) =
            api.json(Method::GET, &format!("/api/jobs/{id}/video"), Body::empty()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(error_of(&value).contains("0 of 4 frames"), "{value}");
        let (status, _) = api.json(Method::GET, "/api/jobs/abc", Body::empty()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = api.json(Method::GET, "/api/nowhere", Body::empty()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let cancel = format!("/api/jobs/{id}/cancel");
        let (status, value) = api.json(Method::POST, &cancel, Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(value["state"], "cancelled");
        let (status, value) = api.json(Method::POST, &cancel, Body::empty()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(error_of(&value).contains("already cancelled"), "{value}");

        // The event stream of an ended job gives its summary and ends.
        let (status, body, content_type) = api
            .call(Method::GET, &format!("/api/jobs/{id}/events"), Some(TOKEN), Body::empty())
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/event-stream"));
        let text = String::from_utf8(body).unwrap();
        let data: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
        assert_eq!(data.len(), 1, "{text}");
        let summary: JobSummary = serde_json::from_str(data[0]).unwrap();
        assert_eq!(summary.state, JobState::Cancelled);
    }

    #[tokio::test]
    async fn event_stream_follows_a_job_until_it_ends() {
        let api = api();
        let scene = api.scene();
        let (_, value) = api.json(Method::POST, "/api/jobs", job_body(scene, "1")).await;
        let id = JobId(value["job"].as_i64().unwrap());
        let farm = api.farm.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            tokio::task::spawn_blocking(move || farm.cancel_job(id).unwrap()).await.unwrap();
        });
        let (status, body, _) = api
            .call(Method::GET, &format!("/api/jobs/{id}/events"), Some(TOKEN), Body::empty())
            .await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body).unwrap();
        let states: Vec<JobState> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str::<JobSummary>(d).unwrap().state)
            .collect();
        assert_eq!(states, [JobState::Queued, JobState::Cancelled]);
    }
}
