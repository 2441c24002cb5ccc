//! The unidirectional path tracer: one frame of a [`Scene`] into an [`Image`].
//!
//! At every surface vertex it does next-event estimation (one light sample,
//! one shadow ray) and continues by sampling the BSDF. Area lights and the
//! sky are reached both ways and the two are combined with the power
//! heuristic; punctual lights are deltas and only NEE reaches them. Russian
//! roulette starts after 3 bounces and divides by the survival probability,
//! so it adds noise, never bias. Nothing is clamped.
//!
//! `max_bounces` counts indirect bounces as Blender's Cycles does: 0 is
//! direct lighting only (emission seen by the camera plus NEE at the first
//! hit), 8 lets light bounce 8 times off surfaces before the one seen.
//!
//! Determinism: each camera sample has its own random stream keyed by (seed,
//! frame, pixel, sample) (see [`crate::sampler`]) and each pixel sums its
//! samples in order on one thread, so the result does not depend on the
//! number of threads or the scheduling. A sample whose radiance comes out
//! NaN or infinite is discarded (the pixel averages the others) and counted
//! in a warning, so one bad sample cannot poison a frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use glam::{Vec2, Vec3, Vec3A, Vec4Swizzles};
use rayon::prelude::*;

use crate::bvh::{Bvh, Hit, Ray};
use crate::camera::PerspectiveCamera;
use crate::image::Image;
use crate::light::LightSet;
use crate::material::{self, Frame};
use crate::sampler::Sampler;
use crate::scene::{Material, Scene, Triangle};

/// What to render of a scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    pub width: u32,
    pub height: u32,
    /// Camera samples per pixel.
    pub spp: u32,
    /// Indirect bounces (Cycles' meaning: 0 = direct lighting only).
    pub max_bounces: u32,
    /// The render's seed; with `frame` it keys every random number.
    pub seed: u64,
    pub frame: u32,
}

/// Bounces after which Russian roulette may end a path.
const ROULETTE_AFTER: u32 = 3;

/// Renders a frame on the current rayon pool. Deterministic: the same scene
/// and options give the same pixels, bit for bit.
pub fn render(scene: &Scene, opts: &RenderOptions) -> Image {
    render_with_progress(scene, opts, &|_| {})
}

/// [`render`], calling `on_row_done(y)` (from a pool thread, in no
/// particular order) after each finished row, e.g. to renew a lease or
/// report progress.
pub fn render_with_progress(
    scene: &Scene,
    opts: &RenderOptions,
    on_row_done: &(dyn Fn(u32) + Sync),
) -> Image {
    let started = Instant::now();
    let tracer = PathTracer::new(scene, opts);
    let built = started.elapsed();
    let mut image = Image::new(opts.width, opts.height);
    let discarded = AtomicU64::new(0);
    if opts.width > 0 && opts.height > 0 {
        image.pixels.par_chunks_mut(opts.width as usize).enumerate().for_each(|(y, row)| {
            let mut row_discarded = 0;
            for (x, pixel) in row.iter_mut().enumerate() {
                *pixel = tracer.pixel(x as u32, y as u32, &mut row_discarded);
            }
            if row_discarded > 0 {
                discarded.fetch_add(row_discarded, Ordering::Relaxed);
            }
            on_row_done(y as u32);
        });
    }
    let discarded = discarded.into_inner();
    if discarded > 0 {
        tracing::warn!(discarded, "discarded non-finite path samples");
    }
    tracing::debug!(
        triangles = scene.triangles.len(),
        bvh_nodes = tracer.bvh.node_count(),
        lights = tracer.lights.len(),
        build_ms = built.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "rendered frame"
    );
    image
}

/// A scene prepared for tracing one frame.
struct PathTracer<'a> {
    scene: &'a Scene,
    bvh: Bvh,
    lights: LightSet,
    camera: PerspectiveCamera,
    opts: RenderOptions,
}

/// Where a ray hit, with everything shading needs.
struct SurfacePoint {
    p: Vec3A,
    /// Geometric normal, facing the incoming ray.
    ng: Vec3A,
    /// Shading normal (interpolated, normal-mapped), same side as `ng`.
    ns: Vec3,
    uv: Vec2,
}

#[inline]
fn power_heuristic(a: f32, b: f32) -> f32 {
    let (a2, b2) = (a * a, b * b);
    if a2.is_infinite() {
        1.0
    } else if a2 + b2 > 0.0 {
        a2 / (a2 + b2)
    } else {
        0.0
    }
}

/// Moves a ray origin off the surface along the normal, by an amount that
/// grows with the coordinates' magnitude (f32 error is relative).
#[inline]
fn offset_origin(p: Vec3A, n: Vec3A) -> Vec3A {
    p + n * (3e-5 * (1.0 + p.abs().max_element()))
}

impl<'a> PathTracer<'a> {
    fn new(scene: &'a Scene, opts: &RenderOptions) -> Self {
        let bvh = Bvh::new(&scene.triangles);
        let lights = LightSet::new(scene, bvh.bounds());
        let camera = PerspectiveCamera::new(&scene.camera, opts.width, opts.height);
        Self { scene, bvh, lights, camera, opts: *opts }
    }

    /// The mean of the pixel's samples, skipping non-finite ones.
    fn pixel(&self, x: u32, y: u32, discarded: &mut u64) -> Vec3 {
        let index = u64::from(y) * u64::from(self.opts.width) + u64::from(x);
        let mut sum = Vec3::ZERO;
        let mut kept = 0u32;
        for s in 0..self.opts.spp {
            let mut sampler = Sampler::new(self.opts.seed, self.opts.frame, index, s);
            let ray = self.camera.generate_ray(x, y, sampler.next_2d());
            let l = self.radiance(ray, &mut sampler);
            if l.is_finite() {
                sum += l;
                kept += 1;
            } else {
                *discarded += 1;
            }
        }
        if kept > 0 {
            sum / kept as f32
        } else {
            Vec3::ZERO
        }
    }

    fn material(&self, tri: &Triangle) -> &Material {
        self.scene.materials.get(tri.material as usize).unwrap_or(&Material::GLTF_DEFAULT)
    }

    /// Radiance arriving along `ray`.
    fn radiance(&self, mut ray: Ray, sampler: &mut Sampler) -> Vec3 {
        let scene = self.scene;
        let mut l = Vec3::ZERO;
        let mut beta = Vec3::ONE;
        // Solid-angle pdf of the BSDF sample that made `ray`; 0 for the
        // camera ray (no MIS: nothing else could have found that light).
        let mut bsdf_pdf = 0.0f32;
        let mut prev_ns = Vec3::Z;
        let mut depth = 0u32;
        loop {
            let Some(hit) = self.bvh.intersect(&ray, f32::INFINITY) else {
                let sky = self.lights.sky();
                if sky != Vec3::ZERO {
                    let w = if bsdf_pdf > 0.0 {
                        power_heuristic(bsdf_pdf, self.lights.sky_pdf(prev_ns, ray.dir.into()))
                    } else {
                        1.0
                    };
                    l += beta * sky * w;
                }
                break;
            };
            let tri = &scene.triangles[hit.triangle as usize];
            let material = self.material(tri);
            let wo = -ray.dir;
            let sp = self.surface_point(tri, material, &hit, wo);

            let emitted = material::emission(material, &scene.textures, sp.uv);
            if emitted != Vec3::ZERO {
                let w = if bsdf_pdf > 0.0 {
                    power_heuristic(
                        bsdf_pdf,
                        self.lights.triangle_pdf(hit.triangle, ray.dir, hit.t),
                    )
                } else {
                    1.0
                };
                l += beta * emitted * w;
            }
            if depth > self.opts.max_bounces {
                break;
            }

            let point = material::resolve(material, &scene.textures, sp.uv);
            let bsdf = point.bsdf;
            let frame = Frame::from_normal(sp.ns);
            let wo_local = frame.to_local(wo.into());
            let origin = offset_origin(sp.p, sp.ng);

            // Next-event estimation.
            let u_light = sampler.next_f32();
            let u_point = sampler.next_2d();
            if let Some(ls) = self.lights.sample(scene, sp.p, sp.ns, u_light, u_point) {
                if ls.radiance != Vec3::ZERO && ls.wi.dot(sp.ng) > 0.0 {
                    let (f_cos, pdf) = bsdf.eval(wo_local, frame.to_local(ls.wi.into()));
                    if f_cos != Vec3::ZERO {
                        let t_max = if ls.distance.is_finite() {
                            ls.distance * (1.0 - 1e-4)
                        } else {
                            f32::INFINITY
                        };
                        if !self.bvh.occluded(&Ray::new(origin, ls.wi), t_max) {
                            let w = if ls.is_delta { 1.0 } else { power_heuristic(ls.pdf, pdf) };
                            l += beta * f_cos * ls.radiance * (w / ls.pdf);
                        }
                    }
                }
            }

            // Continue the path.
            let u_lobe = sampler.next_f32();
            let u_dir = sampler.next_2d();
            let Some(bs) = bsdf.sample(wo_local, u_lobe, u_dir) else { break };
            let wi = Vec3A::from(frame.to_world(bs.wi));
            if wi.dot(sp.ng) <= 0.0 {
                // Below the geometric surface: a shading-normal artefact.
                break;
            }
            beta *= bs.weight;
            bsdf_pdf = bs.pdf;
            prev_ns = sp.ns;
            depth += 1;
            if depth > ROULETTE_AFTER {
                let survival = beta.max_element();
                let u = sampler.next_f32();
                if survival < 1.0 {
                    if u >= survival {
                        break;
                    }
                    beta /= survival;
                }
            }
            ray = Ray::new(origin, wi.normalize());
        }
        l
    }

    /// Interpolates the hit's attributes and orients the normals towards
    /// `wo`. Back faces, whether the material is double-sided or not, shade
    /// as front faces with flipped normals: robust for meshes with
    /// inconsistent winding, and what glTF asks for double-sided ones.
    fn surface_point(
        &self,
        tri: &Triangle,
        material: &Material,
        hit: &Hit,
        wo: Vec3A,
    ) -> SurfacePoint {
        let (b1, b2) = (hit.u, hit.v);
        let b0 = 1.0 - b1 - b2;
        let [p0, p1, p2] = tri.positions.map(Vec3A::from);
        let p = p0 * b0 + p1 * b1 + p2 * b2;
        let mut ng = (p1 - p0).cross(p2 - p0).normalize_or_zero();
        if ng == Vec3A::ZERO {
            ng = wo;
        }
        let uv = tri.uvs[0] * b0 + tri.uvs[1] * b1 + tri.uvs[2] * b2;
        let mut ns = (tri.normals[0] * b0 + tri.normals[1] * b1 + tri.normals[2] * b2)
            .try_normalize()
            .unwrap_or(ng.into());
        if let Some(tex) =
            material.normal_texture.and_then(|t| self.scene.textures.get(t.texture as usize))
        {
            let tn = crate::texture::sample(tex, uv, crate::texture::Encoding::Linear).xyz() * 2.0
                - Vec3::ONE;
            let tn = Vec3::new(tn.x * material.normal_scale, tn.y * material.normal_scale, tn.z);
            ns = perturb_normal(tri, [b0, b1, b2], ns, tn);
        }
        if ng.dot(wo) < 0.0 {
            ng = -ng;
            ns = -ns;
        }
        // The shading normal must see `wo` too, or the BSDF is undefined.
        if ns.dot(wo.into()) <= 1e-4 {
            ns = ng.into();
        }
        SurfacePoint { p, ng, ns, uv }
    }
}

/// Applies the tangent-space normal `tn` with the TBN frame from the mesh's
/// tangents, or, without them, from the UV parametrisation (glTF: the
/// bitangent points to decreasing V, "up" in the image), or any frame.
fn perturb_normal(tri: &Triangle, b: [f32; 3], ns: Vec3, tn: Vec3) -> Vec3 {
    let t4 = tri.tangents[0] * b[0] + tri.tangents[1] * b[1] + tri.tangents[2] * b[2];
    let (mut t, mut sign) = (t4.xyz(), if tri.tangents[0].w < 0.0 { -1.0 } else { 1.0 });
    if t.length_squared() < 1e-12 {
        let dp1 = tri.positions[1] - tri.positions[0];
        let dp2 = tri.positions[2] - tri.positions[0];
        let duv1 = tri.uvs[1] - tri.uvs[0];
        let duv2 = tri.uvs[2] - tri.uvs[0];
        let det = duv1.x * duv2.y - duv1.y * duv2.x;
        if det.abs() > 1e-12 {
            let dpdu = (dp1 * duv2.y - dp2 * duv1.y) / det;
            let dpdv = (dp2 * duv1.x - dp1 * duv2.x) / det;
            t = dpdu;
            sign = if ns.cross(dpdu).dot(dpdv) > 0.0 { -1.0 } else { 1.0 };
        } else {
            t = Frame::from_normal(ns).tangent;
            sign = 1.0;
        }
    }
    let t = (t - ns * ns.dot(t)).try_normalize().unwrap_or_else(|| Frame::from_normal(ns).tangent);
    let bitangent = ns.cross(t) * sign;
    (t * tn.x + bitangent * tn.y + ns * tn.z).try_normalize().unwrap_or(ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Camera, Texture, TextureRef};
    use glam::{Mat4, Vec4};

    fn quad(corners: [Vec3; 4], material: u32) -> [Triangle; 2] {
        let n = (corners[1] - corners[0]).cross(corners[2] - corners[0]).normalize();
        let t = |positions: [Vec3; 3], uvs: [Vec2; 3]| Triangle {
            positions,
            normals: [n; 3],
            tangents: [Vec4::ZERO; 3],
            uvs,
            material,
        };
        let uv =
            [Vec2::new(0.0, 1.0), Vec2::new(1.0, 1.0), Vec2::new(1.0, 0.0), Vec2::new(0.0, 0.0)];
        [
            t([corners[0], corners[1], corners[2]], [uv[0], uv[1], uv[2]]),
            t([corners[0], corners[2], corners[3]], [uv[0], uv[2], uv[3]]),
        ]
    }

    fn diffuse(color: Vec3) -> Material {
        Material {
            base_color: color.extend(1.0),
            metallic: 0.0,
            roughness: 1.0,
            ..Material::default()
        }
    }

    fn camera_at_z(z: f32) -> Camera {
        Camera { name: None, to_world: Mat4::from_translation(Vec3::new(0.0, 0.0, z)), yfov: 0.7 }
    }

    /// A 2x2x2 box open towards the camera: white floor, ceiling and back,
    /// red left, green right, a small emissive quad under the ceiling.
    pub(crate) fn cornell_box() -> Scene {
        let v = |x: f32, y: f32, z: f32| Vec3::new(x, y, z);
        let mut triangles = Vec::new();
        // Counter-clockwise seen from inside.
        triangles
            .extend(quad([v(-1., -1., 1.), v(1., -1., 1.), v(1., -1., -1.), v(-1., -1., -1.)], 0));
        triangles.extend(quad([v(-1., 1., -1.), v(1., 1., -1.), v(1., 1., 1.), v(-1., 1., 1.)], 0));
        triangles
            .extend(quad([v(-1., -1., -1.), v(1., -1., -1.), v(1., 1., -1.), v(-1., 1., -1.)], 0));
        triangles
            .extend(quad([v(-1., -1., 1.), v(-1., -1., -1.), v(-1., 1., -1.), v(-1., 1., 1.)], 1));
        triangles.extend(quad([v(1., -1., -1.), v(1., -1., 1.), v(1., 1., 1.), v(1., 1., -1.)], 2));
        triangles.extend(quad(
            [v(-0.3, 0.999, -0.3), v(0.3, 0.999, -0.3), v(0.3, 0.999, 0.3), v(-0.3, 0.999, 0.3)],
            3,
        ));
        Scene {
            triangles,
            materials: vec![
                diffuse(Vec3::splat(0.8)),
                diffuse(Vec3::new(0.8, 0.1, 0.1)),
                diffuse(Vec3::new(0.1, 0.8, 0.1)),
                Material { emissive: Vec3::splat(15.0), ..diffuse(Vec3::splat(0.8)) },
            ],
            textures: vec![],
            lights: vec![],
            camera: camera_at_z(3.8),
            sky: crate::scene::DEFAULT_SKY,
            meshes: Vec::new(),
        }
    }

    /// A closed, convex cube seen from outside.
    fn cube(material: u32) -> Vec<Triangle> {
        let v = |x: f32, y: f32, z: f32| Vec3::new(x, y, z);
        let mut t = Vec::new();
        t.extend(quad([v(-1., -1., 1.), v(1., -1., 1.), v(1., 1., 1.), v(-1., 1., 1.)], material));
        t.extend(quad(
            [v(1., -1., -1.), v(-1., -1., -1.), v(-1., 1., -1.), v(1., 1., -1.)],
            material,
        ));
        t.extend(quad(
            [v(-1., -1., -1.), v(-1., -1., 1.), v(-1., 1., 1.), v(-1., 1., -1.)],
            material,
        ));
        t.extend(quad([v(1., -1., 1.), v(1., -1., -1.), v(1., 1., -1.), v(1., 1., 1.)], material));
        t.extend(quad([v(-1., 1., 1.), v(1., 1., 1.), v(1., 1., -1.), v(-1., 1., -1.)], material));
        t.extend(quad(
            [v(-1., -1., -1.), v(1., -1., -1.), v(1., -1., 1.), v(-1., -1., 1.)],
            material,
        ));
        t
    }

    fn small(spp: u32) -> RenderOptions {
        RenderOptions { width: 32, height: 32, spp, max_bounces: 8, seed: 1, frame: 0 }
    }

    #[test]
    fn same_options_give_identical_bytes_and_other_seeds_differ() {
        let scene = cornell_box();
        let opts = small(8);
        let a = render(&scene, &opts).to_png();
        let b = render(&scene, &opts).to_png();
        assert_eq!(a, b);
        let c = render(&scene, &RenderOptions { seed: 2, ..opts }).to_png();
        assert_ne!(a, c);
        let d = render(&scene, &RenderOptions { frame: 1, ..opts }).to_png();
        assert_ne!(a, d);
    }

    #[test]
    fn thread_count_does_not_change_a_single_bit() {
        let scene = cornell_box();
        let opts = small(4);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| render(&scene, &opts))
        };
        let one = on(1);
        assert_eq!(one.pixels, on(3).pixels);
    }

    #[test]
    fn white_furnace_convex_diffuser_in_unit_sky_stays_near_one() {
        let scene = Scene {
            triangles: cube(0),
            materials: vec![diffuse(Vec3::ONE)],
            textures: vec![],
            lights: vec![],
            camera: camera_at_z(4.0),
            sky: Vec3::ONE,
            meshes: Vec::new(),
        };
        let img = render(&scene, &small(16));
        assert!(!img.has_non_finite());
        let mut on_cube = Vec::new();
        for p in &img.pixels {
            if *p != Vec3::ONE {
                on_cube.push(*p);
            }
        }
        assert!(on_cube.len() > 200, "the cube should cover the middle: {}", on_cube.len());
        let mean = on_cube.iter().copied().sum::<Vec3>() / on_cube.len() as f32;
        // A white dielectric reflects all but the energy rough GGX loses in
        // its microfacet shadowing: a few percent.
        assert!(mean.min_element() > 0.93 && mean.max_element() < 1.01, "{mean}");
        for p in on_cube {
            assert!(p.max_element() < 1.3 && p.min_element() > 0.7, "{p}");
        }
    }

    #[test]
    fn empty_scene_renders_the_sky() {
        let sky = Vec3::new(0.2, 0.3, 0.4);
        let scene = Scene {
            triangles: vec![],
            materials: vec![],
            textures: vec![],
            lights: vec![],
            camera: camera_at_z(0.0),
            sky,
            meshes: Vec::new(),
        };
        let img = render(&scene, &small(2));
        assert!(img.pixels.iter().all(|p| *p == sky));
        assert_eq!(img.mean(), sky);
    }

    #[test]
    fn cornell_box_is_lit_with_coloured_walls() {
        let img = render(&cornell_box(), &small(32));
        if let Ok(path) = std::env::var("MOSAIC_TEST_PNG") {
            std::fs::write(path, img.to_png()).unwrap();
        }
        assert!(!img.has_non_finite());
        let mean = img.mean();
        assert!(mean.min_element() > 0.05 && mean.max_element() < 5.0, "{mean}");
        // Average over a column band near each side wall.
        let band = |x0: u32| -> Vec3 {
            let mut s = Vec3::ZERO;
            for y in 12..20 {
                for x in x0..x0 + 3 {
                    s += img.pixel(x, y);
                }
            }
            s
        };
        let (left, right) = (band(3), band(26));
        assert!(left.x > 2.0 * left.y, "left wall should be red: {left}");
        assert!(right.y > 2.0 * right.x, "right wall should be green: {right}");
        // The emitter itself is seen by the top-centre pixels.
        let top =
            (3..7).flat_map(|y| (12..20).map(move |x| (x, y))).map(|(x, y)| img.pixel(x, y).x);
        let top = top.fold(0.0f32, f32::max);
        assert!(top > 5.0, "light not visible: {top}");
    }

    #[test]
    fn more_bounces_only_add_light() {
        let scene = cornell_box();
        let direct = render(&scene, &RenderOptions { max_bounces: 0, ..small(16) }).mean();
        let full = render(&scene, &RenderOptions { max_bounces: 6, ..small(16) }).mean();
        assert!(full.x > direct.x * 1.2, "{direct} vs {full}");
    }

    #[test]
    fn punctual_lights_light_the_floor() {
        let mut scene = cornell_box();
        scene.triangles.truncate(10);
        scene.sky = Vec3::ZERO;
        let dark = render(&scene, &small(4)).mean();
        assert_eq!(dark, Vec3::ZERO);
        scene.lights.push(crate::scene::PunctualLight {
            kind: crate::scene::LightKind::Point { position: Vec3::new(0.0, 0.5, 0.0) },
            color: Vec3::ONE,
            intensity: 3.0,
            range: None,
        });
        let lit = render(&scene, &small(4));
        assert!(lit.mean().x > 0.05, "{}", lit.mean());
        assert!(!lit.has_non_finite());
    }

    #[test]
    fn a_nan_source_does_not_poison_pixels() {
        let mut scene = cornell_box();
        scene.materials[3].emissive = Vec3::new(f32::NAN, 1.0, 1.0);
        let img = render(&scene, &small(4));
        assert!(!img.has_non_finite());
    }

    #[test]
    fn textures_and_normal_maps_shade_without_artefacts() {
        let mut scene = cornell_box();
        // A 2x2 checker base colour and a tilted normal map on the white walls.
        let checker = Texture {
            width: 2,
            height: 2,
            rgba8: vec![255, 255, 255, 255, 30, 30, 30, 255, 30, 30, 30, 255, 255, 255, 255, 255],
        };
        let bumps = Texture { width: 1, height: 1, rgba8: vec![200, 128, 230, 255] };
        scene.textures = vec![checker, bumps];
        scene.materials[0].base_color_texture = Some(TextureRef { texture: 0 });
        scene.materials[0].normal_texture = Some(TextureRef { texture: 1 });
        let img = render(&scene, &small(8));
        assert!(!img.has_non_finite());
        assert!(img.mean().min_element() > 0.02);
    }
}
