//! Video with FFmpeg's libraries (ffmpeg-next over the system's libav*):
//! - [`ladder`]: one live segment in, an ABR ladder of renditions out;
//! - [`encoders`]: the H.264 encoders behind one trait (libx264, NVENC);
//! - [`probe`]: what a segment holds, read without decoding;
//! - [`fingerprint`]: a rendition's perceptual fingerprint, for spot checks;
//! - [`mp4`]: a render job's PNG frames into an H.264 MP4.
//!
//! This crate never touches the network; it reads and writes the files it
//! is given.

pub mod encoders;
pub mod fingerprint;
pub mod ladder;
pub mod mp4;
pub mod probe;

use std::sync::Once;

use ffmpeg_next as ffmpeg;

pub use encoders::H264Encoder;
pub use ladder::{transcode_segment, RenditionStats};
pub use mp4::{encode_mp4_from_pngs, Mp4Info, TranscodeError};
pub use probe::{first_picture_spread, probe_segment, SegmentProbe};

/// Why a segment could not be transcoded or probed.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("the segment has no video stream")]
    NoVideo,
    #[error("the segment has no video frames")]
    NoFrames,
    #[error("this FFmpeg has no {0} encoder")]
    NoEncoder(&'static str),
    #[error("cannot open {name}: {source}")]
    OpenEncoder {
        name: &'static str,
        #[source]
        source: ffmpeg::Error,
    },
    #[error("{step} failed: {source}")]
    Ffmpeg {
        step: &'static str,
        #[source]
        source: ffmpeg::Error,
    },
    #[error("transcoding stopped: {0}")]
    Thread(String),
}

impl SegmentError {
    /// Labels an FFmpeg error with the step that failed.
    pub(crate) fn at(step: &'static str) -> impl FnOnce(ffmpeg::Error) -> SegmentError {
        move |source| SegmentError::Ffmpeg { step, source }
    }
}

impl From<TranscodeError> for SegmentError {
    fn from(e: TranscodeError) -> Self {
        match e {
            TranscodeError::Ffmpeg { step, source } => SegmentError::Ffmpeg { step, source },
            other => SegmentError::Thread(other.to_string()),
        }
    }
}

/// Initialises FFmpeg once per process and quietens its per-encode log
/// chatter (x264's statistics) to warnings and errors.
pub(crate) fn init_ffmpeg() -> Result<(), TranscodeError> {
    static INIT: Once = Once::new();
    let mut result = Ok(());
    INIT.call_once(|| {
        result = ffmpeg::init()
            .map_err(|source| TranscodeError::Ffmpeg { step: "initialising FFmpeg", source });
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Warning);
    });
    result
}
