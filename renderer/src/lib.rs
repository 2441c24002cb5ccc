//! One frame of a glTF scene out.
//!
//! - [`gltf_scene`]: reads and validates glTF 2.0 (.glb / .gltf), samples its
//!   animations at a time, and flattens it to a [`scene::Scene`].
//! - The CPU path tracer: [`camera`], [`sampler`], [`bvh`], [`material`],
//!   [`light`], [`integrator`], one concept a file (pbrt-v4's layout).
//! - [`image`]: linear radiance -> tonemapped sRGB PNG or linear EXR.
//!
//! It never touches the network. A frame is a pure function of (scene,
//! settings, frame number): the same inputs give the same bytes.

pub mod backend;
pub mod bvh;
pub mod camera;
pub mod gltf_scene;
pub mod image;
pub mod integrator;
pub mod light;
pub mod material;
pub mod sampler;
pub mod scene;
pub mod texture;
pub mod vulkan;

pub use backend::{Backend, RenderError};
pub use gltf_scene::{pack_scene_file, Limits, SceneAsset, SceneError, SceneSummary};
pub use image::Image;
pub use integrator::{render, RenderOptions};
pub use scene::Scene;
