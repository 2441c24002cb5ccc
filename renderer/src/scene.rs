//! The render scene: a glTF scene flattened to world space at one instant.
//!
//! The glTF loader (`crate::gltf_scene`) builds it; the path tracer reads it.
//! Everything here is already validated: finite positions, indices in range,
//! texture references that exist. It holds no glTF types, so the tracer (and
//! later the Vulkan backends) never see the file format.

use glam::{Mat4, Vec2, Vec3, Vec4};

/// A triangle in world space with its shading attributes.
#[derive(Clone, Debug)]
pub struct Triangle {
    pub positions: [Vec3; 3],
    /// Unit shading normals (geometric normal where the mesh had none).
    pub normals: [Vec3; 3],
    /// Tangents with the bitangent sign in `w`, as glTF stores them; zero
    /// where the mesh had none and no normal map needs them.
    pub tangents: [Vec4; 3],
    /// TEXCOORD_0, zero where the mesh had none.
    pub uvs: [Vec2; 3],
    /// Index into [`Scene::materials`].
    pub material: u32,
}

/// A texture reference inside a material.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextureRef {
    /// Index into [`Scene::textures`].
    pub texture: u32,
}

/// A decoded image, 8-bit RGBA, rows top to bottom. Whether it is sRGB or
/// linear depends on the slot that uses it (glTF: base colour and emissive
/// are sRGB, the rest linear).
#[derive(Clone, Debug)]
pub struct Texture {
    pub width: u32,
    pub height: u32,
    pub rgba8: Vec<u8>,
}

/// glTF's PBR metallic-roughness material.
#[derive(Clone, Debug)]
pub struct Material {
    pub name: Option<String>,
    /// Linear RGBA factor.
    pub base_color: Vec4,
    pub base_color_texture: Option<TextureRef>,
    pub metallic: f32,
    pub roughness: f32,
    /// Roughness in G, metalness in B, linear.
    pub metallic_roughness_texture: Option<TextureRef>,
    /// Tangent-space normal map, linear.
    pub normal_texture: Option<TextureRef>,
    pub normal_scale: f32,
    /// Linear emitted radiance factor, already multiplied by
    /// KHR_materials_emissive_strength.
    pub emissive: Vec3,
    /// sRGB, multiplied with `emissive`.
    pub emissive_texture: Option<TextureRef>,
    pub double_sided: bool,
}

impl Material {
    /// glTF's default material (for primitives that name none): white,
    /// fully rough, metallic factor 1 as the spec says.
    pub const GLTF_DEFAULT: Material = Material {
        name: None,
        base_color: Vec4::ONE,
        base_color_texture: None,
        metallic: 1.0,
        roughness: 1.0,
        metallic_roughness_texture: None,
        normal_texture: None,
        normal_scale: 1.0,
        emissive: Vec3::ZERO,
        emissive_texture: None,
        double_sided: false,
    };
}

impl Default for Material {
    fn default() -> Self {
        Self::GLTF_DEFAULT
    }
}

/// KHR_lights_punctual, in world space.
#[derive(Clone, Debug)]
pub struct PunctualLight {
    pub kind: LightKind,
    /// Linear RGB.
    pub color: Vec3,
    /// Candela for point and spot lights, lux for directional ones; the
    /// tracer treats both as radiometric (W/sr, W/m^2).
    pub intensity: f32,
    /// Distance past which the light contributes nothing; `None` is infinite.
    pub range: Option<f32>,
}

#[derive(Clone, Debug)]
pub enum LightKind {
    /// Light travels along `direction` (unit, world space).
    Directional {
        direction: Vec3,
    },
    Point {
        position: Vec3,
    },
    Spot {
        position: Vec3,
        /// Unit, world space: where the cone points.
        direction: Vec3,
        inner_cone_angle: f32,
        outer_cone_angle: f32,
    },
}

/// A perspective camera. It looks down its local -Z with +Y up, as glTF's do.
#[derive(Clone, Debug)]
pub struct Camera {
    pub name: Option<String>,
    /// Camera-to-world transform (rigid: the loader removes scale).
    pub to_world: Mat4,
    /// Vertical field of view, radians.
    pub yfov: f32,
}

#[derive(Clone, Debug)]
pub struct Scene {
    pub triangles: Vec<Triangle>,
    pub materials: Vec<Material>,
    pub textures: Vec<Texture>,
    pub lights: Vec<PunctualLight>,
    pub camera: Camera,
    /// Uniform sky radiance, linear RGB, seen by rays that leave the scene.
    pub sky: Vec3,
    /// The triangles of each placed mesh, consecutive ranges of
    /// `triangles`: the ray-tracing backend builds one acceleration
    /// structure per range. Empty means one mesh of every triangle.
    pub meshes: Vec<std::ops::Range<u32>>,
}

/// The sky used when a scene does not say: a dim neutral grey, so scenes lit
/// only by their own lights still read as lit by them.
pub const DEFAULT_SKY: Vec3 = Vec3::splat(0.05);
