#!/usr/bin/env bash
# venusd behind a real QEMU guest: tests/vm/vm.sh boots a Debian 13 guest whose Mesa Venus
# driver talks through QEMU 10.0's virtio-gpu (venus=on) to libvirglrenderer 1.1.0's proxy,
# which starts $VENUSD (--memory host-pointer) as its render server, rendering on lavapipe.
# One boot runs everything, in this order, from a small guest script:
#   - vulkaninfo: the guest's device is venusd's ("Virtio-GPU Venus (llvmpipe"), with
#     Vulkan 1.3 and VK_KHR_swapchain;
#   - our memory-heavy tests/apps programs (compiled for the guest by vm.sh setup) print
#     exactly what the host-built ones print natively on lavapipe;
#   - vk_alloc_limits --bad-bind ends its own context (venusd logs the fatal bind, the
#     program never prints OK) and the next program in the same boot still works;
#   - presenting on an Xvfb inside the guest (software WSI): vk_present's frames equal
#     native ones and its window shows the last one (read back by x11_grab); vkcube runs;
#   - when QEMU exits, no render-server process is left, and the log has no sanitizer
#     report.
#
# Runs "tests/vm/vm.sh setup" first (a second when it is up to date; a few minutes on a
# fresh machine; one FAIL naming the reason when it cannot, e.g. without network).
# Needs root.  Under the ASan pass (TEST_PREFIX asan:) the same single boot runs with the
# instrumented venusd: it is one boot either way, and the guest's memory traffic through
# venusd is what ASan should see.
. "$(dirname "$0")/lib.sh"
test_init vm

VM=$REPO_ROOT/tests/vm/vm.sh
BUILD=$(dirname "$VENUSD")
# Memory-heavy programs: buffers, images of many formats, render passes, copies.
APPS="vk_buffer_ops vk_scene vk_image_formats vk_advanced vk_fill vk_compute_smoke"
AFTER_APP=vk_fill  # the good program after the bad one
FRAMES=5           # vk_present's
BAD_BIND_LINE="4096 bytes at offset 1048576 do not fit the 65536-byte allocation"

if [ "$(id -u)" != 0 ]; then
  fail "vm/root" "needs root (chroots and mounts of tests/vm/vm.sh)"
  test_finish
fi
for app in $APPS vk_alloc_limits; do
  if [ ! -x "$BUILD/tests/apps/$app" ]; then
    fail "vm/build" "$BUILD/tests/apps/$app missing (build first; glslang-tools and libvulkan-dev come from scripts/setup-deps.sh)"
    test_finish
  fi
done

t0=$SECONDS
if "$VM" setup >"$TEST_TMP/setup.log" 2>&1; then
  note "vm.sh setup: $((SECONDS - t0)) s"
else
  fail "vm/setup" "tests/vm/vm.sh setup failed: $(grep 'vm.sh:' "$TEST_TMP/setup.log" | tail -n 1)"
  show_file "$TEST_TMP/setup.log" 10
  test_finish
fi

# Native outputs of the same programs, built for the host.
for app in $APPS; do
  native_client "$BUILD/tests/apps/$app" >"$TEST_TMP/$app.native" 2>&1 ||
    fail "vm/native/$app" "native run failed: $(tail -n 1 "$TEST_TMP/$app.native")"
done

# The guest's side: each step's output in /mnt/res/NAME.out, its status in NAME.rc.
cat >"$TEST_TMP/guest.sh" <<EOF
#!/bin/bash
mkdir -p /mnt/res
step() {
  local name=\$1 t=\$2 s0 s1
  shift 2
  read -r s0 _ </proc/uptime
  timeout -s KILL "\$t" "\$@" >/mnt/res/\$name.out 2>&1 </dev/null
  echo \$? >/mnt/res/\$name.rc
  read -r s1 _ </proc/uptime
  echo "step \$name: status \$(cat /mnt/res/\$name.rc), \$(awk -v a=\$s0 -v b=\$s1 'BEGIN { printf "%.1f", b - a }') s"
}
step vulkaninfo 120 vulkaninfo
for app in $APPS; do step "\$app" 120 "\$app"; done
step bad_bind 20 vk_alloc_limits --bad-bind
step after_bad_bind 120 $AFTER_APP
# Presenting: windows on an Xvfb of the guest's own, software WSI (no guest X driver).
# vk_present holds its last frame until x11_grab has read the window back.
Xvfb :5 -screen 0 1024x768x24 -nolisten tcp >/mnt/res/xvfb.log 2>&1 &
for i in \$(seq 100); do [ -S /tmp/.X11-unix/X5 ] && break; sleep 0.1; done
export DISPLAY=:5 MESA_VK_WSI_DEBUG=sw
timeout -s KILL 120 vk_present --frames $FRAMES --hold-ms 60000 >/mnt/res/present.out 2>&1 &
p=\$!
for i in \$(seq 600); do grep -q '^holding window' /mnt/res/present.out && break; kill -0 \$p 2>/dev/null || break; sleep 0.1; done
win=\$(awk '/^holding window/ { print \$3 }' /mnt/res/present.out)
if [ -n "\$win" ]; then
  timeout -s KILL 30 x11_grab \$(awk '/^probe / { printf "--probe %s,%s ", \$2, \$3 }' /mnt/res/present.out) \
    --close "\$win" /mnt/res/present.ppm >/mnt/res/present.grab 2>&1
fi
wait \$p
echo \$? >/mnt/res/present.rc
echo "step present: status \$(cat /mnt/res/present.rc)"
step vkcube 120 vkcube --c 30
kill %1
exit 0
EOF

RUN=$TEST_TMP/boot
t0=$SECONDS
# --pdeathsig: if this script is killed, so is the run (and vm.sh then takes QEMU, Xvfb
# and the render server with it).
VENUSD_RENDER_SERVER_ARGS="--memory host-pointer" VENUSD_LOG=info \
  setpriv --pdeathsig KILL -- "$VM" run --server "$VENUSD" --dir "$RUN" --timeout 400 --copy "$TEST_TMP/guest.sh" -- bash guest.sh \
  >"$TEST_TMP/run.out" 2>&1
vm_rc=$?
note "vm.sh run: status $vm_rc in $((SECONDS - t0)) s ($(grep '^vm: guest' "$TEST_TMP/run.out"))"
sed -n 's/^step /guest step /p' "$TEST_TMP/run.out" | sed 's/^/    /'
QLOG=$RUN/qemu.log
RES=$RUN/share/res
# where_stuck — for a run that never finished: how far the guest got (the share is a host
# directory, so a step's .rc is there as soon as the step ends), and venusd's last line.
where_stuck() {
  local done="" f cur
  if [ ! -f "$RUN/share/.vm/boot_s" ]; then
    echo "the guest never reached its script (kernel: $(tail -n 1 "$RUN/console.log" 2>/dev/null))"
    return
  fi
  for f in "$RES"/*.rc; do [ -f "$f" ] && done+=" $(basename "$f" .rc)=$(cat "$f")"; done
  # shellcheck disable=SC2012 # our own file names
  cur=$(ls -t "$RES"/*.out 2>/dev/null | head -n 1)
  echo "steps done:${done:- none}; last started: $(basename "${cur:-none}" .out);" \
    "venusd's last line: $(grep -v '^qemu' "$QLOG" 2>/dev/null | tail -n 1)"
}
if [ "$vm_rc" != 0 ] || [ ! -d "$RES" ]; then
  fail "vm/boot" "the guest did not run its script (vm.sh run status $vm_rc): $(grep -E '^vm' "$TEST_TMP/run.out" | tail -n 1); $(where_stuck)"
  show_file "$TEST_TMP/run.out" 15
  show_file "$QLOG" 15
  test_finish
fi
pass "vm/boot"

# The proxy really started $VENUSD: venusd's log is in QEMU's stderr.
if grep -q 'render server on fd' "$QLOG"; then
  pass "vm/venusd_is_the_render_server"
else
  fail "vm/venusd_is_the_render_server" "no 'render server on fd' line from venusd in $QLOG"
fi

# step_ok NAME — the guest step exited 0.
step_ok() { [ "$(cat "$RES/$1.rc" 2>/dev/null)" = 0 ]; }
step_why() { echo "guest status $(cat "$RES/$1.rc" 2>/dev/null), last line: $(tail -n 1 "$RES/$1.out" 2>/dev/null)"; }

VI=$RES/vulkaninfo.out
if step_ok vulkaninfo && grep -Eq "deviceName += $VENUS_DEVICE_RE" "$VI"; then
  pass "vm/vulkaninfo"
else
  fail "vm/vulkaninfo" "no 'Virtio-GPU Venus (llvmpipe' device: $(step_why vulkaninfo); $(grep -m1 deviceName "$VI")"
  show_file "$QLOG" 10
fi
api=$(grep -m1 -E '^[[:space:]]*apiVersion[[:space:]]*=' "$VI" | sed 's/.*= *//')
note "guest sees: $(grep -m1 deviceName "$VI" | sed 's/^[[:space:]]*//'), apiVersion ${api:-?}, $(grep -m1 '^Device Extensions' "$VI")"
case $api in
  1.3.*) pass "vm/api_1_3" ;;
  *) fail "vm/api_1_3" "the guest's device reports apiVersion ${api:-(none)}, expected 1.3.x" ;;
esac
if grep -Eq '^[[:space:]]*VK_KHR_swapchain[[:space:]]*:' "$VI"; then
  pass "vm/swapchain"
else
  fail "vm/swapchain" "VK_KHR_swapchain is not among the guest device's extensions"
fi

for app in $APPS; do
  if step_ok "$app" && diff -q "$TEST_TMP/$app.native" "$RES/$app.out" >/dev/null; then
    pass "vm/$app"
  else
    fail "vm/$app" "output differs from native or the program failed: $(step_why "$app")"
    diff "$TEST_TMP/$app.native" "$RES/$app.out" 2>&1 | head -n 6 | sed 's/^/    | /'
  fi
done

# Bad guest input ends only its own context.
if grep -qF "$BAD_BIND_LINE" "$QLOG" && ! grep -q '^OK' "$RES/bad_bind.out"; then
  pass "vm/bad_bind_is_fatal"
else
  fail "vm/bad_bind_is_fatal" "client: $(step_why bad_bind); venusd: $(grep -m1 -i 'vkBindBufferMemory' "$QLOG")"
fi
if step_ok after_bad_bind && diff -q "$TEST_TMP/$AFTER_APP.native" "$RES/after_bad_bind.out" >/dev/null; then
  pass "vm/works_after_bad_bind"
else
  fail "vm/works_after_bad_bind" "$AFTER_APP after the bad bind: $(step_why after_bad_bind)"
  show_file "$QLOG" 10
fi

# Presenting in the guest.  The frames' checksums must equal native ones where this host
# can present natively (Xvfb and build/tests/apps/vk_present), and the guest's X server
# must show the last frame's colours at vk_present's probes.
native_present() {
  local xpid disp
  command -v Xvfb >/dev/null && [ -x "$BUILD/tests/apps/vk_present" ] || return 1
  Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$TEST_TMP/xvfb.display" >"$TEST_TMP/xvfb.log" 2>&1 &
  xpid=$!
  for _ in $(seq 100); do
    disp=$(cat "$TEST_TMP/xvfb.display" 2>/dev/null)
    [ -n "$disp" ] && break
    sleep 0.1
  done
  [ -n "$disp" ] && native_client env DISPLAY=":$disp" MESA_VK_WSI_DEBUG=sw \
    "$BUILD/tests/apps/vk_present" --frames "$FRAMES" >"$TEST_TMP/present.native" 2>&1
  kill "$xpid" 2>/dev/null
  wait "$xpid" 2>/dev/null
  grep -q '^OK vk_present' "$TEST_TMP/present.native"
}
P=$RES/present.out
if ! step_ok present || ! grep -q '^OK vk_present' "$P"; then
  fail "vm/present" "vk_present on the guest's Xvfb: $(step_why present)"
elif [ "$(grep -c '^frame .* ok$' "$P")" != "$FRAMES" ]; then
  fail "vm/present" "$(grep -c '^frame .* ok$' "$P") of $FRAMES frames checked"
elif ! diff <(awk '/^probe / { print $2, $3, $4 }' "$P") \
  <(awk '/^pixel / { print $2, $3, $4 }' "$RES/present.grab" 2>/dev/null) >/dev/null; then
  fail "vm/present" "the guest's X window does not show the last frame: $(tail -n 1 "$RES/present.grab" 2>/dev/null)"
elif native_present && ! diff -q <(grep -E '^(frame|probe|presented) ' "$TEST_TMP/present.native") \
  <(grep -E '^(frame|probe|presented) ' "$P") >/dev/null; then
  fail "vm/present" "frames differ from native: $(diff <(grep '^frame' "$TEST_TMP/present.native") <(grep '^frame' "$P") | grep -m1 '^>')"
else
  pass "vm/present"
fi
if step_ok vkcube; then
  pass "vm/vkcube"
else
  fail "vm/vkcube" "vkcube --c 30 on the guest's Xvfb: $(step_why vkcube)"
fi

# When QEMU exits the render server and its workers exit too (vm.sh looks, in the run's
# namespace, for 5 s after QEMU is gone), and nothing of this run is left on the host.
left=$(cat "$RUN/server-leftover" 2>/dev/null)
host_left=$(pgrep -f '^/vm/run/server/' | tr '\n' ' ')
if [ -f "$RUN/server-leftover" ] && [ -z "$left" ] && [ -z "$host_left" ]; then
  pass "vm/render_server_exits_with_qemu"
else
  fail "vm/render_server_exits_with_qemu" "still running after QEMU exited: ${left:-$host_left}"
fi
report=$(sanitizer_report "$QLOG")
if [ -z "$report" ]; then
  pass "vm/no_sanitizer_report"
else
  fail "vm/no_sanitizer_report" "$report"
  show_file "$QLOG" 30
fi

test_finish
