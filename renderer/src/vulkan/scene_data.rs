//! A scene flattened into the buffers the shaders read (the layouts of
//! shaders/common.glsl and pathtrace.comp, std430 with vec4-aligned
//! records). Pure data: no Vulkan here, so it is tested without a GPU.

use crate::bvh::Bvh;
use crate::camera::PerspectiveCamera;
use crate::integrator::RenderOptions;
use crate::light::LightSet;
use crate::scene::{Material, Scene};

/// Descriptor bindings, as the shaders number them.
pub mod binding {
    pub const PARAMS: u32 = 0;
    pub const ACCUM: u32 = 1;
    pub const NODES: u32 = 2;
    pub const ACCEL: u32 = 3;
    pub const IDS: u32 = 4;
    pub const TRIANGLES: u32 = 5;
    pub const MATERIALS: u32 = 6;
    pub const TEXTURE_INFO: u32 = 7;
    pub const TEXELS: u32 = 8;
    pub const LIGHTS: u32 = 9;
    pub const LIGHT_PMF: u32 = 10;
    pub const TRIANGLE_LIGHT: u32 = 11;
    pub const TABLES: u32 = 12;
    pub const TLAS: u32 = 13;
}

/// One storage buffer's contents.
pub struct BufferData {
    pub binding: u32,
    pub bytes: Vec<u8>,
}

/// Everything a frame needs on the GPU, besides the acceleration structures.
pub struct SceneData {
    /// The buffers both backends bind (params, triangles, materials,
    /// textures, lights, tables).
    pub shared: Vec<BufferData>,
    /// The BVH (compute backend only): nodes, leaf triangles, ids.
    pub bvh: Vec<BufferData>,
    /// World-space corners, 3 x vec3 per triangle (ray-tracing backend).
    pub positions: Vec<u8>,
    /// The triangle ranges to build one acceleration structure each from.
    pub meshes: Vec<std::ops::Range<u32>>,
}

/// A 32-bit value as the GPU stores it (little-endian, as every Vulkan
/// host we run on).
trait Word: Copy {
    fn le(self) -> [u8; 4];
}

impl Word for f32 {
    fn le(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

impl Word for u32 {
    fn le(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

fn bytes_of<T: Word, const N: usize>(items: &[[T; N]]) -> Vec<u8> {
    items.iter().flatten().flat_map(|v| v.le()).collect()
}

fn words(values: impl IntoIterator<Item = u32>) -> Vec<u8> {
    values.into_iter().flat_map(u32::to_le_bytes).collect()
}

fn floats(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// A zero-length storage buffer cannot be bound: empty arrays get one
/// zeroed element the shaders never read (their counts say so).
fn at_least(mut bytes: Vec<u8>, element: usize) -> Vec<u8> {
    if bytes.is_empty() {
        bytes.resize(element, 0);
    }
    bytes
}

impl SceneData {
    /// Flattens `scene` for `opts`; `bvh` only when the compute backend
    /// needs it (the ray-tracing one builds its own).
    pub fn new(scene: &Scene, opts: &RenderOptions, with_bvh: bool) -> SceneData {
        // The compute backend walks the CPU's BVH; the ray-tracing one
        // builds its own, so it gets none (an empty tree).
        let tree = if with_bvh { Bvh::new(&scene.triangles) } else { Bvh::default() };
        // The scene's bounds (the BVH root's, as the CPU takes them) size the
        // lights at infinity, so every backend picks lights alike.
        let lights = LightSet::new(scene, scene_bounds(scene)).gpu();
        let camera = PerspectiveCamera::new(&scene.camera, opts.width, opts.height);
        let (origin, right, down, top_left) = camera.basis();

        let mut params =
            floats(
                [origin, right, down, top_left]
                    .into_iter()
                    .flat_map(|v| [v.x, v.y, v.z, 0.0])
                    .chain([scene.sky.x, scene.sky.y, scene.sky.z, lights.sky_pmf]),
            );
        params.extend(words([
            opts.width,
            opts.height,
            opts.max_bounces,
            opts.frame,
            lights.records.len() as u32,
            u32::from(!lights.triangle_light.is_empty()),
            tree.node_count() as u32,
            scene.triangles.len() as u32,
            opts.seed as u32,
            (opts.seed >> 32) as u32,
            0,
            0,
        ]));

        let triangles: Vec<[f32; 4]> = scene
            .triangles
            .iter()
            .flat_map(|t| {
                let p = |i: usize, w: f32| t.positions[i].extend(w).to_array();
                let n = |i: usize| t.normals[i].extend(0.0).to_array();
                [
                    p(0, f32::from_bits(t.material)),
                    p(1, 0.0),
                    p(2, 0.0),
                    n(0),
                    n(1),
                    n(2),
                    t.tangents[0].to_array(),
                    t.tangents[1].to_array(),
                    t.tangents[2].to_array(),
                    [t.uvs[0].x, t.uvs[0].y, t.uvs[1].x, t.uvs[1].y],
                    [t.uvs[2].x, t.uvs[2].y, 0.0, 0.0],
                ]
            })
            .collect();

        // A triangle naming a material that does not exist gets glTF's
        // default, as on the CPU: it is appended once at the end.
        let default_index = scene.materials.len() as u32;
        let mut materials: Vec<[u32; 16]> = scene.materials.iter().map(material_record).collect();
        materials.push(material_record(&Material::GLTF_DEFAULT));
        let triangles = remap_missing_materials(triangles, default_index);

        let mut texture_info = Vec::new();
        let mut texels = Vec::new();
        for t in &scene.textures {
            let complete = t.rgba8.len() >= t.width as usize * t.height as usize * 4;
            let (w, h) = if complete { (t.width, t.height) } else { (0, 0) };
            texture_info.push([texels.len() as u32, w, h, 0]);
            if complete {
                texels.extend(
                    t.rgba8
                        .chunks_exact(4)
                        .take(w as usize * h as usize)
                        .map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]])),
                );
            }
        }

        let mut tables = crate::texture::srgb_table().to_vec();
        tables.extend(crate::material::dielectric_albedo_flat());

        let shared = vec![
            BufferData { binding: binding::PARAMS, bytes: params },
            BufferData { binding: binding::TRIANGLES, bytes: at_least(bytes_of(&triangles), 176) },
            BufferData { binding: binding::MATERIALS, bytes: bytes_of(&materials) },
            BufferData {
                binding: binding::TEXTURE_INFO,
                bytes: at_least(bytes_of(&texture_info), 16),
            },
            BufferData { binding: binding::TEXELS, bytes: at_least(words(texels), 4) },
            BufferData {
                binding: binding::LIGHTS,
                bytes: at_least(lights.records.iter().flat_map(|r| bytes_of(r)).collect(), 64),
            },
            BufferData {
                binding: binding::LIGHT_PMF,
                bytes: at_least(bytes_of(&lights.pmf_cdf), 8),
            },
            BufferData {
                binding: binding::TRIANGLE_LIGHT,
                bytes: at_least(words(lights.triangle_light.iter().copied()), 4),
            },
            BufferData { binding: binding::TABLES, bytes: floats(tables) },
        ];
        let bvh = if with_bvh {
            vec![
                BufferData {
                    binding: binding::NODES,
                    bytes: at_least(bytes_of(&tree.gpu_nodes()), 32),
                },
                BufferData {
                    binding: binding::ACCEL,
                    bytes: at_least(bytes_of(&tree.gpu_triangles()), 48),
                },
                BufferData {
                    binding: binding::IDS,
                    bytes: at_least(words(tree.ids().iter().copied()), 4),
                },
            ]
        } else {
            Vec::new()
        };
        let positions =
            floats(scene.triangles.iter().flat_map(|t| t.positions).flat_map(|p| [p.x, p.y, p.z]));
        let meshes = if scene.meshes.is_empty() && !scene.triangles.is_empty() {
            std::iter::once(0..scene.triangles.len() as u32).collect()
        } else {
            scene.meshes.iter().filter(|r| !r.is_empty()).cloned().collect()
        };
        SceneData { shared, bvh, positions, meshes }
    }
}

/// The box around every triangle corner: what the CPU's BVH root holds.
fn scene_bounds(scene: &Scene) -> Option<(glam::Vec3, glam::Vec3)> {
    let mut corners = scene.triangles.iter().flat_map(|t| t.positions);
    let first = corners.next()?;
    Some(corners.fold((first, first), |(lo, hi), p| (lo.min(p), hi.max(p))))
}

fn material_record(m: &Material) -> [u32; 16] {
    let f = |v: f32| v.to_bits();
    let tex = |t: Option<crate::scene::TextureRef>| t.map_or(u32::MAX, |t| t.texture);
    let c = m.base_color;
    let e = m.emissive;
    [
        f(c.x),
        f(c.y),
        f(c.z),
        f(c.w),
        f(e.x),
        f(e.y),
        f(e.z),
        f(m.metallic),
        f(m.roughness),
        f(m.normal_scale),
        0,
        0,
        tex(m.base_color_texture),
        tex(m.metallic_roughness_texture),
        tex(m.normal_texture),
        tex(m.emissive_texture),
    ]
}

/// Points triangles whose material index is out of range at the default
/// material (record `default_index`).
fn remap_missing_materials(mut triangles: Vec<[f32; 4]>, default_index: u32) -> Vec<[f32; 4]> {
    for record in triangles.chunks_exact_mut(11) {
        if record[0][3].to_bits() >= default_index {
            record[0][3] = f32::from_bits(default_index);
        }
    }
    triangles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cornell() -> Scene {
        let asset =
            crate::SceneAsset::from_bytes(&samples::cornell_box_still(), &crate::Limits::default())
                .unwrap();
        asset.instantiate(0.0, None).unwrap()
    }

    fn opts() -> RenderOptions {
        RenderOptions { width: 64, height: 48, spp: 4, max_bounces: 4, seed: 7, frame: 3 }
    }

    #[test]
    fn records_have_the_shader_sizes() {
        let scene = cornell();
        let data = SceneData::new(&scene, &opts(), true);
        let size = |b: u32| {
            data.shared.iter().chain(&data.bvh).find(|d| d.binding == b).unwrap().bytes.len()
        };
        assert_eq!(size(binding::PARAMS), 5 * 16 + 3 * 16);
        assert_eq!(size(binding::TRIANGLES), scene.triangles.len() * 11 * 16);
        assert_eq!(size(binding::MATERIALS), (scene.materials.len() + 1) * 64);
        assert_eq!(size(binding::TABLES), (256 + 16 * 32) * 4);
        assert_eq!(size(binding::ACCEL) % 48, 0);
        assert_eq!(data.positions.len(), scene.triangles.len() * 36);
        let covered: u32 = data.meshes.iter().map(|r| r.end - r.start).sum();
        assert_eq!(covered as usize, scene.triangles.len(), "every triangle is in one mesh");
        assert!(data.meshes.len() > 1, "the Cornell box has several meshes");
    }

    #[test]
    fn scene_bounds_are_the_bvh_roots() {
        let scene = cornell();
        assert_eq!(scene_bounds(&scene), Bvh::new(&scene.triangles).bounds());
    }

    #[test]
    fn empty_scene_still_binds_every_buffer() {
        let mut scene = cornell();
        scene.triangles.clear();
        scene.meshes.clear();
        scene.lights.clear();
        let data = SceneData::new(&scene, &opts(), true);
        assert!(data.shared.iter().chain(&data.bvh).all(|d| !d.bytes.is_empty()));
        assert!(data.meshes.is_empty());
    }
}
