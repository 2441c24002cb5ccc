//! Video out of frames with FFmpeg's libraries (ffmpeg-next over the system's libav*).
//!
//! Now: [`encode_mp4_from_pngs`], which assembles a render job's PNG frames into an H.264 MP4.
//! Later (see DESIGN.md, "Live path"): one live segment in, an ABR ladder out, with NVENC where
//! the node has it and libx264 otherwise. This crate never touches the network.

pub mod mp4;

pub use mp4::{encode_mp4_from_pngs, Mp4Info, TranscodeError};
