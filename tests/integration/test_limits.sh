#!/usr/bin/env bash
# test_limits.sh — per-context limits (context/limits.c): each one, lowered by its option,
# is hit by a client; the request fails as the protocol allows (an out-of-memory VkResult,
# a dropped vtest client, or a fatal context), venusd logs one line naming the limit, the
# values and the option, and venusd and another context carry on.
#
# Process workers, one venusd with --max-blobs 8 --max-waits 4 --max-threads 3
# --max-objects 6:
#   blobs        vtest_bad_client blob-flood gets 8 shmem blobs, the ninth drops it (Mesa
#                cannot take a failed blob)
#   waits        SYNC_WAITs that never complete: the fifth drops it
#   threads      rings with a monitor (ring + monitor, ring, then the third ring): fatal,
#                named
#   objects      vk_compute_smoke goes fatal at its seventh object
# Process workers, --max-blob-bytes 2M --max-fds 6:
#   blob_bytes   1 MiB blobs: the third drops the client
#   fds          each blob is an fd venusd keeps: the seventh drops it
#   process_rlimit  a worker's RLIMIT_NOFILE is --max-fds plus 1024, soft and hard
# Thread workers under ulimit -n 1024, --max-memory 1M:
#   memory       with synchronous allocation (VN_PERF=no_async_mem_alloc) a 2 MiB
#                vkAllocateMemory returns an out-of-memory error and the same context then
#                fills and reads back a buffer
#   thread_fd_share  a client may hold at most half of what the contexts together may (1024
#                less 256 kept back): one that asks for 700 blobs is dropped at 384, and
#                while another holds 300 a second flood is dropped and an app runs.
#                (Without the budget the 700 blobs fit and nothing is dropped.)
# Each limit's log line must appear exactly once (one per context and limit); after each
# case venusd is alive, and at the end of each instance a real vulkaninfo --summary goes
# through it (another context).  The defaults are exercised by every other test
# (test_apps.sh runs the apps).
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
  if venus_summary_ok "$TEST_TMP/${1//\//_}.after"; then
    pass "$1/next_context_ok"
  else
    fail "$1/next_context_ok" "$VENUS_ERR"
    show_file "$TEST_TMP/${1//\//_}.after.err" 5
  fi
}

# limit_line LIMIT USED ASKED MAX UNIT OPTION — venusd's once-per-context line.
limit_line() {
  printf 'limit reached: %s: %s %s in use, %s more asked for, %s allowed (raise it with %s N)' \
    "$1" "$2" "$5" "$3" "$4" "$6"
}

# alive_after NAME — venusd survived the case.
alive_after() {
  if alive "$VD_PID"; then
    pass "$1/venusd_alive"
  else
    fail "$1/venusd_alive" "venusd exited"
  fi
}

# Three venusd instances (each start and stop is slow on a loaded machine), each limit hit
# by its own context.  The limits of one instance do not get in each other's way: a
# vulkaninfo --summary needs 2 blobs (1.2 MB), 2 threads and 6 objects.
# (The TSan pass runs only the thread-mode instance c: WORKER_MODES=thread.)
if runs_worker process && start_venusd_or_fail limits/a/start --max-blobs 8 --max-waits 4 --max-threads 3 \
  --max-objects 6; then
  bad blobs --mode blob-flood --count 20 --linger-ms 0
  expect_out blobs "created 8 of 20 blobs of 4096 bytes; the server closed the connection"
  expect_log blobs "$(limit_line blobs 8 1 8 blobs --max-blobs)"
  alive_after blobs

  bad waits --mode wait-flood --count 20 --linger-ms 0
  expect_out waits "4 of 20 SYNC_WAITs pending; the server closed the connection"
  expect_log waits "$(limit_line "pending waits" 4 1 4 waits --max-waits)"
  alive_after waits

  bad threads --mode many-rings --linger-ms 3000
  expect_log threads "$(limit_line threads 3 1 3 threads --max-threads)"
  expect_log threads/fatal "vkCreateRingMESA: ring 1002 not created: the context runs 3 threads, the most allowed (--max-threads 3)"
  alive_after threads

  CLIENT_TIMEOUT=30 venus_client_to_fatal "$(log_line_count "$VD_LOGFILE")" "$BUILD/tests/apps/vk_compute_smoke" \
    >"$TEST_TMP/objects.out" 2>&1
  if grep -q '^OK' "$TEST_TMP/objects.out"; then
    fail objects/client "vk_compute_smoke succeeded with 6 objects"
  else
    pass objects/client
  fi
  expect_log objects "$(limit_line objects 6 1 6 objects --max-objects)"
  expect_log objects/fatal "objects, the most allowed (--max-objects 6)"
  alive_after objects
  carry_on limits/a
  stop_venusd limits/a/clean_exit
fi

if runs_worker process && start_venusd_or_fail limits/b/start --max-blob-bytes 2M --max-fds 6; then
  bad blob_bytes --mode blob-flood --count 20 --size 1048576 --linger-ms 0
  expect_out blob_bytes "created 2 of 20 blobs of 1048576 bytes; the server closed the connection"
  expect_log blob_bytes "$(limit_line "shared-memory blob bytes" 2097152 1048576 2097152 bytes --max-blob-bytes)"
  alive_after blob_bytes

  bad fds --mode blob-flood --count 20 --linger-ms 0
  expect_out fds "created 6 of 20 blobs of 4096 bytes; the server closed the connection"
  expect_log fds "$(limit_line "file descriptors" 6 1 6 fds --max-fds)"
  alive_after fds

  # A process worker's own fd limit: --max-fds plus the driver's 1024, soft and hard.
  timeout -s KILL 60 "$BAD_CLIENT" --socket "$VD_SOCK" --name limits-process_rlimit \
    --mode blob-flood --count 1 --linger-ms 30000 >"$TEST_TMP/process_rlimit.out" 2>&1 &
  holder=$! # timeout's pid: it passes a SIGTERM on to the client
  for _ in $(seq 100); do
    grep -q '^created' "$TEST_TMP/process_rlimit.out" 2>/dev/null && break
    sleep 0.1
  done
  # the worker serving it: venusd's only child now (pgrep -P: a scan of /proc in shell is
  # slow on a loaded machine)
  worker=$(pgrep -P "$VD_PID" | head -n 1)
  lim=$(awk '/^Max open files/ {print $4, $5}' "/proc/${worker:-none}/limits" 2>/dev/null)
  if [ "$lim" = "1030 1030" ]; then
    pass process_rlimit/nofile
  else
    fail process_rlimit/nofile "worker ${worker:-?}: Max open files '$lim', want '1030 1030'"
  fi
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  carry_on limits/b
  stop_venusd limits/b/clean_exit
fi

# Thread mode: one client cannot take the server's fds.  venusd runs under ulimit -n 1024
# (through a wrapper that execs it, so VD_PID is venusd).
wrapper=$TEST_TMP/venusd-nofile-1024
printf '#!/bin/sh\nulimit -n 1024 || exit 1\nexec %q "$@"\n' "$VENUSD" >"$wrapper"
chmod +x "$wrapper"
if runs_worker thread && VENUSD=$wrapper start_venusd_or_fail limits/c/start --worker thread --max-memory 1M; then
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
  carry_on limits/c
  stop_venusd limits/c/clean_exit
fi

test_finish
