//! Render backends: one trait, a registry of implementations, and a probe
//! that says which of them work on this machine and why the others do not
//! (Symphonia's codec registry is the model).
//!
//! - `cpu`: the path tracer of [`crate::integrator`], on a rayon pool.
//! - `vulkan-compute`: the same path tracer as a compute shader, BVH
//!   traversal in the shader.
//! - `vulkan-rt`: the same integrator in a ray-tracing pipeline (raygen,
//!   closest-hit, miss) over hardware acceleration structures.
//!
//! Every backend renders the same scene with the same camera, materials,
//! lights and per-sample random streams; images from different backends
//! agree statistically, not bit for bit (floating-point differs). A backend
//! is deterministic on one device and driver, which is what
//! [`Backend::engine`] names.

use std::sync::Arc;

use crate::image::Image;
use crate::integrator::RenderOptions;
use crate::scene::Scene;

/// The backends this build knows, fastest first: the order in which a worker
/// prefers them.
pub const NAMES: &[&str] = &["vulkan-rt", "vulkan-compute", "cpu"];

/// Why a render did not produce an image.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The device was lost, ran out of memory, or a shader or pipeline
    /// failed: the backend should not be trusted with more work until the
    /// process restarts.
    #[error("{backend}: {message}")]
    Device { backend: &'static str, message: String },
    /// The scene or settings cannot be rendered by this backend (too large
    /// for its limits, say); another backend may manage.
    #[error("{backend}: {message}")]
    Unsupported { backend: &'static str, message: String },
}

impl RenderError {
    /// Whether the backend itself failed (as opposed to this one job not
    /// fitting it).
    pub fn is_device_failure(&self) -> bool {
        matches!(self, RenderError::Device { .. })
    }
}

/// Called with the fraction of the frame done, from any thread.
pub type Progress<'a> = &'a (dyn Fn(f32) + Sync);

/// One way of rendering a frame.
pub trait Backend: Send + Sync {
    /// `cpu`, `vulkan-compute` or `vulkan-rt`.
    fn name(&self) -> &'static str;
    /// What it runs on, for people: "16 threads", "NVIDIA H100 80GB HBM3".
    fn device(&self) -> String;
    /// What makes its output reproducible bit for bit: the backend with its
    /// device and driver. Two results with the same engine must be the same
    /// bytes; results of different engines are compared by fingerprint.
    fn engine(&self) -> String;
    /// Whether it runs on a processor emulating a GPU (Mesa's lavapipe): it
    /// works, and runs Vulkan jobs on machines without a GPU, but is no
    /// faster than the CPU backend, so a worker prefers the CPU one.
    fn is_emulated(&self) -> bool {
        false
    }
    /// Whether a frame of this size fits the device; why not if it does not
    /// (another backend may take it).
    fn fits(&self, _width: u32, _height: u32) -> Result<(), String> {
        Ok(())
    }
    /// Renders one frame: linear radiance, NaN-free samples averaged.
    fn render(
        &self,
        scene: &Scene,
        opts: &RenderOptions,
        progress: Progress<'_>,
    ) -> Result<Image, RenderError>;
}

/// The CPU path tracer on a thread pool.
pub struct CpuBackend {
    pool: Arc<rayon::ThreadPool>,
}

impl CpuBackend {
    pub fn new(pool: Arc<rayon::ThreadPool>) -> Self {
        Self { pool }
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn device(&self) -> String {
        format!("{} threads", self.pool.current_num_threads())
    }

    fn engine(&self) -> String {
        // The CPU tracer gives the same bytes on any x86-64 or aarch64
        // machine and thread count.
        "cpu".into()
    }

    fn render(
        &self,
        scene: &Scene,
        opts: &RenderOptions,
        progress: Progress<'_>,
    ) -> Result<Image, RenderError> {
        let rows = opts.height.max(1) as f32;
        let done = std::sync::atomic::AtomicU32::new(0);
        let image = self.pool.install(|| {
            crate::integrator::render_with_progress(scene, opts, &|_| {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n as f32 / rows);
            })
        });
        Ok(image)
    }
}

/// Whether a backend works here.
pub struct Probe {
    pub name: &'static str,
    /// The backend, or why it is missing ("no Vulkan loader", "no device
    /// with VK_KHR_ray_tracing_pipeline", ...).
    pub result: Result<Arc<dyn Backend>, String>,
}

/// Tries every backend, fastest first: Vulkan on a GPU, then the CPU, then
/// Vulkan emulated on the CPU (lavapipe). The CPU one always works; the
/// Vulkan ones need a loader, a device and their extensions.
pub fn probe(pool: Arc<rayon::ThreadPool>) -> Vec<Probe> {
    let mut probes = crate::vulkan::probe();
    probes.push(Probe { name: "cpu", result: Ok(Arc::new(CpuBackend::new(pool))) });
    // Stable: among equals, NAMES order.
    probes.sort_by_key(|p| match &p.result {
        Ok(b) if b.is_emulated() => 2,
        Ok(b) if b.name() == "cpu" => 1,
        Ok(_) => 0,
        Err(_) => 3,
    });
    probes
}

/// The backends named in `asked` (in that order), or every one that works
/// (fastest first) when `asked` is `None`. Naming one that does not work
/// here is an error that says why.
pub fn choose(
    probes: Vec<Probe>,
    asked: Option<&[String]>,
) -> Result<Vec<Arc<dyn Backend>>, String> {
    let Some(asked) = asked else {
        return Ok(probes.into_iter().filter_map(|p| p.result.ok()).collect());
    };
    let mut chosen = Vec::new();
    for name in asked {
        let probe = probes.iter().find(|p| p.name == name).ok_or_else(|| {
            format!("unknown render backend {name:?}: choose from {}", NAMES.join(", "))
        })?;
        match &probe.result {
            Ok(backend) => chosen.push(backend.clone()),
            Err(reason) => {
                return Err(format!(
                    "render backend {name} does not work on this machine: {reason}"
                ))
            }
        }
    }
    if chosen.is_empty() {
        return Err("no render backend chosen".into());
    }
    Ok(chosen)
}
