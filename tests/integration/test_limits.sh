#!/usr/bin/env bash
# test_limits.sh — per-context limits (context/limits.c): each one, lowered by its option,
# is hit by a client; the request fails as the protocol allows (an out-of-memory VkResult,
# a dropped vtest client, or a fatal context), venusd logs one line naming the limit, the
# values and the option, and venusd and another context carry on.
#
#   blobs        --max-blobs 8: vtest_bad_client blob-flood gets 8 shmem blobs, the ninth
#                drops it (Mesa cannot take a failed blob)
#   blob_bytes   --max-blob-bytes 2M: 1 MiB blobs, the third drops it
#   fds          --max-fds 6: each blob is an fd venusd keeps, the seventh drops it
#   waits        --max-waits 4: SYNC_WAITs that never complete, the fifth drops it
#   threads      --max-threads 3: rings with a monitor (ring + monitor, ring, then the third
#                ring): fatal, named
#   objects      --max-objects 6: vulkaninfo --summary (6 objects) works, vk_compute_smoke
#                goes fatal at its seventh object
#   memory       --max-memory 1M: with synchronous allocation (VN_PERF=no_async_mem_alloc)
#                a 2 MiB vkAllocateMemory returns an out-of-memory error and the same
#                context then fills and reads back a buffer
#   process_rlimit  in process mode a worker's RLIMIT_NOFILE is --max-fds plus 1024
#   thread_fd_share thread mode under ulimit -n 1024: a client may hold at most half of what
#                the contexts together may (1024 less 256 kept back): one that asks for 700
#                blobs is dropped at 384, and while another holds 300 an app runs.
#                (Without the budget the 700 blobs fit and the app's memfds would not.)
# After each case a real vulkaninfo --summary goes through the same venusd (another
# context).  The defaults are exercised by every other test (test_apps.sh runs the apps).
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init limits

BUILD=$(dirname "$VENUSD")
BAD_CLIENT=${BAD_CLIENT:-$BUILD/tests/integration/vtest_bad_client}
for f in "$BAD_CLIENT" "$BUILD/tests/apps/vk_alloc_limits" "$BUILD/tests/apps/vk_compute_smoke"; do
  if [ ! -x "$f" ]; then
    fail limits/built "$f missing (meson builds it)"
    test_finish
  fi
done

# bad NAME ARGS... — runs vtest_bad_client against the current venusd into $TEST_TMP/NAME.out
bad() {
  local name=$1
  shift
  timeout -s KILL 60 "$BAD_CLIENT" --socket "$VD_SOCK" --name "limits-$name" "$@" \
    >"$TEST_TMP/$name.out" 2>&1
}

# expect_log NAME TEXT — PASS NAME/logged if TEXT is in venusd's log exactly once.
expect_log() {
  local n
  n=$(grep -cF -- "$2" "$VD_LOGFILE")
  if [ "$n" = 1 ]; then
    pass "$1/logged"
  else
    fail "$1/logged" "'$2' is in venusd's log $n times (want once)"
    show_file "$VD_LOGFILE" 10
  fi
}

# expect_out NAME TEXT — PASS NAME/client if the client's output has TEXT.
expect_out() {
  if grep -qF -- "$2" "$TEST_TMP/$1.out"; then
    pass "$1/client"
  else
    fail "$1/client" "want '$2', client said: $(tail -n 2 "$TEST_TMP/$1.out")"
  fi
}

# carry_on NAME — venusd is alive and serves another context (vulkaninfo --summary).
carry_on() {
  if ! alive "$VD_PID"; then
    fail "$1/venusd_alive" "venusd exited"
    return
  fi
  if venus_summary_ok "$TEST_TMP/$1.after"; then
    pass "$1/next_context_ok"
  else
    fail "$1/next_context_ok" "$VENUS_ERR"
    show_file "$TEST_TMP/$1.after.err" 5
  fi
}

# limit_line LIMIT USED ASKED MAX UNIT OPTION — venusd's once-per-context line.
limit_line() {
  printf 'limit reached: %s: %s %s in use, %s more asked for, %s allowed (raise it with %s N)' \
    "$1" "$2" "$5" "$3" "$4" "$6"
}

if start_venusd_or_fail limits/blobs/start --max-blobs 8; then
  bad blobs --mode blob-flood --count 20 --linger-ms 0
  expect_out blobs "created 8 of 20 blobs of 4096 bytes; the server closed the connection"
  expect_log blobs "$(limit_line blobs 8 1 8 blobs --max-blobs)"
  carry_on blobs
  stop_venusd limits/blobs/clean_exit
fi

if start_venusd_or_fail limits/blob_bytes/start --max-blob-bytes 2M; then
  bad blob_bytes --mode blob-flood --count 20 --size 1048576 --linger-ms 0
  expect_out blob_bytes "created 2 of 20 blobs of 1048576 bytes; the server closed the connection"
  expect_log blob_bytes "$(limit_line "shared-memory blob bytes" 2097152 1048576 2097152 bytes --max-blob-bytes)"
  carry_on blob_bytes
  stop_venusd limits/blob_bytes/clean_exit
fi

if start_venusd_or_fail limits/fds/start --max-fds 6; then
  bad fds --mode blob-flood --count 20 --linger-ms 0
  expect_out fds "created 6 of 20 blobs of 4096 bytes; the server closed the connection"
  expect_log fds "$(limit_line "file descriptors" 6 1 6 fds --max-fds)"
  carry_on fds
  stop_venusd limits/fds/clean_exit
fi

if start_venusd_or_fail limits/waits/start --max-waits 4; then
  bad waits --mode wait-flood --count 20 --linger-ms 0
  expect_out waits "4 of 20 SYNC_WAITs pending; the server closed the connection"
  expect_log waits "$(limit_line "pending waits" 4 1 4 waits --max-waits)"
  carry_on waits
  stop_venusd limits/waits/clean_exit
fi

if start_venusd_or_fail limits/threads/start --max-threads 3; then
  bad threads --mode many-rings --linger-ms 3000
  expect_log threads "$(limit_line threads 3 1 3 threads --max-threads)"
  expect_log threads/fatal "vkCreateRingMESA: ring 1002 not created: the context runs 3 threads, the most allowed (--max-threads 3)"
  carry_on threads
  stop_venusd limits/threads/clean_exit
fi

if start_venusd_or_fail limits/objects/start --max-objects 6; then
  CLIENT_TIMEOUT=30 venus_client "$BUILD/tests/apps/vk_compute_smoke" >"$TEST_TMP/objects.out" 2>&1
  if grep -q '^OK' "$TEST_TMP/objects.out"; then
    fail objects/client "vk_compute_smoke succeeded with 6 objects"
  else
    pass objects/client
  fi
  expect_log objects "$(limit_line objects 6 1 6 objects --max-objects)"
  expect_log objects/fatal "objects, the most allowed (--max-objects 6)"
  carry_on objects
  stop_venusd limits/objects/clean_exit
fi

if start_venusd_or_fail limits/memory/start --max-memory 1M; then
  VN_PERF=no_async_mem_alloc venus_client "$BUILD/tests/apps/vk_alloc_limits" --expect-oom 2M \
    >"$TEST_TMP/memory.out" 2>&1
  expect_out memory "OK allocation of 2097152 bytes fails with an out-of-memory error"
  if grep -q '^OK alloc_limits' "$TEST_TMP/memory.out"; then
    pass memory/context_goes_on
  else
    fail memory/context_goes_on "$(tail -n 1 "$TEST_TMP/memory.out")"
  fi
  expect_log memory "more asked for, 1048576 allowed (raise it with --max-memory N)"
  if grep -F "limit reached: device memory: " "$VD_LOGFILE" | grep -qF "2097152 more asked for"; then
    pass memory/names_the_size
  else
    fail memory/names_the_size "no device memory line naming 2097152 bytes"
  fi
  carry_on memory
  stop_venusd limits/memory/clean_exit
fi

# A process worker's own fd limit: --max-fds plus the driver's reserve, soft and hard.
if start_venusd_or_fail limits/process_rlimit/start --max-fds 100; then
  bad process_rlimit --mode blob-flood --count 1 --linger-ms 4000 &
  holder=$!
  worker=
  for _ in $(seq 50); do
    worker=$(children "$VD_PID" | head -n 1)
    [ -n "$worker" ] && grep -q '^created' "$TEST_TMP/process_rlimit.out" 2>/dev/null && break
    sleep 0.1
  done
  lim=$(awk '/^Max open files/ {print $4, $5}' "/proc/$worker/limits" 2>/dev/null)
  if [ "$lim" = "1124 1124" ]; then
    pass process_rlimit/nofile
  else
    fail process_rlimit/nofile "worker ${worker:-?}: Max open files '$lim', want '1124 1124'"
  fi
  wait "$holder"
  stop_venusd limits/process_rlimit/clean_exit
fi

# Thread mode: one client cannot take the server's fds.  venusd runs under ulimit -n 1024
# (through a wrapper that execs it, so VD_PID is venusd).
wrapper=$TEST_TMP/venusd-nofile-1024
printf '#!/bin/sh\nulimit -n 1024 || exit 1\nexec %q "$@"\n' "$VENUSD" >"$wrapper"
chmod +x "$wrapper"
if VENUSD=$wrapper start_venusd_or_fail limits/thread_fd_share/start --worker thread; then
  expect_log thread_fd_share/budget "all contexts together may hold 768 fds (RLIMIT_NOFILE 1024 less 256 kept back), one context at most 384"
  bad share_flood --mode blob-flood --count 700 --linger-ms 0
  expect_out share_flood "created 384 of 700 blobs of 4096 bytes; the server closed the connection"
  expect_log share_flood "$(limit_line "file descriptors" 384 1 384 fds --max-fds)"
  timeout -s KILL 60 "$BAD_CLIENT" --socket "$VD_SOCK" --name limits-share_hold \
    --mode blob-flood --count 300 --linger-ms 60000 >"$TEST_TMP/share_hold.out" 2>&1 &
  holder=$! # timeout's pid: it passes a SIGTERM on to the client
  for _ in $(seq 100); do
    grep -q '^created' "$TEST_TMP/share_hold.out" 2>/dev/null && break
    sleep 0.1
  done
  expect_out share_hold "created 300 of 300 blobs"
  # a second flood while the first holder keeps its fds, then an app
  bad share_flood2 --mode blob-flood --count 700 --linger-ms 0
  expect_out share_flood2 "the server closed the connection"
  venus_client "$BUILD/tests/apps/vk_compute_smoke" >"$TEST_TMP/share_app.out" 2>&1
  if grep -q '^OK compute' "$TEST_TMP/share_app.out"; then
    pass thread_fd_share/app_runs_while_another_holds_fds
  else
    fail thread_fd_share/app_runs_while_another_holds_fds "$(tail -n 1 "$TEST_TMP/share_app.out")"
    show_file "$VD_LOGFILE" 10
  fi
  if grep -q '^created 300 of 300' "$TEST_TMP/share_hold.out" && kill -0 "$holder" 2>/dev/null; then
    pass thread_fd_share/holder_still_connected
  else
    fail thread_fd_share/holder_still_connected "$(tail -n 1 "$TEST_TMP/share_hold.out")"
  fi
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  carry_on thread_fd_share
  stop_venusd limits/thread_fd_share/clean_exit
fi

test_finish
