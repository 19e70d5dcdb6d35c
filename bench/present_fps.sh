#!/usr/bin/env bash
# bench/present_fps.sh — frames per second of a presenting loop (tests/apps/vk_present
# --bench: render + vkQueuePresentKHR to an X11 window, two frames in flight, no readback)
# natively on lavapipe and through venusd, alternating, in one run, on a private Xvfb with
# Mesa's software WSI (MESA_VK_WSI_DEBUG=sw).  Prints medians, min-max and venus/native.
# Nothing is asserted.
#
#   bash bench/present_fps.sh [--seconds S] [--rounds N] [--size WxH]
#                             [--present-mode immediate|mailbox|fifo] [-- VENUSD_ARGS...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_RUN=3
ROUNDS=3
SIZE=512x384
MODE=()
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --present-mode) MODE=(--present-mode "$2"); shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "present_fps.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
APP=build/tests/apps/vk_present
[ -x "$APP" ] || { echo "present_fps.sh: $APP not built (scripts/setup-deps.sh installs libx11-dev)" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "present_fps.sh: Xvfb missing (scripts/setup-deps.sh installs xvfb)" >&2; exit 1; }
LVP_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
VENUS_ICD=/usr/share/vulkan/icd.d/virtio_icd.json
W=${SIZE%x*}
H=${SIZE#*x}

work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-present-bench.XXXXXX")
xpid=
vpid=
cleanup() {
  [ -n "$vpid" ] && kill -TERM "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
  [ -n "$xpid" ] && kill -TERM "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
Xvfb -displayfd 3 -screen 0 "$((W + 64))x$((H + 64))x24" -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 </dev/null &
xpid=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || { echo "present_fps.sh: Xvfb did not start: $(tail -n 1 "$work/xvfb.log")" >&2; exit 1; }
DISPLAY=:$(head -n 1 "$work/display")
export DISPLAY MESA_VK_WSI_DEBUG=sw

sock=$work/venusd.sock
VK_DRIVER_FILES=$LVP_ICD build/venusd vtest --socket "$sock" "${EXTRA[@]}" >"$work/venusd.log" 2>&1 </dev/null &
vpid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

args=(--bench "$SECONDS_PER_RUN" --width "$W" --height "$H" "${MODE[@]}")
limit=$((${SECONDS_PER_RUN%.*} + 60))
: >"$work/results"
for _ in $(seq "$ROUNDS"); do
  VK_DRIVER_FILES=$LVP_ICD timeout -s KILL "$limit" "$APP" "${args[@]}" | sed -n 's/^bench /native /p' >>"$work/results" || true
  VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD timeout -s KILL "$limit" "$APP" "${args[@]}" |
    sed -n 's/^bench /venus /p' >>"$work/results" || true
done

echo "vk_present --bench $SECONDS_PER_RUN, ${W}x$H, $ROUNDS rounds, venusd ${EXTRA[*]:-(defaults)}, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
sed 's/^/  /' "$work/results"
awk '
  { side = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "fps") v = kv[2]; if (kv[1] == "mode") mode = kv[2] }
    n[side]++; val[side, n[side]] = v }
  function median(side,   i, j, t, c) {
    c = n[side]; if (!c) return 0
    for (i = 1; i <= c; i++) a[i] = val[side, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    lo[side] = a[1]; hi[side] = a[c]
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  END {
    mn = median("native"); mv = median("venus")
    printf "%-12s %-9s %26s %26s %9s\n", "metric", "mode", "native median (min-max)", "venus median (min-max)", "ratio"
    printf "%-12s %-9s %10.1f (%6.1f-%6.1f) %10.1f (%6.1f-%6.1f) %8.2fx\n", "present_fps", mode, mn, lo["native"], hi["native"],
      mv, lo["venus"], hi["venus"], (mn > 0 ? mv / mn : 0)
  }' "$work/results"
