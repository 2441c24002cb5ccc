//! Mosaic's shared vocabulary: the only crate every other one depends on.
//!
//! It names things (jobs, tasks, content ids, frame specs, render settings,
//! streams and their ladders),
//! says what the HTTP API and the libp2p wire protocol carry, and validates
//! the user-facing parts of that. It never does I/O beyond hashing bytes it
//! is handed: no files, no sockets.

pub mod api;
pub mod cid;
pub mod frames;
pub mod ids;
pub mod ladder;
pub mod receipt;
pub mod settings;
pub mod wire;

pub use cid::ContentId;
pub use frames::{FrameSpec, FrameSpecError};
pub use ids::{BroadcastId, JobId, LeaseId, SegmentId, StreamId, TaskId};
pub use ladder::{Rung, RungSpec};
pub use settings::{ImageFormat, RenderSettings, SettingsError, RENDER_BACKENDS};
