#!/usr/bin/env bash
# bench/run.sh — benchmarks of the guest path through venusd against native lavapipe, in
# one run: each benchmark runs natively, then through venusd, then natively again, ... and
# the table gives medians, min–max and the ratio venus/native.  Nothing is asserted.
#
#   bash bench/run.sh [--memory host-pointer|export|auto] [--rounds N] [--only B1,B2]
#                     [-- VENUSD_ARGS...]
#   bash bench/run.sh --summarize FILE   (the table of a raw results file, e.g. the
#                                         bench.txt of bench/gpu-device.sh)
#
# Needs a build (it runs `meson setup build` / `ninja -C build` if needed) and
# scripts/setup-deps.sh.  Raw results go to $BENCH_OUT (default: a temp file, printed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MEMORY=host-pointer
ROUNDS=2
ONLY="submit_fence submit_cmd_fence sync_call cmds_100k cmds_mix cmds_rerecord alloc_64k alloc_4m mapped_bw"
EXTRA=()
SUMMARIZE=
while [ $# -gt 0 ]; do
  case $1 in
    --memory) MEMORY=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --only) ONLY=${2//,/ }; shift 2 ;;
    --summarize) SUMMARIZE=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$SUMMARIZE" ]; then
  OUT=$SUMMARIZE
  echo "raw results: $OUT"
else
  [ -f build/build.ninja ] || meson setup build >/dev/null
  ninja -C build >/dev/null
  BENCH=build/bench/venus_bench
  LVP_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
  VENUS_ICD=/usr/share/vulkan/icd.d/virtio_icd.json
  OUT=${BENCH_OUT:-$(mktemp "${TMPDIR:-/tmp}/venusd-bench.XXXXXX")}
  work=$(mktemp -d "${TMPDIR:-/tmp}/venusd-bench.XXXXXX")
  sock=$work/venusd.sock
  VK_DRIVER_FILES=$LVP_ICD build/venusd vtest --socket "$sock" --memory "$MEMORY" "${EXTRA[@]}" >"$work/venusd.log" 2>&1 </dev/null &
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

  : >"$OUT"
  for b in $ONLY; do
    for r in $(seq "$ROUNDS"); do
      VK_DRIVER_FILES=$LVP_ICD timeout -s KILL 120 "$BENCH" "$b" | sed 's/^/native /' >>"$OUT"
      VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$VENUS_ICD timeout -s KILL 120 "$BENCH" "$b" |
        sed 's/^/venus /' >>"$OUT"
      if [ "$b" = alloc_64k ] && [ -x build/bench/transport_floor ]; then
        build/bench/transport_floor 64 | sed 's/^/floor /' >>"$OUT"
      fi
    done
  done

  echo "venusd --memory $MEMORY ${EXTRA[*]}, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); raw results: $OUT"
fi
awk '
  { key = $3; unit[key] = $4; v = $5; n[$1, key]++; val[$1, key, n[$1, key]] = v; keys[key] = 1 }
  function median(side, key,   i, j, t, c) {
    c = n[side, key]
    for (i = 1; i <= c; i++) a[i] = val[side, key, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    lo[side] = a[1]; hi[side] = a[c]
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  END {
    printf "%-20s %-7s %24s %24s %9s\n", "metric", "unit", "native median (min-max)", "venus median (min-max)", "ratio"
    no = split("submit_fence submit_cmd_fence sync_call cmds_100k cmds_mix cmds_rerecord alloc_map_free_64k alloc_map_free_4m mapped_write mapped_read", order, " ")
    for (o = 1; o <= no; o++) {
      k = order[o]; if (!(k in keys)) continue
      mn = median("native", k); nl = lo["native"]; nh = hi["native"]
      mv = median("venus", k); vl = lo["venus"]; vh = hi["venus"]
      time = (unit[k] == "us")
      ratio = mn > 0 ? mv / mn : 0
      printf "%-20s %-7s %11.4g (%g-%g) %11.4g (%g-%g) %8.2fx %s\n", k, unit[k], mn, nl, nh, mv, vl, vh, ratio,
        time ? "(time: lower is better)" : "(throughput: higher is better)"
      if ((k == "cmds_100k" || k == "cmds_mix") && n["venus", k "_record"]) {
        # Mesa sends a command buffer at vkEndCommandBuffer, so through Venus recording in the
        # guest, decoding + recording in the host and execution run one after the other.
        gr = median("venus", k "_record"); nr = median("native", k "_record")
        ns = median("native", k "_submit_wait"); vs = median("venus", k "_submit_wait")
        printf "  ms: native record %.2f + submit/wait %.2f; venus guest encode %.2f + submit/wait %.2f\n", nr, ns, gr, vs
        printf "  (host decode + driver record + execute); serial bound: guest encode + native total =\n"
        printf "  %.2f ms, i.e. at most %.2fx even with a zero-cost host decoder\n", gr + nr + ns, (nr + ns) / (gr + nr + ns)
      }
      if (n["venus-prev", k]) {
        mp = median("venus-prev", k)
        rp = mn > 0 ? mp / mn : 0
        printf "  the previous build (gpu-prepare.sh VENUSD_PREV), same run: %.4g = %.2fx native\n", mp, rp
      }
      if (k == "submit_fence" && n["venus-nofb", "submit_fence"]) {
        printf "  through venusd with VN_PERF=no_fence_feedback: %.4g us\n", median("venus-nofb", "submit_fence")
        if (n["venus-prev-nofb", "submit_fence"])
          printf "  the previous build with VN_PERF=no_fence_feedback, same run: %.4g us\n", median("venus-prev-nofb", "submit_fence")
      }
      if (k == "alloc_map_free_64k" && n["floor", "transport_floor_64k"]) {
        mf = median("floor", "transport_floor_64k")
        printf "  reference point: a minimal server that only answers the blob round trip with an fd\n"
        printf "  (client maps/touches/unmaps it): %.4g ops/s = %.2fx native (bench/transport_floor.c)\n", mf, mf / mn
      }
    }
  }' "$OUT"
