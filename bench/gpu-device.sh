#!/usr/bin/env bash
# Runs on a GPU machine from the folder bench/gpu-prepare.sh fills: venusd over the GPU's
# Vulkan driver, our apps natively and through venusd (outputs must be identical), then
# the benchmarks alternating native / venusd (ROUNDS, default 5).  Results go to $OUT:
# device.log, venusd.log and bench.txt ("native|venus|venus-nofb|floor metric NAME UNIT
# VALUE" lines, the format bench/run.sh summarises).  ../.gl/*.deb, if present, are
# unpacked first (the device tool's way of bringing libglvnd for NVIDIA's ICD).
# PARTS (default "apps bench llama") picks what runs; llama needs gpu-prepare.sh's LLAMA=1
# and writes llama.txt (LLAMA_SIZE, default 1b; LLAMA_ROUNDS, default 2; VARIANTS as
# bench/llama/run.sh's; LLAMA_ARGS, more of its arguments, e.g. "-p 0 -n 128 -- --stats").  With gpu-prepare.sh's MESA26=1 the apps and benchmarks also run
# through a Mesa 26 guest driver (venus26).
cd "$(dirname "$0")" || exit 1
G=$PWD
for f in ../.gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done; ldconfig 2>/dev/null
export LD_LIBRARY_PATH=$G/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}
exec > >(tee "$OUT/device.log") 2>&1
echo "== host"; uname -r; head -2 /etc/os-release; ldd --version | head -1; nvidia-smi -L
NV=${NV_ICD:-}
[ -n "$NV" ] || for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && NV=$f && break
done
echo "nvidia icd: ${NV:-none}"; ls /usr/local/nvidia/lib64 2>/dev/null | grep -i -E "glx_nvidia|vulkan" | head; ldconfig -p | grep -E "GLX_nvidia|libvulkan" | head -3
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
VIRTIO=$G/lib/virtio_icd.json
native() { env VK_DRIVER_FILES="$NV" timeout -s KILL 120 "$@"; }
venus() { env VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vd.sock VK_DRIVER_FILES="$VIRTIO" timeout -s KILL 120 "$@"; }
# venus26: the same through a Mesa 26 guest driver (gpu-prepare.sh's MESA26=1)
venus26() { env VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vd.sock VENUSD_MESA26_HOME="$G/mesa26" \
  timeout -s KILL 120 bash "$G/mesa26-client.sh" exec "$@"; }
venus26_prev() { env VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vd-prev.sock VENUSD_MESA26_HOME="$G/mesa26" \
  timeout -s KILL 120 bash "$G/mesa26-client.sh" exec "$@"; }
M26=0; [ -f "$G/mesa26/client/.complete" ] && M26=1
venus_prev() { env VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vd-prev.sock VK_DRIVER_FILES="$VIRTIO" timeout -s KILL 120 "$@"; }

echo "== native smoke"; native "$G/apps/vk_fill"; echo "rc=$?"
# VENUSD_ARGS: extra options for this build (e.g. --no-sandbox)
# shellcheck disable=SC2086
VK_DRIVER_FILES=$NV "$G/venusd" vtest --socket /tmp/vd.sock --log info ${VENUSD_ARGS:-} >"$OUT/venusd.log" 2>&1 &
vd=$!
for _ in $(seq 50); do [ -S /tmp/vd.sock ] && break; sleep 0.1; done
echo "== venus smoke"; venus "$G/apps/vk_fill"; echo "rc=$?"
head -20 "$OUT/venusd.log"

PARTS=${PARTS:-apps bench llama}
has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
if has apps; then
echo "== apps: native vs venusd"
pass=0; failn=0
for a in vk_fill vk_buffer_ops vk_compute_smoke vk_push_indexing vk_image_smoke vk_image_formats \
  vk_triangle_smoke vk_scene vk_secondary vk_queries vk_threads_smoke vk_timeline_threads \
  vk_sync_objects vk_advanced; do
  native "$G/apps/$a" >"/tmp/$a.native" 2>&1; nrc=$?
  venus "$G/apps/$a" >"/tmp/$a.venus" 2>&1; vrc=$?
  if [ "$nrc" = 0 ] && [ "$vrc" = 0 ] && cmp -s "/tmp/$a.native" "/tmp/$a.venus"; then
    echo "SAME $a"; pass=$((pass + 1))
  else
    echo "DIFF $a (native rc $nrc, venus rc $vrc)"; failn=$((failn + 1))
    diff "/tmp/$a.native" "/tmp/$a.venus" | head -8; tail -n 1 "/tmp/$a.native"
  fi
  [ "$M26" = 1 ] || continue
  venus26 "$G/apps/$a" >"/tmp/$a.venus26" 2>&1; vrc=$?
  if [ "$nrc" = 0 ] && [ "$vrc" = 0 ] && cmp -s "/tmp/$a.native" "/tmp/$a.venus26"; then
    echo "SAME $a (Mesa 26 guest)"; pass=$((pass + 1))
  else
    echo "DIFF $a (Mesa 26 guest; native rc $nrc, venus rc $vrc)"; failn=$((failn + 1))
    diff "/tmp/$a.native" "/tmp/$a.venus26" | head -8
  fi
done
# the newest protocol's apps (mesh shaders, ray queries, ray tracing pipelines): Mesa 26 only
for a in vk_mesh vk_ray_query vk_ray_pipeline; do
  [ "$M26" = 1 ] && [ -x "$G/apps/$a" ] || continue
  native "$G/apps/$a" >"/tmp/$a.native" 2>&1; nrc=$?
  venus26 "$G/apps/$a" >"/tmp/$a.venus26" 2>&1; vrc=$?
  if [ "$nrc" = 0 ] && [ "$vrc" = 0 ] && cmp -s "/tmp/$a.native" "/tmp/$a.venus26"; then
    echo "SAME $a (Mesa 26 guest): $(tail -n 1 "/tmp/$a.native")"; pass=$((pass + 1))
  else
    echo "DIFF $a (Mesa 26 guest; native rc $nrc, venus rc $vrc)"; failn=$((failn + 1))
    tail -n 2 "/tmp/$a.native" "/tmp/$a.venus26"
  fi
done
if [ "$M26" = 1 ]; then
  venus26 "$G/vulkaninfo" >/tmp/vi.venus26 2>&1; echo "Mesa 26 guest: vulkaninfo rc=$?"
  grep -m3 -E "apiVersion|driverInfo" /tmp/vi.venus26
  grep -c "VK_KHR_cooperative_matrix " /tmp/vi.venus26 | sed 's/^/VK_KHR_cooperative_matrix listed: /'
fi
echo "apps: $pass same, $failn different"

echo "== Vulkan 1.3 and the swapchain through venusd (the host's own SYNC_FD / modifiers)"
venus "$G/vulkaninfo" >/tmp/vi.venus 2>&1; echo "vulkaninfo rc=$?"
grep -m1 -E "apiVersion" /tmp/vi.venus
for e in VK_KHR_swapchain VK_KHR_synchronization2 VK_EXT_image_drm_format_modifier \
  VK_EXT_external_memory_dma_buf VK_EXT_queue_family_foreign; do
  grep -q "$e " /tmp/vi.venus && echo "listed $e" || echo "MISSING $e"
done
native "$G/apps/vk_modifiers" >/tmp/mod.native 2>&1; echo "vk_modifiers native rc=$?"
venus "$G/apps/vk_modifiers" >/tmp/mod.venus 2>&1; echo "vk_modifiers venus rc=$?"
cat /tmp/mod.venus
cmp -s /tmp/mod.native /tmp/mod.venus && echo "SAME vk_modifiers" || { echo "DIFF vk_modifiers"; diff /tmp/mod.native /tmp/mod.venus | head; }
for m in sync-binary sync-import-timeline; do
  timeout -s KILL 30 "$G/vtest_bad_client" --socket /tmp/vd.sock --mode $m --linger-ms 1500 | tail -1
done
grep -E "emulating|fatal" "$OUT/venusd.log" | head -8

fi

if has bench; then
echo "== bench"
: >"$OUT/bench.txt"
# venusd-prev (gpu-prepare.sh's VENUSD_PREV): an earlier build, measured alternately with
# this one ("venus-prev" lines) for a before/after figure in one run
vdp=
if [ -x "$G/venusd-prev" ]; then
  VK_DRIVER_FILES=$NV "$G/venusd-prev" vtest --socket /tmp/vd-prev.sock --log warn >"$OUT/venusd-prev.log" 2>&1 &
  vdp=$!
  for _ in $(seq 50); do [ -S /tmp/vd-prev.sock ] && break; sleep 0.1; done
fi
for r in $(seq ${ROUNDS:-5}); do
  for b in submit_fence submit_cmd_fence sync_call cmds_100k cmds_mix cmds_rerecord alloc_64k alloc_4m mapped_bw; do
    native "$G/venus_bench" "$b" | sed 's/^/native /' >>"$OUT/bench.txt"
    venus "$G/venus_bench" "$b" | sed 's/^/venus /' >>"$OUT/bench.txt"
    [ -n "$vdp" ] && venus_prev "$G/venus_bench" "$b" | sed 's/^/venus-prev /' >>"$OUT/bench.txt"
    [ "$M26" = 1 ] && venus26 "$G/venus_bench" "$b" | sed 's/^/venus26 /' >>"$OUT/bench.txt"
    [ "$M26" = 1 ] && [ -n "$vdp" ] && venus26_prev "$G/venus_bench" "$b" |
      sed 's/^/venus26-prev /' >>"$OUT/bench.txt"
  done
  [ "$M26" = 1 ] && VN_PERF=no_fence_feedback venus26 "$G/venus_bench" submit_fence |
    sed 's/^/venus26-nofb /' >>"$OUT/bench.txt"
  VN_PERF=no_fence_feedback venus "$G/venus_bench" submit_fence | sed 's/^/venus-nofb /' >>"$OUT/bench.txt"
  [ -n "$vdp" ] && VN_PERF=no_fence_feedback venus_prev "$G/venus_bench" submit_fence |
    sed 's/^/venus-prev-nofb /' >>"$OUT/bench.txt"
  "$G/transport_floor" 64 | sed 's/^/floor /' >>"$OUT/bench.txt"
done
wc -l "$OUT/bench.txt"
fi

if has llama && [ -d "$G/llama" ]; then
  echo "== llama-bench: native vs venusd"
  export VENUSD_LLAMA_HOME=/tmp/venusd-llama LLAMA_COPY_BACKENDS=1
  mkdir -p "$VENUSD_LLAMA_HOME" && cp -r "$G/llama/debs" "$VENUSD_LLAMA_HOME/"
  PYTHON=python3 bash "$G/llama/setup.sh" --size "${LLAMA_SIZE:-1b}"
  [ -x "$G/venusd-prev" ] && export VENUSD_PREV=$G/venusd-prev
  # shellcheck disable=SC2086 # LLAMA_ARGS: several words
  VD_HIDE_EXT_LAYER=$G/libvd_hide_extensions.so VENUSD_LOG_OUT=$OUT/llama-venusd.log VENUSD_MESA26_HOME=$G/mesa26 VENUSD=$G/venusd NATIVE_ICD=$NV HOST_ICD=$NV VENUS_ICD=$VIRTIO BENCH_OUT=$OUT/llama.jsonl \
    bash "$G/llama/run.sh" --size "${LLAMA_SIZE:-1b}" --rounds "${LLAMA_ROUNDS:-2}" ${LLAMA_ARGS:-} | tee "$OUT/llama.txt"
fi
kill -TERM $vd; wait $vd; echo "venusd exit $?"
[ -n "$vdp" ] && { kill -TERM $vdp; wait $vdp; echo "venusd-prev exit $?"; }
grep -E "sandbox" "$OUT/venusd.log" | head -3
grep -E "ERROR|WARN" "$OUT/venusd.log" | head -5
