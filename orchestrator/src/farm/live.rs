//! The farm's live rules: streams and their keys, one publisher per key,
//! broadcasts cut into segments, segments handed to workers with deadlines,
//! renditions checked, and segments published to the playlists in order.
//!
//! - A segment goes to a worker that announces an encoder, is not benched
//!   for slowness, has not failed it, and holds no other segment of the
//!   same broadcast. Its lease ends at its deadline (`deadline_factor` x its
//!   duration) however often it is renewed; past it, the segment goes to
//!   another worker.
//! - A worker whose transcodes run slower than `min_speed` x real time
//!   (averaged over its recent segments) is off live work for `bench`.
//! - Segments are published in order. While the broadcast is live, a
//!   segment still without renditions `gap_factor` x its duration after it
//!   was cut is published as a gap: the playlists skip it with a
//!   discontinuity rather than stall. After the broadcast ends, the last
//!   segments wait for their renditions; the playlists end once every
//!   segment is published.
//! - A rendition is checked before it is listed: it demuxes, is H.264 at
//!   its rung's size, starts with a keyframe, has the source's frame count
//!   and duration (within a frame), and carries audio if the source does.

use std::collections::HashMap;
use std::path::PathBuf;

use protocol::api::{BroadcastInfo, RungStatus, SourceDescription, StreamInfo};
use protocol::wire::{Capabilities, TaskAssignment, TaskOutput, TranscodeWork, Work};
use protocol::{BroadcastId, ContentId, LeaseId, Rung, RungSpec, SegmentId, StreamId};
use rusqlite::{Connection, TransactionBehavior};
use segmenter::live::{Segment, SourceInfo};
use tokio::sync::watch;

use super::{clean_reason, corrupt, Farm, FarmError, Renewal};
use crate::hls::{self, Kind};
use crate::store::live::{
    self as store, BroadcastRow, NewSegment, Published, RenditionRow, SegmentRow, SegmentState,
    StreamRow,
};
use crate::store::{self as render_store};

/// The longest stream name accepted.
const MAX_STREAM_NAME: usize = 64;
/// Weight of the newest segment in a worker's average speed.
const SPEED_WEIGHT: f64 = 0.5;

#[derive(Clone, Debug)]
pub struct LiveSettings {
    pub ladder: Vec<RungSpec>,
    pub deadline_factor: f64,
    pub gap_factor: f64,
    pub min_speed: f64,
    pub bench_ms: i64,
    pub hls_window: usize,
    pub max_failures: u32,
    pub max_rendition_bytes: u64,
}

/// What the farm remembers of a worker's live work (not persisted: a
/// restarted orchestrator gives every worker a fresh start).
#[derive(Default, Debug)]
pub(super) struct LiveWorker {
    /// Seconds of video per second of transcoding, averaged.
    speed: Option<f64>,
    samples: u32,
    benched_until: Option<i64>,
}

/// Where users reach this orchestrator, for the URLs a stream shows:
/// `rtmp://host:1935` and `http://host:8080`.
pub struct PublicUrls {
    pub rtmp: String,
    pub http: String,
}

/// A first picture whose luma spans at most this (1st to 99th percentile)
/// is blank; a source picture spanning more than `SOURCE_NOT_BLANK` has
/// something on it that a rendition must keep.
const BLANK_SPREAD: u8 = 2;
const SOURCE_NOT_BLANK: u8 = 16;

/// A piece of an output being uploaded.
pub(super) struct UploadChunk<'a> {
    pub output: u32,
    pub offset: u64,
    pub data: &'a [u8],
    pub last: bool,
}

/// Why a publish was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishRefusal {
    UnknownKey,
    AlreadyLive(String),
}

/// A publish the farm accepted: the stream, its new broadcast, and a
/// channel that says why, when the farm wants the publisher gone.
pub struct Publisher {
    pub stream: StreamRow,
    pub broadcast: BroadcastId,
    pub kicked: watch::Receiver<Option<String>>,
}

fn validate_name(name: &str) -> Result<(), FarmError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_STREAM_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(FarmError::Invalid(format!(
            "stream name {name:?} must be 1 to {MAX_STREAM_NAME} letters, digits, '-' or '_' \
             (it is part of the playback URL)"
        )))
    }
}

pub(super) fn broadcast_rungs(b: &BroadcastRow) -> Result<Vec<Rung>, FarmError> {
    rungs_of(b)
}

/// The work of transcoding `segment`: its source and its broadcast's ladder.
pub(super) fn transcode_work(
    conn: &Connection,
    segment: &SegmentRow,
) -> Result<TranscodeWork, FarmError> {
    let broadcast = store::broadcast(conn, segment.broadcast)?
        .ok_or_else(|| corrupt("broadcast", segment.broadcast))?;
    Ok(TranscodeWork {
        segment: segment.id,
        stream: stream_name(conn, broadcast.stream)?,
        sequence: segment.sequence,
        source: segment.cid,
        source_bytes: segment.bytes,
        duration_ms: segment.duration_ms,
        rungs: rungs_of(&broadcast)?,
    })
}

fn rungs_of(b: &BroadcastRow) -> Result<Vec<Rung>, FarmError> {
    match &b.rungs {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json).map_err(|e| corrupt("ladder", e)),
    }
}

fn source_of(b: &BroadcastRow) -> Result<Option<SourceDescription>, FarmError> {
    b.source
        .as_deref()
        .map(|j| serde_json::from_str(j).map_err(|e| corrupt("source", e)))
        .transpose()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl Farm {
    fn live(&self) -> &LiveSettings {
        &self.inner.settings.live
    }

    fn live_workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveWorker>> {
        self.inner.live_workers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publishers(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<StreamId, watch::Sender<Option<String>>>> {
        self.inner.publishers.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ------------------------------------------------------------ streams

    /// Creates a stream with a fresh secret key.
    pub fn add_stream(&self, name: &str, urls: &PublicUrls) -> Result<StreamInfo, FarmError> {
        validate_name(name)?;
        let key = hex::encode(rand::random::<[u8; 16]>());
        let db = self.db();
        match store::insert_stream(&db, name, &key, self.now_ms() / 1000)? {
            None => Err(FarmError::Conflict(format!("a stream named {name:?} exists already"))),
            Some(_) => {
                tracing::info!(stream = name, "stream added");
                let row =
                    store::stream_by_name(&db, name)?.ok_or_else(|| corrupt("stream", name))?;
                self.describe_stream(&db, &row, urls)
            }
        }
    }

    /// Retires a stream: its key stops working and a live publisher is cut off.
    pub fn remove_stream(&self, name: &str, urls: &PublicUrls) -> Result<StreamInfo, FarmError> {
        let db = self.db();
        let row = find_stream(&db, name)?;
        let info = self.describe_stream(&db, &row, urls)?;
        store::remove_stream(&db, row.id, self.now_ms() / 1000)?;
        drop(db);
        if let Some(kick) = self.publishers().get(&row.id) {
            let _ = kick.send(Some("the stream was removed".to_owned()));
        }
        tracing::info!(stream = name, "stream removed");
        Ok(info)
    }

    pub fn list_streams(&self, urls: &PublicUrls) -> Result<Vec<StreamInfo>, FarmError> {
        let db = self.db();
        store::streams(&db)?.iter().map(|row| self.describe_stream(&db, row, urls)).collect()
    }

    pub fn stream_info(&self, name: &str, urls: &PublicUrls) -> Result<StreamInfo, FarmError> {
        let db = self.db();
        let row = find_stream(&db, name)?;
        self.describe_stream(&db, &row, urls)
    }

    fn describe_stream(
        &self,
        conn: &Connection,
        row: &StreamRow,
        urls: &PublicUrls,
    ) -> Result<StreamInfo, FarmError> {
        let live = self.publishers().contains_key(&row.id);
        let broadcast = match store::latest_broadcast(conn, row.id)? {
            None => None,
            Some(b) => Some(describe_broadcast(conn, &b)?),
        };
        Ok(StreamInfo {
            name: row.name.clone(),
            key: row.key.clone(),
            ingest_url: format!("{}/live/{}", urls.rtmp, row.key),
            playback_url: format!("{}/live/{}/master.m3u8", urls.http, row.name),
            recording_url: format!("{}/live/{}/recording.m3u8", urls.http, row.name),
            live,
            created_at: row.created,
            broadcast,
        })
    }

    // ------------------------------------------------------------ ingest

    /// A publisher asks to go live with `key`. At most one publisher per
    /// stream: a second one is refused while the first is live.
    pub fn claim_publisher(
        &self,
        key: &str,
    ) -> Result<Result<Publisher, PublishRefusal>, FarmError> {
        let now = self.now_ms();
        let mut db = self.db();
        let Some(stream) = store::stream_by_key(&db, key)? else {
            return Ok(Err(PublishRefusal::UnknownKey));
        };
        let mut publishers = self.publishers();
        if publishers.contains_key(&stream.id) {
            return Ok(Err(PublishRefusal::AlreadyLive(stream.name)));
        }
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let broadcast = store::insert_broadcast(&tx, stream.id, now)?;
        tx.commit()?;
        let (kick, kicked) = watch::channel(None);
        publishers.insert(stream.id, kick);
        tracing::info!(stream = %stream.name, %broadcast, "broadcast started");
        Ok(Ok(Publisher { stream, broadcast, kicked }))
    }

    /// The source's sequence headers arrived: fixes the broadcast's ladder.
    pub fn set_source(
        &self,
        broadcast: BroadcastId,
        source: &SourceInfo,
    ) -> Result<Vec<Rung>, FarmError> {
        let rungs = protocol::ladder::for_source(&self.live().ladder, source.width, source.height);
        let description = SourceDescription {
            width: source.width,
            height: source.height,
            video_codec: source.video_codec.clone(),
            audio_codec: source.audio_codec.clone(),
        };
        let source_json = serde_json::to_string(&description).map_err(|e| corrupt("source", e))?;
        let rungs_json = serde_json::to_string(&rungs).map_err(|e| corrupt("ladder", e))?;
        store::set_broadcast_ladder(&self.db(), broadcast, &source_json, &rungs_json)?;
        tracing::info!(%broadcast, source = %format!("{}x{}", source.width, source.height),
            ladder = %rungs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(" "), "ladder set");
        Ok(rungs)
    }

    /// Stores a segment the ingest cut and queues it for transcoding.
    /// `wall_start` and `cut_at` are Unix ms.
    pub fn add_segment(
        &self,
        broadcast: BroadcastId,
        segment: &Segment,
        wall_start: i64,
        cut_at: i64,
    ) -> Result<SegmentId, FarmError> {
        let cid = self.inner.blobs.put(&segment.data)?;
        let new = NewSegment {
            broadcast,
            sequence: segment.sequence,
            cid: &cid,
            bytes: segment.data.len() as u64,
            duration_ms: segment.duration_ms,
            frames: segment.video_frames,
            has_audio: segment.has_audio,
            discontinuity: segment.discontinuity,
            wall_start,
            cut_at,
        };
        let id = store::insert_segment(&self.db(), &new)?;
        let capable = self.inner.caps().values().filter(|c| !c.encoders.is_empty()).count();
        if capable == 0 {
            tracing::warn!(%broadcast, sequence = segment.sequence,
                "no connected worker announces an encoder: the segment waits");
        }
        tracing::debug!(%broadcast, sequence = segment.sequence, ms = segment.duration_ms, "segment queued");
        Ok(id)
    }

    /// The publisher left (or was cut off): the broadcast ends, with the
    /// reason when it did not end cleanly.
    pub fn end_broadcast(
        &self,
        publisher: &Publisher,
        error: Option<&str>,
    ) -> Result<(), FarmError> {
        self.publishers().remove(&publisher.stream.id);
        store::end_broadcast(&self.db(), publisher.broadcast, self.now_ms(), error)?;
        match error {
            None => {
                tracing::info!(stream = %publisher.stream.name, broadcast = %publisher.broadcast, "broadcast ended")
            }
            Some(error) => {
                tracing::warn!(stream = %publisher.stream.name, broadcast = %publisher.broadcast, error, "broadcast ended")
            }
        }
        self.publish_ready(publisher.broadcast)
    }

    // ------------------------------------------------------------ work

    /// The next segment for `peer`'s live lane.
    pub(super) fn next_segment(&self, peer: &str) -> Result<Option<TaskAssignment>, FarmError> {
        let now = self.now_ms();
        if self.inner.caps().get(peer).is_none_or(|c| c.encoders.is_empty()) {
            return Ok(None);
        }
        if self.live_workers().get(peer).and_then(|w| w.benched_until).is_some_and(|t| t > now) {
            return Ok(None);
        }
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(id) = store::next_queued_segment(&tx, peer)? else {
            tx.commit()?;
            return Ok(None);
        };
        let segment = store::segment(&tx, id)?.ok_or_else(|| corrupt("segment", id))?;
        let deadline = self.deadline_ms(&segment);
        let lease = store::lease_segment(&tx, id, peer, now, now + deadline)?;
        render_store::touch_worker(&tx, peer, now / 1000)?;
        let work = transcode_work(&tx, &segment)?;
        tracing::info!(peer, stream = %work.stream, sequence = segment.sequence, %lease,
            deadline_ms = deadline, "segment leased");
        let work = Work::Transcode(work);
        render_store::verify::set_lease_digest(&tx, lease, &protocol::receipt::work_digest(&work))?;
        tx.commit()?;
        Ok(Some(TaskAssignment { lease, lease_ms: deadline as u64, work }))
    }

    fn deadline_ms(&self, segment: &SegmentRow) -> i64 {
        ((segment.duration_ms as f64 * self.live().deadline_factor) as i64).max(1000)
    }

    /// A live lease is renewed until its deadline, never past it.
    pub(super) fn renew_segment(
        &self,
        peer: &str,
        lease: LeaseId,
        id: SegmentId,
    ) -> Result<Renewal, FarmError> {
        let db = self.db();
        Ok(match current_segment_lease(&db, peer, lease, id, Some(self.now_ms()))? {
            Ok(_) => Renewal::Renewed,
            Err(reason) => Renewal::Lost(reason),
        })
    }

    pub(super) fn upload_rendition(
        &self,
        peer: &str,
        lease: LeaseId,
        id: SegmentId,
        chunk: UploadChunk,
    ) -> Result<Option<ContentId>, FarmError> {
        let UploadChunk { output: rung, offset, data, last } = chunk;
        let segment = current_segment_lease(&self.db(), peer, lease, id, Some(self.now_ms()))?
            .map_err(FarmError::Conflict)?;
        let rungs = self.rungs_of_segment(&segment)?;
        if rung as usize >= rungs.len() {
            return Err(FarmError::Invalid(format!(
                "output {rung} is not a rung of segment {} (it has {})",
                segment.sequence,
                rungs.len()
            )));
        }
        let cap = self.live().max_rendition_bytes;
        let cid = self.inner.blobs.stage_chunk(lease, rung, offset, data, last, cap)?;
        if let Some(cid) = &cid {
            render_store::record_upload(&self.db(), lease, rung, cid)?;
        }
        Ok(cid)
    }

    pub(super) fn rungs_of_segment(&self, segment: &SegmentRow) -> Result<Vec<Rung>, FarmError> {
        let b = store::broadcast(&self.db(), segment.broadcast)?
            .ok_or_else(|| corrupt("broadcast", segment.broadcast))?;
        rungs_of(&b)
    }

    /// A worker reports a segment transcoded. `Ok(Err(reason))` is a
    /// refusal: a stale lease, or renditions that fail their checks (then
    /// the segment goes to another worker).
    pub(super) fn complete_segment(
        &self,
        peer: &str,
        lease: LeaseId,
        id: SegmentId,
        outputs: &[TaskOutput],
        encoder: Option<&str>,
        signature: &[u8],
    ) -> Result<Result<(), String>, FarmError> {
        let segment = match current_segment_lease(&self.db(), peer, lease, id, Some(self.now_ms()))?
        {
            Ok(segment) => segment,
            Err(reason) => return Ok(Err(reason)),
        };
        let refused = match self.check_receipt(peer, lease, outputs, encoder, signature)? {
            Ok(digest) => self.work_refusal(peer)?.map_or(Ok(digest), Err),
            Err(reason) => Err(reason),
        };
        let digest = match refused {
            Ok(digest) => digest,
            Err(reason) => {
                self.fail_segment(peer, lease, id, &reason)?;
                return Ok(Err(reason));
            }
        };
        let rungs = self.rungs_of_segment(&segment)?;
        let checked = match self.check_renditions(&segment, &rungs, lease, outputs)? {
            Ok(checked) => checked,
            Err(reason) => {
                self.fail_segment(peer, lease, id, &reason)?;
                return Ok(Err(reason));
            }
        };
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The deadline may have passed while the renditions were checked.
        let segment = match current_segment_lease(&tx, peer, lease, id, Some(now))? {
            Ok(segment) => segment,
            Err(reason) => return Ok(Err(reason)),
        };
        let encoder = encoder.map(|e| e.chars().take(64).collect::<String>());
        store::set_segment_done(&tx, id, peer, encoder.as_deref(), &checked, now)?;
        // Live renditions are published after their cheap checks (latency
        // matters); a spot check that later proves them wrong swaps them.
        let delivery = super::verify::Delivery {
            peer,
            lease,
            engine: encoder.as_deref(),
            outputs: checked.iter().map(|r| (r.rung, r.cid)).collect(),
            digest,
            signature,
        };
        let price = self.video_price(&rungs, segment.frames);
        let subject = render_store::verify::Subject::Segment(id);
        let can_check = |caps: &Capabilities| !caps.encoders.is_empty();
        self.record_first_result(&tx, subject, &delivery, price, now, can_check)?;
        render_store::count_task_done(&tx, peer)?;
        tx.commit()?;
        drop(db);
        self.inner.blobs.discard_staged(lease);
        let elapsed = (now - segment.lease_granted.unwrap_or(now)).max(1);
        self.record_speed(peer, segment.duration_ms as f64 / elapsed as f64);
        tracing::info!(peer, broadcast = %segment.broadcast, sequence = segment.sequence,
            ms = elapsed, "segment transcoded");
        self.publish_ready(segment.broadcast)?;
        Ok(Ok(()))
    }

    /// Each rung's upload, matched against the report and checked.
    pub(super) fn check_renditions(
        &self,
        segment: &SegmentRow,
        rungs: &[Rung],
        lease: LeaseId,
        outputs: &[TaskOutput],
    ) -> Result<Result<Vec<RenditionRow>, String>, FarmError> {
        if let Some(extra) = outputs.iter().find(|o| o.output as usize >= rungs.len()) {
            return Ok(Err(format!(
                "the report names output {}, but there are {} rungs",
                extra.output,
                rungs.len()
            )));
        }
        let mut checked = Vec::with_capacity(rungs.len());
        // Whether the source's first picture has anything on it: a blank
        // rendition of a picture that is not blank is refused (decoding one
        // picture of each is cheap enough for every result).
        let source_spread = transcoder::first_picture_spread(&self.inner.blobs.path(&segment.cid))
            .unwrap_or(u8::MAX);
        for (i, rung) in rungs.iter().enumerate() {
            let i = i as u32;
            let Some(output) = outputs.iter().find(|o| o.output == i) else {
                return Ok(Err(format!("the report has no rendition for {}", rung.name)));
            };
            let uploaded = render_store::upload(&self.db(), lease, i)?;
            match uploaded {
                None => {
                    return Ok(Err(format!("{} was never uploaded under lease {lease}", rung.name)))
                }
                Some(cid) if cid != output.cid => {
                    return Ok(Err(format!(
                        "{} was reported as {} but the upload hashes to {cid}",
                        rung.name, output.cid
                    )))
                }
                Some(_) => {}
            }
            let path = self.inner.blobs.path(&output.cid);
            let probe = match transcoder::probe_segment(&path) {
                Ok(probe) => probe,
                Err(e) => return Ok(Err(format!("{}: not a readable segment: {e}", rung.name))),
            };
            if let Err(defect) = rendition_defect(segment, rung, &probe) {
                return Ok(Err(format!("{}: {defect}", rung.name)));
            }
            if source_spread > SOURCE_NOT_BLANK {
                match transcoder::first_picture_spread(&path) {
                    Ok(spread) if spread <= BLANK_SPREAD => {
                        return Ok(Err(format!(
                            "{}: the first picture is blank (one shade), the source's is not",
                            rung.name
                        )))
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Ok(Err(format!(
                            "{}: its first picture does not decode: {e}",
                            rung.name
                        )))
                    }
                }
            }
            let codec = probe.video.map(|v| v.codec).unwrap_or_default();
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            checked.push(RenditionRow { rung: i, cid: output.cid, bytes, codec });
        }
        Ok(Ok(checked))
    }

    /// A worker could not transcode a segment: it goes to another worker,
    /// or fails (and becomes a gap) when nobody is left to try.
    pub(super) fn fail_segment(
        &self,
        peer: &str,
        lease: LeaseId,
        id: SegmentId,
        reason: &str,
    ) -> Result<(), FarmError> {
        let reason = clean_reason(reason);
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // A failure is taken even past the deadline: it says why.
        let segment =
            current_segment_lease(&tx, peer, lease, id, None)?.map_err(FarmError::Conflict)?;
        store::record_segment_failure(&tx, id, peer, &reason, now)?;
        let failed_by: Vec<String> = store::segment_failed_by(&tx, id)?;
        let anyone_left = self
            .inner
            .caps()
            .iter()
            .any(|(p, caps)| !caps.encoders.is_empty() && !failed_by.contains(p));
        let state = if failed_by.len() as u32 >= self.live().max_failures || !anyone_left {
            tracing::warn!(peer, sequence = segment.sequence, reason, "segment failed for good");
            SegmentState::Failed
        } else {
            tracing::warn!(peer, sequence = segment.sequence, reason, "segment failed; requeued");
            SegmentState::Queued
        };
        store::end_segment_lease(&tx, id, state, now)?;
        tx.commit()?;
        drop(db);
        self.inner.blobs.discard_staged(lease);
        self.publish_ready(segment.broadcast)
    }

    /// Requeues segments chosen by `which` without counting failures.
    pub(super) fn requeue_segments(
        &self,
        which: impl FnOnce(&Connection) -> Result<Vec<SegmentRow>, crate::store::StoreError>,
    ) -> Result<usize, FarmError> {
        self.requeue_rows(
            which,
            |s| s.lease,
            |conn, s, now| store::end_segment_lease(conn, s.id, SegmentState::Queued, now),
        )
    }

    /// Once a second: segments past their deadline go to another worker
    /// (and count against their worker's speed), and whatever is ready is
    /// published.
    pub fn live_tick(&self) -> Result<(), FarmError> {
        let now = self.now_ms();
        let late = store::segments_expired(&self.db(), now)?;
        if !late.is_empty() {
            for segment in &late {
                self.note_late(segment);
            }
            self.requeue_segments(|conn| store::segments_expired(conn, now))?;
        }
        let broadcasts = store::broadcasts_with_unpublished(&self.db())?;
        for b in broadcasts {
            self.publish_ready(b)?;
        }
        Ok(())
    }

    /// Notes a segment past its deadline against its worker.
    fn note_late(&self, segment: &SegmentRow) {
        if let (Some(peer), Some(granted)) = (&segment.lease_worker, segment.lease_granted) {
            let elapsed = (self.now_ms() - granted).max(1);
            tracing::warn!(
                peer,
                sequence = segment.sequence,
                "segment past its deadline; reassigned"
            );
            self.record_speed(peer, segment.duration_ms as f64 / elapsed as f64);
        }
    }

    fn record_speed(&self, peer: &str, speed: f64) {
        let now = self.now_ms();
        let (min, bench) = (self.live().min_speed, self.live().bench_ms);
        let mut workers = self.live_workers();
        let w = workers.entry(peer.to_owned()).or_default();
        let average = match w.speed {
            None => speed,
            Some(old) => old * (1.0 - SPEED_WEIGHT) + speed * SPEED_WEIGHT,
        };
        w.speed = Some(average);
        w.samples += 1;
        if w.samples >= 2 && average < min {
            w.benched_until = Some(now + bench);
            // A fresh start when the bench ends.
            w.speed = None;
            w.samples = 0;
            tracing::warn!(
                peer,
                speed = format!("{average:.2}x real time"),
                seconds = bench / 1000,
                "worker too slow for live work; off live work for a while"
            );
        }
    }

    /// Publishes, in order, every segment of `broadcast` that is ready: with
    /// its renditions, or as a gap when it failed or (while the broadcast
    /// is live) waited too long.
    fn publish_ready(&self, broadcast: BroadcastId) -> Result<(), FarmError> {
        let now = self.now_ms();
        let gap_factor = self.live().gap_factor;
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b = store::broadcast(&tx, broadcast)?.ok_or_else(|| corrupt("broadcast", broadcast))?;
        let live = b.ended.is_none();
        let mut gave_up = Vec::new();
        while let Some(head) = store::first_unpublished(&tx, broadcast)? {
            let waited = now - head.cut_at;
            let how = match head.state {
                SegmentState::Done => Published::Ok,
                SegmentState::Failed => Published::Gap,
                _ if live && waited as f64 > head.duration_ms as f64 * gap_factor => {
                    // Whoever holds it is too late to matter.
                    gave_up.extend(head.lease);
                    store::end_segment_lease(&tx, head.id, SegmentState::Failed, now)?;
                    Published::Gap
                }
                _ => break,
            };
            if how == Published::Gap {
                tracing::warn!(%broadcast, sequence = head.sequence, waited_ms = waited,
                    "segment published as a gap: no renditions in time");
            }
            store::publish_segment(&tx, &head, how, now)?;
        }
        tx.commit()?;
        drop(db);
        for lease in gave_up {
            self.inner.blobs.discard_staged(lease);
        }
        Ok(())
    }

    // ------------------------------------------------------------ HLS

    /// The master playlist of a stream's latest broadcast.
    pub fn master_playlist(&self, name: &str, kind: Kind) -> Result<String, FarmError> {
        let db = self.db();
        let (b, rungs) = playable_broadcast(&db, name)?;
        let audio = source_of(&b)?.and_then(|s| s.audio_codec);
        let window = (kind == Kind::Live).then_some(self.live().hls_window);
        let mut variants = Vec::with_capacity(rungs.len());
        for (i, rung) in rungs.iter().enumerate() {
            let listed = store::listed_segments(&db, b.id, i as u32, window)?;
            let Some(last) = listed.last() else {
                return Err(FarmError::NotFound(format!(
                    "stream {name} is starting: its first segment is not ready yet"
                )));
            };
            let bits = |s: &store::ListedSegment| s.bytes * 8000 / s.duration_ms.max(1);
            let total_ms: u64 = listed.iter().map(|s| s.duration_ms).sum();
            let total_bytes: u64 = listed.iter().map(|s| s.bytes).sum();
            let codecs = match &audio {
                Some(audio) => format!("{},{audio}", last.codec),
                None => last.codec.clone(),
            };
            variants.push(hls::Variant {
                bandwidth: listed.iter().map(bits).max().unwrap_or(rung.bitrate),
                average_bandwidth: total_bytes * 8000 / total_ms.max(1),
                width: rung.width,
                height: rung.height,
                codecs,
                uri: format!("{}/{}", rung.name, kind.file()),
            });
        }
        Ok(hls::master_playlist(&variants))
    }

    /// A rung's media playlist of a stream's latest broadcast.
    pub fn media_playlist(&self, name: &str, rung: &str, kind: Kind) -> Result<String, FarmError> {
        let db = self.db();
        let (b, rungs) = playable_broadcast(&db, name)?;
        let index = rung_index(&rungs, name, rung)?;
        let window = (kind == Kind::Live).then_some(self.live().hls_window);
        let listed = store::listed_segments(&db, b.id, index, window)?;
        let ended = b.ended.is_some() && store::first_unpublished(&db, b.id)?.is_none();
        let target_duration = store::longest_segment_ms(&db, b.id)?.div_ceil(1000);
        Ok(hls::media_playlist(&hls::Media {
            kind,
            target_duration,
            segments: &listed,
            ended,
            broadcast: b.id.0,
        }))
    }

    /// The file of a rendition segment, named `BROADCAST-SEQUENCE.ts`.
    pub fn rendition_file(&self, name: &str, rung: &str, file: &str) -> Result<PathBuf, FarmError> {
        let not_found = || FarmError::NotFound(format!("no segment {file} in {name}/{rung}"));
        let (broadcast, sequence) = file
            .strip_suffix(".ts")
            .and_then(|f| f.split_once('-'))
            .and_then(|(b, s)| Some((b.parse::<i64>().ok()?, s.parse::<u64>().ok()?)))
            .ok_or_else(not_found)?;
        let db = self.db();
        let stream = find_stream(&db, name)?;
        let b = store::broadcast(&db, BroadcastId(broadcast))?
            .filter(|b| b.stream == stream.id)
            .ok_or_else(not_found)?;
        let index = rung_index(&rungs_of(&b)?, name, rung)?;
        let segment = store::segment_by_sequence(&db, b.id, sequence)?
            .filter(|s| s.published == Some(Published::Ok))
            .ok_or_else(not_found)?;
        let rendition = store::renditions(&db, segment.id)?
            .into_iter()
            .find(|r| r.rung == index)
            .ok_or_else(not_found)?;
        drop(db);
        let path = self.inner.blobs.path(&rendition.cid);
        if !path.is_file() {
            return Err(not_found());
        }
        Ok(path)
    }
}

fn find_stream(conn: &Connection, name: &str) -> Result<StreamRow, FarmError> {
    store::stream_by_name(conn, name)?
        .ok_or_else(|| FarmError::NotFound(format!("no stream named {name:?}")))
}

fn stream_name(conn: &Connection, id: StreamId) -> Result<String, FarmError> {
    conn.query_row("SELECT name FROM streams WHERE id = ?1", [id.0], |r| r.get(0))
        .map_err(|e| corrupt("stream", e))
}

/// The latest broadcast of a stream, once it has a ladder.
fn playable_broadcast(
    conn: &Connection,
    name: &str,
) -> Result<(BroadcastRow, Vec<Rung>), FarmError> {
    let stream = find_stream(conn, name)?;
    let b = store::latest_broadcast(conn, stream.id)?
        .ok_or_else(|| FarmError::NotFound(format!("stream {name} has not been broadcast yet")))?;
    let rungs = rungs_of(&b)?;
    if rungs.is_empty() {
        return Err(FarmError::NotFound(format!(
            "stream {name} is starting: no video has arrived yet"
        )));
    }
    Ok((b, rungs))
}

fn rung_index(rungs: &[Rung], name: &str, rung: &str) -> Result<u32, FarmError> {
    rungs.iter().position(|r| r.name == rung).map(|i| i as u32).ok_or_else(|| {
        let names: Vec<&str> = rungs.iter().map(|r| r.name.as_str()).collect();
        FarmError::NotFound(format!(
            "stream {name} has no rung {rung}; its rungs are {}",
            names.join(", ")
        ))
    })
}

/// The segment if `lease` is its current lease, held by `peer`, and (when
/// `now` is given) not past its deadline; otherwise why not.
fn current_segment_lease(
    conn: &Connection,
    peer: &str,
    lease: LeaseId,
    id: SegmentId,
    now: Option<i64>,
) -> Result<Result<SegmentRow, String>, FarmError> {
    let segment = store::segment(conn, id)?.ok_or_else(|| corrupt("segment", id))?;
    if segment.lease != Some(lease) || segment.state != SegmentState::Leased {
        return Ok(Err(format!(
            "lease {lease} has ended (its deadline passed, or the connection closed); segment {} is {}",
            segment.sequence,
            segment.state.as_str()
        )));
    }
    if segment.lease_worker.as_deref() != Some(peer) {
        return Ok(Err(format!("lease {lease} was granted to another worker")));
    }
    if let (Some(now), Some(expires)) = (now, segment.lease_expires) {
        if expires < now {
            return Ok(Err(format!("lease {lease} is past its deadline")));
        }
    }
    Ok(Ok(segment))
}

/// What is wrong with a rendition, if anything.
fn rendition_defect(
    segment: &SegmentRow,
    rung: &Rung,
    probe: &transcoder::SegmentProbe,
) -> Result<(), String> {
    let video = probe.video.as_ref().ok_or("no video stream")?;
    if !video.codec.starts_with("avc1.") {
        return Err(format!("video is {}, not H.264", video.codec));
    }
    if (video.width, video.height) != (rung.width, rung.height) {
        return Err(format!(
            "video is {}x{}, not {}x{}",
            video.width, video.height, rung.width, rung.height
        ));
    }
    if !video.starts_with_keyframe {
        return Err("it does not start with a keyframe".into());
    }
    if video.frames != segment.frames {
        return Err(format!("{} frames, but the source has {}", video.frames, segment.frames));
    }
    let frame_ms = segment.duration_ms as f64 / f64::from(segment.frames.max(1));
    let duration_ms = video.duration * 1000.0;
    if (duration_ms - segment.duration_ms as f64).abs() > frame_ms + 1.0 {
        return Err(format!(
            "lasts {duration_ms:.0} ms, but the source {} ms",
            segment.duration_ms
        ));
    }
    if segment.has_audio && probe.audio.as_ref().is_none_or(|a| a.packets == 0) {
        return Err("the source's audio is missing".into());
    }
    Ok(())
}

fn describe_broadcast(conn: &Connection, b: &BroadcastRow) -> Result<BroadcastInfo, FarmError> {
    let counts = store::broadcast_counts(conn, b.id)?;
    let mut latencies = counts.latencies_ms;
    latencies.sort_unstable();
    let last = store::last_done_segment(conn, b.id)?;
    let rungs = rungs_of(b)?
        .into_iter()
        .map(|rung| RungStatus {
            rung,
            worker: last.as_ref().and_then(|s| s.worker.clone()),
            encoder: last.as_ref().and_then(|s| s.encoder.clone()),
        })
        .collect();
    Ok(BroadcastInfo {
        id: b.id,
        started_at: b.started / 1000,
        ended_at: b.ended.map(|t| t / 1000),
        error: b.error.clone(),
        source: source_of(b)?,
        rungs,
        segments: counts.segments,
        published: counts.published,
        gaps: counts.gaps,
        latency_p50_ms: percentile(&latencies, 50.0),
        latency_p95_ms: percentile(&latencies, 95.0),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use protocol::wire::Capabilities;
    use protocol::wire::Lane;

    use super::*;
    use crate::farm::FarmSettings;

    const SEGMENT_MS: u64 = 1000;
    const FRAMES: u32 = 30;

    fn settings() -> FarmSettings {
        let mut settings = FarmSettings::from(&crate::config::Config::default());
        settings.verify = super::super::verify::unchecked();
        settings.live.ladder = vec![
            RungSpec { height: 90, bitrate: 200_000 },
            RungSpec { height: 60, bitrate: 100_000 },
        ];
        settings
    }

    fn source() -> SourceInfo {
        SourceInfo {
            width: 160,
            height: 90,
            video_codec: "avc1.64000c".into(),
            audio_codec: Some("mp4a.40.2".into()),
            audio_sample_rate: Some(44100),
            audio_channels: Some(1),
        }
    }

    /// A real 1 s, 160x90 source segment and its two renditions, made once
    /// with the ffmpeg CLI and our transcoder.
    fn renditions() -> &'static [Vec<u8>] {
        static MADE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
        MADE.get_or_init(|| transcoded("testsrc2=s=160x90:r=30"))
    }

    /// Renditions of one second of black: what a cheat could deliver.
    fn black_renditions() -> &'static [Vec<u8>] {
        static MADE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
        MADE.get_or_init(|| transcoded("color=c=black:s=160x90:r=30"))
    }

    /// One second of the lavfi `video` source with a tone, through our ladder.
    fn transcoded(video: &str) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.ts");
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", video])
            .args(["-f", "lavfi", "-i", "sine=r=44100", "-t", "1", "-c:v", "libx264"])
            .args(["-g", "300", "-c:a", "aac", "-f", "mpegts"])
            .arg(&src)
            .status()
            .expect("run ffmpeg");
        assert!(status.success());
        let rungs = protocol::ladder::for_source(&settings().live.ladder, 160, 90);
        let outs: Vec<PathBuf> =
            (0..rungs.len()).map(|i| dir.path().join(format!("{i}.ts"))).collect();
        transcoder::transcode_segment(&src, &rungs, &outs, &transcoder::encoders::Libx264).unwrap();
        outs.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    struct Live {
        farm: Farm,
        publisher: Publisher,
        _dir: tempfile::TempDir,
    }

    fn live() -> Live {
        live_with(settings())
    }

    fn live_with(settings: FarmSettings) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let farm = Farm::open(dir.path(), settings).unwrap();
        let urls = PublicUrls { rtmp: "rtmp://h:1935".into(), http: "http://h:8080".into() };
        let key = farm.add_stream("studio", &urls).unwrap().key;
        let publisher = farm.claim_publisher(&key).unwrap().unwrap();
        farm.set_source(publisher.broadcast, &source()).unwrap();
        for (peer, encoders) in
            [("a", vec!["libx264"]), ("b", vec!["libx264"]), ("renderer", vec![])]
        {
            let caps = Capabilities {
                encoders: encoders.into_iter().map(str::to_owned).collect(),
                ..Default::default()
            };
            farm.worker_hello(peer, caps).unwrap();
        }
        Live { farm, publisher, _dir: dir }
    }

    impl Live {
        fn cut(&self, sequence: u64) {
            let segment = Segment {
                sequence,
                data: format!("source segment {sequence}").into_bytes(),
                start_pts: 0,
                duration_ms: SEGMENT_MS,
                video_frames: FRAMES,
                has_audio: true,
                discontinuity: false,
            };
            let now = self.farm.now_ms();
            self.farm.add_segment(self.publisher.broadcast, &segment, now - 1000, now).unwrap();
        }

        fn next(&self, peer: &str) -> Option<(LeaseId, TranscodeWork)> {
            self.farm.next_task(peer, Lane::Live).unwrap().map(|t| match t.work {
                Work::Transcode(w) => (t.lease, w),
                Work::Render(_) => panic!("the live lane got render work"),
            })
        }

        /// Uploads `outputs` (rendition bytes by rung) and reports them.
        fn deliver(&self, peer: &str, lease: LeaseId, outputs: &[Vec<u8>]) -> Result<(), String> {
            let mut reported = Vec::new();
            for (i, bytes) in outputs.iter().enumerate() {
                let cid =
                    self.farm.upload_chunk(peer, lease, i as u32, 0, bytes, true).unwrap().unwrap();
                reported.push(TaskOutput { output: i as u32, cid });
            }
            super::super::tests::complete_signed(&self.farm, peer, lease, reported, Some("libx264"))
                .unwrap()
        }

        fn published(&self) -> Vec<(u64, Option<Published>)> {
            let db = self.farm.db();
            (0..8)
                .filter_map(|seq| {
                    store::segment_by_sequence(&db, self.publisher.broadcast, seq).unwrap()
                })
                .map(|s| (s.sequence, s.published))
                .collect()
        }

        fn playlist(&self) -> String {
            self.farm.media_playlist("studio", "90p", Kind::Recording).unwrap()
        }
    }

    #[test]
    fn segments_go_to_encoders_one_per_broadcast_and_publish_in_order() {
        let l = live();
        for seq in 0..3 {
            l.cut(seq);
        }
        assert!(l.next("renderer").is_none(), "a worker without an encoder got live work");
        let (lease_a, work_a) = l.next("a").unwrap();
        assert_eq!((work_a.sequence, work_a.rungs.len()), (0, 2));
        assert!(l.next("a").is_none(), "a worker got a second segment of the same broadcast");
        let (lease_b, work_b) = l.next("b").unwrap();
        assert_eq!(work_b.sequence, 1);

        l.deliver("b", lease_b, renditions()).unwrap();
        assert_eq!(l.published()[..2], [(0, None), (1, None)], "published out of order");
        l.deliver("a", lease_a, renditions()).unwrap();
        assert_eq!(l.published()[..2], [(0, Some(Published::Ok)), (1, Some(Published::Ok))]);
        let playlist = l.playlist();
        assert!(playlist.contains("1-0.ts\n") && playlist.contains("1-1.ts\n"), "{playlist}");
        assert!(!playlist.contains("#EXT-X-ENDLIST"), "still live:\n{playlist}");
        let master = l.farm.master_playlist("studio", Kind::Live).unwrap();
        assert!(
            master.contains("RESOLUTION=160x90") && master.contains(",mp4a.40.2\""),
            "{master}"
        );
        let file = l.farm.rendition_file("studio", "60p", "1-1.ts").unwrap();
        assert_eq!(std::fs::read(file).unwrap(), renditions()[1]);

        // The broadcast ends once the last segment is in: the playlists end.
        let (lease, _) = l.next("a").unwrap();
        l.farm.end_broadcast(&l.publisher, None).unwrap();
        assert!(!l.playlist().contains("#EXT-X-ENDLIST"), "ended before its last segment");
        l.deliver("a", lease, renditions()).unwrap();
        assert!(l.playlist().ends_with("1-2.ts\n#EXT-X-ENDLIST\n"), "{}", l.playlist());
        let info = l
            .farm
            .stream_info("studio", &PublicUrls { rtmp: "r".into(), http: "h".into() })
            .unwrap();
        let b = info.broadcast.unwrap();
        assert_eq!((b.segments, b.published, b.gaps), (3, 3, 0));
        assert_eq!(b.rungs[0].encoder.as_deref(), Some("libx264"));
    }

    #[test]
    fn a_segment_past_its_deadline_goes_to_another_worker() {
        let l = live();
        l.cut(0);
        let (late, _) = l.next("a").unwrap();
        l.farm.advance_clock(1600); // the deadline is 1.5 x 1 s
        l.farm.live_tick().unwrap();
        assert!(matches!(l.farm.renew("a", late).unwrap(), Renewal::Lost(_)));
        let (lease, work) = l.next("b").unwrap();
        assert_eq!(work.sequence, 0);
        // The late worker's renditions are no longer taken.
        let late_upload = l.farm.upload_chunk("a", late, 0, 0, &renditions()[0], true);
        assert!(matches!(late_upload, Err(FarmError::Conflict(_))), "{late_upload:?}");
        l.deliver("b", lease, renditions()).unwrap();
        assert_eq!(l.published(), [(0, Some(Published::Ok))]);
    }

    #[test]
    fn a_segment_without_renditions_in_time_becomes_a_gap() {
        let l = live();
        for seq in 0..3 {
            l.cut(seq);
        }
        let (lease, _) = l.next("a").unwrap();
        l.deliver("a", lease, renditions()).unwrap();
        // Segment 1 goes to a worker that never answers; 2 is done.
        let (_stuck, work) = l.next("b").unwrap();
        assert_eq!(work.sequence, 1);
        let (lease, work) = l.next("a").unwrap();
        assert_eq!(work.sequence, 2);
        l.deliver("a", lease, renditions()).unwrap();
        assert_eq!(l.published()[1..], [(1, None), (2, None)], "the playlist waits a while");

        l.farm.advance_clock(3100); // past 3 x 1 s after its cut
        l.farm.live_tick().unwrap();
        assert_eq!(
            l.published(),
            [(0, Some(Published::Ok)), (1, Some(Published::Gap)), (2, Some(Published::Ok))]
        );
        let playlist = l.playlist();
        assert!(playlist.contains("1-0.ts\n#EXT-X-DISCONTINUITY\n"), "{playlist}");
        assert!(!playlist.contains("1-1.ts"), "{playlist}");
    }

    #[test]
    fn a_worker_slower_than_real_time_is_taken_off_live_work() {
        let l = live();
        // "a" misses two deadlines in a row.
        for seq in 0..2 {
            l.cut(seq);
            let (_, work) = l.next("a").unwrap();
            assert_eq!(work.sequence, seq);
            l.farm.advance_clock(1600);
            l.farm.live_tick().unwrap();
            l.farm.advance_clock(2000);
            l.farm.live_tick().unwrap();
        }
        l.cut(2);
        assert!(l.next("a").is_none(), "a slow worker still gets live work");
        assert_eq!(l.next("b").unwrap().1.sequence, 2);
        // Render work still goes to it; live work again after the bench.
        l.farm.advance_clock(60_000);
        l.cut(3);
        assert_eq!(l.next("a").unwrap().1.sequence, 3);
    }

    #[test]
    fn a_rendition_that_fails_its_checks_is_refused_and_redone_elsewhere() {
        let l = live();
        l.cut(0);
        let (lease, _) = l.next("a").unwrap();
        // The rungs swapped: each is the wrong size.
        let swapped = [renditions()[1].clone(), renditions()[0].clone()];
        let reason = l.deliver("a", lease, &swapped).unwrap_err();
        assert!(reason.contains("90p: video is 106x60, not 160x90"), "{reason}");
        assert!(l.next("a").is_none(), "the worker that failed it got it again");
        let (lease, _) = l.next("b").unwrap();
        let garbage = [b"not a segment".to_vec(), renditions()[1].clone()];
        let reason = l.deliver("b", lease, &garbage).unwrap_err();
        assert!(reason.contains("90p"), "{reason}");
        // Nobody left to try: a gap, at once.
        assert_eq!(l.published(), [(0, Some(Published::Gap))]);
    }

    #[test]
    fn segment_checks_use_spare_capacity_in_the_render_lane_and_pay_on_a_match() {
        let mut s = settings();
        s.verify.policy = proofs::spot_check::SpotCheckPolicy::new(0.0, 20).unwrap();
        s.verify.video_price = 1e6;
        let l = live_with(s);
        l.cut(0);
        let (lease, _) = l.next("a").unwrap();
        l.deliver("a", lease, renditions()).unwrap();
        // Published at once; the check waits while a segment does.
        assert_eq!(l.published(), [(0, Some(Published::Ok))]);
        l.cut(1);
        let render_lane = |peer| l.farm.next_task(peer, Lane::Render).unwrap();
        assert!(render_lane("b").is_none(), "a check went out while a segment waited");
        assert!(l.next("b").is_some());
        // Now b has spare capacity: its render lane gets the check; never
        // the live lane, and never the node that did the work.
        assert!(render_lane("a").is_none());
        let check = render_lane("b").expect("the check");
        assert!(matches!(&check.work, Work::Transcode(w) if w.sequence == 0));
        l.deliver("b", check.lease, renditions()).unwrap();
        let rewards: Vec<String> = l
            .farm
            .ledger_entries(1, 100)
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.kind == proofs::ledger::EntryKind::Reward)
            .map(|e| e.entry.peer)
            .collect();
        assert_eq!(rewards, ["a", "b"]);
    }

    #[test]
    fn a_blank_rendition_of_a_picture_that_is_not_blank_is_refused() {
        let l = live();
        l.cut(0);
        let (lease, _) = l.next("a").unwrap();
        // (These tests' source is not video, which counts as not blank.)
        let reason = l.deliver("a", lease, black_renditions()).unwrap_err();
        assert!(reason.contains("90p: the first picture is blank"), "{reason}");
        let (lease, _) = l.next("b").unwrap();
        l.deliver("b", lease, renditions()).unwrap();
    }

    #[test]
    fn one_publisher_per_stream_and_removal_cuts_it_off() {
        let mut l = live();
        let urls = PublicUrls { rtmp: "r".into(), http: "h".into() };
        let key = l.farm.stream_info("studio", &urls).unwrap().key;
        match l.farm.claim_publisher(&key).unwrap() {
            Err(PublishRefusal::AlreadyLive(name)) => assert_eq!(name, "studio"),
            other => panic!("a second publisher was not refused: {:?}", other.err()),
        }
        assert_eq!(l.farm.claim_publisher("nope").unwrap().err(), Some(PublishRefusal::UnknownKey));
        assert!(l.farm.stream_info("studio", &urls).unwrap().live);
        l.farm.remove_stream("studio", &urls).unwrap();
        assert!(l.publisher.kicked.has_changed().unwrap());
        assert_eq!(
            l.publisher.kicked.borrow_and_update().as_deref(),
            Some("the stream was removed")
        );
        assert!(matches!(l.farm.claim_publisher(&key).unwrap(), Err(PublishRefusal::UnknownKey)));
        assert!(matches!(l.farm.add_stream("bad name!", &urls), Err(FarmError::Invalid(_))));
        l.farm.add_stream("studio", &urls).expect("the name is free again");
        assert!(matches!(l.farm.add_stream("studio", &urls), Err(FarmError::Conflict(_))));
    }

    #[test]
    fn a_restart_ends_the_broadcast_and_keeps_its_segments_for_the_recording() {
        let dir = tempfile::tempdir().unwrap();
        let broadcast = {
            let l = live();
            l.cut(0);
            l.next("a").unwrap();
            // Move its store, as if the process died here.
            let from = l._dir.path().to_owned();
            for entry in std::fs::read_dir(&from).unwrap() {
                let entry = entry.unwrap();
                std::fs::rename(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
            l.publisher.broadcast
        };
        let farm = Farm::open(dir.path(), settings()).unwrap();
        let b = store::broadcast(&farm.db(), broadcast).unwrap().unwrap();
        assert!(b.ended.is_some());
        assert_eq!(b.error.as_deref(), Some("the orchestrator stopped mid-broadcast"));
        let caps = Capabilities { encoders: vec!["libx264".into()], ..Default::default() };
        farm.worker_hello("b", caps).unwrap();
        let task = farm.next_task("b", Lane::Live).unwrap().expect("the segment was requeued");
        let outputs: Vec<TaskOutput> = renditions()
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                let cid =
                    farm.upload_chunk("b", task.lease, i as u32, 0, bytes, true).unwrap().unwrap();
                TaskOutput { output: i as u32, cid }
            })
            .collect();
        super::super::tests::complete_signed(&farm, "b", task.lease, outputs, None)
            .unwrap()
            .unwrap();
        let playlist = farm.media_playlist("studio", "90p", Kind::Recording).unwrap();
        assert!(playlist.ends_with("-0.ts\n#EXT-X-ENDLIST\n"), "{playlist}");
    }
}
