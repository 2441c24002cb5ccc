//! The job store: SQLite (WAL) holding scenes, jobs, tasks, leases, frames,
//! failures, blocklists, uploads and workers, and live streams with their
//! broadcasts, segments and renditions (in [`live`]), so that an
//! orchestrator killed at any moment resumes every job where it was and
//! every recording stays playable.
//!
//! This module knows the schema and how to read and write rows; the rules
//! (who gets which task, when a frame has failed) live in `farm.rs`. Every
//! change that touches more than one row runs inside one transaction there.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use protocol::api::{FrameState, JobState};
use protocol::{ContentId, FrameSpec, JobId, LeaseId, RenderSettings, TaskId};
use rusqlite::{params, Connection, OptionalExtension, Row};

pub mod ledger;
pub mod live;
pub mod verify;

/// Bumped whenever the schema changes; `open` migrates older databases.
pub const SCHEMA_VERSION: i64 = 3;

const SCHEMA_V1: &str = "
CREATE TABLE scenes (
    cid TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    summary TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    scene TEXT NOT NULL REFERENCES scenes(cid),
    frame_spec TEXT NOT NULL,
    settings TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    finished INTEGER,
    video TEXT,
    error TEXT
);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job INTEGER NOT NULL REFERENCES jobs(id),
    frames TEXT NOT NULL,
    state TEXT NOT NULL,
    lease INTEGER,
    lease_worker TEXT,
    lease_expires INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_by_state ON tasks(state, job);
CREATE INDEX tasks_by_worker ON tasks(lease_worker) WHERE state = 'leased';
CREATE TABLE leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task INTEGER NOT NULL REFERENCES tasks(id),
    worker TEXT NOT NULL,
    granted INTEGER NOT NULL,
    ended INTEGER
);
CREATE TABLE frames (
    job INTEGER NOT NULL REFERENCES jobs(id),
    frame INTEGER NOT NULL,
    task INTEGER NOT NULL REFERENCES tasks(id),
    state TEXT NOT NULL,
    cid TEXT,
    worker TEXT,
    error TEXT,
    PRIMARY KEY (job, frame)
);
CREATE INDEX frames_by_task ON frames(task);
CREATE TABLE task_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task INTEGER NOT NULL REFERENCES tasks(id),
    worker TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX task_failures_by_task ON task_failures(task, worker);
CREATE TABLE blocklist (
    job INTEGER NOT NULL REFERENCES jobs(id),
    worker TEXT NOT NULL,
    PRIMARY KEY (job, worker)
);
CREATE TABLE uploads (
    lease INTEGER NOT NULL REFERENCES leases(id),
    frame INTEGER NOT NULL,
    cid TEXT NOT NULL,
    PRIMARY KEY (lease, frame)
);
CREATE TABLE workers (
    peer TEXT PRIMARY KEY,
    capabilities TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    tasks_done INTEGER NOT NULL DEFAULT 0,
    tasks_failed INTEGER NOT NULL DEFAULT 0
);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("job store holds a malformed {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error(
        "job store {path} has schema version {found}, newer than this orchestrator's \
         {SCHEMA_VERSION}: run a newer mosaic-orchestrator or another --data-dir"
    )]
    TooNew { path: String, found: i64 },
}

fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt { what, detail: detail.to_string() }
}

/// Opens (creating or migrating) the database at `path`.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.display().to_string(), found: version });
    }
    // Migrations rebuild tables that others reference, which foreign key
    // enforcement would refuse mid-way; it is switched on (and the result
    // checked) once they are done. The pragma is a no-op in a transaction.
    conn.pragma_update(None, "foreign_keys", false)?;
    if version < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_V1)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    if version < 2 {
        let tx = conn.transaction()?;
        tx.execute_batch(live::SCHEMA_V2)?;
        tx.pragma_update(None, "user_version", 2)?;
        tx.commit()?;
    }
    if version < 3 {
        let tx = conn.transaction()?;
        tx.execute_batch(verify::SCHEMA_V3)?;
        tx.pragma_update(None, "user_version", 3)?;
        tx.commit()?;
    }
    let broken: Option<String> =
        conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
    if let Some(table) = broken {
        return Err(corrupt("foreign key", format!("a row of {table} points nowhere")));
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// A task's life: queued -> leased -> done, or back to queued, or failed or
/// cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    Queued,
    Leased,
    Done,
    Failed,
    Cancelled,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Leased => "leased",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }
}

impl FromStr for TaskState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "queued" => TaskState::Queued,
            "leased" => TaskState::Leased,
            "done" => TaskState::Done,
            "failed" => TaskState::Failed,
            "cancelled" => TaskState::Cancelled,
            _ => return Err(corrupt("task state", s)),
        })
    }
}

pub fn parse_job_state(s: &str) -> Result<JobState, StoreError> {
    Ok(match s {
        "queued" => JobState::Queued,
        "running" => JobState::Running,
        "completed" => JobState::Completed,
        "failed" => JobState::Failed,
        "cancelled" => JobState::Cancelled,
        _ => return Err(corrupt("job state", s)),
    })
}

pub fn parse_frame_state(s: &str) -> Result<FrameState, StoreError> {
    Ok(match s {
        "queued" => FrameState::Queued,
        "rendering" => FrameState::Rendering,
        "verifying" => FrameState::Verifying,
        "done" => FrameState::Done,
        "failed" => FrameState::Failed,
        "cancelled" => FrameState::Cancelled,
        _ => return Err(corrupt("frame state", s)),
    })
}

fn parse_cid(s: &str) -> Result<ContentId, StoreError> {
    s.parse().map_err(|e| corrupt("content id", e))
}

fn opt_cid(s: Option<String>) -> Result<Option<ContentId>, StoreError> {
    s.as_deref().map(parse_cid).transpose()
}

// ---------------------------------------------------------------- scenes

pub struct SceneRow {
    pub bytes: u64,
    /// The loader's summary, as JSON (`api::SceneInfo` fields).
    pub summary: String,
}

pub fn insert_scene(
    conn: &Connection,
    cid: &ContentId,
    bytes: u64,
    summary: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO scenes (cid, bytes, summary, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (cid) DO NOTHING",
        params![cid.to_hex(), bytes as i64, summary, now],
    )?;
    Ok(())
}

pub fn scene(conn: &Connection, cid: &ContentId) -> Result<Option<SceneRow>, StoreError> {
    let row = conn
        .query_row("SELECT bytes, summary FROM scenes WHERE cid = ?1", params![cid.to_hex()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    Ok(row.map(|(bytes, summary)| SceneRow { bytes: bytes as u64, summary }))
}

// ---------------------------------------------------------------- jobs

#[derive(Clone, Debug)]
pub struct JobRow {
    pub id: JobId,
    pub name: String,
    pub scene: ContentId,
    pub frame_spec: FrameSpec,
    pub settings: RenderSettings,
    pub chunk: u32,
    pub priority: i32,
    pub state: JobState,
    pub created: i64,
    pub finished: Option<i64>,
    pub video: Option<ContentId>,
    pub error: Option<String>,
}

const JOB_COLUMNS: &str = "id, name, scene, frame_spec, settings, chunk, priority, state, \
                           created, finished, video, error";

fn job_from_row(r: &Row) -> Result<Result<JobRow, StoreError>, rusqlite::Error> {
    let scene: String = r.get(2)?;
    let spec: String = r.get(3)?;
    let settings: String = r.get(4)?;
    let state: String = r.get(7)?;
    let video: Option<String> = r.get(10)?;
    let (id, name, chunk, priority, created, finished, error) =
        (r.get(0)?, r.get(1)?, r.get(5)?, r.get(6)?, r.get(8)?, r.get(9)?, r.get(11)?);
    Ok((|| {
        Ok(JobRow {
            id: JobId(id),
            name,
            scene: parse_cid(&scene)?,
            frame_spec: FrameSpec::parse(&spec).map_err(|e| corrupt("frame spec", e))?,
            settings: serde_json::from_str(&settings).map_err(|e| corrupt("settings", e))?,
            chunk,
            priority,
            state: parse_job_state(&state)?,
            created,
            finished,
            video: opt_cid(video)?,
            error,
        })
    })())
}

pub struct NewJob<'a> {
    pub name: &'a str,
    pub scene: &'a ContentId,
    pub frame_spec: &'a FrameSpec,
    pub settings: &'a RenderSettings,
    pub chunk: u32,
    pub priority: i32,
}

/// Inserts a job with one queued task per `chunk` frames, and its frames.
pub fn insert_job(conn: &Connection, job: &NewJob, now: i64) -> Result<JobId, StoreError> {
    let settings = serde_json::to_string(job.settings).map_err(|e| corrupt("settings", e))?;
    conn.execute(
        "INSERT INTO jobs (name, scene, frame_spec, settings, chunk, priority, state, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7)",
        params![
            job.name,
            job.scene.to_hex(),
            job.frame_spec.to_string(),
            settings,
            job.chunk,
            job.priority,
            now
        ],
    )?;
    let id = JobId(conn.last_insert_rowid());
    let mut task_stmt =
        conn.prepare("INSERT INTO tasks (job, frames, state) VALUES (?1, ?2, 'queued')")?;
    let mut frame_stmt =
        conn.prepare("INSERT INTO frames (job, frame, task, state) VALUES (?1, ?2, ?3, 'queued')")?;
    for frames in job.frame_spec.frames().chunks(job.chunk.max(1) as usize) {
        let json = serde_json::to_string(frames).expect("frame numbers serialize");
        task_stmt.execute(params![id.0, json])?;
        let task = conn.last_insert_rowid();
        for frame in frames {
            frame_stmt.execute(params![id.0, frame, task])?;
        }
    }
    Ok(id)
}

pub fn job(conn: &Connection, id: JobId) -> Result<Option<JobRow>, StoreError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
    conn.query_row(&sql, params![id.0], job_from_row).optional()?.transpose()
}

/// Every job, newest first.
pub fn jobs(conn: &Connection) -> Result<Vec<JobRow>, StoreError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], job_from_row)?;
    rows.map(|r| r?).collect()
}

pub fn set_job_state(
    conn: &Connection,
    id: JobId,
    state: JobState,
    finished: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE jobs SET state = ?2, finished = ?3, error = ?4 WHERE id = ?1",
        params![id.0, state.as_str(), finished, error],
    )?;
    Ok(())
}

pub fn set_job_video(conn: &Connection, id: JobId, video: &ContentId) -> Result<(), StoreError> {
    conn.execute("UPDATE jobs SET video = ?2 WHERE id = ?1", params![id.0, video.to_hex()])?;
    Ok(())
}

/// Jobs whose frames are all done but whose video was never assembled
/// (the orchestrator stopped while assembling it).
pub fn jobs_awaiting_video(conn: &Connection) -> Result<Vec<JobId>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.video IS NULL
         AND NOT EXISTS (SELECT 1 FROM frames f WHERE f.job = j.id AND f.state != 'done')",
    )?;
    let ids = stmt.query_map([], |r| r.get(0).map(JobId))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

/// Frames of a job by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounts {
    pub total: u32,
    pub queued: u32,
    pub rendering: u32,
    pub verifying: u32,
    pub done: u32,
    pub failed: u32,
    pub cancelled: u32,
}

impl FrameCounts {
    /// No frame is still waiting, rendering or being verified.
    pub fn all_ended(&self) -> bool {
        self.queued == 0 && self.rendering == 0 && self.verifying == 0
    }
}

pub fn frame_counts(conn: &Connection, job: JobId) -> Result<FrameCounts, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT state, COUNT(*) FROM frames WHERE job = ?1 GROUP BY state")?;
    let mut counts = FrameCounts::default();
    let rows =
        stmt.query_map(params![job.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        counts.total += n;
        match parse_frame_state(&state)? {
            FrameState::Queued => counts.queued += n,
            FrameState::Rendering => counts.rendering += n,
            FrameState::Verifying => counts.verifying += n,
            FrameState::Done => counts.done += n,
            FrameState::Failed => counts.failed += n,
            FrameState::Cancelled => counts.cancelled += n,
        }
    }
    Ok(counts)
}

// ---------------------------------------------------------------- frames

#[derive(Clone, Debug)]
pub struct FrameRow {
    pub frame: u32,
    pub state: FrameState,
    pub worker: Option<String>,
    pub cid: Option<ContentId>,
    pub error: Option<String>,
    pub attempts: u32,
}

/// A job's frames in order, with how often each one's task was handed out.
pub fn frames(conn: &Connection, job: JobId) -> Result<Vec<FrameRow>, StoreError> {
    frames_where(conn, "f.job = ?1", params![job.0])
}

pub fn frame(conn: &Connection, job: JobId, frame: u32) -> Result<Option<FrameRow>, StoreError> {
    Ok(frames_where(conn, "f.job = ?1 AND f.frame = ?2", params![job.0, frame])?.pop())
}

fn frames_where(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<FrameRow>, StoreError> {
    let sql = format!(
        "SELECT f.frame, f.state, f.worker, f.cid, f.error, t.attempts
         FROM frames f JOIN tasks t ON t.id = f.task WHERE {condition} ORDER BY f.frame"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, u32>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (frame, state, worker, cid, error, attempts) = row?;
        Ok(FrameRow {
            frame,
            state: parse_frame_state(&state)?,
            worker,
            cid: opt_cid(cid)?,
            error,
            attempts,
        })
    })
    .collect()
}

/// Sets the state of a task's frames that are not yet done.
pub fn set_task_frames(
    conn: &Connection,
    task: TaskId,
    state: FrameState,
    worker: Option<&str>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE frames SET state = ?2, worker = ?3, error = ?4 WHERE task = ?1 AND state != 'done'",
        params![task.0, state.as_str(), worker, error],
    )?;
    Ok(())
}

/// Sets one frame's state, content id and worker (verification moves
/// frames between `verifying` and `done`, and swaps in the majority's
/// output).
pub fn set_frame(
    conn: &Connection,
    job: JobId,
    frame: u32,
    state: FrameState,
    cid: &ContentId,
    worker: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE frames SET state = ?3, cid = ?4, worker = ?5, error = NULL
         WHERE job = ?1 AND frame = ?2",
        params![job.0, frame, state.as_str(), cid.to_hex(), worker],
    )?;
    Ok(())
}

/// Cancels a job's frames that are waiting, rendering or being verified.
pub fn cancel_open_frames(conn: &Connection, job: JobId) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE frames SET state = 'cancelled' WHERE job = ?1
         AND state IN ('queued', 'rendering', 'verifying')",
        params![job.0],
    )?;
    Ok(())
}

/// Failed frames of a job with their reasons, in order.
pub fn failed_frames(conn: &Connection, job: JobId) -> Result<Vec<(u32, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT frame, COALESCE(error, 'unknown') FROM frames
         WHERE job = ?1 AND state = 'failed' ORDER BY frame",
    )?;
    let rows = stmt.query_map(params![job.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------- tasks

#[derive(Clone, Debug)]
pub struct TaskRow {
    pub id: TaskId,
    pub job: JobId,
    pub frames: Vec<u32>,
    pub state: TaskState,
    /// The current lease, while leased.
    pub lease: Option<LeaseId>,
}

const TASK_COLUMNS: &str = "id, job, frames, state, lease";

fn task_from_row(r: &Row) -> Result<Result<TaskRow, StoreError>, rusqlite::Error> {
    let frames: String = r.get(2)?;
    let state: String = r.get(3)?;
    let (id, job, lease) = (r.get(0)?, r.get(1)?, r.get::<_, Option<i64>>(4)?);
    Ok((|| {
        Ok(TaskRow {
            id: TaskId(id),
            job: JobId(job),
            frames: serde_json::from_str(&frames).map_err(|e| corrupt("task frames", e))?,
            state: state.parse()?,
            lease: lease.map(LeaseId),
        })
    })())
}

pub fn task(conn: &Connection, id: TaskId) -> Result<Option<TaskRow>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1");
    conn.query_row(&sql, params![id.0], task_from_row).optional()?.transpose()
}

fn tasks_where(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<TaskRow>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE {condition} ORDER BY id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, task_from_row)?;
    rows.map(|r| r?).collect()
}

/// Tasks leased to `peer`.
pub fn tasks_leased_to(conn: &Connection, peer: &str) -> Result<Vec<TaskRow>, StoreError> {
    tasks_where(conn, "state = 'leased' AND lease_worker = ?1", params![peer])
}

/// Leased tasks whose lease ran out before `now` (unix ms).
pub fn tasks_expired(conn: &Connection, now: i64) -> Result<Vec<TaskRow>, StoreError> {
    tasks_where(conn, "state = 'leased' AND lease_expires < ?1", params![now])
}

/// Queued or leased tasks of a job.
pub fn tasks_open(conn: &Connection, job: JobId) -> Result<Vec<TaskRow>, StoreError> {
    tasks_where(conn, "job = ?1 AND state IN ('queued', 'leased')", params![job.0])
}

/// The task `peer` should get next: from the highest-priority, oldest job
/// that has not blocklisted it, the first queued task it has not failed.
pub fn next_queued_task(
    conn: &Connection,
    peer: &str,
    backends: &[String],
) -> Result<Option<TaskId>, StoreError> {
    let sql = format!(
        "SELECT t.id FROM tasks t JOIN jobs j ON j.id = t.job
         WHERE t.state = 'queued' AND j.state IN ('queued', 'running') AND {}
           AND NOT EXISTS (SELECT 1 FROM blocklist b WHERE b.job = t.job AND b.worker = ?1)
           AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE f.task = t.id AND f.worker = ?1)
         ORDER BY j.priority DESC, j.created ASC, j.id ASC, t.id ASC LIMIT 1",
        backend_fits(2)
    );
    let id =
        conn.query_row(&sql, params![peer, backends_json(backends)], |r| r.get(0)).optional()?;
    Ok(id.map(TaskId))
}

/// SQL that holds when job `j` may go to a worker whose render backends
/// are the JSON array bound to `?{param}`: it has one, and the one the job
/// asks for (`settings.backend`) if it asks.
pub(crate) fn backend_fits(param: usize) -> String {
    format!(
        "(json_array_length(?{param}) > 0
          AND (json_extract(j.settings, '$.backend') IS NULL
               OR json_extract(j.settings, '$.backend') IN (SELECT value FROM json_each(?{param}))))"
    )
}

/// A worker's render backends as [`backend_fits`] takes them.
pub(crate) fn backends_json(backends: &[String]) -> String {
    serde_json::to_string(backends).expect("strings serialise")
}

/// What a lease was granted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseOf {
    Task(TaskId),
    Segment(protocol::SegmentId),
    /// A spot check of a task or segment (see [`verify`]).
    Check(i64),
}

/// Hands `task` to `peer` under a new lease expiring at `expires` (unix ms).
pub fn lease_task(
    conn: &Connection,
    task: TaskId,
    peer: &str,
    now: i64,
    expires: i64,
) -> Result<LeaseId, StoreError> {
    conn.execute(
        "INSERT INTO leases (task, worker, granted) VALUES (?1, ?2, ?3)",
        params![task.0, peer, now],
    )?;
    let lease = LeaseId(conn.last_insert_rowid());
    conn.execute(
        "UPDATE tasks SET state = 'leased', lease = ?2, lease_worker = ?3, lease_expires = ?4,
         attempts = attempts + 1 WHERE id = ?1",
        params![task.0, lease.0, peer, expires],
    )?;
    Ok(lease)
}

pub fn renew_lease(conn: &Connection, task: TaskId, expires: i64) -> Result<(), StoreError> {
    conn.execute("UPDATE tasks SET lease_expires = ?2 WHERE id = ?1", params![task.0, expires])?;
    Ok(())
}

/// Gives every live lease at least until `expires`: after a restart, workers
/// get a full lease period to reconnect and renew.
pub fn extend_live_leases(conn: &Connection, expires: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE tasks SET lease_expires = MAX(lease_expires, ?1) WHERE state = 'leased'",
        params![expires],
    )?)
}

/// Ends a task's current lease and moves the task to `state`.
pub fn end_lease(
    conn: &Connection,
    task: TaskId,
    state: TaskState,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET ended = ?2 WHERE id = (SELECT lease FROM tasks WHERE id = ?1)
         AND ended IS NULL",
        params![task.0, now],
    )?;
    conn.execute(
        "UPDATE tasks SET state = ?2, lease = NULL, lease_worker = NULL, lease_expires = NULL
         WHERE id = ?1",
        params![task.0, state.as_str()],
    )?;
    Ok(())
}

pub fn set_task_frame_list(
    conn: &Connection,
    task: TaskId,
    frames: &[u32],
) -> Result<(), StoreError> {
    let json = serde_json::to_string(frames).expect("frame numbers serialize");
    conn.execute("UPDATE tasks SET frames = ?2 WHERE id = ?1", params![task.0, json])?;
    Ok(())
}

/// The lease `id`: what it was for and the peer it was granted to.
pub fn lease(conn: &Connection, id: LeaseId) -> Result<Option<(LeaseOf, String)>, StoreError> {
    let row = conn
        .query_row(
            "SELECT task, segment, worker, check_id FROM leases WHERE id = ?1",
            params![id.0],
            |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    let row = match row {
        Some((_, _, worker, Some(check))) => return Ok(Some((LeaseOf::Check(check), worker))),
        other => other.map(|(task, segment, worker, _)| (task, segment, worker)),
    };
    Ok(match row {
        None => None,
        Some((Some(task), _, worker)) => Some((LeaseOf::Task(TaskId(task)), worker)),
        Some((None, Some(segment), worker)) => {
            Some((LeaseOf::Segment(protocol::SegmentId(segment)), worker))
        }
        Some((None, None, _)) => return Err(corrupt("lease", format!("{id} names nothing"))),
    })
}

// ---------------------------------------------------------------- uploads

pub fn record_upload(
    conn: &Connection,
    lease: LeaseId,
    frame: u32,
    cid: &ContentId,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO uploads (lease, frame, cid) VALUES (?1, ?2, ?3)
         ON CONFLICT (lease, frame) DO UPDATE SET cid = excluded.cid",
        params![lease.0, frame, cid.to_hex()],
    )?;
    Ok(())
}

pub fn upload(
    conn: &Connection,
    lease: LeaseId,
    frame: u32,
) -> Result<Option<ContentId>, StoreError> {
    let cid: Option<String> = conn
        .query_row(
            "SELECT cid FROM uploads WHERE lease = ?1 AND frame = ?2",
            params![lease.0, frame],
            |r| r.get(0),
        )
        .optional()?;
    opt_cid(cid)
}

// ---------------------------------------------------------------- failures

pub fn record_failure(
    conn: &Connection,
    task: TaskId,
    peer: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO task_failures (task, worker, reason, at) VALUES (?1, ?2, ?3, ?4)",
        params![task.0, peer, reason, now],
    )?;
    count_task_failed(conn, peer)
}

/// Counts a failed task (or segment) against the worker.
pub fn count_task_failed(conn: &Connection, peer: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE workers SET tasks_failed = tasks_failed + 1 WHERE peer = ?1",
        params![peer],
    )?;
    Ok(())
}

pub fn task_failure_count(conn: &Connection, task: TaskId) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM task_failures WHERE task = ?1",
        params![task.0],
        |r| r.get(0),
    )?)
}

/// Peers that failed `task`.
pub fn task_failed_by(conn: &Connection, task: TaskId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("SELECT DISTINCT worker FROM task_failures WHERE task = ?1")?;
    let rows = stmt.query_map(params![task.0], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many tasks of `job` the peer has failed.
pub fn job_failures_by(conn: &Connection, job: JobId, peer: &str) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(DISTINCT f.task) FROM task_failures f JOIN tasks t ON t.id = f.task
         WHERE t.job = ?1 AND f.worker = ?2",
        params![job.0, peer],
        |r| r.get(0),
    )?)
}

pub fn blocklist(conn: &Connection, job: JobId, peer: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO blocklist (job, worker) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![job.0, peer],
    )?;
    Ok(())
}

pub fn blocklisted(conn: &Connection, job: JobId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("SELECT worker FROM blocklist WHERE job = ?1")?;
    let rows = stmt.query_map(params![job.0], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------- workers

pub struct WorkerRow {
    pub peer: String,
    pub capabilities: String,
    pub last_seen: i64,
    pub tasks_done: u64,
    pub tasks_failed: u64,
}

pub fn upsert_worker(
    conn: &Connection,
    peer: &str,
    capabilities: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO workers (peer, capabilities, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (peer) DO UPDATE SET capabilities = excluded.capabilities,
         last_seen = excluded.last_seen",
        params![peer, capabilities, now],
    )?;
    Ok(())
}

/// Notes that `peer` was heard from, registering it if it never said hello.
pub fn touch_worker(conn: &Connection, peer: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO workers (peer, capabilities, first_seen, last_seen) VALUES (?1, '{}', ?2, ?2)
         ON CONFLICT (peer) DO UPDATE SET last_seen = excluded.last_seen",
        params![peer, now],
    )?;
    Ok(())
}

pub fn count_task_done(conn: &Connection, peer: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE workers SET tasks_done = tasks_done + 1 WHERE peer = ?1", params![peer])?;
    Ok(())
}

pub fn workers(conn: &Connection) -> Result<Vec<WorkerRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT peer, capabilities, last_seen, tasks_done, tasks_failed FROM workers
         ORDER BY last_seen DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(WorkerRow {
            peer: r.get(0)?,
            capabilities: r.get(1)?,
            last_seen: r.get(2)?,
            tasks_done: r.get::<_, i64>(3)? as u64,
            tasks_failed: r.get::<_, i64>(4)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_created_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mosaic.db");
        let conn = open(&path).unwrap();
        let cid = ContentId::of(b"scene");
        insert_scene(&conn, &cid, 5, "{}", 1).unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        assert_eq!(scene(&conn, &cid).unwrap().unwrap().bytes, 5);
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mosaic.db");
        let conn = open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        assert!(matches!(open(&path), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn job_is_split_into_chunked_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("mosaic.db")).unwrap();
        let cid = ContentId::of(b"scene");
        insert_scene(&conn, &cid, 5, "{}", 1).unwrap();
        let spec = FrameSpec::parse("1-5").unwrap();
        let settings = RenderSettings::default();
        let job = NewJob {
            name: "n",
            scene: &cid,
            frame_spec: &spec,
            settings: &settings,
            chunk: 2,
            priority: 0,
        };
        let id = insert_job(&conn, &job, 10).unwrap();
        let tasks = tasks_open(&conn, id).unwrap();
        let frames: Vec<_> = tasks.iter().map(|t| t.frames.clone()).collect();
        assert_eq!(frames, vec![vec![1, 2], vec![3, 4], vec![5]]);
        assert_eq!(frame_counts(&conn, id).unwrap().queued, 5);
        let row = super::job(&conn, id).unwrap().unwrap();
        assert_eq!(row.frame_spec, spec);
        assert_eq!(row.state, JobState::Queued);
    }
}
