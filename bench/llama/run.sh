#!/usr/bin/env bash
# bench/llama/run.sh — LLM inference through venusd against native, in one run: llama.cpp's
# llama-bench (Vulkan backend) on a random-weight Q4_0 llama, prompt processing (pp) and
# token generation (tg), natively, through venusd with the guest's defaults, and through
# venusd with the guest's VN_PERF=no_fence_feedback.  More VARIANTS: native-nocm (native
# without cooperative matrices), native-cm1 (without NVIDIA's coopmat2), native-cm1-novidmem
# (native-cm1 without host-visible device memory, GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM),
# native-venuslike (that, and VK_NV_shader_sm_builtins hidden: what a Venus guest sees; the
# layer is VD_HIDE_EXT_LAYER, default build/bench/libvd_hide_extensions.so), native-robust
# (native with robustBufferAccess/robustImageAccess forced on by that layer, as venusd
# forces them), venus26 and
# venus26-nofb (through a Mesa 26 guest driver, bench/mesa26-client.sh).  Rounds alternate
# them.  Prints tokens/s (median of the rounds) and the ratios venus/native.  Nothing is
# asserted.
#
#   bash bench/llama/run.sh [--size tiny|small|1b] [-p N] [-n N] [-r N] [--rounds N]
#                           [-- VENUSD_ARGS...]
#
# Environment: VENUSD (default build/venusd), NATIVE_ICD (default lavapipe's manifest),
# VENUS_ICD (Mesa's Venus manifest), HOST_ICD (what venusd runs on, default NATIVE_ICD),
# VENUSD_LLAMA_HOME (bench/llama/setup.sh's directory), BENCH_OUT (raw results file),
# VARIANTS (default "native venus venus-nofb"), VENUSD_MESA26_HOME (bench/mesa26-client.sh's
# directory), VENUSD_LOG_OUT (a file to keep venusd's log in), VENUSD_PREV (an earlier
# venusd build, run beside VENUSD for the variants venus-prev and venus26-prev: a
# before/after figure in one run), LLAMA_SHADER_CACHE (off, the default: Mesa's shader disk
# cache is disabled for every variant; on: left as it is).  Run bench/llama/setup.sh
# --size SIZE first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HOME_DIR=${VENUSD_LLAMA_HOME:-/var/cache/venusd-llama}
SIZE=tiny PP=512 TG=128 REPS=3 ROUNDS=2
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=$2; shift 2 ;;
    -p) PP=$2; shift 2 ;;
    -n) TG=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
# Mesa's shader disk cache is off for every variant (venusd, so its host driver, and the
# clients), unless LLAMA_SHADER_CACHE=on: lavapipe 25.0.7 (Debian 12, LLVM 15) ran ggml's
# compute shaders loaded from that cache 7-8x slower than freshly compiled ones, with 20x
# the page faults (bench/README.md), so whichever variant ran after the cache was filled
# looked slow.  NVIDIA's driver does not read this variable.
LLAMA_SHADER_CACHE=${LLAMA_SHADER_CACHE:-off}
case $LLAMA_SHADER_CACHE in
  off) export MESA_SHADER_CACHE_DISABLE=true ;;
  on) ;;
  *) echo "run.sh: LLAMA_SHADER_CACHE is on or off, not $LLAMA_SHADER_CACHE" >&2; exit 2 ;;
esac
VENUSD=${VENUSD:-$ROOT/build/venusd}
NATIVE_ICD=${NATIVE_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json}
VENUS_ICD=${VENUS_ICD:-/usr/share/vulkan/icd.d/virtio_icd.json}
HOST_ICD=${HOST_ICD:-$NATIVE_ICD}
VARIANTS=${VARIANTS:-native venus venus-nofb}
M26=${VENUSD_MESA26_HOME:-/var/cache/venusd-mesa26}/client
case " $VARIANTS " in
  *" venus26"*) [ -f "$M26/.complete" ] ||
    { echo "run.sh: the venus26 variants need bench/mesa26-client.sh setup" >&2; exit 1; } ;;
esac
MODEL=$HOME_DIR/models/$SIZE.gguf
[ -s "$MODEL" ] || { echo "run.sh: $MODEL missing: run bench/llama/setup.sh --size $SIZE" >&2; exit 1; }
[ -x "$VENUSD" ] || { echo "run.sh: $VENUSD is not built (meson setup build && ninja -C build)" >&2; exit 1; }
OUT=${BENCH_OUT:-$(mktemp "${TMPDIR:-/tmp}/venusd-llama.XXXXXX")}
work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-llama.XXXXXX")
sock=$work/venusd.sock
VK_DRIVER_FILES=$HOST_ICD "$VENUSD" vtest --socket "$sock" "${EXTRA[@]}" >"$work/venusd.log" 2>&1 </dev/null &
pid=$!
# the benchmark layer's manifest (variants native-venuslike and native-robust)
HIDE_LAYER=${VD_HIDE_EXT_LAYER:-$ROOT/build/bench/libvd_hide_extensions.so}
case " $VARIANTS " in
  *" native-venuslike "* | *" native-robust "*)
    [ -f "$HIDE_LAYER" ] || { echo "run.sh: native-venuslike and native-robust need $HIDE_LAYER (ninja -C build)" >&2; exit 1; }
    mkdir -p "$work/layer"
    printf '{ "file_format_version": "1.0.0", "layer": { "name": "VK_LAYER_VENUSD_hide_extensions", "type": "GLOBAL", "library_path": "%s", "api_version": "1.3.0", "implementation_version": "1", "description": "hides device extensions" } }\n' \
      "$HIDE_LAYER" >"$work/layer/VkLayer_venusd_hide_extensions.json" ;;
esac
ppid_=
sockp=$work/venusd-prev.sock
case " $VARIANTS " in
  *"-prev "*)
    [ -x "${VENUSD_PREV:-}" ] || { echo "run.sh: the -prev variants need VENUSD_PREV" >&2; exit 1; }
    VK_DRIVER_FILES=$HOST_ICD "$VENUSD_PREV" vtest --socket "$sockp" "${EXTRA[@]}" >"$work/venusd-prev.log" 2>&1 </dev/null &
    ppid_=$! ;;
esac
# VENUSD_LOG_OUT=FILE keeps venusd's log (the server's messages about the guest's requests)
trap 'kill -TERM $pid $ppid_ 2>/dev/null; wait $pid $ppid_ 2>/dev/null
  [ -n "${VENUSD_LOG_OUT:-}" ] && cp "$work/venusd.log" "$VENUSD_LOG_OUT"; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && { [ -z "$ppid_" ] || [ -S "$sockp" ]; } && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$work/venusd.log" >&2; echo "run.sh: venusd did not start" >&2; exit 1; }
[ -z "$ppid_" ] || [ -S "$sockp" ] || { cat "$work/venusd-prev.log" >&2; echo "run.sh: VENUSD_PREV did not start" >&2; exit 1; }

# GGML_VK_VISIBLE_DEVICES=0: ggml skips CPU-type devices (lavapipe) unless they are named.
# Each variant's first run also records what ggml saw of the device ("# VARIANT ggml_vulkan:
# 0 = NAME | ... | matrix cores: ..."): the guest's features decide which shaders it uses.
bench() {
  timeout -s KILL 1800 "$HERE/llama-run.sh" llama-bench -m "$MODEL" -ngl 99 -p "$PP" -n "$TG" \
    -r "$REPS" -o jsonl 2>"$work/llama.err" || { tail -20 "$work/llama.err" >&2; return 1; }
  grep -q "^# $v " "$OUT" || grep -m1 "ggml_vulkan: 0 = " "$work/llama.err" | sed "s/^/# $v /" >>"$OUT"
}
: >"$OUT"
for r in $(seq "$ROUNDS"); do
  for v in $VARIANTS; do
    case $v in
      native) GGML_VK_VISIBLE_DEVICES=0 VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      # native without cooperative matrices, which Mesa 25.0.7's Venus protocol lacks
      # native with cooperative matrices but not NVIDIA's coopmat2 (VK_NV_cooperative_matrix2,
      # which no Venus protocol carries): the most a Mesa 26 guest's shaders can use
      native-cm1) GGML_VK_VISIBLE_DEVICES=0 GGML_VK_DISABLE_COOPMAT2=1 \
        VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      # native-cm1 without NVIDIA's host-visible device memory (ReBAR): what a guest gets, whose
      # host-visible memory types venusd backs with host memory
      native-cm1-novidmem) GGML_VK_VISIBLE_DEVICES=0 GGML_VK_DISABLE_COOPMAT2=1 \
        GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM=1 VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      # ... and without VK_NV_shader_sm_builtins (no Venus protocol carries it), hidden by
      # bench/hide_ext_layer.c: native ggml as a Venus guest sees the H200
      native-venuslike) GGML_VK_VISIBLE_DEVICES=0 GGML_VK_DISABLE_COOPMAT2=1 \
        GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM=1 VK_LAYER_PATH=$work/layer \
        VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_hide_extensions \
        VD_HIDE_DEVICE_EXTENSIONS=VK_NV_shader_sm_builtins VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      # native with robustBufferAccess and robustImageAccess forced on by the same layer, as
      # venusd forces them for every guest device: what that costs the driver
      native-robust) GGML_VK_VISIBLE_DEVICES=0 VK_LAYER_PATH=$work/layer \
        VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_hide_extensions VD_FORCE_ROBUSTNESS=1 \
        VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      native-nocm) GGML_VK_VISIBLE_DEVICES=0 GGML_VK_DISABLE_COOPMAT=1 GGML_VK_DISABLE_COOPMAT2=1 \
        VK_DRIVER_FILES=$NATIVE_ICD bench ;;
      venus) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock \
        VK_DRIVER_FILES=$VENUS_ICD bench ;;
      venus-nofb) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VN_PERF=no_fence_feedback \
        VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD bench ;;
      # a Mesa 26 guest driver (bench/mesa26-client.sh): venusd's newest protocol, with
      # cooperative matrices and Vulkan 1.4
      venus26) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock \
        VK_DRIVER_FILES=$M26/virtio_icd.json LLAMA_LIB_PATH=$M26 bench ;;
      venus26-nofb) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VN_PERF=no_fence_feedback \
        VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$M26/virtio_icd.json LLAMA_LIB_PATH=$M26 bench ;;
      # the same two guests against VENUSD_PREV
      venus-prev) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VTEST_SOCKET_NAME=$sockp \
        VK_DRIVER_FILES=$VENUS_ICD bench ;;
      venus26-prev) GGML_VK_VISIBLE_DEVICES=0 VN_DEBUG=vtest VTEST_SOCKET_NAME=$sockp \
        VK_DRIVER_FILES=$M26/virtio_icd.json LLAMA_LIB_PATH=$M26 bench ;;
    esac | sed "s/^/$v /" >>"$OUT.tmp"
    cat "$OUT.tmp" >>"$OUT" && rm -f "$OUT.tmp"
  done
done
grep "^# " "$OUT" | sed 's/^# //'
gpu=$(grep -m1 -o '"gpu_info": "[^"]*"' "$OUT" | cut -d'"' -f4)
echo "llama-bench, model $SIZE ($(du -h "$MODEL" | cut -f1)), $gpu, $(nproc) cores," \
  "Mesa shader disk cache $LLAMA_SHADER_CACHE, $(date -u +%Y-%m-%dT%H:%MZ); raw results: $OUT"
# one line per result: variant test tokens/s
printf "%-8s %-12s %12s %8s\n" test variant tokens/s /native
grep -v "^# " "$OUT" | sed -E 's/^([a-z0-9-]+) .*"n_prompt": ([0-9]+), "n_gen": ([0-9]+),.*"avg_ts": ([0-9.e+]+).*/\1 \2 \3 \4/' |
  awk '{ t = ($2 > 0) ? "pp" $2 : "tg" $3; n[$1, t]++; v[$1, t, n[$1, t]] = $4; tests[t] = 1; vars[$1] = 1 }
    function med(k, t,   i, j, c, a, x) {
      c = n[k, t]; for (i = 1; i <= c; i++) a[i] = v[k, t, i]
      for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
      return c ? ((c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2) : 0 }
    END {
      for (t in tests) for (k in vars) {
        a = med("native", t); b = med(k, t)
        printf "%-8s %-12s %12.1f %8.2f\n", t, k, b, a ? b / a : 0
      } }' | sort
