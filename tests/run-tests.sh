#!/usr/bin/env bash
# tests/run-tests.sh — venusd's test command: sets up, builds, runs `meson test`, counts.
#
#   bash tests/run-tests.sh [--quick] [--no-setup] [--posix]
#
# 1. setup (idempotent, seconds when done): scripts/setup-deps.sh (packages, third_party/);
#    then, when a selected test is in the suite 'vm-cache' (render-server, vm), tests/vm/vm.sh
#    setup and tests/clients/mesa-clients.sh setup (Debian 13 chroots, the Mesa 26 clients
#    and a guest in /var/cache/venusd-vm; minutes the first time,
#    root and network).  A setup that fails is "FAIL setup/...: reason", and the tests that
#    need it fail with their own reason.  --no-setup leaves both out.
# 2. builds build/ and, unless --quick, build-asan/ (ASan+UBSan) and build-tsan/
#    (ThreadSanitizer): meson setup when needed (again when tests/integration/ gained or lost
#    a test_*.sh), then ninja.  Unless --quick (or with --posix), build-posix/
#    (-Dplatform=posix, as on macOS) too.
# 3. meson test in build/ (every suite: unit and the integration scripts, which
#    tests/integration/meson.build registers with TAP output), then in build-asan/ (the
#    same, names prefixed "asan:") and build-tsan/ (teardown and the thread-worker runs of
#    apps, lifetimes and limits, prefixed "tsan:"), and in build-posix/ the tests of
#    POSIX_SUITES below with VENUSD_WORKER=spawn (prefixed "posix:").
# 4. counts each result in meson's logs (<build>/meson-logs/run-tests.json): every TAP line
#    of an integration script, every unit test.  A script that crashed, timed out or was
#    killed by meson counts as a failure under its name.
# Prints every result as "PASS name", "FAIL name: reason" or "SKIP name: reason"; the last
# line is "N passed, N failed", and the exit status is 1 if anything failed.
#
# Environment: ONLY=<glob> runs only the meson tests whose name, test_<name> or one of
# whose suites matches (ONLY='*signals*', ONLY=unit, ONLY=malformed); TEST_TIMEOUT (seconds
# per integration script, instead of tests/integration/meson.build's timeouts); KEEP_TMP=1
# (keep each integration script's files, <build>/test-tmp/NAME, even when it passed);
# PREBUILD=0|1 (the background builds of the later trees: by default on a whole run).
# One suite by hand: meson test -C build --suite apps (see README.md, "Tests").
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=0
SETUP=1
POSIX=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --no-setup) SETUP=0 ;;
    --posix) POSIX=1 ;;
    -h | --help)
      sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "run-tests.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

ONLY=${ONLY:-*}
export KEEP_TMP=${KEEP_TMP:-0}
[ -n "${TEST_TIMEOUT:-}" ] && export TEST_TIMEOUT
RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/venusd-tests.XXXXXX")
PASSED=0
FAILED=0
SKIPPED=0
START=$(date +%s)
MESON_PID=
CUR_DIR=
CUR_PREFIX=
LOGS=()

# show_file (lib.sh has no side effects until test_init)
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

# the background builds (prebuild, below): stopped with the run
PREBUILD_PID=
stop_prebuild() {
  [ -n "$PREBUILD_PID" ] && kill -TERM -- "-$PREBUILD_PID" 2>/dev/null
  PREBUILD_PID=
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  stop_prebuild
  if [ "$FAILED" = 0 ] && [ "$KEEP_TMP" != 1 ]; then
    rm -rf "$RUN_TMP"
  else
    echo "# setup and build logs of this run: $RUN_TMP"
  fi
  [ "${#LOGS[@]}" -gt 0 ] && echo "# meson's logs: ${LOGS[*]}"
  echo "# total time: $(($(date +%s) - START)) s; $SKIPPED skipped"
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  if [ "$FAILED" != 0 ]; then
    exit 1
  fi
  exit "$rc"
}
# INT/TERM: meson test stops its running test (tap.sh reports it and kills its venusd);
# the results logged so far are counted.
on_signal() {
  trap - INT TERM
  echo "# $1: stopping"
  rfail "run-tests" "$1"
  if [ -n "$MESON_PID" ]; then
    kill -TERM "$MESON_PID" 2>/dev/null
    wait "$MESON_PID"
    count_results "$CUR_DIR" "$CUR_PREFIX"
  fi
  exit "$2"
}
trap finish EXIT
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM

# setup_step NAME CMD... — runs CMD (output in $RUN_TMP/NAME.log); FAIL setup/NAME if it fails.
setup_step() {
  local name=$1 log=$RUN_TMP/setup-$1.log t0=$SECONDS
  shift
  echo "# --- setup: $*"
  if "$@" >"$log" 2>&1 </dev/null; then
    echo "# $name: ready ($((SECONDS - t0)) s)"
    return 0
  fi
  rfail "setup/$name" "'$*' failed (exit $?, log $log); the tests that need it will fail too"
  show_file "$log" 20
  return 1
}

# Each tree's meson and ninja run under flock on DIR/.build-lock: the background builds
# below, build() and test_fuzz_smoke.sh's build of build-fuzz take the same lock, so two
# ninjas never work in one tree.
build_lock() { # DIR — opens and locks DIR/.build-lock on fd 9 (blocks while another holds it)
  mkdir -p "$1" && exec 9>"$1/.build-lock" && flock 9
}
build_unlock() { exec 9>&-; }

# build DIR NAME [MESON_ARGS...] — configure if needed, then ninja; reports PASS/FAIL NAME.
build() {
  build_lock "$1" || {
    rfail "$2" "cannot lock $1/.build-lock"
    return 1
  }
  build_locked "$@"
  local rc=$?
  build_unlock
  return $rc
}
build_locked() {
  local dir=$1 name=$2 log=$RUN_TMP/$2.log
  shift 2
  echo "# --- building $dir"
  if [ ! -f "$dir/build.ninja" ]; then
    local wipe=()
    [ -d "$dir/meson-private" ] && wipe=(--wipe)
    if ! meson setup "${wipe[@]}" "$dir" "$@" >"$log" 2>&1; then
      rfail "$name" "meson setup $dir $* failed"
      show_file "$log" 30
      return 1
    fi
  elif ! (cd tests/integration && ls test_*.sh) | cmp -s - "$dir/tests/integration/integration-scripts.txt"; then
    # meson does not notice a new file by itself
    echo "# tests/integration/test_*.sh changed: meson setup --reconfigure $dir"
    if ! meson setup --reconfigure "$dir" >"$log" 2>&1; then
      rfail "$name" "meson setup --reconfigure $dir failed"
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

# select_tests DIR [NAME] — "NAME<tab>SUITES" for each of DIR's meson tests that ONLY
# selects (and that is NAME, if given).  `meson test --list` prints
# "project:suite1+suite2 / name".
select_tests() {
  local line name suites s pick only_name=${2:-}
  while IFS= read -r line; do
    case $line in *' / '*) ;; *) continue ;; esac
    name=${line##* / }
    suites=${line%% / *}
    suites=${suites#*:}
    pick=0
    # shellcheck disable=SC2053 # glob match on purpose
    [[ $name == $ONLY || test_$name == $ONLY ]] && pick=1
    for s in ${suites//+/ }; do
      # shellcheck disable=SC2053
      [[ $s == $ONLY ]] && pick=1
    done
    [ -n "$only_name" ] && [[ " $only_name " != *" $name "* ]] && pick=0
    [ "$pick" = 1 ] && printf '%s\t%s\n' "$name" "$suites"
  done < <(meson test -C "$1" --no-rebuild --list 2>/dev/null)
}

# count_results DIR PREFIX — one PASS/FAIL/SKIP line per result in DIR's run-tests.json:
# the TAP lines of the integration tests (suite 'integration'), and each other test's own
# result.  A test meson did not see finish (TIMEOUT, ERROR, INTERRUPT, ...) fails under
# its name unless its TAP lines already report a failure.
count_results() {
  local dir=$1 prefix=$2 json=$1/meson-logs/run-tests.json kind rest
  [ -f "$json" ] || return 0
  if ! awk -v logfile=x -f tests/integration/tap-results.awk "$json" >/dev/null; then
    rfail "${prefix}results" "tests/integration/tap-results.awk cannot read $json"
    return
  fi
  while IFS=$'\t' read -r kind rest; do
    case $kind in
      PASS) rpass "$rest" ;;
      FAIL) rfail "${rest%%$'\t'*}" "${rest#*$'\t'}" ;;
      SKIP)
        printf 'SKIP %s: %s\n' "${rest%%$'\t'*}" "${rest#*$'\t'}"
        SKIPPED=$((SKIPPED + 1))
        ;;
    esac
  done < <(awk -v prefix="$prefix" -v logfile="$dir/meson-logs/run-tests.txt" -f \
    "$ROOT/tests/integration/tap-results.awk" "$json")
}

# run_suites DIR PREFIX [NAMES] — meson test in DIR for what ONLY selects (only the tests
# NAMES, a space-separated list, if given), then count_results.
run_suites() {
  local dir=$1 prefix=$2 rc name suites names=() mult=() need_vm=0
  CUR_DIR=$dir
  CUR_PREFIX=$prefix
  while IFS=$'\t' read -r name suites; do
    names+=("$name")
    [[ "+$suites+" == *+vm-cache+* ]] && need_vm=1
  done < <(select_tests "$dir" "${3:-}")
  if [ "${#names[@]}" = 0 ]; then
    rfail "${prefix}select" "ONLY='$ONLY' selects none of the tests of $dir (meson test -C $dir --list)"
    return
  fi
  # the VM cache, once, before the first test that needs it
  if [ "$need_vm" = 1 ] && [ "$SETUP" = 1 ] && [ "$VM_SETUP_DONE" = 0 ]; then
    VM_SETUP_DONE=1
    # and the Mesa 26 clients in its chroot: guest_ranges and protocol_levels send the
    # newest protocol's input through them, before mesa_clients (which would make them) runs
    setup_step vm-cache bash tests/vm/vm.sh setup &&
      setup_step mesa-clients bash tests/clients/mesa-clients.sh setup
  fi
  # TEST_TIMEOUT replaces tap.sh's limits; meson's (2 minutes above tap.sh's, 30 s for
  # unit tests) must not cut it short.
  if [ -n "${TEST_TIMEOUT:-}" ]; then
    mult=(--timeout-multiplier $(((TEST_TIMEOUT + 150) / 30)))
  fi
  [ "$ONLY" = '*' ] && [ -z "${3:-}" ] && names=()
  echo "# --- meson test -C $dir ${names[*]}"
  rm -f "$dir/meson-logs/run-tests.json"
  meson test -C "$dir" --no-rebuild --print-errorlogs --logbase run-tests "${mult[@]}" \
    "${names[@]}" </dev/null &
  MESON_PID=$!
  wait "$MESON_PID"
  rc=$?
  MESON_PID=
  LOGS+=("$dir/meson-logs/run-tests.txt")
  if [ ! -s "$dir/meson-logs/run-tests.json" ]; then
    rfail "${prefix}meson-test" "meson test -C $dir exited $rc without running a test"
    return
  fi
  echo "# --- results in $dir"
  local failed_before=$FAILED
  count_results "$dir" "$prefix"
  if [ "$rc" != 0 ] && [ "$FAILED" = "$failed_before" ]; then
    rfail "${prefix}meson-test" "meson test -C $dir exited $rc, but its log shows no failure (see $dir/meson-logs/run-tests.txt)"
  fi
}

if [ "$SETUP" = 1 ]; then
  setup_step deps bash scripts/setup-deps.sh
fi
for tool in meson ninja python3 vulkaninfo gcc; do
  if ! command -v "$tool" >/dev/null; then
    rfail setup "$tool not found: scripts/setup-deps.sh installs it"
    exit 1
  fi
done

ASAN_ARGS=(-Db_sanitize=address,undefined -Db_lundef=false)
TSAN_ARGS=(-Db_sanitize=thread -Db_lundef=false)
POSIX_ARGS=(-Dplatform=posix)

# prebuild — the trees built after build/'s tests (build-fuzz for test_fuzz_smoke.sh,
# build-asan, build-tsan, build-posix), built in the background while build/'s tests run:
# those run one at a time and mostly wait on their clients, so on a 2-core machine the
# compiles (minutes each: vn_protocol.c alone is 1-5 minutes in a sanitizer build) overlap
# them instead of following them.  Lowest priority and one job, so that the tests keep a
# core; each tree under its lock (build_lock), which the foreground build then waits for.
prebuild() {
  local spec dir
  for spec in "build-fuzz:" "build-asan:${ASAN_ARGS[*]}" "build-tsan:${TSAN_ARGS[*]}" \
    "build-posix:${POSIX_ARGS[*]}"; do
    dir=${spec%%:*}
    if [ "$dir" = build-fuzz ]; then
      FUZZ_SMOKE_BUILD_ONLY=1 nice -n 19 bash tests/integration/test_fuzz_smoke.sh
      continue
    fi
    (
      build_lock "$dir" || exit 1
      if [ ! -f "$dir/build.ninja" ]; then
        # shellcheck disable=SC2086 # the options are words
        nice -n 19 meson setup "$dir" ${spec#*:} || exit 1
      fi
      nice -n 19 ninja -j1 -C "$dir"
    )
  done
}

VM_SETUP_DONE=0
if build build build; then
  # PREBUILD=0 never, 1 also for a selection; by default on a whole run (no ONLY, no --quick)
  if [ "$QUICK" = 0 ] && { [ "${PREBUILD:-}" = 1 ] || { [ "$ONLY" = '*' ] && [ "${PREBUILD:-}" != 0 ]; }; } &&
    command -v setsid >/dev/null; then
    echo "# building build-fuzz, build-asan, build-tsan and build-posix in the background" \
      "(log: $RUN_TMP/prebuild.log)"
    export -f prebuild build_lock
    export ASAN_ARGS_S="${ASAN_ARGS[*]}" TSAN_ARGS_S="${TSAN_ARGS[*]}" POSIX_ARGS_S="${POSIX_ARGS[*]}"
    setsid bash -c 'ASAN_ARGS=($ASAN_ARGS_S) TSAN_ARGS=($TSAN_ARGS_S) POSIX_ARGS=($POSIX_ARGS_S)
      prebuild' >"$RUN_TMP/prebuild.log" 2>&1 </dev/null &
    PREBUILD_PID=$!
  fi
  run_suites build ""
fi
if [ "$QUICK" = 0 ]; then
  if build build-asan build-asan "${ASAN_ARGS[@]}"; then
    run_suites build-asan "asan:"
  fi
  # ThreadSanitizer over the suite's thread-worker runs: venusd's threads (rings, monitor,
  # queue fence threads) serving the apps, lifetimes and limits in thread mode, and
  # clients killed at random moments (teardown, both modes).
  # tests/integration/meson.build registers only these integration tests in a TSan build,
  # with WORKER_MODES=thread and APPS_SHORT=1.
  tsan_tests="teardown lifetimes limits apps"
  tsan_pick=0
  for t in $tsan_tests integration; do
    # shellcheck disable=SC2053 # glob match on purpose
    [[ $t == $ONLY || test_$t == $ONLY ]] && tsan_pick=1
  done
  if [ "$tsan_pick" = 1 ]; then
    if build build-tsan build-tsan "${TSAN_ARGS[@]}"; then
      run_suites build-tsan "tsan:" "$tsan_tests"
    fi
  fi
else
  echo "# --quick: the ASan+UBSan and TSan builds are left out"
fi

# The POSIX build (-Dplatform=posix): its workers spawned, the render server in both
# framings (render_server_protocol), the malformed clients, its own checks
# (platform_posix) and the app suite on the MoltenVK-shaped layer at 16 KiB
# (moltenvk_shape), as on a macOS host.  The plain app suite, the real apps, present, the
# vulkaninfo loops and the VM are left to the Linux build, to keep this pass to minutes on
# 2 cores (measured on 2 loaded cores: apps 6.9 min, malformed + platform 1.6 min).
# POSIX_SUITES="..." (space-separated suites or test names) replaces the list.
read -r -a POSIX_SUITES <<<"${POSIX_SUITES:-malformed_client render_server_protocol platform moltenvk_shape}"
posix_pass() {
  local name suites s
  build build-posix build-posix "${POSIX_ARGS[@]}" || return
  export VENUSD_WORKER=spawn
  while IFS=$'\t' read -r name suites; do
    for s in "${POSIX_SUITES[@]}"; do
      if [[ "+$suites+" == *"+$s+"* || "$name" == "$s" ]]; then
        run_suites build-posix "posix:" "$name"
        break
      fi
    done
  done < <(select_tests build-posix)
  unset VENUSD_WORKER
}
if [ "$QUICK" = 0 ] || [ "$POSIX" = 1 ]; then
  posix_pass
fi
