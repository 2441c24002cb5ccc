//! A rendition segment's fingerprint (`proofs::fingerprint`), read by decoding it once: the
//! metadata, the signature of every frame, and the full fingerprint of the frames shown at the
//! sample times the orchestrator drew. The frame shown at time `t` is the last one whose
//! presentation time, from the first frame's, is at most `t`.
//!
//! Whatever the segment's length, this keeps two decoded frames besides the decoder's own: a
//! frame is only known to be the one shown at `t` once the next one starts later than `t`.

use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{codec, format, frame, media, Rational};
use ffmpeg_next as ffmpeg;
use proofs::fingerprint::{
    fingerprint_planes, frame_signature, FrameFingerprint, FrameSignature, Plane, SampledFrame,
    SegmentFingerprint,
};

use crate::{init_ffmpeg, SegmentError};

/// Decodes the segment at `path` and fingerprints it at `sample_times_ms` (ms from the first
/// frame, any order, repeats allowed; the samples come back in the same order).
pub fn fingerprint_segment(
    path: &Path,
    sample_times_ms: &[u64],
) -> Result<SegmentFingerprint, SegmentError> {
    init_ffmpeg()?;
    let mut input = format::input(&path).map_err(SegmentError::at("opening the segment"))?;
    let stream = input.streams().best(media::Type::Video).ok_or(SegmentError::NoVideo)?;
    let index = stream.index();
    let time_base = stream.time_base();
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .map_err(SegmentError::at("reading the video parameters"))?;
    decoder.set_threading(codec::threading::Config::kind(codec::threading::Type::Frame));
    let mut decoder = decoder.decoder().video().map_err(SegmentError::at("opening the decoder"))?;
    let codec = decoder.id().name().to_owned();

    let mut state = Sampler::new(sample_times_ms, time_base);
    let mut decoded = frame::Video::empty();
    let mut drain = |decoder: &mut ffmpeg::decoder::Video, state: &mut Sampler| {
        while decoder.receive_frame(&mut decoded).is_ok() {
            let next = std::mem::replace(&mut decoded, frame::Video::empty());
            state.push(next)?;
        }
        Ok::<_, SegmentError>(())
    };
    for (stream, packet) in input.packets() {
        if stream.index() == index {
            decoder.send_packet(&packet).map_err(SegmentError::at("decoding video"))?;
            drain(&mut decoder, &mut state)?;
        }
    }
    decoder.send_eof().map_err(SegmentError::at("flushing the decoder"))?;
    drain(&mut decoder, &mut state)?;
    state.finish(codec)
}

/// Walks the decoded frames in order, keeping only the last one.
struct Sampler {
    /// (time, position in the caller's list), latest first, so the earliest pops off the end.
    pending: Vec<(u64, usize)>,
    samples: Vec<Option<SampledFrame>>,
    time_base: Rational,
    first_pts: Option<i64>,
    previous_pts: Option<i64>,
    shown: Option<Shown>,
    signatures: Vec<FrameSignature>,
    size: (u32, u32),
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
}

/// The latest frame, in 8-bit 4:2:0, and its fingerprint once a sample needed it.
struct Shown {
    frame: frame::Video,
    index: u32,
    fingerprint: Option<FrameFingerprint>,
}

impl Sampler {
    fn new(times: &[u64], time_base: Rational) -> Sampler {
        let mut pending: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        Sampler {
            pending,
            samples: vec![None; times.len()],
            time_base,
            first_pts: None,
            previous_pts: None,
            shown: None,
            signatures: Vec::new(),
            size: (0, 0),
            scaler: None,
        }
    }

    /// Milliseconds from the first frame of a pts relative to it, rounded down.
    fn millis(&self, relative_pts: i64) -> u64 {
        let (num, den) =
            (i128::from(self.time_base.numerator()), i128::from(self.time_base.denominator()));
        (i128::from(relative_pts.max(0)) * num * 1000 / den.max(1)) as u64
    }

    fn push(&mut self, decoded: frame::Video) -> Result<(), SegmentError> {
        // A frame without a timestamp comes a tick after the one before it.
        let pts = decoded
            .timestamp()
            .or(decoded.pts())
            .unwrap_or_else(|| self.previous_pts.map_or(0, |p| p + 1));
        self.previous_pts = Some(pts);
        let relative = pts - *self.first_pts.get_or_insert(pts);
        let frame = self.convert(decoded)?;
        let index = self.signatures.len() as u32;
        self.signatures.push(frame_signature(&planes(&frame)[0], self.millis(relative)));
        self.size = (frame.width(), frame.height());

        // Times before this frame's were showing the previous one. Compared in the time base,
        // not in rounded ms: t ms shows this frame when relative * tb <= t / 1000.
        let (num, den) =
            (i128::from(self.time_base.numerator()), i128::from(self.time_base.denominator()));
        let starts_after = |t: u64| i128::from(relative) * num * 1000 > i128::from(t) * den;
        while let Some(&(t, at)) = self.pending.last() {
            if self.shown.is_none() || !starts_after(t) {
                break;
            }
            self.pending.pop();
            self.sample_shown(t, at);
        }
        self.shown = Some(Shown { frame, index, fingerprint: None });
        Ok(())
    }

    fn sample_shown(&mut self, time_ms: u64, at: usize) {
        let shown = self.shown.as_mut().expect("a frame is shown");
        let fingerprint = shown.fingerprint.get_or_insert_with(|| {
            let [y, u, v] = planes(&shown.frame);
            fingerprint_planes(&y, &u, &v)
        });
        self.samples[at] =
            Some(SampledFrame { time_ms, frame: shown.index, fingerprint: fingerprint.clone() });
    }

    /// The frame in 8-bit 4:2:0: itself when it already is.
    fn convert(&mut self, decoded: frame::Video) -> Result<frame::Video, SegmentError> {
        let format = decoded.format();
        if matches!(format, Pixel::YUV420P | Pixel::YUVJ420P) {
            return Ok(decoded);
        }
        // Another bit depth or subsampling: the grids and PDQ want 8-bit 4:2:0.
        let from = (format, decoded.width(), decoded.height());
        if self.scaler.as_ref().map(|(_, f)| *f) != Some(from) {
            let ctx = scaling::Context::get(
                from.0,
                from.1,
                from.2,
                Pixel::YUV420P,
                from.1,
                from.2,
                scaling::Flags::BILINEAR,
            )
            .map_err(SegmentError::at("setting up the scaler"))?;
            self.scaler = Some((ctx, from));
        }
        let (ctx, _) = self.scaler.as_mut().expect("set above");
        let mut out = frame::Video::new(Pixel::YUV420P, from.1, from.2);
        ctx.run(&decoded, &mut out).map_err(SegmentError::at("converting to 8-bit 4:2:0"))?;
        Ok(out)
    }

    fn finish(mut self, codec: String) -> Result<SegmentFingerprint, SegmentError> {
        if self.signatures.is_empty() {
            return Err(SegmentError::NoFrames);
        }
        // The rest were showing the last frame.
        while let Some((t, at)) = self.pending.pop() {
            self.sample_shown(t, at);
        }
        let frames = self.signatures.len();
        // The last frame lasts as long as the frames before it did on average (as in
        // `probe_segment`); a lone frame has no duration to go by.
        let last = self.previous_pts.unwrap_or(0) - self.first_pts.unwrap_or(0);
        let duration = match frames {
            1 => 0,
            n => last + last / (n as i64 - 1),
        };
        Ok(SegmentFingerprint {
            codec,
            width: self.size.0,
            height: self.size.1,
            frames: frames as u32,
            duration_ms: self.millis(duration),
            samples: self.samples.into_iter().map(|s| s.expect("every time sampled")).collect(),
            signatures: self.signatures,
        })
    }
}

/// The Y, U and V planes of an 8-bit 4:2:0 frame.
fn planes(frame: &frame::Video) -> [Plane<'_>; 3] {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = |i: usize, w: usize, h: usize| Plane {
        width: w,
        height: h,
        stride: frame.stride(i),
        data: frame.data(i),
    };
    [plane(0, w, h), plane(1, w.div_ceil(2), h.div_ceil(2)), plane(2, w.div_ceil(2), h.div_ceil(2))]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use proofs::fingerprint::{compare_segments, Verdict};
    use protocol::Rung;

    use super::*;
    use crate::encoders;

    /// Runs the ffmpeg CLI (installed by scripts/install-deps.sh) with `args`, writing `out`.
    fn ffmpeg(args: &[&str], out: &Path) {
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .args(["-f", "mpegts"])
            .arg(out)
            .status()
            .expect("run ffmpeg");
        assert!(status.success(), "ffmpeg {args:?}");
    }

    /// 2 s of 320x180 testsrc2 at 30 fps with AAC, as the ingest cuts segments.
    fn source(dir: &Path, pix_fmt: &str) -> PathBuf {
        let path = dir.join(format!("source-{pix_fmt}.ts"));
        let args = ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30", "-f", "lavfi", "-i"];
        let encode = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M", "-g", "600"];
        let args: Vec<&str> = args
            .into_iter()
            .chain(["sine=f=440:r=48000", "-t", "2"])
            .chain(encode)
            .chain(["-pix_fmt", pix_fmt, "-c:a", "aac"])
            .collect();
        ffmpeg(&args, &path);
        path
    }

    /// `input` re-encoded by the ffmpeg CLI through `filter` at `bitrate`, timing kept.
    fn reencode(input: &Path, out: &Path, filter: &str, preset: &str, bitrate: &str) {
        let input = input.to_str().unwrap();
        let args = ["-i", input, "-vf", filter, "-fps_mode", "passthrough", "-c:v", "libx264"];
        let args: Vec<&str> = args
            .into_iter()
            .chain(["-preset", preset, "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", "1M"])
            .chain(["-c:a", "copy"])
            .collect();
        ffmpeg(&args, out);
    }

    #[test]
    fn fingerprint_signs_every_frame_and_samples_the_frame_on_screen() {
        let dir = tempfile::tempdir().unwrap();
        let path = source(dir.path(), "yuv420p");
        let times = [1999, 0, 33, 34, 500, 34, 5000];
        let fp = fingerprint_segment(&path, &times).unwrap();
        assert_eq!((fp.codec.as_str(), fp.width, fp.height), ("h264", 320, 180));
        assert_eq!((fp.frames, fp.duration_ms), (60, 2000));
        let shown: Vec<u64> = fp.signatures.iter().map(|s| s.time_ms).collect();
        let expected: Vec<u64> = (0..60).map(|i| i * 100 / 3).collect();
        assert_eq!(shown, expected);
        // Frame 1 starts at 33.3 ms: 33 still shows frame 0. Past the end shows the last.
        let samples: Vec<(u64, u32)> = fp.samples.iter().map(|s| (s.time_ms, s.frame)).collect();
        assert_eq!(samples, [(1999, 59), (0, 0), (33, 0), (34, 1), (500, 15), (34, 1), (5000, 59)]);
        assert_eq!(fp.samples[3].fingerprint, fp.samples[5].fingerprint);
        assert!(fp.samples.iter().all(|s| s.fingerprint.pdq.quality >= 50));
    }

    #[test]
    fn sampling_some_times_gives_what_sampling_every_millisecond_gives() {
        // `mosaic bench verify` draws its checks' times from one every-millisecond fingerprint.
        let dir = tempfile::tempdir().unwrap();
        let path = source(dir.path(), "yuv420p");
        let every_ms: Vec<u64> = (0..2000).collect();
        let all = fingerprint_segment(&path, &every_ms).unwrap();
        let some = fingerprint_segment(&path, &[1234, 67]).unwrap();
        assert_eq!(some.signatures, all.signatures);
        assert_eq!(some.samples, [all.samples[1234].clone(), all.samples[67].clone()]);
    }

    #[test]
    fn an_honest_rendition_matches_and_tampered_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let source = source(dir.path(), "yuv420p");
        let rung = Rung { name: "180p".into(), width: 320, height: 180, bitrate: 400_000 };
        let ours = dir.path().join("ours.ts");
        crate::transcode_segment(&source, &[rung], std::slice::from_ref(&ours), &encoders::Libx264)
            .unwrap();
        let other = |name: &str, filter: &str, preset: &str, bitrate: &str| {
            let path = dir.path().join(format!("{name}.ts"));
            reencode(&source, &path, filter, preset, bitrate);
            path
        };
        let honest = other("honest", "null", "medium", "320k");
        let flipped = other("flipped", "hflip", "veryfast", "400k");
        let swap: Vec<String> = (0..60)
            .map(|i| match i {
                30 => 31,
                31 => 30,
                i => i,
            })
            .map(|i: u32| i.to_string())
            .collect();
        let swapped =
            other("swapped", &format!("shuffleframes={}", swap.join("|")), "veryfast", "400k");

        let times = [250, 900, 1600];
        let fingerprint = |path: &Path| fingerprint_segment(path, &times).unwrap();
        let ours = fingerprint(&ours);
        assert_eq!(compare_segments(&ours, &fingerprint(&honest)), Verdict::Match);
        let verdict = compare_segments(&ours, &fingerprint(&flipped));
        assert!(matches!(&verdict, Verdict::Mismatch(why) if why.contains("PDQ")), "{verdict}");
        // Frames 30 and 31 swapped, neither of them sampled: the signatures catch it.
        let verdict = compare_segments(&ours, &fingerprint(&swapped));
        assert!(matches!(&verdict, Verdict::Mismatch(why) if why.contains("nearer")), "{verdict}");
    }

    #[test]
    fn other_pixel_formats_are_converted_and_fingerprint_alike() {
        let dir = tempfile::tempdir().unwrap();
        let times = [100, 1100];
        let yuv420 = fingerprint_segment(&source(dir.path(), "yuv420p"), &times).unwrap();
        let yuv444 = fingerprint_segment(&source(dir.path(), "yuv444p"), &times).unwrap();
        assert_eq!(compare_segments(&yuv420, &yuv444), Verdict::Match);
    }

    #[test]
    fn a_file_that_is_not_video_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.ts");
        std::fs::write(&garbage, vec![0x47; 188 * 10]).unwrap();
        let err = fingerprint_segment(&garbage, &[0]).unwrap_err();
        assert!(matches!(err, SegmentError::NoVideo | SegmentError::Ffmpeg { .. }), "{err}");
    }
}
