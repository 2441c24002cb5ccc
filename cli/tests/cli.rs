//! The built `mosaic` binary against bad input, with no orchestrator running
//! (every check must happen before any network I/O), and against a small
//! scripted HTTP server that speaks the API contract in `protocol::api`
//! (the real orchestrator is driven by the end-to-end tests in `tests/`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use protocol::api::{FrameState, FrameStatus, JobDetail, JobState, JobSummary, SceneInfo};
use protocol::{ContentId, FrameSpec, JobId, RenderSettings};
use serde_json::{json, Value};

/// Runs `mosaic` in `dir` with no token or URL from the environment.
fn mosaic(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(args)
        .current_dir(dir)
        .env_remove("MOSAIC_URL")
        .env_remove("MOSAIC_TOKEN")
        .env_remove("MOSAIC_TOKEN_FILE")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .expect("the mosaic binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A loopback URL nothing listens on.
fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Submits with `args` after the scene, against no orchestrator, and
/// returns stderr after checking that it failed before reaching the network.
fn refused_submit(dir: &Path, scene: &str, args: &[&str]) -> String {
    let url = closed_url();
    let mut all = vec!["--url", &url, "--token", "t", "render", "submit", scene];
    all.extend_from_slice(args);
    let out = mosaic(dir, &all);
    let err = stderr(&out);
    assert!(!out.status.success(), "mosaic {all:?} succeeded: {err}");
    assert!(!err.contains("cannot reach"), "mosaic {all:?} went to the network: {err}");
    assert!(stdout(&out).is_empty(), "stdout: {}", stdout(&out));
    err
}

fn sample_scene(dir: &Path) -> String {
    let path = dir.join("box.glb");
    std::fs::write(&path, samples::cornell_box_still()).unwrap();
    path.to_string_lossy().into_owned()
}

const GOOD: [&str; 6] = ["--frames", "1-3", "--size", "32x32", "--spp", "1"];

#[test]
fn backwards_and_malformed_frame_specs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let err =
        refused_submit(dir.path(), &scene, &["--frames", "5-1", "--size", "32x32", "--spp", "1"]);
    assert!(err.contains("5-1") && err.contains("backwards"), "{err}");
    let err =
        refused_submit(dir.path(), &scene, &["--frames", "abc", "--size", "32x32", "--spp", "1"]);
    assert!(err.contains("\"abc\"") && err.contains("--frames"), "{err}");
}

#[test]
fn empty_and_huge_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let err = refused_submit(dir.path(), &scene, &["--frames", "1", "--size", "0x0", "--spp", "1"]);
    assert!(err.contains("0x0") && err.contains("no pixels"), "{err}");
    let err = refused_submit(
        dir.path(),
        &scene,
        &["--frames", "1", "--size", "100000x100000", "--spp", "1"],
    );
    assert!(err.contains("100000x100000") && err.contains("too large"), "{err}");
}

#[test]
fn zero_spp_bounces_and_chunk_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let err =
        refused_submit(dir.path(), &scene, &["--frames", "1", "--size", "32x32", "--spp", "0"]);
    assert!(err.contains("spp 0"), "{err}");
    let err = refused_submit(dir.path(), &scene, &[&GOOD[..], &["--bounces", "0"]].concat());
    assert!(err.contains("bounces 0"), "{err}");
    let err = refused_submit(dir.path(), &scene, &[&GOOD[..], &["--chunk", "0"]].concat());
    assert!(err.contains("--chunk 0"), "{err}");
    let err = refused_submit(dir.path(), &scene, &[&GOOD[..], &["--format", "jpg"]].concat());
    assert!(err.contains("jpg"), "{err}");
}

#[test]
fn an_unknown_backend_is_refused_with_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let err = refused_submit(dir.path(), &scene, &[&GOOD[..], &["--backend", "optix"]].concat());
    assert!(err.contains("optix") && err.contains("vulkan-rt, vulkan-compute, cpu"), "{err}");
}

#[test]
fn a_missing_scene_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused_submit(dir.path(), "nowhere/scene.glb", &GOOD);
    assert!(err.contains("nowhere/scene.glb"), "{err}");
}

#[test]
fn a_file_that_is_not_gltf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.glb"), "these are my notes, not a scene\n").unwrap();
    let err = refused_submit(dir.path(), "notes.glb", &GOOD);
    assert!(err.contains("notes.glb") && err.contains("cannot be rendered"), "{err}");
}

#[test]
fn a_truncated_glb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let glb = samples::cornell_box_still();
    std::fs::write(dir.path().join("cut.glb"), &glb[..glb.len() / 2]).unwrap();
    let err = refused_submit(dir.path(), "cut.glb", &GOOD);
    assert!(err.contains("cut.glb") && err.contains("cannot be rendered"), "{err}");
}

#[test]
fn a_gltf_whose_buffer_escapes_its_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scene_dir = dir.path().join("scene");
    std::fs::create_dir(&scene_dir).unwrap();
    // The escaping file exists: the URI must be refused for where it points,
    // not because it is missing.
    std::fs::write(dir.path().join("x.bin"), [0u8; 36]).unwrap();
    let gltf = json!({
        "asset": {"version": "2.0"},
        "buffers": [{"uri": "../x.bin", "byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                        "min": [0, 0, 0], "max": [0, 0, 0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.8, "znear": 0.1}}],
        "nodes": [{"mesh": 0}, {"camera": 0, "translation": [0, 0, 3]}],
        "scenes": [{"nodes": [0, 1]}],
        "scene": 0
    });
    std::fs::write(scene_dir.join("escape.gltf"), gltf.to_string()).unwrap();
    let err = refused_submit(dir.path(), "scene/escape.gltf", &GOOD);
    assert!(err.contains("escape.gltf") && err.contains("../x.bin"), "{err}");
}

#[test]
fn an_unknown_camera_is_refused_with_the_cameras_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let err =
        refused_submit(dir.path(), &scene, &[&GOOD[..], &["--camera", "no such camera"]].concat());
    assert!(err.contains("no such camera"), "{err}");
}

#[test]
fn a_valid_submit_with_no_orchestrator_says_where_it_looked_and_what_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let url = closed_url();
    let out = mosaic(
        dir.path(),
        &[&["--url", &url, "--token", "t", "render", "submit", &scene][..], &GOOD].concat(),
    );
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(&url) && err.contains("mosaic-orchestrator") && err.contains("--url"),
        "{err}"
    );
}

/// One request as the scripted server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

fn json_reply(status: u16, value: Value) -> Reply {
    Reply { status, content_type: "application/json", body: value.to_string().into_bytes() }
}

/// A loopback HTTP/1.1 server answering each request with `route`, one
/// request per connection. Returns its URL and the requests it saw.
fn scripted_server(
    route: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let route = Arc::new(route);
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (route, log) = (route.clone(), log.clone());
            std::thread::spawn(move || serve_one(stream, &*route, &log));
        }
    });
    (url, seen)
}

fn serve_one(stream: TcpStream, route: &dyn Fn(&Seen) -> Reply, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) =
        (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let (mut length, mut authorization) = (0usize, None);
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let seen = Seen { method, path, authorization, body };
    log.lock().unwrap().push(seen.clone());
    let reply = route(&seen);
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
}

fn not_found(seen: &Seen) -> Reply {
    json_reply(404, json!({"error": format!("no route {} {}", seen.method, seen.path)}))
}

#[test]
fn a_refused_token_gets_the_token_hint() {
    let (url, seen) = scripted_server(|_| json_reply(401, json!({"error": "unauthorized"})));
    let dir = tempfile::tempdir().unwrap();
    let out = mosaic(dir.path(), &["--url", &url, "--token", "wrong", "jobs"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("refused the token") && err.contains("HTTP 401"), "{err}");
    assert!(err.contains("--token") && err.contains("admin.token"), "{err}");
    assert_eq!(seen.lock().unwrap()[0].authorization.as_deref(), Some("Bearer wrong"));
}

#[test]
fn the_token_is_read_from_the_orchestrators_default_data_dir() {
    let (url, seen) = scripted_server(|_| json_reply(200, json!([])));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mosaic-data")).unwrap();
    std::fs::write(dir.path().join("mosaic-data/admin.token"), "from-data-dir\n").unwrap();
    let out = mosaic(dir.path(), &["--url", &url, "jobs", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[]");
    assert_eq!(seen.lock().unwrap()[0].authorization.as_deref(), Some("Bearer from-data-dir"));
}

#[test]
fn server_errors_show_the_api_message_and_status() {
    let (url, _) = scripted_server(|_| json_reply(404, json!({"error": "job 99 does not exist"})));
    let dir = tempfile::tempdir().unwrap();
    let out = mosaic(dir.path(), &["--url", &url, "--token", "t", "jobs", "99"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("job 99 does not exist") && err.contains("HTTP 404"), "{err}");
}

fn summary(state: JobState, done: u32, failed: u32) -> JobSummary {
    JobSummary {
        id: JobId(5),
        name: "box.glb".into(),
        state,
        frames_total: 3,
        frames_done: done,
        frames_failed: failed,
        created_at: 1_700_000_000,
        finished_at: state.is_final().then_some(1_700_000_060),
        priority: 0,
        waiting: None,
    }
}

fn frame_bytes(frame: u32) -> Vec<u8> {
    format!("png bytes of frame {frame}").into_bytes()
}

fn detail(state: JobState, frames: &[(u32, FrameState)], video: Option<&[u8]>) -> JobDetail {
    let done = frames.iter().filter(|f| f.1 == FrameState::Done).count() as u32;
    let failed = frames.iter().filter(|f| f.1 == FrameState::Failed).count() as u32;
    JobDetail {
        summary: summary(state, done, failed),
        scene: ContentId::of(b"scene"),
        frame_spec: FrameSpec::parse("1-3").unwrap(),
        settings: RenderSettings { width: 32, height: 32, spp: 1, ..Default::default() },
        chunk: 1,
        frames: frames
            .iter()
            .map(|&(frame, state)| FrameStatus {
                frame,
                state,
                worker: Some("12D3KooWWorkerPeerId0001".into()),
                cid: (state == FrameState::Done).then(|| ContentId::of(&frame_bytes(frame))),
                error: (state == FrameState::Failed).then(|| "all black".to_owned()),
                attempts: 1,
            })
            .collect(),
        video: video.map(ContentId::of),
        error: (state == JobState::Failed).then(|| "frame 3 failed: all black".to_owned()),
    }
}

fn submit_route(
    events: &'static str,
    last: JobDetail,
) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/api/scenes") => json_reply(
            200,
            serde_json::to_value(SceneInfo {
                cid: ContentId::of(&seen.body),
                bytes: seen.body.len() as u64,
                triangles: 12,
                cameras: vec!["Camera".into()],
                lights: 1,
                animation_seconds: 0.0,
            })
            .unwrap(),
        ),
        ("POST", "/api/jobs") => json_reply(200, json!({"job": 5})),
        ("GET", "/api/jobs/5/events") => Reply {
            status: 200,
            content_type: "text/event-stream",
            body: events.as_bytes().to_vec(),
        },
        ("GET", "/api/jobs/5") => json_reply(200, serde_json::to_value(&last).unwrap()),
        _ => not_found(seen),
    }
}

fn sse(summaries: &[JobSummary]) -> &'static str {
    let text: String = summaries
        .iter()
        .map(|s| format!(": keep-alive\n\ndata: {}\n\n", serde_json::to_string(s).unwrap()))
        .collect();
    Box::leak(text.into_boxed_str())
}

#[test]
fn submit_uploads_creates_the_job_follows_it_and_prints_one_json_object() {
    let events = sse(&[
        summary(JobState::Queued, 0, 0),
        summary(JobState::Running, 2, 0),
        summary(JobState::Completed, 3, 0),
    ]);
    let done = [(1, FrameState::Done), (2, FrameState::Done), (3, FrameState::Done)];
    let (url, seen) =
        scripted_server(submit_route(events, detail(JobState::Completed, &done, None)));
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let out = mosaic(
        dir.path(),
        &[
            &[
                "--url",
                &url,
                "--token",
                "t",
                "render",
                "submit",
                &scene,
                "--json",
                "--fps",
                "12",
                "--backend",
                "cpu",
            ][..],
            &GOOD,
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value: Value = serde_json::from_str(stdout(&out).trim()).expect("exactly one JSON object");
    assert_eq!(value["job"], 5);
    assert_eq!(value["state"], "completed");
    assert_eq!(value["frames_done"], 3);

    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].path, "/api/scenes");
    assert_eq!(
        seen[0].body,
        std::fs::read(&scene).unwrap(),
        "a self-contained .glb uploads as it is"
    );
    let request: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(request["name"], "box.glb");
    assert_eq!(request["frames"], "1-3");
    assert_eq!(request["settings"]["fps"], 12.0);
    assert_eq!(request["settings"]["backend"], "cpu");
    assert_eq!(request["scene"], ContentId::of(&seen[0].body).to_hex());
}

#[test]
fn submit_detached_prints_only_the_job_and_its_state() {
    let done = [(1, FrameState::Queued), (2, FrameState::Queued), (3, FrameState::Queued)];
    let (url, seen) = scripted_server(submit_route("", detail(JobState::Queued, &done, None)));
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let out = mosaic(
        dir.path(),
        &[
            &["--url", &url, "--token", "t", "render", "submit", &scene, "--detach", "--json"][..],
            &GOOD,
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let value: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(value, json!({"job": 5, "state": "queued"}));
    assert!(seen.lock().unwrap().iter().all(|s| !s.path.ends_with("/events")));
}

#[test]
fn submit_polls_when_the_stream_drops_and_a_failed_job_exits_non_zero_with_its_error() {
    // The stream ends while the job still runs: the CLI polls the job.
    let events = sse(&[summary(JobState::Running, 1, 0)]);
    let frames = [(1, FrameState::Done), (2, FrameState::Done), (3, FrameState::Failed)];
    let (url, seen) =
        scripted_server(submit_route(events, detail(JobState::Failed, &frames, None)));
    let dir = tempfile::tempdir().unwrap();
    let scene = sample_scene(dir.path());
    let out = mosaic(
        dir.path(),
        &[&["--url", &url, "--token", "t", "render", "submit", &scene][..], &GOOD].concat(),
    );
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert_eq!(stdout(&out).trim(), "5", "the job id on stdout");
    assert!(err.contains("failed") && err.contains("all black"), "{err}");
    assert!(seen.lock().unwrap().iter().any(|s| s.path == "/api/jobs/5"));
}

fn fetch_route(
    job: JobDetail,
    video: Option<Vec<u8>>,
    corrupt: bool,
) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| {
        let path = seen.path.as_str();
        if path == "/api/jobs/5" {
            return json_reply(200, serde_json::to_value(&job).unwrap());
        }
        if let Some(frame) = path.strip_prefix("/api/jobs/5/frames/") {
            let mut body = frame_bytes(frame.parse().unwrap());
            if corrupt {
                body.push(b'!');
            }
            return Reply { status: 200, content_type: "image/png", body };
        }
        match (path, &video) {
            ("/api/jobs/5/video", Some(video)) => {
                Reply { status: 200, content_type: "video/mp4", body: video.clone() }
            }
            _ => not_found(seen),
        }
    }
}

#[test]
fn fetch_writes_verified_frames_resumes_and_names_what_is_missing() {
    let frames = [(1, FrameState::Done), (2, FrameState::Done), (3, FrameState::Failed)];
    let (url, seen) =
        scripted_server(fetch_route(detail(JobState::Failed, &frames, None), None, false));
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        mosaic(dir.path(), &["--url", &url, "--token", "t", "fetch", "5", "--out", "out", "--json"])
    };

    let out = run();
    assert!(!out.status.success(), "frame 3 is missing: {}", stderr(&out));
    let value: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(value["job"], 5);
    assert_eq!(value["missing"], json!([3]));
    assert_eq!(value["video"], Value::Null);
    assert_eq!(value["frames"].as_array().unwrap().len(), 2);
    for frame in [1, 2] {
        let bytes = std::fs::read(dir.path().join(format!("out/000{frame}.png"))).unwrap();
        assert_eq!(bytes, frame_bytes(frame));
    }
    let frame_requests = |seen: &Arc<Mutex<Vec<Seen>>>| {
        seen.lock().unwrap().iter().filter(|s| s.path.contains("/frames/")).count()
    };
    assert_eq!(frame_requests(&seen), 2);

    // A second run fetches only what is not there with the right content.
    std::fs::write(dir.path().join("out/0002.png"), b"damaged").unwrap();
    let out = run();
    assert!(!out.status.success());
    assert_eq!(frame_requests(&seen), 3, "only frame 2 is fetched again");
    assert_eq!(std::fs::read(dir.path().join("out/0002.png")).unwrap(), frame_bytes(2));

    // Human output names the missing frame and why.
    let out = mosaic(dir.path(), &["--url", &url, "--token", "t", "fetch", "5", "--out", "out"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("frames 3") && err.contains("failed"), "{err}");
}

#[test]
fn fetch_of_a_completed_job_gets_every_frame_and_the_video() {
    let video = b"an mp4".to_vec();
    let frames = [(1, FrameState::Done), (2, FrameState::Done), (3, FrameState::Done)];
    let job = detail(JobState::Completed, &frames, Some(&video));
    let (url, _) = scripted_server(fetch_route(job, Some(video.clone()), false));
    let dir = tempfile::tempdir().unwrap();
    let out = mosaic(dir.path(), &["--url", &url, "--token", "t", "fetch", "5", "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("out/video.mp4")).unwrap(), video);
    assert!(dir.path().join("out/0003.png").is_file());
    assert!(stdout(&out).contains("video.mp4"), "{}", stdout(&out));
}

#[test]
fn fetch_refuses_bytes_that_do_not_match_the_listed_content_id() {
    let frames = [(1, FrameState::Done), (2, FrameState::Done), (3, FrameState::Done)];
    let (url, _) =
        scripted_server(fetch_route(detail(JobState::Completed, &frames, None), None, true));
    let dir = tempfile::tempdir().unwrap();
    let out = mosaic(dir.path(), &["--url", &url, "--token", "t", "fetch", "5", "--out", "out"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("frame 1") && err.contains("content id"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().collect();
    assert!(left.is_empty(), "nothing half-written is left: {left:?}");
}
