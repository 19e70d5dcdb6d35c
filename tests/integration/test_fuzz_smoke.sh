#!/usr/bin/env bash
# test_fuzz_smoke.sh — the libFuzzer targets of fuzz/ build and run their seed corpora once
# without a crash or sanitizer report (fuzz/README.md).
#
#   fuzz_smoke/build           $FUZZ_BUILD (default build-fuzz/; configured here with
#                              CC=clang -Dfuzz=true and ASan+UBSan if missing) builds the four
#                              targets and fuzz_make_seeds
#   fuzz_smoke/seeds           fuzz/seeds.sh makes a non-empty seed corpus for every target
#   fuzz_smoke/<target>        the target runs every seed (and fuzz/corpus/<target>/, the
#                              inputs earlier runs kept, crash regressions among them) once
#                              (-runs=0): exit 0, no sanitizer report, and libFuzzer's INITED
#                              line counts every input and at least MIN_COV coverage points
#                              (a harness that stops reaching venusd fails this)
#   fuzz_smoke/decoder_no_driver  fuzz_decoder with no host driver (VK_DRIVER_FILES pointing
#                              nowhere, as fuzz/campaign.sh runs it on a host without
#                              lavapipe) still decodes the seeds past their first object
#                              lookup: at least MIN_COV_NO_DRIVER coverage points (the live
#                              context alone, which stops at the first lookup, reached 1513)
#   fuzz_smoke/campaign        fuzz/campaign.sh runs fuzz_vtest for a few seconds with -fork
#                              and prints its table row with executions > 0, no crash
# SKIPs (one "SKIP fuzz_smoke: reason" line) only when clang or its libFuzzer runtime is
# missing.  $VENUSD is not used: the targets link venusd's code themselves.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

TEST_NAME=fuzz_smoke
TEST_TMP=${TEST_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/venusd-fuzz_smoke.XXXXXX")}
mkdir -p "$TEST_TMP"
FUZZ_BUILD=${FUZZ_BUILD:-$REPO_ROOT/build-fuzz}
TARGETS="decoder vtest render_server ring"
MIN_COV=${MIN_COV:-1000}
MIN_COV_NO_DRIVER=${MIN_COV_NO_DRIVER:-2000}

skip() {
  printf 'SKIP %s: %s\n' "$TEST_NAME" "$*"
  exit 0
}

command -v clang >/dev/null || skip "clang not found (the fuzz targets need clang's libFuzzer)"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
  >"$TEST_TMP/probe.c"
clang -fsanitize=fuzzer "$TEST_TMP/probe.c" -o "$TEST_TMP/probe" 2>"$TEST_TMP/probe.err" ||
  skip "clang cannot link -fsanitize=fuzzer (libFuzzer runtime missing):" \
    "$(tail -n 1 "$TEST_TMP/probe.err")"

# ---- build ------------------------------------------------------------------------

build_fuzz() {
  # tests/run-tests.sh may be building this tree in the background (FUZZ_SMOKE_BUILD_ONLY):
  # its lock keeps two ninjas out of one tree.
  mkdir -p "$FUZZ_BUILD" && exec 9>"$FUZZ_BUILD/.build-lock" && flock 9 || return 1
  if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
    CC=clang nice meson setup "$FUZZ_BUILD" -Dfuzz=true -Db_sanitize=address,undefined \
      -Db_lundef=false || return 1
  fi
  local targets=(fuzz/fuzz_make_seeds) t
  for t in $TARGETS; do targets+=("fuzz/fuzz_$t"); done
  nice ninja -C "$FUZZ_BUILD" "${targets[@]}"
}
build_fuzz >"$TEST_TMP/build.log" 2>&1
build_rc=$?
exec 9>&-
# FUZZ_SMOKE_BUILD_ONLY=1 (tests/run-tests.sh's background build): the build, nothing more.
if [ "${FUZZ_SMOKE_BUILD_ONLY:-0}" = 1 ]; then
  cat "$TEST_TMP/build.log"
  rm -rf "$TEST_TMP"
  exit "$build_rc"
fi
if [ "$build_rc" = 0 ]; then
  pass fuzz_smoke/build
else
  fail fuzz_smoke/build \
    "building the fuzz targets in $FUZZ_BUILD failed: $(tail -n 1 "$TEST_TMP/build.log")"
  show_file "$TEST_TMP/build.log"
  test_finish
fi

# ---- seeds ------------------------------------------------------------------------

if bash "$REPO_ROOT/fuzz/seeds.sh" "$FUZZ_BUILD" >"$TEST_TMP/seeds.log" 2>&1 &&
  ! grep -q ': 0 seeds' "$TEST_TMP/seeds.log"; then
  pass fuzz_smoke/seeds
else
  fail fuzz_smoke/seeds "fuzz/seeds.sh $FUZZ_BUILD: $(tail -n 1 "$TEST_TMP/seeds.log")"
fi

# ---- one pass over each corpus ----------------------------------------------------

for t in $TARGETS; do
  corpus=("$FUZZ_BUILD/seeds/$t")
  [ -d "$REPO_ROOT/fuzz/corpus/$t" ] && corpus+=("$REPO_ROOT/fuzz/corpus/$t")
  n=$(find "${corpus[@]}" -type f | wc -l)
  log=$TEST_TMP/$t.log
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout -s KILL 300 "$FUZZ_BUILD/fuzz/fuzz_$t" -runs=0 "${corpus[@]}" >"$log" 2>&1
  rc=$?
  inited=$(grep -m1 'INITED' "$log")
  cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n 1)
  if [ "$rc" != 0 ] || grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$log"; then
    fail "fuzz_smoke/$t" \
      "fuzz_$t -runs=0 on $n inputs exited $rc: $(grep -m1 'ERROR\|runtime error' "$log")"
    show_file "$log"
  elif [ -z "$inited" ] || [ "${cov:-0}" -lt "$MIN_COV" ]; then
    fail "fuzz_smoke/$t" "no INITED line with >= $MIN_COV coverage points: '${inited:-none}'"
    show_file "$log"
  elif ! grep -q "seed corpus: files: $n " "$log"; then
    fail "fuzz_smoke/$t" "libFuzzer did not read all $n inputs: $(grep -m1 'seed corpus' "$log")"
  else
    pass "fuzz_smoke/$t"
    note "$inited"
  fi
done

# ---- the decoder without a driver ---------------------------------------------------

log=$TEST_TMP/decoder_no_driver.log
VK_DRIVER_FILES=/nonexistent/venusd-fuzz-smoke.json \
  timeout -s KILL 300 "$FUZZ_BUILD/fuzz/fuzz_decoder" -runs=0 "$FUZZ_BUILD/seeds/decoder" \
  >"$log" 2>&1
rc=$?
cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n 1)
if [ "$rc" = 0 ] && [ "${cov:-0}" -ge "$MIN_COV_NO_DRIVER" ]; then
  pass fuzz_smoke/decoder_no_driver
  note "$(grep -m1 INITED "$log")"
else
  fail fuzz_smoke/decoder_no_driver \
    "fuzz_decoder without a driver: exit $rc, coverage ${cov:-none} (need >= $MIN_COV_NO_DRIVER)"
  show_file "$log"
fi

# ---- the campaign script ------------------------------------------------------------

camp=$TEST_TMP/campaign
TARGETS=vtest GRACE=60 timeout -s KILL 240 bash "$REPO_ROOT/fuzz/campaign.sh" "$FUZZ_BUILD" 5 1 \
  "$camp" >"$TEST_TMP/campaign.log" 2>&1
rc=$?
row=$(grep '^fuzz_vtest ' "$TEST_TMP/campaign.log")
execs=$(echo "$row" | awk '{print $3}')
crashes=$(echo "$row" | awk '{print $6}')
if [ "$rc" = 0 ] && [ "${execs:-0}" -gt 0 ] && [ "$crashes" = 0 ]; then
  pass fuzz_smoke/campaign
  note "$row"
else
  fail fuzz_smoke/campaign "campaign.sh exited $rc; fuzz_vtest row: '${row:-none}'"
  show_file "$TEST_TMP/campaign.log"
fi

test_finish
