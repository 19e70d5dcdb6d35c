#!/usr/bin/env bash
# Runs on the GPU machine from the folder bench/gpu-prepare.sh's LAVAPIPE=1 fills (.lvp/):
# llama-bench on lavapipe (Debian 12's Mesa 25.0.7 and LLVM 15, unpacked with the guest
# drivers from lvp.tar.xz into /tmp/lvp) natively and through venusd, on that machine's
# CPU cores, with bench/llama/run.sh.  Results: $OUT/llama-lvp.txt and $OUT/llama-lvp.jsonl.
# Environment: LLAMA_SIZE (default tiny), LLAMA_ROUNDS (default 2), LLAMA_REPS (default 2),
# VARIANTS (default: native venus venus-nofb, and venus26 where .lvp has the Mesa 26 client).
set -euo pipefail
cd "$(dirname "$0")"
G=$PWD
: "${OUT:?OUT must name a folder for the results}"
rm -rf /tmp/lvp && mkdir -p /tmp/lvp && tar -C /tmp/lvp -xJf "$G/lvp.tar.xz"
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "/tmp/lvp/lvp/libvulkan_lvp.so", "api_version": "1.4.305" } }\n' \
  >/tmp/lvp/lvp_icd.json
export LD_LIBRARY_PATH=/tmp/lvp/lib:/tmp/lvp/lvp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VENUSD_LLAMA_HOME=/tmp/venusd-llama LLAMA_COPY_BACKENDS=1
mkdir -p "$VENUSD_LLAMA_HOME" && cp -r "$G/llama/debs" "$VENUSD_LLAMA_HOME/"
SIZE=${LLAMA_SIZE:-tiny}
PYTHON=python3 bash "$G/llama/setup.sh" --size "$SIZE" >/dev/null
v="native venus venus-nofb"
[ -f /tmp/lvp/mesa26/client/.complete ] && v="$v venus26"
echo "cores: $(nproc)"
VK_DRIVER_FILES=/tmp/lvp/lvp_icd.json timeout -s KILL 60 "$G/venusd" doctor 2>&1 |
  grep -i -E "llvmpipe|FAIL" | head -5 || true
VD_HIDE_EXT_LAYER=$G/libvd_hide_extensions.so VENUSD_MESA26_HOME=/tmp/lvp/mesa26 \
  VENUSD=$G/venusd NATIVE_ICD=/tmp/lvp/lvp_icd.json HOST_ICD=/tmp/lvp/lvp_icd.json \
  VENUS_ICD=/tmp/lvp/lib/virtio_icd.json BENCH_OUT=$OUT/llama-lvp.jsonl VARIANTS="${VARIANTS:-$v}" \
  bash "$G/llama/run.sh" --size "$SIZE" -r "${LLAMA_REPS:-2}" --rounds "${LLAMA_ROUNDS:-2}" |
  tee "$OUT/llama-lvp.txt"
