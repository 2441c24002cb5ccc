//! The ledger's rows: entries appended with their blake3 chain link (the
//! hashing lives in `proofs::ledger`, so `mosaic ledger verify` recomputes
//! it from the same code), and the signed heads of their Merkle tree.

use proofs::ledger::{Entry, EntryKind, Micros, SignedTreeHead, StoredEntry, TreeHead};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{corrupt, StoreError};

const ENTRY_COLUMNS: &str = "seq, at_ms, kind, peer, amount, memo, prev_hash, hash";

fn entry_from_row(r: &Row) -> rusqlite::Result<(StoredEntry, String)> {
    let kind: String = r.get(2)?;
    Ok((
        StoredEntry {
            entry: Entry {
                seq: r.get::<_, i64>(0)? as u64,
                at_ms: r.get(1)?,
                // Parsed below, where a bad value can become a StoreError.
                kind: EntryKind::Deposit,
                peer: r.get(3)?,
                amount: r.get(4)?,
                memo: r.get(5)?,
            },
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        },
        kind,
    ))
}

/// Appends an entry after the last one; returns it as stored.
pub fn append(
    conn: &Connection,
    at_ms: i64,
    kind: EntryKind,
    peer: &str,
    amount: Micros,
    memo: &str,
) -> Result<StoredEntry, StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (seq, prev) = match last {
        None => (1, [0u8; 32]),
        Some((seq, hash)) => {
            let prev: [u8; 32] = hex::decode(&hash)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| corrupt("ledger hash", format!("row {seq}: {hash}")))?;
            (seq as u64 + 1, prev)
        }
    };
    let entry = Entry { seq, at_ms, kind, peer: peer.to_owned(), amount, memo: memo.to_owned() };
    let hash = entry.chain_hash(&prev);
    let stored = StoredEntry { entry, prev_hash: hex::encode(prev), hash: hex::encode(hash) };
    conn.execute(
        "INSERT INTO ledger (seq, at_ms, kind, peer, amount, memo, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq as i64,
            at_ms,
            kind.as_str(),
            peer,
            amount,
            memo,
            stored.prev_hash,
            stored.hash
        ],
    )?;
    Ok(stored)
}

/// Entries with `from <= seq <= to`, in order, as stored.
pub fn entries(conn: &Connection, from: u64, to: u64) -> Result<Vec<StoredEntry>, StoreError> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows =
        stmt.query_map(params![from as i64, to.min(i64::MAX as u64) as i64], entry_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut stored, kind) = row?;
        stored.entry.kind = kind
            .parse()
            .map_err(|_| corrupt("ledger kind", format!("row {}: {kind}", stored.entry.seq)))?;
        out.push(stored);
    }
    Ok(out)
}

pub fn size(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM ledger", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// A node's stake: deposits less slashes.
pub fn staked(conn: &Connection, peer: &str) -> Result<Micros, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(CASE kind WHEN 'deposit' THEN amount WHEN 'slash' THEN -amount
         ELSE 0 END), 0) FROM ledger WHERE peer = ?1",
        params![peer],
        |r| r.get(0),
    )?)
}

/// Sums per (peer, kind).
pub fn totals(conn: &Connection) -> Result<Vec<(String, String, Micros)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT peer, kind, SUM(amount) FROM ledger GROUP BY peer, kind ORDER BY peer",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every entry's Merkle leaf hash, in order: what the tree is built from.
pub fn leaf_hashes(conn: &Connection, size: u64) -> Result<Vec<proofs::merkle::Hash>, StoreError> {
    Ok(entries(conn, 1, size)?.iter().map(|e| e.entry.leaf_hash()).collect())
}

pub fn insert_head(conn: &Connection, sth: &SignedTreeHead) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO tree_heads (size, root, at_ms, public_key, signature) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (size) DO NOTHING",
        params![
            sth.head.size as i64,
            sth.head.root,
            sth.head.at_ms,
            sth.public_key,
            sth.signature
        ],
    )?;
    Ok(())
}

fn head_from_row(r: &Row) -> rusqlite::Result<SignedTreeHead> {
    Ok(SignedTreeHead {
        head: TreeHead { size: r.get::<_, i64>(0)? as u64, root: r.get(1)?, at_ms: r.get(2)? },
        public_key: r.get(3)?,
        signature: r.get(4)?,
    })
}

/// Every signed tree head published, oldest first.
pub fn heads(conn: &Connection) -> Result<Vec<SignedTreeHead>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT size, root, at_ms, public_key, signature FROM tree_heads ORDER BY size",
    )?;
    let rows = stmt.query_map([], head_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn latest_head(conn: &Connection) -> Result<Option<SignedTreeHead>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT size, root, at_ms, public_key, signature FROM tree_heads
             ORDER BY size DESC LIMIT 1",
            [],
            head_from_row,
        )
        .optional()?)
}
