//! Light sources and how next-event estimation samples them.
//!
//! - Emissive triangles are area lights. They emit from both faces (as
//!   Blender's emission shader does); one is picked in proportion to its
//!   estimated power and a point on it uniformly by area.
//! - KHR_lights_punctual: point and spot lights (inverse-square, glTF's
//!   smooth range window, spot cone falloff t^2 between outer and inner
//!   angle) and directional lights. They are deltas: only NEE reaches them.
//! - The uniform sky is an environment light, sampled with a cosine lobe
//!   around the shading normal (its pdf is known for any direction, so BSDF
//!   rays that escape get MIS weights too).
//!
//! Light selection probabilities are proportional to a power estimate; for
//! lights "at infinity" (sun, sky) the power is the flux through the scene's
//! bounding sphere. These are heuristics: they only move noise around, never
//! the expected value. Returned pdfs include the selection probability.

use std::f32::consts::{FRAC_1_PI, PI};

use glam::{Vec2, Vec3, Vec3A};

use crate::material::{self, luminance, Frame};
use crate::scene::{LightKind, Scene};
use crate::texture::{self, Encoding};

#[derive(Clone, Debug)]
enum Light {
    Triangle {
        triangle: u32,
        p0: Vec3A,
        e1: Vec3A,
        e2: Vec3A,
        normal: Vec3A,
        area: f32,
    },
    Point {
        position: Vec3A,
        intensity: Vec3,
        range: Option<f32>,
    },
    Spot {
        position: Vec3A,
        direction: Vec3A,
        cos_outer: f32,
        /// 1 / (cos_inner - cos_outer), finite.
        cone_scale: f32,
        intensity: Vec3,
        range: Option<f32>,
    },
    Directional {
        towards_light: Vec3A,
        irradiance: Vec3,
    },
    Sky {
        radiance: Vec3,
    },
}

/// One light sample seen from a shading point.
#[derive(Clone, Copy, Debug)]
pub struct LightSample {
    /// Unit direction from the shading point towards the light.
    pub wi: Vec3A,
    /// Radiance (area lights, sky) or its delta equivalent arriving along `wi`.
    pub radiance: Vec3,
    /// Solid-angle pdf times the selection probability; for delta lights
    /// the selection probability alone.
    pub pdf: f32,
    /// Distance to the sampled point; infinite for the sun and the sky.
    pub distance: f32,
    pub is_delta: bool,
}

/// Every light in a scene, ready for sampling.
#[derive(Clone, Debug, Default)]
pub struct LightSet {
    lights: Vec<Light>,
    /// Selection probability per light.
    pmf: Vec<f32>,
    /// Running sum of `pmf`, last entry 1.
    cdf: Vec<f32>,
    /// Light index of each scene triangle (u32::MAX: not emissive); empty
    /// when no triangle emits.
    triangle_light: Vec<u32>,
    /// Selection probability of the sky (0 without one).
    sky_pmf: f32,
    sky: Vec3,
}

/// glTF's recommended range window: smooth, 0 at `range`.
#[inline]
fn range_window(distance: f32, range: Option<f32>) -> f32 {
    match range {
        Some(r) if r > 0.0 => {
            let x = distance / r;
            let x2 = x * x;
            (1.0 - x2 * x2).clamp(0.0, 1.0).powi(2)
        }
        _ => 1.0,
    }
}

impl LightSet {
    /// Collects the scene's lights. `bounds` (the BVH's) sizes the power
    /// estimate of lights at infinity.
    pub fn new(scene: &Scene, bounds: Option<(Vec3, Vec3)>) -> Self {
        let radius = bounds.map_or(1.0, |(lo, hi)| (0.5 * (hi - lo).length()).max(1e-3));
        let disc = PI * radius * radius;
        let mut lights = Vec::new();
        let mut power = Vec::new();
        let mut triangle_light = Vec::new();

        let average_emission: Vec<Vec3> = scene
            .materials
            .iter()
            .map(|m| {
                match m.emissive_texture.and_then(|t| scene.textures.get(t.texture as usize)) {
                    Some(tex) if m.emissive != Vec3::ZERO => {
                        m.emissive * texture::average(tex, Encoding::Srgb).truncate()
                    }
                    _ => m.emissive,
                }
            })
            .collect();
        if average_emission.iter().any(|e| luminance(*e) > 0.0) {
            triangle_light = vec![u32::MAX; scene.triangles.len()];
            for (i, tri) in scene.triangles.iter().enumerate() {
                let Some(&emission) = average_emission.get(tri.material as usize) else { continue };
                let [a, b, c] = tri.positions.map(Vec3A::from);
                let cross = (b - a).cross(c - a);
                let area = 0.5 * cross.length();
                let p = luminance(emission) * area * 2.0 * PI;
                if !(p.is_finite() && p > 0.0) {
                    continue;
                }
                triangle_light[i] = lights.len() as u32;
                lights.push(Light::Triangle {
                    triangle: i as u32,
                    p0: a,
                    e1: b - a,
                    e2: c - a,
                    normal: cross.normalize(),
                    area,
                });
                power.push(p);
            }
        }

        for light in &scene.lights {
            let intensity = light.color * light.intensity;
            let lum = luminance(intensity);
            if !(lum.is_finite() && lum > 0.0) {
                continue;
            }
            match light.kind {
                LightKind::Point { position } => {
                    lights.push(Light::Point {
                        position: position.into(),
                        intensity,
                        range: light.range,
                    });
                    power.push(4.0 * PI * lum);
                }
                LightKind::Spot { position, direction, inner_cone_angle, outer_cone_angle } => {
                    let cos_outer = outer_cone_angle.cos();
                    let cos_inner = inner_cone_angle.cos();
                    lights.push(Light::Spot {
                        position: position.into(),
                        direction: Vec3A::from(direction).normalize_or(Vec3A::NEG_Z),
                        cos_outer,
                        cone_scale: 1.0 / (cos_inner - cos_outer).max(1e-4),
                        intensity,
                        range: light.range,
                    });
                    let cos_mid = (0.5 * (inner_cone_angle + outer_cone_angle)).cos();
                    power.push(2.0 * PI * (1.0 - cos_mid).max(1e-4) * lum);
                }
                LightKind::Directional { direction } => {
                    let towards_light = -Vec3A::from(direction).normalize_or(Vec3A::NEG_Z);
                    lights.push(Light::Directional { towards_light, irradiance: intensity });
                    power.push(lum * disc);
                }
            }
        }

        let sky_lum = luminance(scene.sky);
        let mut sky_index = None;
        if sky_lum > 0.0 && sky_lum.is_finite() && scene.sky.min_element() >= 0.0 {
            sky_index = Some(lights.len());
            lights.push(Light::Sky { radiance: scene.sky });
            power.push(sky_lum * PI * disc);
        }

        let total: f64 = power.iter().map(|&p| f64::from(p)).sum();
        let mut pmf = Vec::with_capacity(power.len());
        let mut cdf = Vec::with_capacity(power.len());
        let mut acc = 0.0f64;
        for p in &power {
            let q = f64::from(*p) / total;
            acc += q;
            pmf.push(q as f32);
            cdf.push(acc as f32);
        }
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        let sky_pmf = sky_index.map_or(0.0, |i| pmf[i]);
        Self { lights, pmf, cdf, triangle_light, sky_pmf, sky: scene.sky }
    }

    pub fn is_empty(&self) -> bool {
        self.lights.is_empty()
    }

    pub fn len(&self) -> usize {
        self.lights.len()
    }

    /// Samples a light as seen from `p` with shading normal `n`.
    /// `u_select` picks the light, `u` the point on it.
    pub fn sample(
        &self,
        scene: &Scene,
        p: Vec3A,
        n: Vec3,
        u_select: f32,
        u: Vec2,
    ) -> Option<LightSample> {
        if self.lights.is_empty() {
            return None;
        }
        let index = self.cdf.partition_point(|&c| c <= u_select).min(self.lights.len() - 1);
        let pmf = self.pmf[index];
        if pmf.is_nan() || pmf <= 0.0 {
            return None;
        }
        match &self.lights[index] {
            Light::Triangle { triangle, p0, e1, e2, normal, area } => {
                let su = u.x.sqrt();
                let (b1, b2) = (su * (1.0 - u.y), su * u.y);
                let point = *p0 + *e1 * b1 + *e2 * b2;
                let d = point - p;
                let dist2 = d.length_squared();
                if dist2.is_nan() || dist2 <= 0.0 {
                    return None;
                }
                let dist = dist2.sqrt();
                let wi = d / dist;
                let cos_light = normal.dot(wi).abs();
                if cos_light <= 1e-7 {
                    return None;
                }
                let tri = &scene.triangles[*triangle as usize];
                let m = scene.materials.get(tri.material as usize)?;
                let uv = tri.uvs[0] * (1.0 - b1 - b2) + tri.uvs[1] * b1 + tri.uvs[2] * b2;
                let radiance = material::emission(m, &scene.textures, uv);
                let pdf = pmf * dist2 / (cos_light * area);
                Some(LightSample { wi, radiance, pdf, distance: dist, is_delta: false })
            }
            Light::Point { position, intensity, range } => {
                let d = *position - p;
                let dist2 = d.length_squared();
                if dist2.is_nan() || dist2 <= 0.0 {
                    return None;
                }
                let dist = dist2.sqrt();
                let radiance = *intensity * (range_window(dist, *range) / dist2);
                Some(LightSample {
                    wi: d / dist,
                    radiance,
                    pdf: pmf,
                    distance: dist,
                    is_delta: true,
                })
            }
            Light::Spot { position, direction, cos_outer, cone_scale, intensity, range } => {
                let d = *position - p;
                let dist2 = d.length_squared();
                if dist2.is_nan() || dist2 <= 0.0 {
                    return None;
                }
                let dist = dist2.sqrt();
                let wi = d / dist;
                let t = ((direction.dot(-wi) - cos_outer) * cone_scale).clamp(0.0, 1.0);
                let falloff = t * t;
                if falloff <= 0.0 {
                    return None;
                }
                let radiance = *intensity * (falloff * range_window(dist, *range) / dist2);
                Some(LightSample { wi, radiance, pdf: pmf, distance: dist, is_delta: true })
            }
            Light::Directional { towards_light, irradiance } => Some(LightSample {
                wi: *towards_light,
                radiance: *irradiance,
                pdf: pmf,
                distance: f32::INFINITY,
                is_delta: true,
            }),
            Light::Sky { radiance } => {
                let r = u.x.sqrt();
                let (s, c) = (2.0 * PI * u.y).sin_cos();
                let local = Vec3::new(r * c, r * s, (1.0 - u.x).max(0.0).sqrt());
                if local.z <= 0.0 {
                    return None;
                }
                let wi = Frame::from_normal(n).to_world(local);
                Some(LightSample {
                    wi: wi.into(),
                    radiance: *radiance,
                    pdf: pmf * local.z * FRAC_1_PI,
                    distance: f32::INFINITY,
                    is_delta: false,
                })
            }
        }
    }

    /// Pdf (solid angle, with selection) that [`Self::sample`] picks the
    /// point a ray along unit `dir` hits at distance `t` on `triangle`.
    #[inline]
    pub fn triangle_pdf(&self, triangle: u32, dir: Vec3A, t: f32) -> f32 {
        let Some(&index) = self.triangle_light.get(triangle as usize) else { return 0.0 };
        match self.lights.get(index as usize) {
            Some(Light::Triangle { normal, area, .. }) => {
                let cos_light = normal.dot(dir).abs();
                if cos_light <= 1e-7 {
                    return 0.0;
                }
                self.pmf[index as usize] * t * t / (cos_light * area)
            }
            _ => 0.0,
        }
    }

    /// Pdf (solid angle, with selection) that [`Self::sample`] returns the
    /// sky direction `wi` from a point with shading normal `n`.
    #[inline]
    pub fn sky_pdf(&self, n: Vec3, wi: Vec3) -> f32 {
        self.sky_pmf * n.dot(wi).max(0.0) * FRAC_1_PI
    }

    /// The sky radiance.
    #[inline]
    pub fn sky(&self) -> Vec3 {
        self.sky
    }

    /// The lights as the GPU backends read them (shaders/common.glsl's
    /// `Light`: four vec4s, the kind's bits in the first w).
    pub(crate) fn gpu(&self) -> GpuLights {
        let kind = |k: u32| f32::from_bits(k);
        let v = |v: Vec3A, w: f32| [v.x, v.y, v.z, w];
        let c = |v: Vec3, w: f32| [v.x, v.y, v.z, w];
        let records = self
            .lights
            .iter()
            .map(|light| match light {
                Light::Triangle { triangle, p0, e1, e2, normal, area } => [
                    v(*p0, kind(0)),
                    v(*e1, *area),
                    v(*e2, f32::from_bits(*triangle)),
                    v(*normal, 0.0),
                ],
                Light::Point { position, intensity, range } => {
                    [v(*position, kind(1)), c(*intensity, range.unwrap_or(0.0)), [0.0; 4], [0.0; 4]]
                }
                Light::Spot { position, direction, cos_outer, cone_scale, intensity, range } => [
                    v(*position, kind(2)),
                    c(*intensity, range.unwrap_or(0.0)),
                    v(*direction, *cos_outer),
                    [*cone_scale, 0.0, 0.0, 0.0],
                ],
                Light::Directional { towards_light, irradiance } => {
                    [v(*towards_light, kind(3)), c(*irradiance, 0.0), [0.0; 4], [0.0; 4]]
                }
                Light::Sky { radiance } => [c(*radiance, kind(4)), [0.0; 4], [0.0; 4], [0.0; 4]],
            })
            .collect();
        GpuLights {
            records,
            pmf_cdf: self.pmf.iter().zip(&self.cdf).map(|(&p, &c)| [p, c]).collect(),
            triangle_light: self.triangle_light.clone(),
            sky_pmf: self.sky_pmf,
        }
    }
}

/// [`LightSet`] flattened for the GPU backends.
pub(crate) struct GpuLights {
    pub records: Vec<[[f32; 4]; 4]>,
    pub pmf_cdf: Vec<[f32; 2]>,
    /// Empty when no triangle emits.
    pub triangle_light: Vec<u32>,
    pub sky_pmf: f32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Sampler;
    use crate::scene::{Camera, Material, PunctualLight, Triangle};
    use glam::{Mat4, Vec4};

    fn scene_with(triangles: Vec<Triangle>, lights: Vec<PunctualLight>, sky: Vec3) -> Scene {
        Scene {
            triangles,
            materials: vec![
                Material { metallic: 0.0, ..Material::default() },
                Material { emissive: Vec3::splat(4.0), ..Material::default() },
            ],
            textures: vec![],
            lights,
            camera: Camera { name: None, to_world: Mat4::IDENTITY, yfov: 1.0 },
            sky,
            meshes: Vec::new(),
        }
    }

    fn tri(positions: [Vec3; 3], material: u32) -> Triangle {
        Triangle {
            positions,
            normals: [Vec3::Z; 3],
            tangents: [Vec4::ZERO; 3],
            uvs: [Vec2::ZERO; 3],
            material,
        }
    }

    #[test]
    fn area_light_samples_report_the_pdf_a_ray_would_see() {
        let light = tri(
            [Vec3::new(-1.0, -1.0, 2.0), Vec3::new(1.0, -1.0, 2.0), Vec3::new(0.0, 1.0, 2.0)],
            1,
        );
        let floor = tri(
            [Vec3::new(-5.0, -5.0, 0.0), Vec3::new(5.0, -5.0, 0.0), Vec3::new(0.0, 5.0, 0.0)],
            0,
        );
        let scene = scene_with(vec![floor, light], vec![], Vec3::ZERO);
        let set = LightSet::new(&scene, Some((Vec3::splat(-5.0), Vec3::splat(5.0))));
        assert_eq!(set.len(), 1);
        let mut s = Sampler::new(1, 0, 0, 0);
        // Monte Carlo irradiance at the origin, against the analytic value
        // from the solid-angle estimate: E = sum L cos / pdf.
        let n = 20_000;
        let mut e = 0.0;
        for _ in 0..n {
            let ls = set.sample(&scene, Vec3A::ZERO, Vec3::Z, s.next_f32(), s.next_2d()).unwrap();
            assert!((set.triangle_pdf(1, ls.wi, ls.distance) - ls.pdf).abs() < 1e-3 * ls.pdf);
            e += ls.radiance.x * ls.wi.z / ls.pdf;
        }
        let e = e / n as f32;
        // Reference by brute-force uniform hemisphere integration.
        let bvh = crate::bvh::Bvh::new(&scene.triangles);
        let mut reference = 0.0;
        let m = 200_000;
        for _ in 0..m {
            let u = s.next_2d();
            let r = (1.0 - u.x * u.x).sqrt();
            let (sn, cs) = (2.0 * PI * u.y).sin_cos();
            let wi = Vec3A::new(r * cs, r * sn, u.x);
            let ray = crate::bvh::Ray::new(Vec3A::new(0.0, 0.0, 1e-4), wi);
            if bvh.intersect(&ray, f32::INFINITY).is_some_and(|h| h.triangle == 1) {
                reference += 4.0 * wi.z * 2.0 * PI;
            }
        }
        let reference = reference / m as f32;
        assert!((e - reference).abs() < 0.03 * reference, "{e} vs {reference}");
    }

    #[test]
    fn punctual_lights_fall_off_and_cut_off() {
        let lights = vec![
            PunctualLight {
                kind: LightKind::Point { position: Vec3::new(0.0, 0.0, 2.0) },
                color: Vec3::ONE,
                intensity: 8.0,
                range: None,
            },
            PunctualLight {
                kind: LightKind::Spot {
                    position: Vec3::new(0.0, 0.0, 2.0),
                    direction: Vec3::X,
                    inner_cone_angle: 0.2,
                    outer_cone_angle: 0.4,
                },
                color: Vec3::ONE,
                intensity: 8.0,
                range: Some(1.0),
            },
        ];
        let scene = scene_with(vec![], lights, Vec3::ZERO);
        let set = LightSet::new(&scene, None);
        // The point light: 8 / 2^2 = 2.
        let ls = set.sample(&scene, Vec3A::ZERO, Vec3::Z, 0.0, Vec2::ZERO).unwrap();
        assert!(ls.is_delta && (ls.radiance.x - 2.0).abs() < 1e-5);
        // The spot points away and is out of range: nothing.
        assert!(set.sample(&scene, Vec3A::ZERO, Vec3::Z, 0.999, Vec2::ZERO).is_none());
        assert_eq!(range_window(0.5, Some(1.0)), (1.0f32 - 0.0625).powi(2));
        assert_eq!(range_window(2.0, Some(1.0)), 0.0);
    }

    #[test]
    fn sky_pdf_matches_its_samples() {
        let scene = scene_with(vec![], vec![], Vec3::splat(0.5));
        let set = LightSet::new(&scene, None);
        let n = Vec3::new(0.3, -0.2, 0.9).normalize();
        let mut s = Sampler::new(3, 0, 0, 0);
        for _ in 0..100 {
            let ls = set.sample(&scene, Vec3A::ZERO, n, s.next_f32(), s.next_2d()).unwrap();
            assert!(!ls.is_delta && ls.distance.is_infinite());
            assert!((set.sky_pdf(n, ls.wi.into()) - ls.pdf).abs() < 1e-5);
        }
    }
}
