//! glTF's metallic-roughness material as a BSDF.
//!
//! ```text
//! f = (1 - metallic) (1 - E_d(n.v)) base / pi          (Lambert)
//!   + F(v.h) D(h) G2(v, l) / (4 |n.v| |n.l|)            (GGX)
//! ```
//! with D the Trowbridge-Reitz distribution (alpha = roughness^2), G2 the
//! height-correlated Smith term, F Schlick's Fresnel with
//! F0 = mix(0.04, base, metallic). The diffuse layer gets the energy the
//! dielectric specular layer does not reflect: E_d(n.v) is the directional
//! albedo of the GGX lobe with F0 = 0.04, tabulated once per process by
//! Monte Carlo (deterministically). glTF's appendix B weights the diffuse by
//! 1 - F(v.h) instead, which reflects more than comes in at grazing angles
//! (albedo up to 1.3); with albedo scaling a white dielectric reflects
//! exactly what comes in, which is what a white furnace test expects.
//!
//! Sampling picks the specular lobe with a probability from the Fresnel
//! weight at the outgoing angle, samples GGX's distribution of visible
//! normals (Heitz 2018) or a cosine lobe, and always returns the pdf of the
//! *mixture*, so `eval`, `pdf` and `sample` agree and MIS weights are exact.
//! Everything works in a local frame where the shading normal is +Z; the
//! caller keeps `wo` in the upper hemisphere (back faces are flipped).

use std::f32::consts::{FRAC_1_PI, PI};
use std::sync::OnceLock;

use glam::{Vec2, Vec3, Vec4Swizzles};

use crate::sampler::Sampler;
use crate::scene::{Material, Texture};
use crate::texture::{self, Encoding};

/// Smallest GGX alpha: keeps mirrors finite in f32.
const MIN_ALPHA: f32 = 1e-3;
const DIELECTRIC_F0: f32 = 0.04;

/// Relative luminance of linear Rec.709 RGB.
#[inline]
pub fn luminance(c: Vec3) -> f32 {
    c.dot(Vec3::new(0.2126, 0.7152, 0.0722))
}

/// An orthonormal basis around a unit normal (Duff et al. 2017, branchless).
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub tangent: Vec3,
    pub bitangent: Vec3,
    pub normal: Vec3,
}

impl Frame {
    pub fn from_normal(n: Vec3) -> Self {
        let sign = 1.0f32.copysign(n.z);
        let a = -1.0 / (sign + n.z);
        let b = n.x * n.y * a;
        let tangent = Vec3::new(1.0 + sign * n.x * n.x * a, sign * b, -sign * n.x);
        let bitangent = Vec3::new(b, sign + n.y * n.y * a, -n.y);
        Self { tangent, bitangent, normal: n }
    }

    #[inline]
    pub fn to_local(&self, v: Vec3) -> Vec3 {
        Vec3::new(v.dot(self.tangent), v.dot(self.bitangent), v.dot(self.normal))
    }

    #[inline]
    pub fn to_world(&self, v: Vec3) -> Vec3 {
        self.tangent * v.x + self.bitangent * v.y + self.normal * v.z
    }
}

/// A direction drawn from the BSDF.
#[derive(Clone, Copy, Debug)]
pub struct BsdfSample {
    /// Incident direction, local frame.
    pub wi: Vec3,
    /// f * cos(theta_i) / pdf.
    pub weight: Vec3,
    /// Solid-angle pdf of the mixture.
    pub pdf: f32,
}

/// The material evaluated at one surface point.
#[derive(Clone, Copy, Debug)]
pub struct Bsdf {
    /// Lambertian albedo before the Fresnel weight: base * (1 - metallic).
    diffuse: Vec3,
    /// Specular reflectance at normal incidence.
    f0: Vec3,
    alpha: f32,
    roughness: f32,
}

#[inline]
fn schlick_weight(cos: f32) -> f32 {
    let m = (1.0 - cos).clamp(0.0, 1.0);
    let m2 = m * m;
    m2 * m2 * m
}

impl Bsdf {
    pub fn new(base_color: Vec3, metallic: f32, roughness: f32) -> Self {
        let metallic = metallic.clamp(0.0, 1.0);
        let base = base_color.clamp(Vec3::ZERO, Vec3::ONE);
        let roughness = roughness.clamp(0.0, 1.0);
        Self {
            diffuse: base * (1.0 - metallic),
            f0: Vec3::splat(DIELECTRIC_F0).lerp(base, metallic),
            alpha: (roughness * roughness).max(MIN_ALPHA),
            roughness,
        }
    }

    /// Probability of sampling the specular lobe for this `wo`.
    #[inline]
    fn specular_probability(&self, cos_o: f32) -> f32 {
        let fw = schlick_weight(cos_o);
        let spec = luminance(self.f0 + (Vec3::ONE - self.f0) * fw);
        let diff = luminance(self.diffuse) * (1.0 - (DIELECTRIC_F0 + (1.0 - DIELECTRIC_F0) * fw));
        if spec + diff > 0.0 {
            spec / (spec + diff)
        } else {
            1.0
        }
    }

    #[inline]
    fn d(&self, h: Vec3) -> f32 {
        let a2 = self.alpha * self.alpha;
        let c2 = h.z * h.z;
        let denom = c2 * (a2 - 1.0) + 1.0;
        a2 / (PI * denom * denom)
    }

    #[inline]
    fn lambda(&self, w: Vec3) -> f32 {
        let c2 = w.z * w.z;
        if c2 <= 0.0 {
            return f32::INFINITY;
        }
        let tan2 = (1.0 - c2).max(0.0) / c2;
        0.5 * ((1.0 + self.alpha * self.alpha * tan2).sqrt() - 1.0)
    }

    /// f * cos(theta_i) and the mixture pdf for the pair (local frame).
    #[inline]
    pub fn eval(&self, wo: Vec3, wi: Vec3) -> (Vec3, f32) {
        if wo.z <= 0.0 || wi.z <= 0.0 {
            return (Vec3::ZERO, 0.0);
        }
        let h = (wo + wi).normalize();
        let o_dot_h = wo.dot(h).max(0.0);
        let fw = schlick_weight(o_dot_h);
        let fresnel = self.f0 + (Vec3::ONE - self.f0) * fw;
        let d = self.d(h);
        let lambda_o = self.lambda(wo);
        let g2 = 1.0 / (1.0 + lambda_o + self.lambda(wi));
        let g1 = 1.0 / (1.0 + lambda_o);
        let spec_cos = fresnel * (d * g2 / (4.0 * wo.z));
        let diffuse_cos = if self.diffuse == Vec3::ZERO {
            Vec3::ZERO
        } else {
            let diffuse_weight = 1.0 - dielectric_specular_albedo(wo.z, self.roughness);
            self.diffuse * (diffuse_weight * FRAC_1_PI * wi.z)
        };
        let p_spec = self.specular_probability(wo.z);
        let pdf = p_spec * (g1 * d / (4.0 * wo.z)) + (1.0 - p_spec) * wi.z * FRAC_1_PI;
        (spec_cos + diffuse_cos, pdf)
    }

    /// Mixture pdf of sampling `wi` given `wo` (local frame).
    #[inline]
    pub fn pdf(&self, wo: Vec3, wi: Vec3) -> f32 {
        self.eval(wo, wi).1
    }

    /// Draws `wi` for `wo`; `u_lobe` picks the lobe, `u` the direction.
    pub fn sample(&self, wo: Vec3, u_lobe: f32, u: Vec2) -> Option<BsdfSample> {
        if wo.z <= 0.0 {
            return None;
        }
        let wi = if u_lobe < self.specular_probability(wo.z) {
            let h = self.sample_visible_normal(wo, u);
            let wi = 2.0 * wo.dot(h) * h - wo;
            if wi.z <= 0.0 {
                return None;
            }
            wi
        } else {
            let r = u.x.sqrt();
            let phi = 2.0 * PI * u.y;
            let (s, c) = phi.sin_cos();
            Vec3::new(r * c, r * s, (1.0 - u.x).max(0.0).sqrt())
        };
        let (f_cos, pdf) = self.eval(wo, wi);
        if !(pdf.is_finite() && pdf > 0.0) {
            return None;
        }
        Some(BsdfSample { wi, weight: f_cos / pdf, pdf })
    }

    /// Heitz 2018, "Sampling the GGX Distribution of Visible Normals".
    fn sample_visible_normal(&self, wo: Vec3, u: Vec2) -> Vec3 {
        let a = self.alpha;
        let vh = Vec3::new(a * wo.x, a * wo.y, wo.z).normalize();
        let len2 = vh.x * vh.x + vh.y * vh.y;
        let t1 =
            if len2 > 0.0 { Vec3::new(-vh.y, vh.x, 0.0) * len2.sqrt().recip() } else { Vec3::X };
        let t2 = vh.cross(t1);
        let r = u.x.sqrt();
        let phi = 2.0 * PI * u.y;
        let (s, c) = phi.sin_cos();
        let p1 = r * c;
        let mut p2 = r * s;
        let blend = 0.5 * (1.0 + vh.z);
        p2 = (1.0 - blend) * (1.0 - p1 * p1).max(0.0).sqrt() + blend * p2;
        let nh = t1 * p1 + t2 * p2 + vh * (1.0 - p1 * p1 - p2 * p2).max(0.0).sqrt();
        Vec3::new(a * nh.x, a * nh.y, nh.z.max(1e-6)).normalize()
    }
}

const ALBEDO_COS: usize = 32;
const ALBEDO_ROUGHNESS: usize = 16;
const ALBEDO_SAMPLES: u32 = 1024;

/// E_d[roughness][cos]: directional albedo of the F0 = 0.04 GGX lobe on
/// regular grids over roughness and cos(theta_o) in [0, 1].
fn dielectric_albedo_table() -> &'static [[f32; ALBEDO_COS]; ALBEDO_ROUGHNESS] {
    static TABLE: OnceLock<[[f32; ALBEDO_COS]; ALBEDO_ROUGHNESS]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [[0.0; ALBEDO_COS]; ALBEDO_ROUGHNESS];
        for (r, row) in table.iter_mut().enumerate() {
            let roughness = r as f32 / (ALBEDO_ROUGHNESS - 1) as f32;
            // No diffuse: eval never consults this table while building it.
            let lobe = Bsdf::new(Vec3::ZERO, 0.0, roughness);
            for (c, entry) in row.iter_mut().enumerate() {
                let cos = (c as f32 / (ALBEDO_COS - 1) as f32).max(0.01);
                let wo = Vec3::new((1.0 - cos * cos).sqrt(), 0.0, cos);
                let mut sampler = Sampler::new(0x00a1_bed0, 0, (r * ALBEDO_COS + c) as u64, 0);
                let mut sum = 0.0f64;
                for _ in 0..ALBEDO_SAMPLES {
                    if let Some(s) = lobe.sample(wo, 0.0, sampler.next_2d()) {
                        sum += f64::from(s.weight.x);
                    }
                }
                *entry = (sum / f64::from(ALBEDO_SAMPLES)).clamp(0.0, 1.0) as f32;
            }
        }
        table
    })
}

/// [`dielectric_albedo_table`] row by row, for the GPU backends.
pub(crate) fn dielectric_albedo_flat() -> Vec<f32> {
    dielectric_albedo_table().iter().flatten().copied().collect()
}

/// Bilinear lookup of [`dielectric_albedo_table`].
fn dielectric_specular_albedo(cos: f32, roughness: f32) -> f32 {
    let table = dielectric_albedo_table();
    let x = cos.clamp(0.0, 1.0) * (ALBEDO_COS - 1) as f32;
    let y = roughness.clamp(0.0, 1.0) * (ALBEDO_ROUGHNESS - 1) as f32;
    // Non-negative, so truncation is floor.
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(ALBEDO_COS - 1), (y0 + 1).min(ALBEDO_ROUGHNESS - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let row = |y: usize| table[y][x0] + (table[y][x1] - table[y][x0]) * fx;
    row(y0) + (row(y1) - row(y0)) * fy
}

/// A material's inputs resolved at one texture coordinate.
#[derive(Clone, Copy, Debug)]
pub struct MaterialPoint {
    pub bsdf: Bsdf,
    /// Tangent-space normal from the normal map, scaled and unnormalised;
    /// `None` without a normal map.
    pub tangent_normal: Option<Vec3>,
}

fn texture_of(textures: &[Texture], r: Option<crate::scene::TextureRef>) -> Option<&Texture> {
    r.and_then(|r| textures.get(r.texture as usize))
}

/// Resolves `material` at `uv`: base colour (sRGB texture times factor),
/// metallic (B) and roughness (G) from their texture times the factors, and
/// the normal map. Base-colour alpha is ignored (everything is opaque).
pub fn resolve(material: &Material, textures: &[Texture], uv: Vec2) -> MaterialPoint {
    let mut base = material.base_color.xyz();
    if let Some(t) = texture_of(textures, material.base_color_texture) {
        base *= texture::sample(t, uv, Encoding::Srgb).xyz();
    }
    let (mut metallic, mut roughness) = (material.metallic, material.roughness);
    if let Some(t) = texture_of(textures, material.metallic_roughness_texture) {
        let mr = texture::sample(t, uv, Encoding::Linear);
        roughness *= mr.y;
        metallic *= mr.z;
    }
    let tangent_normal = texture_of(textures, material.normal_texture).map(|t| {
        let n = texture::sample(t, uv, Encoding::Linear).xyz() * 2.0 - Vec3::ONE;
        Vec3::new(n.x * material.normal_scale, n.y * material.normal_scale, n.z)
    });
    MaterialPoint { bsdf: Bsdf::new(base, metallic, roughness), tangent_normal }
}

/// Emitted radiance of `material` at `uv`: emissive factor times the sRGB
/// emissive texture.
#[inline]
pub fn emission(material: &Material, textures: &[Texture], uv: Vec2) -> Vec3 {
    if material.emissive == Vec3::ZERO {
        return Vec3::ZERO;
    }
    match texture_of(textures, material.emissive_texture) {
        Some(t) => material.emissive * texture::sample(t, uv, Encoding::Srgb).xyz(),
        None => material.emissive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn materials() -> Vec<(&'static str, Bsdf)> {
        vec![
            ("white rough dielectric", Bsdf::new(Vec3::ONE, 0.0, 1.0)),
            ("white glossy dielectric", Bsdf::new(Vec3::ONE, 0.0, 0.3)),
            ("red plastic", Bsdf::new(Vec3::new(0.8, 0.1, 0.1), 0.0, 0.5)),
            ("gold rough", Bsdf::new(Vec3::new(1.0, 0.8, 0.3), 1.0, 0.6)),
            ("white metal glossy", Bsdf::new(Vec3::ONE, 1.0, 0.2)),
            ("near mirror", Bsdf::new(Vec3::ONE, 1.0, 0.02)),
        ]
    }

    fn wo_at(cos: f32) -> Vec3 {
        Vec3::new((1.0 - cos * cos).sqrt(), 0.0, cos)
    }

    #[test]
    fn sample_weight_and_pdf_match_eval() {
        let mut s = Sampler::new(5, 0, 0, 0);
        for (name, bsdf) in materials() {
            for cos in [0.1, 0.5, 0.95] {
                let wo = wo_at(cos);
                for _ in 0..500 {
                    let Some(smp) = bsdf.sample(wo, s.next_f32(), s.next_2d()) else { continue };
                    let (f, pdf) = bsdf.eval(wo, smp.wi);
                    assert!((pdf - smp.pdf).abs() <= 1e-4 * pdf, "{name}: {pdf} vs {}", smp.pdf);
                    assert!((f / pdf - smp.weight).abs().max_element() < 1e-3, "{name}");
                    assert!(smp.weight.is_finite());
                }
            }
        }
    }

    #[test]
    fn albedo_never_exceeds_one() {
        let mut s = Sampler::new(6, 0, 0, 0);
        let n = 40_000;
        for (name, bsdf) in materials() {
            for cos in [0.05, 0.3, 0.7, 1.0] {
                let wo = wo_at(cos);
                let mut sum = Vec3::ZERO;
                for _ in 0..n {
                    if let Some(smp) = bsdf.sample(wo, s.next_f32(), s.next_2d()) {
                        sum += smp.weight;
                    }
                }
                let albedo = sum / n as f32;
                assert!(albedo.max_element() <= 1.01, "{name} at cos {cos}: {albedo}");
                if name.starts_with("white") && name.contains("dielectric") {
                    assert!(albedo.min_element() > 0.97, "{name} loses energy: {albedo}");
                }
            }
        }
    }

    #[test]
    fn pdf_integrates_to_the_probability_that_sampling_succeeds() {
        // Specular samples reflected below the horizon are dropped, so the
        // pdf over the upper hemisphere integrates to 1 - P(drop).
        let mut s = Sampler::new(7, 0, 0, 0);
        let n = 200_000;
        for bsdf in [Bsdf::new(Vec3::ONE, 0.0, 1.0), Bsdf::new(Vec3::splat(0.5), 0.5, 0.5)] {
            for cos in [0.2, 0.8] {
                let wo = wo_at(cos);
                let mut sum = 0.0f64;
                let mut kept = 0u32;
                for _ in 0..n {
                    // Uniform hemisphere, pdf 1 / (2 pi).
                    let u = s.next_2d();
                    let z = u.x;
                    let r = (1.0 - z * z).max(0.0).sqrt();
                    let (sn, cs) = (2.0 * PI * u.y).sin_cos();
                    let wi = Vec3::new(r * cs, r * sn, z);
                    sum += f64::from(bsdf.pdf(wo, wi)) * 2.0 * std::f64::consts::PI;
                    kept += u32::from(bsdf.sample(wo, s.next_f32(), s.next_2d()).is_some());
                }
                let integral = sum / f64::from(n);
                let success = f64::from(kept) / f64::from(n);
                assert!(integral <= 1.02, "pdf integrates to {integral}");
                assert!((integral - success).abs() < 0.03, "{integral} vs {success}");
            }
        }
    }

    #[test]
    fn importance_sampled_albedo_matches_uniform_estimate() {
        let mut s = Sampler::new(8, 0, 0, 0);
        let n = 200_000;
        let bsdf = Bsdf::new(Vec3::new(0.7, 0.5, 0.3), 0.3, 0.6);
        let wo = wo_at(0.6);
        let (mut is, mut uni) = (Vec3::ZERO, Vec3::ZERO);
        for _ in 0..n {
            if let Some(smp) = bsdf.sample(wo, s.next_f32(), s.next_2d()) {
                is += smp.weight;
            }
            let u = s.next_2d();
            let r = (1.0 - u.x * u.x).max(0.0).sqrt();
            let (sn, cs) = (2.0 * PI * u.y).sin_cos();
            uni += bsdf.eval(wo, Vec3::new(r * cs, r * sn, u.x)).0 * 2.0 * PI;
        }
        let (is, uni) = (is / n as f32, uni / n as f32);
        assert!((is - uni).abs().max_element() < 0.02, "{is} vs {uni}");
    }

    #[test]
    fn frame_is_orthonormal_for_any_normal() {
        for n in [Vec3::Z, Vec3::NEG_Z, Vec3::new(1.0, 2.0, -3.0).normalize(), Vec3::X] {
            let f = Frame::from_normal(n);
            assert!(f.tangent.dot(f.bitangent).abs() < 1e-5);
            assert!(f.tangent.dot(n).abs() < 1e-5 && f.bitangent.dot(n).abs() < 1e-5);
            assert!((f.tangent.length() - 1.0).abs() < 1e-5);
            let v = Vec3::new(0.3, -0.4, 0.5);
            assert!((f.to_world(f.to_local(v)) - v).length() < 1e-5);
        }
    }
}
