#!/usr/bin/env bash
# test_vulkaninfo_loop.sh — many clients, one venusd: nothing may accumulate.
#
# Thread mode (every client served inside the one venusd process, so its fds and threads
# show every leak): LOOP_THREAD (50) runs of "vulkaninfo --summary"; each must exit 0 and
# show the Venus device, and after each one venusd's fd and thread counts must come back
# (within SETTLE_S s) to the values measured before the first client.
# Process mode (a child per client): LOOP_PROCESS (10) runs; same checks on the parent, and
# every child must have exited and been reaped.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init vulkaninfo_loop

LOOP_THREAD=${LOOP_THREAD:-50}
LOOP_PROCESS=${LOOP_PROCESS:-10}

# run_loop MODE N
run_loop() {
  local mode=$1 n=$2 name="vulkaninfo_loop/$1" i kids t0 t1
  start_venusd_or_fail "$name/start" --worker "$mode" || return 1
  if ! wait_stable_counts "$VD_PID"; then
    note "fd/thread counts were still changing 5 s after startup; using the last reading"
  fi
  local idle_fds=$IDLE_FDS idle_threads=$IDLE_THREADS
  note "$mode mode: idle venusd has $idle_fds fds and $idle_threads threads"
  list_fds "$VD_PID" >"$TEST_TMP/$mode.idle-fds"
  list_threads "$VD_PID" >"$TEST_TMP/$mode.idle-threads"

  local runs_ok=0 counts_ok=0 first_run_err='' first_count_err='' first_child_err=''
  t0=$(date +%s)
  for i in $(seq "$n"); do
    if ! alive "$VD_PID"; then
      first_run_err=${first_run_err:-"venusd died before run $i"}
      break
    fi
    if venus_summary_ok "$TEST_TMP/$mode.run.out"; then
      runs_ok=$((runs_ok + 1))
    elif [ -z "$first_run_err" ]; then
      first_run_err="run $i: $VENUS_ERR"
      cp "$TEST_TMP/$mode.run.out" "$TEST_TMP/$mode.run$i.out"
      cp "$TEST_TMP/$mode.run.out.err" "$TEST_TMP/$mode.run$i.err"
      show_file "$TEST_TMP/$mode.run$i.err" 10
    fi
    if wait_for_counts "$VD_PID" "$idle_fds" "$idle_threads"; then
      counts_ok=$((counts_ok + 1))
    elif [ -z "$first_count_err" ]; then
      first_count_err="after run $i: $CUR_FDS fds (idle $idle_fds), $CUR_THREADS threads (idle $idle_threads) ${SETTLE_S}s after the client exited"
      list_fds "$VD_PID" >"$TEST_TMP/$mode.run$i-fds"
      list_threads "$VD_PID" >"$TEST_TMP/$mode.run$i-threads"
      note "fds now vs idle:"
      diff "$TEST_TMP/$mode.idle-fds" "$TEST_TMP/$mode.run$i-fds" | sed 's/^/      /' | head -20
      note "threads now vs idle:"
      diff "$TEST_TMP/$mode.idle-threads" "$TEST_TMP/$mode.run$i-threads" | sed 's/^/      /' | head -20
    fi
    if [ "$mode" = process ]; then
      # The worker of that client must be gone (and reaped: zombies count as children).
      kids=0
      for _ in $(seq $((${SETTLE_S%.*} * 20 + 1))); do
        kids=$(count_children "$VD_PID")
        [ "$kids" = 0 ] && break
        sleep 0.05
      done
      if [ "$kids" != 0 ] && [ -z "$first_child_err" ]; then
        first_child_err="after run $i: $kids child process(es) of venusd still there: $(children "$VD_PID" | tr '\n' ' ')"
      fi
    fi
  done
  t1=$(date +%s)
  note "$mode mode: $runs_ok/$n runs ok, counts back to idle after $counts_ok/$n, $((t1 - t0)) s"

  if [ "$runs_ok" = "$n" ]; then
    pass "$name/runs"
  else
    fail "$name/runs" "$runs_ok of $n runs ok; first failure: $first_run_err"
    show_file "$VD_LOGFILE" 15
  fi
  if [ "$counts_ok" = "$n" ]; then
    pass "$name/fds_threads_idle"
  else
    fail "$name/fds_threads_idle" "${first_count_err:-venusd died}"
  fi
  if [ "$mode" = process ]; then
    if [ -z "$first_child_err" ]; then
      pass "$name/children_reaped"
    else
      fail "$name/children_reaped" "$first_child_err"
    fi
  fi
  stop_venusd "$name/clean_exit"
}

run_loop thread "$LOOP_THREAD"
run_loop process "$LOOP_PROCESS"
test_finish
