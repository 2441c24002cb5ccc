//! Why a scene was refused. Every message names the glTF object at fault
//! (accessor, buffer view, node, image, material, animation) by its index, so
//! an artist can find it in their exporter's output.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("the scene is {bytes} bytes, over the limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },

    /// Not a glTF at all, or a truncated / malformed GLB container or JSON.
    #[error("not a glTF 2.0 file: {0}")]
    NotGltf(String),

    /// The JSON parsed but breaks glTF's schema (e.g. an index to a missing object).
    #[error("invalid glTF: {0}")]
    Invalid(String),

    /// A feature the renderer does not handle, where it would change the picture.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A buffer or image URI that cannot be used (external where only data: is
    /// allowed, escaping the scene's folder, malformed base64).
    #[error("{what} has URI {uri:?}: {problem}")]
    Uri { what: String, uri: String, problem: String },

    #[error("buffer {buffer}: {problem}")]
    Buffer { buffer: usize, problem: String },

    #[error("buffer view {view}: {problem}")]
    BufferView { view: usize, problem: String },

    /// An accessor whose bytes do not fit its buffer view, or whose type is
    /// not the one its use needs. `context` says what reads it, e.g.
    /// "POSITION of mesh 0 primitive 1".
    #[error("accessor {accessor} ({context}) {problem}")]
    Accessor { accessor: usize, context: String, problem: String },

    #[error(
        "accessor {accessor} (indices of mesh {mesh} primitive {primitive}) has index {value} at \
         position {position}, but the primitive has only {vertices} vertices"
    )]
    IndexOutOfRange {
        accessor: usize,
        mesh: usize,
        primitive: usize,
        position: usize,
        value: u32,
        vertices: usize,
    },

    #[error(
        "accessor {accessor} (POSITION of mesh {mesh} primitive {primitive}) has a non-finite \
         vertex position at vertex {vertex}: {value}"
    )]
    NonFinitePosition {
        accessor: usize,
        mesh: usize,
        primitive: usize,
        vertex: usize,
        value: String,
    },

    /// A loop or a node with two parents.
    #[error("node {node}: {problem}")]
    Hierarchy { node: usize, problem: String },

    /// A transform that is not finite or has a zero rotation.
    #[error("node {node} has an invalid transform: {problem}")]
    Transform { node: usize, problem: String },

    #[error("image {image}: {problem}")]
    Image { image: usize, problem: String },

    #[error(
        "image {image} claims {width}x{height} pixels ({pixels}), over the limit of {limit} pixels"
    )]
    TextureTooLarge { image: usize, width: u32, height: u32, pixels: u64, limit: u64 },

    #[error("material {material}: {problem}")]
    Material { material: usize, problem: String },

    #[error("animation {animation} channel {channel}: {problem}")]
    Animation { animation: usize, channel: usize, problem: String },

    #[error("light {light}: {problem}")]
    Light { light: usize, problem: String },

    #[error("camera {camera}: {problem}")]
    Camera { camera: usize, problem: String },

    #[error("the scene has {triangles} triangles, over the limit of {limit}")]
    TooManyTriangles { triangles: u64, limit: u64 },

    #[error("the scene has no camera: add a perspective camera node")]
    NoCamera,

    #[error("no camera named {name:?} in the scene; cameras: {available:?}")]
    UnknownCamera { name: String, available: Vec<String> },

    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
