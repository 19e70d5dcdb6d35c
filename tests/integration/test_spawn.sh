#!/usr/bin/env bash
# --worker spawn: each vtest client is served by a fresh "venusd worker" that the server
# executes (not a fork that goes on in the server's image), with the server's options, in
# the sandbox; apps give native output through it and nothing is left behind.  (The
# render server's spawned workers run in test_render_server_protocol.sh.)
. "$(dirname "$0")/lib.sh"
test_init spawn

BUILD=$(dirname "$VENUSD")
if start_venusd_or_fail "spawn/start" --worker spawn --max-rings 100; then
  # While a client is connected, the server's one child is a "venusd worker" for it:
  # the same binary executed again, its parent the server.
  (venus_client "$BUILD/tests/apps/vk_idle" 3 >"$TEST_TMP/idle" 2>&1) &
  idle=$!
  for _ in $(seq 100); do grep -q '^idle' "$TEST_TMP/idle" 2>/dev/null && break; sleep 0.1; done
  kids=$(children "$VD_PID")
  set -- $kids
  cmd=$( [ $# = 1 ] && tr '\0' ' ' <"/proc/$1/cmdline")
  exe=$( [ $# = 1 ] && readlink "/proc/$1/exe")
  case $cmd in
    "venusd worker "*"--max-rings 100 "*"--front vtest --fd "*" --id 1"*)
      if [ "$exe" = "$(readlink -f "$VENUSD")" ]; then
        pass "spawn/worker_is_executed_venusd"
      else
        fail "spawn/worker_is_executed_venusd" "the worker runs $exe, not $(readlink -f "$VENUSD")"
      fi ;;
    *) fail "spawn/worker_is_executed_venusd" "children of venusd: '$kids'; command line: '$cmd'" ;;
  esac
  wait "$idle"
  check "spawn/idle_client_ok" grep -q '^OK idle' "$TEST_TMP/idle"

  for app in vk_fill vk_compute_smoke vk_triangle_smoke vk_sync_objects; do
    native_client "$BUILD/tests/apps/$app" >"$TEST_TMP/$app.native" 2>&1
    if venus_client "$BUILD/tests/apps/$app" >"$TEST_TMP/$app.venus" 2>&1 &&
      diff -q "$TEST_TMP/$app.native" "$TEST_TMP/$app.venus" >/dev/null; then
      pass "spawn/$app"
    else
      fail "spawn/$app" "output differs from native or the client failed: $(tail -n 1 "$TEST_TMP/$app.venus")"
    fi
  done
  # The sandbox is entered in the spawned worker too (at its first VkDevice).
  if grep -q "context [0-9]*: sandbox on" "$VD_LOGFILE"; then
    pass "spawn/worker_sandboxed"
  else
    fail "spawn/worker_sandboxed" "no 'sandbox on' line in $VD_LOGFILE"
  fi
  for _ in $(seq 50); do [ -z "$(children "$VD_PID")" ] && break; sleep 0.1; done
  if [ -z "$(children "$VD_PID")" ]; then
    pass "spawn/workers_reaped"
  else
    fail "spawn/workers_reaped" "worker processes left: $(children "$VD_PID" | tr '\n' ' ')"
  fi
  stop_venusd "spawn/clean_exit"
fi

# "venusd worker" is venusd's own: without what the server passes it says so.
out=$("$VENUSD" worker 2>&1)
rc=$?
if [ "$rc" = 2 ] && grep -q "venusd starts its workers itself" <<<"$out"; then
  pass "spawn/worker_command_needs_the_server"
else
  fail "spawn/worker_command_needs_the_server" "exit $rc: $out"
fi
test_finish
