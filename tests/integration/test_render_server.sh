#!/usr/bin/env bash
# venusd as a drop-in virgl_render_server, behind the real libvirglrenderer: Debian 13's
# virglrenderer 1.1.0 (in the chroot tests/vm/vm.sh makes for QEMU, which has its
# virgl-server package too) runs virgl_test_server --venus, whose proxy
# spawns $RENDER_SERVER_EXEC_PATH --socket-fd N, here a copy of venusd.  This is the path
# QEMU takes.  On these machines (no udmabuf) virglrenderer's own render server dies at the
# first memory blob (docs/reference-comparison.md); through venusd every app must give the
# same output as natively, at the driver's alignment and at 16 KiB, with process and
# thread workers.  A context with bad input must end alone, logged, and the next client
# must work; when the proxy goes away venusd must exit and leave no worker behind.
# The mode "stream" runs venusd in the stream framing of virglrenderer's macOS build,
# behind rs_stream_shim (which frames the proxy's SOCK_SEQPACKET records for venusd on
# SOCK_STREAM sockets); RS_FRAMING=stream runs every mode that way.
#
# Needs root (bind mounts into the chroot) and the chroot: REF_ROOT, default
# ${VENUSD_VM_HOME:-/var/cache/venusd-vm}/host, made by 'tests/vm/vm.sh setup' (run here
# when it is missing).  A sanitizer build brings its runtime libraries along (the chroot
# has none).
. "$(dirname "$0")/lib.sh"
test_init render_server

REF_ROOT_GIVEN=${REF_ROOT:+1}
REF_ROOT=${REF_ROOT:-${VENUSD_VM_HOME:-/var/cache/venusd-vm}/host}
BUILD=$(dirname "$VENUSD")
APPS="vk_fill vk_buffer_ops vk_compute_smoke vk_push_indexing vk_image_smoke vk_image_formats
  vk_triangle_smoke vk_scene vk_secondary vk_queries vk_threads_smoke vk_timeline_threads
  vk_sync_objects vk_advanced"

if [ ! -x "$REF_ROOT/usr/bin/virgl_test_server" ] && [ -z "${REF_ROOT_GIVEN:-}" ]; then
  note "no virgl_test_server in $REF_ROOT yet: running tests/vm/vm.sh setup"
  bash "$REPO_ROOT/tests/vm/vm.sh" setup >"$TEST_TMP/vm-setup.log" 2>&1 || show_file "$TEST_TMP/vm-setup.log" 10
fi
if [ ! -x "$REF_ROOT/usr/bin/virgl_test_server" ]; then
  fail "render_server/reference_stack" "no virgl_test_server in $REF_ROOT: run 'bash tests/vm/vm.sh setup' (needs root and network), or set REF_ROOT to a Debian 13 tree with virgl-server"
  test_finish
fi
if [ "$(id -u)" != 0 ]; then
  fail "render_server/root" "needs root for the chroot's bind mounts"
  test_finish
fi

# The chroot sees the host's /tmp, /dev, /proc and /sys; TEST_TMP must be under /tmp.
mounted=()
for m in proc sys dev dev/pts dev/shm tmp; do
  mkdir -p "$REF_ROOT/$m"
  if ! mountpoint -q "$REF_ROOT/$m"; then
    mount --bind "/$m" "$REF_ROOT/$m" && mounted=("$m" "${mounted[@]}")
  fi
done
case $TEST_TMP in
  /tmp/*) ;;
  *) fail "render_server/tmp" "TEST_TMP ($TEST_TMP) must be under /tmp, which the chroot shares"; test_finish ;;
esac
# The binary the proxy runs; venusd links only to libc and libvulkan, both in the chroot.
RS_BIN=$TEST_TMP/rs-bin/venusd
mkdir -p "$(dirname "$RS_BIN")"
cp "$VENUSD" "$RS_BIN"
SHIM=$TEST_TMP/rs-bin/rs_stream_shim
cp "$BUILD/tests/integration/rs_stream_shim" "$SHIM" ||
  fail "render_server/build" "no $BUILD/tests/integration/rs_stream_shim"
RS_LIBS=
for lib in $(ldd "$VENUSD" | awk '/lib(asan|ubsan)\.so/ {print $3}'); do
  mkdir -p "$TEST_TMP/rs-bin/lib"
  cp "$lib" "$TEST_TMP/rs-bin/lib/"
  RS_LIBS=$TEST_TMP/rs-bin/lib
done

RS_PID=
RS_SOCK=
RS_LOG=
RS_N=0
# start_stack LABEL "VENUSD OPTIONS" — virgl_test_server in the chroot, venusd as its
# render server (options through VENUSD_RENDER_SERVER_ARGS: the proxy passes none).
start_stack() {
  RS_N=$((RS_N + 1))
  RS_SOCK=$TEST_TMP/rs-$RS_N.sock
  RS_LOG=$TEST_TMP/rs-$RS_N.log
  local exec_path=$RS_BIN
  case $1 in stream*) exec_path=$SHIM ;; esac
  setsid chroot "$REF_ROOT" env -i PATH=/usr/bin:/bin HOME=/tmp \
    VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json \
    RENDER_SERVER_EXEC_PATH="$exec_path" RS_SHIM_SERVER="$RS_BIN" \
    VENUSD_RENDER_SERVER_ARGS="$2" VENUSD_LOG=info \
    ${RS_LIBS:+LD_LIBRARY_PATH=$RS_LIBS} ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    virgl_test_server --venus --no-virgl --multi-clients --socket-path "$RS_SOCK" \
    >"$RS_LOG" 2>&1 </dev/null &
  RS_PID=$!
  for _ in $(seq 100); do [ -S "$RS_SOCK" ] && return 0; sleep 0.1; done
  fail "render_server/$1/start" "virgl_test_server did not create $RS_SOCK: $(tail -n 3 "$RS_LOG")"
  return 1
}
rs_client() {
  env -u VK_ICD_FILENAMES -u VK_INSTANCE_LAYERS -u DISPLAY -u WAYLAND_DISPLAY \
    ASAN_OPTIONS="$CLIENT_ASAN_OPTIONS" \
    VN_DEBUG=vtest VTEST_SOCKET_NAME="$RS_SOCK" VK_DRIVER_FILES="$VENUS_ICD" \
    timeout -s KILL "$CLIENT_TIMEOUT" "$@"
}
# venusd processes started from RS_BIN: the render server and its process workers (forks
# of it, so told apart by their parent).
rs_all() { pgrep -f "^$RS_BIN" | wc -l; }
rs_workers() {
  local pids p n=0
  pids=" $(pgrep -f "^$RS_BIN" | tr '\n' ' ') "
  for p in $pids; do
    case $pids in *" $(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) "*) n=$((n + 1)) ;; esac
  done
  echo "$n"
}

# Native outputs, once.
for app in $APPS; do
  native_client "$BUILD/tests/apps/$app" >"$TEST_TMP/$app.native" 2>&1 ||
    fail "render_server/native/$app" "native run failed: $(tail -n 1 "$TEST_TMP/$app.native")"
done
FFMPEG_FILTER="avgblur_vulkan=sizeX=32:sizeY=32"
ffmpeg_run() {
  ffmpeg -nostdin -hide_banner -loglevel error -init_hw_device vulkan=vk:0 -filter_hw_device vk \
    -f lavfi -i "testsrc2=size=320x240:rate=25" -frames:v 4 \
    -vf "format=yuv420p,hwupload,$FFMPEG_FILTER,hwdownload,format=yuv420p" -f framemd5 -y "$1" 2>"$1.err"
}
export -f ffmpeg_run
export FFMPEG_FILTER
command -v ffmpeg >/dev/null && native_client bash -c 'ffmpeg_run "$0"' "$TEST_TMP/ffmpeg.native"

# RENDER_SERVER_MODES: the labels of the modes below to run (default all; "none" runs only
# the limits at the end).
modes=("process:--worker process" "thread:--worker thread"
  "align16k:--worker process --host-pointer-alignment 16384")
if [ "${RS_FRAMING:-}" = stream ]; then
  modes=("${modes[@]/#/stream_}")
else
  modes+=("stream:--worker process")
fi
for mode in "${modes[@]}"; do
  label=${mode%%:*}
  if [ -n "${RENDER_SERVER_MODES:-}" ]; then
    case " $RENDER_SERVER_MODES " in *" $label "*) ;; *) continue ;; esac
  fi
  start_stack "$label" "${mode#*:}" || continue

  # vulkaninfo through the proxy reaches venusd's device.
  if rs_client vulkaninfo --summary >"$TEST_TMP/vi.$label" 2>&1 &&
    grep -Eq "deviceName += $VENUS_DEVICE_RE" "$TEST_TMP/vi.$label"; then
    pass "render_server/$label/vulkaninfo"
  else
    fail "render_server/$label/vulkaninfo" "no Venus device: $(tail -n 1 "$TEST_TMP/vi.$label") | server: $(tail -n 2 "$RS_LOG")"
  fi
  # While a client is connected: one render server, plus one worker per context in
  # process mode (the proxy starts the server with its first client and stops it after
  # its last).
  want=2
  case $label in *thread) want=1 ;; esac
  (rs_client "$BUILD/tests/apps/vk_idle" 2 >"$TEST_TMP/idle.$label" 2>&1) &
  idle_pid=$!
  for _ in $(seq 50); do grep -q '^idle' "$TEST_TMP/idle.$label" 2>/dev/null && break; sleep 0.1; done
  n=$(rs_all)
  wait "$idle_pid"
  framing="SOCK_SEQPACKET, seqpacket framing"
  case $label in stream*) framing="SOCK_STREAM, stream framing" ;; esac
  if [ "$n" = "$want" ] && grep -q "render server on fd .*($framing)" "$RS_LOG" && grep -q '^OK idle' "$TEST_TMP/idle.$label"; then
    pass "render_server/$label/venusd_is_the_render_server"
  else
    fail "render_server/$label/venusd_is_the_render_server" "$n venusd processes with a client connected (expected $want, $framing); client: $(tail -n 1 "$TEST_TMP/idle.$label"); log: $(grep -m1 "render server on" "$RS_LOG")"
  fi

  for app in $APPS; do
    out=$TEST_TMP/$app.$label
    if rs_client "$BUILD/tests/apps/$app" >"$out" 2>&1 && diff -q "$TEST_TMP/$app.native" "$out" >/dev/null; then
      pass "render_server/$label/$app"
    else
      fail "render_server/$label/$app" "output differs from native or the client failed: $(tail -n 1 "$out")"
      show_file "$RS_LOG" 10
    fi
  done

  if command -v ffmpeg >/dev/null; then
    rs_client bash -c 'ffmpeg_run "$0"' "$TEST_TMP/ffmpeg.$label"
    if [ "$(grep -c '^0,' "$TEST_TMP/ffmpeg.$label")" = 4 ] &&
      diff -q <(grep '^0,' "$TEST_TMP/ffmpeg.native") <(grep '^0,' "$TEST_TMP/ffmpeg.$label") >/dev/null; then
      pass "render_server/$label/ffmpeg_avgblur"
    else
      fail "render_server/$label/ffmpeg_avgblur" "frame MD5s differ from native: $(tail -n 1 "$TEST_TMP/ffmpeg.$label.err")"
    fi
  fi

  # A client whose shader corrupts the driver's heap (ffmpeg 5.1's avgblur below radius 31,
  # see test_real_apps.sh) may take its worker down, never the server: the next client
  # below must still work.
  if command -v ffmpeg >/dev/null; then
    FFMPEG_FILTER="avgblur_vulkan=sizeX=5:sizeY=3" rs_client bash -c 'ffmpeg_run "$0"' "$TEST_TMP/ffmpeg-overrun.$label"
    note "overrunning avgblur: client exit $? (its worker hangs or aborts in glibc's heap checks)"
  fi

  # Bad guest input: an unknown Venus command ends that context alone, with a log line.
  "$BUILD/tests/integration/vtest_bad_client" --socket "$RS_SOCK" --mode unknown-command \
    --timeout-ms 5000 >"$TEST_TMP/bad.$label" 2>&1
  sleep 0.5
  if grep -q "unknown command\|unknown Venus command\|command type 9999" "$RS_LOG"; then
    pass "render_server/$label/bad_input_logged"
  else
    fail "render_server/$label/bad_input_logged" "no log line about command type 9999: $(tail -n 3 "$RS_LOG")"
  fi
  if rs_client "$BUILD/tests/apps/vk_fill" >"$TEST_TMP/after-bad.$label" 2>&1 &&
    diff -q "$TEST_TMP/vk_fill.native" "$TEST_TMP/after-bad.$label" >/dev/null; then
    pass "render_server/$label/next_client_ok"
  else
    fail "render_server/$label/next_client_ok" "$(tail -n 1 "$TEST_TMP/after-bad.$label")"
  fi

  # Destroyed contexts leave no worker process behind.
  for _ in $(seq 30); do [ "$(rs_workers)" = 0 ] && break; sleep 0.1; done
  if [ "$(rs_workers)" = 0 ]; then
    pass "render_server/$label/no_leftover_workers"
  else
    fail "render_server/$label/no_leftover_workers" "$(rs_workers) worker processes left after every client ended"
  fi
  if grep -E "ERROR|was killed by signal|Sanitizer|runtime error" "$RS_LOG" |
    grep -v "9999\|context is fatal\|unknown command\|was killed by signal 6 (Aborted)" >"$TEST_TMP/errors.$label"; then
    fail "render_server/$label/no_errors" "$(head -n 2 "$TEST_TMP/errors.$label")"
  else
    pass "render_server/$label/no_errors"
  fi

  # The proxy goes away while a client is connected: venusd sees its socket close and
  # exits, and takes its workers with it.
  (rs_client "$BUILD/tests/apps/vk_idle" 30 >"$TEST_TMP/idle2.$label" 2>&1) &
  idle_pid=$!
  for _ in $(seq 50); do grep -q '^idle' "$TEST_TMP/idle2.$label" 2>/dev/null && break; sleep 0.1; done
  before=$(rs_all)
  # virgl_test_server forks a child that serves the clients and owns the proxy: signal both
  # (the session setsid made), but not venusd, which must notice on its own.
  pkill -TERM -s "$RS_PID" -x virgl_test_serv
  wait "$RS_PID" 2>/dev/null
  for _ in $(seq 50); do [ "$(rs_all)" = 0 ] && break; sleep 0.1; done
  after=$(rs_all)
  pkill -KILL -f "$BUILD/tests/apps/vk_idle" 2>/dev/null
  wait "$idle_pid" 2>/dev/null
  if [ "$before" -ge 1 ] && [ "$after" = 0 ]; then
    pass "render_server/$label/exits_with_proxy"
  else
    fail "render_server/$label/exits_with_proxy" "venusd processes: $before with a client, $after after virgl_test_server exited (expected >= 1, then 0)"
    pkill -KILL -f "^$RS_BIN"
  fi
done

# Per-context limits apply behind the proxy as over vtest (tests/integration/test_limits.sh):
# with process workers, lowered by their options through VENUSD_RENDER_SERVER_ARGS, each is
# hit by a client through virgl_test_server; venusd logs it once, naming the limit and the
# option, only that context ends (or gets an out-of-memory error), and the next context
# (vulkaninfo --summary, which fits the limits) is served.
#   objects  vk_compute_smoke with --max-objects 6: fatal at its seventh object
#   rings    vtest_bad_client many-rings with --max-rings 8: fatal at the ninth ring
#   memory   vk_alloc_limits --expect-oom 2M with --max-memory 1M (synchronous allocation):
#            the 2 MiB allocation fails with an out-of-memory error, the context goes on
rs_limit_log() { # NAME TEXT: TEXT is in the render server's log exactly once
  local n
  n=$(grep -cF -- "$2" "$RS_LOG")
  if [ "$n" = 1 ]; then
    pass "render_server/limits/$1/logged"
  else
    fail "render_server/limits/$1/logged" "'$2' is in the log $n times (want once): $(grep -m1 'limit reached' "$RS_LOG")"
  fi
}
rs_next_ok() { # NAME: the next context is served (vulkaninfo --summary, within the limits)
  if rs_client vulkaninfo --summary >"$TEST_TMP/limits-next.$1" 2>&1 &&
    grep -Eq "deviceName += $VENUS_DEVICE_RE" "$TEST_TMP/limits-next.$1"; then
    pass "render_server/limits/$1/next_client_ok"
  else
    fail "render_server/limits/$1/next_client_ok" "$(tail -n 1 "$TEST_TMP/limits-next.$1")"
  fi
}
rs_stop() {
  pkill -TERM -s "$RS_PID" -x virgl_test_serv
  wait "$RS_PID" 2>/dev/null
  for _ in $(seq 50); do [ "$(rs_all)" = 0 ] && break; sleep 0.1; done
}
limit_text() { # LIMIT USED ASKED MAX UNIT OPTION: venusd's once-per-context line
  printf 'limit reached: %s: %s %s in use, %s more asked for, %s allowed (raise it with %s N)' \
    "$1" "$2" "$5" "$3" "$4" "$6"
}
if start_stack limits-a "--worker process --max-objects 6 --max-rings 8"; then
  CLIENT_TIMEOUT=60 rs_client "$BUILD/tests/apps/vk_compute_smoke" >"$TEST_TMP/limits-objects" 2>&1
  if grep -q '^OK' "$TEST_TMP/limits-objects"; then
    fail render_server/limits/objects/client "vk_compute_smoke succeeded with --max-objects 6"
  else
    pass render_server/limits/objects/client
  fi
  rs_limit_log objects "$(limit_text objects 6 1 6 objects --max-objects)"
  rs_limit_log objects/fatal "objects, the most allowed (--max-objects 6)"
  "$BUILD/tests/integration/vtest_bad_client" --socket "$RS_SOCK" --mode many-rings \
    --timeout-ms 10000 --linger-ms 3000 >"$TEST_TMP/limits-rings" 2>&1
  sleep 0.5
  rs_limit_log rings "vkCreateRingMESA: the context already has 8 rings, the most allowed (--max-rings 8)"
  # Limits are per context: the next one is served (vulkaninfo --summary needs 6 objects).
  rs_next_ok objects
  rs_stop
fi
if start_stack limits-b "--worker process --max-memory 1M"; then
  VN_PERF=no_async_mem_alloc CLIENT_TIMEOUT=60 rs_client "$BUILD/tests/apps/vk_alloc_limits" \
    --expect-oom 2M >"$TEST_TMP/limits-memory" 2>&1
  if grep -q "OK allocation of 2097152 bytes fails with an out-of-memory error" "$TEST_TMP/limits-memory" &&
    grep -q '^OK alloc_limits' "$TEST_TMP/limits-memory"; then
    pass render_server/limits/memory/client
  else
    fail render_server/limits/memory/client "$(tail -n 2 "$TEST_TMP/limits-memory")"
  fi
  rs_limit_log memory "more asked for, 1048576 allowed (raise it with --max-memory N)"
  rs_next_ok memory
  rs_stop
fi

for m in "${mounted[@]}"; do umount -l "$REF_ROOT/$m"; done
test_finish
