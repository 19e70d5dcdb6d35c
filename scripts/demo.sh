#!/usr/bin/env bash
# demo.sh — one command from a fresh checkout to "Vulkan through Venus":
# installs the dependencies (scripts/setup-deps.sh), builds venusd if needed, starts it on
# lavapipe, runs vulkaninfo through it with Mesa's Venus driver, prints the device the
# client sees, and stops venusd. Safe to run again: each step is skipped when already done.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

LVP_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
VENUS_ICD=/usr/share/vulkan/icd.d/virtio_icd.json

echo "== dependencies"
bash scripts/setup-deps.sh

echo "== build"
if [ ! -f build/build.ninja ]; then
  if [ -d build/meson-private ]; then meson setup --wipe build; else meson setup build; fi
fi
ninja -C build

work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-demo.XXXXXX")
sock=$work/venusd.sock
log=$work/venusd.log
pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting venusd on lavapipe ($sock)"
VK_DRIVER_FILES=$LVP_ICD build/venusd vtest --socket "$sock" >"$log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 100); do
  [ -S "$sock" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ ! -S "$sock" ]; then
  echo "venusd did not start; its log:" >&2
  cat "$log" >&2
  exit 1
fi
sleep 0.2 # the socket file appears at bind(); give listen() a moment

echo "== vulkaninfo through venusd (Mesa Venus driver over vtest)"
# A Mesa client whose context died spins forever: always run it under a kill timeout.
if ! VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD \
  timeout -s KILL 60 vulkaninfo --summary >"$work/summary.txt" 2>"$work/summary.err"; then
  echo "vulkaninfo through venusd failed:" >&2
  cat "$work/summary.err" >&2
  echo "venusd log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "The client sees, through Venus:"
sed -n '/^Devices:/,$p' "$work/summary.txt" |
  grep -E '^\s+(deviceName|apiVersion|driverName|driverInfo|deviceType)\s*=' | sed 's/^\s*/  /'

echo "== stopping venusd"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "venusd exited with status $status"
if ! grep -q 'Virtio-GPU Venus' "$work/summary.txt"; then
  echo "unexpected: the device is not a Venus device" >&2
  exit 1
fi
exit "$status"
