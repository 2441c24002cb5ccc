//! The task loops: say hello, then in each lane (render, and live when the
//! node has an encoder) ask for work, do it, upload the outputs, report. A
//! long render never holds up a live segment: the lanes run side by side.
//! It never reports an output it did not make and check, and never keeps
//! working on a task whose lease is lost or whose connection is gone (the
//! orchestrator has requeued it by then). A render backend whose device
//! fails is taken out of service: the worker announces what it has left and
//! hands the task back, and later renders use the next healthy backend.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::identity::Keypair;
use protocol::wire::{
    Capabilities, Lane, OrchestratorResponse, RenderWork, TaskAssignment, TaskOutput, Work,
    WorkerRequest, BLOB_CHUNK,
};
use protocol::{ContentId, ImageFormat, LeaseId, RenderSettings};
use renderer::backend::{Backend, RenderError};
use renderer::{RenderOptions, SceneAsset};
use tokio::sync::{oneshot, Mutex};
use tracing::{debug, info, warn};
use transcoder::H264Encoder;

use crate::backends::Backends;
use crate::network::{Client, RequestError};
use crate::scene_cache::{FetchError, SceneCache, SceneCacheError};

/// The longest the worker waits before asking for work again, whatever the
/// orchestrator says.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(10);
/// The shortest renewal period, whatever the lease.
const MIN_RENEW_PERIOD: Duration = Duration::from_millis(100);

/// What this worker announces: `render_backends` are the healthy ones,
/// fastest first.
pub fn capabilities(
    threads: usize,
    render_backends: Vec<String>,
    encoders: &[&'static dyn H264Encoder],
) -> Capabilities {
    let cpu_cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Capabilities {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        cpu_cores: cpu_cores as u32,
        threads: threads as u32,
        render_backends,
        encoders: encoders.iter().map(|e| e.name().to_owned()).collect(),
    }
}

/// How a task ended other than with all its frames uploaded.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task cannot be done here; reported with `Fail`.
    #[error("{0}")]
    Failed(String),
    /// A render backend's device failed, not the task: reported with `Fail`
    /// and `device_failure`, so the task is requeued without counting.
    #[error("{0}")]
    DeviceFailed(String),
    /// The orchestrator took the task back; nothing is reported.
    #[error("lease lost: {0}")]
    LeaseLost(String),
    /// The connection failed; the task is abandoned and the orchestrator
    /// requeues it.
    #[error(transparent)]
    Network(#[from] RequestError),
}

impl From<SceneCacheError> for TaskError {
    fn from(e: SceneCacheError) -> Self {
        match e {
            SceneCacheError::Fetch(FetchError::Network(e)) => TaskError::Network(e),
            other => TaskError::Failed(other.to_string()),
        }
    }
}

/// Sees every output before it is uploaded. A real worker has none: this is
/// the seam the cheating worker of the end-to-end tests uses to tamper
/// with what it delivers while speaking the real protocol.
pub trait OutputHook: Send + Sync {
    /// The bytes to upload for `output` of `work` instead of `bytes`.
    fn output(&self, lease: LeaseId, work: &Work, output: u32, bytes: Vec<u8>) -> Vec<u8>;
}

/// Runs tasks for one orchestrator, forever.
pub struct Runner {
    client: Client,
    /// Signs receipts: the same key that names this worker on the network.
    keypair: Keypair,
    hook: Option<Arc<dyn OutputHook>>,
    cache: Mutex<SceneCache>,
    backends: Backends,
    /// Announced with the healthy backends filled in.
    capabilities: Capabilities,
    /// The encoder live segments are transcoded with (the fastest that
    /// works here); `None` keeps this worker off live work.
    encoder: Option<&'static dyn H264Encoder>,
    /// Where segments and renditions are written while they are worked on.
    scratch: std::path::PathBuf,
}

impl Runner {
    /// `backends` (render) and `encoders` (live) are those chosen from what
    /// works on this machine, fastest first; `threads` is the CPU backend's.
    pub fn new(
        client: Client,
        keypair: Keypair,
        cache: SceneCache,
        backends: Vec<Arc<dyn Backend>>,
        threads: usize,
        encoders: Vec<&'static dyn H264Encoder>,
        scratch: std::path::PathBuf,
    ) -> Self {
        let capabilities = capabilities(threads, Vec::new(), &encoders);
        Self {
            client,
            keypair,
            hook: None,
            cache: Mutex::new(cache),
            backends: Backends::new(backends),
            capabilities,
            encoder: encoders.first().copied(),
            scratch,
        }
    }

    /// Passes every output through `hook` before it is uploaded.
    pub fn with_output_hook(mut self, hook: Arc<dyn OutputHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Connects, works, and after any lost connection waits for the next
    /// one and starts again with a hello.
    pub async fn run(self) {
        loop {
            let generation = match self.client.connected().await {
                Ok(generation) => generation,
                Err(_) => return,
            };
            match self.session(generation).await {
                Ok(()) => {}
                Err(e) => warn!(error = %e, "session with the orchestrator ended"),
            }
            // A lost connection shows up here at once; anything else (a
            // refused hello, a timeout) gets a pause before trying again.
            if self.client.link() == (crate::network::Link::Up { generation }) {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// What this worker can do now: its backends that still work.
    fn capabilities(&self) -> Capabilities {
        Capabilities { render_backends: self.backends.healthy(), ..self.capabilities.clone() }
    }

    /// Hello, then each lane's tasks until a request fails.
    async fn session(&self, generation: u64) -> Result<(), RequestError> {
        let capabilities = self.capabilities();
        let (backends, encoders) =
            (capabilities.render_backends.clone(), capabilities.encoders.clone());
        match self.client.request(WorkerRequest::Hello { capabilities }).await? {
            OrchestratorResponse::Welcome { orchestrator_version } => {
                info!(%orchestrator_version, ?backends, ?encoders, "welcomed by the orchestrator");
            }
            OrchestratorResponse::Rejected { reason } => {
                warn!(%reason, "the orchestrator refused our hello");
                return Ok(());
            }
            other => {
                return Err(RequestError::Protocol(format!("hello answered with {other:?}")));
            }
        }
        let render = self.lane(Lane::Render, generation);
        match self.encoder {
            Some(_) => tokio::try_join!(render, self.lane(Lane::Live, generation)).map(|_| ()),
            None => render.await,
        }
    }

    /// Takes and runs the tasks of one lane until a request fails.
    async fn lane(&self, lane: Lane, generation: u64) -> Result<(), RequestError> {
        // Why no work comes, logged when it changes rather than every poll.
        let mut idle_reason: Option<String> = None;
        loop {
            match self.client.request(WorkerRequest::NextTask { lane }).await? {
                OrchestratorResponse::Task(task) => {
                    idle_reason = None;
                    self.run_task(task, generation).await?
                }
                OrchestratorResponse::NoTask { retry_after_ms, reason } => {
                    if reason.is_some() && reason != idle_reason {
                        warn!(?lane, reason = reason.as_deref().unwrap_or(""), "no work for us");
                    }
                    idle_reason = reason;
                    tokio::time::sleep(Duration::from_millis(retry_after_ms).min(MAX_IDLE_WAIT))
                        .await;
                }
                OrchestratorResponse::Rejected { reason } => {
                    return Err(RequestError::Protocol(format!(
                        "the orchestrator refused to hand out work: {reason}"
                    )));
                }
                other => {
                    return Err(RequestError::Protocol(format!(
                        "next task answered with {other:?}"
                    )));
                }
            }
        }
    }

    /// Runs one task with its lease renewed alongside, and reports how it
    /// went. Only a network failure is passed up.
    async fn run_task(&self, task: TaskAssignment, generation: u64) -> Result<(), RequestError> {
        let started = Instant::now();
        let lease = task.lease;
        let name = describe(&task.work);
        info!(lease = %lease, task = %name, "task assigned");

        let (lost_tx, lost_rx) = oneshot::channel();
        let renew_period = Duration::from_millis(task.lease_ms / 3).max(MIN_RENEW_PERIOD);
        let renewer = tokio::spawn(keep_lease(self.client.clone(), lease, renew_period, lost_tx));
        let client = self.client.clone();
        let outcome = tokio::select! {
            outcome = self.execute(&task) => outcome,
            reason = lost_rx => Err(TaskError::LeaseLost(
                reason.unwrap_or_else(|_| "renewal stopped".to_owned()),
            )),
            () = client.link_lost(generation) => Err(TaskError::Network(RequestError::ConnectionLost)),
        };
        renewer.abort();

        let elapsed_ms = started.elapsed().as_millis() as u64;
        match outcome {
            Ok((outputs, engine)) => {
                let count = outputs.len();
                let digest = protocol::receipt::work_digest(&task.work);
                let message =
                    protocol::receipt::receipt_message(lease, &digest, &outputs, engine.as_deref());
                let signature = self
                    .keypair
                    .sign(&message)
                    .map_err(|e| RequestError::Protocol(format!("cannot sign the receipt: {e}")))?;
                let complete = WorkerRequest::Complete { lease, outputs, engine, signature };
                match self.client.request(complete).await? {
                    OrchestratorResponse::Accepted => {
                        info!(task = %name, outputs = count, ms = elapsed_ms, "task done");
                    }
                    OrchestratorResponse::Rejected { reason } => {
                        warn!(task = %name, %reason, "the orchestrator rejected the task's result");
                    }
                    other => {
                        warn!(task = %name, answer = ?other, "unexpected answer to complete")
                    }
                }
            }
            Err(TaskError::Failed(reason)) => {
                warn!(task = %name, %reason, ms = elapsed_ms, "task failed");
                self.report_failure(&name, lease, reason, false).await?;
            }
            Err(TaskError::DeviceFailed(reason)) => {
                warn!(task = %name, %reason, "handing the task back: a render device failed");
                // Announced first, so the task is never handed straight back
                // to us for the backend that failed.
                self.announce().await?;
                self.report_failure(&name, lease, reason, true).await?;
            }
            Err(TaskError::LeaseLost(reason)) => {
                warn!(task = %name, %reason, "abandoning task: the orchestrator took it back");
            }
            Err(TaskError::Network(e)) => {
                warn!(task = %name, error = %e, "abandoning task: connection trouble");
                return Err(e);
            }
        }
        Ok(())
    }

    /// Reports a task that could not be done; `device_failure` hands it
    /// back without it counting against the task or this worker.
    async fn report_failure(
        &self,
        name: &str,
        lease: LeaseId,
        reason: String,
        device_failure: bool,
    ) -> Result<(), RequestError> {
        let fail = WorkerRequest::Fail { lease, reason, device_failure };
        match self.client.request(fail).await? {
            OrchestratorResponse::Accepted => {}
            other => warn!(task = %name, answer = ?other, "failure report not accepted"),
        }
        Ok(())
    }

    /// Tells the orchestrator what this worker can do now (a backend
    /// failed), keeping the session and its leases.
    async fn announce(&self) -> Result<(), RequestError> {
        let capabilities = self.capabilities();
        let backends = capabilities.render_backends.clone();
        match self.client.request(WorkerRequest::Announce { capabilities }).await? {
            OrchestratorResponse::Accepted => info!(?backends, "announced our render backends"),
            other => warn!(answer = ?other, "the orchestrator did not take our new capabilities"),
        }
        Ok(())
    }

    /// Does a task's work: its outputs, uploaded, and the engine (render
    /// backend or encoder) that made them.
    async fn execute(
        &self,
        task: &TaskAssignment,
    ) -> Result<(Vec<TaskOutput>, Option<String>), TaskError> {
        match &task.work {
            Work::Render(work) => {
                let backend = self
                    .backends
                    .pick(
                        work.settings.backend.as_deref(),
                        work.settings.width,
                        work.settings.height,
                    )
                    .map_err(TaskError::Failed)?;
                let outputs = self.render(work, task, &backend).await?;
                Ok((outputs, Some(backend.engine())))
            }
            Work::Transcode(work) => {
                let encoder = self.encoder.ok_or_else(|| {
                    TaskError::Failed("this worker has no encoder for live work".into())
                })?;
                let hook = self.hook.as_deref();
                let outputs =
                    crate::transcode::run(&self.client, task, work, encoder, &self.scratch, hook)
                        .await?;
                Ok((outputs, Some(encoder.name().to_owned())))
            }
        }
    }

    /// Fetches the scene, renders on `backend`, checks and uploads each
    /// frame.
    async fn render(
        &self,
        work: &RenderWork,
        task: &TaskAssignment,
        backend: &Arc<dyn Backend>,
    ) -> Result<Vec<TaskOutput>, TaskError> {
        let lease = task.lease;
        let asset = self.cache.lock().await.asset(&self.client, work.scene).await?;
        let mut outputs = Vec::with_capacity(work.frames.len());
        for &frame in &work.frames {
            let started = Instant::now();
            let (asset, settings, on) = (asset.clone(), work.settings.clone(), backend.clone());
            let bytes =
                tokio::task::spawn_blocking(move || render_frame(&asset, &settings, frame, &*on))
                    .await
                    .map_err(|e| {
                        TaskError::Failed(format!("frame {frame}: renderer crashed: {e}"))
                    })?
                    .map_err(|e| self.frame_failed(backend.name(), e))?;
            let render_ms = started.elapsed().as_millis() as u64;
            let bytes = match &self.hook {
                Some(hook) => hook.output(lease, &task.work, frame, bytes),
                None => bytes,
            };
            let cid = upload_output(&self.client, lease, frame, &bytes).await?;
            info!(
                task = %work.task,
                frame,
                bytes = bytes.len(),
                render_ms,
                total_ms = started.elapsed().as_millis() as u64,
                cid = %cid,
                "frame rendered and uploaded"
            );
            outputs.push(TaskOutput { output: frame, cid });
        }
        Ok(outputs)
    }

    /// What a frame's failure means for the task: a device failure takes the
    /// backend out of service and hands the task back.
    fn frame_failed(&self, backend: &str, error: FrameError) -> TaskError {
        if !error.is_device_failure() {
            return TaskError::Failed(error.to_string());
        }
        if self.backends.mark_unhealthy(backend) {
            warn!(backend, %error, left = ?self.backends.healthy(),
                "render backend failed; not using it again until the worker restarts");
        }
        TaskError::DeviceFailed(error.to_string())
    }
}

/// A task in a log line: `job 3 task 7 frames [1, 2]` or `studio segment 12`.
fn describe(work: &Work) -> String {
    match work {
        Work::Render(w) => format!(
            "job {} task {} frames {:?} ({}, {} spp)",
            w.job,
            w.task,
            w.frames,
            w.settings.size(),
            w.settings.spp
        ),
        Work::Transcode(w) => format!("{} segment {}", w.stream, w.sequence),
    }
}

/// Renews `lease` every `period` until aborted. Tells `lost` why when the
/// orchestrator says the lease is gone or the connection fails; a refusal
/// or a timeout is only logged, since the lease may still be good and the
/// next renewal will tell.
async fn keep_lease(
    client: Client,
    lease: LeaseId,
    period: Duration,
    lost: oneshot::Sender<String>,
) {
    loop {
        tokio::time::sleep(period).await;
        match client.request(WorkerRequest::Renew { lease }).await {
            Ok(OrchestratorResponse::LeaseRenewed) => debug!(%lease, "lease renewed"),
            Ok(OrchestratorResponse::LeaseLost { reason }) => {
                let _ = lost.send(reason);
                return;
            }
            Ok(OrchestratorResponse::Rejected { reason }) => {
                warn!(%lease, %reason, "lease renewal refused");
            }
            Ok(other) => warn!(%lease, answer = ?other, "unexpected answer to a renewal"),
            Err(RequestError::Timeout) => warn!(%lease, "lease renewal timed out"),
            Err(e) => {
                let _ = lost.send(format!("cannot renew: {e}"));
                return;
            }
        }
    }
}

/// Why a frame was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The backend failed (see [`RenderError::is_device_failure`]).
    #[error("frame {frame}: {error}")]
    Render { frame: u32, error: RenderError },
    /// The scene cannot be set up for the frame, or the image is unusable.
    #[error("{0}")]
    Invalid(String),
}

impl FrameError {
    /// Whether the backend's device failed rather than this frame.
    pub fn is_device_failure(&self) -> bool {
        matches!(self, FrameError::Render { error, .. } if error.is_device_failure())
    }
}

/// Renders one frame on `backend` and encodes it as the settings ask. A
/// frame with NaN or infinite pixels is an error, never an output.
pub fn render_frame(
    asset: &SceneAsset,
    settings: &RenderSettings,
    frame: u32,
    backend: &dyn Backend,
) -> Result<Vec<u8>, FrameError> {
    let scene = asset
        .instantiate(settings.time_of_frame(frame), settings.camera.as_deref())
        .map_err(|e| FrameError::Invalid(format!("frame {frame}: {e}")))?;
    let options = RenderOptions {
        width: settings.width,
        height: settings.height,
        spp: settings.spp,
        max_bounces: settings.max_bounces,
        seed: settings.seed,
        frame,
    };
    let image = backend
        .render(&scene, &options, &|_| {})
        .map_err(|error| FrameError::Render { frame, error })?;
    if image.has_non_finite() {
        return Err(FrameError::Invalid(format!(
            "frame {frame} has NaN or infinite pixels ({})",
            backend.name()
        )));
    }
    Ok(match settings.format {
        ImageFormat::Png => image.to_png(),
        ImageFormat::Exr => image.to_exr(),
    })
}

/// Splits an output into upload chunks: `(offset, bytes, last)`. Always at
/// least one chunk, so even an empty output ends with `last = true`.
pub fn upload_chunks(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8], bool)> {
    let count = bytes.len().div_ceil(BLOB_CHUNK).max(1);
    (0..count).map(move |i| {
        let start = i * BLOB_CHUNK;
        let end = (start + BLOB_CHUNK).min(bytes.len());
        (start as u64, &bytes[start..end], i + 1 == count)
    })
}

/// Uploads one output's bytes (a frame, a rendition) in order and returns
/// the cid, after checking that the orchestrator's hash of what it received
/// matches ours.
pub async fn upload_output(
    client: &Client,
    lease: LeaseId,
    output: u32,
    bytes: &[u8],
) -> Result<ContentId, TaskError> {
    let ours = ContentId::of(bytes);
    for (offset, data, last) in upload_chunks(bytes) {
        let request =
            WorkerRequest::UploadChunk { lease, output, offset, data: data.to_vec(), last };
        match client.request(request).await? {
            OrchestratorResponse::ChunkStored { cid: Some(theirs) } if last => {
                if theirs != ours {
                    return Err(TaskError::Failed(format!(
                        "output {output}: the orchestrator stored {theirs}, we sent {ours}"
                    )));
                }
            }
            OrchestratorResponse::ChunkStored { cid: None } if !last => {}
            OrchestratorResponse::ChunkStored { cid } => {
                return Err(TaskError::Failed(format!(
                    "output {output}: upload chunk at {offset} (last: {last}) answered with cid {cid:?}"
                )));
            }
            OrchestratorResponse::LeaseLost { reason } => return Err(TaskError::LeaseLost(reason)),
            OrchestratorResponse::Rejected { reason } => {
                return Err(TaskError::Failed(format!(
                    "output {output}: upload refused: {reason}"
                )));
            }
            other => {
                return Err(TaskError::Failed(format!(
                    "output {output}: upload answered with {other:?}"
                )));
            }
        }
    }
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(bytes: &[u8]) -> Vec<(u64, usize, bool)> {
        upload_chunks(bytes).map(|(o, d, l)| (o, d.len(), l)).collect()
    }

    #[test]
    fn uploads_split_at_chunk_boundaries_and_end_with_last() {
        let c = BLOB_CHUNK;
        assert_eq!(shape(&[]), vec![(0, 0, true)]);
        assert_eq!(shape(&[7; 10]), vec![(0, 10, true)]);
        assert_eq!(shape(&vec![0; c]), vec![(0, c, true)]);
        assert_eq!(
            shape(&vec![0; 2 * c + 1]),
            vec![(0, c, false), (c as u64, c, false), (2 * c as u64, 1, true)]
        );
        let bytes: Vec<u8> = (0..3 * c + 5).map(|i| (i % 251) as u8).collect();
        let joined: Vec<u8> = upload_chunks(&bytes).flat_map(|(_, d, _)| d.to_vec()).collect();
        assert_eq!(joined, bytes);
    }

    #[test]
    fn capabilities_name_the_backends_threads_and_encoders() {
        let caps = capabilities(3, vec!["cpu".to_owned()], &[]);
        assert_eq!(caps.threads, 3);
        assert!(caps.cpu_cores >= 1);
        assert_eq!(caps.render_backends, vec!["cpu".to_owned()]);
        assert!(caps.encoders.is_empty());
        let caps = capabilities(1, Vec::new(), &[&transcoder::encoders::Libx264]);
        assert_eq!(caps.encoders, vec!["libx264".to_owned()]);
    }
}
