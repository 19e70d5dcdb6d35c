#!/usr/bin/env bash
# The POSIX build (meson -Dplatform=posix, docs/design.md "The platform layer"): venusd's
# own sources compiled without _GNU_SOURCE, and checked for Linux-only imports.
#   build                   build-posix/ (meson setup -Dplatform=posix) exists or builds
#   checker_catches_linux   the import check, run on the Linux build's venusd, names
#                           memfd_create and eventfd (so it can fail)
#   no_linux_only_imports   build-posix/venusd imports no symbol of the deny-list below
#   vtest/*                 its vtest server (spawned workers, no sandbox: the defaults of
#                           that build) gives native output for vk_fill and vk_compute_smoke,
#                           its workers are "venusd worker" processes, and it exits cleanly
#   render_server/*         its render server passes rs_bad_client's session in the stream
#                           framing (virglrenderer's macOS framing) with spawned workers
# POSIX_BUILD=DIR uses another build directory.
. "$(dirname "$0")/lib.sh"
test_init platform_posix

POSIX_BUILD=${POSIX_BUILD:-$REPO_ROOT/build-posix}
LINUX_VENUSD=$VENUSD
[ "$(readlink -f "$(dirname "$VENUSD")")" = "$(readlink -f "$POSIX_BUILD")" ] &&
  LINUX_VENUSD=$REPO_ROOT/build/venusd

# Linux-only (or glibc-only) functions that must not be imported by the POSIX build.
DENY='memfd_create|eventfd|eventfd_read|eventfd_write|epoll_[a-z_0-9]+|signalfd|prctl|accept4|pipe2|dup3|pthread_[a-z_]+_np|inotify_[a-z_0-9]+|timerfd_[a-z_]+|syscall|splice|vmsplice|tee|sendfile(64)?|gettid|mremap|fallocate(64)?|clone3?|unshare|setns|seccomp|sched_[gs]etaffinity|getrandom|copy_file_range|statx|renameat2|ppoll|recvmmsg|sendmmsg|open_by_handle_at|backtrace[a-z_]*|malloc_usable_size|mallopt|__libc_[a-z_]+'

# denied_imports BINARY: prints the denied symbols BINARY imports, one a line.
denied_imports() {
  nm -D --undefined-only "$1" | awk '{print $NF}' | sed 's/@.*//' |
    grep -Ev '^__libc_start_main$' | grep -Ex "$DENY" | sort -u
}

if [ ! -x "$POSIX_BUILD/venusd" ]; then
  note "building $POSIX_BUILD (meson setup -Dplatform=posix)"
  if [ ! -f "$POSIX_BUILD/build.ninja" ]; then
    nice meson setup "$POSIX_BUILD" "$REPO_ROOT" -Dplatform=posix >"$TEST_TMP/setup.log" 2>&1 ||
      show_file "$TEST_TMP/setup.log"
  fi
  nice ninja -C "$POSIX_BUILD" >"$TEST_TMP/build.log" 2>&1 || show_file "$TEST_TMP/build.log"
fi
platform=$(meson introspect --buildoptions "$POSIX_BUILD" 2>/dev/null | python3 -c \
  'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "platform"])')
if [ -x "$POSIX_BUILD/venusd" ] && [ "$platform" = "['posix']" ]; then
  pass platform_posix/build
else
  fail platform_posix/build "$POSIX_BUILD/venusd missing or not configured with -Dplatform=posix (see $TEST_TMP/*.log)"
  test_finish
fi
PVENUSD=$POSIX_BUILD/venusd

if [ -x "$LINUX_VENUSD" ]; then
  bad=$(denied_imports "$LINUX_VENUSD" | tr '\n' ' ')
  if grep -qw memfd_create <<<"$bad" && grep -qw eventfd <<<"$bad"; then
    pass platform_posix/checker_catches_linux
  else
    fail platform_posix/checker_catches_linux "on $LINUX_VENUSD the check found only '$bad'"
  fi
else
  skip platform_posix/checker_catches_linux "no Linux build at $LINUX_VENUSD"
fi

bad=$(denied_imports "$PVENUSD" | tr '\n' ' ')
if [ -z "$bad" ]; then
  pass platform_posix/no_linux_only_imports
else
  fail platform_posix/no_linux_only_imports "$PVENUSD imports Linux-only $bad: move the call behind src/platform/platform.h (posix.c)"
fi

# The vtest server of the POSIX build, with its defaults.
VENUSD=$PVENUSD
if start_venusd_or_fail platform_posix/vtest/start; then
  (venus_client "$POSIX_BUILD/tests/apps/vk_idle" 3 >"$TEST_TMP/idle" 2>&1) &
  idle=$!
  for _ in $(seq 100); do grep -q '^idle' "$TEST_TMP/idle" 2>/dev/null && break; sleep 0.1; done
  kid=$(children "$VD_PID" | head -n 1)
  cmd=$([ -n "$kid" ] && tr '\0' ' ' <"/proc/$kid/cmdline")
  case $cmd in
    "venusd worker "*"--front vtest"*) pass platform_posix/vtest/spawned_worker ;;
    *) fail platform_posix/vtest/spawned_worker "the worker's command line is '$cmd', not 'venusd worker ...'" ;;
  esac
  wait "$idle"
  for app in vk_fill vk_compute_smoke; do
    native_client "$POSIX_BUILD/tests/apps/$app" >"$TEST_TMP/$app.native" 2>&1
    if venus_client "$POSIX_BUILD/tests/apps/$app" >"$TEST_TMP/$app.venus" 2>&1 &&
      diff -q "$TEST_TMP/$app.native" "$TEST_TMP/$app.venus" >/dev/null; then
      pass "platform_posix/vtest/$app"
    else
      fail "platform_posix/vtest/$app" "output differs from native or the client failed: $(tail -n 1 "$TEST_TMP/$app.venus")"
    fi
  done
  check platform_posix/vtest/says_no_sandbox grep -q "the posix build has no sandbox" "$VD_LOGFILE"
  stop_venusd platform_posix/vtest/clean_exit
fi

# Its render server, in the stream framing, as virglrenderer's macOS proxy speaks it.
out=$TEST_TMP/rs.out
RS_PROMPT_MS=3000 RS_NAME_PREFIX=platform_posix/render_server/ VK_DRIVER_FILES="$LVP_ICD" \
  VENUSD_LOG=info timeout -s KILL 180 "$POSIX_BUILD/tests/integration/rs_bad_client" \
  --framing stream "$PVENUSD" >"$out" 2>"$TEST_TMP/rs.log"
rc=$?
nfail=$(grep -c '^FAIL' "$out")
npass=$(grep -c '^PASS' "$out")
if [ "$rc" = 0 ] && [ "$nfail" = 0 ] && [ "$npass" -gt 5 ]; then
  pass platform_posix/render_server/stream_session
else
  fail platform_posix/render_server/stream_session \
    "rs_bad_client exit $rc, $npass passed, $nfail failed: $(grep -m1 '^FAIL' "$out")"
  show_file "$TEST_TMP/rs.log"
fi
check platform_posix/render_server/spawned_workers grep -q "spawned workers" "$TEST_TMP/rs.log"
test_finish
