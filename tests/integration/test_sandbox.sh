#!/usr/bin/env bash
# test_sandbox.sh — the seccomp sandbox of process workers (src/sandbox/):
#   on/apps               with the default options every app's output through venusd
#                         matches native, and venusd says the sandbox is on
#   on/filter_installed   a worker whose client has a device runs under a seccomp filter
#                         (/proc/PID/status: Seccomp 2), the server process does not
#   forbidden/*           a worker that makes a forbidden system call (the test hook
#                         VENUSD_TEST_FORBIDDEN_SYSCALL=vk_fill: chroot() once the sandbox
#                         is on) dies, the server logs the call by name, a client that was
#                         running meanwhile finishes, and the server serves the next one
#   no_sandbox/*          with --no-sandbox the same hook does no harm: vk_fill passes and
#                         its worker has no filter
#   thread/*              thread workers are not sandboxed (the log says so) and the hook
#                         does not confine the server
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init sandbox

BUILD=$(dirname "$VENUSD")
# A cross-section of tests/apps (test_apps.sh runs them all, in thread workers): compute,
# images, a render pass, queries, threads with timeline semaphores, sync objects.
APPS="vk_fill vk_compute_smoke vk_image_smoke vk_scene vk_queries vk_timeline_threads
  vk_sync_objects vk_advanced"
for app in $APPS vk_idle; do
  if [ ! -x "$BUILD/tests/apps/$app" ]; then
    fail "sandbox/build" "$BUILD/tests/apps/$app missing (scripts/setup-deps.sh installs what it needs)"
    test_finish
  fi
done

# seccomp_mode PID — the Seccomp field of /proc/PID/status (0 none, 2 filter).
seccomp_mode() { awk '$1 == "Seccomp:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# start_idle_client SECONDS — vk_idle through venusd in the background; returns once it
# idles (its device exists), or after 60 s.  Sets IDLE_PID (the client) and IDLE_OUT.
start_idle_client() {
  IDLE_OUT=$TEST_TMP/idle-$VD_N.out
  venus_client "$BUILD/tests/apps/vk_idle" "$1" >"$IDLE_OUT" 2>&1 &
  IDLE_PID=$!
  for _ in $(seq 600); do grep -q '^idle' "$IDLE_OUT" 2>/dev/null && break; sleep 0.1; done
}

# workers_seccomp — "PID:MODE" for every worker process of venusd (its children) that
# still exists.  pgrep, not lib.sh's children: reading every /proc/PID/stat from bash can
# take longer than the client idles on a loaded machine.
workers_seccomp() {
  local pid mode
  for pid in $(pgrep -P "$VD_PID"); do
    mode=$(seccomp_mode "$pid")
    [ -n "$mode" ] && printf '%s:%s ' "$pid" "$mode"
  done
}

# Native outputs, once.
for app in $APPS; do
  native_client "$BUILD/tests/apps/$app" >"$TEST_TMP/$app.native" 2>&1
done

# 1. the default: sandbox on.
if start_venusd_or_fail "sandbox/on/start" --worker process; then
  for app in $APPS; do
    out=$TEST_TMP/on-$app
    if venus_client "$BUILD/tests/apps/$app" >"$out.venus" 2>&1 &&
      diff -q "$TEST_TMP/$app.native" "$out.venus" >/dev/null; then
      pass "sandbox/on/apps/$app"
    else
      fail "sandbox/on/apps/$app" "output differs from native or the client failed: $(tail -n 1 "$out.venus")"
      show_file "$VD_LOGFILE" 10
    fi
  done
  check sandbox/on/logged grep -q 'sandbox on: system calls limited once the first VkDevice exists' "$VD_LOGFILE"
  if grep -q 'killed by the sandbox' "$VD_LOGFILE"; then
    fail "sandbox/on/no_kills" "$(grep -m1 'killed by the sandbox' "$VD_LOGFILE")"
  else
    pass "sandbox/on/no_kills"
  fi
  start_idle_client 8
  modes=$(workers_seccomp)
  server_mode=$(seccomp_mode "$VD_PID")
  wait "$IDLE_PID"
  # Every worker alive now has a device (earlier clients' workers may still be ending).
  if [ -n "$modes" ] && ! printf '%s\n' "$modes" | grep -q ':[^2]' &&
    [ "$server_mode" = 0 ] && grep -q '^OK idle' "$IDLE_OUT"; then
    pass "sandbox/on/filter_installed"
  else
    fail "sandbox/on/filter_installed" "workers (pid:Seccomp): ${modes:-none}, server: '$server_mode' (want 2 and 0); client: $(tail -n 1 "$IDLE_OUT")"
  fi
  stop_venusd "sandbox/on/clean_exit"
fi

# 2. a forbidden call: only vk_fill's worker makes it.
export VENUSD_TEST_FORBIDDEN_SYSCALL=vk_fill
# A worker whose Mesa shader cache does not exist yet (a render server started by a VMM
# with a fresh HOME, as in test_vm.sh): lavapipe creates the cache's directories and files
# at the first pipeline, after the filter is in.  The VM test found mkdir missing.
cache=$TEST_TMP/fresh-cache
if XDG_CACHE_HOME=$cache start_venusd_or_fail "sandbox/fresh_cache/start" --worker process; then
  out=$TEST_TMP/fresh-cache-vk_compute_smoke
  native_client "$BUILD/tests/apps/vk_compute_smoke" >"$out.native" 2>&1
  if venus_client "$BUILD/tests/apps/vk_compute_smoke" >"$out.venus" 2>&1 &&
    diff -q "$out.native" "$out.venus" >/dev/null && [ -d "$cache/mesa_shader_cache" ] &&
    ! grep -q "killed by the sandbox" "$VD_LOGFILE"; then
    pass "sandbox/fresh_cache/shader_cache_created"
  else
    fail "sandbox/fresh_cache/shader_cache_created" "client: $(tail -n 1 "$out.venus"); cache dir: $(ls "$cache" 2>&1 | head -1); venusd: $(grep -m1 'killed by the sandbox' "$VD_LOGFILE")"
  fi
  stop_venusd "sandbox/fresh_cache/clean_exit"
fi

if start_venusd_or_fail "sandbox/forbidden/start" --worker process; then
  start_idle_client 4
  CLIENT_TIMEOUT=20 venus_client "$BUILD/tests/apps/vk_fill" >"$TEST_TMP/forbidden.out" 2>&1
  rc=$?
  line=$(grep -m1 'killed by the sandbox' "$VD_LOGFILE")
  if [ "$rc" != 0 ] && ! grep -q '^OK' "$TEST_TMP/forbidden.out" &&
    printf '%s\n' "$line" | grep -Eq 'worker process [0-9]+ for client [0-9]+ killed by the sandbox: forbidden system call chroot \(nr [0-9]+\)'; then
    pass "sandbox/forbidden/worker_killed_and_named"
  else
    fail "sandbox/forbidden/worker_killed_and_named" "vk_fill exited $rc ($(tail -n 1 "$TEST_TMP/forbidden.out")); venusd: ${line:-no 'killed by the sandbox' line}"
    show_file "$VD_LOGFILE" 10
  fi
  wait "$IDLE_PID"
  if grep -q '^OK idle' "$IDLE_OUT"; then
    pass "sandbox/forbidden/other_client_unharmed"
  else
    fail "sandbox/forbidden/other_client_unharmed" "vk_idle, running meanwhile: $(tail -n 1 "$IDLE_OUT")"
  fi
  out=$TEST_TMP/forbidden-after
  if alive "$VD_PID" && venus_client "$BUILD/tests/apps/vk_compute_smoke" >"$out.venus" 2>&1 &&
    diff -q "$TEST_TMP/vk_compute_smoke.native" "$out.venus" >/dev/null; then
    pass "sandbox/forbidden/server_serves_on"
  else
    fail "sandbox/forbidden/server_serves_on" "vk_compute_smoke afterwards: $(tail -n 1 "$out.venus")"
  fi
  stop_venusd "sandbox/forbidden/clean_exit"
fi

# 3. --no-sandbox: the hook's chroot() of a missing path fails harmlessly.
if start_venusd_or_fail "sandbox/no_sandbox/start" --worker process --no-sandbox; then
  out=$TEST_TMP/no-sandbox
  if venus_client "$BUILD/tests/apps/vk_fill" >"$out.venus" 2>&1 &&
    diff -q "$TEST_TMP/vk_fill.native" "$out.venus" >/dev/null && ! grep -q 'killed by the sandbox' "$VD_LOGFILE"; then
    pass "sandbox/no_sandbox/apps"
  else
    fail "sandbox/no_sandbox/apps" "vk_fill: $(tail -n 1 "$out.venus"); venusd: $(grep -m1 -E 'sandbox|ERROR' "$VD_LOGFILE")"
  fi
  start_idle_client 8
  modes=$(workers_seccomp)
  wait "$IDLE_PID"
  if [ -n "$modes" ] && ! printf '%s\n' "$modes" | grep -q ':[^0]' && grep -q -- '--no-sandbox: worker processes run without the seccomp filter' "$VD_LOGFILE" &&
    ! grep -q 'sandbox on' "$VD_LOGFILE"; then
    pass "sandbox/no_sandbox/no_filter"
  else
    fail "sandbox/no_sandbox/no_filter" "workers (pid:Seccomp): ${modes:-none} (want 0); log: $(grep -m1 sandbox "$VD_LOGFILE")"
  fi
  stop_venusd "sandbox/no_sandbox/clean_exit"
fi

# 4. thread workers: not sandboxed, said once.
if start_venusd_or_fail "sandbox/thread/start" --worker thread; then
  if venus_client "$BUILD/tests/apps/vk_fill" >"$TEST_TMP/thread.out" 2>&1 &&
    grep -q '^OK' "$TEST_TMP/thread.out" && [ "$(seccomp_mode "$VD_PID")" = 0 ] &&
    [ "$(grep -c 'thread workers are not sandboxed' "$VD_LOGFILE")" = 1 ]; then
    pass "sandbox/thread/not_sandboxed"
  else
    fail "sandbox/thread/not_sandboxed" "vk_fill: $(tail -n 1 "$TEST_TMP/thread.out"); server Seccomp '$(seccomp_mode "$VD_PID")'; log: $(grep -m1 sandbox "$VD_LOGFILE")"
  fi
  stop_venusd "sandbox/thread/clean_exit"
fi
unset VENUSD_TEST_FORBIDDEN_SYSCALL

test_finish
