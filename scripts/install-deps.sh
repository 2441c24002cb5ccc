#!/usr/bin/env bash
# Installs the Debian packages Mosaic builds and tests with. Idempotent: when
# everything is present it does nothing (and needs no network).
#
#   build: FFmpeg's libraries (ffmpeg-next binds them with bindgen, hence
#          clang), SQLite, pkg-config
#   test:  the ffmpeg / ffprobe CLIs (real clients and checkers),
#          GStreamer's rtmp2sink with x264enc and voaacenc (a second,
#          independent RTMP publisher), and Chromium with hls.js (from npm,
#          into target/hlsjs) to play the HLS output as a browser does
#   vulkan: glslc (the shaders are compiled at build time), the Vulkan
#          loader, and Mesa's lavapipe from bookworm-backports: Debian 12's
#          own Mesa 22.3 has no ray tracing on lavapipe, 25.0 has
#          VK_KHR_acceleration_structure and VK_KHR_ray_tracing_pipeline, so
#          both Vulkan backends run for real on a machine without a GPU
#   --bench: also Blender (Cycles, the reference renderer) and the numpy its
#          glTF importer needs
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev
  libsqlite3-dev sqlite3
  ffmpeg
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  chromium
  glslc libvulkan1
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(blender python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Mesa 25's lavapipe, from bookworm-backports (Debian 12) when the
# distribution's own is older.
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
mesa_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }
mesa_major() { mesa_version | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'; }
if [ "$(mesa_major)" = "" ] || [ "$(mesa_major)" -lt 25 ]; then
  . /etc/os-release
  args=()
  if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    list=/etc/apt/sources.list.d/bookworm-backports.list
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "adding bookworm-backports for Mesa 25 (lavapipe with ray tracing)"
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo tee "$list" >/dev/null
    fi
    args=(-t bookworm-backports)
  fi
  echo "installing mesa-vulkan-drivers ${args[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${args[@]}" mesa-vulkan-drivers
  if [ "$(mesa_major)" -lt 25 ]; then
    echo "warning: mesa-vulkan-drivers $(mesa_version) is older than 25: lavapipe has no ray" >&2
    echo "tracing, so the vulkan-rt backend and its tests cannot run here" >&2
  fi
fi

# hls.js, pinned, for the browser playback test.
hlsjs=target/hlsjs/node_modules/hls.js/dist/hls.min.js
if [ ! -f "$hlsjs" ]; then
  if ! command -v npm >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm
  fi
  echo "installing hls.js into target/hlsjs"
  npm install --silent --no-audit --no-fund --prefix target/hlsjs hls.js@1.7.4
fi

cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
