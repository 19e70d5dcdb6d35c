#!/usr/bin/env bash
# Makes the seed corpora of every fuzz target from the Mesa streams in tests/unit/data
# (recorded from the unmodified Mesa 25.0.7 Venus driver, see tests/unit/data/README.md):
#
#   bash fuzz/seeds.sh BUILDDIR      # a -Dfuzz=true build dir holding fuzz/fuzz_make_seeds
#
# writes BUILDDIR/seeds/{decoder,vtest,render_server,ring}/ and prints the seed count of
# each.  fuzz/make_seeds.c says how each target's seeds wrap the streams; the checked-in
# fuzz/corpus/<target>/ holds inputs the fuzz runs found interesting on top of these.
set -euo pipefail
build=${1:?usage: seeds.sh BUILDDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
tool=$build/fuzz/fuzz_make_seeds
if [ ! -x "$tool" ]; then
  echo "seeds.sh: $tool not found: configure $build with -Dfuzz=true and run ninja" >&2
  exit 1
fi
data=$here/tests/unit/data
for target in decoder vtest render_server ring; do
  out=$build/seeds/$target
  rm -rf "$out"
  mkdir -p "$out"
  case $target in
    decoder) "$tool" decoder "$out" "$data"/*.vnr ;;
    ring) "$tool" ring "$out" "$data"/*-ring.vnr ;;
    *) "$tool" "$target" "$out" "$data"/*-virtqueue.vnr ;;
  esac
  printf '%s: %s seeds\n' "$target" "$(find "$out" -type f | wc -l)"
done
