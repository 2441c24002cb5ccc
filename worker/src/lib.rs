//! The Mosaic worker: the node operator's side of the farm.
//!
//! - [`identity`]: the ed25519 key that names this worker, kept across restarts.
//! - [`network`]: the libp2p connection to the orchestrator and a [`network::Client`]
//!   to send it requests.
//! - [`scene_cache`]: scenes fetched once by content id, verified, kept on disk.
//! - [`backends`]: the render backends in use, and which still work.
//! - [`runner`]: the task loops: hello, then per lane next task, work, upload, report.
//! - [`transcode`]: live work: a segment into its ladder's renditions.
//!
//! The binary (`main.rs`) only parses arguments and wires these together.

pub mod backends;
pub mod identity;
pub mod network;
pub mod runner;
pub mod scene_cache;
pub mod transcode;
