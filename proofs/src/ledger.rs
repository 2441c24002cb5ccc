//! The ledger of stakes and payments: its entries, the blake3 hash chain that links each row
//! to the one before, the RFC 9162 Merkle tree over the entries and the tree heads the
//! orchestrator signs, and the ed25519 checks of workers' receipts.
//!
//! Everything here works from plain rows (what SQLite stores and `mosaic ledger verify`
//! fetches over HTTP), so anyone holding the rows can re-check them. The hash chain catches a
//! row edited, deleted, moved or inserted in the middle; only a signed tree head catches a
//! rewritten or truncated tail, which is why the orchestrator signs them and workers keep
//! them. This module never trusts a stored hash: it recomputes every one.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::merkle::{self, CompactRange};

/// Amounts are integer micro-credits (1 credit = 1_000_000).
pub type Micros = i64;

/// Micro-credits in a credit.
pub const MICROS_PER_CREDIT: f64 = 1_000_000.0;

/// Credits as micro-credits, rounded.
pub fn micros(credits: f64) -> Micros {
    (credits * MICROS_PER_CREDIT).round() as Micros
}

/// Micro-credits as a person reads credits: "12.5", "100", "0.000001".
pub fn credits(m: Micros) -> String {
    let s = format!("{:.6}", m as f64 / MICROS_PER_CREDIT);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// What comes before every entry's canonical bytes, so they never read as anything else.
const ENTRY_DOMAIN: &[u8] = b"mosaic-ledger-entry-v1";
/// What comes before a tree head's signed bytes.
const TREE_HEAD_DOMAIN: &[u8] = b"mosaic-tree-head-v1";
/// The `prev` of the first entry's chain hash.
pub const GENESIS: [u8; 32] = [0; 32];

/// Why money moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A peer put stake in.
    Deposit,
    /// A peer earned credits for work that passed its checks.
    Reward,
    /// A peer lost stake for a result that failed a check.
    Slash,
    /// A peer lost credits it had earned but not yet been paid.
    Forfeit,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Deposit => "deposit",
            EntryKind::Reward => "reward",
            EntryKind::Slash => "slash",
            EntryKind::Forfeit => "forfeit",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind column that names no [`EntryKind`].
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown ledger entry kind {0:?}: expected deposit, reward, slash or forfeit")]
pub struct UnknownKind(pub String);

impl FromStr for EntryKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deposit" => Ok(EntryKind::Deposit),
            "reward" => Ok(EntryKind::Reward),
            "slash" => Ok(EntryKind::Slash),
            "forfeit" => Ok(EntryKind::Forfeit),
            other => Err(UnknownKind(other.to_owned())),
        }
    }
}

/// One movement of credits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// 1-based, no gaps.
    pub seq: u64,
    /// When the orchestrator wrote it, in Unix milliseconds.
    pub at_ms: i64,
    pub kind: EntryKind,
    /// The peer whose balance moves.
    pub peer: String,
    /// Always > 0; the kind says which way it moves.
    pub amount: Micros,
    /// What for: "job 3 task 7 frames 1-4", "segment 12 check 2: ...".
    pub memo: String,
}

impl Entry {
    /// The bytes the chain hash and the Merkle leaf are computed over: the domain tag, then
    /// every field in order, integers as fixed-width big-endian and strings length-prefixed,
    /// so no two entries share them.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(ENTRY_DOMAIN.len() + 64 + self.peer.len() + self.memo.len());
        out.extend_from_slice(ENTRY_DOMAIN);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        put_str(&mut out, self.kind.as_str());
        put_str(&mut out, &self.peer);
        out.extend_from_slice(&self.amount.to_be_bytes());
        put_str(&mut out, &self.memo);
        out
    }

    /// `blake3(prev || canonical_bytes)`; the first entry's `prev` is [`GENESIS`].
    pub fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(prev);
        hasher.update(&self.canonical_bytes());
        hasher.finalize().into()
    }

    /// This entry's leaf in the ledger's Merkle tree.
    pub fn leaf_hash(&self) -> merkle::Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A row as stored: the entry and its link in the hash chain, both hashes in lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredEntry {
    #[serde(flatten)]
    pub entry: Entry,
    /// The previous row's `hash` ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// `entry.chain_hash(prev_hash)`.
    pub hash: String,
}

impl StoredEntry {
    /// The row that appends `entry` after a row whose hash is `prev` ([`GENESIS`] for the
    /// first).
    pub fn new(entry: Entry, prev: &[u8; 32]) -> StoredEntry {
        let hash = entry.chain_hash(prev);
        StoredEntry { entry, prev_hash: hex::encode(prev), hash: hex::encode(hash) }
    }
}

/// Links entries into rows, the first after [`GENESIS`].
pub fn chain(entries: impl IntoIterator<Item = Entry>) -> Vec<StoredEntry> {
    let mut prev = GENESIS;
    let mut rows = Vec::new();
    for entry in entries {
        let hash = entry.chain_hash(&prev);
        rows.push(StoredEntry { entry, prev_hash: hex::encode(prev), hash: hex::encode(hash) });
        prev = hash;
    }
    rows
}

/// What is wrong with a ledger, by the sequence number of the first row concerned (or, for a
/// tree head, by the size it claims).
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerFault {
    #[error("row {seq} was edited: its hash does not match its fields and prev_hash")]
    EditedRow { seq: u64 },
    #[error("row {seq} does not link to the row before it: its prev_hash is not that row's hash")]
    BrokenChain { seq: u64 },
    #[error("{count} row(s) missing from seq {seq} on")]
    MissingRow { seq: u64, count: u64 },
    #[error("row {seq} comes after a row with a higher seq: rows were reordered")]
    OutOfOrder { seq: u64 },
    #[error("more than one row has seq {seq}: a row was inserted")]
    DuplicateRow { seq: u64 },
    #[error("a row has seq 0: seqs start at 1")]
    ZeroSeq,
    #[error("row {seq} moves {amount} micro-credits: amounts must be positive")]
    BadAmount { seq: u64, amount: Micros },
    #[error("row {seq} has a hash or prev_hash that is not 64 hex digits")]
    BadHash { seq: u64 },
    #[error("the tree head of size {size} has a bad signature: {error}")]
    TreeHeadSignature { size: u64, error: SignatureError },
    #[error("the tree head of size {size} is signed by another key than the orchestrator's")]
    TreeHeadWrongKey { size: u64 },
    #[error("the tree head of size {size} covers more entries than the {rows} rows there are")]
    TreeHeadBeyondLedger { size: u64, rows: u64 },
    #[error("the tree head of size {size} has a root that is not 64 hex digits")]
    TreeHeadBadRoot { size: u64 },
    #[error(
        "the tree head of size {size} does not match the first {size} rows: they were rewritten"
    )]
    TreeHeadMismatch { size: u64 },
}

impl LedgerFault {
    /// The seq of the row concerned, for faults of rows.
    pub fn seq(&self) -> Option<u64> {
        match *self {
            LedgerFault::EditedRow { seq }
            | LedgerFault::BrokenChain { seq }
            | LedgerFault::MissingRow { seq, .. }
            | LedgerFault::OutOfOrder { seq }
            | LedgerFault::DuplicateRow { seq }
            | LedgerFault::BadAmount { seq, .. }
            | LedgerFault::BadHash { seq } => Some(seq),
            LedgerFault::ZeroSeq => Some(0),
            _ => None,
        }
    }
}

fn parse_hash(hex_digits: &str) -> Option<[u8; 32]> {
    merkle::parse_hash(hex_digits).ok()
}

/// Re-computes every row's hash and link and returns every fault found, ordered by seq (an
/// empty Vec: the chain is intact). Rows are expected in seq order, from seq 1.
///
/// Rows are checked in seq order whatever order they come in, so a moved row is reported
/// once, as [`LedgerFault::OutOfOrder`], and not as a broken chain on both sides. Each row is
/// checked against its own stored `prev_hash`, so an edited field is reported at that row
/// only; a row whose hash was recomputed after the edit shows as a broken link at the next.
pub fn verify_chain(rows: &[StoredEntry]) -> Vec<LedgerFault> {
    let mut faults = Vec::new();
    for pair in rows.windows(2) {
        if pair[1].entry.seq < pair[0].entry.seq {
            faults.push(LedgerFault::OutOfOrder { seq: pair[1].entry.seq });
        }
    }
    let mut sorted: Vec<&StoredEntry> = rows.iter().collect();
    sorted.sort_by_key(|row| row.entry.seq);

    let mut expected = 1;
    // The hashes a row with seq `expected` may link to: several when a row was inserted,
    // None when the row before has a hash that is not one (that row is the fault).
    let mut links = Some(vec![GENESIS]);
    for group in sorted.chunk_by(|a, b| a.entry.seq == b.entry.seq) {
        let seq = group[0].entry.seq;
        if seq == 0 {
            faults.push(LedgerFault::ZeroSeq);
            continue;
        }
        if group.len() > 1 {
            faults.push(LedgerFault::DuplicateRow { seq });
        }
        // After a gap the link is broken by construction; the gap is the fault.
        let after_gap = seq > expected;
        if after_gap {
            faults.push(LedgerFault::MissingRow { seq: expected, count: seq - expected });
        }
        let mut next_links = Some(Vec::with_capacity(group.len()));
        for row in group {
            if row.entry.amount <= 0 {
                faults.push(LedgerFault::BadAmount { seq, amount: row.entry.amount });
            }
            let (Some(prev), Some(hash)) = (parse_hash(&row.prev_hash), parse_hash(&row.hash))
            else {
                faults.push(LedgerFault::BadHash { seq });
                next_links = None;
                continue;
            };
            if row.entry.chain_hash(&prev) != hash {
                faults.push(LedgerFault::EditedRow { seq });
            }
            if !after_gap && links.as_ref().is_some_and(|links| !links.contains(&prev)) {
                faults.push(LedgerFault::BrokenChain { seq });
            }
            if let Some(next_links) = &mut next_links {
                next_links.push(hash);
            }
        }
        links = next_links;
        expected = seq + 1;
    }
    faults.sort_by_key(|fault| fault.seq());
    faults.dedup();
    faults
}

/// The leaf hashes of the ledger's Merkle tree, one per row, in the order given.
pub fn tree_leaves(rows: &[StoredEntry]) -> Vec<merkle::Hash> {
    rows.iter().map(|row| row.entry.leaf_hash()).collect()
}

/// The root of the ledger's Merkle tree over its rows, in the order given.
pub fn tree_root(rows: &[StoredEntry]) -> merkle::Hash {
    merkle::root(&tree_leaves(rows))
}

/// What a peer has at stake and has earned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Balance {
    pub peer: String,
    /// Deposits less slashes.
    pub staked: Micros,
    /// Rewards, before forfeits.
    pub earned: Micros,
    /// Stake taken away.
    pub slashed: Micros,
    /// Earnings taken away.
    pub forfeited: Micros,
}

/// Balances per peer, sorted by peer. Sums saturate rather than wrap, so a forged huge amount
/// cannot turn a balance around.
pub fn balances(entries: &[Entry]) -> Vec<Balance> {
    let mut by_peer: BTreeMap<&str, Balance> = BTreeMap::new();
    for entry in entries {
        let balance = by_peer.entry(&entry.peer).or_insert_with(|| Balance {
            peer: entry.peer.clone(),
            staked: 0,
            earned: 0,
            slashed: 0,
            forfeited: 0,
        });
        let amount = entry.amount;
        match entry.kind {
            EntryKind::Deposit => balance.staked = balance.staked.saturating_add(amount),
            EntryKind::Reward => balance.earned = balance.earned.saturating_add(amount),
            EntryKind::Slash => {
                balance.staked = balance.staked.saturating_sub(amount);
                balance.slashed = balance.slashed.saturating_add(amount);
            }
            EntryKind::Forfeit => balance.forfeited = balance.forfeited.saturating_add(amount),
        }
    }
    by_peer.into_values().collect()
}

/// What a signature check found wrong.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the {what} is not hex")]
    NotHex { what: &'static str },
    #[error("an ed25519 public key has 32 bytes, this one has {len}")]
    BadKeyLength { len: usize },
    #[error("the public key is not a point on the ed25519 curve")]
    BadKey,
    #[error("the public key is not in canonical encoding")]
    NonCanonicalKey,
    #[error("the public key is a small-order point, under which forged signatures verify")]
    WeakKey,
    #[error("an ed25519 signature has 64 bytes, this one has {len}")]
    BadSignatureLength { len: usize },
    #[error(
        "the signature does not verify: wrong key, altered message, or a malformed or \
         malleated signature"
    )]
    DoesNotVerify,
}

/// Checks an ed25519 signature strictly (`verify_strict`): besides the plain check it turns
/// away small-order keys and small-order `R`, which let one signature pass for several
/// messages or keys; a non-canonical key encoding is turned away too, so one key has one
/// spelling. Receipts (a worker's signature over what it delivered) and tree heads use it.
pub fn verify_signature(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let signature = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| SignatureError::BadSignatureLength { len: signature.len() })?;
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| SignatureError::BadKey)?;
    if key.to_edwards().compress().to_bytes() != *public_key {
        return Err(SignatureError::NonCanonicalKey);
    }
    if key.is_weak() {
        return Err(SignatureError::WeakKey);
    }
    key.verify_strict(message, &signature).map_err(|_| SignatureError::DoesNotVerify)
}

/// A tree head: the ledger's Merkle root after its first `size` entries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeHead {
    pub size: u64,
    /// Lowercase hex.
    pub root: String,
    /// When it was signed, in Unix milliseconds.
    pub at_ms: i64,
}

impl TreeHead {
    /// The head of the tree over `rows`.
    pub fn of(rows: &[StoredEntry], at_ms: i64) -> TreeHead {
        TreeHead { size: rows.len() as u64, root: hex::encode(tree_root(rows)), at_ms }
    }

    /// The bytes the orchestrator signs: the domain tag, the size, the root as written
    /// (length-prefixed) and the time, integers big-endian.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TREE_HEAD_DOMAIN.len() + 32 + self.root.len());
        out.extend_from_slice(TREE_HEAD_DOMAIN);
        out.extend_from_slice(&self.size.to_be_bytes());
        put_str(&mut out, &self.root);
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        out
    }
}

/// A tree head with the orchestrator's ed25519 signature over [`TreeHead::signed_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedTreeHead {
    pub head: TreeHead,
    /// Hex, 32 bytes.
    pub public_key: String,
    /// Hex, 64 bytes.
    pub signature: String,
}

impl SignedTreeHead {
    pub fn sign(head: TreeHead, key: &SigningKey) -> SignedTreeHead {
        let signature = key.sign(&head.signed_bytes());
        SignedTreeHead {
            head,
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature against the key the head carries; whether that key is the
    /// orchestrator's is for the caller to know (see [`check_tree_heads`]).
    pub fn verify(&self) -> Result<(), SignatureError> {
        let key = hex::decode(&self.public_key)
            .map_err(|_| SignatureError::NotHex { what: "public key" })?;
        let key = <[u8; 32]>::try_from(key.as_slice())
            .map_err(|_| SignatureError::BadKeyLength { len: key.len() })?;
        let signature = hex::decode(&self.signature)
            .map_err(|_| SignatureError::NotHex { what: "signature" })?;
        verify_signature(&key, &self.head.signed_bytes(), &signature)
    }
}

/// Checks signed tree heads against the rows: each is signed by `orchestrator_key`, its
/// signature verifies, its size is no more than the rows and its root is the root of the
/// first `size` rows. Returns every fault, by head size; rows as for [`verify_chain`].
/// Costs one pass over the rows whatever the number of heads.
pub fn check_tree_heads(
    rows: &[StoredEntry],
    heads: &[SignedTreeHead],
    orchestrator_key: &[u8; 32],
) -> Vec<LedgerFault> {
    let mut faults = Vec::new();
    let mut by_size: Vec<&SignedTreeHead> = heads.iter().collect();
    by_size.sort_by_key(|signed| signed.head.size);
    let mut range = CompactRange::default();
    let mut leaves = rows.iter().map(|row| row.entry.leaf_hash());
    for signed in by_size {
        let size = signed.head.size;
        // A key that is not hex at all is the signature check's to report.
        if matches!(hex::decode(&signed.public_key), Ok(key) if key != orchestrator_key) {
            faults.push(LedgerFault::TreeHeadWrongKey { size });
        }
        if let Err(error) = signed.verify() {
            faults.push(LedgerFault::TreeHeadSignature { size, error });
        }
        if size > rows.len() as u64 {
            faults.push(LedgerFault::TreeHeadBeyondLedger { size, rows: rows.len() as u64 });
            continue;
        }
        while range.size() < size {
            range.push(leaves.next().expect("size <= rows"));
        }
        match merkle::parse_hash(&signed.head.root) {
            Err(_) => faults.push(LedgerFault::TreeHeadBadRoot { size }),
            Ok(root) if root != range.root() => faults.push(LedgerFault::TreeHeadMismatch { size }),
            Ok(_) => {}
        }
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<Entry> {
        let peers = ["12D3KooWAlice", "12D3KooWBob", "12D3KooWCarol"];
        (1..=n)
            .map(|seq| Entry {
                seq,
                at_ms: 1_700_000_000_000 + seq as i64 * 1000,
                kind: [EntryKind::Deposit, EntryKind::Reward, EntryKind::Slash][seq as usize % 3],
                peer: peers[seq as usize % peers.len()].to_owned(),
                amount: seq as i64 * 1_000_000,
                memo: format!("job 3 task {seq} frames 1-4"),
            })
            .collect()
    }

    fn ledger(n: u64) -> Vec<StoredEntry> {
        chain(entries(n))
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [EntryKind::Deposit, EntryKind::Reward, EntryKind::Slash, EntryKind::Forfeit] {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!("bonus".parse::<EntryKind>(), Err(UnknownKind("bonus".into())));
    }

    #[test]
    fn canonical_bytes_tell_apart_fields_that_concatenate_alike() {
        let a = Entry { peer: "ab".into(), memo: "c".into(), ..entries(1).remove(0) };
        let b = Entry { peer: "a".into(), memo: "bc".into(), ..a.clone() };
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        assert!(a.canonical_bytes().starts_with(b"mosaic-ledger-entry-v1"));
        assert_eq!(a.leaf_hash(), merkle::leaf_hash(&a.canonical_bytes()));
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&ledger(20)), vec![]);
        assert_eq!(verify_chain(&[]), vec![]);
        let rows = ledger(3);
        assert_eq!(rows[0].prev_hash, hex::encode(GENESIS));
        assert_eq!(rows[1].prev_hash, rows[0].hash);
    }

    #[test]
    fn every_edited_field_is_reported_at_its_row() {
        type Edit = (&'static str, fn(&mut Entry));
        let edits: [Edit; 6] = [
            ("amount", |e| e.amount += 1),
            ("peer", |e| e.peer.push('x')),
            ("memo", |e| e.memo = "job 3 task 7 frames 1-40".into()),
            ("kind", |e| e.kind = EntryKind::Forfeit),
            ("at_ms", |e| e.at_ms -= 1),
            ("seq", |e| e.seq = 99),
        ];
        for k in [1, 5, 10] {
            for (field, edit) in edits {
                let mut rows = ledger(10);
                edit(&mut rows[k - 1].entry);
                let faults = verify_chain(&rows);
                let want = if field == "seq" {
                    // Row k now claims seq 99: a gap before it, its hash no longer matches.
                    faults.contains(&LedgerFault::EditedRow { seq: 99 })
                        && faults[0].seq() == Some(k as u64)
                } else {
                    faults == [LedgerFault::EditedRow { seq: k as u64 }]
                };
                assert!(want, "{field} of row {k}: {faults:?}");
            }
        }
    }

    #[test]
    fn an_edit_with_its_hash_recomputed_breaks_the_next_link() {
        let mut rows = ledger(10);
        rows[4].entry.amount = 1;
        let prev = parse_hash(&rows[4].prev_hash).unwrap();
        rows[4].hash = hex::encode(rows[4].entry.chain_hash(&prev));
        assert_eq!(verify_chain(&rows), [LedgerFault::BrokenChain { seq: 6 }]);
    }

    #[test]
    fn a_deleted_row_is_reported_missing() {
        for k in [1, 4, 9] {
            let mut rows = ledger(10);
            rows.remove(k - 1);
            assert_eq!(verify_chain(&rows), [LedgerFault::MissingRow { seq: k as u64, count: 1 }]);
        }
        let mut rows = ledger(10);
        rows.drain(3..6);
        assert_eq!(verify_chain(&rows), [LedgerFault::MissingRow { seq: 4, count: 3 }]);
    }

    #[test]
    fn swapped_rows_are_reported_out_of_order() {
        for k in [1, 5, 9] {
            let mut rows = ledger(10);
            rows.swap(k - 1, k);
            assert_eq!(verify_chain(&rows), [LedgerFault::OutOfOrder { seq: k as u64 }]);
        }
        // Swapping the contents under the seqs instead rewrites both rows.
        let mut rows = ledger(10);
        let (a, b) = (rows[4].clone(), rows[5].clone());
        rows[4] = StoredEntry { entry: Entry { seq: 5, ..b.entry }, ..b };
        rows[5] = StoredEntry { entry: Entry { seq: 6, ..a.entry }, ..a };
        let faults = verify_chain(&rows);
        assert_eq!(faults[0], LedgerFault::EditedRow { seq: 5 });
        assert!(faults.contains(&LedgerFault::EditedRow { seq: 6 }), "{faults:?}");
    }

    #[test]
    fn an_inserted_row_is_reported_at_its_seq() {
        for k in [1u64, 5, 10] {
            let mut rows = ledger(10);
            // A forger who links the new row properly still needs a seq that is taken.
            let prev = parse_hash(&rows[k as usize - 1].prev_hash).unwrap();
            let forged = Entry {
                seq: k,
                kind: EntryKind::Reward,
                peer: "12D3KooWMallory".into(),
                amount: 500_000_000,
                ..rows[k as usize - 1].entry.clone()
            };
            rows.insert(k as usize - 1, StoredEntry::new(forged, &prev));
            assert_eq!(verify_chain(&rows), [LedgerFault::DuplicateRow { seq: k }], "row {k}");
        }
        // One that is not linked or hashed properly says so too.
        let mut rows = ledger(10);
        let mut forged = rows[3].clone();
        forged.entry.amount = 1;
        forged.prev_hash = hex::encode([7; 32]);
        rows.insert(3, forged);
        assert_eq!(
            verify_chain(&rows),
            [
                LedgerFault::DuplicateRow { seq: 4 },
                LedgerFault::EditedRow { seq: 4 },
                LedgerFault::BrokenChain { seq: 4 },
            ]
        );
    }

    #[test]
    fn bad_amounts_hashes_and_seqs_are_reported() {
        let mut items = entries(4);
        items[1].amount = 0;
        items[2].amount = -5;
        let mut rows = chain(items);
        rows[2].hash = "not hex".into();
        assert_eq!(
            verify_chain(&rows),
            [
                LedgerFault::BadAmount { seq: 2, amount: 0 },
                LedgerFault::BadAmount { seq: 3, amount: -5 },
                LedgerFault::BadHash { seq: 3 },
            ]
        );
        let mut rows = ledger(2);
        rows[0].entry.seq = 0;
        let faults = verify_chain(&rows);
        assert_eq!(faults[0], LedgerFault::ZeroSeq);
    }

    #[test]
    fn balances_sum_by_kind_per_peer() {
        let entry = |seq, kind, peer: &str, amount| Entry {
            seq,
            at_ms: 0,
            kind,
            peer: peer.into(),
            amount,
            memo: String::new(),
        };
        let items = [
            entry(1, EntryKind::Deposit, "bob", 10_000_000),
            entry(2, EntryKind::Deposit, "alice", 5_000_000),
            entry(3, EntryKind::Reward, "bob", 250_000),
            entry(4, EntryKind::Slash, "bob", 2_000_000),
            entry(5, EntryKind::Reward, "bob", 250_000),
            entry(6, EntryKind::Forfeit, "bob", 100_000),
            entry(7, EntryKind::Deposit, "bob", 1_000_000),
        ];
        let bob = Balance {
            peer: "bob".into(),
            staked: 9_000_000,
            earned: 500_000,
            slashed: 2_000_000,
            forfeited: 100_000,
        };
        let alice = Balance {
            peer: "alice".into(),
            staked: 5_000_000,
            earned: 0,
            slashed: 0,
            forfeited: 0,
        };
        assert_eq!(balances(&items), [alice, bob]);
        assert_eq!(balances(&[]), []);
    }

    #[test]
    fn signed_tree_head_round_trips_and_verifies() {
        let head = TreeHead::of(&ledger(7), 1_700_000_123_000);
        let signed = SignedTreeHead::sign(head.clone(), &key(1));
        assert_eq!(signed.verify(), Ok(()));
        assert_eq!(signed.head, head);
        assert_eq!(signed.public_key.len(), 64);
        assert_eq!(signed.signature.len(), 128);
        assert!(head.signed_bytes().starts_with(b"mosaic-tree-head-v1"));
    }

    #[test]
    fn a_tampered_tree_head_or_signature_fails() {
        let signed = SignedTreeHead::sign(TreeHead::of(&ledger(7), 1_000), &key(1));
        let tampered: [fn(&mut SignedTreeHead); 5] = [
            |s| s.head.size += 1,
            |s| s.head.at_ms += 1,
            |s| s.head.root = hex::encode([9; 32]),
            |s| s.public_key = hex::encode(key(2).verifying_key().to_bytes()),
            |s| {
                s.signature
                    .replace_range(0..2, if &s.signature[0..2] == "00" { "01" } else { "00" })
            },
        ];
        for tamper in tampered {
            let mut bad = signed.clone();
            tamper(&mut bad);
            assert_eq!(bad.verify(), Err(SignatureError::DoesNotVerify), "{bad:?}");
        }
        let mut bad = signed.clone();
        bad.signature.truncate(126);
        assert_eq!(bad.verify(), Err(SignatureError::BadSignatureLength { len: 63 }));
        let mut bad = signed;
        bad.public_key = "zz".into();
        assert_eq!(bad.verify(), Err(SignatureError::NotHex { what: "public key" }));
    }

    #[test]
    fn tree_heads_are_checked_against_the_rows() {
        let rows = ledger(10);
        let orchestrator = key(1);
        let pinned = orchestrator.verifying_key().to_bytes();
        let head_at =
            |size: usize| SignedTreeHead::sign(TreeHead::of(&rows[..size], 0), &orchestrator);
        let heads: Vec<_> = [0, 3, 7, 10].into_iter().map(head_at).collect();
        assert_eq!(check_tree_heads(&rows, &heads, &pinned), vec![]);
        assert_eq!(tree_root(&rows), merkle::parse_hash(&heads[3].head.root).unwrap());

        // The rows past head 7 rewritten and re-chained: the chain is intact, the heads are not.
        let mut items = entries(10);
        items[8].amount = 1;
        let rewritten = chain(items);
        assert_eq!(verify_chain(&rewritten), vec![]);
        assert_eq!(
            check_tree_heads(&rewritten, &heads, &pinned),
            [LedgerFault::TreeHeadMismatch { size: 10 }]
        );
        // Truncated: the head of 10 is beyond it.
        assert_eq!(
            check_tree_heads(&rows[..8], &heads, &pinned),
            [LedgerFault::TreeHeadBeyondLedger { size: 10, rows: 8 }]
        );
        // Signed by someone else, or with a bad signature.
        let stranger = SignedTreeHead::sign(TreeHead::of(&rows[..5], 0), &key(2));
        assert_eq!(
            check_tree_heads(&rows, &[stranger], &pinned),
            [LedgerFault::TreeHeadWrongKey { size: 5 }]
        );
        let mut forged = head_at(5);
        forged.head.root = hex::encode([9; 32]);
        assert_eq!(
            check_tree_heads(&rows, &[forged], &pinned),
            [
                LedgerFault::TreeHeadSignature { size: 5, error: SignatureError::DoesNotVerify },
                LedgerFault::TreeHeadMismatch { size: 5 },
            ]
        );
    }

    #[test]
    fn receipts_verify_with_the_right_key_and_message_only() {
        let worker = key(3);
        let public = worker.verifying_key().to_bytes();
        let receipt = b"job 3 task 7 frames 1-4 blake3:ab12";
        let signature = worker.sign(receipt).to_bytes();
        assert_eq!(verify_signature(&public, receipt, &signature), Ok(()));
        assert_eq!(
            verify_signature(&public, b"job 3 task 7 frames 1-5", &signature),
            Err(SignatureError::DoesNotVerify)
        );
        let other = key(4).verifying_key().to_bytes();
        assert_eq!(
            verify_signature(&other, receipt, &signature),
            Err(SignatureError::DoesNotVerify)
        );
        assert_eq!(
            verify_signature(&public, receipt, &signature[..63]),
            Err(SignatureError::BadSignatureLength { len: 63 })
        );
    }

    /// Just enough arithmetic modulo the group order L to make a signature by hand.
    mod mod_l {
        /// L = 2^252 + 27742317777372353535851937790883648493, 64-bit limbs little-endian.
        const L: [u64; 4] = [0x5812_631a_5cf5_d3ed, 0x14de_f9de_a2f7_9cd6, 0, 1 << 60];

        /// `(a + b) mod L` for `a, b < L`.
        fn add(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
            let (mut sum, mut carry) = ([0u64; 4], 0u128);
            for i in 0..4 {
                let s = a[i] as u128 + b[i] as u128 + carry;
                sum[i] = s as u64;
                carry = s >> 64;
            }
            if sum.iter().rev().cmp(L.iter().rev()).is_lt() {
                return sum;
            }
            let mut borrow = false;
            for i in 0..4 {
                let (d, b1) = sum[i].overflowing_sub(L[i]);
                let (d, b2) = d.overflowing_sub(borrow as u64);
                sum[i] = d;
                borrow = b1 || b2;
            }
            sum
        }

        /// A little-endian number of any length, reduced.
        pub fn reduce(bytes: &[u8]) -> [u64; 4] {
            let mut r = [0; 4];
            for byte in bytes.iter().rev() {
                for bit in (0..8).rev() {
                    r = add(r, r);
                    if byte >> bit & 1 == 1 {
                        r = add(r, [1, 0, 0, 0]);
                    }
                }
            }
            r
        }

        pub fn mul(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
            let mut r = [0; 4];
            for i in (0..256).rev() {
                r = add(r, r);
                if b[i / 64] >> (i % 64) & 1 == 1 {
                    r = add(r, a);
                }
            }
            r
        }

        pub fn to_bytes(a: [u64; 4]) -> [u8; 32] {
            let mut out = [0; 32];
            for (chunk, limb) in out.chunks_mut(8).zip(a) {
                chunk.copy_from_slice(&limb.to_le_bytes());
            }
            out
        }
    }

    #[test]
    fn verify_strict_turns_away_a_small_order_r_that_plain_verify_accepts() {
        use sha2::{Digest, Sha512};
        // With R the identity and S = k·a, [S]B = [k]A = R + [k]A: a signature that plain
        // verification accepts although R carries no commitment (who knows `a` can make one
        // that fits any message after the fact).
        let seed = [6u8; 32];
        let signer = SigningKey::from_bytes(&seed);
        let public = signer.verifying_key().to_bytes();
        let mut a = Sha512::digest(seed)[..32].to_vec();
        a[0] &= 248;
        a[31] &= 127;
        a[31] |= 64;
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let message = b"job 3 task 7 frames 1-4";
        let k = Sha512::new().chain_update(identity).chain_update(public).chain_update(message);
        let s = mod_l::mul(mod_l::reduce(&k.finalize()), mod_l::reduce(&a));
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&identity);
        forged[32..].copy_from_slice(&mod_l::to_bytes(s));

        let signature = ed25519_dalek::Signature::from_bytes(&forged);
        let key = signer.verifying_key();
        assert!(ed25519_dalek::Verifier::verify(&key, message, &signature).is_ok());
        assert!(key.verify_strict(message, &signature).is_err());
        assert_eq!(verify_signature(&public, message, &forged), Err(SignatureError::DoesNotVerify));
    }

    /// The order of the ed25519 group, little-endian, to build a non-reduced `S`.
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    #[test]
    fn verify_strict_turns_away_what_plain_verify_lets_through() {
        // The identity point as a key: with R = identity and S = 0, [S]B = R + [k]A holds
        // for every message, so plain verification accepts a signature nobody made.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&identity);
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        let any_message = b"pay mallory 1000 credits";
        let signature = ed25519_dalek::Signature::from_bytes(&forged);
        assert!(weak.verify_strict(any_message, &signature).is_err());
        assert!(ed25519_dalek::Verifier::verify(&weak, any_message, &signature).is_ok());
        assert_eq!(verify_signature(&identity, any_message, &forged), Err(SignatureError::WeakKey));

        // The same point spelled non-canonically (y = p + 1), and the order-2 point (y = -1).
        let mut p_plus_one = [0xff; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        assert_eq!(
            verify_signature(&p_plus_one, any_message, &forged),
            Err(SignatureError::NonCanonicalKey)
        );
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        assert_eq!(
            verify_signature(&minus_one, any_message, &forged),
            Err(SignatureError::WeakKey)
        );

        // A real signature with S + L in place of S: the same point, a second spelling.
        let signer = key(5);
        let public = signer.verifying_key().to_bytes();
        let mut signature = signer.sign(any_message).to_bytes();
        let mut carry = 0u16;
        for (s, l) in signature[32..].iter_mut().zip(ORDER) {
            let sum = *s as u16 + l as u16 + carry;
            *s = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            verify_signature(&public, any_message, &signature),
            Err(SignatureError::DoesNotVerify)
        );

        // And a key that is no curve point at all (y = 2 has no x).
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert_eq!(verify_signature(&off_curve, any_message, &forged), Err(SignatureError::BadKey));
    }
}
