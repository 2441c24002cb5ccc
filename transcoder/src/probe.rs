//! What a rendition segment holds, read by demuxing only (no decoding): its
//! streams, picture size, frame count, whether it starts with a keyframe,
//! its duration, and the RFC 6381 codec strings a master playlist needs.
//! The orchestrator runs this on every rendition a worker uploads.

use std::path::Path;

use ffmpeg::{codec, format, media};
use ffmpeg_next as ffmpeg;

use crate::{init_ffmpeg, SegmentError};

#[derive(Clone, Debug, PartialEq)]
pub struct SegmentProbe {
    pub video: Option<VideoProbe>,
    pub audio: Option<AudioProbe>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VideoProbe {
    /// `avc1.PPCCLL` for H.264, else FFmpeg's codec name.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub starts_with_keyframe: bool,
    /// The first picture's presentation time, in seconds.
    pub start: f64,
    /// From the first picture to the end of the last, in seconds.
    pub duration: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AudioProbe {
    /// `mp4a.40.N` for AAC, else FFmpeg's codec name.
    pub codec: String,
    pub packets: u32,
}

pub fn probe_segment(path: &Path) -> Result<SegmentProbe, SegmentError> {
    init_ffmpeg()?;
    let mut input = format::input(&path).map_err(SegmentError::at("opening the segment"))?;
    let video_stream = input.streams().best(media::Type::Video).map(|s| {
        let p = s.parameters();
        // SAFETY: reading plain fields of parameters we own a copy of.
        let (w, h) = unsafe { ((*p.as_ptr()).width, (*p.as_ptr()).height) };
        (s.index(), s.time_base(), p.id(), w.max(0) as u32, h.max(0) as u32)
    });
    let audio_stream = input.streams().best(media::Type::Audio).map(|s| {
        let p = s.parameters();
        // SAFETY: as above.
        let profile = unsafe { (*p.as_ptr()).profile };
        (s.index(), p.id(), profile)
    });

    let mut pts = Vec::new();
    let mut first_key = None;
    let mut sps = None;
    let mut audio_packets = 0;
    for (stream, packet) in input.packets() {
        if Some(stream.index()) == video_stream.map(|v| v.0) {
            if first_key.is_none() {
                first_key = Some(packet.is_key());
            }
            if sps.is_none() {
                sps = packet.data().and_then(find_sps);
            }
            if let Some(t) = packet.pts() {
                pts.push(t);
            }
        } else if Some(stream.index()) == audio_stream.map(|a| a.0) {
            audio_packets += 1;
        }
    }

    let video = video_stream.map(|(_, tb, id, width, height)| {
        let seconds = |t: i64| t as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator());
        let (min, max) = (pts.iter().min().copied(), pts.iter().max().copied());
        let (start, duration) = match (min, max) {
            (Some(min), Some(max)) => {
                let frame = if pts.len() > 1 { (max - min) / (pts.len() as i64 - 1) } else { 0 };
                (seconds(min), seconds(max - min + frame))
            }
            _ => (0.0, 0.0),
        };
        let codec = match (id, sps) {
            (codec::Id::H264, Some([p, c, l])) => format!("avc1.{p:02x}{c:02x}{l:02x}"),
            (id, _) => format!("{id:?}").to_lowercase(),
        };
        VideoProbe {
            codec,
            width,
            height,
            frames: pts.len() as u32,
            starts_with_keyframe: first_key == Some(true),
            start,
            duration,
        }
    });
    let audio = audio_stream.map(|(_, id, profile)| AudioProbe {
        codec: match id {
            // FFmpeg's AAC profiles are the MPEG-4 object type minus one.
            codec::Id::AAC if profile >= 0 => format!("mp4a.40.{}", profile + 1),
            codec::Id::AAC => "mp4a.40.2".to_owned(),
            id => format!("{id:?}").to_lowercase(),
        },
        packets: audio_packets,
    });
    Ok(SegmentProbe { video, audio })
}

/// Profile, constraint flags and level from the first SPS in Annex B data.
fn find_sps(data: &[u8]) -> Option<[u8; 3]> {
    data.windows(7).find(|w| w[..3] == [0, 0, 1] && w[3] & 0x1f == 7).map(|w| [w[4], w[5], w[6]])
}

/// The spread of the first picture's luma (its brightest value less its
/// darkest, ignoring the extreme 1% at each end), from decoding that one
/// picture only: cheap enough for every rendition. A blank picture has a
/// spread near zero.
pub fn first_picture_spread(path: &Path) -> Result<u8, SegmentError> {
    init_ffmpeg()?;
    let mut input = format::input(&path).map_err(SegmentError::at("opening the segment"))?;
    let stream = input.streams().best(media::Type::Video).ok_or(SegmentError::NoVideo)?;
    let index = stream.index();
    let decoder = codec::context::Context::from_parameters(stream.parameters())
        .map_err(SegmentError::at("reading the video parameters"))?;
    let mut decoder = decoder.decoder().video().map_err(SegmentError::at("opening the decoder"))?;
    let mut picture = ffmpeg::frame::Video::empty();
    let mut decoded = false;
    for (stream, packet) in input.packets() {
        if stream.index() != index {
            continue;
        }
        decoder.send_packet(&packet).map_err(SegmentError::at("decoding video"))?;
        if decoder.receive_frame(&mut picture).is_ok() {
            decoded = true;
            break;
        }
    }
    if !decoded {
        decoder.send_eof().map_err(SegmentError::at("flushing the decoder"))?;
        decoder.receive_frame(&mut picture).map_err(|_| SegmentError::NoFrames)?;
    }
    // Plane 0 is luma in every YUV format a rendition can hold.
    let (width, height, stride) =
        (picture.width() as usize, picture.height() as usize, picture.stride(0));
    let data = picture.data(0);
    let mut histogram = [0u64; 256];
    for row in data.chunks(stride).take(height) {
        for &y in &row[..width.min(row.len())] {
            histogram[usize::from(y)] += 1;
        }
    }
    let total: u64 = histogram.iter().sum();
    let cut = total / 100;
    // The first shade past the darkest (brightest) 1% of the picture.
    let percentile = |order: &[usize]| {
        let mut seen = 0;
        order.iter().copied().find(|&v| {
            seen += histogram[v];
            seen > cut
        })
    };
    let shades: Vec<usize> = (0..256).collect();
    let low = percentile(&shades).unwrap_or(0);
    let reversed: Vec<usize> = shades.iter().rev().copied().collect();
    let high = percentile(&reversed).unwrap_or(0);
    Ok(high.saturating_sub(low) as u8)
}
