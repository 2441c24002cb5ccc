//! Acceleration structures for the ray-tracing backend: one bottom-level
//! structure per mesh (its world-space triangles; the scene is flattened per
//! frame, so instances carry identity transforms) and a top-level one over
//! them, rebuilt every frame as animation moves things.

use std::ops::Range;
use std::time::Duration;

use ash::vk;

use super::gpu::{Buffer, Gpu, GpuError};

/// Built structures and the memory they live in; destroyed on drop.
pub struct SceneAccel {
    accel: ash::khr::acceleration_structure::Device,
    structures: Vec<vk::AccelerationStructureKHR>,
    pub tlas: vk::AccelerationStructureKHR,
    _buffers: Vec<Buffer>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for SceneAccel {
    fn drop(&mut self) {
        if self.failed.load(std::sync::atomic::Ordering::SeqCst) {
            return; // the GPU may still use them
        }
        unsafe {
            for &s in &self.structures {
                self.accel.destroy_acceleration_structure(s, None);
            }
        }
    }
}

fn align(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// The largest instance custom index (24 bits): the first triangle of a
/// mesh must fit in it.
const MAX_CUSTOM_INDEX: u32 = (1 << 24) - 1;

/// Builds a BLAS per mesh over `positions` (3 x vec3 per triangle) and the
/// TLAS over them.
pub fn build(
    gpu: &Gpu,
    positions: &[u8],
    meshes: &[Range<u32>],
    timeout: Duration,
) -> Result<SceneAccel, GpuError> {
    let accel = gpu.accel.clone().ok_or_else(|| GpuError::Other("no ray tracing".into()))?;
    if let Some(m) = meshes.iter().find(|m| m.start > MAX_CUSTOM_INDEX) {
        return Err(GpuError::Other(format!(
            "a mesh starts at triangle {}: the ray-tracing backend indexes at most {MAX_CUSTOM_INDEX}",
            m.start
        )));
    }
    let input = vk::BufferUsageFlags::ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_KHR
        | vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS;
    let storage_usage = vk::BufferUsageFlags::ACCELERATION_STRUCTURE_STORAGE_KHR
        | vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS;
    let scratch_usage =
        vk::BufferUsageFlags::STORAGE_BUFFER | vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS;
    let scratch_align = u64::from(gpu.rt_limits.scratch_alignment);
    let vertices = gpu.upload(positions, input)?;

    // Bottom level: sizes first, then one storage and one scratch buffer
    // for all of them.
    let geometries: Vec<[vk::AccelerationStructureGeometryKHR; 1]> = meshes
        .iter()
        .map(|m| {
            let triangles = vk::AccelerationStructureGeometryTrianglesDataKHR::default()
                .vertex_format(vk::Format::R32G32B32_SFLOAT)
                .vertex_data(vk::DeviceOrHostAddressConstKHR {
                    device_address: vertices.address + u64::from(m.start) * 36,
                })
                .vertex_stride(12)
                .max_vertex((m.end - m.start) * 3 - 1)
                .index_type(vk::IndexType::NONE_KHR);
            [vk::AccelerationStructureGeometryKHR::default()
                .geometry_type(vk::GeometryTypeKHR::TRIANGLES)
                .geometry(vk::AccelerationStructureGeometryDataKHR { triangles })
                .flags(vk::GeometryFlagsKHR::OPAQUE)]
        })
        .collect();
    fn blas_info<'a>(
        g: &'a [vk::AccelerationStructureGeometryKHR<'a>; 1],
    ) -> vk::AccelerationStructureBuildGeometryInfoKHR<'a> {
        vk::AccelerationStructureBuildGeometryInfoKHR::default()
            .ty(vk::AccelerationStructureTypeKHR::BOTTOM_LEVEL)
            .flags(vk::BuildAccelerationStructureFlagsKHR::PREFER_FAST_TRACE)
            .mode(vk::BuildAccelerationStructureModeKHR::BUILD)
            .geometries(g)
    }
    let mut sizes = Vec::with_capacity(meshes.len());
    for (m, g) in meshes.iter().zip(&geometries) {
        let mut size = vk::AccelerationStructureBuildSizesInfoKHR::default();
        unsafe {
            accel.get_acceleration_structure_build_sizes(
                vk::AccelerationStructureBuildTypeKHR::DEVICE,
                &blas_info(g),
                &[m.end - m.start],
                &mut size,
            )
        };
        sizes.push(size);
    }
    let mut storage_offsets = Vec::new();
    let mut scratch_offsets = Vec::new();
    let (mut storage_total, mut scratch_total) = (0u64, 0u64);
    for s in &sizes {
        storage_offsets.push(storage_total);
        storage_total = align(storage_total + s.acceleration_structure_size, 256);
        scratch_offsets.push(scratch_total);
        scratch_total = align(scratch_total + s.build_scratch_size, scratch_align);
    }
    let blas_storage = gpu.buffer(storage_total.max(256), storage_usage, false)?;
    let blas_scratch = gpu.buffer(scratch_total + scratch_align, scratch_usage, false)?;
    let scratch_base = align(blas_scratch.address, scratch_align);

    let mut built = SceneAccel {
        accel: accel.clone(),
        structures: Vec::new(),
        tlas: vk::AccelerationStructureKHR::null(),
        _buffers: Vec::new(),
        failed: gpu.failed.clone(),
    };
    for (s, &offset) in sizes.iter().zip(&storage_offsets) {
        let info = vk::AccelerationStructureCreateInfoKHR::default()
            .buffer(blas_storage.buffer)
            .offset(offset)
            .size(s.acceleration_structure_size)
            .ty(vk::AccelerationStructureTypeKHR::BOTTOM_LEVEL);
        let handle = unsafe { accel.create_acceleration_structure(&info, None) }
            .map_err(GpuError::vk("cannot create a bottom-level acceleration structure"))?;
        built.structures.push(handle);
    }
    let infos: Vec<_> = geometries
        .iter()
        .zip(&built.structures)
        .zip(&scratch_offsets)
        .map(|((g, &dst), &scratch)| {
            blas_info(g)
                .dst_acceleration_structure(dst)
                .scratch_data(vk::DeviceOrHostAddressKHR { device_address: scratch_base + scratch })
        })
        .collect();
    let ranges: Vec<[vk::AccelerationStructureBuildRangeInfoKHR; 1]> = meshes
        .iter()
        .map(|m| {
            [vk::AccelerationStructureBuildRangeInfoKHR::default().primitive_count(m.end - m.start)]
        })
        .collect();
    let range_refs: Vec<&[vk::AccelerationStructureBuildRangeInfoKHR]> =
        ranges.iter().map(|r| &r[..]).collect();

    // Top level: one instance per mesh, its custom index the first triangle.
    let instances: Vec<vk::AccelerationStructureInstanceKHR> = built
        .structures
        .iter()
        .zip(meshes)
        .map(|(&blas, m)| {
            let address = unsafe {
                accel.get_acceleration_structure_device_address(
                    &vk::AccelerationStructureDeviceAddressInfoKHR::default()
                        .acceleration_structure(blas),
                )
            };
            vk::AccelerationStructureInstanceKHR {
                transform: vk::TransformMatrixKHR {
                    matrix: [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                },
                instance_custom_index_and_mask: vk::Packed24_8::new(m.start, 0xff),
                instance_shader_binding_table_record_offset_and_flags: vk::Packed24_8::new(
                    0,
                    vk::GeometryInstanceFlagsKHR::TRIANGLE_FACING_CULL_DISABLE.as_raw() as u8,
                ),
                acceleration_structure_reference: vk::AccelerationStructureReferenceKHR {
                    device_handle: address,
                },
            }
        })
        .collect();
    let instance_bytes: Vec<u8> = instances
        .iter()
        .flat_map(|i| {
            // SAFETY: a plain #[repr(C)] struct of 64 bytes, read as bytes.
            unsafe {
                std::slice::from_raw_parts(
                    (i as *const vk::AccelerationStructureInstanceKHR).cast::<u8>(),
                    std::mem::size_of::<vk::AccelerationStructureInstanceKHR>(),
                )
            }
            .to_vec()
        })
        .collect();
    let instance_buffer = gpu.upload(&instance_bytes, input)?;
    let tlas_geometry = [vk::AccelerationStructureGeometryKHR::default()
        .geometry_type(vk::GeometryTypeKHR::INSTANCES)
        .geometry(vk::AccelerationStructureGeometryDataKHR {
            instances: vk::AccelerationStructureGeometryInstancesDataKHR::default()
                .data(vk::DeviceOrHostAddressConstKHR { device_address: instance_buffer.address }),
        })
        .flags(vk::GeometryFlagsKHR::OPAQUE)];
    let tlas_info = vk::AccelerationStructureBuildGeometryInfoKHR::default()
        .ty(vk::AccelerationStructureTypeKHR::TOP_LEVEL)
        .flags(vk::BuildAccelerationStructureFlagsKHR::PREFER_FAST_TRACE)
        .mode(vk::BuildAccelerationStructureModeKHR::BUILD)
        .geometries(&tlas_geometry);
    let mut tlas_size = vk::AccelerationStructureBuildSizesInfoKHR::default();
    unsafe {
        accel.get_acceleration_structure_build_sizes(
            vk::AccelerationStructureBuildTypeKHR::DEVICE,
            &tlas_info,
            &[instances.len() as u32],
            &mut tlas_size,
        )
    };
    let tlas_storage = gpu.buffer(tlas_size.acceleration_structure_size, storage_usage, false)?;
    let tlas_scratch =
        gpu.buffer(tlas_size.build_scratch_size + scratch_align, scratch_usage, false)?;
    let tlas = unsafe {
        accel.create_acceleration_structure(
            &vk::AccelerationStructureCreateInfoKHR::default()
                .buffer(tlas_storage.buffer)
                .size(tlas_size.acceleration_structure_size)
                .ty(vk::AccelerationStructureTypeKHR::TOP_LEVEL),
            None,
        )
    }
    .map_err(GpuError::vk("cannot create the top-level acceleration structure"))?;
    built.structures.push(tlas);
    built.tlas = tlas;
    let tlas_info =
        tlas_info.dst_acceleration_structure(tlas).scratch_data(vk::DeviceOrHostAddressKHR {
            device_address: align(tlas_scratch.address, scratch_align),
        });
    let tlas_range = [vk::AccelerationStructureBuildRangeInfoKHR::default()
        .primitive_count(instances.len() as u32)];

    gpu.run(timeout, |cmd| unsafe {
        if !infos.is_empty() {
            accel.cmd_build_acceleration_structures(cmd, &infos, &range_refs);
        }
        let barrier = vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::ACCELERATION_STRUCTURE_WRITE_KHR)
            .dst_access_mask(vk::AccessFlags::ACCELERATION_STRUCTURE_READ_KHR);
        gpu.device.cmd_pipeline_barrier(
            cmd,
            vk::PipelineStageFlags::ACCELERATION_STRUCTURE_BUILD_KHR,
            vk::PipelineStageFlags::ACCELERATION_STRUCTURE_BUILD_KHR,
            vk::DependencyFlags::empty(),
            &[barrier],
            &[],
            &[],
        );
        accel.cmd_build_acceleration_structures(cmd, &[tlas_info], &[&tlas_range]);
    })?;
    built._buffers =
        vec![vertices, blas_storage, blas_scratch, instance_buffer, tlas_storage, tlas_scratch];
    Ok(built)
}
