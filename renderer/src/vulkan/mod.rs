//! The Vulkan backends, through `ash` (the loader is opened at run time, so
//! a machine without Vulkan still runs the CPU backend):
//!
//! - `vulkan-compute`: shaders/pathtrace.comp, the path tracer as a compute
//!   shader walking the CPU's BVH.
//! - `vulkan-rt`: shaders/raygen.rgen and friends, the same integrator in a
//!   ray-tracing pipeline over acceleration structures built per frame
//!   (VK_KHR_acceleration_structure + VK_KHR_ray_tracing_pipeline; no ray
//!   queries, which NVIDIA's datacenter GPUs lack).
//!
//! A frame is rendered in passes of whole samples, each a submission that
//! must finish within [`PASS_TIMEOUT`]; pass sizes adapt so each takes about
//! [`PASS_TARGET`]. Samples are summed in order per pixel, so the pass sizes
//! do not change the result.

mod accel;
mod gpu;
mod pipeline;
pub mod scene_data;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ash::vk;

use crate::backend::{Backend, Probe, Progress, RenderError};
use crate::image::Image;
use crate::integrator::RenderOptions;
use crate::scene::Scene;
use gpu::{Gpu, GpuError, Needs};
use pipeline::Pipeline;
use scene_data::SceneData;

/// How long one pass may run before the GPU is declared hung
/// (MOSAIC_GPU_TIMEOUT_MS overrides it, for tests of that path).
const PASS_TIMEOUT: Duration = Duration::from_secs(120);

fn pass_timeout() -> Duration {
    std::env::var("MOSAIC_GPU_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(PASS_TIMEOUT, Duration::from_millis)
}
/// What a pass should take: short enough for a desktop GPU's watchdog and
/// for progress, long enough that submission costs nothing.
const PASS_TARGET: Duration = Duration::from_millis(250);

/// Tries both Vulkan backends.
pub fn probe() -> Vec<Probe> {
    [("vulkan-rt", Needs::RayTracing), ("vulkan-compute", Needs::Compute)]
        .into_iter()
        .map(|(name, needs)| Probe {
            name,
            result: Gpu::open(needs)
                .map(|gpu| Arc::new(VulkanBackend::new(name, needs, gpu)) as Arc<dyn Backend>),
        })
        .collect()
}

/// One of the two Vulkan backends on one device.
pub struct VulkanBackend {
    name: &'static str,
    needs: Needs,
    device: String,
    engine: String,
    emulated: bool,
    max_storage_buffer: u64,
    /// One frame at a time per backend.
    state: Mutex<State>,
}

/// The device and, once the first frame asked for it, the pipeline.
struct State {
    // Dropped in this order: the pipeline before the device it lives on.
    pipeline: Option<Pipeline>,
    gpu: Gpu,
}

impl VulkanBackend {
    fn new(name: &'static str, needs: Needs, gpu: Gpu) -> Self {
        let device = gpu.name.clone();
        let engine = format!("{name} {} ({})", gpu.name, gpu.driver);
        let emulated = gpu.emulated;
        let max_storage_buffer = gpu.max_storage_buffer;
        Self {
            name,
            needs,
            device,
            engine,
            emulated,
            max_storage_buffer,
            state: Mutex::new(State { pipeline: None, gpu }),
        }
    }

    fn device_error(&self, e: GpuError) -> RenderError {
        RenderError::Device { backend: self.name, message: e.to_string() }
    }
}

impl Backend for VulkanBackend {
    fn name(&self) -> &'static str {
        self.name
    }

    fn device(&self) -> String {
        self.device.clone()
    }

    fn engine(&self) -> String {
        self.engine.clone()
    }

    fn is_emulated(&self) -> bool {
        self.emulated
    }

    fn fits(&self, width: u32, height: u32) -> Result<(), String> {
        let accum_bytes = u64::from(width) * u64::from(height) * 16;
        if accum_bytes > self.max_storage_buffer {
            return Err(format!(
                "{width}x{height} needs a {} MiB image buffer; {} binds at most {} MiB",
                accum_bytes >> 20,
                self.device,
                self.max_storage_buffer >> 20
            ));
        }
        Ok(())
    }

    fn render(
        &self,
        scene: &Scene,
        opts: &RenderOptions,
        progress: Progress<'_>,
    ) -> Result<Image, RenderError> {
        let mut state = self.state.lock().map_err(|_| RenderError::Device {
            backend: self.name,
            message: "an earlier render on this device panicked".into(),
        })?;
        let State { pipeline, gpu } = &mut *state;
        if gpu.failed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(RenderError::Device {
                backend: self.name,
                message: format!("{} failed earlier and is not used again", gpu.name),
            });
        }
        self.fits(opts.width, opts.height)
            .map_err(|message| RenderError::Unsupported { backend: self.name, message })?;
        if pipeline.is_none() {
            let started = Instant::now();
            *pipeline = Some(Pipeline::new(gpu, self.needs).map_err(|e| self.device_error(e))?);
            tracing::debug!(
                backend = self.name,
                ms = started.elapsed().as_millis() as u64,
                "pipeline built"
            );
        }
        let pipeline = pipeline.as_ref().expect("built above");
        render(gpu, pipeline, scene, opts, progress).map_err(|e| self.device_error(e))
    }
}

fn render(
    gpu: &Gpu,
    pipeline: &Pipeline,
    scene: &Scene,
    opts: &RenderOptions,
    progress: Progress<'_>,
) -> Result<Image, GpuError> {
    let (width, height) = (opts.width, opts.height);
    if width == 0 || height == 0 || opts.spp == 0 {
        return Ok(Image::new(width, height));
    }
    let started = Instant::now();
    let timeout = pass_timeout();
    let data = SceneData::new(scene, opts, pipeline.needs == Needs::Compute);
    let storage = vk::BufferUsageFlags::STORAGE_BUFFER;
    let mut buffers = Vec::new();
    for b in data.shared.iter().chain(&data.bvh) {
        buffers.push((b.binding, gpu.upload(&b.bytes, storage)?));
    }
    let pixels = u64::from(width) * u64::from(height);
    let accum = gpu.buffer(pixels * 16, storage | vk::BufferUsageFlags::TRANSFER_SRC, false)?;
    let accel = match pipeline.needs {
        Needs::RayTracing => Some(accel::build(gpu, &data.positions, &data.meshes, timeout)?),
        Needs::Compute => None,
    };
    let uploaded = started.elapsed();

    // One descriptor set with every buffer (and the TLAS).
    let device = &gpu.device;
    let mut sizes = vec![vk::DescriptorPoolSize::default()
        .ty(vk::DescriptorType::STORAGE_BUFFER)
        .descriptor_count(buffers.len() as u32 + 1)];
    if accel.is_some() {
        sizes.push(
            vk::DescriptorPoolSize::default()
                .ty(vk::DescriptorType::ACCELERATION_STRUCTURE_KHR)
                .descriptor_count(1),
        );
    }
    let pool = unsafe {
        device.create_descriptor_pool(
            &vk::DescriptorPoolCreateInfo::default().max_sets(1).pool_sizes(&sizes),
            None,
        )
    }
    .map_err(GpuError::vk("cannot create a descriptor pool"))?;
    let pool = DescriptorPool { device: device.clone(), pool, failed: gpu.failed.clone() };
    let layouts = [pipeline.set_layout];
    let set = unsafe {
        device.allocate_descriptor_sets(
            &vk::DescriptorSetAllocateInfo::default()
                .descriptor_pool(pool.pool)
                .set_layouts(&layouts),
        )
    }
    .map_err(GpuError::vk("cannot allocate a descriptor set"))?[0];
    let infos: Vec<(u32, [vk::DescriptorBufferInfo; 1])> = buffers
        .iter()
        .map(|(b, buf)| (*b, [buf.descriptor()]))
        .chain([(scene_data::binding::ACCUM, [accum.descriptor()])])
        .collect();
    let mut writes: Vec<vk::WriteDescriptorSet> = infos
        .iter()
        .map(|(b, info)| {
            vk::WriteDescriptorSet::default()
                .dst_set(set)
                .dst_binding(*b)
                .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                .buffer_info(info)
        })
        .collect();
    let tlas = [accel.as_ref().map_or(vk::AccelerationStructureKHR::null(), |a| a.tlas)];
    let mut tlas_write =
        vk::WriteDescriptorSetAccelerationStructureKHR::default().acceleration_structures(&tlas);
    if accel.is_some() {
        let mut w = vk::WriteDescriptorSet::default()
            .dst_set(set)
            .dst_binding(scene_data::binding::TLAS)
            .descriptor_type(vk::DescriptorType::ACCELERATION_STRUCTURE_KHR)
            .push_next(&mut tlas_write);
        w.descriptor_count = 1;
        writes.push(w);
    }
    unsafe { device.update_descriptor_sets(&writes, &[]) };

    // Passes of whole samples, sized to take about PASS_TARGET each.
    let (bind_point, push_stage) = (pipeline.bind_point(), pipeline.push_stage());
    let mut first = 0u32;
    let mut batch = 1u32;
    while first < opts.spp {
        let end = (first + batch).min(opts.spp);
        let pass_started = Instant::now();
        let mut push = [0u8; pipeline::PUSH_SIZE as usize];
        push[..4].copy_from_slice(&first.to_le_bytes());
        push[4..].copy_from_slice(&end.to_le_bytes());
        gpu.run(timeout, |cmd| unsafe {
            // Earlier submissions' writes (uploads, builds, the last pass)
            // become visible to this one.
            let barrier = vk::MemoryBarrier::default()
                .src_access_mask(vk::AccessFlags::MEMORY_WRITE)
                .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE);
            device.cmd_pipeline_barrier(
                cmd,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::DependencyFlags::empty(),
                &[barrier],
                &[],
                &[],
            );
            device.cmd_bind_pipeline(cmd, bind_point, pipeline.pipeline);
            device.cmd_bind_descriptor_sets(cmd, bind_point, pipeline.layout, 0, &[set], &[]);
            device.cmd_push_constants(cmd, pipeline.layout, push_stage, 0, &push);
            match (&pipeline.sbt, gpu.rt.as_ref()) {
                (Some(sbt), Some(rt)) => rt.cmd_trace_rays(
                    cmd,
                    &sbt.raygen,
                    &sbt.miss,
                    &sbt.hit,
                    &vk::StridedDeviceAddressRegionKHR::default(),
                    width,
                    height,
                    1,
                ),
                _ => device.cmd_dispatch(cmd, width.div_ceil(8), height.div_ceil(8), 1),
            }
        })?;
        let took = pass_started.elapsed().max(Duration::from_micros(100));
        let per_sample = took.as_secs_f64() / f64::from(end - first);
        batch = ((PASS_TARGET.as_secs_f64() / per_sample) as u32).clamp(1, 1024);
        first = end;
        progress(first as f32 / opts.spp as f32);
    }

    // Read back and average.
    let readback = gpu.buffer(accum.size, vk::BufferUsageFlags::TRANSFER_DST, true)?;
    gpu.run(timeout, |cmd| unsafe {
        let barrier = vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::SHADER_WRITE)
            .dst_access_mask(vk::AccessFlags::TRANSFER_READ);
        device.cmd_pipeline_barrier(
            cmd,
            vk::PipelineStageFlags::ALL_COMMANDS,
            vk::PipelineStageFlags::TRANSFER,
            vk::DependencyFlags::empty(),
            &[barrier],
            &[],
            &[],
        );
        let region = vk::BufferCopy::default().size(accum.size);
        device.cmd_copy_buffer(cmd, accum.buffer, readback.buffer, &[region]);
    })?;
    let bytes = readback.read();
    let mut image = Image::new(width, height);
    let mut discarded = 0u64;
    for (pixel, chunk) in image.pixels.iter_mut().zip(bytes.chunks_exact(16)) {
        let f = |i: usize| f32::from_le_bytes(chunk[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        let kept = f(3);
        discarded += u64::from(opts.spp) - kept as u64;
        *pixel =
            if kept > 0.0 { glam::Vec3::new(f(0), f(1), f(2)) / kept } else { glam::Vec3::ZERO };
    }
    if discarded > 0 {
        tracing::warn!(discarded, "discarded non-finite path samples");
    }
    tracing::debug!(
        device = %gpu.name,
        triangles = scene.triangles.len(),
        upload_ms = uploaded.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "rendered frame"
    );
    Ok(image)
}

struct DescriptorPool {
    device: ash::Device,
    pool: vk::DescriptorPool,
    failed: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for DescriptorPool {
    fn drop(&mut self) {
        if self.failed.load(std::sync::atomic::Ordering::SeqCst) {
            return; // the GPU may still use the set
        }
        unsafe { self.device.destroy_descriptor_pool(self.pool, None) };
    }
}
