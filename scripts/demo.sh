#!/usr/bin/env bash
# `make demo`: an orchestrator and two workers on this machine, the sample
# Cornell box animation rendered through them (frames and an MP4 fetched),
# then a live stream pushed over RTMP with the ffmpeg CLI and transcoded
# into an HLS ladder by the same workers (the recording saved).
# Everything it makes lands in demo-out/; the processes stop when it ends,
# unless DEMO_KEEP=1, which keeps the farm up (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

out=demo-out
frames=${DEMO_FRAMES:-1-24}
size=${DEMO_SIZE:-320x180}
spp=${DEMO_SPP:-32}
live_seconds=${DEMO_LIVE_SECONDS:-12}

rm -rf "$out"
mkdir -p "$out"
. scripts/farm.sh
start_farm "$out" --threads 1

echo "==> the workers and their render backends (fastest first; without a GPU the Vulkan"
echo "    ones run on Mesa's lavapipe and rank after the CPU; \`mosaic-worker --list-backends\`)"
"$bin/mosaic" workers

"$bin/mosaic-samples" cornell "$out/cornell.glb"
echo "==> rendering $out/cornell.glb, frames $frames at $size, $spp spp"
"$bin/mosaic" render submit "$out/cornell.glb" --frames "$frames" --size "$size" --spp "$spp"
job=$("$bin/mosaic" jobs --json | python3 -c 'import json,sys; print(max(j["id"] for j in json.load(sys.stdin)))')
"$bin/mosaic" jobs "$job"
"$bin/mosaic" fetch "$job" --out "$out/frames"

ffprobe -v error -select_streams v:0 -count_frames \
  -show_entries stream=codec_name,width,height,nb_read_frames -of default=nw=1 "$out/frames/video.mp4"

echo
echo "==> live: adding stream 'demo' and pushing ${live_seconds} s of 720p30 over RTMP with ffmpeg"
"$bin/mosaic" streams add demo
info=$("$bin/mosaic" streams show demo --json)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$info"; }
ingest=$(field '["ingest_url"]')
playback=$(field '["playback_url"]')
recording=$(field '["recording_url"]')
echo "    while it runs, play it: ffplay $playback   (or VLC, or hls.js in a browser)"
ffmpeg -nostdin -v error -re -f lavfi -i testsrc2=s=1280x720:r=30 -f lavfi -i sine=f=440:r=44100 \
  -t "$live_seconds" -c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -c:a aac -f flv "$ingest"
base=${recording%recording.m3u8}
for _ in $(seq 1 600); do
  rung=$("$bin/mosaic" streams show demo --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["broadcast"]["rungs"][0]["name"])')
  curl -fs "$base$rung/recording.m3u8" | grep -q EXT-X-ENDLIST && break
  sleep 0.1
done
"$bin/mosaic" streams show demo

# Keep a copy of the recording: the master playlist, each rung's playlist
# and segments, playable offline (ffplay demo-out/live/recording.m3u8).
mkdir -p "$out/live"
curl -fs "${base}recording.m3u8" >"$out/live/recording.m3u8"
for variant in $(grep -v '^#' "$out/live/recording.m3u8"); do
  rung=${variant%%/*}
  mkdir -p "$out/live/$rung"
  curl -fs "$base$variant" >"$out/live/$variant"
  for segment in $(grep -v '^#' "$out/live/$variant"); do
    curl -fs "$base$rung/$segment" >"$out/live/$rung/$segment"
  done
done
echo "    the recording, as ffprobe sees each rung:"
for variant in $(grep -v '^#' "$out/live/recording.m3u8"); do
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 \
    "$out/live/$variant" | head -1)
  seconds=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out/live/$variant")
  printf '      %-6s %s, %s s\n' "${variant%%/*}" "$size" "$seconds"
done

echo
echo "==> the ledger: each node's stake and earnings (every result of a node's first 20 is"
echo "    done again by the other node and compared before it is paid), then its audit"
sleep 4
"$bin/mosaic" ledger
"$bin/mosaic" ledger verify --state "$out/ledger-head.json"

echo
echo "Done. Look at:"
echo "  frames:     $out/frames/*.png"
echo "  video:      $out/frames/video.mp4"
echo "  live:       $out/live/recording.m3u8 (ffplay it), served at $recording"
echo "  ledger:     mosaic ledger, mosaic ledger verify (MOSAIC_URL=$MOSAIC_URL)"
echo "  logs:       $out/orchestrator.log $out/worker1.log $out/worker2.log"
if [ "${DEMO_KEEP:-}" = 1 ]; then
  echo
  echo "The farm keeps running (DEMO_KEEP=1): push more with ffmpeg or OBS to"
  echo "  $ingest"
  echo "and play $playback. Ctrl-C stops it."
  wait
fi
