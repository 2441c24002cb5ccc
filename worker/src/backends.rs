//! The render backends this worker uses: which ones (from the probe and
//! `--backends`), and which of them are still healthy. A backend whose
//! device failed is never used again by this process.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use renderer::backend::{self, Backend, Probe};

/// The backends to use: those asked for (in that order) or every one that
/// works here, fastest first. Asking for one that does not work here, or
/// for one twice, is an error that says why.
pub fn choose(
    probes: Vec<Probe>,
    asked: Option<&[String]>,
) -> Result<Vec<Arc<dyn Backend>>, String> {
    if let Some(asked) = asked {
        let mut seen = HashSet::new();
        if let Some(twice) = asked.iter().find(|name| !seen.insert(name.as_str())) {
            return Err(format!("render backend {twice} is named twice"));
        }
    }
    backend::choose(probes, asked)
}

/// Orders the backends by measured speed, fastest first, when this
/// machine has a GPU: which of vulkan-rt and vulkan-compute wins depends on
/// the GPU (an H100 has no RT cores: its driver runs ray-tracing pipelines
/// in software, and the compute backend is 2.4x faster there). Each renders
/// the sample Cornell box at 512x512, 16 spp, after a warm-up that builds
/// its pipeline.
/// Emulated backends (lavapipe) stay last and unmeasured; a backend that
/// fails its measurement is left out.
pub fn rank_by_speed(backends: Vec<Arc<dyn Backend>>) -> Vec<Arc<dyn Backend>> {
    let on_gpu = |b: &Arc<dyn Backend>| b.name() != "cpu" && !b.is_emulated();
    if !backends.iter().any(on_gpu) {
        return backends;
    }
    let (emulated, measured): (Vec<_>, Vec<_>) =
        backends.into_iter().partition(|b| b.is_emulated());
    let scene = match renderer::SceneAsset::from_bytes(
        &samples::cornell_box_still(),
        &renderer::Limits::default(),
    )
    .and_then(|asset| asset.instantiate(0.0, None))
    {
        Ok(scene) => scene,
        Err(e) => {
            tracing::warn!(error = %e, "cannot load the scene backends are timed on");
            return measured.into_iter().chain(emulated).collect();
        }
    };
    let options = |size: u32, spp: u32| renderer::RenderOptions {
        width: size,
        height: size,
        spp,
        max_bounces: 8,
        seed: 0,
        frame: 0,
    };
    let mut timed = Vec::new();
    for backend in measured {
        let result = backend.render(&scene, &options(16, 1), &|_| {}).and_then(|_| {
            let started = std::time::Instant::now();
            let opts = options(512, 16);
            backend.render(&scene, &opts, &|_| {})?;
            let samples = f64::from(opts.width * opts.height * opts.spp);
            Ok(samples / started.elapsed().as_secs_f64() / 1e6)
        });
        match result {
            Ok(rate) => {
                tracing::info!(
                    backend = backend.name(),
                    msamples_per_s = format!("{rate:.1}"),
                    "timed"
                );
                timed.push((backend, rate));
            }
            Err(e) => {
                tracing::warn!(backend = backend.name(), error = %e, "left out: it failed a test render")
            }
        }
    }
    timed.sort_by(|a, b| b.1.total_cmp(&a.1));
    timed.into_iter().map(|(b, _)| b).chain(emulated).collect()
}

/// A probe as `--list-backends` prints it.
pub fn describe(probe: &Probe) -> String {
    match &probe.result {
        Ok(b) => format!("{:<15} works: {} (engine {})", probe.name, b.device(), b.engine()),
        Err(reason) => format!("{:<15} unavailable: {reason}", probe.name),
    }
}

/// The chosen backends, fastest first, each with whether it still works.
pub struct Backends {
    slots: Vec<Slot>,
}

struct Slot {
    backend: Arc<dyn Backend>,
    healthy: AtomicBool,
}

impl Backends {
    pub fn new(backends: Vec<Arc<dyn Backend>>) -> Self {
        let slots = backends
            .into_iter()
            .map(|backend| Slot { backend, healthy: AtomicBool::new(true) })
            .collect();
        Self { slots }
    }

    /// The healthy backends' names, fastest first: what the worker announces.
    pub fn healthy(&self) -> Vec<String> {
        self.slots.iter().filter(|s| s.is_healthy()).map(|s| s.backend.name().to_owned()).collect()
    }

    /// The backend a render of `width` x `height` uses: the one it asks
    /// for, else the fastest healthy one the frame fits; or why there is none.
    pub fn pick(
        &self,
        asked: Option<&str>,
        width: u32,
        height: u32,
    ) -> Result<Arc<dyn Backend>, String> {
        let Some(asked) = asked else {
            let mut too_small = Vec::new();
            for slot in self.slots.iter().filter(|s| s.is_healthy()) {
                match slot.backend.fits(width, height) {
                    Ok(()) => return Ok(slot.backend.clone()),
                    Err(why) => too_small.push(format!("{}: {why}", slot.backend.name())),
                }
            }
            return Err(if too_small.is_empty() {
                "every render backend of this worker has failed: restart it".to_owned()
            } else {
                too_small.join("; ")
            });
        };
        match self.slots.iter().find(|s| s.backend.name() == asked) {
            Some(slot) if slot.is_healthy() => {
                slot.backend.fits(width, height).map_err(|why| format!("{asked}: {why}"))?;
                Ok(slot.backend.clone())
            }
            Some(_) => Err(format!(
                "the job asks for render backend {asked}, which failed on this worker earlier \
                 and stays off until the worker restarts"
            )),
            None => Err(format!(
                "the job asks for render backend {asked}, which this worker does not have \
                 (it has: {})",
                self.names().join(", ")
            )),
        }
    }

    /// Takes `name` out of service; returns whether it was healthy until now.
    pub fn mark_unhealthy(&self, name: &str) -> bool {
        self.slots
            .iter()
            .filter(|s| s.backend.name() == name)
            .any(|s| s.healthy.swap(false, Ordering::SeqCst))
    }

    fn names(&self) -> Vec<&'static str> {
        self.slots.iter().map(|s| s.backend.name()).collect()
    }
}

impl Slot {
    fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renderer::backend::{CpuBackend, Progress, RenderError};
    use renderer::{Image, RenderOptions, Scene};

    /// A backend that only has a name: these tests never render.
    struct Named(&'static str);

    impl Backend for Named {
        fn name(&self) -> &'static str {
            self.0
        }
        fn device(&self) -> String {
            "test device".into()
        }
        fn engine(&self) -> String {
            format!("{} test", self.0)
        }
        fn fits(&self, width: u32, _: u32) -> Result<(), String> {
            // The "GPU" of these tests binds images up to 1000 pixels wide.
            match self.0 {
                "cpu" => Ok(()),
                _ if width <= 1000 => Ok(()),
                _ => Err("too wide for the test device".into()),
            }
        }
        fn render(
            &self,
            _: &Scene,
            _: &RenderOptions,
            _: Progress<'_>,
        ) -> Result<Image, RenderError> {
            Err(RenderError::Device { backend: self.0, message: "not a renderer".into() })
        }
    }

    fn pool() -> Arc<rayon::ThreadPool> {
        Arc::new(rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap())
    }

    /// What a machine without Vulkan probes.
    fn probes() -> Vec<Probe> {
        vec![
            Probe { name: "vulkan-rt", result: Err("no Vulkan loader (libvulkan.so.1)".into()) },
            Probe {
                name: "vulkan-compute",
                result: Err("no Vulkan loader (libvulkan.so.1)".into()),
            },
            Probe { name: "cpu", result: Ok(Arc::new(CpuBackend::new(pool()))) },
        ]
    }

    fn names(backends: &[Arc<dyn Backend>]) -> Vec<&'static str> {
        backends.iter().map(|b| b.name()).collect()
    }

    #[test]
    fn the_protocol_knows_the_same_backends_as_the_renderer() {
        assert_eq!(protocol::RENDER_BACKENDS, renderer::backend::NAMES);
    }

    #[test]
    fn by_default_every_working_backend_is_chosen() {
        assert_eq!(names(&choose(probes(), None).unwrap()), ["cpu"]);
    }

    #[test]
    fn asking_for_a_backend_that_does_not_work_here_says_why() {
        let asked = ["vulkan-rt".to_owned(), "cpu".to_owned()];
        let err = choose(probes(), Some(&asked)).err().unwrap();
        assert!(err.contains("vulkan-rt") && err.contains("no Vulkan loader"), "{err}");
        let err = choose(probes(), Some(&["optix".to_owned()])).err().unwrap();
        assert!(err.contains("vulkan-rt, vulkan-compute, cpu"), "{err}");
        let err = choose(probes(), Some(&["cpu".to_owned(), "cpu".to_owned()])).err().unwrap();
        assert!(err.contains("twice"), "{err}");
        assert_eq!(names(&choose(probes(), Some(&["cpu".to_owned()])).unwrap()), ["cpu"]);
    }

    #[test]
    fn probes_are_described_with_their_device_or_reason() {
        let lines: Vec<String> = probes().iter().map(describe).collect();
        assert!(lines[0].starts_with("vulkan-rt") && lines[0].contains("unavailable: no Vulkan"));
        assert!(lines[2].contains("works: 1 threads (engine cpu)"), "{}", lines[2]);
    }

    #[test]
    fn a_failed_backend_is_skipped_and_no_longer_announced() {
        let backends = Backends::new(vec![Arc::new(Named("vulkan-rt")), Arc::new(Named("cpu"))]);
        assert_eq!(backends.healthy(), ["vulkan-rt", "cpu"]);
        assert_eq!(backends.pick(None, 64, 64).unwrap().name(), "vulkan-rt");
        assert!(backends.mark_unhealthy("vulkan-rt"));
        assert!(!backends.mark_unhealthy("vulkan-rt"), "already off");
        assert_eq!(backends.healthy(), ["cpu"]);
        assert_eq!(backends.pick(None, 64, 64).unwrap().name(), "cpu");
        assert_eq!(backends.pick(Some("cpu"), 64, 64).unwrap().name(), "cpu");
        let err = backends.pick(Some("vulkan-rt"), 64, 64).err().unwrap();
        assert!(err.contains("failed on this worker earlier"), "{err}");
        let err = backends.pick(Some("vulkan-compute"), 64, 64).err().unwrap();
        assert!(err.contains("does not have") && err.contains("vulkan-rt, cpu"), "{err}");
        backends.mark_unhealthy("cpu");
        assert!(backends.healthy().is_empty());
        assert!(backends.pick(None, 64, 64).err().unwrap().contains("restart"));
    }

    #[test]
    fn a_frame_too_large_for_the_gpu_goes_to_the_next_backend_unless_the_job_asks_for_it() {
        let backends = Backends::new(vec![Arc::new(Named("vulkan-rt")), Arc::new(Named("cpu"))]);
        assert_eq!(backends.pick(None, 4000, 100).unwrap().name(), "cpu");
        let err = backends.pick(Some("vulkan-rt"), 4000, 100).err().unwrap();
        assert!(err.contains("too wide for the test device"), "{err}");
        assert_eq!(backends.pick(None, 640, 360).unwrap().name(), "vulkan-rt");
    }
}
