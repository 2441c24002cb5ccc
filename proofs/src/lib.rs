//! Checks of results a worker hands back, which the orchestrator never takes on trust, and the
//! ledger that pays for them.
//!
//! - [`frame_check`]: cheap checks of a rendered frame, run on every result: it decodes, it has
//!   the size the task asked for, it is not blank and holds no NaN or infinite pixel.
//! - [`pdq`]: the PDQ perceptual hash of an image (256 bits and a quality score).
//! - [`fingerprint`]: fingerprints of frames and segments and their comparison (match,
//!   mismatch, inconclusive), with thresholds calibrated on a generated corpus.
//! - [`spot_check`]: which results are duplicated on another node.
//! - [`economics`]: what cheating earns against what it risks, simulated.
//! - [`merkle`]: the RFC 9162 Merkle tree over ledger entries (inclusion and consistency proofs).
//! - [`ledger`]: ledger entries, their blake3 hash chain, signed tree heads and receipts.
//!
//! This crate never touches the network or the file system: bytes in, a verdict out.

pub mod economics;
pub mod fingerprint;
pub mod frame_check;
pub mod ledger;
pub mod merkle;
pub mod pdq;
pub mod spot_check;

pub use frame_check::{check_frame, FrameDefect};
