#!/usr/bin/env bash
# scripts/compare-reference.sh — runs the same real apps over vtest through the reference
# renderer (Debian 13's virglrenderer 1.1.0: virgl_test_server with its own
# virgl_render_server), through venusd's vtest server, and through the reference's
# virgl_test_server + proxy with venusd as its render server (RENDER_SERVER_EXEC_PATH, the
# path QEMU takes), and prints one line per app: exit status through each.  Not part of the
# test suite.  The reference runs from the QEMU chroot that tests/vm/vm.sh makes (about 3
# minutes and 2 GB the first time; --setup runs 'vm.sh setup').
#
#   bash scripts/compare-reference.sh [--setup]
#
# Needs root, a build (build/) and scripts/setup-deps.sh.  Each client is killed after
# $REF_T (default 20) seconds: a Mesa client whose context died spins forever (exit 137).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
VM=$ROOT/tests/vm/vm.sh
REF_T=${REF_T:-20}
BUILD=${BUILD:-build}
APPS=$BUILD/tests/apps
LVP_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
VENUS_ICD=/usr/share/vulkan/icd.d/virtio_icd.json
[ -x "$BUILD/venusd" ] || { echo "compare-reference.sh: build first ($BUILD/venusd missing)" >&2; exit 2; }
if [ "${1:-}" = --setup ]; then
  bash "$VM" setup || exit 1
fi

# The three servers, each on a socket under /tmp (which the chroot shares).
work=$(mktemp -d /tmp/venusd-compare.XXXXXX)
cp "$BUILD/venusd" "$work/venusd"
pids=() # the chroot's servers: SIGKILL ends each namespace (vm.sh host-exec)
VK_DRIVER_FILES=$LVP_ICD "$BUILD/venusd" vtest --socket "$work/venusd.sock" >"$work/venusd.log" 2>&1 </dev/null &
vd=$!
trap 'kill -TERM $vd; kill -KILL "${pids[@]}"; wait' EXIT
# test_server NAME [VAR=VALUE]... — virgl_test_server in the chroot on $work/NAME.sock.
test_server() {
  local name=$1
  shift
  bash "$VM" host-exec VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json "$@" -- \
    virgl_test_server --venus --no-virgl --multi-clients --socket-path "$work/$name.sock" \
    >"$work/$name.log" 2>&1 </dev/null &
  pids+=($!)
}
test_server reference
test_server rs RENDER_SERVER_EXEC_PATH="$work/venusd"
for s in venusd reference rs; do
  for _ in $(seq 100); do [ -S "$work/$s.sock" ] && break; sleep 0.1; done
  [ -S "$work/$s.sock" ] || { echo "compare-reference.sh: no $work/$s.sock (see $work/$s.log)" >&2; exit 1; }
done

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

# client SOCKET CMD... — CMD as a Venus client of the vtest server on SOCKET.
client() {
  local sock=$1
  shift
  LD_PRELOAD=libvulkan_virtio.so VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD \
    timeout -s KILL "$REF_T" "$@"
}

# run_both NAME CMD... — CMD through the reference, through venusd, and through the
# reference's proxy with venusd as render server.
run_both() {
  local name=$1 s rc=()
  shift
  for s in reference venusd rs; do
    client "$work/$s.sock" "$@" >"$work/$name.$s" 2>&1
    rc+=("$?")
  done
  printf '%-20s reference: exit %-4s venusd: exit %-4s reference proxy + venusd: exit %s\n' \
    "$name" "${rc[0]}" "${rc[1]}" "${rc[2]}"
}

echo "app                  (exit 137 = killed after ${REF_T} s: the client's context died)"
for app in vk_fill vk_compute_smoke vk_scene vk_queries vk_timeline_threads; do
  run_both "$app" "$APPS/$app"
done
run_both ffmpeg-avgblur bash -c 'ffmpeg_app "$0"' "$work/ffmpeg.md5"
run_both gstreamer bash -c 'gst_app "$0"' "$work/gst.raw"
LIBGL_ALWAYS_SOFTWARE=1 GALLIUM_DRIVER=zink run_both zink-gles "$APPS/gles_zink"
echo "reference server: $(grep -c 'export_blob which failed' "$work/reference.log") x 'virgl_renderer_resource_export_blob which failed (-22)' (logs: $work)"
