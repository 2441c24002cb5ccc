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
