//! Tests of the glTF loader on small documents built here: one per kind of
//! bad input (error variant and culprit in the message), and the behaviours
//! a render depends on (transforms, animation sampling, materials, packing).

use glam::{Quat, Vec3};
use serde_json::{json, Value};

use super::*;
use crate::scene::TextureRef;

/// Writes glTF JSON plus one BIN buffer, as a GLB or as embedded .gltf.
struct Builder {
    doc: Value,
    bin: Vec<u8>,
}

impl Builder {
    fn new() -> Self {
        Self {
            doc: json!({
                "asset": { "version": "2.0" },
                "scene": 0,
                "scenes": [{ "nodes": [] }],
                "nodes": [], "meshes": [], "accessors": [], "bufferViews": [], "cameras": []
            }),
            bin: Vec::new(),
        }
    }

    fn push(&mut self, key: &str, value: Value) -> usize {
        let array = self.doc.as_object_mut().unwrap().entry(key).or_insert_with(|| json!([]));
        let array = array.as_array_mut().unwrap();
        array.push(value);
        array.len() - 1
    }

    fn view(&mut self, bytes: &[u8]) -> usize {
        self.bin.resize(self.bin.len().div_ceil(4) * 4, 0);
        let offset = self.bin.len();
        self.bin.extend_from_slice(bytes);
        self.push(
            "bufferViews",
            json!({ "buffer": 0, "byteOffset": offset, "byteLength": bytes.len() }),
        )
    }

    fn floats(&mut self, values: &[f32], ty: &str) -> usize {
        let dims = match ty {
            "SCALAR" => 1,
            "VEC2" => 2,
            "VEC3" => 3,
            _ => 4,
        };
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = self.view(&bytes);
        let mut accessor = json!({ "bufferView": view, "componentType": 5126, "count": values.len() / dims, "type": ty });
        if ty == "VEC3" {
            accessor["min"] = json!([-1e9, -1e9, -1e9]);
            accessor["max"] = json!([1e9, 1e9, 1e9]);
        }
        self.push("accessors", accessor)
    }

    fn indices_u16(&mut self, values: &[u16]) -> usize {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = self.view(&bytes);
        self.push("accessors", json!({ "bufferView": view, "componentType": 5123, "count": values.len(), "type": "SCALAR" }))
    }

    fn node(&mut self, node: Value) -> usize {
        self.push("nodes", node)
    }

    fn root(&mut self, node: usize) {
        self.doc["scenes"][0]["nodes"].as_array_mut().unwrap().push(json!(node));
    }

    /// A mesh with one triangle primitive; returns the mesh index.
    fn triangle_mesh(
        &mut self,
        positions: &[f32],
        indices: &[u16],
        material: Option<usize>,
    ) -> usize {
        let position = self.floats(positions, "VEC3");
        let index = self.indices_u16(indices);
        let mut primitive = json!({ "attributes": { "POSITION": position }, "indices": index });
        if let Some(m) = material {
            primitive["material"] = json!(m);
        }
        self.push("meshes", json!({ "primitives": [primitive] }))
    }

    fn camera_node(&mut self, name: &str, translation: [f32; 3]) -> usize {
        let camera = self.push(
            "cameras",
            json!({ "type": "perspective", "perspective": { "yfov": 0.8, "znear": 0.1 } }),
        );
        let node = self.node(json!({ "name": name, "camera": camera, "translation": translation }));
        self.root(node);
        node
    }

    fn finished_doc(&self) -> Value {
        let mut doc = self.doc.clone();
        doc["buffers"] = json!([{ "byteLength": self.bin.len() }]);
        doc
    }

    fn glb(&self) -> Vec<u8> {
        glb::write(&serde_json::to_vec(&self.finished_doc()).unwrap(), Some(&self.bin))
    }

    fn embedded_gltf(&self) -> Vec<u8> {
        let mut doc = self.finished_doc();
        doc["buffers"][0]["uri"] =
            json!(format!("data:application/octet-stream;base64,{}", base64(&self.bin)));
        serde_json::to_vec(&doc).unwrap()
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const TRIANGLE: [f32; 9] = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// One triangle (mesh 0 on node 0) and a camera node at z = 3.
fn triangle_scene() -> Builder {
    let mut b = Builder::new();
    let mesh = b.triangle_mesh(&TRIANGLE, &[0, 1, 2], None);
    let node = b.node(json!({ "mesh": mesh }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    b
}

fn load(bytes: &[u8]) -> Result<SceneAsset, SceneError> {
    SceneAsset::from_bytes(bytes, &Limits::default())
}

fn load_err(bytes: &[u8]) -> (SceneError, String) {
    let err = load(bytes).expect_err("the scene should be refused");
    let message = err.to_string();
    (err, message)
}

fn assert_near(a: Vec3, b: Vec3) {
    assert!((a - b).length() < 1e-4, "{a} != {b}");
}

/// A PNG whose IHDR claims the given size, with no pixel data at all.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]); // depth, RGBA, ..., CRC (unchecked here)
    png
}

fn encode_png(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(rgba).unwrap();
    out
}

/// Adds a material whose base colour texture is `image_bytes`.
fn textured_material(b: &mut Builder, image_bytes: &[u8], mime: &str) -> usize {
    let view = b.view(image_bytes);
    let image = b.push("images", json!({ "bufferView": view, "mimeType": mime }));
    let texture = b.push("textures", json!({ "source": image }));
    b.push(
        "materials",
        json!({ "pbrMetallicRoughness": { "baseColorTexture": { "index": texture } } }),
    )
}

// ---- bad input: each refused with the culprit named ----

#[test]
fn truncated_glb_is_refused() {
    let glb = triangle_scene().glb();
    let (err, message) = load_err(&glb[..glb.len() - 10]);
    assert!(matches!(err, SceneError::NotGltf(_)), "{err:?}");
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn every_prefix_of_a_scene_is_refused_without_panicking() {
    let glb = triangle_scene().glb();
    for len in 0..glb.len() {
        assert!(load(&glb[..len]).is_err(), "prefix of {len} bytes loaded");
    }
    let gltf = triangle_scene().embedded_gltf();
    for len in (0..gltf.len()).step_by(7) {
        assert!(load(&gltf[..len]).is_err(), "prefix of {len} bytes loaded");
    }
}

#[test]
fn non_gltf_bytes_are_refused() {
    let (err, _) = load_err(b"\x00\x01 this is not a scene");
    assert!(matches!(err, SceneError::NotGltf(_)), "{err:?}");
    let (err, message) = load_err(b"{\"hello\": 1}");
    assert!(matches!(err, SceneError::NotGltf(_) | SceneError::Invalid(_)), "{err:?}");
    assert!(message.contains("asset"), "{message}");
}

#[test]
fn scene_over_the_size_limit_is_refused() {
    let glb = triangle_scene().glb();
    let limits = Limits { max_scene_bytes: 100, ..Limits::default() };
    let err = SceneAsset::from_bytes(&glb, &limits).unwrap_err();
    assert!(matches!(err, SceneError::TooLarge { limit: 100, .. }), "{err:?}");
    assert!(err.to_string().contains("over the limit of 100 bytes"), "{err}");
}

#[test]
fn accessor_reading_past_its_buffer_view_is_refused() {
    let mut b = triangle_scene();
    b.doc["accessors"][0]["count"] = json!(400);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Accessor { accessor: 0, .. }), "{err:?}");
    assert_eq!(
        message,
        "accessor 0 (POSITION of mesh 0 primitive 0) reads bytes 0..4800 but buffer view 0 has 36"
    );
}

#[test]
fn accessor_offset_and_stride_are_bounds_checked() {
    let mut b = triangle_scene();
    b.doc["bufferViews"][0]["byteStride"] = json!(16);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Accessor { accessor: 0, .. }), "{err:?}");
    assert!(message.contains("reads bytes 0..44 but buffer view 0 has 36"), "{message}");

    let mut b = triangle_scene();
    b.doc["accessors"][1]["byteOffset"] = json!(4);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Accessor { accessor: 1, .. }), "{err:?}");
    assert!(message.contains("indices of mesh 0 primitive 0"), "{message}");
}

#[test]
fn buffer_view_past_its_buffer_is_refused() {
    let mut b = triangle_scene();
    b.doc["bufferViews"][1]["byteLength"] = json!(4000);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::BufferView { view: 1, .. }), "{err:?}");
    assert!(message.contains("buffer view 1") && message.contains("buffer 0 has"), "{message}");
}

#[test]
fn index_past_the_vertex_count_is_refused() {
    let mut b = Builder::new();
    let mesh = b.triangle_mesh(&TRIANGLE, &[0, 1, 7], None);
    let node = b.node(json!({ "mesh": mesh }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    let (err, message) = load_err(&b.glb());
    assert!(
        matches!(err, SceneError::IndexOutOfRange { accessor: 1, value: 7, vertices: 3, .. }),
        "{err:?}"
    );
    assert!(
        message.contains("accessor 1 (indices of mesh 0 primitive 0) has index 7"),
        "{message}"
    );
}

#[test]
fn nan_vertex_position_is_refused() {
    let mut b = Builder::new();
    let mut positions = TRIANGLE;
    positions[4] = f32::NAN;
    let mesh = b.triangle_mesh(&positions, &[0, 1, 2], None);
    let node = b.node(json!({ "mesh": mesh }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    let (err, message) = load_err(&b.glb());
    assert!(
        matches!(err, SceneError::NonFinitePosition { accessor: 0, mesh: 0, vertex: 1, .. }),
        "{err:?}"
    );
    assert!(message.contains("accessor 0 (POSITION of mesh 0 primitive 0)"), "{message}");
}

#[test]
fn node_hierarchy_loop_is_refused() {
    let mut b = triangle_scene();
    let a = b.node(json!({ "name": "a" }));
    let c = b.node(json!({ "name": "c", "children": [a] }));
    b.doc["nodes"][a]["children"] = json!([c]);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Hierarchy { .. }), "{err:?}");
    assert!(
        message.contains(&format!("node {a}")) || message.contains(&format!("node {c}")),
        "{message}"
    );
    assert!(message.contains("loop"), "{message}");

    let mut b = triangle_scene();
    let a = b.node(json!({ "name": "a" }));
    b.doc["nodes"][a]["children"] = json!([a]);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Hierarchy { node, .. } if node == a), "{err:?}");
    assert!(message.contains("loop"), "{message}");
}

#[test]
fn node_with_two_parents_is_refused() {
    let mut b = triangle_scene();
    let child = b.node(json!({}));
    let p1 = b.node(json!({ "children": [child] }));
    let p2 = b.node(json!({ "children": [child] }));
    b.root(p1);
    b.root(p2);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Hierarchy { node, .. } if node == child), "{err:?}");
    assert!(message.contains(&format!("two parents, nodes {p1} and {p2}")), "{message}");
}

#[test]
fn texture_header_over_the_pixel_limit_is_refused_before_decoding() {
    let mut b = Builder::new();
    let material = textured_material(&mut b, &png_header(60000, 60000), "image/png");
    let mesh = b.triangle_mesh(&TRIANGLE, &[0, 1, 2], Some(material));
    let node = b.node(json!({ "mesh": mesh }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    let (err, message) = load_err(&b.glb());
    assert!(
        matches!(err, SceneError::TextureTooLarge { image: 0, width: 60000, height: 60000, .. }),
        "{err:?}"
    );
    assert!(message.contains("image 0 claims 60000x60000"), "{message}");
}

#[test]
fn jpeg_header_over_the_pixel_limit_is_refused() {
    let mut jpeg = include_bytes!("testdata/orange_8x8.jpg").to_vec();
    // Rewrite the SOF0 frame size to 60000x60000.
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let mut b = triangle_scene();
    textured_material(&mut b, &jpeg, "image/jpeg");
    let (err, _) = load_err(&b.glb());
    assert!(matches!(err, SceneError::TextureTooLarge { image: 0, width: 60000, .. }), "{err:?}");
}

#[test]
fn too_many_triangles_is_refused() {
    let glb = triangle_scene().glb();
    let limits = Limits { max_triangles: 0, ..Limits::default() };
    let err = SceneAsset::from_bytes(&glb, &limits).unwrap_err();
    assert!(matches!(err, SceneError::TooManyTriangles { triangles: 1, limit: 0 }), "{err:?}");
}

#[test]
fn instanced_triangles_count_against_the_limit() {
    let mut b = triangle_scene();
    for _ in 0..9 {
        let n = b.node(json!({ "mesh": 0 }));
        b.root(n);
    }
    let limits = Limits { max_triangles: 9, ..Limits::default() };
    let err = SceneAsset::from_bytes(&b.glb(), &limits).unwrap_err();
    assert!(matches!(err, SceneError::TooManyTriangles { triangles: 10, .. }), "{err:?}");
    assert_eq!(load(&b.glb()).unwrap().summary().triangles, 10);
}

#[test]
fn external_and_malformed_uris_are_refused_by_from_bytes() {
    let b = triangle_scene();
    let mut doc = b.finished_doc();
    doc["buffers"][0]["uri"] = json!("scene.bin");
    let (err, message) = load_err(&serde_json::to_vec(&doc).unwrap());
    assert!(matches!(err, SceneError::Uri { .. }), "{err:?}");
    assert!(message.starts_with("buffer 0 has URI \"scene.bin\""), "{message}");

    doc["buffers"][0]["uri"] = json!("data:application/octet-stream;base64,@@@@");
    let (err, message) = load_err(&serde_json::to_vec(&doc).unwrap());
    assert!(matches!(err, SceneError::Uri { .. }), "{err:?}");
    assert!(message.contains("invalid base64"), "{message}");

    let mut b = triangle_scene();
    b.push("images", json!({ "uri": "../../etc/passwd.png" }));
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Uri { .. }), "{err:?}");
    assert!(message.starts_with("image 0 has URI"), "{message}");
}

#[test]
fn zero_rotation_quaternion_is_refused() {
    let mut b = triangle_scene();
    b.doc["nodes"][0]["rotation"] = json!([0.0, 0.0, 0.0, 0.0]);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Transform { node: 0, .. }), "{err:?}");
    assert!(message.contains("zero quaternion"), "{message}");
}

#[test]
fn scene_without_a_camera_is_refused() {
    let mut b = Builder::new();
    let mesh = b.triangle_mesh(&TRIANGLE, &[0, 1, 2], None);
    let node = b.node(json!({ "mesh": mesh }));
    b.root(node);
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::NoCamera), "{err:?}");
    assert_eq!(message, "the scene has no camera: add a perspective camera node");
}

#[test]
fn orthographic_camera_is_unsupported_when_selected() {
    let mut b = triangle_scene();
    let camera = b.push("cameras", json!({ "type": "orthographic", "orthographic": { "xmag": 1.0, "ymag": 1.0, "znear": 0.1, "zfar": 10.0 } }));
    let node = b.node(json!({ "name": "Ortho", "camera": camera }));
    b.root(node);
    let asset = load(&b.glb()).unwrap();
    assert_eq!(asset.summary().cameras, ["Cam", "Ortho"]);
    assert!(asset.instantiate(0.0, None).is_ok());
    let err = asset.instantiate(0.0, Some("Ortho")).unwrap_err();
    assert!(matches!(err, SceneError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("orthographic"), "{err}");
    let err = asset.instantiate(0.0, Some("Nope")).unwrap_err();
    assert!(matches!(err, SceneError::UnknownCamera { .. }), "{err:?}");
    assert!(err.to_string().contains("\"Nope\""), "{err}");
}

#[test]
fn bad_animation_keys_are_refused() {
    let mut b = triangle_scene();
    let input = b.floats(&[0.0, 1.0], "SCALAR");
    let output = b.floats(&[0.0, 0.0, 0.0], "VEC3"); // one value for two keys
    b.push(
        "animations",
        json!({
            "channels": [{ "sampler": 0, "target": { "node": 0, "path": "translation" } }],
            "samplers": [{ "input": input, "output": output }]
        }),
    );
    let (err, message) = load_err(&b.glb());
    assert!(matches!(err, SceneError::Animation { animation: 0, channel: 0, .. }), "{err:?}");
    assert!(message.contains("2 keys but 1 output values"), "{message}");
}

// ---- scenes that load ----

#[test]
fn triangle_scene_loads_from_glb_and_embedded_gltf() {
    for bytes in [triangle_scene().glb(), triangle_scene().embedded_gltf()] {
        let asset = load(&bytes).unwrap();
        assert_eq!(
            asset.summary(),
            SceneSummary {
                triangles: 1,
                cameras: vec!["Cam".into()],
                lights: 0,
                animation_seconds: 0.0
            }
        );
        let scene = asset.instantiate(0.0, None).unwrap();
        assert_eq!(scene.triangles.len(), 1);
        let t = &scene.triangles[0];
        assert_eq!(t.positions, [Vec3::ZERO, Vec3::X, Vec3::Y]);
        assert_eq!(t.normals, [Vec3::Z; 3], "flat normals where the mesh has none");
        assert_eq!(t.material as usize, scene.materials.len() - 1, "glTF's default material");
        assert_near(scene.camera.to_world.w_axis.truncate(), Vec3::new(0.0, 0.0, 3.0));
        assert!((scene.camera.yfov - 0.8).abs() < 1e-6);
        assert_eq!(scene.sky, DEFAULT_SKY);
    }
}

#[test]
fn scene_extras_override_the_sky() {
    let mut b = triangle_scene();
    b.doc["scenes"][0]["extras"] = json!({ "mosaic_sky": [0.1, 0.2, 0.3] });
    let scene = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap();
    assert_eq!(scene.sky, Vec3::new(0.1, 0.2, 0.3));
    b.doc["scenes"][0]["extras"] = json!({ "mosaic_sky": [0.1, -1.0, 0.3] });
    assert!(matches!(load(&b.glb()), Err(SceneError::Invalid(m)) if m.contains("mosaic_sky")));
}

#[test]
fn hierarchy_composes_transforms() {
    let mut b = Builder::new();
    let mesh = b.triangle_mesh(&TRIANGLE, &[0, 1, 2], None);
    // parent: rotate 90 degrees about +Y, then move +X; child: scale 2, move -Z.
    let child =
        b.node(json!({ "mesh": mesh, "translation": [0.0, 0.0, -1.0], "scale": [2.0, 2.0, 2.0] }));
    let r = Quat::from_rotation_y(std::f32::consts::FRAC_PI_2);
    let parent = b.node(
        json!({ "translation": [1.0, 0.0, 0.0], "rotation": r.to_array(), "children": [child] }),
    );
    b.root(parent);
    // A camera under a scaled node: scale is removed.
    let camera = b.push(
        "cameras",
        json!({ "type": "perspective", "perspective": { "yfov": 0.5, "znear": 0.1 } }),
    );
    let cam = b.node(json!({ "camera": camera, "translation": [0.0, 0.0, 5.0] }));
    let scaled = b.node(json!({ "scale": [3.0, 3.0, 3.0], "children": [cam] }));
    b.root(scaled);
    let scene = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap();
    let t = &scene.triangles[0];
    // child origin: parent * (0,0,-1) = R*(0,0,-1) + (1,0,0) = (-1,0,0) + (1,0,0) = (0,0,0)
    assert_near(t.positions[0], Vec3::ZERO);
    // child (1,0,0) scaled to (2,0,-1) -> R*(2,0,-1) = (-1,0,-2) -> + (1,0,0) = (0,0,-2)
    assert_near(t.positions[1], Vec3::new(0.0, 0.0, -2.0));
    assert_near(t.normals[0], Vec3::X);
    let cam = scene.camera.to_world;
    assert_near(cam.w_axis.truncate(), Vec3::new(0.0, 0.0, 15.0));
    assert_near(cam.x_axis.truncate(), Vec3::X);
    assert_near(cam.z_axis.truncate(), Vec3::Z);
    assert_eq!(scene.camera.name.as_deref(), Some("camera 0"));
}

#[test]
fn mirroring_transform_flips_winding_and_normals_stay_outward() {
    let mut b = Builder::new();
    let position = b.floats(&TRIANGLE, "VEC3");
    let normal = b.floats(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0], "VEC3");
    let mesh = b.push(
        "meshes",
        json!({ "primitives": [{ "attributes": { "POSITION": position, "NORMAL": normal } }] }),
    );
    let node = b.node(json!({ "mesh": mesh, "scale": [-1.0, 1.0, 1.0] }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    let scene = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap();
    let t = &scene.triangles[0];
    let geometric =
        (t.positions[1] - t.positions[0]).cross(t.positions[2] - t.positions[0]).normalize();
    assert_near(geometric, Vec3::Z);
    assert_near(t.normals[0], Vec3::Z);
    assert_near(t.positions[2], Vec3::new(-1.0, 0.0, 0.0));
}

/// A scene whose node 0 (the triangle) is animated on `path` by one sampler.
fn animated_scene(path: &str, interpolation: &str, times: &[f32], values: &[f32]) -> SceneAsset {
    let mut b = triangle_scene();
    let input = b.floats(times, "SCALAR");
    let output = b.floats(values, if path == "rotation" { "VEC4" } else { "VEC3" });
    b.push(
        "animations",
        json!({
            "channels": [{ "sampler": 0, "target": { "node": 0, "path": path } }],
            "samplers": [{ "input": input, "output": output, "interpolation": interpolation }]
        }),
    );
    load(&b.glb()).unwrap()
}

fn origin_at(asset: &SceneAsset, t: f32) -> Vec3 {
    asset.instantiate(t, None).unwrap().triangles[0].positions[0]
}

#[test]
fn linear_translation_interpolates_and_clamps() {
    let asset =
        animated_scene("translation", "LINEAR", &[1.0, 3.0], &[0.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
    assert_eq!(asset.summary().animation_seconds, 3.0);
    assert_near(origin_at(&asset, 0.0), Vec3::ZERO);
    assert_near(origin_at(&asset, 1.5), Vec3::new(1.0, 0.0, 0.0));
    assert_near(origin_at(&asset, 2.0), Vec3::new(2.0, 0.0, 0.0));
    assert_near(origin_at(&asset, 10.0), Vec3::new(4.0, 0.0, 0.0));
}

#[test]
fn step_translation_holds_the_previous_key() {
    let asset = animated_scene(
        "translation",
        "STEP",
        &[0.0, 1.0, 2.0],
        &[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 7.0, 0.0, 0.0],
    );
    assert_near(origin_at(&asset, 0.99), Vec3::ZERO);
    assert_near(origin_at(&asset, 1.0), Vec3::new(5.0, 0.0, 0.0));
    assert_near(origin_at(&asset, 1.5), Vec3::new(5.0, 0.0, 0.0));
    assert_near(origin_at(&asset, 2.5), Vec3::new(7.0, 0.0, 0.0));
}

#[test]
fn cubic_spline_uses_hermite_tangents() {
    // Key 0: in (0,0,0), value 0, out (1,0,0); key 1: in (0,0,0), value 1, out 0.
    #[rustfmt::skip]
    let values = [
        0.0, 0.0, 0.0,  0.0, 0.0, 0.0,  1.0, 0.0, 0.0,
        0.0, 0.0, 0.0,  1.0, 0.0, 0.0,  0.0, 0.0, 0.0,
    ];
    let asset = animated_scene("translation", "CUBICSPLINE", &[0.0, 1.0], &values);
    // p(s) = (-2s^3 + 3s^2) * 1 + (s^3 - 2s^2 + s) * 1 at s = 0.25: 0.15625 + 0.140625
    assert_near(origin_at(&asset, 0.25), Vec3::new(0.296875, 0.0, 0.0));
    assert_near(origin_at(&asset, 0.5), Vec3::new(0.5 + 0.125, 0.0, 0.0));
    assert_near(origin_at(&asset, -1.0), Vec3::ZERO);
    assert_near(origin_at(&asset, 2.0), Vec3::X);
}

#[test]
fn linear_rotation_slerps() {
    let q0 = Quat::IDENTITY.to_array();
    let q1 = Quat::from_rotation_z(std::f32::consts::FRAC_PI_2).to_array();
    let values: Vec<f32> = q0.iter().chain(&q1).copied().collect();
    let asset = animated_scene("rotation", "LINEAR", &[0.0, 2.0], &values);
    let scene = asset.instantiate(1.0, None).unwrap();
    let x = scene.triangles[0].positions[1];
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert_near(x, Vec3::new(h, h, 0.0));
}

#[test]
fn cubic_spline_rotation_is_normalized() {
    let q0 = Quat::IDENTITY.to_array();
    let q1 = Quat::from_rotation_z(std::f32::consts::FRAC_PI_2).to_array();
    let z = [0.0; 4];
    let values: Vec<f32> = [z, q0, z, z, q1, z].iter().flatten().copied().collect();
    let asset = animated_scene("rotation", "CUBICSPLINE", &[0.0, 1.0], &values);
    let x = asset.instantiate(0.5, None).unwrap().triangles[0].positions[1];
    assert!((x.length() - 1.0).abs() < 1e-4, "rotation must stay rigid: {x}");
}

#[test]
fn emissive_strength_multiplies_the_emissive_factor() {
    let mut b = triangle_scene();
    b.push(
        "materials",
        json!({
            "emissiveFactor": [1.0, 0.5, 0.25],
            "extensions": { "KHR_materials_emissive_strength": { "emissiveStrength": 4.0 } }
        }),
    );
    b.doc["meshes"][0]["primitives"][0]["material"] = json!(0);
    let scene = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap();
    assert_eq!(scene.materials[0].emissive, Vec3::new(4.0, 2.0, 1.0));
    assert_eq!(scene.triangles[0].material, 0);
}

#[test]
fn png_and_jpeg_textures_decode() {
    let mut b = triangle_scene();
    let png = encode_png(2, 1, &[255, 0, 0, 255, 0, 0, 255, 128]);
    let m0 = textured_material(&mut b, &png, "image/png");
    let m1 = textured_material(&mut b, include_bytes!("testdata/orange_8x8.jpg"), "image/jpeg");
    b.doc["materials"][m1]["normalTexture"] = json!({ "index": 0, "scale": 0.5 });
    let scene = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap();
    assert_eq!(scene.textures.len(), 2);
    assert_eq!(scene.materials[m0].base_color_texture, Some(TextureRef { texture: 0 }));
    assert_eq!(scene.materials[m1].normal_texture, Some(TextureRef { texture: 0 }));
    assert_eq!(scene.materials[m1].normal_scale, 0.5);
    assert_eq!(scene.textures[0].rgba8, [255, 0, 0, 255, 0, 0, 255, 128]);
    let jpeg = &scene.textures[1];
    assert_eq!((jpeg.width, jpeg.height, jpeg.rgba8.len()), (8, 8, 256));
    let px = &jpeg.rgba8[..4];
    assert!(px[0] > 230 && (100..160).contains(&px[1]) && px[2] < 30 && px[3] == 255, "{px:?}");
}

#[test]
fn punctual_lights_are_placed_in_world_space() {
    let mut b = triangle_scene();
    b.doc["extensionsUsed"] = json!(["KHR_lights_punctual"]);
    b.doc["extensions"] = json!({ "KHR_lights_punctual": { "lights": [
        { "type": "spot", "color": [1.0, 0.5, 0.5], "intensity": 20.0, "range": 9.0,
          "spot": { "innerConeAngle": 0.2, "outerConeAngle": 0.4 } },
        { "type": "directional" }
    ] } });
    let down = Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2).to_array();
    let spot = b.node(json!({ "translation": [0.0, 4.0, 0.0], "rotation": down,
                              "extensions": { "KHR_lights_punctual": { "light": 0 } } }));
    b.root(spot);
    let sun = b.node(json!({ "extensions": { "KHR_lights_punctual": { "light": 1 } } }));
    b.root(sun);
    let asset = load(&b.glb()).unwrap();
    assert_eq!(asset.summary().lights, 2);
    let scene = asset.instantiate(0.0, None).unwrap();
    let LightKind::Spot { position, direction, outer_cone_angle, .. } = scene.lights[0].kind else {
        panic!()
    };
    assert_near(position, Vec3::new(0.0, 4.0, 0.0));
    assert_near(direction, Vec3::NEG_Y);
    assert_eq!(
        (outer_cone_angle, scene.lights[0].intensity, scene.lights[0].range),
        (0.4, 20.0, Some(9.0))
    );
    let LightKind::Directional { direction } = scene.lights[1].kind else { panic!() };
    assert_near(direction, Vec3::NEG_Z);
}

// ---- packing from disk ----

/// Writes the triangle scene as .gltf + external .bin into `dir`.
fn write_external(dir: &std::path::Path, uri: &str) -> std::path::PathBuf {
    let b = triangle_scene();
    let mut doc = b.finished_doc();
    doc["buffers"][0]["uri"] = json!(uri);
    std::fs::write(dir.join("scene.bin"), &b.bin).unwrap();
    let path = dir.join("scene.gltf");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    path
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-gltf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn external_buffers_and_images_pack_into_one_glb() {
    let dir = temp_dir("pack");
    let b = triangle_scene();
    let mut doc = b.finished_doc();
    doc["buffers"][0]["uri"] = json!("scene%20data.bin");
    std::fs::write(dir.join("scene data.bin"), &b.bin).unwrap();
    std::fs::create_dir(dir.join("tex")).unwrap();
    std::fs::write(dir.join("tex/red.png"), encode_png(1, 1, &[255, 0, 0, 255])).unwrap();
    doc["images"] = json!([{ "uri": "tex/red.png" }]);
    doc["textures"] = json!([{ "source": 0 }]);
    doc["materials"] = json!([{ "pbrMetallicRoughness": { "baseColorTexture": { "index": 0 } } }]);
    doc["meshes"][0]["primitives"][0]["material"] = json!(0);
    let path = dir.join("scene.gltf");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();

    let packed = pack_scene_file(&path, &Limits::default()).unwrap();
    assert!(glb::is_glb(&packed));
    let scene = load(&packed).unwrap().instantiate(0.0, None).unwrap();
    assert_eq!(scene.triangles.len(), 1);
    assert_eq!(scene.textures[0].rgba8, [255, 0, 0, 255]);
    // Packing is stable, and a packed GLB packs to itself.
    assert_eq!(pack_scene_file(&path, &Limits::default()).unwrap(), packed);
    std::fs::write(dir.join("packed.glb"), &packed).unwrap();
    assert_eq!(pack_scene_file(&dir.join("packed.glb"), &Limits::default()).unwrap(), packed);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn self_contained_glb_packs_unchanged() {
    let dir = temp_dir("unchanged");
    let glb = triangle_scene().glb();
    let path = dir.join("scene.glb");
    std::fs::write(&path, &glb).unwrap();
    assert_eq!(pack_scene_file(&path, &Limits::default()).unwrap(), glb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn uri_escaping_the_scene_folder_is_refused() {
    let dir = temp_dir("escape");
    let inner = dir.join("inner");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(dir.join("secret.bin"), [0u8; 64]).unwrap();
    for uri in ["../secret.bin", "sub/../../secret.bin", "/etc/passwd", "file:///etc/passwd"] {
        let path = write_external(&inner, uri);
        let err = pack_scene_file(&path, &Limits::default()).unwrap_err();
        assert!(matches!(err, SceneError::Uri { .. }), "{uri}: {err:?}");
        assert!(err.to_string().contains("buffer 0"), "{err}");
    }
    // A symlink inside the folder that leads out of it.
    std::os::unix::fs::symlink(dir.join("secret.bin"), inner.join("link.bin")).unwrap();
    let path = write_external(&inner, "link.bin");
    let err = pack_scene_file(&path, &Limits::default()).unwrap_err();
    assert!(matches!(err, SceneError::Uri { .. }), "{err:?}");
    assert!(err.to_string().contains("outside the scene's folder"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn base64_round_trips() {
    for n in 0..10 {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
        assert_eq!(buffers::base64_decode(&base64(&bytes)).unwrap(), bytes);
    }
}

#[test]
fn sample_cornell_box_loads_and_moves() {
    let asset = load(&samples::cornell_box_animated()).unwrap();
    let summary = asset.summary();
    assert!(summary.triangles > 0 && !summary.cameras.is_empty(), "{summary:?}");
    assert!(summary.animation_seconds > 0.0, "{summary:?}");
    let first = asset.instantiate(0.0, None).unwrap();
    let last = asset.instantiate(summary.animation_seconds, None).unwrap();
    assert_eq!(first.triangles.len(), last.triangles.len());
    let moved =
        first.triangles.iter().zip(&last.triangles).any(|(a, b)| a.positions != b.positions)
            || first.camera.to_world != last.camera.to_world;
    assert!(moved, "the animated sample should change between its first and last frame");
    assert!(first.triangles.iter().all(|t| t.positions.iter().all(|p| p.is_finite())));
}

#[test]
fn huge_transforms_are_refused_not_turned_into_infinities() {
    let mut b = Builder::new();
    let mesh = b.triangle_mesh(&[0.0, 0.0, 0.0, 1e9, 0.0, 0.0, 0.0, 1.0, 0.0], &[0, 1, 2], None);
    let node = b.node(json!({ "mesh": mesh, "scale": [1e30, 1.0, 1.0] }));
    b.root(node);
    b.camera_node("Cam", [0.0, 0.0, 3.0]);
    let err = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap_err();
    assert!(matches!(err, SceneError::Transform { node: 0, .. }), "{err:?}");

    let mut b = triangle_scene();
    let inner = b.node(json!({ "scale": [1e30, 1e30, 1e30], "mesh": 0 }));
    let outer = b.node(json!({ "scale": [1e30, 1e30, 1e30], "children": [inner] }));
    b.root(outer);
    let err = load(&b.glb()).unwrap().instantiate(0.0, None).unwrap_err();
    assert!(matches!(err, SceneError::Transform { node, .. } if node == inner), "{err:?}");
    assert!(err.to_string().contains("not finite"), "{err}");
}
