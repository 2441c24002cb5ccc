//! The Cornell box, built in code: the demo's animated scene and the benchmark's still one.
//!
//! Units follow the original measurements (Cornell's 555 mm box, in metres x 10, so about 5.55
//! units a side) in glTF's y-up, right-handed frame: the floor is y = 0, the open side faces +z,
//! and the "main" camera looks down -z from 8 units in front of the opening with the original's
//! 39.3 degree vertical field of view. A quad light hangs just below the ceiling
//! (KHR_materials_emissive_strength), a glossy metal tall box and a white short box stand on the
//! floor, and a checker-textured sphere bounces in front of them.
//!
//! The animation (2 s) exercises all three glTF interpolations: the sphere's translation is
//! LINEAR and its spin CUBICSPLINE, the tall box turns in STEPs, and the main camera dollies in
//! and pans (LINEAR).

use std::f32::consts::PI;

use serde_json::{json, Value};

use crate::geometry::{normalize, MeshData};
use crate::glb::{BinChunk, ARRAY_BUFFER};
use crate::texture::checker_png;

/// Half the box's width and depth; its height is twice this.
const HALF: f32 = 2.775;
const HEIGHT: f32 = 2.0 * HALF;
/// The original camera's vertical field of view, 39.3 degrees.
pub const YFOV: f32 = 0.686;
/// Length of the animation, seconds.
pub const DURATION: f32 = 2.0;

const SPHERE_RADIUS: f32 = 0.5;
const SPHERE_Z: f32 = 2.15;
const CAMERA_START: [f32; 3] = [0.0, 2.73, HALF + 8.0];
const CAMERA_END: [f32; 3] = [0.7, 2.95, HALF + 6.9];
const LOOK_AT: [f32; 3] = [0.0, 2.73, 0.0];

/// Material indices, in the order [`materials`] lists them.
mod material {
    pub const WHITE: usize = 0;
    pub const RED: usize = 1;
    pub const GREEN: usize = 2;
    pub const LIGHT: usize = 3;
    pub const METAL: usize = 4;
    pub const CHECKER: usize = 5;
}

/// The animated Cornell box as a GLB file: the demo's scene.
pub fn cornell_box_animated() -> Vec<u8> {
    build(true)
}

/// The Cornell box with nothing moving, everything at its time-zero pose: the benchmark scene.
pub fn cornell_box_still() -> Vec<u8> {
    build(false)
}

fn build(animated: bool) -> Vec<u8> {
    let mut bin = BinChunk::default();

    let mut white = MeshData::default();
    let (h, y) = (HALF, HEIGHT);
    white.quad([-h, 0., h], [h, 0., h], [h, 0., -h], [-h, 0., -h]); // floor, facing up
    white.quad([-h, y, -h], [h, y, -h], [h, y, h], [-h, y, h]); // ceiling, facing down
    white.quad([-h, 0., -h], [h, 0., -h], [h, y, -h], [-h, y, -h]); // back wall, facing +z
    let mut red = MeshData::default();
    red.quad([-h, 0., h], [-h, 0., -h], [-h, y, -h], [-h, y, h]); // left wall, facing +x
    let mut green = MeshData::default();
    green.quad([h, 0., -h], [h, 0., h], [h, y, h], [h, y, -h]); // right wall, facing -x
    let mut light = MeshData::default();
    // Nearly flush with the ceiling: emission is two-sided (as in Cycles), and
    // light leaking up through a wider gap would light a ceiling patch that
    // other surfaces see only through the gap, as fireflies.
    let (lx, lz, ly) = (0.65, 0.525, HEIGHT - 0.001);
    light.quad([-lx, ly, -lz], [lx, ly, -lz], [lx, ly, lz], [-lx, ly, lz]); // facing down

    let room = json!({ "name": "Room", "primitives": [
        primitive(&mut bin, &white, material::WHITE, false),
        primitive(&mut bin, &red, material::RED, false),
        primitive(&mut bin, &green, material::GREEN, false),
    ]});
    let meshes = json!([
        room,
        mesh(&mut bin, "Light", &light, material::LIGHT, false),
        mesh(&mut bin, "TallBox", &MeshData::cuboid([1.65, 3.3, 1.65]), material::METAL, false),
        mesh(&mut bin, "ShortBox", &MeshData::cuboid([1.65, 1.65, 1.65]), material::WHITE, false),
        mesh(&mut bin, "Sphere", &MeshData::sphere(SPHERE_RADIUS, 32, 16), material::CHECKER, true),
    ]);

    let checker = checker_png(64, 8, [230, 190, 60], [40, 60, 140]);
    let checker_view = bin.push_view(&checker, None);

    let nodes = json!([
        { "name": "main", "camera": 0,
          "translation": CAMERA_START, "rotation": look_at(CAMERA_START, LOOK_AT) },
        { "name": "side", "camera": 1,
          "translation": [2.2, 4.6, HALF + 5.5], "rotation": look_at([2.2, 4.6, HALF + 5.5], [0.0, 2.0, 0.0]) },
        { "name": "Room", "mesh": 0 },
        { "name": "Light", "mesh": 1 },
        { "name": "TallBox", "mesh": 2, "translation": [-0.95, 0.0, -1.0], "rotation": y_rotation(0.3) },
        { "name": "ShortBox", "mesh": 3, "translation": [0.9, 0.0, 0.6], "rotation": y_rotation(-0.3) },
        { "name": "Sphere", "mesh": 4, "translation": sphere_path()[0].1 },
    ]);

    let mut root = json!({
        "asset": { "version": "2.0", "generator": "mosaic-samples" },
        "extensionsUsed": ["KHR_materials_emissive_strength"],
        "scene": 0,
        "scenes": [{ "name": if animated { "CornellBoxAnimated" } else { "CornellBox" },
                     "nodes": [0, 1, 2, 3, 4, 5, 6] }],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials(),
        "cameras": [
            { "name": "main", "type": "perspective",
              "perspective": { "yfov": YFOV, "znear": 0.1, "zfar": 100.0 } },
            { "name": "side", "type": "perspective",
              "perspective": { "yfov": 0.8, "znear": 0.1, "zfar": 100.0 } },
        ],
        "images": [{ "name": "checker", "bufferView": checker_view, "mimeType": "image/png" }],
        "samplers": [{ "magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 10497 }],
        "textures": [{ "source": 0, "sampler": 0 }],
    });
    if animated {
        root["animations"] = json!([animation(&mut bin)]);
    }
    bin.into_glb(root)
}

fn primitive(bin: &mut BinChunk, data: &MeshData, material: usize, textured: bool) -> Value {
    let mut attributes = json!({
        "POSITION": bin.push_floats(&data.positions, Some(ARRAY_BUFFER), true),
        "NORMAL": bin.push_floats(&data.normals, Some(ARRAY_BUFFER), false),
    });
    if textured {
        attributes["TEXCOORD_0"] = json!(bin.push_floats(&data.uvs, Some(ARRAY_BUFFER), false));
    }
    json!({
        "attributes": attributes,
        "indices": bin.push_indices(&data.indices),
        "material": material,
        "mode": 4,
    })
}

fn mesh(bin: &mut BinChunk, name: &str, data: &MeshData, material: usize, textured: bool) -> Value {
    json!({ "name": name, "primitives": [primitive(bin, data, material, textured)] })
}

/// Diffuse colours are the original Cornell box's measured reflectances.
fn materials() -> Value {
    let diffuse = |name: &str, rgb: [f32; 3]| {
        json!({ "name": name, "pbrMetallicRoughness": {
            "baseColorFactor": [rgb[0], rgb[1], rgb[2], 1.0],
            "metallicFactor": 0.0, "roughnessFactor": 1.0 } })
    };
    json!([
        diffuse("White", [0.725, 0.71, 0.68]),
        diffuse("Red", [0.63, 0.065, 0.05]),
        diffuse("Green", [0.14, 0.45, 0.091]),
        { "name": "Light",
          "pbrMetallicRoughness": { "baseColorFactor": [0.78, 0.78, 0.78, 1.0],
                                    "metallicFactor": 0.0, "roughnessFactor": 1.0 },
          "emissiveFactor": [1.0, 0.78, 0.5],
          "extensions": { "KHR_materials_emissive_strength": { "emissiveStrength": 15.0 } } },
        { "name": "GlossyMetal",
          "pbrMetallicRoughness": { "baseColorFactor": [0.95, 0.93, 0.88, 1.0],
                                    "metallicFactor": 1.0, "roughnessFactor": 0.25 } },
        { "name": "Checker",
          "pbrMetallicRoughness": { "baseColorTexture": { "index": 0, "texCoord": 0 },
                                    "metallicFactor": 0.0, "roughnessFactor": 0.6 } },
    ])
}

/// The sphere's bounce across the front of the box: (time, position) keys, LINEAR.
fn sphere_path() -> [(f32, [f32; 3]); 5] {
    let (low, high) = (SPHERE_RADIUS, 1.6);
    [
        (0.0, [-1.8, low, SPHERE_Z]),
        (0.5, [-0.9, high, SPHERE_Z]),
        (1.0, [0.0, low, SPHERE_Z]),
        (1.5, [0.9, high, SPHERE_Z]),
        (2.0, [1.8, low, SPHERE_Z]),
    ]
}

fn animation(bin: &mut BinChunk) -> Value {
    const SPHERE: usize = 6;
    const TALL_BOX: usize = 4;
    const CAMERA: usize = 0;

    let path = sphere_path();
    let sphere_times = bin.push_times(&path.map(|(t, _)| t));
    let sphere_positions = bin.push_floats(&path.map(|(_, p)| p), None, false);

    // One full turn about y over the animation, as CUBICSPLINE keys with exact tangents
    // (d/dt of the quaternion, per second) so the spin is smooth and even.
    let spin_rate = 2.0 * PI / DURATION;
    let mut spin = Vec::new();
    for &(t, _) in &path {
        let angle = spin_rate * t;
        let tangent = [
            0.0,
            0.5 * spin_rate * (angle / 2.0).cos(),
            0.0,
            -0.5 * spin_rate * (angle / 2.0).sin(),
        ];
        spin.extend([tangent, y_rotation(angle), tangent]); // in-tangent, value, out-tangent
    }
    let spin_values = bin.push_floats(&spin, None, false);

    let step_times = bin.push_times(&[0.0, 0.7, 1.4]);
    let step_turns =
        bin.push_floats(&[y_rotation(0.3), y_rotation(0.55), y_rotation(0.8)], None, false);

    let camera_times = bin.push_times(&[0.0, DURATION]);
    let camera_positions = bin.push_floats(&[CAMERA_START, CAMERA_END], None, false);
    let camera_turns = bin.push_floats(
        &[look_at(CAMERA_START, LOOK_AT), look_at(CAMERA_END, LOOK_AT)],
        None,
        false,
    );

    json!({
        "name": "Motion",
        "samplers": [
            { "input": sphere_times, "output": sphere_positions, "interpolation": "LINEAR" },
            { "input": sphere_times, "output": spin_values, "interpolation": "CUBICSPLINE" },
            { "input": step_times, "output": step_turns, "interpolation": "STEP" },
            { "input": camera_times, "output": camera_positions, "interpolation": "LINEAR" },
            { "input": camera_times, "output": camera_turns, "interpolation": "LINEAR" },
        ],
        "channels": [
            { "sampler": 0, "target": { "node": SPHERE, "path": "translation" } },
            { "sampler": 1, "target": { "node": SPHERE, "path": "rotation" } },
            { "sampler": 2, "target": { "node": TALL_BOX, "path": "rotation" } },
            { "sampler": 3, "target": { "node": CAMERA, "path": "translation" } },
            { "sampler": 4, "target": { "node": CAMERA, "path": "rotation" } },
        ],
    })
}

/// A rotation by `angle` radians about +y, as a glTF quaternion (x, y, z, w).
fn y_rotation(angle: f32) -> [f32; 4] {
    [0.0, (angle / 2.0).sin(), 0.0, (angle / 2.0).cos()]
}

/// The rotation that turns a glTF camera (looking down -z, +y up) at `eye` towards `target`.
/// Valid for views within 90 degrees of -z, which is all these scenes use.
fn look_at(eye: [f32; 3], target: [f32; 3]) -> [f32; 4] {
    let f = normalize([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
    let z = [-f[0], -f[1], -f[2]];
    let x = normalize([z[2], 0.0, -z[0]]); // up (0,1,0) x z
    let y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
    let trace = x[0] + y[1] + z[2];
    debug_assert!(trace > 0.0, "look_at only handles views within 90 degrees of -z");
    let s = (trace + 1.0).sqrt() * 2.0;
    [(y[2] - z[1]) / s, (z[0] - x[2]) / s, (x[1] - y[0]) / s, 0.25 * s]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glb::read_glb;

    fn scenes() -> [(&'static str, Vec<u8>); 2] {
        [("animated", cornell_box_animated()), ("still", cornell_box_still())]
    }

    fn components(kind: &str) -> usize {
        match kind {
            "SCALAR" => 1,
            "VEC2" => 2,
            "VEC3" => 3,
            "VEC4" => 4,
            other => panic!("unexpected accessor type {other}"),
        }
    }

    /// An accessor's data as f32s (float accessors) or integers (u16 indices), with its element width.
    fn accessor_values(root: &Value, bin: &[u8], index: u64) -> (Vec<f64>, usize) {
        let accessor = &root["accessors"][index as usize];
        let view = &root["bufferViews"][accessor["bufferView"].as_u64().unwrap() as usize];
        let n = components(accessor["type"].as_str().unwrap());
        let count = accessor["count"].as_u64().unwrap() as usize;
        let size = match accessor["componentType"].as_u64().unwrap() {
            5126 => 4,
            5123 => 2,
            other => panic!("unexpected component type {other}"),
        };
        let start = view["byteOffset"].as_u64().unwrap() as usize
            + accessor["byteOffset"].as_u64().unwrap_or(0) as usize;
        let end = start + count * n * size;
        let view_end = view["byteOffset"].as_u64().unwrap() as usize
            + view["byteLength"].as_u64().unwrap() as usize;
        assert!(end <= view_end, "accessor {index} overruns its bufferView");
        assert!(view_end <= bin.len(), "bufferView of accessor {index} overruns the buffer");
        assert_eq!(start % size, 0, "accessor {index} is misaligned");
        let values = bin[start..end]
            .chunks_exact(size)
            .map(|b| match size {
                4 => f64::from(f32::from_le_bytes(b.try_into().unwrap())),
                _ => f64::from(u16::from_le_bytes(b.try_into().unwrap())),
            })
            .collect();
        (values, n)
    }

    #[test]
    fn glb_is_well_formed_and_small() {
        for (name, glb) in scenes() {
            assert!(glb.len() < 200 * 1024, "{name}: {} bytes", glb.len());
            let (root, bin) = read_glb(&glb).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(root["asset"]["version"], "2.0");
            assert_eq!(root["buffers"][0]["byteLength"].as_u64().unwrap() as usize, bin.len());
            assert!(root["buffers"][0].get("uri").is_none(), "{name}: GLB buffer has a uri");
        }
    }

    #[test]
    fn accessors_fit_and_positions_have_exact_bounds() {
        for (name, glb) in scenes() {
            let (root, bin) = read_glb(&glb).unwrap();
            let accessors = root["accessors"].as_array().unwrap();
            for index in 0..accessors.len() as u64 {
                accessor_values(&root, &bin, index);
            }
            for mesh in root["meshes"].as_array().unwrap() {
                for primitive in mesh["primitives"].as_array().unwrap() {
                    let attributes = &primitive["attributes"];
                    let position = attributes["POSITION"].as_u64().unwrap();
                    let accessor = &root["accessors"][position as usize];
                    let (values, n) = accessor_values(&root, &bin, position);
                    for axis in 0..n {
                        let column = values.iter().skip(axis).step_by(n);
                        let min = column.clone().cloned().fold(f64::INFINITY, f64::min);
                        let max = column.cloned().fold(f64::NEG_INFINITY, f64::max);
                        assert_eq!(accessor["min"][axis].as_f64(), Some(min), "{name}: {mesh}");
                        assert_eq!(accessor["max"][axis].as_f64(), Some(max), "{name}: {mesh}");
                    }
                    let vertices = accessor["count"].as_u64().unwrap();
                    for attribute in ["NORMAL"]
                        .iter()
                        .chain(attributes.get("TEXCOORD_0").map(|_| "TEXCOORD_0").as_slice())
                    {
                        let a = attributes[*attribute].as_u64().unwrap() as usize;
                        assert_eq!(root["accessors"][a]["count"].as_u64(), Some(vertices));
                    }
                    let (indices, _) =
                        accessor_values(&root, &bin, primitive["indices"].as_u64().unwrap());
                    assert_eq!(indices.len() % 3, 0);
                    assert!(indices.iter().all(|&i| (i as u64) < vertices), "{name}: {mesh}");
                    let material =
                        &root["materials"][primitive["material"].as_u64().unwrap() as usize];
                    if !material["pbrMetallicRoughness"]["baseColorTexture"].is_null() {
                        assert!(
                            attributes.get("TEXCOORD_0").is_some(),
                            "{name}: textured without UVs"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn light_is_emissive_with_declared_strength_and_one_material_is_glossy_metal() {
        let (root, _) = read_glb(&cornell_box_still()).unwrap();
        assert_eq!(root["extensionsUsed"], json!(["KHR_materials_emissive_strength"]));
        let light = &root["materials"][material::LIGHT];
        assert_eq!(
            light["extensions"]["KHR_materials_emissive_strength"]["emissiveStrength"],
            15.0
        );
        let metal = &root["materials"][material::METAL]["pbrMetallicRoughness"];
        assert_eq!(metal["metallicFactor"], 1.0);
        assert!(metal["roughnessFactor"].as_f64().unwrap() < 0.5);
    }

    #[test]
    fn main_camera_comes_first_and_has_the_cornell_field_of_view() {
        let (root, _) = read_glb(&cornell_box_still()).unwrap();
        let first_camera_node = root["scenes"][0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| &root["nodes"][n.as_u64().unwrap() as usize])
            .find(|node| node.get("camera").is_some())
            .unwrap();
        let camera = &root["cameras"][first_camera_node["camera"].as_u64().unwrap() as usize];
        assert_eq!(camera["name"], "main");
        assert!(
            (camera["perspective"]["yfov"].as_f64().unwrap() - 39.3f64.to_radians()).abs() < 1e-3
        );
        assert_eq!(root["cameras"][1]["name"], "side");
    }

    #[test]
    fn animation_uses_every_interpolation_and_moves_the_camera() {
        let (root, bin) = read_glb(&cornell_box_animated()).unwrap();
        let animation = &root["animations"][0];
        let samplers = animation["samplers"].as_array().unwrap();
        let mut interpolations: Vec<&str> =
            samplers.iter().map(|s| s["interpolation"].as_str().unwrap()).collect();
        interpolations.sort();
        interpolations.dedup();
        assert_eq!(interpolations, ["CUBICSPLINE", "LINEAR", "STEP"]);
        let mut end = 0.0f64;
        for sampler in samplers {
            let input = &root["accessors"][sampler["input"].as_u64().unwrap() as usize];
            let output = &root["accessors"][sampler["output"].as_u64().unwrap() as usize];
            let keys = input["count"].as_u64().unwrap();
            let per_key = if sampler["interpolation"] == "CUBICSPLINE" { 3 } else { 1 };
            assert_eq!(output["count"].as_u64(), Some(keys * per_key));
            assert_eq!(input["min"][0], 0.0);
            end = end.max(input["max"][0].as_f64().unwrap());
        }
        assert_eq!(end, f64::from(DURATION));
        let camera_node =
            root["nodes"].as_array().unwrap().iter().position(|n| n["name"] == "main").unwrap();
        let camera_paths: Vec<&str> = animation["channels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["target"]["node"] == camera_node)
            .map(|c| c["target"]["path"].as_str().unwrap())
            .collect();
        assert_eq!(camera_paths, ["translation", "rotation"]);
        // Rotation keys (not the cubic tangents) are unit quaternions.
        for channel in animation["channels"].as_array().unwrap() {
            if channel["target"]["path"] != "rotation" {
                continue;
            }
            let sampler = &samplers[channel["sampler"].as_u64().unwrap() as usize];
            let (values, _) = accessor_values(&root, &bin, sampler["output"].as_u64().unwrap());
            let cubic = sampler["interpolation"] == "CUBICSPLINE";
            for (i, q) in values.chunks_exact(4).enumerate() {
                if !cubic || i % 3 == 1 {
                    let norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
                    assert!((norm - 1.0).abs() < 1e-5, "{q:?}");
                }
            }
        }
    }

    #[test]
    fn still_scene_has_no_animation() {
        let (root, _) = read_glb(&cornell_box_still()).unwrap();
        assert!(root.get("animations").is_none());
    }

    #[test]
    fn embedded_texture_is_a_64px_png() {
        let (root, bin) = read_glb(&cornell_box_still()).unwrap();
        let image = &root["images"][0];
        assert_eq!(image["mimeType"], "image/png");
        let view = &root["bufferViews"][image["bufferView"].as_u64().unwrap() as usize];
        let start = view["byteOffset"].as_u64().unwrap() as usize;
        let bytes = &bin[start..start + view["byteLength"].as_u64().unwrap() as usize];
        let reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (64, 64));
    }

    #[test]
    fn look_at_points_the_camera_at_its_target() {
        let eye = [2.0, 4.0, 7.0];
        let target = [0.0, 2.0, 0.0];
        let [x, y, z, w] = look_at(eye, target);
        // Rotate the camera's forward (0, 0, -1) by q: v' = v + 2w(q x v) + 2 q x (q x v).
        let q = [x, y, z];
        let v = [0.0, 0.0, -1.0];
        let c = |a: [f32; 3], b: [f32; 3]| {
            [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
        };
        let t = c(q, v);
        let u = c(q, t);
        let forward = [0, 1, 2].map(|i| v[i] + 2.0 * w * t[i] + 2.0 * u[i]);
        let expected = normalize([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
        for i in 0..3 {
            assert!((forward[i] - expected[i]).abs() < 1e-5, "{forward:?} vs {expected:?}");
        }
        assert!(((x * x + y * y + z * z + w * w).sqrt() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn gltf_crate_accepts_both_scenes() {
        for (name, glb) in scenes() {
            let gltf = gltf::Gltf::from_slice(&glb).unwrap_or_else(|e| panic!("{name}: {e}"));
            let blob = gltf.blob.as_ref().expect("a BIN chunk");
            let document = &gltf.document;
            assert_eq!(document.buffers().next().unwrap().length(), blob.len());
            assert_eq!(document.cameras().count(), 2);
            assert_eq!(document.animations().count(), usize::from(name == "animated"));
            let image = document.images().next().unwrap();
            assert!(matches!(
                image.source(),
                gltf::image::Source::View { mime_type: "image/png", .. }
            ));
            let light = document.materials().find(|m| m.name() == Some("Light")).unwrap();
            assert_eq!(light.emissive_strength(), Some(15.0));
        }
    }
}
