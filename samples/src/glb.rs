//! A minimal GLB (binary glTF 2.0) writer: lays out the BIN chunk with its bufferViews and
//! accessors, then frames the JSON and BIN chunks behind the 12-byte header.
//!
//! It writes only what the sample scenes need (float vectors, u16 indices, raw image bytes) and
//! never reads files: every scene it writes is self-contained.

use serde_json::{json, Value};

const MAGIC: &[u8; 4] = b"glTF";
const VERSION: u32 = 2;
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// `bufferView.target` for vertex attributes.
pub const ARRAY_BUFFER: u32 = 34962;
/// `bufferView.target` for indices.
pub const ELEMENT_ARRAY_BUFFER: u32 = 34963;

const FLOAT: u32 = 5126;
const UNSIGNED_SHORT: u32 = 5123;

/// The BIN chunk being laid out, with the bufferViews and accessors that point into it.
#[derive(Default)]
pub struct BinChunk {
    bytes: Vec<u8>,
    buffer_views: Vec<Value>,
    accessors: Vec<Value>,
}

impl BinChunk {
    /// Appends `data` as a new bufferView (4-byte aligned) and returns its index.
    pub fn push_view(&mut self, data: &[u8], target: Option<u32>) -> usize {
        self.pad_to_4();
        let mut view = json!({
            "buffer": 0,
            "byteOffset": self.bytes.len(),
            "byteLength": data.len(),
        });
        if let Some(target) = target {
            view["target"] = json!(target);
        }
        self.bytes.extend_from_slice(data);
        self.buffer_views.push(view);
        self.buffer_views.len() - 1
    }

    /// A float accessor of `N`-component elements (`N` = 1, 2, 3 or 4). `min`/`max` are
    /// written when `bounds` is set (glTF requires them for POSITION and animation inputs).
    pub fn push_floats<const N: usize>(
        &mut self,
        elements: &[[f32; N]],
        target: Option<u32>,
        bounds: bool,
    ) -> usize {
        let data: Vec<u8> = elements.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let view = self.push_view(&data, target);
        let kind = match N {
            1 => "SCALAR",
            2 => "VEC2",
            3 => "VEC3",
            4 => "VEC4",
            _ => unreachable!("glTF float accessors have 1 to 4 components"),
        };
        let mut accessor = json!({
            "bufferView": view,
            "componentType": FLOAT,
            "count": elements.len(),
            "type": kind,
        });
        if bounds {
            let mut min = [f32::INFINITY; N];
            let mut max = [f32::NEG_INFINITY; N];
            for element in elements {
                for i in 0..N {
                    min[i] = min[i].min(element[i]);
                    max[i] = max[i].max(element[i]);
                }
            }
            accessor["min"] = json!(min.to_vec());
            accessor["max"] = json!(max.to_vec());
        }
        self.accessors.push(accessor);
        self.accessors.len() - 1
    }

    /// Scalar times (seconds) for an animation sampler's input, with the min/max glTF requires.
    pub fn push_times(&mut self, times: &[f32]) -> usize {
        let elements: Vec<[f32; 1]> = times.iter().map(|&t| [t]).collect();
        self.push_floats(&elements, None, true)
    }

    /// Triangle indices as unsigned shorts.
    pub fn push_indices(&mut self, indices: &[u16]) -> usize {
        let data: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
        let view = self.push_view(&data, Some(ELEMENT_ARRAY_BUFFER));
        self.accessors.push(json!({
            "bufferView": view,
            "componentType": UNSIGNED_SHORT,
            "count": indices.len(),
            "type": "SCALAR",
        }));
        self.accessors.len() - 1
    }

    /// Moves the layout into `root` (`buffers`, `bufferViews`, `accessors`) and returns the
    /// whole GLB file.
    pub fn into_glb(mut self, mut root: Value) -> Vec<u8> {
        self.pad_to_4();
        root["buffers"] = json!([{ "byteLength": self.bytes.len() }]);
        root["bufferViews"] = Value::Array(self.buffer_views);
        root["accessors"] = Value::Array(self.accessors);
        write_glb(&root, &self.bytes)
    }

    fn pad_to_4(&mut self) {
        self.bytes.resize(self.bytes.len().next_multiple_of(4), 0);
    }
}

/// Frames a glTF JSON document and its binary buffer as one GLB file.
pub fn write_glb(root: &Value, bin: &[u8]) -> Vec<u8> {
    let mut json = serde_json::to_vec(root).expect("a serde_json::Value always serialises");
    // The JSON chunk pads with spaces, the BIN chunk with zeros, both to 4 bytes.
    json.resize(json.len().next_multiple_of(4), b' ');
    let mut bin = bin.to_vec();
    bin.resize(bin.len().next_multiple_of(4), 0);
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(total).expect("GLB under 4 GiB").to_le_bytes());
    for (kind, data) in [(CHUNK_JSON, &json), (CHUNK_BIN, &bin)] {
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// The two chunks of a GLB file, for tests that check what we wrote.
#[cfg(test)]
pub fn read_glb(bytes: &[u8]) -> Result<(Value, Vec<u8>), String> {
    let u32_at = |at: usize| -> Result<u32, String> {
        let b = bytes.get(at..at + 4).ok_or(format!("truncated at byte {at}"))?;
        Ok(u32::from_le_bytes(b.try_into().unwrap()))
    };
    if bytes.get(..4) != Some(MAGIC) {
        return Err("no glTF magic".into());
    }
    if u32_at(4)? != VERSION {
        return Err("not version 2".into());
    }
    if u32_at(8)? as usize != bytes.len() {
        return Err(format!("header length {} but file is {}", u32_at(8)?, bytes.len()));
    }
    let mut chunks = Vec::new();
    let mut at = 12;
    while at < bytes.len() {
        let (len, kind) = (u32_at(at)? as usize, u32_at(at + 4)?);
        if len != len.next_multiple_of(4) {
            return Err(format!("chunk at {at} is not 4-byte aligned"));
        }
        let data = bytes.get(at + 8..at + 8 + len).ok_or(format!("chunk at {at} overruns"))?;
        chunks.push((kind, data.to_vec()));
        at += 8 + len;
    }
    match chunks.as_slice() {
        [(CHUNK_JSON, json), (CHUNK_BIN, bin)] => {
            let root = serde_json::from_slice(json).map_err(|e| e.to_string())?;
            Ok((root, bin.clone()))
        }
        _ => Err(format!("expected JSON then BIN chunks, got {} chunks", chunks.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_padded_and_lengths_add_up() {
        let glb = write_glb(&json!({"asset": {"version": "2.0"}}), &[1, 2, 3, 4, 5]);
        assert_eq!(glb.len(), glb.len().next_multiple_of(4));
        let (root, bin) = read_glb(&glb).unwrap();
        assert_eq!(root["asset"]["version"], "2.0");
        assert_eq!(bin, [1, 2, 3, 4, 5, 0, 0, 0]);
    }

    #[test]
    fn float_accessor_bounds_cover_the_data() {
        let mut chunk = BinChunk::default();
        chunk.push_view(&[9], None); // forces padding before the next view
        let a = chunk.push_floats(&[[1.0, -2.0, 3.0], [-1.0, 5.0, 0.5]], Some(ARRAY_BUFFER), true);
        assert_eq!(chunk.accessors[a]["min"], json!([-1.0, -2.0, 0.5]));
        assert_eq!(chunk.accessors[a]["max"], json!([1.0, 5.0, 3.0]));
        assert_eq!(chunk.buffer_views[1]["byteOffset"], 4);
        assert_eq!(chunk.buffer_views[1]["byteLength"], 24);
    }
}
