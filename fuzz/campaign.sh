#!/usr/bin/env bash
# Runs the four fuzz targets at once, each with libFuzzer's -fork, and prints what each did.
#
#   bash fuzz/campaign.sh BUILDDIR SECONDS CORES OUTDIR
#
# BUILDDIR  a -Dfuzz=true build (fuzz/README.md) holding fuzz/fuzz_<target>, and either
#           seeds/<target>/ (made by fuzz/seeds.sh) or fuzz/fuzz_make_seeds to make them
# SECONDS   how long to fuzz: each target's -max_total_time; its jobs in flight are then
#           stopped (libFuzzer's stop file) and the script waits up to GRACE (60) more
#           seconds for them before it interrupts them
# CORES     fork jobs in all, split between the targets by WEIGHTS (every target at
#           least one)
# OUTDIR    OUTDIR/<target>/ gets corpus/ (the seeds, fuzz/corpus/<target>/ and what the run
#           kept), crash-*, timeout-*, oom-*, leak-* artifacts, libfuzzer.log (the fork
#           supervisor's log) and jobs/ (every job's log, kept by hard links)
#
# At the end it prints a table: executions (the sum of every job's
# stat::number_of_executed_units, or its last "#N" line if it died without one; the
# supervisor's own total, which leaves out the jobs still running at the end, beside it),
# exec/s over SECONDS, crash artifacts, final corpus size and coverage (the supervisor's last
# "cov:").  Exit status 0 unless a target could not run; crashes do not change it (they
# are in the table and in OUTDIR).
#
# Needs: bash, coreutils, findutils, awk, setsid (util-linux), the four binaries
# (libFuzzer and the sanitizer runtimes are linked in statically; they need libstdc++6,
# which every Debian 12 with apt has) and, for fuzz_decoder's handlers, the Vulkan loader
# (libvulkan1) with a driver.
# The targets find the driver through VK_DRIVER_FILES: fuzz_decoder defaults to lavapipe
# (/usr/share/vulkan/icd.d/lvp_icd.json, package mesa-vulkan-drivers); on a host without it
# run with VK_DRIVER_FILES=/nonexistent (the decoders, dispatcher, reply streams and rings
# all run; every vkCreateInstance fails, so no handler past it).  The other three targets
# never use a driver.  No network, no root.
#
# Each job pins itself to a CPU no other job holds (VENUSD_FUZZ_CPU_LOCKS, see
# fuzz/fuzz_common.h), so CORES should not exceed the CPUs the script may use.
#
# Environment: WEIGHTS="decoder=1 vtest=1 render_server=1 ring=1" to split CORES
# otherwise;
# TARGETS="vtest ring" to run fewer; GRACE=N seconds to wait for the jobs' wrap-up;
# EXTRA_ARGS for more libFuzzer flags (e.g. -rss_limit_mb=4096).
set -u -o pipefail

usage() {
  echo "usage: fuzz/campaign.sh BUILDDIR SECONDS CORES OUTDIR" >&2
  exit 2
}
[ $# -eq 4 ] || usage
build=$1 secs=$2 cores=$3 out=$4
case $secs$cores in *[!0-9]*) usage ;; esac
if [ "$secs" -eq 0 ] || [ "$cores" -eq 0 ]; then usage; fi
here=$(cd "$(dirname "$0")/.." && pwd)
targets=${TARGETS:-decoder vtest render_server ring}
grace=${GRACE:-60}
# fuzz/README.md "Campaign" says why: on 16 cores fuzz_decoder gets 4 jobs, enough for
# 10^7 executions in about 500 s at its speed; the slower framing targets share the rest.
weights=${WEIGHTS:-decoder=4 vtest=3 render_server=4 ring=5}

die() {
  echo "campaign.sh: $*" >&2
  exit 1
}

for t in $targets; do
  [ -x "$build/fuzz/fuzz_$t" ] ||
    die "$build/fuzz/fuzz_$t not found or not executable: build it (fuzz/README.md)"
done
if [ ! -d "$build/seeds" ]; then
  if [ -x "$build/fuzz/fuzz_make_seeds" ]; then
    bash "$here/fuzz/seeds.sh" "$build" >/dev/null || die "fuzz/seeds.sh $build failed"
  else
    echo "campaign.sh: no $build/seeds: starting from fuzz/corpus/ only" >&2
  fi
fi
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
build=$(cd "$build" && pwd)

# ---- split the cores --------------------------------------------------------------

weight_of() {
  local w
  for w in $weights; do
    [ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }
  done
  echo 1
}
declare -A jobs
total_w=0
for t in $targets; do total_w=$((total_w + $(weight_of "$t"))); done
given=0
for t in $targets; do
  n=$((cores * $(weight_of "$t") / total_w))
  [ "$n" -lt 1 ] && n=1
  jobs[$t]=$n
  given=$((given + n))
done
# Whatever rounding left over goes to the heaviest targets first.
by_weight=$(for t in $targets; do echo "$(weight_of "$t") $t"; done | sort -rn | awk '{print $2}')
while [ "$given" -lt "$cores" ]; do
  for h in $by_weight; do
    [ "$given" -ge "$cores" ] && break
    jobs[$h]=$((jobs[$h] + 1))
    given=$((given + 1))
  done
done
if [ "$given" -gt "$cores" ]; then
  echo "campaign.sh: $cores cores for more targets: $given jobs, one each" >&2
fi

# ---- run ----------------------------------------------------------------------------

# Every job takes a CPU of its own while there is one (fuzz_common.h fuzz_pin_cpu).
mkdir -p "$out/cpu-locks"
export VENUSD_FUZZ_CPU_LOCKS=$out/cpu-locks
declare -A pids
for t in $targets; do
  d=$out/$t
  mkdir -p "$d/corpus" "$d/jobs" "$d/tmp"
  dirs=("$d/corpus")
  [ -d "$build/seeds/$t" ] && dirs+=("$build/seeds/$t")
  [ -d "$here/fuzz/corpus/$t" ] && dirs+=("$here/fuzz/corpus/$t")
  # shellcheck disable=SC2086
  # Its own process group (setsid), so that the jobs can be stopped with it.
  (cd "$d" && exec setsid env TMPDIR="$d/tmp" "$build/fuzz/fuzz_$t" -fork="${jobs[$t]}" \
    -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=30 \
    -max_total_time="$secs" -artifact_prefix="$d/" ${EXTRA_ARGS:-} "${dirs[@]}" \
    >"$d/libfuzzer.log" 2>&1) &
  pids[$t]=$!
  echo "campaign.sh: fuzz_$t: ${jobs[$t]} job(s), log $d/libfuzzer.log" >&2
done

# libFuzzer deletes each job's log once it has merged the job, and the jobs still running
# at the end with its temporary directory: a hard link keeps every log for the count.
keep_logs() {
  local t f
  for t in $targets; do
    for f in "$out/$t"/tmp/libFuzzerTemp.FuzzWithFork*.dir/[0-9]*.log; do
      [ -e "$f" ] && ln -f "$f" "$out/$t/jobs/$(basename "$f")" 2>/dev/null
    done
  done
}
# At SECONDS the jobs in flight are told to stop (libFuzzer's stop file, which each job
# looks at about once a second): they end with their final stats, the supervisor merges
# them, so that the wrap-up takes seconds rather than the rest of the longest job.
stop_jobs() {
  local t d
  for t in $targets; do
    for d in "$out/$t"/tmp/libFuzzerTemp.FuzzWithFork*.dir; do
      [ -d "$d" ] && touch "$d/STOP"
    done
  done
}
start=$(date +%s)
deadline=$((start + secs + grace))
while :; do
  keep_logs
  [ "$(date +%s)" -ge $((start + secs)) ] && stop_jobs
  running=0
  for t in $targets; do kill -0 "${pids[$t]}" 2>/dev/null && running=1; done
  [ "$running" = 0 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "campaign.sh: still running ${grace}s after the end: stopping" >&2
    # SIGINT: each job prints its final stats, then exits.
    for t in $targets; do kill -INT -- "-${pids[$t]}" 2>/dev/null; done
    sleep 5
    keep_logs
    for t in $targets; do kill -KILL -- "-${pids[$t]}" 2>/dev/null; done
    break
  fi
  sleep 0.5
done
status=0
for t in $targets; do
  wait "${pids[$t]}"
  rc=$?
  # 0, or a crash libFuzzer ignored (the artifacts count it).
  grep -q 'INFO: -fork=' "$out/$t/libfuzzer.log" || {
    echo "campaign.sh: fuzz_$t did not start (exit $rc): see $out/$t/libfuzzer.log" >&2
    status=1
  }
done
elapsed=$(($(date +%s) - start))

# ---- report -------------------------------------------------------------------------

# Executions of one job log: its final stat line, else its last "#N" line.
job_execs() {
  awk '/^stat::number_of_executed_units:/ { final = $2 }
       /^#[0-9]+/ { n = substr($1, 2) + 0 }
       END { print (final != "" ? final : n + 0) }' "$1"
}
printf '\nfuzz campaign: %s s asked, %s s run, %s cores, %s\n' "$secs" "$elapsed" "$cores" \
  "$(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-20s %5s %14s %14s %9s %8s %10s %8s %8s\n' target jobs executions supervisor \
  exec/s crashes other corpus cov
for t in $targets; do
  d=$out/$t
  sum=0
  for f in "$d"/jobs/*.log; do
    [ -e "$f" ] && sum=$((sum + $(job_execs "$f")))
  done
  sup=$(grep -E '^#[0-9]+: cov:' "$d/libfuzzer.log" | tail -n 1 | sed 's/^#\([0-9]*\):.*/\1/')
  cov=$(grep -E '^#[0-9]+: cov:' "$d/libfuzzer.log" | tail -n 1 | sed 's/.* cov: \([0-9]*\).*/\1/')
  crashes=$(find "$d" -maxdepth 1 -name 'crash-*' | wc -l)
  other=$(find "$d" -maxdepth 1 \( -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) |
    wc -l)
  corpus=$(find "$d/corpus" -type f | wc -l)
  printf '%-20s %5s %14s %14s %9s %8s %10s %8s %8s\n' "fuzz_$t" "${jobs[$t]}" "$sum" \
    "${sup:-0}" "$((sum / secs))" "$crashes" "$other" "$corpus" "${cov:--}"
done
printf '(executions: summed over the jobs; supervisor: libFuzzer -fork total, jobs merged '
printf 'before the end only; other: timeout/oom/leak artifacts; corpus: inputs in '
printf 'OUTDIR/<target>/corpus, seeds not counted)\n'
exit $status
