//! A cheating worker for the verification tests: the real worker (same
//! protocol, same key handling, same receipts) with an output hook that
//! tampers with a share of its tasks, as a node operator out to earn
//! without doing the work would:
//! - renders: a watermark stamped on the frame, or a cheap render at 1/16
//!   of the samples asked for;
//! - live segments: a watermark, the picture from a quarter-size encode
//!   scaled back up (a lower rung upscaled), or black frames for the
//!   segment's second half.
//!
//! Outputs are re-encoded so they still pass the cheap checks (size,
//! length, keyframes, audio): only a comparison with another node's work
//! can catch them. Which tasks are tampered with is decided per lease
//! from `--seed`, so a run is reproducible.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use libp2p::Multiaddr;
use mosaic_worker::runner::{render_frame, OutputHook, Runner};
use mosaic_worker::scene_cache::SceneCache;
use mosaic_worker::{identity, network};
use protocol::wire::{RenderWork, TranscodeWork, Work};
use protocol::{ImageFormat, LeaseId};
use renderer::backend::Backend;
use tracing::{info, warn};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, value_name = "MULTIADDR")]
    orchestrator: Multiaddr,
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    #[arg(long, value_name = "N", default_value = "1")]
    threads: NonZeroUsize,
    /// The share of tasks tampered with, 0 to 1.
    #[arg(long, default_value_t = 1.0)]
    share: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stay off live work.
    #[arg(long)]
    no_live: bool,
}

struct Tamper {
    share: f64,
    seed: u64,
    scenes: PathBuf,
    scratch: PathBuf,
    /// What the cheap renders are made with: the worker's fastest backend.
    backend: Arc<dyn Backend>,
}

impl Tamper {
    /// Whether the task under `lease` is tampered with, and which attack.
    fn attack(&self, lease: LeaseId) -> Option<u64> {
        let h = blake3::hash(&[self.seed.to_le_bytes(), lease.0.to_le_bytes()].concat());
        let x = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
        ((x % 1_000_000) as f64 / 1e6 < self.share).then_some(x >> 32)
    }

    fn render(&self, work: &RenderWork, frame: u32, bytes: Vec<u8>, attack: u64) -> Vec<u8> {
        if attack & 1 == 0 || work.settings.format != ImageFormat::Png {
            return watermark_png(&bytes).unwrap_or(bytes);
        }
        // A cheap render: 1/16 of the samples.
        let cheap = || -> anyhow::Result<Vec<u8>> {
            let path = self.scenes.join(format!("{}.glb", work.scene));
            let scene = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
            let asset = renderer::SceneAsset::from_bytes(&scene, &renderer::Limits::default())?;
            let mut settings = work.settings.clone();
            settings.spp = (settings.spp / 16).max(1);
            Ok(render_frame(&asset, &settings, frame, &*self.backend)?)
        };
        cheap().unwrap_or(bytes)
    }

    fn transcode(&self, work: &TranscodeWork, rung: u32, bytes: Vec<u8>, attack: u64) -> Vec<u8> {
        let Some(r) = work.rungs.get(rung as usize) else { return bytes };
        let filter = match attack % 3 {
            0 => "drawbox=x=iw/8:y=ih/8:w=iw/3:h=ih/4:color=white@0.9:t=fill".to_owned(),
            1 => format!(
                "scale={}:{},scale={}:{}",
                (r.width / 4).max(2) & !1,
                (r.height / 4).max(2) & !1,
                r.width,
                r.height
            ),
            // The second half black (an all-black rendition fails the cheap
            // checks). Frame numbers, not times: -copyts keeps the clock.
            _ => format!(
                "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(n,{})'",
                (work.duration_ms * 15 / 1000).max(1)
            ),
        };
        match reencode(&self.scratch, &bytes, &filter, r.bitrate) {
            Ok(tampered) => tampered,
            Err(e) => {
                warn!(error = %e, "could not tamper; delivering the honest rendition");
                bytes
            }
        }
    }
}

impl OutputHook for Tamper {
    fn output(&self, lease: LeaseId, work: &Work, output: u32, bytes: Vec<u8>) -> Vec<u8> {
        let Some(attack) = self.attack(lease) else { return bytes };
        info!(%lease, output, attack, "tampering with this output");
        match work {
            Work::Render(w) => self.render(w, output, bytes, attack),
            Work::Transcode(w) => self.transcode(w, output, bytes, attack),
        }
    }
}

/// The PNG with an opaque white box over its upper-left quarter.
fn watermark_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).ok()?;
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    for y in h / 8..h / 2 {
        for x in w / 8..w / 2 {
            let px = &mut pixels[(y * w + x) * channels..][..channels.min(3)];
            px.fill(255);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, info.width, info.height);
    encoder.set_color(info.color_type);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels[..info.buffer_size()]).ok()?;
    writer.finish().ok()?;
    Some(out)
}

/// Re-encodes a rendition through an ffmpeg filter, keeping its timestamps,
/// size, keyframe at the start and audio, so the cheap checks pass.
fn reencode(scratch: &Path, bytes: &[u8], filter: &str, bitrate: u64) -> anyhow::Result<Vec<u8>> {
    std::fs::create_dir_all(scratch)?;
    let input = tempfile::Builder::new().suffix(".ts").tempfile_in(scratch)?;
    std::fs::write(input.path(), bytes)?;
    let output = tempfile::Builder::new().suffix(".ts").tempfile_in(scratch)?;
    let status = Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-copyts", "-i"])
        .arg(input.path())
        .args(["-map", "0", "-vf", filter, "-c:v", "libx264", "-preset", "veryfast"])
        .args(["-b:v", &bitrate.to_string(), "-bf", "0", "-g", "100000"])
        .args(["-c:a", "copy", "-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts"])
        .arg(output.path())
        .status()
        .context("cannot run ffmpeg")?;
    anyhow::ensure!(status.success(), "ffmpeg failed: {status}");
    Ok(std::fs::read(output.path())?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_ansi(false)
        .init();
    let args = Args::parse();
    let keypair = identity::load_or_create(&args.data_dir)?;
    info!(peer = %keypair.public().to_peer_id(), share = args.share, "cheating worker starting");
    let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(args.threads.get()).build()?);
    // Every backend that works here, like an honest worker's default.
    let backends = mosaic_worker::backends::choose(renderer::backend::probe(pool), None)
        .map_err(anyhow::Error::msg)?;
    let encoders = if args.no_live { Vec::new() } else { transcoder::encoders::available() };
    let encoders: Vec<_> = encoders.into_iter().filter(|e| e.name() == "libx264").collect();
    let tamper = Tamper {
        share: args.share,
        seed: args.seed,
        scenes: args.data_dir.join("scenes"),
        scratch: args.data_dir.join("tamper"),
        backend: backends[0].clone(),
    };
    let cache = SceneCache::new(args.data_dir.join("scenes"), renderer::Limits::default());
    let client = network::spawn(keypair.clone(), args.orchestrator)?;
    let scratch = args.data_dir.join("transcode");
    let runner =
        Runner::new(client, keypair, cache, backends, args.threads.get(), encoders, scratch)
            .with_output_hook(Arc::new(tamper));
    runner.run().await;
    Ok(())
}
