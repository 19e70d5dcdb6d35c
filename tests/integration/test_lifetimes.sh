#!/usr/bin/env bash
# test_lifetimes.sh — object lifetimes, parent devices and binding ranges
# (docs/design.md, "Lifetimes" and "Ranges the driver trusts"), through the real Mesa
# Venus driver with tests/apps/vk_lifetimes.c, in each worker mode (process, thread;
# WORKER_MODES picks, lib.sh):
#   batch  2048 descriptor sets of 2048 layouts from one vkAllocateDescriptorSets and 2048
#       writes in one vkUpdateDescriptorSets (vk_lifetimes --batch): the sets hold their own
#       layout and buffer (destroyed before the submission, which computes right), and in
#       thread mode venusd's peak RSS grows by less than 64 MiB for it (each set held every
#       object its command named before: 2 x 2048^2 holds, ~256 MiB and more)
#   hold_recorded, hold_submitted  objects a recorded command buffer, a descriptor set or a
#       pending submission uses are destroyed (pipeline, layouts, module, descriptor pool,
#       buffers, a 40 MiB allocation; after vkQueueSubmit also the command buffer and its
#       pool): the work still computes and copies the right values (the app checks them),
#       nothing is logged as an error, and venusd is alive
#   freed_set, reset_pool, freed_secondary  submitting a command buffer whose descriptor
#       set was freed / whose set's pool was reset / whose secondary was freed is fatal,
#       with a log line naming the command buffer and the freed object
#   cross_device_{copy,bind,write,submit}  an object of one device named by a command for
#       another is fatal, with a log line naming the field and both devices
#   bad_{vertex_offset,vertex_size,index_offset}  vertex and index buffer bindings outside
#       their buffer are fatal, naming the field and the sizes
#   bad_{viewport,push_constants}  a viewport index or push constant range past the host's
#       limit (lavapipe's state arrays are that big) is fatal, naming both values and the limit
# After every fatal case venusd is alive and the next client (vk_lifetimes --hold-recorded)
# is served correctly.
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init lifetimes

BUILD=$(dirname "$VENUSD")
APP=${LIFETIMES_APP:-$BUILD/tests/apps/vk_lifetimes}
if [ ! -x "$APP" ]; then
  fail lifetimes/build "$APP missing (glslang-tools and libvulkan-dev: scripts/setup-deps.sh)"
  test_finish
fi

# expect_ok WORKER MODE — the app prints its OK line and venusd logs no error for it.
expect_ok() {
  local name="lifetimes/$1/${2//-/_}" out=$TEST_TMP/$1-$2.out before
  before=$(log_line_count "$VD_LOGFILE")
  if CLIENT_TIMEOUT=60 venus_client "$APP" "--$2" >"$out" 2>&1 && grep -q "^OK lifetimes $2" "$out" &&
    ! log_lines_since "$VD_LOGFILE" "$before" | grep -Eiq 'error|fatal'; then
    pass "$name"
  else
    fail "$name" "client: $(tail -n 1 "$out"); venusd: $(log_lines_since "$VD_LOGFILE" "$before" | grep -Ei -m1 'error|fatal')"
  fi
}

# expect_fatal WORKER MODE TEXT... — the context goes fatal with a log line holding every
# TEXT; the client never prints OK; venusd serves the next client.
expect_fatal() {
  local worker=$1 mode=$2 name="lifetimes/$1/${2//-/_}" out=$TEST_TMP/$1-$2.out before line t ok=1
  shift 2
  before=$(log_line_count "$VD_LOGFILE")
  CLIENT_TIMEOUT=20 venus_client_to_fatal "$before" "$APP" "--$mode" >"$out" 2>&1
  line=$(log_lines_since "$VD_LOGFILE" "$before" | grep -m1 'fatal')
  for t in "$@"; do
    case $line in *"$t"*) ;; *) ok=0 ;; esac
  done
  if [ "$ok" = 1 ] && ! grep -q '^OK' "$out"; then
    pass "$name"
  else
    fail "$name" "client: $(tail -n 1 "$out"); venusd: ${line:-no fatal line}; expected: $*"
  fi
  if alive "$VD_PID"; then
    expect_ok "$worker" hold-recorded
  else
    fail "$name/venusd_alive" "venusd exited"
  fi
}

# vm_hwm PID — the process's peak resident set size in kB.
vm_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

for worker in $(worker_modes); do
  start_venusd_or_fail "lifetimes/$worker/start" --worker "$worker" || continue
  expect_ok "$worker" hold-recorded
  expect_ok "$worker" hold-submitted
  hwm_before=$(vm_hwm "$VD_PID")
  expect_ok "$worker" batch
  if [ "$worker" = thread ]; then
    hwm_after=$(vm_hwm "$VD_PID")
    if [ -n "$hwm_before" ] && [ -n "$hwm_after" ] && [ $((hwm_after - hwm_before)) -lt 65536 ]; then
      pass lifetimes/thread/batch_memory
    else
      fail lifetimes/thread/batch_memory \
        "venusd's peak RSS went from ${hwm_before:-?} to ${hwm_after:-?} kB for the batch (want < 64 MiB more)"
    fi
  fi
  expect_fatal "$worker" freed-set "vkQueueSubmit: VkSubmitInfo.pCommandBuffers: VkCommandBuffer" "recorded VkDescriptorSet" \
    "which was freed or reset after that"
  expect_fatal "$worker" reset-pool "vkQueueSubmit" "recorded VkDescriptorSet" \
    "which was freed or reset after that"
  expect_fatal "$worker" freed-secondary "vkQueueSubmit" "recorded VkCommandBuffer" \
    "which was freed or reset after that"
  expect_fatal "$worker" cross-device-copy "vkCmdCopyBuffer: dstBuffer: VkBuffer" \
    "belongs to VkDevice" "but the command is for VkDevice"
  expect_fatal "$worker" cross-device-bind "vkBindBufferMemory2: VkBindBufferMemoryInfo.memory: VkDeviceMemory" \
    "belongs to VkDevice" "but the command is for VkDevice"
  expect_fatal "$worker" cross-device-write "vkUpdateDescriptorSets:" "VkDescriptorBufferInfo.buffer: VkBuffer" \
    "belongs to VkDevice"
  expect_fatal "$worker" cross-device-submit "vkQueueSubmit: VkSubmitInfo.pCommandBuffers: VkCommandBuffer" "belongs to VkDevice" \
    "but the command is for VkDevice"
  expect_fatal "$worker" bad-vertex-offset \
    "vkCmdBindVertexBuffers: pBuffers[0]: offset 256 is not below the 256-byte buffer"
  expect_fatal "$worker" bad-vertex-size \
    "vkCmdBindVertexBuffers2: pBuffers[0]: 16 bytes at offset 248 do not fit the 256-byte buffer"
  expect_fatal "$worker" bad-index-offset \
    "vkCmdBindIndexBuffer: buffer: offset 260 is not below the 256-byte buffer"
  expect_fatal "$worker" bad-viewport "vkCmdSetViewport: firstViewport" "+ viewportCount 1 exceed the device's maxViewports"
  expect_fatal "$worker" bad-push-constants "vkCmdPushConstants: offset" "+ size 8 exceed the device's maxPushConstantsSize"
  stop_venusd "lifetimes/$worker/clean_exit"
done

test_finish
