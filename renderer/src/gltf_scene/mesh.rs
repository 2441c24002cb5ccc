//! Triangle meshes: reading primitives (positions, normals, tangents,
//! TEXCOORD_0, u8/u16/u32 indices) with every index and position checked, and
//! placing them in world space: normals by the inverse transpose, winding
//! flipped under mirroring transforms, geometric normals where the mesh has
//! none, tangents from UVs where a normal map needs them.
//!
//! Modes: TRIANGLES, TRIANGLE_STRIP and TRIANGLE_FAN are rendered (strips and
//! fans become triangle lists); POINTS and LINES* have no area to render and
//! are skipped with a warning.

use glam::{Mat3, Mat4, Vec2, Vec3, Vec4};
use gltf::accessor::Dimensions;
use gltf::mesh::{Mode, Semantic};

use super::buffers::{accessor_error, Buffers};
use super::{Limits, SceneError};
use crate::scene::Triangle;

/// A primitive as a triangle list in the mesh's local space.
#[derive(Clone, Debug)]
pub(super) struct Primitive {
    positions: Vec<Vec3>,
    normals: Option<Vec<Vec3>>,
    tangents: Option<Vec<Vec4>>,
    uvs: Option<Vec<Vec2>>,
    /// Three per triangle, all < positions.len().
    indices: Vec<u32>,
    material: u32,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Mesh {
    primitives: Vec<Primitive>,
}

fn renders(mode: Mode) -> bool {
    matches!(mode, Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan)
}

/// Triangles a primitive will produce, from accessor counts alone (so the
/// triangle limit is checked before any vertex is read).
pub(super) fn triangle_count(primitive: &gltf::Primitive) -> u64 {
    let n = primitive
        .indices()
        .or_else(|| primitive.get(&Semantic::Positions))
        .map_or(0, |a| a.count() as u64);
    match primitive.mode() {
        Mode::Triangles => n / 3,
        Mode::TriangleStrip | Mode::TriangleFan => n.saturating_sub(2),
        _ => 0,
    }
}

pub(super) fn load(
    mesh: &gltf::Mesh,
    buffers: &Buffers,
    limits: &Limits,
    default_material: u32,
) -> Result<Mesh, SceneError> {
    let m = mesh.index();
    let mut primitives = Vec::new();
    for primitive in mesh.primitives() {
        let p = primitive.index();
        if !renders(primitive.mode()) {
            tracing::warn!(mesh = m, primitive = p, mode = ?primitive.mode(), "primitive is not triangles; skipped");
            continue;
        }
        let Some(position_accessor) = primitive.get(&Semantic::Positions) else {
            tracing::warn!(mesh = m, primitive = p, "primitive has no POSITION; skipped");
            continue;
        };
        let ctx = |what: &str| format!("{what} of mesh {m} primitive {p}");
        let flat = buffers.read_floats(
            &position_accessor,
            &ctx("POSITION"),
            &[Dimensions::Vec3],
            limits,
        )?;
        let positions: Vec<Vec3> = flat.chunks_exact(3).map(Vec3::from_slice).collect();
        if let Some(vertex) = positions.iter().position(|v| !v.is_finite()) {
            return Err(SceneError::NonFinitePosition {
                accessor: position_accessor.index(),
                mesh: m,
                primitive: p,
                vertex,
                value: format!("{:?}", positions[vertex]),
            });
        }
        let vertices = positions.len();
        let attribute = |semantic: Semantic,
                         name: &str,
                         dims: Dimensions|
         -> Result<Option<Vec<f32>>, SceneError> {
            let Some(accessor) = primitive.get(&semantic) else { return Ok(None) };
            let context = ctx(name);
            if accessor.count() != vertices {
                return Err(accessor_error(
                    &accessor,
                    &context,
                    format!("has {} elements but POSITION has {vertices}", accessor.count()),
                ));
            }
            let values = buffers.read_floats(&accessor, &context, &[dims], limits)?;
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(accessor_error(
                    &accessor,
                    &context,
                    format!("has a NaN or infinite value at element {}", i / dims.multiplicity()),
                ));
            }
            Ok(Some(values))
        };
        let normals = attribute(Semantic::Normals, "NORMAL", Dimensions::Vec3)?
            .map(|f| f.chunks_exact(3).map(Vec3::from_slice).collect());
        let tangents = attribute(Semantic::Tangents, "TANGENT", Dimensions::Vec4)?
            .map(|f| f.chunks_exact(4).map(Vec4::from_slice).collect());
        let uvs = attribute(Semantic::TexCoords(0), "TEXCOORD_0", Dimensions::Vec2)?
            .map(|f| f.chunks_exact(2).map(Vec2::from_slice).collect());

        let indices = match primitive.indices() {
            Some(accessor) => {
                let indices = buffers.read_indices(&accessor, &ctx("indices"), limits)?;
                if let Some(position) = indices.iter().position(|&i| i as usize >= vertices) {
                    return Err(SceneError::IndexOutOfRange {
                        accessor: accessor.index(),
                        mesh: m,
                        primitive: p,
                        position,
                        value: indices[position],
                        vertices,
                    });
                }
                indices
            }
            None => (0..vertices as u32).collect(),
        };
        let indices = triangle_list(primitive.mode(), indices);
        let material = primitive.material().index().map_or(default_material, |i| i as u32);
        primitives.push(Primitive { positions, normals, tangents, uvs, indices, material });
    }
    Ok(Mesh { primitives })
}

/// Strips and fans to a list; a list's trailing partial triangle is dropped.
fn triangle_list(mode: Mode, indices: Vec<u32>) -> Vec<u32> {
    match mode {
        Mode::TriangleStrip => (0..indices.len().saturating_sub(2))
            .flat_map(|i| {
                let (a, b, c) = (indices[i], indices[i + 1], indices[i + 2]);
                if i % 2 == 0 {
                    [a, b, c]
                } else {
                    [b, a, c]
                }
            })
            .collect(),
        Mode::TriangleFan => (1..indices.len().saturating_sub(1))
            .flat_map(|i| [indices[0], indices[i], indices[i + 1]])
            .collect(),
        _ => {
            let mut indices = indices;
            indices.truncate(indices.len() / 3 * 3);
            indices
        }
    }
}

impl Mesh {
    /// Appends this mesh's triangles placed by `world`. Zero-area triangles
    /// (also every triangle under a zero scale) are left out: they cannot be
    /// hit and have no normal. `needs_tangents[material]` says where to
    /// derive tangents from UVs when the mesh has none. Returns false,
    /// having added nothing more, if a vertex lands at infinity (a finite
    /// but huge transform).
    #[must_use]
    pub fn emit(&self, world: Mat4, needs_tangents: &[bool], out: &mut Vec<Triangle>) -> bool {
        let linear = Mat3::from_mat4(world);
        let det = linear.determinant();
        if !det.is_finite() || det.abs() < 1e-30 {
            return det.is_finite();
        }
        let normal_matrix = linear.inverse().transpose();
        let flip = det < 0.0;
        let handedness = if flip { -1.0 } else { 1.0 };
        for prim in &self.primitives {
            let derive_tangents = prim.tangents.is_none()
                && prim.uvs.is_some()
                && needs_tangents.get(prim.material as usize) == Some(&true);
            for tri in prim.indices.chunks_exact(3) {
                let idx = if flip { [tri[0], tri[2], tri[1]] } else { [tri[0], tri[1], tri[2]] }
                    .map(|i| i as usize);
                let positions = idx.map(|i| world.transform_point3(prim.positions[i]));
                if !positions.iter().all(|p| p.is_finite()) {
                    return false;
                }
                let cross = (positions[1] - positions[0]).cross(positions[2] - positions[0]);
                let Some(geometric) = cross.try_normalize() else { continue };
                let normals = match &prim.normals {
                    Some(n) => {
                        idx.map(|i| (normal_matrix * n[i]).try_normalize().unwrap_or(geometric))
                    }
                    None => [geometric; 3],
                };
                let uvs = prim.uvs.as_ref().map_or([Vec2::ZERO; 3], |uv| idx.map(|i| uv[i]));
                let tangents = match &prim.tangents {
                    Some(t) => idx.map(|i| {
                        let xyz = (linear * t[i].truncate()).normalize_or_zero();
                        xyz.extend(if t[i].w < 0.0 { -handedness } else { handedness })
                    }),
                    None if derive_tangents => uv_tangents(&positions, &uvs, &normals),
                    None => [Vec4::ZERO; 3],
                };
                out.push(Triangle { positions, normals, tangents, uvs, material: prim.material });
            }
        }
        true
    }
}

/// Per-triangle tangents from UV derivatives, orthogonalised per vertex
/// normal; zero where the UVs are degenerate.
fn uv_tangents(p: &[Vec3; 3], uv: &[Vec2; 3], normals: &[Vec3; 3]) -> [Vec4; 3] {
    let (e1, e2) = (p[1] - p[0], p[2] - p[0]);
    let (d1, d2) = (uv[1] - uv[0], uv[2] - uv[0]);
    let r = d1.x * d2.y - d2.x * d1.y;
    if r.abs() < 1e-20 {
        return [Vec4::ZERO; 3];
    }
    let t = (e1 * d2.y - e2 * d1.y) / r;
    let b = (e2 * d1.x - e1 * d2.x) / r;
    normals.map(|n| match (t - n * n.dot(t)).try_normalize() {
        Some(t) => t.extend(if n.cross(t).dot(b) < 0.0 { -1.0 } else { 1.0 }),
        None => Vec4::ZERO,
    })
}
