//! Verification in the job store: every accepted result (with its signed
//! receipt), the spot checks that duplicate some of them on other nodes,
//! the nodes proven to cheat, and the ledger (hash-chained entries and the
//! signed heads of their Merkle tree).
//!
//! A result's life: `pending` (accepted, awaiting its check or the end of
//! its settlement window) -> `paid`, or `forfeited` (its node was proven
//! to cheat first), or `rejected` (it lost a comparison), or `void` (three
//! results disagreed and none stands). A check's life: `queued` ->
//! `leased` -> `done` (with a verdict), or back to `queued`, or
//! `cancelled` with its job.

use protocol::{ContentId, LeaseId, SegmentId, TaskId};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{corrupt, StoreError};

pub const SCHEMA_V3: &str = "
CREATE TABLE checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    result INTEGER NOT NULL,
    task INTEGER REFERENCES tasks(id),
    segment INTEGER REFERENCES segments(id),
    round INTEGER NOT NULL,
    state TEXT NOT NULL,
    lease INTEGER,
    lease_worker TEXT,
    lease_expires INTEGER,
    verdict TEXT,
    detail TEXT,
    created INTEGER NOT NULL,
    CHECK ((task IS NULL) <> (segment IS NULL))
);
CREATE INDEX checks_by_state ON checks(state, id);
CREATE INDEX checks_by_result ON checks(result);
ALTER TABLE leases ADD COLUMN work_digest TEXT;
ALTER TABLE leases ADD COLUMN check_id INTEGER REFERENCES checks(id);
CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lease INTEGER NOT NULL UNIQUE REFERENCES leases(id),
    worker TEXT NOT NULL,
    task INTEGER REFERENCES tasks(id),
    segment INTEGER REFERENCES segments(id),
    check_id INTEGER REFERENCES checks(id),
    engine TEXT,
    outputs TEXT NOT NULL,
    price INTEGER NOT NULL,
    state TEXT NOT NULL,
    due_at INTEGER,
    work_digest TEXT NOT NULL,
    signature TEXT NOT NULL,
    at INTEGER NOT NULL,
    CHECK ((task IS NULL) <> (segment IS NULL))
);
CREATE INDEX results_by_task ON results(task) WHERE task IS NOT NULL;
CREATE INDEX results_by_segment ON results(segment) WHERE segment IS NOT NULL;
CREATE INDEX results_by_worker ON results(worker, state);
CREATE INDEX results_due ON results(state, due_at);
CREATE TABLE frauds (
    peer TEXT PRIMARY KEY,
    proven_at INTEGER NOT NULL,
    evidence TEXT NOT NULL
);
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    peer TEXT NOT NULL,
    amount INTEGER NOT NULL,
    memo TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX ledger_by_peer ON ledger(peer, kind);
-- Append-only: the orchestrator never edits or deletes an entry. (Anyone
-- with the file can drop these; the hash chain and the signed tree heads
-- are what catch that.)
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TABLE tree_heads (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);
";

/// What a result or check is about: a render task or a live segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Task(TaskId),
    Segment(SegmentId),
}

impl Subject {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Subject::Task(t) => (Some(t.0), None),
            Subject::Segment(s) => (None, Some(s.0)),
        }
    }

    fn from_columns(task: Option<i64>, segment: Option<i64>) -> rusqlite::Result<Subject> {
        match (task, segment) {
            (Some(t), None) => Ok(Subject::Task(TaskId(t))),
            (None, Some(s)) => Ok(Subject::Segment(SegmentId(s))),
            _ => Err(rusqlite::Error::InvalidColumnType(
                0,
                "subject".into(),
                rusqlite::types::Type::Null,
            )),
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Task(t) => write!(f, "task {t}"),
            Subject::Segment(s) => write!(f, "segment {s}"),
        }
    }
}

// ---------------------------------------------------------------- results

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultState {
    Pending,
    Paid,
    Forfeited,
    Rejected,
    Void,
}

impl ResultState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultState::Pending => "pending",
            ResultState::Paid => "paid",
            ResultState::Forfeited => "forfeited",
            ResultState::Rejected => "rejected",
            ResultState::Void => "void",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => ResultState::Pending,
            "paid" => ResultState::Paid,
            "forfeited" => ResultState::Forfeited,
            "rejected" => ResultState::Rejected,
            "void" => ResultState::Void,
            _ => return Err(corrupt("result state", s)),
        })
    }
}

/// An accepted result: what a worker delivered under one lease.
#[derive(Clone, Debug)]
pub struct ResultRow {
    pub id: i64,
    pub lease: LeaseId,
    pub worker: String,
    pub subject: Subject,
    /// The check this result was delivered for; `None`: the first result.
    pub check: Option<i64>,
    pub engine: Option<String>,
    /// Output number (frame or rung) and content id, in output order.
    pub outputs: Vec<(u32, ContentId)>,
    /// Micro-credits.
    pub price: i64,
    pub state: ResultState,
}

pub struct NewResult<'a> {
    pub lease: LeaseId,
    pub worker: &'a str,
    pub subject: Subject,
    pub check: Option<i64>,
    pub engine: Option<&'a str>,
    pub outputs: &'a [(u32, ContentId)],
    pub price: i64,
    pub due_at: Option<i64>,
    pub work_digest: &'a [u8; 32],
    pub signature: &'a [u8],
    pub at: i64,
}

const RESULT_COLUMNS: &str =
    "id, lease, worker, task, segment, check_id, engine, outputs, price, state";

fn result_from_row(r: &Row) -> rusqlite::Result<(ResultRow, String, String)> {
    Ok((
        ResultRow {
            id: r.get(0)?,
            lease: LeaseId(r.get(1)?),
            worker: r.get(2)?,
            subject: Subject::from_columns(r.get(3)?, r.get(4)?)?,
            check: r.get(5)?,
            engine: r.get(6)?,
            outputs: Vec::new(),
            price: r.get(8)?,
            state: ResultState::Pending,
        },
        r.get(7)?,
        r.get(9)?,
    ))
}

fn results_where(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ResultRow>, StoreError> {
    let sql = format!("SELECT {RESULT_COLUMNS} FROM results WHERE {condition} ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, result_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut result, outputs, state) = row?;
        let outputs: Vec<(u32, String)> =
            serde_json::from_str(&outputs).map_err(|e| corrupt("result outputs", e))?;
        result.outputs = outputs
            .into_iter()
            .map(|(n, cid)| Ok((n, cid.parse().map_err(|e| corrupt("content id", e))?)))
            .collect::<Result<_, StoreError>>()?;
        result.state = ResultState::parse(&state)?;
        out.push(result);
    }
    Ok(out)
}

pub fn insert_result(conn: &Connection, r: &NewResult) -> Result<i64, StoreError> {
    let outputs: Vec<(u32, String)> = r.outputs.iter().map(|(n, c)| (*n, c.to_hex())).collect();
    let (task, segment) = r.subject.columns();
    conn.execute(
        "INSERT INTO results (lease, worker, task, segment, check_id, engine, outputs, price, state,
         due_at, work_digest, signature, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12)",
        params![
            r.lease.0,
            r.worker,
            task,
            segment,
            r.check,
            r.engine,
            serde_json::to_string(&outputs).expect("outputs serialise"),
            r.price,
            r.due_at,
            hex::encode(r.work_digest),
            hex::encode(r.signature),
            r.at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn result_for_check(conn: &Connection, check: i64) -> Result<Option<ResultRow>, StoreError> {
    Ok(results_where(conn, "check_id = ?1", params![check])?.pop())
}

/// Results a node has had accepted, for the spot checks' warm-up.
pub fn results_count_by(conn: &Connection, peer: &str) -> Result<u64, StoreError> {
    let n: i64 =
        conn.query_row("SELECT COUNT(*) FROM results WHERE worker = ?1", params![peer], |r| {
            r.get(0)
        })?;
    Ok(n as u64)
}

/// Pending results whose settlement time has come.
pub fn results_due(conn: &Connection, now: i64) -> Result<Vec<ResultRow>, StoreError> {
    results_where(conn, "state = 'pending' AND due_at IS NOT NULL AND due_at <= ?1", params![now])
}

pub fn pending_results_of(conn: &Connection, peer: &str) -> Result<Vec<ResultRow>, StoreError> {
    results_where(conn, "state = 'pending' AND worker = ?1", params![peer])
}

/// Moves a result from `from` to `to`; false if it was not in `from` (so
/// nothing is ever paid twice, whoever asks).
pub fn move_result(
    conn: &Connection,
    id: i64,
    from: ResultState,
    to: ResultState,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE results SET state = ?3 WHERE id = ?1 AND state = ?2",
        params![id, from.as_str(), to.as_str()],
    )?;
    Ok(n == 1)
}

/// Pending micro-credits per node.
pub fn pending_by_peer(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT worker, SUM(price) FROM results WHERE state = 'pending' GROUP BY worker",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------- checks

#[derive(Clone, Debug)]
pub struct CheckRow {
    pub id: i64,
    /// The result being checked (the first one delivered).
    pub result: i64,
    pub subject: Subject,
    /// 1: the duplicate; 2: the arbitration after a disagreement.
    pub round: u32,
    pub state: String,
    pub lease: Option<LeaseId>,
    pub lease_worker: Option<String>,
}

const CHECK_COLUMNS: &str = "id, result, task, segment, round, state, lease, lease_worker";

fn check_from_row(r: &Row) -> rusqlite::Result<CheckRow> {
    Ok(CheckRow {
        id: r.get(0)?,
        result: r.get(1)?,
        subject: Subject::from_columns(r.get(2)?, r.get(3)?)?,
        round: r.get(4)?,
        state: r.get(5)?,
        lease: r.get::<_, Option<i64>>(6)?.map(LeaseId),
        lease_worker: r.get(7)?,
    })
}

fn checks_where(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<CheckRow>, StoreError> {
    let sql = format!("SELECT {CHECK_COLUMNS} FROM checks WHERE {condition} ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, check_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Queues a check of `result` (round 1: a duplicate; round 2: the
/// arbitration).
pub fn insert_check(
    conn: &Connection,
    result: &ResultRow,
    round: u32,
    now: i64,
) -> Result<i64, StoreError> {
    let (task, segment) = result.subject.columns();
    conn.execute(
        "INSERT INTO checks (result, task, segment, round, state, created)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
        params![result.id, task, segment, round, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn result(conn: &Connection, id: i64) -> Result<Option<ResultRow>, StoreError> {
    Ok(results_where(conn, "id = ?1", params![id])?.pop())
}

pub fn check(conn: &Connection, id: i64) -> Result<Option<CheckRow>, StoreError> {
    Ok(checks_where(conn, "id = ?1", params![id])?.pop())
}

/// The checks of a result, by round.
pub fn checks_of(conn: &Connection, result: i64) -> Result<Vec<CheckRow>, StoreError> {
    checks_where(conn, "result = ?1", params![result])
}

/// Cancels the open checks of a job's tasks.
pub fn cancel_job_checks(conn: &Connection, job: protocol::JobId) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE checks SET state = 'cancelled', lease = NULL, lease_worker = NULL,
         lease_expires = NULL WHERE state IN ('queued', 'leased')
         AND task IN (SELECT id FROM tasks WHERE job = ?1)",
        params![job.0],
    )?;
    Ok(())
}

/// The oldest queued check that `peer` may do: it has delivered no result
/// for its subject nor held a lease for this check before; checks of live
/// segments only when `segments` (the node has an encoder).
pub fn next_queued_check(
    conn: &Connection,
    peer: &str,
    segments: bool,
    backends: &[String],
) -> Result<Option<CheckRow>, StoreError> {
    let kind = if segments { "1" } else { "c.task IS NOT NULL" };
    // A render is checked only by a node that can render its job.
    let renders = format!(
        "(c.task IS NULL OR EXISTS (SELECT 1 FROM tasks t JOIN jobs j ON j.id = t.job
             WHERE t.id = c.task AND {}))",
        super::backend_fits(2)
    );
    let sql = format!(
        "SELECT {} FROM checks c WHERE c.state = 'queued' AND {kind} AND {renders}
         AND NOT EXISTS (SELECT 1 FROM results r WHERE r.worker = ?1
             AND (r.task = c.task OR r.segment = c.segment))
         AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.check_id = c.id AND l.worker = ?1)
         ORDER BY c.id LIMIT 1",
        CHECK_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
    );
    let backends = super::backends_json(backends);
    Ok(conn.query_row(&sql, params![peer, backends], check_from_row).optional()?)
}

/// Hands check `id` to `peer` under a new lease ending at `expires`.
pub fn lease_check(
    conn: &Connection,
    check: &CheckRow,
    peer: &str,
    now: i64,
    expires: i64,
) -> Result<LeaseId, StoreError> {
    let (task, segment) = check.subject.columns();
    conn.execute(
        "INSERT INTO leases (task, segment, check_id, worker, granted) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![task, segment, check.id, peer, now],
    )?;
    let lease = LeaseId(conn.last_insert_rowid());
    conn.execute(
        "UPDATE checks SET state = 'leased', lease = ?2, lease_worker = ?3, lease_expires = ?4
         WHERE id = ?1",
        params![check.id, lease.0, peer, expires],
    )?;
    Ok(lease)
}

pub fn renew_check(conn: &Connection, id: i64, expires: i64) -> Result<(), StoreError> {
    conn.execute("UPDATE checks SET lease_expires = ?2 WHERE id = ?1", params![id, expires])?;
    Ok(())
}

/// Ends a check's lease; `state` is `queued` (someone else does it) or
/// `done` with a verdict, or `cancelled`.
pub fn end_check_lease(
    conn: &Connection,
    id: i64,
    state: &str,
    verdict: Option<(&str, &str)>,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET ended = ?2 WHERE id = (SELECT lease FROM checks WHERE id = ?1)
         AND ended IS NULL",
        params![id, now],
    )?;
    let (verdict, detail) = verdict.unzip();
    conn.execute(
        "UPDATE checks SET state = ?2, lease = NULL, lease_worker = NULL, lease_expires = NULL,
         verdict = COALESCE(?3, verdict), detail = COALESCE(?4, detail) WHERE id = ?1",
        params![id, state, verdict, detail],
    )?;
    Ok(())
}

pub fn checks_leased_to(conn: &Connection, peer: &str) -> Result<Vec<CheckRow>, StoreError> {
    checks_where(conn, "state = 'leased' AND lease_worker = ?1", params![peer])
}

pub fn checks_expired(conn: &Connection, now: i64) -> Result<Vec<CheckRow>, StoreError> {
    checks_where(conn, "state = 'leased' AND lease_expires < ?1", params![now])
}

/// Gives every leased check at least until `expires` (after a restart).
pub fn extend_check_leases(conn: &Connection, expires: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE checks SET lease_expires = MAX(lease_expires, ?1) WHERE state = 'leased'",
        params![expires],
    )?)
}

pub fn set_lease_digest(
    conn: &Connection,
    lease: LeaseId,
    digest: &[u8; 32],
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET work_digest = ?2 WHERE id = ?1",
        params![lease.0, hex::encode(digest)],
    )?;
    Ok(())
}

pub fn lease_digest(conn: &Connection, lease: LeaseId) -> Result<Option<[u8; 32]>, StoreError> {
    let hex: Option<String> = conn
        .query_row("SELECT work_digest FROM leases WHERE id = ?1", params![lease.0], |r| r.get(0))
        .optional()?
        .flatten();
    hex.map(|h| {
        let bytes = hex::decode(&h).map_err(|e| corrupt("work digest", e))?;
        bytes.try_into().map_err(|_| corrupt("work digest", h))
    })
    .transpose()
}

/// Counts of checks by verdict, for the operator's view.
pub fn check_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(verdict, state), COUNT(*) FROM checks GROUP BY COALESCE(verdict, state)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------- frauds

/// Records that `peer` was proven to cheat; false if it already was.
pub fn record_fraud(
    conn: &Connection,
    peer: &str,
    now: i64,
    evidence: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT INTO frauds (peer, proven_at, evidence) VALUES (?1, ?2, ?3)
         ON CONFLICT (peer) DO NOTHING",
        params![peer, now, evidence],
    )?;
    Ok(n == 1)
}

pub fn fraud(conn: &Connection, peer: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT evidence FROM frauds WHERE peer = ?1", params![peer], |r| r.get(0))
        .optional()?)
}
