#!/usr/bin/env bash
# bench/llama/llama-run.sh PROGRAM [ARGS...] — runs one of the llama.cpp programs that
# bench/llama/setup.sh unpacked (llama-bench, ...) with sid's C runtime from the same
# directory.  ggml loads its backends from the fixed /usr/lib/x86_64-linux-gnu/ggml/backends0:
# where that directory is missing, the program runs in a private mount namespace in which
# the unpacked copy is laid over /usr/lib/x86_64-linux-gnu (overlayfs; needs root), so
# nothing on the host changes.  With LLAMA_COPY_BACKENDS=1 (a throwaway machine without
# overlayfs) the backends are copied there instead.  After the unpacked libraries the
# loader searches LLAMA_LIB_PATH (libraries that must win over older ones of the same name:
# a Mesa 26 ICD's), then LD_LIBRARY_PATH (which --library-path replaces otherwise).
set -euo pipefail
HOME_DIR=${VENUSD_LLAMA_HOME:-/var/cache/venusd-llama}
R=$HOME_DIR/root
L=$R/usr/lib/x86_64-linux-gnu
SYS=/usr/lib/x86_64-linux-gnu
[ -f "$R/.complete" ] || { echo "llama-run.sh: run bench/llama/setup.sh first" >&2; exit 1; }
prog=$1
shift
lp=$L:$L/llama${LLAMA_LIB_PATH:+:$LLAMA_LIB_PATH}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
run=("$L/ld-linux-x86-64.so.2" --library-path "$lp" "$R/usr/bin/$prog" "$@")
if [ -d "$SYS/ggml/backends0" ]; then
  exec "${run[@]}"
elif [ "${LLAMA_COPY_BACKENDS:-0}" = 1 ]; then
  mkdir -p "$SYS/ggml" && cp -a "$HOME_DIR/top/ggml/backends0" "$SYS/ggml/"
  exec "${run[@]}"
fi
# shellcheck disable=SC2016
exec unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=$0:$1" "$1" && shift && exec "$@"' \
  "$HOME_DIR/top" "$SYS" "${run[@]}"
