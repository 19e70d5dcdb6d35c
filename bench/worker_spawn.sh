#!/usr/bin/env bash
# What a worker costs to start, per context: fork (--worker process) against fork + exec
# of venusd (--worker spawn).  For each mode, starts "venusd vtest" on lavapipe and runs
# N clients one after another, each a new connection (so a new worker) that does the vtest
# handshake up to its first replies and disconnects (vtest_bad_client --mode
# handshake-only); prints the median and min-max time per client, alternating the modes
# for R rounds.  A benchmark: nothing is asserted.
#
#   bash bench/worker_spawn.sh [--build DIR] [--clients N] [--rounds R]
set -u
BUILD=build
N=50
ROUNDS=5
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --clients) N=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: bash bench/worker_spawn.sh [--build DIR] [--clients N] [--rounds R]" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
VENUSD=$BUILD/venusd
CLIENT=$BUILD/tests/integration/vtest_bad_client
if [ ! -x "$VENUSD" ] || [ ! -x "$CLIENT" ]; then
  echo "worker_spawn: $VENUSD or $CLIENT missing: build first (meson setup $BUILD && ninja -C $BUILD)" >&2
  exit 1
fi
LVP_ICD=${LVP_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json}
TMP=$(mktemp -d /tmp/venusd-bench-spawn.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# run_mode MODE: microseconds per client for one round of N clients.
run_mode() {
  local sock=$TMP/vtest-$1.sock pid start end i
  VK_DRIVER_FILES=$LVP_ICD timeout -s KILL 600 "$VENUSD" vtest --socket "$sock" --worker "$1" \
    --log warn >"$TMP/venusd-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  start=$(date +%s%N)
  for i in $(seq "$N"); do
    timeout -s KILL 30 "$CLIENT" --socket "$sock" --mode handshake-only >/dev/null 2>&1 ||
      echo "worker_spawn: client $i failed in mode $1 (log: $TMP/venusd-$1.log)" >&2
  done
  end=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
  echo $(((end - start) / 1000 / N))
}

declare -A results
for r in $(seq "$ROUNDS"); do
  for mode in process spawn; do
    results[$mode]+="$(run_mode "$mode") "
  done
done
for mode in process spawn; do
  sorted=$(tr ' ' '\n' <<<"${results[$mode]}" | grep . | sort -n)
  count=$(wc -l <<<"$sorted")
  median=$(sed -n "$(((count + 1) / 2))p" <<<"$sorted")
  printf '%-8s %6s us per client (min %s, max %s; %s clients x %s rounds)\n' "$mode" "$median" \
    "$(head -n1 <<<"$sorted")" "$(tail -n1 <<<"$sorted")" "$N" "$ROUNDS"
done
