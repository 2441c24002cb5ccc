//! Live streams in the job store: streams (name and key), broadcasts (one
//! per publish), source segments with their lease and publication state,
//! and the renditions workers delivered for them.
//!
//! A segment's life: queued -> leased -> done (or back to queued, or
//! failed), and separately unpublished -> published as `ok` or as a `gap`,
//! in sequence order. Published rows carry their position in the playlist
//! (`listed_index`) and discontinuity sequence number (`disc_seq`), fixed
//! at publication, so a playlist window is one indexed query.

use protocol::{BroadcastId, ContentId, LeaseId, SegmentId, StreamId};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{corrupt, StoreError};

pub const SCHEMA_V2: &str = "
CREATE TABLE streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    created INTEGER NOT NULL,
    removed INTEGER
);
CREATE UNIQUE INDEX streams_by_name ON streams(name) WHERE removed IS NULL;
CREATE UNIQUE INDEX streams_by_key ON streams(key) WHERE removed IS NULL;
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream INTEGER NOT NULL REFERENCES streams(id),
    started INTEGER NOT NULL,
    ended INTEGER,
    error TEXT,
    source TEXT,
    rungs TEXT
);
CREATE INDEX broadcasts_by_stream ON broadcasts(stream, id);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    broadcast INTEGER NOT NULL REFERENCES broadcasts(id),
    sequence INTEGER NOT NULL,
    cid TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    has_audio INTEGER NOT NULL,
    discontinuity INTEGER NOT NULL,
    wall_start INTEGER NOT NULL,
    cut_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    lease INTEGER,
    lease_worker TEXT,
    lease_granted INTEGER,
    lease_expires INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    encoder TEXT,
    published TEXT,
    published_at INTEGER,
    listed_index INTEGER,
    disc_seq INTEGER,
    marker INTEGER,
    UNIQUE (broadcast, sequence)
);
CREATE INDEX segments_by_state ON segments(state, cut_at);
CREATE INDEX segments_by_worker ON segments(lease_worker) WHERE state = 'leased';
CREATE INDEX segments_listed ON segments(broadcast, listed_index) WHERE published = 'ok';
CREATE TABLE renditions (
    segment INTEGER NOT NULL REFERENCES segments(id),
    rung INTEGER NOT NULL,
    cid TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    codec TEXT NOT NULL,
    PRIMARY KEY (segment, rung)
);
CREATE TABLE segment_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    segment INTEGER NOT NULL REFERENCES segments(id),
    worker TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX segment_failures_by_segment ON segment_failures(segment, worker);
-- A lease is for a render task or for a live segment, never both.
CREATE TABLE leases_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task INTEGER REFERENCES tasks(id),
    segment INTEGER REFERENCES segments(id),
    worker TEXT NOT NULL,
    granted INTEGER NOT NULL,
    ended INTEGER,
    CHECK ((task IS NULL) <> (segment IS NULL))
);
INSERT INTO leases_v2 (id, task, worker, granted, ended)
    SELECT id, task, worker, granted, ended FROM leases;
DROP TABLE leases;
ALTER TABLE leases_v2 RENAME TO leases;
";

// ---------------------------------------------------------------- streams

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRow {
    pub id: StreamId,
    pub name: String,
    pub key: String,
    pub created: i64,
}

const STREAM_COLUMNS: &str = "id, name, key, created";

fn stream_from_row(r: &Row) -> rusqlite::Result<StreamRow> {
    Ok(StreamRow { id: StreamId(r.get(0)?), name: r.get(1)?, key: r.get(2)?, created: r.get(3)? })
}

/// Adds a stream; `None` when the name is taken.
pub fn insert_stream(
    conn: &Connection,
    name: &str,
    key: &str,
    now: i64,
) -> Result<Option<StreamId>, StoreError> {
    if stream_by_name(conn, name)?.is_some() {
        return Ok(None);
    }
    conn.execute(
        "INSERT INTO streams (name, key, created) VALUES (?1, ?2, ?3)",
        params![name, key, now],
    )?;
    Ok(Some(StreamId(conn.last_insert_rowid())))
}

pub fn stream_by_name(conn: &Connection, name: &str) -> Result<Option<StreamRow>, StoreError> {
    let sql = format!("SELECT {STREAM_COLUMNS} FROM streams WHERE name = ?1 AND removed IS NULL");
    Ok(conn.query_row(&sql, params![name], stream_from_row).optional()?)
}

pub fn stream_by_key(conn: &Connection, key: &str) -> Result<Option<StreamRow>, StoreError> {
    let sql = format!("SELECT {STREAM_COLUMNS} FROM streams WHERE key = ?1 AND removed IS NULL");
    Ok(conn.query_row(&sql, params![key], stream_from_row).optional()?)
}

pub fn streams(conn: &Connection) -> Result<Vec<StreamRow>, StoreError> {
    let sql = format!("SELECT {STREAM_COLUMNS} FROM streams WHERE removed IS NULL ORDER BY name");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], stream_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Retires a stream: its key stops working and its name is free again.
/// Its broadcasts stay in the store.
pub fn remove_stream(conn: &Connection, id: StreamId, now: i64) -> Result<(), StoreError> {
    conn.execute("UPDATE streams SET removed = ?2 WHERE id = ?1", params![id.0, now])?;
    Ok(())
}

// ---------------------------------------------------------------- broadcasts

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastRow {
    pub id: BroadcastId,
    pub stream: StreamId,
    /// Unix ms.
    pub started: i64,
    pub ended: Option<i64>,
    pub error: Option<String>,
    /// JSON of the source description, once the video header arrived.
    pub source: Option<String>,
    /// JSON of the ladder (`Vec<Rung>`), fixed with the source.
    pub rungs: Option<String>,
}

const BROADCAST_COLUMNS: &str = "id, stream, started, ended, error, source, rungs";

fn broadcast_from_row(r: &Row) -> rusqlite::Result<BroadcastRow> {
    Ok(BroadcastRow {
        id: BroadcastId(r.get(0)?),
        stream: StreamId(r.get(1)?),
        started: r.get(2)?,
        ended: r.get(3)?,
        error: r.get(4)?,
        source: r.get(5)?,
        rungs: r.get(6)?,
    })
}

pub fn insert_broadcast(
    conn: &Connection,
    stream: StreamId,
    now: i64,
) -> Result<BroadcastId, StoreError> {
    conn.execute(
        "INSERT INTO broadcasts (stream, started) VALUES (?1, ?2)",
        params![stream.0, now],
    )?;
    Ok(BroadcastId(conn.last_insert_rowid()))
}

pub fn broadcast(conn: &Connection, id: BroadcastId) -> Result<Option<BroadcastRow>, StoreError> {
    let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?1");
    Ok(conn.query_row(&sql, params![id.0], broadcast_from_row).optional()?)
}

pub fn latest_broadcast(
    conn: &Connection,
    stream: StreamId,
) -> Result<Option<BroadcastRow>, StoreError> {
    let sql = format!(
        "SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE stream = ?1 ORDER BY id DESC LIMIT 1"
    );
    Ok(conn.query_row(&sql, params![stream.0], broadcast_from_row).optional()?)
}

/// Broadcasts that never ended (their orchestrator stopped mid-way).
pub fn unended_broadcasts(conn: &Connection) -> Result<Vec<BroadcastRow>, StoreError> {
    let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE ended IS NULL");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], broadcast_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_broadcast_ladder(
    conn: &Connection,
    id: BroadcastId,
    source: &str,
    rungs: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE broadcasts SET source = ?2, rungs = ?3 WHERE id = ?1",
        params![id.0, source, rungs],
    )?;
    Ok(())
}

pub fn end_broadcast(
    conn: &Connection,
    id: BroadcastId,
    now: i64,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE broadcasts SET ended = ?2, error = COALESCE(error, ?3) WHERE id = ?1 AND ended IS NULL",
        params![id.0, now, error],
    )?;
    Ok(())
}

// ---------------------------------------------------------------- segments

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentState {
    Queued,
    Leased,
    Done,
    Failed,
}

impl SegmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentState::Queued => "queued",
            SegmentState::Leased => "leased",
            SegmentState::Done => "done",
            SegmentState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "queued" => SegmentState::Queued,
            "leased" => SegmentState::Leased,
            "done" => SegmentState::Done,
            "failed" => SegmentState::Failed,
            _ => return Err(corrupt("segment state", s)),
        })
    }
}

/// How a segment went into the playlists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// With its renditions.
    Ok,
    /// Left out, with a discontinuity before the next one.
    Gap,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentRow {
    pub id: SegmentId,
    pub broadcast: BroadcastId,
    pub sequence: u64,
    pub cid: ContentId,
    pub bytes: u64,
    pub duration_ms: u64,
    pub frames: u32,
    pub has_audio: bool,
    /// The source's clock jumped before it.
    pub discontinuity: bool,
    /// Unix ms when its first frame arrived.
    pub wall_start: i64,
    /// Unix ms when its last byte arrived (the segment was cut).
    pub cut_at: i64,
    pub state: SegmentState,
    pub lease: Option<LeaseId>,
    pub lease_worker: Option<String>,
    pub lease_granted: Option<i64>,
    pub lease_expires: Option<i64>,
    pub attempts: u32,
    pub worker: Option<String>,
    pub encoder: Option<String>,
    pub published: Option<Published>,
    pub published_at: Option<i64>,
    pub listed_index: Option<u64>,
    pub disc_seq: Option<u64>,
    /// A discontinuity tag goes before it.
    pub marker: bool,
}

const SEGMENT_COLUMNS: &str =
    "id, broadcast, sequence, cid, bytes, duration_ms, frames, has_audio, \
    discontinuity, wall_start, cut_at, state, lease, lease_worker, lease_granted, lease_expires, \
    attempts, worker, encoder, published, published_at, listed_index, disc_seq, marker";

fn segment_from_row(r: &Row) -> rusqlite::Result<Result<SegmentRow, StoreError>> {
    let cid: String = r.get(3)?;
    let state: String = r.get(11)?;
    let published: Option<String> = r.get(19)?;
    Ok((|| {
        Ok(SegmentRow {
            id: SegmentId(r.get(0)?),
            broadcast: BroadcastId(r.get(1)?),
            sequence: r.get::<_, i64>(2)? as u64,
            cid: cid.parse().map_err(|e| corrupt("content id", e))?,
            bytes: r.get::<_, i64>(4)? as u64,
            duration_ms: r.get::<_, i64>(5)? as u64,
            frames: r.get(6)?,
            has_audio: r.get(7)?,
            discontinuity: r.get(8)?,
            wall_start: r.get(9)?,
            cut_at: r.get(10)?,
            state: SegmentState::parse(&state)?,
            lease: r.get::<_, Option<i64>>(12)?.map(LeaseId),
            lease_worker: r.get(13)?,
            lease_granted: r.get(14)?,
            lease_expires: r.get(15)?,
            attempts: r.get(16)?,
            worker: r.get(17)?,
            encoder: r.get(18)?,
            published: match published.as_deref() {
                None => None,
                Some("ok") => Some(Published::Ok),
                Some("gap") => Some(Published::Gap),
                Some(other) => return Err(corrupt("publication", other)),
            },
            published_at: r.get(20)?,
            listed_index: r.get::<_, Option<i64>>(21)?.map(|v| v as u64),
            disc_seq: r.get::<_, Option<i64>>(22)?.map(|v| v as u64),
            marker: r.get::<_, Option<bool>>(23)?.unwrap_or(false),
        })
    })())
}

fn segments_where(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<SegmentRow>, StoreError> {
    let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE {condition}");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, segment_from_row)?;
    rows.map(|r| r?).collect()
}

/// A segment as the ingest cut it.
pub struct NewSegment<'a> {
    pub broadcast: BroadcastId,
    pub sequence: u64,
    pub cid: &'a ContentId,
    pub bytes: u64,
    pub duration_ms: u64,
    pub frames: u32,
    pub has_audio: bool,
    pub discontinuity: bool,
    pub wall_start: i64,
    pub cut_at: i64,
}

pub fn insert_segment(conn: &Connection, s: &NewSegment) -> Result<SegmentId, StoreError> {
    conn.execute(
        "INSERT INTO segments (broadcast, sequence, cid, bytes, duration_ms, frames, has_audio,
             discontinuity, wall_start, cut_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'queued')",
        params![
            s.broadcast.0,
            s.sequence as i64,
            s.cid.to_hex(),
            s.bytes as i64,
            s.duration_ms as i64,
            s.frames,
            s.has_audio,
            s.discontinuity,
            s.wall_start,
            s.cut_at
        ],
    )?;
    Ok(SegmentId(conn.last_insert_rowid()))
}

pub fn segment(conn: &Connection, id: SegmentId) -> Result<Option<SegmentRow>, StoreError> {
    Ok(segments_where(conn, "id = ?1", params![id.0])?.pop())
}

pub fn segment_by_sequence(
    conn: &Connection,
    broadcast: BroadcastId,
    sequence: u64,
) -> Result<Option<SegmentRow>, StoreError> {
    Ok(segments_where(
        conn,
        "broadcast = ?1 AND sequence = ?2",
        params![broadcast.0, sequence as i64],
    )?
    .pop())
}

/// The segment `peer` should transcode next: the longest waiting one that
/// is not yet published, that it has not failed, of a broadcast it is not
/// already transcoding a segment of.
pub fn next_queued_segment(conn: &Connection, peer: &str) -> Result<Option<SegmentId>, StoreError> {
    let id = conn
        .query_row(
            "SELECT s.id FROM segments s
             WHERE s.state = 'queued' AND s.published IS NULL
               AND NOT EXISTS (SELECT 1 FROM segment_failures f WHERE f.segment = s.id AND f.worker = ?1)
               AND NOT EXISTS (SELECT 1 FROM segments o
                               WHERE o.broadcast = s.broadcast AND o.state = 'leased'
                                 AND o.lease_worker = ?1)
             ORDER BY s.cut_at, s.id LIMIT 1",
            params![peer],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(SegmentId))
}

/// Whether any segment waits for a worker.
pub fn segments_waiting(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM segments WHERE state = 'queued')",
        [],
        |r| r.get(0),
    )?)
}

/// Hands a segment to `peer` under a new lease ending at `expires` (unix ms).
pub fn lease_segment(
    conn: &Connection,
    id: SegmentId,
    peer: &str,
    now: i64,
    expires: i64,
) -> Result<LeaseId, StoreError> {
    conn.execute(
        "INSERT INTO leases (segment, worker, granted) VALUES (?1, ?2, ?3)",
        params![id.0, peer, now],
    )?;
    let lease = LeaseId(conn.last_insert_rowid());
    conn.execute(
        "UPDATE segments SET state = 'leased', lease = ?2, lease_worker = ?3, lease_granted = ?4,
         lease_expires = ?5, attempts = attempts + 1 WHERE id = ?1",
        params![id.0, lease.0, peer, now, expires],
    )?;
    Ok(lease)
}

/// Ends a segment's current lease and moves it to `state`.
pub fn end_segment_lease(
    conn: &Connection,
    id: SegmentId,
    state: SegmentState,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET ended = ?2 WHERE id = (SELECT lease FROM segments WHERE id = ?1)
         AND ended IS NULL",
        params![id.0, now],
    )?;
    conn.execute(
        "UPDATE segments SET state = ?2, lease = NULL, lease_worker = NULL, lease_granted = NULL,
         lease_expires = NULL WHERE id = ?1",
        params![id.0, state.as_str()],
    )?;
    Ok(())
}

pub fn segments_leased_to(conn: &Connection, peer: &str) -> Result<Vec<SegmentRow>, StoreError> {
    segments_where(conn, "state = 'leased' AND lease_worker = ?1", params![peer])
}

pub fn segments_expired(conn: &Connection, now: i64) -> Result<Vec<SegmentRow>, StoreError> {
    segments_where(conn, "state = 'leased' AND lease_expires < ?1", params![now])
}

pub fn record_segment_failure(
    conn: &Connection,
    id: SegmentId,
    peer: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO segment_failures (segment, worker, reason, at) VALUES (?1, ?2, ?3, ?4)",
        params![id.0, peer, reason, now],
    )?;
    super::count_task_failed(conn, peer)
}

pub fn segment_failed_by(conn: &Connection, id: SegmentId) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT DISTINCT worker FROM segment_failures WHERE segment = ?1")?;
    let rows = stmt.query_map(params![id.0], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One rendition of a segment, as delivered and checked.
pub struct RenditionRow {
    pub rung: u32,
    pub cid: ContentId,
    pub bytes: u64,
    pub codec: String,
}

/// Records the renditions and marks the segment done by `worker`.
pub fn set_segment_done(
    conn: &Connection,
    id: SegmentId,
    worker: &str,
    encoder: Option<&str>,
    renditions: &[RenditionRow],
    now: i64,
) -> Result<(), StoreError> {
    for r in renditions {
        conn.execute(
            "INSERT INTO renditions (segment, rung, cid, bytes, codec) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (segment, rung) DO UPDATE SET cid = excluded.cid, bytes = excluded.bytes,
             codec = excluded.codec",
            params![id.0, r.rung, r.cid.to_hex(), r.bytes as i64, r.codec],
        )?;
    }
    end_segment_lease(conn, id, SegmentState::Done, now)?;
    conn.execute(
        "UPDATE segments SET worker = ?2, encoder = ?3 WHERE id = ?1",
        params![id.0, worker, encoder],
    )?;
    Ok(())
}

/// Swaps a segment's renditions for another worker's (a clawback after a
/// spot check proved the first ones wrong).
pub fn replace_renditions(
    conn: &Connection,
    id: SegmentId,
    worker: &str,
    encoder: Option<&str>,
    renditions: &[RenditionRow],
) -> Result<(), StoreError> {
    for r in renditions {
        conn.execute(
            "UPDATE renditions SET cid = ?3, bytes = ?4, codec = ?5 WHERE segment = ?1 AND rung = ?2",
            params![id.0, r.rung, r.cid.to_hex(), r.bytes as i64, r.codec],
        )?;
    }
    conn.execute(
        "UPDATE segments SET worker = ?2, encoder = ?3 WHERE id = ?1",
        params![id.0, worker, encoder],
    )?;
    Ok(())
}

pub fn renditions(conn: &Connection, segment: SegmentId) -> Result<Vec<RenditionRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT rung, cid, bytes, codec FROM renditions WHERE segment = ?1 ORDER BY rung",
    )?;
    let rows = stmt.query_map(params![segment.0], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (rung, cid, bytes, codec) = row?;
        Ok(RenditionRow {
            rung,
            cid: cid.parse().map_err(|e| corrupt("content id", e))?,
            bytes: bytes as u64,
            codec,
        })
    })
    .collect()
}

/// The lowest-numbered segment of a broadcast not yet published.
pub fn first_unpublished(
    conn: &Connection,
    broadcast: BroadcastId,
) -> Result<Option<SegmentRow>, StoreError> {
    Ok(segments_where(
        conn,
        "broadcast = ?1 AND published IS NULL ORDER BY sequence LIMIT 1",
        params![broadcast.0],
    )?
    .pop())
}

/// Broadcasts with segments waiting to be published.
pub fn broadcasts_with_unpublished(conn: &Connection) -> Result<Vec<BroadcastId>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT DISTINCT broadcast FROM segments WHERE published IS NULL")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.map(|r| r.map(BroadcastId)).collect::<Result<_, _>>()?)
}

/// Publishes a segment, numbering it in the playlists when it is listed.
pub fn publish_segment(
    conn: &Connection,
    segment: &SegmentRow,
    how: Published,
    now: i64,
) -> Result<(), StoreError> {
    match how {
        Published::Gap => {
            conn.execute(
                "UPDATE segments SET published = 'gap', published_at = ?2 WHERE id = ?1",
                params![segment.id.0, now],
            )?;
        }
        Published::Ok => {
            let last: Option<(i64, i64)> = conn
                .query_row(
                    "SELECT listed_index, disc_seq FROM segments
                     WHERE broadcast = ?1 AND published = 'ok' ORDER BY sequence DESC LIMIT 1",
                    params![segment.broadcast.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let after_gap: bool = conn
                .query_row(
                    "SELECT published = 'gap' FROM segments WHERE broadcast = ?1 AND sequence = ?2",
                    params![segment.broadcast.0, segment.sequence as i64 - 1],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(false);
            let marker = last.is_some() && (segment.discontinuity || after_gap);
            let (index, disc) = match last {
                Some((index, disc)) => (index + 1, disc + i64::from(marker)),
                None => (0, 0),
            };
            conn.execute(
                "UPDATE segments SET published = 'ok', published_at = ?2, listed_index = ?3,
                 disc_seq = ?4, marker = ?5 WHERE id = ?1",
                params![segment.id.0, now, index, disc, marker],
            )?;
        }
    }
    Ok(())
}

/// A listed segment with one rung's rendition, for a playlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedSegment {
    pub sequence: u64,
    pub duration_ms: u64,
    pub wall_start: i64,
    pub listed_index: u64,
    pub disc_seq: u64,
    pub marker: bool,
    pub bytes: u64,
    /// The rendition's RFC 6381 video codec string.
    pub codec: String,
}

/// The listed segments of a broadcast for `rung`: the last `window` of
/// them, or all.
pub fn listed_segments(
    conn: &Connection,
    broadcast: BroadcastId,
    rung: u32,
    window: Option<usize>,
) -> Result<Vec<ListedSegment>, StoreError> {
    let limit = window.map(|w| w as i64).unwrap_or(-1);
    let mut stmt = conn.prepare(
        "SELECT s.sequence, s.duration_ms, s.wall_start, s.listed_index, s.disc_seq, s.marker,
                r.bytes, r.codec
         FROM segments s JOIN renditions r ON r.segment = s.id AND r.rung = ?2
         WHERE s.broadcast = ?1 AND s.published = 'ok'
         ORDER BY s.listed_index DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![broadcast.0, rung, limit], |r| {
        Ok(ListedSegment {
            sequence: r.get::<_, i64>(0)? as u64,
            duration_ms: r.get::<_, i64>(1)? as u64,
            wall_start: r.get(2)?,
            listed_index: r.get::<_, i64>(3)? as u64,
            disc_seq: r.get::<_, i64>(4)? as u64,
            marker: r.get(5)?,
            bytes: r.get::<_, i64>(6)? as u64,
            codec: r.get(7)?,
        })
    })?;
    let mut out: Vec<ListedSegment> = rows.collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

/// The longest segment of a broadcast, in ms (for the target duration).
pub fn longest_segment_ms(conn: &Connection, broadcast: BroadcastId) -> Result<u64, StoreError> {
    let ms: Option<i64> = conn.query_row(
        "SELECT MAX(duration_ms) FROM segments WHERE broadcast = ?1",
        params![broadcast.0],
        |r| r.get(0),
    )?;
    Ok(ms.unwrap_or(0).max(0) as u64)
}

/// Counts for a broadcast: segments cut, published with renditions, gaps;
/// and each published segment's latency (published minus cut, ms).
pub struct BroadcastCounts {
    pub segments: u64,
    pub published: u64,
    pub gaps: u64,
    pub latencies_ms: Vec<u64>,
}

pub fn broadcast_counts(
    conn: &Connection,
    broadcast: BroadcastId,
) -> Result<BroadcastCounts, StoreError> {
    let (segments, published, gaps): (i64, i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(published = 'ok'), 0), COALESCE(SUM(published = 'gap'), 0)
         FROM segments WHERE broadcast = ?1",
        params![broadcast.0],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut stmt = conn.prepare(
        "SELECT published_at - cut_at FROM segments WHERE broadcast = ?1 AND published = 'ok'",
    )?;
    let latencies_ms = stmt
        .query_map(params![broadcast.0], |r| r.get::<_, i64>(0))?
        .map(|r| r.map(|v| v.max(0) as u64))
        .collect::<Result<_, _>>()?;
    Ok(BroadcastCounts {
        segments: segments as u64,
        published: published as u64,
        gaps: gaps as u64,
        latencies_ms,
    })
}

/// The segment of a broadcast last done (for "which worker, which encoder").
pub fn last_done_segment(
    conn: &Connection,
    broadcast: BroadcastId,
) -> Result<Option<SegmentRow>, StoreError> {
    Ok(segments_where(
        conn,
        "broadcast = ?1 AND state = 'done' ORDER BY sequence DESC LIMIT 1",
        params![broadcast.0],
    )?
    .pop())
}
