//! Cheap checks of one rendered frame: decodes, right size, not blank, finite.
//!
//! The bytes come from a worker and may be hostile: the header's dimensions are checked against
//! the task's before any pixel buffer is allocated, so a forged header cannot make the
//! orchestrator allocate more than the frame it asked for.

use std::io::Cursor;

use exr::prelude::{ReadChannels as _, ReadLayers as _};
use protocol::ImageFormat;

/// Largest channel value, out of 255, that still counts as black in an 8-bit PNG. Allows for
/// dithering noise in an otherwise black frame.
const PNG_BLACK_MAX: u8 = 1;

/// Largest linear value that still counts as black in an EXR (about 0.3/255 after sRGB encoding).
const EXR_BLACK_MAX: f32 = 1e-4;

/// Why a frame was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FrameDefect {
    #[error("the frame is not a valid {format} image: {reason}")]
    Undecodable { format: ImageFormat, reason: String },
    #[error(
        "the frame is {actual_width}x{actual_height}, but the task asked for {width}x{height}"
    )]
    WrongSize { width: u32, height: u32, actual_width: u64, actual_height: u64 },
    #[error("the frame is all black")]
    AllBlack,
    #[error("every pixel of the frame is the same colour {colour}")]
    AllOneColour { colour: String },
    #[error("the frame has {count} NaN or infinite pixel values (the first at x={x}, y={y})")]
    NonFinite { count: u64, x: u32, y: u32 },
}

/// Checks a worker's frame: it decodes as `format`, is `width`x`height`, is not all black,
/// not all one colour, and (EXR) holds no NaN or infinite value.
pub fn check_frame(
    bytes: &[u8],
    format: ImageFormat,
    width: u32,
    height: u32,
) -> Result<(), FrameDefect> {
    match format {
        ImageFormat::Png => check_png(bytes, width, height),
        ImageFormat::Exr => check_exr(bytes, width, height),
    }
}

fn check_size(width: u32, height: u32, actual: (u64, u64)) -> Result<(), FrameDefect> {
    if actual != (u64::from(width), u64::from(height)) {
        return Err(FrameDefect::WrongSize {
            width,
            height,
            actual_width: actual.0,
            actual_height: actual.1,
        });
    }
    Ok(())
}

fn check_png(bytes: &[u8], width: u32, height: u32) -> Result<(), FrameDefect> {
    let undecodable =
        |reason: String| FrameDefect::Undecodable { format: ImageFormat::Png, reason };
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes and low bit depths expand to 8-bit channels; 16-bit channels strip to 8.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    // Bound the decoder's allocations to what the expected frame can need (RGBA, 8 bits).
    let expected_bytes = u64::from(width) * u64::from(height) * 4;
    decoder.set_limits(png::Limits {
        bytes: usize::try_from(expected_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20),
    });
    let mut reader = decoder.read_info().map_err(|e| undecodable(e.to_string()))?;
    let info = reader.info();
    check_size(width, height, (u64::from(info.width), u64::from(info.height)))?;

    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).map_err(|e| undecodable(e.to_string()))?;
    let channels = frame.color_type.samples();
    let pixels = &pixels[..frame.buffer_size()];
    // Colour channels only: alpha neither makes a frame black nor tells two colours apart.
    let colour_channels = match frame.color_type {
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => 1,
        _ => 3,
    };
    let row_bytes = frame.line_size;
    let colour = |px: &[u8]| px[..colour_channels].to_vec();

    let first = colour(&pixels[..channels]);
    let mut all_black = true;
    let mut all_same = true;
    for row in pixels.chunks_exact(row_bytes) {
        for px in row[..width as usize * channels].chunks_exact(channels) {
            let c = &px[..colour_channels];
            all_black &= c.iter().all(|&v| v <= PNG_BLACK_MAX);
            all_same &= c == first.as_slice();
        }
        if !all_black && !all_same {
            return Ok(());
        }
    }
    if all_black {
        return Err(FrameDefect::AllBlack);
    }
    Err(FrameDefect::AllOneColour { colour: format!("{first:?}") })
}

/// An EXR frame's colour, linear, row by row.
struct ExrPixels {
    width: usize,
    rgb: Vec<[f32; 3]>,
}

fn check_exr(bytes: &[u8], width: u32, height: u32) -> Result<(), FrameDefect> {
    let undecodable =
        |reason: String| FrameDefect::Undecodable { format: ImageFormat::Exr, reason };
    // The header first: its claimed size decides the allocation, so check it before decoding.
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false)
        .map_err(|e| undecodable(e.to_string()))?;
    let header = meta.headers.first().ok_or_else(|| undecodable("it has no layer".into()))?;
    if meta.headers.len() != 1 {
        return Err(undecodable(format!("it has {} layers, expected one", meta.headers.len())));
    }
    if header.deep {
        return Err(undecodable("it holds deep data, expected a flat image".into()));
    }
    check_size(width, height, (header.layer_size.0 as u64, header.layer_size.1 as u64))?;

    let image = exr::prelude::read()
        .no_deep_data()
        .largest_resolution_level()
        .rgba_channels(
            |size, _| ExrPixels { width: size.0, rgb: vec![[0.0; 3]; size.0 * size.1] },
            |pixels: &mut ExrPixels, pos, (r, g, b, _a): (f32, f32, f32, f32)| {
                pixels.rgb[pos.1 * pixels.width + pos.0] = [r, g, b];
            },
        )
        .first_valid_layer()
        .all_attributes()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| undecodable(e.to_string()))?;
    let pixels = image.layer_data.channel_data.pixels;

    let mut non_finite = 0u64;
    let mut first_bad = None;
    for (i, px) in pixels.rgb.iter().enumerate() {
        if px.iter().any(|v| !v.is_finite()) {
            non_finite += 1;
            first_bad.get_or_insert(i);
        }
    }
    if let Some(i) = first_bad {
        let (x, y) = ((i % pixels.width) as u32, (i / pixels.width) as u32);
        return Err(FrameDefect::NonFinite { count: non_finite, x, y });
    }
    if pixels.rgb.iter().all(|px| px.iter().all(|v| v.abs() <= EXR_BLACK_MAX)) {
        return Err(FrameDefect::AllBlack);
    }
    let first = pixels.rgb[0];
    let same = |px: &[f32; 3]| px.iter().zip(first).all(|(a, b)| a.to_bits() == b.to_bits());
    if pixels.rgb.iter().all(same) {
        return Err(FrameDefect::AllOneColour { colour: format!("{first:?}") });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| pixel(x, y))
            .collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    fn exr_bytes(
        width: usize,
        height: usize,
        pixel: impl Fn(usize, usize) -> [f32; 3] + Sync,
    ) -> Vec<u8> {
        use exr::prelude::*;
        let channels = SpecificChannels::rgba(|pos: Vec2<usize>| {
            let [r, g, b] = pixel(pos.0, pos.1);
            (f16::from_f32(r), f16::from_f32(g), f16::from_f32(b), f16::ONE)
        });
        let image = Image::from_channels((width, height), channels);
        let mut out = Cursor::new(Vec::new());
        image.write().to_buffered(&mut out).unwrap();
        out.into_inner()
    }

    fn gradient(x: u32, y: u32) -> [u8; 3] {
        [(x * 10) as u8, (y * 10) as u8, 128]
    }

    #[test]
    fn good_png_frame_passes() {
        assert_eq!(check_frame(&png_bytes(16, 9, gradient), ImageFormat::Png, 16, 9), Ok(()));
    }

    #[test]
    fn good_exr_frame_passes() {
        let bytes = exr_bytes(16, 9, |x, y| [x as f32 / 16.0, y as f32 * 3.0, 0.5]);
        assert_eq!(check_frame(&bytes, ImageFormat::Exr, 16, 9), Ok(()));
    }

    #[test]
    fn garbage_is_undecodable() {
        for format in [ImageFormat::Png, ImageFormat::Exr] {
            let err = check_frame(b"not an image at all", format, 4, 4).unwrap_err();
            assert!(matches!(err, FrameDefect::Undecodable { .. }), "{format}: {err}");
        }
    }

    #[test]
    fn truncated_png_is_undecodable() {
        let bytes = png_bytes(16, 9, gradient);
        let err = check_frame(&bytes[..bytes.len() - 30], ImageFormat::Png, 16, 9).unwrap_err();
        assert!(matches!(err, FrameDefect::Undecodable { .. }), "{err}");
    }

    #[test]
    fn png_given_as_exr_is_undecodable() {
        let err = check_frame(&png_bytes(4, 4, gradient), ImageFormat::Exr, 4, 4).unwrap_err();
        assert!(matches!(err, FrameDefect::Undecodable { format: ImageFormat::Exr, .. }));
    }

    #[test]
    fn wrong_size_is_reported_with_both_sizes() {
        let err = check_frame(&png_bytes(16, 9, gradient), ImageFormat::Png, 16, 10).unwrap_err();
        assert_eq!(
            err,
            FrameDefect::WrongSize { width: 16, height: 10, actual_width: 16, actual_height: 9 }
        );
        assert!(err.to_string().contains("16x9"), "{err}");
        let exr = exr_bytes(8, 8, |x, y| [x as f32, y as f32, 0.0]);
        let err = check_frame(&exr, ImageFormat::Exr, 16, 8).unwrap_err();
        assert!(matches!(err, FrameDefect::WrongSize { actual_width: 8, .. }), "{err}");
    }

    #[test]
    fn huge_claimed_png_is_refused_before_decoding() {
        // A valid header claiming 60000x60000 pixels with no image data behind it: refused by
        // its header, never allocated.
        let mut bytes = Vec::new();
        let encoder = png::Encoder::new(&mut bytes, 60000, 60000);
        let mut writer = encoder.write_header().unwrap();
        // An empty zlib stream: the decoder reads the header up to the first IDAT.
        writer
            .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            .unwrap();
        drop(writer);
        let err = check_frame(&bytes, ImageFormat::Png, 64, 64).unwrap_err();
        assert!(matches!(err, FrameDefect::WrongSize { actual_width: 60000, .. }), "{err}");
    }

    #[test]
    fn all_black_frames_are_refused() {
        let png = png_bytes(8, 8, |x, _| [(x % 2) as u8, 0, 0]);
        assert_eq!(check_frame(&png, ImageFormat::Png, 8, 8), Err(FrameDefect::AllBlack));
        let exr = exr_bytes(8, 8, |_, _| [0.0; 3]);
        assert_eq!(check_frame(&exr, ImageFormat::Exr, 8, 8), Err(FrameDefect::AllBlack));
    }

    #[test]
    fn dark_but_not_black_frame_passes() {
        let png = png_bytes(8, 8, |x, y| [(x + y) as u8, 3, 0]);
        assert_eq!(check_frame(&png, ImageFormat::Png, 8, 8), Ok(()));
    }

    #[test]
    fn all_one_colour_frames_are_refused() {
        let png = png_bytes(8, 8, |_, _| [200, 10, 10]);
        let err = check_frame(&png, ImageFormat::Png, 8, 8).unwrap_err();
        assert!(matches!(err, FrameDefect::AllOneColour { .. }), "{err}");
        assert!(err.to_string().contains("[200, 10, 10]"), "{err}");
        let exr = exr_bytes(8, 8, |_, _| [0.25, 0.5, 1.0]);
        let err = check_frame(&exr, ImageFormat::Exr, 8, 8).unwrap_err();
        assert!(matches!(err, FrameDefect::AllOneColour { .. }), "{err}");
    }

    #[test]
    fn one_differing_pixel_is_enough() {
        let png =
            png_bytes(8, 8, |x, y| if (x, y) == (7, 7) { [201, 10, 10] } else { [200, 10, 10] });
        assert_eq!(check_frame(&png, ImageFormat::Png, 8, 8), Ok(()));
    }

    #[test]
    fn nan_and_infinite_pixels_are_refused_with_position() {
        let exr = exr_bytes(8, 8, |x, y| match (x, y) {
            (3, 2) => [f32::NAN, 0.0, 0.0],
            (5, 6) => [0.0, f32::INFINITY, 0.0],
            _ => [x as f32, y as f32, 1.0],
        });
        assert_eq!(
            check_frame(&exr, ImageFormat::Exr, 8, 8),
            Err(FrameDefect::NonFinite { count: 2, x: 3, y: 2 })
        );
    }

    #[test]
    fn rgba_and_grey_pngs_are_read() {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 4, 4);
        encoder.set_color(png::ColorType::Rgba);
        let mut writer = encoder.write_header().unwrap();
        // Same colour everywhere, only alpha differs: still one colour.
        let data: Vec<u8> = (0..16u8).flat_map(|i| [9, 90, 200, i * 10]).collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        let err = check_frame(&out, ImageFormat::Png, 4, 4).unwrap_err();
        assert!(matches!(err, FrameDefect::AllOneColour { .. }), "{err}");

        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 4, 4);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&(0..16u8).map(|i| i * 16).collect::<Vec<_>>()).unwrap();
        writer.finish().unwrap();
        assert_eq!(check_frame(&out, ImageFormat::Png, 4, 4), Ok(()));
    }
}
