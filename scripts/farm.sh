# Sourced by demo.sh and bench-live.sh: a farm on this machine, an
# orchestrator on loopback ports and two workers, stopped when the script
# that sourced this exits.
#
#   start_farm OUT [WORKER ARGS...]   data and logs in OUT/; exports
#                                     MOSAIC_URL and MOSAIC_TOKEN_FILE

bin=target/debug
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
  echo "$1 did not appear; see the logs next to it" >&2
  exit 1
}

start_farm() {
  local out=$1
  shift
  echo "==> starting the orchestrator (data in $out/orchestrator, log in $out/orchestrator.log)"
  "$bin/mosaic-orchestrator" --data-dir "$out/orchestrator" --http 127.0.0.1:0 \
    --p2p /ip4/127.0.0.1/tcp/0 --rtmp 127.0.0.1:0 >"$out/orchestrator.log" 2>&1 &
  pids+=($!)
  for file in p2p.addr http.addr rtmp.addr; do
    wait_for_file "$out/orchestrator/$file"
  done
  export MOSAIC_URL="http://$(cat "$out/orchestrator/http.addr")"
  export MOSAIC_TOKEN_FILE="$out/orchestrator/admin.token"
  for n in 1 2; do
    echo "==> starting worker $n (log in $out/worker$n.log)"
    "$bin/mosaic-worker" --orchestrator "$(cat "$out/orchestrator/p2p.addr")" \
      --data-dir "$out/worker$n" "$@" >"$out/worker$n.log" 2>&1 &
    pids+=($!)
  done
}
