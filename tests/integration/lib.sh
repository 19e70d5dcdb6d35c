# shellcheck shell=bash
# Helpers for venusd's integration tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   test_init my_test               # temp dir, traps, counters
#   start_venusd --worker thread    # $VENUSD vtest --socket <unique> ...
#   venus_client vulkaninfo --summary > "$TEST_TMP/out"
#   check my_test/thing grep -q foo "$TEST_TMP/out"
#   stop_venusd                     # SIGTERM; exit 0; no sanitizer reports
#   test_finish                     # exits 1 if anything failed
#
# Environment (all optional):
#   VENUSD          the binary under test (default: <repo>/build/venusd)
#   TEST_TMP        directory for this test's files (default: a fresh mktemp -d)
#   TEST_PREFIX     prepended to every reported name ("asan:" / "tsan:" in sanitizer builds)
#   CLIENT_TIMEOUT  kill timeout for every client, seconds (default 60)
#   SETTLE_S        how long resource counts may take to return to idle (default 2)
#   LVP_ICD, VENUS_ICD  the lavapipe and Venus ICD manifests
#   VENUS_CLIENT    run venus_client with that Mesa client (tests/clients/mesa-clients.sh)
#   HOST_LAYER, HOST_LAYER_PATH  a Vulkan layer (name, manifest directory) that venusd's host
#                   instance loads over lavapipe (test_moltenvk_shape.sh: MoltenVK's shape);
#                   HOST_LAYER_ENV: more VAR=VALUE words for venusd's environment with it
#
# Output contract (tests/integration/tap.sh turns these into TAP for meson test): one line
# per check, exactly "PASS <name>", "FAIL <name>: <reason>" or "SKIP <name>: <reason>".
# SKIP is only for what this machine cannot provide (say which, and why), never for a
# set-up step that was not run: run it, or FAIL with the reason it failed.  Everything
# else is indented or starts with "#".

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
VENUSD=${VENUSD:-$REPO_ROOT/build/venusd}
LVP_ICD=${LVP_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json}
VENUS_ICD=${VENUS_ICD:-/usr/share/vulkan/icd.d/virtio_icd.json}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}
SETTLE_S=${SETTLE_S:-2}
TEST_PREFIX=${TEST_PREFIX:-}
VENUS_DEVICE_RE='Virtio-GPU Venus \(llvmpipe'

TEST_NAME=
TEST_NPASS=0
TEST_NFAIL=0
TEST_NSKIP=0
VD_PID=
VD_SOCK=
VD_LOGFILE=
VD_N=0
VD_START_ERR=

# ---- reporting ---------------------------------------------------------------------

pass() {
  printf 'PASS %s%s\n' "$TEST_PREFIX" "$1"
  TEST_NPASS=$((TEST_NPASS + 1))
}

# fail NAME REASON — the reason is flattened to one line.
fail() {
  local reason=${2:-failed}
  reason=${reason//$'\n'/ | }
  printf 'FAIL %s%s: %s\n' "$TEST_PREFIX" "$1" "$reason"
  TEST_NFAIL=$((TEST_NFAIL + 1))
}

# skip NAME REASON — a check this machine cannot run; the reason says what is missing.
skip() {
  local reason=${2:-no reason given}
  reason=${reason//$'\n'/ | }
  printf 'SKIP %s%s: %s\n' "$TEST_PREFIX" "$1" "$reason"
  TEST_NSKIP=$((TEST_NSKIP + 1))
}

# check NAME CMD... — PASS if CMD succeeds, else FAIL with CMD's last output line.
check() {
  local name=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = 0 ]; then
    pass "$name"
  else
    fail "$name" "$(printf '%s' "$out" | tail -n 1) (exit $rc: $*)"
  fi
  return "$rc"
}

# note TEXT... — informational output that is not a result.
note() { printf '    %s\n' "$*"; }

# show_file FILE [N] — the last N lines of FILE, indented (for failure diagnostics).
show_file() {
  [ -s "$1" ] || return 0
  printf '    --- last %s lines of %s\n' "${2:-25}" "$1"
  tail -n "${2:-25}" "$1" | sed 's/^/    | /'
}

# ---- lifecycle ---------------------------------------------------------------------

_lib_cleanup() {
  local rc=$?
  if [ -n "$VD_PID" ] && kill -0 "$VD_PID" 2>/dev/null; then
    kill_group "$VD_PID"
  fi
  return "$rc"
}

# test_init NAME — sets TEST_NAME, TEST_TMP (fresh dir), and an EXIT trap that kills any
# venusd this test started.
test_init() {
  TEST_NAME=$1
  if [ -z "${TEST_TMP:-}" ]; then
    TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/venusd-$TEST_NAME.XXXXXX")
  fi
  mkdir -p "$TEST_TMP"
  trap _lib_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ ! -x "$VENUSD" ]; then
    fail "$TEST_NAME/binary" "VENUSD=$VENUSD is not an executable file (build first)"
    test_finish
  fi
}

# test_finish — prints a summary comment and exits: 1 if anything failed or nothing ran
# (a script whose every check was skipped exits 0).
test_finish() {
  _lib_cleanup
  printf '# %s: %d passed, %d failed, %d skipped\n' "$TEST_NAME" "$TEST_NPASS" "$TEST_NFAIL" \
    "$TEST_NSKIP"
  trap - EXIT
  [ "$TEST_NFAIL" = 0 ] && [ $((TEST_NPASS + TEST_NSKIP)) -gt 0 ] && exit 0
  exit 1
}

# ---- processes ---------------------------------------------------------------------

# proc_field PID N — field N of /proc/PID/stat counted after the ")" that ends comm
# (1 = state, 2 = ppid, 3 = pgrp). Empty if the process is gone.
proc_field() {
  local s n=$2
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  shift $((n - 1)) || return 1
  [ -n "${1:-}" ] || return 1
  printf '%s\n' "$1"
}

# alive PID — true if PID exists and is not a zombie.
alive() {
  local st
  st=$(proc_field "$1" 1) || return 1
  [ "$st" != Z ] && [ "$st" != X ]
}

# pids_where N VALUE — pids whose /proc/PID/stat field N (counted as in proc_field:
# 2 = ppid, 3 = pgrp) equals VALUE. Zombies are included.
pids_where() {
  local f s pid n=$1 want=$2
  for f in /proc/[0-9]*/stat; do
    # read, not $(cat): one fork per process made a scan take seconds on a loaded machine
    { read -r s <"$f"; } 2>/dev/null || continue
    pid=${f#/proc/}
    pid=${pid%/stat}
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    shift $((n - 1))
    [ "${1:-}" = "$want" ] && printf '%s\n' "$pid"
  done
  return 0
}

# children PID — pids whose parent is PID (zombies included: they were not reaped).
children() { pids_where 2 "$1"; }
count_children() { children "$1" | wc -l; }
# group_members PGID — pids in process group PGID.
group_members() { pids_where 3 "$1"; }

# kill_group PGID — SIGKILL every process of a group this test started with start_venusd.
kill_group() {
  kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# shellcheck disable=SC2012 # the names are numbers
count_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# shellcheck disable=SC2012
count_threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }

# list_fds PID / list_threads PID — for diagnostics.
list_fds() {
  local f
  for f in "/proc/$1/fd/"*; do
    printf '%s -> %s\n' "${f##*/}" "$(readlink "$f" 2>/dev/null)"
  done | sort -n
}
list_threads() {
  local t
  for t in "/proc/$1/task/"*; do
    printf '%s %s\n' "${t##*/}" "$(cat "$t/comm" 2>/dev/null)"
  done | sort -n
}

# socket_listening PATH — true once a unix socket bound to PATH is in the listening state.
socket_listening() {
  [ -S "$1" ] || return 1
  # /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
  awk -v p="$1" '$8 == p && $4 == "00010000" { found = 1 } END { exit !found }' /proc/net/unix
}

# ---- venusd ------------------------------------------------------------------------

# start_venusd [ARGS...] — starts "$VENUSD vtest --socket <unique path> ARGS..." in the
# background, in its own process group, with SIGINT/SIGTERM at their defaults (a background
# job of a script would otherwise inherit SIGINT ignored), rendering on lavapipe only.
# Sets VD_PID, VD_SOCK, VD_LOGFILE (stdout+stderr). Waits until the socket listens.
# VENUSD_WORKER=process|thread|spawn, when set, overrides the test's --worker (e.g.
# VENUSD_WORKER=spawn ONLY=apps runs the app suite with spawned workers; tests that count
# a worker kind's threads or processes then do not hold).
# Returns 1 (reason in VD_START_ERR, log shown) if venusd died or never listened.
start_venusd() {
  VD_N=$((VD_N + 1))
  VD_SOCK=$TEST_TMP/venusd-$VD_N.sock
  if [ "${#VD_SOCK}" -ge 100 ]; then
    VD_SOCK=/tmp/venusd-test-$$-$VD_N.sock
  fi
  VD_LOGFILE=$TEST_TMP/venusd-$VD_N.log
  VD_START_ERR=
  rm -f "$VD_SOCK"
  local layer_env=()
  if [ -n "${HOST_LAYER:-}" ]; then
    # shellcheck disable=SC2206 # HOST_LAYER_ENV is VAR=VALUE words
    layer_env=(VK_ADD_LAYER_PATH="$HOST_LAYER_PATH" VK_INSTANCE_LAYERS="$HOST_LAYER" ${HOST_LAYER_ENV:-})
  fi
  setsid env --default-signal=INT,TERM,HUP,QUIT,PIPE \
    -u VN_DEBUG -u VTEST_SOCKET_NAME -u VK_ICD_FILENAMES -u VK_INSTANCE_LAYERS \
    -u DISPLAY -u WAYLAND_DISPLAY \
    VK_DRIVER_FILES="$LVP_ICD" "${layer_env[@]}" \
    "$VENUSD" vtest --socket "$VD_SOCK" "$@" ${VENUSD_WORKER:+--worker "$VENUSD_WORKER"} \
    >"$VD_LOGFILE" 2>&1 </dev/null &
  VD_PID=$!
  printf '%s\n' "$VD_PID" >>"$TEST_TMP/venusd.pids"
  note "venusd pid $VD_PID: ${layer_env[*]} $VENUSD vtest --socket $VD_SOCK $* (log $VD_LOGFILE)"
  for _ in $(seq 200); do # up to 20 s (sanitizer builds start slowly)
    if ! alive "$VD_PID"; then
      wait "$VD_PID" 2>/dev/null
      VD_START_ERR="venusd exited during startup (status $?)"
      show_file "$VD_LOGFILE"
      VD_PID=
      return 1
    fi
    socket_listening "$VD_SOCK" && break
    sleep 0.1
  done
  if ! socket_listening "$VD_SOCK"; then
    VD_START_ERR="socket $VD_SOCK not listening after 20 s"
    show_file "$VD_LOGFILE"
    return 1
  fi
  # setsid must not have forked: VD_PID has to be venusd itself, leading its own group.
  if [ "$(proc_field "$VD_PID" 3)" != "$VD_PID" ]; then
    VD_START_ERR="venusd (pid $VD_PID) is not a process-group leader"
    return 1
  fi
  return 0
}

# start_venusd_or_fail NAME [ARGS...] — start_venusd, reporting FAIL NAME on error.
start_venusd_or_fail() {
  local name=$1
  shift
  if start_venusd "$@"; then
    return 0
  fi
  fail "$name" "$VD_START_ERR"
  return 1
}

# sanitizer_report FILE — prints the first sanitizer line of FILE; true if there is one.
sanitizer_report() {
  grep -m1 -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' "$1" 2>/dev/null
}

# stop_venusd [NAME] — SIGTERM venusd, wait up to STOP_TIMEOUT (10) s; reports PASS NAME
# (default "$TEST_NAME/clean_exit") if it exited with status 0, left no process of its group
# behind, and its log has no AddressSanitizer/UBSan ("runtime error") report; FAIL otherwise.
stop_venusd() {
  local name=${1:-$TEST_NAME/clean_exit} rc left report
  if [ -z "$VD_PID" ]; then
    fail "$name" "venusd was not running"
    return 1
  fi
  if ! alive "$VD_PID"; then
    wait "$VD_PID" 2>/dev/null
    rc=$?
    fail "$name" "venusd had already exited (status $rc) before SIGTERM"
    show_file "$VD_LOGFILE"
    VD_PID=
    return 1
  fi
  kill -TERM "$VD_PID"
  for _ in $(seq $((${STOP_TIMEOUT:-10} * 20))); do
    alive "$VD_PID" || break
    sleep 0.05
  done
  if alive "$VD_PID"; then
    kill_group "$VD_PID"
    fail "$name" "venusd still running ${STOP_TIMEOUT:-10} s after SIGTERM (killed)"
    show_file "$VD_LOGFILE"
    VD_PID=
    return 1
  fi
  wait "$VD_PID" 2>/dev/null
  rc=$?
  # Children (process mode) must be gone too.
  sleep 0.1
  left=$(group_members "$VD_PID" | tr '\n' ' ')
  if [ -n "$left" ]; then
    kill -KILL -- "-$VD_PID" 2>/dev/null
  fi
  local pid=$VD_PID
  VD_PID=
  report=$(sanitizer_report "$VD_LOGFILE")
  if [ -n "$report" ]; then
    fail "$name" "sanitizer report in venusd log: $report"
    show_file "$VD_LOGFILE" 40
    return 1
  fi
  if [ "$rc" != 0 ]; then
    fail "$name" "venusd exited with status $rc after SIGTERM (expected 0)"
    show_file "$VD_LOGFILE"
    return 1
  fi
  if [ -n "$left" ]; then
    fail "$name" "processes of venusd's group $pid still running after it exited: $left"
    return 1
  fi
  pass "$name"
  return 0
}

# ---- clients -----------------------------------------------------------------------

# venus_client CMD... — runs CMD through the running venusd (Mesa's Venus ICD over vtest),
# killed after CLIENT_TIMEOUT s: a Mesa client whose context died spins forever.  With
# VENUS_CLIENT=NAME the client is a newer Mesa from tests/clients/mesa-clients.sh, run in
# its Debian 13 chroot (the repo and /tmp are shared, so CMD's paths work there too).
# Clients never report leaks: under tests/run-tests.sh's ASan pass our apps are
# instrumented too, and LeakSanitizer then reports what Mesa's Venus driver leaks when a
# thread with a ring exits (an unknown module after dlclose), which is not venusd's.
CLIENT_ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
CLIENT_ASAN_OPTIONS=${CLIENT_ASAN_OPTIONS//detect_leaks=1/detect_leaks=0}
venus_client() {
  if [ -n "${VENUS_CLIENT:-}" ]; then
    env -u DISPLAY -u WAYLAND_DISPLAY -u VK_INSTANCE_LAYERS ASAN_OPTIONS="$CLIENT_ASAN_OPTIONS" \
      VTEST_SOCKET_NAME="$VD_SOCK" timeout -s KILL "$CLIENT_TIMEOUT" \
      bash "$REPO_ROOT/tests/clients/mesa-clients.sh" exec "$VENUS_CLIENT" -- "$@"
    return
  fi
  env -u VK_ICD_FILENAMES -u VK_INSTANCE_LAYERS -u DISPLAY -u WAYLAND_DISPLAY \
    ASAN_OPTIONS="$CLIENT_ASAN_OPTIONS" VN_DEBUG=vtest VTEST_SOCKET_NAME="$VD_SOCK" VK_DRIVER_FILES="$VENUS_ICD" \
    timeout -s KILL "$CLIENT_TIMEOUT" "$@"
}

# venus_client_to_fatal BEFORE CMD... — venus_client CMD..., ended 0.3 s after venusd's
# log gains a line holding "fatal" past its line BEFORE (log_line_count), or when it exits.
# A Mesa client whose context went fatal only notices after about 4 s: vn_relax reads the
# ring's FATAL bit at its 4096th iteration, after sleeps that double up to 1.3 ms.  Tests
# of bad input need only venusd's line and the client's output so far.  Returns the
# client's status (137 when ended here).
venus_client_to_fatal() {
  local before=$1 pid i
  shift
  venus_client "$@" &
  pid=$!
  for ((i = 0; i < CLIENT_TIMEOUT * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    if log_lines_since "$VD_LOGFILE" "$before" | grep -q fatal; then
      sleep 0.3
      kill_descendants "$pid"
      break
    fi
    sleep 0.05
  done
  wait "$pid"
}

# kill_descendants PID — SIGKILL every process under PID, leaves first.
kill_descendants() {
  local c
  for c in $(children "$1"); do
    kill_descendants "$c"
    kill -KILL "$c" 2>/dev/null
  done
}

# native_client CMD... — runs CMD directly on lavapipe.
native_client() {
  env -u VK_ICD_FILENAMES -u VK_INSTANCE_LAYERS -u DISPLAY -u WAYLAND_DISPLAY -u VN_DEBUG \
    ASAN_OPTIONS="$CLIENT_ASAN_OPTIONS" \
    VK_DRIVER_FILES="$LVP_ICD" \
    timeout -s KILL "$CLIENT_TIMEOUT" "$@"
}

# shellcheck disable=SC2034 # read by the test scripts
VENUS_ERR=
# venus_summary_ok OUTFILE — runs "vulkaninfo --summary" through venusd into OUTFILE
# (stderr into OUTFILE.err); true if it exited 0 and shows the Venus device. On failure
# VENUS_ERR says why.
venus_summary_ok() {
  local rc
  venus_client vulkaninfo --summary >"$1" 2>"$1.err"
  rc=$?
  if [ "$rc" != 0 ]; then
    VENUS_ERR="vulkaninfo --summary exited $rc$([ "$rc" = 137 ] && echo " (killed after ${CLIENT_TIMEOUT}s)")"
    return 1
  fi
  if ! grep -Eq "$VENUS_DEVICE_RE" "$1"; then
    # shellcheck disable=SC2034
    VENUS_ERR="vulkaninfo --summary does not show a 'Virtio-GPU Venus (llvmpipe' device"
    return 1
  fi
  return 0
}

# log_lines_since FILE LINE — the lines of FILE after line number LINE.
log_lines_since() { tail -n "+$(($2 + 1))" "$1" 2>/dev/null; }
log_line_count() { wc -l <"$1" 2>/dev/null || echo 0; }

# wait_for_counts PID FDS THREADS — polls up to SETTLE_S s until PID has exactly FDS open
# fds and THREADS threads. Sets CUR_FDS / CUR_THREADS to the last values seen.
wait_for_counts() {
  local steps=$((${SETTLE_S%.*} * 20))
  [ "$steps" -gt 0 ] || steps=20
  for _ in $(seq "$steps"); do
    CUR_FDS=$(count_fds "$1")
    CUR_THREADS=$(count_threads "$1")
    [ "$CUR_FDS" = "$2" ] && [ "$CUR_THREADS" = "$3" ] && return 0
    sleep 0.05
  done
  CUR_FDS=$(count_fds "$1")
  CUR_THREADS=$(count_threads "$1")
  [ "$CUR_FDS" = "$2" ] && [ "$CUR_THREADS" = "$3" ]
}

# wait_stable_counts PID — waits (up to 5 s) until fd and thread counts are the same in
# three readings 100 ms apart; sets IDLE_FDS / IDLE_THREADS.
wait_stable_counts() {
  local a b same=0
  IDLE_FDS=$(count_fds "$1")
  IDLE_THREADS=$(count_threads "$1")
  for _ in $(seq 50); do
    sleep 0.1
    a=$(count_fds "$1")
    b=$(count_threads "$1")
    if [ "$a" = "$IDLE_FDS" ] && [ "$b" = "$IDLE_THREADS" ]; then
      same=$((same + 1))
      [ "$same" -ge 2 ] && return 0
    else
      same=0
      IDLE_FDS=$a
      IDLE_THREADS=$b
    fi
  done
  return 1
}

# worker_modes — the worker modes a script runs: WORKER_MODES (the TSan pass sets "thread":
# tests/integration/meson.build), default "process thread".  runs_worker MODE: whether
# MODE is one of them.
worker_modes() { echo "${WORKER_MODES:-process thread}"; }
runs_worker() { case " $(worker_modes) " in *" $1 "*) return 0 ;; esac; return 1; }
