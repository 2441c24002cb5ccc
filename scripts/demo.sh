#!/usr/bin/env bash
# `make demo`: an orchestrator and two workers on this machine, the sample
# Cornell box animation rendered through them, frames and an MP4 fetched.
# Everything it makes lands in demo-out/; the processes stop when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug
out=demo-out
frames=${DEMO_FRAMES:-1-24}
size=${DEMO_SIZE:-320x180}
spp=${DEMO_SPP:-32}

rm -rf "$out"
mkdir -p "$out"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for_file() {
  for _ in $(seq 1 100); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  echo "demo: $1 did not appear; see $out/*.log" >&2
  exit 1
}

echo "==> starting the orchestrator (data in $out/orchestrator, log in $out/orchestrator.log)"
"$bin/mosaic-orchestrator" --data-dir "$out/orchestrator" --http 127.0.0.1:0 \
  --p2p /ip4/127.0.0.1/tcp/0 >"$out/orchestrator.log" 2>&1 &
pids+=($!)
wait_for_file "$out/orchestrator/p2p.addr"
wait_for_file "$out/orchestrator/http.addr"
p2p=$(cat "$out/orchestrator/p2p.addr")
export MOSAIC_URL="http://$(cat "$out/orchestrator/http.addr")"
export MOSAIC_TOKEN_FILE="$out/orchestrator/admin.token"

for n in 1 2; do
  echo "==> starting worker $n (log in $out/worker$n.log)"
  "$bin/mosaic-worker" --orchestrator "$p2p" --data-dir "$out/worker$n" --threads 1 \
    >"$out/worker$n.log" 2>&1 &
  pids+=($!)
done

"$bin/mosaic-samples" cornell "$out/cornell.glb"
echo "==> rendering $out/cornell.glb, frames $frames at $size, $spp spp"
"$bin/mosaic" render submit "$out/cornell.glb" --frames "$frames" --size "$size" --spp "$spp"
job=$("$bin/mosaic" jobs --json | python3 -c 'import json,sys; print(max(j["id"] for j in json.load(sys.stdin)))')
"$bin/mosaic" jobs "$job"
"$bin/mosaic" fetch "$job" --out "$out/frames"

echo
echo "Done. Look at:"
echo "  frames:  $out/frames/*.png"
echo "  video:   $out/frames/video.mp4"
echo "  logs:    $out/orchestrator.log $out/worker1.log $out/worker2.log"
if command -v ffprobe >/dev/null; then
  ffprobe -v error -select_streams v:0 -count_frames \
    -show_entries stream=codec_name,width,height,nb_read_frames -of default=nw=1 "$out/frames/video.mp4"
fi
