//! Verification and settlement: receipts, spot checks, arbitration,
//! slashing and payment, over the job store's results, checks and ledger.
//!
//! Rules:
//! - Work goes only to nodes with at least `min_stake` staked and never
//!   proven to cheat.
//! - Every result must carry the worker's ed25519 signature (its libp2p
//!   key, verified strictly) over the lease, the work as assigned and the
//!   outputs; it is kept as evidence.
//! - After its cheap checks a result is duplicated on another node with
//!   the policy's probability (always for a node's first results). Render
//!   frames are published when their check matches; live segments are
//!   published at once and swapped out if the check later proves them wrong.
//! - Same-engine renders (backend, device and driver, as the worker names
//!   them) must be byte-identical; anything else is compared by perceptual
//!   fingerprint (frames at random times for video). A render is checked
//!   only by a node that can render its job (see `can_render`).
//!   A mismatch or an inconclusive pair goes to a third node: the minority
//!   is proven to cheat, slashed `slash_share` of its stake, loses every
//!   pending reward, and its unsettled results are done again elsewhere.
//! - A checked result is paid when its check settles it; an unchecked one
//!   `settle_ms` after it was accepted. A result moves from pending to paid
//!   once, in the same transaction as its ledger entry, so nothing is paid
//!   twice, restarts included.

use std::borrow::Cow;
use std::path::PathBuf;

use proofs::fingerprint::{self, Verdict};
use proofs::ledger::{credits, micros, EntryKind, Micros, SignedTreeHead, StoredEntry, TreeHead};
use proofs::spot_check::{self, SpotCheckPolicy};
use protocol::api::{FrameState, JobState, LedgerSummary, NodeAccount};
use protocol::wire::{Capabilities, RenderWork, TaskAssignment, TaskOutput, Work};
use protocol::{ContentId, ImageFormat, LeaseId, RenderSettings, Rung};
use rusqlite::{Connection, TransactionBehavior};

use super::{clean_reason, corrupt, Farm, FarmError, Renewal};
use crate::store::live::{self as live_store, RenditionRow};
use crate::store::verify::{self as vstore, CheckRow, NewResult, ResultRow, ResultState, Subject};
use crate::store::{self, ledger as lstore};

/// The key that signs the ledger's tree heads: the orchestrator's libp2p
/// identity, so workers know whose heads they are.
#[derive(Clone)]
pub struct TreeSigner(pub ed25519_dalek::SigningKey);

impl TreeSigner {
    pub fn random() -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&rand::random()))
    }

    /// The signer of a libp2p ed25519 identity.
    pub fn from_identity(keypair: &libp2p::identity::Keypair) -> Option<Self> {
        let ed = keypair.clone().try_into_ed25519().ok()?;
        let secret: [u8; 32] = ed.secret().as_ref().try_into().ok()?;
        Some(Self(ed25519_dalek::SigningKey::from_bytes(&secret)))
    }
}

impl std::fmt::Debug for TreeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TreeSigner({})", hex::encode(self.0.verifying_key().as_bytes()))
    }
}

/// The verification and payment knobs, from the config file.
#[derive(Clone, Debug)]
pub struct VerifySettings {
    pub policy: SpotCheckPolicy,
    pub check_samples: usize,
    pub min_stake: Micros,
    pub slash_share: f64,
    pub settle_ms: i64,
    /// Credits per 10^9 pixel-samples.
    pub render_price: f64,
    /// Credits per 10^9 transcoded pixels.
    pub video_price: f64,
    pub signer: TreeSigner,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            policy: SpotCheckPolicy::default(),
            check_samples: 4,
            min_stake: 0,
            slash_share: 0.5,
            settle_ms: 600_000,
            render_price: 1.0,
            video_price: 1.0,
            signer: TreeSigner::random(),
        }
    }
}

/// A result as the farm hands it to verification: the lease it came under
/// and the receipt that came with it.
pub(super) struct Delivery<'a> {
    pub peer: &'a str,
    pub lease: LeaseId,
    pub engine: Option<&'a str>,
    pub outputs: Vec<(u32, ContentId)>,
    pub digest: [u8; 32],
    pub signature: &'a [u8],
}

/// The most bytes of an engine name a result keeps.
const MAX_ENGINE_BYTES: usize = 128;

/// An engine name as a result keeps it: whole when short, else cut at a
/// character boundary and followed by a hash of the whole, so that two
/// engines differing only past the cut (a driver version at the end of a
/// long GPU name) are never taken for one, which would demand equal bytes.
pub(super) fn engine_label(engine: &str) -> Cow<'_, str> {
    if engine.len() <= MAX_ENGINE_BYTES {
        return Cow::Borrowed(engine);
    }
    let mut cut = MAX_ENGINE_BYTES - 18;
    while !engine.is_char_boundary(cut) {
        cut -= 1;
    }
    let hash = blake3::hash(engine.as_bytes()).to_hex();
    Cow::Owned(format!("{}~{}", &engine[..cut], &hash[..16]))
}

/// Unit tests name their peers "a", "b", ...: each name stands for the
/// ed25519 key derived from it.
#[cfg(test)]
pub(crate) fn test_keypair(name: &str) -> libp2p::identity::Keypair {
    libp2p::identity::Keypair::ed25519_from_bytes(*blake3::hash(name.as_bytes()).as_bytes())
        .expect("32 bytes make a key")
}

/// Settings for tests about other things than checks: no stake needed,
/// nothing checked.
#[cfg(test)]
pub(crate) fn unchecked() -> VerifySettings {
    VerifySettings { policy: SpotCheckPolicy::new(0.0, 0).expect("valid"), ..Default::default() }
}

/// The ed25519 public key a libp2p peer id names.
fn peer_public_key(peer: &str) -> Result<[u8; 32], String> {
    #[cfg(test)]
    if peer.parse::<libp2p::PeerId>().is_err() {
        let key = test_keypair(peer).public().try_into_ed25519().expect("ed25519");
        return Ok(key.to_bytes());
    }
    let id: libp2p::PeerId = peer.parse().map_err(|e| format!("peer id {peer}: {e}"))?;
    let key = libp2p::identity::PublicKey::try_decode_protobuf(id.as_ref().digest())
        .map_err(|_| format!("peer id {peer} does not embed its public key"))?;
    let key =
        key.try_into_ed25519().map_err(|_| format!("peer id {peer} is not an ed25519 key"))?;
    Ok(key.to_bytes())
}

impl Farm {
    fn verify_settings(&self) -> &VerifySettings {
        &self.inner.settings.verify
    }

    // ------------------------------------------------------------ stake

    /// Why `peer` gets no work, if it gets none.
    pub fn work_refusal(&self, peer: &str) -> Result<Option<String>, FarmError> {
        self.refusal_in(&self.db(), peer)
    }

    fn refusal_in(&self, db: &Connection, peer: &str) -> Result<Option<String>, FarmError> {
        if let Some(evidence) = vstore::fraud(db, peer)? {
            return Ok(Some(format!(
                "this node was proven to cheat ({evidence}); it gets no work"
            )));
        }
        let min = self.verify_settings().min_stake;
        let staked = lstore::staked(db, peer)?;
        if staked < min {
            return Ok(Some(format!(
                "{} credits staked, {} needed to get work: the node's operator runs \
                 `mosaic ledger stake {peer} AMOUNT`",
                credits(staked),
                credits(min)
            )));
        }
        Ok(None)
    }

    /// Records an operator's deposit for `peer`.
    pub fn stake(&self, peer: &str, amount: Micros) -> Result<StoredEntry, FarmError> {
        if amount <= 0 {
            return Err(FarmError::Invalid(format!("the amount must be above zero, not {amount}")));
        }
        peer_public_key(peer).map_err(|e| {
            FarmError::Invalid(format!(
                "{e}: a node's peer id is printed by mosaic-worker at start"
            ))
        })?;
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let entry = lstore::append(&tx, now, EntryKind::Deposit, peer, amount, "stake deposit")?;
        tx.commit()?;
        tracing::info!(peer, credits = %credits(amount), seq = entry.entry.seq, "stake deposited");
        Ok(entry)
    }

    // ------------------------------------------------------------ receipts

    /// The lease's work digest, once the receipt over it verifies.
    pub(super) fn check_receipt(
        &self,
        peer: &str,
        lease: LeaseId,
        outputs: &[TaskOutput],
        engine: Option<&str>,
        signature: &[u8],
    ) -> Result<Result<[u8; 32], String>, FarmError> {
        let Some(digest) = vstore::lease_digest(&self.db(), lease)? else {
            return Ok(Err(format!("lease {lease} has no record of its work")));
        };
        let key = match peer_public_key(peer) {
            Ok(key) => key,
            Err(e) => return Ok(Err(e)),
        };
        let message = protocol::receipt::receipt_message(lease, &digest, outputs, engine);
        Ok(match proofs::ledger::verify_signature(&key, &message, signature) {
            Ok(()) => Ok(digest),
            Err(e) => Err(format!("the receipt's signature is not valid: {e}")),
        })
    }

    // ------------------------------------------------------------ results

    /// Prices a render result: micro-credits and a memo a person (and a
    /// test) can read the price from.
    pub(super) fn render_price(&self, s: &RenderSettings, frames: usize) -> Micros {
        let samples = frames as f64 * f64::from(s.width) * f64::from(s.height) * f64::from(s.spp);
        micros(self.verify_settings().render_price * samples / 1e9)
    }

    pub(super) fn video_price(&self, rungs: &[Rung], frames: u32) -> Micros {
        let pixels: f64 = rungs.iter().map(|r| f64::from(r.width) * f64::from(r.height)).sum();
        micros(self.verify_settings().video_price * pixels * f64::from(frames) / 1e9)
    }

    /// Records a first result (its cheap checks passed) inside the caller's
    /// transaction and decides whether it is checked. Returns whether it
    /// was: a checked render is not published until the check settles it.
    /// `can_check` says whether a node with those capabilities can redo the
    /// work.
    pub(super) fn record_first_result(
        &self,
        tx: &Connection,
        subject: Subject,
        delivery: &Delivery,
        price: Micros,
        now: i64,
        can_check: impl Fn(&Capabilities) -> bool,
    ) -> Result<bool, FarmError> {
        let settings = self.verify_settings();
        let before = vstore::results_count_by(tx, delivery.peer)?;
        // A check needs another node that may do it; a farm of one node
        // cannot check anything (its results settle unchecked).
        let others: Vec<String> = self
            .inner
            .caps()
            .iter()
            .filter(|(p, caps)| *p != delivery.peer && can_check(caps))
            .map(|(p, _)| p.clone())
            .collect();
        let mut checker_exists = false;
        for other in &others {
            if self.refusal_in(tx, other)?.is_none() {
                checker_exists = true;
                break;
            }
        }
        let checked = checker_exists && settings.policy.decide(before, &mut rand::thread_rng());
        let new = NewResult {
            lease: delivery.lease,
            worker: delivery.peer,
            subject,
            check: None,
            engine: delivery.engine,
            outputs: &delivery.outputs,
            price,
            due_at: (!checked).then_some(now + settings.settle_ms),
            work_digest: &delivery.digest,
            signature: delivery.signature,
            at: now,
        };
        let id = vstore::insert_result(tx, &new)?;
        if checked {
            let result = vstore::result(tx, id)?.ok_or_else(|| corrupt("result", id))?;
            vstore::insert_check(tx, &result, 1, now)?;
            tracing::info!(peer = delivery.peer, %subject, "result accepted; spot check queued");
        }
        Ok(checked)
    }

    // ------------------------------------------------------------ checks

    /// The next spot check `peer` may do (of segments too if `segments`;
    /// of renders it can do with `backends`, its render backends).
    pub(super) fn next_check(
        &self,
        peer: &str,
        segments: bool,
        backends: &[String],
    ) -> Result<Option<TaskAssignment>, FarmError> {
        let now = self.now_ms();
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(check) = vstore::next_queued_check(&tx, peer, segments, backends)? else {
            return Ok(None);
        };
        let first =
            vstore::result(&tx, check.result)?.ok_or_else(|| corrupt("result", check.result))?;
        let (work, lease_ms) = self.check_work(&tx, &first)?;
        let lease = vstore::lease_check(&tx, &check, peer, now, now + lease_ms as i64)?;
        vstore::set_lease_digest(&tx, lease, &protocol::receipt::work_digest(&work))?;
        store::touch_worker(&tx, peer, now / 1000)?;
        tx.commit()?;
        tracing::info!(peer, subject = %check.subject, round = check.round, %lease, "spot check leased");
        Ok(Some(TaskAssignment { lease, lease_ms, work }))
    }

    /// The same work as the result being checked, and its lease length.
    fn check_work(&self, conn: &Connection, first: &ResultRow) -> Result<(Work, u64), FarmError> {
        let frames: Vec<u32> = first.outputs.iter().map(|(n, _)| *n).collect();
        match first.subject {
            Subject::Task(id) => {
                let task = store::task(conn, id)?.ok_or_else(|| corrupt("task", id))?;
                let job = store::job(conn, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
                let scene =
                    store::scene(conn, &job.scene)?.ok_or_else(|| corrupt("scene", job.scene))?;
                let work = Work::Render(RenderWork {
                    task: task.id,
                    job: job.id,
                    scene: job.scene,
                    scene_bytes: scene.bytes,
                    frames,
                    settings: job.settings,
                });
                Ok((work, self.lease_ms()))
            }
            Subject::Segment(id) => {
                let segment =
                    live_store::segment(conn, id)?.ok_or_else(|| corrupt("segment", id))?;
                let work = Work::Transcode(super::live::transcode_work(conn, &segment)?);
                // Checks are not on the live clock, but should not hold a
                // node for long either.
                let lease_ms = (segment.duration_ms * 10).max(self.lease_ms());
                Ok((work, lease_ms))
            }
        }
    }

    /// `peer`'s check under `lease`, if that lease is still current.
    fn current_check(
        &self,
        conn: &Connection,
        peer: &str,
        lease: LeaseId,
        check: i64,
    ) -> Result<Result<CheckRow, String>, FarmError> {
        let row = vstore::check(conn, check)?.ok_or_else(|| corrupt("check", check))?;
        if row.lease != Some(lease) || row.state != "leased" {
            return Ok(Err(format!("lease {lease} has ended; the spot check is {}", row.state)));
        }
        if row.lease_worker.as_deref() != Some(peer) {
            return Ok(Err(format!("lease {lease} was granted to another worker")));
        }
        Ok(Ok(row))
    }

    pub(super) fn renew_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
    ) -> Result<Renewal, FarmError> {
        let db = self.db();
        Ok(match self.current_check(&db, peer, lease, check)? {
            Err(reason) => Renewal::Lost(reason),
            Ok(row) => {
                let first = vstore::result(&db, row.result)?
                    .ok_or_else(|| corrupt("result", row.result))?;
                let (_, lease_ms) = self.check_work(&db, &first)?;
                vstore::renew_check(&db, check, self.now_ms() + lease_ms as i64)?;
                Renewal::Renewed
            }
        })
    }

    pub(super) fn upload_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
        chunk: super::live::UploadChunk,
    ) -> Result<Option<ContentId>, FarmError> {
        let super::live::UploadChunk { output, offset, data, last } = chunk;
        let (row, first) = {
            let db = self.db();
            let row = self.current_check(&db, peer, lease, check)?.map_err(FarmError::Conflict)?;
            let first =
                vstore::result(&db, row.result)?.ok_or_else(|| corrupt("result", row.result))?;
            (row, first)
        };
        if !first.outputs.iter().any(|(n, _)| *n == output) {
            return Err(FarmError::Invalid(format!(
                "output {output} is not part of the spot check of {}",
                row.subject
            )));
        }
        let cap = match row.subject {
            Subject::Task(id) => {
                let db = self.db();
                let task = store::task(&db, id)?.ok_or_else(|| corrupt("task", id))?;
                let job = store::job(&db, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
                super::frame_upload_cap(&job.settings)
            }
            Subject::Segment(_) => self.inner.settings.live.max_rendition_bytes,
        };
        let cid = self.inner.blobs.stage_chunk(lease, output, offset, data, last, cap)?;
        if let Some(cid) = &cid {
            store::record_upload(&self.db(), lease, output, cid)?;
        }
        Ok(cid)
    }

    /// A spot-check result: receipt, cheap checks, then the comparison and
    /// whatever it settles.
    pub(super) fn complete_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
        outputs: &[TaskOutput],
        engine: Option<&str>,
        signature: &[u8],
    ) -> Result<Result<(), String>, FarmError> {
        let (row, first) = {
            let db = self.db();
            let row = match self.current_check(&db, peer, lease, check)? {
                Ok(row) => row,
                Err(reason) => return Ok(Err(reason)),
            };
            let first =
                vstore::result(&db, row.result)?.ok_or_else(|| corrupt("result", row.result))?;
            (row, first)
        };
        // A node proven to cheat meanwhile delivers nothing more.
        let refused = match self.check_receipt(peer, lease, outputs, engine, signature)? {
            Ok(digest) => self.work_refusal(peer)?.map_or(Ok(digest), Err),
            Err(reason) => Err(reason),
        };
        let digest = match refused {
            Ok(digest) => digest,
            Err(reason) => {
                return self.fail_check(peer, lease, check, &reason).map(|()| Err(reason))
            }
        };
        let delivered = match self.cheap_checks(&first, lease, outputs)? {
            Ok(delivered) => delivered,
            Err(reason) => {
                return self.fail_check(peer, lease, check, &reason).map(|()| Err(reason))
            }
        };
        let outputs: Vec<(u32, ContentId)> = delivered.iter().map(|r| (r.rung, r.cid)).collect();
        let now = self.now_ms();
        let engine = engine.map(engine_label);
        {
            let mut db = self.db();
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Err(reason) = self.current_check(&tx, peer, lease, check)? {
                return Ok(Err(reason));
            }
            let new = NewResult {
                lease,
                worker: peer,
                subject: row.subject,
                check: Some(check),
                engine: engine.as_deref(),
                outputs: &outputs,
                price: first.price,
                due_at: None,
                work_digest: &digest,
                signature,
                at: now,
            };
            vstore::insert_result(&tx, &new)?;
            vstore::end_check_lease(&tx, check, "done", None, now)?;
            store::count_task_done(&tx, peer)?;
            tx.commit()?;
        }
        self.inner.blobs.discard_staged(lease);
        self.settle_check(check)?;
        Ok(Ok(()))
    }

    /// The cheap checks of a check's outputs: every output of the first
    /// result delivered, uploaded as reported, decodable, right size and
    /// length, not blank.
    fn cheap_checks(
        &self,
        first: &ResultRow,
        lease: LeaseId,
        outputs: &[TaskOutput],
    ) -> Result<Result<Vec<RenditionRow>, String>, FarmError> {
        match first.subject {
            Subject::Segment(id) => {
                let segment =
                    live_store::segment(&self.db(), id)?.ok_or_else(|| corrupt("segment", id))?;
                let rungs = self.rungs_of_segment(&segment)?;
                self.check_renditions(&segment, &rungs, lease, outputs)
            }
            Subject::Task(id) => {
                let (task, job) = {
                    let db = self.db();
                    let task = store::task(&db, id)?.ok_or_else(|| corrupt("task", id))?;
                    let job = store::job(&db, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
                    (task, job)
                };
                let frames: Vec<u32> = first.outputs.iter().map(|(n, _)| *n).collect();
                let task = store::TaskRow { frames, ..task };
                let uploads = match self.matched_uploads(&task, lease, outputs)? {
                    Ok(uploads) => uploads,
                    Err(reason) => return Ok(Err(reason)),
                };
                let s = &job.settings;
                let mut delivered = Vec::new();
                for (frame, cid) in uploads {
                    let bytes = self.inner.blobs.read(&cid)?;
                    if let Err(defect) = proofs::check_frame(&bytes, s.format, s.width, s.height) {
                        return Ok(Err(format!("frame {frame}: {defect}")));
                    }
                    delivered.push(RenditionRow {
                        rung: frame,
                        cid,
                        bytes: 0,
                        codec: String::new(),
                    });
                }
                Ok(Ok(delivered))
            }
        }
    }

    /// A node could not do its check (or its result failed the cheap
    /// checks): the check goes to another node.
    pub(super) fn fail_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
        reason: &str,
    ) -> Result<(), FarmError> {
        self.requeue_check(peer, lease, check, &clean_reason(reason), true)
    }

    /// A node's render device failed during its check: the check goes to
    /// another node, and nothing counts against this one.
    pub(super) fn hand_back_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
        reason: &str,
    ) -> Result<(), FarmError> {
        self.requeue_check(peer, lease, check, reason, false)
    }

    fn requeue_check(
        &self,
        peer: &str,
        lease: LeaseId,
        check: i64,
        reason: &str,
        counts_as_failure: bool,
    ) -> Result<(), FarmError> {
        let now = self.now_ms();
        let db = self.db();
        self.current_check(&db, peer, lease, check)?.map_err(FarmError::Conflict)?;
        vstore::end_check_lease(&db, check, "queued", None, now)?;
        if counts_as_failure {
            store::count_task_failed(&db, peer)?;
        }
        drop(db);
        self.inner.blobs.discard_staged(lease);
        if counts_as_failure {
            tracing::warn!(peer, check, reason, "spot check failed; requeued for another node");
        } else {
            tracing::warn!(
                peer,
                check,
                reason,
                "the node's render device failed; spot check handed back for another node"
            );
        }
        Ok(())
    }

    /// Requeues checks whose lease ran out or whose node left.
    pub(super) fn requeue_checks(
        &self,
        which: impl FnOnce(&Connection) -> Result<Vec<CheckRow>, crate::store::StoreError>,
    ) -> Result<usize, FarmError> {
        self.requeue_rows(
            which,
            |c| c.lease,
            |conn, c, now| vstore::end_check_lease(conn, c.id, "queued", None, now),
        )
    }

    // ------------------------------------------------------------ comparison

    /// Compares two results of the same work.
    fn compare(&self, a: &ResultRow, b: &ResultRow) -> Result<Verdict, FarmError> {
        let mut verdicts = Vec::new();
        match a.subject {
            Subject::Task(id) => {
                let format = {
                    let db = self.db();
                    let task = store::task(&db, id)?.ok_or_else(|| corrupt("task", id))?;
                    store::job(&db, task.job)?
                        .ok_or_else(|| corrupt("job", task.job))?
                        .settings
                        .format
                };
                for (frame, cid_a) in &a.outputs {
                    let Some((_, cid_b)) = b.outputs.iter().find(|(n, _)| n == frame) else {
                        return Ok(Verdict::Mismatch(format!("frame {frame} is missing")));
                    };
                    verdicts.push(self.compare_frames(*frame, cid_a, cid_b, a, b, format)?);
                }
            }
            Subject::Segment(id) => {
                let duration_ms = live_store::segment(&self.db(), id)?
                    .ok_or_else(|| corrupt("segment", id))?
                    .duration_ms;
                // New times for every comparison: a worker cannot know which
                // frames will count.
                let times = spot_check::sample_times_ms(
                    duration_ms,
                    self.verify_settings().check_samples,
                    &mut rand::thread_rng(),
                );
                for (rung, cid_a) in &a.outputs {
                    let Some((_, cid_b)) = b.outputs.iter().find(|(n, _)| n == rung) else {
                        return Ok(Verdict::Mismatch(format!("rung {rung} is missing")));
                    };
                    if cid_a == cid_b {
                        continue;
                    }
                    let fa = self.segment_fingerprint(cid_a, &times)?;
                    let fb = self.segment_fingerprint(cid_b, &times)?;
                    let (fa, fb) = match (fa, fb) {
                        (Ok(fa), Ok(fb)) => (fa, fb),
                        (Err(e), _) | (_, Err(e)) => {
                            verdicts.push(Verdict::Mismatch(format!("rung {rung}: {e}")));
                            continue;
                        }
                    };
                    verdicts.push(label(
                        &format!("rung {rung}"),
                        fingerprint::compare_segments(&fa, &fb),
                    ));
                }
            }
        }
        Ok(combine(verdicts))
    }

    fn compare_frames(
        &self,
        frame: u32,
        cid_a: &ContentId,
        cid_b: &ContentId,
        a: &ResultRow,
        b: &ResultRow,
        format: ImageFormat,
    ) -> Result<Verdict, FarmError> {
        if cid_a == cid_b {
            return Ok(Verdict::Match);
        }
        // Renders are deterministic per backend: two honest renders on the
        // same one are the same bytes.
        if a.engine.is_some() && a.engine == b.engine {
            return Ok(Verdict::Mismatch(format!(
                "frame {frame}: two renders on the same backend ({}) differ",
                a.engine.as_deref().unwrap_or("")
            )));
        }
        let fa = fingerprint::fingerprint_image(&self.inner.blobs.read(cid_a)?, format);
        let fb = fingerprint::fingerprint_image(&self.inner.blobs.read(cid_b)?, format);
        Ok(match (fa, fb) {
            (Ok(fa), Ok(fb)) => {
                label(&format!("frame {frame}"), fingerprint::compare_frames(&fa, &fb))
            }
            (Err(e), _) | (_, Err(e)) => Verdict::Mismatch(format!("frame {frame}: {e}")),
        })
    }

    fn segment_fingerprint(
        &self,
        cid: &ContentId,
        times: &[u64],
    ) -> Result<Result<fingerprint::SegmentFingerprint, String>, FarmError> {
        let path: PathBuf = self.inner.blobs.path(cid);
        Ok(transcoder::fingerprint::fingerprint_segment(&path, times).map_err(|e| e.to_string()))
    }

    // ------------------------------------------------------------ settling

    /// A check's result is in: compare, then pay, arbitrate or slash.
    fn settle_check(&self, check: i64) -> Result<(), FarmError> {
        let (row, first, chain) = {
            let db = self.db();
            let row = vstore::check(&db, check)?.ok_or_else(|| corrupt("check", check))?;
            let first =
                vstore::result(&db, row.result)?.ok_or_else(|| corrupt("result", row.result))?;
            let mut chain = Vec::new();
            for c in vstore::checks_of(&db, row.result)? {
                if let Some(r) = vstore::result_for_check(&db, c.id)? {
                    chain.push(r);
                }
            }
            (row, first, chain)
        };
        let Some(this) = chain.iter().find(|r| r.check == Some(check)).cloned() else {
            return Err(corrupt("check", format!("check {check} has no result")));
        };
        let now = self.now_ms();

        // A proven cheater's result has no standing: the check replaces it.
        if first.state == ResultState::Forfeited {
            // An earlier check that disagreed with the cheater stands or
            // falls with this one.
            let mut others = Vec::new();
            for other in chain.iter().filter(|r| r.id != this.id && r.state == ResultState::Pending)
            {
                others.push((other, matches!(self.compare(other, &this)?, Verdict::Match)));
            }
            let mut db = self.db();
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            self.pay(&tx, &this, now)?;
            self.publish(&tx, &this)?;
            for (other, agrees) in others {
                if agrees {
                    self.pay(&tx, other, now)?;
                } else {
                    vstore::move_result(&tx, other.id, ResultState::Pending, ResultState::Void)?;
                }
            }
            vstore::end_check_lease(
                &tx,
                check,
                "done",
                Some(("replaced", "the first result's node was proven to cheat")),
                now,
            )?;
            tx.commit()?;
            drop(db);
            tracing::info!(subject = %row.subject, peer = %this.worker, "a proven cheater's result was done again");
            return self.after_publish(&row.subject);
        }

        if row.round == 1 {
            let verdict = self.compare(&first, &this)?;
            let mut db = self.db();
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            vstore::end_check_lease(&tx, check, "done", Some(verdict_text(&verdict)), now)?;
            match &verdict {
                Verdict::Match => {
                    self.pay(&tx, &first, now)?;
                    self.pay(&tx, &this, now)?;
                    self.publish(&tx, &first)?;
                }
                Verdict::Mismatch(detail) | Verdict::Inconclusive(detail) => {
                    vstore::insert_check(&tx, &first, 2, now)?;
                    tracing::warn!(subject = %row.subject, first = %first.worker, check = %this.worker,
                        detail, "spot check disagrees; a third node arbitrates");
                }
            }
            tx.commit()?;
            drop(db);
            tracing::info!(subject = %row.subject, verdict = verdict_text(&verdict).0, "spot check compared");
            return match verdict {
                Verdict::Match => self.after_publish(&row.subject),
                _ => Ok(()),
            };
        }

        // Round 2: the arbiter against each of the two that disagreed.
        let Some(second) = chain.iter().find(|r| r.check != Some(check)).cloned() else {
            return Err(corrupt("check", format!("arbitration {check} without a first check")));
        };
        let with_first = self.compare(&first, &this)?;
        let with_second = self.compare(&second, &this)?;
        let agrees = |v: &Verdict| matches!(v, Verdict::Match);
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut slashed = None;
        let outcome = match (agrees(&with_first), agrees(&with_second)) {
            (true, false) => {
                self.pay(&tx, &first, now)?;
                self.pay(&tx, &this, now)?;
                self.publish(&tx, &first)?;
                slashed = Some((second.clone(), with_second.clone()));
                "the first result stands"
            }
            (false, true) => {
                self.pay(&tx, &second, now)?;
                self.pay(&tx, &this, now)?;
                self.publish(&tx, &second)?;
                slashed = Some((first.clone(), with_first.clone()));
                "the first result was wrong"
            }
            (true, true) => {
                // The arbiter is close to both: nobody is proven wrong.
                for r in [&first, &second, &this] {
                    self.pay(&tx, r, now)?;
                }
                self.publish(&tx, &first)?;
                "all three agree within tolerance"
            }
            (false, false) => {
                for r in [&first, &second, &this] {
                    vstore::move_result(&tx, r.id, ResultState::Pending, ResultState::Void)?;
                }
                self.fail_subject(&tx, &first, "three nodes' results disagree")?;
                "three results disagree; none stands"
            }
        };
        vstore::end_check_lease(&tx, check, "done", Some(("arbitrated", outcome)), now)?;
        if let Some((loser, verdict)) = &slashed {
            let evidence = format!(
                "{}: its result (lease {}) disagreed with two other nodes: {}",
                row.subject,
                loser.lease,
                verdict_text(verdict).1
            );
            vstore::move_result(&tx, loser.id, ResultState::Pending, ResultState::Rejected)?;
            self.slash(&tx, &loser.worker, &evidence, now)?;
        }
        tx.commit()?;
        drop(db);
        tracing::info!(subject = %row.subject, outcome, "arbitration settled");
        self.after_publish(&row.subject)
    }

    /// Pays a pending result: its ledger entry and its state move together.
    fn pay(&self, tx: &Connection, r: &ResultRow, now: i64) -> Result<(), FarmError> {
        if !vstore::move_result(tx, r.id, ResultState::Pending, ResultState::Paid)? {
            return Ok(());
        }
        if r.price > 0 {
            let memo = self.reward_memo(tx, r)?;
            lstore::append(tx, now, EntryKind::Reward, &r.worker, r.price, &memo)?;
        }
        Ok(())
    }

    /// "render job 1 task 3 frames [4, 5]: 2 frames x 64x48 x 16 spp (lease 9)"
    fn reward_memo(&self, conn: &Connection, r: &ResultRow) -> Result<String, FarmError> {
        let role = if r.check.is_some() { "check" } else { "result" };
        let outputs: Vec<u32> = r.outputs.iter().map(|(n, _)| *n).collect();
        Ok(match r.subject {
            Subject::Task(id) => {
                let task = store::task(conn, id)?.ok_or_else(|| corrupt("task", id))?;
                let s =
                    store::job(conn, task.job)?.ok_or_else(|| corrupt("job", task.job))?.settings;
                format!(
                    "render {role}: job {} task {id} frames {outputs:?}: {} frames x {}x{} x {} spp (lease {})",
                    task.job,
                    outputs.len(),
                    s.width,
                    s.height,
                    s.spp,
                    r.lease
                )
            }
            Subject::Segment(id) => {
                let segment =
                    live_store::segment(conn, id)?.ok_or_else(|| corrupt("segment", id))?;
                let broadcast = live_store::broadcast(conn, segment.broadcast)?
                    .ok_or_else(|| corrupt("broadcast", segment.broadcast))?;
                let rungs = super::live::broadcast_rungs(&broadcast)?;
                let pixels: u64 =
                    rungs.iter().map(|r| u64::from(r.width) * u64::from(r.height)).sum();
                format!(
                    "live {role}: segment {id} (broadcast {} #{}): {} frames x {pixels} px (lease {})",
                    segment.broadcast, segment.sequence, segment.frames, r.lease
                )
            }
        })
    }

    /// Makes `r`'s outputs the published ones: render frames become done
    /// with its content; a segment's renditions become its (a clawback when
    /// they were another node's).
    fn publish(&self, tx: &Connection, r: &ResultRow) -> Result<(), FarmError> {
        match r.subject {
            Subject::Task(id) => {
                let task = store::task(tx, id)?.ok_or_else(|| corrupt("task", id))?;
                for (frame, cid) in &r.outputs {
                    store::set_frame(tx, task.job, *frame, FrameState::Done, cid, &r.worker)?;
                }
            }
            Subject::Segment(id) => {
                let current = live_store::renditions(tx, id)?;
                if current
                    .iter()
                    .all(|c| r.outputs.iter().any(|(n, cid)| *n == c.rung && *cid == c.cid))
                {
                    return Ok(());
                }
                let mut rows = Vec::new();
                for (rung, cid) in &r.outputs {
                    let bytes =
                        std::fs::metadata(self.inner.blobs.path(cid)).map(|m| m.len()).unwrap_or(0);
                    let codec = current
                        .iter()
                        .find(|c| c.rung == *rung)
                        .map(|c| c.codec.clone())
                        .unwrap_or_default();
                    rows.push(RenditionRow { rung: *rung, cid: *cid, bytes, codec });
                }
                live_store::replace_renditions(tx, id, &r.worker, r.engine.as_deref(), &rows)?;
                tracing::warn!(segment = %id, peer = %r.worker, "renditions replaced by a verified node's");
            }
        }
        Ok(())
    }

    /// Nobody's result stands: render frames fail; a live segment keeps
    /// what it has (there is nothing better to show).
    fn fail_subject(&self, tx: &Connection, r: &ResultRow, reason: &str) -> Result<(), FarmError> {
        if let Subject::Task(id) = r.subject {
            let task = store::task(tx, id)?.ok_or_else(|| corrupt("task", id))?;
            for (frame, _) in &r.outputs {
                tx.execute(
                    "UPDATE frames SET state = 'failed', error = ?3 WHERE job = ?1 AND frame = ?2",
                    rusqlite::params![task.job.0, frame, reason],
                )?;
            }
        }
        Ok(())
    }

    /// Once a job's frames may all be done: completes it and queues its video.
    fn after_publish(&self, subject: &Subject) -> Result<(), FarmError> {
        let Subject::Task(id) = subject else { return Ok(()) };
        let now = self.now_ms();
        let video = {
            let mut db = self.db();
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let task = store::task(&tx, *id)?.ok_or_else(|| corrupt("task", id))?;
            let video = self.finish_if_ended(&tx, task.job, now)?;
            tx.commit()?;
            video
        };
        if let Some(job) = video {
            self.queue_video(job);
        }
        Ok(())
    }

    /// Proven fraud: the node loses `slash_share` of its stake and every
    /// pending reward, and its unsettled results are done again elsewhere
    /// (render frames are withdrawn until then).
    fn slash(
        &self,
        tx: &Connection,
        peer: &str,
        evidence: &str,
        now: i64,
    ) -> Result<(), FarmError> {
        vstore::record_fraud(tx, peer, now, evidence)?;
        let staked = lstore::staked(tx, peer)?;
        let amount = (staked as f64 * self.verify_settings().slash_share).round() as Micros;
        if amount > 0 {
            lstore::append(tx, now, EntryKind::Slash, peer, amount, evidence)?;
        }
        tracing::warn!(peer, credits = %credits(amount), evidence, "node slashed");
        for r in vstore::pending_results_of(tx, peer)? {
            if !vstore::move_result(tx, r.id, ResultState::Pending, ResultState::Forfeited)? {
                continue;
            }
            if r.price > 0 {
                let memo = format!("forfeited: {}", self.reward_memo(tx, &r)?);
                lstore::append(tx, now, EntryKind::Forfeit, peer, r.price, &memo)?;
            }
            // Only first results are published; a check result of its
            // own has nothing to withdraw.
            if r.check.is_some() {
                continue;
            }
            let open = vstore::checks_of(tx, r.id)?
                .iter()
                .any(|c| c.state == "queued" || c.state == "leased");
            if !open {
                vstore::insert_check(tx, &r, 1, now)?;
            }
            if let Subject::Task(id) = r.subject {
                let task = store::task(tx, id)?.ok_or_else(|| corrupt("task", id))?;
                for (frame, cid) in &r.outputs {
                    store::set_frame(tx, task.job, *frame, FrameState::Verifying, cid, peer)?;
                }
                let job = store::job(tx, task.job)?.ok_or_else(|| corrupt("job", task.job))?;
                if job.state == JobState::Completed {
                    store::set_job_state(tx, job.id, JobState::Running, None, None)?;
                }
            }
        }
        Ok(())
    }

    /// Pays unchecked results whose settlement time has come, and signs a
    /// new tree head when the ledger has grown. Called once a second.
    pub(super) fn settle(&self) -> Result<(), FarmError> {
        let now = self.now_ms();
        {
            let mut db = self.db();
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for r in vstore::results_due(&tx, now)? {
                self.pay(&tx, &r, now)?;
            }
            tx.commit()?;
        }
        self.sign_tree_head()
    }

    /// Signs and stores a tree head over the whole ledger if it grew.
    pub fn sign_tree_head(&self) -> Result<(), FarmError> {
        let db = self.db();
        let size = lstore::size(&db)?;
        if size == 0 || lstore::latest_head(&db)?.is_some_and(|h| h.head.size >= size) {
            return Ok(());
        }
        let mut tree = self.inner.ledger_tree.lock().unwrap_or_else(|e| e.into_inner());
        if tree.size() > size {
            // Only an edit behind our back shrinks the ledger: start over.
            *tree = Default::default();
        }
        for entry in lstore::entries(&db, tree.size() + 1, size)? {
            tree.push(entry.entry.leaf_hash());
        }
        let head = TreeHead { size, root: hex::encode(tree.root()), at_ms: self.now_ms() };
        let sth = SignedTreeHead::sign(head, &self.verify_settings().signer.0);
        lstore::insert_head(&db, &sth)?;
        Ok(())
    }

    // ------------------------------------------------------------ the ledger's API

    pub fn ledger_summary(&self) -> Result<LedgerSummary, FarmError> {
        let db = self.db();
        let mut nodes: std::collections::BTreeMap<String, NodeAccount> = Default::default();
        let account = |nodes: &mut std::collections::BTreeMap<String, NodeAccount>, peer: &str| {
            nodes
                .entry(peer.to_owned())
                .or_insert_with(|| NodeAccount {
                    peer: peer.to_owned(),
                    staked: 0,
                    earned: 0,
                    pending: 0,
                    slashed: 0,
                    forfeited: 0,
                    eligible: false,
                    fraud: None,
                })
                .peer
                .clone()
        };
        for w in store::workers(&db)? {
            account(&mut nodes, &w.peer);
        }
        for (peer, kind, amount) in lstore::totals(&db)? {
            account(&mut nodes, &peer);
            let n = nodes.get_mut(&peer).expect("just added");
            match kind.as_str() {
                "deposit" => n.staked += amount,
                "slash" => {
                    n.staked -= amount;
                    n.slashed += amount
                }
                "reward" => n.earned += amount,
                "forfeit" => n.forfeited += amount,
                _ => return Err(corrupt("ledger kind", kind)),
            }
        }
        for (peer, amount) in vstore::pending_by_peer(&db)? {
            account(&mut nodes, &peer);
            nodes.get_mut(&peer).expect("just added").pending = amount;
        }
        let min_stake = self.verify_settings().min_stake;
        for n in nodes.values_mut() {
            n.fraud = vstore::fraud(&db, &n.peer)?;
            n.eligible = n.fraud.is_none() && n.staked >= min_stake;
        }
        Ok(LedgerSummary {
            nodes: nodes.into_values().collect(),
            entries: lstore::size(&db)?,
            min_stake,
            checks: vstore::check_counts(&db)?.into_iter().map(|(k, n)| (k, n as u64)).collect(),
        })
    }

    /// Ledger entries `from..=to` as stored (hashes included), at most
    /// 10,000 at a time.
    pub fn ledger_entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>, FarmError> {
        Ok(lstore::entries(&self.db(), from.max(1), to.min(from.max(1) + 9_999))?)
    }

    pub fn tree_heads(&self) -> Result<Vec<SignedTreeHead>, FarmError> {
        self.sign_tree_head()?;
        Ok(lstore::heads(&self.db())?)
    }

    /// The inclusion proof of entry `seq` in the tree of the first `size`
    /// entries.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<String>, FarmError> {
        let db = self.db();
        if seq == 0 || seq > size || size > lstore::size(&db)? {
            return Err(FarmError::NotFound(format!(
                "no entry {seq} in a tree of {size} entries (the ledger has {})",
                lstore::size(&db)?
            )));
        }
        let leaves = lstore::leaf_hashes(&db, size)?;
        let proof = proofs::merkle::inclusion_proof(&leaves, seq - 1)
            .map_err(|e| FarmError::Invalid(e.to_string()))?;
        Ok(proof.iter().map(hex::encode).collect())
    }

    /// The consistency proof between the trees of `old` and `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<String>, FarmError> {
        let db = self.db();
        if old > new || new > lstore::size(&db)? {
            return Err(FarmError::NotFound(format!(
                "no consistency proof from {old} to {new} entries (the ledger has {})",
                lstore::size(&db)?
            )));
        }
        let leaves = lstore::leaf_hashes(&db, new)?;
        let proof = proofs::merkle::consistency_proof(&leaves, old)
            .map_err(|e| FarmError::Invalid(e.to_string()))?;
        Ok(proof.iter().map(hex::encode).collect())
    }
}

fn label(what: &str, v: Verdict) -> Verdict {
    match v {
        Verdict::Match => Verdict::Match,
        Verdict::Mismatch(d) => Verdict::Mismatch(format!("{what}: {d}")),
        Verdict::Inconclusive(d) => Verdict::Inconclusive(format!("{what}: {d}")),
    }
}

/// Any mismatch decides; else any inconclusive; else a match.
fn combine(verdicts: Vec<Verdict>) -> Verdict {
    let mut inconclusive = None;
    for v in verdicts {
        match v {
            Verdict::Mismatch(_) => return v,
            Verdict::Inconclusive(_) => {
                inconclusive.get_or_insert(v);
            }
            Verdict::Match => {}
        }
    }
    inconclusive.unwrap_or(Verdict::Match)
}

fn verdict_text(v: &Verdict) -> (&'static str, &str) {
    match v {
        Verdict::Match => ("match", ""),
        Verdict::Mismatch(d) => ("mismatch", d),
        Verdict::Inconclusive(d) => ("inconclusive", d),
    }
}

#[cfg(test)]
mod tests {
    use proofs::ledger::LedgerFault;
    use protocol::JobId;

    use super::super::tests::{
        complete_signed, frame_states, hello, hello_with, job, job_on, next, png, settings, Leased,
    };
    use super::*;

    /// Every result checked (the warm-up never ends), stake of 10 credits
    /// needed, prices high enough to show in micro-credits.
    fn farm(dir: &tempfile::TempDir, warmup: u64, min_stake: f64) -> Farm {
        let mut s = settings();
        s.verify = VerifySettings {
            policy: SpotCheckPolicy::new(0.0, warmup).unwrap(),
            min_stake: micros(min_stake),
            settle_ms: 60_000,
            render_price: 1e6,
            ..VerifySettings::default()
        };
        Farm::open(dir.path(), s).unwrap()
    }

    fn stake_all(farm: &Farm, peers: &[&str]) {
        // Test peers are names, which `Farm::stake` refuses: the ledger
        // takes them directly.
        for peer in peers {
            let db = farm.db();
            lstore::append(&db, 0, EntryKind::Deposit, peer, micros(20.0), "stake deposit")
                .unwrap();
        }
    }

    /// Uploads `bytes(frame)` for each frame and reports the task done.
    fn deliver_with(
        farm: &Farm,
        peer: &str,
        task: &Leased,
        bytes: impl Fn(u32) -> Vec<u8>,
    ) -> Result<(), String> {
        let outputs = task
            .frames
            .iter()
            .map(|&frame| {
                let cid =
                    farm.upload_chunk(peer, task.lease, frame, 0, &bytes(frame), true).unwrap();
                TaskOutput { output: frame, cid: cid.unwrap() }
            })
            .collect();
        complete_signed(farm, peer, task.lease, outputs, Some("cpu")).unwrap()
    }

    /// A one-frame job rendered by "a", checked by "b" and (as they
    /// disagree) arbitrated by "c", each delivering what `by` says.
    fn three_nodes_render(farm: &Farm, by: [fn(u32) -> Vec<u8>; 3]) -> JobId {
        let id = job(farm, "1", 1, 0);
        stake_all(farm, &["a", "b", "c"]);
        hello(farm, &["a", "b", "c"]);
        let task = next(farm, "a").unwrap().unwrap();
        deliver_with(farm, "a", &task, by[0]).unwrap();
        let check = next(farm, "b").unwrap().unwrap();
        deliver_with(farm, "b", &check, by[1]).unwrap();
        // Two disagree: neither is published, a third node arbitrates.
        assert_eq!(frame_states(farm, id), [FrameState::Verifying]);
        assert_eq!(next(farm, "a").unwrap(), None);
        let arbitration = next(farm, "c").unwrap().unwrap();
        deliver_with(farm, "c", &arbitration, by[2]).unwrap();
        id
    }

    fn honest(frame: u32) -> Vec<u8> {
        png(frame, false)
    }

    /// Another picture of the right size: what a cheat delivers.
    fn tampered(frame: u32) -> Vec<u8> {
        png(frame + 3, false)
    }

    fn ledger(farm: &Farm) -> Vec<StoredEntry> {
        farm.ledger_entries(1, 10_000).unwrap()
    }

    fn kinds(farm: &Farm, peer: &str) -> Vec<EntryKind> {
        ledger(farm).iter().filter(|e| e.entry.peer == peer).map(|e| e.entry.kind).collect()
    }

    #[test]
    fn nodes_without_enough_stake_get_no_work_and_are_told_why() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        job(&farm, "1", 1, 0);
        hello(&farm, &["a"]);
        assert_eq!(next(&farm, "a").unwrap(), None);
        let reason = farm.work_refusal("a").unwrap().unwrap();
        assert!(reason.contains("0 credits staked, 10 needed"), "{reason}");
        assert!(reason.contains("mosaic ledger stake a AMOUNT"), "{reason}");
        stake_all(&farm, &["a"]);
        assert!(next(&farm, "a").unwrap().is_some());
    }

    #[test]
    fn a_render_is_checked_only_by_a_node_that_has_its_backend() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        let id = job_on(&farm, "1", "vulkan-rt");
        stake_all(&farm, &["a", "b", "c"]);
        hello_with(&farm, &["a", "c"], &["vulkan-rt", "cpu"]);
        hello_with(&farm, &["b"], &["cpu"]);
        let task = next(&farm, "a").unwrap().unwrap();
        deliver_with(&farm, "a", &task, honest).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Verifying]);
        assert_eq!(next(&farm, "b").unwrap(), None, "b cannot render with vulkan-rt");
        let check = next(&farm, "c").unwrap().unwrap();
        assert_eq!(check.settings.backend.as_deref(), Some("vulkan-rt"));
        deliver_with(&farm, "c", &check, honest).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Done]);
    }

    #[test]
    fn a_render_nobody_else_can_redo_settles_unchecked() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        let id = job_on(&farm, "1", "vulkan-rt");
        stake_all(&farm, &["a", "b"]);
        hello_with(&farm, &["a"], &["vulkan-rt"]);
        hello(&farm, &["b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        deliver_with(&farm, "a", &task, honest).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Done]);
        assert_eq!(next(&farm, "b").unwrap(), None);
    }

    #[test]
    fn long_engine_names_stay_distinct_and_are_cut_safely() {
        assert_eq!(engine_label("cpu"), "cpu");
        let gpu = "vulkan-rt NVIDIA H100 80GB HBM3 ".repeat(4);
        let a = engine_label(&format!("{gpu}driver 550.54.15")).into_owned();
        let b = engine_label(&format!("{gpu}driver 550.54.14")).into_owned();
        assert_ne!(a, b);
        assert!(a.len() <= MAX_ENGINE_BYTES, "{a}");
        // Cutting inside a multi-byte character must not panic.
        let wide = "é".repeat(100);
        assert!(engine_label(&wide).len() <= MAX_ENGINE_BYTES);
    }

    #[test]
    fn a_checked_render_is_published_and_paid_when_the_duplicate_matches() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        let id = job(&farm, "1", 1, 0);
        stake_all(&farm, &["a", "b"]);
        hello(&farm, &["a", "b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        deliver_with(&farm, "a", &task, honest).unwrap();
        // Not published until its check settles it; a node never checks itself.
        assert_eq!(frame_states(&farm, id), [FrameState::Verifying]);
        assert_eq!(next(&farm, "a").unwrap(), None);
        let check = next(&farm, "b").unwrap().unwrap();
        assert_eq!((check.task, check.frames.clone()), (task.task, vec![1]));
        deliver_with(&farm, "b", &check, honest).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Done]);
        let price = micros(1e6 * f64::from(16 * 12) / 1e9);
        for peer in ["a", "b"] {
            let rewards: Vec<i64> = ledger(&farm)
                .iter()
                .filter(|e| e.entry.peer == peer && e.entry.kind == EntryKind::Reward)
                .map(|e| e.entry.amount)
                .collect();
            assert_eq!(rewards, [price], "{peer}");
        }
        let memo = ledger(&farm).last().unwrap().entry.memo.clone();
        assert!(memo.contains("1 frames x 16x12 x 1 spp"), "{memo}");
    }

    #[test]
    fn a_disagreement_goes_to_a_third_node_and_the_minority_is_slashed() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        let id = three_nodes_render(&farm, [honest, tampered, honest]);
        assert_eq!(frame_states(&farm, id), [FrameState::Done]);
        assert_eq!(farm.job_detail(id).unwrap().frames[0].worker.as_deref(), Some("a"));
        assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit, EntryKind::Reward]);
        assert_eq!(kinds(&farm, "c"), [EntryKind::Deposit, EntryKind::Reward]);
        // The minority loses half its stake (its rejected result earns
        // nothing) and gets no more work.
        assert_eq!(kinds(&farm, "b"), [EntryKind::Deposit, EntryKind::Slash]);
        let slash = ledger(&farm).into_iter().find(|e| e.entry.kind == EntryKind::Slash).unwrap();
        assert_eq!(slash.entry.amount, micros(10.0));
        assert!(
            slash.entry.memo.contains("disagreed with two other nodes"),
            "{}",
            slash.entry.memo
        );
        job(&farm, "2", 1, 0);
        assert_eq!(next(&farm, "b").unwrap(), None);
        assert!(farm.work_refusal("b").unwrap().unwrap().contains("proven to cheat"));
        let summary = farm.ledger_summary().unwrap();
        let b = summary.nodes.iter().find(|n| n.peer == "b").unwrap();
        assert_eq!((b.staked, b.slashed, b.eligible), (micros(10.0), micros(10.0), false));
    }

    #[test]
    fn when_the_first_result_is_the_minority_the_majority_is_published() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 20, 10.0);
        let id = three_nodes_render(&farm, [tampered, honest, honest]);
        let frame = &farm.job_detail(id).unwrap().frames[0];
        assert_eq!((frame.state, frame.cid), (FrameState::Done, Some(ContentId::of(&honest(1)))));
        assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit, EntryKind::Slash]);
        assert_eq!(next(&farm, "a").unwrap(), None);
    }

    #[test]
    fn a_proven_cheaters_unsettled_results_are_withdrawn_and_done_again() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 1, 10.0);
        let id = job(&farm, "1-2", 1, 0);
        stake_all(&farm, &["a", "b", "c"]);
        hello(&farm, &["a", "b", "c"]);
        // a's first result is checked (warm-up of 1), its second is not.
        let first = next(&farm, "a").unwrap().unwrap();
        deliver_with(&farm, "a", &first, tampered).unwrap();
        let second = next(&farm, "a").unwrap().unwrap();
        deliver_with(&farm, "a", &second, tampered).unwrap();
        assert_eq!(frame_states(&farm, id), [FrameState::Verifying, FrameState::Done]);
        let check = next(&farm, "b").unwrap().unwrap();
        deliver_with(&farm, "b", &check, honest).unwrap();
        let arbitration = next(&farm, "c").unwrap().unwrap();
        deliver_with(&farm, "c", &arbitration, honest).unwrap();
        // a is proven to cheat: frame 2, published unchecked, is withdrawn
        // and done again by another node.
        assert_eq!(frame_states(&farm, id), [FrameState::Done, FrameState::Verifying]);
        let redo = next(&farm, "b").unwrap().unwrap();
        assert_eq!(redo.frames, [second.frames[0]]);
        deliver_with(&farm, "b", &redo, honest).unwrap();
        let frames = farm.job_detail(id).unwrap().frames;
        assert!(frames
            .iter()
            .all(|f| f.state == FrameState::Done && f.worker.as_deref() != Some("a")));
        assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit, EntryKind::Slash, EntryKind::Forfeit]);
    }

    #[test]
    fn unchecked_results_are_paid_once_after_the_window_even_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let farm = farm(&dir, 0, 10.0);
            job(&farm, "1", 1, 0);
            stake_all(&farm, &["a", "b"]);
            hello(&farm, &["a", "b"]);
            let task = next(&farm, "a").unwrap().unwrap();
            deliver_with(&farm, "a", &task, honest).unwrap();
            farm.expire_leases().unwrap();
            assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit]);
            assert!(farm.ledger_summary().unwrap().nodes[0].pending > 0);
            farm.advance_clock(61_000);
            farm.expire_leases().unwrap();
            farm.expire_leases().unwrap();
            assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit, EntryKind::Reward]);
        }
        let farm = farm(&dir, 0, 10.0);
        farm.advance_clock(120_000);
        farm.expire_leases().unwrap();
        assert_eq!(kinds(&farm, "a"), [EntryKind::Deposit, EntryKind::Reward]);
    }

    #[test]
    fn a_receipt_that_does_not_verify_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 0, 0.0);
        let id = job(&farm, "1", 1, 0);
        hello(&farm, &["a", "b"]);
        let task = next(&farm, "a").unwrap().unwrap();
        let cid = farm.upload_chunk("a", task.lease, 1, 0, &honest(1), true).unwrap().unwrap();
        let outputs = vec![TaskOutput { output: 1, cid }];
        // Signed by b's key, reported by a.
        let digest = vstore::lease_digest(&farm.db(), task.lease).unwrap().unwrap();
        let message = protocol::receipt::receipt_message(task.lease, &digest, &outputs, None);
        let signature = test_keypair("b").sign(&message).unwrap();
        let reason =
            farm.complete("a", task.lease, outputs, None, &signature).unwrap().unwrap_err();
        assert!(reason.contains("signature is not valid"), "{reason}");
        assert_eq!(frame_states(&farm, id), [FrameState::Queued]);
    }

    #[test]
    fn the_ledger_verifies_and_an_edited_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let farm = farm(&dir, 0, 0.0);
        stake_all(&farm, &["a", "b", "c"]);
        let heads = farm.tree_heads().unwrap();
        let key = *farm.verify_settings().signer.0.verifying_key().as_bytes();
        let rows = ledger(&farm);
        assert_eq!(rows.len(), 3);
        assert_eq!(proofs::ledger::verify_chain(&rows), []);
        assert_eq!(proofs::ledger::check_tree_heads(&rows, &heads, &key), []);
        let proof = farm.inclusion_proof(2, 3).unwrap();
        let proof: Vec<_> = proof.iter().map(|h| proofs::merkle::parse_hash(h).unwrap()).collect();
        let root = proofs::merkle::parse_hash(&heads[0].head.root).unwrap();
        proofs::merkle::verify_inclusion(1, 3, &rows[1].entry.leaf_hash(), &proof, &root).unwrap();
        // The store refuses edits; someone with the file drops the guard.
        let db = farm.db();
        assert!(db.execute("UPDATE ledger SET amount = 1 WHERE seq = 2", []).is_err());
        db.execute_batch(
            "DROP TRIGGER ledger_no_update; UPDATE ledger SET amount = 1 WHERE seq = 2",
        )
        .unwrap();
        drop(db);
        let rows = ledger(&farm);
        assert_eq!(proofs::ledger::verify_chain(&rows), [LedgerFault::EditedRow { seq: 2 }]);
    }
}
