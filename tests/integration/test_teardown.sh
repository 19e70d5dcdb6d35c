#!/usr/bin/env bash
# test_teardown.sh — a valid client that goes away with GPU work in flight never hurts
# venusd: not when it exits or is killed while a batch waits for something it will now
# never signal, and not when it is killed at a random moment while it streams work.
#
# For each worker mode (process, thread), one venusd serves, in turn:
#   exit_with_pending_wait   vk_inflight --pending-wait --exit: a batch waits for a timeline
#                            value and another for an event that nobody will signal, and the
#                            client returns from main; its context must be destroyed within
#                            10 s (before venusd quiesced devices, the worker hung in the
#                            driver for ever)
#   killed_with_pending_wait the same, killed with SIGKILL while it sleeps
#   kill_loop                TEARDOWN_KILLS (default 40; 1000 for the acceptance run)
#                            clients of vk_inflight --busy (allocating, submitting, freeing,
#                            four submissions in flight) killed with SIGKILL after a random
#                            0-600 ms, so at every stage from device creation on: no worker
#                            may die of a signal (process mode), venusd must stay up (thread
#                            mode), and every context must be destroyed
#   rt_kill_loop             where a Mesa 26 client is made (tests/clients/mesa-clients.sh):
#                            TEARDOWN_RT_KILLS (default 6) clients of vk_ray_query
#                            (acceleration structure builds and a ray-query dispatch)
#                            killed with SIGKILL after a random 0-2 s: no worker dies of a
#                            signal, every context is destroyed
#   idle                     fds, threads and worker processes back to idle, no shm files
#                            left, and (stop_venusd) a clean exit with no sanitizer report
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init teardown

BUILD=$(dirname "$VENUSD")
# APPS_DIR: where vk_inflight is (default: the build's own; a ThreadSanitizer build does not
# instrument its tests/apps programs, see tests/apps/meson.build).
APP=${APPS_DIR:-$BUILD/tests/apps}/vk_inflight
# THREAD_SLACK: threads venusd may have beyond its idle count (TSan's background thread
# starts lazily).
SLACK=${THREAD_SLACK:-0}
KILLS=${TEARDOWN_KILLS:-40}
if [ ! -x "$APP" ]; then
  fail "teardown/build" "$APP missing (tests/apps/meson.build builds it)"
  test_finish
fi

shm_files() { find /dev/shm -maxdepth 1 -name 'venusd-*' 2>/dev/null | wc -l; }

RT_APP=${APPS_DIR:-$BUILD/tests/apps}/vk_ray_query
RT_CLIENT=$([ "$(id -u)" = 0 ] && [ -x "$RT_APP" ] &&
  bash "$REPO_ROOT/tests/clients/mesa-clients.sh" list 2>/dev/null |
  awk '$1 == "sid" || $1 == "backports" { print $1; exit }')
RT_KILLS=${TEARDOWN_RT_KILLS:-6}
# kill_tree_app PID NAME — SIGKILL to the processes under PID (this test's own client
# subshell) whose command line holds NAME, by pid.
kill_tree_app() {
  local p
  for p in $(children "$1"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$2"; then
      kill -KILL "$p" 2>/dev/null
    fi
    kill_tree_app "$p" "$2"
  done
}
rt_created() { grep -c "context [0-9]* (vk_ray_query) created" "$VD_LOGFILE"; }
rt_destroyed() { grep -c "context [0-9]* (vk_ray_query) destroyed" "$VD_LOGFILE"; }
destroyed() { grep -c "context [0-9]* (vk_inflight) destroyed" "$VD_LOGFILE"; }
created() { grep -c "context [0-9]* (vk_inflight) created" "$VD_LOGFILE"; }

# settled CREATED DESTROYED SECONDS — waits (at most SECONDS) until the log counts as many
# contexts destroyed (function DESTROYED) as created (function CREATED), reading both again
# each time, and prints the created count: a killed client's context can still be logged
# as created after the kill returned (the server had accepted it; seen under TSan, where
# "6 of 5 contexts destroyed" was a count taken too early, not a leak).
settled() {
  local i c
  for i in $(seq $(($3 * 10))); do
    c=$($1)
    [ "$($2)" -ge "$c" ] && break
    sleep 0.1
  done
  $1
}

# wait_destroyed N SECONDS — until N contexts of vk_inflight have been destroyed.
wait_destroyed() {
  local i
  for i in $(seq $(($2 * 10))); do
    [ "$(destroyed)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# kill_app MODE — SIGKILL to the client itself (not to the timeout wrapper around it).
kill_app() { pkill -KILL -f "$APP $1" 2>/dev/null; }

shm_before=$(shm_files)
for worker in process thread; do
  start_venusd_or_fail "teardown/$worker/start" --worker "$worker" || continue
  idle_fds=$(count_fds "$VD_PID")
  idle_threads=$(count_threads "$VD_PID")

  out=$TEST_TMP/$worker-exit.out
  CLIENT_TIMEOUT=30 venus_client "$APP" --pending-wait --exit >"$out" 2>&1
  if grep -q '^pending' "$out" && wait_destroyed 1 10; then
    pass "teardown/$worker/exit_with_pending_wait"
  else
    fail "teardown/$worker/exit_with_pending_wait" "client: $(tail -n 1 "$out"); contexts destroyed: $(destroyed) of 1 after 10 s"
  fi

  out=$TEST_TMP/$worker-kill.out
  (CLIENT_TIMEOUT=60 venus_client "$APP" --pending-wait >"$out" 2>&1) &
  client=$!
  for _ in $(seq 100); do grep -q '^pending' "$out" 2>/dev/null && break; sleep 0.1; done
  kill_app --pending-wait
  wait "$client" 2>/dev/null
  if grep -q '^pending' "$out" && wait_destroyed 2 10; then
    pass "teardown/$worker/killed_with_pending_wait"
  else
    fail "teardown/$worker/killed_with_pending_wait" "client: $(tail -n 1 "$out"); contexts destroyed: $(destroyed) of 2 after 10 s"
  fi

  start=$(date +%s)
  for i in $(seq "$KILLS"); do
    (CLIENT_TIMEOUT=30 venus_client "$APP" --busy >/dev/null 2>&1) &
    client=$!
    sleep "0.$(printf '%03d' $((RANDOM % 600)))"
    kill_app --busy
    wait "$client" 2>/dev/null
    alive "$VD_PID" || break
  done
  n=$(settled created destroyed 20)
  crashes=$(grep -c "was killed by signal" "$VD_LOGFILE")
  if ! alive "$VD_PID"; then
    fail "teardown/$worker/kill_loop" "venusd died after $i of $KILLS kills: $(tail -n 2 "$VD_LOGFILE" | tr '\n' ' ')"
    continue
  elif [ "$crashes" != 0 ]; then
    fail "teardown/$worker/kill_loop" "$crashes worker(s) killed by a signal: $(grep -m1 'was killed by signal' "$VD_LOGFILE")"
  elif [ "$(destroyed)" != "$n" ]; then
    fail "teardown/$worker/kill_loop" "$(destroyed) of $n contexts destroyed 20 s after the last kill"
  else
    pass "teardown/$worker/kill_loop"
  fi
  note "$worker: $KILLS kills in $(($(date +%s) - start)) s, $n contexts made it to creation"

  if [ -n "$RT_CLIENT" ]; then
    for i in $(seq "$RT_KILLS"); do
      (VENUS_CLIENT=$RT_CLIENT CLIENT_TIMEOUT=60 venus_client "$RT_APP" >/dev/null 2>&1) &
      client=$!
      sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 1000)))"
      kill_tree_app "$client" vk_ray_query
      wait "$client" 2>/dev/null
    done
    n=$(settled rt_created rt_destroyed 20)
    crashes=$(grep -c "was killed by signal" "$VD_LOGFILE")
    if ! alive "$VD_PID"; then
      fail "teardown/$worker/rt_kill_loop" "venusd died: $(tail -n 2 "$VD_LOGFILE" | tr '\n' ' ')"
      continue
    elif [ "$crashes" != 0 ] || [ "$(rt_destroyed)" != "$n" ]; then
      fail "teardown/$worker/rt_kill_loop" "$crashes worker(s) killed by a signal; $(rt_destroyed) of $n vk_ray_query contexts destroyed"
    else
      pass "teardown/$worker/rt_kill_loop"
    fi
    note "$worker: $RT_KILLS vk_ray_query clients ($RT_CLIENT) killed, $n contexts made it to creation"
  else
    skip "teardown/$worker/rt_kill_loop" "no Mesa 26 client (tests/clients/mesa-clients.sh setup, as root)"
  fi

  for _ in $(seq 50); do
    [ "$(count_fds "$VD_PID")" = "$idle_fds" ] && [ "$(count_threads "$VD_PID")" -le $((idle_threads + SLACK)) ] &&
      [ -z "$(children "$VD_PID")" ] && break
    sleep 0.1
  done
  if [ "$(count_fds "$VD_PID")" = "$idle_fds" ] && [ "$(count_threads "$VD_PID")" -le $((idle_threads + SLACK)) ] &&
    [ -z "$(children "$VD_PID")" ]; then
    pass "teardown/$worker/idle"
  else
    fail "teardown/$worker/idle" "fds $(count_fds "$VD_PID") (idle $idle_fds), threads $(count_threads "$VD_PID") (idle $idle_threads), workers: $(children "$VD_PID" | tr '\n' ' ')"
  fi
  stop_venusd "teardown/$worker/clean_exit"
done
if [ "$(shm_files)" = "$shm_before" ]; then
  pass "teardown/no_shm_files_left"
else
  fail "teardown/no_shm_files_left" "$(shm_files) venusd-* files in /dev/shm (before: $shm_before)"
fi
test_finish
