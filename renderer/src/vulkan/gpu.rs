//! One Vulkan device and the few things the backends do with it: buffers
//! (device-local, filled through a staging copy), one-shot command
//! buffers, and submissions that give up after a timeout instead of
//! hanging the worker.

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ash::{khr, vk};

/// What went wrong talking to the driver, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("{what}: {result}")]
    Vulkan { what: &'static str, result: vk::Result },
    #[error("{0}")]
    Other(String),
}

impl GpuError {
    pub fn vk(what: &'static str) -> impl FnOnce(vk::Result) -> GpuError {
        move |result| GpuError::Vulkan { what, result }
    }
}

/// Which device features a backend needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Compute,
    RayTracing,
}

/// Ray-tracing limits the shader binding table and builds are laid out by.
#[derive(Clone, Copy, Debug, Default)]
pub struct RtLimits {
    pub handle_size: u32,
    pub handle_alignment: u32,
    pub base_alignment: u32,
    pub scratch_alignment: u32,
}

pub struct Gpu {
    _entry: ash::Entry,
    instance: ash::Instance,
    pub device: ash::Device,
    queue: vk::Queue,
    pool: vk::CommandPool,
    memory: vk::PhysicalDeviceMemoryProperties,
    /// "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Driver name and version, e.g. "llvmpipe Mesa 25.0.7".
    pub driver: String,
    /// A CPU posing as a GPU (lavapipe).
    pub emulated: bool,
    pub accel: Option<khr::acceleration_structure::Device>,
    pub rt: Option<khr::ray_tracing_pipeline::Device>,
    pub rt_limits: RtLimits,
    /// The largest storage buffer a shader may bind.
    pub max_storage_buffer: u64,
    /// Set when the device was lost or work did not finish in time: from
    /// then on nothing is freed (the GPU may still be using it) and the
    /// backend refuses work.
    pub failed: Arc<AtomicBool>,
}

// The handles are used from one thread at a time (the backend holds the
// Gpu behind a mutex); Vulkan handles may move between threads.
unsafe impl Send for Gpu {}
unsafe impl Sync for Gpu {}

const RT_EXTENSIONS: [&CStr; 3] = [
    khr::acceleration_structure::NAME,
    khr::ray_tracing_pipeline::NAME,
    khr::deferred_host_operations::NAME,
];

/// A candidate device and why it does or does not fit.
struct Candidate {
    physical: vk::PhysicalDevice,
    name: String,
    kind: vk::PhysicalDeviceType,
    problem: Option<String>,
}

fn c_string(chars: &[std::ffi::c_char]) -> String {
    // Vulkan's fixed-size name arrays are NUL-terminated.
    let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Gpu {
    /// Opens the best device for `needs` (discrete GPU first, lavapipe
    /// last), or says why there is none.
    pub fn open(needs: Needs) -> Result<Gpu, String> {
        let entry = unsafe { ash::Entry::load() }
            .map_err(|e| format!("no Vulkan loader (libvulkan.so.1): {e}; on Debian: apt install libvulkan1 mesa-vulkan-drivers"))?;
        let version = unsafe { entry.try_enumerate_instance_version() }
            .ok()
            .flatten()
            .unwrap_or(vk::API_VERSION_1_0);
        if version < vk::API_VERSION_1_2 {
            return Err(format!(
                "the Vulkan loader supports only {}.{}, 1.2 is needed",
                vk::api_version_major(version),
                vk::api_version_minor(version)
            ));
        }
        let app = vk::ApplicationInfo::default()
            .application_name(c"mosaic")
            .engine_name(c"mosaic-renderer")
            .api_version(vk::API_VERSION_1_2);
        let instance = unsafe {
            entry.create_instance(&vk::InstanceCreateInfo::default().application_info(&app), None)
        }
        .map_err(|e| match e {
            vk::Result::ERROR_INCOMPATIBLE_DRIVER => "no Vulkan driver found (Debian: apt install \
                 mesa-vulkan-drivers for lavapipe, or install the GPU vendor's driver)"
                .to_owned(),
            e => format!("cannot create a Vulkan instance: {e}"),
        })?;
        match Self::open_device(entry.clone(), &instance, needs) {
            Ok(gpu) => Ok(gpu),
            Err(e) => {
                unsafe { instance.destroy_instance(None) };
                Err(e)
            }
        }
    }

    fn open_device(
        entry: ash::Entry,
        instance: &ash::Instance,
        needs: Needs,
    ) -> Result<Gpu, String> {
        let physicals = unsafe { instance.enumerate_physical_devices() }
            .map_err(|e| format!("cannot list Vulkan devices: {e}"))?;
        if physicals.is_empty() {
            return Err("no Vulkan device: no driver is installed (on Debian: apt install mesa-vulkan-drivers for lavapipe)".into());
        }
        let mut candidates: Vec<Candidate> =
            physicals.iter().map(|&p| Self::judge(instance, p, needs)).collect();
        let rank = |k: vk::PhysicalDeviceType| match k {
            vk::PhysicalDeviceType::DISCRETE_GPU => 0,
            vk::PhysicalDeviceType::INTEGRATED_GPU => 1,
            vk::PhysicalDeviceType::VIRTUAL_GPU => 2,
            _ => 3,
        };
        candidates.sort_by_key(|c| (c.problem.is_some(), rank(c.kind)));
        let best = &candidates[0];
        if best.problem.is_some() {
            let why: Vec<String> = candidates
                .iter()
                .map(|c| format!("{}: {}", c.name, c.problem.as_deref().unwrap_or("")))
                .collect();
            return Err(why.join("; "));
        }
        let physical = best.physical;
        let name = best.name.clone();
        let emulated = best.kind == vk::PhysicalDeviceType::CPU;

        let families = unsafe { instance.get_physical_device_queue_family_properties(physical) };
        let family = families
            .iter()
            .position(|f| f.queue_flags.contains(vk::QueueFlags::COMPUTE))
            .ok_or_else(|| format!("{name}: no compute queue"))? as u32;
        let priorities = [1.0f32];
        let queue_info = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(family)
            .queue_priorities(&priorities)];

        let extensions: Vec<*const std::ffi::c_char> = match needs {
            Needs::Compute => Vec::new(),
            Needs::RayTracing => RT_EXTENSIONS.iter().map(|e| e.as_ptr()).collect(),
        };
        let features = vk::PhysicalDeviceFeatures::default().shader_int64(true);
        let mut features12 = vk::PhysicalDeviceVulkan12Features::default()
            .buffer_device_address(needs == Needs::RayTracing);
        let mut accel_features = vk::PhysicalDeviceAccelerationStructureFeaturesKHR::default()
            .acceleration_structure(true);
        let mut rt_features =
            vk::PhysicalDeviceRayTracingPipelineFeaturesKHR::default().ray_tracing_pipeline(true);
        let mut info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queue_info)
            .enabled_extension_names(&extensions)
            .enabled_features(&features)
            .push_next(&mut features12);
        if needs == Needs::RayTracing {
            info = info.push_next(&mut accel_features).push_next(&mut rt_features);
        }
        let device = unsafe { instance.create_device(physical, &info, None) }
            .map_err(|e| format!("{name}: cannot create the device: {e}"))?;

        let mut driver_props = vk::PhysicalDeviceDriverProperties::default();
        let mut rt_props = vk::PhysicalDeviceRayTracingPipelinePropertiesKHR::default();
        let mut accel_props = vk::PhysicalDeviceAccelerationStructurePropertiesKHR::default();
        let mut props2 = vk::PhysicalDeviceProperties2::default().push_next(&mut driver_props);
        if needs == Needs::RayTracing {
            props2 = props2.push_next(&mut rt_props).push_next(&mut accel_props);
        }
        unsafe { instance.get_physical_device_properties2(physical, &mut props2) };
        let driver = format!(
            "{} {}",
            c_string(&driver_props.driver_name),
            c_string(&driver_props.driver_info)
        )
        .trim()
        .to_owned();
        let rt_limits = RtLimits {
            handle_size: rt_props.shader_group_handle_size,
            handle_alignment: rt_props.shader_group_handle_alignment.max(1),
            base_alignment: rt_props.shader_group_base_alignment.max(1),
            scratch_alignment: accel_props
                .min_acceleration_structure_scratch_offset_alignment
                .max(1),
        };
        let memory = unsafe { instance.get_physical_device_memory_properties(physical) };
        let max_storage_buffer = u64::from(
            unsafe { instance.get_physical_device_properties(physical) }
                .limits
                .max_storage_buffer_range,
        );
        let queue = unsafe { device.get_device_queue(family, 0) };
        let pool = unsafe {
            device.create_command_pool(
                &vk::CommandPoolCreateInfo::default()
                    .queue_family_index(family)
                    .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER),
                None,
            )
        }
        .map_err(|e| format!("{name}: cannot create a command pool: {e}"))?;
        let (accel, rt) = if needs == Needs::RayTracing {
            (
                Some(khr::acceleration_structure::Device::new(instance, &device)),
                Some(khr::ray_tracing_pipeline::Device::new(instance, &device)),
            )
        } else {
            (None, None)
        };
        Ok(Gpu {
            _entry: entry,
            instance: instance.clone(),
            device,
            queue,
            pool,
            memory,
            name,
            driver,
            emulated,
            accel,
            rt,
            rt_limits,
            max_storage_buffer,
            failed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Whether `physical` can run a backend that `needs` this, and if not why.
    fn judge(instance: &ash::Instance, physical: vk::PhysicalDevice, needs: Needs) -> Candidate {
        let props = unsafe { instance.get_physical_device_properties(physical) };
        let name = c_string(&props.device_name);
        let mut problem = None;
        let features = unsafe { instance.get_physical_device_features(physical) };
        if props.api_version < vk::API_VERSION_1_2 {
            problem = Some("Vulkan 1.2 is needed".to_owned());
        } else if features.shader_int64 == vk::FALSE {
            problem = Some("no 64-bit integers in shaders (shaderInt64)".to_owned());
        } else if needs == Needs::RayTracing {
            let available: Vec<String> =
                unsafe { instance.enumerate_device_extension_properties(physical) }
                    .unwrap_or_default()
                    .iter()
                    .map(|e| c_string(&e.extension_name))
                    .collect();
            let missing: Vec<String> = RT_EXTENSIONS
                .iter()
                .map(|e| e.to_string_lossy().into_owned())
                .filter(|e| !available.contains(e))
                .collect();
            if !missing.is_empty() {
                let mut why = format!("no ray tracing ({} missing)", missing.join(", "));
                if name.starts_with("llvmpipe") {
                    let mut driver = vk::PhysicalDeviceDriverProperties::default();
                    let mut props2 =
                        vk::PhysicalDeviceProperties2::default().push_next(&mut driver);
                    unsafe { instance.get_physical_device_properties2(physical, &mut props2) };
                    why.push_str(&format!(
                        "; this lavapipe is {}, lavapipe has ray tracing from Mesa 25 (Debian 12: \
                         mesa-vulkan-drivers from bookworm-backports, which \
                         scripts/install-deps.sh installs)",
                        c_string(&driver.driver_info)
                    ));
                }
                problem = Some(why);
            }
        }
        Candidate { physical, name, kind: props.device_type, problem }
    }

    fn memory_type(&self, bits: u32, flags: vk::MemoryPropertyFlags) -> Option<u32> {
        (0..self.memory.memory_type_count).find(|&i| {
            bits & (1 << i) != 0
                && self.memory.memory_types[i as usize].property_flags.contains(flags)
        })
    }

    /// A buffer of `size` bytes. `host` buffers are mapped (staging and
    /// read-back); the others are device-local.
    pub fn buffer(
        &self,
        size: u64,
        usage: vk::BufferUsageFlags,
        host: bool,
    ) -> Result<Buffer, GpuError> {
        let size = size.max(4);
        let device = &self.device;
        let buffer = unsafe {
            device.create_buffer(&vk::BufferCreateInfo::default().size(size).usage(usage), None)
        }
        .map_err(GpuError::vk("cannot create a buffer"))?;
        let req = unsafe { device.get_buffer_memory_requirements(buffer) };
        let flags = if host {
            vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT
        } else {
            vk::MemoryPropertyFlags::DEVICE_LOCAL
        };
        let Some(type_index) = self
            .memory_type(req.memory_type_bits, flags)
            .or_else(|| self.memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::empty()))
        else {
            unsafe { device.destroy_buffer(buffer, None) };
            return Err(GpuError::Other("no memory type fits a buffer".into()));
        };
        let addressable = usage.contains(vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS);
        let mut flags_info =
            vk::MemoryAllocateFlagsInfo::default().flags(vk::MemoryAllocateFlags::DEVICE_ADDRESS);
        let mut alloc = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index);
        if addressable {
            alloc = alloc.push_next(&mut flags_info);
        }
        let memory = match unsafe { device.allocate_memory(&alloc, None) } {
            Ok(m) => m,
            Err(e) => {
                unsafe { device.destroy_buffer(buffer, None) };
                return Err(GpuError::Vulkan { what: "out of GPU memory for a buffer", result: e });
            }
        };
        let mut out = Buffer {
            device: device.clone(),
            buffer,
            memory,
            size,
            address: 0,
            mapped: None,
            failed: self.failed.clone(),
        };
        unsafe { device.bind_buffer_memory(buffer, memory, 0) }
            .map_err(GpuError::vk("cannot bind buffer memory"))?;
        if addressable {
            out.address = unsafe {
                device.get_buffer_device_address(
                    &vk::BufferDeviceAddressInfo::default().buffer(buffer),
                )
            };
        }
        if host {
            let ptr = unsafe { device.map_memory(memory, 0, size, vk::MemoryMapFlags::empty()) }
                .map_err(GpuError::vk("cannot map a buffer"))?;
            out.mapped = Some(ptr.cast());
        }
        Ok(out)
    }

    /// A device-local buffer holding `bytes`, copied in through staging.
    pub fn upload(&self, bytes: &[u8], usage: vk::BufferUsageFlags) -> Result<Buffer, GpuError> {
        let target =
            self.buffer(bytes.len() as u64, usage | vk::BufferUsageFlags::TRANSFER_DST, false)?;
        self.fill(&target, 0, bytes)?;
        Ok(target)
    }

    /// Copies `bytes` into a device-local buffer at `offset`, through staging.
    pub fn fill(&self, target: &Buffer, offset: u64, bytes: &[u8]) -> Result<(), GpuError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let staging = self.buffer(bytes.len() as u64, vk::BufferUsageFlags::TRANSFER_SRC, true)?;
        staging.write(bytes);
        self.run(Duration::from_secs(60), |cmd| unsafe {
            let region = vk::BufferCopy::default().dst_offset(offset).size(bytes.len() as u64);
            self.device.cmd_copy_buffer(cmd, staging.buffer, target.buffer, &[region]);
        })
    }

    /// Records commands with `record` and waits at most `timeout` for them.
    /// A timeout or a lost device is an error (the backend is then
    /// considered unhealthy; the driver keeps the work's resources).
    pub fn run(
        &self,
        timeout: Duration,
        record: impl FnOnce(vk::CommandBuffer),
    ) -> Result<(), GpuError> {
        let device = &self.device;
        let cmd = unsafe {
            device.allocate_command_buffers(
                &vk::CommandBufferAllocateInfo::default()
                    .command_pool(self.pool)
                    .level(vk::CommandBufferLevel::PRIMARY)
                    .command_buffer_count(1),
            )
        }
        .map_err(GpuError::vk("cannot allocate a command buffer"))?[0];
        let fence = unsafe { device.create_fence(&vk::FenceCreateInfo::default(), None) }
            .map_err(GpuError::vk("cannot create a fence"))?;
        let result = (|| unsafe {
            device
                .begin_command_buffer(
                    cmd,
                    &vk::CommandBufferBeginInfo::default()
                        .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT),
                )
                .map_err(GpuError::vk("cannot begin a command buffer"))?;
            record(cmd);
            device.end_command_buffer(cmd).map_err(GpuError::vk("cannot record commands"))?;
            let cmds = [cmd];
            let submit = vk::SubmitInfo::default().command_buffers(&cmds);
            device
                .queue_submit(self.queue, &[submit], fence)
                .map_err(GpuError::vk("cannot submit work to the GPU"))?;
            let waited = device.wait_for_fences(&[fence], true, timeout.as_nanos() as u64);
            if waited.is_err() {
                self.failed.store(true, Ordering::SeqCst);
            }
            match waited {
                Ok(()) => Ok(()),
                Err(vk::Result::TIMEOUT) => Err(GpuError::Other(format!(
                    "the GPU did not finish its work within {:.1} s",
                    timeout.as_secs_f64()
                ))),
                Err(e) => Err(GpuError::Vulkan { what: "the GPU failed its work", result: e }),
            }
        })();
        if result.is_ok() {
            unsafe {
                device.destroy_fence(fence, None);
                device.free_command_buffers(self.pool, &[cmd]);
            }
        }
        result
    }

    /// A shader module from SPIR-V bytes.
    pub fn shader(&self, spirv: &[u8]) -> Result<vk::ShaderModule, GpuError> {
        let code = ash::util::read_spv(&mut std::io::Cursor::new(spirv))
            .map_err(|e| GpuError::Other(format!("bad SPIR-V: {e}")))?;
        unsafe {
            self.device
                .create_shader_module(&vk::ShaderModuleCreateInfo::default().code(&code), None)
        }
        .map_err(GpuError::vk("the driver refused a shader"))
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        if self.failed.load(Ordering::SeqCst) {
            // The GPU may still be running the work that timed out; waiting
            // for it could hang. Leak the device rather than free under it.
            return;
        }
        unsafe {
            let _ = self.device.device_wait_idle();
            self.device.destroy_command_pool(self.pool, None);
            self.device.destroy_device(None);
            self.instance.destroy_instance(None);
        }
    }
}

// The mapping is only touched through &self methods that copy in or out,
// under the backend's lock.
unsafe impl Send for Buffer {}
unsafe impl Sync for Buffer {}

/// A buffer and its memory, freed on drop.
pub struct Buffer {
    device: ash::Device,
    pub buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    pub size: u64,
    /// Its device address (0 unless created SHADER_DEVICE_ADDRESS).
    pub address: u64,
    mapped: Option<*mut u8>,
    failed: Arc<AtomicBool>,
}

impl Buffer {
    /// Copies `bytes` to the start of a mapped buffer.
    pub fn write(&self, bytes: &[u8]) {
        let ptr = self.mapped.expect("write to a mapped buffer");
        let n = bytes.len().min(self.size as usize);
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, n) };
    }

    /// The contents of a mapped buffer.
    pub fn read(&self) -> Vec<u8> {
        let ptr = self.mapped.expect("read a mapped buffer");
        unsafe { std::slice::from_raw_parts(ptr, self.size as usize) }.to_vec()
    }

    pub fn descriptor(&self) -> vk::DescriptorBufferInfo {
        vk::DescriptorBufferInfo::default().buffer(self.buffer).offset(0).range(vk::WHOLE_SIZE)
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if self.failed.load(Ordering::SeqCst) {
            return;
        }
        unsafe {
            if self.mapped.is_some() {
                self.device.unmap_memory(self.memory);
            }
            self.device.destroy_buffer(self.buffer, None);
            self.device.free_memory(self.memory, None);
        }
    }
}
