//! The RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256, which the ledger
//! publishes so that anyone can check that an entry is in it (inclusion) and that a later
//! ledger only appended to an earlier one (consistency).
//!
//! Hashing follows RFC 9162 section 2.1.1: a leaf is `SHA-256(0x00 || data)`, an interior node
//! `SHA-256(0x01 || left || right)`, the empty tree `SHA-256("")`, and a tree of `n` leaves
//! splits at the largest power of two smaller than `n`. Proofs are section 2.1.3 (PATH) and
//! 2.1.4 (PROOF); their verification is the algorithm of 2.1.3.2 and 2.1.4.2 verbatim.
//!
//! Every function here takes leaf *hashes*; it never hashes a leaf's data twice and never
//! copies a slice of leaves, so a root or a proof over `n` leaves costs `O(n)` hashes and
//! `O(log n)` memory beyond the proof itself.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node or a root.
pub type Hash = [u8; 32];

/// Why a proof was not produced or did not verify.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum MerkleError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "a consistency proof from the empty tree proves nothing: the old size must be at least 1"
    )]
    EmptyOldTree,
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}")]
    OldSizeTooLarge { old_size: u64, new_size: u64 },
    #[error(
        "the proof has {got} hashes where these tree sizes need {expected}: \
         it was made for another leaf index or tree size"
    )]
    WrongProofLength { got: usize, expected: usize },
    #[error(
        "the proof leads to root {}, not the expected one: \
         the leaf, the proof or the root is wrong",
        hex::encode(.computed)
    )]
    RootMismatch { computed: Hash },
    #[error("the proof does not lead back to the old root: the old root or the proof is wrong")]
    OldRootMismatch,
    #[error(
        "the proof leads to new root {}, not the expected one: the log was not only appended to, \
         or the new root or the proof is wrong",
        hex::encode(.computed)
    )]
    NewRootMismatch { computed: Hash },
    #[error("a hash must be 64 hex digits: {0:?} is not hex")]
    NotHex(String),
    #[error("a SHA-256 hash has 32 bytes, this one has {len}")]
    BadHashLength { len: usize },
}

/// The hash of a leaf's data (RFC 9162 2.1.1: `SHA-256(0x00 || data)`).
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0x00]).chain_update(data).finalize().into()
}

/// The hash of an interior node (RFC 9162 2.1.1: `SHA-256(0x01 || left || right)`).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([0x01]).chain_update(left).chain_update(right).finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Reads a hash written as 64 hex digits (as the ledger stores and serves them).
pub fn parse_hash(hex_digits: &str) -> Result<Hash, MerkleError> {
    let bytes = hex::decode(hex_digits).map_err(|_| MerkleError::NotHex(hex_digits.to_owned()))?;
    Hash::try_from(bytes.as_slice()).map_err(|_| MerkleError::BadHashLength { len: bytes.len() })
}

/// The Merkle Tree Hash (MTH) of a list of leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut range = CompactRange::default();
    for leaf in leaves {
        range.push(*leaf);
    }
    range.root()
}

/// The root of a log that grows a leaf at a time, kept in `O(log n)` memory: the roots of the
/// perfect subtrees that the binary digits of its size cut it into, largest (leftmost) first.
/// The RFC tree of `n` leaves is exactly these subtrees joined right to left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    /// (subtree root, number of leaves under it); sizes strictly decrease along the Vec.
    subtrees: Vec<(Hash, u64)>,
    size: u64,
}

impl CompactRange {
    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (leaf, 1);
        // Like a binary counter's carry: two perfect subtrees of one size merge into one.
        while let Some(&(left, size)) = self.subtrees.last() {
            if size != node.1 {
                break;
            }
            self.subtrees.pop();
            node = (node_hash(&left, &node.0), size * 2);
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    /// The number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(mut hash, _)) = subtrees.next() else { return empty_root() };
        for (left, _) in subtrees {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

/// The largest power of two strictly smaller than `n`, where the RFC splits a tree of `n >= 2`
/// leaves.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The inclusion proof of leaf `index` (RFC 9162 2.1.3.1, `PATH(m, D[n])`): the sibling
/// subtree roots from the leaf up to the root.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, MerkleError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    // Walk down from the root; the RFC lists the siblings bottom-up, hence the reverse.
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            path.push(root(&leaves[mid as usize..hi as usize]));
            hi = mid;
        } else {
            path.push(root(&leaves[lo as usize..mid as usize]));
            lo = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// How many hashes the inclusion proof of leaf `index` in a tree of `size` leaves has
/// (`index < size`); the same walk as [`inclusion_proof`], without hashing.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0u64, size, 0);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            hi = mid;
        } else {
            lo = mid;
        }
        len += 1;
    }
    len
}

/// Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root
/// is `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch { computed: r });
    }
    Ok(())
}

/// The consistency proof between the tree of the first `old_size` leaves and the tree of all
/// of them (RFC 9162 2.1.4.1, `PROOF(m, D[n])`); empty when the sizes are equal.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, MerkleError> {
    let new_size = leaves.len() as u64;
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    if old_size > new_size {
        return Err(MerkleError::OldSizeTooLarge { old_size, new_size });
    }
    // SUBPROOF(m, D[lo:hi], b), walked down from the root and reversed at the end.
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0u64, new_size);
    while old_size != hi {
        let mid = lo + split(hi - lo);
        if old_size <= mid {
            proof.push(root(&leaves[mid as usize..hi as usize]));
            hi = mid;
        } else {
            proof.push(root(&leaves[lo as usize..mid as usize]));
            lo = mid;
        }
    }
    // The subtree the old tree ends with (the RFC's `b == false`): the verifier already holds
    // it only when it is the whole old tree, that is when the walk never went right.
    if lo != 0 {
        proof.push(root(&leaves[lo as usize..hi as usize]));
    }
    proof.reverse();
    Ok(proof)
}

/// How many hashes the consistency proof from `old_size` to `new_size` has
/// (`0 < old_size <= new_size`); the same walk as [`consistency_proof`], without hashing.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0u64, new_size, 0);
    while old_size != hi {
        let mid = lo + split(hi - lo);
        if old_size <= mid {
            hi = mid;
        } else {
            lo = mid;
        }
        len += 1;
    }
    len + usize::from(lo != 0)
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    if old_size > new_size {
        return Err(MerkleError::OldSizeTooLarge { old_size, new_size });
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
    }
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::NewRootMismatch { computed: *old_root })
        };
    }
    // Step 2: when the old tree is a perfect subtree, its root starts the path.
    let path: Vec<&Hash> = if old_size.is_power_of_two() {
        std::iter::once(old_root).chain(proof).collect()
    } else {
        proof.iter().collect()
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*path[0], *path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongProofLength { got: proof.len(), expected });
    }
    if fr != *old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(MerkleError::NewRootMismatch { computed: sr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 9162 2.1.1 written as the recursion it is, to check the iterative code against.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn flip_bit(proof: &[Hash], i: usize) -> Vec<Hash> {
        let mut proof = proof.to_vec();
        proof[i][i % 32] ^= 1 << (i % 8);
        proof
    }

    #[test]
    fn split_is_largest_power_of_two_below() {
        let cases = [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39)];
        for (n, k) in cases {
            assert_eq!(split(n), k, "n = {n}");
        }
    }

    #[test]
    fn root_matches_the_recursive_definition() {
        for n in 0..=130 {
            let leaves = leaves(n);
            assert_eq!(root(&leaves), reference_root(&leaves), "n = {n}");
        }
    }

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_hash_names_what_is_wrong() {
        assert_eq!(parse_hash(&"ab".repeat(32)), Ok([0xab; 32]));
        assert_eq!(parse_hash("abcd"), Err(MerkleError::BadHashLength { len: 2 }));
        assert!(matches!(parse_hash("xyz"), Err(MerkleError::NotHex(_))));
    }

    /// The leaves of a log of 131 entries and the root of its every prefix, so that a proof
    /// checked against a wrong size meets that size's real root (a proof for 3 leaves fits
    /// the shape of one for 4; only the root tells them apart).
    fn log() -> (Vec<Hash>, Vec<Hash>) {
        let all = leaves(64 * 2 + 3);
        let mut range = CompactRange::default();
        let mut roots = vec![range.root()];
        for leaf in &all {
            range.push(*leaf);
            roots.push(range.root());
        }
        (all, roots)
    }

    #[test]
    fn every_inclusion_proof_up_to_64_leaves_verifies_and_tampering_fails() {
        let (all, roots) = log();
        for size in 1..=64u64 {
            let (leaves, root) = (&all[..size as usize], &roots[size as usize]);
            for index in 0..size {
                let leaf = &leaves[index as usize];
                let proof = inclusion_proof(leaves, index).unwrap();
                assert_eq!(proof.len(), inclusion_proof_len(index, size));
                assert_eq!(verify_inclusion(index, size, leaf, &proof, root), Ok(()));

                let rejects = |index: u64, size: u64, leaf: &Hash, proof: &[Hash]| {
                    verify_inclusion(index, size, leaf, proof, root).is_err()
                };
                for i in 0..proof.len() {
                    assert!(rejects(index, size, leaf, &flip_bit(&proof, i)), "{size}/{index}");
                }
                for other in 0..size + 2 {
                    if other != index {
                        assert!(rejects(other, size, leaf, &proof), "index {other} of {size}");
                    }
                }
                for other in 0..size * 2 + 2 {
                    let other_root = &roots[other as usize];
                    if other != size {
                        let verdict = verify_inclusion(index, other, leaf, &proof, other_root);
                        assert!(verdict.is_err(), "size {other} for {size}");
                    }
                }
                // Go's corruptions of the size keep the root: a size twice or half as big.
                assert!(rejects(index, size * 2, leaf, &proof));
                assert!(rejects(index, size / 2, leaf, &proof));
                assert!(rejects(index, size, &leaf_hash(b"forged"), &proof));
                if !proof.is_empty() {
                    assert!(rejects(index, size, leaf, &proof[..proof.len() - 1]));
                    assert!(rejects(index, size, leaf, &proof[1..]));
                }
                let mut longer = proof.clone();
                longer.push(*root);
                assert!(rejects(index, size, leaf, &longer));
                let mut longer = vec![*leaf];
                longer.extend_from_slice(&proof);
                assert!(rejects(index, size, leaf, &longer));
                assert!(verify_inclusion(index, size, leaf, &proof, &roots[0]).is_err());
            }
            assert_eq!(
                inclusion_proof(leaves, size),
                Err(MerkleError::IndexOutOfRange { index: size, size })
            );
        }
    }

    #[test]
    fn every_consistency_proof_up_to_64_leaves_verifies_and_tampering_fails() {
        let (all, roots) = log();
        for new_size in 1..=64u64 {
            let (leaves, new_root) = (&all[..new_size as usize], &roots[new_size as usize]);
            for old_size in 1..=new_size {
                let old_root = &roots[old_size as usize];
                let proof = consistency_proof(leaves, old_size).unwrap();
                assert_eq!(proof.len(), consistency_proof_len(old_size, new_size));
                let verify = |old: u64, new: u64, old_root: &Hash, new_root: &Hash, p: &[Hash]| {
                    verify_consistency(old, new, old_root, new_root, p)
                };
                assert_eq!(verify(old_size, new_size, old_root, new_root, &proof), Ok(()));

                let rejects = |old: u64, new: u64, p: &[Hash]| {
                    verify(old, new, old_root, new_root, p).is_err()
                };
                for i in 0..proof.len() {
                    assert!(rejects(old_size, new_size, &flip_bit(&proof, i)));
                }
                for other in 0..=new_size + 2 {
                    let other_root = &roots[other as usize];
                    if other != old_size {
                        let verdict = verify(other, new_size, other_root, new_root, &proof);
                        assert!(verdict.is_err(), "{other} -> {new_size}");
                    }
                }
                for other in 0..=new_size * 2 + 2 {
                    let other_root = &roots[other as usize];
                    if other != new_size {
                        let verdict = verify(old_size, other, old_root, other_root, &proof);
                        assert!(verdict.is_err(), "{old_size} -> {other}");
                    }
                }
                if old_size != new_size {
                    // Go's corruptions of the sizes keep the roots.
                    assert!(rejects(old_size - 1, new_size, &proof));
                    assert!(rejects(old_size + 1, new_size, &proof));
                    assert!(rejects(old_size, new_size * 2, &proof));
                    assert!(rejects(old_size, new_size / 2, &proof));
                    assert!(rejects(old_size, new_size, &proof[..proof.len() - 1]));
                    assert!(rejects(old_size, new_size, &proof[1..]));
                    assert!(rejects(old_size, new_size, &[]));
                    assert!(verify(old_size, new_size, new_root, old_root, &proof).is_err());
                    assert!(verify(old_size, new_size, &roots[0], new_root, &proof).is_err());
                    assert!(verify(old_size, new_size, old_root, &roots[0], &proof).is_err());
                }
                let mut longer = proof.clone();
                longer.push(*new_root);
                assert!(rejects(old_size, new_size, &longer));
                let mut longer = vec![*old_root];
                longer.extend_from_slice(&proof);
                assert!(rejects(old_size, new_size, &longer));
            }
            assert_eq!(consistency_proof(leaves, 0), Err(MerkleError::EmptyOldTree));
            assert_eq!(
                consistency_proof(leaves, new_size + 1),
                Err(MerkleError::OldSizeTooLarge { old_size: new_size + 1, new_size })
            );
        }
    }

    #[test]
    fn compact_range_root_tracks_every_prefix() {
        let leaves = leaves(100);
        let mut range = CompactRange::default();
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(range.root(), root(&leaves[..i]));
            range.push(*leaf);
        }
        assert_eq!(range.size(), 100);
        assert_eq!(range.root(), root(&leaves));
    }

    /// Prints how long a root and proofs take over 100k leaves; the budget is 100 ms each.
    #[test]
    fn root_and_proofs_of_100k_leaves_are_fast() {
        use std::time::Instant;
        let leaves = leaves(100_000);
        let started = Instant::now();
        let tree_root = root(&leaves);
        let root_time = started.elapsed();

        let started = Instant::now();
        let inclusion = inclusion_proof(&leaves, 61_803).unwrap();
        let inclusion_time = started.elapsed();

        let started = Instant::now();
        let consistency = consistency_proof(&leaves, 77_777).unwrap();
        let consistency_time = started.elapsed();

        let started = Instant::now();
        verify_inclusion(61_803, 100_000, &leaves[61_803], &inclusion, &tree_root).unwrap();
        let old_root = root(&leaves[..77_777]);
        verify_consistency(77_777, 100_000, &old_root, &tree_root, &consistency).unwrap();
        let verify_time = started.elapsed();

        println!(
            "100k leaves: root {root_time:?}, inclusion proof {inclusion_time:?}, \
             consistency proof {consistency_time:?}, both verifications + old root {verify_time:?}"
        );
        // Generous against a loaded CI machine; the point is O(n), not O(n log n) copies.
        assert!(root_time.as_millis() < 1000 && inclusion_time.as_millis() < 1000);
        assert!(consistency_time.as_millis() < 1000);
    }
}
