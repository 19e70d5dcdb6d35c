#!/usr/bin/env bash
# test_malformed_client.sh — a misbehaving client must not hurt venusd or other clients.
#
# For each worker mode (process, thread) one venusd serves, in turn:
#   handshake-only      control: Mesa's handshake, then a clean disconnect — no error logged
#   good-ring           control: a real shmem blob + vkCreateRingMESA/DestroyRing — no error
#   garbage-header      unknown vtest command id with a huge length + random bytes; venusd
#                       must also drop the connection (it cannot resynchronise)
#   truncated-submit    SUBMIT_CMD2 whose batch is longer than the message
#   unknown-command     SUBMIT_CMD2 carrying Venus command type 9999
#   bad-ring            vkCreateRingMESA naming a resource that does not exist
#   no-create-renderer  a SUBMIT_CMD2 before any handshake
#   sync-binary         control: instance, device, binary semaphore in raw protocol, then the
#                       SYNC_FD signal/wait Mesa's WSI sends (vkImport/WaitSemaphoreResourceMESA)
#                       — no error (venusd emulates SYNC_FD on lavapipe)
#   sync-import-timeline, sync-wait-timeline  the same on a timeline semaphore, and
#   sync-import-resource  an import naming resource 0x7777: fatal, and the log line names
#                       the command, the field and what is wrong
#   no-entry-point      a device created with no extension, then vkGetCalibratedTimestampsEXT,
#                       for which the host has no entry point on it: fatal and named (calling
#                       the NULL entry point would crash the worker)
#   many-rings          9 rings against venusd's --max-rings 8: fatal at the ninth, named
#   fast-monitor, high-priority  a 1 us monitor period and priority -20: no error, the
#                       period is raised to 10 ms and the priority clamped to venusd's own
#                       (both logged)
# After each malformed client: venusd is still running; its log gained an error line
# (matching "error" or "fatal", any case) that names the client — by the name it sent in
# CREATE_RENDERER ("badclient-<mode>"), or by its pid — except for no-create-renderer, which
# never sent a name; and a real "vulkaninfo --summary" through the same venusd succeeds.
#
# The client is vtest_bad_client (tests/integration/vtest_bad_client.c), built by meson next
# to venusd: <dir of $VENUSD>/tests/integration/vtest_bad_client, or $BAD_CLIENT.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init malformed_client

BAD_CLIENT=${BAD_CLIENT:-$(dirname "$VENUSD")/tests/integration/vtest_bad_client}
if [ ! -x "$BAD_CLIENT" ]; then
  fail malformed_client/bad_client_built "$BAD_CLIENT missing (meson builds it from tests/integration/meson.build)"
  test_finish
fi

ERROR_RE='error|fatal'

# run_bad WORKER MODE
run_bad() {
  local worker=$1 mode=$2 name="malformed_client/$1/$2" client="badclient-$2"
  local before rc out newlog pid extra=()
  [ "$mode" = garbage-header ] && extra=(--expect-close)
  out=$TEST_TMP/$worker-$mode.out
  newlog=$TEST_TMP/$worker-$mode.venusd-log
  before=$(log_line_count "$VD_LOGFILE")

  timeout -s KILL 30 "$BAD_CLIENT" --socket "$VD_SOCK" --mode "$mode" --name "$client" \
    --linger-ms 3000 "${extra[@]}" >"$out" 2>&1 &
  wait $!
  rc=$?
  sed 's/^/    client: /' "$out"
  pid=$(sed -n 's/^vtest_bad_client pid \([0-9]*\).*/\1/p' "$out")
  pid=${pid:-unknown}
  sleep 0.3 # let venusd finish logging about the client
  log_lines_since "$VD_LOGFILE" "$before" >"$newlog"

  case $rc in
    0) pass "$name/client" ;;
    3) fail "$name/client" "venusd kept the connection open after an unknown vtest command id with a 16 GiB length" ;;
    *) fail "$name/client" "vtest_bad_client exited $rc: $(tail -n 1 "$out")" ;;
  esac

  if alive "$VD_PID"; then
    pass "$name/venusd_alive"
  else
    fail "$name/venusd_alive" "venusd exited after the $mode client"
    show_file "$VD_LOGFILE"
    return 1
  fi

  case $mode in
    handshake-only | good-ring | sync-binary | fast-monitor | high-priority)
      if grep -Eiq "$ERROR_RE" "$newlog"; then
        fail "$name/no_error_logged" "a well-behaved client caused: $(grep -Ei -m1 "$ERROR_RE" "$newlog")"
      else
        pass "$name/no_error_logged"
      fi
      # limits that a guest cannot exceed, applied (and logged) instead of obeyed
      local want=
      case $mode in
        fast-monitor) want="monitor period 1 us raised to the minimum 10000 us" ;;
        high-priority) want="priority -20 asked for, clamped to venusd's own" ;;
      esac
      if [ -n "$want" ]; then
        if grep -qF "$want" "$newlog"; then
          pass "$name/limit_applied"
        else
          fail "$name/limit_applied" "no log line '$want'"
        fi
      fi
      ;;
    no-create-renderer)
      if grep -Eiq "$ERROR_RE" "$newlog"; then
        pass "$name/error_logged"
      else
        fail "$name/error_logged" "no error/fatal line in venusd's log after the client"
        show_file "$newlog" 10
      fi
      ;;
    *)
      if grep -Ei "$ERROR_RE" "$newlog" | grep -Eq -e "$client" -e "\\b$pid\\b"; then
        pass "$name/error_logged"
        note "venusd: $(grep -Ei "$ERROR_RE" "$newlog" | grep -E -m1 -e "$client" -e "\\b$pid\\b")"
        # SYNC_FD input that Mesa never sends is named in the log (what and where).
        local want=
        case $mode in
          sync-import-timeline) want="vkImportSemaphoreResourceMESA: pImportSemaphoreResourceInfo->semaphore: semaphore 260 is a timeline semaphore" ;;
          sync-wait-timeline) want="vkWaitSemaphoreResourceMESA: semaphore: semaphore 260 is a timeline semaphore" ;;
          sync-import-resource) want="pImportSemaphoreResourceInfo->resourceId 30583: no such resource in this context" ;;
          many-rings) want="vkCreateRingMESA: the context already has 8 rings, the most allowed (--max-rings 8)" ;;
          no-entry-point) want="vkGetCalibratedTimestampsEXT: the host has no entry point for it on this object" ;;
        esac
        if [ -n "$want" ]; then
          if grep -qF "$want" "$newlog"; then
            pass "$name/names_the_input"
          else
            fail "$name/names_the_input" "no log line '$want'"
          fi
        fi
      elif grep -Eiq "$ERROR_RE" "$newlog"; then
        fail "$name/error_logged" "error logged but it does not name the client ('$client' or pid $pid): $(grep -Ei -m1 "$ERROR_RE" "$newlog")"
      else
        fail "$name/error_logged" "no error/fatal line in venusd's log after the client"
        show_file "$newlog" 10
      fi
      ;;
  esac

  if venus_summary_ok "$TEST_TMP/$worker-$mode.after.out"; then
    pass "$name/next_client_ok"
  else
    fail "$name/next_client_ok" "after the $mode client: $VENUS_ERR"
    show_file "$TEST_TMP/$worker-$mode.after.out.err" 10
    show_file "$VD_LOGFILE" 10
  fi
}

for worker in process thread; do
  if start_venusd_or_fail "malformed_client/$worker/start" --worker "$worker" --max-rings 8; then
    for mode in handshake-only good-ring garbage-header truncated-submit unknown-command \
      bad-ring no-create-renderer sync-binary sync-import-timeline sync-wait-timeline \
      sync-import-resource no-entry-point many-rings fast-monitor high-priority; do
      run_bad "$worker" "$mode" || break
    done
    stop_venusd "malformed_client/$worker/clean_exit"
  fi
done
test_finish
