#!/usr/bin/env bash
# test_socket_activation.sh — venusd vtest started by socket activation (systemd's
# LISTEN_FDS protocol, as venusd.socket/venusd.service use it), without systemd: bookworm's
# systemd-socket-activate listens, passes the socket as fd 3 and execs venusd.
#   serves              a Venus vulkaninfo through the inherited socket sees the Venus device,
#                       and venusd's log names the socket and socket activation
#   clean_exit          SIGTERM: exit 0, no process left behind
#   socket_kept         the socket file stays (it belongs to the service manager)
#   not_listening       a connected socket (Accept=yes) as fd 3: exit 1, saying what it got
#   datagram            a unix datagram socket as fd 3: exit 1, saying what it got
#   not_a_socket        a regular file as fd 3: exit 1, "is not a socket"
#   malformed           LISTEN_FDS=abc: exit 1, naming the variable
#   other_pid           LISTEN_PID of another process: ignored, venusd listens on --socket
#   with_socket_option  --socket together with an inherited socket: usage error (exit 2)
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init socket_activation

if ! command -v systemd-socket-activate >/dev/null; then
  fail "socket_activation/tool" "systemd-socket-activate not found (Debian: systemd)"
  test_finish
fi

# activate OUT ARGS... — systemd-socket-activate ARGS... in its own process group, in the
# background, with lavapipe as the host driver; sets ACT_PID.
activate() {
  local out=$1
  shift
  setsid env --default-signal=INT,TERM -u VN_DEBUG -u VTEST_SOCKET_NAME \
    VK_DRIVER_FILES="$LVP_ICD" systemd-socket-activate "$@" >"$out" 2>&1 </dev/null &
  ACT_PID=$!
  printf '%s\n' "$ACT_PID" >>"$TEST_TMP/venusd.pids"
}

# wait_exit PID SECONDS — waits for PID to exit; sets RC (137 if it had to be killed).
wait_exit() {
  local pid=$1
  for _ in $(seq $(($2 * 10))); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    kill_group "$pid"
    RC=137
    return
  fi
  wait "$pid" 2>/dev/null
  RC=$?
}

# --- the normal case: a listening unix stream socket --------------------------------------
sock=$TEST_TMP/act.sock
[ "${#sock}" -lt 100 ] || sock=/tmp/venusd-act-$$.sock
rm -f "$sock"
activate "$TEST_TMP/act.log" -l "$sock" "$VENUSD" vtest --worker process
VD_PID=$ACT_PID VD_SOCK=$sock VD_LOGFILE=$TEST_TMP/act.log
for _ in $(seq 100); do socket_listening "$sock" && break; sleep 0.1; done
# systemd-socket-activate execs venusd at the first connection: this client's.
if venus_summary_ok "$TEST_TMP/act.out"; then
  if grep -q "listening on $sock (socket activation, fd 3)" "$TEST_TMP/act.log"; then
    pass "socket_activation/serves"
  else
    fail "socket_activation/serves" "the client worked but venusd's log does not name $sock and socket activation"
  fi
else
  fail "socket_activation/serves" "$VENUS_ERR"
  show_file "$TEST_TMP/act.log"
fi
# A second client on the same, still inherited, socket.
if venus_summary_ok "$TEST_TMP/act2.out"; then
  pass "socket_activation/second_client"
else
  fail "socket_activation/second_client" "$VENUS_ERR"
fi
stop_venusd "socket_activation/clean_exit"
if [ -S "$sock" ]; then
  pass "socket_activation/socket_kept"
else
  fail "socket_activation/socket_kept" "venusd removed $sock, which the service manager owns"
fi
rm -f "$sock"

# --- what fd 3 must not be -----------------------------------------------------------------
# An Accept=yes unit passes a connected socket; logger -T makes that connection.
activate "$TEST_TMP/accept.log" -a -l "$sock" "$VENUSD" vtest
for _ in $(seq 100); do socket_listening "$sock" && break; sleep 0.1; done
logger -T -u "$sock" venusd-test 2>/dev/null
# venusd logs its ERROR line before it exits; systemd-socket-activate's "died" line follows
# once it has (seconds later under ASan): wait for that one.
for _ in $(seq 200); do grep -q "died with code" "$TEST_TMP/accept.log" && break; sleep 0.1; done
if grep -q "fd 3 is not a listening unix stream socket (domain 1, want 1; type 1, want 1; listening 0)" "$TEST_TMP/accept.log" &&
  grep -q "died with code 1" "$TEST_TMP/accept.log"; then
  pass "socket_activation/not_listening"
else
  fail "socket_activation/not_listening" "$(grep -m1 -E 'ERROR|died' "$TEST_TMP/accept.log")"
  show_file "$TEST_TMP/accept.log"
fi
kill_group "$ACT_PID"
rm -f "$sock"

activate "$TEST_TMP/dgram.log" -d -l "$sock" "$VENUSD" vtest
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
logger -d -u "$sock" venusd-test 2>/dev/null
wait_exit "$ACT_PID" 30
if [ "$RC" = 1 ] && grep -q "fd 3 is not a listening unix stream socket (domain 1, want 1; type 2, want 1" "$TEST_TMP/dgram.log"; then
  pass "socket_activation/datagram"
else
  fail "socket_activation/datagram" "exit $RC (want 1): $(grep -m1 ERROR "$TEST_TMP/dgram.log")"
fi
rm -f "$sock"

# The shell's own pid becomes venusd's through exec, so LISTEN_PID can name it.
run_with_fd3() {
  local out=$1
  shift
  # VTEST_SOCKET_NAME: where a venusd that ignored fd 3 would listen instead of the default.
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout -s KILL 30 env VK_DRIVER_FILES="$LVP_ICD" VTEST_SOCKET_NAME="$TEST_TMP/fallback.sock" bash -c \
    'exec 3<"$1"; shift; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"' run "$TEST_TMP/act.out" \
    "$@" >"$out" 2>&1 </dev/null
  RC=$?
}
run_with_fd3 "$TEST_TMP/file.log" "$VENUSD" vtest
if [ "$RC" = 1 ] && grep -q "socket activation: fd 3 is not a socket" "$TEST_TMP/file.log"; then
  pass "socket_activation/not_a_socket"
else
  fail "socket_activation/not_a_socket" "exit $RC (want 1): $(tail -n 1 "$TEST_TMP/file.log")"
fi

out=$TEST_TMP/malformed.log
timeout -s KILL 30 env VK_DRIVER_FILES="$LVP_ICD" LISTEN_PID=1 LISTEN_FDS=abc \
  "$VENUSD" vtest --socket "$TEST_TMP/unused.sock" >"$out" 2>&1 </dev/null
RC=$?
if [ "$RC" = 1 ] && grep -q "LISTEN_FDS='abc' is not a positive number" "$out" &&
  [ ! -e "$TEST_TMP/unused.sock" ]; then
  pass "socket_activation/malformed"
else
  fail "socket_activation/malformed" "exit $RC (want 1): $(tail -n 1 "$out")"
fi

# LISTEN_PID names another process: not ours, so the normal --socket path is served.
sock2=$TEST_TMP/other.sock
[ "${#sock2}" -lt 100 ] || sock2=/tmp/venusd-other-$$.sock
out=$TEST_TMP/other.log
setsid env --default-signal=INT,TERM VK_DRIVER_FILES="$LVP_ICD" LISTEN_PID=1 LISTEN_FDS=1 \
  "$VENUSD" vtest --worker thread --socket "$sock2" >"$out" 2>&1 </dev/null &
VD_PID=$! VD_SOCK=$sock2 VD_LOGFILE=$out
printf '%s\n' "$VD_PID" >>"$TEST_TMP/venusd.pids"
for _ in $(seq 100); do socket_listening "$sock2" && break; sleep 0.1; done
if grep -q "LISTEN_PID=1 is not this process" "$out" && venus_summary_ok "$TEST_TMP/other.out"; then
  pass "socket_activation/other_pid"
else
  fail "socket_activation/other_pid" "${VENUS_ERR:-no 'is not this process' line}: $(tail -n 1 "$out")"
fi
stop_venusd "socket_activation/other_pid_exit"

run_with_fd3 "$TEST_TMP/both.log" "$VENUSD" vtest --socket "$TEST_TMP/both.sock"
if [ "$RC" = 2 ] && grep -q "drop --socket" "$TEST_TMP/both.log"; then
  pass "socket_activation/with_socket_option"
else
  fail "socket_activation/with_socket_option" "exit $RC (want 2): $(head -n 1 "$TEST_TMP/both.log")"
fi
test_finish
