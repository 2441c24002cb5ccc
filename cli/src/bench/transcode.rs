//! `mosaic bench transcode`: our segment transcoder against the ffmpeg CLI
//! doing the same ladder on the same 1080p30 segment: one decode,
//! `split`/`scale` to each rung, libx264 veryfast at the rungs' bitrates
//! (capped at the bitrate over a two-second buffer, as ours is), audio
//! copied, MPEG-TS out. Each side runs `--runs` times, alternating, and the
//! best run of each counts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use transcoder::encoders;

#[derive(Args, Debug)]
pub struct BenchTranscodeArgs {
    /// Seconds of 1080p30 video in the segment.
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub seconds: u32,
    /// Runs of each side; the fastest counts.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub runs: u32,
    /// The encoder ours uses: libx264 or h264_nvenc (the ffmpeg CLI uses the same).
    #[arg(long, default_value = "libx264", value_name = "NAME")]
    pub encoder: String,
    /// Where the segment and the renditions are written.
    #[arg(long, default_value = "mosaic-bench", value_name = "DIR")]
    pub out: PathBuf,
}

pub fn transcode(args: &BenchTranscodeArgs) -> Result<()> {
    let encoder = encoders::by_name(&args.encoder)
        .with_context(|| format!("unknown encoder {:?}: libx264 or h264_nvenc", args.encoder))?;
    let dir = args.out.join("transcode");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let source = dir.join("source-1080p30.ts");
    make_source(&source, args.seconds)?;
    let rungs = protocol::ladder::for_source(&protocol::ladder::default_ladder(), 1920, 1080);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "segment: {} s of 1080p30 testsrc2 + AAC ({} bytes), {threads} threads, encoder {}",
        args.seconds,
        std::fs::metadata(&source)?.len(),
        encoder.name()
    );
    println!("ladder: {}", rungs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));

    let ours_out: Vec<PathBuf> =
        rungs.iter().map(|r| dir.join(format!("ours-{}.ts", r.name))).collect();
    let cli_out: Vec<PathBuf> =
        rungs.iter().map(|r| dir.join(format!("ffmpeg-{}.ts", r.name))).collect();
    let mut ours = Duration::MAX;
    let mut cli = Duration::MAX;
    for run in 1..=args.runs.max(1) {
        let (_, children_before) = cpu_seconds();
        let started = Instant::now();
        ffmpeg_cli(&source, &rungs, &cli_out, encoder.name())?;
        let t_cli = started.elapsed();
        let (own_before, children_after) = cpu_seconds();
        let started = Instant::now();
        transcoder::transcode_segment(&source, &rungs, &ours_out, encoder)
            .context("our transcoder failed")?;
        let t_ours = started.elapsed();
        let (own_after, _) = cpu_seconds();
        println!(
            "run {run}: ffmpeg CLI {:.2} s ({:.1} CPU s), ours {:.2} s ({:.1} CPU s)",
            t_cli.as_secs_f64(),
            children_after - children_before,
            t_ours.as_secs_f64(),
            own_after - own_before,
        );
        cli = cli.min(t_cli);
        ours = ours.min(t_ours);
    }
    // Both must have made the same ladder for the times to mean anything.
    for (rung, (a, b)) in rungs.iter().zip(ours_out.iter().zip(&cli_out)) {
        let (pa, pb) = (transcoder::probe_segment(a)?, transcoder::probe_segment(b)?);
        let (va, vb) =
            (pa.video.context("ours has no video")?, pb.video.context("ffmpeg has no video")?);
        if (va.width, va.height, va.frames) != (vb.width, vb.height, vb.frames) {
            bail!("rung {}: ours {va:?} but the ffmpeg CLI {vb:?}", rung.name);
        }
        println!(
            "  {}: {} frames; ours {} kb, ffmpeg CLI {} kb",
            rung.name,
            va.frames,
            std::fs::metadata(a)?.len() / 1000,
            std::fs::metadata(b)?.len() / 1000
        );
    }
    let seconds = f64::from(args.seconds);
    let rtf = |d: Duration| seconds / d.as_secs_f64();
    println!(
        "ffmpeg CLI: {:.2} s, {:.2}x real time\nours:       {:.2} s, {:.2}x real time\nours / ffmpeg CLI: {:.2}x",
        cli.as_secs_f64(),
        rtf(cli),
        ours.as_secs_f64(),
        rtf(ours),
        cli.as_secs_f64() / ours.as_secs_f64()
    );
    Ok(())
}

/// CPU seconds (user + system) used so far by this process and by its
/// waited-for children, from /proc (Linux's clock ticks are 1/100 s).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name, which may hold spaces.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    // utime, stime, cutime, cstime are fields 14-17; 12-15 after the name
    // and state, and the state is not a number.
    let tick = |i: usize| fields.get(i).copied().unwrap_or(0.0) / 100.0;
    (tick(10) + tick(11), tick(12) + tick(13))
}

/// A segment as the ingest makes them: H.264 with one keyframe, AAC.
fn make_source(path: &Path, seconds: u32) -> Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30"])
        .args(["-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-g", "100000"])
        .args(["-c:a", "aac", "-b:a", "128k", "-f", "mpegts"])
        .arg(path)
        .status()
        .context("cannot run ffmpeg: install it (scripts/install-deps.sh does)")?;
    if !status.success() {
        bail!("ffmpeg could not make the source segment");
    }
    Ok(())
}

fn ffmpeg_cli(
    source: &Path,
    rungs: &[protocol::Rung],
    outputs: &[PathBuf],
    encoder: &str,
) -> Result<()> {
    let n = rungs.len();
    let labels: String = (0..n).map(|i| format!("[s{i}]")).collect();
    let mut graph = format!("[0:v]split={n}{labels}");
    for (i, r) in rungs.iter().enumerate() {
        graph.push_str(&format!(";[s{i}]scale={}:{}[v{i}]", r.width, r.height));
    }
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y", "-i"]).arg(source).args(["-filter_complex", &graph]);
    for (i, (r, out)) in rungs.iter().zip(outputs).enumerate() {
        let rate = r.bitrate.to_string();
        cmd.args(["-map", &format!("[v{i}]"), "-map", "0:a?", "-c:v", encoder]);
        if encoder == "libx264" {
            cmd.args(["-preset", "veryfast"]);
        } else {
            cmd.args(["-preset", "p4", "-tune", "hq", "-rc", "vbr"]);
        }
        cmd.args(["-b:v", &rate, "-maxrate", &rate, "-bufsize", &(r.bitrate * 2).to_string()]);
        cmd.args(["-g", "600", "-c:a", "copy", "-f", "mpegts"]).arg(out);
    }
    let status = cmd.status().context("cannot run ffmpeg")?;
    if !status.success() {
        bail!("the ffmpeg CLI failed on the ladder");
    }
    Ok(())
}
