//! Texture images: PNG (the `png` crate) and JPEG (`zune-jpeg`) to RGBA8.
//!
//! The header is read by hand FIRST and the claimed size checked against the
//! pixel limit before any decoder runs or any pixel buffer is allocated: a
//! 100-byte PNG may claim 60000x60000 pixels.

use std::io::Cursor;

use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::scene::Texture;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// The image's format and claimed size, from its first bytes only.
pub(super) fn probe(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
            return Err("truncated PNG: no IHDR header".into());
        }
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        return Ok((ImageFormat::Png, w, h));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let (w, h) = jpeg_size(bytes)?;
        return Ok((ImageFormat::Jpeg, w, h));
    }
    Err("neither PNG nor JPEG (the only image formats glTF core allows)".into())
}

/// Walks JPEG markers up to the first start-of-frame and returns its size.
fn jpeg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let mut pos = 2;
    loop {
        // Skip to a marker: 0xFF followed by a non-0xFF byte.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err("truncated JPEG: no start-of-frame header".into());
        };
        pos += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // no payload
            0xD9 | 0xDA => return Err("JPEG without a start-of-frame header".into()),
            _ => {}
        }
        if pos + 2 > bytes.len() {
            return Err("truncated JPEG header".into());
        }
        let len = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as usize;
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            if pos + 7 > bytes.len() {
                return Err("truncated JPEG start-of-frame".into());
            }
            let h = u16::from_be_bytes([bytes[pos + 3], bytes[pos + 4]]) as u32;
            let w = u16::from_be_bytes([bytes[pos + 5], bytes[pos + 6]]) as u32;
            return Ok((w, h));
        }
        if len < 2 {
            return Err("malformed JPEG segment length".into());
        }
        pos += len;
    }
}

/// Decodes to RGBA8 after checking the claimed size against `max_pixels`
/// (the caller reports an over-limit size with its own error).
pub(super) fn decode(bytes: &[u8], max_pixels: u64) -> Result<Texture, String> {
    let (format, w, h) = probe(bytes)?;
    if w == 0 || h == 0 {
        return Err(format!("has a zero size ({w}x{h})"));
    }
    let pixels = w as u64 * h as u64;
    if pixels > max_pixels {
        return Err(format!("claims {w}x{h} pixels, over the limit of {max_pixels}"));
    }
    let rgba8 = match format {
        ImageFormat::Png => decode_png(bytes, pixels)?,
        ImageFormat::Jpeg => decode_jpeg(bytes, w, h)?,
    };
    if rgba8.len() as u64 != pixels * 4 {
        return Err(format!("decoded to {} bytes, expected {w}x{h} RGBA", rgba8.len()));
    }
    Ok(Texture { width: w, height: h, rgba8 })
}

fn decode_png(bytes: &[u8], pixels: u64) -> Result<Vec<u8>, String> {
    // The decoder's own allocation cap: the output at 16 bits, 4 channels.
    let limits = png::Limits { bytes: (pixels * 8 + (1 << 20)) as usize };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| format!("PNG: {e}"))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(|e| format!("PNG: {e}"))?;
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        png::ColorType::GrayscaleAlpha => {
            buf.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect()
        }
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err("PNG: palette not expanded".into()),
    };
    Ok(rgba)
}

fn decode_jpeg(bytes: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGBA)
        .set_max_width(w as usize)
        .set_max_height(h as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), options);
    let out = decoder.decode().map_err(|e| format!("JPEG: {e:?}"))?;
    // Grayscale and CMYK sources may come out in another layout; widen those.
    let pixels = w as usize * h as usize;
    Ok(match out.len() / pixels.max(1) {
        1 => out.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        3 => out.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        _ => out,
    })
}
