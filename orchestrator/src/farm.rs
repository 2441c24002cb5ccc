//! The farm: every rule about jobs, tasks, leases and results, over the job
//! store and the blob store. The HTTP API and the libp2p host both call it;
//! neither decides anything itself.
//!
//! Rules (Flamenco's defaults where it has them):
//! - A worker gets the first queued task of the highest-priority, oldest job
//!   that has not blocklisted it, skipping tasks it has failed before and
//!   jobs it cannot render: it needs a render backend, and the one the job
//!   asks for (`settings.backend`) if it asks.
//! - A task is leased for `lease_seconds`; an expired lease, a closed
//!   connection or a worker handing it back because its device failed
//!   requeues it without counting a failure.
//! - A failure requeues the task for other workers; after
//!   `max_task_failures` failures, or when every connected worker has failed
//!   it, its frames fail. A worker failing `worker_job_failures_to_blocklist`
//!   tasks of one job is blocklisted for that job.
//! - A result is accepted only under the current lease of the worker that
//!   reports it, with every frame uploaded (and hashed here) under that lease
//!   and passing the cheap frame checks. Nothing a worker says is trusted.
//!
//! Every method is synchronous and may touch the disk: async callers run it
//! in `spawn_blocking`.

mod live;
pub(crate) mod verify;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::api::{
    FrameState, FrameStatus, JobDetail, JobRequest, JobState, JobSummary, SceneInfo, WorkerInfo,
    MAX_CHUNK,
};
use protocol::wire::{Capabilities, Lane, RenderWork, TaskAssignment, TaskOutput, Work};
use protocol::{ContentId, ImageFormat, JobId, LeaseId, RenderSettings, StreamId};
use rusqlite::{Connection, TransactionBehavior};

use crate::blobs::{BlobError, BlobStore};
use crate::config::Config;
use crate::store::{self, JobRow, LeaseOf, StoreError, TaskRow, TaskState};

pub use live::{LiveSettings, PublicUrls, PublishRefusal, Publisher};
pub use proofs::ledger::micros;
pub use verify::{TreeSigner, VerifySettings};

/// The longest failure reason kept from a worker.
const MAX_REASON_CHARS: usize = 2000;
/// The longest job name accepted.
const MAX_NAME_CHARS: usize = 200;
/// Failed frames listed one by one in a failed job's error.
const FAILED_FRAMES_LISTED: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum FarmError {
    /// The request is wrong: HTTP 400.
    #[error("{0}")]
    Invalid(String),
    /// What it names does not exist (yet): HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// It cannot happen in the current state: HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// Over a size limit: HTTP 413.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("cannot create {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl From<rusqlite::Error> for FarmError {
    fn from(e: rusqlite::Error) -> Self {
        FarmError::Store(StoreError::Sql(e))
    }
}

/// The answer to a lease renewal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Renewal {
    Renewed,
    /// Stop working on the task, for this reason.
    Lost(String),
}

/// The scheduling knobs, from the config file.
#[derive(Clone, Debug)]
pub struct FarmSettings {
    pub lease_seconds: u64,
    pub max_scene_bytes: u64,
    pub max_task_failures: u32,
    pub worker_job_failures_to_blocklist: u32,
    pub default_chunk: u32,
    pub live: LiveSettings,
    pub verify: VerifySettings,
}

impl From<&Config> for FarmSettings {
    fn from(c: &Config) -> Self {
        Self {
            lease_seconds: c.lease_seconds,
            max_scene_bytes: c.max_scene_bytes,
            max_task_failures: c.max_task_failures,
            worker_job_failures_to_blocklist: c.worker_job_failures_to_blocklist,
            default_chunk: c.default_chunk,
            live: LiveSettings {
                ladder: c.ladder.clone(),
                deadline_factor: c.live_deadline_factor,
                gap_factor: c.live_gap_factor,
                min_speed: c.live_min_speed,
                bench_ms: (c.live_bench_seconds * 1000) as i64,
                hls_window: c.hls_window as usize,
                max_failures: c.max_task_failures,
                max_rendition_bytes: c.max_segment_bytes,
            },
            verify: VerifySettings {
                policy: proofs::spot_check::SpotCheckPolicy::new(
                    c.spot_check_rate,
                    c.spot_check_warmup,
                )
                .expect("validated with the config"),
                check_samples: c.check_samples as usize,
                min_stake: micros(c.min_stake),
                slash_share: c.slash_share,
                settle_ms: (c.settle_seconds * 1000) as i64,
                render_price: c.render_price,
                video_price: c.video_price,
                signer: TreeSigner::random(),
            },
        }
    }
}

/// The farm's state, shared as `Arc<Farm>` by the HTTP API and the p2p host.
pub struct Farm {
    inner: Arc<Inner>,
}

struct Inner {
    db: Mutex<Connection>,
    blobs: BlobStore,
    settings: FarmSettings,
    /// Peers with an open connection, as the p2p host reports them.
    connected: Mutex<HashSet<String>>,
    /// What each connected peer announced in its hello.
    caps: Mutex<HashMap<String, Capabilities>>,
    /// Live speed and benching, per peer.
    live_workers: Mutex<HashMap<String, live::LiveWorker>>,
    /// The live publisher of each stream, and how to cut it off.
    publishers: Mutex<HashMap<StreamId, tokio::sync::watch::Sender<Option<String>>>>,
    /// Jobs whose frames are all done, for the video assembler thread.
    videos: Mutex<mpsc::Sender<JobId>>,
    /// Added to the wall clock; tests move time forward with it.
    clock_skew_ms: std::sync::atomic::AtomicI64,
    /// The ledger's Merkle tree as far as it was last signed, so a new
    /// tree head hashes only the entries added since.
    ledger_tree: Mutex<proofs::merkle::CompactRange>,
}

fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A worker's failure reason as it is kept: trimmed, bounded, never empty.
fn clean_reason(reason: &str) -> String {
    match reason.trim() {
        "" => "the worker gave no reason".to_owned(),
        r => r.chars().take(MAX_REASON_CHARS).collect(),
    }
}

fn corrupt(what: &'static str, detail: impl ToString) -> FarmError {
    FarmError::Store(StoreError::Corrupt { what, detail: detail.to_string() })
}

impl Farm {
    /// Opens the job store and blob store under `data_dir`, gives live
    /// leases a full period for their workers to reconnect, and restarts
    /// video assembly for jobs that were waiting for it.
    pub fn open(data_dir: &std::path::Path, settings: FarmSettings) -> Result<Farm, FarmError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| FarmError::Io { path: data_dir.to_owned(), source })?;
        let conn = store::open(&data_dir.join("mosaic.db"))?;
        let blobs = BlobStore::open(data_dir)?;
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            db: Mutex::new(conn),
            blobs,
            settings,
            connected: Mutex::new(HashSet::new()),
            caps: Mutex::new(HashMap::new()),
            live_workers: Mutex::new(HashMap::new()),
            publishers: Mutex::new(HashMap::new()),
            videos: Mutex::new(tx),
            clock_skew_ms: Default::default(),
            ledger_tree: Default::default(),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("video-assembler".into())
            .spawn(move || assemble_videos(weak, rx))
            .map_err(|source| FarmError::Io { path: "video-assembler thread".into(), source })?;
        let farm = Farm { inner };
        let (extended, awaiting, interrupted) = {
            let db = farm.db();
            let until = farm.now_ms() + farm.lease_ms() as i64;
            (
                store::extend_live_leases(&db, until)?
                    + store::verify::extend_check_leases(&db, until)?,
                store::jobs_awaiting_video(&db)?,
                store::live::unended_broadcasts(&db)?,
            )
        };
        if extended > 0 {
            tracing::info!(leases = extended, "kept leases from before the restart");
        }
        // Publishers were cut off with the old process: their broadcasts
        // end, and their segments are transcoded for the recordings.
        for b in interrupted {
            let error = "the orchestrator stopped mid-broadcast";
            store::live::end_broadcast(&farm.db(), b.id, farm.now_ms(), Some(error))?;
            tracing::info!(broadcast = %b.id, "ended a broadcast interrupted by the restart");
        }
        let requeued =
            farm.requeue_segments(|conn| store::live::segments_expired(conn, i64::MAX))?;
        if requeued > 0 {
            tracing::info!(segments = requeued, "requeued live segments leased before the restart");
        }
        for job in awaiting {
            tracing::info!(%job, "resuming video assembly");
            farm.queue_video(job);
        }
        Ok(farm)
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.inner.db()
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn lease_ms(&self) -> u64 {
        self.inner.settings.lease_seconds * 1000
    }

    pub fn max_scene_bytes(&self) -> u64 {
        self.inner.settings.max_scene_bytes
    }

    fn queue_video(&self, job: JobId) {
        let sender = self.inner.videos.lock().unwrap_or_else(|e| e.into_inner());
        if sender.send(job).is_err() {
            tracing::error!(%job, "the video assembler has stopped; the job's video is not made");
        }
    }

    #[cfg(test)]
    fn advance_clock(&self, ms: i64) {
        self.inner.clock_skew_ms.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }

    // ------------------------------------------------------------ workers

    /// A worker said hello: remember its capabilities and that it is here.
    pub fn worker_hello(&self, peer: &str, caps: Capabilities) -> Result<(), FarmError> {
        tracing::info!(peer, cores = caps.cpu_cores, backends = ?caps.render_backends,
            encoders = ?caps.encoders, "worker joined");
        self.remember_caps(peer, caps)?;
        // A worker says hello only on a fresh connection, having dropped any
        // work it had: leases it still holds here (say, from before an
        // orchestrator restart) would otherwise sit idle until they expire.
        let n = self.requeue(|conn| store::tasks_leased_to(conn, peer))?
            + self.requeue_segments(|conn| store::live::segments_leased_to(conn, peer))?
            + self.requeue_checks(|conn| store::verify::checks_leased_to(conn, peer))?;
        if n > 0 {
            tracing::info!(peer, tasks = n, "the worker's earlier leases are requeued");
        }
        Ok(())
    }

    /// A worker's capabilities changed mid-session (a render backend
    /// failed): remember them. Unlike a hello, its leases stay.
    pub fn worker_announce(&self, peer: &str, caps: Capabilities) -> Result<(), FarmError> {
        tracing::info!(peer, backends = ?caps.render_backends, encoders = ?caps.encoders,
            "worker announced new capabilities");
        self.remember_caps(peer, caps)
    }

    fn remember_caps(&self, peer: &str, caps: Capabilities) -> Result<(), FarmError> {
        let caps_json = serde_json::to_string(&caps).map_err(|e| corrupt("capabilities", e))?;
        store::upsert_worker(&self.db(), peer, &caps_json, self.now_ms() / 1000)?;
        self.inner.connected().insert(peer.to_owned());
        self.inner.caps().insert(peer.to_owned(), caps);
        Ok(())
    }

    /// The render backends of `peer`, as it last announced them (none
    /// before its hello).
    fn render_backends(&self, peer: &str) -> Vec<String> {
        self.inner.caps().get(peer).map(|c| c.render_backends.clone()).unwrap_or_default()
    }

    /// Every render backend some connected worker has.
    fn farm_backends(&self) -> HashSet<String> {
        self.inner.caps().values().flat_map(|c| c.render_backends.iter().cloned()).collect()
    }

    /// The worker's connection closed: its tasks go back to the queue at
    /// once, without counting a failure.
    pub fn worker_disconnected(&self, peer: &str) {
        self.inner.connected().remove(peer);
        self.inner.caps().remove(peer);
        let segments = self
            .requeue_segments(|conn| store::live::segments_leased_to(conn, peer))
            .and_then(|_| self.requeue_checks(|conn| store::verify::checks_leased_to(conn, peer)));
        if let Err(e) = segments {
            tracing::error!(peer, error = %e, "cannot requeue a departed worker's segments");
        }
        match self.requeue(|conn| store::tasks_leased_to(conn, peer)) {
            Ok(0) => tracing::info!(peer, "worker left"),
            Ok(n) => tracing::info!(peer, tasks = n, "worker left; its tasks are requeued"),
            Err(e) => tracing::error!(peer, error = %e, "cannot requeue a departed worker's tasks"),
        }
    }

    /// Requeues every task whose lease ran out (returns how many), and
    /// moves the live segments along (deadlines, publication).
    pub fn expire_leases(&self) -> Result<usize, FarmError> {
        let now = self.now_ms();
        let n = self.requeue(|conn| store::tasks_expired(conn, now))?;
        if n > 0 {
            tracing::info!(tasks = n, "leases expired; tasks requeued");
        }
        let checks = self.requeue_checks(|conn| store::verify::checks_expired(conn, now))?;
        if checks > 0 {
            tracing::info!(checks, "spot-check leases expired; checks requeued");
        }
        self.live_tick()?;
        self.settle()?;
        Ok(n)
    }

    fn requeue(
        &self,
        which: impl FnOnce(&Connection) -> Result<Vec<TaskRow>, StoreError>,
    ) -> Result<usize, FarmError> {
        self.requeue_rows(
            which,
            |t| t.lease,
            |conn, task, now| {
                store::end_lease(conn, task.id, TaskState::Queued, now)?;
                store::set_task_frames(conn, task.id, FrameState::Queued, None, None)
            },
        )
    }

    /// Puts back in the queue, in one transaction and without counting a
    /// failure, the leased rows (tasks, segments, checks) `which` picks,
    /// then drops what their leases had staged. Returns how many.
    fn requeue_rows<T>(
        &self,
        which: impl FnOnce(&Connection) -> Result<Vec<T>, StoreError>,
        lease: impl Fn(&T) -> Option<LeaseId>,
        end: impl Fn(&Connection, &T, i64) -> Result<(), StoreError>,
    ) -> Result<usize, FarmError> {
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = which(&tx)?;
        for row in &rows {
            end(&tx, row, now)?;
        }
        tx.commit()?;
        drop(db);
        for lease in rows.iter().filter_map(lease) {
            self.inner.blobs.discard_staged(lease);
        }
        Ok(rows.len())
    }

    pub fn workers(&self) -> Result<Vec<WorkerInfo>, FarmError> {
        let rows = store::workers(&self.db())?;
        let connected = self.inner.connected().clone();
        Ok(rows
            .into_iter()
            .map(|w| WorkerInfo {
                connected: connected.contains(&w.peer),
                capabilities: serde_json::from_str(&w.capabilities).unwrap_or_default(),
                peer_id: w.peer,
                tasks_done: w.tasks_done,
                tasks_failed: w.tasks_failed,
                last_seen: w.last_seen,
            })
            .collect())
    }

    // ------------------------------------------------------------ tasks

    /// The next task of `lane` for `peer`, leased to it, or `None` when
    /// nothing is waiting that it may take.
    pub fn next_task(&self, peer: &str, lane: Lane) -> Result<Option<TaskAssignment>, FarmError> {
        self.inner.connected().insert(peer.to_owned());
        if self.work_refusal(peer)?.is_some() {
            return Ok(None);
        }
        // The live lane is for segments on the clock only. Spot checks, of
        // renders and of segments alike, are batch work: they go first in
        // the render lane (they hold back publication and payment), so a
        // check never keeps a live segment waiting.
        match lane {
            Lane::Render => {
                // Segment checks only from spare capacity: not while live
                // segments wait for a worker.
                let encoder = self.inner.caps().get(peer).is_some_and(|c| !c.encoders.is_empty());
                let spare = encoder && !store::live::segments_waiting(&self.db())?;
                let backends = self.render_backends(peer);
                match self.next_check(peer, spare, &backends)? {
                    Some(check) => Ok(Some(check)),
                    None => self.next_render_task(peer, &backends),
                }
            }
            Lane::Live => self.next_segment(peer),
        }
    }

    /// The next render task `peer` may take with `backends` (its render
    /// backends), leased to it.
    fn next_render_task(
        &self,
        peer: &str,
        backends: &[String],
    ) -> Result<Option<TaskAssignment>, FarmError> {
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        store::touch_worker(&tx, peer, now / 1000)?;
        let Some(task_id) = store::next_queued_task(&tx, peer, backends)? else {
            tx.commit()?;
            return Ok(None);
        };
        let task = store::task(&tx, task_id)?.ok_or_else(|| corrupt("task", task_id))?;
        let job = store::job(&tx, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
        let scene = store::scene(&tx, &job.scene)?.ok_or_else(|| corrupt("scene", job.scene))?;
        let lease = store::lease_task(&tx, task.id, peer, now, now + self.lease_ms() as i64)?;
        store::set_task_frames(&tx, task.id, FrameState::Rendering, Some(peer), None)?;
        if job.state == JobState::Queued {
            store::set_job_state(&tx, job.id, JobState::Running, None, None)?;
        }
        let work = Work::Render(RenderWork {
            task: task.id,
            job: job.id,
            scene: job.scene,
            scene_bytes: scene.bytes,
            frames: task.frames.clone(),
            settings: job.settings,
        });
        store::verify::set_lease_digest(&tx, lease, &protocol::receipt::work_digest(&work))?;
        tx.commit()?;
        tracing::info!(peer, job = %job.id, task = %task.id, %lease, frames = ?task.frames, "task leased");
        Ok(Some(TaskAssignment { lease, lease_ms: self.lease_ms(), work }))
    }

    /// What `lease` was granted for, if it exists.
    fn lease_of(&self, lease: LeaseId) -> Result<Option<LeaseOf>, FarmError> {
        Ok(store::lease(&self.db(), lease)?.map(|(of, _)| of))
    }

    /// Extends `peer`'s lease, or says why the task is no longer its.
    pub fn renew(&self, peer: &str, lease: LeaseId) -> Result<Renewal, FarmError> {
        match self.lease_of(lease)? {
            Some(LeaseOf::Segment(segment)) => return self.renew_segment(peer, lease, segment),
            Some(LeaseOf::Check(check)) => return self.renew_check(peer, lease, check),
            _ => {}
        }
        let now = self.now_ms();
        let db = self.db();
        match current_lease(&db, peer, lease)? {
            Err(reason) => Ok(Renewal::Lost(reason)),
            Ok((task, _)) => {
                store::renew_lease(&db, task.id, now + self.lease_ms() as i64)?;
                store::touch_worker(&db, peer, now / 1000)?;
                Ok(Renewal::Renewed)
            }
        }
    }

    /// Up to `wire::BLOB_CHUNK` bytes of a blob from `offset`, and its size.
    pub fn read_blob(&self, cid: &ContentId, offset: u64) -> Result<(u64, Vec<u8>), FarmError> {
        Ok(self.inner.blobs.read_chunk(cid, offset)?)
    }

    /// Stores a chunk of an output (a frame, a rendition) under `peer`'s
    /// current lease. On the last chunk, returns the orchestrator's own hash
    /// of the upload.
    pub fn upload_chunk(
        &self,
        peer: &str,
        lease: LeaseId,
        output: u32,
        offset: u64,
        data: &[u8],
        last: bool,
    ) -> Result<Option<ContentId>, FarmError> {
        match self.lease_of(lease)? {
            Some(LeaseOf::Segment(segment)) => {
                let chunk = live::UploadChunk { output, offset, data, last };
                return self.upload_rendition(peer, lease, segment, chunk);
            }
            Some(LeaseOf::Check(check)) => {
                let chunk = live::UploadChunk { output, offset, data, last };
                return self.upload_check(peer, lease, check, chunk);
            }
            _ => {}
        }
        let frame = output;
        let (task, job) = current_lease(&self.db(), peer, lease)?.map_err(FarmError::Conflict)?;
        if !task.frames.contains(&frame) {
            return Err(FarmError::Invalid(format!(
                "frame {frame} is not part of task {} (frames {:?})",
                task.id, task.frames
            )));
        }
        let cap = frame_upload_cap(&job.settings);
        let cid = self.inner.blobs.stage_chunk(lease, frame, offset, data, last, cap)?;
        if let Some(cid) = &cid {
            store::record_upload(&self.db(), lease, frame, cid)?;
        }
        Ok(cid)
    }

    /// A worker reports its task done. `Ok(Err(reason))` is a refusal: a
    /// stale lease (nothing recorded), or outputs that are missing, do not
    /// match their uploads or fail the frame checks (a task failure).
    pub fn complete(
        &self,
        peer: &str,
        lease: LeaseId,
        outputs: Vec<TaskOutput>,
        engine: Option<&str>,
        signature: &[u8],
    ) -> Result<Result<(), String>, FarmError> {
        match self.lease_of(lease)? {
            Some(LeaseOf::Segment(segment)) => {
                return self.complete_segment(peer, lease, segment, &outputs, engine, signature)
            }
            Some(LeaseOf::Check(check)) => {
                return self.complete_check(peer, lease, check, &outputs, engine, signature)
            }
            _ => {}
        }
        let (task, job) = match current_lease(&self.db(), peer, lease)? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        // A receipt that does not verify is no result at all.
        let digest = match self.check_receipt(peer, lease, &outputs, engine, signature)? {
            Ok(digest) => digest,
            Err(reason) => {
                self.fail(peer, lease, &reason)?;
                return Ok(Err(reason));
            }
        };
        if let Some(reason) = self.work_refusal(peer)? {
            self.fail(peer, lease, &reason)?;
            return Ok(Err(reason));
        }
        let uploads = match self.matched_uploads(&task, lease, &outputs)? {
            Ok(uploads) => uploads,
            Err(reason) => {
                self.fail(peer, lease, &reason)?;
                return Ok(Err(reason));
            }
        };

        // The frame checks decode images: run them without holding the store.
        let settings = &job.settings;
        let mut defects = Vec::new();
        let mut good = Vec::new();
        for (frame, cid) in uploads {
            let bytes = self.inner.blobs.read(&cid)?;
            match proofs::check_frame(&bytes, settings.format, settings.width, settings.height) {
                Ok(()) => good.push((frame, cid)),
                Err(defect) => defects.push((frame, defect.to_string())),
            }
        }

        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The lease may have ended while the frames were checked.
        let (task, job) = match current_lease(&tx, peer, lease)? {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        let mut checked = false;
        if !good.is_empty() {
            let engine = engine.map(verify::engine_label);
            let delivery = verify::Delivery {
                peer,
                lease,
                engine: engine.as_deref(),
                outputs: good.clone(),
                digest,
                signature,
            };
            let price = self.render_price(&job.settings, good.len());
            let subject = store::verify::Subject::Task(task.id);
            let can_check = |caps: &Capabilities| can_render(caps, &job.settings);
            checked = self.record_first_result(&tx, subject, &delivery, price, now, can_check)?;
        }
        // A checked result is published once its check settles it.
        let state = if checked { FrameState::Verifying } else { FrameState::Done };
        for (frame, cid) in &good {
            store::set_frame(&tx, job.id, *frame, state, cid, peer)?;
        }
        if defects.is_empty() {
            store::end_lease(&tx, task.id, TaskState::Done, now)?;
            store::count_task_done(&tx, peer)?;
            let video = self.finish_if_ended(&tx, job.id, now)?;
            tx.commit()?;
            drop(db);
            self.inner.blobs.discard_staged(lease);
            tracing::info!(peer, job = %job.id, task = %task.id, frames = ?task.frames, "task done");
            if let Some(job) = video {
                self.queue_video(job);
            }
            return Ok(Ok(()));
        }
        // The good frames are kept; the task carries on with the bad ones.
        let bad: Vec<u32> = defects.iter().map(|(frame, _)| *frame).collect();
        store::set_task_frame_list(&tx, task.id, &bad)?;
        let task = TaskRow { frames: bad, ..task };
        let reason = defects
            .iter()
            .map(|(frame, defect)| format!("frame {frame}: {defect}"))
            .collect::<Vec<_>>()
            .join("; ");
        let video = self.record_failure(&tx, &task, &job, peer, &reason, now)?;
        tx.commit()?;
        drop(db);
        self.inner.blobs.discard_staged(lease);
        if let Some(job) = video {
            self.queue_video(job);
        }
        Ok(Err(reason))
    }

    /// Each of the task's frames with the content id uploaded under `lease`,
    /// or why the report does not add up.
    fn matched_uploads(
        &self,
        task: &TaskRow,
        lease: LeaseId,
        outputs: &[TaskOutput],
    ) -> Result<Result<Vec<(u32, ContentId)>, String>, FarmError> {
        if let Some(extra) = outputs.iter().find(|o| !task.frames.contains(&o.output)) {
            return Ok(Err(format!(
                "the report names frame {}, which is not part of task {}",
                extra.output, task.id
            )));
        }
        let db = self.db();
        let mut uploads = Vec::with_capacity(task.frames.len());
        for &frame in &task.frames {
            let Some(output) = outputs.iter().find(|o| o.output == frame) else {
                return Ok(Err(format!("the report has no output for frame {frame}")));
            };
            match store::upload(&db, lease, frame)? {
                None => {
                    return Ok(Err(format!("frame {frame} was never uploaded under lease {lease}")))
                }
                Some(cid) if cid != output.cid => {
                    return Ok(Err(format!(
                        "frame {frame} was reported as {} but the upload hashes to {cid}",
                        output.cid
                    )))
                }
                Some(cid) => uploads.push((frame, cid)),
            }
        }
        Ok(Ok(uploads))
    }

    /// A worker could not do its task. A stale lease is an error and
    /// records nothing.
    pub fn fail(&self, peer: &str, lease: LeaseId, reason: &str) -> Result<(), FarmError> {
        match self.lease_of(lease)? {
            Some(LeaseOf::Segment(segment)) => {
                return self.fail_segment(peer, lease, segment, reason)
            }
            Some(LeaseOf::Check(check)) => return self.fail_check(peer, lease, check, reason),
            _ => {}
        }
        let reason = clean_reason(reason);
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (task, job) = current_lease(&tx, peer, lease)?.map_err(FarmError::Conflict)?;
        let video = self.record_failure(&tx, &task, &job, peer, &reason, now)?;
        tx.commit()?;
        drop(db);
        self.inner.blobs.discard_staged(lease);
        if let Some(job) = video {
            self.queue_video(job);
        }
        Ok(())
    }

    /// A worker hands its task back because its render device failed (a
    /// GPU lost), not the task: requeued without counting a failure, for
    /// the worker's next backend or another worker. A stale lease is an
    /// error and records nothing.
    pub fn hand_back(&self, peer: &str, lease: LeaseId, reason: &str) -> Result<(), FarmError> {
        let reason = clean_reason(reason);
        match self.lease_of(lease)? {
            // Transcodes use no render device: a plain failure.
            Some(LeaseOf::Segment(segment)) => {
                return self.fail_segment(peer, lease, segment, &reason)
            }
            Some(LeaseOf::Check(check)) => {
                return self.hand_back_check(peer, lease, check, &reason)
            }
            _ => {}
        }
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (task, job) = current_lease(&tx, peer, lease)?.map_err(FarmError::Conflict)?;
        store::end_lease(&tx, task.id, TaskState::Queued, now)?;
        store::set_task_frames(&tx, task.id, FrameState::Queued, None, None)?;
        tx.commit()?;
        drop(db);
        self.inner.blobs.discard_staged(lease);
        tracing::warn!(peer, job = %job.id, task = %task.id, reason,
            "the worker's render device failed; task handed back and requeued");
        Ok(())
    }

    /// Records that `peer` failed `task`, then requeues it or fails its
    /// frames, and blocklists the peer for the job if it keeps failing.
    /// Returns a job that now awaits its video.
    fn record_failure(
        &self,
        conn: &Connection,
        task: &TaskRow,
        job: &JobRow,
        peer: &str,
        reason: &str,
        now: i64,
    ) -> Result<Option<JobId>, FarmError> {
        let settings = &self.inner.settings;
        store::record_failure(conn, task.id, peer, reason, now)?;
        let failures = store::task_failure_count(conn, task.id)?;
        if store::job_failures_by(conn, job.id, peer)? >= settings.worker_job_failures_to_blocklist
        {
            store::blocklist(conn, job.id, peer)?;
            tracing::warn!(peer, job = %job.id, "worker blocklisted for the job after repeated failures");
        }
        let failed_by: HashSet<String> =
            store::task_failed_by(conn, task.id)?.into_iter().collect();
        let blocked: HashSet<String> = store::blocklisted(conn, job.id)?.into_iter().collect();
        let anyone_left = self.inner.caps().iter().any(|(p, caps)| {
            can_render(caps, &job.settings) && !failed_by.contains(p) && !blocked.contains(p)
        });
        if failures >= settings.max_task_failures || !anyone_left {
            store::end_lease(conn, task.id, TaskState::Failed, now)?;
            store::set_task_frames(conn, task.id, FrameState::Failed, Some(peer), Some(reason))?;
            tracing::warn!(job = %job.id, task = %task.id, failures, reason, "task failed for good");
            return self.finish_if_ended(conn, job.id, now);
        }
        store::end_lease(conn, task.id, TaskState::Queued, now)?;
        store::set_task_frames(conn, task.id, FrameState::Queued, None, None)?;
        tracing::warn!(peer, job = %job.id, task = %task.id, failures, reason, "task failed; requeued");
        Ok(None)
    }

    /// Once no frame of the job waits or renders: fails the job if any frame
    /// failed, else returns it for its video.
    fn finish_if_ended(
        &self,
        conn: &Connection,
        id: JobId,
        now: i64,
    ) -> Result<Option<JobId>, FarmError> {
        let job = store::job(conn, id)?.ok_or_else(|| corrupt("job", id))?;
        let counts = store::frame_counts(conn, id)?;
        if job.state.is_final() || !counts.all_ended() {
            return Ok(None);
        }
        if counts.failed > 0 {
            let failed = store::failed_frames(conn, id)?;
            let mut error = format!("{} of {} frames failed: ", counts.failed, counts.total);
            let listed: Vec<String> = failed
                .iter()
                .take(FAILED_FRAMES_LISTED)
                .map(|(frame, reason)| format!("frame {frame}: {reason}"))
                .collect();
            error.push_str(&listed.join("; "));
            if failed.len() > FAILED_FRAMES_LISTED {
                error.push_str(&format!("; and {} more", failed.len() - FAILED_FRAMES_LISTED));
            }
            store::set_job_state(conn, id, JobState::Failed, Some(now / 1000), Some(&error))?;
            tracing::warn!(job = %id, error, "job failed");
            return Ok(None);
        }
        Ok(Some(id))
    }

    // ------------------------------------------------------------ scenes and jobs

    /// Validates an uploaded scene with the loader and stores it.
    pub fn add_scene(&self, bytes: &[u8]) -> Result<SceneInfo, FarmError> {
        let max = self.inner.settings.max_scene_bytes;
        if bytes.len() as u64 > max {
            return Err(FarmError::TooLarge(format!(
                "the scene is {} bytes; this orchestrator accepts at most {max} (max_scene_bytes)",
                bytes.len()
            )));
        }
        let limits = renderer::Limits { max_scene_bytes: max, ..Default::default() };
        let asset = renderer::SceneAsset::from_bytes(bytes, &limits)
            .map_err(|e| FarmError::Invalid(format!("the scene is not valid: {e}")))?;
        let summary = asset.summary();
        let cid = self.inner.blobs.put(bytes)?;
        let info = SceneInfo {
            cid,
            bytes: bytes.len() as u64,
            triangles: summary.triangles,
            cameras: summary.cameras,
            lights: summary.lights,
            animation_seconds: summary.animation_seconds,
        };
        self.record_scene(&info)?;
        tracing::info!(%cid, bytes = info.bytes, triangles = info.triangles, "scene stored");
        Ok(info)
    }

    pub(crate) fn record_scene(&self, info: &SceneInfo) -> Result<(), FarmError> {
        let json = serde_json::to_string(info).map_err(|e| corrupt("scene summary", e))?;
        store::insert_scene(&self.db(), &info.cid, info.bytes, &json, self.now_ms() / 1000)?;
        Ok(())
    }

    /// Validates a job request against the stored scene and queues the job.
    pub fn create_job(&self, req: &JobRequest) -> Result<JobId, FarmError> {
        req.settings.validate().map_err(|e| FarmError::Invalid(e.to_string()))?;
        let chunk = match req.chunk {
            0 => self.inner.settings.default_chunk,
            n if n > MAX_CHUNK => {
                return Err(FarmError::Invalid(format!(
                    "chunk {n} is out of range: a task may carry 1 to {MAX_CHUNK} frames"
                )))
            }
            n => n,
        };
        let name = req.name.trim();
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(FarmError::Invalid(format!(
                "job name must be at most {MAX_NAME_CHARS} printable characters"
            )));
        }
        let name = if name.is_empty() { "untitled" } else { name };
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let scene = store::scene(&tx, &req.scene)?.ok_or_else(|| {
            FarmError::Invalid(format!(
                "scene {} is not on this orchestrator: upload it first (POST /api/scenes)",
                req.scene
            ))
        })?;
        let info: SceneInfo =
            serde_json::from_str(&scene.summary).map_err(|e| corrupt("scene summary", e))?;
        if let Some(camera) = &req.settings.camera {
            if !info.cameras.contains(camera) {
                let have = if info.cameras.is_empty() {
                    "the scene has no cameras".to_owned()
                } else {
                    format!("its cameras are: {}", info.cameras.join(", "))
                };
                return Err(FarmError::Invalid(format!(
                    "camera {camera:?} is not in the scene; {have}"
                )));
            }
        }
        let new = store::NewJob {
            name,
            scene: &req.scene,
            frame_spec: &req.frames,
            settings: &req.settings,
            chunk,
            priority: req.priority,
        };
        let id = store::insert_job(&tx, &new, now / 1000)?;
        tx.commit()?;
        drop(db);
        tracing::info!(job = %id, name, frames = req.frames.len(), chunk, priority = req.priority,
            backend = req.settings.backend.as_deref().unwrap_or("any"), "job queued");
        if let Some(why) = waiting_for(&req.settings, &self.farm_backends()) {
            tracing::warn!(job = %id, "the job waits: {why}");
        }
        Ok(id)
    }

    pub fn list_jobs(&self) -> Result<Vec<JobSummary>, FarmError> {
        let backends = self.farm_backends();
        let db = self.db();
        store::jobs(&db)?.iter().map(|job| summarize(&db, job, &backends)).collect()
    }

    pub fn job_summary(&self, id: JobId) -> Result<JobSummary, FarmError> {
        let backends = self.farm_backends();
        let db = self.db();
        summarize(&db, &find_job(&db, id)?, &backends)
    }

    pub fn job_detail(&self, id: JobId) -> Result<JobDetail, FarmError> {
        let backends = self.farm_backends();
        let db = self.db();
        let job = find_job(&db, id)?;
        let frames = store::frames(&db, id)?
            .into_iter()
            .map(|f| FrameStatus {
                frame: f.frame,
                state: f.state,
                worker: f.worker,
                cid: f.cid,
                error: f.error,
                attempts: f.attempts,
            })
            .collect();
        Ok(JobDetail {
            summary: summarize(&db, &job, &backends)?,
            scene: job.scene,
            frame_spec: job.frame_spec,
            settings: job.settings,
            chunk: job.chunk,
            frames,
            video: job.video,
            error: job.error,
        })
    }

    /// Cancels a queued or running job: its waiting and leased tasks end,
    /// and its workers lose their leases at the next renewal.
    pub fn cancel_job(&self, id: JobId) -> Result<JobSummary, FarmError> {
        let backends = self.farm_backends();
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = find_job(&tx, id)?;
        if job.state.is_final() {
            return Err(FarmError::Conflict(format!(
                "job {id} is already {}; only a queued or running job can be cancelled",
                job.state.as_str()
            )));
        }
        let open = store::tasks_open(&tx, id)?;
        for task in &open {
            store::end_lease(&tx, task.id, TaskState::Cancelled, now)?;
        }
        store::cancel_open_frames(&tx, id)?;
        store::verify::cancel_job_checks(&tx, id)?;
        store::set_job_state(&tx, id, JobState::Cancelled, Some(now / 1000), None)?;
        let summary = summarize(&tx, &find_job(&tx, id)?, &backends)?;
        tx.commit()?;
        drop(db);
        for lease in open.iter().filter_map(|t| t.lease) {
            self.inner.blobs.discard_staged(lease);
        }
        tracing::info!(job = %id, "job cancelled");
        Ok(summary)
    }

    /// A rendered frame's image and its format.
    pub fn frame_file(&self, id: JobId, frame: u32) -> Result<(PathBuf, ImageFormat), FarmError> {
        let db = self.db();
        let job = find_job(&db, id)?;
        let Some(row) = store::frame(&db, id, frame)? else {
            return Err(FarmError::NotFound(format!(
                "job {id} has no frame {frame}; its frames are {}",
                job.frame_spec
            )));
        };
        match (row.state, row.cid) {
            (FrameState::Done, Some(cid)) => Ok((self.existing_blob(&cid)?, job.settings.format)),
            (FrameState::Failed, _) => Err(FarmError::NotFound(format!(
                "frame {frame} of job {id} failed: {}",
                row.error.unwrap_or_default()
            ))),
            (state, _) => Err(FarmError::NotFound(format!(
                "frame {frame} of job {id} is not rendered ({})",
                state.as_str()
            ))),
        }
    }

    /// The job's MP4, once assembled.
    pub fn video_file(&self, id: JobId) -> Result<PathBuf, FarmError> {
        let db = self.db();
        let job = find_job(&db, id)?;
        if let Some(cid) = job.video {
            return self.existing_blob(&cid);
        }
        let why = match job.state {
            JobState::Failed | JobState::Cancelled => {
                format!("the job is {}", job.state.as_str())
            }
            _ => {
                let counts = store::frame_counts(&db, id)?;
                if counts.done == counts.total {
                    "every frame is done and the video is being assembled".to_owned()
                } else {
                    format!("{} of {} frames are done", counts.done, counts.total)
                }
            }
        };
        Err(FarmError::NotFound(format!("job {id} has no video yet: {why}")))
    }

    fn existing_blob(&self, cid: &ContentId) -> Result<PathBuf, FarmError> {
        let path = self.inner.blobs.path(cid);
        if !path.is_file() {
            return Err(FarmError::Blob(BlobError::NotFound(*cid)));
        }
        Ok(path)
    }
}

impl Inner {
    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent
        // (transactions roll back on drop), so the poison can be ignored.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connected(&self) -> MutexGuard<'_, HashSet<String>> {
        self.connected.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn caps(&self) -> MutexGuard<'_, HashMap<String, Capabilities>> {
        self.caps.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> i64 {
        unix_ms() + self.clock_skew_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn find_job(conn: &Connection, id: JobId) -> Result<JobRow, FarmError> {
    store::job(conn, id)?.ok_or_else(|| FarmError::NotFound(format!("job {id} does not exist")))
}

/// A job's summary; `backends` are those of the connected workers, to say
/// when its frames wait for a backend none of them has.
fn summarize(
    conn: &Connection,
    job: &JobRow,
    backends: &HashSet<String>,
) -> Result<JobSummary, FarmError> {
    let counts = store::frame_counts(conn, job.id)?;
    let waits = !job.state.is_final() && counts.queued > 0;
    Ok(JobSummary {
        id: job.id,
        name: job.name.clone(),
        state: job.state,
        frames_total: counts.total,
        frames_done: counts.done,
        frames_failed: counts.failed,
        created_at: job.created,
        finished_at: job.finished,
        priority: job.priority,
        waiting: waits.then(|| waiting_for(&job.settings, backends)).flatten(),
    })
}

/// Whether a worker with `caps` can render a job with `settings`: it has a
/// render backend, and the one the job asks for if it asks.
fn can_render(caps: &Capabilities, settings: &RenderSettings) -> bool {
    match &settings.backend {
        Some(asked) => caps.render_backends.contains(asked),
        None => !caps.render_backends.is_empty(),
    }
}

/// Why a job with `settings` gets no worker, when `backends` (those of the
/// connected workers) lack the one it asks for.
fn waiting_for(settings: &RenderSettings, backends: &HashSet<String>) -> Option<String> {
    let asked = settings.backend.as_ref().filter(|b| !backends.contains(*b))?;
    let mut have: Vec<&str> = backends.iter().map(String::as_str).collect();
    have.sort_unstable();
    Some(if have.is_empty() {
        format!("no connected worker has render backend {asked}")
    } else {
        format!("no connected worker has render backend {asked} (they have {})", have.join(", "))
    })
}

/// The most bytes a frame of these settings may upload: an uncompressed
/// 32-bit float RGBA image plus room for headers. Anything bigger is not a
/// frame.
fn frame_upload_cap(settings: &RenderSettings) -> u64 {
    u64::from(settings.width) * u64::from(settings.height) * 16 + (1 << 20)
}

/// Lease `lease` if it is the current one of its task and held by `peer`,
/// with its task and job; otherwise why not.
fn current_lease(
    conn: &Connection,
    peer: &str,
    lease: LeaseId,
) -> Result<Result<(TaskRow, JobRow), String>, FarmError> {
    let (task_id, holder) = match store::lease(conn, lease)? {
        None => return Ok(Err(format!("lease {lease} is unknown to this orchestrator"))),
        Some((LeaseOf::Segment(_), _)) => {
            return Ok(Err(format!("lease {lease} is for a live segment, not a render task")))
        }
        Some((LeaseOf::Check(_), _)) => {
            return Ok(Err(format!("lease {lease} is for a spot check, not a render task")))
        }
        Some((LeaseOf::Task(task), holder)) => (task, holder),
    };
    if holder != peer {
        return Ok(Err(format!("lease {lease} was granted to another worker")));
    }
    let task = store::task(conn, task_id)?.ok_or_else(|| corrupt("task", task_id))?;
    let job = store::job(conn, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
    if job.state == JobState::Cancelled {
        return Ok(Err("job cancelled".to_owned()));
    }
    if task.lease != Some(lease) || task.state != TaskState::Leased {
        return Ok(Err(format!(
            "lease {lease} has ended (it expired, or the connection closed); task {} is {}",
            task.id,
            task.state.as_str()
        )));
    }
    Ok(Ok((task, job)))
}

/// The video assembler thread: one job at a time, off the request paths.
/// It holds the farm weakly so that dropping the farm ends it.
fn assemble_videos(farm: Weak<Inner>, jobs: mpsc::Receiver<JobId>) {
    while let Ok(job) = jobs.recv() {
        let Some(inner) = farm.upgrade() else { return };
        if let Err(e) = assemble_video(&inner, job) {
            tracing::error!(%job, error = %e, "video assembly failed");
        }
    }
}

fn assemble_video(inner: &Inner, id: JobId) -> Result<(), FarmError> {
    let (job, frames) = {
        let db = inner.db();
        (find_job(&db, id)?, store::frames(&db, id)?)
    };
    if job.state != JobState::Running || job.video.is_some() {
        return Ok(());
    }
    let finish = |video: Option<&ContentId>, error: Option<&str>| {
        let now = inner.now_ms() / 1000;
        let mut db = inner.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Cancelled (or otherwise ended) while the video was made: leave it.
        if find_job(&tx, id)?.state != JobState::Running {
            return Ok::<_, FarmError>(());
        }
        if let Some(video) = video {
            store::set_job_video(&tx, id, video)?;
        }
        let state = if error.is_some() { JobState::Failed } else { JobState::Completed };
        store::set_job_state(&tx, id, state, Some(now), error)?;
        tx.commit()?;
        Ok(())
    };
    let cids = frames
        .iter()
        .map(|f| f.cid.ok_or_else(|| corrupt("done frame without content id", f.frame)))
        .collect::<Result<Vec<_>, _>>()?;
    let started = std::time::Instant::now();
    let out = inner.blobs.temp_path(&format!("job-{id}-video"), "mp4");
    let read_error = std::cell::RefCell::new(None);
    // EXR frames stay linear for compositing; the video shows them through
    // the same tonemap as PNG frames.
    let max_pixels = job.settings.width as usize * job.settings.height as usize;
    let pngs = cids.iter().map(|cid| {
        let frame = inner.blobs.read(cid).map_err(|e| e.to_string()).and_then(|bytes| {
            match job.settings.format {
                ImageFormat::Png => Ok(bytes),
                ImageFormat::Exr => renderer::Image::from_exr(&bytes, max_pixels)
                    .map(|image| image.to_png())
                    .map_err(|e| format!("frame {cid}: {e}")),
            }
        });
        frame.unwrap_or_else(|e| {
            read_error.borrow_mut().get_or_insert(e);
            Vec::new()
        })
    });
    let encoded = transcoder::encode_mp4_from_pngs(pngs, job.settings.fps, &out);
    let result = match (encoded, read_error.into_inner()) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.to_string()),
        (Ok(info), None) => Ok(info),
    };
    match result {
        Ok(info) => {
            let cid = inner.blobs.put_file(&out)?;
            tracing::info!(job = %id, %cid, frames = info.frames, width = info.width,
                height = info.height, seconds = started.elapsed().as_secs_f32(), "video assembled; job completed");
            finish(Some(&cid), None)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&out);
            let error =
                format!("all {} frames rendered, but the MP4 could not be made: {e}", cids.len());
            tracing::error!(job = %id, error, "video assembly failed");
            finish(None, Some(&error))
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Instant;

    use protocol::FrameSpec;

    use super::*;

    /// The render fields of an assignment, for tests that only render.
    #[derive(Clone, Debug, PartialEq)]
    pub(super) struct Leased {
        pub task: protocol::TaskId,
        pub lease: LeaseId,
        pub lease_ms: u64,
        pub job: JobId,
        pub frames: Vec<u32>,
        pub settings: RenderSettings,
    }

    pub(super) fn next(farm: &Farm, peer: &str) -> Result<Option<Leased>, FarmError> {
        Ok(farm.next_task(peer, Lane::Render)?.map(|t| match t.work {
            Work::Render(w) => Leased {
                task: w.task,
                lease: t.lease,
                lease_ms: t.lease_ms,
                job: w.job,
                frames: w.frames,
                settings: w.settings,
            },
            Work::Transcode(_) => panic!("a render lane got live work"),
        }))
    }

    const W: u32 = 16;
    const H: u32 = 12;

    pub(super) fn settings() -> FarmSettings {
        FarmSettings {
            lease_seconds: 30,
            max_scene_bytes: 1 << 20,
            max_task_failures: 3,
            worker_job_failures_to_blocklist: 3,
            default_chunk: 1,
            live: FarmSettings::from(&crate::config::Config::default()).live,
            verify: crate::farm::verify::unchecked(),
        }
    }

    pub(super) fn open(dir: &tempfile::TempDir) -> Farm {
        Farm::open(dir.path(), settings()).unwrap()
    }

    /// A scene row without going through the loader: these tests are about
    /// scheduling, not glTF.
    pub(super) fn scene(farm: &Farm) -> ContentId {
        let bytes = b"not really a scene".to_vec();
        let cid = farm.inner.blobs.put(&bytes).unwrap();
        farm.record_scene(&SceneInfo {
            cid,
            bytes: bytes.len() as u64,
            triangles: 12,
            cameras: vec!["Camera".into()],
            lights: 1,
            animation_seconds: 2.0,
        })
        .unwrap();
        cid
    }

    pub(super) fn request(scene: ContentId, frames: &str, chunk: u32, priority: i32) -> JobRequest {
        JobRequest {
            scene,
            name: format!("frames {frames}"),
            frames: FrameSpec::parse(frames).unwrap(),
            settings: RenderSettings { width: W, height: H, spp: 1, ..Default::default() },
            chunk,
            priority,
        }
    }

    pub(super) fn job(farm: &Farm, frames: &str, chunk: u32, priority: i32) -> JobId {
        let scene = scene(farm);
        farm.create_job(&request(scene, frames, chunk, priority)).unwrap()
    }

    /// Workers that render on the CPU say hello.
    pub(super) fn hello(farm: &Farm, peers: &[&str]) {
        hello_with(farm, peers, &["cpu"]);
    }

    pub(super) fn hello_with(farm: &Farm, peers: &[&str], backends: &[&str]) {
        for peer in peers {
            farm.worker_hello(peer, caps(backends)).unwrap();
        }
    }

    pub(super) fn caps(backends: &[&str]) -> Capabilities {
        Capabilities {
            render_backends: backends.iter().map(|b| (*b).to_owned()).collect(),
            ..Default::default()
        }
    }

    /// A job whose frames must be rendered with `backend`.
    pub(super) fn job_on(farm: &Farm, frames: &str, backend: &str) -> JobId {
        let mut req = request(scene(farm), frames, 1, 0);
        req.settings.backend = Some(backend.to_owned());
        farm.create_job(&req).unwrap()
    }

    /// A PNG with a gradient that differs per frame: passes the frame checks.
    pub(super) fn png(frame: u32, black: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, W, H);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let pixels: Vec<u8> = (0..W * H)
            .flat_map(|i| {
                let (x, y) = (i % W, i / W);
                [(x * 15) as u8, (y * 20) as u8, (frame * 40) as u8]
            })
            .map(|v| if black { 0 } else { v })
            .collect();
        writer.write_image_data(&pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    /// Uploads a frame for each of the task's frames and reports it done.
    pub(super) fn deliver(
        farm: &Farm,
        peer: &str,
        task: &Leased,
        black: &[u32],
    ) -> Result<(), String> {
        let outputs = task
            .frames
            .iter()
            .map(|&frame| {
                let bytes = png(frame, black.contains(&frame));
                let (a, b) = bytes.split_at(bytes.len() / 2);
                assert_eq!(farm.upload_chunk(peer, task.lease, frame, 0, a, false).unwrap(), None);
                let cid = farm
                    .upload_chunk(peer, task.lease, frame, a.len() as u64, b, true)
                    .unwrap()
                    .unwrap();
                assert_eq!(cid, ContentId::of(&bytes));
                TaskOutput { output: frame, cid }
            })
            .collect();
        complete_signed(farm, peer, task.lease, outputs, Some("cpu")).unwrap()
    }

    /// Reports a result with the receipt `peer`'s test key signs.
    pub(super) fn complete_signed(
        farm: &Farm,
        peer: &str,
        lease: LeaseId,
        outputs: Vec<TaskOutput>,
        engine: Option<&str>,
    ) -> Result<Result<(), String>, FarmError> {
        let digest = store::verify::lease_digest(&farm.db(), lease).unwrap().unwrap_or([0; 32]);
        let message = protocol::receipt::receipt_message(lease, &digest, &outputs, engine);
        let signature = verify::test_keypair(peer).sign(&message).unwrap();
        farm.complete(peer, lease, outputs, engine, &signature)
    }

    pub(super) fn frame_states(farm: &Farm, job: JobId) -> Vec<FrameState> {
        farm.job_detail(job).unwrap().frames.iter().map(|f| f.state).collect()
    }

    fn wait_for_final(farm: &Farm, job: JobId) -> JobDetail {
        let start = Instant::now();
        loop {
            let detail = farm.job_detail(job).unwrap();
            if detail.summary.state.is_final() {
                return detail;
            }
            assert!(start.elapsed().as_secs() < 60, "job {job} never ended: {detail:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn higher_priority_then_older_jobs_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let low = job(&farm, "1", 1, 0);
        let high = job(&farm, "1", 1, 5);
        let high_later = job(&farm, "1", 1, 5);
        hello(&farm, &["w"]);
        let order: Vec<JobId> = (0..3).map(|_| next(&farm, "w").unwrap().unwrap().job).collect();
        assert_eq!(order, [high, high_later, low]);
        assert_eq!(next(&farm, "w").unwrap(), None);
    }

    #[test]
    fn tasks_carry_chunked_frames_and_the_job_starts_running() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1-5", 2, 0);
        assert_eq!(farm.job_summary(id).unwrap().state, JobState::Queued);
        // Nothing before a hello says what the worker can render.
        assert_eq!(next(&farm, "w").unwrap(), None);
        hello(&farm, &["w"]);
        let task = next(&farm, "w").unwrap().unwrap();
        assert_eq!(task.frames, [1, 2]);
        assert_eq!(task.lease_ms, 30_000);
        assert_eq!(task.settings.width, W);
        assert_eq!(farm.job_summary(id).unwrap().state, JobState::Running);
        let states = frame_states(&farm, id);
        assert_eq!(states[..2], [FrameState::Rendering, FrameState::Rendering]);
        assert_eq!(states[2], FrameState::Queued);
    }

    #[test]
    fn expired_lease_requeues_the_task_without_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["a", "b"]);
        let first = next(&farm, "a").unwrap().unwrap();
        farm.advance_clock(10_000);
        assert_eq!(farm.renew("a", first.lease).unwrap(), Renewal::Renewed);
        farm.advance_clock(29_000);
        assert_eq!(farm.expire_leases().unwrap(), 0, "renewal extended the lease");
        farm.advance_clock(2_000);
        assert_eq!(farm.expire_leases().unwrap(), 1);
        assert!(matches!(farm.renew("a", first.lease).unwrap(), Renewal::Lost(_)));
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
        // No failure was counted, so "a" itself may take it again.
        let again = next(&farm, "a").unwrap().unwrap();
        assert_eq!(again.task, first.task);
        assert_ne!(again.lease, first.lease);
        assert_eq!(farm.job_detail(id).unwrap().frames[0].attempts, 2);
    }

    #[test]
    fn disconnected_worker_loses_its_tasks_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1-2", 1, 0);
        hello(&farm, &["a", "b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        farm.worker_disconnected("a");
        assert_eq!(frame_states(&farm, id), [FrameState::Queued, FrameState::Queued]);
        assert_eq!(next(&farm, "b").unwrap().unwrap().task, task.task);
        let workers = farm.workers().unwrap();
        let a = workers.iter().find(|w| w.peer_id == "a").unwrap();
        assert!(!a.connected);
        assert_eq!(a.tasks_failed, 0);
    }

    #[test]
    fn three_failures_on_different_workers_fail_the_frames() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["a", "b", "c", "d"]);
        for (i, peer) in ["a", "b", "c"].into_iter().enumerate() {
            let task = next(&farm, peer).unwrap().unwrap();
            farm.fail(peer, task.lease, &format!("out of memory #{i}")).unwrap();
            // A worker never gets back a task it failed.
            assert_eq!(next(&farm, peer).unwrap(), None);
        }
        let detail = farm.job_detail(id).unwrap();
        assert_eq!(detail.summary.state, JobState::Failed);
        assert_eq!(detail.frames[0].state, FrameState::Failed);
        assert_eq!(detail.frames[0].error.as_deref(), Some("out of memory #2"));
        let error = detail.error.unwrap();
        assert!(error.contains("frame 1: out of memory #2"), "{error}");
        assert_eq!(next(&farm, "d").unwrap(), None);
    }

    #[test]
    fn a_failure_requeues_the_task_for_other_workers() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["a", "b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        farm.fail("a", task.lease, "renderer crashed").unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
        assert_eq!(next(&farm, "a").unwrap(), None);
        assert_eq!(next(&farm, "b").unwrap().unwrap().task, task.task);
    }

    #[test]
    fn task_fails_once_every_connected_worker_has_failed_it() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["only"]);
        let task = next(&farm, "only").unwrap().unwrap();
        farm.fail("only", task.lease, "no GPU").unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Failed]);
        assert_eq!(farm.job_summary(id).unwrap().state, JobState::Failed);
    }

    #[test]
    fn worker_failing_three_tasks_of_a_job_is_blocklisted_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let bad_job = job(&farm, "1-4", 1, 5);
        let other_job = job(&farm, "1", 1, 0);
        hello(&farm, &["flaky", "b", "c"]);
        for _ in 0..3 {
            let task = next(&farm, "flaky").unwrap().unwrap();
            assert_eq!(task.job, bad_job);
            farm.fail("flaky", task.lease, "segfault").unwrap();
        }
        // Task 4 of the job is still queued, but "flaky" only gets other work.
        let other = next(&farm, "flaky").unwrap().unwrap();
        assert_eq!(other.job, other_job);
        assert_eq!(next(&farm, "b").unwrap().unwrap().job, bad_job);
        assert_eq!(
            farm.workers().unwrap().iter().find(|w| w.peer_id == "flaky").unwrap().tasks_failed,
            3
        );
    }

    #[test]
    fn stale_lease_is_rejected_and_nothing_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["slow", "fast"]);
        let stale = next(&farm, "slow").unwrap().unwrap();
        farm.advance_clock(31_000);
        farm.expire_leases().unwrap();
        let fresh = next(&farm, "fast").unwrap().unwrap();
        assert_eq!(fresh.task, stale.task);

        let bytes = png(1, false);
        assert!(matches!(
            farm.upload_chunk("slow", stale.lease, 1, 0, &bytes, true),
            Err(FarmError::Conflict(_))
        ));
        let outputs = vec![TaskOutput { output: 1, cid: ContentId::of(&bytes) }];
        let verdict = complete_signed(&farm, "slow", stale.lease, outputs, None).unwrap();
        assert!(verdict.unwrap_err().contains("has ended"));
        assert!(matches!(farm.fail("slow", stale.lease, "late"), Err(FarmError::Conflict(_))));
        // Someone else's lease is not ours either.
        assert!(matches!(farm.renew("slow", fresh.lease).unwrap(), Renewal::Lost(_)));
        assert_eq!(frame_states(&farm, id), [FrameState::Rendering]);
        assert_eq!(farm.workers().unwrap().iter().map(|w| w.tasks_failed).sum::<u64>(), 0);
        deliver(&farm, "fast", &fresh, &[]).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Done]);
    }

    #[test]
    fn report_that_does_not_match_the_uploads_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["liar", "b"]);
        let task = next(&farm, "liar").unwrap().unwrap();
        let bytes = png(1, false);
        farm.upload_chunk("liar", task.lease, 1, 0, &bytes, true).unwrap();
        let claimed = vec![TaskOutput { output: 1, cid: ContentId::of(b"something else") }];
        let reason =
            complete_signed(&farm, "liar", task.lease, claimed, None).unwrap().unwrap_err();
        assert!(reason.contains("hashes to"), "{reason}");
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
        assert_eq!(next(&farm, "liar").unwrap(), None);
    }

    #[test]
    fn defective_frame_is_a_failure_and_is_not_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1-2", 2, 0);
        hello(&farm, &["a", "b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        let reason = deliver(&farm, "a", &task, &[2]).unwrap_err();
        assert!(reason.contains("frame 2") && reason.contains("black"), "{reason}");
        let detail = farm.job_detail(id).unwrap();
        assert_eq!(detail.frames[0].state, FrameState::Done);
        assert_eq!(detail.frames[1].state, FrameState::Queued);
        assert!(farm.frame_file(id, 2).is_err());
        // Only the defective frame is rendered again.
        let retry = next(&farm, "b").unwrap().unwrap();
        assert_eq!(retry.frames, [2]);
        deliver(&farm, "b", &retry, &[]).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Done, FrameState::Done]);
    }

    #[test]
    fn finished_png_job_gets_its_video_then_completes() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1-3", 2, 0);
        hello(&farm, &["a"]);
        while let Some(task) = next(&farm, "a").unwrap() {
            deliver(&farm, "a", &task, &[]).unwrap();
        }
        let detail = wait_for_final(&farm, id);
        assert_eq!(detail.summary.state, JobState::Completed, "{:?}", detail.error);
        assert_eq!(detail.summary.frames_done, 3);
        assert!(detail.summary.finished_at.is_some());
        let video = std::fs::read(farm.video_file(id).unwrap()).unwrap();
        assert_eq!(ContentId::of(&video), detail.video.unwrap());
        assert_eq!(&video[4..8], b"ftyp");
        let (path, format) = farm.frame_file(id, 2).unwrap();
        assert_eq!(format, ImageFormat::Png);
        assert_eq!(std::fs::read(path).unwrap(), png(2, false));
        assert_eq!(farm.workers().unwrap()[0].tasks_done, 2);
    }

    #[test]
    fn cancelled_job_stops_its_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1-3", 1, 0);
        hello(&farm, &["a"]);
        let task = next(&farm, "a").unwrap().unwrap();
        let summary = farm.cancel_job(id).unwrap();
        assert_eq!(summary.state, JobState::Cancelled);
        assert_eq!(farm.renew("a", task.lease).unwrap(), Renewal::Lost("job cancelled".into()));
        assert_eq!(next(&farm, "a").unwrap(), None);
        assert_eq!(frame_states(&farm, id), [FrameState::Cancelled; 3]);
        assert!(matches!(farm.cancel_job(id), Err(FarmError::Conflict(_))));
        assert!(farm.video_file(id).unwrap_err().to_string().contains("cancelled"));
    }

    #[test]
    fn hello_requeues_the_workers_earlier_leases() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["a"]);
        let task = next(&farm, "a").unwrap().unwrap();
        // A hello comes only on a fresh connection, from a worker that has
        // dropped whatever it was doing.
        hello(&farm, &["a"]);
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
        assert!(matches!(farm.renew("a", task.lease).unwrap(), Renewal::Lost(_)));
        assert_eq!(next(&farm, "a").unwrap().unwrap().frames, [1]);
    }

    #[test]
    fn restart_resumes_the_job_keeping_done_frames_and_leases() {
        let dir = tempfile::tempdir().unwrap();
        let (id, in_flight) = {
            let farm = open(&dir);
            let id = job(&farm, "1-3", 1, 0);
            hello(&farm, &["a"]);
            let first = next(&farm, "a").unwrap().unwrap();
            deliver(&farm, "a", &first, &[]).unwrap();
            (id, next(&farm, "a").unwrap().unwrap())
        };
        let farm = open(&dir);
        assert_eq!(
            frame_states(&farm, id),
            [FrameState::Done, FrameState::Rendering, FrameState::Queued]
        );
        // The worker's lease survived the restart.
        assert_eq!(farm.renew("a", in_flight.lease).unwrap(), Renewal::Renewed);
        hello(&farm, &["b"]);
        let last = next(&farm, "b").unwrap().unwrap();
        assert_eq!(last.frames, [3]);
        deliver(&farm, "a", &in_flight, &[]).unwrap();
        deliver(&farm, "b", &last, &[]).unwrap();
        assert_eq!(next(&farm, "b").unwrap(), None);
        let detail = wait_for_final(&farm, id);
        assert_eq!(detail.summary.state, JobState::Completed, "{:?}", detail.error);
        // Frame 1 was handed out once, before the restart, and never again.
        assert_eq!(detail.frames[0].attempts, 1);
    }

    #[test]
    fn job_requests_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let cid = scene(&farm);
        let invalid = |req: JobRequest| match farm.create_job(&req) {
            Err(FarmError::Invalid(message)) => message,
            other => panic!("expected a validation error, got {other:?}"),
        };
        let mut req = request(ContentId::of(b"unknown"), "1", 1, 0);
        assert!(invalid(req.clone()).contains("upload it first"));
        req.scene = cid;
        req.chunk = MAX_CHUNK + 1;
        assert!(invalid(req.clone()).contains("chunk"));
        req.chunk = 1;
        req.settings.spp = 0;
        assert!(invalid(req.clone()).contains("spp"));
        req.settings.spp = 1;
        req.settings.backend = Some("optix".into());
        let message = invalid(req.clone());
        assert!(message.contains("optix") && message.contains("vulkan-rt"), "{message}");
        req.settings.backend = None;
        req.settings.camera = Some("Nope".into());
        let message = invalid(req.clone());
        assert!(message.contains("Nope") && message.contains("Camera"), "{message}");
        req.settings.camera = Some("Camera".into());
        req.chunk = 0;
        let id = farm.create_job(&req).unwrap();
        assert_eq!(farm.job_detail(id).unwrap().chunk, 1, "chunk 0 takes default_chunk");
        assert!(matches!(farm.job_detail(JobId(999)), Err(FarmError::NotFound(_))));
    }

    #[test]
    fn invalid_scene_bytes_are_refused_with_the_loaders_reason() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let err = farm.add_scene(b"definitely not glTF").unwrap_err();
        assert!(matches!(err, FarmError::Invalid(_)), "{err}");
        let err = farm.add_scene(&vec![0; (1 << 20) + 1]).unwrap_err();
        assert!(matches!(err, FarmError::TooLarge(_)), "{err}");
    }

    #[test]
    fn sample_scene_is_accepted_and_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let farm =
            Farm::open(dir.path(), FarmSettings { max_scene_bytes: 256 << 20, ..settings() })
                .unwrap();
        let bytes = samples::cornell_box_animated();
        let info = farm.add_scene(&bytes).unwrap();
        assert_eq!(info.cid, ContentId::of(&bytes));
        assert!(info.triangles > 0 && !info.cameras.is_empty());
        let mut req = request(info.cid, "1-2", 1, 0);
        req.settings.camera = Some(info.cameras[0].clone());
        farm.create_job(&req).unwrap();
        assert_eq!(farm.read_blob(&info.cid, 0).unwrap().0, bytes.len() as u64);
    }

    #[test]
    fn a_job_asking_for_a_backend_goes_only_to_workers_that_have_it() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let gpu_job = job_on(&farm, "1", "vulkan-rt");
        hello_with(&farm, &["cpu-only"], &["cpu"]);
        assert_eq!(next(&farm, "cpu-only").unwrap(), None);
        // The artist sees why it waits.
        let waiting = farm.job_summary(gpu_job).unwrap().waiting.unwrap();
        assert!(waiting.contains("vulkan-rt") && waiting.contains("they have cpu"), "{waiting}");
        // A job that asks for nothing goes to any worker with a backend.
        let any = job(&farm, "1", 1, 0);
        assert_eq!(next(&farm, "cpu-only").unwrap().unwrap().job, any);
        assert_eq!(farm.job_summary(any).unwrap().waiting, None);
        // A worker without any render backend gets no render work.
        hello_with(&farm, &["live-only"], &[]);
        job(&farm, "1", 1, 0);
        assert_eq!(next(&farm, "live-only").unwrap(), None);

        hello_with(&farm, &["gpu"], &["vulkan-rt", "cpu"]);
        assert_eq!(farm.job_summary(gpu_job).unwrap().waiting, None);
        let task = next(&farm, "gpu").unwrap().unwrap();
        assert_eq!((task.job, task.settings.backend.as_deref()), (gpu_job, Some("vulkan-rt")));
        assert_eq!(next(&farm, "cpu-only").unwrap().map(|t| t.job), Some(JobId(3)));
    }

    #[test]
    fn a_failure_fails_a_backend_job_once_no_other_worker_has_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job_on(&farm, "1", "vulkan-compute");
        hello_with(&farm, &["gpu"], &["vulkan-compute", "cpu"]);
        hello_with(&farm, &["cpu-a", "cpu-b"], &["cpu"]);
        let task = next(&farm, "gpu").unwrap().unwrap();
        farm.fail("gpu", task.lease, "shader compile error").unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Failed]);
    }

    #[test]
    fn a_device_failure_requeues_the_task_without_counting_it() {
        let dir = tempfile::tempdir().unwrap();
        let farm = open(&dir);
        let id = job(&farm, "1", 1, 0);
        let gpu_job = job_on(&farm, "1", "vulkan-rt");
        hello_with(&farm, &["only"], &["vulkan-rt", "cpu"]);
        let task = next(&farm, "only").unwrap().unwrap();
        assert_eq!(task.job, id);
        // The worker takes the failed backend out of service and says so,
        // then hands the task back; its lease is kept until then.
        farm.worker_announce("only", caps(&["cpu"])).unwrap();
        assert_eq!(farm.renew("only", task.lease).unwrap(), Renewal::Renewed);
        farm.hand_back("only", task.lease, "vulkan-rt: VK_ERROR_DEVICE_LOST").unwrap();
        assert!(matches!(farm.renew("only", task.lease).unwrap(), Renewal::Lost(_)));
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
        assert_eq!(farm.workers().unwrap()[0].tasks_failed, 0);
        assert_eq!(farm.workers().unwrap()[0].capabilities.render_backends, ["cpu"]);
        // The same worker may take it again, on its next backend; the job
        // that needs the lost backend now waits for another worker.
        let again = next(&farm, "only").unwrap().unwrap();
        assert_eq!((again.task, again.frames.clone()), (task.task, vec![1]));
        deliver(&farm, "only", &again, &[]).unwrap();
        assert_eq!(next(&farm, "only").unwrap(), None);
        let waiting = farm.job_summary(gpu_job).unwrap().waiting.unwrap();
        assert!(waiting.contains("vulkan-rt"), "{waiting}");
        assert!(matches!(farm.hand_back("only", task.lease, "late"), Err(FarmError::Conflict(_))));
    }
}
