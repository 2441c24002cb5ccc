//! Live work: a source segment in, every rung's rendition out. The segment
//! is fetched by content id (and verified), transcoded by the
//! `transcoder` crate in a scratch directory, and each rendition uploaded
//! as the task's output numbered by rung.

use std::path::{Path, PathBuf};

use protocol::settings::MAX_DIMENSION;
use protocol::wire::{TaskAssignment, TaskOutput, TranscodeWork};
use tracing::info;
use transcoder::H264Encoder;

use crate::network::Client;
use crate::runner::{upload_output, OutputHook, TaskError};
use crate::scene_cache::{fetch_blob, FetchError};

/// The largest source segment fetched (the orchestrator's own limit is lower).
const MAX_SOURCE_BYTES: u64 = 512 << 20;
/// The most rungs a task may ask for.
const MAX_RUNGS: usize = 16;

/// A scratch directory removed when dropped, whatever happened.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn run(
    client: &Client,
    task: &TaskAssignment,
    work: &TranscodeWork,
    encoder: &'static dyn H264Encoder,
    scratch: &Path,
    hook: Option<&dyn OutputHook>,
) -> Result<Vec<TaskOutput>, TaskError> {
    let lease = task.lease;
    if work.rungs.is_empty() || work.rungs.len() > MAX_RUNGS {
        return Err(TaskError::Failed(format!(
            "a ladder of {} rungs is not transcodable",
            work.rungs.len()
        )));
    }
    if let Some(r) = work.rungs.iter().find(|r| {
        r.width == 0 || r.height == 0 || r.width > MAX_DIMENSION || r.height > MAX_DIMENSION
    }) {
        return Err(TaskError::Failed(format!("rung {r} is not a size this worker encodes")));
    }
    let started = std::time::Instant::now();
    let source = fetch_blob(client, work.source, MAX_SOURCE_BYTES).await.map_err(|e| match e {
        FetchError::Network(e) => TaskError::Network(e),
        other => TaskError::Failed(format!("segment {}: {other}", work.sequence)),
    })?;
    let fetched_ms = started.elapsed().as_millis() as u64;

    let dir = Scratch(scratch.join(format!("lease-{lease}")));
    let io = |e: std::io::Error| {
        TaskError::Failed(format!("scratch directory {}: {e}", dir.0.display()))
    };
    tokio::fs::create_dir_all(&dir.0).await.map_err(io)?;
    let input = dir.0.join("source.ts");
    tokio::fs::write(&input, &source).await.map_err(io)?;
    let outputs: Vec<PathBuf> =
        (0..work.rungs.len()).map(|i| dir.0.join(format!("rung-{i}.ts"))).collect();

    let (rungs, paths, source_path) = (work.rungs.clone(), outputs.clone(), input.clone());
    let stats = tokio::task::spawn_blocking(move || {
        transcoder::transcode_segment(&source_path, &rungs, &paths, encoder)
    })
    .await
    .map_err(|e| TaskError::Failed(format!("the transcoder crashed: {e}")))?
    .map_err(|e| TaskError::Failed(format!("segment {}: {e}", work.sequence)))?;
    let transcoded_ms = started.elapsed().as_millis() as u64 - fetched_ms;

    let mut uploaded = Vec::with_capacity(outputs.len());
    for (i, path) in outputs.iter().enumerate() {
        let mut bytes = tokio::fs::read(path).await.map_err(io)?;
        if let Some(hook) = hook {
            bytes = hook.output(lease, &task.work, i as u32, bytes);
        }
        let cid = upload_output(client, lease, i as u32, &bytes).await?;
        uploaded.push(TaskOutput { output: i as u32, cid });
    }
    info!(
        stream = %work.stream,
        sequence = work.sequence,
        encoder = encoder.name(),
        frames = stats.first().map_or(0, |s| s.frames),
        fetch_ms = fetched_ms,
        transcode_ms = transcoded_ms,
        total_ms = started.elapsed().as_millis() as u64,
        speed = format!("{:.2}x", work.duration_ms as f64 / transcoded_ms.max(1) as f64),
        "segment transcoded and uploaded"
    );
    Ok(uploaded)
}
