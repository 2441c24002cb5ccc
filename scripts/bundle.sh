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
# Loaded with dlopen, so ldd does not list it.
cp -L "$(ldconfig -p | awk '/libvulkan.so.1 .*x86-64/ { print $NF; exit }')" "$out/lib/"
cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib/"

cat >"$out/run" <<'EOF'
#!/bin/sh
# Runs one of the bundled programs with the bundled libraries and C library.
here=$(cd "$(dirname "$0")" && pwd)
prog=$1
shift
# The driver's Vulkan ICD: where distributions and NVIDIA's containers put it.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
           /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && export VK_ICD_FILENAMES="$f" && break
  done
  # A driver installed without its manifest: write one.
  if [ -z "${VK_ICD_FILENAMES:-}" ] && ldconfig -p 2>/dev/null | grep -q libGLX_nvidia.so.0; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}\n' \
      >/tmp/mosaic_nvidia_icd.json
    export VK_ICD_FILENAMES=/tmp/mosaic_nvidia_icd.json
  fi
fi
exec "$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib" "$here/bin/$prog" "$@"
EOF
chmod +x "$out/run"
du -sh "$out"
