#!/usr/bin/env bash
# tests/run-tests.sh — venusd's test command.
#
#   bash tests/run-tests.sh [--quick]
#
# 1. builds build/ (and build-asan/ with ASan+UBSan) — meson setup if needed, then ninja;
# 2. unit tests: meson test -C build --suite unit;
# 3. every tests/integration/test_*.sh against build/venusd;
# 4. unless --quick: the unit tests and every integration test again with build-asan/venusd
#    (reported names get the prefix "asan:"), then test_teardown.sh with a ThreadSanitizer
#    build (build-tsan/, prefix "tsan:").
# Every check prints "PASS name" or "FAIL name: reason" (a script that cannot run on this
# machine prints "SKIP name: reason" instead, uncounted); the last line is
# "N passed, N failed", and the exit status is 1 if anything failed.
#
# Environment: TEST_TIMEOUT (per integration script, seconds, default 600), KEEP_TMP=1
# (keep the per-test directories even when everything passed), ONLY=<glob> (run only the
# integration scripts whose name matches, e.g. ONLY='*signals*').
# Dependencies: scripts/setup-deps.sh.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "run-tests.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

TEST_TIMEOUT=${TEST_TIMEOUT:-600}
ONLY=${ONLY:-*}
RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/venusd-tests.XXXXXX")
PASSED=0
FAILED=0
START=$(date +%s)

# process-group helpers (pids_where, group_members, show_file) — no side effects
# shellcheck source-path=SCRIPTDIR source=integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

rpass() {
  printf 'PASS %s\n' "$1"
  PASSED=$((PASSED + 1))
}
rfail() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  FAILED=$((FAILED + 1))
}

# Kills whatever is left of the venusd process groups a test recorded.
kill_leftovers() {
  local f pid
  for f in "$@"; do
    [ -f "$f" ] || continue
    while read -r pid; do
      [ -n "$pid" ] || continue
      if [ -n "$(group_members "$pid")" ]; then
        echo "# killing leftover venusd process group $pid"
        kill -KILL -- "-$pid" 2>/dev/null
      fi
    done <"$f"
  done
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  kill_leftovers "$RUN_TMP"/*/venusd.pids
  if [ "$FAILED" = 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then
    rm -rf "$RUN_TMP"
  else
    echo "# logs and outputs of this run: $RUN_TMP"
  fi
  echo "# total time: $(($(date +%s) - START)) s"
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  if [ "$FAILED" != 0 ]; then
    exit 1
  fi
  exit "$rc"
}
CUR_TEST=
# On INT/TERM: pass the signal to the running test (timeout relays it to the script, whose
# trap stops its venusd), give it a moment, then finish (which kills any leftovers).
on_signal() {
  echo "# $1: stopping"
  FAILED=$((FAILED + 1))
  if [ -n "$CUR_TEST" ]; then
    local p
    for p in $(children "$CUR_TEST"); do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 100); do
      alive "$CUR_TEST" || break
      sleep 0.1
    done
  fi
  exit "$2"
}
trap finish EXIT
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM

# build DIR NAME [MESON_ARGS...] — configure if needed, then ninja; reports PASS/FAIL NAME.
build() {
  local dir=$1 name=$2 log
  shift 2
  log=$RUN_TMP/$name.log
  echo "# --- building $dir"
  if [ ! -f "$dir/build.ninja" ]; then
    local wipe=()
    [ -d "$dir/meson-private" ] && wipe=(--wipe)
    if ! meson setup "${wipe[@]}" "$dir" "$@" >"$log" 2>&1; then
      rfail "$name" "meson setup $dir $* failed"
      show_file "$log" 30
      return 1
    fi
  fi
  if ! ninja -C "$dir" >>"$log" 2>&1; then
    rfail "$name" "ninja -C $dir failed (log: $log)"
    if grep -q 'error:' "$log"; then
      grep -E -B2 -A6 'error:' "$log" | head -n 60 | sed 's/^/    | /'
    else
      show_file "$log" 40
    fi
    return 1
  fi
  if [ ! -x "$dir/venusd" ]; then
    rfail "$name" "$dir/venusd was not built"
    return 1
  fi
  rpass "$name"
}

# unit_tests DIR PREFIX — meson test --suite unit; one PASS/FAIL per test.
unit_tests() {
  local dir=$1 prefix=$2 log rc json
  log=$RUN_TMP/${prefix}unit.log
  json=$dir/meson-logs/unit-testlog.json
  echo "# --- ${prefix}unit tests ($dir)"
  rm -f "$json"
  meson test -C "$dir" --suite unit --print-errorlogs --logbase unit-testlog >"$log" 2>&1
  rc=$?
  local n=0 name result
  if [ -f "$json" ]; then
    while IFS=$'\t' read -r name result; do
      n=$((n + 1))
      case $result in
        OK | EXPECTEDFAIL) rpass "${prefix}unit/$name" ;;
        SKIP) echo "# skipped: ${prefix}unit/$name" ;;
        *) rfail "${prefix}unit/$name" "$result (see $log)" ;;
      esac
    done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print("%s\t%s" % (d["name"].split(" / ", 1)[-1], d["result"]))' "$json")
  fi
  if [ "$n" = 0 ]; then
    if grep -q 'No suitable tests defined\|No tests defined' "$log"; then
      rfail "${prefix}unit" "no tests in suite 'unit' (tests/unit/meson.build missing or empty?)"
    else
      rfail "${prefix}unit" "meson test exited $rc without running tests"
      show_file "$log" 30
    fi
  elif [ "$rc" != 0 ]; then
    # the failing tests' output (--print-errorlogs), up to meson's summary
    sed -n '/^>>> /,/^Summary of Failures/p' "$log" | head -n 80 | sed 's/^/    | /'
  fi
}

# integration VENUSD PREFIX — every tests/integration/test_*.sh against VENUSD.
integration() {
  local venusd=$1 prefix=$2 t name dir rc np nf ns
  for t in tests/integration/test_*.sh; do
    name=$(basename "$t" .sh)
    name=${name#test_}
    # shellcheck disable=SC2053 # glob match on purpose
    [[ $name == $ONLY || test_$name == $ONLY ]] || continue
    dir=$RUN_TMP/${prefix:-plain-}${name}
    dir=${dir//:/-}
    mkdir -p "$dir"
    echo "# --- ${prefix}${name} (VENUSD=$venusd, files in $dir)"
    # In the background so that a signal to this script is handled at once (on_signal).
    (
      timeout --foreground -k 30 "$TEST_TIMEOUT" \
        env VENUSD="$venusd" TEST_TMP="$dir" TEST_PREFIX="$prefix" \
        SETTLE_S="${SETTLE:-2}" bash "$t" 2>&1 </dev/null | tee "$dir/output.txt"
      exit "${PIPESTATUS[0]}"
    ) &
    CUR_TEST=$!
    wait "$CUR_TEST"
    rc=$?
    CUR_TEST=
    kill_leftovers "$dir/venusd.pids"
    np=$(grep -c '^PASS ' "$dir/output.txt")
    nf=$(grep -c '^FAIL ' "$dir/output.txt")
    ns=$(grep -c '^SKIP ' "$dir/output.txt") # a script that cannot run here says why
    PASSED=$((PASSED + np))
    FAILED=$((FAILED + nf))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      rfail "${prefix}${name}" "timed out after ${TEST_TIMEOUT}s"
    elif [ "$np" = 0 ] && [ "$nf" = 0 ] && [ "$ns" = 0 ]; then
      rfail "${prefix}${name}" "reported no results (exit $rc)"
    elif [ "$rc" != 0 ] && [ "$nf" = 0 ]; then
      rfail "${prefix}${name}" "exited $rc without reporting a failure"
    fi
  done
}

if [ -n "${SETUP_FAILED:-}" ]; then # set by .ci/run
  rfail setup "$SETUP_FAILED"
fi
for tool in meson ninja python3 vulkaninfo gcc; do
  if ! command -v "$tool" >/dev/null; then
    rfail setup "$tool not found: run scripts/setup-deps.sh first"
    exit 1
  fi
done

if build build build; then
  unit_tests build ""
  SETTLE=2 integration "$ROOT/build/venusd" ""
fi

if [ "$QUICK" = 0 ]; then
  if build build-asan build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
    # venusd's children (process mode) and exit paths are checked for leaks too; clients
    # are not instrumented. Callers may override any of these.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=0}
    unit_tests build-asan "asan:"
    SETTLE=4 integration "$ROOT/build-asan/venusd" "asan:"
  fi
  # ThreadSanitizer over the threaded teardown paths: venusd's threads (rings, monitor,
  # queue fence threads) with clients killed at random moments, in thread-worker mode too.
  # Races inside lavapipe alone are suppressed (tests/tsan.supp); any with a venusd frame
  # fails stop_venusd's sanitizer check.
  if build build-tsan build-tsan -Db_sanitize=thread -Db_lundef=false; then
    TSAN_OPTIONS=${TSAN_OPTIONS:-suppressions=$ROOT/tests/tsan.supp:halt_on_error=0:report_signal_unsafe=0} \
      APPS_DIR="$ROOT/build/tests/apps" THREAD_SLACK=1 ONLY=teardown SETTLE=4 \
      integration "$ROOT/build-tsan/venusd" "tsan:"
  fi
else
  echo "# --quick: ASan+UBSan pass skipped"
fi
