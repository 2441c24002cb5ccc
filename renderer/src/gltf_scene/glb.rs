//! The GLB container (glTF's binary form): a 12-byte header, a JSON chunk and
//! an optional BIN chunk. Parsed by hand so that every length a file claims is
//! checked against the bytes it actually has before anything is sliced.

use super::SceneError;

const MAGIC: &[u8; 4] = b"glTF";
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// The chunks of a GLB, borrowed from the file's bytes.
pub(super) struct Glb<'a> {
    pub json: &'a [u8],
    pub bin: Option<&'a [u8]>,
}

pub(super) fn is_glb(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

pub(super) fn parse(bytes: &[u8]) -> Result<Glb<'_>, SceneError> {
    let bad = |m: String| SceneError::NotGltf(m);
    if bytes.len() < 12 {
        return Err(bad(format!("the GLB header is truncated ({} of 12 bytes)", bytes.len())));
    }
    let version = u32_at(bytes, 4);
    if version != 2 {
        return Err(bad(format!("GLB version {version}; only version 2 is supported")));
    }
    let length = u32_at(bytes, 8) as usize;
    if length > bytes.len() {
        return Err(bad(format!(
            "the GLB header says the file has {length} bytes but it has {}: it is truncated",
            bytes.len()
        )));
    }
    if length < 12 {
        return Err(bad(format!("the GLB header claims a length of {length} bytes, under 12")));
    }
    let data = &bytes[..length];
    let mut pos = 12;
    let mut json = None;
    let mut bin = None;
    let mut index = 0;
    while pos < data.len() {
        if data.len() - pos < 8 {
            return Err(bad(format!("GLB chunk {index} header at byte {pos} is truncated")));
        }
        let chunk_len = u32_at(data, pos) as usize;
        let chunk_type = u32_at(data, pos + 4);
        let start = pos + 8;
        if chunk_len > data.len() - start {
            return Err(bad(format!(
                "GLB chunk {index} claims {chunk_len} bytes but only {} remain: the file is truncated",
                data.len() - start
            )));
        }
        let chunk = &data[start..start + chunk_len];
        match (index, chunk_type) {
            (0, CHUNK_JSON) => json = Some(chunk),
            (0, _) => return Err(bad("the first GLB chunk is not JSON".into())),
            (1, CHUNK_BIN) => bin = Some(chunk),
            _ => {} // unknown chunks are to be ignored (glTF 2.0 spec)
        }
        pos = start + chunk_len;
        index += 1;
    }
    let json = json.ok_or_else(|| bad("the GLB has no JSON chunk".into()))?;
    Ok(Glb { json, bin })
}

/// Writes a GLB: the JSON chunk padded with spaces, the BIN chunk (if any)
/// padded with zeros, both to 4 bytes as the spec requires.
pub(super) fn write(json: &[u8], bin: Option<&[u8]>) -> Vec<u8> {
    let pad = |n: usize| (4 - n % 4) % 4;
    let json_len = json.len() + pad(json.len());
    let bin_len = bin.map(|b| b.len() + pad(b.len()));
    let total = 12 + 8 + json_len + bin_len.map_or(0, |n| 8 + n);
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json_len as u32).to_le_bytes());
    out.extend_from_slice(&CHUNK_JSON.to_le_bytes());
    out.extend_from_slice(json);
    out.resize(out.len() + pad(json.len()), b' ');
    if let (Some(bin), Some(bin_len)) = (bin, bin_len) {
        out.extend_from_slice(&(bin_len as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(bin);
        out.resize(out.len() + pad(bin.len()), 0);
    }
    out
}
