//! A farm of real processes for the end-to-end tests: the orchestrator, the
//! workers and the `mosaic` CLI exactly as a user runs them, on loopback
//! with ephemeral ports, each with its own data dir and log file.
//!
//! Logs are printed when a test fails, since the temp dirs go with it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The three binaries, brought up to date once per test run.
pub struct Binaries {
    pub orchestrator: PathBuf,
    pub worker: PathBuf,
    pub cli: PathBuf,
    /// The cheating worker of the verification tests (src/bin).
    pub cheater: PathBuf,
}

pub fn binaries() -> &'static Binaries {
    static BINS: OnceLock<Binaries> = OnceLock::new();
    BINS.get_or_init(|| {
        // target/<profile>/deps/<test binary> -> target/<profile>
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe.parent().and_then(Path::parent).expect("target dir").to_path_buf();
        let bins = Binaries {
            orchestrator: dir.join("mosaic-orchestrator"),
            worker: dir.join("mosaic-worker"),
            cli: dir.join("mosaic"),
            cheater: dir.join("cheating-worker"),
        };
        // Build them the way `make test` does (same targets, so the same
        // features: a no-op there), so a plain `cargo test` never runs stale
        // binaries.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--workspace", "--all-targets"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of the binaries failed");
        bins
    })
}

/// Polls `check` until it returns `Some`, or panics with `what` after
/// `timeout`. A safety net against hangs, not a measurement.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// A child process that is killed when dropped, with its log file.
pub struct Process {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, cmd: &mut Command, log: PathBuf) -> Process {
        let out = fs::File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = cmd
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Process { name: name.to_owned(), child: Some(child), log }
    }

    /// SIGKILL: no chance to clean up, as when a machine dies.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits for the process to exit by itself; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let name = self.name.clone();
        let child = self.child.as_mut().expect("the process was killed");
        wait_for(&format!("{name} to exit"), timeout, || child.try_wait().unwrap())
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("the process was killed");
        let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} {pid}");
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!("----- log of {} -----\n{}", self.name, self.log_text());
        }
    }
}

/// Test settings: short leases so a killed worker's task comes back soon;
/// no stake needed and no spot checks, which the verification tests
/// (tests/verify.rs) switch back on.
pub const TEST_CONFIG: &str =
    "lease_seconds = 3\nmin_stake = 0.0\nspot_check_rate = 0.0\nspot_check_warmup = 0\n";

pub struct Orchestrator {
    pub process: Process,
    pub dir: PathBuf,
    pub url: String,
    pub p2p: String,
    /// `rtmp://127.0.0.1:PORT`
    pub rtmp: String,
}

impl Orchestrator {
    /// Starts an orchestrator on ephemeral loopback ports with its data in `dir`.
    pub fn start(dir: &Path) -> Orchestrator {
        Self::start_on(dir, "/ip4/127.0.0.1/tcp/0")
    }

    /// Starts (or restarts, keeping `dir`) an orchestrator listening on `p2p`.
    pub fn start_on(dir: &Path, p2p: &str) -> Orchestrator {
        Self::start_with(dir, p2p, "")
    }

    /// Starts an orchestrator with more config lines than [`TEST_CONFIG`].
    pub fn start_with_config(dir: &Path, config: &str) -> Orchestrator {
        Self::start_with(dir, "/ip4/127.0.0.1/tcp/0", config)
    }

    fn start_with(dir: &Path, p2p: &str, extra_config: &str) -> Orchestrator {
        Self::start_exactly(dir, p2p, &format!("{TEST_CONFIG}{extra_config}"))
    }

    /// Starts (or restarts, keeping `dir`) an orchestrator with exactly
    /// `config`, listening on `p2p`.
    pub fn start_exactly(dir: &Path, p2p: &str, config_text: &str) -> Orchestrator {
        fs::create_dir_all(dir).unwrap();
        for stale in ["http.addr", "p2p.addr", "rtmp.addr"] {
            let _ = fs::remove_file(dir.join(stale));
        }
        let config = dir.join("test.toml");
        fs::write(&config, config_text).unwrap();
        let n = fs::read_dir(dir).unwrap().count();
        let process = Process::spawn(
            "orchestrator",
            Command::new(&binaries().orchestrator)
                .arg("--config")
                .arg(&config)
                .arg("--data-dir")
                .arg(dir)
                .args(["--http", "127.0.0.1:0", "--p2p", p2p, "--rtmp", "127.0.0.1:0"]),
            dir.with_extension(format!("{n}.log")),
        );
        let read = |name: &str| {
            let path = dir.join(name);
            wait_for(name, Duration::from_secs(30), || {
                fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
            })
        };
        let http = read("http.addr");
        let p2p = read("p2p.addr");
        let rtmp = format!("rtmp://{}", read("rtmp.addr"));
        Orchestrator { process, dir: dir.to_owned(), url: format!("http://{http}"), p2p, rtmp }
    }

    pub fn token_file(&self) -> PathBuf {
        self.dir.join("admin.token")
    }

    pub fn token(&self) -> String {
        fs::read_to_string(self.token_file()).unwrap().trim().to_owned()
    }

    /// The TCP part of the p2p address, to restart on the same port.
    pub fn p2p_listen(&self) -> String {
        self.p2p.split("/p2p/").next().unwrap().to_owned()
    }

    pub fn cli(&self) -> Cli {
        Cli { url: self.url.clone(), token_file: self.token_file() }
    }
}

pub struct Worker {
    pub process: Process,
    pub dir: PathBuf,
}

impl Worker {
    pub fn start(orchestrator: &Orchestrator, dir: &Path) -> Worker {
        Self::start_with_args(orchestrator, dir, &[])
    }

    /// A worker with more arguments, e.g. `--backends vulkan-rt`.
    pub fn start_with_args(orchestrator: &Orchestrator, dir: &Path, args: &[&str]) -> Worker {
        fs::create_dir_all(dir).unwrap();
        let process = Process::spawn(
            &format!("worker {}", dir.display()),
            Command::new(&binaries().worker)
                .args(["--orchestrator", &orchestrator.p2p, "--threads", "1"])
                .args(args)
                .arg("--data-dir")
                .arg(dir),
            dir.with_extension("log"),
        );
        Worker { process, dir: dir.to_owned() }
    }

    /// The cheating worker: the real protocol, tampering with a `share` of
    /// its tasks (see src/bin/cheating-worker.rs).
    pub fn start_cheater(orchestrator: &Orchestrator, dir: &Path, share: f64) -> Worker {
        fs::create_dir_all(dir).unwrap();
        let process = Process::spawn(
            &format!("cheating worker {}", dir.display()),
            Command::new(&binaries().cheater)
                .args(["--orchestrator", &orchestrator.p2p, "--threads", "1"])
                .args(["--share", &share.to_string(), "--data-dir"])
                .arg(dir),
            dir.with_extension("log"),
        );
        Worker { process, dir: dir.to_owned() }
    }

    /// The peer id the worker logs at start.
    pub fn peer_id(&self) -> String {
        wait_for("the worker's peer id", Duration::from_secs(30), || {
            let log = self.process.log_text();
            let line = log.lines().find(|l| l.contains("starting"))?;
            let at = line.find(" peer=")? + " peer=".len();
            let id: String = line[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            (id.len() > 40).then_some(id)
        })
    }
}

/// The `mosaic` CLI pointed at one orchestrator.
pub struct Cli {
    pub url: String,
    pub token_file: PathBuf,
}

impl Cli {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&binaries().cli);
        cmd.env("MOSAIC_URL", &self.url)
            .env("MOSAIC_TOKEN_FILE", &self.token_file)
            .env_remove("MOSAIC_TOKEN")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run mosaic")
    }

    /// Waits up to `timeout` until `n` workers are connected.
    pub fn wait_workers(&self, n: usize, timeout: Duration) {
        wait_for(&format!("{n} connected workers"), timeout, || {
            let workers = self.json(&["workers", "--json"]);
            let connected = workers.as_array()?.iter().filter(|w| w["connected"] == true).count();
            (connected >= n).then_some(())
        });
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mosaic {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("mosaic {args:?}: {e}: {text}"))
    }

    pub fn job(&self, job: i64) -> Value {
        self.json(&["jobs", &job.to_string(), "--json"])
    }

    /// Waits until the job reaches a final state and returns its detail.
    pub fn wait_job(&self, job: i64, timeout: Duration) -> Value {
        wait_for(&format!("job {job} to end"), timeout, || {
            let detail = self.job(job);
            let state = detail["state"].as_str().unwrap_or_default().to_owned();
            ["completed", "failed", "cancelled"].contains(&state.as_str()).then_some(detail)
        })
    }
}

/// Writes the sample animation to `dir/cornell.glb`.
pub fn sample_scene(dir: &Path) -> PathBuf {
    let path = dir.join("cornell.glb");
    fs::write(&path, samples::cornell_box_animated()).unwrap();
    path
}

/// Width and height from a PNG's header.
pub fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

/// Runs ffprobe on a video; returns (codec, frame count, pixel format).
pub fn probe_video(path: &Path) -> (String, u32, String) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=codec_name,nb_read_frames,pix_fmt", "-of", "json"])
        .arg(path)
        .output()
        .expect("run ffprobe (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    (
        s["codec_name"].as_str().unwrap_or_default().to_owned(),
        s["nb_read_frames"].as_str().unwrap_or("0").parse().unwrap(),
        s["pix_fmt"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A raw HTTP request with the admin token, bypassing the CLI: the
/// orchestrator must validate what it is sent on its own.
pub fn http_post(url: &str, token: &str, body: &[u8]) -> (u16, String) {
    let res = ureq::post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/octet-stream")
        .send_bytes(body);
    match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

/// A GET's status, the response headers named in `headers`, and the body.
pub fn http_get_with_headers(url: &str, headers: &[&str]) -> (u16, Vec<Option<String>>, Vec<u8>) {
    let read = |r: ureq::Response| {
        let values = headers.iter().map(|h| r.header(h).map(str::to_owned)).collect();
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        (values, body)
    };
    match ureq::get(url).call() {
        Ok(r) => {
            let status = r.status();
            let (values, body) = read(r);
            (status, values, body)
        }
        Err(ureq::Error::Status(code, r)) => {
            let (values, body) = read(r);
            (code, values, body)
        }
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// ffprobe's JSON about `input` (a file or a URL), with the given
/// `-show_*` arguments; panics on any complaint.
pub fn ffprobe(input: &str, args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(input)
        .output()
        .expect("run ffprobe (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffprobe {input}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn http_get(url: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = ureq::get(url);
    if let Some(token) = token {
        req = req.set("Authorization", &format!("Bearer {token}"));
    }
    let read = |r: ureq::Response| {
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        body
    };
    match req.call() {
        Ok(r) => (r.status(), read(r)),
        Err(ureq::Error::Status(code, r)) => (code, read(r)),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// Standard base64, for `data:` URIs in hand-made glTF scenes.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            s.push(if i <= c.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    s
}

/// A valid one-triangle scene, as glTF JSON with its buffer inline: three
/// positions (f32 x 9) and three u16 indices. Tests break one thing in it.
pub fn triangle() -> Value {
    triangle_with(&[[-1.0, -1.0, -3.0], [1.0, -1.0, -3.0], [0.0, 1.0, -3.0]], [0, 1, 2])
}

pub fn triangle_with(positions: &[[f32; 3]; 3], indices: [u16; 3]) -> Value {
    let mut bin: Vec<u8> = positions.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
    bin.extend(indices.iter().flat_map(|i| i.to_le_bytes()));
    bin.extend([0, 0]); // pad to 4 bytes
    json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0, 1]}],
        "nodes": [{"mesh": 0, "name": "tri"}, {"camera": 0, "name": "cam"}],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.8, "znear": 0.1}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
             "min": [-1.0, -1.0, -3.0], "max": [1.0, 1.0, -3.0]},
            {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 6}
        ],
        "buffers": [{"byteLength": bin.len(), "uri": data_uri(&bin)}]
    })
}

pub fn data_uri(bytes: &[u8]) -> String {
    format!("data:application/octet-stream;base64,{}", base64(bytes))
}
