//! `mosaic bench`: our implementations measured side by side, in one run,
//! against what a user would otherwise use. Benchmarks, not tests: they
//! never fail for being slow.

mod economics;
mod render;
mod transcode;
mod verify;

pub use render::{render, BenchRenderArgs};
pub use transcode::{transcode, BenchTranscodeArgs};
pub use verify::{verify, BenchVerifyArgs};
