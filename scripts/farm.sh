# Sourced by demo.sh and bench-live.sh: a farm on this machine, an
# orchestrator on loopback ports and two workers, each staked (as their
# operator would, with `mosaic ledger stake`), stopped when the script that
# sourced this exits.
#
#   start_farm OUT [WORKER ARGS...]   data and logs in OUT/; exports
#                                     MOSAIC_URL and MOSAIC_TOKEN_FILE;
#                                     FARM_CONFIG=FILE: the orchestrator's config

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
  local config=()
  [ -n "${FARM_CONFIG:-}" ] && config=(--config "$FARM_CONFIG")
  "$bin/mosaic-orchestrator" "${config[@]}" --data-dir "$out/orchestrator" --http 127.0.0.1:0 \
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
  # Nodes get work once staked: the operator stakes each by its peer id,
  # which the worker logs when it starts.
  for n in 1 2; do
    wait_for_file "$out/worker$n/identity.key"
    local peer=""
    for _ in $(seq 1 100); do
      peer=$(grep -o 'starting peer=[A-Za-z0-9]*' "$out/worker$n.log" | head -1 | cut -d= -f2)
      [ -n "$peer" ] && break
      sleep 0.1
    done
    [ -n "$peer" ] || { echo "worker $n logged no peer id; see $out/worker$n.log" >&2; exit 1; }
    "$bin/mosaic" ledger stake "$peer" 100
  done
}
