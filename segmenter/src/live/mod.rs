//! Live RTMP media (FLV tag bodies) into MPEG-TS segments, remuxed and
//! never re-encoded: each segment starts at a keyframe, and a segment is
//! cut at the first keyframe at least the target duration after its start.
//!
//! Timestamps are the publisher's, in milliseconds from its first tag,
//! written as 90 kHz PTS/DTS with a fixed 1.4 s offset (what ffmpeg's
//! MPEG-TS muxer uses) so B-frame DTS and audio that leads video by a few
//! milliseconds never go negative. A jump in the publisher's clock (an
//! encoder restart) is smoothed into a continuous timeline, and the next
//! segment is flagged as a discontinuity.
//!
//! Memory is bounded by the segment being built: a segment past
//! `max_segment_bytes`, or a stream without a keyframe for
//! `max_keyframe_interval`, is an error that names the fix.

pub mod aac;
mod bits;
pub mod flv;
pub mod h264;
pub mod ts;

use std::time::Duration;

use aac::{AacConfig, AacError};
use flv::{AudioPacket, FlvError, VideoPacket};
use h264::{AvcConfig, H264Error};
use ts::{Pes, TsWriter, AUDIO_PID, VIDEO_PID};

/// Added to every timestamp: 1.4 s at 90 kHz.
pub const TIMESTAMP_OFFSET: u64 = 126_000;
/// A backward step or a forward leap of the publisher's clock this large
/// is a restart, not jitter.
const JUMP_BACK_MS: i64 = 500;
const JUMP_FORWARD_MS: i64 = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub struct LiveSettings {
    pub target_duration: Duration,
    pub max_keyframe_interval: Duration,
    pub max_segment_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            target_duration: Duration::from_secs(2),
            max_keyframe_interval: Duration::from_secs(30),
            max_segment_bytes: 64 << 20,
        }
    }
}

/// One MPEG-TS segment of the source, as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// From 0 for each broadcast.
    pub sequence: u64,
    pub data: Vec<u8>,
    /// The first frame's PTS as written (90 kHz, with the offset).
    pub start_pts: u64,
    pub duration_ms: u64,
    pub video_frames: u32,
    pub has_audio: bool,
    /// The publisher's clock jumped before this segment.
    pub discontinuity: bool,
}

/// What the sequence headers say about the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
    /// e.g. `avc1.64001f`
    pub video_codec: String,
    /// e.g. `mp4a.40.2`; `None` until (unless) an AAC config arrives.
    pub audio_codec: Option<String>,
    pub audio_sample_rate: Option<u32>,
    pub audio_channels: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmenterError {
    #[error(transparent)]
    Flv(#[from] FlvError),
    #[error(transparent)]
    H264(#[from] H264Error),
    #[error(transparent)]
    Aac(#[from] AacError),
    #[error("video frames arrived before the H.264 sequence header")]
    NoVideoConfig,
    #[error(
        "no keyframe for {seconds} s: set the encoder's keyframe interval to 2 s \
         (OBS: Output > Keyframe Interval 2; ffmpeg: -g 60 at 30 fps)"
    )]
    NoKeyframe { seconds: u64 },
    #[error(
        "a segment grew past {limit} bytes before the next keyframe: lower the bitrate \
         or the keyframe interval"
    )]
    SegmentTooLarge { limit: usize },
    #[error("the picture size changed from {from} to {to} mid-broadcast: stop and start the stream again")]
    SizeChanged { from: String, to: String },
}

/// Extends a wrapping 32-bit millisecond clock to 64 bits.
#[derive(Default)]
struct Unwrapper {
    last: Option<(u32, i64)>,
}

impl Unwrapper {
    fn extend(&mut self, ts: u32) -> i64 {
        let value = match self.last {
            None => i64::from(ts),
            Some((raw, ext)) => ext + i64::from(ts.wrapping_sub(raw) as i32),
        };
        self.last = Some((ts, value));
        value
    }
}

struct OpenSegment {
    data: Vec<u8>,
    start_pts_ms: i64,
    start_dts_ms: i64,
    last_pts_ms: i64,
    last_dts_ms: i64,
    frames: u32,
    has_audio: bool,
    discontinuity: bool,
}

/// A frame's length when a segment has too few frames to tell (30 fps).
const DEFAULT_FRAME_MS: i64 = 33;

impl OpenSegment {
    /// The milliseconds a frame lasts, averaged over the segment so far.
    fn frame_interval_ms(&self) -> i64 {
        if self.frames > 1 {
            ((self.last_dts_ms - self.start_dts_ms) / i64::from(self.frames - 1)).max(1)
        } else {
            DEFAULT_FRAME_MS
        }
    }
}

/// The segmenter of one broadcast.
pub struct LiveSegmenter {
    settings: LiveSettings,
    avc: Option<AvcConfig>,
    aac: Option<AacConfig>,
    ts: TsWriter,
    open: Option<OpenSegment>,
    next_sequence: u64,
    video_clock: Unwrapper,
    audio_clock: Unwrapper,
    /// Subtracted from the publisher's milliseconds.
    base_ms: Option<i64>,
    last_video_dts_ms: Option<i64>,
    /// The first frame dropped while waiting for a keyframe.
    waiting_since_ms: Option<i64>,
    discontinuity_pending: bool,
    scratch: Vec<u8>,
}

impl LiveSegmenter {
    pub fn new(settings: LiveSettings) -> Self {
        Self {
            settings,
            avc: None,
            aac: None,
            ts: TsWriter::default(),
            open: None,
            next_sequence: 0,
            video_clock: Unwrapper::default(),
            audio_clock: Unwrapper::default(),
            base_ms: None,
            last_video_dts_ms: None,
            waiting_since_ms: None,
            discontinuity_pending: false,
            scratch: Vec::new(),
        }
    }

    /// The source as its sequence headers describe it, once the video one
    /// has arrived.
    pub fn source(&self) -> Option<SourceInfo> {
        let avc = self.avc.as_ref()?;
        Some(SourceInfo {
            width: avc.info.width,
            height: avc.info.height,
            video_codec: avc.info.codec(),
            audio_codec: self.aac.map(|a| a.codec()),
            audio_sample_rate: self.aac.map(|a| a.sample_rate()),
            audio_channels: self.aac.map(|a| a.channels),
        })
    }

    /// Whether a segment is being built (the first keyframe has arrived).
    pub fn has_open_segment(&self) -> bool {
        self.open.is_some()
    }

    fn relative(&mut self, ms: i64) -> i64 {
        ms - *self.base_ms.get_or_insert(ms)
    }

    fn to_90k(ms: i64) -> u64 {
        (ms.max(0) as u64) * 90 + TIMESTAMP_OFFSET
    }

    /// Takes a video tag body; returns the segment it completed, if any.
    pub fn push_video(
        &mut self,
        timestamp: u32,
        tag: &[u8],
    ) -> Result<Option<Segment>, SegmenterError> {
        let (keyframe, cts, data) = match flv::video(tag)? {
            VideoPacket::Nothing => return Ok(None),
            VideoPacket::Config(record) => {
                let config = AvcConfig::parse(record)?;
                if let Some(old) = &self.avc {
                    let (a, b) = (old.info, config.info);
                    if (a.width, a.height) != (b.width, b.height) {
                        return Err(SegmenterError::SizeChanged {
                            from: format!("{}x{}", a.width, a.height),
                            to: format!("{}x{}", b.width, b.height),
                        });
                    }
                }
                self.avc = Some(config);
                return Ok(None);
            }
            VideoPacket::Frame { keyframe, composition_ms, data } => {
                (keyframe, composition_ms, data)
            }
        };
        if self.avc.is_none() {
            return Err(SegmenterError::NoVideoConfig);
        }
        let raw = self.video_clock.extend(timestamp);
        let mut dts = self.relative(raw);
        if let Some(last) = self.last_video_dts_ms {
            let step = dts - last;
            if !(-JUMP_BACK_MS..=JUMP_FORWARD_MS).contains(&step) {
                // Rebase so the new clock continues one frame after the old.
                let shift = dts - (last + self.frame_interval_ms());
                *self.base_ms.as_mut().expect("set by relative()") += shift;
                dts -= shift;
                self.discontinuity_pending = true;
                if let Some(open) = self.open.take() {
                    let done = self.close(open, None);
                    self.waiting_since_ms = Some(dts);
                    if keyframe {
                        self.open_segment(dts, dts + i64::from(cts));
                        self.write_video(dts, i64::from(cts), true, data)?;
                    }
                    self.last_video_dts_ms = Some(dts);
                    return Ok(Some(done));
                }
            }
        }
        // Some publishers stamp two frames with the same millisecond (or
        // step back by one): decode order must strictly advance, and a
        // picture is never shown before it is decoded.
        let pts = dts + i64::from(cts);
        if let Some(last) = self.last_video_dts_ms {
            dts = dts.max(last + 1);
        }
        let pts = pts.max(dts);
        let cts = pts - dts;
        self.last_video_dts_ms = Some(dts);
        let max_gap = self.settings.max_keyframe_interval.as_millis() as i64;

        let mut finished = None;
        match &self.open {
            None if !keyframe => {
                let since = *self.waiting_since_ms.get_or_insert(dts);
                if dts - since > max_gap {
                    return Err(SegmenterError::NoKeyframe {
                        seconds: ((dts - since) / 1000) as u64,
                    });
                }
                return Ok(None);
            }
            None => self.open_segment(dts, pts),
            Some(open) => {
                let target = self.settings.target_duration.as_millis() as i64;
                if keyframe && pts - open.start_pts_ms >= target {
                    let open = self.open.take().expect("matched Some");
                    finished = Some(self.close(open, Some(pts)));
                    self.open_segment(dts, pts);
                } else if dts - open.start_dts_ms > max_gap {
                    return Err(SegmenterError::NoKeyframe {
                        seconds: ((dts - open.start_dts_ms) / 1000) as u64,
                    });
                }
            }
        }
        self.write_video(dts, cts, keyframe, data)?;
        Ok(finished)
    }

    fn write_video(
        &mut self,
        dts: i64,
        cts: i64,
        keyframe: bool,
        avcc: &[u8],
    ) -> Result<(), SegmenterError> {
        let avc = self.avc.as_ref().ok_or(SegmenterError::NoVideoConfig)?;
        self.scratch.clear();
        avc.to_annex_b(avcc, &mut self.scratch)?;
        let open = self.open.as_mut().expect("a segment is open");
        let pts = dts + cts;
        let pes = Pes {
            pid: VIDEO_PID,
            pts: Self::to_90k(pts),
            dts: Self::to_90k(dts),
            random_access: keyframe,
            pcr: Some(Self::to_90k(dts) - TIMESTAMP_OFFSET),
            payload: &self.scratch,
        };
        self.ts.write_pes(&pes, &mut open.data);
        open.frames += 1;
        open.last_pts_ms = open.last_pts_ms.max(pts);
        open.last_dts_ms = dts;
        if open.data.len() > self.settings.max_segment_bytes {
            return Err(SegmenterError::SegmentTooLarge { limit: self.settings.max_segment_bytes });
        }
        Ok(())
    }

    /// Takes an audio tag body. Audio before the first keyframe, or before
    /// a segment that declared an audio stream, is dropped.
    pub fn push_audio(&mut self, timestamp: u32, tag: &[u8]) -> Result<(), SegmenterError> {
        match flv::audio(tag)? {
            AudioPacket::Config(asc) => {
                self.aac = Some(AacConfig::parse(asc)?);
                Ok(())
            }
            AudioPacket::Frame(frame) => {
                let raw = self.audio_clock.extend(timestamp);
                let ms = self.relative(raw);
                let (Some(aac), Some(open)) = (self.aac, self.open.as_mut()) else {
                    return Ok(());
                };
                if !open.has_audio {
                    return Ok(());
                }
                self.scratch.clear();
                aac.to_adts(frame, &mut self.scratch)?;
                let ts = Self::to_90k(ms);
                let pes = Pes {
                    pid: AUDIO_PID,
                    pts: ts,
                    dts: ts,
                    random_access: false,
                    pcr: None,
                    payload: &self.scratch,
                };
                self.ts.write_pes(&pes, &mut open.data);
                if open.data.len() > self.settings.max_segment_bytes {
                    return Err(SegmenterError::SegmentTooLarge {
                        limit: self.settings.max_segment_bytes,
                    });
                }
                Ok(())
            }
        }
    }

    /// Ends the broadcast: the segment under way, if it has any frames.
    pub fn finish(&mut self) -> Option<Segment> {
        let open = self.open.take()?;
        Some(self.close(open, None))
    }

    /// The milliseconds a frame lasts, from the segment under way (or 30 fps).
    fn frame_interval_ms(&self) -> i64 {
        self.open.as_ref().map_or(DEFAULT_FRAME_MS, OpenSegment::frame_interval_ms)
    }

    fn open_segment(&mut self, dts: i64, pts: i64) {
        let mut data = Vec::with_capacity(1 << 20);
        let has_audio = self.aac.is_some();
        self.ts.write_tables(has_audio, &mut data);
        self.waiting_since_ms = None;
        self.open = Some(OpenSegment {
            data,
            start_pts_ms: pts,
            start_dts_ms: dts,
            last_pts_ms: pts,
            last_dts_ms: dts,
            frames: 0,
            has_audio,
            discontinuity: std::mem::take(&mut self.discontinuity_pending),
        });
    }

    /// Closes `open`, ending at `next_pts` (the next segment's start) or,
    /// at the end, one frame after its last picture.
    fn close(&mut self, open: OpenSegment, next_pts: Option<i64>) -> Segment {
        let end = next_pts.unwrap_or(open.last_pts_ms + open.frame_interval_ms());
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        Segment {
            sequence,
            data: open.data,
            start_pts: Self::to_90k(open.start_pts_ms),
            duration_ms: (end - open.start_pts_ms).max(1) as u64,
            video_frames: open.frames,
            has_audio: open.has_audio,
            discontinuity: open.discontinuity,
        }
    }
}

#[cfg(test)]
mod tests;
