//! A GPU that does not finish its work in time is an error with a message,
//! never a hang, and the backend refuses work from then on. (Its own test
//! binary: the timeout is set through the environment, for the process.)

use std::sync::Arc;

use mosaic_renderer::backend::{self, RenderError};
use mosaic_renderer::{RenderOptions, SceneAsset};

#[test]
fn a_pass_that_overruns_its_timeout_fails_the_render_and_the_backend() {
    // 1 ms: no pass of this frame finishes in time on any device.
    std::env::set_var("MOSAIC_GPU_TIMEOUT_MS", "1");
    let pool = Arc::new(rayon::ThreadPoolBuilder::new().build().unwrap());
    let asset =
        SceneAsset::from_bytes(&samples::cornell_box_still(), &mosaic_renderer::Limits::default())
            .unwrap();
    let scene = asset.instantiate(0.0, None).unwrap();
    let opts =
        RenderOptions { width: 320, height: 240, spp: 256, max_bounces: 8, seed: 1, frame: 0 };
    let skip_vulkan = std::env::var("MOSAIC_SKIP_VULKAN").is_ok_and(|v| v == "1");
    for probe in backend::probe(pool) {
        if probe.name == "cpu" {
            continue;
        }
        let b = match probe.result {
            Ok(b) => b,
            Err(reason) if skip_vulkan => {
                eprintln!("skipping {}: {reason}", probe.name);
                continue;
            }
            Err(reason) => panic!("{} does not work here: {reason}", probe.name),
        };
        let err = b.render(&scene, &opts, &|_| {}).expect_err("a 1 ms timeout cannot be met");
        assert!(err.is_device_failure(), "{err}");
        assert!(err.to_string().contains("did not finish"), "{err}");
        let again = b.render(&scene, &opts, &|_| {}).expect_err("the backend is failed now");
        assert!(
            matches!(&again, RenderError::Device { message, .. } if message.contains("failed earlier")),
            "{again}"
        );
    }
}
