//! `mosaic bench`: our implementations measured side by side, in one run,
//! against what a user would otherwise use. Benchmarks, not tests: they
//! never fail for being slow.

mod render;
mod transcode;

pub use render::{render, BenchRenderArgs};
pub use transcode::{transcode, BenchTranscodeArgs};
