#!/usr/bin/env bash
# Our self-checking Vulkan programs (tests/apps/) run natively and
# through venusd, with the host-pointer memory backend at the driver's alignment and at
# 16 KiB (Apple Silicon's), with each of Mesa's VN_PERF switches that turn off a feedback
# or async path, and with venusd's own host instance under the Khronos validation layer.
# After every client venusd's fds and threads return to idle, and no shared-memory files
# are left behind.
. "$(dirname "$0")/lib.sh"
test_init apps

BUILD=$(dirname "$VENUSD")
APPS="vk_fill vk_buffer_ops vk_compute_smoke vk_push_indexing vk_image_smoke vk_image_formats
  vk_triangle_smoke vk_scene vk_secondary vk_queries vk_threads_smoke vk_timeline_threads
  vk_sync_objects vk_advanced vk_memory_types"
# Apps of the newest protocol's extensions: a Mesa 25.0.7 client (the host's, or
# VENUS_CLIENT=trixie) is not offered them and must print "SKIP ..." (not_offered); a Mesa
# 26 client must print what the app prints natively.
NEWEST_APPS="vk_ray_query vk_ray_pipeline"
# APPS_ONLY="A B": only these of both lists (a quick run of a few apps)
if [ -n "${APPS_ONLY:-}" ]; then
  APPS=$(for a in $APPS; do [[ " $APPS_ONLY " == *" $a "* ]] && printf '%s ' "$a"; done)
  NEWEST_APPS=$(for a in $NEWEST_APPS; do [[ " $APPS_ONLY " == *" $a "* ]] && printf '%s ' "$a"; done)
fi
for app in $APPS $NEWEST_APPS vk_alloc_limits vk_modifiers vk_mesh; do
  if [ ! -x "$BUILD/tests/apps/$app" ]; then
    fail "apps/build" "$BUILD/tests/apps/$app missing (glslang-tools and libvulkan-dev are installed by scripts/setup-deps.sh)"
    test_finish
  fi
done

shm_files() { find /dev/shm -maxdepth 1 -name 'venusd-*' 2>/dev/null | wc -l; }

# run_apps LABEL [VN_PERF] — each app through the running venusd; output must match native.
run_apps() {
  local label=$1 perf=${2:-} app out
  for app in $APPS $NEWEST_APPS; do
    out=$TEST_TMP/$(printf %s "$label-$app" | tr "/=" "__")
    native_client "$BUILD/tests/apps/$app" >"$out.native" 2>&1
    if [[ " $NEWEST_APPS " == *" $app "* ]] && [[ "${VENUS_CLIENT:-trixie}" == trixie ]]; then
      if VN_PERF=$perf venus_client "$BUILD/tests/apps/$app" >"$out.venus" 2>&1 &&
        grep -q '^SKIP ' "$out.venus" && ! grep -q '^SKIP ' "$out.native"; then
        pass "apps/$label/${app}_not_offered"
      else
        fail "apps/$label/${app}_not_offered" "a Mesa 25.0.7 client: $(tail -n 1 "$out.venus")"
      fi
      continue
    fi
    if VN_PERF=$perf venus_client "$BUILD/tests/apps/$app" >"$out.venus" 2>&1 &&
      diff -q "$out.native" "$out.venus" >/dev/null; then
      pass "apps/$label/$app"
    else
      fail "apps/$label/$app" "output differs from native or the client failed: $(tail -n 1 "$out.venus")"
      show_file "$VD_LOGFILE" 10
    fi
  done
  run_mesh "$label" "$perf"
}

# run_mesh LABEL [VN_PERF] — tests/apps/vk_mesh (VK_EXT_mesh_shader: task and mesh shaders,
# direct, indirect and indirect-count mesh draws).  The extension is in the newest Venus
# protocol only: a Mesa 26 client (VENUS_CLIENT=backports, sid) must draw what the program
# draws natively; a Mesa 25.0.7 one (the host's, or VENUS_CLIENT=trixie) is not offered it.
run_mesh() {
  local label=$1 perf=${2:-} out
  out=$TEST_TMP/$(printf %s "$label-vk_mesh" | tr "/=" "__")
  VN_PERF=$perf venus_client "$BUILD/tests/apps/vk_mesh" >"$out.venus" 2>&1
  case ${VENUS_CLIENT:-host} in
  host | trixie)
    if grep -q '^SKIP no VK_EXT_mesh_shader' "$out.venus"; then
      pass "apps/$label/vk_mesh_not_offered_to_mesa25"
    else
      fail "apps/$label/vk_mesh_not_offered_to_mesa25" "a Mesa 25.0.7 guest must not see VK_EXT_mesh_shader: $(tail -n 1 "$out.venus")"
    fi
    ;;
  *)
    native_client "$BUILD/tests/apps/vk_mesh" >"$out.native" 2>&1
    if grep -q '^OK mesh' "$out.venus" && diff -q "$out.native" "$out.venus" >/dev/null; then
      pass "apps/$label/vk_mesh"
    else
      fail "apps/$label/vk_mesh" "output differs from native or the client failed: $(tail -n 1 "$out.venus")"
      show_file "$VD_LOGFILE" 10
    fi
    ;;
  esac
}

# idle_check LABEL FDS THREADS — venusd's counts return to the idle values (threads: up to
# THREAD_SLACK more, TSan's background thread starting lazily).
idle_check() {
  local label=$1 fds=$2 threads=$3 i max=$(($3 + ${THREAD_SLACK:-0}))
  for i in $(seq 20); do
    [ "$(count_fds "$VD_PID")" = "$fds" ] && [ "$(count_threads "$VD_PID")" -le "$max" ] && break
    sleep 0.1
  done
  if [ "$(count_fds "$VD_PID")" = "$fds" ] && [ "$(count_threads "$VD_PID")" -le "$max" ]; then
    pass "apps/$label/no_leaks"
  else
    fail "apps/$label/no_leaks" "fds $(count_fds "$VD_PID") (idle $fds), threads $(count_threads "$VD_PID") (idle $threads)"
  fi
}

# expect_fatal NAME MODE COMMAND LOGLINE — vk_alloc_limits MODE through the running venusd
# must never print OK, and venusd's log must hold LOGLINE (COMMAND: what to show if not).
expect_fatal() {
  local name=$1 mode=$2 cmd=$3 line=$4 out=$TEST_TMP/${1//\//_}.venus
  CLIENT_TIMEOUT=20 venus_client_to_fatal "$(log_line_count "$VD_LOGFILE")" \
    "$BUILD/tests/apps/${FATAL_APP:-vk_alloc_limits}" "$mode" >"$out" 2>&1
  if grep -qF "$line" "$VD_LOGFILE" && ! grep -q '^OK' "$out"; then
    pass "apps/$name"
  else
    fail "apps/$name" "client: $(tail -n 1 "$out"); venusd: $(grep -m1 "$cmd" "$VD_LOGFILE")"
  fi
}

# cpu_ticks PID — user+system clock ticks of every thread of PID so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

shm_before=$(shm_files)

# An idle client costs no CPU: ring threads sleep after their idle timeout and timed waits
# really wait.  4 s of idling may use at most 10 % of one core (40 ticks at 100 Hz).
if start_venusd_or_fail "apps/idle/start" --worker thread; then
  ( venus_client "$BUILD/tests/apps/vk_idle" 6 >"$TEST_TMP/idle.out" 2>&1 ) &
  idle_client=$!
  for _ in $(seq 50); do grep -q '^idle' "$TEST_TMP/idle.out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  t0=$(cpu_ticks "$VD_PID")
  sleep 4
  t1=$(cpu_ticks "$VD_PID")
  wait "$idle_client"
  used=$((t1 - t0))
  if grep -q '^OK idle' "$TEST_TMP/idle.out" && [ "$used" -le 40 ]; then
    pass "apps/idle/no_busy_waiting"
  else
    fail "apps/idle/no_busy_waiting" "venusd used $used ticks in 4 s of client idling (max 40); client: $(tail -n 1 "$TEST_TMP/idle.out")"
  fi
  # A client killed while it waits on a fence nothing will signal (Mesa polls the fence's
  # status through venusd) is cleaned up at once: venusd returns to idle.  (A guest that
  # sends a blocking host wait instead is covered by venusd's sliced waits, which give up
  # when the ring stops; Mesa itself never sends one that could block.)
  # The baseline once the first client's context is gone (slow under sanitizers): else it
  # counts that context's fds and threads, and the check below finds fewer than "idle".
  for _ in $(seq 100); do
    grep -q "(vk_idle) destroyed" "$VD_LOGFILE" 2>/dev/null && break
    sleep 0.1
  done
  idle_fds=$(count_fds "$VD_PID"); idle_threads=$(count_threads "$VD_PID")
  ( VN_PERF=no_fence_feedback venus_client "$BUILD/tests/apps/vk_idle" --wait-forever >"$TEST_TMP/wait.out" 2>&1 ) &
  wait_client=$!
  for _ in $(seq 50); do grep -q '^waiting' "$TEST_TMP/wait.out" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  pkill -KILL -f "$BUILD/tests/apps/vk_idle --wait-forever"
  wait "$wait_client" 2>/dev/null
  for _ in $(seq 30); do
    [ "$(count_fds "$VD_PID")" = "$idle_fds" ] && [ "$(count_threads "$VD_PID")" = "$idle_threads" ] && break
    sleep 0.1
  done
  if grep -q '^waiting' "$TEST_TMP/wait.out" && [ "$(count_fds "$VD_PID")" = "$idle_fds" ] &&
    [ "$(count_threads "$VD_PID")" = "$idle_threads" ]; then
    pass "apps/idle/killed_while_host_waits"
  else
    fail "apps/idle/killed_while_host_waits" "after 3 s: fds $(count_fds "$VD_PID") (idle $idle_fds), threads $(count_threads "$VD_PID") (idle $idle_threads); client: $(tail -n 1 "$TEST_TMP/wait.out")"
  fi
  stop_venusd "apps/idle/clean_exit"
fi
# APPS_SHORT=1 (the TSan pass, tests/integration/meson.build): only the idle checks above and
# the host-pointer run below (every app, the allocation limit and the fatal binds), without
# its VN_PERF runs, the other modes, emulation, export and validation.  APPS_PERF (the ASan
# pass: a few) lists the guest's VN_PERF switches to run the apps with (default: all ten);
# APPS_VALIDATE=0 (the ASan pass) leaves out the run under the validation layer.
for mode in "host-pointer:--memory host-pointer" "align16k:--memory host-pointer --host-pointer-alignment 16384"; do
  label=${mode%%:*}
  [ -n "${APPS_SHORT:-}" ] && [ "$label" != host-pointer ] && continue
  # shellcheck disable=SC2086 # the options are words
  start_venusd_or_fail "apps/$label/start" --worker thread ${mode#*:} || continue
  idle_fds=$(count_fds "$VD_PID")
  idle_threads=$(count_threads "$VD_PID")
  run_apps "$label"
  idle_check "$label" "$idle_fds" "$idle_threads"
  # An allocation beyond the heap is refused with an error the guest sees (synchronous
  # allocation: Mesa's async path cannot report it), and the context carries on.
  out=$TEST_TMP/$label-alloc_limits.venus
  if VN_PERF=no_async_mem_alloc venus_client "$BUILD/tests/apps/vk_alloc_limits" --expect-oom >"$out" 2>&1 &&
    grep -q '^OK alloc_limits' "$out"; then
    pass "apps/$label/alloc_beyond_heap_is_an_error"
  else
    fail "apps/$label/alloc_beyond_heap_is_an_error" "$(tail -n 1 "$out")"
  fi
  # A bind outside its allocation, or a transfer command whose range leaves its buffer,
  # never reaches the driver: the context goes fatal with a log line naming the sizes, and
  # venusd serves the next client.
  expect_fatal "$label/bind_outside_allocation_is_fatal" --bad-bind vkBindBufferMemory \
    "4096 bytes at offset 1048576 do not fit the 65536-byte allocation"
  expect_fatal "$label/fill_outside_buffer_is_fatal" --bad-fill vkCmdFillBuffer \
    "vkCmdFillBuffer: dstBuffer: 1048576 bytes at offset 0 do not fit the 4096-byte buffer"
  # Image regions, queries, subresources, descriptors and the protocol audit's other
  # classes (tests/apps/vk_bad_ranges.c, vk_bad_audit.c) are fatal likewise, in both
  # worker modes: tests/integration/test_guest_ranges.sh.
  if [ "$label" = host-pointer ] && [ -z "${APPS_SHORT:-}" ]; then
    # shellcheck disable=SC2086 # the list is words
    for perf in ${APPS_PERF:-no_fence_feedback no_semaphore_feedback no_event_feedback \
      no_query_feedback no_async_queue_submit no_async_mem_alloc no_async_buffer_create \
      no_async_set_alloc no_cmd_batching no_multi_ring}; do
      run_apps "$label/VN_PERF=$perf" "$perf"
    done
    idle_check "$label/VN_PERF" "$idle_fds" "$idle_threads"
  fi
  stop_venusd "apps/$label/clean_exit"
done

# What a guest WSI does with a shared image (tests/apps/vk_modifiers.c): DRM format
# modifiers (LINEAR), dma-buf memory and the foreign queue family, which venusd lists for
# every guest and emulates where the host lacks them.  lavapipe has no modifiers, so the
# program checks its own results (natively it skips).  With --emulate all, venusd also
# emulates what lavapipe does have (SYNC_FD never; the foreign queue family, dma-bufs),
# and the whole app set must still match native.
run_modifiers() {
  local label=$1 out=$TEST_TMP/$1-vk_modifiers.venus
  if venus_client "$BUILD/tests/apps/vk_modifiers" >"$out" 2>&1 && grep -q '^OK modifiers' "$out"; then
    pass "apps/$label/modifiers_dma_buf_foreign"
  else
    fail "apps/$label/modifiers_dma_buf_foreign" "$(tail -n 1 "$out")"
  fi
}
for mode in "emulate-none:" "emulate-all:--emulate all"; do
  label=${mode%%:*}
  [ -n "${APPS_SHORT:-}" ] && continue
  # shellcheck disable=SC2086 # the options are words
  start_venusd_or_fail "apps/$label/start" --worker thread ${mode#*:} || continue
  run_modifiers "$label"
  if [ "$label" = emulate-all ]; then
    run_apps "$label"
    if grep -q "emulating the foreign queue family (forced by --emulate)" "$VD_LOGFILE"; then
      pass "apps/$label/emulation_logged"
    else
      fail "apps/$label/emulation_logged" "no log line 'emulating the foreign queue family (forced by --emulate)'"
    fi
  else
    # what lavapipe lacks is emulated, and said once per context at info level
    n=$(grep -c "emulating DRM format modifiers (the host driver lacks it)" "$VD_LOGFILE")
    if [ "$n" = 1 ]; then
      pass "apps/$label/emulation_logged_once"
    else
      fail "apps/$label/emulation_logged_once" "$n log lines 'emulating DRM format modifiers (the host driver lacks it)', want 1"
    fi
  fi
  # Modifiers or plane layouts the guest was never offered never reach the driver.
  FATAL_APP=vk_modifiers expect_fatal "$label/modifier_never_offered_is_fatal" --bad-modifier vkCreateImage \
    "drmFormatModifier 0xffffffffffffff was never offered (only DRM_FORMAT_MOD_LINEAR is)"
  FATAL_APP=vk_modifiers expect_fatal "$label/overflowing_plane_layout_is_fatal" --bad-plane-layout vkCreateImage \
    "pPlaneLayouts[0]: offset 18446744073709551599, size 4096, rowPitch 256 do not describe a plane"
  stop_venusd "apps/$label/clean_exit"
done

# --memory export: where the driver can export (lavapipe with /dev/udmabuf) the apps work
# as with host pointers; where it cannot (these machines), venusd says so once, naming
# the fix, and only that client fails.
if [ -z "${APPS_SHORT:-}" ] && start_venusd_or_fail "apps/export/start" --worker thread --memory export; then
  out=$TEST_TMP/export-vk_fill
  native_client "$BUILD/tests/apps/vk_fill" >"$out.native" 2>&1
  venus_client "$BUILD/tests/apps/vk_fill" >"$out.venus" 2>&1
  if [ -e /dev/udmabuf ]; then
    if diff -q "$out.native" "$out.venus" >/dev/null; then
      pass "apps/export/vk_fill"
    else
      fail "apps/export/vk_fill" "output differs from native: $(tail -n 1 "$out.venus")"
    fi
  elif grep -q "cannot allocate exportable .* use --memory host-pointer" "$VD_LOGFILE"; then
    pass "apps/export/unusable_export_explained"
  else
    fail "apps/export/unusable_export_explained" "no log line naming --memory host-pointer: $(grep -m1 -E 'ERROR|WARN' "$VD_LOGFILE")"
  fi
  stop_venusd "apps/export/clean_exit"
fi

# The Khronos validation layer on venusd's own host instance: no validation errors that
# venusd causes.  (Debian 12's layer is 1.3.239 and does not know structs of newer
# extensions that the guest legitimately chains, e.g. VK_KHR_maintenance5's; those
# "unknown VkStructureType" reports are about the layer's age, not venusd.  Nor does it know
# VK_EXT_pipeline_library_group_handles (vk.xml 1.3.246), whose feature makes
# vkGetRayTracingShaderGroupHandlesKHR valid on a pipeline library (vk_ray_pipeline's library
# pass, Mesa 26 clients): its VUID-...-pipeline-03482 report is the layer's age too.)
LAYER_AGE_RE="unknown VkStructureType|VUID-vkGetRayTracingShaderGroupHandlesKHR-pipeline-03482"
if [ -n "${APPS_SHORT:-}" ] || [ "${APPS_VALIDATE:-1}" = 0 ]; then
  : # APPS_SHORT, APPS_VALIDATE=0: no validation run
elif [ -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ]; then
  if start_venusd_or_fail "apps/validate/start" --worker thread --validate; then
    run_apps validate
    stop_venusd "apps/validate/clean_exit"
    errors=$(grep "Validation Error" "$VD_LOGFILE" | grep -Ev "$LAYER_AGE_RE" | grep -c .)
    if [ "$errors" = 0 ]; then
      pass "apps/validate/no_errors"
    else
      fail "apps/validate/no_errors" "$errors validation errors, first: $(grep "Validation Error" "$VD_LOGFILE" | grep -Ev "$LAYER_AGE_RE" | head -n 1 | cut -c1-300)"
    fi
  fi
else
  fail "apps/validate/layer" "VK_LAYER_KHRONOS_validation not installed (vulkan-validationlayers)"
fi

if [ "$(shm_files)" = "$shm_before" ]; then
  pass "apps/no_shm_files_left"
else
  fail "apps/no_shm_files_left" "$(shm_files) venusd-* files in /dev/shm (before: $shm_before)"
fi
test_finish
