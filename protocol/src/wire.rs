//! The libp2p protocol between orchestrator and workers.
//!
//! Every exchange is started by the worker (request-response over Noise +
//! Yamux), so a worker behind NAT needs no open port. A worker says
//! [`WorkerRequest::Hello`], then asks for work with
//! [`WorkerRequest::NextTask`]; an assignment carries a lease that the worker
//! renews while it works. Scenes and results move as content-addressed blobs
//! in chunks of at most [`BLOB_CHUNK`] bytes, never inline in a task.

use serde::{Deserialize, Serialize};

use crate::{ContentId, JobId, LeaseId, RenderSettings, TaskId};

/// The request-response protocol name.
pub const PROTOCOL: &str = "/mosaic/tasks/1.0.0";

/// Bytes of blob per request or response. Small enough to interleave with
/// other traffic on the connection, large enough to keep overhead low.
pub const BLOB_CHUNK: usize = 256 * 1024;

/// Largest encoded message either side accepts (a chunk plus framing).
pub const MAX_MESSAGE: u64 = 2 * BLOB_CHUNK as u64;

/// What a worker can do, announced in [`WorkerRequest::Hello`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    pub version: String,
    pub cpu_cores: u32,
    /// Threads the worker renders with.
    pub threads: u32,
    /// e.g. `cpu-pathtracer`.
    pub render_backends: Vec<String>,
    /// e.g. `libx264`, `h264_nvenc`.
    pub encoders: Vec<String>,
}

/// A task handed to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub task: TaskId,
    pub lease: LeaseId,
    /// The worker must renew within this many milliseconds or lose the task.
    pub lease_ms: u64,
    pub job: JobId,
    pub scene: ContentId,
    pub scene_bytes: u64,
    /// Frame numbers (from 1) to render, ascending.
    pub frames: Vec<u32>,
    pub settings: RenderSettings,
}

/// One rendered frame of a task, uploaded beforehand with
/// [`WorkerRequest::UploadChunk`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameOutput {
    pub frame: u32,
    pub cid: ContentId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WorkerRequest {
    Hello {
        capabilities: Capabilities,
    },
    /// Asks for a task. The orchestrator answers at once, with a task or
    /// with none and a time to ask again.
    NextTask,
    /// Keeps a lease alive.
    Renew {
        lease: LeaseId,
    },
    /// Reads `[offset, offset + BLOB_CHUNK)` of a blob.
    FetchBlob {
        cid: ContentId,
        offset: u64,
    },
    /// Writes part of a frame's output, in order from offset 0. The last
    /// chunk has `last = true`; the orchestrator then hashes what it got.
    UploadChunk {
        lease: LeaseId,
        frame: u32,
        offset: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        last: bool,
    },
    /// Reports a finished task: every frame's output is uploaded.
    Complete {
        lease: LeaseId,
        outputs: Vec<FrameOutput>,
    },
    /// Reports a task that could not be done, with the reason.
    Fail {
        lease: LeaseId,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OrchestratorResponse {
    Welcome {
        orchestrator_version: String,
    },
    Task(TaskAssignment),
    NoTask {
        retry_after_ms: u64,
    },
    LeaseRenewed,
    /// The task was cancelled or given to someone else: stop working on it.
    LeaseLost {
        reason: String,
    },
    BlobChunk {
        total: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// An upload chunk was stored; on the last chunk, the orchestrator's own
    /// hash of the whole upload.
    ChunkStored {
        cid: Option<ContentId>,
    },
    Accepted,
    /// The request was understood and refused, e.g. a result that fails the
    /// orchestrator's checks.
    Rejected {
        reason: String,
    },
}
