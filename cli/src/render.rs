//! `mosaic render submit`: check a render request locally, upload the scene,
//! create the job and follow it to the end.
//!
//! Everything a user can get wrong (the frame spec, the size, the settings,
//! the scene file itself) is checked before the first byte goes over the
//! network, so a typo costs nothing and needs no orchestrator to be caught.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use protocol::api::{JobCreated, JobRequest, JobState, JobSummary, SceneInfo, MAX_CHUNK};
use protocol::settings::Size;
use protocol::{FrameSpec, ImageFormat, JobId, RenderSettings};
use serde_json::json;

use crate::client::{Client, ClientError};
use crate::jobs::not_done;
use crate::output::print_json;

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The scene: a .glb, or a .gltf whose buffers and images sit in its folder.
    pub scene: PathBuf,
    /// Frames to render: 1-48, 1,5,9-12 or 1-100x5 (numbered from 1).
    #[arg(long, value_name = "SPEC")]
    pub frames: FrameSpec,
    /// Frame size, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH")]
    pub size: Size,
    /// Samples per pixel.
    #[arg(long, value_name = "N")]
    pub spp: u32,
    /// The most bounces a path may take.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub bounces: u32,
    /// Frame rate: frame N shows the animation at time (N-1)/fps.
    #[arg(long, default_value_t = 24.0)]
    pub fps: f64,
    /// Seed of the sample pattern (same seed, same pixels).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The camera to render through, by name (default: the scene's first).
    #[arg(long, value_name = "NAME")]
    pub camera: Option<String>,
    /// Frames per task.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub chunk: u32,
    /// Higher runs first.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i32,
    /// png (tonemapped sRGB) or exr (linear HDR, for compositing).
    #[arg(long, default_value = "png")]
    pub format: ImageFormat,
    /// Render every frame with this backend: vulkan-rt, vulkan-compute or
    /// cpu (default: the farm picks the fastest a free worker has).
    #[arg(
        long,
        value_name = "NAME",
        hide_possible_values = true,
        value_parser = clap::builder::PossibleValuesParser::new(protocol::RENDER_BACKENDS.iter().copied())
    )]
    pub backend: Option<String>,
    /// Print the job id and return instead of following progress.
    #[arg(long)]
    pub detach: bool,
    /// Print one JSON object on stdout and no progress bar.
    #[arg(long)]
    pub json: bool,
}

/// A request that passed every local check, ready to send.
pub struct CheckedSubmit {
    /// The self-contained GLB to upload.
    pub glb: Vec<u8>,
    pub name: String,
    pub frames: FrameSpec,
    pub settings: RenderSettings,
    pub chunk: u32,
    pub priority: i32,
}

/// Every check that needs no orchestrator.
pub fn check(args: &SubmitArgs) -> Result<CheckedSubmit> {
    let settings = RenderSettings {
        width: args.size.width,
        height: args.size.height,
        spp: args.spp,
        max_bounces: args.bounces,
        seed: args.seed,
        fps: args.fps,
        camera: args.camera.clone(),
        format: args.format,
        backend: args.backend.clone(),
    };
    settings.validate()?;
    if args.chunk == 0 || args.chunk > MAX_CHUNK {
        anyhow::bail!("--chunk {} is out of range: 1 to {MAX_CHUNK} frames per task", args.chunk);
    }
    let glb = pack_scene(&args.scene, args.camera.as_deref())?;
    let name = args
        .scene
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scene".to_owned());
    Ok(CheckedSubmit {
        glb,
        name,
        frames: args.frames.clone(),
        settings,
        chunk: args.chunk,
        priority: args.priority,
    })
}

/// Reads, validates and packs the scene into one GLB, and checks that the
/// camera asked for exists.
fn pack_scene(path: &Path, camera: Option<&str>) -> Result<Vec<u8>> {
    let scene = path.display();
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => anyhow::bail!("scene {scene} is not a file"),
        Err(err) => return Err(err).with_context(|| format!("cannot read the scene {scene}")),
    }
    let limits = renderer::Limits::default();
    let glb = renderer::pack_scene_file(path, &limits)
        .with_context(|| format!("scene {scene} cannot be rendered"))?;
    // The loader (run by the packer) already refuses a scene without a
    // perspective camera. A name it does not list may still be a camera's
    // own name rather than its node's: then let the loader decide, as the
    // worker will.
    if let Some(name) = camera {
        let asset = renderer::SceneAsset::from_bytes(&glb, &limits)
            .with_context(|| format!("scene {scene} cannot be rendered once packed"))?;
        if !asset.summary().cameras.iter().any(|c| c == name) {
            asset
                .instantiate(0.0, Some(name))
                .with_context(|| format!("--camera {name:?} cannot be used with scene {scene}"))?;
        }
    }
    Ok(glb)
}

/// Uploads a checked request, creates the job and, unless `--detach`,
/// follows it to the end.
pub fn submit(client: &Client, checked: CheckedSubmit, args: &SubmitArgs) -> Result<ExitCode> {
    let scene: SceneInfo =
        client.post_bytes("/api/scenes", &checked.glb).context("uploading the scene")?;
    if !args.json {
        eprintln!(
            "uploaded {} ({} bytes, {} triangles, {} camera(s)) as {}",
            checked.name,
            scene.bytes,
            scene.triangles,
            scene.cameras.len(),
            scene.cid
        );
    }
    let request = JobRequest {
        scene: scene.cid,
        name: checked.name,
        frames: checked.frames,
        settings: checked.settings,
        chunk: checked.chunk,
        priority: checked.priority,
    };
    let created: JobCreated =
        client.post_json("/api/jobs", &request).context("creating the job")?;
    let job = created.job;

    if args.detach {
        let detail = client.job(job)?;
        if args.json {
            print_json(&json!({ "job": job, "state": detail.summary.state }))?;
        } else {
            println!("{job}");
            eprintln!(
                "follow it with `mosaic jobs {job}`; fetch it with `mosaic fetch {job} --out DIR`"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }

    if !args.json {
        println!("{job}");
    }
    let last = follow(client, job, request.frames.len() as u64, !args.json)?;
    let error = if last.state == JobState::Completed {
        None
    } else {
        let detail = client.job(job)?;
        let mut reasons = not_done(&detail);
        if let Some(error) = detail.error {
            reasons.insert(0, error);
        }
        Some(reasons.join("; "))
    };
    if args.json {
        let mut value = serde_json::to_value(&last)?;
        value["job"] = json!(job);
        if let Some(error) = &error {
            value["error"] = json!(error);
        }
        print_json(&value)?;
    } else {
        match &error {
            None => eprintln!(
                "job {job} completed: {} frames. Fetch them with `mosaic fetch {job} --out DIR`",
                last.frames_done
            ),
            Some(error) => eprintln!("job {job} {}: {error}", last.state.as_str()),
        }
    }
    Ok(if error.is_none() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// How long the orchestrator may stay unreachable while following a job
/// before giving up (it may be restarting; the job survives that).
const UNREACHABLE_GRACE: Duration = Duration::from_secs(120);

/// Follows a job until it ends: the progress stream while it lasts, then
/// polling once a second. Returns the last summary.
pub fn follow(client: &Client, job: JobId, frames: u64, show_bar: bool) -> Result<JobSummary> {
    let bar = if show_bar { ProgressBar::new(frames) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} frames  {per_sec}  ETA {eta}  {msg}",
        )
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let show = |summary: &JobSummary| {
        bar.set_length(u64::from(summary.frames_total));
        bar.set_position(u64::from(summary.frames_done));
        let mut msg = summary.state.as_str().to_owned();
        if summary.frames_failed > 0 {
            msg.push_str(&format!(", {} failed", summary.frames_failed));
        }
        if let Some(waiting) = &summary.waiting {
            msg.push_str(&format!(", waiting: {waiting}"));
        }
        bar.set_message(msg);
    };

    match client.job_events(job) {
        Ok(events) => {
            for event in events {
                match event {
                    Ok(summary) => {
                        show(&summary);
                        if summary.state.is_final() {
                            bar.finish();
                            return Ok(summary);
                        }
                    }
                    Err(err) => {
                        tracing::debug!("progress stream ended: {err:#}; polling instead");
                        break;
                    }
                }
            }
        }
        Err(err) => tracing::debug!("no progress stream: {err:#}; polling instead"),
    }

    let mut unreachable_since: Option<Instant> = None;
    loop {
        match client.job(job) {
            Ok(detail) => {
                unreachable_since = None;
                show(&detail.summary);
                if detail.summary.state.is_final() {
                    bar.finish();
                    return Ok(detail.summary);
                }
            }
            Err(err) if is_transient(&err) => {
                let since = *unreachable_since.get_or_insert_with(Instant::now);
                if since.elapsed() > UNREACHABLE_GRACE {
                    bar.abandon();
                    return Err(err.context(format!(
                        "gave up following job {job}; it may still be running: `mosaic jobs {job}`"
                    )));
                }
                bar.set_message(format!(
                    "orchestrator unreachable, retrying ({}s)",
                    since.elapsed().as_secs()
                ));
            }
            Err(err) => {
                bar.abandon();
                return Err(err);
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn is_transient(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ClientError>().is_some_and(ClientError::is_transient)
}
