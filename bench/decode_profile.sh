#!/usr/bin/env bash
# bench/decode_profile.sh — where venusd's instructions go per recorded command: runs
# venusd (a thread worker, no sandbox) under callgrind on lavapipe while venus_bench
# cmds_100k records 8 x 100k vkCmdPushConstants through it, then prints instructions per
# command: venusd's own, split by source file and function (inlined code under the header
# it comes from), and the driver's.  Nothing is asserted.
#
#   bash bench/decode_profile.sh [VENUSD [VENUS_BENCH]]   (default: build/venusd)
# Needs valgrind.  A release build with line info gives the clearest split:
#   meson setup build-rel --buildtype=release -Db_ndebug=true -Ddebug=true
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VD=${1:-$ROOT/build/venusd}
BENCH=${2:-$ROOT/build/bench/venus_bench}
work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-profile.XXXXXX")
trap 'rm -rf "$work"' EXIT
VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json valgrind --tool=callgrind \
  --callgrind-out-file="$work/cg.out" "$VD" vtest --socket "$work/s" --memory host-pointer \
  --worker thread --no-sandbox >"$work/venusd.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -S "$work/s" ] && break; sleep 0.1; done
VN_DEBUG=vtest VTEST_SOCKET_NAME=$work/s VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json \
  timeout -s KILL 600 "$BENCH" cmds_100k >/dev/null
kill -TERM $pid
wait $pid || true
python3 "$ROOT/bench/decode_profile.py" "$work/cg.out" 800000
