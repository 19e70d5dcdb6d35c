#!/usr/bin/env bash
# Splits the recorded Mesa streams in tests/unit/data into one seed file per stream.
set -euo pipefail
out=${1:?usage: seeds.sh OUTDIR}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
for f in "$here"/tests/unit/data/*.vnr; do
  n=0
  off=0
  total=$(stat -c %s "$f")
  while [ "$off" -lt "$total" ]; do
    size=$(od -An -tu4 -j "$off" -N4 "$f" | tr -d ' ')
    dd if="$f" of="$out/$(basename "$f" .vnr)-$n" bs=1 skip=$((off + 4)) count="$size" status=none
    off=$((off + 4 + size))
    n=$((n + 1))
  done
done
ls "$out" | wc -l
