//! Bodies of the orchestrator's HTTP API (JSON), shared by the orchestrator
//! and the `mosaic` CLI.
//!
//! Routes (all under a bearer token):
//! - `POST /api/scenes` (body: a self-contained .glb) -> [`SceneInfo`]
//! - `POST /api/jobs` ([`JobRequest`]) -> [`JobCreated`]
//! - `GET /api/jobs` -> `Vec<JobSummary>`; `GET /api/jobs/{id}` -> [`JobDetail`]
//! - `POST /api/jobs/{id}/cancel` -> [`JobSummary`]
//! - `GET /api/jobs/{id}/events` -> server-sent events, each a [`JobSummary`]
//! - `GET /api/jobs/{id}/frames/{n}` -> the frame's image
//! - `GET /api/jobs/{id}/video` -> the job's MP4 once it has completed
//! - `GET /api/workers` -> `Vec<WorkerInfo>`
//! - `POST /api/streams` ([`NewStream`]) -> [`StreamInfo`], with its key
//! - `GET /api/streams` -> `Vec<StreamInfo>`; `GET /api/streams/{name}` -> [`StreamInfo`]
//! - `DELETE /api/streams/{name}` -> `StreamInfo` (the key stops working at once)
//!
//! Playback needs no token: `GET /live/{name}/master.m3u8` (the live
//! window) and `GET /live/{name}/recording.m3u8` (the whole broadcast),
//! their per-rung playlists and segments.
//!
//! Errors come back as [`ApiError`] with a 4xx/5xx status.

use serde::{Deserialize, Serialize};

use crate::{BroadcastId, ContentId, FrameSpec, JobId, RenderSettings, Rung};

/// What the orchestrator learnt from an uploaded scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SceneInfo {
    pub cid: ContentId,
    pub bytes: u64,
    pub triangles: u64,
    pub cameras: Vec<String>,
    pub lights: u32,
    /// Length of the longest animation, in seconds (0 for a still scene).
    pub animation_seconds: f32,
}

/// A render job as the CLI asks for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobRequest {
    pub scene: ContentId,
    /// A name to show in listings; the CLI uses the scene's file name.
    pub name: String,
    pub frames: FrameSpec,
    pub settings: RenderSettings,
    /// Frames per task.
    pub chunk: u32,
    /// Higher runs first.
    pub priority: i32,
}

/// The most frames one task may carry.
pub const MAX_CHUNK: u32 = 1000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobCreated {
    pub job: JobId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Completed,
    /// Every frame ended, and at least one of them failed.
    Failed,
    Cancelled,
}

impl JobState {
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed | JobState::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameState {
    Queued,
    Rendering,
    /// Rendered and cheap-checked; its spot check (a duplicate on another
    /// node) is not finished, so it is not published yet.
    Verifying,
    Done,
    Failed,
    Cancelled,
}

impl FrameState {
    pub fn as_str(self) -> &'static str {
        match self {
            FrameState::Queued => "queued",
            FrameState::Rendering => "rendering",
            FrameState::Verifying => "verifying",
            FrameState::Done => "done",
            FrameState::Failed => "failed",
            FrameState::Cancelled => "cancelled",
        }
    }
}

/// A job in a listing, and each progress event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: JobId,
    pub name: String,
    pub state: JobState,
    pub frames_total: u32,
    pub frames_done: u32,
    pub frames_failed: u32,
    /// Unix seconds.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub priority: i32,
    /// Why its waiting frames go to no worker, when the farm can tell (no
    /// connected worker has the render backend the job asks for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrameStatus {
    pub frame: u32,
    pub state: FrameState,
    /// The peer id of the worker that rendered it (or is rendering it).
    pub worker: Option<String>,
    pub cid: Option<ContentId>,
    pub error: Option<String>,
    /// How many times it was handed out.
    pub attempts: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub summary: JobSummary,
    pub scene: ContentId,
    pub frame_spec: FrameSpec,
    pub settings: RenderSettings,
    pub chunk: u32,
    pub frames: Vec<FrameStatus>,
    /// The assembled MP4, once every frame is done.
    pub video: Option<ContentId>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub peer_id: String,
    pub connected: bool,
    pub capabilities: crate::wire::Capabilities,
    pub tasks_done: u64,
    pub tasks_failed: u64,
    /// Unix seconds.
    pub last_seen: i64,
}

/// The body of every error response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

/// Asks for a new live stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewStream {
    /// Letters, digits, `-` and `_`: it is part of the playback URL.
    pub name: String,
}

/// A live stream, as the farm operator sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamInfo {
    pub name: String,
    /// The secret the broadcaster publishes with.
    pub key: String,
    /// `rtmp://HOST:PORT/live/KEY`: where OBS or ffmpeg pushes.
    pub ingest_url: String,
    /// `http://HOST:PORT/live/NAME/master.m3u8`: what viewers play.
    pub playback_url: String,
    /// The whole latest broadcast, playable from its start.
    pub recording_url: String,
    pub live: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// The latest broadcast, if there has been one.
    pub broadcast: Option<BroadcastInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BroadcastInfo {
    pub id: BroadcastId,
    /// Unix seconds.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Why it ended, when the farm ended it (a bad stream, a stall).
    pub error: Option<String>,
    pub source: Option<SourceDescription>,
    pub rungs: Vec<RungStatus>,
    /// Segments cut from the source so far.
    pub segments: u64,
    /// Segments published with every rendition.
    pub published: u64,
    /// Segments published as gaps: no worker delivered them in time.
    pub gaps: u64,
    /// Milliseconds from a segment's last byte received to its renditions
    /// listed in every rung's playlist, over this broadcast's segments.
    pub latency_p50_ms: Option<u64>,
    pub latency_p95_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceDescription {
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RungStatus {
    #[serde(flatten)]
    pub rung: Rung,
    /// The worker that transcoded its latest segment.
    pub worker: Option<String>,
    /// The encoder it used (libx264, h264_nvenc).
    pub encoder: Option<String>,
}

/// One node's account, as `mosaic ledger` shows it. Amounts are
/// micro-credits (1 credit = 1,000,000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAccount {
    pub peer: String,
    /// Deposits less slashes.
    pub staked: i64,
    /// Rewards paid.
    pub earned: i64,
    /// Rewards for accepted results awaiting their check or settlement.
    pub pending: i64,
    pub slashed: i64,
    /// Pending rewards lost to proven fraud.
    pub forfeited: i64,
    /// Whether the node gets work (staked enough, never proven to cheat).
    pub eligible: bool,
    /// The evidence, when the node was proven to cheat.
    pub fraud: Option<String>,
}

/// `GET /api/ledger`: every node's account and the state of the checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    pub nodes: Vec<NodeAccount>,
    /// Entries in the ledger.
    pub entries: u64,
    pub min_stake: i64,
    /// Spot checks by outcome (match, mismatch, inconclusive, queued, ...).
    pub checks: Vec<(String, u64)>,
}

/// `POST /api/ledger/stake`: an operator's deposit for a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeRequest {
    pub peer: String,
    /// Micro-credits, more than zero.
    pub amount: i64,
}

/// `GET /ledger/proof/...`: an RFC 9162 proof, hashes in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerProof {
    pub proof: Vec<String>,
}
