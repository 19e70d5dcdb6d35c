#!/usr/bin/env bash
# scripts/compare-reference.sh — runs the same real apps through the reference renderer
# (virglrenderer 1.1.0, ../shared/tools/reference-stack.sh, WITHOUT --shim), through
# venusd's vtest server, and through the reference's own virgl_test_server + proxy with
# venusd as its render server (RENDER_SERVER_EXEC_PATH, the path QEMU takes), and prints
# one line per app: exit status through each.  Not part of the test
# suite: the reference needs a 1.6 GB Debian 13 chroot (reference-stack.sh setup, ~5 min).
#
#   bash scripts/compare-reference.sh [--setup]
#
# Needs a build (build/) and scripts/setup-deps.sh.  Each client is killed after $REF_T
# (default 20) seconds: a Mesa client whose context died spins forever (exit 137).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
REF=${REF_STACK:-$ROOT/../shared/tools/reference-stack.sh}
export REF_T=${REF_T:-20}
BUILD=${BUILD:-build}
APPS=$BUILD/tests/apps
LVP_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
VENUS_ICD=/usr/share/vulkan/icd.d/virtio_icd.json
[ -f "$REF" ] || { echo "compare-reference.sh: $REF not found (set REF_STACK)" >&2; exit 2; }
[ -x "$BUILD/venusd" ] || { echo "compare-reference.sh: build first ($BUILD/venusd missing)" >&2; exit 2; }
[ "${1:-}" = --setup ] && bash "$REF" setup

work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-compare.XXXXXX")
sock=$work/venusd.sock
VK_DRIVER_FILES=$LVP_ICD "$BUILD/venusd" vtest --socket "$sock" >"$work/venusd.log" 2>&1 </dev/null &
vd=$!
trap 'kill -TERM $vd 2>/dev/null; wait $vd 2>/dev/null; bash "$REF" stop >/dev/null 2>&1' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
bash "$REF" start >/dev/null || exit 1
# The reference's libvirglrenderer with venusd as its render server ($work is under /tmp,
# which the chroot shares).
REF_ROOT=${REF_ROOT:-$HOME/venus-reference/trixie}
cp "$BUILD/venusd" "$work/venusd"
rs_sock=$work/rs.sock
setsid chroot "$REF_ROOT" env VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json \
  RENDER_SERVER_EXEC_PATH="$work/venusd" \
  virgl_test_server --venus --no-virgl --multi-clients --socket-path "$rs_sock" \
  >"$work/rs.log" 2>&1 </dev/null &
rs=$!
trap 'kill -TERM $vd 2>/dev/null; wait $vd 2>/dev/null; pkill -TERM -s $rs 2>/dev/null; bash "$REF" stop >/dev/null 2>&1' EXIT
for _ in $(seq 50); do [ -S "$rs_sock" ] && break; sleep 0.1; done

ffmpeg_app() {
  ffmpeg -nostdin -hide_banner -loglevel error -init_hw_device vulkan=vk:0 -filter_hw_device vk \
    -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 8 \
    -vf "format=yuv420p,hwupload,avgblur_vulkan=sizeX=32:sizeY=32,hwdownload,format=yuv420p" -f framemd5 -y "$1"
}
gst_app() {
  gst-launch-1.0 -q videotestsrc num-buffers=8 ! video/x-raw,format=RGBA,width=320,height=240 \
    ! vulkanupload ! vulkancolorconvert ! "video/x-raw(memory:VulkanImage),format=BGRA" \
    ! vulkandownload ! video/x-raw,format=BGRA ! filesink location="$1"
}
export -f ffmpeg_app gst_app

# run_both NAME CMD... — CMD through the reference, through venusd, and through the
# reference's proxy with venusd as render server.
run_both() {
  local name=$1 ref vd_rc rs_rc
  shift
  bash "$REF" client "$@" >"$work/$name.ref" 2>&1
  ref=$?
  LD_PRELOAD=libvulkan_virtio.so VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD \
    timeout -s KILL "$REF_T" "$@" >"$work/$name.venusd" 2>&1
  vd_rc=$?
  LD_PRELOAD=libvulkan_virtio.so VN_DEBUG=vtest VTEST_SOCKET_NAME=$rs_sock VK_DRIVER_FILES=$VENUS_ICD \
    timeout -s KILL "$REF_T" "$@" >"$work/$name.rs" 2>&1
  rs_rc=$?
  printf '%-20s reference: exit %-4s venusd: exit %-4s reference proxy + venusd: exit %s\n' \
    "$name" "$ref" "$vd_rc" "$rs_rc"
}

echo "app                  (exit 137 = killed after ${REF_T} s: the client's context died)"
for app in vk_fill vk_compute_smoke vk_scene vk_queries vk_timeline_threads; do
  run_both "$app" "$APPS/$app"
done
run_both ffmpeg-avgblur bash -c 'ffmpeg_app "$0"' "$work/ffmpeg.md5"
run_both gstreamer bash -c 'gst_app "$0"' "$work/gst.raw"
LIBGL_ALWAYS_SOFTWARE=1 GALLIUM_DRIVER=zink run_both zink-gles "$APPS/gles_zink"
echo "reference server: $(grep -c 'export_blob which failed' "${REF_ROOT:-$HOME/venus-reference/trixie}.server.log" 2>/dev/null) x 'virgl_renderer_resource_export_blob which failed (-22)'"
