//! Buffer bytes (the GLB's BIN chunk or base64 data: URIs) and typed reads
//! through accessors. A hostile file can claim any offset, count or stride, so
//! every range is checked with overflow-safe arithmetic before a byte is
//! read, and nothing here ever touches the file system.

use gltf::accessor::{DataType, Dimensions};
use gltf::{Accessor, Document};

use super::{Limits, SceneError};

/// The bytes of every buffer of a document, by buffer index.
pub(super) struct Buffers {
    data: Vec<Vec<u8>>,
}

impl Buffers {
    /// Resolves each buffer: no URI means the GLB's BIN chunk, a data: URI is
    /// decoded, anything else is refused (uploads are self-contained).
    pub fn resolve(doc: &Document, bin: Option<&[u8]>) -> Result<Self, SceneError> {
        let mut data = Vec::with_capacity(doc.buffers().len());
        for buffer in doc.buffers() {
            let index = buffer.index();
            let bytes = match buffer.source() {
                gltf::buffer::Source::Bin => match bin {
                    Some(bin) if index == 0 => bin.to_vec(),
                    _ => {
                        return Err(SceneError::Buffer {
                            buffer: index,
                            problem: "has no URI but the file has no GLB BIN chunk for it".into(),
                        })
                    }
                },
                gltf::buffer::Source::Uri(uri) => match decode_data_uri(uri) {
                    Some(Ok(bytes)) => bytes,
                    Some(Err(problem)) => {
                        return Err(SceneError::Uri {
                            what: format!("buffer {index}"),
                            uri: short(uri),
                            problem,
                        })
                    }
                    None => return Err(external_uri(&format!("buffer {index}"), uri)),
                },
            };
            if bytes.len() < buffer.length() {
                return Err(SceneError::Buffer {
                    buffer: index,
                    problem: format!(
                        "declares {} bytes but only {} are present",
                        buffer.length(),
                        bytes.len()
                    ),
                });
            }
            data.push(bytes);
        }
        let buffers = Buffers { data };
        buffers.check_views(doc)?;
        Ok(buffers)
    }

    /// Every buffer view must lie inside its buffer; after this,
    /// [`Buffers::view_bytes`] can slice without checking.
    fn check_views(&self, doc: &Document) -> Result<(), SceneError> {
        for view in doc.views() {
            let buffer = view.buffer().index();
            let have = self.data[buffer].len() as u64;
            let end = (view.offset() as u64).saturating_add(view.length() as u64);
            if end > have {
                return Err(SceneError::BufferView {
                    view: view.index(),
                    problem: format!(
                        "covers bytes {}..{end} but buffer {buffer} has {have}",
                        view.offset()
                    ),
                });
            }
            if let Some(stride) = view.stride() {
                if !(4..=252).contains(&stride) || stride % 4 != 0 {
                    return Err(SceneError::BufferView {
                        view: view.index(),
                        problem: format!(
                            "has byteStride {stride}; it must be a multiple of 4 in 4..=252"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn view_bytes(&self, view: &gltf::buffer::View) -> &[u8] {
        let bytes = &self.data[view.buffer().index()];
        &bytes[view.offset()..view.offset() + view.length()]
    }

    /// Reads an accessor as f32 components (normalized integers mapped to
    /// [0, 1] or [-1, 1] as glTF specifies), `count * dims` of them.
    pub fn read_floats(
        &self,
        accessor: &Accessor,
        context: &str,
        allowed: &[Dimensions],
        limits: &Limits,
    ) -> Result<Vec<f32>, SceneError> {
        if !allowed.contains(&accessor.dimensions()) {
            return Err(accessor_error(
                accessor,
                context,
                format!("has type {:?}, expected one of {allowed:?}", accessor.dimensions()),
            ));
        }
        let data_type = accessor.data_type();
        let normalized = accessor.normalized();
        let layout = self.layout(accessor, context, limits)?;
        let dims = accessor.dimensions().multiplicity();
        let mut out = Vec::with_capacity(accessor.count() * dims);
        let Some(Layout { bytes, offset, stride }) = layout else {
            out.resize(accessor.count() * dims, 0.0);
            return Ok(out);
        };
        let size = data_type.size();
        for i in 0..accessor.count() {
            let base = offset + i * stride;
            for c in 0..dims {
                let at = base + c * size;
                out.push(component_f32(&bytes[at..at + size], data_type, normalized));
            }
        }
        Ok(out)
    }

    /// Reads an index accessor: a scalar of u8, u16 or u32.
    pub fn read_indices(
        &self,
        accessor: &Accessor,
        context: &str,
        limits: &Limits,
    ) -> Result<Vec<u32>, SceneError> {
        let data_type = accessor.data_type();
        if accessor.dimensions() != Dimensions::Scalar
            || !matches!(data_type, DataType::U8 | DataType::U16 | DataType::U32)
        {
            return Err(accessor_error(
                accessor,
                context,
                format!(
                    "has type {:?} of {data_type:?}; indices must be SCALAR of u8, u16 or u32",
                    accessor.dimensions()
                ),
            ));
        }
        let Some(Layout { bytes, offset, stride }) = self.layout(accessor, context, limits)? else {
            return Ok(vec![0; accessor.count()]);
        };
        let size = data_type.size();
        Ok((0..accessor.count())
            .map(|i| {
                let at = offset + i * stride;
                let b = &bytes[at..at + size];
                match data_type {
                    DataType::U8 => b[0] as u32,
                    DataType::U16 => u16::from_le_bytes([b[0], b[1]]) as u32,
                    _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                }
            })
            .collect())
    }

    /// Checks that `count` elements at `offset` with the view's stride fit
    /// the view; `None` for an accessor without a view (all zeros, as glTF
    /// says).
    fn layout(
        &self,
        accessor: &Accessor,
        context: &str,
        limits: &Limits,
    ) -> Result<Option<Layout<'_>>, SceneError> {
        if accessor.sparse().is_some() {
            return Err(SceneError::Unsupported(format!(
                "accessor {} ({context}) uses sparse storage; export without sparse accessors",
                accessor.index()
            )));
        }
        let dims = accessor.dimensions();
        if matches!(dims, Dimensions::Mat2 | Dimensions::Mat3 | Dimensions::Mat4) {
            return Err(accessor_error(
                accessor,
                context,
                format!("has matrix type {dims:?}, which is never read here"),
            ));
        }
        let element = (accessor.data_type().size() * dims.multiplicity()) as u64;
        let count = accessor.count() as u64;
        let Some(view) = accessor.view() else {
            if count.saturating_mul(element) > limits.max_scene_bytes {
                return Err(accessor_error(
                    accessor,
                    context,
                    format!(
                        "has no buffer view and {count} elements, more than the size limit allows"
                    ),
                ));
            }
            return Ok(None);
        };
        let stride = view.stride().map_or(element, |s| s as u64);
        if stride < element {
            return Err(accessor_error(
                accessor,
                context,
                format!(
                    "has {element}-byte elements but buffer view {} has a stride of {stride}",
                    view.index()
                ),
            ));
        }
        let offset = accessor.offset() as u64;
        // Component sizes are powers of two.
        if offset & (accessor.data_type().size() as u64 - 1) != 0 {
            return Err(accessor_error(
                accessor,
                context,
                format!("byteOffset {offset} is not a multiple of its component size"),
            ));
        }
        let end = if count == 0 {
            offset
        } else {
            offset.saturating_add(stride.saturating_mul(count - 1)).saturating_add(element)
        };
        let view_len = view.length() as u64;
        if end > view_len {
            return Err(accessor_error(
                accessor,
                context,
                format!(
                    "reads bytes {offset}..{end} but buffer view {} has {view_len}",
                    view.index()
                ),
            ));
        }
        Ok(Some(Layout {
            bytes: self.view_bytes(&view),
            offset: offset as usize,
            stride: stride as usize,
        }))
    }
}

/// Where an accessor's elements lie: element `i` starts at
/// `bytes[offset + i * stride]`, all of them checked to be in `bytes`.
struct Layout<'a> {
    bytes: &'a [u8],
    offset: usize,
    stride: usize,
}

pub(super) fn accessor_error(accessor: &Accessor, context: &str, problem: String) -> SceneError {
    SceneError::Accessor { accessor: accessor.index(), context: context.to_owned(), problem }
}

fn component_f32(b: &[u8], data_type: DataType, normalized: bool) -> f32 {
    match data_type {
        DataType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        DataType::U8 if normalized => b[0] as f32 / 255.0,
        DataType::U8 => b[0] as f32,
        DataType::I8 if normalized => (b[0] as i8 as f32 / 127.0).max(-1.0),
        DataType::I8 => b[0] as i8 as f32,
        DataType::U16 if normalized => u16::from_le_bytes([b[0], b[1]]) as f32 / 65535.0,
        DataType::U16 => u16::from_le_bytes([b[0], b[1]]) as f32,
        DataType::I16 if normalized => {
            (i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0).max(-1.0)
        }
        DataType::I16 => i16::from_le_bytes([b[0], b[1]]) as f32,
        DataType::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
    }
}

/// The error for a URI that would need the file system or the network.
pub(super) fn external_uri(what: &str, uri: &str) -> SceneError {
    SceneError::Uri {
        what: what.to_owned(),
        uri: short(uri),
        problem: "external files are not accepted here; submit a self-contained .glb \
                  (`mosaic render submit` packs the scene's folder for you)"
            .into(),
    }
}

/// A URI shortened for an error message (data: URIs can be megabytes).
pub(super) fn short(uri: &str) -> String {
    match uri.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &uri[..at]),
        None => uri.to_owned(),
    }
}

/// Decodes a `data:[<media type>];base64,<data>` URI. `None` when the URI is
/// not a data: URI at all.
pub(super) fn decode_data_uri(uri: &str) -> Option<Result<Vec<u8>, String>> {
    let rest = uri.strip_prefix("data:")?;
    let Some((header, payload)) = rest.split_once(',') else {
        return Some(Err("malformed data: URI (no comma)".into()));
    };
    if !header.ends_with(";base64") {
        return Some(Err("only base64 data: URIs are supported".into()));
    }
    Some(base64_decode(payload))
}

/// Standard base64 (RFC 4648) with optional padding.
pub(super) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut bits = 0;
    for (i, &c) in text.iter().enumerate() {
        let v =
            value(c).ok_or_else(|| format!("invalid base64 character {:?} at {i}", c as char))?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("truncated base64 payload".into());
    }
    Ok(out)
}
