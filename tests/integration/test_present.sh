#!/usr/bin/env bash
# Presenting to an X11 window: on a private Xvfb (no DRI3, so Mesa's software WSI:
# MESA_VK_WSI_DEBUG=sw), three programs run natively on lavapipe and through venusd, and
# what the X server shows for their window after the last frame must be identical:
#   - vkcube (vulkan-tools): --c N draws N frames and exits; its cube turns by a fixed angle
#     a frame.  tests/apps/x11_grab_preload.so reads the window back just before vkcube
#     destroys it.  Its last frame is NOT deterministic here: vkcube destroys its swapchain
#     right after its last present, and Mesa's software WSI can drop the presents still
#     queued then (under load two native runs showed different frames, even in immediate
#     mode).  So vkcube is held to a weaker property: exit 0 and the window shows the cube
#     (>= 100 colours; the background is one grey); whether the pixels equal a native run's
#     is only noted.
#   - tests/apps/vk_present: our own frames (clears, one flat draw, clear rectangles), which
#     it checks itself before presenting; it then holds the window until tests/apps/x11_grab
#     has read it back and checked the pixels whose colour is certain.
#   - tests/apps/gl_window: GLX through zink, which presents through a Vulkan swapchain
#     (kopper).  Mesa takes zink's kopper path on X11 only with DRI3 1.2 + Present 1.2, or with
#     LIBGL_KOPPER_DRI2=1; LIBGL_ALWAYS_SOFTWARE=1 would take drisw's copy path instead, whose
#     frames an Xvfb window never shows, so zink is asked for with MESA_LOADER_DRIVER_OVERRIDE
#     and D3D_ALWAYS_SOFTWARE=1 lets it pick lavapipe (a CPU device) all the same.
# vk_present and gl_window keep their swapchain alive while x11_grab reads the window, and
# x11_grab waits (up to 5 s) until the certain pixels show the last frame, since a present
# may still be on its way to the server.  All present in immediate mode (vkcube
# --present_mode 0, vk_present --present-mode immediate, zink with vblank_mode=0).
# Through venusd the client must also exit 0 and venusd's log must have no ERROR line.
# With VENUS_CLIENT=NAME (test_mesa_clients.sh, for the Mesa 26 clients) the venus side runs
# in the clients' chroot with NAME's Venus driver (Debian 13's vkcube and Mesa GL, our apps),
# on this same Xvfb (the chroot shares /tmp, so /tmp/.X11-unix); the native side stays the
# host's.
. "$(dirname "$0")/lib.sh"
test_init present

BUILD=$(dirname "$VENUSD")
APPDIR=$BUILD/tests/apps
FRAMES=${PRESENT_FRAMES:-12}
CUBE_FRAMES=${PRESENT_CUBE_FRAMES:-40}
HOLD_MS=20000 # only until x11_grab has read the window and sent --close
VKCUBE_RUN_S=20 # the longest a Mesa 26 client's vkcube (VENUS_CLIENT, below) may run

for f in vk_present gl_window x11_grab x11_grab_preload.so; do
  if [ ! -e "$APPDIR/$f" ]; then
    fail "present/build" "$APPDIR/$f missing (libx11-dev, libxcb1-dev and libgl-dev are installed by scripts/setup-deps.sh)"
    test_finish
  fi
done
for p in Xvfb vkcube; do
  if ! command -v "$p" >/dev/null; then
    fail "present/deps" "$p not found (xvfb and vulkan-tools are installed by scripts/setup-deps.sh)"
    test_finish
  fi
done

# ---- Xvfb ---------------------------------------------------------------------------
XVFB_PID=
stop_xvfb() {
  if [ -n "$XVFB_PID" ]; then
    kill -TERM "$XVFB_PID" 2>/dev/null
    wait "$XVFB_PID" 2>/dev/null
    XVFB_PID=
  fi
}
trap 'stop_xvfb; _lib_cleanup' EXIT
# -displayfd: Xvfb picks a free display number and writes it once it accepts clients.
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset 3>"$TEST_TMP/xvfb.display" \
  >"$TEST_TMP/xvfb.log" 2>&1 </dev/null &
XVFB_PID=$!
for _ in $(seq 100); do
  [ -s "$TEST_TMP/xvfb.display" ] && break
  alive "$XVFB_PID" || break
  sleep 0.1
done
if [ ! -s "$TEST_TMP/xvfb.display" ]; then
  fail "present/xvfb" "Xvfb did not start: $(tail -n 1 "$TEST_TMP/xvfb.log")"
  stop_xvfb
  test_finish
fi
DISP=:$(head -n 1 "$TEST_TMP/xvfb.display")
note "Xvfb pid $XVFB_PID on display $DISP"
pass "present/xvfb"

# Every client sees the display and uses the software WSI.
XENV=(env DISPLAY="$DISP" MESA_VK_WSI_DEBUG=sw)
ZINKENV=(MESA_LOADER_DRIVER_OVERRIDE=zink LIBGL_KOPPER_DRI2=1 D3D_ALWAYS_SOFTWARE=1 vblank_mode=0)

# ---- runners ------------------------------------------------------------------------
# run_side SIDE CMD... — native_client or venus_client, with the display.
run_side() {
  local side=$1
  shift
  if [ "$side" = native ]; then
    native_client "${XENV[@]}" "$@"
  else
    venus_client "${XENV[@]}" "$@"
  fi
}

# run_held SIDE OUT CMD... — runs a program that prints "probe X Y RRGGBB" lines and
# "holding window 0xID" (vk_present, gl_window with --hold-ms) in the background, reads its
# window back with x11_grab (OUT.ppm, OUT.grab) and closes it.  Sets RC to the program's exit
# status.  Its output is OUT.
run_held() {
  local side=$1 out=$2 pid win probes=()
  shift 2
  rm -f "$out" "$out.ppm" "$out.grab"
  run_side "$side" "$@" >"$out" 2>&1 &
  pid=$!
  for _ in $(seq $((CLIENT_TIMEOUT * 10))); do
    grep -q '^holding window' "$out" 2>/dev/null && break
    alive "$pid" || break
    sleep 0.1
  done
  win=$(awk '/^holding window/ { print $3 }' "$out")
  if [ -n "$win" ]; then
    while read -r _ x y rgb; do probes+=(--probe "$x,$y,$rgb"); done < <(grep '^probe ' "$out")
    env DISPLAY="$DISP" timeout -s KILL 20 "$APPDIR/x11_grab" "${probes[@]}" --wait-ms 5000 --close "$win" "$out.ppm" \
      >"$out.grab" 2>&1
  fi
  wait "$pid"
  RC=$?
}

# probes_match OUT — the pixels x11_grab read at each probe are the colours the program
# expected there.
probes_match() {
  [ -s "$1.grab" ] && grep -q '^probe ' "$1" &&
    diff <(awk '/^probe / { print $2, $3, $4 }' "$1") <(awk '/^pixel / { print $2, $3, $4 }' "$1.grab") >/dev/null
}

# client_reason OUT RC — why a client failed, in one line.
client_reason() {
  local out=$1 rc=$2
  if grep -q 'no VK_KHR_swapchain' "$out" 2>/dev/null; then
    printf 'guest has no VK_KHR_swapchain (exit %s)' "$rc"
  elif [ "$rc" = 137 ]; then
    printf 'killed after %ss' "$CLIENT_TIMEOUT"
  else
    printf 'exit %s: %s' "$rc" "$(grep -m1 -E 'FAIL|ERROR|rror' "$out" 2>/dev/null || tail -n 1 "$out" 2>/dev/null)"
  fi
}

# ---- native -------------------------------------------------------------------------
N=$TEST_TMP/native
mkdir -p "$N"

# cube_shown GRABTXT — the grab exists and shows the cube (>= 100 colours).
cube_shown() {
  local c
  c=$(sed -n 's/.*colours=\([0-9]*\).*/\1/p' "$1" 2>/dev/null)
  [ -n "$c" ] && [ "$c" -ge 100 ]
}

for r in 1 2; do
  X11_GRAB_PPM=$N/vkcube.$r.ppm LD_PRELOAD="$APPDIR/x11_grab_preload.so" \
    run_side native vkcube --c "$CUBE_FRAMES" --present_mode 0 --width 256 --height 256 >"$N/vkcube.$r.out" 2>&1
  echo $? >"$N/vkcube.$r.rc"
done
if [ "$(cat "$N/vkcube.1.rc")" != 0 ]; then
  fail "present/native/vkcube" "$(client_reason "$N/vkcube.1.out" "$(cat "$N/vkcube.1.rc")")"
elif ! cube_shown "$N/vkcube.1.ppm.txt"; then
  fail "present/native/vkcube" "the window shows no cube: $(cat "$N/vkcube.1.ppm.txt" 2>/dev/null)"
else
  pass "present/native/vkcube"
  if cmp -s "$N/vkcube.1.ppm" "$N/vkcube.2.ppm"; then
    note "vkcube --c $CUBE_FRAMES: two native runs, same last frame: $(cat "$N/vkcube.1.ppm.txt")"
  else
    note "vkcube --c $CUBE_FRAMES: two native runs, different last frames (a dropped present): $(cat "$N/vkcube.1.ppm.txt") / $(cat "$N/vkcube.2.ppm.txt")"
  fi
fi

run_held native "$N/vk_present" "$APPDIR/vk_present" --present-mode immediate --frames "$FRAMES" --hold-ms "$HOLD_MS"
if [ "$RC" != 0 ] || ! grep -q '^OK vk_present' "$N/vk_present"; then
  fail "present/native/vk_present" "$(client_reason "$N/vk_present" "$RC")"
elif [ "$(grep -c '^frame .* ok$' "$N/vk_present")" != "$FRAMES" ]; then
  fail "present/native/vk_present" "$(grep -c '^frame .* ok$' "$N/vk_present") of $FRAMES frames checked"
elif ! probes_match "$N/vk_present"; then
  fail "present/native/vk_present" "the X window does not show the last frame: $(grep -m1 pixel "$N/vk_present.grab" || tail -n 1 "$N/vk_present.grab")"
else
  pass "present/native/vk_present"
fi

run_held native "$N/gl_window" env "${ZINKENV[@]}" "$APPDIR/gl_window" --frames "$FRAMES" --hold-ms "$HOLD_MS"
if [ "$RC" != 0 ] || ! grep -q '^OK gl_window' "$N/gl_window"; then
  fail "present/native/gl_window" "$(client_reason "$N/gl_window" "$RC")"
elif ! grep -q '^renderer zink' "$N/gl_window"; then
  fail "present/native/gl_window" "not rendered by zink: $(grep -m1 '^renderer' "$N/gl_window")"
elif ! probes_match "$N/gl_window"; then
  fail "present/native/gl_window" "the X window does not show the last frame (zink did not present?): $(grep -m1 pixel "$N/gl_window.grab" || tail -n 1 "$N/gl_window.grab")"
else
  pass "present/native/gl_window"
fi

# ---- through venusd -----------------------------------------------------------------
V=$TEST_TMP/venus
mkdir -p "$V"
if start_venusd_or_fail "present/venus/start"; then
  # vk_present first: it says plainly whether the guest has VK_KHR_swapchain.
  run_held venus "$V/vk_present" "$APPDIR/vk_present" --present-mode immediate --frames "$FRAMES" --hold-ms "$HOLD_MS"
  if [ "$RC" != 0 ] || ! grep -q '^OK vk_present' "$V/vk_present"; then
    fail "present/venus/vk_present" "$(client_reason "$V/vk_present" "$RC")"
  elif ! diff -q <(grep -E '^(frame|probe|presented) ' "$N/vk_present") \
    <(grep -E '^(frame|probe|presented) ' "$V/vk_present") >/dev/null; then
    fail "present/venus/vk_present" "frames differ from native: $(diff <(grep '^frame' "$N/vk_present") <(grep '^frame' "$V/vk_present") | grep -m1 '^>')"
  elif ! cmp -s "$N/vk_present.ppm" "$V/vk_present.ppm"; then
    fail "present/venus/vk_present" "the X window differs from native: $(head -n 1 "$V/vk_present.grab") vs $(head -n 1 "$N/vk_present.grab")"
  else
    pass "present/venus/vk_present"
  fi

  if [ -z "${VENUS_CLIENT:-}" ]; then
    X11_GRAB_PPM=$V/vkcube.ppm LD_PRELOAD="$APPDIR/x11_grab_preload.so" \
      run_side venus vkcube --c "$CUBE_FRAMES" --present_mode 0 --width 256 --height 256 >"$V/vkcube.out" 2>&1
    RC=$?
  else
    # A Mesa 26 client runs Debian 13's vkcube (Vulkan-Tools 1.4), which calls libxcb through
    # pointers it looked up itself, so x11_grab_preload.so's xcb_destroy_window never runs.
    # It draws instead (no --c) while x11_grab reads its 256x256 window, once it shows the
    # cube, and then closes it (WM_DELETE_WINDOW, on which vkcube exits 0).
    CLIENT_TIMEOUT=$VKCUBE_RUN_S run_side venus vkcube --present_mode 0 --width 256 --height 256 \
      >"$V/vkcube.out" 2>&1 &
    pid=$!
    env DISPLAY="$DISP" timeout -s KILL "$VKCUBE_RUN_S" "$APPDIR/x11_grab" --min-colours 100 \
      --wait-ms $((VKCUBE_RUN_S * 1000 - 5000)) --close size:256x256 "$V/vkcube.ppm" \
      >"$V/vkcube.ppm.txt" 2>&1
    wait "$pid"
    RC=$?
  fi
  if [ "$RC" != 0 ]; then
    reason=$(client_reason "$V/vkcube.out" "$RC")
    grep -q 'no VK_KHR_swapchain' "$V/vk_present" && reason="guest has no VK_KHR_swapchain; vkcube: $reason"
    fail "present/venus/vkcube" "$reason"
  elif ! cube_shown "$V/vkcube.ppm.txt"; then
    fail "present/venus/vkcube" "the window shows no cube: $(cat "$V/vkcube.ppm.txt" 2>/dev/null)"
  else
    pass "present/venus/vkcube"
    if cmp -s "$N/vkcube.1.ppm" "$V/vkcube.ppm" || cmp -s "$N/vkcube.2.ppm" "$V/vkcube.ppm"; then
      note "vkcube through venusd: the same last frame as a native run"
    else
      note "vkcube through venusd: a different last frame from both native runs: $(head -n 1 "$V/vkcube.ppm.txt")"
    fi
  fi

  run_held venus "$V/gl_window" env "${ZINKENV[@]}" "$APPDIR/gl_window" --frames "$FRAMES" --hold-ms "$HOLD_MS"
  if [ "$RC" != 0 ] || ! grep -q '^OK gl_window' "$V/gl_window"; then
    reason=$(client_reason "$V/gl_window" "$RC")
    grep -q 'no VK_KHR_swapchain' "$V/vk_present" && reason="guest has no VK_KHR_swapchain; gl_window: $reason"
    fail "present/venus/gl_window" "$reason"
  elif ! grep -q '^renderer zink .*Virtio-GPU Venus' "$V/gl_window"; then
    fail "present/venus/gl_window" "zink is not running on the Venus device: $(grep -m1 '^renderer' "$V/gl_window")"
  elif ! diff -q <(grep -E '^(frame|probe|presented) ' "$N/gl_window") \
    <(grep -E '^(frame|probe|presented) ' "$V/gl_window") >/dev/null; then
    fail "present/venus/gl_window" "frames differ from native: $(diff <(grep '^frame' "$N/gl_window") <(grep '^frame' "$V/gl_window") | grep -m1 '^>')"
  elif ! cmp -s "$N/gl_window.ppm" "$V/gl_window.ppm"; then
    fail "present/venus/gl_window" "the X window differs from native: $(head -n 1 "$V/gl_window.grab") vs $(head -n 1 "$N/gl_window.grab")"
  else
    pass "present/venus/gl_window"
  fi

  if grep -q ' ERROR ' "$VD_LOGFILE"; then
    fail "present/venus/log_clean" "$(grep -m1 ' ERROR ' "$VD_LOGFILE")"
  else
    pass "present/venus/log_clean"
  fi
  stop_venusd "present/venus/clean_exit"
fi

stop_xvfb
test_finish
