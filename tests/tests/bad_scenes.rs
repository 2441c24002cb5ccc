//! Hostile scenes are caught at submit, by the CLI before anything is sent
//! and again by the orchestrator, which never trusts the CLI: each gets a
//! clear error naming the culprit, and the farm keeps running.

use std::fs;

use mosaic_e2e::*;
use serde_json::{json, Value};

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
    let png = base64(&png_header(60000, 60000));
    huge_texture["images"] = json!([{"uri": format!("data:image/png;base64,{png}")}]);
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
