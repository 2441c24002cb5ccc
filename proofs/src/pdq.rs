//! PDQ, Facebook's perceptual image hash (ThreatExchange `pdq/`): 256 bits that stay close in
//! Hamming distance when an image is re-encoded, resized or lightly edited, and a quality score
//! (0..=100) that says whether the image had enough detail for its hash to mean anything.
//!
//! This follows the C++ reference (`pdq/cpp/hashing/pdqhashing.cpp` and
//! `pdq/cpp/downscaling/downscaling.cpp`) step by step and in the same floating-point order, so
//! the same pixels give the same bits: luma from RGB; a Jarosz tent filter (a box filter along
//! the rows, then along the columns, twice) and decimation to 64x64; the quality metric on that
//! 64x64 image; the 16x16 lowest non-DC coefficients of its DCT; one bit per coefficient, set
//! when it is above their median. The only liberty taken is to skip work: the last two filter
//! passes compute just the samples the decimation reads.
//!
//! The reference *tools* first shrink photos larger than 512 pixels (the C++ one to 512x512, the
//! Python one to fit in 512x512). That is their choice of input, not part of PDQ: this module
//! hashes the pixels it is given. It never reads files or decodes images.

use std::f64::consts::PI;
use std::fmt;
use std::sync::OnceLock;

/// Side of the downsampled image that the DCT reads.
const DOWNSAMPLED: usize = 64;
/// Side of the block of DCT coefficients kept (frequencies 1..=16 each way; DC is dropped).
const KEPT: usize = 16;
/// Images narrower or shorter than this hash to all-zero bits with quality 0, as in the reference.
const MIN_HASHABLE_SIDE: usize = 5;

// BT.601 luma weights. The reference declares them `float` from `double` literals; going through
// f64 rounds them the same way.
const LUMA_FROM_R: f32 = 0.299_f64 as f32;
const LUMA_FROM_G: f32 = 0.587_f64 as f32;
const LUMA_FROM_B: f32 = 0.114_f64 as f32;

/// A PDQ hash: 256 bits and the quality score (0..=100) of the image it was computed from.
///
/// `bits` is in the byte order of the hex text ThreatExchange prints: hash bit `k = 16 * i + j`
/// (set when DCT coefficient `(i, j)` is above the median) is bit `k % 8` of `bits[31 - k / 8]`,
/// so `bits[0]` holds hash bits 255..=248.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PdqHash {
    pub bits: [u8; 32],
    pub quality: u8,
}

/// Why a text is not a PDQ hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdqError {
    #[error("a PDQ hash is 64 hex digits, not {0}")]
    HexLength(usize),
    #[error("a PDQ hash is hex digits, but byte {index} is {character:?}")]
    NotHex { index: usize, character: char },
    #[error("a PDQ quality runs from 0 to 100, not {0}")]
    Quality(u8),
}

impl PdqHash {
    /// The hash of an image too small to hash (under 5 pixels a side): no bits set, quality 0.
    pub const EMPTY: PdqHash = PdqHash { bits: [0; 32], quality: 0 };

    /// Hamming distance of the bits (0..=256); the quality scores play no part.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        self.bits.iter().zip(&other.bits).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    /// 64 lowercase hex digits, exactly as ThreatExchange's tools print the hash.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bits)
    }

    /// Parses the 64 hex digits ThreatExchange's tools print (either case). The text does not
    /// carry the quality, so the caller gives it.
    pub fn from_hex(hex: &str, quality: u8) -> Result<PdqHash, PdqError> {
        if quality > 100 {
            return Err(PdqError::Quality(quality));
        }
        if let Some((index, character)) = hex.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(PdqError::NotHex { index, character });
        }
        if hex.len() != 64 {
            return Err(PdqError::HexLength(hex.len()));
        }
        let mut bits = [0; 32];
        hex::decode_to_slice(hex, &mut bits).expect("64 hex digits decode to 32 bytes");
        Ok(PdqHash { bits, quality })
    }

    fn set_bit(&mut self, k: usize) {
        self.bits[31 - k / 8] |= 1 << (k % 8);
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Hashes an 8-bit luma plane, row-major, `stride` bytes per row (>= width).
///
/// A decoded video frame's Y plane can be passed as it is; its luma is not exactly what
/// [`hash_rgb`] computes from the same frame in RGB, so hash frames that will be compared the
/// same way.
///
/// # Panics
/// If `stride < width` or `luma` is shorter than `stride * (height - 1) + width`: the caller
/// described its buffer wrongly, which is a bug, not bad input.
pub fn hash_luma(width: usize, height: usize, stride: usize, luma: &[u8]) -> PdqHash {
    PdqHasher::default().hash_luma(width, height, stride, luma)
}

/// Hashes interleaved 8-bit RGB (3 bytes a pixel, rows packed), converted to luma as PDQ does.
///
/// # Panics
/// If `rgb.len() != width * height * 3`.
pub fn hash_rgb(width: usize, height: usize, rgb: &[u8]) -> PdqHash {
    PdqHasher::default().hash_rgb(width, height, rgb)
}

/// Hashes images, keeping its working buffers from one image to the next: a video's frames are
/// all one size, so after the first frame hashing allocates nothing.
#[derive(Debug, Default)]
pub struct PdqHasher {
    /// The luma, then the output of the (full) column pass.
    image: Vec<f32>,
    /// The output of the first row pass, then the kept columns of the second (height x 64).
    scratch: Vec<f32>,
    /// One running sum per column for the full column pass.
    column_sums: Vec<f32>,
}

impl PdqHasher {
    /// See [`hash_luma`].
    pub fn hash_luma(
        &mut self,
        width: usize,
        height: usize,
        stride: usize,
        luma: &[u8],
    ) -> PdqHash {
        assert!(stride >= width, "PDQ luma plane: stride {stride} is less than width {width}");
        let needed = match height {
            0 => 0,
            _ => (height - 1)
                .checked_mul(stride)
                .and_then(|n| n.checked_add(width))
                .expect("PDQ luma plane: stride * height overflows"),
        };
        assert!(
            luma.len() >= needed,
            "PDQ luma plane: {width}x{height} with stride {stride} needs {needed} bytes, got {}",
            luma.len()
        );
        if width < MIN_HASHABLE_SIDE || height < MIN_HASHABLE_SIDE {
            return PdqHash::EMPTY;
        }
        self.image.clear();
        for row in luma.chunks(stride).take(height) {
            self.image.extend(row[..width].iter().map(|&y| f32::from(y)));
        }
        self.hash_image(width, height)
    }

    /// See [`hash_rgb`].
    pub fn hash_rgb(&mut self, width: usize, height: usize, rgb: &[u8]) -> PdqHash {
        let needed = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(3))
            .expect("PDQ RGB image: width * height * 3 overflows");
        assert_eq!(
            rgb.len(),
            needed,
            "PDQ RGB image: {width}x{height} packed RGB is {needed} bytes, got {}",
            rgb.len()
        );
        if width < MIN_HASHABLE_SIDE || height < MIN_HASHABLE_SIDE {
            return PdqHash::EMPTY;
        }
        self.image.clear();
        self.image.extend(rgb.chunks_exact(3).map(|p| {
            LUMA_FROM_R * f32::from(p[0])
                + LUMA_FROM_G * f32::from(p[1])
                + LUMA_FROM_B * f32::from(p[2])
        }));
        self.hash_image(width, height)
    }

    /// Hashes the luma in `self.image` (width x height, at least 5x5).
    fn hash_image(&mut self, width: usize, height: usize) -> PdqHash {
        let mut small = [[0.0; DOWNSAMPLED]; DOWNSAMPLED];
        if width == DOWNSAMPLED && height == DOWNSAMPLED {
            // The reference takes a 64x64 image (a video frame ffmpeg already shrank) as is.
            for (row, pixels) in small.iter_mut().zip(self.image.chunks_exact(DOWNSAMPLED)) {
                row.copy_from_slice(pixels);
            }
        } else {
            self.blur_and_decimate(width, height, &mut small);
        }
        let quality = quality(&small);
        let coefficients = dct_16x16(&small);
        bits_above_median(&coefficients, quality)
    }

    /// PDQ's `jaroszFilterFloat` with two passes each way, then `decimateFloat` to 64x64.
    fn blur_and_decimate(
        &mut self,
        width: usize,
        height: usize,
        out: &mut [[f32; DOWNSAMPLED]; DOWNSAMPLED],
    ) {
        let row_window = jarosz_window(width);
        let column_window = jarosz_window(height);
        let kept_columns = decimation_indices(width);
        let kept_rows = decimation_indices(height);

        // Sized for the larger of its two uses, so that it is not cut and regrown every frame.
        self.scratch.resize(height * width.max(DOWNSAMPLED), 0.0);
        let (full, kept) = (width * height, height * DOWNSAMPLED);

        // First pass along the rows, then along the columns: every sample.
        box_rows(&self.image, width, row_window, &mut self.scratch[..full], None);
        self.column_sums.clear();
        self.column_sums.resize(width, 0.0);
        let mut columns = ColumnSums {
            src: &self.scratch[..full],
            width,
            sums: &mut self.column_sums,
            dst: &mut self.image,
        };
        box_filter(height, column_window, &mut columns);

        // Second pass along the rows: the sums still run over every sample, but only the 64
        // columns the decimation reads are divided out and kept.
        box_rows(&self.image, width, row_window, &mut self.scratch[..kept], Some(&kept_columns));
        // Second pass along those 64 columns, keeping the 64 rows the decimation reads.
        let mut columns = KeptColumnSums {
            src: &self.scratch[..kept],
            sums: [0.0; DOWNSAMPLED],
            kept_rows: &kept_rows,
            next: 0,
            dst: out,
        };
        box_filter(height, column_window, &mut columns);
    }
}

/// PDQ's `computeJaroszFilterWindowSize` for a 64-sample output: half the input per output
/// sample, rounded up, since two passes of a box give a tent twice as wide.
fn jarosz_window(old_side: usize) -> usize {
    old_side.div_ceil(2 * DOWNSAMPLED)
}

/// The input index each of the 64 output samples reads (`decimateFloat`: centres, not corners).
fn decimation_indices(side: usize) -> [usize; DOWNSAMPLED] {
    std::array::from_fn(|i| ((i as f64 + 0.5) * side as f64 / DOWNSAMPLED as f64) as usize)
}

/// Running sums that [`box_filter`] drives, one for each of some independent lines of samples.
trait RunningSums {
    /// Adds the lines' sample `i` to the sums.
    fn add(&mut self, i: usize);
    /// Takes the lines' sample `i` out of the sums.
    fn remove(&mut self, i: usize);
    /// Output sample `o` is the sums divided by `count`, the number of samples in them.
    fn emit(&mut self, o: usize, count: usize);
}

/// PDQ's `box1DFloat` over `n` samples: the mean of a `window`-wide box around each sample, the
/// box cut short at both ends. Samples go in and out of the sums in the reference's order, which
/// fixes the floating-point rounding. Inlined so that the sums live in registers.
#[inline(always)]
fn box_filter(n: usize, window: usize, sums: &mut impl RunningSums) {
    debug_assert!((1..=n).contains(&window), "box window {window} for {n} samples");
    let half = (window + 2) / 2;
    let mut count = 0;
    // The first half-window only fills the sums.
    for i in 0..half - 1 {
        sums.add(i);
        count += 1;
    }
    // The window grows to its full width.
    for o in 0..window - half + 1 {
        sums.add(half - 1 + o);
        count += 1;
        sums.emit(o, count);
    }
    // Full width: one sample in, one out.
    for t in 0..n - window {
        sums.add(window + t);
        sums.remove(t);
        sums.emit(window - half + 1 + t, count);
    }
    // The window shrinks at the far end.
    for t in 0..half - 1 {
        sums.remove(n - window + t);
        count -= 1;
        sums.emit(n - half + 1 + t, count);
    }
}

/// Filters every row of `src` (rows of `width`) into `dst`: all columns, or with `kept` only
/// those 64 columns, packed (`dst` is then height x 64).
fn box_rows(
    src: &[f32],
    width: usize,
    window: usize,
    dst: &mut [f32],
    kept: Option<&[usize; DOWNSAMPLED]>,
) {
    // Each row's running sum is one long chain of dependent additions; running LANES rows side by
    // side lets the processor overlap those chains.
    const LANES: usize = 4;
    let out_width = if kept.is_some() { DOWNSAMPLED } else { width };
    let mut src_rows = src.chunks_exact(width);
    let mut dst_rows = dst.chunks_exact_mut(out_width);
    let height = src.len() / width;
    for _ in 0..height / LANES {
        let mut rows = RowSums::<LANES> {
            src: std::array::from_fn(|_| src_rows.next().expect("a source row")),
            dst: std::array::from_fn(|_| dst_rows.next().expect("an output row")),
            sums: [0.0; LANES],
            kept,
            next: 0,
        };
        box_filter(width, window, &mut rows);
    }
    // The last few rows, one at a time.
    for (src, dst) in src_rows.zip(dst_rows) {
        let mut row = RowSums::<1> { src: [src], dst: [dst], sums: [0.0], kept, next: 0 };
        box_filter(width, window, &mut row);
    }
}

/// `N` rows filtered together.
struct RowSums<'a, const N: usize> {
    src: [&'a [f32]; N],
    /// `width` wide, or 64 wide when only the `kept` columns are written.
    dst: [&'a mut [f32]; N],
    sums: [f32; N],
    kept: Option<&'a [usize; DOWNSAMPLED]>,
    /// The next entry of `kept` to write.
    next: usize,
}

// The `RunningSums` methods are a handful of instructions called per sample: `inline(always)`
// because opt-level 2 (our dev profile) does not always inline them by itself.
impl<const N: usize> RunningSums for RowSums<'_, N> {
    #[inline(always)]
    fn add(&mut self, i: usize) {
        self.sums.iter_mut().zip(&self.src).for_each(|(sum, row)| *sum += row[i]);
    }

    #[inline(always)]
    fn remove(&mut self, i: usize) {
        self.sums.iter_mut().zip(&self.src).for_each(|(sum, row)| *sum -= row[i]);
    }

    #[inline(always)]
    fn emit(&mut self, o: usize, count: usize) {
        let count = count as f32;
        match self.kept {
            None => self.dst.iter_mut().zip(&self.sums).for_each(|(row, sum)| row[o] = sum / count),
            // A narrow image reads some columns more than once.
            Some(kept) => {
                while self.next < DOWNSAMPLED && kept[self.next] == o {
                    let next = self.next;
                    self.dst
                        .iter_mut()
                        .zip(&self.sums)
                        .for_each(|(row, sum)| row[next] = sum / count);
                    self.next += 1;
                }
            }
        }
    }
}

/// Every column filtered together, row by row (contiguous, so it vectorises).
struct ColumnSums<'a> {
    src: &'a [f32],
    width: usize,
    sums: &'a mut [f32],
    dst: &'a mut [f32],
}

impl RunningSums for ColumnSums<'_> {
    #[inline(always)]
    fn add(&mut self, i: usize) {
        let row = &self.src[i * self.width..][..self.width];
        self.sums.iter_mut().zip(row).for_each(|(sum, x)| *sum += x);
    }

    #[inline(always)]
    fn remove(&mut self, i: usize) {
        let row = &self.src[i * self.width..][..self.width];
        self.sums.iter_mut().zip(row).for_each(|(sum, x)| *sum -= x);
    }

    #[inline(always)]
    fn emit(&mut self, o: usize, count: usize) {
        let count = count as f32;
        let row = &mut self.dst[o * self.width..][..self.width];
        row.iter_mut().zip(self.sums.iter()).for_each(|(out, sum)| *out = sum / count);
    }
}

/// The 64 kept columns (height x 64) filtered together, writing only the 64 kept rows.
struct KeptColumnSums<'a> {
    src: &'a [f32],
    sums: [f32; DOWNSAMPLED],
    kept_rows: &'a [usize; DOWNSAMPLED],
    /// The next entry of `kept_rows` to write.
    next: usize,
    dst: &'a mut [[f32; DOWNSAMPLED]; DOWNSAMPLED],
}

impl RunningSums for KeptColumnSums<'_> {
    #[inline(always)]
    fn add(&mut self, i: usize) {
        let row = &self.src[i * DOWNSAMPLED..][..DOWNSAMPLED];
        self.sums.iter_mut().zip(row).for_each(|(sum, x)| *sum += x);
    }

    #[inline(always)]
    fn remove(&mut self, i: usize) {
        let row = &self.src[i * DOWNSAMPLED..][..DOWNSAMPLED];
        self.sums.iter_mut().zip(row).for_each(|(sum, x)| *sum -= x);
    }

    #[inline(always)]
    fn emit(&mut self, o: usize, count: usize) {
        let count = count as f32;
        while self.next < DOWNSAMPLED && self.kept_rows[self.next] == o {
            let row = &mut self.dst[self.next];
            row.iter_mut().zip(&self.sums).for_each(|(out, sum)| *out = sum / count);
            self.next += 1;
        }
    }
}

/// PDQ's `pdqImageDomainQualityMetric`: the sum of the significant steps between neighbouring
/// samples of the 64x64 image, scaled so that a detailed photo reaches 100. The constants are
/// the reference's hand-tuned ones.
fn quality(image: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> u8 {
    // Steps are counted in whole percent of the luma range, truncated, so many tiny steps
    // (noise, gentle gradients) count for nothing.
    let step = |u: f32, v: f32| (((u - v) * 100.0 / 255.0) as i32).unsigned_abs();
    let mut gradient_sum = 0;
    for rows in image.windows(2) {
        gradient_sum += rows[0].iter().zip(&rows[1]).map(|(&u, &v)| step(u, v)).sum::<u32>();
    }
    for row in image {
        gradient_sum += row.windows(2).map(|p| step(p[0], p[1])).sum::<u32>();
    }
    (gradient_sum / 90).min(100) as u8
}

/// Rows 1..=16 of the 64-point DCT-II matrix (the reference's `dct_matrix_64`).
fn dct_matrix() -> &'static [[f32; DOWNSAMPLED]; KEPT] {
    static MATRIX: OnceLock<[[f32; DOWNSAMPLED]; KEPT]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        // As in the reference: a float scale times a double cosine, rounded to float.
        let scale = f64::from((2.0 / DOWNSAMPLED as f64).sqrt() as f32);
        std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let angle = PI / 2.0 / DOWNSAMPLED as f64 * (i + 1) as f64 * (2 * j + 1) as f64;
                (scale * angle.cos()) as f32
            })
        })
    })
}

/// PDQ's `dct64To16`: D A Dᵀ for the 16x64 matrix D, each sum taken over k in ascending order as
/// the reference does.
fn dct_16x16(image: &[[f32; DOWNSAMPLED]; DOWNSAMPLED]) -> [[f32; KEPT]; KEPT] {
    let d = dct_matrix();
    // T = D A, accumulated a row of A at a time (the same order for each element, vectorised).
    let mut t = [[0.0_f32; DOWNSAMPLED]; KEPT];
    for (t_row, d_row) in t.iter_mut().zip(d) {
        for (a_row, &d_ik) in image.iter().zip(d_row) {
            t_row.iter_mut().zip(a_row).for_each(|(t_ij, &a_kj)| *t_ij += d_ik * a_kj);
        }
    }
    // B = T Dᵀ
    std::array::from_fn(|i| {
        std::array::from_fn(|j| t[i].iter().zip(&d[j]).fold(0.0, |sum, (&x, &y)| sum + x * y))
    })
}

/// PDQ's `pdqBuffer16x16ToBits`: bit `16 * i + j` is set when coefficient (i, j) is above the
/// median.
fn bits_above_median(coefficients: &[[f32; KEPT]; KEPT], quality: u8) -> PdqHash {
    let mut sorted: [f32; KEPT * KEPT] = std::array::from_fn(|k| coefficients[k / KEPT][k % KEPT]);
    // The reference's Torben median of 256 values is always the 128th smallest: fewer than 128
    // are below it and at least 128 are at or below it.
    let (_, &mut median, _) = sorted.select_nth_unstable_by(KEPT * KEPT / 2 - 1, f32::total_cmp);
    let mut hash = PdqHash { bits: [0; 32], quality };
    for (k, &c) in coefficients.iter().flatten().enumerate() {
        if c > median {
            hash.set_bit(k);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, asymmetric, deterministic test picture (no two halves alike).
    fn picture(width: usize, height: usize) -> Vec<u8> {
        let mut luma = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                let (u, v) = (x as f64 / width as f64, y as f64 / height as f64);
                let value = 110.0
                    + 50.0 * (7.0 * u + 3.0 * v * v).sin()
                    + 40.0 * (11.0 * v - 5.0 * u * u + 1.0).cos()
                    + 30.0 * u
                    + 25.0 * ((23.0 * u * v).sin() * (13.0 * u).cos());
                luma.push(value.clamp(0.0, 255.0) as u8);
            }
        }
        luma
    }

    fn flipped_horizontally(width: usize, luma: &[u8]) -> Vec<u8> {
        luma.chunks(width).flat_map(|row| row.iter().rev().copied()).collect()
    }

    fn some_hashes() -> Vec<PdqHash> {
        [(320, 240), (200, 300), (97, 61), (640, 360)]
            .iter()
            .map(|&(w, h)| hash_luma(w, h, w, &picture(w, h)))
            .collect()
    }

    #[test]
    fn distance_is_a_metric_on_the_bits() {
        let hashes = some_hashes();
        for a in &hashes {
            assert_eq!(a.distance(a), 0);
            let inverse = PdqHash { bits: a.bits.map(|b| !b), quality: a.quality };
            assert_eq!(a.distance(&inverse), 256);
            for b in &hashes {
                assert_eq!(a.distance(b), b.distance(a));
                for c in &hashes {
                    assert!(a.distance(c) <= a.distance(b) + b.distance(c));
                }
            }
        }
        let quality_only = PdqHash { quality: 0, ..hashes[0] };
        assert_eq!(hashes[0].distance(&quality_only), 0);
    }

    #[test]
    fn half_the_bits_are_set() {
        // Bits are "above the median of 256": exactly 128 unless coefficients tie.
        for hash in some_hashes() {
            let ones: u32 = hash.bits.iter().map(|b| b.count_ones()).sum();
            assert_eq!(ones, 128, "{hash}");
        }
    }

    #[test]
    fn horizontally_flipped_picture_is_far_from_the_original() {
        let (w, h) = (320, 240);
        let luma = picture(w, h);
        let original = hash_luma(w, h, w, &luma);
        let flipped = hash_luma(w, h, w, &flipped_horizontally(w, &luma));
        // 31 is ThreatExchange's suggested match threshold; a flip lands far beyond it.
        assert!(original.distance(&flipped) > 64, "distance {}", original.distance(&flipped));
    }

    #[test]
    fn a_slightly_altered_picture_stays_close() {
        let (w, h) = (320, 240);
        let luma = picture(w, h);
        let original = hash_luma(w, h, w, &luma);
        // Brighter by 6 and with a faint checkerboard of noise.
        let altered: Vec<u8> = luma
            .iter()
            .enumerate()
            .map(|(i, &y)| y.saturating_add(6).saturating_add(((i + i / w) % 2) as u8 * 3))
            .collect();
        assert!(original.distance(&hash_luma(w, h, w, &altered)) <= 16);
        // Half the size.
        let half: Vec<u8> = (0..h / 2)
            .flat_map(|y| (0..w / 2).map(move |x| (y, x)))
            .map(|(y, x)| luma[2 * y * w + 2 * x])
            .collect();
        assert!(original.distance(&hash_luma(w / 2, h / 2, w / 2, &half)) <= 16);
    }

    #[test]
    fn uniform_picture_has_quality_zero() {
        for value in [0, 128, 255] {
            let hash = hash_luma(100, 80, 100, &vec![value; 100 * 80]);
            assert_eq!(hash.quality, 0);
        }
        assert!(some_hashes().iter().all(|h| h.quality > 50));
    }

    #[test]
    fn tiny_and_empty_pictures_hash_to_empty() {
        for (w, h) in [(0, 0), (0, 10), (10, 0), (4, 100), (100, 4), (1, 1)] {
            let luma = vec![200; w * h];
            assert_eq!(hash_luma(w, h, w, &luma), PdqHash::EMPTY, "{w}x{h}");
            assert_eq!(hash_rgb(w, h, &vec![200; w * h * 3]), PdqHash::EMPTY, "{w}x{h}");
        }
        // The smallest hashable size and the 64x64 shortcut both work.
        assert_ne!(hash_luma(5, 5, 5, &picture(5, 5)).bits, [0; 32]);
        assert!(hash_luma(64, 64, 64, &picture(64, 64)).quality > 0);
    }

    #[test]
    fn stride_padding_is_ignored() {
        let (w, h, stride) = (123, 77, 128);
        let packed = picture(w, h);
        let mut padded = vec![255; stride * (h - 1) + w];
        for (row, src) in padded.chunks_mut(stride).zip(packed.chunks(w)) {
            row[..w].copy_from_slice(src);
        }
        assert_eq!(hash_luma(w, h, stride, &padded), hash_luma(w, h, w, &packed));
    }

    #[test]
    fn grey_rgb_hashes_like_its_luma() {
        let (w, h) = (160, 90);
        let luma = picture(w, h);
        let rgb: Vec<u8> = luma.iter().flat_map(|&y| [y, y, y]).collect();
        let from_rgb = hash_rgb(w, h, &rgb);
        let from_luma = hash_luma(w, h, w, &luma);
        // The weights sum to 1 only up to float rounding.
        assert!(from_rgb.distance(&from_luma) <= 2);
        assert_eq!(from_rgb.quality, from_luma.quality);
    }

    #[test]
    fn a_reused_hasher_gives_the_same_hashes() {
        let mut hasher = PdqHasher::default();
        for (w, h) in [(320, 240), (64, 64), (97, 61), (320, 240), (3, 3), (200, 300)] {
            let luma = picture(w, h);
            assert_eq!(hasher.hash_luma(w, h, w, &luma), hash_luma(w, h, w, &luma), "{w}x{h}");
        }
    }

    #[test]
    #[should_panic(expected = "needs 1000 bytes, got 999")]
    fn short_luma_buffer_panics() {
        hash_luma(100, 10, 100, &[0; 999]);
    }

    #[test]
    #[should_panic(expected = "stride 99 is less than width 100")]
    fn stride_below_width_panics() {
        hash_luma(100, 10, 99, &[0; 1000]);
    }

    #[test]
    #[should_panic(expected = "is 300 bytes, got 301")]
    fn wrong_rgb_length_panics() {
        hash_rgb(10, 10, &[0; 301]);
    }

    #[test]
    fn hex_round_trips() {
        for hash in some_hashes() {
            let text = hash.to_hex();
            assert_eq!(text.len(), 64);
            assert_eq!(text, text.to_lowercase());
            assert_eq!(text, hash.to_string());
            assert_eq!(PdqHash::from_hex(&text, hash.quality), Ok(hash));
            assert_eq!(PdqHash::from_hex(&text.to_uppercase(), hash.quality), Ok(hash));
        }
    }

    #[test]
    fn hex_text_puts_bit_zero_last() {
        // As in ThreatExchange's Hash256: the last hex digit holds bits 3..=0.
        let mut hash = PdqHash::EMPTY;
        hash.set_bit(0);
        hash.set_bit(255);
        assert_eq!(hash.to_hex(), format!("8{}1", "0".repeat(62)));
    }

    #[test]
    fn malformed_hex_is_refused() {
        let good = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        assert_eq!(PdqHash::from_hex(&good[1..], 90), Err(PdqError::HexLength(63)));
        assert_eq!(PdqHash::from_hex(&format!("{good}0"), 90), Err(PdqError::HexLength(65)));
        assert_eq!(PdqHash::from_hex("", 90), Err(PdqError::HexLength(0)));
        let bad = format!("{}g{}", &good[..10], &good[11..]);
        assert_eq!(
            PdqHash::from_hex(&bad, 90),
            Err(PdqError::NotHex { index: 10, character: 'g' })
        );
        assert_eq!(PdqHash::from_hex(good, 101), Err(PdqError::Quality(101)));
    }

    /// Not a check: prints how long a 720p frame takes. Run with
    /// `cargo test --release -p mosaic-proofs pdq_720p -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints a timing, checks nothing: run it by hand with --release"]
    fn pdq_720p_frame_timing() {
        let (w, h) = (1280, 720);
        let luma = picture(w, h);
        let mut hasher = PdqHasher::default();
        hasher.hash_luma(w, h, w, &luma);
        let runs = 200;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(hasher.hash_luma(w, h, w, std::hint::black_box(&luma)));
        }
        let per_frame = start.elapsed() / runs;
        // Against the time a 30 fps stream gives each frame.
        let budget = std::time::Duration::from_secs(1) / 30;
        println!(
            "PDQ of a 1280x720 luma frame: {per_frame:?} ({:.1}% of a 30 fps frame's {budget:?})",
            100.0 * per_frame.as_secs_f64() / budget.as_secs_f64()
        );
    }
}
