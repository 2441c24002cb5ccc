//! `mosaic ledger`: every node's stake and earnings; `stake` deposits for a
//! node; `verify` re-checks the whole ledger here, from its rows: every
//! entry's hash and chain link, every signed tree head against the Merkle
//! root of the entries it covers, and (against the head this machine saw
//! last time) a consistency proof that history was only appended to;
//! `prove PEER` checks an inclusion proof for each of a node's rewards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use proofs::ledger::{credits, SignedTreeHead, StoredEntry};
use proofs::merkle;
use protocol::api::{LedgerProof, LedgerSummary, StakeRequest};

use crate::client::Client;
use crate::output::{print_json, short_peer, Align, Table};

/// Entries fetched per request (the orchestrator's page size).
const PAGE: u64 = 10_000;

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Deposit stake for a node (its peer id is logged by mosaic-worker at start).
    Stake {
        peer: String,
        /// Credits, e.g. 100 or 12.5.
        amount: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Recompute the hash chain and the Merkle tree from every entry, check every signed
    /// tree head, and check that history was only appended to since the last verify here.
    /// Exits 1 naming each edited, deleted, reordered or inserted entry.
    Verify {
        /// Where the last verified tree head is remembered
        /// [default: ~/.cache/mosaic/ledger-head-<orchestrator>.json].
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Check, with an inclusion proof from the orchestrator, that each reward of a node is in
    /// the latest signed tree head.
    Prove {
        peer: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    client: &Client,
    url: &str,
    command: Option<&LedgerCommand>,
    json: bool,
) -> Result<ExitCode> {
    match command {
        None => summary(client, json).map(|()| ExitCode::SUCCESS),
        Some(LedgerCommand::Stake { peer, amount, json }) => {
            stake(client, peer, amount, *json).map(|()| ExitCode::SUCCESS)
        }
        Some(LedgerCommand::Verify { state, json }) => {
            let state = state.clone().unwrap_or_else(|| default_state_file(url));
            verify(client, &state, *json)
        }
        Some(LedgerCommand::Prove { peer, json }) => prove(client, peer, *json),
    }
}

/// "12.5" credits -> micro-credits.
pub fn parse_credits(text: &str) -> Result<i64> {
    let value: f64 = text
        .trim()
        .parse()
        .with_context(|| format!("{text:?} is not an amount of credits (like 100 or 12.5)"))?;
    if !value.is_finite() || value <= 0.0 || value > 1e12 {
        bail!("the amount must be above 0 and at most 10^12 credits, not {text}");
    }
    Ok(proofs::ledger::micros(value))
}

fn summary(client: &Client, json: bool) -> Result<()> {
    let summary: LedgerSummary = client.get_json("/ledger")?;
    if json {
        return print_json(&serde_json::to_value(&summary)?);
    }
    print!("{}", summary_table(&summary));
    Ok(())
}

pub fn summary_table(s: &LedgerSummary) -> String {
    let mut table = Table::new(&[
        ("NODE", Align::Left),
        ("STAKED", Align::Right),
        ("EARNED", Align::Right),
        ("PENDING", Align::Right),
        ("SLASHED", Align::Right),
        ("FORFEITED", Align::Right),
        ("STATUS", Align::Left),
    ]);
    for n in &s.nodes {
        let status = match (&n.fraud, n.eligible) {
            (Some(evidence), _) => format!("slashed: {evidence}"),
            (None, true) => "gets work".to_owned(),
            (None, false) => format!("needs {} staked", credits(s.min_stake)),
        };
        table.row(vec![
            short_peer(&n.peer),
            credits(n.staked),
            credits(n.earned),
            credits(n.pending),
            credits(n.slashed),
            credits(n.forfeited),
            status,
        ]);
    }
    let checks: Vec<String> = s.checks.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let checks = if checks.is_empty() { "none yet".to_owned() } else { checks.join(", ") };
    format!(
        "{}{} ledger entries; spot checks: {checks}; minimum stake {} credits\n",
        table.render(),
        s.entries,
        credits(s.min_stake)
    )
}

fn stake(client: &Client, peer: &str, amount: &str, json: bool) -> Result<()> {
    let amount = parse_credits(amount)?;
    let request = StakeRequest { peer: peer.to_owned(), amount };
    let entry: StoredEntry = client.post_json("/api/ledger/stake", &request)?;
    if json {
        return print_json(&serde_json::to_value(&entry)?);
    }
    println!(
        "staked {} credits for {peer} (ledger entry {})",
        credits(entry.entry.amount),
        entry.entry.seq
    );
    Ok(())
}

/// Every entry, in pages.
fn all_entries(client: &Client) -> Result<Vec<StoredEntry>> {
    let mut rows: Vec<StoredEntry> = Vec::new();
    let mut from = 1;
    loop {
        let page: Vec<StoredEntry> =
            client.get_json(&format!("/ledger/entries?from={from}&to={}", from + PAGE - 1))?;
        let done = (page.len() as u64) < PAGE;
        // Continue after the last row received, whatever its seq says: a
        // gap or a reordering must show up in the check, not loop here.
        from += page.len() as u64;
        rows.extend(page);
        if done {
            return Ok(rows);
        }
    }
}

fn default_state_file(url: &str) -> PathBuf {
    let name: String =
        url.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("mosaic").join(format!("ledger-head-{name}.json"))
}

#[derive(serde::Serialize)]
struct VerifyReport {
    intact: bool,
    entries: usize,
    heads: usize,
    root: Option<String>,
    faults: Vec<String>,
}

fn verify(client: &Client, state: &Path, json: bool) -> Result<ExitCode> {
    let rows = all_entries(client)?;
    let heads: Vec<SignedTreeHead> = client.get_json("/ledger/heads")?;
    let mut faults: Vec<String> =
        proofs::ledger::verify_chain(&rows).iter().map(|f| f.to_string()).collect();
    // The key the heads must be signed with: the one seen here before, or
    // else the first head's.
    let seen = read_state(state)?;
    let key = seen.as_ref().or(heads.first()).map(|h| h.public_key.clone());
    if let Some(key) = key {
        match hex::decode(&key).ok().and_then(|k| <[u8; 32]>::try_from(k).ok()) {
            Some(key) => faults.extend(
                proofs::ledger::check_tree_heads(&rows, &heads, &key).iter().map(|f| f.to_string()),
            ),
            None => {
                faults.push(format!("the tree heads' public key {key:?} is not 32 bytes in hex"))
            }
        }
    }
    // History seen here before must be a prefix of history now.
    let latest = heads.last();
    if let (Some(seen), Some(latest)) = (seen, latest) {
        if let Err(fault) = check_consistency(client, &seen, latest) {
            faults.push(fault);
        }
    }
    let intact = faults.is_empty();
    if intact {
        if let Some(latest) = latest {
            write_state(state, latest)?;
        }
    }
    let report = VerifyReport {
        intact,
        entries: rows.len(),
        heads: heads.len(),
        root: latest.map(|h| h.head.root.clone()),
        faults,
    };
    if json {
        print_json(&serde_json::to_value(&report)?)?;
    } else if intact {
        println!(
            "ledger intact: {} entries, {} signed tree heads, every hash, link and root recomputed{}",
            report.entries,
            report.heads,
            report.root.as_deref().map(|r| format!("; root {r}")).unwrap_or_default()
        );
    } else {
        eprintln!("the ledger does NOT verify:");
        for fault in &report.faults {
            eprintln!("  {fault}");
        }
    }
    Ok(if intact { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn read_state(path: &Path) -> Result<Option<SignedTreeHead>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("{} is not a saved tree head: delete it to start afresh", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_state(path: &Path, head: &SignedTreeHead) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(head)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn parse_hash(hex_text: &str) -> Result<merkle::Hash, String> {
    merkle::parse_hash(hex_text).map_err(|e| e.to_string())
}

/// Checks that `latest` extends `seen` with the orchestrator's consistency proof.
fn check_consistency(
    client: &Client,
    seen: &SignedTreeHead,
    latest: &SignedTreeHead,
) -> Result<(), String> {
    if seen.public_key != latest.public_key {
        return Err(format!(
            "the tree heads are now signed by {}, not {} as when last verified",
            latest.public_key, seen.public_key
        ));
    }
    if latest.head.size < seen.head.size {
        return Err(format!(
            "the ledger shrank: {} entries now, {} when last verified",
            latest.head.size, seen.head.size
        ));
    }
    let path = format!("/ledger/proof/consistency?old={}&new={}", seen.head.size, latest.head.size);
    let proof: LedgerProof = client.get_json(&path).map_err(|e| e.to_string())?;
    let proof: Vec<merkle::Hash> =
        proof.proof.iter().map(|h| parse_hash(h)).collect::<Result<_, _>>()?;
    merkle::verify_consistency(
        seen.head.size,
        latest.head.size,
        &parse_hash(&seen.head.root)?,
        &parse_hash(&latest.head.root)?,
        &proof,
    )
    .map_err(|e| {
        format!(
            "history was rewritten: the tree of {} entries seen here before is not a prefix of \
             today's {} entries ({e})",
            seen.head.size, latest.head.size
        )
    })
}

#[derive(serde::Serialize)]
struct ProveReport {
    peer: String,
    tree_size: u64,
    root: String,
    rewards_proven: Vec<u64>,
}

fn prove(client: &Client, peer: &str, json: bool) -> Result<ExitCode> {
    let heads: Vec<SignedTreeHead> = client.get_json("/ledger/heads")?;
    let Some(head) = heads.last() else { bail!("the ledger has no signed tree head yet") };
    head.verify().map_err(|e| anyhow::anyhow!("the latest tree head does not verify: {e}"))?;
    let root = parse_hash(&head.head.root).map_err(anyhow::Error::msg)?;
    let rows: Vec<StoredEntry> = client
        .get_json::<Vec<StoredEntry>>(&format!("/ledger/entries?from=1&to={}", head.head.size))?;
    let mut proven = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.entry.peer == peer && r.entry.kind == proofs::ledger::EntryKind::Reward)
    {
        let seq = row.entry.seq;
        let path = format!("/ledger/proof/inclusion?seq={seq}&size={}", head.head.size);
        let proof: LedgerProof = client.get_json(&path)?;
        let proof: Vec<merkle::Hash> = proof
            .proof
            .iter()
            .map(|h| parse_hash(h))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?;
        merkle::verify_inclusion(seq - 1, head.head.size, &row.entry.leaf_hash(), &proof, &root)
            .map_err(|e| anyhow::anyhow!("reward entry {seq} is not in the signed tree: {e}"))?;
        proven.push(seq);
    }
    if json {
        let report = ProveReport {
            peer: peer.to_owned(),
            tree_size: head.head.size,
            root: head.head.root.clone(),
            rewards_proven: proven,
        };
        print_json(&serde_json::to_value(&report)?)?;
    } else if proven.is_empty() {
        println!(
            "{} has no rewards in the signed tree of {} entries",
            short_peer(peer),
            head.head.size
        );
    } else {
        println!(
            "{} rewards of {} proven included in the signed tree of {} entries (root {})",
            proven.len(),
            short_peer(peer),
            head.head.size,
            head.head.root
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_parse_and_print() {
        assert_eq!(parse_credits("100").unwrap(), 100_000_000);
        assert_eq!(parse_credits("12.5").unwrap(), 12_500_000);
        assert!(parse_credits("-1").is_err());
        assert!(parse_credits("0").is_err());
        assert!(parse_credits("lots").unwrap_err().to_string().contains("not an amount"));
        assert_eq!(credits(12_500_000), "12.5");
        assert_eq!(credits(100_000_000), "100");
        assert_eq!(credits(1), "0.000001");
    }
}
