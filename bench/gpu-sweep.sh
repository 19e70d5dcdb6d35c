#!/usr/bin/env bash
# bench/gpu-sweep.sh — on the GPU machine (copied into .gpu/ by bench/gpu-prepare.sh): does
# venusd's polling (--spin-us, --ring-spin-us) or the CPU placement of client and venusd
# (taskset: both on CPU 0's first sibling, or venusd on CPU 4) move cmds_100k and cmds_mix?
# Six venusd instances, three rounds of each benchmark through each, natively in between;
# raw "CONFIG metric NAME UNIT VALUE" lines in $OUT/sweep.txt.  Nothing is asserted.
#   OUT=<dir> bash .gpu/gpu-sweep.sh
cd "$(dirname "$0")" || exit 1
G=$PWD
export LD_LIBRARY_PATH=$G/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}
NV=; for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do [ -f "$f" ] && NV=$f && break; done
VIRTIO=$G/lib/virtio_icd.json
lscpu | grep -E 'Model name|Thread|Core|Socket|NUMA node' ; cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list
sib=$(cut -d, -f2 /sys/devices/system/cpu/cpu0/topology/thread_siblings_list | cut -d- -f2)
echo "cpu0 sibling: $sib"
declare -A ARGS=( [default]="" [ring0]="--ring-spin-us 0" [spin0]="--spin-us 0" [both0]="--ring-spin-us 0 --spin-us 0" )
declare -A PIN=( [default]="" [ring0]="" [spin0]="" [both0]="" [pin_sib]="$sib" [pin_far]="4" )
for c in default ring0 spin0 both0 pin_sib pin_far; do
  pre=; [ -n "${PIN[$c]:-}" ] && pre="taskset -c ${PIN[$c]}"
  VK_DRIVER_FILES=$NV $pre "$G/venusd" vtest --socket /tmp/sw-$c.sock --log warn ${ARGS[$c]:-} >"$OUT/sw-$c.log" 2>&1 &
done
sleep 2
for r in 1 2 3; do
  for b in cmds_100k cmds_mix; do
    env VK_DRIVER_FILES="$NV" timeout -s KILL 60 "$G/venus_bench" $b | sed 's/^/native /'
    for c in default ring0 spin0 both0 pin_sib pin_far; do
      pre=; case $c in pin_*) pre="taskset -c 0" ;; esac
      env VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/sw-$c.sock VK_DRIVER_FILES="$VIRTIO" timeout -s KILL 60 $pre "$G/venus_bench" $b | sed "s/^/$c /"
    done
  done
done > "$OUT/sweep.txt"
wc -l "$OUT/sweep.txt"
pkill -TERM -f 'venusd vtest --socket /tmp/sw-'; sleep 1
