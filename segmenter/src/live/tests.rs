//! The segmenter fed real FLV from the ffmpeg CLI, its segments read back
//! by ffprobe: the same bytes an RTMP publisher sends, and the reader
//! players and transcoders use.

use std::path::Path;
use std::process::Command;

use super::*;

/// FLV tags of a file: (type, timestamp, body).
fn flv_tags(bytes: &[u8]) -> Vec<(u8, u32, Vec<u8>)> {
    assert_eq!(&bytes[..3], b"FLV");
    let mut at = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize + 4;
    let mut tags = Vec::new();
    while at + 11 <= bytes.len() {
        let kind = bytes[at] & 0x1f;
        let size = u32::from_be_bytes([0, bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let ts = u32::from_be_bytes([bytes[at + 7], bytes[at + 4], bytes[at + 5], bytes[at + 6]]);
        let body = bytes[at + 11..at + 11 + size].to_vec();
        tags.push((kind, ts, body));
        at += 11 + size + 4;
    }
    tags
}

fn ffmpeg_flv(dir: &Path, args: &str) -> Vec<u8> {
    let out = dir.join("in.flv");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args.split_whitespace())
        .args(["-f", "flv"])
        .arg(&out)
        .status()
        .expect("run ffmpeg (installed by scripts/install-deps.sh)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

fn segment(
    tags: &[(u8, u32, Vec<u8>)],
    settings: LiveSettings,
) -> Result<Vec<Segment>, SegmenterError> {
    let mut seg = LiveSegmenter::new(settings);
    let mut out = Vec::new();
    for (kind, ts, body) in tags {
        match kind {
            8 => seg.push_audio(*ts, body)?,
            9 => out.extend(seg.push_video(*ts, body)?),
            _ => {}
        }
    }
    out.extend(seg.finish());
    Ok(out)
}

/// ffprobe's view of a segment: per stream (codec, start, duration) and
/// the first video packet's flags.
fn probe(dir: &Path, segment: &Segment) -> serde_json::Value {
    let path = dir.join(format!("{}.ts", segment.sequence));
    std::fs::write(&path, &segment.data).unwrap();
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json", "-show_streams", "-show_packets", "-count_frames"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "ffprobe complained: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ffmpeg_flv_becomes_keyframe_aligned_segments_that_ffprobe_reads() {
    let dir = tempfile::tempdir().unwrap();
    // 7 s at 30 fps, a keyframe every second, B-frames, AAC.
    let flv = ffmpeg_flv(
        dir.path(),
        "-f lavfi -i testsrc2=s=320x180:r=30 -f lavfi -i sine=f=440:r=44100 -t 7 \
         -c:v libx264 -preset veryfast -g 30 -bf 2 -c:a aac -b:a 64k",
    );
    let segments = segment(&flv_tags(&flv), LiveSettings::default()).unwrap();
    // Cut at the first keyframe at least 2 s in: 0, 2, 4, 6 -> 4 segments.
    assert_eq!(segments.len(), 4);
    let mut frames = 0;
    for (i, s) in segments.iter().enumerate() {
        assert_eq!(s.sequence, i as u64);
        assert!(s.has_audio && !s.discontinuity);
        let expected_ms = if i < 3 { 2000 } else { 1000 };
        assert!((s.duration_ms as i64 - expected_ms).abs() <= 1, "segment {i}: {}", s.duration_ms);
        let probed = probe(dir.path(), s);
        let streams = probed["streams"].as_array().unwrap();
        let codecs: Vec<&str> = streams.iter().map(|s| s["codec_name"].as_str().unwrap()).collect();
        assert_eq!(codecs, ["h264", "aac"]);
        assert_eq!(streams[0]["width"], 320);
        let video_frames: u32 = streams[0]["nb_read_frames"].as_str().unwrap().parse().unwrap();
        assert_eq!(video_frames, s.video_frames);
        frames += video_frames;
        let first_video = probed["packets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["codec_type"] == "video")
            .unwrap();
        assert!(first_video["flags"].as_str().unwrap().starts_with('K'), "segment {i}");
        let pts = first_video["pts"].as_u64().unwrap();
        assert_eq!(pts, s.start_pts, "segment {i}");
    }
    assert_eq!(frames, 210);
    assert_eq!(segments[1].start_pts - segments[0].start_pts, 2 * 90_000);
    // The first picture shows two B-frame delays (67 ms) after the first DTS.
    assert_eq!(segments[0].start_pts, TIMESTAMP_OFFSET + 67 * 90);
}

#[test]
fn a_stream_without_keyframes_is_refused_once_the_limit_passes() {
    let dir = tempfile::tempdir().unwrap();
    let flv = ffmpeg_flv(
        dir.path(),
        "-f lavfi -i testsrc2=s=160x90:r=30 -t 4 -c:v libx264 -preset ultrafast -g 1000 -an",
    );
    let settings =
        LiveSettings { max_keyframe_interval: Duration::from_secs(3), ..Default::default() };
    let err = segment(&flv_tags(&flv), settings).unwrap_err();
    assert_eq!(err, SegmenterError::NoKeyframe { seconds: 3 });
    assert!(err.to_string().contains("keyframe interval"), "{err}");
}

#[test]
fn a_segment_over_the_byte_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let flv =
        ffmpeg_flv(dir.path(), "-f lavfi -i testsrc2=s=320x180:r=30 -t 1 -c:v libx264 -g 30 -an");
    let settings = LiveSettings { max_segment_bytes: 10_000, ..Default::default() };
    assert_eq!(
        segment(&flv_tags(&flv), settings).unwrap_err(),
        SegmenterError::SegmentTooLarge { limit: 10_000 }
    );
}

#[test]
fn other_codecs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let flv = ffmpeg_flv(dir.path(), "-f lavfi -i testsrc2=s=160x90:r=30 -t 1 -c:v flv1 -an");
    let err = segment(&flv_tags(&flv), LiveSettings::default()).unwrap_err();
    assert!(err.to_string().contains("Sorenson H.263"), "{err}");
}

#[test]
fn a_clock_jump_is_smoothed_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let flv = ffmpeg_flv(
        dir.path(),
        "-f lavfi -i testsrc2=s=160x90:r=30 -t 6 -c:v libx264 -preset ultrafast -g 30 -an",
    );
    // The publisher restarts its clock at 3 s, back to 0.
    let tags: Vec<_> = flv_tags(&flv)
        .into_iter()
        .map(|(k, ts, b)| (k, if ts >= 3000 { ts - 3000 } else { ts }, b))
        .collect();
    let segments = segment(&tags, LiveSettings::default()).unwrap();
    let flagged: Vec<bool> = segments.iter().map(|s| s.discontinuity).collect();
    assert_eq!(flagged, [false, false, true, false]);
    // Time goes on: each segment starts where the one before ended.
    for pair in segments.windows(2) {
        let end = pair[0].start_pts + pair[0].duration_ms * 90;
        assert!(pair[1].start_pts.abs_diff(end) <= 90 * 34, "{pair:?}");
    }
}

#[test]
fn frames_stamped_alike_still_get_increasing_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let flv = ffmpeg_flv(
        dir.path(),
        "-f lavfi -i testsrc2=s=160x90:r=30 -t 3 -c:v libx264 -preset ultrafast -g 30 -bf 0 -an",
    );
    // GStreamer's live sources can start with two frames on one millisecond.
    let mut tags = flv_tags(&flv);
    let video: Vec<usize> = (0..tags.len()).filter(|&i| tags[i].0 == 9).collect();
    tags[video[2]].1 = tags[video[1]].1;
    let segments = segment(&tags, LiveSettings::default()).unwrap();
    let probed = probe(dir.path(), &segments[0]);
    let dts: Vec<u64> = probed["packets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["codec_type"] == "video")
        .map(|p| p["dts"].as_u64().unwrap())
        .collect();
    assert!(dts.windows(2).all(|w| w[0] < w[1]), "{dts:?}");
}
