#!/usr/bin/env bash
# test_package.sh — meson install and the Debian package (debian/), checked from the
# installed files:
#   deb/build         dpkg-buildpackage -b -us -uc in a copy of the tree (the tree stays
#                     clean) makes venusd_*.deb and venusd-render-server_*.deb
#   deb/control       venusd's Depends has libc6 (computed by ${shlibs:Depends}) and
#                     libvulkan1, its Recommends mesa-vulkan-drivers
#   install/layout    the package build's 'meson install' into its DESTDIR (debian/tmp,
#                     -Drender_server_link=true): usr/bin/venusd, usr/libexec/
#                     virgl_render_server -> ../bin/venusd, the man page, both units, and
#                     venusd.service runs /usr/bin/venusd vtest
#   install/defaults  a plain 'meson setup --prefix=/usr' installs venusd, the man page and
#                     the units at the same paths, and no virgl_render_server link
#   install/units     systemd-analyze verify accepts venusd.socket and venusd.service
#   chroot/setup      a clean Debian 12 chroot (debootstrap minbase + bookworm-backports),
#                     made once in VENUSD_PKGROOT (default /var/cache/venusd-pkgroot)
#   chroot/install    apt installs both .debs into a fresh copy-on-write layer over it,
#                     resolving their dependencies and recommends (mesa-vulkan-drivers
#                     25.0.7 from bookworm-backports), plus vulkan-tools
#   chroot/files      there: /usr/bin/venusd, the man page, the units, and the link, which
#                     runs venusd as a render server ('virgl_render_server --help')
#   chroot/demo       there: /usr/bin/venusd vtest on lavapipe, and vulkaninfo through Venus
#                     (VN_DEBUG=vtest, under timeout -s KILL) sees the Venus device
#   install/plan      (only under a TEST_PREFIX, i.e. run-tests.sh's ASan pass, instead of
#                     all the above) VENUSD's build directory installs venusd, the man page
#                     and both units
#   man/complete      docs/venusd.1.scd documents every option that 'venusd --help' and
#                     'venusd render-server --help' list, and every command
# Needs root (debootstrap, chroot, mounts) and, the first time, network (about 3 minutes).
# Environment: VENUSD_PKGROOT, VENUSD_PKGROOT_MIRROR (default http://deb.debian.org/debian).
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
test_init package

PKGROOT=${VENUSD_PKGROOT:-/var/cache/venusd-pkgroot}
MIRROR=${VENUSD_PKGROOT_MIRROR:-http://deb.debian.org/debian}
SDK=${VULKAN_SDK:-$REPO_ROOT/third_party/vulkan-sdk-sid/usr}

if [ "$(id -u)" != 0 ]; then
  fail "package/root" "needs root (debootstrap, chroot, mounts): run it with sudo"
  test_finish
fi
# The man page documents every option and command that venusd's own help lists.
man=$REPO_ROOT/docs/venusd.1.scd
undocumented=
for o in $({ "$VENUSD" --help; "$VENUSD" render-server --help; } 2>&1 |
  grep -oE -- '^ +(-h, )?--[a-z][a-z-]*[a-z]' | sed 's/^ *//; s/^-h, //' | sort -u); do
  grep -q -- "\*$o\*" "$man" || undocumented="$undocumented $o"
done
for c in vtest render-server replay commands; do
  grep -q "^\*$c\*" "$man" || undocumented="$undocumented command:$c"
done
if [ -z "$undocumented" ]; then
  pass "package/man/complete"
else
  fail "package/man/complete" "not in docs/venusd.1.scd:$undocumented"
fi

# Under run-tests.sh's sanitizer passes (TEST_PREFIX asan:) the package would be the same:
# there only the install plan of VENUSD's own build directory is checked.
if [ -n "$TEST_PREFIX" ]; then
  plan=$(meson introspect "$(dirname "$VENUSD")" --installed 2>&1)
  bad=
  for f in /bin/venusd /man1/venusd.1 /venusd.socket /venusd.service; do
    [[ $plan == *"$f\""* ]] || bad="$bad missing $f;"
  done
  if [ -z "$bad" ]; then
    pass "package/install/plan"
  else
    fail "package/install/plan" "$bad (meson introspect --installed: $plan)"
  fi
  note "the package build and the chroot run only in the plain pass"
  test_finish
fi
for tool in dpkg-buildpackage dh debootstrap unshare chroot meson systemd-analyze; do
  if ! command -v "$tool" >/dev/null; then
    fail "package/tools" "$tool not found: run scripts/setup-deps.sh"
    test_finish
  fi
done

# ---- a clean Debian 12 ------------------------------------------------------------------

# in_root DIR LAYER CMD... — CMD in a chroot of DIR (with LAYER/upper as a copy-on-write
# layer over it if LAYER is not empty), with /proc, /sys, /dev and a private /tmp, in its
# own mount and PID namespaces: nothing stays mounted or running afterwards.
in_root() {
  local dir=$1 layer=$2
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --pid --fork --kill-child --propagation private -- bash -c '
    d=$1 layer=$2; shift 2
    if [ -n "$layer" ]; then
      mount -t overlay overlay -o "lowerdir=$d,upperdir=$layer/upper,workdir=$layer/work" \
        "$layer/merged" || exit 125
      d=$layer/merged
    fi
    mount -t proc proc "$d/proc" && mount --rbind /sys "$d/sys" && mount --rbind /dev "$d/dev" &&
      mount -t tmpfs tmpfs "$d/tmp" || exit 125
    exec chroot "$d" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' in_root "$dir" "$layer" "$@"
}

# setup_pkgroot LOG — makes $PKGROOT/root once: debootstrap bookworm (minbase),
# bookworm-backports, and the packages the demo needs downloaded (not installed), so that
# each run installs them from the cache.
setup_pkgroot() {
  local log=$1 r=$PKGROOT/root.tmp
  [ -f "$PKGROOT/ready" ] && return 0
  mkdir -p "$PKGROOT" || return 1
  exec 9>"$PKGROOT/lock"
  flock -w 900 9 || { echo "another run holds $PKGROOT/lock" >>"$log"; return 1; }
  [ -f "$PKGROOT/ready" ] && return 0
  note "making the Debian 12 chroot in $PKGROOT (once; log $log)"
  rm -rf "$r" "$PKGROOT/root"
  debootstrap --variant=minbase bookworm "$r" "$MIRROR" >>"$log" 2>&1 || return 1
  echo "deb $MIRROR bookworm-backports main" >"$r/etc/apt/sources.list.d/backports.list"
  in_root "$r" "" apt-get update >>"$log" 2>&1 &&
    in_root "$r" "" apt-get install -y --download-only -t bookworm-backports \
      libvulkan1 mesa-vulkan-drivers vulkan-tools >>"$log" 2>&1 || return 1
  mv "$r" "$PKGROOT/root" && touch "$PKGROOT/ready"
}

# The chroot (network-bound the first time) is made while the package builds (CPU-bound).
setup_pkgroot "$TEST_TMP/pkgroot.log" >"$TEST_TMP/pkgroot.out" 2>&1 &
setup_pid=$!

# ---- the package ----------------------------------------------------------------------
src=$TEST_TMP/src
mkdir -p "$src"
(cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z | tar -cf - --null -T -) |
  tar -xf - -C "$src"
note "building the .debs in $src (log $TEST_TMP/deb.log)"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" VULKAN_SDK=$SDK \
  nice dpkg-buildpackage -b -us -uc) >"$TEST_TMP/deb.log" 2>&1
rc=$?
deb=$(find "$TEST_TMP" -maxdepth 1 -name 'venusd_*.deb' | head -n 1)
rs_deb=$(find "$TEST_TMP" -maxdepth 1 -name 'venusd-render-server_*.deb' | head -n 1)
if [ "$rc" = 0 ] && [ -n "$deb" ] && [ -n "$rs_deb" ]; then
  pass "package/deb/build"
else
  fail "package/deb/build" "dpkg-buildpackage -b -us -uc exited $rc: $(grep -m1 -E 'error|Error' "$TEST_TMP/deb.log")"
  show_file "$TEST_TMP/deb.log"
  wait "$setup_pid"
  test_finish
fi

depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
if [[ $depends == *libc6* ]] && [[ $depends == *libvulkan1* ]] &&
  [[ $recommends == *mesa-vulkan-drivers* ]]; then
  pass "package/deb/control"
else
  fail "package/deb/control" "Depends: $depends; Recommends: $recommends"
fi

# ---- meson install ----------------------------------------------------------------------
dest=$src/debian/tmp
svc=$dest/lib/systemd/system/venusd.service
missing=
for f in usr/bin/venusd usr/share/man/man1/venusd.1 lib/systemd/system/venusd.socket \
  lib/systemd/system/venusd.service; do
  [ -f "$dest/$f" ] || missing="$missing $f"
done
link=$(readlink "$dest/usr/libexec/virgl_render_server" 2>/dev/null)
if [ -z "$missing" ] && [ -x "$dest/usr/bin/venusd" ] && [ "$link" = ../bin/venusd ] &&
  grep -qx "ExecStart=/usr/bin/venusd vtest" "$svc"; then
  pass "package/install/layout"
else
  fail "package/install/layout" "missing:${missing:- none}; virgl_render_server -> '${link}' (want ../bin/venusd); $(grep ExecStart "$svc" 2>/dev/null)"
fi

unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
unitdir=${unitdir:-/usr/lib/systemd/system}
if meson setup "$TEST_TMP/defaults" "$src" --prefix=/usr -Dvulkan_sdk="$SDK" \
  >"$TEST_TMP/defaults.log" 2>&1; then
  plan=$(meson introspect "$TEST_TMP/defaults" --installed 2>&1)
  bad=
  for f in /usr/bin/venusd /usr/share/man/man1/venusd.1 "$unitdir/venusd.socket" \
    "$unitdir/venusd.service"; do
    [[ $plan == *"\"$f\""* ]] || bad="$bad missing $f;"
  done
  [[ $plan == *virgl_render_server* ]] && bad="$bad a virgl_render_server link without -Drender_server_link;"
  if [ -z "$bad" ]; then
    pass "package/install/defaults"
  else
    fail "package/install/defaults" "$bad (plan: $plan)"
  fi
else
  fail "package/install/defaults" "meson setup failed: $(tail -n 1 "$TEST_TMP/defaults.log")"
fi

# The service as installed names /usr/bin/venusd, which this host may lack: verify a copy
# that points at the DESTDIR's.
mkdir -p "$TEST_TMP/units"
cp "$dest/lib/systemd/system/venusd.socket" "$TEST_TMP/units/"
sed "s|^ExecStart=/usr/bin/venusd|ExecStart=$dest/usr/bin/venusd|" "$svc" >"$TEST_TMP/units/venusd.service"
if out=$(cd "$TEST_TMP/units" && systemd-analyze verify --man=no venusd.socket venusd.service 2>&1) &&
  [ -z "$out" ]; then
  pass "package/install/units"
else
  fail "package/install/units" "systemd-analyze verify: $out"
fi

t0=$SECONDS
wait "$setup_pid"
setup_rc=$?
cat "$TEST_TMP/pkgroot.out"
if [ "$setup_rc" != 0 ]; then
  fail "package/chroot/setup" "cannot make the Debian 12 chroot in $PKGROOT (debootstrap from $MIRROR; no network?): $(tail -n 1 "$TEST_TMP/pkgroot.log")"
  show_file "$TEST_TMP/pkgroot.log"
  test_finish
fi
pass "package/chroot/setup"

layer=$TEST_TMP/layer
mkdir -p "$layer/upper/root/debs" "$layer/work" "$layer/merged"
cp "$deb" "$rs_deb" "$layer/upper/root/debs/"
if in_root "$PKGROOT/root" "$layer" sh -c 'apt-get install -y -t bookworm-backports \
    /root/debs/*.deb vulkan-tools' >"$TEST_TMP/apt.log" 2>&1 &&
  mesa=$(in_root "$PKGROOT/root" "$layer" dpkg-query -W -f "\${Version}" mesa-vulkan-drivers) &&
  [[ $mesa == 25.0.7* ]]; then
  pass "package/chroot/install"
else
  fail "package/chroot/install" "apt-get install of the .debs: $(grep -m1 -E '^E:' "$TEST_TMP/apt.log") (mesa-vulkan-drivers ${mesa:-not installed})"
  show_file "$TEST_TMP/apt.log"
  test_finish
fi

# shellcheck disable=SC2016 # expanded in the chroot
files=$(in_root "$PKGROOT/root" "$layer" bash -c '
  for f in /usr/bin/venusd /usr/share/man/man1/venusd.1.gz /lib/systemd/system/venusd.socket \
    /lib/systemd/system/venusd.service; do [ -f "$f" ] || echo "missing $f"; done
  /usr/libexec/virgl_render_server --help | head -n 1' 2>&1)
if [ "$files" = "Usage: venusd render-server --socket-fd N [OPTIONS]" ]; then
  pass "package/chroot/files"
else
  fail "package/chroot/files" "$files"
fi

# The demo (scripts/demo.sh's steps) from the installed files.
# shellcheck disable=SC2016 # expanded in the chroot
in_root "$PKGROOT/root" "$layer" bash -c '
  VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json /usr/bin/venusd vtest \
    --socket /tmp/venusd.sock >/root/venusd.log 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -S /tmp/venusd.sock ] && break; sleep 0.1; done
  sleep 0.3
  VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/venusd.sock \
    VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json \
    timeout -s KILL 60 vulkaninfo --summary >/root/summary.txt 2>&1
  echo "vulkaninfo exit $?" >>/root/summary.txt
  kill -TERM $pid
  wait $pid
  echo "venusd exit $?" >>/root/summary.txt' >/dev/null 2>&1
summary=$layer/upper/root/summary.txt
if grep -Eq "deviceName += $VENUS_DEVICE_RE" "$summary" && grep -qx "vulkaninfo exit 0" "$summary" &&
  grep -qx "venusd exit 0" "$summary"; then
  pass "package/chroot/demo"
  note "$(grep -m1 deviceName "$summary")"
else
  fail "package/chroot/demo" "$(tail -n 2 "$summary" 2>/dev/null | tr '\n' ' ')"
  show_file "$summary"
  show_file "$layer/upper/root/venusd.log"
fi
note "chroot steps took $((SECONDS - t0)) s"
test_finish
