//! Hostile scenes are caught at submit, by the CLI before anything is sent
//! and again by the orchestrator, which never trusts the CLI: each gets a
//! clear error naming the culprit, and the farm keeps running.

use std::fs;

use mosaic_e2e::*;
use serde_json::{json, Value};

/// A valid one-triangle scene, as glTF JSON with its buffer inline: three
/// positions (f32 x 9) and three u16 indices. Tests break one thing in it.
fn triangle() -> Value {
    triangle_with(&[[-1.0, -1.0, -3.0], [1.0, -1.0, -3.0], [0.0, 1.0, -3.0]], [0, 1, 2])
}

fn triangle_with(positions: &[[f32; 3]; 3], indices: [u16; 3]) -> Value {
    let mut bin: Vec<u8> = positions.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
    bin.extend(indices.iter().flat_map(|i| i.to_le_bytes()));
    bin.extend([0, 0]); // pad to 4 bytes
    json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0, 1]}],
        "nodes": [{"mesh": 0, "name": "tri"}, {"camera": 0, "name": "cam"}],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.8, "znear": 0.1}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
             "min": [-1.0, -1.0, -3.0], "max": [1.0, 1.0, -3.0]},
            {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 6}
        ],
        "buffers": [{"byteLength": bin.len(), "uri": data_uri(&bin)}]
    })
}

fn data_uri(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("data:application/octet-stream;base64,");
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            s.push(if i <= c.len() { A[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    s
}

/// A PNG that is only a signature and an IHDR claiming `w` x `h` pixels.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(b"IHDR");
    png.extend(w.to_be_bytes());
    png.extend(h.to_be_bytes());
    png.extend([8, 6, 0, 0, 0]);
    png.extend([0, 0, 0, 0]); // CRC, unchecked before the size is refused
    png
}

/// (what is wrong, the scene, words the error must contain)
fn bad_scenes() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    let mut past_buffer = triangle();
    past_buffer["accessors"][0]["count"] = json!(300);

    let index_past =
        triangle_with(&[[-1.0, -1.0, -3.0], [1.0, -1.0, -3.0], [0.0, 1.0, -3.0]], [0, 1, 7]);

    let mut looping = triangle();
    looping["nodes"] = json!([
        {"mesh": 0, "name": "tri", "children": [2]},
        {"camera": 0, "name": "cam"},
        {"name": "loop", "children": [0]}
    ]);

    let nan =
        triangle_with(&[[-1.0, -1.0, -3.0], [f32::NAN, -1.0, -3.0], [0.0, 1.0, -3.0]], [0, 1, 2]);

    let mut huge_texture = triangle();
    huge_texture["images"] = json!([{"uri": format!(
        "data:image/png;base64,{}",
        data_uri(&png_header(60000, 60000)).split(',').nth(1).unwrap()
    )}]);
    huge_texture["textures"] = json!([{"source": 0}]);
    huge_texture["materials"] =
        json!([{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]);
    huge_texture["meshes"][0]["primitives"][0]["material"] = json!(0);

    vec![
        ("an accessor past its buffer", past_buffer, vec!["accessor 0"]),
        ("an index past the vertices", index_past, vec!["accessor 1", "7"]),
        ("a node hierarchy that loops", looping, vec!["node"]),
        ("NaN vertex positions", nan, vec!["accessor 0"]),
        ("a 60000x60000 texture", huge_texture, vec!["image 0", "60000"]),
    ]
}

#[test]
fn hostile_scenes_are_refused_by_the_cli_and_by_the_orchestrator() {
    let tmp = tempfile::tempdir().unwrap();
    let mut orchestrator = Orchestrator::start(&tmp.path().join("orchestrator"));
    let cli = orchestrator.cli();
    let token = orchestrator.token();
    let scenes_url = format!("{}/api/scenes", orchestrator.url);

    for (what, scene, words) in bad_scenes() {
        let text = scene.to_string();
        let path = tmp.path().join("bad.gltf");
        fs::write(&path, &text).unwrap();
        for detach in [false, true] {
            let mut args = vec!["render", "submit", path.to_str().unwrap()];
            args.extend(["--frames", "1", "--size", "32x32", "--spp", "1"]);
            if detach {
                args.push("--detach");
            }
            let out = cli.run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{what}: submit succeeded");
            for word in &words {
                assert!(err.contains(word), "{what}: {word:?} not in: {err}");
            }
        }
        // The orchestrator checks the bytes itself.
        let (status, body) = http_post(&scenes_url, &token, text.as_bytes());
        assert_eq!(status, 400, "{what}: {body}");
        for word in &words {
            assert!(body.contains(word), "{what}: {word:?} not in: {body}");
        }
    }
    assert!(orchestrator.process.is_running());
    assert_eq!(cli.json(&["jobs", "--json"]), json!([]), "no job was created");
}

#[test]
fn a_scene_over_the_orchestrators_size_limit_is_refused_with_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("orchestrator");
    let mut orchestrator = Orchestrator::start_with_config(&dir, "max_scene_bytes = 10000\n");
    let cli = orchestrator.cli();
    let scene = sample_scene(tmp.path());
    assert!(fs::metadata(&scene).unwrap().len() > 10000);

    let scene = scene.to_str().unwrap();
    let out =
        cli.run(&["render", "submit", scene, "--frames", "1", "--size", "32x32", "--spp", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("max_scene_bytes") || err.contains("too large"), "{err}");
    assert!(orchestrator.process.is_running());
}
