#!/usr/bin/env bash
# bench/mesa26-client.sh — sid's Mesa Venus driver (26.x) as a benchmark client, without a
# chroot: its libvulkan_virtio.so, the few libraries it needs newer than Debian 12's, and
# sid's C runtime, in one directory that runs on any x86-64 Linux (the GPU machine too).
# Benchmarks then run a host program with that runtime's dynamic loader, so a Mesa 26
# guest driver negotiates venusd's newest protocol (Vulkan 1.4, cooperative matrices, ...).
# The packages are downloaded with apt-get and unpacked with dpkg -x, never installed.
#
#   bash bench/mesa26-client.sh setup         download and unpack (idempotent; needs network)
#   bash bench/mesa26-client.sh exec CMD...   run CMD with the client (VK_DRIVER_FILES set;
#                                             VN_DEBUG=vtest and VTEST_SOCKET_NAME are the
#                                             caller's)
#   bash bench/mesa26-client.sh version       the client's Mesa version
#
# Environment: VENUSD_MESA26_HOME (default /var/cache/venusd-mesa26), VENUSD_MESA26_MIRROR,
# VENUSD_MESA26_SUITE (default sid).  Libraries the client needs that are not in the
# directory come from the host's (libdrm, libxcb, zlib, ...).
set -euo pipefail
HOME_DIR=${VENUSD_MESA26_HOME:-/var/cache/venusd-mesa26}
MIRROR=${VENUSD_MESA26_MIRROR:-http://deb.debian.org/debian}
SUITE=${VENUSD_MESA26_SUITE:-sid}
D=$HOME_DIR/client
# What the driver needs newer than Debian 12 has: glibc (its loader too), libwayland-client
# (wl_fixes_interface), libdisplay-info's soname 3.
PKGS="mesa-vulkan-drivers libc6 libgcc-s1 libwayland-client0 libdisplay-info3 libdrm2 libffi8"
KEEP="libvulkan_virtio.so ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0
  libdl.so.2 librt.so.1 libwayland-client.so.0 libdisplay-info.so.3 libdrm.so.2 libffi.so.8"

die() {
  echo "mesa26-client.sh: $*" >&2
  exit 1
}

setup() {
  [ -f "$D/.complete" ] && return 0
  local apt o
  apt=$(mktemp -d)
  # shellcheck disable=SC2064 # the directory is known now
  trap "rm -rf '$apt'" EXIT
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$apt/root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
    >"$apt/sources.list"
  o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Architecture=amd64
    -o APT::Architectures=amd64 -o APT::Sandbox::User=root)
  apt-get "${o[@]}" -qq update ||
    die "apt-get update of $SUITE from $MIRROR failed (no network? set VENUSD_MESA26_MIRROR)"
  # shellcheck disable=SC2086 # the package list is words
  (cd "$apt/debs" && apt-get "${o[@]}" -qq download $PKGS) || die "apt-get download $PKGS failed"
  for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$apt/root"; done
  rm -rf "$D" && mkdir -p "$D"
  for f in $KEEP; do
    p=$(find "$apt/root" -name "$f" \( -type f -o -type l \) | head -1)
    [ -n "$p" ] || die "$f is not in the packages $PKGS"
    cp -L "$p" "$D/$f"
  done
  # the manifest names the driver relative to itself: the directory may move
  printf '{ "file_format_version": "1.0.1", "ICD": { "library_path": "./libvulkan_virtio.so", "api_version": "1.4.0" } }\n' \
    >"$D/virtio_icd.json"
  (cd "$apt/debs" && ls mesa-vulkan-drivers_*.deb) | sed -E 's/^mesa-vulkan-drivers_([^_]*)_.*/\1/; s/%3a/:/' \
    >"$D/VERSION"
  touch "$D/.complete"
  echo "mesa26-client.sh: Mesa $(cat "$D/VERSION") in $D ($(du -sh "$D" | cut -f1))"
}

case ${1:-} in
  setup) setup ;;
  version) cat "$D/VERSION" ;;
  exec)
    shift
    [ -f "$D/.complete" ] || die "run 'bash bench/mesa26-client.sh setup' first"
    [ $# -gt 0 ] || die "exec needs a command"
    cmd=$(command -v "$1") || die "$1: not found"
    shift
    # The loader's --library-path replaces LD_LIBRARY_PATH: keep the caller's after ours.
    exec env VK_DRIVER_FILES="$D/virtio_icd.json" "$D/ld-linux-x86-64.so.2" \
      --library-path "$D${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$cmd" "$@"
    ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; [ "${1:-}" = -h ] || [ "${1:-}" = --help ] ;;
esac
