#!/usr/bin/env bash
# tests/vm/vm.sh — boot a real Linux guest whose Mesa Venus driver renders through venusd.
#
#   guest program -> Mesa Venus ICD -> virtio-gpu (guest kernel) -> QEMU virtio-gpu-gl
#   (venus=on) -> libvirglrenderer's proxy -> venusd as render server -> lavapipe
#
# QEMU 10.0, libvirglrenderer 1.1.0 and Xvfb come from a Debian 13 (trixie) chroot; the guest
# is a second trixie tree (kernel, Mesa's Venus driver, vulkan-tools, our tests/apps
# programs) that the guest mounts read-only over 9p from a busybox initramfs.  Both trees
# live in a cache directory outside the repo.  Debian 13 packages are only ever installed
# inside those trees, never on the host (that would upgrade the host's libc).
#
#   vm.sh setup       make or bring up to date the trees, the initramfs and the guest's
#                     copies of tests/apps (idempotent; ~3 min and ~2 GB the first time,
#                     a second when nothing changed)
#   vm.sh run [--server PATH] [--copy FILE]... [--dir DIR] [--timeout S] -- CMD [ARG]...
#                     boot the guest, run CMD in it, print CMD's output and a last line
#                     "vm: guest exit status N ..."; exit with CMD's status, or 125 when the
#                     guest reported none (QEMU failed or timed out: see the logs it names)
#   vm.sh stop        kill a run that was left behind (runs normally clean up after
#                     themselves, also when killed)
#   vm.sh host-exec [VAR=VALUE]... -- CMD...
#                     run CMD in the QEMU chroot (virgl_test_server, the reference's
#                     virgl_render_server) with only the VARs set and the host's /tmp
#                     shared, in its own mount and PID namespaces (SIGKILL to it ends CMD);
#                     with VENUSD_VM_BIND_REPO=1 the repo also appears at its own path
#   vm.sh host-install PKG...
#                     install Debian 13 packages into the QEMU chroot (idempotent; used by
#                     tests/clients/mesa-clients.sh for the programs it runs there)
#   vm.sh --help
#
# run options:
#   --server PATH  the render server libvirglrenderer's proxy starts (default: the repo's
#                  build/venusd); copied into the run directory, with its libasan/libubsan
#                  when it is a sanitizer build.  "reference" means the chroot's own
#                  /usr/libexec/virgl_render_server.
#   --copy FILE    FILE appears in the guest as /mnt/NAME (repeatable).  CMD runs in /mnt
#                  with /mnt first in PATH; files it writes there are in DIR/share after.
#   --dir DIR      the run directory (made if needed; default: a new one under the cache,
#                  the last 10 kept).  It holds qemu.log (QEMU's stderr, so the render
#                  server's log), console.log (the guest kernel), xvfb.log, share/ (the
#                  guest's /mnt; share/.vm/ has the guest's status and timings) and
#                  server-leftover (render-server processes still alive after QEMU exited,
#                  empty if none).
#   --timeout S    QEMU is killed (SIGKILL) after S seconds (default 300).
#
# In the guest: root, VK_DRIVER_FILES=virtio_icd.json, our apps in /usr/local/bin, and Xvfb
# (not started: run it from CMD, with MESA_VK_WSI_DEBUG=sw for a presenting program).
# For the render server: VK_DRIVER_FILES=lavapipe, VENUSD_LOG (default info) and
# VENUSD_RENDER_SERVER_ARGS, ASAN_OPTIONS and UBSAN_OPTIONS are passed through.
#
# QEMU runs under TCG: /dev/kvm on these machines, where there is one, is PVM and cannot
# boot a stock kernel.  One vCPU: QEMU 10.0's TCG sometimes aborts with "iotlb_to_section:
# Assertion" while blobs are mapped (more often with two); a run that ends that way before
# the guest reports is retried (VENUSD_VM_RETRY times, default 2), and so is one whose guest
# has not reached its command after VENUSD_VM_BOOT_LIMIT seconds (default 150; a boot takes
# 5-10 s).  Each run lives in its
# own mount and PID namespace, so its mounts, Xvfb, QEMU and render server all go away
# with it, however it ends.
#
# Environment: VENUSD_VM_HOME (cache, default /var/cache/venusd-vm), VENUSD_VM_MIRROR
# (default http://deb.debian.org/debian), VENUSD_VM_MEM (guest RAM, 2G), VENUSD_VM_HOSTMEM
# (virtio-gpu host-visible window, 4G), VENUSD_VM_RETRY.  Needs root.
set -u -o pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)
VMH=${VENUSD_VM_HOME:-/var/cache/venusd-vm}
MIRROR=${VENUSD_VM_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
HOST=$VMH/host   # QEMU's chroot
GUEST=$VMH/guest # the guest's root tree
# What each tree needs.  The guest's kernel is unpacked, not installed (no initramfs-tools).
HOST_PKGS="qemu-system-x86 qemu-system-gui qemu-system-modules-opengl libvirglrenderer1
  virgl-server xvfb xauth xkb-data libgl1 libglx-mesa0 libegl1 libegl-mesa0 libgl1-mesa-dri
  mesa-vulkan-drivers libvulkan1 libvulkan-dev gcc libc6-dev libx11-dev libxcb1-dev
  busybox-static xz-utils"
GUEST_PKGS="mesa-vulkan-drivers vulkan-tools libvulkan1 kmod xvfb"
GUEST_MODULES="9p 9pnet_virtio" # loaded by the initramfs, with their dependencies

die() {
  echo "vm.sh: $*" >&2
  exit 125
}
say() { echo "vm.sh: $*"; }

need_root() {
  [ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts): run it with sudo"
}

# ---- setup ---------------------------------------------------------------------------

# in_chroot DIR CMD... — CMD in chroot DIR with /proc, /sys, /dev mounted in a private
# mount namespace (nothing stays mounted afterwards).
in_chroot() {
  local d=$1
  shift
  chroot_ns "$d" "" PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive -- "$@"
}

# chroot_ns DIR UNSHARE_OPTS ENV... -- CMD... — CMD in chroot DIR with only ENV, in a
# private mount namespace with /proc, /sys, /dev (and the host's /tmp, for sockets) mounted;
# UNSHARE_OPTS adds namespaces (e.g. a PID namespace so that everything dies with it).
# With CHROOT_NS_EXEC=1 this shell becomes unshare (so that killing it ends CMD).
chroot_ns() {
  local d=$1 opts=$2 launch=()
  shift 2
  [ "${CHROOT_NS_EXEC:-0}" = 1 ] && launch=(exec)
  # shellcheck disable=SC2086 # the options are words
  "${launch[@]}" unshare --mount --propagation private $opts -- bash -c '
    d=$1; shift
    mount -t proc proc "$d/proc" && mount --rbind /sys "$d/sys" && mount --rbind /dev "$d/dev" &&
      mkdir -p "$d/tmp" && mount --bind /tmp "$d/tmp" || exit 125
    if [ -n "${CHROOT_NS_BIND:-}" ]; then
      mkdir -p "$d$CHROOT_NS_BIND" && mount --bind "$CHROOT_NS_BIND" "$d$CHROOT_NS_BIND" || exit 125
    fi
    env=()
    while [ "$1" != -- ]; do env+=("$1"); shift; done
    shift
    exec chroot "$d" env -i "${env[@]}" "$@"' chroot_ns "$d" "$@"
}

# host_exec [VAR=VALUE]... -- CMD... — CMD in the QEMU chroot (it has virgl_test_server and
# the reference's /usr/libexec/virgl_render_server), sharing the host's /tmp, in its own
# mount and PID namespaces: SIGKILL to this process (it execs unshare, which ignores
# SIGTERM while it waits) ends everything in it.
host_exec() {
  need_root
  [ -x "$HOST/usr/bin/virgl_test_server" ] || die "no chroot in $VMH yet: run 'vm.sh setup' first"
  local env=(PATH=/usr/bin:/bin HOME=/tmp)
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "host-exec: no command (vm.sh host-exec [VAR=VALUE]... -- CMD...)"
  local bind=
  [ "${VENUSD_VM_BIND_REPO:-0}" = 1 ] && bind=$REPO
  CHROOT_NS_BIND=$bind CHROOT_NS_EXEC=1 chroot_ns "$HOST" "--pid --fork --kill-child" "${env[@]}" -- "$@"
}

# host_install PKG... — the PKGs installed into the QEMU chroot (after vm.sh setup).
host_install() {
  need_root
  [ -x "$HOST/usr/bin/apt-get" ] || die "no chroot in $VMH yet: run 'vm.sh setup' first"
  exec 8>"$VMH/setup.lock"
  flock -w 900 8 || die "another setup holds $VMH/setup.lock"
  apt_ensure "$HOST" "$VMH/setup.log" "$@" ||
    die "installing $* in $HOST failed (no network?): see $VMH/setup.log"
}

# missing_pkgs DIR PKG... — the PKGs not installed in DIR.
missing_pkgs() {
  local d=$1 p
  shift
  for p in "$@"; do
    chroot "$d" dpkg-query -W -f '${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
      printf '%s ' "$p"
  done
}

# apt_ensure DIR LOG PKG... — installs the missing PKGs in DIR (no recommends).
apt_ensure() {
  local d=$1 log=$2 missing
  shift 2
  # shellcheck disable=SC2068
  missing=$(missing_pkgs "$d" $@)
  [ -n "$missing" ] || return 0
  say "installing in $d: $missing"
  # shellcheck disable=SC2086
  in_chroot "$d" apt-get update >>"$log" 2>&1 &&
    in_chroot "$d" apt-get install -y --no-install-recommends $missing >>"$log" 2>&1 &&
    in_chroot "$d" apt-get clean >>"$log" 2>&1
}

# The guest kernel, unpacked from Debian's package (installing it would pull in
# initramfs-tools and build an initramfs we do not use), then depmod for modprobe.
guest_kernel() {
  local log=$1 pkg deb
  ls "$GUEST"/boot/vmlinuz-* >/dev/null 2>&1 && [ -f "$GUEST/lib/modules/$(guest_kver)/modules.dep" ] && return 0
  pkg=$(chroot "$GUEST" apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
  [ -n "$pkg" ] || { echo "no linux-image package found for linux-image-amd64" >>"$log"; return 1; }
  say "unpacking $pkg into the guest"
  rm -rf "$GUEST/var/tmp/kernel" && mkdir -p "$GUEST/var/tmp/kernel" &&
    in_chroot "$GUEST" sh -c "cd /var/tmp/kernel && apt-get download $pkg" >>"$log" 2>&1 || return 1
  deb=$(ls "$GUEST"/var/tmp/kernel/*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || return 1
  in_chroot "$GUEST" dpkg-deb -x "/var/tmp/kernel/${deb##*/}" / >>"$log" 2>&1 &&
    in_chroot "$GUEST" depmod "$(guest_kver)" >>"$log" 2>&1 || return 1
  rm -rf "$GUEST/var/tmp/kernel"
}
guest_kver() { ls "$GUEST/lib/modules" 2>/dev/null | sort -V | tail -n 1; }

# The guest's /init.  It mounts the guest tree (9p tag "root", read-only) and the run's
# share directory (tag "share", at /mnt), loads virtio_gpu, runs /mnt/.vm/cmd.sh in the
# tree, writes its status and uptimes into /mnt/.vm/ and powers off.
write_init() {
  cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
halt_now() { sync; poweroff -f; }
while read -r m; do insmod "/modules/$m" || echo "vm-init: insmod $m failed"; done </modules/order
N=/newroot
O=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$O,ro,cache=loose" root $N || { echo "vm-init: cannot mount the guest tree"; halt_now; }
mount -t 9p -o "$O" share $N/mnt || { echo "vm-init: cannot mount the share"; halt_now; }
mount -t proc proc $N/proc
mount -t sysfs sysfs $N/sys
mount -t devtmpfs devtmpfs $N/dev
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts devpts $N/dev/pts
mount -t tmpfs tmpfs $N/dev/shm
for d in tmp run root var/tmp var/log; do mount -t tmpfs tmpfs $N/$d; done
chroot $N /sbin/modprobe virtio_gpu || echo "vm-init: modprobe virtio_gpu failed"
i=0
while [ ! -e $N/dev/dri/renderD128 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e $N/dev/dri/renderD128 ] || echo "vm-init: no /dev/dri/renderD128"
read -r up _ </proc/uptime
echo "$up" >$N/mnt/.vm/boot_s
chroot $N /bin/bash /mnt/.vm/cmd.sh >$N/mnt/.vm/out 2>&1 </dev/null
echo $? >$N/mnt/.vm/rc.tmp
read -r up _ </proc/uptime
echo "$up" >$N/mnt/.vm/end_s
dmesg >$N/mnt/.vm/dmesg
mv $N/mnt/.vm/rc.tmp $N/mnt/.vm/rc
umount $N/mnt
halt_now
EOF
}

# module_order MODULE... — the .ko paths (relative to lib/modules/KVER) to insmod, each
# after its dependencies, from the guest kernel's modules.dep.
module_order() {
  local dep
  dep=$GUEST/lib/modules/$(guest_kver)/modules.dep
  awk -v want="$*" '
    { sub(":", "", $1); path = $1; n = split(path, p, "/"); name = p[n]; sub(/\.ko.*/, "", name)
      gsub("-", "_", name); file[name] = path; deps[name] = ""
      for (i = 2; i <= NF; i++) { m = split($i, q, "/"); d = q[m]; sub(/\.ko.*/, "", d)
        gsub("-", "_", d); deps[name] = deps[name] " " d } }
    function visit(m,   k, n, a) {
      if (m in done) return; done[m] = 1
      if (!(m in file)) { print "missing " m > "/dev/stderr"; exit 1 }
      n = split(deps[m], a, " "); for (k = n; k >= 1; k--) visit(a[k])
      print file[m] }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }' "$dep"
}

build_initramfs() {
  local kver tmp order m stamp
  kver=$(guest_kver)
  [ -n "$kver" ] || die "no kernel in $GUEST/lib/modules: run 'vm.sh setup' again (see $VMH/setup.log)"
  stamp="$kver $(write_init | sha256sum | cut -c1-16) $GUEST_MODULES"
  [ -f "$VMH/initrd.gz" ] && [ "$(cat "$VMH/initrd.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  say "building the initramfs (kernel $kver)"
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,modules,proc,sys,dev,newroot}
  cp "$HOST/bin/busybox" "$tmp/bin/busybox" || die "no busybox in the host chroot"
  write_init >"$tmp/init"
  chmod 755 "$tmp/init"
  # shellcheck disable=SC2086
  order=$(module_order $GUEST_MODULES) || die "cannot resolve the guest modules $GUEST_MODULES"
  for m in $order; do
    case $m in
      *.xz) xz -dc <"$GUEST/lib/modules/$kver/$m" ;;
      *.zst) zstd -dc <"$GUEST/lib/modules/$kver/$m" ;;
      *) cat "$GUEST/lib/modules/$kver/$m" ;;
    esac >"$tmp/modules/$(basename "${m%.ko*}").ko" || die "cannot unpack module $m"
    basename "${m%.ko*}.ko" >>"$tmp/modules/order"
  done
  (cd "$tmp" && find . | "$HOST/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$VMH/initrd.gz.tmp" &&
    mv "$VMH/initrd.gz.tmp" "$VMH/initrd.gz" || die "cannot write $VMH/initrd.gz"
  rm -rf "$tmp"
  cp "$GUEST/boot/vmlinuz-$kver" "$VMH/vmlinuz"
  echo "$stamp" >"$VMH/initrd.stamp"
}

# Our tests/apps programs (vk_*.c, and x11_grab.c), compiled in the host chroot (trixie's
# gcc and libraries, as in the guest) into the guest's /usr/local/bin.  The shaders' SPIR-V
# headers are made with the host's glslangValidator as meson does, else taken from
# build/tests/apps.  Redone whenever a source changed; a program that does not compile is
# named (and missing in the guest) but does not fail setup.
guest_apps() {
  local src=$REPO/tests/apps work=$HOST/var/tmp/venusd-apps stamp sh var app failed=
  stamp=$(cat "$src"/*.c "$src"/*.h "$src"/*.comp "$src"/*.vert "$src"/*.frag 2>/dev/null | sha256sum | cut -c1-16)
  if [ "$(head -n 1 "$GUEST/usr/local/bin/.venusd-apps" 2>/dev/null)" = "$stamp" ]; then
    failed=$(sed -n 2p "$GUEST/usr/local/bin/.venusd-apps")
    [ -z "$failed" ] || say "warning: these tests/apps programs do not compile for the guest:$failed"
    return 0
  fi
  say "compiling tests/apps for the guest"
  rm -rf "$work" && mkdir -p "$work" && cp "$src"/*.c "$src"/*.h "$work/" || die "cannot copy $src"
  for sh in "$src"/*.comp "$src"/*.vert "$src"/*.frag; do
    [ -f "$sh" ] || continue
    var=$(basename "$sh" | tr . _)_spv
    if command -v glslangValidator >/dev/null; then
      glslangValidator -V --target-env vulkan1.2 --vn "$var" -o "$work/$var.h" "$sh" >/dev/null ||
        die "glslangValidator failed on $sh"
    elif [ -f "$REPO/build/tests/apps/$var.h" ]; then
      cp "$REPO/build/tests/apps/$var.h" "$work/"
    else
      die "no glslangValidator and no build/tests/apps/$var.h: run scripts/setup-deps.sh (or ninja -C build)"
    fi
  done
  mkdir -p "$GUEST/usr/local/bin"
  for app in "$work"/vk_*.c "$work"/x11_grab.c; do
    [ -f "$app" ] || continue
    app=$(basename "$app" .c)
    echo "# compiling $app" >>"$VMH/setup.log"
    if chroot "$HOST" gcc -std=gnu11 -O2 -Wno-unused-result -o "/var/tmp/venusd-apps/$app" \
      "/var/tmp/venusd-apps/$app.c" -Wl,--as-needed -lvulkan -lX11 -lxcb -lpthread -lm >>"$VMH/setup.log" 2>&1; then
      install -m 755 "$work/$app" "$GUEST/usr/local/bin/$app"
    else
      failed="$failed $app"
    fi
  done
  rm -rf "$work"
  [ -z "$failed" ] || say "warning: these tests/apps programs do not compile for the guest:$failed (see $VMH/setup.log)"
  printf '%s\n%s\n' "$stamp" "$failed" >"$GUEST/usr/local/bin/.venusd-apps"
}

setup() {
  need_root
  local t0=$SECONDS log=$VMH/setup.log
  mkdir -p "$VMH" || die "cannot create $VMH (set VENUSD_VM_HOME)"
  exec 8>"$VMH/setup.lock"
  flock -w 900 8 || die "another setup holds $VMH/setup.lock"
  echo "# vm.sh setup $(date)" >>"$log"
  for tool in unshare setpriv chroot xz gzip; do
    command -v $tool >/dev/null || die "$tool not found on the host"
  done
  if [ ! -x "$HOST/usr/bin/apt-get" ] || [ ! -x "$GUEST/usr/bin/apt-get" ]; then
    if ! command -v debootstrap >/dev/null; then
      say "installing debootstrap on the host (Debian's own package)"
      { apt-get update && apt-get install -y debootstrap; } >>"$log" 2>&1 ||
        die "cannot install debootstrap with apt-get (no network?): see $log"
    fi
  fi
  # One debootstrap serves both trees: the guest starts as a copy of the fresh base.
  if [ ! -x "$HOST/usr/bin/apt-get" ]; then
    say "debootstrap $SUITE into $VMH (log: $log)"
    rm -rf "$VMH/base.tmp"
    debootstrap --variant=minbase "$SUITE" "$VMH/base.tmp" "$MIRROR" >>"$log" 2>&1 ||
      die "debootstrap $SUITE from $MIRROR failed (no network? set VENUSD_VM_MIRROR): see $log"
    if [ ! -x "$GUEST/usr/bin/apt-get" ]; then
      rm -rf "$GUEST.tmp" && cp -a "$VMH/base.tmp" "$GUEST.tmp" && mv "$GUEST.tmp" "$GUEST" ||
        die "cannot copy the base tree to $GUEST"
    fi
    mv "$VMH/base.tmp" "$HOST" || die "cannot move the base tree to $HOST"
  elif [ ! -x "$GUEST/usr/bin/apt-get" ]; then
    say "debootstrap $SUITE into $GUEST (log: $log)"
    rm -rf "$GUEST.tmp"
    debootstrap --variant=minbase "$SUITE" "$GUEST.tmp" "$MIRROR" >>"$log" 2>&1 && mv "$GUEST.tmp" "$GUEST" ||
      die "debootstrap $SUITE from $MIRROR failed (no network? set VENUSD_VM_MIRROR): see $log"
  fi
  # Both trees' packages at once (downloads overlap), each with its own log.
  local hp gp hrc grc
  # shellcheck disable=SC2086
  apt_ensure "$HOST" "$log.host" $HOST_PKGS &
  hp=$!
  # shellcheck disable=SC2086
  { apt_ensure "$GUEST" "$log.guest" $GUEST_PKGS && guest_kernel "$log.guest"; } &
  gp=$!
  wait "$hp"
  hrc=$?
  wait "$gp"
  grc=$?
  cat "$log.host" "$log.guest" >>"$log" 2>/dev/null
  rm -f "$log.host" "$log.guest"
  [ "$hrc" = 0 ] || die "installing packages in $HOST failed (no network?): see $log"
  [ "$grc" = 0 ] || die "installing packages or the kernel in $GUEST failed (no network?): see $log"
  build_initramfs
  guest_apps
  mkdir -p "$VMH/runs"
  say "ready in $((SECONDS - t0)) s: QEMU $(chroot "$HOST" qemu-system-x86_64 --version | awk 'NR==1 {print $4}'), guest kernel $(guest_kver), cache $VMH"
}

# ---- run -------------------------------------------------------------------------------

# Runs as PID 1 of a new PID and mount namespace (vm.sh __ns RUN SERVER_IN_CHROOT TIMEOUT):
# mounts what the chroot needs, starts Xvfb and QEMU, and after QEMU exits records any
# render-server process still alive in RUN/server-leftover.  All of it dies with the
# namespace.
ns_main() {
  local run=$1 server=$2 timeout=$3 disp xpid qrc m
  mkdir -p "$HOST/vm/guest" "$HOST/vm/run" "$HOST/vm/boot"
  mount -t proc proc "$HOST/proc" &&
    mount --rbind /sys "$HOST/sys" &&
    mount --rbind /dev "$HOST/dev" &&
    mount -t tmpfs -o mode=1777 tmpfs "$HOST/tmp" &&
    mount --bind "$GUEST" "$HOST/vm/guest" && mount -o remount,bind,ro "$HOST/vm/guest" &&
    mount --bind "$run" "$HOST/vm/run" &&
    mount -t tmpfs tmpfs "$HOST/vm/boot" &&
    cp "$VMH/vmlinuz" "$VMH/initrd.gz" "$HOST/vm/boot/" || {
    echo "vm.sh: mounting the chroot failed" >"$run/qemu.log"
    exit 125
  }
  mountpoint -q "$HOST/dev/shm" || mount -t tmpfs tmpfs "$HOST/dev/shm"

  # Xvfb picks a free display and writes its number to fd 3.
  chroot "$HOST" env -i PATH=/usr/bin:/bin HOME=/tmp \
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$run/xvfb.display" >"$run/xvfb.log" 2>&1 </dev/null &
  xpid=$!
  for _ in $(seq 100); do
    disp=$(cat "$run/xvfb.display" 2>/dev/null)
    [ -n "$disp" ] && break
    kill -0 "$xpid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$disp" ]; then
    echo "vm.sh: Xvfb did not start (see xvfb.log)" >"$run/qemu.log"
    exit 125
  fi

  local rs_env=()
  if [ "$server" != reference ]; then
    rs_env=(RENDER_SERVER_EXEC_PATH="$server")
    [ -d "$run/server/lib" ] && rs_env+=(LD_LIBRARY_PATH=/vm/run/server/lib)
  fi
  timeout -s KILL "$timeout" chroot "$HOST" env -i PATH=/usr/bin:/bin HOME=/tmp \
    DISPLAY=":$disp" VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json \
    VENUSD_LOG="${VENUSD_LOG:-info}" VENUSD_RENDER_SERVER_ARGS="${VENUSD_RENDER_SERVER_ARGS:-}" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "${rs_env[@]}" \
    qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 -m "${VENUSD_VM_MEM:-2G}" \
    -nodefaults -no-user-config -no-reboot -monitor none \
    -kernel /vm/boot/vmlinuz -initrd /vm/boot/initrd.gz \
    -append "console=ttyS0 panic=-1 loglevel=4 mitigations=off" \
    -serial file:/vm/run/console.log \
    -virtfs local,path=/vm/guest,mount_tag=root,security_model=none,readonly=on \
    -virtfs local,path=/vm/run/share,mount_tag=share,security_model=none \
    -device "virtio-gpu-gl-pci,venus=on,blob=on,hostmem=${VENUSD_VM_HOSTMEM:-4G}" \
    -display sdl,gl=on >>"$run/qemu.log" 2>&1 </dev/null &
  local qpid=$! wpid
  # Boot watchdog: the guest reaches its script in 5-10 s under TCG.  One that has not in
  # VENUSD_VM_BOOT_LIMIT seconds hangs in the kernel or QEMU, before any render server
  # work: kill it, and run() boots again (boot-hung).
  (
    for _ in $(seq $((${VENUSD_VM_BOOT_LIMIT:-150} * 10))); do
      [ -f "$run/share/.vm/boot_s" ] && exit 0
      sleep 0.1
    done
    echo "no boot after ${VENUSD_VM_BOOT_LIMIT:-150} s; last kernel line: $(tail -n 1 "$run/console.log" 2>/dev/null)" >"$run/boot-hung"
    pkill -KILL -f qemu-system-x86_64
  ) &
  wpid=$!
  wait "$qpid"
  qrc=$?
  kill "$wpid" 2>/dev/null
  echo "$qrc" >"$run/qemu.status"

  # The render server must follow QEMU out (its socket to the proxy closed): give it 5 s.
  : >"$run/server-leftover"
  if [ "$server" != reference ]; then
    local left
    for _ in $(seq 50); do
      left=
      for m in /proc/[0-9]*; do
        [ "$(readlink "$m/exe" 2>/dev/null)" = "$HOST$server" ] && left="$left ${m#/proc/}"
      done
      [ -z "$left" ] && break
      sleep 0.1
    done
    for m in $left; do
      echo "pid $m: $(tr '\0' ' ' <"/proc/$m/cmdline" 2>/dev/null)" >>"$run/server-leftover"
    done
  fi
  kill "$xpid" 2>/dev/null
  exit "$qrc"
}

prune_runs() {
  local old
  # shellcheck disable=SC2012 # names are timestamps
  for old in $(ls -d "$VMH"/runs/*/ 2>/dev/null | sort | head -n -10); do rm -rf "$old"; done
}

run() {
  local server=$REPO/build/venusd dir="" timeout=300 copies=() f
  while [ $# -gt 0 ]; do
    case $1 in
      --server) server=${2:?--server needs a path}; shift 2 ;;
      --copy) copies+=("${2:?--copy needs a file}"); shift 2 ;;
      --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
      --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
      --) shift; break ;;
      -*) die "run: unknown option $1 (see vm.sh --help)" ;;
      *) break ;;
    esac
  done
  [ $# -gt 0 ] || die "run: no command (vm.sh run [OPTIONS] -- CMD...)"
  need_root
  [ -f "$VMH/initrd.gz" ] && [ -x "$HOST/usr/bin/qemu-system-x86_64" ] && [ -x "$GUEST/usr/bin/vulkaninfo" ] ||
    die "no VM in $VMH: run 'tests/vm/vm.sh setup' first (or set VENUSD_VM_HOME)"
  if [ "$server" != reference ]; then
    [ -f "$server" ] && [ -x "$server" ] || die "--server $server is not an executable file (build first: ninja -C build)"
  elif [ ! -x "$HOST/usr/libexec/virgl_render_server" ]; then
    die "--server reference: the chroot has no /usr/libexec/virgl_render_server"
  fi
  for f in "${copies[@]}"; do [ -f "$f" ] || die "--copy $f: no such file"; done

  exec 9>>"$VMH/run.lock"
  flock -w 900 9 || die "another run has held $VMH/run.lock for 15 minutes (vm.sh stop?)"
  if [ -z "$dir" ]; then
    mkdir -p "$VMH/runs"
    prune_runs
    dir=$VMH/runs/$(date +%Y%m%d-%H%M%S)-$$
  fi
  mkdir -p "$dir" || die "cannot create $dir"
  dir=$(cd "$dir" && pwd)

  local srv_in=reference lib
  if [ "$server" != reference ]; then
    rm -rf "$dir/server" && mkdir -p "$dir/server" && cp "$server" "$dir/server/" || die "cannot copy $server"
    srv_in=/vm/run/server/$(basename "$server")
    for lib in $(ldd "$server" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { print $3 }'); do
      mkdir -p "$dir/server/lib" && cp "$lib" "$dir/server/lib/"
    done
  fi

  local attempt status retries=${VENUSD_VM_RETRY:-2} t0 grc boot end
  for attempt in $(seq 0 "$retries"); do
    rm -rf "$dir/share" "$dir/qemu.log" "$dir/console.log" "$dir/xvfb.log" "$dir/xvfb.display" \
      "$dir/qemu.status" "$dir/server-leftover" "$dir/boot-hung"
    mkdir -p "$dir/share/.vm"
    for f in "${copies[@]}"; do cp "$f" "$dir/share/" || die "cannot copy $f"; done
    {
      echo 'export HOME=/root XDG_RUNTIME_DIR=/run/user/0 VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json'
      echo 'export PATH=/mnt:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin'
      echo 'mkdir -p -m 700 "$XDG_RUNTIME_DIR"; cd /mnt || exit 1'
      printf 'exec'
      printf ' %q' "$@"
      echo
    } >"$dir/share/.vm/cmd.sh"
    t0=$(date +%s.%N)
    # If this script dies, unshare dies (--pdeathsig), and with it the namespace's init
    # (--kill-child); the kernel then kills everything else in the namespace: Xvfb, QEMU,
    # the render server.
    setpriv --pdeathsig KILL -- unshare --mount --propagation private --pid --fork --kill-child --mount-proc -- \
      bash "$SELF" __ns "$dir" "$srv_in" "$timeout" &
    echo $! >"$VMH/run.pid"
    wait $!
    status=$?
    rm -f "$VMH/run.pid"
    grc=$(cat "$dir/share/.vm/rc" 2>/dev/null)
    if [ -n "$grc" ]; then
      cat "$dir/share/.vm/out"
      boot=$(cat "$dir/share/.vm/boot_s" 2>/dev/null)
      end=$(cat "$dir/share/.vm/end_s" 2>/dev/null)
      awk -v g="$grc" -v b="${boot:-0}" -v e="${end:-0}" -v t0="$t0" -v t1="$(date +%s.%N)" -v q="$status" -v d="$dir" \
        'BEGIN { printf "vm: guest exit status %s (boot %.1f s, command %.1f s, wall %.1f s, qemu status %s; logs in %s)\n", g, b, e - b, t1 - t0, q, d }'
      [ -s "$dir/server-leftover" ] && echo "vm: render server processes still running 5 s after QEMU exited: $(tr '\n' ';' <"$dir/server-leftover")" >&2
      return "$grc"
    fi
    if [ "$attempt" -lt "$retries" ] && [ -f "$dir/boot-hung" ]; then
      echo "vm: the guest did not boot: $(cat "$dir/boot-hung"); retrying" >&2
      mkdir -p "$dir/attempt-$attempt" && cp "$dir"/*.log "$dir/boot-hung" "$dir/attempt-$attempt/" 2>/dev/null
      continue
    fi
    if [ "$attempt" -lt "$retries" ] && grep -q 'iotlb_to_section: Assertion' "$dir/qemu.log" 2>/dev/null; then
      echo "vm: QEMU aborted in iotlb_to_section (a QEMU 10.0 TCG bug, not the render server); retrying" >&2
      mkdir -p "$dir/attempt-$attempt" && cp "$dir"/*.log "$dir/attempt-$attempt/" 2>/dev/null
      continue
    fi
    break
  done
  local why=""
  if [ -f "$dir/boot-hung" ]; then
    why=", killed: $(cat "$dir/boot-hung")"
  elif [ "$status" = 137 ]; then
    why=", killed after $timeout s"
  fi
  echo "vm: the guest reported no exit status (qemu status $status$why); logs in $dir" >&2
  tail -n 5 "$dir/qemu.log" "$dir/console.log" 2>/dev/null | sed 's/^/  /' >&2
  return 125
}

stop() {
  local pid
  pid=$(cat "$VMH/run.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" && say "killed run $pid (its namespace and everything in it)"
  else
    say "no run in progress"
  fi
  rm -f "$VMH/run.pid"
}

usage() { sed -n '2,/^set -u/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//'; }

case ${1:-} in
  setup) setup ;;
  run) shift; run "$@" ;;
  stop) stop ;;
  host-exec) shift; host_exec "$@" ;;
  host-install) shift; host_install "$@" ;;
  __ns) shift; ns_main "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
