//! A rendition segment's fingerprint (`proofs::fingerprint`), read by decoding it once: the
//! metadata, the luma grid of every frame, and the full fingerprint of the frames shown at the
//! sample times the orchestrator drew. The frame shown at time `t` is the last one whose
//! presentation time, from the first frame's, is at most `t`.
//!
//! Memory stays bounded by two decoded frames whatever the segment's length: a frame is only
//! known to be the one shown at `t` when the next one starts later than `t`.

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
    /// The previous frame, its index and time, and its fingerprint once computed.
    shown: Option<(Converted, u32, u64, Option<FrameFingerprint>)>,
    signatures: Vec<FrameSignature>,
    size: (u32, u32),
    /// The last frame's pts, relative to the first's.
    last_pts: i64,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
}

/// A decoded frame in 8-bit 4:2:0 (the decoder's own when it already is).
struct Converted(frame::Video);

impl Sampler {
    fn new(times: &[u64], time_base: Rational) -> Sampler {
        let mut pending: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        Sampler {
            pending,
            samples: vec![None; times.len()],
            time_base,
            first_pts: None,
            shown: None,
            signatures: Vec::new(),
            size: (0, 0),
            last_pts: 0,
            scaler: None,
        }
    }

    /// Milliseconds from the first frame of a pts, rounded down.
    fn millis(&self, relative_pts: i64) -> u64 {
        let (num, den) =
            (i128::from(self.time_base.numerator()), i128::from(self.time_base.denominator()));
        (i128::from(relative_pts.max(0)) * num * 1000 / den.max(1)) as u64
    }

    fn push(&mut self, decoded: frame::Video) -> Result<(), SegmentError> {
        let pts = decoded.timestamp().or(decoded.pts()).unwrap_or(self.last_pts + 1);
        let first = *self.first_pts.get_or_insert(pts);
        let relative = pts - first;
        self.last_pts = relative;
        let frame = self.convert(decoded)?;
        let index = self.signatures.len() as u32;
        let time_ms = self.millis(relative);
        self.signatures.push(frame_signature(&planes(&frame.0)[0], time_ms));
        self.size = (frame.0.width(), frame.0.height());

        // Times before this frame's were showing the previous one. Compare in the time base,
        // not in rounded ms: t ms shows this frame when relative * tb <= t / 1000.
        let (num, den) =
            (i128::from(self.time_base.numerator()), i128::from(self.time_base.denominator()));
        let starts_after = |t: u64| i128::from(relative) * num * 1000 > i128::from(t) * den;
        while let Some(&(t, at)) = self.pending.last() {
            if !starts_after(t) || self.shown.is_none() {
                break;
            }
            self.pending.pop();
            self.sample_shown(t, at);
        }
        self.shown = Some((frame, index, time_ms, None));
        Ok(())
    }

    fn sample_shown(&mut self, time_ms: u64, at: usize) {
        let (frame, index, _, fingerprint) = self.shown.as_mut().expect("a frame is shown");
        let fingerprint = fingerprint.get_or_insert_with(|| {
            let [y, u, v] = planes(&frame.0);
            fingerprint_planes(&y, &u, &v)
        });
        self.samples[at] =
            Some(SampledFrame { time_ms, frame: *index, fingerprint: fingerprint.clone() });
    }

    fn convert(&mut self, decoded: frame::Video) -> Result<Converted, SegmentError> {
        let format = decoded.format();
        if matches!(format, Pixel::YUV420P | Pixel::YUVJ420P) {
            return Ok(Converted(decoded));
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
        Ok(Converted(out))
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
        let duration = match frames {
            1 => 0,
            n => self.last_pts + self.last_pts / (n as i64 - 1),
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
mod scratch {
    #[test]
    #[ignore]
    fn scratch_compare() {
        let a = std::env::var("A").unwrap();
        let b = std::env::var("B").unwrap();
        let times: Vec<u64> = (0..2000).step_by(100).collect();
        let fa = super::fingerprint_segment(std::path::Path::new(&a), &times).unwrap();
        let fb = super::fingerprint_segment(std::path::Path::new(&b), &times).unwrap();
        println!("{} {} {} {}", fa.frames, fb.frames, fa.duration_ms, fb.duration_ms);
        for (p, q) in fa.samples.iter().zip(&fb.samples) {
            let d = proofs::fingerprint::FrameDistances::between(&p.fingerprint, &q.fingerprint);
            println!(
                "{} {} {} {:?} detail {} {}",
                p.time_ms, p.frame, q.frame, d, p.fingerprint.detail, q.fingerprint.detail
            );
        }
        for (i, (p, q)) in fa.signatures.iter().zip(&fb.signatures).enumerate() {
            print!(
                "{i}:{}/{}:{} ",
                p.time_ms,
                q.time_ms,
                proofs::fingerprint::grid_difference(&p.luma, &q.luma)
            );
        }
        println!("{}", proofs::fingerprint::compare_segments(&fa, &fb));
    }
}
