#!/usr/bin/env bash
# Records what a real Mesa Venus client sends on its vtest connection, as a fuzz_vtest seed:
#
#   bash fuzz/capture_vtest.sh VENUSD OUTFILE CLIENT [ARGS...]
#
# starts `VENUSD vtest --worker thread` on a private socket, runs CLIENT through Mesa's
# Venus driver (VN_DEBUG=vtest, the virtio ICD) under strace, and writes every byte the
# client wrote to the socket, in order, to OUTFILE.  Needs strace.  The checked-in
# fuzz/corpus/vtest/mesa-* files were made this way (fuzz/README.md).
set -euo pipefail
venusd=${1:?usage: capture_vtest.sh VENUSD OUTFILE CLIENT [ARGS...]}
out=${2:?usage: capture_vtest.sh VENUSD OUTFILE CLIENT [ARGS...]}
shift 2
[ $# -gt 0 ] || { echo "capture_vtest.sh: no CLIENT given" >&2; exit 2; }
command -v strace >/dev/null || { echo "capture_vtest.sh: strace not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/venusd-capture.XXXXXX")
timeout -s KILL 120 "$venusd" vtest --socket "$tmp/sock" --worker thread >"$tmp/venusd.log" 2>&1 &
server=$!
trap 'kill -KILL "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
[ -S "$tmp/sock" ] || { echo "capture_vtest.sh: $venusd did not listen on $tmp/sock" >&2; exit 1; }
env -u VK_ICD_FILENAMES -u DISPLAY -u WAYLAND_DISPLAY VN_DEBUG=vtest \
  VTEST_SOCKET_NAME="$tmp/sock" VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json \
  timeout -s KILL 60 strace -f -e trace=connect,write -xx -s 100000000 -o "$tmp/trace" \
  "$@" >"$tmp/client.log" 2>&1 ||
  { echo "capture_vtest.sh: $* failed: $(tail -n 1 "$tmp/client.log")" >&2; exit 1; }
# The socket's fd: the connect() to our path (strace -xx prints the path in hex).
hexpath=$(printf '%s' "$tmp/sock" | od -An -tx1 -v | tr -d ' \n' | sed 's/../\\\\x&/g')
fd=$(grep -m1 "connect([0-9]*, {sa_family=AF_UNIX, sun_path=\"$hexpath\"" "$tmp/trace" |
  sed 's/^[0-9]* connect(\([0-9]*\),.*/\1/')
[ -n "$fd" ] || { echo "capture_vtest.sh: the client never connected to $tmp/sock" >&2; exit 1; }
if grep -q "write($fd, .*unfinished" "$tmp/trace"; then
  echo "capture_vtest.sh: interleaved writes on fd $fd; cannot order them" >&2
  exit 1
fi
grep "^[0-9]* write($fd, " "$tmp/trace" |
  sed "s/^[0-9]* write($fd, \"\\([^\"]*\\)\", [0-9]*) *= [0-9]*\$/\\1/" |
  while IFS= read -r l; do printf '%b' "$l"; done >"$out"
echo "$out: $(stat -c %s "$out") bytes from $*"
