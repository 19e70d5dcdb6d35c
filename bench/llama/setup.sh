#!/usr/bin/env bash
# bench/llama/setup.sh — llama.cpp's llama-bench with its Vulkan backend, for bench/llama/run.sh.
#
#   bash bench/llama/setup.sh [--size tiny|small|1b]...   (default: tiny)
#
# Debian packages it (ggml 0.27, llama.cpp 0.7 in sid), built for glibc 2.43, newer than
# this Debian 12 host's: the packages are downloaded with apt-get from sid and unpacked
# with dpkg -x into $VENUSD_LLAMA_HOME (default /var/cache/venusd-llama), never installed,
# with sid's own C and C++ runtime; bench/llama/llama-run.sh starts the programs with that
# runtime's dynamic loader.  The same directory runs on any x86-64 Linux, which is how the
# GPU machine gets it (bench/gpu-prepare.sh).  Models are made here with random weights
# (bench/llama/make_model.py, needs python3-numpy; PYTHON names another python3 with numpy);
# nothing is downloaded from a model hub.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${VENUSD_LLAMA_HOME:-/var/cache/venusd-llama}
MIRROR=${VENUSD_LLAMA_MIRROR:-http://deb.debian.org/debian}
PKGS="libggml0 libggml0-backend-vulkan libllama0 llama.cpp-tools python3-gguf libc6 libstdc++6
  libgcc-s1 libgomp1 libssl3t64 libvulkan1"
SIZES=()
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(tiny)
mkdir -p "$HOME_DIR/debs" "$HOME_DIR/models"

# The packages: downloaded once; a directory that already has them (the GPU machine's copy,
# which has no network) is only unpacked.
if ! ls "$HOME_DIR"/debs/llama.cpp-tools_*.deb >/dev/null 2>&1; then
  apt=$(mktemp -d)
  trap 'rm -rf "$apt"' EXIT
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR sid main" \
    >"$apt/sources.list"
  o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Architecture=amd64
     -o APT::Architectures=amd64 -o APT::Sandbox::User=root)
  apt-get "${o[@]}" -qq update ||
    { echo "setup.sh: apt-get update of sid from $MIRROR failed (no network? set VENUSD_LLAMA_MIRROR)" >&2; exit 1; }
  rm -f "$HOME_DIR"/debs/*.deb
  # shellcheck disable=SC2086
  (cd "$HOME_DIR/debs" && apt-get "${o[@]}" -qq download $PKGS)
  rm -rf "$HOME_DIR/root"
fi
if [ ! -f "$HOME_DIR/root/.complete" ]; then
  rm -rf "$HOME_DIR/root" "$HOME_DIR/top"
  for d in "$HOME_DIR"/debs/*.deb; do dpkg -x "$d" "$HOME_DIR/root"; done
  # ggml looks for its backends in one fixed directory, /usr/lib/x86_64-linux-gnu/ggml:
  # llama-run.sh lays this copy over /usr/lib/x86_64-linux-gnu in a mount namespace.
  mkdir -p "$HOME_DIR/top"
  cp -a "$HOME_DIR/root/usr/lib/x86_64-linux-gnu/ggml" "$HOME_DIR/top/"
  (cd "$HOME_DIR/debs" && ls *.deb) >"$HOME_DIR/root/.complete"
fi
# make_model.py needs numpy: Debian 12's python3-numpy where no other python3 is named
if [ -z "${PYTHON:-}" ] && ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -qq python3-numpy >/dev/null ||
    { echo "setup.sh: python3-numpy is missing and apt-get could not install it" >&2; exit 1; }
fi
for s in "${SIZES[@]}"; do
  m=$HOME_DIR/models/$s.gguf
  [ -s "$m" ] && continue
  PYTHONPATH=$HOME_DIR/root/usr/lib/python3/dist-packages "${PYTHON:-/usr/bin/python3}" "$HERE/make_model.py" \
    --size "$s" "$m.tmp"
  mv "$m.tmp" "$m"
done
echo "llama.cpp from sid in $HOME_DIR: $(grep -o 'llama.cpp-tools_[^_]*' "$HOME_DIR/root/.complete")," \
  "$(grep -o 'libggml0_[^_]*' "$HOME_DIR/root/.complete"); models: $(cd "$HOME_DIR/models" && ls)"
