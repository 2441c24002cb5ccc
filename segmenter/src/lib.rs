//! Cutting work into tasks. For render jobs: a frame spec into chunks of
//! consecutive-in-the-spec frames, one task each. For live streams: the
//! media of an RTMP publish into keyframe-aligned MPEG-TS segments, one
//! transcode task each. It decides nothing about who does the work, and
//! touches no sockets or files.

pub mod live;
pub mod scene;
