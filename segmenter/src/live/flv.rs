//! FLV tag bodies, as RTMP audio and video messages carry them: which
//! codec, which kind of packet, the composition time offset. Codecs other
//! than H.264 and AAC are named in the error, so a broadcaster learns what
//! to change.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    #[error("video codec {0} is not supported: send H.264 (OBS: x264 or NVENC H.264; ffmpeg: -c:v libx264)")]
    VideoCodec(String),
    #[error("audio codec {0} is not supported: send AAC (ffmpeg: -c:a aac)")]
    AudioCodec(String),
    #[error("a {0} tag is too short to read")]
    Truncated(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoPacket<'a> {
    /// An AVCDecoderConfigurationRecord.
    Config(&'a [u8]),
    /// One picture's NAL units, length-prefixed.
    Frame { keyframe: bool, composition_ms: i32, data: &'a [u8] },
    /// End of sequence, or a command frame: nothing to carry.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioPacket<'a> {
    /// An AudioSpecificConfig.
    Config(&'a [u8]),
    /// One raw AAC frame.
    Frame(&'a [u8]),
}

pub fn video(tag: &[u8]) -> Result<VideoPacket<'_>, FlvError> {
    let first = *tag.first().ok_or(FlvError::Truncated("video"))?;
    if first & 0x80 != 0 {
        // Enhanced RTMP: a FourCC names the codec (hvc1, av01, vp09...).
        let fourcc = tag.get(1..5).ok_or(FlvError::Truncated("video"))?;
        let name = String::from_utf8_lossy(fourcc).into_owned();
        let codec = match name.as_str() {
            "hvc1" => "HEVC (enhanced RTMP, hvc1)".to_owned(),
            "av01" => "AV1 (enhanced RTMP, av01)".to_owned(),
            "vp09" => "VP9 (enhanced RTMP, vp09)".to_owned(),
            other => format!("{other:?} (enhanced RTMP)"),
        };
        return Err(FlvError::VideoCodec(codec));
    }
    let frame_type = first >> 4;
    let codec = first & 0x0f;
    if codec != 7 {
        let name = match codec {
            2 => "Sorenson H.263 / FLV1",
            3 => "Screen Video",
            4 => "On2 VP6",
            5 => "On2 VP6 with alpha",
            6 => "Screen Video 2",
            12 => "HEVC (FLV codec id 12)",
            _ => "unknown",
        };
        return Err(FlvError::VideoCodec(format!("{name} (FLV codec id {codec})")));
    }
    if frame_type == 5 {
        return Ok(VideoPacket::Nothing);
    }
    let header = tag.get(1..5).ok_or(FlvError::Truncated("video"))?;
    let data = &tag[5..];
    match header[0] {
        0 => Ok(VideoPacket::Config(data)),
        1 => {
            // SI24, sign-extended.
            let cts = i32::from_be_bytes([header[1], header[2], header[3], 0]) >> 8;
            Ok(VideoPacket::Frame { keyframe: frame_type == 1, composition_ms: cts, data })
        }
        _ => Ok(VideoPacket::Nothing),
    }
}

pub fn audio(tag: &[u8]) -> Result<AudioPacket<'_>, FlvError> {
    let first = *tag.first().ok_or(FlvError::Truncated("audio"))?;
    let format = first >> 4;
    if format != 10 {
        let name = match format {
            0 | 3 => "linear PCM",
            1 => "ADPCM",
            2 | 14 => "MP3",
            4..=6 => "Nellymoser",
            7 => "G.711 A-law",
            8 => "G.711 mu-law",
            9 => "an enhanced RTMP codec (Opus, FLAC, AC-3...)",
            11 => "Speex",
            _ => "unknown",
        };
        return Err(FlvError::AudioCodec(format!("{name} (FLV sound format {format})")));
    }
    let kind = *tag.get(1).ok_or(FlvError::Truncated("audio"))?;
    Ok(match kind {
        0 => AudioPacket::Config(&tag[2..]),
        _ => AudioPacket::Frame(&tag[2..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_avc_packets_with_negative_composition_time() {
        assert_eq!(video(&[0x17, 0, 0, 0, 0, 1, 2]).unwrap(), VideoPacket::Config(&[1, 2]));
        let frame = video(&[0x27, 1, 0xff, 0xff, 0xd8, 9]).unwrap();
        assert_eq!(frame, VideoPacket::Frame { keyframe: false, composition_ms: -40, data: &[9] });
        assert_eq!(video(&[0x57, 0]).unwrap(), VideoPacket::Nothing);
    }

    #[test]
    fn names_the_codecs_it_refuses() {
        let err = video(&[0x12, 0, 0]).unwrap_err().to_string();
        assert!(err.contains("Sorenson H.263") && err.contains("libx264"), "{err}");
        let err = video(&[0x90, b'h', b'v', b'c', b'1']).unwrap_err().to_string();
        assert!(err.contains("HEVC"), "{err}");
        let err = audio(&[0x2f, 0]).unwrap_err().to_string();
        assert!(err.contains("MP3"), "{err}");
        assert_eq!(audio(&[0xaf, 0, 0x12, 0x10]).unwrap(), AudioPacket::Config(&[0x12, 0x10]));
        assert!(matches!(video(&[0x17, 1]), Err(FlvError::Truncated(_))));
    }
}
