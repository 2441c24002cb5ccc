//! Every backend against the CPU path tracer, on the sample scenes.
//!
//! The Vulkan backends run for real: on a machine without a GPU through
//! Mesa's lavapipe (`make test` installs Mesa 25, whose lavapipe has ray
//! tracing). A Vulkan backend that does not probe is a failure, not a skip,
//! unless MOSAIC_SKIP_VULKAN=1 says this machine is known to lack it.

use std::sync::Arc;

use glam::Vec3;
use mosaic_renderer::backend::{self, Backend};
use mosaic_renderer::scene::{LightKind, PunctualLight};
use mosaic_renderer::{Image, RenderOptions, Scene, SceneAsset};

fn pool() -> Arc<rayon::ThreadPool> {
    Arc::new(rayon::ThreadPoolBuilder::new().build().unwrap())
}

fn backends() -> Vec<Arc<dyn Backend>> {
    let skip_vulkan = std::env::var("MOSAIC_SKIP_VULKAN").is_ok_and(|v| v == "1");
    let mut out = Vec::new();
    for probe in backend::probe(pool()) {
        match probe.result {
            Ok(b) => out.push(b),
            Err(reason) if skip_vulkan => eprintln!("skipping {}: {reason}", probe.name),
            Err(reason) => panic!(
                "{} does not work here: {reason} (run scripts/install-deps.sh, or set \
                 MOSAIC_SKIP_VULKAN=1 on a machine known to lack it)",
                probe.name
            ),
        }
    }
    out
}

fn backend(name: &str) -> Option<Arc<dyn Backend>> {
    backends().into_iter().find(|b| b.name() == name)
}

fn scene(glb: &[u8], time: f32) -> Scene {
    let asset = SceneAsset::from_bytes(glb, &mosaic_renderer::Limits::default()).unwrap();
    asset.instantiate(time, None).unwrap()
}

fn cornell() -> Scene {
    scene(&samples::cornell_box_still(), 0.0)
}

/// The Cornell box with every punctual light kind added and a brighter sky,
/// so the light code paths the sample lacks are compared too.
fn cornell_with_punctual_lights() -> Scene {
    let mut s = cornell();
    s.lights.extend([
        PunctualLight {
            kind: LightKind::Point { position: Vec3::new(-0.5, 1.2, 0.5) },
            color: Vec3::new(1.0, 0.6, 0.3),
            intensity: 1.5,
            range: Some(4.0),
        },
        PunctualLight {
            kind: LightKind::Spot {
                position: Vec3::new(0.6, 1.5, 1.0),
                direction: Vec3::new(-0.3, -1.0, -0.2).normalize(),
                inner_cone_angle: 0.3,
                outer_cone_angle: 0.6,
            },
            color: Vec3::new(0.3, 0.6, 1.0),
            intensity: 3.0,
            range: None,
        },
        PunctualLight {
            kind: LightKind::Directional { direction: Vec3::new(0.2, -1.0, -0.5).normalize() },
            color: Vec3::ONE,
            intensity: 0.5,
            range: None,
        },
    ]);
    s.sky = Vec3::new(0.2, 0.25, 0.3);
    s
}

const REFERENCE_SPP: u32 = 512;

fn options(width: u32, height: u32, spp: u32) -> RenderOptions {
    RenderOptions { width, height, spp, max_bounces: 4, seed: 11, frame: 0 }
}

fn render(b: &dyn Backend, scene: &Scene, opts: &RenderOptions) -> Image {
    b.render(scene, opts, &|_| {}).unwrap_or_else(|e| panic!("{} failed: {e}", b.name()))
}

/// Mean absolute error per channel and PSNR (peak 1) of tonemapped sRGB
/// values, the way a viewer sees the difference.
fn error(a: &Image, b: &Image) -> (f64, f64) {
    let (a, b) = (a.to_srgb8(), b.to_srgb8());
    let n = a.len() as f64;
    let (mut abs, mut sq) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(&b) {
        let d = (f64::from(*x) - f64::from(*y)) / 255.0;
        abs += d.abs();
        sq += d * d;
    }
    let mse = sq / n;
    (abs / n, if mse > 0.0 { -10.0 * mse.log10() } else { f64::INFINITY })
}

#[test]
fn every_backend_renders_the_sample_scenes() {
    let opts = options(48, 36, 8);
    for b in backends() {
        for (name, s) in [
            ("still", cornell()),
            ("animated at 1.5 s", scene(&samples::cornell_box_animated(), 1.5)),
        ] {
            let image = render(b.as_ref(), &s, &opts);
            assert!(!image.has_non_finite(), "{} {name}: non-finite pixels", b.name());
            let mean = image.mean();
            assert!(mean.min_element() > 0.01, "{} {name}: nearly black ({mean})", b.name());
        }
    }
}

#[test]
fn a_frame_is_reproducible_on_each_backend() {
    let s = cornell_with_punctual_lights();
    let opts = options(40, 30, 6);
    for b in backends() {
        let first = render(b.as_ref(), &s, &opts);
        let second = render(b.as_ref(), &s, &opts);
        assert!(first.pixels == second.pixels, "{}: two renders differ", b.name());
        assert_eq!(first.to_png(), second.to_png(), "{}: PNG bytes differ", b.name());
    }
}

#[test]
fn vulkan_backends_agree_with_a_high_spp_cpu_reference() {
    let cpu = backend("cpu").unwrap();
    let width = 128;
    let height = 96;
    let spp = 32;
    for (name, s) in [("cornell", cornell()), ("punctual lights", cornell_with_punctual_lights())] {
        let reference = render(cpu.as_ref(), &s, &options(width, height, REFERENCE_SPP));
        let cpu_image = render(cpu.as_ref(), &s, &options(width, height, spp));
        let (cpu_mae, cpu_psnr) = error(&cpu_image, &reference);
        let cpu_fp = proofs_fingerprint(&cpu_image);
        for b in backends().into_iter().filter(|b| b.name() != "cpu") {
            let image = render(b.as_ref(), &s, &options(width, height, spp));
            let (mae, psnr) = error(&image, &reference);
            let (same_mae, same_psnr) = error(&image, &cpu_image);
            let verdict = proofs::fingerprint::compare_frames(&cpu_fp, &proofs_fingerprint(&image));
            eprintln!(
                "{name}: {} at {spp} spp vs CPU at {REFERENCE_SPP}: MAE {mae:.4} PSNR {psnr:.1} dB \
                 (CPU at {spp}: MAE {cpu_mae:.4} PSNR {cpu_psnr:.1} dB); vs CPU at {spp} \
                 spp, same seed: MAE {same_mae:.4} PSNR {same_psnr:.1} dB; fingerprint {verdict:?}",
                b.name()
            );
            // The same estimator with the same random numbers: its error
            // against the reference is the CPU's, give or take rounding.
            assert!(
                mae <= cpu_mae * 1.15 + 0.002,
                "{name} {}: MAE {mae} vs CPU {cpu_mae}",
                b.name()
            );
            assert!(psnr >= cpu_psnr - 1.0, "{name} {}: PSNR {psnr} vs CPU {cpu_psnr}", b.name());
            // And with the same random numbers most pixels follow the same
            // paths: far closer to the CPU image than to the reference.
            assert!(same_psnr > 30.0, "{name} {}: PSNR {same_psnr} vs the CPU image", b.name());
            assert!(
                matches!(verdict, proofs::fingerprint::Verdict::Match),
                "{name} {}: the verifier would not accept it: {verdict:?}",
                b.name()
            );
        }
    }
}

fn proofs_fingerprint(image: &Image) -> proofs::fingerprint::FrameFingerprint {
    proofs::fingerprint::fingerprint_image(&image.to_png(), proofs_png()).unwrap()
}

fn proofs_png() -> protocol::ImageFormat {
    protocol::ImageFormat::Png
}
