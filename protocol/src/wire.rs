//! The libp2p protocol between orchestrator and workers.
//!
//! Every exchange is started by the worker (request-response over Noise +
//! Yamux), so a worker behind NAT needs no open port. A worker says
//! [`WorkerRequest::Hello`], then asks for work with
//! [`WorkerRequest::NextTask`], once per [`Lane`] it serves, so a long render
//! never holds up a live segment; an assignment carries a lease that the
//! worker renews while it works. Scenes, segments and results move as
//! content-addressed blobs in chunks of at most [`BLOB_CHUNK`] bytes, never
//! inline in a task.

use serde::{Deserialize, Serialize};

use crate::ladder::Rung;
use crate::{ContentId, JobId, LeaseId, RenderSettings, SegmentId, TaskId};

/// The request-response protocol name. Version 2 added live transcoding;
/// version 3 signed receipts and the reason a worker gets no work; version 4
/// render backends (a job's `settings.backend`, [`WorkerRequest::Announce`],
/// and a device failure handed back with [`WorkerRequest::Fail`]).
pub const PROTOCOL: &str = "/mosaic/tasks/4.0.0";

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
    /// The render backends that work on this worker, fastest first (names
    /// from [`crate::RENDER_BACKENDS`]); empty keeps it off render work.
    pub render_backends: Vec<String>,
    /// e.g. `libx264`, `h264_nvenc`.
    pub encoders: Vec<String>,
}

/// The kinds of work a worker asks for separately: live segments have
/// deadlines of seconds, render frames may take minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lane {
    Render,
    Live,
}

/// A task handed to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub lease: LeaseId,
    /// The worker must renew within this many milliseconds or lose the task.
    /// A live task's lease ends at its deadline however often it is renewed.
    pub lease_ms: u64,
    pub work: Work,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Work {
    Render(RenderWork),
    Transcode(TranscodeWork),
}

/// Frames of a render job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenderWork {
    pub task: TaskId,
    pub job: JobId,
    pub scene: ContentId,
    pub scene_bytes: u64,
    /// Frame numbers (from 1) to render, ascending. Outputs are numbered by
    /// frame.
    pub frames: Vec<u32>,
    pub settings: RenderSettings,
}

/// One source segment of a live stream into every rung of its ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscodeWork {
    pub segment: SegmentId,
    /// The stream's name, for logs.
    pub stream: String,
    pub sequence: u64,
    /// An MPEG-TS segment starting with a keyframe.
    pub source: ContentId,
    pub source_bytes: u64,
    pub duration_ms: u64,
    /// Outputs are numbered by rung, from 0 (the tallest).
    pub rungs: Vec<Rung>,
}

/// One output of a task (a frame, or a rung's rendition), uploaded
/// beforehand with [`WorkerRequest::UploadChunk`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskOutput {
    /// The frame number, or the rung index.
    pub output: u32,
    pub cid: ContentId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WorkerRequest {
    /// Starts a session on a fresh connection: the worker holds no task.
    Hello { capabilities: Capabilities },
    /// What the worker can do changed mid-session (a render backend
    /// failed): unlike a hello, its tasks stay leased to it.
    Announce { capabilities: Capabilities },
    /// Asks for a task of a lane. The orchestrator answers at once, with a
    /// task or with none and a time to ask again.
    NextTask { lane: Lane },
    /// Keeps a lease alive.
    Renew { lease: LeaseId },
    /// Reads `[offset, offset + BLOB_CHUNK)` of a blob.
    FetchBlob { cid: ContentId, offset: u64 },
    /// Writes part of an output, in order from offset 0. The last chunk has
    /// `last = true`; the orchestrator then hashes what it got.
    UploadChunk {
        lease: LeaseId,
        output: u32,
        offset: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        last: bool,
    },
    /// Reports a finished task: every output is uploaded. `engine` names
    /// what made the outputs (the encoder of a transcode, the backend of a
    /// render); `signature` is the worker's ed25519 signature over
    /// [`crate::receipt::receipt_message`].
    Complete {
        lease: LeaseId,
        outputs: Vec<TaskOutput>,
        engine: Option<String>,
        #[serde(with = "serde_bytes")]
        signature: Vec<u8>,
    },
    /// Reports a task that could not be done, with the reason.
    Fail {
        lease: LeaseId,
        reason: String,
        /// The worker's device failed, not the task (a GPU was lost): the
        /// task is handed back and requeued without counting a failure
        /// against it or the worker.
        #[serde(default)]
        device_failure: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OrchestratorResponse {
    Welcome {
        orchestrator_version: String,
    },
    Task(TaskAssignment),
    /// Nothing to do now; `reason` says why when it is not just an empty
    /// queue (too little stake, say), for the operator's log.
    NoTask {
        retry_after_ms: u64,
        reason: Option<String>,
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
