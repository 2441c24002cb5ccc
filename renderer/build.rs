//! Compiles the GLSL shaders in shaders/ to SPIR-V with glslc (Debian's
//! `glslc` package, from shaderc), into OUT_DIR, where src/vulkan includes
//! them. Neither the SPIR-V nor generated code is checked in.

use std::path::{Path, PathBuf};
use std::process::Command;

const SHADERS: &[&str] =
    &["pathtrace.comp", "raygen.rgen", "closest.rchit", "miss.rmiss", "shadow.rmiss"];

fn main() {
    let dir = Path::new("shaders");
    println!("cargo:rerun-if-changed=shaders");
    println!("cargo:rerun-if-env-changed=GLSLC");
    let glslc = std::env::var_os("GLSLC").map_or_else(|| PathBuf::from("glslc"), PathBuf::from);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in SHADERS {
        let source = dir.join(name);
        let target = out.join(format!("{name}.spv"));
        let result = Command::new(&glslc)
            .args(["--target-env=vulkan1.2", "-O", "-Werror", "-o"])
            .arg(&target)
            .arg(&source)
            .output();
        match result {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "glslc failed on {}:\n{}{}",
                source.display(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => panic!(
                "cannot run {} ({e}): the Vulkan backends' shaders are compiled at build time; \
                 install glslc (Debian: apt install glslc, or run scripts/install-deps.sh) or \
                 point GLSLC at it",
                glslc.display()
            ),
        }
    }
}
