//! A rendered frame: linear radiance, and its encodings.
//!
//! - PNG: 8-bit sRGB after exposure 1.0 and Krzysztof Narkowicz's fit of the
//!   ACES filmic curve, applied per channel:
//!   `x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14)`, clamped to [0, 1]. It maps 0 to 0, rolls highlights off smoothly
//!   instead of clipping them, and desaturates very bright colours as film
//!   does. A radiance of 1.0 becomes 0.80 (sRGB 231).
//! - EXR: the linear values untouched, as half-float RGBA (alpha 1).
//!
//! Encoding is deterministic: the same pixels give the same bytes.

use glam::{DVec3, Vec3};

/// Linear RGB radiance, row-major, rows top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<Vec3>,
}

/// Narkowicz's ACES filmic fit.
#[inline]
pub fn tonemap(x: f32) -> f32 {
    let x = x.max(0.0);
    ((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)).clamp(0.0, 1.0)
}

/// sRGB opto-electronic transfer function for one channel in [0, 1].
#[inline]
pub fn linear_to_srgb(c: f32) -> f32 {
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

impl Image {
    /// A black image.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, pixels: vec![Vec3::ZERO; width as usize * height as usize] }
    }

    #[inline]
    pub fn pixel(&self, x: u32, y: u32) -> Vec3 {
        self.pixels[y as usize * self.width as usize + x as usize]
    }

    /// Whether any channel of any pixel is NaN or infinite.
    pub fn has_non_finite(&self) -> bool {
        self.pixels.iter().any(|p| !p.is_finite())
    }

    /// Mean linear radiance over all pixels (zero for an empty image).
    pub fn mean(&self) -> Vec3 {
        if self.pixels.is_empty() {
            return Vec3::ZERO;
        }
        let sum: DVec3 = self.pixels.iter().map(|p| p.as_dvec3()).sum();
        (sum / self.pixels.len() as f64).as_vec3()
    }

    /// The tonemapped 8-bit sRGB values, RGB interleaved. NaN reads as 0.
    pub fn to_srgb8(&self) -> Vec<u8> {
        let encode = |c: f32| -> u8 {
            let c = if c.is_nan() { 0.0 } else { c };
            (linear_to_srgb(tonemap(c)) * 255.0 + 0.5) as u8
        };
        let mut out = Vec::with_capacity(self.pixels.len() * 3);
        for p in &self.pixels {
            out.extend_from_slice(&[encode(p.x), encode(p.y), encode(p.z)]);
        }
        out
    }

    /// The tonemapped frame as an 8-bit sRGB PNG (colour type RGB).
    pub fn to_png(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
            // Writing into a Vec cannot fail, and the header matches the data
            // by construction.
            let mut writer = encoder.write_header().expect("PNG header into memory");
            writer.write_image_data(&self.to_srgb8()).expect("PNG data into memory");
        }
        bytes
    }

    /// The linear frame as a half-float RGBA OpenEXR file (ZIP compressed).
    pub fn to_exr(&self) -> Vec<u8> {
        use exr::prelude::*;
        let (w, h) = (self.width as usize, self.height as usize);
        let channels = SpecificChannels::rgba(|pos: Vec2<usize>| {
            let p = self.pixels[pos.y() * w + pos.x()];
            (f16::from_f32(p.x), f16::from_f32(p.y), f16::from_f32(p.z), f16::ONE)
        });
        let layer =
            Layer::new((w, h), LayerAttributes::default(), Encoding::SMALL_LOSSLESS, channels);
        let image = exr::image::Image::from_layer(layer);
        let mut cursor = std::io::Cursor::new(Vec::new());
        image
            .write()
            .non_parallel()
            .to_buffered(&mut cursor)
            .expect("an RGBA layer with valid size encodes into memory");
        cursor.into_inner()
    }
}

/// Why an EXR could not be read back into an [`Image`].
#[derive(Debug, thiserror::Error)]
pub enum ExrReadError {
    #[error("not a readable RGB(A) OpenEXR image: {0}")]
    Decode(String),
    #[error("the EXR is {width}x{height}, over the {max} pixels allowed")]
    TooLarge { width: usize, height: usize, max: usize },
}

impl Image {
    /// Reads the first RGB(A) layer of an OpenEXR file (ours, or any
    /// compositor's) as linear radiance. The header's size is checked
    /// against `max_pixels` before any pixel is allocated.
    pub fn from_exr(bytes: &[u8], max_pixels: usize) -> Result<Image, ExrReadError> {
        use exr::prelude::{ReadChannels as _, ReadLayers as _};
        let decode = |e: exr::error::Error| ExrReadError::Decode(e.to_string());
        let meta = exr::meta::MetaData::read_from_buffered(std::io::Cursor::new(bytes), false)
            .map_err(decode)?;
        let header = meta.headers.first().ok_or(ExrReadError::Decode("no layer".into()))?;
        let (width, height) = (header.layer_size.width(), header.layer_size.height());
        if width.saturating_mul(height) > max_pixels {
            return Err(ExrReadError::TooLarge { width, height, max: max_pixels });
        }
        let image = exr::prelude::read()
            .no_deep_data()
            .largest_resolution_level()
            .rgba_channels(
                |size, _| Image::new(size.0 as u32, size.1 as u32),
                |img: &mut Image, pos, (r, g, b, _a): (f32, f32, f32, f32)| {
                    img.pixels[pos.1 * img.width as usize + pos.0] = Vec3::new(r, g, b);
                },
            )
            .first_valid_layer()
            .all_attributes()
            .from_buffered(std::io::Cursor::new(bytes))
            .map_err(decode)?;
        Ok(image.layer_data.channel_data.pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Image {
        let mut img = Image::new(w, h);
        for y in 0..h {
            for x in 0..w {
                img.pixels[(y * w + x) as usize] = Vec3::new(x as f32 / 4.0, y as f32 / 8.0, 0.5);
            }
        }
        img
    }

    #[test]
    fn exr_reads_back_what_was_written_and_refuses_oversize() {
        let img = gradient(8, 4);
        let back = Image::from_exr(&img.to_exr(), 32).unwrap();
        assert_eq!((back.width, back.height), (8, 4));
        for (a, b) in img.pixels.iter().zip(&back.pixels) {
            assert!((*a - *b).abs().max_element() < 1e-2, "{a} vs {b}");
        }
        assert!(matches!(Image::from_exr(&img.to_exr(), 31), Err(ExrReadError::TooLarge { .. })));
        assert!(matches!(Image::from_exr(b"not exr", 32), Err(ExrReadError::Decode(_))));
    }

    #[test]
    fn tonemap_is_monotonic_and_bounded() {
        let mut last = 0.0;
        for i in 0..1000 {
            let v = tonemap(i as f32 * 0.05);
            assert!(v >= last && v <= 1.0);
            last = v;
        }
        assert_eq!(tonemap(0.0), 0.0);
        assert!((tonemap(1.0) - 0.80).abs() < 0.01);
    }

    #[test]
    fn png_decodes_to_the_right_size() {
        let img = gradient(13, 7);
        let bytes = img.to_png();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (13, 7));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], img.to_srgb8().as_slice());
        // Black stays black, brighter pixels encode brighter.
        assert_eq!(buf[0], 0);
        assert!(buf[3 * 12] > buf[3]);
    }

    #[test]
    fn exr_roundtrips_linear_values() {
        let img = gradient(9, 5);
        let bytes = img.to_exr();
        assert!(bytes.len() > 100);
        assert_eq!(&bytes[..4], &[0x76, 0x2f, 0x31, 0x01], "EXR magic number");
        let read = read_first_rgba_layer_from_file_bytes(&bytes);
        assert_eq!(read.0, (9, 5));
        let got = read.1[(4 * 9 + 3) as usize];
        let want = img.pixel(3, 4);
        assert!((got - want).abs().max_element() < 2e-3, "{got} vs {want}");
    }

    fn read_first_rgba_layer_from_file_bytes(bytes: &[u8]) -> ((usize, usize), Vec<Vec3>) {
        use exr::prelude::*;
        let image = exr::prelude::read()
            .no_deep_data()
            .largest_resolution_level()
            .rgba_channels(
                |res, _| (res, vec![Vec3::ZERO; res.width() * res.height()]),
                |(res, px): &mut (Vec2<usize>, Vec<Vec3>),
                 pos,
                 (r, g, b, _a): (f32, f32, f32, f32)| {
                    px[pos.y() * res.width() + pos.x()] = Vec3::new(r, g, b);
                },
            )
            .first_valid_layer()
            .all_attributes()
            .non_parallel()
            .from_buffered(std::io::Cursor::new(bytes))
            .unwrap();
        let (res, px) = image.layer_data.channel_data.pixels;
        ((res.width(), res.height()), px)
    }

    #[test]
    fn non_finite_pixels_are_reported_and_mean_averages() {
        let mut img = Image::new(2, 1);
        img.pixels[0] = Vec3::new(1.0, 2.0, 3.0);
        assert!(!img.has_non_finite());
        assert_eq!(img.mean(), Vec3::new(0.5, 1.0, 1.5));
        img.pixels[1].y = f32::NAN;
        assert!(img.has_non_finite());
        img.pixels[1].y = f32::INFINITY;
        assert!(img.has_non_finite());
    }
}
