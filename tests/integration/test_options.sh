#!/usr/bin/env bash
# test_options.sh — venusd's command line (main.c's option table and getopt_long):
#   help/vtest, help/render_server  each command's --help lists every option it takes,
#                       and render-server's not vtest's --socket
#   bad/<option>        a bad value exits 2 with "venusd CMD: --OPTION must be ..., not
#                       'VALUE'" (the option and the value named) and starts nothing
#   missing_value       an option without its value exits 2 naming the option
#   abbreviation        getopt_long's abbreviations are refused: "--mem" is not "--memory"
#   flag_value          a flag given a value (--validate=1) is refused
#   unexpected_argument a stray word is refused
#   wrong_command       a render-server option given to vtest (and the reverse) is unknown
#   accepted            every option with a valid value, in both "--opt V" and "--opt=V"
#                       forms, gets past parsing: venusd goes on to its Vulkan probe (which
#                       fails on purpose, VK_DRIVER_FILES naming no manifest: exit 1)
#   env_args            VENUSD_RENDER_SERVER_ARGS goes through the same table (a bad value
#                       there is named), and "venusd --socket-fd N" is the render server
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init options

# run NAME ARGS... — runs venusd with no usable driver; sets RC and OUT (its output file).
run() {
  OUT=$TEST_TMP/${1//\//-}.out
  shift
  timeout -s KILL 20 env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" "$@" >"$OUT" 2>&1 </dev/null
  RC=$?
}

vtest_opts=(socket worker log record memory host-pointer-alignment spin-us ring-spin-us
  max-rings emulate validate stats help)
rs_opts=(socket-fd framing worker log record memory host-pointer-alignment spin-us ring-spin-us
  max-rings emulate validate stats worker-seccomp-bpf worker-seccomp-minijail-policy
  worker-seccomp-minijail-log help)
for cmd in vtest render_server; do
  run "help-$cmd" "${cmd/_/-}" --help
  if [ "$cmd" = vtest ]; then opts=("${vtest_opts[@]}"); else opts=("${rs_opts[@]}"); fi
  missing=
  for o in "${opts[@]}"; do
    grep -q -- "^  \(-h, \)\{0,1\}--$o\b" "$OUT" || missing="$missing --$o"
  done
  if [ "$cmd" = render_server ] && grep -q -- '^  --socket ' "$OUT"; then
    missing="$missing (lists --socket, which it does not take)"
  fi
  if [ "$RC" = 0 ] && [ -z "$missing" ]; then
    pass "options/help/$cmd"
  else
    fail "options/help/$cmd" "exit $RC; not listed:${missing:- none}"
  fi
done

# bad_value NAME CMD OPTION VALUE WANT — exit 2 and the message WANT (a grep pattern).
bad_value() {
  local name=$1 cmd=$2 opt=$3 val=$4 want=$5 args
  args=(render-server --socket-fd 0)
  [ "$cmd" = vtest ] && args=(vtest --socket "$TEST_TMP/bad.sock")
  run "bad-$name" "${args[@]}" "--$opt" "$val"
  if [ "$RC" = 2 ] && grep -q -- "^venusd $cmd: --$opt must be $want, not '$val'" "$OUT" &&
    [ ! -e "$TEST_TMP/bad.sock" ]; then
    pass "options/bad/$name"
  else
    fail "options/bad/$name" "exit $RC (want 2): $(head -n 1 "$OUT")"
  fi
}
usecs='a number of microseconds from 0 to 1000000'
bad_value spin_us vtest spin-us -5 "$usecs"
bad_value ring_spin_us render-server ring-spin-us 1000001 "$usecs"
bad_value max_rings vtest max-rings 0 'a number of rings from 1 to 4096'
bad_value socket_fd render-server socket-fd x3 'a file descriptor number from 0 to 1048576'
bad_value memory vtest memory bogus "'auto', 'host-pointer' or 'export'"
bad_value worker render-server worker fork "'process', 'thread' or 'spawn'"
bad_value framing render-server framing datagram "'auto', 'seqpacket' or 'stream'"
bad_value alignment vtest host-pointer-alignment 3K 'a power of two up to 1G'
bad_value alignment_big vtest host-pointer-alignment 2G 'a power of two up to 1G'
bad_value emulate vtest emulate sync_fd,bogus \
  'a comma-separated list of sync_fd, fence_fd, dma_buf, modifiers, foreign, all or none'
bad_value log vtest log 'ring=loud' \
  'a log spec such as "info,ring=debug" (levels: error warn info debug trace)'
bad_value socket vtest socket '' 'a path'
bad_value record render-server record '' 'a directory'

# expect_usage NAME WANT ARGS... — exit 2 with WANT (a grep pattern) on the first line.
expect_usage() {
  local name=$1 want=$2
  shift 2
  run "$name" "$@"
  if [ "$RC" = 2 ] && head -n 1 "$OUT" | grep -q -- "$want"; then
    pass "options/$name"
  else
    fail "options/$name" "exit $RC (want 2 and '$want'): $(head -n 1 "$OUT")"
  fi
}
expect_usage missing_value "^venusd vtest: option '--max-rings' needs a value" vtest --max-rings
expect_usage abbreviation "^venusd vtest: unknown option '--mem' (did you mean '--memory'?)" \
  vtest --mem export
expect_usage flag_value "^venusd vtest: unknown option '--validate=1'" vtest --validate=1
expect_usage unexpected_argument "^venusd vtest: unexpected argument 'extra'" \
  vtest --socket "$TEST_TMP/x.sock" extra
expect_usage wrong_command/vtest "^venusd vtest: unknown option '--socket-fd'" vtest --socket-fd 3
expect_usage wrong_command/render_server \
  "^venusd render-server: unknown option '--socket' (did you mean '--socket-fd'?)" \
  render-server --socket-fd 0 --socket /tmp/x.sock
expect_usage render_server_needs_fd "^venusd render-server: --socket-fd N is required" render-server

# shellcheck disable=SC2054 # --emulate takes a comma-separated list
common=(--worker thread --log warn --record "$TEST_TMP/rec" --memory host-pointer
  --host-pointer-alignment 16K --ring-spin-us 0 --max-rings 8 --emulate sync_fd,foreign
  --validate --stats)
eq_form=(--worker=thread --log=warn --record="$TEST_TMP/rec" --memory=export
  --host-pointer-alignment=4096 --ring-spin-us=10 --max-rings=4096 --emulate=none)
bad=
# past_parsing WHAT — the last run got to the Vulkan probe (exit 1), else notes WHAT in $bad.
past_parsing() {
  [ "$RC" = 1 ] && grep -q 'no usable host Vulkan driver' "$OUT" ||
    bad="$bad $1: exit $RC $(head -n 1 "$OUT");"
}
run accepted-vtest vtest --socket "$TEST_TMP/ok.sock" --spin-us 0 "${common[@]}"
past_parsing vtest
run accepted-vtest-eq vtest --socket="$TEST_TMP/ok.sock" --spin-us=1000000 "${eq_form[@]}"
past_parsing "vtest (=)"
run accepted-rs render-server --socket-fd 0 "${common[@]}" --spin-us 5 --worker-seccomp-bpf /x \
  --worker-seccomp-minijail-policy /y --worker-seccomp-minijail-log
past_parsing render-server
if [ -z "$bad" ]; then
  pass "options/accepted"
else
  fail "options/accepted" "$bad"
fi

OUT=$TEST_TMP/env-bad.out
VENUSD_RENDER_SERVER_ARGS="--ring-spin-us 1 --memory nope" timeout -s KILL 20 \
  env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" --socket-fd 0 >"$OUT" 2>&1 </dev/null
RC=$?
OUT2=$TEST_TMP/env-ok.out
VENUSD_RENDER_SERVER_ARGS="--memory host-pointer --host-pointer-alignment 16384" \
  timeout -s KILL 20 env VK_DRIVER_FILES=/nonexistent.json "$VENUSD" --socket-fd 0 \
  >"$OUT2" 2>&1 </dev/null
RC2=$?
if [ "$RC" = 2 ] && grep -q "^venusd render-server: --memory must be .*, not 'nope'" "$OUT" &&
  [ "$RC2" = 1 ] && grep -q 'no usable host Vulkan driver' "$OUT2"; then
  pass "options/env_args"
else
  fail "options/env_args" "bad: exit $RC $(head -n 1 "$OUT") | good: exit $RC2 $(head -n 1 "$OUT2")"
fi
test_finish
