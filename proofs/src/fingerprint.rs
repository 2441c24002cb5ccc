//! Perceptual fingerprints of frames and segments, and their comparison: what the orchestrator
//! runs on a spot-checked pair to tell an honest duplicate (another encoder, preset, bitrate,
//! seed or sample count) from a tampered one. Three outcomes: match, mismatch, inconclusive.
//!
//! A frame's fingerprint is PDQ (the shape of the picture: luma only, contrast-normalised,
//! blind to fine detail) plus what PDQ cannot see: a 16x16 luma grid (brightness, overlays,
//! black frames), a 4x4 chroma grid (colour shifts) and how steep its steepest edges are (blur,
//! upscaling, noise). A segment's fingerprint is its metadata, the fingerprints of the frames
//! shown at times the orchestrator draws at random per check, and a signature of every frame
//! (its luma grid and edge steepness): a dropped, duplicated, reordered or black frame touches
//! one or two frames, and catching it must not need the luck of sampling them; and one frame's
//! detail swings with the encoder's frame types, while a segment's average does not.
//!
//! Frames are compared in order, never flip- or reorder-invariantly. The limits come from
//! `mosaic bench verify`, which builds a corpus of honest and tampered pairs; each says the
//! numbers it came from.
//!
//! Pure: pixels or image bytes in, a verdict out. Decoding video is `transcoder::fingerprint`'s
//! job.

use std::fmt;
use std::io::Cursor;

use exr::prelude::{ReadChannels as _, ReadLayers as _};
use protocol::settings::MAX_DIMENSION;
use protocol::ImageFormat;
use serde::{Deserialize, Serialize};

use crate::pdq::{self, PdqHash};

/// Cells a side of the luma grid.
pub const GRID: usize = 16;
/// Cells a side of the chroma grid: colour is coarse, and coarse cells average out noise.
pub const CHROMA_GRID: usize = 4;

/// Mean luma of each cell, rows top to bottom.
pub type LumaGrid = [[u8; GRID]; GRID];
/// Mean [Cb, Cr] of each cell.
pub type ChromaGrid = [[[u8; 2]; CHROMA_GRID]; CHROMA_GRID];

/// Grid differences are the `LOCAL_CELLS`-th largest cell difference, not the largest: one
/// cell of a noisy render may hold a firefly.
pub const LOCAL_CELLS: usize = 4;
/// A frame's detail is the mean of its steepest steps between neighbouring pixels, this share
/// of them: strong edges, which grain and an encoder's bitrate barely move but blur and
/// upscaling flatten.
pub const EDGE_SHARE: f64 = 0.002;
/// Detail is measured on every few rows of a frame taller than this, keeping at least this
/// many: the estimate holds, at a quarter of the cost at 720p.
pub const EDGE_ROWS: usize = 180;
/// Added to both sides of a detail ratio (levels), so nearly flat frames do not differ by a
/// ratio of tiny numbers.
pub const DETAIL_FLOOR: f32 = 2.0;

/// Worst tolerated difference between two fingerprints in one respect: at most `match_max` is
/// a match, at least `mismatch_min` a mismatch, in between inconclusive.
///
/// Each limit below quotes the calibration it came from (`mosaic bench verify`, full corpus,
/// seed 1, and calibration runs at other draws where they went further): testsrc2 and a
/// grainy Mandelbrot zoom through our 720p/480p/360p ladder against libx264 medium at 0.8x and
/// ultrafast at 1.25x the bitrate; 160x120 Cornell box renders at another seed and at 64
/// against 128 spp. "Honest" is the largest honest value; the attacks named are the smallest
/// values among those this measure is there to catch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limit {
    pub match_max: f32,
    pub mismatch_min: f32,
}

/// PDQ Hamming distance between two frames (0..=256). Honest 28 (renders at 64 spp; video up
/// to 30); flips 108, another segment 96. (PDQ's usual match threshold is 31.)
pub const PDQ_LIMIT: Limit = Limit { match_max: 40.0, mismatch_min: 56.0 };

/// Difference of mean luma between two frames (levels). Honest 1.8; brightness +6% 12.
pub const BRIGHTNESS_LIMIT: Limit = Limit { match_max: 3.0, mismatch_min: 5.0 };

/// The [`LOCAL_CELLS`]-th largest difference between two frames' luma grid cells (levels).
/// Honest 9 (renders at 64 against 128 spp); a watermark 29, a render at 1/16 the samples 24,
/// another frame of the animation 44.
pub const LUMA_LIMIT: Limit = Limit { match_max: 12.0, mismatch_min: 16.0 };

/// Largest difference of a chroma grid cell, Cb or Cr (levels). Honest 3; colour shifts 15.
pub const CHROMA_LIMIT: Limit = Limit { match_max: 5.0, mismatch_min: 8.0 };

/// Ratio of two rendered frames' detail, larger over smaller. Honest 1.10; blur 2.12.
pub const DETAIL_LIMIT: Limit = Limit { match_max: 1.4, mismatch_min: 1.8 };

/// Ratio of two rendered frames' noise levels (see [`noise_level`]), larger over smaller.
/// Honest 1.21 (64 against 128 spp); 1/16 of the samples 2.20, blur 3.37.
pub const NOISE_LIMIT: Limit = Limit { match_max: 1.45, mismatch_min: 1.8 };
/// Added to both noise levels of a ratio (levels): 8-bit rounding is noise too.
pub const NOISE_FLOOR: f32 = 1.0;

/// Two segments' frames at one position: the [`LOCAL_CELLS`]-th largest luma grid difference
/// (levels). Honest 7 (Mandelbrot; up to 9); one black frame 152, ten frozen frames 29, a
/// dropped or duplicated frame 20.
pub const SEQUENCE_LIMIT: Limit = Limit { match_max: 12.0, mismatch_min: 18.0 };

/// How much nearer frame `i` of one segment is to frame `i-1` or `i+1` of the other than to
/// frame `i`: `difference(i, i) / (difference(i, neighbour) + 1)`. Counted only where frames
/// `i` differ by at least [`SHIFT_MIN_DIFFERENCE`], since all frames of a still scene are near
/// each other. Honest 0.33; two adjacent frames swapped 5.0, a dropped or duplicated frame 10,
/// ten frozen frames 1.93.
pub const SHIFT_LIMIT: Limit = Limit { match_max: 1.0, mismatch_min: 1.6 };
/// See [`SHIFT_LIMIT`].
pub const SHIFT_MIN_DIFFERENCE: f32 = 4.0;

/// Ratio of two segments' detail averaged over every frame. Honest 1.31 (Mandelbrot 360p,
/// ultrafast at 1.25x keeps more grain); the lower rung upscaled 1.58 (1.55 at other draws;
/// Mandelbrot 360p too), heavy blur 3.42. The closest call of the corpus.
pub const SEGMENT_DETAIL_LIMIT: Limit = Limit { match_max: 1.38, mismatch_min: 1.48 };

/// PDQ quality under which a frame is flat: its hash says little, and is not compared.
pub const QUALITY_FLAT: u8 = 10;
/// PDQ quality from which a frame is detailed; a detailed frame against a flat one mismatches.
pub const QUALITY_DETAILED: u8 = 50;

/// Two segments' durations and frame times may differ by this much (rounding to ms).
pub const TIME_TOLERANCE_MS: u64 = 1;

/// An 8-bit image plane, row-major, `stride` bytes a row. Whoever builds one vouches for its
/// shape: the functions given a plane panic if `data` is shorter than its rows.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub data: &'a [u8],
}

impl Plane<'_> {
    fn row(&self, y: usize) -> &[u8] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// The fingerprint of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameFingerprint {
    pub width: u32,
    pub height: u32,
    /// PDQ of the luma, with its quality (0..=100).
    pub pdq: PdqHash,
    pub luma: LumaGrid,
    pub chroma: ChromaGrid,
    /// See [`EDGE_SHARE`]; in levels.
    pub detail: f32,
    /// See [`noise_level`]; in levels.
    pub noise: f32,
}

/// One frame of a segment, fingerprinted because it was on screen at a sampled time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampledFrame {
    /// The sampled time, in ms from the first frame.
    pub time_ms: u64,
    /// The frame shown then (0-based, in presentation order).
    pub frame: u32,
    pub fingerprint: FrameFingerprint,
}

/// What every frame of a segment leaves behind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameSignature {
    /// Presentation time in ms from the first frame.
    pub time_ms: u64,
    pub luma: LumaGrid,
    /// See [`EDGE_SHARE`]; in levels.
    pub detail: f32,
}

/// The fingerprint of a video segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentFingerprint {
    /// FFmpeg's codec name, e.g. `h264`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// From the first frame to the end of the last.
    pub duration_ms: u64,
    /// In the order the times were asked for.
    pub samples: Vec<SampledFrame>,
    /// Every frame, in presentation order.
    pub signatures: Vec<FrameSignature>,
}

/// The outcome of a comparison; the strings say why, for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Match,
    Mismatch(String),
    Inconclusive(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Match => f.write_str("match"),
            Verdict::Mismatch(why) => write!(f, "mismatch: {why}"),
            Verdict::Inconclusive(why) => write!(f, "inconclusive: {why}"),
        }
    }
}

/// Why an image could not be fingerprinted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FingerprintError {
    #[error("the frame is not a valid {format} image: {reason}")]
    Undecodable { format: ImageFormat, reason: String },
    #[error("the frame is {width}x{height}, larger than {MAX_DIMENSION} a side")]
    TooLarge { width: u64, height: u64 },
}

/// Fingerprints a frame given as its luma and chroma planes (any chroma subsampling).
pub fn fingerprint_planes(y: &Plane, cb: &Plane, cr: &Plane) -> FrameFingerprint {
    let pdq = pdq::hash_luma(y.width, y.height, y.stride, y.data);
    fingerprint_with(pdq, y, cb, cr)
}

/// Fingerprints packed 8-bit RGB (3 bytes a pixel, rows packed).
///
/// # Panics
/// If `rgb.len() != width * height * 3`.
pub fn fingerprint_rgb(width: usize, height: usize, rgb: &[u8]) -> FrameFingerprint {
    assert_eq!(rgb.len(), width * height * 3, "packed RGB of {width}x{height}");
    // BT.601 full range, as JPEG; PDQ hashes the RGB itself, with the same luma weights.
    let mut planes = [vec![0u8; width * height], vec![0; width * height], vec![0; width * height]];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        let [r, g, b] = [px[0], px[1], px[2]].map(f32::from);
        planes[0][i] = to_u8(0.299 * r + 0.587 * g + 0.114 * b);
        planes[1][i] = to_u8(128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b);
        planes[2][i] = to_u8(128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b);
    }
    let plane = |data| Plane { width, height, stride: width, data };
    let pdq = pdq::hash_rgb(width, height, rgb);
    fingerprint_with(pdq, &plane(&planes[0]), &plane(&planes[1]), &plane(&planes[2]))
}

fn fingerprint_with(pdq: PdqHash, y: &Plane, cb: &Plane, cr: &Plane) -> FrameFingerprint {
    let [cb, cr] = [cb, cr].map(grid_means::<CHROMA_GRID>);
    let mut chroma = [[[0; 2]; CHROMA_GRID]; CHROMA_GRID];
    for (i, row) in chroma.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = [to_u8(cb[i][j]), to_u8(cr[i][j])];
        }
    }
    let FrameSignature { luma, detail, .. } = frame_signature(y, 0);
    FrameFingerprint {
        width: y.width as u32,
        height: y.height as u32,
        pdq,
        luma,
        chroma,
        detail,
        noise: noise_level(y),
    }
}

/// The signature of a frame of a segment shown at `time_ms`, from its luma.
pub fn frame_signature(y: &Plane, time_ms: u64) -> FrameSignature {
    let luma = grid_means::<GRID>(y).map(|row| row.map(to_u8));
    FrameSignature { time_ms, luma, detail: edge_detail(y) }
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Mean of each of N x N cells. A plane narrower than N gives cells that share pixels.
fn grid_means<const N: usize>(plane: &Plane) -> [[f32; N]; N] {
    let (w, h) = (plane.width, plane.height);
    let mut means = [[0.0; N]; N];
    if w == 0 || h == 0 {
        return means;
    }
    let span = |i: usize, len: usize| (i * len / N, ((i + 1) * len).div_ceil(N));
    for (cy, row_means) in means.iter_mut().enumerate() {
        let (y0, y1) = span(cy, h);
        let mut sums = [0u64; N];
        for y in y0..y1 {
            let row = plane.row(y);
            for (cx, sum) in sums.iter_mut().enumerate() {
                let (x0, x1) = span(cx, w);
                // u32 sums vectorise; a row of a cell is at most 8192 pixels.
                *sum += u64::from(row[x0..x1].iter().map(|&v| u32::from(v)).sum::<u32>());
            }
        }
        for (cx, mean) in row_means.iter_mut().enumerate() {
            let (x0, x1) = span(cx, w);
            *mean = sums[cx] as f32 / ((x1 - x0) * (y1 - y0)) as f32;
        }
    }
    means
}

/// The mean of the steepest [`EDGE_SHARE`] of the steps between horizontally or vertically
/// neighbouring pixels, in levels, on every few rows of a tall frame (see [`EDGE_ROWS`]).
fn edge_detail(y: &Plane) -> f32 {
    let every = (y.height / EDGE_ROWS).max(1);
    let mut steps = [0u64; 256];
    for j in (0..y.height).step_by(every) {
        let row = y.row(j);
        for pair in row.windows(2) {
            steps[usize::from(pair[0].abs_diff(pair[1]))] += 1;
        }
        if j + 1 < y.height {
            for (a, b) in row.iter().zip(y.row(j + 1)) {
                steps[usize::from(a.abs_diff(*b))] += 1;
            }
        }
    }
    let total: u64 = steps.iter().sum();
    let wanted = ((total as f64 * EDGE_SHARE).ceil() as u64).max(1);
    let (mut taken, mut sum) = (0u64, 0u64);
    for (step, &count) in steps.iter().enumerate().rev() {
        let take = count.min(wanted - taken);
        taken += take;
        sum += take * step as u64;
        if taken == wanted {
            break;
        }
    }
    if taken == 0 {
        return 0.0;
    }
    sum as f32 / taken as f32
}

/// The median of `|2 p - left - right|` over the frame, in levels, interpolated within its
/// histogram bin: a noise level that edges, too few to move a median, leave alone. A path
/// tracer's noise halves with four times the samples.
pub fn noise_level(y: &Plane) -> f32 {
    let mut counts = [0u64; 511];
    for j in 0..y.height {
        for w in y.row(j).windows(3) {
            let d = 2 * i32::from(w[1]) - i32::from(w[0]) - i32::from(w[2]);
            counts[d.unsigned_abs() as usize] += 1;
        }
    }
    let half = counts.iter().sum::<u64>() as f64 / 2.0;
    let mut below = 0.0;
    for (value, &count) in counts.iter().enumerate() {
        let count = count as f64;
        if count > 0.0 && below + count >= half {
            // Bin `value` spans [value - 0.5, value + 0.5).
            return (value as f64 - 0.5 + (half - below) / count).max(0.0) as f32;
        }
        below += count;
    }
    0.0
}

/// Fingerprints a rendered frame: an 8-bit PNG, or a linear EXR tonemapped and sRGB-encoded to
/// 8 bits first (the renderer's own PNG curve, so both formats of one frame fingerprint alike).
pub fn fingerprint_image(
    bytes: &[u8],
    format: ImageFormat,
) -> Result<FrameFingerprint, FingerprintError> {
    let (width, height, rgb) = match format {
        ImageFormat::Png => decode_png(bytes)?,
        ImageFormat::Exr => decode_exr(bytes)?,
    };
    Ok(fingerprint_rgb(width, height, &rgb))
}

fn check_dimensions(width: u64, height: u64) -> Result<(), FingerprintError> {
    let max = u64::from(MAX_DIMENSION);
    if width > max || height > max {
        return Err(FingerprintError::TooLarge { width, height });
    }
    Ok(())
}

fn decode_png(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), FingerprintError> {
    let undecodable =
        |reason: String| FingerprintError::Undecodable { format: ImageFormat::Png, reason };
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let max = MAX_DIMENSION as usize;
    decoder.set_limits(png::Limits { bytes: max * max * 4 + (1 << 20) });
    let mut reader = decoder.read_info().map_err(|e| undecodable(e.to_string()))?;
    let (width, height) = (reader.info().width, reader.info().height);
    // Refused by its header, before a pixel buffer is allocated.
    check_dimensions(u64::from(width), u64::from(height))?;
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).map_err(|e| undecodable(e.to_string()))?;
    let (width, height) = (width as usize, height as usize);
    let channels = frame.color_type.samples();
    let grey =
        matches!(frame.color_type, png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for row in pixels[..frame.buffer_size()].chunks_exact(frame.line_size) {
        for px in row[..width * channels].chunks_exact(channels) {
            if grey {
                rgb.extend([px[0]; 3]);
            } else {
                rgb.extend(&px[..3]);
            }
        }
    }
    Ok((width, height, rgb))
}

fn decode_exr(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), FingerprintError> {
    let undecodable =
        |reason: String| FingerprintError::Undecodable { format: ImageFormat::Exr, reason };
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false)
        .map_err(|e| undecodable(e.to_string()))?;
    let header = meta.headers.first().ok_or_else(|| undecodable("it has no layer".into()))?;
    check_dimensions(header.layer_size.0 as u64, header.layer_size.1 as u64)?;

    struct Srgb8 {
        width: usize,
        rgb: Vec<u8>,
    }
    let image = exr::prelude::read()
        .no_deep_data()
        .largest_resolution_level()
        .rgba_channels(
            |size, _| Srgb8 { width: size.0, rgb: vec![0; size.0 * size.1 * 3] },
            |pixels: &mut Srgb8, pos, (r, g, b, _a): (f32, f32, f32, f32)| {
                let i = (pos.1 * pixels.width + pos.0) * 3;
                pixels.rgb[i..i + 3].copy_from_slice(&[r, g, b].map(encode_srgb8));
            },
        )
        .first_valid_layer()
        .all_attributes()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| undecodable(e.to_string()))?;
    let size = image.layer_data.size;
    Ok((size.0, size.1, image.layer_data.channel_data.pixels.rgb))
}

/// Linear radiance to 8-bit sRGB exactly as the renderer writes its PNGs: Narkowicz's ACES fit,
/// then the sRGB curve. NaN reads as 0 (the cheap checks refuse such frames anyway).
fn encode_srgb8(c: f32) -> u8 {
    let x = if c.is_nan() { 0.0 } else { c.max(0.0) };
    let t = ((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)).clamp(0.0, 1.0);
    let s = if t <= 0.003_130_8 { t * 12.92 } else { 1.055 * t.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0 + 0.5) as u8
}

/// One respect in which two fingerprints were compared, with its limit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measure {
    pub name: &'static str,
    pub value: f32,
    pub limit: Limit,
}

/// What differs between two frame fingerprints of the same size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FrameDistances {
    pub pdq: u32,
    pub quality: [u8; 2],
    pub brightness: f32,
    pub luma: f32,
    pub chroma: f32,
    pub detail: f32,
    pub noise: f32,
}

impl FrameDistances {
    pub fn between(a: &FrameFingerprint, b: &FrameFingerprint) -> FrameDistances {
        let mean = |g: &LumaGrid| {
            g.iter().flatten().map(|&v| f32::from(v)).sum::<f32>() / (GRID * GRID) as f32
        };
        let chroma = a
            .chroma
            .iter()
            .flatten()
            .zip(b.chroma.iter().flatten())
            .flat_map(|(p, q)| [p[0].abs_diff(q[0]), p[1].abs_diff(q[1])])
            .max()
            .unwrap_or(0);
        FrameDistances {
            pdq: a.pdq.distance(&b.pdq),
            quality: [a.pdq.quality, b.pdq.quality],
            brightness: (mean(&a.luma) - mean(&b.luma)).abs(),
            luma: grid_difference(&a.luma, &b.luma),
            chroma: f32::from(chroma),
            detail: detail_ratio(a.detail, b.detail),
            noise: (a.noise + NOISE_FLOOR).max(b.noise + NOISE_FLOOR)
                / (a.noise + NOISE_FLOOR).min(b.noise + NOISE_FLOOR),
        }
    }

    /// Each respect with its limit, for rendered frames. PDQ is left out when either frame is
    /// too flat for it.
    pub fn measures(&self) -> Vec<Measure> {
        let mut out = Vec::with_capacity(5);
        if self.quality.iter().all(|&q| q >= QUALITY_FLAT) {
            out.push(Measure { name: "PDQ distance", value: self.pdq as f32, limit: PDQ_LIMIT });
        }
        out.extend([
            Measure {
                name: "mean luma difference",
                value: self.brightness,
                limit: BRIGHTNESS_LIMIT,
            },
            Measure { name: "luma grid difference", value: self.luma, limit: LUMA_LIMIT },
            Measure { name: "chroma grid difference", value: self.chroma, limit: CHROMA_LIMIT },
            Measure { name: "detail ratio", value: self.detail, limit: DETAIL_LIMIT },
            Measure { name: "noise ratio", value: self.noise, limit: NOISE_LIMIT },
        ]);
        out
    }

    /// [`measures`](Self::measures) less detail and noise, for a video's frames: both swing
    /// with the encoder's frame types and bitrate; [`SEGMENT_DETAIL_LIMIT`] covers video.
    pub fn video_measures(&self) -> Vec<Measure> {
        let mut out = self.measures();
        out.retain(|m| m.limit != DETAIL_LIMIT && m.limit != NOISE_LIMIT);
        out
    }
}

fn detail_ratio(a: f32, b: f32) -> f32 {
    let (a, b) = (a + DETAIL_FLOOR, b + DETAIL_FLOOR);
    a.max(b) / a.min(b)
}

/// The [`LOCAL_CELLS`]-th largest absolute difference between two luma grids.
pub fn grid_difference(a: &LumaGrid, b: &LumaGrid) -> f32 {
    let mut diffs: Vec<u8> =
        a.iter().flatten().zip(b.iter().flatten()).map(|(p, q)| p.abs_diff(*q)).collect();
    diffs.sort_unstable_by(|p, q| q.cmp(p));
    f32::from(diffs[LOCAL_CELLS - 1])
}

/// What differs between the frame signatures of two segments, position by position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SequenceDistances {
    /// The frame whose luma grid differs most from the other's at its position, and by how
    /// much.
    pub worst: (usize, f32),
    /// The frame most like a neighbour of its counterpart (see [`SHIFT_LIMIT`]): the frame,
    /// the neighbour of the other's it is nearest to, and the ratio.
    pub shifted: (usize, usize, f32),
    /// Mean detail over every frame, the larger over the smaller.
    pub detail: f32,
}

impl SequenceDistances {
    /// `None` when either has no frames. Frames past the shorter one's end are not compared.
    pub fn between(a: &[FrameSignature], b: &[FrameSignature]) -> Option<SequenceDistances> {
        if a.is_empty() || b.is_empty() {
            return None;
        }
        let n = a.len().min(b.len());
        let mut worst = (0, 0.0);
        let mut shifted = (0, 0, 0.0);
        for i in 0..n {
            let same = grid_difference(&a[i].luma, &b[i].luma);
            if same > worst.1 {
                worst = (i, same);
            }
            if same < SHIFT_MIN_DIFFERENCE {
                continue;
            }
            let neighbours = [i.checked_sub(1), Some(i + 1).filter(|&j| j < n)];
            for j in neighbours.into_iter().flatten() {
                let ratio = same / (grid_difference(&a[i].luma, &b[j].luma) + 1.0);
                if ratio > shifted.2 {
                    shifted = (i, j, ratio);
                }
            }
        }
        let mean = |s: &[FrameSignature]| s.iter().map(|f| f.detail).sum::<f32>() / s.len() as f32;
        Some(SequenceDistances { worst, shifted, detail: detail_ratio(mean(a), mean(b)) })
    }

    pub fn measures(&self) -> [Measure; 3] {
        [
            Measure {
                name: "frame luma grid difference",
                value: self.worst.1,
                limit: SEQUENCE_LIMIT,
            },
            Measure { name: "neighbour-frame ratio", value: self.shifted.2, limit: SHIFT_LIMIT },
            Measure { name: "mean detail ratio", value: self.detail, limit: SEGMENT_DETAIL_LIMIT },
        ]
    }
}

/// The reasons found so far: any mismatch makes a mismatch, else any doubt an inconclusive.
#[derive(Default)]
struct Findings {
    mismatch: Vec<String>,
    inconclusive: Vec<String>,
}

/// Reasons quoted in a verdict; the rest are counted.
const REASONS_SHOWN: usize = 3;

impl Findings {
    /// Files `measure` against its limit; `context` says where (may be empty).
    fn check(&mut self, context: &str, measure: &Measure) {
        let (value, limit) = (measure.value, measure.limit);
        let place = if context.is_empty() { String::new() } else { format!("{context}: ") };
        if value >= limit.mismatch_min {
            self.mismatch
                .push(format!("{place}{} {value:.1} >= {}", measure.name, limit.mismatch_min));
        } else if value > limit.match_max {
            self.inconclusive.push(format!(
                "{place}{} {value:.1} is between {} and {}",
                measure.name, limit.match_max, limit.mismatch_min
            ));
        }
    }

    fn frames(&mut self, context: &str, a: &FrameFingerprint, b: &FrameFingerprint, video: bool) {
        if (a.width, a.height) != (b.width, b.height) {
            let place = if context.is_empty() { String::new() } else { format!("{context}: ") };
            self.mismatch
                .push(format!("{place}{}x{} against {}x{}", a.width, a.height, b.width, b.height));
            return;
        }
        let d = FrameDistances::between(a, b);
        let [qa, qb] = d.quality;
        let (low, high) = (qa.min(qb), qa.max(qb));
        if high >= QUALITY_DETAILED && low < QUALITY_FLAT {
            self.mismatch.push(format!(
                "{context}{}a detailed frame (PDQ quality {high}) against a flat one ({low})",
                if context.is_empty() { "" } else { ": " }
            ));
        } else if high < QUALITY_FLAT {
            self.inconclusive.push(format!(
                "{context}{}both frames are too flat for PDQ (quality {qa} and {qb})",
                if context.is_empty() { "" } else { ": " }
            ));
        }
        let measures = if video { d.video_measures() } else { d.measures() };
        for measure in measures {
            self.check(context, &measure);
        }
    }

    fn verdict(self) -> Verdict {
        let say = |reasons: Vec<String>| {
            let more = reasons.len().saturating_sub(REASONS_SHOWN);
            let mut text = reasons.into_iter().take(REASONS_SHOWN).collect::<Vec<_>>().join("; ");
            if more > 0 {
                text.push_str(&format!(" (and {more} more)"));
            }
            text
        };
        if !self.mismatch.is_empty() {
            Verdict::Mismatch(say(self.mismatch))
        } else if !self.inconclusive.is_empty() {
            Verdict::Inconclusive(say(self.inconclusive))
        } else {
            Verdict::Match
        }
    }
}

/// Compares two images of the same task.
pub fn compare_frames(a: &FrameFingerprint, b: &FrameFingerprint) -> Verdict {
    let mut findings = Findings::default();
    findings.frames("", a, b, false);
    findings.verdict()
}

/// Compares two renditions of the same segment and rung, fingerprinted at the same times.
pub fn compare_segments(a: &SegmentFingerprint, b: &SegmentFingerprint) -> Verdict {
    let meta = |s: &SegmentFingerprint| {
        format!("{} {}x{}, {} frames", s.codec, s.width, s.height, s.frames)
    };
    if (&a.codec, a.width, a.height, a.frames) != (&b.codec, b.width, b.height, b.frames) {
        return Verdict::Mismatch(format!("{} against {}", meta(a), meta(b)));
    }
    if a.duration_ms.abs_diff(b.duration_ms) > TIME_TOLERANCE_MS {
        return Verdict::Mismatch(format!(
            "{} ms long against {} ms",
            a.duration_ms, b.duration_ms
        ));
    }
    if a.signatures.len() != a.frames as usize || b.signatures.len() != b.frames as usize {
        return Verdict::Inconclusive("a fingerprint lacks some frames' signatures".into());
    }

    let mut findings = Findings::default();
    let at = |i: usize| format!("frame {i} ({})", seconds(a.signatures[i].time_ms));
    if let Some((i, (p, q))) = a
        .signatures
        .iter()
        .zip(&b.signatures)
        .enumerate()
        .find(|(_, (p, q))| p.time_ms.abs_diff(q.time_ms) > TIME_TOLERANCE_MS)
    {
        findings.mismatch.push(format!(
            "{} is shown at {} ms against {} ms",
            at(i),
            p.time_ms,
            q.time_ms
        ));
    }
    if let Some(d) = SequenceDistances::between(&a.signatures, &b.signatures) {
        let [worst, shifted, detail] = d.measures();
        findings.check(&format!("{} differs", at(d.worst.0)), &worst);
        let (i, j, _) = d.shifted;
        findings.check(
            &format!("{} is nearer the other's frame {j} than its frame {i}", at(i)),
            &shifted,
        );
        findings.check("over all frames", &detail);
    }

    let times = |s: &SegmentFingerprint| s.samples.iter().map(|f| f.time_ms).collect::<Vec<_>>();
    if times(a) != times(b) {
        findings.inconclusive.push(format!(
            "sampled at different times: {:?} against {:?}",
            times(a),
            times(b)
        ));
    } else if a.samples.is_empty() {
        findings.inconclusive.push("no frame was sampled".into());
    } else {
        for (p, q) in a.samples.iter().zip(&b.samples) {
            let context = format!("frame at {} differs", seconds(p.time_ms));
            findings.frames(&context, &p.fingerprint, &q.fingerprint, true);
        }
    }
    findings.verdict()
}

fn seconds(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const W: usize = 160;
    const H: usize = 90;

    /// A detailed, asymmetric, colourful picture, shifted `dx` pixels right: a gradient, a
    /// bright disc left of centre, stripes bottom right, a red top left and a blue top right.
    fn picture(dx: usize) -> Vec<u8> {
        let mut rgb = Vec::with_capacity(W * H * 3);
        for y in 0..H {
            for x in 0..W {
                let u = x.wrapping_sub(dx) % W;
                let mut px = [(u * 200 / W) as u8 + 20, (y * 150 / H) as u8 + 40, 90];
                let (cx, cy) = (u as f32 - 50.0, y as f32 - 40.0);
                if cx * cx + cy * cy < 300.0 {
                    px = [250, 240, 200];
                }
                if u > 100 && y > 55 && u % 8 < 4 {
                    px = [20, 30, 20];
                }
                if y < 20 && u < 40 {
                    px = [220, 30, 30];
                }
                if y < 20 && u > 120 {
                    px = [30, 40, 220];
                }
                rgb.extend(px);
            }
        }
        rgb
    }

    fn map(rgb: &[u8], f: impl Fn(usize, usize, [u8; 3]) -> [u8; 3]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rgb.len());
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            out.extend(f(i % W, i / W, [px[0], px[1], px[2]]));
        }
        out
    }

    /// Adds uniform noise of up to `amplitude` levels, the same seed giving the same noise.
    fn noisy(rgb: &[u8], amplitude: i32, seed: u64) -> Vec<u8> {
        let mut rng = StdRng::seed_from_u64(seed);
        rgb.iter()
            .map(|&v| (i32::from(v) + rng.gen_range(-amplitude..=amplitude)).clamp(0, 255) as u8)
            .collect()
    }

    /// A 5x5 box blur, twice.
    fn blurred(rgb: &[u8]) -> Vec<u8> {
        let mut out = rgb.to_vec();
        for _ in 0..2 {
            let src = out.clone();
            for y in 0..H {
                for x in 0..W {
                    for c in 0..3 {
                        let (mut sum, mut n) = (0u32, 0u32);
                        for yy in y.saturating_sub(2)..(y + 3).min(H) {
                            for xx in x.saturating_sub(2)..(x + 3).min(W) {
                                sum += u32::from(src[(yy * W + xx) * 3 + c]);
                                n += 1;
                            }
                        }
                        out[(y * W + x) * 3 + c] = (sum / n) as u8;
                    }
                }
            }
        }
        out
    }

    fn fingerprint(rgb: &[u8]) -> FrameFingerprint {
        fingerprint_rgb(W, H, rgb)
    }

    fn mismatch_says(verdict: Verdict, words: &str) {
        assert!(matches!(&verdict, Verdict::Mismatch(why) if why.contains(words)), "{verdict}");
    }

    #[test]
    fn a_frame_matches_itself_and_another_noisy_copy() {
        // Two renders at other seeds: the same picture, other noise.
        let a = fingerprint(&noisy(&picture(0), 3, 1));
        assert_eq!(compare_frames(&a, &a), Verdict::Match);
        assert!(a.pdq.quality >= QUALITY_DETAILED, "quality {}", a.pdq.quality);
        let b = fingerprint(&noisy(&picture(0), 3, 2));
        assert_eq!(compare_frames(&a, &b), Verdict::Match);
    }

    #[test]
    fn flips_watermarks_colour_and_brightness_are_mismatches_that_say_why() {
        let base = picture(0);
        let a = fingerprint(&base);
        let flipped = map(&base, |x, y, _| {
            let i = (y * W + (W - 1 - x)) * 3;
            [base[i], base[i + 1], base[i + 2]]
        });
        mismatch_says(compare_frames(&a, &fingerprint(&flipped)), "PDQ distance");
        let watermarked = map(&base, |x, y, px| {
            if (60..110).contains(&x) && (65..80).contains(&y) {
                px.map(|v| v / 2 + 127)
            } else {
                px
            }
        });
        mismatch_says(compare_frames(&a, &fingerprint(&watermarked)), "luma grid difference");
        let shifted = map(&base, |_, _, [r, g, b]| [g, b, r]);
        mismatch_says(compare_frames(&a, &fingerprint(&shifted)), "chroma grid difference");
        let brighter = map(&base, |_, _, px| px.map(|v| v.saturating_add(20)));
        mismatch_says(compare_frames(&a, &fingerprint(&brighter)), "mean luma difference");
    }

    #[test]
    fn blur_and_fewer_samples_are_caught_by_detail_and_noise() {
        let a = fingerprint(&noisy(&picture(0), 4, 1));
        mismatch_says(compare_frames(&a, &fingerprint(&blurred(&picture(0)))), "detail ratio");
        // Four times the noise: a sixteenth of the samples of a path tracer.
        mismatch_says(compare_frames(&a, &fingerprint(&noisy(&picture(0), 16, 2))), "noise ratio");
        assert!(fingerprint(&noisy(&picture(0), 16, 2)).noise > a.noise * 2.0);
    }

    #[test]
    fn a_detailed_frame_against_a_flat_one_mismatches_and_two_flat_ones_are_inconclusive() {
        let a = fingerprint(&picture(0));
        let flat = vec![110; W * H * 3];
        mismatch_says(compare_frames(&a, &fingerprint(&flat)), "against a flat one");
        let verdict = compare_frames(&fingerprint(&flat), &fingerprint(&flat));
        assert!(matches!(&verdict, Verdict::Inconclusive(why) if why.contains("too flat")));
    }

    #[test]
    fn frames_of_another_size_mismatch() {
        let a = fingerprint(&picture(0));
        let small = fingerprint_rgb(W / 2, H / 2, &vec![90; W * H * 3 / 4]);
        mismatch_says(compare_frames(&a, &small), "160x90 against 80x45");
    }

    #[test]
    fn a_grid_difference_ignores_a_few_outlier_cells() {
        let a = [[100; GRID]; GRID];
        let mut b = a;
        for cell in b[3].iter_mut().take(LOCAL_CELLS - 1) {
            *cell = 255;
        }
        assert_eq!(grid_difference(&a, &b), 0.0);
        b[9][9] = 90;
        assert_eq!(grid_difference(&a, &b), 10.0);
    }

    fn png(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(rgb).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn png_and_exr_of_one_linear_frame_fingerprint_alike() {
        use exr::prelude::*;
        let base = picture(0);
        // Any radiance will do, highlights included, as long as both files hold it.
        let radiance = |x: usize, y: usize| {
            let i = (y * W + x) * 3;
            [base[i], base[i + 1], base[i + 2]].map(|v| f32::from(v) / 128.0)
        };
        let rgb: Vec<u8> =
            (0..W * H).flat_map(|i| radiance(i % W, i / W).map(encode_srgb8)).collect();
        let from_png = fingerprint_image(&png(&rgb, W as u32, H as u32), ImageFormat::Png).unwrap();
        let channels = SpecificChannels::rgb(|pos: Vec2<usize>| {
            let [r, g, b] = radiance(pos.0, pos.1);
            (r, g, b)
        });
        let mut exr = Cursor::new(Vec::new());
        Image::from_channels((W, H), channels).write().to_buffered(&mut exr).unwrap();
        let from_exr = fingerprint_image(exr.get_ref(), ImageFormat::Exr).unwrap();
        assert_eq!(from_png, from_exr);
        assert_eq!(compare_frames(&from_png, &fingerprint(&rgb)), Verdict::Match);
    }

    #[test]
    fn undecodable_and_oversized_images_are_errors() {
        for format in [ImageFormat::Png, ImageFormat::Exr] {
            let err = fingerprint_image(b"not an image", format).unwrap_err();
            assert!(matches!(err, FingerprintError::Undecodable { .. }), "{err}");
        }
        // A header claiming 60000x60000 pixels, refused before anything is allocated.
        let mut bytes = Vec::new();
        let mut writer = png::Encoder::new(&mut bytes, 60000, 60000).write_header().unwrap();
        writer
            .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            .unwrap();
        drop(writer);
        let err = fingerprint_image(&bytes, ImageFormat::Png).unwrap_err();
        assert_eq!(err, FingerprintError::TooLarge { width: 60000, height: 60000 });
    }

    /// A 30 fps segment of `frames`, sampled at `times`, as `transcoder::fingerprint` makes it.
    fn segment(frames: &[Vec<u8>], times: &[u64]) -> SegmentFingerprint {
        let fingerprints: Vec<FrameFingerprint> = frames.iter().map(|f| fingerprint(f)).collect();
        let time = |i: usize| i as u64 * 100 / 3;
        let shown = |t: u64| (0..frames.len()).rev().find(|&i| time(i) <= t).unwrap_or(0);
        SegmentFingerprint {
            codec: "h264".into(),
            width: W as u32,
            height: H as u32,
            frames: frames.len() as u32,
            duration_ms: time(frames.len()),
            samples: times
                .iter()
                .map(|&t| SampledFrame {
                    time_ms: t,
                    frame: shown(t) as u32,
                    fingerprint: fingerprints[shown(t)].clone(),
                })
                .collect(),
            signatures: fingerprints
                .iter()
                .enumerate()
                .map(|(i, f)| FrameSignature { time_ms: time(i), luma: f.luma, detail: f.detail })
                .collect(),
        }
    }

    /// A picture panning 6 pixels a frame, with noise of its own per `seed`.
    fn pan(frames: usize, seed: u64) -> Vec<Vec<u8>> {
        (0..frames).map(|i| noisy(&picture(6 * i), 3, seed * 1000 + i as u64)).collect()
    }

    #[test]
    fn two_honest_copies_of_a_segment_match() {
        let times = [100, 250];
        assert_eq!(
            compare_segments(&segment(&pan(12, 1), &times), &segment(&pan(12, 2), &times)),
            Verdict::Match
        );
    }

    #[test]
    fn a_swapped_pair_of_frames_is_caught_though_no_sample_falls_on_it() {
        let times = [10, 350];
        let mut frames = pan(12, 2);
        frames.swap(5, 6);
        let verdict = compare_segments(&segment(&pan(12, 1), &times), &segment(&frames, &times));
        mismatch_says(verdict, "is nearer the other's frame");
    }

    #[test]
    fn a_black_frame_and_a_blurred_segment_are_caught() {
        let times = [10, 350];
        let a = segment(&pan(12, 1), &times);
        let mut frames = pan(12, 2);
        frames[7] = vec![0; W * H * 3];
        mismatch_says(compare_segments(&a, &segment(&frames, &times)), "frame 7 (0.23 s) differs");
        let blurry: Vec<Vec<u8>> = pan(12, 2).iter().map(|f| blurred(f)).collect();
        mismatch_says(compare_segments(&a, &segment(&blurry, &times)), "over all frames");
    }

    #[test]
    fn metadata_timing_and_sample_times_must_agree() {
        let times = [100, 250];
        let a = segment(&pan(12, 1), &times);
        mismatch_says(compare_segments(&a, &segment(&pan(11, 2), &times)), "11 frames");
        let mut late = segment(&pan(12, 2), &times);
        late.signatures[4].time_ms += 10;
        mismatch_says(compare_segments(&a, &late), "frame 4 (0.13 s) is shown at 133 ms");
        let other_times = segment(&pan(12, 2), &[100, 300]);
        let verdict = compare_segments(&a, &other_times);
        assert!(matches!(&verdict, Verdict::Inconclusive(why) if why.contains("different times")));
    }
}
