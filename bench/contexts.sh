#!/usr/bin/env bash
# bench/contexts.sh — what each guest context costs the server: for 1, 16 and 64 idle
# clients at once (bench/ctx_hold: an instance, a device, 1 MiB of mapped host-visible
# memory, written), the proportional set size (PSS, from /proc/PID/smaps_rollup) summed over
# the whole server tree (the server and every process under it), its threads and processes,
# and each client's time to ready (start of main to the written mapping).  Clients start one
# after another, each once the previous one is ready; the tree is measured after all are.
# It runs venusd with process workers and with thread workers, and optionally an earlier
# venusd build and the reference, in one run, and prints each server's cost per added
# context and the ratios to the reference's.  Nothing is asserted.
#
#   bash bench/contexts.sh [--counts 1,16,64] [--modes process,thread,nopreload,native|none] [--out FILE]
#                          [--breakdown] [-- VENUSD_ARGS...]
#   VENUSD_PREV=/path/to/older/venusd   also measure that build (process workers), same run
#   REFERENCE=/path/to/reference-stack.sh   also measure the reference (virglrenderer 1.1.0's
#                          render server, `reference-stack.sh start --shim`): as that script
#                          starts it (reference: a render server per client), with
#                          virgl_test_server --no-fork (reference-nofork: one render server,
#                          a worker per context, as venusd), and venusd itself inside the
#                          reference's chroot on the same loader and lavapipe
#                          (venusd-refdriver; REF_ROOT as for reference-stack.sh)
#   bash bench/contexts.sh --summarize FILE   (the tables of a raw results file)
#
# --modes: venusd's worker modes; nopreload is process workers with --no-preload (the
#   same binary before and after preloading, in one run); native is no server at all: the
#   same clients on the host driver, their own PSS summed (what the driver costs a process
#   that holds a device, the floor for a worker).
# --breakdown: at the largest count, PSS by mapping (libraries by name, [heap], [stack],
#   anonymous, shared memory) summed over the tree, per server.
# Needs a build (runs `meson setup build` / `ninja -C build` if needed) and lavapipe plus
# Mesa's Venus ICD (scripts/setup-deps.sh).  Raw results go to --out (default: a temp
# file, printed).  Elsewhere (a GPU machine, bench/gpu-prepare.sh's .gpu/): VENUSD and
# CTX_HOLD name the binaries (no build then), HOST_ICD the host driver's manifest (default
# lavapipe's), VENUS_ICD Mesa's Venus ICD manifest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COUNTS="1 16 64"
MODES="process thread"
OUT=
SUMMARIZE=
BREAKDOWN=0
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --counts) COUNTS=${2//,/ }; shift 2 ;;
    --modes) MODES=${2//,/ }; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --summarize) SUMMARIZE=$2; shift 2 ;;
    --breakdown) BREAKDOWN=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "contexts.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
HOST_ICD=${HOST_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json}
VENUSD=${VENUSD:-build/venusd}
CTX_HOLD=${CTX_HOLD:-build/bench/ctx_hold}
VENUS_ICD=${VENUS_ICD:-/usr/share/vulkan/icd.d/virtio_icd.json}
CLIENT_T=${CLIENT_T:-900}

# The pids of PID and every process below it.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      in_tree[root] = 1; print root
      do {
        added = 0
        for (i = 1; i <= NR; i++) {
          p = pids[i]
          if (!(p in in_tree) && (parent[p] in in_tree)) { in_tree[p] = 1; print p; added = 1 }
        }
      } while (added)
    }'
}

# "pss_kb threads procs" summed over the given pids (those gone meanwhile left out).
pids_usage() {
  local pss=0 thr=0 procs=0 p v t
  for p in "$@"; do
    v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    t=$(awk '/^Threads:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
    if [ -z "$v" ] || [ -z "$t" ]; then continue; fi
    pss=$((pss + v)) thr=$((thr + t)) procs=$((procs + 1))
  done
  echo "$pss $thr $procs"
}

# The same for the tree under PID.
tree_usage() {
  # shellcheck disable=SC2046 # one pid a word
  pids_usage $(tree_pids "$1")
}

# The same for the processes under the given (timeout) pids, the pids themselves left
# out: the native clients.
clients_usage() {
  local c
  # shellcheck disable=SC2046 # one pid a word
  pids_usage $(for c in "$@"; do tree_pids "$c" | tail -n +2; done)
}

# PSS in kB by mapping over the tree under PID: libraries by file name, the rest by kind.
tree_breakdown() {
  local p
  for p in $(tree_pids "$1"); do cat "/proc/$p/smaps" 2>/dev/null || true; done | awk '
    /^[0-9a-f]+-[0-9a-f]+ / {
      name = (NF >= 6) ? $6 : "[anonymous]"
      if (name ~ /^\/dev\/shm\// || name ~ /^\/memfd:/) name = "[shared memory: " (name ~ /memfd/ ? "memfd" : "/dev/shm") "]"
      else if (name ~ /^\//) { n = split(name, parts, "/"); name = parts[n] }
      if (name ~ /^\[stack/) name = "[stack]"
      next
    }
    /^Pss:/ { pss[name] += $2 }
    END { for (k in pss) if (pss[k] >= 256) printf "%8d kB  %s\n", pss[k], k }' | sort -rn | head -25
}

# Starts N ctx_hold clients on the server at SOCKET one after another (each once the
# previous one printed "ready"), measures the tree under PID, ends the clients.  Appends
# "result" lines to $OUT.
measure() {
  local label=$1 pid=$2 sock=$3 n=$4 dir=$5 i fifo=$5/hold.fifo
  rm -f "$fifo"
  mkfifo "$fifo"
  exec 9<>"$fifo"
  local cpids=() t_all0 t_all icd=$VENUS_ICD
  [ "$label" = native ] && icd=$HOST_ICD
  t_all0=$(date +%s%N)
  for i in $(seq "$n"); do
    VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock VK_DRIVER_FILES=$icd \
      timeout -s KILL "$CLIENT_T" "$CTX_HOLD" <"$fifo" >"$dir/client$i.out" 2>&1 9>&- &
    cpids+=($!)
    local waited=0
    until grep -q '^ready\|FAIL' "$dir/client$i.out" 2>/dev/null; do
      if ! kill -0 "${cpids[-1]}" 2>/dev/null || [ $waited -gt 1200 ]; then break; fi
      sleep 0.05
      waited=$((waited + 1))
    done
    if ! grep -q '^ready' "$dir/client$i.out"; then
      echo "contexts.sh: $label: client $i of $n did not get ready: $(tail -n 2 "$dir/client$i.out" | tr '\n' ' ')" >&2
      break
    fi
  done
  t_all=$((($(date +%s%N) - t_all0) / 1000000))
  sleep 2 # let the contexts go idle
  local usage ready nready
  if [ "$label" = native ]; then
    usage=$(clients_usage "${cpids[@]}")
  else
    usage=$(tree_usage "$pid")
  fi
  ready=$(cat "$dir"/client*.out | awk '/^ready/ { print $2 }' | sort -n | tr '\n' ' ')
  nready=$(echo "$ready" | wc -w)
  echo "result $label n=$n ready=$nready usage=$usage all_ms=$t_all ready_ms=$ready" >>"$OUT"
  if [ "$BREAKDOWN" = 1 ] && [ "$n" = "$MAXN" ] && [ "$label" != native ]; then
    tree_breakdown "$pid" | sed "s/^/breakdown $label n=$n /" >>"$OUT"
  fi
  exec 9>&-
  for i in "${cpids[@]}"; do wait "$i" 2>/dev/null || true; done
  rm -f "$fifo" "$dir"/client*.out
}

run_venusd() {
  local label=$1 bin=$2 mode=$3 dir sock pid n args=(--worker "$3")
  [ "$mode" = nopreload ] && args=(--worker process --no-preload)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/venusd-ctxbench.XXXXXX")
  sock=$dir/venusd.sock
  for n in $COUNTS; do
    VK_DRIVER_FILES=$HOST_ICD "$bin" vtest --socket "$sock" "${args[@]}" "${EXTRA[@]}" \
      >"$dir/venusd.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    if [ ! -S "$sock" ]; then
      echo "contexts.sh: $label did not start: $(tail -n 3 "$dir/venusd.log")" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    measure "$label" "$pid" "$sock" "$n" "$dir"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

# Runs the reference through the script $2 (reference-stack.sh or a copy), under label $1.
run_reference() {
  local label=$1 script=$2 dir pid n line
  dir=$(mktemp -d "${TMPDIR:-/tmp}/venusd-ctxbench.XXXXXX")
  export REF_SOCKET=/tmp/.venus_reference-ctxbench-$$
  for n in $COUNTS; do
    line=$(bash "$script" start --shim) || { echo "contexts.sh: the reference did not start" >&2; break; }
    pid=$(echo "$line" | sed -n 's/^reference server pid \([0-9]*\).*/\1/p')
    measure "$label" "$pid" "$REF_SOCKET" "$n" "$dir"
    bash "$script" stop
  done
  rm -rf "$dir"
}

# venusd (process workers) inside the reference's chroot, on its loader and lavapipe (the
# reference's Mesa and LLVM, which use less memory per device than the host's): the same
# driver on both sides.  The reference's start only mounts /proc, /dev and /tmp there here.
run_venusd_ref_driver() {
  local root=${REF_ROOT:-$HOME/venus-reference/trixie} dir pid n
  dir=$(mktemp -d /tmp/venusd-ctxbench.XXXXXX) # /tmp is the chroot's /tmp too
  cp "$VENUSD" "$dir/venusd"
  export REF_SOCKET=/tmp/.venus_reference-ctxbench-$$
  for n in $COUNTS; do
    bash "$REFERENCE" start --shim >/dev/null || { echo "contexts.sh: the reference chroot did not start" >&2; break; }
    chroot "$root" env VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json "$dir/venusd" vtest \
      --socket "$dir/venusd.sock" --worker process "${EXTRA[@]}" >"$dir/venusd.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 100); do [ -S "$dir/venusd.sock" ] && break; sleep 0.1; done
    if [ -S "$dir/venusd.sock" ]; then
      measure venusd-refdriver "$pid" "$dir/venusd.sock" "$n" "$dir"
    else
      echo "contexts.sh: venusd in $root did not start: $(tail -n 3 "$dir/venusd.log")" >&2
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    bash "$REFERENCE" stop
  done
  rm -rf "$dir"
}

summarize() {
  awk '
    function med(s,   a, c, i, j, t) {
      c = split(s, a, " ")
      for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return c ? ((c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2) : 0
    }
    $1 == "result" {
      label = $2; sub(/^n=/, "", $3); n = $3 + 0
      sub(/^usage=/, "", $5)
      pss[label, n] = $5 / 1024; thr[label, n] = $6; procs[label, n] = $7
      r = $0; sub(/.*ready_ms=/, "", r); rdy[label, n] = med(r)
      sub(/^ready=/, "", $4); nready[label, n] = $4
      if (!(label in seen)) { seen[label] = 1; labels[++nl] = label }
      if (!(n in seenn)) { seenn[n] = 1; ns[++nn] = n }
    }
    $1 == "breakdown" { bd[++nb] = $0 }
    END {
      for (i = 1; i <= nn; i++) for (j = i + 1; j <= nn; j++) if (ns[j] < ns[i]) { t = ns[i]; ns[i] = ns[j]; ns[j] = t }
      printf "%-18s %6s %10s %8s %6s %14s\n", "server", "ctxs", "PSS MB", "threads", "procs", "ready ms (med)"
      for (l = 1; l <= nl; l++) for (i = 1; i <= nn; i++) {
        L = labels[l]; n = ns[i]
        if (!((L, n) in pss)) continue
        printf "%-18s %6d %10.1f %8d %6d %14.1f%s\n", L, n, pss[L, n], thr[L, n], procs[L, n], rdy[L, n],
          nready[L, n] < n ? "  (only " nready[L, n] " ready)" : ""
      }
      lo = ns[1]; hi = ns[nn]
      if (nn < 2) exit
      for (i = 2; i < nn; i++) {
        printf "\nper added context (%d -> %d contexts):\n", lo, ns[i]
        for (l = 1; l <= nl; l++) {
          L = labels[l]
          if ((L, lo) in pss && (L, ns[i]) in pss)
            printf "%-18s %7.2f MB PSS\n", L, (pss[L, ns[i]] - pss[L, lo]) / (ns[i] - lo)
        }
      }
      printf "\nper added context (%d -> %d contexts):\n", lo, hi
      base = ""
      for (l = 1; l <= nl; l++) if (labels[l] == "venusd-process") base = labels[l]
      for (l = 1; l <= nl; l++) {
        L = labels[l]
        if (!((L, lo) in pss) || !((L, hi) in pss)) continue
        per[L] = (pss[L, hi] - pss[L, lo]) / (hi - lo)
        tp = (thr[L, hi] - thr[L, lo]) / (hi - lo)
        printf "%-18s %7.2f MB PSS  %5.2f threads\n", L, per[L], tp
      }
      split("reference reference-nofork", refs, " ")
      for (r = 1; r <= 2; r++) {
        R = refs[r]
        if (!(R in per) || per[R] <= 0) continue
        printf "\nMB per added context / %s'"'"'s:\n", R
        for (l = 1; l <= nl; l++) {
          L = labels[l]
          if (L ~ /^reference/ || !(L in per)) continue
          printf "%-18s %.2fx\n", L, per[L] / per[R]
        }
      }
      if ("venusd-prev" in per && base in per)
        printf "\nthis build / VENUSD_PREV, MB per added context: %.2fx\n", per[base] / per["venusd-prev"]
      if ("native" in per && base in per && per["native"] > 0)
        printf "\nvenusd (process workers) / native clients, MB per added context: %.2fx\n", per[base] / per["native"]
      if ("venusd-nopreload" in per && base in per)
        printf "\npreloading / --no-preload, MB per added context: %.2fx\n", per[base] / per["venusd-nopreload"]
      if (nb) { printf "\nPSS by mapping at the largest count (kB, summed over the tree):\n"; for (i = 1; i <= nb; i++) print bd[i] }
    }' "$1"
}

if [ -n "$SUMMARIZE" ]; then
  summarize "$SUMMARIZE"
  exit 0
fi
if [ "$VENUSD" = build/venusd ] || [ "$CTX_HOLD" = build/bench/ctx_hold ]; then
  [ -f build/build.ninja ] || meson setup build >/dev/null
  ninja -C build >/dev/null
fi
OUT=${OUT:-$(mktemp "${TMPDIR:-/tmp}/venusd-contexts.XXXXXX")}
MAXN=$(echo "$COUNTS" | tr ' ' '\n' | sort -n | tail -n 1)
: >"$OUT"
echo "# contexts.sh: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), venusd $(git rev-parse --short HEAD 2>/dev/null || echo ?)${VENUSD_PREV:+, VENUSD_PREV=$VENUSD_PREV}, host driver $HOST_ICD, args: ${EXTRA[*]}" >>"$OUT"
for mode in ${MODES/none/}; do
  if [ "$mode" = native ]; then
    ndir=$(mktemp -d "${TMPDIR:-/tmp}/venusd-ctxbench.XXXXXX")
    for n in $COUNTS; do measure native - - "$n" "$ndir"; done
    rm -rf "$ndir"
  else
    run_venusd "venusd-$mode" "$VENUSD" "$mode"
  fi
done
if [ -n "${VENUSD_PREV:-}" ]; then
  run_venusd venusd-prev "$VENUSD_PREV" process
fi
if [ -n "${REFERENCE:-}" ]; then
  # As reference-stack.sh starts it, virgl_test_server forks per client and each fork runs
  # its own render server (3 processes a context); with --no-fork one render server forks
  # a worker per context, as venusd does.
  run_reference reference "$REFERENCE"
  nofork=$(mktemp "${TMPDIR:-/tmp}/reference-nofork.XXXXXX")
  sed 's/--multi-clients /--multi-clients --no-fork /' "$REFERENCE" >"$nofork"
  if grep -q -- '--no-fork' "$nofork"; then
    run_reference reference-nofork "$nofork"
  else
    echo "contexts.sh: no '--multi-clients' in $REFERENCE: reference-nofork left out" >&2
  fi
  rm -f "$nofork"
  run_venusd_ref_driver
fi
echo "raw results: $OUT"
summarize "$OUT"
