#!/usr/bin/env bash
# test_startup.sh — venusd vtest refuses to start where it could only fail later:
#   socket_in_use       a second venusd on the socket of a live one exits non-zero at once,
#                       naming the process that listens there; the first keeps serving
#   stale_socket        a socket file nobody listens on (its server was SIGKILLed) is
#                       replaced, and said so
#   no_driver           with no usable host Vulkan driver (VK_DRIVER_FILES naming a missing
#                       manifest) venusd exits non-zero at start-up, says what to do, and
#                       leaves no socket behind
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init startup

if start_venusd_or_fail "startup/first/start" --worker thread; then
  first=$VD_PID
  out=$TEST_TMP/second.out
  timeout -s KILL 20 env VK_DRIVER_FILES="$LVP_ICD" "$VENUSD" vtest --socket "$VD_SOCK" >"$out" 2>&1
  rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 137 ] && grep -q "is in use: process $first (venusd) is listening on it" "$out"; then
    pass "startup/socket_in_use"
  else
    fail "startup/socket_in_use" "second venusd exited $rc: $(grep -m1 -E 'ERROR|listening' "$out")"
  fi
  if alive "$first" && venus_summary_ok "$TEST_TMP/after-second.out"; then
    pass "startup/first_still_serves"
  else
    fail "startup/first_still_serves" "after the second start: ${VENUS_ERR:-venusd $first is gone}"
  fi
  # SIGKILL leaves the socket file behind; the next server takes it over.
  sock=$VD_SOCK
  kill -KILL "$first"
  wait "$first" 2>/dev/null
  out=$TEST_TMP/third.out
  setsid env VK_DRIVER_FILES="$LVP_ICD" "$VENUSD" vtest --socket "$sock" >"$out" 2>&1 </dev/null &
  third=$!
  printf '%s\n' "$third" >>"$TEST_TMP/venusd.pids"
  for _ in $(seq 100); do socket_listening "$sock" && break; sleep 0.1; done
  if socket_listening "$sock" && grep -q "removing the stale socket" "$out"; then
    pass "startup/stale_socket"
  else
    fail "startup/stale_socket" "$(tail -n 1 "$out")"
  fi
  kill -TERM "$third" 2>/dev/null
  wait "$third" 2>/dev/null
fi

sock=$TEST_TMP/nodriver.sock
out=$TEST_TMP/nodriver.out
timeout -s KILL 30 env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" vtest --socket "$sock" >"$out" 2>&1 </dev/null
rc=$?
if [ "$rc" = 1 ] && grep -q "no usable host Vulkan driver" "$out" && grep -q "VK_DRIVER_FILES=/nonexistent.json" "$out" &&
  [ ! -e "$sock" ]; then
  pass "startup/no_driver"
else
  fail "startup/no_driver" "exit $rc (want 1), socket $([ -e "$sock" ] && echo left || echo gone): $(tail -n 1 "$out")"
fi
test_finish
