//! Materials (PBR metallic-roughness, normal maps, emissive with
//! KHR_materials_emissive_strength) and the texture images they use.
//!
//! Every image's header is checked against the pixel limit before anything
//! is decoded; only images a material uses are decoded, and their total is
//! capped at [`TOTAL_PIXELS_FACTOR`] times the per-image limit.

use std::borrow::Cow;

use glam::{Vec3, Vec4};

use super::buffers::{decode_data_uri, external_uri, short, Buffers};
use super::images;
use super::{Limits, SceneError};
use crate::scene::{Material, Texture, TextureRef};

/// All decoded textures together may hold this many times
/// `Limits::max_texture_pixels` (at the defaults: 128 Mpixel, 512 MiB RGBA).
pub const TOTAL_PIXELS_FACTOR: u64 = 8;

/// The bytes of an image, from a buffer view or a data: URI.
pub(super) fn image_bytes<'a>(
    image: &gltf::Image<'a>,
    buffers: &'a Buffers,
) -> Result<Cow<'a, [u8]>, SceneError> {
    let what = format!("image {}", image.index());
    match image.source() {
        gltf::image::Source::View { view, .. } => Ok(Cow::Borrowed(buffers.view_bytes(&view))),
        gltf::image::Source::Uri { uri, .. } => match decode_data_uri(uri) {
            Some(Ok(bytes)) => Ok(Cow::Owned(bytes)),
            Some(Err(problem)) => Err(SceneError::Uri { what, uri: short(uri), problem }),
            None => Err(external_uri(&what, uri)),
        },
    }
}

/// Scene materials by glTF index with glTF's default material appended (for
/// primitives without one), and the decoded textures they point into.
pub(super) fn load(
    doc: &gltf::Document,
    buffers: &Buffers,
    limits: &Limits,
) -> Result<(Vec<Material>, Vec<Texture>), SceneError> {
    // Headers first: no image over the limit gets near a decoder.
    let mut sources = Vec::with_capacity(doc.images().len());
    for image in doc.images() {
        let i = image.index();
        let bytes = image_bytes(&image, buffers)?;
        let (_, width, height) =
            images::probe(&bytes).map_err(|problem| SceneError::Image { image: i, problem })?;
        let pixels = width as u64 * height as u64;
        if pixels > limits.max_texture_pixels {
            return Err(SceneError::TextureTooLarge {
                image: i,
                width,
                height,
                pixels,
                limit: limits.max_texture_pixels,
            });
        }
        sources.push((bytes, pixels));
    }

    let mut slots: Vec<Option<u32>> = vec![None; sources.len()];
    let mut textures = Vec::new();
    let mut total_pixels = 0u64;
    let mut texture_ref = |info_texture: gltf::Texture,
                           tex_coord: u32,
                           material: usize|
     -> Result<TextureRef, SceneError> {
        if tex_coord != 0 {
            tracing::warn!(material, tex_coord, "only TEXCOORD_0 is supported; using it instead");
        }
        let image = info_texture.source().index();
        if let Some(slot) = slots[image] {
            return Ok(TextureRef { texture: slot });
        }
        let (bytes, pixels) = &sources[image];
        total_pixels += pixels;
        if total_pixels > limits.max_texture_pixels.saturating_mul(TOTAL_PIXELS_FACTOR) {
            return Err(SceneError::Image {
                image,
                problem: format!(
                    "the textures total more than {} pixels, the limit for one scene",
                    limits.max_texture_pixels.saturating_mul(TOTAL_PIXELS_FACTOR)
                ),
            });
        }
        let texture = images::decode(bytes, limits.max_texture_pixels)
            .map_err(|problem| SceneError::Image { image, problem })?;
        let slot = textures.len() as u32;
        textures.push(texture);
        slots[image] = Some(slot);
        Ok(TextureRef { texture: slot })
    };

    let mut materials = Vec::with_capacity(doc.materials().len() + 1);
    for material in doc.materials() {
        let i = material.index().expect("document materials have indices");
        let fail = |problem: &str| SceneError::Material { material: i, problem: problem.into() };
        let pbr = material.pbr_metallic_roughness();
        let base_color = Vec4::from(pbr.base_color_factor());
        let strength = material.emissive_strength().unwrap_or(1.0);
        let emissive = Vec3::from(material.emissive_factor()) * strength;
        let (metallic, roughness) = (pbr.metallic_factor(), pbr.roughness_factor());
        if !base_color.is_finite() || !metallic.is_finite() || !roughness.is_finite() {
            return Err(fail("a base colour, metallic or roughness factor is NaN or infinite"));
        }
        if !strength.is_finite()
            || strength < 0.0
            || !emissive.is_finite()
            || emissive.min_element() < 0.0
        {
            return Err(fail("the emissive factor or KHR_materials_emissive_strength is negative, NaN or infinite"));
        }
        let normal = material.normal_texture();
        let normal_scale = normal.as_ref().map_or(1.0, |n| n.scale());
        if !normal_scale.is_finite() {
            return Err(fail("the normal texture scale is NaN or infinite"));
        }
        let mut reference = |info: Option<gltf::texture::Info>| {
            info.map(|t| texture_ref(t.texture(), t.tex_coord(), i)).transpose()
        };
        let base_color_texture = reference(pbr.base_color_texture())?;
        let metallic_roughness_texture = reference(pbr.metallic_roughness_texture())?;
        let emissive_texture = reference(material.emissive_texture())?;
        let normal_texture =
            normal.map(|n| texture_ref(n.texture(), n.tex_coord(), i)).transpose()?;
        materials.push(Material {
            name: material.name().map(str::to_owned),
            base_color,
            base_color_texture,
            metallic: metallic.clamp(0.0, 1.0),
            roughness: roughness.clamp(0.0, 1.0),
            metallic_roughness_texture,
            normal_texture,
            normal_scale,
            emissive,
            emissive_texture,
            double_sided: material.double_sided(),
        });
    }
    materials.push(Material::default());
    Ok((materials, textures))
}
