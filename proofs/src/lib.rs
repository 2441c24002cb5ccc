//! Checks of results a worker hands back, which the orchestrator never takes on trust.
//!
//! Now: cheap checks of a rendered frame ([`check_frame`]): it decodes, it has the size the task
//! asked for, it is not blank (all black or all one colour) and holds no NaN or infinite pixel.
//! They run on every result before it is accepted, and must stay cheap and bounded in memory
//! whatever bytes arrive.
//!
//! Later (see DESIGN.md, "Verification and stake"): perceptual fingerprints of frames and
//! segments and their comparison, the spot-check policy that duplicates a share of tasks on
//! another operator's node, and the hash-chained stake ledger (rewards and slashing).
//!
//! This crate never touches the network or the file system: bytes in, a verdict out.

pub mod frame_check;

pub use frame_check::{check_frame, FrameDefect};
