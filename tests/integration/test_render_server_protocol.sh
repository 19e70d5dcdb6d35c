#!/usr/bin/env bash
# The render-server protocol itself, without libvirglrenderer: rs_bad_client plays the
# proxy (docs/protocol.md §6), checks that fences update the timeline shmem and the
# eventfd, then sends requests no proxy sends.  Each must end its own context with a log
# line, while the other contexts and the server carry on; the server exits 0 when the
# proxy closes its socket and 1 on a client request of another protocol version.
. "$(dirname "$0")/lib.sh"
test_init render_server_protocol

BUILD=$(dirname "$VENUSD")
CLIENT=$BUILD/tests/integration/rs_bad_client
if [ ! -x "$CLIENT" ]; then
  fail "render_server_protocol/build" "$CLIENT missing"
  test_finish
fi
log=$TEST_TMP/venusd.log
for worker in process thread; do
  out=$TEST_TMP/out.$worker
  RS_NAME_PREFIX="render_server_protocol/$worker/" VK_DRIVER_FILES="$LVP_ICD" VENUSD_LOG=info \
    timeout -s KILL 120 "$CLIENT" "$VENUSD" --worker "$worker" >"$out" 2>"$log.$worker"
  rc=$?
  while read -r verdict name rest; do
    case $verdict in
      PASS) pass "$name" ;;
      FAIL) fail "${name%:}" "$rest" ;;
    esac
  done <"$out"
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "render_server_protocol/$worker/client" "rs_bad_client exited $rc"
  # Each malformed request left an ERROR line saying what was wrong.
  for check in "unknown_op:op 99" "wrong_size:NOP), 8 bytes" \
    "request_before_init:SUBMIT_FENCE before INIT" "non_venus_capset:capset 1;" \
    "fence_ring_out_of_range:fence on ring 64" "short_continuation:continuation has 10 bytes" \
    "unknown_venus_command:9999" "unexpected_fd:1 fds" "init_twice:INIT sent twice" "short_timeline_shmem:not a file of at least" \
    "malformed_client_op:op 8 (unknown)"; do
    what=${check#*:}
    if grep "ERROR" "$log.$worker" | grep -qF "$what"; then
      pass "render_server_protocol/$worker/${check%%:*}_logged"
    else
      fail "render_server_protocol/$worker/${check%%:*}_logged" "no ERROR line containing '$what' in $log.$worker"
    fi
  done
  if grep -Eq "Sanitizer|runtime error" "$log.$worker"; then
    fail "render_server_protocol/$worker/no_sanitizer_reports" "$(grep -Em1 "Sanitizer|runtime error" "$log.$worker")"
  else
    pass "render_server_protocol/$worker/no_sanitizer_reports"
  fi
done
test_finish
