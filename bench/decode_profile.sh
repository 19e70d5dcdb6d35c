#!/usr/bin/env bash
# bench/decode_profile.sh — where venusd's instructions go per recorded command: runs
# venusd (a thread worker, no sandbox) under callgrind on lavapipe while venus_bench
# cmds_100k records 8 x 100k vkCmdPushConstants through it, then prints instructions per
# command: venusd's own, split by source file and function (inlined code under the header
# it comes from), and the driver's.  With BENCHMARK cmds_mix: the whole process's
# instructions, and per call those of each of cmds_mix's handlers (inclusive of the
# driver's work inside them) and of its vkAllocateDescriptorSets.  Nothing is asserted.
#
#   bash bench/decode_profile.sh [VENUSD [VENUS_BENCH [BENCHMARK]]]
#                                (defaults: build/venusd, build/bench/venus_bench, cmds_100k)
# Needs valgrind.  A release build with line info gives the clearest split:
#   meson setup build-rel --buildtype=release -Db_ndebug=true -Ddebug=true
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VD=${1:-$ROOT/build/venusd}
BENCH=${2:-$ROOT/build/bench/venus_bench}
WHICH=${3:-cmds_100k}
case $WHICH in cmds_100k | cmds_mix) ;; *) echo "decode_profile.sh: BENCHMARK is cmds_100k or cmds_mix" >&2; exit 2 ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-profile.XXXXXX")
trap 'rm -rf "$work"' EXIT
VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json valgrind --tool=callgrind \
  --callgrind-out-file="$work/cg.out" "$VD" vtest --socket "$work/s" --memory host-pointer \
  --worker thread --no-sandbox >"$work/venusd.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -S "$work/s" ] && break; sleep 0.1; done
VN_DEBUG=vtest VTEST_SOCKET_NAME=$work/s VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json \
  timeout -s KILL 600 "$BENCH" "$WHICH" >/dev/null
kill -TERM $pid
wait $pid || true
if [ "$WHICH" = cmds_mix ]; then
  # 1 warm-up + 7 repetitions of 10k rounds: 80k of each handler
  python3 "$ROOT/bench/decode_profile.py" --mix "$work/cg.out" 80000
else
  python3 "$ROOT/bench/decode_profile.py" "$work/cg.out" 800000
fi
