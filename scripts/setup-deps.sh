#!/usr/bin/env bash
# Installs venusd's build and test dependencies on Debian 12 (bookworm), idempotently.
#   - bookworm-backports: mesa-vulkan-drivers 25.0.7 (lavapipe + the Venus ICD), meson
#   - vulkan-tools (vulkaninfo), libvulkan1 (the loader), procps (pgrep/pkill in tests)
#   - the real apps the tests drive: ffmpeg (Vulkan filters), GStreamer's vulkan plugin
#     (gstreamer1.0-plugins-bad + gst-launch-1.0), EGL/GLES headers for the zink program
#   - presenting to X11 (tests/integration/test_present.sh, bench/present_fps.sh): Xvfb, and
#     Xlib/xcb/GL headers for vk_present, gl_window and x11_grab (vkcube is in vulkan-tools)
#   - debootstrap and xz-utils for tests/vm/vm.sh, which makes the Debian 13 chroots of the
#     VM and render-server tests (their packages go only into those chroots), and for
#     tests/integration/test_package.sh's Debian 12 chroot
#   - scdoc (the man page, docs/venusd.1.scd), debhelper and dpkg-dev (the Debian package,
#     debian/; dpkg-buildpackage -b -us -uc), systemd (systemd-socket-activate and
#     systemd-analyze for the socket-activation and package tests)
#   - Vulkan headers + vk.xml: Debian 13's libvulkan-dev (third_party/vulkan-sdk) and sid's
#     (third_party/vulkan-sdk-sid, vk.xml >= 1.4.343), unpacked (never installed) with
#     apt-get download + dpkg -x.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

bpo=/etc/apt/sources.list.d/venusd-bookworm-backports.list
need_update=0
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$bpo" >/dev/null
  need_update=1
fi
pkgs_bpo="mesa-vulkan-drivers libgl1-mesa-dri libegl-mesa0 libgbm1 libglapi-mesa libglx-mesa0 meson"
pkgs="vulkan-tools libvulkan1 ninja-build pkg-config gcc python3 libvulkan-dev glslang-tools vulkan-validationlayers clang clang-format libclang-rt-14-dev procps"
pkgs_apps="ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-bad libegl-dev libgles-dev"
pkgs_present="xvfb libx11-dev libxcb1-dev libgl-dev"
# the VM and render-server tests (tests/vm/vm.sh): debootstrap makes their Debian 13 chroots
pkgs_vm="debootstrap xz-utils util-linux"
# the man page, the Debian package and the systemd units
pkgs_pkg="scdoc debhelper dpkg-dev systemd"
missing=0
have_mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
case "$have_mesa" in 25.0.7*) ;; *) missing=1 ;; esac
for p in vulkan-tools libvulkan1 ninja-build pkg-config meson glslang-tools vulkan-validationlayers clang clang-format libclang-rt-14-dev procps $pkgs_apps $pkgs_present $pkgs_vm $pkgs_pkg; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing=1
done
if [ "$missing" = 1 ]; then
  [ "$need_update" = 1 ] || [ ! -f /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm-backports_InRelease ] && $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -t bookworm-backports $pkgs_bpo >/dev/null
  $SUDO apt-get install -y -qq $pkgs $pkgs_vm $pkgs_pkg >/dev/null
  # --no-install-recommends: ffmpeg and GStreamer would otherwise pull in desktop bits.
  $SUDO apt-get install -y -qq --no-install-recommends $pkgs_apps $pkgs_present >/dev/null
fi

# Vulkan headers + registry, unpacked into the tree only: Debian 13's (third_party/vulkan-sdk)
# and sid's (third_party/vulkan-sdk-sid: vk.xml >= 1.4.343, the newest Venus protocol's; the
# generator and the build use it, see meson.build).
unpack_vulkan_dev() { # unpack_vulkan_dev DIR SUITE
  local sdk=$1 suite=$2 tmp
  [ -f "$sdk/usr/share/vulkan/registry/vk.xml" ] && return 0
  tmp=$(mktemp -d); chmod 755 "$tmp"
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/etc"
  echo "deb http://deb.debian.org/debian $suite main" > "$tmp/etc/sources.list"
  aptopts=(-o Dir::Etc::sourcelist="$tmp/etc/sources.list" -o Dir::Etc::sourceparts=- \
           -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
           -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1)
  apt-get "${aptopts[@]}" update -qq
  (cd "$tmp" && apt-get "${aptopts[@]}" download libvulkan-dev >/dev/null)
  mkdir -p "$sdk.tmp"
  dpkg -x "$tmp"/libvulkan-dev_*.deb "$sdk.tmp"
  mv "$sdk.tmp" "$sdk"
  rm -rf "$tmp"
}
sdk="$here/third_party/vulkan-sdk"
unpack_vulkan_dev "$sdk" trixie
unpack_vulkan_dev "$here/third_party/vulkan-sdk-sid" sid
grep -o 'VK_HEADER_VERSION [0-9]*' "$here/third_party/vulkan-sdk-sid/usr/include/vulkan/vulkan_core.h" | head -1
grep -o 'VK_HEADER_VERSION [0-9]*' "$sdk/usr/include/vulkan/vulkan_core.h" | head -1
echo "dependencies ready"
