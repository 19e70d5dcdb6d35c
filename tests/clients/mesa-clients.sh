#!/usr/bin/env bash
# tests/clients/mesa-clients.sh — newer Mesa Venus drivers as vtest clients of venusd.
#
# Guests ship newer Mesa than the host's 25.0.7 (bookworm-backports).  Their drivers need
# glibc >= 2.38, so they cannot run on this Debian 12 host: they run in the Debian 13
# chroot that tests/vm/vm.sh makes (the "QEMU chroot", which shares the host's /tmp, so a
# venusd on the host serves them over a /tmp socket).  Each client is a mesa-vulkan-drivers
# package unpacked (apt-get download + dpkg -x, never installed) into the chroot's
# /opt/venusd-clients/NAME, with an ICD manifest of its own.
#
#   mesa-clients.sh setup [NAME...]  make the clients (default: all; idempotent) and install
#                                    what the tests run in the chroot (vulkan-tools)
#   mesa-clients.sh setup-apps       install the real apps of test_real_apps.sh in the chroot
#                                    (ffmpeg, gst-launch-1.0 and GStreamer's Vulkan plugin,
#                                    libGLESv2 for gles_zink; idempotent, after setup)
#   mesa-clients.sh list             the clients made, one "NAME VERSION" line each
#   mesa-clients.sh exec NAME [--native] -- CMD...
#                                    run CMD in the chroot with the repo at its own path:
#                                    through venusd with NAME's Venus driver (VN_DEBUG=vtest,
#                                    VTEST_SOCKET_NAME from the environment), or with
#                                    --native on the chroot's own lavapipe.  The caller's
#                                    environment is passed on, except host paths (PATH,
#                                    LD_LIBRARY_PATH, HOME, VK_*).
#
# Clients (NAME: where from):
#   trixie     Debian 13's own mesa-vulkan-drivers (25.0.7, as installed in the chroot)
#   backports  the newest in trixie-backports (26.1.x when written)
#   sid        the newest in sid (26.2.x when written)
#
# Environment: VENUSD_VM_HOME (the chroot's cache, as vm.sh), VENUSD_VM_MIRROR.  Needs root
# and, for setup, network.
set -u -o pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)
VM=$REPO/tests/vm/vm.sh
VMH=${VENUSD_VM_HOME:-/var/cache/venusd-vm}
MIRROR=${VENUSD_VM_MIRROR:-http://deb.debian.org/debian}
HOST=$VMH/host
CLIENTS=/opt/venusd-clients # inside the chroot
ALL="trixie backports sid"
# What the tests run in the chroot with every client, and what trixie-backports' Mesa links
# that trixie's own Mesa does not.
CHROOT_PKGS="vulkan-tools libdisplay-info2"
# The real apps (setup-apps), without recommends: trixie's ffmpeg 7.1 (its Vulkan filters and
# libplacebo), gst-launch-1.0 with videotestsrc, and GLES for tests/apps/gles_zink.  GStreamer's
# Vulkan elements are in gstreamer1.0-plugins-bad, whose ~90 other plugins pull in ~45 MB of
# codec libraries: only its libgstvulkan.so is unpacked (it needs nothing but
# libgstreamer-plugins-bad1.0-0 and what the rest installs), into GST_VULKAN_DIR.
APPS_PKGS="ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base libgstreamer-plugins-bad1.0-0
  libgles2"
GST_VULKAN_DIR=/opt/venusd-apps/gstreamer-1.0 # inside the chroot: GST_PLUGIN_PATH for it

die() {
  echo "mesa-clients.sh: $*" >&2
  exit 125
}
say() { echo "mesa-clients.sh: $*"; }

# channel NAME — the apt line a client's packages come from.
channel() {
  case $1 in
    backports) echo "deb $MIRROR trixie-backports main" ;;
    sid) echo "deb $MIRROR sid main" ;;
    *) return 1 ;;
  esac
}

# apt_tmp DIR LINE — apt options for a private apt state in DIR reading only LINE.
apt_opts() {
  echo "-o Dir::Etc::SourceList=$1/sources.list -o Dir::Etc::SourceParts=/dev/null" \
    "-o Dir::State::Lists=$1/lists -o Dir::Cache=$1/cache -o Dir::State::status=/dev/null" \
    "-o APT::Architecture=amd64 -o APT::Sandbox::User=root"
}

# write_icd DIR — DIR/virtio_icd.json naming the unpacked driver by its chroot path.
write_icd() {
  local d=$1 api
  api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' \
    "$HOST$d/usr/share/vulkan/icd.d/virtio_icd.json" 2>/dev/null)
  printf '{\n  "file_format_version": "1.0.1",\n  "ICD": {\n    "library_path": "%s",\n    "api_version": "%s"\n  }\n}\n' \
    "$d/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so" "${api:-1.3.0}" >"$HOST$d/virtio_icd.json"
}

# make_client NAME — downloads and unpacks NAME's mesa-vulkan-drivers (and the libraries
# the chroot lacks for it), then checks that every library the driver needs resolves.
make_client() {
  local name=$1 d=$CLIENTS/$1 tmp line ver missing pkgs
  if [ "$name" = trixie ]; then
    mkdir -p "$HOST$d/usr/lib/x86_64-linux-gnu" "$HOST$d/usr/share/vulkan/icd.d" || return 1
    ln -sf /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so "$HOST$d/usr/lib/x86_64-linux-gnu/"
    cp "$HOST/usr/share/vulkan/icd.d/virtio_icd.json" "$HOST$d/usr/share/vulkan/icd.d/"
    write_icd "$d"
    chroot "$HOST" dpkg-query -W -f '${Version}\n' mesa-vulkan-drivers >"$HOST$d/VERSION"
    return 0
  fi
  line=$(channel "$name") || die "unknown client '$name' (clients: $ALL)"
  tmp=$(mktemp -d /tmp/venusd-clients.XXXXXX)
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  echo "$line" >"$tmp/sources.list"
  # shellcheck disable=SC2046 # the options are words
  if ! apt-get $(apt_opts "$tmp") update >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    rm -rf "$tmp"
    die "apt-get update for '$line' failed (no network? set VENUSD_VM_MIRROR)"
  fi
  # shellcheck disable=SC2046
  ver=$(apt-cache $(apt_opts "$tmp") policy mesa-vulkan-drivers | awk '$1 == "Candidate:" { print $2 }')
  if [ -f "$HOST$d/VERSION" ] && [ "$(cat "$HOST$d/VERSION")" = "$ver" ]; then
    rm -rf "$tmp"
    return 0
  fi
  say "$name: mesa-vulkan-drivers $ver"
  # sid's Mesa links a newer libdisplay-info soname and newer libwayland symbols than
  # Debian 13 has.
  pkgs="mesa-vulkan-drivers=$ver"
  [ "$name" = sid ] && pkgs="$pkgs libdisplay-info3 libwayland-client0"
  # shellcheck disable=SC2046,SC2086
  if ! (cd "$tmp/debs" && apt-get $(apt_opts "$tmp") download $pkgs >"$tmp/apt.log" 2>&1); then
    cat "$tmp/apt.log" >&2
    rm -rf "$tmp"
    die "apt-get download $pkgs failed"
  fi
  rm -rf "$HOST$d.tmp" && mkdir -p "$HOST$d.tmp" || die "cannot write $HOST$d.tmp"
  for deb in "$tmp"/debs/*.deb; do
    dpkg -x "$deb" "$HOST$d.tmp" || die "dpkg -x $deb failed"
  done
  rm -rf "$tmp" "$HOST$d" && mv "$HOST$d.tmp" "$HOST$d" || die "cannot move $HOST$d.tmp"
  write_icd "$d"
  # ldd -r: a missing symbol (sid's Mesa wanted a newer libwayland) fails like a missing
  # library, here rather than as "Found no drivers!" in every client.
  missing=$(chroot "$HOST" env LD_LIBRARY_PATH="$d/usr/lib/x86_64-linux-gnu" \
    ldd -r "$d/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so" 2>&1 |
    awk '/not found/ { print $1 } /undefined symbol/ { print $3 }' | tr -d ',' | tr '\n' ' ')
  [ -z "$missing" ] || die "$name: libvulkan_virtio.so needs $missing, which the chroot lacks"
  echo "$ver" >"$HOST$d/VERSION"
}

setup() {
  [ "$(id -u)" = 0 ] || die "needs root (chroot, mounts): run it with sudo"
  bash "$VM" setup || die "tests/vm/vm.sh setup failed"
  # shellcheck disable=SC2086
  bash "$VM" host-install $CHROOT_PKGS || die "installing $CHROOT_PKGS in the chroot failed"
  local n
  for n in "${@:-$ALL}"; do
    # shellcheck disable=SC2086
    for n in $n; do make_client "$n" || die "making client $n failed"; done
  done
  list
}

# gst_vulkan_plugin — GST_VULKAN_DIR/libgstvulkan.so from the gstreamer1.0-plugins-bad of the
# installed libgstreamer-plugins-bad1.0-0's version (they must match), unless already there.
gst_vulkan_plugin() {
  local ver d=$HOST$GST_VULKAN_DIR tmp=/var/tmp/venusd-gst-vulkan missing
  ver=$(chroot "$HOST" dpkg-query -W -f '${Version}' libgstreamer-plugins-bad1.0-0) ||
    die "libgstreamer-plugins-bad1.0-0 is not installed in the chroot"
  [ -f "$d/VERSION" ] && [ "$(cat "$d/VERSION")" = "$ver" ] && return 0
  say "GStreamer's Vulkan plugin from gstreamer1.0-plugins-bad $ver"
  rm -rf "$HOST$tmp" && mkdir -p "$HOST$tmp/x" || die "cannot write $HOST$tmp"
  if ! chroot "$HOST" sh -c "cd $tmp && apt-get -o APT::Sandbox::User=root download \
    gstreamer1.0-plugins-bad=$ver" >"$HOST$tmp.log" 2>&1; then
    cat "$HOST$tmp.log" >&2
    die "apt-get download gstreamer1.0-plugins-bad=$ver failed (no network?)"
  fi
  dpkg -x "$HOST$tmp"/gstreamer1.0-plugins-bad_*.deb "$HOST$tmp/x" ||
    die "dpkg -x of gstreamer1.0-plugins-bad failed"
  rm -rf "$d" && mkdir -p "$d" &&
    cp "$HOST$tmp/x/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvulkan.so" "$d/" ||
    die "gstreamer1.0-plugins-bad $ver has no libgstvulkan.so"
  rm -rf "$HOST$tmp" "$HOST$tmp.log"
  missing=$(chroot "$HOST" ldd -r "$GST_VULKAN_DIR/libgstvulkan.so" 2>&1 |
    awk '/not found/ { print $1 } /undefined symbol/ { print $3 }' | tr -d ',' | tr '\n' ' ')
  [ -z "$missing" ] || die "libgstvulkan.so needs $missing, which the chroot lacks"
  echo "$ver" >"$d/VERSION"
}

setup_apps() {
  [ "$(id -u)" = 0 ] || die "needs root (chroot): run it with sudo"
  [ -x "$HOST/usr/bin/vulkaninfo" ] || die "no clients' chroot yet: run 'mesa-clients.sh setup' first"
  # shellcheck disable=SC2086
  bash "$VM" host-install $APPS_PKGS || die "installing the real apps in the chroot failed"
  gst_vulkan_plugin
}

list() {
  local v
  for v in "$HOST$CLIENTS"/*/VERSION; do
    [ -f "$v" ] && echo "$(basename "$(dirname "$v")") $(cat "$v")"
  done
}

exec_client() {
  local name=${1:-} native=0 d env=() var
  shift
  [ "${1:-}" = --native ] && { native=1; shift; }
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "exec: no command (mesa-clients.sh exec NAME [--native] -- CMD...)"
  d=$CLIENTS/$name
  [ -f "$HOST$d/VERSION" ] || die "no client '$name' in $HOST$CLIENTS: run 'mesa-clients.sh setup $name'"
  # The caller's environment, less what names host paths or the host's Vulkan setup.
  while IFS= read -r -d '' var; do
    case ${var%%=*} in
      PATH | LD_LIBRARY_PATH | HOME | PWD | OLDPWD | SHLVL | _ | VK_* | VENUSD_VM_*) ;;
      *) env+=("$var") ;;
    esac
  done < <(env -0)
  if [ "$native" = 1 ]; then
    env+=(VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json)
    env=("${env[@]/#VN_DEBUG=*/VN_DEBUG=}")
  else
    env+=(VK_DRIVER_FILES="$d/virtio_icd.json" VN_DEBUG="${VN_DEBUG:-vtest}")
    env+=(LD_LIBRARY_PATH="$d/usr/lib/x86_64-linux-gnu")
  fi
  VENUSD_VM_BIND_REPO=1 exec bash "$VM" host-exec "${env[@]}" -- "$@"
}

usage() { sed -n '2,/^set -u/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//'; }

case ${1:-} in
  setup) shift; setup "$@" ;;
  setup-apps) setup_apps ;;
  list) list ;;
  exec) shift; exec_client "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
