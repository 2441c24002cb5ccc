//! Texture lookups: bilinear filtering with repeat wrapping of the scene's
//! RGBA8 images.
//!
//! Colour slots (base colour, emissive) are stored sRGB-encoded; they are
//! decoded to linear per texel *before* filtering, as a GPU's sRGB formats
//! do. Data slots (metallic-roughness, normals) are filtered as stored.
//! The scene carries no glTF sampler, so every texture repeats.

use std::sync::OnceLock;

use glam::{Vec2, Vec4};

use crate::scene::Texture;

/// Whether the texels hold sRGB-encoded colour or linear data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Srgb,
    Linear,
}

/// sRGB electro-optical transfer function for one channel in [0, 1].
#[inline]
pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

pub(crate) fn srgb_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))
}

#[inline]
fn texel(tex: &Texture, x: u32, y: u32, encoding: Encoding) -> Vec4 {
    let i = ((y as usize) * (tex.width as usize) + x as usize) * 4;
    let Some(p) = tex.rgba8.get(i..i + 4) else {
        return Vec4::ONE;
    };
    let alpha = p[3] as f32 * (1.0 / 255.0);
    match encoding {
        Encoding::Srgb => {
            let t = srgb_table();
            Vec4::new(t[p[0] as usize], t[p[1] as usize], t[p[2] as usize], alpha)
        }
        Encoding::Linear => {
            Vec4::new(p[0] as f32, p[1] as f32, p[2] as f32, p[3] as f32) * (1.0 / 255.0)
        }
    }
}

/// Bilinearly filtered value at `uv` (glTF convention: (0, 0) is the top-left
/// corner of the image), linear RGBA in [0, 1]. Alpha is never sRGB-decoded.
/// A malformed texture (no pixels) reads as white.
pub fn sample(tex: &Texture, uv: Vec2, encoding: Encoding) -> Vec4 {
    if tex.width == 0 || tex.height == 0 {
        return Vec4::ONE;
    }
    let (w, h) = (tex.width as f32, tex.height as f32);
    // Texel centres sit at half-integers.
    let x = uv.x * w - 0.5;
    let y = uv.y * h - 0.5;
    if !x.is_finite() || !y.is_finite() {
        return texel(tex, 0, 0, encoding);
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let wrap = |i: f32, n: u32| -> u32 { (i.rem_euclid(n as f32) as u32).min(n - 1) };
    let (xa, xb) = (wrap(x0, tex.width), wrap(x0 + 1.0, tex.width));
    let (ya, yb) = (wrap(y0, tex.height), wrap(y0 + 1.0, tex.height));
    let top = texel(tex, xa, ya, encoding).lerp(texel(tex, xb, ya, encoding), fx);
    let bottom = texel(tex, xa, yb, encoding).lerp(texel(tex, xb, yb, encoding), fx);
    top.lerp(bottom, fy)
}

/// Mean linear value of a texture, for weighting emissive triangles.
pub fn average(tex: &Texture, encoding: Encoding) -> Vec4 {
    let n = tex.width as usize * tex.height as usize;
    if n == 0 || tex.rgba8.len() < n * 4 {
        return Vec4::ONE;
    }
    let mut sum = glam::DVec4::ZERO;
    for y in 0..tex.height {
        for x in 0..tex.width {
            sum += texel(tex, x, y, encoding).as_dvec4();
        }
    }
    (sum / n as f64).as_vec4()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> Texture {
        // 2x2: black, white / white, black (RGB), alpha 255.
        let mut rgba8 = Vec::new();
        for v in [0u8, 255, 255, 0] {
            rgba8.extend_from_slice(&[v, v, v, 255]);
        }
        Texture { width: 2, height: 2, rgba8 }
    }

    #[test]
    fn texel_centres_return_exact_values() {
        let t = checker();
        let a = sample(&t, Vec2::new(0.25, 0.25), Encoding::Linear);
        let b = sample(&t, Vec2::new(0.75, 0.25), Encoding::Linear);
        assert!((a.x - 0.0).abs() < 1e-6 && (b.x - 1.0).abs() < 1e-6, "{a} {b}");
    }

    #[test]
    fn corners_blend_with_repeat_wrap() {
        let t = checker();
        // uv (0, 0) is the shared corner of four texels (wrapping): mean 0.5.
        let c = sample(&t, Vec2::ZERO, Encoding::Linear);
        assert!((c.x - 0.5).abs() < 1e-6, "{c}");
        // A whole period away gives the same value.
        let d = sample(&t, Vec2::new(3.25, -1.75), Encoding::Linear);
        let e = sample(&t, Vec2::new(0.25, 0.25), Encoding::Linear);
        assert!((d - e).abs().max_element() < 1e-5, "{d} {e}");
    }

    #[test]
    fn srgb_slots_decode_before_filtering() {
        let t = Texture { width: 1, height: 1, rgba8: vec![128, 128, 128, 128] };
        let s = sample(&t, Vec2::splat(0.5), Encoding::Srgb);
        assert!((s.x - 0.2158).abs() < 1e-3, "{s}");
        assert!((s.w - 128.0 / 255.0).abs() < 1e-6, "alpha stays linear");
        let l = sample(&t, Vec2::splat(0.5), Encoding::Linear);
        assert!((l.x - 128.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn average_of_checker_is_half() {
        assert!((average(&checker(), Encoding::Linear).x - 0.5).abs() < 1e-6);
    }
}
