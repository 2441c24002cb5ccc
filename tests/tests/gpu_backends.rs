//! The Vulkan render backends end to end: real workers that announce them,
//! the CLI asking for one, the farm sending the job only where it can run.
//! Without a GPU the Vulkan backends run on Mesa's lavapipe (Mesa 25, which
//! `make test` installs, has ray tracing there).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mosaic_e2e::*;
use renderer::backend::Backend;

const JOB_TIMEOUT: Duration = Duration::from_secs(300);

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn list_backends_names_each_backend_and_why_one_is_missing() {
    let out = Command::new(&binaries().worker).arg("--list-backends").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["vulkan-rt", "vulkan-compute", "cpu"] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{text}"));
        assert!(line.contains("works"), "{name} should work here (lavapipe): {line}");
    }
    // Without a Vulkan driver the reason is given, not a crash.
    let out = Command::new(&binaries().worker)
        .arg("--list-backends")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let rt = text.lines().find(|l| l.starts_with("vulkan-rt")).unwrap();
    assert!(rt.contains("unavailable") && rt.contains("no Vulkan driver"), "{rt}");
    assert!(text.lines().any(|l| l.starts_with("cpu") && l.contains("works")), "{text}");
}

#[test]
fn a_vulkan_rt_job_renders_only_on_the_worker_that_has_it() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let cpu =
        Worker::start_with_args(&orchestrator, &tmp.path().join("cpu"), &["--backends", "cpu"]);
    let rt = Worker::start_with_args(
        &orchestrator,
        &tmp.path().join("rt"),
        &["--backends", "vulkan-rt"],
    );
    let cli = orchestrator.cli();
    cli.wait_workers(2, Duration::from_secs(60));
    let rt_log = wait_for("the rt worker's backends in its log", Duration::from_secs(30), || {
        let log = rt.process.log_text();
        log.contains("llvmpipe").then_some(log)
    });
    assert!(rt_log.contains("vulkan-rt"), "{rt_log}");

    let scene = sample_scene(tmp.path());
    let done = cli.json(&[
        "render",
        "submit",
        path(&scene),
        "--frames",
        "1-3",
        "--size",
        "96x54",
        "--spp",
        "16",
        "--backend",
        "vulkan-rt",
        "--json",
    ]);
    assert_eq!(done["state"], "completed", "{done}");
    let job = done["job"].as_i64().unwrap();
    let detail = cli.wait_job(job, JOB_TIMEOUT);
    let rt_peer = rt.peer_id();
    for frame in detail["frames"].as_array().unwrap() {
        assert_eq!(frame["worker"].as_str(), Some(rt_peer.as_str()), "{frame}");
    }
    assert!(!cpu.process.log_text().contains("frame rendered"), "the cpu worker rendered");

    // The frames are the vulkan-rt backend's: what it gives here for the
    // same scene and settings, and close to the CPU backend's.
    let out = tmp.path().join("frames");
    cli.ok(&["fetch", &job.to_string(), "--out", path(&out)]);
    let asset =
        renderer::SceneAsset::from_bytes(&fs::read(&scene).unwrap(), &renderer::Limits::default())
            .unwrap();
    let settings = protocol::RenderSettings {
        width: 96,
        height: 54,
        spp: 16,
        backend: Some("vulkan-rt".into()),
        ..Default::default()
    };
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().build().unwrap());
    let probes = renderer::backend::probe(pool);
    let backend = |name: &str| {
        probes.iter().find(|p| p.name == name).unwrap().result.as_ref().unwrap().clone()
    };
    // As the worker renders and encodes a frame.
    let here = |b: &dyn Backend, frame: u32| {
        mosaic_worker::runner::render_frame(&asset, &settings, frame, b).unwrap()
    };
    for frame in 1..=3u32 {
        let fetched = fs::read(out.join(format!("{frame:04}.png"))).unwrap();
        assert_eq!(fetched, here(backend("vulkan-rt").as_ref(), frame), "frame {frame}");
        let cpu_png = here(backend("cpu").as_ref(), frame);
        let verdict = proofs::fingerprint::compare_frames(
            &proofs::fingerprint::fingerprint_image(&fetched, protocol::ImageFormat::Png).unwrap(),
            &proofs::fingerprint::fingerprint_image(&cpu_png, protocol::ImageFormat::Png).unwrap(),
        );
        assert_eq!(verdict, proofs::fingerprint::Verdict::Match, "frame {frame}");
    }
}

#[test]
fn a_job_for_a_backend_no_worker_has_waits_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let _cpu =
        Worker::start_with_args(&orchestrator, &tmp.path().join("cpu"), &["--backends", "cpu"]);
    let cli = orchestrator.cli();
    let scene = sample_scene(tmp.path());
    let out = cli.json(&[
        "render",
        "submit",
        path(&scene),
        "--frames",
        "1",
        "--size",
        "32x18",
        "--spp",
        "1",
        "--backend",
        "vulkan-compute",
        "--detach",
        "--json",
    ]);
    let job = out["job"].as_i64().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let detail = cli.job(job);
    assert_eq!(detail["frames"][0]["state"], "queued", "{detail}");
    let waiting = detail["waiting"].as_str().unwrap_or_default();
    assert!(waiting.contains("vulkan-compute"), "the job says why it waits: {detail}");
    let text = cli.ok(&["jobs", &job.to_string()]);
    assert!(text.contains("no connected worker has render backend vulkan-compute"), "{text}");
    // An unknown backend is refused at submission with the valid names.
    let refused = cli.run(&[
        "render",
        "submit",
        path(&scene),
        "--frames",
        "1",
        "--backend",
        "optix",
        "--detach",
    ]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("vulkan-rt") && err.contains("cpu"), "{err}");
}
