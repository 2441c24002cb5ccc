//! Known-answer tests of `mosaic_proofs::merkle` against the vectors that
//! transparency-dev/merkle (<https://github.com/transparency-dev/merkle>, the Go library behind
//! Trillian and the CT ecosystem) publishes. Its code and data are Copyright Google LLC under
//! the Apache License 2.0; the tables at the end of this file are transcribed from it, each
//! with the file and commit it came from (hex instead of Go's `hd()`/`dh()` or JSON base64,
//! nothing else changed).
//!
//! Their probes feed `[]byte` values of any length (an empty "garbage" proof element, a
//! 9-byte "WrongLeaf"); ours are `[u8; 32]`, so such a value is turned away by
//! `merkle::parse_hash` before verification, and that counts as the rejection they expect.

use mosaic_proofs::merkle::{self, Hash, MerkleError};
use sha2::{Digest, Sha256};

/// One file of testdata/inclusion (fields as in proof/verify_test.go's `inclusionProbe`).
struct InclusionProbe {
    file: &'static str,
    leaf_index: u64,
    tree_size: u64,
    root: &'static str,
    leaf_hash: &'static str,
    proof: &'static [&'static str],
    want_err: bool,
}

/// One file of testdata/consistency (fields as in proof/verify_test.go's `consistencyProbe`).
struct ConsistencyProbe {
    file: &'static str,
    size1: u64,
    size2: u64,
    root1: &'static str,
    root2: &'static str,
    proof: &'static [&'static str],
    want_err: bool,
}

fn hash(hex_digits: &str) -> Hash {
    merkle::parse_hash(hex_digits).unwrap()
}

fn hashes(hex_digits: &[&str]) -> Vec<Hash> {
    hex_digits.iter().map(|h| hash(h)).collect()
}

fn parse_all(hex_digits: &[&str]) -> Result<Vec<Hash>, MerkleError> {
    hex_digits.iter().map(|h| merkle::parse_hash(h)).collect()
}

/// The leaf hashes of testonly's LeafInputs().
fn leaves() -> Vec<Hash> {
    LEAF_INPUTS.iter().map(|input| merkle::leaf_hash(&hex::decode(input).unwrap())).collect()
}

#[test]
fn leaf_and_node_hashes_match_testonly() {
    let leaves = leaves();
    for (level, nodes) in NODE_HASHES.iter().enumerate() {
        for (index, want) in nodes.iter().enumerate() {
            let subtree = &leaves[index << level..(index + 1) << level];
            assert_eq!(hex::encode(merkle::root(subtree)), *want, "level {level} index {index}");
        }
    }
}

#[test]
fn root_of_every_tree_size_matches_testonly() {
    let leaves = leaves();
    for (size, want) in ROOT_HASHES.iter().enumerate() {
        assert_eq!(hex::encode(merkle::root(&leaves[..size])), *want, "tree size {size}");
    }
}

#[test]
fn inclusion_proofs_of_verify_test_are_generated_byte_equal_and_verify() {
    let leaves = leaves();
    let (placeholder, vectors) = INCLUSION_PROOFS.split_first().unwrap();
    assert_eq!(*placeholder, (0, 0, &[][..]));
    assert_eq!(
        merkle::inclusion_proof(&[], 0),
        Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
    );
    for &(leaf, size, proof) in vectors {
        let (index, want) = (leaf - 1, hashes(proof));
        let tree = &leaves[..size as usize];
        assert_eq!(merkle::inclusion_proof(tree, index).unwrap(), want, "leaf {index} of {size}");
        let root = hash(ROOT_HASHES[size as usize]);
        assert_eq!(
            merkle::verify_inclusion(index, size, &leaves[index as usize], &want, &root),
            Ok(())
        );
    }
}

#[test]
fn consistency_proofs_of_verify_test_are_generated_byte_equal_and_verify() {
    let leaves = leaves();
    for &(size1, size2, proof) in &CONSISTENCY_PROOFS {
        let want = hashes(proof);
        let tree = &leaves[..size2 as usize];
        assert_eq!(merkle::consistency_proof(tree, size1).unwrap(), want, "{size1} -> {size2}");
        let (root1, root2) = (hash(ROOT_HASHES[size1 as usize]), hash(ROOT_HASHES[size2 as usize]));
        assert_eq!(merkle::verify_consistency(size1, size2, &root1, &root2, &want), Ok(()));
    }
}

#[test]
fn inclusion_probes_are_accepted_or_rejected_as_verify_test_expects() {
    let leaves = leaves();
    let (mut wrong, mut generated) = (Vec::new(), 0);
    for p in &INCLUSION_PROBES {
        let parsed = (|| {
            let leaf = merkle::parse_hash(p.leaf_hash)?;
            let root = merkle::parse_hash(p.root)?;
            Ok::<_, MerkleError>((leaf, root, parse_all(p.proof)?))
        })();
        let verdict = parsed.clone().and_then(|(leaf, root, proof)| {
            merkle::verify_inclusion(p.leaf_index, p.tree_size, &leaf, &proof, &root)
        });
        if p.want_err != verdict.is_err() {
            wrong.push(format!("{}: want_err {}, got {:?}", p.file, p.want_err, verdict));
        }
        // A happy path over testonly's leaves must also be what we generate.
        if let (false, Ok((leaf, root, proof))) = (p.want_err, parsed) {
            let tree = &leaves[..p.tree_size as usize];
            if leaf == tree[p.leaf_index as usize] && root == merkle::root(tree) {
                assert_eq!(
                    merkle::inclusion_proof(tree, p.leaf_index).unwrap(),
                    proof,
                    "{}",
                    p.file
                );
                generated += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} probes:\n{}",
        wrong.len(),
        INCLUSION_PROBES.len(),
        wrong.join("\n")
    );
    assert_eq!(generated, 5, "happy paths over testonly's leaves");
}

#[test]
fn consistency_probes_are_accepted_or_rejected_as_verify_test_expects() {
    let leaves = leaves();
    let (mut wrong, mut generated, mut stood_in) = (Vec::new(), 0, Vec::new());
    for p in &CONSISTENCY_PROBES {
        // One happy path compares two 12-byte "don't care" roots: its point is only that they
        // are equal, which a 32-byte stand-in (their SHA-256) keeps.
        let mut root = |hex_digits: &str| match merkle::parse_hash(hex_digits) {
            Err(MerkleError::BadHashLength { .. }) if !p.want_err => {
                stood_in.push(p.file);
                Ok(Sha256::digest(hex::decode(hex_digits).unwrap()).into())
            }
            parsed => parsed,
        };
        let parsed = (|| {
            let root1 = root(p.root1)?;
            let root2 = root(p.root2)?;
            Ok::<_, MerkleError>((root1, root2, parse_all(p.proof)?))
        })();
        let verdict = parsed.clone().and_then(|(root1, root2, proof)| {
            merkle::verify_consistency(p.size1, p.size2, &root1, &root2, &proof)
        });
        if p.want_err != verdict.is_err() {
            wrong.push(format!("{}: want_err {}, got {:?}", p.file, p.want_err, verdict));
        }
        if let (false, Ok((root1, root2, proof))) = (p.want_err, parsed) {
            let tree = &leaves[..p.size2 as usize];
            if root1 == merkle::root(&tree[..p.size1 as usize]) && root2 == merkle::root(tree) {
                assert_eq!(merkle::consistency_proof(tree, p.size1).unwrap(), proof, "{}", p.file);
                generated += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} probes:\n{}",
        wrong.len(),
        CONSISTENCY_PROBES.len(),
        wrong.join("\n")
    );
    assert_eq!(generated, 5, "happy paths over testonly's leaves");
    let twice = "additional/sizes-are-equal-one-and-proof-is-empty.json";
    assert_eq!(stood_in, [twice, twice], "roots given a stand-in");
}

// From testonly/constants.go at 417fb0c314750d94e53942e9f92e79b6d35915db: LeafInputs().
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

// From testonly/constants.go at 417fb0c314750d94e53942e9f92e79b6d35915db: NodeHashes(), by level
// (0: the leaves) then index.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

// From testonly/constants.go at 417fb0c314750d94e53942e9f92e79b6d35915db: RootHashes(), indexed by
// tree size from 0 (EmptyRootHash() first).
const ROOT_HASHES: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

// From proof/verify_test.go at 9ca563d3ac2bab915317cf153ed4f952f6e74c07 (the last commit with the
// tables inline, before bcba819 moved its probes to testdata/): inclusionProofs, as (leaf number,
// 1-based; tree size; proof). The first entry, {0, 0, nil}, is their placeholder for "no such
// leaf".
const INCLUSION_PROOFS: [(u64, u64, &[&str]); 6] = [
    (0, 0, &[]),
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

// From proof/verify_test.go at 9ca563d3ac2bab915317cf153ed4f952f6e74c07: consistencyProofs, as
// (size1, size2, proof).
const CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

// From testdata/inclusion/**/*.json at 417fb0c314750d94e53942e9f92e79b6d35915db, which
// proof/verify_test.go (TestVerifyInclusionProbes) verifies: every probe, base64 turned into hex.
const INCLUSION_PROBES: [InclusionProbe; 98] = [
    InclusionProbe {
        file: "0/empty-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/happy-path.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: false,
    },
    InclusionProbe {
        file: "0/leafIdx-XOR-@2.json",
        leaf_index: 2,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/leafIdx-plus-@1.json",
        leaf_index: 1,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/leafIdx-sub-@1.json",
        leaf_index: 18446744073709551615,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/preceding-garbage.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[""],
        want_err: true,
    },
    InclusionProbe {
        file: "0/preceding-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
        want_err: true,
    },
    InclusionProbe {
        file: "0/random-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "abacaba000000000000000000000000000000000000000000060061e00123456",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/trailing-garbage.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[""],
        want_err: true,
    },
    InclusionProbe {
        file: "0/trailing-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
        want_err: true,
    },
    InclusionProbe {
        file: "0/treeSize-div-@2.json",
        leaf_index: 0,
        tree_size: 0,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/treeSize-mul-@2.json",
        leaf_index: 0,
        tree_size: 2,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "0/wrong-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        leaf_hash: "57726f6e674c656166",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "1/empty-root.json",
        leaf_index: 0,
        tree_size: 8,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/happy-path.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: false,
    },
    InclusionProbe {
        file: "1/inserted-component.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "abacaba000000000000000000000000000000000000000000060061e00123456",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/leafIdx-XOR-@2.json",
        leaf_index: 2,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/leafIdx-plus-@1.json",
        leaf_index: 1,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/leafIdx-sub-@1.json",
        leaf_index: 18446744073709551615,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/modified-proof[0]-bit-@3.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "9ea296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/modified-proof[1]-bit-@3.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "57083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/modified-proof[2]-bit-@3.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6347aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/preceding-garbage.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/preceding-root.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/random-root.json",
        leaf_index: 0,
        tree_size: 8,
        root: "abacaba000000000000000000000000000000000000000000060061e00123456",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/removed-component.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/trailing-garbage.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            "",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/trailing-root.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/treeSize-div-@2.json",
        leaf_index: 0,
        tree_size: 4,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/treeSize-mul-@2.json",
        leaf_index: 0,
        tree_size: 16,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "1/wrong-leaf.json",
        leaf_index: 0,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "57726f6e674c656166",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/empty-root.json",
        leaf_index: 5,
        tree_size: 8,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/happy-path.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: false,
    },
    InclusionProbe {
        file: "2/inserted-component.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "abacaba000000000000000000000000000000000000000000060061e00123456",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/leafIdx-XOR-@2.json",
        leaf_index: 7,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/leafIdx-plus-@1.json",
        leaf_index: 6,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/leafIdx-sub-@1.json",
        leaf_index: 4,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/modified-proof[0]-bit-@3.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "b41a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/modified-proof[1]-bit-@3.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "c2854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/modified-proof[2]-bit-@3.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "db7ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/preceding-garbage.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/preceding-root.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/random-root.json",
        leaf_index: 5,
        tree_size: 8,
        root: "abacaba000000000000000000000000000000000000000000060061e00123456",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/removed-component.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/trailing-garbage.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/trailing-root.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/treeSize-div-@2.json",
        leaf_index: 5,
        tree_size: 4,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/treeSize-mul-@2.json",
        leaf_index: 5,
        tree_size: 16,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "2/wrong-leaf.json",
        leaf_index: 5,
        tree_size: 8,
        root: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        leaf_hash: "57726f6e674c656166",
        proof: &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "3/empty-root.json",
        leaf_index: 2,
        tree_size: 3,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/happy-path.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: false,
    },
    InclusionProbe {
        file: "3/leafIdx-XOR-@2.json",
        leaf_index: 0,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/leafIdx-plus-@1.json",
        leaf_index: 3,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/leafIdx-sub-@1.json",
        leaf_index: 1,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/modified-proof[0]-bit-@3.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["f2c54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/preceding-garbage.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/preceding-root.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &[
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "3/random-root.json",
        leaf_index: 2,
        tree_size: 3,
        root: "abacaba000000000000000000000000000000000000000000060061e00123456",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/removed-component.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "3/trailing-garbage.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", ""],
        want_err: true,
    },
    InclusionProbe {
        file: "3/trailing-root.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "3/treeSize-div-@2.json",
        leaf_index: 2,
        tree_size: 1,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/treeSize-mul-@2.json",
        leaf_index: 2,
        tree_size: 6,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "3/wrong-leaf.json",
        leaf_index: 2,
        tree_size: 3,
        root: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        leaf_hash: "57726f6e674c656166",
        proof: &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        want_err: true,
    },
    InclusionProbe {
        file: "4/empty-root.json",
        leaf_index: 1,
        tree_size: 5,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/happy-path.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: false,
    },
    InclusionProbe {
        file: "4/inserted-component.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "abacaba000000000000000000000000000000000000000000060061e00123456",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/leafIdx-XOR-@2.json",
        leaf_index: 3,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/leafIdx-plus-@1.json",
        leaf_index: 2,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/leafIdx-sub-@1.json",
        leaf_index: 0,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/modified-proof[0]-bit-@3.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "66340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/modified-proof[1]-bit-@3.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "57083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/modified-proof[2]-bit-@3.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "b41a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/preceding-garbage.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/preceding-root.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/random-root.json",
        leaf_index: 1,
        tree_size: 5,
        root: "abacaba000000000000000000000000000000000000000000060061e00123456",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/removed-component.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/trailing-garbage.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/trailing-root.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/treeSize-div-@2.json",
        leaf_index: 1,
        tree_size: 2,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/treeSize-mul-@2.json",
        leaf_index: 1,
        tree_size: 10,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "4/wrong-leaf.json",
        leaf_index: 1,
        tree_size: 5,
        root: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        leaf_hash: "57726f6e674c656166",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/0/empty-root-and-random-leaf.json",
        leaf_index: 0,
        tree_size: 0,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/0/empty-root.json",
        leaf_index: 0,
        tree_size: 0,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/0/random-leaf.json",
        leaf_index: 0,
        tree_size: 0,
        root: "",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/1/empty-root-and-random-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/1/empty-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/1/random-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/2/empty-root-and-random-leaf.json",
        leaf_index: 1,
        tree_size: 0,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/2/empty-root.json",
        leaf_index: 1,
        tree_size: 0,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/2/random-leaf.json",
        leaf_index: 1,
        tree_size: 0,
        root: "",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/3/empty-root-and-random-leaf.json",
        leaf_index: 2,
        tree_size: 1,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/3/empty-root.json",
        leaf_index: 2,
        tree_size: 1,
        root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "additional/3/random-leaf.json",
        leaf_index: 2,
        tree_size: 1,
        root: "",
        leaf_hash: "abacaba000000000000000000000000000000000000000000060061e00123456",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "single-entry/empty-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "0d3aed023148ffd2a259fbd0cdc7fb3cf975658760d3775b82af6f90aacc2dfc",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "single-entry/empty-root-and-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "",
        leaf_hash: "",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "single-entry/empty-root.json",
        leaf_index: 0,
        tree_size: 1,
        root: "",
        leaf_hash: "0d3aed023148ffd2a259fbd0cdc7fb3cf975658760d3775b82af6f90aacc2dfc",
        proof: &[],
        want_err: true,
    },
    InclusionProbe {
        file: "single-entry/matching-root-and-leaf.json",
        leaf_index: 0,
        tree_size: 1,
        root: "0d3aed023148ffd2a259fbd0cdc7fb3cf975658760d3775b82af6f90aacc2dfc",
        leaf_hash: "0d3aed023148ffd2a259fbd0cdc7fb3cf975658760d3775b82af6f90aacc2dfc",
        proof: &[],
        want_err: false,
    },
];

// From testdata/consistency/**/*.json at 417fb0c314750d94e53942e9f92e79b6d35915db, which
// proof/verify_test.go (TestVerifyConsistencyProbes) verifies: every probe, base64 turned into hex.
const CONSISTENCY_PROBES: [ConsistencyProbe; 98] = [
    ConsistencyProbe {
        file: "0/happy-path.json",
        size1: 1,
        size2: 1,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[],
        want_err: false,
    },
    ConsistencyProbe {
        file: "1/empty-proof.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/happy-path.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: false,
    },
    ConsistencyProbe {
        file: "1/modified-proof@0-bit-@4.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "86a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/modified-proof@1-bit-@4.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "4f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/modified-proof@2-bit-@4.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "7b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/preceding-garbage.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/preceding-proof-@0.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/preceding-root1.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/preceding-root2.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/size1-XOR-@2.json",
        size1: 3,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/size1-plus-@1.json",
        size1: 2,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/size1-sub-@1.json",
        size1: 0,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/size2-div-@2.json",
        size1: 1,
        size2: 4,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/size2-mul-@2.json",
        size1: 1,
        size2: 16,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/swapped-roots.json",
        size1: 1,
        size2: 8,
        root1: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        root2: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/trailing-garbage.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            "",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/trailing-root1.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/trailing-root2.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/truncated-proof.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/wrong-root1.json",
        size1: 1,
        size2: 8,
        root1: "57726f6e67526f6f74",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "1/wrong-root2.json",
        size1: 1,
        size2: 8,
        root1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        root2: "57726f6e67526f6f74",
        proof: &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/empty-proof.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/happy-path.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: false,
    },
    ConsistencyProbe {
        file: "2/modified-proof@0-bit-@4.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "1ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/modified-proof@1-bit-@4.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "da854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/modified-proof@2-bit-@4.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "c37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/preceding-garbage.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/preceding-proof-@0.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/preceding-root1.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/preceding-root2.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/size1-XOR-@2.json",
        size1: 4,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/size1-plus-@1.json",
        size1: 7,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/size1-sub-@1.json",
        size1: 5,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/size2-div-@2.json",
        size1: 6,
        size2: 4,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/size2-mul-@2.json",
        size1: 6,
        size2: 16,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/swapped-roots.json",
        size1: 6,
        size2: 8,
        root1: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        root2: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/trailing-garbage.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/trailing-root1.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/trailing-root2.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/truncated-proof.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/wrong-root1.json",
        size1: 6,
        size2: 8,
        root1: "57726f6e67526f6f74",
        root2: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "2/wrong-root2.json",
        size1: 6,
        size2: 8,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "57726f6e67526f6f74",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/empty-proof.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/happy-path.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: false,
    },
    ConsistencyProbe {
        file: "3/modified-proof@0-bit-@4.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "4f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/modified-proof@1-bit-@4.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "ac1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/preceding-garbage.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/preceding-proof-@0.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/preceding-root1.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/preceding-root2.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/size1-XOR-@2.json",
        size1: 0,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/size1-plus-@1.json",
        size1: 3,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/size1-sub-@1.json",
        size1: 1,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/size2-div-@2.json",
        size1: 2,
        size2: 2,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/size2-mul-@2.json",
        size1: 2,
        size2: 10,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/swapped-roots.json",
        size1: 2,
        size2: 5,
        root1: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        root2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/trailing-garbage.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/trailing-root1.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/trailing-root2.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/truncated-proof.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/wrong-root1.json",
        size1: 2,
        size2: 5,
        root1: "57726f6e67526f6f74",
        root2: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "3/wrong-root2.json",
        size1: 2,
        size2: 5,
        root1: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        root2: "57726f6e67526f6f74",
        proof: &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/empty-proof.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/happy-path.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: false,
    },
    ConsistencyProbe {
        file: "4/modified-proof@0-bit-@4.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "1ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/modified-proof@1-bit-@4.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "a08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/modified-proof@2-bit-@4.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "c37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/preceding-garbage.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/preceding-proof-@0.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/preceding-root1.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/preceding-root2.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/size1-XOR-@2.json",
        size1: 4,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/size1-plus-@1.json",
        size1: 7,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/size1-sub-@1.json",
        size1: 5,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/size2-div-@2.json",
        size1: 6,
        size2: 3,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/size2-mul-@2.json",
        size1: 6,
        size2: 14,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/swapped-roots.json",
        size1: 6,
        size2: 7,
        root1: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        root2: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/trailing-garbage.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/trailing-root1.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/trailing-root2.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/truncated-proof.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/wrong-root1.json",
        size1: 6,
        size2: 7,
        root1: "57726f6e67526f6f74",
        root2: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "4/wrong-root2.json",
        size1: 6,
        size2: 7,
        root1: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        root2: "57726f6e67526f6f74",
        proof: &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/consistency-check-on-empty-tree-size1-is-zero-is-useless.json",
        size1: 0,
        size2: 1,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        proof: &["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/roots-do-not-match-and-sizes-are-zero.json",
        size1: 0,
        size2: 0,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/roots-do-not-not-match-and-sizes-are-one.json",
        size1: 1,
        size2: 1,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/size1-is-greater-than-size2-again.json",
        size1: 2,
        size2: 1,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/size1-is-greater-than-size2.json",
        size1: 1,
        size2: 0,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/size1-is-zero-and-does-not-equal-size2.json",
        size1: 0,
        size2: 1,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/size1-is-zero-and-size2-is-not-zero.json",
        size1: 0,
        size2: 1,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-are-equal-one-and-proof-is-empty.json",
        size1: 1,
        size2: 1,
        root1: "646f6e277420636172652032",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: false,
    },
    ConsistencyProbe {
        file: "additional/sizes-are-equal-one-but-roots-are-not.json",
        size1: 1,
        size2: 1,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-are-equal-zero-and-proof-is-empty.json",
        size1: 0,
        size2: 0,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652031",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-are-equal-zero-but-roots-are-not.json",
        size1: 0,
        size2: 0,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-do-not-watch-and-proof-is-empty.json",
        size1: 1,
        size2: 2,
        root1: "646f6e277420636172652031",
        root2: "646f6e277420636172652032",
        proof: &[],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one.json",
        size1: 1,
        size2: 1,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        proof: &["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        want_err: true,
    },
    ConsistencyProbe {
        file: "additional/sizes-match-but-proof-is-not-empty-and-sizes-are-zero.json",
        size1: 0,
        size2: 0,
        root1: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        root2: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        proof: &["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        want_err: true,
    },
];
