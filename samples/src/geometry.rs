//! Triangle meshes for the sample scenes: quads, boxes and a UV sphere, each with normals
//! (and texture coordinates for the sphere), counter-clockwise seen from the normal's side.

use std::f32::consts::PI;

/// One primitive's vertex and index data.
#[derive(Default)]
pub struct MeshData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub uvs: Vec<[f32; 2]>,
    pub indices: Vec<u16>,
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub fn normalize(v: [f32; 3]) -> [f32; 3] {
    let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / len, v[1] / len, v[2] / len]
}

impl MeshData {
    /// Adds the quad `a b c d` (counter-clockwise seen from the side it faces) as two
    /// triangles with a flat normal and UVs spanning the quad.
    pub fn quad(&mut self, a: [f32; 3], b: [f32; 3], c: [f32; 3], d: [f32; 3]) {
        let normal = normalize(cross(sub(b, a), sub(c, a)));
        let base = self.positions.len() as u16;
        self.positions.extend([a, b, c, d]);
        self.normals.extend([normal; 4]);
        self.uvs.extend([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]);
        self.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    /// An axis-aligned box standing on y = 0, centred on the y axis, faces pointing out.
    pub fn cuboid(size: [f32; 3]) -> MeshData {
        let (x, y, z) = (size[0] / 2.0, size[1], size[2] / 2.0);
        let p = |sx: f32, sy: f32, sz: f32| [sx * x, sy * y, sz * z];
        let mut mesh = MeshData::default();
        mesh.quad(p(-1., 0., 1.), p(1., 0., 1.), p(1., 1., 1.), p(-1., 1., 1.)); // +z
        mesh.quad(p(1., 0., -1.), p(-1., 0., -1.), p(-1., 1., -1.), p(1., 1., -1.)); // -z
        mesh.quad(p(1., 0., 1.), p(1., 0., -1.), p(1., 1., -1.), p(1., 1., 1.)); // +x
        mesh.quad(p(-1., 0., -1.), p(-1., 0., 1.), p(-1., 1., 1.), p(-1., 1., -1.)); // -x
        mesh.quad(p(-1., 1., 1.), p(1., 1., 1.), p(1., 1., -1.), p(-1., 1., -1.)); // top
        mesh.quad(p(-1., 0., -1.), p(1., 0., -1.), p(1., 0., 1.), p(-1., 0., 1.)); // bottom
        mesh
    }

    /// A UV sphere around the origin: `segments` around the y axis, `rings` pole to pole.
    /// u runs once around, v from the north pole (0) to the south pole (1).
    pub fn sphere(radius: f32, segments: u16, rings: u16) -> MeshData {
        let mut mesh = MeshData::default();
        for ring in 0..=rings {
            let v = f32::from(ring) / f32::from(rings);
            let theta = v * PI;
            for segment in 0..=segments {
                let u = f32::from(segment) / f32::from(segments);
                let phi = u * 2.0 * PI;
                let n = [theta.sin() * phi.cos(), theta.cos(), -theta.sin() * phi.sin()];
                mesh.positions.push([n[0] * radius, n[1] * radius, n[2] * radius]);
                mesh.normals.push(n);
                mesh.uvs.push([u, v]);
            }
        }
        let row = segments + 1;
        for ring in 0..rings {
            for segment in 0..segments {
                let a = ring * row + segment;
                let (b, c, d) = (a + row, a + row + 1, a + 1);
                if ring != 0 {
                    mesh.indices.extend([a, b, d]);
                }
                if ring != rings - 1 {
                    mesh.indices.extend([d, b, c]);
                }
            }
        }
        mesh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }

    /// Every triangle's winding agrees with its vertices' normals (front faces face out).
    fn assert_winding_matches_normals(mesh: &MeshData) {
        for tri in mesh.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|i| mesh.positions[tri[i] as usize]);
            let face = cross(sub(b, a), sub(c, a));
            let n = mesh.normals[tri[0] as usize];
            assert!(dot(face, n) > 0.0, "triangle {tri:?} winds against its normal");
        }
    }

    #[test]
    fn cuboid_faces_point_outwards() {
        let mesh = MeshData::cuboid([1.0, 2.0, 3.0]);
        assert_eq!((mesh.positions.len(), mesh.indices.len()), (24, 36));
        assert_winding_matches_normals(&mesh);
        for (p, n) in mesh.positions.iter().zip(&mesh.normals) {
            let from_centre = sub(*p, [0.0, 1.0, 0.0]);
            assert!(dot(from_centre, *n) > 0.0);
        }
    }

    #[test]
    fn sphere_is_closed_and_wound_outwards() {
        let mesh = MeshData::sphere(0.5, 16, 8);
        assert_winding_matches_normals(&mesh);
        // 16 segments x (8 rings, less one triangle per segment at each pole)
        assert_eq!(mesh.indices.len(), 16 * (8 * 2 - 2) * 3);
        for p in &mesh.positions {
            assert!((dot(*p, *p).sqrt() - 0.5).abs() < 1e-5);
        }
    }
}
