#!/usr/bin/env bash
# Prepares .gpu/ (git-ignored) for running venusd on another Linux x86-64 machine with a
# GPU driver but no Mesa: venusd, venus_bench, feedback_poll, the test apps, Mesa 25.0.7's
# Venus ICD (libvulkan_virtio.so with a manifest beside it) and every library it needs
# beyond glibc, plus Debian's Vulkan loader.  Then, there:  bash .gpu/gpu-device.sh
# (OUT=<dir for results>, NV_ICD=<the GPU driver's ICD manifest> if not NVIDIA's usual one).
# With VENUSD_PREV=<another venusd binary> the device run compares the two builds too.
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C build >/dev/null
rm -rf .gpu && mkdir -p .gpu/lib .gpu/apps
cp build/venusd build/bench/venus_bench build/bench/transport_floor build/bench/feedback_poll .gpu/
cp build/bench/ctx_hold .gpu/ # for bench/contexts.sh (bench/README.md: cost per context)
cp build/bench/libvd_hide_extensions.so .gpu/ # llama variant native-venuslike
# VENUSD_PREV=path/to/another/venusd: gpu-device.sh also measures it, alternating with this
# build in the same run (a before/after figure for a change)
if [ -n "${VENUSD_PREV:-}" ]; then
  cp "$VENUSD_PREV" .gpu/venusd-prev
fi
for a in vk_fill vk_buffer_ops vk_compute_smoke vk_push_indexing vk_image_smoke vk_image_formats \
  vk_triangle_smoke vk_scene vk_secondary vk_queries vk_threads_smoke vk_timeline_threads \
  vk_sync_objects vk_advanced vk_modifiers vk_mesh vk_ray_query vk_ray_pipeline vk_memory_types; do
  cp "build/tests/apps/$a" .gpu/apps/
done
# the guest-visible checks of the Vulkan 1.3 / swapchain emulation: vulkaninfo (Debian's) and
# the raw-protocol SYNC_FD client, which on a GPU with real SYNC_FD take the host's path
cp /usr/bin/vulkaninfo build/tests/integration/vtest_bad_client .gpu/
# deps LIB: the libraries LIB loads beyond glibc's own (which every machine has)
deps() { ldd "$1" | awk '$3 ~ /^\// {print $3}' | grep -v -E '/lib(c|m|pthread|gcc_s|dl|rt)\.so'; }
virtio=/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so
for l in $(deps "$virtio"); do
  cp -L "$l" .gpu/lib/
done
cp -L "$virtio" /usr/lib/x86_64-linux-gnu/libvulkan.so.1 .gpu/lib/
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "./libvulkan_virtio.so", "api_version": "1.3.305" } }\n' \
  >.gpu/lib/virtio_icd.json
# LLAMA=1: llama.cpp's llama-bench too (bench/llama/setup.sh's packages, about 16 MB; the
# model is made there, its weights are random)
if [ "${LLAMA:-0}" = 1 ]; then
  lh=${VENUSD_LLAMA_HOME:-/var/cache/venusd-llama}
  bash bench/llama/setup.sh >/dev/null
  mkdir -p .gpu/llama/debs
  cp bench/llama/setup.sh bench/llama/llama-run.sh bench/llama/run.sh bench/llama/make_model.py .gpu/llama/
  cp "$lh"/debs/*.deb .gpu/llama/debs/
fi
# MESA26=1: a Mesa 26 guest driver too (bench/mesa26-client.sh, about 6 MB): gpu-device.sh
# then also runs the apps and benchmarks through it ("venus26" lines, llama VARIANTS venus26*)
if [ "${MESA26:-0}" = 1 ]; then
  mh=${VENUSD_MESA26_HOME:-/var/cache/venusd-mesa26}
  bash bench/mesa26-client.sh setup >/dev/null
  mkdir -p .gpu/mesa26 && cp -a "$mh/client" .gpu/mesa26/ && cp bench/mesa26-client.sh .gpu/
fi
cp bench/gpu-device.sh bench/gpu-sweep.sh .gpu/
# LAVAPIPE=1: .lvp/ (git-ignored, carried on its own: it is too large to travel with .gpu/)
# for bench/gpu-lavapipe.sh, llama-bench on this machine's lavapipe (Debian 12's Mesa 25.0.7
# and LLVM 15, whose libraries are packed with xz) on the GPU machine's many CPU cores:
# natively, through venusd with Mesa 25.0.7's Venus driver and with Mesa 26's (MESA26=1).
if [ "${LAVAPIPE:-0}" = 1 ]; then
  [ -d .gpu/llama ] || { echo "gpu-prepare.sh: LAVAPIPE=1 needs LLAMA=1" >&2; exit 1; }
  rm -rf .lvp && mkdir -p .lvp/pack/lvp
  lvp=/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so
  for l in $(deps "$lvp"); do
    [ -f ".gpu/lib/$(basename "$l")" ] || cp -L "$l" .lvp/pack/lvp/
  done
  cp -L "$lvp" .lvp/pack/lvp/
  # the guest drivers go into the archive too: uncompressed, all of it would not travel
  cp -a .gpu/lib .lvp/pack/
  [ -d .gpu/mesa26 ] && cp -a .gpu/mesa26 .lvp/pack/
  tar -C .lvp/pack -cf - . | xz -T0 -9 >.lvp/lvp.tar.xz
  rm -rf .lvp/pack
  # the rest of what the run needs, from .gpu/ (venusd without its debug sections)
  cp -a .gpu/llama .gpu/libvd_hide_extensions.so bench/gpu-lavapipe.sh .lvp/
  strip --strip-debug -o .lvp/venusd .gpu/venusd
  [ -d .gpu/mesa26 ] && cp .gpu/mesa26-client.sh .lvp/
  grep -qs '^/.lvp/$' .git/info/exclude || echo /.lvp/ >>.git/info/exclude
  du -sh .lvp
fi
grep -qs '^/.gpu/$' .git/info/exclude || { mkdir -p .git/info; echo /.gpu/ >>.git/info/exclude; }
du -sh .gpu
