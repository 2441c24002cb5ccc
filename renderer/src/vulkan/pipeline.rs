//! The two pipelines: the compute path tracer, and the ray-tracing pipeline
//! (raygen, a miss shader for paths and one for shadow rays, one
//! closest-hit group) with its shader binding table. Both bind the same
//! storage buffers and take the sample range as push constants.

use ash::vk;

use super::gpu::{Buffer, Gpu, GpuError, Needs};
use super::scene_data::binding;

macro_rules! spirv {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".spv"))
    };
}

/// Push constants: the samples a pass adds, [first, end).
pub const PUSH_SIZE: u32 = 8;

pub struct Pipeline {
    pub needs: Needs,
    pub set_layout: vk::DescriptorSetLayout,
    pub layout: vk::PipelineLayout,
    pub pipeline: vk::Pipeline,
    /// Ray tracing: the shader binding table and its regions.
    pub sbt: Option<Sbt>,
    device: ash::Device,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub struct Sbt {
    _buffer: Buffer,
    pub raygen: vk::StridedDeviceAddressRegionKHR,
    pub miss: vk::StridedDeviceAddressRegionKHR,
    pub hit: vk::StridedDeviceAddressRegionKHR,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if self.failed.load(std::sync::atomic::Ordering::SeqCst) {
            return; // the GPU may still run it
        }
        unsafe {
            self.device.destroy_pipeline(self.pipeline, None);
            self.device.destroy_pipeline_layout(self.layout, None);
            self.device.destroy_descriptor_set_layout(self.set_layout, None);
        }
    }
}

/// The storage-buffer bindings a pipeline of `needs` reads.
pub fn buffer_bindings(needs: Needs) -> Vec<u32> {
    let mut b = vec![
        binding::PARAMS,
        binding::ACCUM,
        binding::TRIANGLES,
        binding::MATERIALS,
        binding::TEXTURE_INFO,
        binding::TEXELS,
        binding::LIGHTS,
        binding::LIGHT_PMF,
        binding::TRIANGLE_LIGHT,
        binding::TABLES,
    ];
    if needs == Needs::Compute {
        b.extend([binding::NODES, binding::ACCEL, binding::IDS]);
    }
    b
}

/// The stage that reads the push constants (the sample range).
fn push_stage(needs: Needs) -> vk::ShaderStageFlags {
    match needs {
        Needs::Compute => vk::ShaderStageFlags::COMPUTE,
        Needs::RayTracing => vk::ShaderStageFlags::RAYGEN_KHR,
    }
}

fn align(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

impl Pipeline {
    pub fn bind_point(&self) -> vk::PipelineBindPoint {
        match self.needs {
            Needs::Compute => vk::PipelineBindPoint::COMPUTE,
            Needs::RayTracing => vk::PipelineBindPoint::RAY_TRACING_KHR,
        }
    }

    pub fn push_stage(&self) -> vk::ShaderStageFlags {
        push_stage(self.needs)
    }

    pub fn new(gpu: &Gpu, needs: Needs) -> Result<Pipeline, GpuError> {
        let stages = match needs {
            Needs::Compute => vk::ShaderStageFlags::COMPUTE,
            Needs::RayTracing => {
                vk::ShaderStageFlags::RAYGEN_KHR
                    | vk::ShaderStageFlags::CLOSEST_HIT_KHR
                    | vk::ShaderStageFlags::MISS_KHR
            }
        };
        let mut bindings: Vec<vk::DescriptorSetLayoutBinding> = buffer_bindings(needs)
            .into_iter()
            .map(|b| {
                vk::DescriptorSetLayoutBinding::default()
                    .binding(b)
                    .descriptor_type(vk::DescriptorType::STORAGE_BUFFER)
                    .descriptor_count(1)
                    .stage_flags(stages)
            })
            .collect();
        if needs == Needs::RayTracing {
            bindings.push(
                vk::DescriptorSetLayoutBinding::default()
                    .binding(binding::TLAS)
                    .descriptor_type(vk::DescriptorType::ACCELERATION_STRUCTURE_KHR)
                    .descriptor_count(1)
                    .stage_flags(vk::ShaderStageFlags::RAYGEN_KHR),
            );
        }
        let device = &gpu.device;
        let set_layout = unsafe {
            device.create_descriptor_set_layout(
                &vk::DescriptorSetLayoutCreateInfo::default().bindings(&bindings),
                None,
            )
        }
        .map_err(GpuError::vk("cannot create the descriptor set layout"))?;
        let push =
            [vk::PushConstantRange::default().stage_flags(push_stage(needs)).size(PUSH_SIZE)];
        let set_layouts = [set_layout];
        let layout = unsafe {
            device.create_pipeline_layout(
                &vk::PipelineLayoutCreateInfo::default()
                    .set_layouts(&set_layouts)
                    .push_constant_ranges(&push),
                None,
            )
        }
        .map_err(GpuError::vk("cannot create the pipeline layout"))?;
        let mut out = Pipeline {
            needs,
            set_layout,
            layout,
            pipeline: vk::Pipeline::null(),
            sbt: None,
            device: device.clone(),
            failed: gpu.failed.clone(),
        };
        match needs {
            Needs::Compute => out.pipeline = compute_pipeline(gpu, layout)?,
            Needs::RayTracing => {
                let (pipeline, sbt) = ray_tracing_pipeline(gpu, layout)?;
                out.pipeline = pipeline;
                out.sbt = Some(sbt);
            }
        }
        Ok(out)
    }
}

fn compute_pipeline(gpu: &Gpu, layout: vk::PipelineLayout) -> Result<vk::Pipeline, GpuError> {
    let module = gpu.shader(spirv!("pathtrace.comp"))?;
    let stage = vk::PipelineShaderStageCreateInfo::default()
        .stage(vk::ShaderStageFlags::COMPUTE)
        .module(module)
        .name(c"main");
    let info = vk::ComputePipelineCreateInfo::default().stage(stage).layout(layout);
    let result =
        unsafe { gpu.device.create_compute_pipelines(vk::PipelineCache::null(), &[info], None) };
    unsafe { gpu.device.destroy_shader_module(module, None) };
    result.map(|p| p[0]).map_err(|(_, e)| GpuError::Vulkan {
        what: "the driver could not build the compute pipeline",
        result: e,
    })
}

fn ray_tracing_pipeline(
    gpu: &Gpu,
    layout: vk::PipelineLayout,
) -> Result<(vk::Pipeline, Sbt), GpuError> {
    let rt = gpu.rt.as_ref().ok_or_else(|| GpuError::Other("no ray tracing".into()))?;
    let sources: [(&[u8], vk::ShaderStageFlags); 4] = [
        (spirv!("raygen.rgen"), vk::ShaderStageFlags::RAYGEN_KHR),
        (spirv!("miss.rmiss"), vk::ShaderStageFlags::MISS_KHR),
        (spirv!("shadow.rmiss"), vk::ShaderStageFlags::MISS_KHR),
        (spirv!("closest.rchit"), vk::ShaderStageFlags::CLOSEST_HIT_KHR),
    ];
    let mut modules = Vec::new();
    for (code, _) in &sources {
        match gpu.shader(code) {
            Ok(m) => modules.push(m),
            Err(e) => {
                for m in modules {
                    unsafe { gpu.device.destroy_shader_module(m, None) };
                }
                return Err(e);
            }
        }
    }
    let stages: Vec<_> = sources
        .iter()
        .zip(&modules)
        .map(|((_, stage), &module)| {
            vk::PipelineShaderStageCreateInfo::default().stage(*stage).module(module).name(c"main")
        })
        .collect();
    let general = |i: u32| {
        vk::RayTracingShaderGroupCreateInfoKHR::default()
            .ty(vk::RayTracingShaderGroupTypeKHR::GENERAL)
            .general_shader(i)
            .closest_hit_shader(vk::SHADER_UNUSED_KHR)
            .any_hit_shader(vk::SHADER_UNUSED_KHR)
            .intersection_shader(vk::SHADER_UNUSED_KHR)
    };
    let groups = [
        general(0),
        general(1),
        general(2),
        vk::RayTracingShaderGroupCreateInfoKHR::default()
            .ty(vk::RayTracingShaderGroupTypeKHR::TRIANGLES_HIT_GROUP)
            .general_shader(vk::SHADER_UNUSED_KHR)
            .closest_hit_shader(3)
            .any_hit_shader(vk::SHADER_UNUSED_KHR)
            .intersection_shader(vk::SHADER_UNUSED_KHR),
    ];
    let info = vk::RayTracingPipelineCreateInfoKHR::default()
        .stages(&stages)
        .groups(&groups)
        .max_pipeline_ray_recursion_depth(1)
        .layout(layout);
    let result = unsafe {
        rt.create_ray_tracing_pipelines(
            vk::DeferredOperationKHR::null(),
            vk::PipelineCache::null(),
            &[info],
            None,
        )
    };
    for m in modules {
        unsafe { gpu.device.destroy_shader_module(m, None) };
    }
    let pipeline = result.map(|p| p[0]).map_err(|(_, e)| GpuError::Vulkan {
        what: "the driver could not build the ray-tracing pipeline",
        result: e,
    })?;
    match shader_binding_table(gpu, rt, pipeline, groups.len() as u32) {
        Ok(sbt) => Ok((pipeline, sbt)),
        Err(e) => {
            unsafe { gpu.device.destroy_pipeline(pipeline, None) };
            Err(e)
        }
    }
}

/// Lays out the group handles: raygen, the two misses, the hit group, each
/// region at the base alignment, records at the handle alignment.
fn shader_binding_table(
    gpu: &Gpu,
    rt: &ash::khr::ray_tracing_pipeline::Device,
    pipeline: vk::Pipeline,
    groups: u32,
) -> Result<Sbt, GpuError> {
    let limits = gpu.rt_limits;
    let handle = limits.handle_size as usize;
    let base = u64::from(limits.base_alignment);
    let stride = align(handle as u64, u64::from(limits.handle_alignment));
    let handles = unsafe {
        rt.get_ray_tracing_shader_group_handles(pipeline, 0, groups, groups as usize * handle)
    }
    .map_err(GpuError::vk("cannot read the shader group handles"))?;
    let raygen_size = align(stride, base);
    let miss_size = align(2 * stride, base);
    let hit_size = align(stride, base);
    let mut table = vec![0u8; (raygen_size + miss_size + hit_size) as usize];
    let mut put = |group: usize, offset: u64| {
        table[offset as usize..offset as usize + handle]
            .copy_from_slice(&handles[group * handle..(group + 1) * handle]);
    };
    put(0, 0);
    put(1, raygen_size);
    put(2, raygen_size + stride);
    put(3, raygen_size + miss_size);
    // Over-allocate so the table can start at the base alignment.
    let buffer = gpu.buffer(
        table.len() as u64 + base,
        vk::BufferUsageFlags::SHADER_BINDING_TABLE_KHR
            | vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS
            | vk::BufferUsageFlags::TRANSFER_DST,
        false,
    )?;
    let start = align(buffer.address, base);
    gpu.fill(&buffer, start - buffer.address, &table)?;
    let region = |offset: u64, stride: u64, size: u64| {
        vk::StridedDeviceAddressRegionKHR::default()
            .device_address(start + offset)
            .stride(stride)
            .size(size)
    };
    Ok(Sbt {
        raygen: region(0, raygen_size, raygen_size),
        miss: region(raygen_size, stride, miss_size),
        hit: region(raygen_size + miss_size, stride, hit_size),
        _buffer: buffer,
    })
}
