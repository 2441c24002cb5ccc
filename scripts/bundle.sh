#!/usr/bin/env bash
# Packs the built `mosaic` and `mosaic-worker` (and any extra executables
# named) with every shared library they load, the C library and the Vulkan
# loader included, into one folder that runs on another x86-64 Linux machine
# without our build dependencies or a package registry: a GPU node, say.
#
#   scripts/bundle.sh OUT_DIR [EXTRA_EXECUTABLE...]
#   OUT_DIR/run mosaic-worker --list-backends
#
# The GPU's own driver (its Vulkan ICD, NVENC's libnvidia-encode) is the one
# thing taken from the target machine.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/bundle.sh OUT_DIR [EXTRA_EXECUTABLE...]}
shift
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
executables=(target/debug/mosaic target/debug/mosaic-worker "$@")
for exe in "${executables[@]}"; do
  [ -x "$exe" ] || { echo "no $exe: build first (cargo build --workspace --bins)" >&2; exit 1; }
  cp "$exe" "$out/bin/"
  strip --strip-debug "$out/bin/$(basename "$exe")"
  ldd "$exe" | awk '/=> \// { print $3 } /^\s*\/lib64\/ld-linux/ { print $1 }' |
    while read -r lib; do cp -Ln "$lib" "$out/lib/" 2>/dev/null || true; done
done
# Loaded with dlopen, so ldd does not list them: the Vulkan loader, and
# libglvnd, which NVIDIA's Vulkan driver (libGLX_nvidia) needs and GPU
# nodes without a desktop often lack.
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libGL.so.1 libOpenGL.so.0; do
  path=$(ldconfig -p | awk -v lib="$lib" '$1 == lib && /x86-64/ { print $NF; exit }')
  [ -n "$path" ] || { echo "no $lib here (apt install libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0)" >&2; exit 1; }
  cp -L "$path" "$out/lib/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib/"
# The C and C++ runtimes apart, so a target with a newer C library uses its
# own (a GPU driver is built against the target's).
mkdir -p "$out/runtime"
for lib in "$out"/lib/*; do
  case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|ld-linux*|libgcc_s.so*|libstdc++.so*)
      mv "$lib" "$out/runtime/" ;;
  esac
done
ldd --version | awk 'NR == 1 { print $NF }' >"$out/runtime/glibc-version"

cat >"$out/run" <<'EOF'
#!/bin/sh
# Runs one of the bundled programs with the bundled libraries: on the
# target's C library when it is at least as new as the one it was built
# with, else on the bundled one.
here=$(cd "$(dirname "$0")" && pwd)
prog=$1
shift
# The driver's Vulkan ICD: where NVIDIA's containers and distributions put it.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
           /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && export VK_ICD_FILENAMES="$f" && break
  done
fi
built=$(cat "$here/runtime/glibc-version")
target=$(ldd --version 2>/dev/null | awk 'NR == 1 { print $NF }')
newest=$(printf '%s\n%s\n' "$built" "$target" | sort -V | tail -1)
if [ -n "$target" ] && [ "$newest" = "$target" ]; then
  LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/bin/$prog" "$@"
fi
exec "$here/runtime/ld-linux-x86-64.so.2" --library-path "$here/lib:$here/runtime" \
  "$here/bin/$prog" "$@"
EOF
chmod +x "$out/run"
du -sh "$out"
