//! Verified work end to end: a farm of three honest workers and one that
//! cheats (tests' src/bin/cheating-worker.rs: the real protocol, tampered
//! outputs that pass the cheap checks), with the farm's default spot-check
//! policy (every result of a node's first 20 is checked) and stake.
//!
//! Over a render job and over a live stream: the cheater is caught by a
//! duplicate and a third node, slashed, and gets no more work; none of its
//! outputs is in the fetched frames or the HLS recordings at the end;
//! honest nodes are paid exactly their price; an orchestrator killed and
//! restarted pays nothing twice; `mosaic ledger verify` passes, and names
//! the row a sqlite3 edit touched.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use mosaic_e2e::{http_get, sample_scene, wait_for, Orchestrator, Process, Worker};
use serde_json::Value;

/// The farm's defaults for checks and stake, with a settlement window short
/// enough to see unchecked results paid, and patience for a 2-core box.
const CONFIG: &str = "lease_seconds = 5
min_stake = 10.0
slash_share = 0.5
settle_seconds = 3
render_price = 1000.0
video_price = 1000.0
live_gap_factor = 30.0
live_min_speed = 0.0
";

const STAKE: &str = "10";
const TIMEOUT: Duration = Duration::from_secs(300);

/// One test at a time: each keeps four workers busy.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

struct Farm {
    orchestrator: Orchestrator,
    honest: Vec<Worker>,
    cheater: Worker,
    honest_peers: Vec<String>,
    cheater_peer: String,
    dir: tempfile::TempDir,
}

fn farm(cheat_share: f64) -> Farm {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = Orchestrator::start_exactly(
        &dir.path().join("orchestrator"),
        "/ip4/127.0.0.1/tcp/0",
        CONFIG,
    );
    let honest: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&orchestrator, &dir.path().join(format!("honest{i}"))))
        .collect();
    let cheater = Worker::start_cheater(&orchestrator, &dir.path().join("cheater"), cheat_share);
    let cli = orchestrator.cli();
    let honest_peers: Vec<String> = honest.iter().map(Worker::peer_id).collect();
    let cheater_peer = cheater.peer_id();
    cli.wait_workers(4, TIMEOUT);
    // No stake, no work: and the ledger says so.
    let ledger = cli.ok(&["ledger"]);
    assert!(ledger.contains("needs 10 staked"), "{ledger}");
    for peer in honest_peers.iter().chain([&cheater_peer]) {
        let out = cli.ok(&["ledger", "stake", peer, STAKE]);
        assert!(out.contains("staked 10 credits"), "{out}");
    }
    Farm { orchestrator, honest, cheater, honest_peers, cheater_peer, dir }
}

impl Farm {
    fn ledger(&self) -> Value {
        self.orchestrator.cli().json(&["ledger", "--json"])
    }

    fn node(&self, peer: &str) -> Value {
        let ledger = self.ledger();
        ledger["nodes"].as_array().unwrap().iter().find(|n| n["peer"] == peer).unwrap().clone()
    }

    fn entries(&self) -> Vec<Value> {
        let (status, body) = http_get(&format!("{}/ledger/entries", self.orchestrator.url), None);
        assert_eq!(status, 200);
        serde_json::from_slice::<Value>(&body).unwrap().as_array().unwrap().clone()
    }

    /// Waits until no check is queued or running and nothing is pending.
    fn wait_settled(&self) {
        wait_for("every check and payment to settle", TIMEOUT, || {
            let ledger = self.ledger();
            let open =
                ledger["checks"].as_array()?.iter().any(|c| c[0] == "queued" || c[0] == "leased");
            let pending = ledger["nodes"].as_array()?.iter().any(|n| n["pending"] != 0);
            (!open && !pending).then_some(())
        });
    }

    /// The cheater was caught: slashed half its stake for each fraud
    /// proven (more than one may be in flight when the first is), marked,
    /// no work.
    fn assert_cheater_caught(&self) {
        let node = self.node(&self.cheater_peer);
        let (slashed, staked) =
            (node["slashed"].as_i64().unwrap(), node["staked"].as_i64().unwrap());
        assert!(slashed >= 5_000_000 && slashed + staked == 10_000_000, "{node}");
        assert_eq!(node["eligible"], false, "{node}");
        assert_eq!(node["earned"], 0, "{node}");
        let fraud = node["fraud"].as_str().expect("fraud evidence");
        assert!(fraud.contains("disagreed with two other nodes"), "{fraud}");
        let log = self.cheater.process.log_text();
        assert!(log.contains("proven to cheat"), "the cheater was never told:\n{log}");
    }

    /// Every reward is the price of the work its memo names, each lease is
    /// paid once, and honest nodes lost nothing.
    fn assert_honest_paid_exactly(&self) {
        let mut leases = HashSet::new();
        let mut earned = std::collections::HashMap::<String, i64>::new();
        for e in self.entries() {
            if e["kind"] != "reward" {
                continue;
            }
            let memo = e["memo"].as_str().unwrap();
            let lease = memo.rsplit("(lease ").next().unwrap().trim_end_matches(')');
            assert!(leases.insert(lease.to_owned()), "lease {lease} paid twice: {memo}");
            assert_eq!(e["amount"].as_i64().unwrap(), price(memo), "{memo}");
            *earned.entry(e["peer"].as_str().unwrap().to_owned()).or_default() +=
                e["amount"].as_i64().unwrap();
        }
        for peer in &self.honest_peers {
            let node = self.node(peer);
            assert_eq!(node["slashed"], 0, "{node}");
            assert_eq!(node["forfeited"], 0, "{node}");
            assert_eq!(node["pending"], 0, "{node}");
            assert_eq!(node["staked"], 10_000_000, "{node}");
            assert_eq!(node["earned"].as_i64(), earned.get(peer).copied().or(Some(0)), "{node}");
        }
        assert!(earned.values().sum::<i64>() > 0, "nobody was paid");
    }

    fn verify_ledger(&self, state: &Path) -> std::process::Output {
        let state = state.to_str().unwrap();
        self.orchestrator.cli().run(&["ledger", "verify", "--state", state])
    }
}

/// The price a reward memo describes, at the test's prices (1000 credits
/// per 10^9 pixel-samples or pixels): "... 2 frames x 64x48 x 8 spp ..."
/// or "... 60 frames x 640000 px ...".
fn price(memo: &str) -> i64 {
    let words: Vec<&str> = memo.split_whitespace().collect();
    let at = words.iter().rposition(|w| *w == "frames").unwrap();
    let frames: f64 = words[at - 1].parse().unwrap();
    let units = if words[at + 3] == "x" {
        let (w, h) = words[at + 2].split_once('x').unwrap();
        let spp: f64 = words[at + 4].parse().unwrap();
        w.parse::<f64>().unwrap() * h.parse::<f64>().unwrap() * spp
    } else {
        words[at + 2].parse().unwrap()
    };
    (1000.0 * frames * units / 1e9 * 1e6).round() as i64
}

#[test]
fn a_cheating_renderer_is_caught_slashed_and_its_frames_never_delivered() {
    let _serial = serial();
    let mut farm = farm(1.0);
    let cli = farm.orchestrator.cli();
    let scene = sample_scene(farm.dir.path());
    let out = cli.json(&[
        "render",
        "submit",
        scene.to_str().unwrap(),
        "--frames",
        "1-8",
        "--size",
        "64x48",
        "--spp",
        "8",
        "--detach",
        "--json",
    ]);
    let job = out["job"].as_i64().unwrap_or_else(|| panic!("no job id in {out}"));
    let detail = cli.wait_job(job, TIMEOUT);
    assert_eq!(detail["state"], "completed", "{detail}");
    farm.wait_settled();
    farm.assert_cheater_caught();

    // No frame is the cheater's: every one was rendered (and checked) by
    // honest nodes, and the fetched PNGs are theirs.
    let frames = detail["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 8);
    for f in frames {
        assert_ne!(f["worker"], farm.cheater_peer.as_str(), "{f}");
    }
    let fetched = farm.dir.path().join("fetched");
    cli.ok(&["fetch", &job.to_string(), "--out", fetched.to_str().unwrap()]);
    for f in frames {
        let name = format!("{:04}.png", f["frame"].as_u64().unwrap());
        let bytes = std::fs::read(fetched.join(name)).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().as_str(), f["cid"].as_str().unwrap());
    }
    farm.assert_honest_paid_exactly();
    let proven = cli.ok(&["ledger", "prove", &farm.honest_peers[0]]);
    assert!(proven.contains("proven included in the signed tree"), "{proven}");

    // Killed and restarted: nothing is paid again.
    let state = farm.dir.path().join("verified-head.json");
    assert!(farm.verify_ledger(&state).status.success());
    let before = farm.entries().len();
    let dir = farm.orchestrator.dir.clone();
    let listen = farm.orchestrator.p2p_listen();
    farm.orchestrator.process.kill();
    farm.orchestrator = Orchestrator::start_exactly(&dir, &listen, CONFIG);
    std::thread::sleep(Duration::from_secs(6));
    farm.wait_settled();
    assert_eq!(farm.entries().len(), before, "the restart changed the ledger");
    farm.assert_honest_paid_exactly();
    let verified = farm.verify_ledger(&state);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));

    // A row edited behind the orchestrator's back is named.
    let db = dir.join("mosaic.db");
    let edit = Command::new("sqlite3")
        .arg(&db)
        .arg("DROP TRIGGER ledger_no_update; UPDATE ledger SET amount = amount + 1 WHERE seq = 3;")
        .output()
        .unwrap();
    assert!(edit.status.success(), "{}", String::from_utf8_lossy(&edit.stderr));
    let verified = farm.verify_ledger(&state);
    let stderr = String::from_utf8_lossy(&verified.stderr);
    assert_eq!(verified.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("row 3 was edited"), "{stderr}");
}

#[test]
fn a_cheating_transcoder_is_caught_and_its_renditions_clawed_back() {
    let _serial = serial();
    let farm = farm(1.0);
    let cli = farm.orchestrator.cli();
    let stream = cli.json(&["streams", "add", "watched", "--json"]);
    let ingest = stream["ingest_url"].as_str().unwrap().to_owned();
    let mut push = Process::spawn(
        "ffmpeg watched",
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-re"])
            .args(["-f", "lavfi", "-i", "testsrc2=s=854x480:r=30"])
            .args(["-f", "lavfi", "-i", "sine=f=440:r=44100", "-t", "16"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p"])
            .args(["-c:a", "aac", "-b:a", "96k", "-f", "flv", &ingest]),
        farm.dir.path().join("ffmpeg.log"),
    );
    push.wait_exit(TIMEOUT);
    let base = stream["recording_url"].as_str().unwrap().replace("recording.m3u8", "");
    wait_for("the recording to end", TIMEOUT, || {
        let (status, body) = http_get(&format!("{base}480p/recording.m3u8"), None);
        (status == 200 && String::from_utf8_lossy(&body).contains("#EXT-X-ENDLIST")).then_some(())
    });
    farm.wait_settled();
    farm.assert_cheater_caught();

    // Every rendition the cheater delivered, from the orchestrator's store.
    let db = farm.orchestrator.dir.join("mosaic.db");
    let query = format!(
        "SELECT outputs FROM results WHERE worker = '{}' AND segment IS NOT NULL",
        farm.cheater_peer
    );
    let out = Command::new("sqlite3").arg(&db).arg(&query).output().unwrap();
    let mut tampered = HashSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        for (_, cid) in serde_json::from_str::<Vec<(u32, String)>>(line).unwrap() {
            tampered.insert(cid);
        }
    }
    assert!(!tampered.is_empty(), "the cheater delivered no live work: nothing was tested");
    // None of them is in the recordings now.
    for rung in ["480p", "360p"] {
        let (_, playlist) = http_get(&format!("{base}{rung}/recording.m3u8"), None);
        let playlist = String::from_utf8(playlist).unwrap();
        let uris: Vec<&str> =
            playlist.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        assert!(uris.len() >= 7, "{playlist}");
        for uri in uris {
            let (status, bytes) = http_get(&format!("{base}{rung}/{uri}"), None);
            assert_eq!(status, 200);
            let cid = blake3::hash(&bytes).to_hex().to_string();
            assert!(!tampered.contains(&cid), "{rung}/{uri} is the cheater's");
        }
    }
    farm.assert_honest_paid_exactly();
    let state = farm.dir.path().join("verified-head.json");
    let verified = farm.verify_ledger(&state);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    drop(farm.honest);
}
