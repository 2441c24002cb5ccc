//! `mosaic bench verify`: the calibration of fingerprint comparison (`proofs::fingerprint`) on
//! a corpus built here. It prints, for each kind of honest pair, how often it was wrongly
//! called a mismatch, and for each attack how often it was caught; then the margins between
//! the two (the largest honest difference and the smallest tampered one, per measure), and what
//! a check costs against the work it checks.
//!
//! Honest pairs: a 2 s 720p30 source segment (testsrc2, and a zooming Mandelbrot with film
//! grain) through our transcoder's default ladder, against the same rung made by the ffmpeg
//! CLI's libx264 at other presets and bitrates; Cornell box frames from the CPU path tracer at
//! another seed or sample count. Tampered: our rendition or render, attacked. Segments are
//! compared as the orchestrator compares them: both fingerprinted at the same times, drawn at
//! random per check, `--draws` checks a pair. (There is no Vulkan render backend yet, so no
//! CPU-against-GPU pairs.)
//!
//! A benchmark, not a test: it never fails for a bad number (the end-to-end test
//! `verify_calibration` does).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use proofs::fingerprint::{
    compare_frames, compare_segments, fingerprint_image, FrameDistances, FrameFingerprint, Limit,
    SampledFrame, SegmentFingerprint, SequenceDistances, Verdict,
};
use protocol::{ImageFormat, Rung, RungSpec};
use serde::Serialize;
use transcoder::fingerprint::fingerprint_segment;

#[derive(Args, Debug)]
pub struct BenchVerifyArgs {
    /// Simulate the economics of cheating instead (see `economics.rs`).
    #[arg(long)]
    pub economics: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// A smaller corpus (testsrc2 only, the 360p rung, one rendered frame), for tests.
    #[arg(long)]
    pub quick: bool,
    /// Where the corpus is written (rebuilt on every run).
    #[arg(long, default_value = "mosaic-bench/verify", value_name = "DIR")]
    pub out: PathBuf,
    /// Checks of each segment pair, each at freshly drawn sample times.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub draws: u32,
    /// Sample times a check.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub samples: usize,
    /// One row per source and rung for video, not per kind only (for calibrating).
    #[arg(long)]
    pub by_source: bool,
    /// Seed of the sample-time draws, so a run can be repeated.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
}

/// Source segments: 2 s of 720p30 with AAC, as the ingest cuts them.
const SEGMENT_SECONDS: u32 = 2;
const SOURCE_SIZE: (u32, u32) = (1280, 720);
/// Sample times are drawn in [0, this): the segments' length.
const SEGMENT_MS: u64 = SEGMENT_SECONDS as u64 * 1000;

/// (name, lavfi graph). The Mandelbrot zooms 10x in 20 s, so every frame moves, with grain.
const SOURCES: [(&str, &str); 2] = [
    ("testsrc2", "testsrc2=s=1280x720:r=30"),
    ("mandelbrot", "mandelbrot=s=1280x720:r=30:maxiter=300:end_pts=20,noise=alls=3:allf=t"),
];

/// Honest renditions besides ours: (name, libx264 preset, bitrate against the rung's).
const ALTERNATES: [(&str, &str, f64); 2] = [
    ("libx264 medium at 0.8x the bitrate", "medium", 0.8),
    ("libx264 ultrafast at 1.25x the bitrate", "ultrafast", 1.25),
];

/// The frame that single-frame attacks touch (of 60), and the first of the frozen ones.
const TOUCHED_FRAME: usize = 37;
const FROZEN: std::ops::Range<usize> = 20..30;

/// Rendered frames: small, so the corpus renders in seconds.
const RENDER_SIZE: (u32, u32) = (160, 120);
const RENDER_BOUNCES: u32 = 6;
/// Frames of the animated Cornell box (24 fps) each render comparison starts from.
const RENDER_FRAMES: [u32; 4] = [1, 13, 25, 37];
/// The "another frame" attack: this many frames (0.5 s) later.
const OTHER_FRAME: u32 = 12;
const SPP: u32 = 128;

/// The measures, in the order the margins table prints them, with their short headers.
const COLUMNS: [(&str, &str); 9] = [
    ("PDQ distance", "PDQ"),
    ("mean luma difference", "mean Y"),
    ("luma grid difference", "Y grid"),
    ("chroma grid difference", "CbCr"),
    ("detail ratio", "detail"),
    ("noise ratio", "noise"),
    ("frame luma grid difference", "frames Y"),
    ("neighbour-frame ratio", "neighbour"),
    ("mean detail ratio", "mean detail"),
];

#[derive(Serialize)]
struct Report {
    quick: bool,
    seed: u64,
    draws: u32,
    samples_per_check: usize,
    limits: BTreeMap<&'static str, Limit>,
    honest: Vec<Row>,
    tampered: Vec<Row>,
    cost: Cost,
    false_mismatches: u32,
    missed: u32,
    seconds: f64,
}

/// One kind of pair, over every pair and check of that kind.
#[derive(Serialize)]
struct Row {
    media: &'static str,
    kind: String,
    /// Checks: segment pairs times draws, or frame pairs.
    pairs: u32,
    mismatch: u32,
    inconclusive: u32,
    matched: u32,
    /// Honest: the false-mismatch rate; tampered: the detection rate.
    rate: f64,
    /// Honest: the largest value seen; tampered: over checks, the smallest of each check's
    /// largest value. By measure name.
    measures: BTreeMap<&'static str, f32>,
    /// The reason given by the first check that was not a match.
    example: Option<String>,
}

impl Row {
    fn new(media: &'static str, kind: &str) -> Row {
        Row {
            media,
            kind: kind.to_owned(),
            pairs: 0,
            mismatch: 0,
            inconclusive: 0,
            matched: 0,
            rate: 0.0,
            measures: BTreeMap::new(),
            example: None,
        }
    }

    fn add(&mut self, verdict: &Verdict, measures: &BTreeMap<&'static str, f32>, honest: bool) {
        self.pairs += 1;
        let why = match verdict {
            Verdict::Match => {
                self.matched += 1;
                None
            }
            Verdict::Mismatch(why) => {
                self.mismatch += 1;
                Some(why)
            }
            Verdict::Inconclusive(why) => {
                self.inconclusive += 1;
                Some(why)
            }
        };
        if self.example.is_none() {
            self.example = why.cloned();
        }
        for (&name, &value) in measures {
            let kept = self.measures.entry(name).or_insert(value);
            *kept = if honest { kept.max(value) } else { kept.min(value) };
        }
        self.rate = f64::from(self.mismatch) / f64::from(self.pairs);
    }
}

#[derive(Serialize, Default)]
struct Cost {
    /// Per rung: (name, ms to fingerprint one rendition at the sampled times).
    segment_ms: Vec<(String, f64)>,
    /// Ms for our transcoder to make the whole ladder of one segment.
    ladder_ms: f64,
    /// Every rung's fingerprints against the ladder's transcode.
    segment_ratio: f64,
    /// Mean ms to fingerprint one rendered frame (PNG), and to render it at [`SPP`].
    frame_ms: f64,
    render_ms: f64,
    frame_ratio: f64,
}

pub fn verify(args: &BenchVerifyArgs) -> Result<()> {
    if args.economics {
        return super::economics::run(args.json);
    }
    let started = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut rows = Rows::default();
    let mut cost = Cost::default();
    let mut rng = Draws(args.seed);
    video(args, &mut rng, &mut rows, &mut cost)?;
    renders(args, &mut rows, &mut cost)?;

    let (honest, tampered): (Vec<_>, Vec<_>) = rows.0.into_iter().partition(|(h, _)| *h);
    let (honest, tampered): (Vec<Row>, Vec<Row>) = (
        honest.into_iter().map(|(_, row)| row).collect(),
        tampered.into_iter().map(|(_, row)| row).collect(),
    );
    let report = Report {
        quick: args.quick,
        seed: args.seed,
        draws: args.draws,
        samples_per_check: args.samples,
        limits: limits(),
        false_mismatches: honest.iter().map(|r| r.mismatch).sum(),
        missed: tampered.iter().map(|r| r.matched).sum(),
        honest,
        tampered,
        cost,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

/// Every measure's limit, by name, as the comparisons report them.
fn limits() -> BTreeMap<&'static str, Limit> {
    let frame = FrameDistances {
        pdq: 0,
        quality: [100, 100],
        brightness: 0.0,
        luma: 0.0,
        chroma: 0.0,
        detail: 1.0,
        noise: 1.0,
    };
    let sequence = SequenceDistances { worst: (0, 0.0), shifted: (0, 0, 0.0), detail: 1.0 };
    frame.measures().into_iter().chain(sequence.measures()).map(|m| (m.name, m.limit)).collect()
}

/// The rows, honest or not, in the order they were first met.
#[derive(Default)]
struct Rows(Vec<(bool, Row)>);

impl Rows {
    fn add(
        &mut self,
        media: &'static str,
        kind: &str,
        honest: bool,
        verdict: &Verdict,
        measures: &BTreeMap<&'static str, f32>,
    ) {
        let found = self.0.iter().position(|(_, r)| r.media == media && r.kind == kind);
        let i = found.unwrap_or_else(|| {
            self.0.push((honest, Row::new(media, kind)));
            self.0.len() - 1
        });
        self.0[i].1.add(verdict, measures, honest);
    }
}

/// A small deterministic generator (SplitMix64) for sample times: the CLI has no `rand`.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `count` distinct times in [0, duration_ms), sorted, as `proofs::spot_check` draws them.
    fn times(&mut self, duration_ms: u64, count: usize) -> Vec<u64> {
        let count = (count as u64).min(duration_ms);
        let mut times = BTreeSet::new();
        while (times.len() as u64) < count {
            times.insert(self.next() % duration_ms);
        }
        times.into_iter().collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Video

/// A rendition fingerprinted at every millisecond of the segment: any draw of sample times is
/// then a lookup giving exactly what `fingerprint_segment` at those times gives, without
/// decoding the file again for each check.
struct FullSegment {
    fingerprint: SegmentFingerprint,
    /// The frame shown at each millisecond.
    shown: Vec<u32>,
    frames: HashMap<u32, FrameFingerprint>,
}

impl FullSegment {
    fn read(path: &Path) -> Result<FullSegment> {
        // Past the end too: a tampered segment may be longer.
        let every_ms: Vec<u64> = (0..SEGMENT_MS + 500).collect();
        let mut fingerprint = fingerprint_segment(path, &every_ms)
            .with_context(|| format!("cannot fingerprint {}", path.display()))?;
        let samples = std::mem::take(&mut fingerprint.samples);
        let shown = samples.iter().map(|s| s.frame).collect();
        let frames = samples.into_iter().map(|s| (s.frame, s.fingerprint)).collect();
        Ok(FullSegment { fingerprint, shown, frames })
    }

    fn at(&self, times: &[u64]) -> SegmentFingerprint {
        let samples = times
            .iter()
            .map(|&t| {
                let frame = self.shown[(t as usize).min(self.shown.len() - 1)];
                SampledFrame { time_ms: t, frame, fingerprint: self.frames[&frame].clone() }
            })
            .collect();
        SegmentFingerprint { samples, ..self.fingerprint.clone() }
    }
}

/// How a tampered rendition is made from our honest one.
enum Tamper {
    /// Our rendition re-encoded through an ffmpeg filter graph.
    Filter(String),
    /// Our rendition of the next segment of the same source.
    NextSegment,
}

fn video_attacks(rung: &Rung, frames: usize) -> Vec<(&'static str, Tamper)> {
    let k = TOUCHED_FRAME.min(frames.saturating_sub(2));
    // Output frame i is input frame f(i), over the whole segment: the frame count is kept, so
    // only the frames themselves can give the attack away.
    let map = |f: &dyn Fn(usize) -> usize| {
        let map: Vec<String> = (0..frames).map(|i| f(i).to_string()).collect();
        Tamper::Filter(format!("shuffleframes={}", map.join("|")))
    };
    let sigma = f64::from(rung.height) / 120.0;
    vec![
        (
            "watermark (half-white box, 1/4 x 1/14 of it)",
            Tamper::Filter("drawbox=x=iw/20:y=ih/20:w=iw/4:h=ih/14:color=white@0.5:t=fill".into()),
        ),
        ("h-flip", Tamper::Filter("hflip".into())),
        ("v-flip", Tamper::Filter("vflip".into())),
        (
            "one black frame",
            Tamper::Filter(format!("drawbox=color=black:t=fill:enable='eq(n,{k})'")),
        ),
        ("10 frozen frames", map(&|i| if FROZEN.contains(&i) { FROZEN.start } else { i })),
        (
            "lower rung upscaled (half size)",
            Tamper::Filter(format!(
                "scale=trunc(iw/4)*2:trunc(ih/4)*2,scale={}:{}",
                rung.width, rung.height
            )),
        ),
        (
            "one dropped frame (last doubled)",
            map(&|i| if i < k { i } else { (i + 1).min(frames - 1) }),
        ),
        ("one duplicated frame (last dropped)", map(&|i| if i <= k { i } else { i - 1 })),
        (
            "two frames swapped",
            map(&|i| match i {
                i if i == k => k + 1,
                i if i == k + 1 => k,
                i => i,
            }),
        ),
        ("one dropped frame (one fewer)", Tamper::Filter(format!("select='not(eq(n,{k}))'"))),
        ("another segment", Tamper::NextSegment),
        (
            "heavy blur (gaussian, sigma = height/120)",
            Tamper::Filter(format!("gblur=sigma={sigma:.1}")),
        ),
        ("colour shift (hue +30 degrees)", Tamper::Filter("hue=h=30".into())),
        ("brightness +6%", Tamper::Filter("eq=brightness=0.06".into())),
    ]
}

fn video(args: &BenchVerifyArgs, rng: &mut Draws, rows: &mut Rows, cost: &mut Cost) -> Result<()> {
    let dir = args.out.join("video");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let spec: Vec<RungSpec> = if args.quick {
        vec![RungSpec { height: 360, bitrate: 600_000 }]
    } else {
        protocol::ladder::default_ladder()
    };
    let rungs = protocol::ladder::for_source(&spec, SOURCE_SIZE.0, SOURCE_SIZE.1);
    let sources = if args.quick { &SOURCES[..1] } else { &SOURCES[..] };
    let encoder = &transcoder::encoders::Libx264;

    for (source_index, &(name, graph)) in sources.iter().enumerate() {
        eprintln!("video: {name}: source segments and our ladder ({})...", rung_names(&rungs));
        let mut ours = Vec::new();
        for segment in 0..2 {
            let source = dir.join(format!("{name}-{segment}-source.ts"));
            make_source(&source, graph, segment)?;
            let outputs: Vec<PathBuf> = rungs
                .iter()
                .map(|r| dir.join(format!("{name}-{segment}-ours-{}.ts", r.name)))
                .collect();
            let started = Instant::now();
            transcoder::transcode_segment(&source, &rungs, &outputs, encoder)
                .with_context(|| format!("our transcoder failed on {}", source.display()))?;
            if segment == 0 && source_index == 0 {
                cost.ladder_ms = ms(started.elapsed());
            }
            ours.push((source, outputs));
        }

        for (r, rung) in rungs.iter().enumerate() {
            let reference_path = &ours[0].1[r];
            let reference = FullSegment::read(reference_path)?;
            if source_index == 0 {
                // What a check costs the orchestrator: a real call at one draw of times.
                let times = rng.times(SEGMENT_MS, args.samples);
                let started = Instant::now();
                fingerprint_segment(reference_path, &times)?;
                cost.segment_ms.push((rung.name.clone(), ms(started.elapsed())));
            }
            let mut compare = |kind: &str, honest: bool, path: &Path| -> Result<()> {
                let other = FullSegment::read(path)?;
                for _ in 0..args.draws {
                    let times = rng.times(SEGMENT_MS, args.samples);
                    let (a, b) = (reference.at(&times), other.at(&times));
                    let verdict = compare_segments(&a, &b);
                    let kind = match args.by_source {
                        true => format!("{kind} [{name} {}]", rung.name),
                        false => kind.to_owned(),
                    };
                    rows.add("video", &kind, honest, &verdict, &segment_measures(&a, &b));
                }
                Ok(())
            };

            eprintln!("video: {name} {}: honest renditions and attacks...", rung.name);
            for &(kind, preset, share) in &ALTERNATES {
                let path = dir.join(format!("{name}-0-{preset}-{}.ts", rung.name));
                encode_alternate(&ours[0].0, &path, rung, preset, share)?;
                compare(kind, true, &path)?;
            }
            let frames = reference.fingerprint.frames as usize;
            for (i, (kind, tamper)) in video_attacks(rung, frames).into_iter().enumerate() {
                let path = match tamper {
                    Tamper::NextSegment => ours[1].1[r].clone(),
                    Tamper::Filter(graph) => {
                        let path = dir.join(format!("{name}-0-attack{i}-{}.ts", rung.name));
                        encode_attack(reference_path, &path, rung, &graph)?;
                        path
                    }
                };
                compare(kind, false, &path)?;
            }
        }
    }
    let fingerprints: f64 = cost.segment_ms.iter().map(|(_, t)| t).sum();
    cost.segment_ratio = fingerprints / cost.ladder_ms;
    Ok(())
}

fn rung_names(rungs: &[Rung]) -> String {
    rungs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Each measure's largest value over a segment check's samples, and the sequence difference.
fn segment_measures(a: &SegmentFingerprint, b: &SegmentFingerprint) -> BTreeMap<&'static str, f32> {
    let mut out = BTreeMap::new();
    if let Some(d) = SequenceDistances::between(&a.signatures, &b.signatures) {
        out.extend(d.measures().map(|m| (m.name, m.value)));
    }
    for (p, q) in a.samples.iter().zip(&b.samples) {
        if (p.fingerprint.width, p.fingerprint.height)
            != (q.fingerprint.width, q.fingerprint.height)
        {
            continue;
        }
        for m in FrameDistances::between(&p.fingerprint, &q.fingerprint).video_measures() {
            let kept = out.entry(m.name).or_insert(m.value);
            *kept = kept.max(m.value);
        }
    }
    out
}

fn ffmpeg(args: &[String], what: &str) -> Result<()> {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .context("cannot run ffmpeg: install it (scripts/install-deps.sh does)")?;
    if !output.status.success() {
        bail!("ffmpeg could not make {what}: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Segment `index` (2 s each) of a generated source, H.264 with one keyframe and AAC.
fn make_source(path: &Path, graph: &str, index: u32) -> Result<()> {
    let start = index * SEGMENT_SECONDS;
    let mut args = strings(&["-f", "lavfi", "-i"]);
    args.push(format!("{graph},trim=start={start}:duration={SEGMENT_SECONDS}"));
    args.extend(strings(&["-f", "lavfi", "-i", "sine=f=440:r=48000"]));
    args.extend(strings(&["-t", &SEGMENT_SECONDS.to_string(), "-c:v", "libx264"]));
    args.extend(strings(&[
        "-preset", "veryfast", "-b:v", "8M", "-g", "1000", "-pix_fmt", "yuv420p",
    ]));
    args.extend(strings(&["-c:a", "aac"]));
    args.extend(strings(&["-f", "mpegts", &path.to_string_lossy()]));
    ffmpeg(&args, &format!("the source {}", path.display()))
}

fn x264_args(preset: &str, bitrate: u64) -> Vec<String> {
    let rate = bitrate.to_string();
    let mut args = strings(&["-fps_mode", "passthrough", "-c:v", "libx264", "-preset", preset]);
    args.extend(strings(&["-b:v", &rate, "-maxrate", &rate]));
    args.extend(strings(&["-bufsize", &(bitrate * 2).to_string(), "-g", "600", "-c:a", "copy"]));
    args
}

fn encode_alternate(
    source: &Path,
    out: &Path,
    rung: &Rung,
    preset: &str,
    share: f64,
) -> Result<()> {
    let mut args = strings(&["-i", &source.to_string_lossy(), "-vf"]);
    args.push(format!("scale={}:{}", rung.width, rung.height));
    args.extend(x264_args(preset, (rung.bitrate as f64 * share) as u64));
    args.extend(strings(&["-f", "mpegts", &out.to_string_lossy()]));
    ffmpeg(&args, &format!("the rendition {}", out.display()))
}

/// The attacker's own re-encode of our rendition, filtered, at the rung's bitrate.
fn encode_attack(input: &Path, out: &Path, rung: &Rung, graph: &str) -> Result<()> {
    let mut args = strings(&["-i", &input.to_string_lossy(), "-vf", graph]);
    args.extend(x264_args("veryfast", rung.bitrate));
    args.extend(strings(&["-f", "mpegts", &out.to_string_lossy()]));
    ffmpeg(&args, &format!("the tampered rendition {}", out.display()))
}

// ---------------------------------------------------------------------------------------------
// Renders

fn renders(args: &BenchVerifyArgs, rows: &mut Rows, cost: &mut Cost) -> Result<()> {
    let glb = samples::cornell_box_animated();
    let asset = renderer::SceneAsset::from_bytes(&glb, &renderer::Limits::default())
        .context("loading the sample Cornell box")?;
    let frames = if args.quick { &RENDER_FRAMES[..1] } else { &RENDER_FRAMES[..] };
    let settings = protocol::RenderSettings {
        width: RENDER_SIZE.0,
        height: RENDER_SIZE.1,
        max_bounces: RENDER_BOUNCES,
        ..Default::default()
    };
    // Every backend that works here (the Vulkan ones on lavapipe without a
    // GPU); the CPU one makes the reference and the attacks.
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().build()?);
    let (cpu, gpu_backends): (Vec<_>, Vec<_>) = renderer::backend::probe(pool)
        .into_iter()
        .filter_map(|p| p.result.ok())
        .partition(|b| b.name() == "cpu");
    let cpu = cpu.into_iter().next().context("the cpu backend always works")?;
    let render_on = |backend: &dyn renderer::Backend, frame: u32, spp: u32, seed: u64| {
        let scene = asset
            .instantiate(settings.time_of_frame(frame), None)
            .with_context(|| format!("instantiating frame {frame} of the Cornell box"))?;
        let options = renderer::RenderOptions {
            width: settings.width,
            height: settings.height,
            spp,
            max_bounces: settings.max_bounces,
            seed,
            frame,
        };
        backend.render(&scene, &options, &|_| {}).map_err(anyhow::Error::from)
    };
    let render = |frame: u32, spp: u32, seed: u64| render_on(cpu.as_ref(), frame, spp, seed);
    let png = |image: &renderer::Image| fingerprint_image(&image.to_png(), ImageFormat::Png);
    let exr = |image: &renderer::Image| fingerprint_image(&image.to_exr(), ImageFormat::Exr);

    for &frame in frames {
        eprintln!("renders: Cornell box frame {frame}, {}x{}...", RENDER_SIZE.0, RENDER_SIZE.1);
        let started = Instant::now();
        let reference = render(frame, SPP, 1)?;
        cost.render_ms += ms(started.elapsed()) / frames.len() as f64;
        let bytes = reference.to_png();
        let started = Instant::now();
        let reference_fp = fingerprint_image(&bytes, ImageFormat::Png)?;
        cost.frame_ms += ms(started.elapsed()) / frames.len() as f64;

        let half = [render(frame, SPP / 2, 1)?, render(frame, SPP / 2, 2)?];
        let other_seed = render(frame, SPP, 2)?;
        let honest = [
            (format!("another seed, {} spp", SPP / 2), png(&half[0])?, png(&half[1])?),
            (format!("another seed, {SPP} spp"), reference_fp.clone(), png(&other_seed)?),
            (format!("{} against {SPP} spp", SPP / 2), png(&half[0])?, png(&other_seed)?),
            (format!("another seed, {SPP} spp, EXR"), exr(&reference)?, exr(&other_seed)?),
        ];
        for (kind, a, b) in &honest {
            rows.add("render", kind, true, &compare_frames(a, b), &frame_measures(a, b));
        }
        // Another backend (a check may land on a node with another one):
        // the same seed, as a duplicate is, and another seed.
        for backend in &gpu_backends {
            for (seed, which) in [(1, "same seed"), (2, "another seed")] {
                let image = render_on(backend.as_ref(), frame, SPP, seed)?;
                let b = png(&image)?;
                let kind = format!("{} against cpu, {which}, {SPP} spp", backend.name());
                rows.add(
                    "render",
                    &kind,
                    true,
                    &compare_frames(&reference_fp, &b),
                    &frame_measures(&reference_fp, &b),
                );
            }
        }

        let fewer = render(frame, SPP / 16, 2)?;
        let later = render(frame + OTHER_FRAME, SPP, 2)?;
        let attacks = [
            ("another frame (0.5 s later)", later),
            ("1/16 of the samples", fewer),
            ("h-flip", hflip(&other_seed)),
            ("watermark (half-white box, 1/4 x 1/14 of it)", watermark(&other_seed)),
            ("heavy blur (box, radius = height/40, twice)", blur(&other_seed)),
            ("colour shift (channels rotated a quarter)", colour_shift(&other_seed)),
        ];
        for (kind, image) in &attacks {
            let b = png(image)?;
            rows.add(
                "render",
                kind,
                false,
                &compare_frames(&reference_fp, &b),
                &frame_measures(&reference_fp, &b),
            );
        }
    }
    cost.frame_ratio = cost.frame_ms / cost.render_ms;
    Ok(())
}

fn frame_measures(a: &FrameFingerprint, b: &FrameFingerprint) -> BTreeMap<&'static str, f32> {
    FrameDistances::between(a, b).measures().into_iter().map(|m| (m.name, m.value)).collect()
}

fn hflip(image: &renderer::Image) -> renderer::Image {
    let mut out = image.clone();
    for row in out.pixels.chunks_exact_mut(image.width as usize) {
        row.reverse();
    }
    out
}

fn watermark(image: &renderer::Image) -> renderer::Image {
    let (w, h) = (image.width as usize, image.height as usize);
    let mut out = image.clone();
    for y in h / 20..h / 20 + h / 14 {
        for x in w / 20..w / 20 + w / 4 {
            let p = &mut out.pixels[y * w + x];
            // Half white: radiance 1.0 is sRGB 231 after the renderer's tonemap.
            *p = *p * 0.5 + 0.5;
        }
    }
    out
}

/// A box blur of radius height/40, along rows then columns, twice (nearly a Gaussian).
fn blur(image: &renderer::Image) -> renderer::Image {
    let (w, h) = (image.width as usize, image.height as usize);
    let r = (h / 40).max(1);
    let mut out = image.clone();
    for _ in 0..2 {
        for (len, step, lines, line_step) in [(w, 1, h, w), (h, w, w, 1)] {
            let src = out.pixels.clone();
            for line in 0..lines {
                for i in 0..len {
                    let (lo, hi) = (i.saturating_sub(r), (i + r).min(len - 1));
                    let mut sum = src[line * line_step + lo * step];
                    for j in lo + 1..=hi {
                        sum += src[line * line_step + j * step];
                    }
                    out.pixels[line * line_step + i * step] = sum / (hi - lo + 1) as f32;
                }
            }
        }
    }
    out
}

/// Each channel takes a quarter of the next: a hue rotation that keeps the brightness.
fn colour_shift(image: &renderer::Image) -> renderer::Image {
    let mut out = image.clone();
    for p in &mut out.pixels {
        let (r, g, b) = (p.x, p.y, p.z);
        p.x = 0.75 * r + 0.25 * g;
        p.y = 0.75 * g + 0.25 * b;
        p.z = 0.75 * b + 0.25 * r;
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// Printing

/// Width of the first column of the tables.
const KIND: usize = 54;

fn print_report(report: &Report) {
    println!(
        "fingerprint calibration ({}): segments compared at {} random times a check, {} checks a \
         pair; rendered frames {}x{}; seed {}",
        if report.quick { "quick corpus" } else { "full corpus" },
        report.samples_per_check,
        report.draws,
        RENDER_SIZE.0,
        RENDER_SIZE.1,
        report.seed
    );
    let name = |row: &Row| format!("{}: {}", row.media, row.kind);
    println!(
        "\n{:<KIND$} {:>6} {:>14} {:>12} {:>19}",
        "honest pairs", "pairs", "false mismatch", "inconclusive", "false-mismatch rate"
    );
    for row in &report.honest {
        println!(
            "{:<KIND$} {:>6} {:>14} {:>12} {:>18.1}%",
            name(row),
            row.pairs,
            row.mismatch,
            row.inconclusive,
            row.rate * 100.0
        );
    }
    println!(
        "\n{:<KIND$} {:>6} {:>14} {:>12} {:>6} {:>12}",
        "attacks", "pairs", "detected", "inconclusive", "missed", "detection"
    );
    for row in &report.tampered {
        println!(
            "{:<KIND$} {:>6} {:>14} {:>12} {:>6} {:>11.1}%",
            name(row),
            row.pairs,
            row.mismatch,
            row.inconclusive,
            row.matched,
            row.rate * 100.0
        );
    }
    println!(
        "\ntotal: {} false mismatches, {} attacks missed",
        report.false_mismatches, report.missed
    );

    println!(
        "\nmargins: for honest pairs the largest value seen; for attacks, over checks, the \
         smallest of each check's largest (\"-\": not used for that medium)"
    );
    print!("{:<KIND$}", "measure");
    for (_, header) in COLUMNS {
        print!(" {header:>11}");
    }
    print!("\n{:<KIND$}", "limit: match at most / mismatch from");
    for (name, _) in COLUMNS {
        let limit = report.limits[name];
        print!(" {:>11}", format!("{}/{}", limit.match_max, limit.mismatch_min));
    }
    println!();
    for row in report.honest.iter().chain(&report.tampered) {
        print!("{:<KIND$}", name(row));
        for (measure, _) in COLUMNS {
            match row.measures.get(measure) {
                Some(v) => print!(" {v:>11.2}"),
                None => print!(" {:>11}", "-"),
            }
        }
        println!();
    }

    println!("\nwhy (the first check of each attack):");
    for row in &report.tampered {
        if let Some(why) = &row.example {
            let why: String = why.chars().take(160).collect();
            println!("  {}: {why}", name(row));
        }
    }

    let c = &report.cost;
    let per_rung: Vec<String> =
        c.segment_ms.iter().map(|(rung, t)| format!("{rung} {t:.0} ms")).collect();
    println!(
        "\ncost: fingerprinting one rendition at {} times: {}; all rungs {:.0} ms against {:.0} ms \
         for our transcoder to make the ladder: {:.1}%",
        report.samples_per_check,
        per_rung.join(", "),
        c.segment_ms.iter().map(|(_, t)| t).sum::<f64>(),
        c.ladder_ms,
        c.segment_ratio * 100.0
    );
    println!(
        "      fingerprinting a rendered frame (PNG): {:.2} ms against {:.0} ms to render it at \
         {SPP} spp: {:.2}%",
        c.frame_ms,
        c.render_ms,
        c.frame_ratio * 100.0
    );
    println!("({:.0} s in all)", report.seconds);
}
