//! The render farm end to end: a real orchestrator, real workers over
//! libp2p, the real `mosaic` CLI, ffprobe checking the MP4.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::Duration;

use mosaic_e2e::*;
use serde_json::Value;

const JOB_TIMEOUT: Duration = Duration::from_secs(300);

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Waits until `n` workers are connected, so work spreads across them.
fn wait_workers(cli: &Cli, n: usize) {
    cli.wait_workers(n, Duration::from_secs(60));
}

fn frames_of(detail: &Value) -> BTreeMap<u64, Value> {
    detail["frames"]
        .as_array()
        .expect("frames in job detail")
        .iter()
        .map(|f| (f["frame"].as_u64().unwrap(), f.clone()))
        .collect()
}

fn submit_detached(cli: &Cli, scene: &Path, frames: &str, size: &str, spp: &str) -> i64 {
    let out = cli.json(&[
        "render",
        "submit",
        path(scene),
        "--frames",
        frames,
        "--size",
        size,
        "--spp",
        spp,
        "--detach",
        "--json",
    ]);
    out["job"].as_i64().unwrap_or_else(|| panic!("no job id in {out}"))
}

#[test]
fn six_frames_render_across_two_workers_and_fetch_as_pngs_and_mp4() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let _w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let _w2 = Worker::start(&orchestrator, &tmp.path().join("w2"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 2);
    let scene = sample_scene(tmp.path());

    let done = cli.json(&[
        "render",
        "submit",
        path(&scene),
        "--frames",
        "1-6",
        "--size",
        "96x54",
        "--spp",
        "16",
        "--json",
    ]);
    assert_eq!(done["state"], "completed", "{done}");
    let job = done["job"].as_i64().unwrap();

    let detail = cli.job(job);
    let frames = frames_of(&detail);
    assert_eq!(frames.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let workers: BTreeSet<String> =
        frames.values().map(|f| f["worker"].as_str().unwrap().to_owned()).collect();
    assert_eq!(workers.len(), 2, "both workers should have rendered frames: {detail}");

    let out = tmp.path().join("out");
    cli.ok(&["fetch", &job.to_string(), "--out", path(&out)]);
    let png = |n: u32| out.join(format!("{n:04}.png"));
    for n in 1..=6 {
        assert_eq!(png_size(&png(n)), (96, 54), "frame {n}");
    }
    // The box and the camera move: the first and last frames differ.
    assert_ne!(fs::read(png(1)).unwrap(), fs::read(png(6)).unwrap());

    let (codec, count, pix_fmt) = probe_video(&out.join("video.mp4"));
    assert_eq!((codec.as_str(), count, pix_fmt.as_str()), ("h264", 6, "yuv420p"));

    // The same frame rendered again, as its own job, is byte-identical.
    let again = submit_detached(&cli, &scene, "3", "96x54", "16");
    assert_eq!(cli.wait_job(again, JOB_TIMEOUT)["state"], "completed");
    let out2 = tmp.path().join("again");
    cli.ok(&["fetch", &again.to_string(), "--out", path(&out2)]);
    assert_eq!(fs::read(out2.join("0003.png")).unwrap(), fs::read(png(3)).unwrap());
}

#[test]
fn worker_killed_mid_job_loses_its_task_and_the_job_still_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let mut w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let _w2 = Worker::start(&orchestrator, &tmp.path().join("w2"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 2);
    let scene = sample_scene(tmp.path());

    let job = submit_detached(&cli, &scene, "1-8", "160x90", "64");
    // Wait until worker 1 holds a frame, then kill it without warning.
    let held = wait_for("worker 1 to be rendering", JOB_TIMEOUT, || {
        let log = w1.process.log_text();
        frames_of(&cli.job(job)).into_iter().find_map(|(n, f)| {
            let peer = f["worker"].as_str()?;
            (f["state"] == "rendering" && log.contains(peer)).then_some(n)
        })
    });
    w1.process.kill();

    let detail = cli.wait_job(job, JOB_TIMEOUT);
    assert_eq!(detail["state"], "completed", "{detail}");
    let frames = frames_of(&detail);
    assert!(frames.values().all(|f| f["state"] == "done"), "{detail}");
    assert!(frames[&held]["attempts"].as_u64().unwrap() >= 2, "frame {held} was requeued");
}

#[test]
fn orchestrator_killed_mid_job_resumes_without_rerendering_finished_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("orchestrator");
    let mut orchestrator = Orchestrator::start(&dir);
    let _w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let _w2 = Worker::start(&orchestrator, &tmp.path().join("w2"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 2);
    let scene = sample_scene(tmp.path());

    let job = submit_detached(&cli, &scene, "1-10", "160x90", "48");
    let finished = wait_for("two finished frames", JOB_TIMEOUT, || {
        let done: BTreeMap<u64, Value> =
            frames_of(&cli.job(job)).into_iter().filter(|(_, f)| f["state"] == "done").collect();
        (done.len() >= 2).then_some(done)
    });

    // Kill it hard and bring it back on the same p2p address and data dir:
    // the workers reconnect by themselves.
    let listen = orchestrator.p2p_listen();
    orchestrator.process.kill();
    let orchestrator = Orchestrator::start_on(&dir, &listen);
    let cli = orchestrator.cli();

    let detail = cli.wait_job(job, JOB_TIMEOUT);
    assert_eq!(detail["state"], "completed", "{detail}");
    let frames = frames_of(&detail);
    for (n, before) in &finished {
        let after = &frames[n];
        assert_eq!(after["cid"], before["cid"], "frame {n} changed");
        assert_eq!(after["worker"], before["worker"], "frame {n} was rendered again");
        assert_eq!(after["attempts"], before["attempts"], "frame {n} was handed out again");
    }
    assert!(frames.values().all(|f| f["state"] == "done"));
}

#[test]
fn bad_uploads_and_tokens_are_refused_while_other_jobs_go_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let _w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 1);
    let scene = sample_scene(tmp.path());
    let job = submit_detached(&cli, &scene, "1-3", "64x36", "8");

    // The orchestrator checks uploads itself, whatever the client did.
    let token = orchestrator.token();
    let scenes = format!("{}/api/scenes", orchestrator.url);
    let (status, body) = http_post(&scenes, &token, b"definitely not a glTF file");
    assert_eq!(status, 400, "{body}");
    let glb = fs::read(&scene).unwrap();
    let (status, body) = http_post(&scenes, &token, &glb[..glb.len() / 2]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("error"), "{body}");

    // No token or a wrong one: 401 and no data.
    let jobs = format!("{}/api/jobs", orchestrator.url);
    let (status, body) = http_get(&jobs, None);
    assert_eq!(status, 401);
    assert!(!String::from_utf8_lossy(&body).contains("cornell"));
    let (status, _) = http_get(&jobs, Some("wrong"));
    assert_eq!(status, 401);
    let out = cli.command().env("MOSAIC_TOKEN", "wrong").args(["jobs"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token"));

    assert!(orchestrator.process.is_running());
    assert_eq!(cli.wait_job(job, JOB_TIMEOUT)["state"], "completed");
}

/// A triangle in front of a camera with no light at all and a black sky:
/// every pixel renders black.
fn black_scene() -> String {
    let mut scene = triangle();
    scene["scenes"][0]["extras"] = serde_json::json!({"mosaic_sky": [0.0, 0.0, 0.0]});
    scene.to_string()
}

#[test]
fn a_frame_that_renders_all_black_fails_with_the_reason_and_is_not_delivered() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let _w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let _w2 = Worker::start(&orchestrator, &tmp.path().join("w2"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 2);
    let scene = tmp.path().join("black.gltf");
    fs::write(&scene, black_scene()).unwrap();

    let job = submit_detached(&cli, &scene, "1", "32x32", "4");
    let detail = cli.wait_job(job, JOB_TIMEOUT);
    assert_eq!(detail["state"], "failed", "{detail}");
    let frame = &frames_of(&detail)[&1];
    assert_eq!(frame["state"], "failed");
    assert!(frame["error"].as_str().unwrap_or_default().contains("black"), "{detail}");

    let out = tmp.path().join("out");
    let fetched = cli.run(&["fetch", &job.to_string(), "--out", path(&out)]);
    assert!(!fetched.status.success());
    assert!(!out.join("0001.png").exists());
}

#[test]
fn exr_jobs_deliver_linear_exr_frames_and_a_tonemapped_video() {
    let tmp = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let _w1 = Worker::start(&orchestrator, &tmp.path().join("w1"));
    let cli = orchestrator.cli();
    wait_workers(&cli, 1);
    let scene = sample_scene(tmp.path());

    let done = cli.json(&[
        "render",
        "submit",
        path(&scene),
        "--frames",
        "1-2",
        "--size",
        "64x36",
        "--spp",
        "8",
        "--format",
        "exr",
        "--json",
    ]);
    assert_eq!(done["state"], "completed", "{done}");
    let out = tmp.path().join("out");
    cli.ok(&["fetch", &done["job"].to_string(), "--out", path(&out)]);
    for n in 1..=2 {
        let exr = fs::read(out.join(format!("{n:04}.exr"))).unwrap();
        assert_eq!(exr[..4], [0x76, 0x2f, 0x31, 0x01], "frame {n} is not OpenEXR");
    }
    let (codec, count, _) = probe_video(&out.join("video.mp4"));
    assert_eq!((codec.as_str(), count), ("h264", 2));
}
