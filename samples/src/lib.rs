//! Sample scenes generated in code, for the demo, tests and benchmarks.
//!
//! Generated rather than shipped so they need no licence and no large files in the repository,
//! and so tests can rely on exactly what is in them. Every scene is a self-contained GLB.

mod cornell;
mod geometry;
mod glb;
mod texture;

pub use cornell::{cornell_box_animated, cornell_box_still, DURATION as CORNELL_DURATION};
