#!/usr/bin/env bash
# test_cli_claims.sh — README claims about the command line, each checked against what
# venusd really does (issue 13: "check every other claim in the README against a test"):
#   version             "venusd --version" prints "venusd <version> ..." and exits 0
#   record_replay/*     --record DIR through a real vtest session writes
#                       DIR/ctx<id>-<name>.vnr, and "venusd replay FILE" decodes it (exit 0,
#                       the session's vkCreateDevice among the printed commands)
#   robustness          every guest device gets robustBufferAccess and robustImageAccess:
#                       vk_compute_smoke does not ask for them, and venusd's vk=debug line
#                       for its vkCreateDevice says both are on
#   stats/logged        --stats (with the record session): when the context ends venusd
#                       logs, for its ring and its virtqueue, "N commands in X ms busy of Y
#                       ms", and a line per command type among the slowest, with counts
#                       (vk_compute_smoke's one vkCreateComputePipelines: "1 x")
#   stats/off           without --stats (the spin sessions) no such line
#   thread_names        while a client (bench/ctx_hold) holds its context, the worker's
#                       threads include one named vd-ring, and the worker itself is still
#                       named venusd (ps and pgrep see the process's name)
#   spin/<N>            --spin-us N --ring-spin-us N with N = 0 and 1000000: clients work
#   log/error_only      --log error: a session logs no INFO line
#   log/last_wins       --log info --log error: the last occurrence wins, no INFO line
#   log/context_lines   every line with a context's prefix (ring threads' too) carries the
#                       client's name, and ring threads have such lines
#   log/ring_debug      --log ring=debug: ring DEBUG lines, and no DEBUG line of another
#                       category
#   log/option_wins     VENUSD_LOG=error with --log info: INFO lines are printed
#   log/env             VENUSD_LOG=error alone: no INFO line (the variable is read)
#   socket/env          without --socket, venusd listens on $VTEST_SOCKET_NAME
#   socket/default      without --socket and VTEST_SOCKET_NAME, on /tmp/.virgl_test (SKIP
#                       when another server already has that path)
#   render_server/seccomp_warning  --worker-seccomp-* accepted with a WARN line
#   render_server/no_driver        no usable Vulkan driver: exit 1 and a message saying so
#   render_server/socket_fd_first  "venusd --socket-fd N" (no command) is the render
#                       server: rs_bad_client's protocol session passes through it
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init cli_claims
BUILD=$(dirname "$VENUSD")
APP=$BUILD/tests/apps/vk_compute_smoke

# ---- --version ------------------------------------------------------------------------
out=$(timeout -s KILL 20 "$VENUSD" --version 2>&1)
rc=$?
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq '^venusd [0-9]+\.[0-9]+'; then
  pass cli_claims/version
else
  fail cli_claims/version "exit $rc (want 0), output '$out' (want 'venusd <major>.<minor>...')"
fi

# ---- --record / replay, and forced robustness (one session) ---------------------------
rec=$TEST_TMP/rec
mkdir -p "$rec"
if [ ! -x "$APP" ]; then
  fail cli_claims/record_replay/session "$APP missing (build tests/apps first)"
elif start_venusd_or_fail cli_claims/record_replay/session --record "$rec" \
  --log info,vk=debug --stats; then
  if venus_client "$APP" >"$TEST_TMP/app.out" 2>&1; then
    pass cli_claims/record_replay/session
  else
    fail cli_claims/record_replay/session \
      "vk_compute_smoke through venusd failed: $(tail -n 1 "$TEST_TMP/app.out")"
  fi
  stop_venusd cli_claims/record_replay/clean_exit
  log=$VD_LOGFILE
  files=$(find "$rec" -name 'ctx*-*.vnr' -size +0 | sort)
  if [ -n "$files" ]; then
    pass cli_claims/record_replay/files
  else
    fail cli_claims/record_replay/files \
      "no non-empty DIR/ctx<id>-<name>.vnr in $rec: $(find "$rec" -type f | tr '\n' ' ')"
  fi
  bad=
  found=0
  for f in $files; do
    timeout -s KILL 60 "$VENUSD" replay "$f" >"$f.txt" 2>&1 ||
      bad="$bad ${f##*/}: exit $?;"
    grep -q 'vkCreateDevice' "$f.txt" && found=1
  done
  if [ -n "$files" ] && [ -z "$bad" ] && [ "$found" = 1 ]; then
    pass cli_claims/record_replay/replay
  else
    fail cli_claims/record_replay/replay \
      "replay failed:${bad:- none}; vkCreateDevice printed: $found"
  fi
  # Every line with a context's prefix, ring threads' included, names the client.
  nameless=$(grep '\[ctx ' "$log" | grep -v '\[ctx [0-9]* vk_compute_smoke ')
  if grep -q '\[ctx [0-9]* vk_compute_smoke .*ring ' "$log" && [ -z "$nameless" ]; then
    pass cli_claims/log/context_lines
  else
    why="a context's line without the client's name (or no ring thread line)"
    fail cli_claims/log/context_lines "$why: $(printf '%s\n' "$nameless" | head -n 1)"
  fi
  # vk_compute_smoke enables no features at all; venusd must turn both on.
  want='vkCreateDevice on .*: robustBufferAccess on, robustImageAccess on'
  if grep -q "DEBUG vk: .*$want" "$log"; then
    pass cli_claims/robustness
  else
    fail cli_claims/robustness \
      "no '$want' line in $log: $(grep 'vkCreateDevice on' "$log" | head -n 1)"
  fi
fi

# ---- --stats (the record session above ran with it) -------------------------------------
if [ -n "${log:-}" ]; then
  if grep -Eq 'stats: ctx [0-9]+ ring [0-9a-f]+: [0-9]+ commands in [0-9.]+ ms busy of [0-9.]+ ms' "$log" &&
    grep -Eq 'stats: ctx [0-9]+ virtqueue: [0-9]+ commands in [0-9.]+ ms busy' "$log" &&
    grep -Eq 'stats: ctx [0-9]+ ring [0-9a-f]+: +vkCreateComputePipelines +1 x +[0-9.]+ ms = +[0-9.]+ us each' "$log"; then
    pass cli_claims/stats/logged
  else
    fail cli_claims/stats/logged "no per-dispatcher or per-command stats lines in $log: $(grep -m1 'stats:' "$log")"
  fi
fi

# ---- thread names (README "Logging": vd-ring, vd-monitor, vd-fence, vd-context) ------
HOLD=$BUILD/bench/ctx_hold
if [ ! -x "$HOLD" ]; then
  fail cli_claims/thread_names "$HOLD missing (build bench/ first)"
elif start_venusd_or_fail cli_claims/thread_names; then
  fifo=$TEST_TMP/hold.fifo
  mkfifo "$fifo"
  venus_client "$HOLD" <"$fifo" >"$TEST_TMP/hold.out" 2>&1 &
  hold_pid=$!
  exec 8>"$fifo"
  for ((i = 0; i < CLIENT_TIMEOUT * 10; i++)); do
    grep -q '^ready' "$TEST_TMP/hold.out" 2>/dev/null && break
    alive "$hold_pid" || break
    sleep 0.1
  done
  worker=$(children "$VD_PID" | head -n 1)
  names=$(list_threads "${worker:-0}" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
  wname=$(cat "/proc/${worker:-0}/comm" 2>/dev/null)
  exec 8>&-
  wait "$hold_pid" 2>/dev/null
  if ! grep -q '^ready' "$TEST_TMP/hold.out"; then
    fail cli_claims/thread_names "ctx_hold did not get ready: $(tail -n 1 "$TEST_TMP/hold.out")"
  elif [[ " $names " == *" vd-ring "* ]] && [ "$wname" = venusd ]; then
    pass cli_claims/thread_names
  else
    fail cli_claims/thread_names "worker ${worker:-none} is named '$wname' (want venusd), its threads: $names(want vd-ring among them)"
  fi
  stop_venusd cli_claims/thread_names/clean_exit
fi

# ---- --spin-us / --ring-spin-us --------------------------------------------------------
stats_off=1
for n in 0 1000000; do
  if start_venusd_or_fail "cli_claims/spin/$n" --spin-us "$n" --ring-spin-us "$n"; then
    if venus_summary_ok "$TEST_TMP/spin-$n.out" &&
      venus_client "$APP" >"$TEST_TMP/spin-$n.app" 2>&1; then
      pass "cli_claims/spin/$n"
    else
      fail "cli_claims/spin/$n" \
        "${VENUS_ERR:-vk_compute_smoke failed: $(tail -n 1 "$TEST_TMP/spin-$n.app")}"
    fi
    VENUS_ERR=
    stop_venusd "cli_claims/spin/$n/clean_exit"
    grep -q 'stats:' "$VD_LOGFILE" && stats_off=0
  fi
done
if [ "$stats_off" = 1 ]; then
  pass cli_claims/stats/off
else
  fail cli_claims/stats/off "a venusd without --stats logged: $(grep -m1 'stats:' "$VD_LOGFILE")"
fi

# ---- --log and VENUSD_LOG --------------------------------------------------------------
# log_session NAME ARGS... — a venusd with ARGS serves vk_compute_smoke; LOG is its log.
log_session() {
  local name=$1
  shift
  LOG=
  start_venusd_or_fail "$name" "$@" || return 1
  venus_client "$APP" >"$TEST_TMP/${name//\//-}.app" 2>&1
  local rc=$?
  stop_venusd "$name/clean_exit"
  LOG=$VD_LOGFILE
  [ "$rc" = 0 ] || { fail "$name" "vk_compute_smoke failed (exit $rc)"; return 1; }
}
lines() { grep -cE "^venusd\[[0-9]+\] $1" "$LOG"; }
if log_session cli_claims/log/error_only --log error; then
  if [ "$(lines INFO)" = 0 ]; then
    pass cli_claims/log/error_only
  else
    fail cli_claims/log/error_only \
      "$(lines INFO) INFO lines with --log error: $(grep -m1 ' INFO ' "$LOG")"
  fi
fi
if log_session cli_claims/log/last_wins --log info --log error; then
  if [ "$(lines INFO)" = 0 ]; then
    pass cli_claims/log/last_wins
  else
    fail cli_claims/log/last_wins "$(lines INFO) INFO lines with --log info --log error"
  fi
fi
if log_session cli_claims/log/ring_debug --log ring=debug; then
  others='DEBUG (main|transport|context|decode|vk|memory):'
  if [ "$(lines 'DEBUG ring:')" -gt 0 ] && [ "$(lines "$others")" = 0 ]; then
    pass cli_claims/log/ring_debug
  else
    why="ring DEBUG lines: $(lines 'DEBUG ring:') (want > 0)"
    fail cli_claims/log/ring_debug "$why; other DEBUG lines: $(lines "$others") (want 0)"
  fi
fi
if VENUSD_LOG=error log_session cli_claims/log/option_wins --log info; then
  if [ "$(lines INFO)" -gt 0 ]; then
    pass cli_claims/log/option_wins
  else
    fail cli_claims/log/option_wins "no INFO line with VENUSD_LOG=error --log info"
  fi
fi
if VENUSD_LOG=error log_session cli_claims/log/env; then
  if [ "$(lines INFO)" = 0 ]; then
    pass cli_claims/log/env
  else
    fail cli_claims/log/env "$(lines INFO) INFO lines with VENUSD_LOG=error"
  fi
fi

# ---- the socket path without --socket --------------------------------------------------
# no_socket_session NAME PATH [VTEST_SOCKET_NAME] — venusd started without --socket must
# listen on PATH and serve vulkaninfo there.
no_socket_session() {
  local name=$1 path=$2 envname=${3:-} pid log=$TEST_TMP/${1//\//-}.log
  setsid env --default-signal=INT,TERM,HUP,QUIT,PIPE -u VN_DEBUG -u VTEST_SOCKET_NAME \
    -u VK_ICD_FILENAMES -u LISTEN_FDS -u LISTEN_PID ${envname:+VTEST_SOCKET_NAME="$envname"} \
    VK_DRIVER_FILES="$LVP_ICD" "$VENUSD" vtest >"$log" 2>&1 </dev/null &
  pid=$!
  VD_PID=$pid # for the EXIT trap
  for _ in $(seq 200); do
    socket_listening "$path" && break
    alive "$pid" || break
    sleep 0.1
  done
  if ! socket_listening "$path"; then
    fail "$name" "venusd without --socket is not listening on $path: $(tail -n 1 "$log")"
  elif VD_SOCK=$path venus_summary_ok "$TEST_TMP/${name//\//-}.out"; then
    pass "$name"
  else
    fail "$name" "$VENUS_ERR"
  fi
  VD_LOGFILE=$log
  stop_venusd "$name/clean_exit"
  [ -S "$path" ] && fail "$name/unlinked" "$path left behind after exit"
}
env_sock=$TEST_TMP/env.sock
[ "${#env_sock}" -lt 100 ] || env_sock=/tmp/venusd-claims-$$.sock
no_socket_session cli_claims/socket/env "$env_sock" "$env_sock"
if socket_listening /tmp/.virgl_test || [ -e /tmp/.virgl_test ]; then
  skip cli_claims/socket/default "/tmp/.virgl_test exists (another vtest server uses it)"
else
  no_socket_session cli_claims/socket/default /tmp/.virgl_test
fi

# ---- the render server -----------------------------------------------------------------
out=$TEST_TMP/seccomp.out
timeout -s KILL 20 env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" render-server --socket-fd 0 \
  --worker-seccomp-bpf /x --worker-seccomp-minijail-policy /y --worker-seccomp-minijail-log \
  >"$out" 2>&1 </dev/null
rc=$?
if [ "$rc" = 1 ] && grep -q 'WARN main: --worker-seccomp-\* options ignored' "$out"; then
  pass cli_claims/render_server/seccomp_warning
else
  fail cli_claims/render_server/seccomp_warning \
    "exit $rc (want 1, the probe's), no WARN line: $(head -n 1 "$out")"
fi
if [ "$rc" = 1 ] && grep -q '^venusd render-server: no usable host Vulkan driver' "$out"; then
  pass cli_claims/render_server/no_driver
else
  fail cli_claims/render_server/no_driver "exit $rc (want 1): $(tail -n 1 "$out")"
fi

# rs_bad_client runs "PROGRAM render-server --socket-fd N ..."; this wrapper drops the
# command word, so venusd sees "--socket-fd N" first, as RENDER_SERVER_EXEC_PATH runs it.
wrap=$TEST_TMP/venusd-no-command
cat >"$wrap" <<EOF
#!/bin/sh
[ "\$1" = render-server ] && shift
echo "\$*" >"$TEST_TMP/wrap.args"
exec "$VENUSD" "\$@"
EOF
chmod +x "$wrap"
out=$TEST_TMP/rs.out
RS_NAME_PREFIX='' VK_DRIVER_FILES="$LVP_ICD" VENUSD_LOG=info timeout -s KILL 120 \
  "$BUILD/tests/integration/rs_bad_client" "$wrap" --worker thread >"$out" 2>"$TEST_TMP/rs.log"
rc=$?
args=$(cat "$TEST_TMP/wrap.args" 2>/dev/null)
if [ "$rc" = 0 ] && [ "${args%% *}" = --socket-fd ] && grep -q '^PASS ' "$out" &&
  ! grep -q '^FAIL ' "$out"; then
  pass cli_claims/render_server/socket_fd_first
else
  fail cli_claims/render_server/socket_fd_first \
    "rs_bad_client exit $rc, venusd argv '$args': $(grep -m1 '^FAIL' "$out")"
  show_file "$TEST_TMP/rs.log"
fi
test_finish
