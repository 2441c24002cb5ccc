#!/usr/bin/env bash
# `make bench-live`: the live path's added latency. An orchestrator (default
# live settings) and two workers on this machine; the ffmpeg CLI pushes
# BENCH_LIVE_SECONDS (60) of 720p30 over RTMP in real time; then the p50 and
# p95 of each segment's time from its last byte received to its renditions
# listed in every rung's playlist, as the orchestrator measured them, and
# the segment duration they are held against. A benchmark: it never fails
# for being slow.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug
out=mosaic-bench/live
seconds=${BENCH_LIVE_SECONDS:-60}
rm -rf "$out"
mkdir -p "$out"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$bin/mosaic-orchestrator" --data-dir "$out/orchestrator" --http 127.0.0.1:0 \
  --p2p /ip4/127.0.0.1/tcp/0 --rtmp 127.0.0.1:0 >"$out/orchestrator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$out/orchestrator/rtmp.addr" ] && break; sleep 0.1; done
export MOSAIC_URL="http://$(cat "$out/orchestrator/http.addr")"
export MOSAIC_TOKEN_FILE="$out/orchestrator/admin.token"
for n in 1 2; do
  "$bin/mosaic-worker" --orchestrator "$(cat "$out/orchestrator/p2p.addr")" \
    --data-dir "$out/worker$n" >"$out/worker$n.log" 2>&1 &
  pids+=($!)
done
"$bin/mosaic" streams add bench >/dev/null
json() { "$bin/mosaic" streams show bench --json | python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }
ingest=$(json 'v["ingest_url"]')

echo "pushing ${seconds} s of 1280x720 30 fps (libx264 veryfast, keyframe every 2 s, AAC) in real time..."
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=s=1280x720:r=30 -f lavfi -i sine=f=440:r=48000 \
  -t "$seconds" -c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -c:a aac -f flv "$ingest"
for _ in $(seq 1 300); do
  [ "$(json 'v["broadcast"]["segments"] == v["broadcast"]["published"] + 0 and v["broadcast"]["ended_at"] is not None')" = True ] && break
  sleep 0.2
done
"$bin/mosaic" streams show bench
json '"segments: %d, gaps: %d; added latency p50 %.2f s, p95 %.2f s, against a segment duration of 2.00 s (p95 / segment: %.2f)" % (v["broadcast"]["segments"], v["broadcast"]["gaps"], v["broadcast"]["latency_p50_ms"] / 1000, v["broadcast"]["latency_p95_ms"] / 1000, v["broadcast"]["latency_p95_ms"] / 2000)'
