#!/usr/bin/env bash
# tests/integration/tap.sh — runs one integration script for `meson test` (protocol 'tap').
#
#   tap.sh SCRIPT TIMEOUT
#
# Runs SCRIPT (a tests/integration/test_*.sh) with bash under `timeout --foreground` and
# turns its result lines into TAP on stdout, as they come:
#   PASS name            ->  ok N - name
#   FAIL name: reason    ->  not ok N - name # reason
#   SKIP name: reason    ->  ok N - name # SKIP reason
# Every other line of the script becomes a TAP comment ("# ..."), so meson's log keeps the
# whole output; the script's own output is also kept in $TEST_TMP/output.txt.  The plan
# ("1..N") comes last.  The script itself is unchanged: run alone it prints PASS/FAIL/SKIP.
#
# The script also fails, with a "not ok" named after it, when it times out (after TIMEOUT
# seconds, or TEST_TIMEOUT when set), dies (a crash: exit status without a FAIL line),
# reports nothing, or is interrupted (meson's timeout or Ctrl-C send SIGTERM to this
# process group).  Afterwards whatever is left of the venusd process groups the script
# recorded in $TEST_TMP/venusd.pids is killed.  The exit status is 0 when the TAP stream
# is complete (the results are in it); meson counts "not ok" lines as failures.
#
# Environment (tests/integration/meson.build sets these): VENUSD, TEST_PREFIX ("asan:",
# "tsan:" or empty), SETTLE_S; everything else (THREAD_SLACK, sanitizer options, ...)
# passes through to SCRIPT.  TEST_TMP, the script's directory, is a new
# ${TMPDIR:-/tmp}/venusd-[PREFIX-]NAME.XXXXXX (test_render_server.sh's chroot shares only
# /tmp), removed after a run without failures unless KEEP_TMP=1.
set -u -o pipefail

if [ $# != 2 ] || [ ! -f "$1" ]; then
  echo "Bail out! usage: tap.sh SCRIPT TIMEOUT (got: $*)"
  exit 2
fi
SCRIPT=$1
NAME=$(basename "$SCRIPT" .sh)
NAME=${NAME#test_}
LIMIT=${TEST_TIMEOUT:-$2}
TEST_PREFIX=${TEST_PREFIX:-}
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/venusd-${TEST_PREFIX%:}${TEST_PREFIX:+-}$NAME.XXXXXX") || {
  echo "Bail out! cannot create a directory in ${TMPDIR:-/tmp}"
  exit 2
}
export TEST_TMP
OUT=$TEST_TMP/output.txt
COUNT=$TEST_TMP/tap-count
: >"$OUT"

# tap_filter — stdin: the script's output; stdout: TAP without the plan, a line as soon as
# it comes (a shell loop: mawk would wait for a full input buffer).  Writes the number of
# results and of failures to $COUNT at the end.  A '#' in a name would end it in TAP, so
# it becomes '_'; a reason starting with TODO or SKIP would be read as a TAP directive,
# so it gets a "FAIL: " in front.
tap_filter() {
  local line kind rest name reason n=0 nfail=0
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      'PASS '* | 'FAIL '* | 'SKIP '*)
        kind=${line%% *}
        rest=${line#* }
        name=${rest%%: *}
        reason=
        [ "$name" != "$rest" ] && reason=${rest#*: }
        [ "$kind" = PASS ] && name=$rest
        name=${name//#/_}
        n=$((n + 1))
        case $kind in
          PASS) printf 'ok %d - %s\n' "$n" "$name" ;;
          SKIP) printf 'ok %d - %s # SKIP %s\n' "$n" "$name" "${reason:-no reason given}" ;;
          FAIL)
            nfail=$((nfail + 1))
            case ${reason^^} in TODO* | SKIP*) reason="FAIL: $reason" ;; esac
            printf 'not ok %d - %s # %s\n' "$n" "$name" "${reason:-no reason given}"
            ;;
        esac
        ;;
      *) printf '# %s\n' "$line" ;;
    esac
  done
  printf '%d %d\n' "$n" "$nfail" >"$COUNT"
}

N=0
NFAIL=0
# not_ok REASON — one more failed result, named after the script.
not_ok() {
  N=$((N + 1))
  NFAIL=$((NFAIL + 1))
  printf 'not ok %d - %s%s # %s\n' "$N" "$TEST_PREFIX" "$NAME" "$1"
}

kill_leftovers() {
  local pid
  [ -f "$TEST_TMP/venusd.pids" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] || continue
    if kill -0 -- "-$pid" 2>/dev/null; then
      echo "# killing leftover venusd process group $pid"
      kill -KILL -- "-$pid" 2>/dev/null
    fi
  done <"$TEST_TMP/venusd.pids"
}

# SIGTERM (meson's timeout, Ctrl-C) reaches the script too (same process group: timeout
# runs with --foreground); its own trap stops its venusd.  Meson sends SIGKILL 0.5 s later.
# shellcheck disable=SC2317 # called from the traps
on_signal() {
  trap - TERM INT
  # the filter dies with this group before it writes $COUNT: count what it has seen
  N=$(grep -c -E '^(PASS|FAIL|SKIP) ' "$OUT")
  kill_leftovers
  not_ok "interrupted by SIG$1 (meson's timeout or Ctrl-C); output in $OUT"
  echo "1..$N"
  exit 1
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

echo "# $SCRIPT (VENUSD=${VENUSD:-unset}, timeout ${LIMIT}s, files in $TEST_TMP)"
# The script writes to a file, not a pipe: a process it leaves behind holding the pipe
# would otherwise keep this adapter waiting.  tail follows the file until `timeout` has
# exited; a subshell waits for `timeout` (so it is reaped at once: a zombie would keep
# tail following) and records its status.
(
  timeout --foreground -k 30 "$LIMIT" \
    env TEST_TMP="$TEST_TMP" TEST_PREFIX="$TEST_PREFIX" bash "$SCRIPT" >"$OUT" 2>&1 </dev/null &
  echo "$!" >"$TEST_TMP/tap-timeout.pid"
  wait "$!"
  echo "$?" >"$TEST_TMP/tap-status"
) &
RUNNER=$!
T0=$SECONDS
while [ ! -s "$TEST_TMP/tap-timeout.pid" ]; do sleep 0.05; done
tail -n +1 -s 0.2 --pid="$(cat "$TEST_TMP/tap-timeout.pid")" -f "$OUT" | tap_filter
wait "$RUNNER"
rc=$(cat "$TEST_TMP/tap-status" 2>/dev/null) || rc="unknown (tap.sh lost it)"
read -r N NFAIL <"$COUNT" || {
  N=0
  NFAIL=0
  not_ok "the TAP filter did not finish"
}
kill_leftovers

# Lines tail may have missed would be results not counted: compare with the file.
want=$(grep -c -E '^(PASS|FAIL|SKIP) ' "$OUT")
if [ "$want" != "$N" ]; then
  not_ok "$want result lines in $OUT but $N converted (adapter error)"
fi
wantfail=$(grep -c '^FAIL ' "$OUT")
# timeout exits 124 (the script ended on SIGTERM) or 137 (SIGKILL, 30 s later)
if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ $((SECONDS - T0)) -ge "$LIMIT" ]; then
  not_ok "timed out after ${LIMIT}s (TEST_TIMEOUT); output in $OUT"
elif [ "$want" = 0 ]; then
  not_ok "reported no results (exit status $rc); output in $OUT"
elif [ "$rc" -gt 128 ] 2>/dev/null; then
  # a crash even when the script had reported a failure before it
  not_ok "died of signal $((rc - 128)) (exit status $rc); output in $OUT"
elif [ "$rc" != 0 ] && [ "$wantfail" = 0 ]; then
  not_ok "exited with status $rc without reporting a failure (crashed?); output in $OUT"
fi
echo "1..$N"

if [ "$NFAIL" = 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then
  rm -rf "$TEST_TMP"
else
  echo "# files of this run: $TEST_TMP"
fi
exit 0
