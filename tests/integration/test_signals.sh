#!/usr/bin/env bash
# test_signals.sh — command line and shutdown behaviour.
#
#   sigterm / sigint   venusd (each worker mode) exits with status 0 within 2 s of the
#                      signal, removes its socket, leaves no process of its group behind and
#                      logs no sanitizer report; once idle, and once after serving a client
#   help               "venusd --help" exits 0 and mentions "vtest" and "--socket"
#   unknown_option     "venusd --no-such-option" and "venusd vtest --no-such-option" exit
#                      non-zero (and do not start serving) with a message on stderr/stdout
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init signals

EXIT_WITHIN_MS=${EXIT_WITHIN_MS:-2000}

# signal_exit NAME SIGNAL — venusd (already started) must exit 0 within EXIT_WITHIN_MS.
signal_exit() {
  local name=$1 sig=$2 pid=$VD_PID sock=$VD_SOCK t0 t1 ms rc why=() left report
  t0=$(date +%s%N)
  kill "-$sig" "$pid"
  while alive "$pid"; do
    t1=$(date +%s%N)
    [ $(((t1 - t0) / 1000000)) -ge $((EXIT_WITHIN_MS + 3000)) ] && break
    sleep 0.02
  done
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  if alive "$pid"; then
    kill_group "$pid"
    VD_PID=
    fail "$name" "still running $ms ms after SIG$sig (killed)"
    show_file "$VD_LOGFILE" 10
    return
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  VD_PID=
  sleep 0.05
  left=$(group_members "$pid" | tr '\n' ' ')
  [ -n "$left" ] && kill -KILL -- "-$pid" 2>/dev/null
  [ "$ms" -le "$EXIT_WITHIN_MS" ] || why+=("took $ms ms to exit (limit $EXIT_WITHIN_MS)")
  [ "$rc" = 0 ] || why+=("exit status $rc$([ "$rc" -gt 128 ] && echo " (killed by signal $((rc - 128)))")")
  [ -e "$sock" ] && why+=("socket $sock still exists")
  [ -n "$left" ] && why+=("processes of its group left behind: $left")
  report=$(sanitizer_report "$VD_LOGFILE")
  [ -n "$report" ] && why+=("sanitizer report: $report")
  if [ "${#why[@]}" = 0 ]; then
    pass "$name"
    note "SIG$sig: exited 0 after $ms ms"
  else
    local joined
    joined=$(printf '%s; ' "${why[@]}")
    fail "$name" "${joined%; }"
    show_file "$VD_LOGFILE" 10
  fi
}

for worker in process thread; do
  for sig in TERM INT; do
    lc=$(printf '%s' "$sig" | tr '[:upper:]' '[:lower:]')
    if start_venusd_or_fail "signals/$worker/sig$lc/start" --worker "$worker"; then
      signal_exit "signals/$worker/sig$lc" "$sig"
    fi
    # again, after a client came and went (its context must not delay or break the exit)
    if start_venusd_or_fail "signals/$worker/sig$lc-after-client/start" --worker "$worker"; then
      if venus_summary_ok "$TEST_TMP/$worker-$lc.out"; then
        signal_exit "signals/$worker/sig$lc-after-client" "$sig"
      else
        fail "signals/$worker/sig$lc-after-client" "client failed: $VENUS_ERR"
        stop_venusd "signals/$worker/sig$lc-after-client/clean_exit"
      fi
    fi
  done
done

# --help
out=$TEST_TMP/help.out
timeout -s KILL 10 "$VENUSD" --help >"$out" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
  fail signals/help "venusd --help exited $rc"
elif ! grep -q 'vtest' "$out"; then
  fail signals/help "venusd --help does not mention vtest"
elif ! grep -q -- '--socket' "$out"; then
  fail signals/help "venusd --help does not mention --socket"
else
  pass signals/help
fi

# unknown options: must not start serving (the socket path is ours, in case it does)
i=0
for args in "--no-such-option" "vtest --no-such-option"; do
  i=$((i + 1))
  out=$TEST_TMP/unknown-$i.out
  sock=$TEST_TMP/unknown-$i.sock
  # shellcheck disable=SC2086 # split the option list on purpose
  timeout -s KILL 5 env VK_DRIVER_FILES="$LVP_ICD" "$VENUSD" $args --socket "$sock" >"$out" 2>&1 </dev/null
  rc=$?
  name="signals/unknown_option_$i"
  if [ "$rc" = 137 ]; then
    fail "$name" "'venusd $args' did not exit within 5 s (it should refuse the option)"
  elif [ "$rc" = 0 ]; then
    fail "$name" "'venusd $args' exited 0"
  elif [ ! -s "$out" ]; then
    fail "$name" "'venusd $args' exited $rc without a message"
  elif report=$(sanitizer_report "$out") && [ -n "$report" ]; then
    fail "$name" "sanitizer report: $report"
  else
    pass "$name"
    note "venusd $args -> exit $rc: $(head -n 1 "$out")"
  fi
  rm -f "$sock"
done

test_finish
