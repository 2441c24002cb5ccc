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
//!
//! Errors come back as [`ApiError`] with a 4xx/5xx status.

use serde::{Deserialize, Serialize};

use crate::{ContentId, FrameSpec, JobId, RenderSettings};

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
    Done,
    Failed,
    Cancelled,
}

impl FrameState {
    pub fn as_str(self) -> &'static str {
        match self {
            FrameState::Queued => "queued",
            FrameState::Rendering => "rendering",
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
