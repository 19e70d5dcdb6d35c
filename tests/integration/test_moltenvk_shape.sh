#!/usr/bin/env bash
# venusd on a MoltenVK-shaped host: tests/layers' VK_LAYER_VENUSD_moltenvk_shape makes
# lavapipe look like MoltenVK on an Apple M1 (devices only with portability enumeration,
# VK_KHR_portability_subset required, 16 KiB host-pointer imports, no fd-based external
# handles, dma-bufs or modifiers, the M1's missing features, limits and formats).
#   layer/*:    the layer itself, natively (tests/layers/mvk_layer_check), and that the same
#               checks fail on plain lavapipe;
#   venusd/*:   venusd on the layer: it enables portability enumeration and the subset, the
#               guest never sees the subset, sees the missing features off, and still gets
#               Vulkan 1.3 and the swapchain's extensions (emulated, as on plain lavapipe);
#   apps/*:     tests/apps through venusd on the layer give the output they give natively on
#               the layer (where a feature is missing both print the same SKIP line), and
#               the WSI program (vk_modifiers) works;
#   render_server/*: the render server on the layer, driven by rs_bad_client;
#   real_apps/*: tests/integration/test_real_apps.sh with venusd on the layer (its native
#               references are plain lavapipe: Debian's ffmpeg 5.1 does not ask for
#               portability drivers).
# The host-pointer alignment is the layer's 16384 bytes throughout (the driver's minimum).
. "$(dirname "$0")/lib.sh"
test_init moltenvk_shape

BUILD=$(dirname "$VENUSD")
LAYER_DIR=$BUILD/tests/layers
CHECK=$LAYER_DIR/mvk_layer_check
HOST_LAYER=VK_LAYER_VENUSD_moltenvk_shape
HOST_LAYER_PATH=$LAYER_DIR
# Mesa's device-select layer (implicit, Linux only) crashes when the driver under it lists
# no device, as ours does without portability enumeration; a macOS host has no such layer.
HOST_LAYER_ENV=NODEVICE_SELECT=1
export HOST_LAYER HOST_LAYER_PATH HOST_LAYER_ENV
APPS="vk_fill vk_buffer_ops vk_compute_smoke vk_push_indexing vk_image_smoke vk_image_formats
  vk_triangle_smoke vk_scene vk_secondary vk_queries vk_threads_smoke vk_timeline_threads
  vk_sync_objects vk_advanced"
for f in "$LAYER_DIR/libVkLayer_venusd_moltenvk_shape.so" \
  "$LAYER_DIR/VkLayer_venusd_moltenvk_shape.json" "$CHECK" "$BUILD/tests/apps/vk_fill"; do
  if [ ! -e "$f" ]; then
    fail "moltenvk_shape/build" "$f missing (ninja -C $BUILD builds tests/layers and tests/apps)"
    test_finish
  fi
done

# layer_client CMD... — CMD natively on lavapipe under the MoltenVK-shaped layer.
layer_client() {
  native_client env VK_ADD_LAYER_PATH="$HOST_LAYER_PATH" VK_INSTANCE_LAYERS="$HOST_LAYER" \
    NODEVICE_SELECT=1 "$@"
}

# ---- the layer itself ----------------------------------------------------------------
layer_client "$CHECK" >"$TEST_TMP/check.layer" 2>"$TEST_TMP/check.layer.err"
for c in no_devices_without_portability devices_with_portability portability_subset_listed \
  no_fd_extensions external_memory_host_listed features_off portability_subset_features \
  features_off_1_0 host_pointer_alignment_16k m1_limits no_sparse_queue external_handles \
  no_d24s8 device_needs_portability_subset device_refuses_geometry_shader \
  device_refuses_draw_indirect_count host_pointer_4k_refused host_pointer_16k_accepted; do
  if grep -qx "OK $c" "$TEST_TMP/check.layer"; then
    pass "moltenvk_shape/layer/$c"
  else
    fail "moltenvk_shape/layer/$c" "mvk_layer_check: $(grep -m1 '^FAIL' "$TEST_TMP/check.layer" ||
      tail -n 1 "$TEST_TMP/check.layer.err")"
  fi
done
# The checks tell the shapes apart: plain lavapipe lists its device to any instance.
native_client "$CHECK" >"$TEST_TMP/check.plain" 2>&1
if grep -q '^FAIL no_devices_without_portability' "$TEST_TMP/check.plain"; then
  pass "moltenvk_shape/layer/checks_fail_on_plain_lavapipe"
else
  fail "moltenvk_shape/layer/checks_fail_on_plain_lavapipe" "$(tail -n 1 "$TEST_TMP/check.plain")"
fi

# ---- venusd on the layer: what the guest sees ----------------------------------------
GUEST_EXTS="VK_KHR_swapchain VK_KHR_synchronization2 VK_KHR_external_memory_fd
  VK_EXT_external_memory_dma_buf VK_EXT_image_drm_format_modifier VK_EXT_queue_family_foreign"
# What the layer hides and lavapipe has (tests/layers/moltenvk_shape.c, hidden_extensions)
# and the protocol carries: the guest must lose exactly those.
HIDDEN_EXTS=" VK_KHR_draw_indirect_count VK_KHR_shader_atomic_int64 VK_EXT_sampler_filter_minmax "
# extensions FILE — the device extensions a vulkaninfo report lists, one a line, sorted.
extensions() {
  sed -n 's/^[[:space:]]*\(VK_[A-Za-z0-9_]*\) *: extension revision.*/\1/p' "$1" | sort -u
}
# vulkaninfo through plain lavapipe first: the extensions the guest's swapchain needs.
if HOST_LAYER='' start_venusd_or_fail "moltenvk_shape/venusd/plain_start" --worker thread; then
  venus_client vulkaninfo >"$TEST_TMP/vulkaninfo.plain" 2>&1
  stop_venusd "moltenvk_shape/venusd/plain_clean_exit"
fi
if start_venusd_or_fail "moltenvk_shape/venusd/start" --worker thread; then
  pass "moltenvk_shape/venusd/driver_check_finds_the_device"
  vi=$TEST_TMP/vulkaninfo.layer
  venus_client vulkaninfo >"$vi" 2>&1
  if grep -Eq 'apiVersion += 1\.3\.' "$vi" && grep -Eq "$VENUS_DEVICE_RE" "$vi"; then
    pass "moltenvk_shape/venusd/vulkan_1_3"
  else
    fail "moltenvk_shape/venusd/vulkan_1_3" "$(grep -m1 apiVersion "$vi" || tail -n 1 "$vi")"
  fi
  missing=
  for e in $GUEST_EXTS; do
    grep -q "^[[:space:]]*$e " "$vi" || missing="$missing $e"
    grep -q "^[[:space:]]*$e " "$TEST_TMP/vulkaninfo.plain" || missing="$missing $e(plain)"
  done
  if [ -z "$missing" ]; then
    pass "moltenvk_shape/venusd/swapchain_extensions_as_on_plain_lavapipe"
  else
    fail "moltenvk_shape/venusd/swapchain_extensions_as_on_plain_lavapipe" "missing:$missing"
  fi
  lost=$(comm -23 <(extensions "$TEST_TMP/vulkaninfo.plain") <(extensions "$vi") | tr '\n' ' ')
  gained=$(comm -13 <(extensions "$TEST_TMP/vulkaninfo.plain") <(extensions "$vi") | tr '\n' ' ')
  unexpected=
  for e in $lost; do
    [ "${HIDDEN_EXTS#* "$e" }" != "$HIDDEN_EXTS" ] || unexpected="$unexpected $e"
  done
  if [ -z "$gained$unexpected" ] && [ -n "$lost" ]; then
    pass "moltenvk_shape/venusd/guest_loses_what_the_host_lacks"
    note "hidden from the guest on the layer: $lost"
  else
    fail "moltenvk_shape/venusd/guest_loses_what_the_host_lacks" \
      "lost: ${lost:-nothing} (unexpected:${unexpected:- none}); gained: ${gained:-nothing}"
  fi
  if grep -q 'VK_KHR_portability_subset' "$vi"; then
    fail "moltenvk_shape/venusd/portability_subset_hidden" \
      "the guest sees VK_KHR_portability_subset"
  else
    pass "moltenvk_shape/venusd/portability_subset_hidden"
  fi
  features='geometryShader|logicOp|pipelineStatisticsQuery|wideLines|drawIndirectCount'
  off=$(grep -E "^[[:space:]]*($features) += true" "$vi")
  if [ -z "$off" ] && grep -Eq '^[[:space:]]*geometryShader += false' "$vi"; then
    pass "moltenvk_shape/venusd/missing_features_off"
  else
    fail "moltenvk_shape/venusd/missing_features_off" "${off:-no geometryShader line}"
  fi
  if grep -Eq '^[[:space:]]*maxSamplerLodBias += 0$' "$vi"; then
    pass "moltenvk_shape/venusd/no_lod_bias_without_samplerMipLodBias"
  else
    fail "moltenvk_shape/venusd/no_lod_bias_without_samplerMipLodBias" \
      "$(grep -m1 maxSamplerLodBias "$vi")"
  fi
  check "moltenvk_shape/venusd/subset_logged" grep -q "is a portability-subset driver" "$VD_LOGFILE"
  check "moltenvk_shape/venusd/host_pointers_at_16k" \
    grep -q "host-pointer.*alignment 16384 bytes" "$VD_LOGFILE"

  # ---- the app suite through venusd on the layer --------------------------------------
  wait_stable_counts "$VD_PID"
  idle_fds=$IDLE_FDS idle_threads=$IDLE_THREADS
  for app in $APPS; do
    out=$TEST_TMP/$app
    layer_client "$BUILD/tests/apps/$app" >"$out.native" 2>&1
    if venus_client "$BUILD/tests/apps/$app" >"$out.venus" 2>&1 &&
      diff -q "$out.native" "$out.venus" >/dev/null; then
      pass "moltenvk_shape/apps/$app"
    else
      fail "moltenvk_shape/apps/$app" \
        "output differs from native on the layer or the client failed: $(tail -n 1 "$out.venus")"
      show_file "$VD_LOGFILE" 10
    fi
  done
  # What the M1 lacks is skipped with a reason, the same natively and through venusd.
  if grep -q '^SKIP round1 pipeline statistics: the device has no pipelineStatisticsQuery' \
    "$TEST_TMP/vk_queries.venus"; then
    pass "moltenvk_shape/apps/missing_feature_skipped_with_reason"
  else
    fail "moltenvk_shape/apps/missing_feature_skipped_with_reason" \
      "no SKIP line for pipeline statistics in vk_queries' output"
  fi
  out=$TEST_TMP/vk_modifiers.venus
  if venus_client "$BUILD/tests/apps/vk_modifiers" >"$out" 2>&1 &&
    grep -q '^OK modifiers' "$out"; then
    pass "moltenvk_shape/apps/modifiers_dma_buf_foreign_emulated"
  else
    fail "moltenvk_shape/apps/modifiers_dma_buf_foreign_emulated" "$(tail -n 1 "$out")"
  fi
  if wait_for_counts "$VD_PID" "$idle_fds" "$idle_threads"; then
    pass "moltenvk_shape/apps/no_leaks"
  else
    fail "moltenvk_shape/apps/no_leaks" \
      "fds $CUR_FDS (idle $idle_fds), threads $CUR_THREADS (idle $idle_threads)"
  fi
  stop_venusd "moltenvk_shape/venusd/clean_exit"
fi

# ---- the render server on the layer ---------------------------------------------------
# rs_bad_client plays libvirglrenderer's proxy (test_render_server_protocol.sh): venusd's
# start-up driver check must find the device through portability enumeration, and a
# context is created, initialised and served as on plain lavapipe.  Its malformed-request
# checks are test_render_server_protocol.sh's (they are not about the host driver).
RS_CHECKS=" client_init create_and_init_context server_still_creates_contexts"
RS_CHECKS+=" exits_0_when_proxy_closes "
RS_CLIENT=$BUILD/tests/integration/rs_bad_client
rs_log=$TEST_TMP/render_server.log
RS_NAME_PREFIX="moltenvk_shape/render_server/" VENUSD_LOG=info CLIENT_TIMEOUT=120 \
  native_client env VK_ADD_LAYER_PATH="$HOST_LAYER_PATH" VK_INSTANCE_LAYERS="$HOST_LAYER" \
  NODEVICE_SELECT=1 "$RS_CLIENT" "$VENUSD" --worker thread >"$TEST_TMP/render_server.out" \
  2>"$rs_log"
rc=$?
while read -r verdict name rest; do
  name=${name%:}
  [ "${RS_CHECKS#* "${name##*/}" }" != "$RS_CHECKS" ] || continue
  case $verdict in
  PASS) pass "$name" ;;
  FAIL) fail "$name" "$rest" ;;
  esac
done <"$TEST_TMP/render_server.out"
[ "$rc" = 0 ] || [ "$rc" = 1 ] ||
  fail "moltenvk_shape/render_server/client" "rs_bad_client exited $rc"
check "moltenvk_shape/render_server/driver_check_finds_the_device" \
  grep -q "host Vulkan device 0: llvmpipe" "$rs_log"
if report=$(sanitizer_report "$rs_log"); then
  fail "moltenvk_shape/render_server/no_sanitizer_reports" "$report"
else
  pass "moltenvk_shape/render_server/no_sanitizer_reports"
fi

# ---- the real apps through venusd on the layer ---------------------------------------
# test_real_apps.sh's own results, renamed moltenvk_shape/real_apps/...
sub=$TEST_TMP/real_apps
mkdir -p "$sub"
TEST_TMP=$sub TEST_PREFIX='' bash "$LIB_DIR/test_real_apps.sh" >"$sub/output.txt" 2>&1
rc=$?
cat "$sub/venusd.pids" >>"$TEST_TMP/venusd.pids" 2>/dev/null
n=0
while IFS= read -r line; do
  name=${line#* }
  case $line in
  "PASS "*) pass "moltenvk_shape/$name" ;;
  "FAIL "*) fail "moltenvk_shape/${name%%: *}" "${name#*: }" ;;
  "SKIP "*) skip "moltenvk_shape/${name%%: *}" "${name#*: }" ;;
  *) printf '    %s\n' "$line" && continue ;;
  esac
  n=$((n + 1))
done <"$sub/output.txt"
if [ "$n" = 0 ] || { [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$sub/output.txt"; }; then
  fail "moltenvk_shape/real_apps" \
    "test_real_apps.sh exited $rc with $n results (see $sub/output.txt)"
fi
test_finish
