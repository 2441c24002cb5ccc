//! The task loop: say hello, ask for work, render a task's frames, upload
//! them, report. It never reports a frame it did not render and check, and
//! never keeps working on a task whose lease is lost or whose connection is
//! gone (the orchestrator has requeued it by then).

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::wire::{
    Capabilities, FrameOutput, OrchestratorResponse, TaskAssignment, WorkerRequest, BLOB_CHUNK,
};
use protocol::{ContentId, ImageFormat, LeaseId, RenderSettings};
use renderer::{RenderOptions, SceneAsset};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::network::{Client, RequestError};
use crate::scene_cache::{FetchError, SceneCache, SceneCacheError};

/// The render backends this build has.
pub const RENDER_BACKENDS: &[&str] = &["cpu-pathtracer"];
/// The longest the worker waits before asking for work again, whatever the
/// orchestrator says.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(10);
/// The shortest renewal period, whatever the lease.
const MIN_RENEW_PERIOD: Duration = Duration::from_millis(100);

/// What this worker announces in its hello.
pub fn capabilities(threads: usize) -> Capabilities {
    let cpu_cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Capabilities {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        cpu_cores: cpu_cores as u32,
        threads: threads as u32,
        render_backends: RENDER_BACKENDS.iter().map(|s| s.to_string()).collect(),
        encoders: Vec::new(),
    }
}

/// How a task ended other than with all its frames uploaded.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task cannot be done here; reported with `Fail`.
    #[error("{0}")]
    Failed(String),
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

/// Runs tasks for one orchestrator, forever.
pub struct Runner {
    client: Client,
    cache: SceneCache,
    pool: Arc<rayon::ThreadPool>,
    capabilities: Capabilities,
}

impl Runner {
    pub fn new(client: Client, cache: SceneCache, pool: rayon::ThreadPool) -> Self {
        let capabilities = capabilities(pool.current_num_threads());
        Self { client, cache, pool: Arc::new(pool), capabilities }
    }

    /// Connects, works, and after any lost connection waits for the next
    /// one and starts again with a hello.
    pub async fn run(mut self) {
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

    /// Hello, then tasks until a request fails.
    async fn session(&mut self, generation: u64) -> Result<(), RequestError> {
        let hello = WorkerRequest::Hello { capabilities: self.capabilities.clone() };
        match self.client.request(hello).await? {
            OrchestratorResponse::Welcome { orchestrator_version } => {
                info!(%orchestrator_version, "welcomed by the orchestrator");
            }
            OrchestratorResponse::Rejected { reason } => {
                warn!(%reason, "the orchestrator refused our hello");
                return Ok(());
            }
            other => {
                return Err(RequestError::Protocol(format!("hello answered with {other:?}")));
            }
        }
        loop {
            match self.client.request(WorkerRequest::NextTask).await? {
                OrchestratorResponse::Task(task) => self.run_task(task, generation).await?,
                OrchestratorResponse::NoTask { retry_after_ms } => {
                    tokio::time::sleep(Duration::from_millis(retry_after_ms).min(MAX_IDLE_WAIT))
                        .await;
                }
                OrchestratorResponse::Rejected { reason } => {
                    warn!(%reason, "the orchestrator refused to hand out work");
                    return Ok(());
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
    async fn run_task(
        &mut self,
        task: TaskAssignment,
        generation: u64,
    ) -> Result<(), RequestError> {
        let started = Instant::now();
        let lease = task.lease;
        info!(
            task = %task.task,
            job = %task.job,
            lease = %lease,
            frames = ?task.frames,
            scene = %task.scene,
            size = %task.settings.size(),
            spp = task.settings.spp,
            "task assigned"
        );

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
            Ok(outputs) => {
                let frames = outputs.len();
                match self.client.request(WorkerRequest::Complete { lease, outputs }).await? {
                    OrchestratorResponse::Accepted => {
                        info!(task = %task.task, frames, ms = elapsed_ms, "task done");
                    }
                    OrchestratorResponse::Rejected { reason } => {
                        warn!(task = %task.task, %reason, "the orchestrator rejected the task's result");
                    }
                    other => {
                        warn!(task = %task.task, answer = ?other, "unexpected answer to complete")
                    }
                }
            }
            Err(TaskError::Failed(reason)) => {
                warn!(task = %task.task, %reason, ms = elapsed_ms, "task failed");
                let fail = WorkerRequest::Fail { lease, reason };
                match self.client.request(fail).await? {
                    OrchestratorResponse::Accepted => {}
                    other => {
                        warn!(task = %task.task, answer = ?other, "failure report not accepted")
                    }
                }
            }
            Err(TaskError::LeaseLost(reason)) => {
                warn!(task = %task.task, %reason, "abandoning task: the orchestrator took it back");
            }
            Err(TaskError::Network(e)) => {
                warn!(task = %task.task, error = %e, "abandoning task: connection trouble");
                return Err(e);
            }
        }
        Ok(())
    }

    /// Fetches the scene, renders, checks and uploads each frame.
    async fn execute(&mut self, task: &TaskAssignment) -> Result<Vec<FrameOutput>, TaskError> {
        let asset = self.cache.asset(&self.client, task.scene).await?;

        let mut outputs = Vec::with_capacity(task.frames.len());
        for &frame in &task.frames {
            let started = Instant::now();
            let (asset, settings, pool) = (asset.clone(), task.settings.clone(), self.pool.clone());
            let bytes =
                tokio::task::spawn_blocking(move || render_frame(&asset, &settings, frame, &pool))
                    .await
                    .map_err(|e| {
                        TaskError::Failed(format!("frame {frame}: renderer crashed: {e}"))
                    })?
                    .map_err(TaskError::Failed)?;
            let render_ms = started.elapsed().as_millis() as u64;
            let cid = upload_frame(&self.client, task.lease, frame, &bytes).await?;
            info!(
                task = %task.task,
                frame,
                bytes = bytes.len(),
                render_ms,
                total_ms = started.elapsed().as_millis() as u64,
                cid = %cid,
                "frame rendered and uploaded"
            );
            outputs.push(FrameOutput { frame, cid });
        }
        Ok(outputs)
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

/// Renders one frame on `pool` and encodes it as the settings ask. A frame
/// with NaN or infinite pixels is an error, never an output.
pub fn render_frame(
    asset: &SceneAsset,
    settings: &RenderSettings,
    frame: u32,
    pool: &rayon::ThreadPool,
) -> Result<Vec<u8>, String> {
    let scene = asset
        .instantiate(settings.time_of_frame(frame), settings.camera.as_deref())
        .map_err(|e| format!("frame {frame}: {e}"))?;
    let options = RenderOptions {
        width: settings.width,
        height: settings.height,
        spp: settings.spp,
        max_bounces: settings.max_bounces,
        seed: settings.seed,
        frame,
    };
    let image = pool.install(|| renderer::render(&scene, &options));
    if image.has_non_finite() {
        return Err(format!("frame {frame} has NaN or infinite pixels"));
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

/// Uploads one frame's bytes in order and returns the cid, after checking
/// that the orchestrator's hash of what it received matches ours.
pub async fn upload_frame(
    client: &Client,
    lease: LeaseId,
    frame: u32,
    bytes: &[u8],
) -> Result<ContentId, TaskError> {
    let ours = ContentId::of(bytes);
    for (offset, data, last) in upload_chunks(bytes) {
        let request =
            WorkerRequest::UploadChunk { lease, frame, offset, data: data.to_vec(), last };
        match client.request(request).await? {
            OrchestratorResponse::ChunkStored { cid: Some(theirs) } if last => {
                if theirs != ours {
                    return Err(TaskError::Failed(format!(
                        "frame {frame}: the orchestrator stored {theirs}, we sent {ours}"
                    )));
                }
            }
            OrchestratorResponse::ChunkStored { cid: None } if !last => {}
            OrchestratorResponse::ChunkStored { cid } => {
                return Err(TaskError::Failed(format!(
                    "frame {frame}: upload chunk at {offset} (last: {last}) answered with cid {cid:?}"
                )));
            }
            OrchestratorResponse::LeaseLost { reason } => return Err(TaskError::LeaseLost(reason)),
            OrchestratorResponse::Rejected { reason } => {
                return Err(TaskError::Failed(format!("frame {frame}: upload refused: {reason}")));
            }
            other => {
                return Err(TaskError::Failed(format!(
                    "frame {frame}: upload answered with {other:?}"
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
    fn capabilities_name_the_cpu_backend_and_threads() {
        let caps = capabilities(3);
        assert_eq!(caps.threads, 3);
        assert!(caps.cpu_cores >= 1);
        assert_eq!(caps.render_backends, vec!["cpu-pathtracer".to_owned()]);
        assert!(caps.encoders.is_empty());
    }
}
