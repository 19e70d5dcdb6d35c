#!/usr/bin/env bash
# The render-server protocol itself, without libvirglrenderer: rs_bad_client plays the
# proxy (docs/protocol.md §6), checks that fences update the timeline shmem and the
# eventfd, then sends requests no proxy sends.  Each must end its own context with a log
# line, while the other contexts and the server carry on; the server exits 0 when the
# proxy closes its socket and 1 on a client request of another protocol version.
# Both framings: seqpacket (SOCK_SEQPACKET, Linux's virglrenderer) and stream (SOCK_STREAM
# with a 4-byte length before each message, virglrenderer's macOS build), where broken
# length headers end their context.  Then each framing mismatch (a proxy of one framing on
# a socket of the other, or --framing forcing the wrong one) and each broken header on the
# proxy's own socket must stop the server (exit 1) with a line that says what happened.
. "$(dirname "$0")/lib.sh"
test_init render_server_protocol

BUILD=$(dirname "$VENUSD")
CLIENT=$BUILD/tests/integration/rs_bad_client
if [ ! -x "$CLIENT" ]; then
  fail "render_server_protocol/build" "$CLIENT missing"
  test_finish
fi
log=$TEST_TMP/venusd.log
# run_client NAME LOG [rs_bad_client arguments...]: its PASS/FAIL lines become ours.
run_client() {
  local name=$1 log=$2
  shift 2
  local out=$TEST_TMP/out.${name//\//.}
  RS_NAME_PREFIX="render_server_protocol/$name/" VK_DRIVER_FILES="$LVP_ICD" VENUSD_LOG=info \
    timeout -s KILL 120 "$CLIENT" "$@" >"$out" 2>"$log"
  local rc=$?
  while read -r verdict test rest; do
    case $verdict in
      PASS) pass "$test" ;;
      FAIL) fail "${test%:}" "$rest" ;;
    esac
  done <"$out"
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "render_server_protocol/$name/client" "rs_bad_client exited $rc"
  if grep -Eq "Sanitizer|runtime error" "$log"; then
    fail "render_server_protocol/$name/no_sanitizer_reports" "$(grep -Em1 "Sanitizer|runtime error" "$log")"
  else
    pass "render_server_protocol/$name/no_sanitizer_reports"
  fi
}

# check_logged NAME LOG CHECK...: each CHECK is "test:text", an ERROR line of LOG must
# contain text.
check_logged() {
  local name=$1 log=$2
  shift 2
  local check what
  for check in "$@"; do
    what=${check#*:}
    if grep "ERROR" "$log" | grep -qF -- "$what"; then
      pass "render_server_protocol/$name/${check%%:*}_logged"
    else
      fail "render_server_protocol/$name/${check%%:*}_logged" "no ERROR line containing '$what' in $log"
    fi
  done
}

for framing in seqpacket stream; do
  for worker in process thread spawn; do
    name=$framing/$worker
    [ "$framing" = seqpacket ] && name=$worker # the names the tests had before the framings
    # A spawned worker may still be starting (exec, and a sanitizer's start) when its bad
    # request is sent: that time counts in bad_contexts_close_promptly.
    prompt=750
    [ "$worker" = spawn ] && prompt=3000
    export RS_PROMPT_MS=$prompt
    run_client "$name" "$log.$framing.$worker" --framing "$framing" "$VENUSD" --worker "$worker"
    # Each malformed request left an ERROR line saying what was wrong.
    check_logged "$name" "$log.$framing.$worker" "unknown_op:op 99" "wrong_size:NOP), 8 bytes" \
      "request_before_init:SUBMIT_FENCE before INIT" "non_venus_capset:capset 1;" \
      "fence_ring_out_of_range:fence on ring 64" "short_continuation:continuation has 10 bytes" \
      "unknown_venus_command:9999" "unexpected_fd:1 fds" "init_twice:INIT sent twice" \
      "short_timeline_shmem:not a file of at least" "malformed_client_op:op 99 (unknown), 8 bytes"
    [ "$framing" = stream ] && check_logged "$name" "$log.$framing.$worker" \
      "zero_length:context 12: a length header of 0 bytes" \
      "huge_length:context 13: a length header announcing 2147483647 bytes" \
      "truncated_message:context 14: the socket ended 4 bytes into a 16-byte message" \
      "truncated_header:context 15: the socket ended 2 bytes into a 4-byte length header" \
      "fds_without_data:context 16: a length header of 0 bytes"
  done
done

# Mismatches: the server says which framing the proxy speaks and what to change.
run_client mismatch "$log.mismatch" --mismatch "$VENUSD"
check_logged mismatch "$log.mismatch" \
  "stream_proxy_on_seqpacket_socket:the proxy sends a 4-byte length before each message (virglrenderer's macOS framing) but this socket (SOCK_SEQPACKET) was treated as seqpacket, from the socket's type" \
  "be_length_read_as_op:the length 8 is taken for op 134217728 (virglrenderer's own server says \"invalid client op 134217728\").  Run venusd with --framing stream" \
  "invalid_client_op_8_explained:read as seqpacket framing (from the socket's type (--framing auto), socket SOCK_SEQPACKET), its length 8 is taken for op 8 (virglrenderer's own server says \"invalid client op 8\")" \
  "seqpacket_proxy_on_stream_socket:the proxy sends each message without a length header (virglrenderer's Linux seqpacket framing) but this socket (SOCK_STREAM) was treated as stream, from the socket's type" \
  "seqpacket_proxy_with_framing_stream:but this socket (SOCK_SEQPACKET) was treated as stream, by --framing" \
  "framing_seqpacket_on_stream_socket:--framing seqpacket on fd" \
  "eight_byte_header_proxy:the proxy sends an 8-byte header (length and fd count, host byte order)" \
  "eight_byte_header_proxy_on_stream:read as stream framing (from the socket's type (--framing auto), socket SOCK_STREAM), its length 8 is taken for a 134217728-byte length" \
  "client_zero_length:render-server: a length header of 0 bytes" \
  "client_huge_length:render-server: a length header announcing 1073741824 bytes" \
  "client_truncated_message:render-server: the socket ended 4 bytes into a 40-byte message" \
  "proxy_itself_broken:the proxy itself sends malformed messages"
n=$(grep -c "framing mismatch on the render-server socket" "$log.mismatch")
if [ "$n" = 6 ]; then
  pass "render_server_protocol/mismatch/each_mismatch_logged_once"
else
  fail "render_server_protocol/mismatch/each_mismatch_logged_once" "$n 'framing mismatch' lines in $log.mismatch (expected 6)"
fi
test_finish
