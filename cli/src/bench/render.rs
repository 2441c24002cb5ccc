//! `mosaic bench render`: our render backends (the CPU path tracer by
//! default, `--backend all` for every one that works here) against Blender's
//! Cycles (on CPU) on the sample Cornell box, same size, samples and bounces.
//!
//! It prints samples per second of each, the ratios to the cpu backend and
//! to Cycles, and the mean linear radiance of every image (EXR against EXR),
//! so a faster render that is also wrong shows up as wrong. A benchmark, not
//! a test: it never fails for being slow.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use protocol::settings::Size;
use renderer::backend::{Backend, Probe};
use renderer::{RenderOptions, Scene};

use crate::output::{Align, Table};

#[derive(Args, Debug)]
pub struct BenchRenderArgs {
    /// Image size, WIDTHxHEIGHT.
    #[arg(long, default_value = "512x512", value_name = "WxH")]
    pub size: Size,
    /// Samples per pixel.
    #[arg(long, default_value_t = 128, value_name = "N")]
    pub spp: u32,
    /// The most bounces a path may take (Cycles: total, diffuse, glossy and
    /// transmission bounces alike).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub bounces: u32,
    /// Blender to compare against (default: `blender` on PATH).
    #[arg(long, value_name = "PATH")]
    pub blender: Option<PathBuf>,
    /// Where the scene, the EXRs and the Blender script are written.
    #[arg(long, default_value = "mosaic-bench", value_name = "DIR")]
    pub out: PathBuf,
    /// The render backend to measure (vulkan-rt, vulkan-compute or cpu), or
    /// all: every one that works here, each against the cpu one.
    #[arg(long, default_value = "cpu", value_name = "NAME|all")]
    pub backend: String,
}

/// One backend's timed render of the scene.
struct Run {
    name: &'static str,
    device: String,
    seconds: f64,
    /// Millions of samples per second.
    rate: f64,
    mean: MeanRadiance,
}

/// What the radiance comparison compares, printed under it. Measured on
/// this scene at 128x128, 64 spp, 8 bounces: with Lambert dielectrics in
/// Cycles and our dielectric specular switched off the means agree within
/// 0.3%; Principled v1's Disney diffuse adds 6.6% and its specular 3.5% more
/// (a white Principled v1 sphere in a white furnace reflects 1.05 of what it
/// receives, ours at most 1.0).
const MODEL_NOTE: &str = "note: Cycles shades the glTF with Blender 3.4's Principled v1 (Disney \
diffuse, specular added on top of it: not energy-conserving, ~1.05 in a white furnace), ours \
with an energy-conserving BSDF, so ours reads about 8% darker here; with Lambert dielectrics \
in both the means agree within 0.5%";

/// The line the Blender script prints with its render time.
const CYCLES_TIME_MARKER: &str = "MOSAIC_CYCLES_RENDER_SECONDS=";

pub fn render(args: &BenchRenderArgs) -> Result<()> {
    let settings = protocol::RenderSettings {
        width: args.size.width,
        height: args.size.height,
        spp: args.spp,
        max_bounces: args.bounces,
        ..Default::default()
    };
    settings.validate()?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the render threads")?;
    let Selection { working: backends, unavailable } =
        select_backends(renderer::backend::probe(Arc::new(pool)), &args.backend)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;

    let glb = samples::cornell_box_still();
    let glb_path = args.out.join("cornell.glb");
    std::fs::write(&glb_path, &glb)
        .with_context(|| format!("cannot write {}", glb_path.display()))?;
    let limits = renderer::Limits::default();
    let asset = renderer::SceneAsset::from_bytes(&glb, &limits)
        .context("loading the sample Cornell box")?;
    let scene = asset.instantiate(0.0, None).context("instantiating the sample Cornell box")?;
    let sky = scene.sky;
    let samples = f64::from(args.size.width) * f64::from(args.size.height) * f64::from(args.spp);

    println!(
        "scene: samples::cornell_box_still ({} triangles), {}, {} spp, {} bounces, {threads} threads",
        asset.summary().triangles,
        args.size,
        args.spp,
        args.bounces
    );
    let options = renderer::RenderOptions {
        width: args.size.width,
        height: args.size.height,
        spp: args.spp,
        max_bounces: args.bounces,
        seed: 0,
        frame: 1,
    };
    let mut runs = Vec::new();
    for backend in &backends {
        match bench_backend(&**backend, &scene, &options, samples, &args.out) {
            Ok(run) => runs.push(run),
            // One backend failing does not hide the others' numbers.
            Err(e) if backends.len() > 1 => println!("{}: render failed: {e:#}", backend.name()),
            Err(e) => return Err(e),
        }
    }
    for (name, reason) in &unavailable {
        println!("{name}: unavailable: {reason}");
    }

    let cycles = match args.blender.clone().or_else(|| find_on_path("blender")) {
        Some(blender) => Some(cycles(&blender, &glb_path, args, [sky.x, sky.y, sky.z], samples)?),
        None => {
            println!(
                "Cycles: blender is not installed (apt-get install blender, or pass --blender \
                 PATH); nothing to compare against"
            );
            None
        }
    };
    if runs.len() > 1 {
        print!("{}", comparison_table(&runs, cycles.as_ref()));
    }
    if let Some(cycles) = &cycles {
        for run in &runs {
            print_against_cycles(run, cycles);
        }
        println!("{MODEL_NOTE}");
    }
    Ok(())
}

/// The backends to measure, and those asked for that do not work here.
struct Selection {
    working: Vec<Arc<dyn Backend>>,
    /// Each with why not.
    unavailable: Vec<(&'static str, String)>,
}

/// The backends `asked` names (one, or `all`) that work here, and the
/// others with why not. Asking for one that does not work is an error.
fn select_backends(probes: Vec<Probe>, asked: &str) -> Result<Selection> {
    if asked == "all" {
        let mut selection = Selection { working: Vec::new(), unavailable: Vec::new() };
        for probe in probes {
            match probe.result {
                Ok(backend) => selection.working.push(backend),
                Err(reason) => selection.unavailable.push((probe.name, reason)),
            }
        }
        return Ok(selection);
    }
    if !renderer::backend::NAMES.contains(&asked) {
        anyhow::bail!(
            "--backend {asked:?} is unknown: choose {} or all",
            renderer::backend::NAMES.join(", ")
        );
    }
    let working =
        renderer::backend::choose(probes, Some(&[asked.to_owned()])).map_err(anyhow::Error::msg)?;
    Ok(Selection { working, unavailable: Vec::new() })
}

/// Renders the scene on `backend`, once untimed at 1 spp (shader and
/// pipeline compilation, first allocations: Cycles' timing leaves scene
/// setup out too), then timed; writes its EXR and measures it.
fn bench_backend(
    backend: &dyn Backend,
    scene: &Scene,
    options: &RenderOptions,
    samples: f64,
    out: &Path,
) -> Result<Run> {
    let name = backend.name();
    let warm_up = RenderOptions { spp: 1, ..*options };
    backend.render(scene, &warm_up, &|_| {}).with_context(|| format!("{name} warm-up render"))?;
    let start = Instant::now();
    let image =
        backend.render(scene, options, &|_| {}).with_context(|| format!("{name} render"))?;
    let seconds = start.elapsed().as_secs_f64();
    // The cpu image keeps the name it always had.
    let file = if name == "cpu" { "mosaic.exr".to_owned() } else { format!("mosaic-{name}.exr") };
    let path = out.join(file);
    std::fs::write(&path, image.to_exr())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mean = exr_mean_radiance(&path)?;
    let run = Run { name, device: backend.device(), seconds, rate: samples / seconds / 1e6, mean };
    println!(
        "{name} ({}): {seconds:.2} s, {:.2} Msamples/s, mean radiance {:.4} ({})",
        run.device,
        run.rate,
        run.mean.mean(),
        path.display()
    );
    Ok(run)
}

/// Cycles' render of the same scene: its time, rate and mean radiance.
fn cycles(
    blender: &Path,
    glb_path: &Path,
    args: &BenchRenderArgs,
    sky: [f32; 3],
    samples: f64,
) -> Result<Run> {
    let cycles_path = args.out.join("cycles.exr");
    let script = args.out.join("cycles.py");
    std::fs::write(&script, CYCLES_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    eprintln!("rendering the same scene with Cycles ({})...", blender.display());
    let seconds = run_cycles(blender, &script, glb_path, &cycles_path, args, sky)?;
    let mean = exr_mean_radiance(&cycles_path)?;
    let run =
        Run { name: "Cycles", device: "CPU".into(), seconds, rate: samples / seconds / 1e6, mean };
    println!(
        "Cycles: {seconds:.2} s, {:.2} Msamples/s, mean radiance {:.4} ({})",
        run.rate,
        run.mean.mean(),
        cycles_path.display()
    );
    Ok(run)
}

/// Every backend side by side: speed and mean radiance against the cpu
/// backend and against Cycles.
fn comparison_table(runs: &[Run], cycles: Option<&Run>) -> String {
    let cpu = runs.iter().find(|r| r.name == "cpu");
    let mut table = Table::new(&[
        ("BACKEND", Align::Left),
        ("DEVICE", Align::Left),
        ("SECONDS", Align::Right),
        ("MSAMPLES/S", Align::Right),
        ("VS CPU", Align::Right),
        ("VS CYCLES", Align::Right),
        ("RADIANCE VS CPU", Align::Right),
        ("RADIANCE VS CYCLES", Align::Right),
    ]);
    let speed = |run: &Run, of: Option<&Run>| {
        of.map_or_else(|| "-".to_owned(), |of| format!("{:.2}x", run.rate / of.rate))
    };
    let radiance = |run: &Run, of: Option<&Run>| {
        of.map_or_else(
            || "-".to_owned(),
            |of| format!("{:+.2}%", relative_difference(run.mean.mean(), of.mean.mean()) * 100.0),
        )
    };
    for run in runs {
        table.row(vec![
            run.name.to_owned(),
            run.device.clone(),
            format!("{:.2}", run.seconds),
            format!("{:.2}", run.rate),
            speed(run, cpu),
            speed(run, cycles),
            radiance(run, cpu),
            radiance(run, cycles),
        ]);
    }
    table.render()
}

/// A backend against Cycles, with the goals: the CPU path tracer should be
/// at least 1.5x as fast, and every backend's mean within 5%.
fn print_against_cycles(run: &Run, cycles: &Run) {
    let name = run.name;
    let ratio = run.rate / cycles.rate;
    let goal = if name != "cpu" {
        String::new()
    } else if ratio >= 1.5 {
        " (goal >= 1.5x: met)".to_owned()
    } else {
        " (goal >= 1.5x: not met)".to_owned()
    };
    println!("speed {name} / Cycles: {ratio:.2}x{goal}");
    let difference = relative_difference(run.mean.mean(), cycles.mean.mean());
    println!(
        "mean radiance {name} vs Cycles: {:+.2}% (goal within 5%: {}); per channel {name} {:.4?} Cycles {:.4?}",
        difference * 100.0,
        if difference.abs() <= 0.05 { "met" } else { "not met" },
        run.mean.rgb,
        cycles.mean.rgb
    );
}

/// Runs Blender headless on the script and returns the render time it
/// measured around the render call (scene loading excluded, as for ours).
fn run_cycles(
    blender: &Path,
    script: &Path,
    glb: &Path,
    out: &Path,
    args: &BenchRenderArgs,
    sky: [f32; 3],
) -> Result<f64> {
    let output = Command::new(blender)
        .args(["-b", "--factory-startup", "--python-exit-code", "1", "--python"])
        .arg(script)
        .arg("--")
        .arg(glb)
        .arg(out)
        .args([
            args.size.width.to_string(),
            args.size.height.to_string(),
            args.spp.to_string(),
            args.bounces.to_string(),
        ])
        .args(sky.map(|c| c.to_string()))
        .output()
        .with_context(|| format!("cannot run {}", blender.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail = |text: &str| {
        text.lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    let seconds = parse_cycles_seconds(&stdout);
    match seconds {
        Some(seconds) if output.status.success() => Ok(seconds),
        _ => anyhow::bail!(
            "Blender did not render the scene ({}):\n{}\n{}",
            output.status,
            tail(&stdout),
            tail(&String::from_utf8_lossy(&output.stderr))
        ),
    }
}

pub fn parse_cycles_seconds(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix(CYCLES_TIME_MARKER))
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The mean linear radiance of an image, per channel.
pub struct MeanRadiance {
    pub rgb: [f64; 3],
}

impl MeanRadiance {
    pub fn mean(&self) -> f64 {
        self.rgb.iter().sum::<f64>() / 3.0
    }
}

/// Decodes an EXR's first RGB(A) layer and averages it; a non-finite pixel
/// is an error, not a number to average.
pub fn exr_mean_radiance(path: &Path) -> Result<MeanRadiance> {
    struct Pixels {
        width: usize,
        rgb: Vec<[f32; 3]>,
    }
    let image = exr::prelude::read_first_rgba_layer_from_file(
        path,
        |resolution, _| Pixels {
            width: resolution.width(),
            rgb: vec![[0.0; 3]; resolution.width() * resolution.height()],
        },
        |pixels: &mut Pixels, position, (r, g, b, _a): (f32, f32, f32, f32)| {
            pixels.rgb[position.y() * pixels.width + position.x()] = [r, g, b];
        },
    )
    .with_context(|| format!("cannot decode {} as an RGB EXR", path.display()))?;
    let pixels = &image.layer_data.channel_data.pixels.rgb;
    mean_of(pixels).with_context(|| format!("{}", path.display()))
}

fn mean_of(pixels: &[[f32; 3]]) -> Result<MeanRadiance> {
    if pixels.is_empty() {
        anyhow::bail!("the image has no pixels");
    }
    let mut sum = [0f64; 3];
    for (i, pixel) in pixels.iter().enumerate() {
        if pixel.iter().any(|c| !c.is_finite()) {
            anyhow::bail!("pixel {i} is not finite: {pixel:?}");
        }
        for (s, c) in sum.iter_mut().zip(pixel) {
            *s += f64::from(*c);
        }
    }
    Ok(MeanRadiance { rgb: sum.map(|s| s / pixels.len() as f64) })
}

fn relative_difference(ours: f64, reference: f64) -> f64 {
    if reference == 0.0 {
        if ours == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (ours - reference) / reference
    }
}

/// Renders the GLB with Cycles on CPU with settings matched to ours:
/// fixed sample count (no adaptive sampling, no denoising, no clamping, no
/// Filter Glossy, no light threshold), a one-pixel box filter, the same
/// bounce limits, our sky as the world colour, a neutral view transform, and
/// a float linear EXR out. Times only the render call.
const CYCLES_SCRIPT: &str = r#"
import sys
import time

# Blender 3.4's glTF importer uses numpy.bool, which numpy 1.24 (Debian 12) removed.
try:
    import numpy
except ImportError:
    sys.exit("Blender's glTF importer needs numpy: apt-get install python3-numpy")
numpy.bool = bool

import bpy

argv = sys.argv[sys.argv.index("--") + 1:]
glb, out = argv[0], argv[1]
width, height, spp, bounces = (int(v) for v in argv[2:6])
sky = [float(v) for v in argv[6:9]]

for obj in list(bpy.data.objects):
    bpy.data.objects.remove(obj, do_unlink=True)
bpy.ops.import_scene.gltf(filepath=glb)

scene = bpy.context.scene
cameras = [obj for obj in scene.objects if obj.type == "CAMERA"]
if not cameras:
    sys.exit("the imported scene has no camera")
scene.camera = cameras[0]

world = scene.world or bpy.data.worlds.new("World")
scene.world = world
world.use_nodes = True
background = world.node_tree.nodes.get("Background")
if background is None:
    background = world.node_tree.nodes.new("ShaderNodeBackground")
    output = world.node_tree.nodes.get("World Output") or world.node_tree.nodes.new("ShaderNodeOutputWorld")
    world.node_tree.links.new(background.outputs[0], output.inputs[0])
background.inputs["Color"].default_value = (sky[0], sky[1], sky[2], 1.0)
background.inputs["Strength"].default_value = 1.0

scene.render.engine = "CYCLES"
cycles = scene.cycles
cycles.device = "CPU"
cycles.samples = spp
cycles.use_adaptive_sampling = False
cycles.use_denoising = False
cycles.max_bounces = bounces
cycles.diffuse_bounces = bounces
cycles.glossy_bounces = bounces
cycles.transmission_bounces = bounces
cycles.sample_clamp_direct = 0.0
cycles.sample_clamp_indirect = 0.0
# "Filter Glossy" (default 1.0) widens glossy lobes after a diffuse bounce: a
# biased firefly filter that, here, hides the caustics the metal box
# reflects and darkens the image by about 3.5%. We do not blur, so neither
# may Cycles.
cycles.blur_glossy = 0.0
# Light threshold (default 0.01) ends weak light samples at random.
cycles.light_sampling_threshold = 0.0
# Our pixel: a box of one pixel, jittered uniformly (Cycles' default is a
# 1.5-pixel Blackman-Harris).
cycles.pixel_filter_type = "BOX"
cycles.filter_width = 1.0
cycles.seed = 0

scene.render.resolution_x = width
scene.render.resolution_y = height
scene.render.resolution_percentage = 100
scene.render.film_transparent = False
scene.view_settings.view_transform = "Standard"
scene.view_settings.look = "None"
scene.view_settings.exposure = 0.0
scene.view_settings.gamma = 1.0
settings = scene.render.image_settings
settings.file_format = "OPEN_EXR"
settings.color_depth = "32"
settings.color_mode = "RGBA"
scene.render.filepath = out

start = time.perf_counter()
bpy.ops.render.render(write_still=False)
seconds = time.perf_counter() - start
bpy.data.images["Render Result"].save_render(out)
print("MOSAIC_CYCLES_RENDER_SECONDS=%.6f" % seconds, flush=True)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycles_time_is_found_among_blenders_chatter() {
        let stdout = "Blender 3.4.1\nRead prefs\nFra:1 Mem:12M | Sample 128/128\nMOSAIC_CYCLES_RENDER_SECONDS=12.500000\nBlender quit\n";
        assert_eq!(parse_cycles_seconds(stdout), Some(12.5));
        assert_eq!(parse_cycles_seconds("Blender quit\n"), None);
        assert_eq!(parse_cycles_seconds("MOSAIC_CYCLES_RENDER_SECONDS=nan\n"), None);
    }

    #[test]
    fn means_average_each_channel_and_refuse_nan() {
        let mean = mean_of(&[[1.0, 0.0, 0.5], [3.0, 0.0, 0.5]]).unwrap();
        assert_eq!(mean.rgb, [2.0, 0.0, 0.5]);
        assert!((mean.mean() - 2.5 / 3.0).abs() < 1e-12);
        assert!(mean_of(&[[f32::NAN, 0.0, 0.0]]).is_err());
        assert!(mean_of(&[]).is_err());
    }

    fn run(name: &'static str, rate: f64, mean: f64) -> Run {
        Run {
            name,
            device: "test".into(),
            seconds: 1.0 / rate,
            rate,
            mean: MeanRadiance { rgb: [mean; 3] },
        }
    }

    #[test]
    fn the_table_compares_every_backend_with_cpu_and_cycles() {
        let runs = [run("cpu", 2.0, 1.0), run("vulkan-rt", 50.0, 1.01)];
        let text = comparison_table(&runs, Some(&run("Cycles", 4.0, 1.1)));
        let gpu = text.lines().find(|l| l.starts_with("vulkan-rt")).unwrap();
        for part in ["25.00x", "12.50x", "+1.00%", "-8.18%"] {
            assert!(gpu.contains(part), "{part} missing from {gpu}");
        }
        let text = comparison_table(&runs, None);
        assert!(text.lines().nth(1).unwrap().contains("1.00x"), "{text}");
    }

    #[test]
    fn backends_are_selected_by_name_or_all() {
        let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap());
        let probes = || {
            vec![
                Probe { name: "vulkan-rt", result: Err("no Vulkan device".into()) },
                Probe {
                    name: "cpu",
                    result: Ok(Arc::new(renderer::backend::CpuBackend::new(pool.clone()))),
                },
            ]
        };
        let all = select_backends(probes(), "all").unwrap();
        assert_eq!(all.working.iter().map(|b| b.name()).collect::<Vec<_>>(), ["cpu"]);
        assert_eq!(all.unavailable, [("vulkan-rt", "no Vulkan device".to_owned())]);
        let err = select_backends(probes(), "vulkan-rt").err().unwrap().to_string();
        assert!(err.contains("no Vulkan device"), "{err}");
        let err = select_backends(probes(), "optix").err().unwrap().to_string();
        assert!(err.contains("vulkan-rt, vulkan-compute, cpu or all"), "{err}");
        assert_eq!(select_backends(probes(), "cpu").unwrap().working.len(), 1);
    }

    #[test]
    fn relative_difference_is_against_the_reference() {
        assert!((relative_difference(1.05, 1.0) - 0.05).abs() < 1e-12);
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
    }

    #[test]
    fn exr_files_decode_to_their_mean() {
        use exr::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flat.exr");
        write_rgba_file(&path, 4, 2, |x, _y| (x as f32, 1.0f32, 0.5f32, 1.0f32)).unwrap();
        let mean = exr_mean_radiance(&path).unwrap();
        assert_eq!(mean.rgb, [1.5, 1.0, 0.5]);
    }
}
