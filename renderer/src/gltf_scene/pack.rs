//! Packing a scene file from disk into one self-contained GLB, the only form
//! the farm accepts. This is the one place the loader reads files: external
//! buffer and image URIs are resolved only inside the scene file's folder
//! (no `..`, no absolute paths, no symlinks leading out), and the packed
//! result is validated with [`SceneAsset::from_bytes`] before it is returned.

use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};

use super::buffers::{decode_data_uri, short};
use super::{glb, images, Limits, SceneAsset, SceneError};

/// Reads a .glb or .gltf from disk, resolving external buffer/image URIs only
/// inside the file's folder (an URI escaping it is an error), validates it,
/// and returns one self-contained GLB.
///
/// A .glb without external URIs comes back byte for byte, so its content id
/// is the file's. Otherwise all buffers are concatenated (4-byte aligned)
/// into the BIN chunk and URI images move into buffer views.
pub fn pack_scene_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, SceneError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SceneError::Io { path, source }
    };
    let size = std::fs::metadata(path).map_err(io(path))?.len();
    if size > limits.max_scene_bytes {
        return Err(SceneError::TooLarge { bytes: size, limit: limits.max_scene_bytes });
    }
    let bytes = std::fs::read(path).map_err(io(path))?;
    let is_glb = glb::is_glb(&bytes);
    let (json, bin) = if is_glb {
        let glb = glb::parse(&bytes)?;
        (glb.json, glb.bin)
    } else {
        (&bytes[..], None)
    };
    let mut root: Value =
        serde_json::from_slice(json).map_err(|e| SceneError::NotGltf(e.to_string()))?;
    let uri_of = |v: &Value| v.get("uri").and_then(Value::as_str).map(str::to_owned);
    let list = |root: &Value, key: &str| {
        root.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
    };
    let buffers = list(&root, "buffers");
    let images_json = list(&root, "images");
    let external =
        buffers.iter().chain(&images_json).filter_map(uri_of).any(|uri| !uri.starts_with("data:"));
    if is_glb && !external {
        SceneAsset::from_bytes(&bytes, limits)?;
        return Ok(bytes);
    }

    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = folder.canonicalize().map_err(io(folder))?;
    let mut budget =
        Budget { left: limits.max_scene_bytes.saturating_sub(size), limit: limits.max_scene_bytes };

    let mut packed = Vec::new();
    let mut buffer_offsets = Vec::with_capacity(buffers.len());
    for (i, buffer) in buffers.iter().enumerate() {
        let what = format!("buffer {i}");
        let declared = buffer.get("byteLength").and_then(Value::as_u64).unwrap_or(0);
        let data = match uri_of(buffer) {
            None => match bin {
                Some(bin) if i == 0 => bin.to_vec(),
                _ => {
                    return Err(SceneError::Buffer {
                        buffer: i,
                        problem: "has no URI but the file has no GLB BIN chunk for it".into(),
                    })
                }
            },
            Some(uri) => load_uri(&folder, &uri, &what, &mut budget)?,
        };
        if (data.len() as u64) < declared {
            return Err(SceneError::Buffer {
                buffer: i,
                problem: format!("declares {declared} bytes but only {} are present", data.len()),
            });
        }
        align4(&mut packed);
        buffer_offsets.push(packed.len() as u64);
        packed.extend_from_slice(&data[..declared as usize]);
    }

    if let Some(views) = root.get_mut("bufferViews").and_then(Value::as_array_mut) {
        for (v, view) in views.iter_mut().enumerate() {
            let buffer = view.get("buffer").and_then(Value::as_u64).unwrap_or(u64::MAX);
            let base =
                *buffer_offsets.get(buffer as usize).ok_or_else(|| SceneError::BufferView {
                    view: v,
                    problem: format!("refers to buffer {buffer}, which does not exist"),
                })?;
            let offset = view.get("byteOffset").and_then(Value::as_u64).unwrap_or(0);
            view["buffer"] = json!(0);
            view["byteOffset"] = json!(base + offset);
        }
    }

    let mut new_views = Vec::new();
    let first_new_view = root.get("bufferViews").and_then(Value::as_array).map_or(0, Vec::len);
    if let Some(images_out) = root.get_mut("images").and_then(Value::as_array_mut) {
        for (i, image) in images_out.iter_mut().enumerate() {
            let Some(uri) = uri_of(image) else { continue };
            let what = format!("image {i}");
            let data = load_uri(&folder, &uri, &what, &mut budget)?;
            let (format, _, _) =
                images::probe(&data).map_err(|problem| SceneError::Image { image: i, problem })?;
            align4(&mut packed);
            new_views
                .push(json!({ "buffer": 0, "byteOffset": packed.len(), "byteLength": data.len() }));
            packed.extend_from_slice(&data);
            let object = image.as_object_mut().expect("an image with a uri is an object");
            object.remove("uri");
            object.insert("bufferView".into(), json!(first_new_view + new_views.len() - 1));
            object.insert("mimeType".into(), json!(format.mime_type()));
        }
    }
    if !new_views.is_empty() {
        let object = root
            .as_object_mut()
            .ok_or_else(|| SceneError::NotGltf("the JSON is not an object".into()))?;
        let views = object.entry("bufferViews").or_insert_with(|| json!([]));
        views.as_array_mut().expect("bufferViews is an array").extend(new_views);
    }
    let has_bin = !buffers.is_empty() || !packed.is_empty();
    if has_bin {
        root["buffers"] = json!([{ "byteLength": packed.len() }]);
    }
    let json = serde_json::to_vec(&root).map_err(|e| SceneError::NotGltf(e.to_string()))?;
    let out = glb::write(&json, has_bin.then_some(&packed[..]));
    SceneAsset::from_bytes(&out, limits)?;
    Ok(out)
}

/// Bytes still allowed to be read for one scene.
struct Budget {
    left: u64,
    limit: u64,
}

fn align4(bytes: &mut Vec<u8>) {
    bytes.resize(bytes.len().div_ceil(4) * 4, 0);
}

/// The bytes behind a buffer or image URI: a data: URI, or a relative path
/// that stays inside `folder` (already canonical).
fn load_uri(
    folder: &Path,
    uri: &str,
    what: &str,
    budget: &mut Budget,
) -> Result<Vec<u8>, SceneError> {
    let refuse = |problem: &str| SceneError::Uri {
        what: what.to_owned(),
        uri: short(uri),
        problem: problem.to_owned(),
    };
    if let Some(decoded) = decode_data_uri(uri) {
        return decoded.map_err(|p| refuse(&p));
    }
    let has_scheme = uri.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme {
        return Err(refuse(
            "only data: URIs and relative paths inside the scene's folder are allowed",
        ));
    }
    let relative = percent_decode(uri).ok_or_else(|| refuse("malformed percent-encoding"))?;
    let relative = PathBuf::from(relative);
    if relative.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(refuse("escapes the scene's folder (absolute paths and `..` are not allowed)"));
    }
    let full = folder.join(&relative);
    let real =
        full.canonicalize().map_err(|source| SceneError::Io { path: full.clone(), source })?;
    if !real.starts_with(folder) {
        return Err(refuse("resolves outside the scene's folder (through a symbolic link)"));
    }
    let size = std::fs::metadata(&real)
        .map_err(|source| SceneError::Io { path: real.clone(), source })?
        .len();
    if size > budget.left {
        return Err(SceneError::TooLarge {
            bytes: budget.limit - budget.left + size,
            limit: budget.limit,
        });
    }
    budget.left -= size;
    std::fs::read(&real).map_err(|source| SceneError::Io { path: real, source })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
