#!/usr/bin/env bash
# test_guest_ranges.sh — guest indices and ranges the driver would trust (docs/design.md,
# "Ranges the driver trusts"; docs/protocol-audit.md), through the real Mesa Venus driver
# with tests/apps/vk_bad_ranges.c and vk_bad_audit.c, in each worker mode (process, thread;
# WORKER_MODES picks, lib.sh; GUEST_RANGES_WORKER_MODES overrides it for this test, as the
# ASan pass does):
#   good/{ranges,audit}  the valid edge cases of every check (last texel, byte, query,
#       descriptor, mip level, layer, attachment, binding; VK_REMAINING_*, VK_WHOLE_SIZE)
#       print their OK lines, and venusd logs no fatal error
#   <mode>  each --bad-* mode of the two apps makes the context fatal before the driver
#       sees the value, with a log line naming the command, the field and the values; the
#       client never prints OK, and venusd is alive and serves the next client (--good)
# Classes: buffer <-> image and image copies, blits, queries, subresource layouts (also of a
# described image), descriptor writes and layouts, image views, specialization data, base
# pipeline indices, push constant ranges, render pass attachments, input aspects,
# dependencies and inherited subpasses, clears, clear attachments, barriers (v1, v2, events), device-group indices,
# transform feedback bindings, push descriptors, dynamic vertex input and blend state; mesh
# draws (tests/apps/vk_mesh.c through a Mesa 26 client: the indirect records, count buffer,
# offsets and strides, the direct draw's group counts); the newest protocol's push
# descriptors, layouts, sliced 3D views, inherited input attachment indices and host image
# copies (tests/apps/vk_bad_newest.c, Mesa 26 client).
#   rt/<mode>  tests/apps/vk_bad_rt.c: acceleration structure creation (range, unbound
#       buffer) and builds (device addresses outside any buffer or past one's end, scratch,
#       destination size, geometry arrays, primitive counts) and ray tracing pipelines
#       (group shader indices, group ranges of the handle and stack size queries, handle
#       data size, shader binding table stride and address), through a Mesa 26 client
#       (VENUS_CLIENT sid or backports, tests/clients/mesa-clients.sh) where one is made;
#       the host's Mesa 25.0.7 client is not offered the extension (SKIP)
# The newest protocol's checks (rt, mesh, newest) run in one worker mode:
# GUEST_RANGES_NEWEST_MODES (default process).
#   The newest protocol's checks (rt, mesh, newest) run in one worker mode:
#   GUEST_RANGES_NEWEST_MODES (default process).
# shellcheck source-path=SCRIPTDIR
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

test_init guest_ranges

BUILD=$(dirname "$VENUSD")
for app in vk_bad_ranges vk_bad_audit vk_bad_rt vk_mesh vk_bad_newest; do
  if [ ! -x "$BUILD/tests/apps/$app" ]; then
    fail guest_ranges/build "$BUILD/tests/apps/$app missing (glslang-tools and libvulkan-dev: scripts/setup-deps.sh)"
    test_finish
  fi
done

# expect_good WORKER APP NAME — APP --good prints "OK bad_NAME good"; no fatal is logged.
expect_good() {
  local name="guest_ranges/$1/good/$3" out=$TEST_TMP/$1-$2-good.out before
  before=$(log_line_count "$VD_LOGFILE")
  if CLIENT_TIMEOUT=60 venus_client "$BUILD/tests/apps/$2" --good >"$out" 2>&1 &&
    grep -q "^OK bad_$3 good" "$out" && ! log_lines_since "$VD_LOGFILE" "$before" | grep -q fatal; then
    pass "$name"
  else
    fail "$name" "client: $(tail -n 1 "$out"); venusd: $(log_lines_since "$VD_LOGFILE" "$before" | grep -m1 fatal)"
  fi
}

# expect_fatal WORKER APP MODE TEXT — APP MODE makes the context fatal with a log line
# holding TEXT; the client never prints OK; venusd then serves vk_bad_ranges --good.
expect_fatal() {
  local worker=$1 app=$2 mode=$3 text=$4 name="guest_ranges/$1/${3#--bad-}" out before line
  out=$TEST_TMP/$worker-$mode.out
  before=$(log_line_count "$VD_LOGFILE")
  CLIENT_TIMEOUT=20 venus_client_to_fatal "$before" "$BUILD/tests/apps/$app" "$mode" >"$out" 2>&1
  line=$(log_lines_since "$VD_LOGFILE" "$before" | grep -m1 fatal)
  if grep -q '^SKIP' "$out"; then
    skip "$name" "$(grep -m1 '^SKIP' "$out")"
  elif [[ $line == *"$text"* ]] && ! grep -q '^OK' "$out"; then
    pass "$name"
  else
    fail "$name" "client: $(tail -n 1 "$out"); venusd: ${line:-no fatal line}; expected: $text"
  fi
  if ! alive "$VD_PID"; then
    fail "$name/venusd_alive" "venusd exited"
  fi
}

ranges() { expect_fatal "$worker" vk_bad_ranges "$@"; }
audit() { expect_fatal "$worker" vk_bad_audit "$@"; }
# the newest protocol's checks need a Mesa 26 client
RT_CLIENT=$([ "$(id -u)" = 0 ] && bash "$REPO_ROOT/tests/clients/mesa-clients.sh" list 2>/dev/null |
  awk '$1 == "sid" || $1 == "backports" { print $1; exit }')
rt() { VENUS_CLIENT=$RT_CLIENT expect_fatal "$worker" vk_bad_rt "$@"; }

# The newest protocol's own commands and structs (Vulkan 1.4, VK_EXT_mesh_shader, ...) are
# checked through a Mesa 26 client (tests/clients/mesa-clients.sh, when made: root), with
# tests/apps/vk_mesh.c and vk_bad_newest.c.
MESH_CLIENT=
made=$([ "$(id -u)" = 0 ] && bash "$REPO_ROOT/tests/clients/mesa-clients.sh" list 2>/dev/null)
grep -q '^backports ' <<<"$made" && MESH_CLIENT=backports
mesh() { VENUS_CLIENT=$MESH_CLIENT expect_fatal "$worker" vk_mesh "$@"; }
newest() { VENUS_CLIENT=$MESH_CLIENT expect_fatal "$worker" vk_bad_newest "$@"; }
mesh_checks() {
  if [ -z "$MESH_CLIENT" ]; then
    skip "guest_ranges/$1/newest" "Mesa 26 clients not made (tests/clients/mesa-clients.sh setup, as root)"
    return
  fi
  VENUS_CLIENT=$MESH_CLIENT expect_good "$1" vk_mesh mesh
  mesh --bad-mesh-indirect-range \
    "vkCmdDrawMeshTasksIndirectEXT: buffer: 60 bytes at offset 16 do not fit the 64-byte buffer"
  mesh --bad-mesh-indirect-stride \
    "vkCmdDrawMeshTasksIndirectEXT: stride 6 (drawCount 2) is not a multiple of 4 of at least 12 bytes"
  mesh --bad-mesh-indirect-offset "vkCmdDrawMeshTasksIndirectEXT: offset 2 is not a multiple of 4"
  mesh --bad-mesh-count-buffer \
    "vkCmdDrawMeshTasksIndirectCountEXT: countBuffer: 4 bytes at offset 16 do not fit the 16-byte buffer"
  mesh --bad-mesh-count-records \
    "vkCmdDrawMeshTasksIndirectCountEXT: buffer: 72 bytes at offset 0 do not fit the 64-byte buffer"
  mesh --bad-mesh-count-stride \
    "vkCmdDrawMeshTasksIndirectCountEXT: stride 8 (maxDrawCount 1) is not a multiple of 4 of at least 12 bytes"
  mesh --bad-mesh-group-count \
    "vkCmdDrawMeshTasksEXT: groupCountX 65537, groupCountY 1, groupCountZ 1 exceed the device's work group counts (65536, 65536, 65536, and 4194304 in all"
  mesh --bad-mesh-group-total \
    "vkCmdDrawMeshTasksEXT: groupCountX 65536, groupCountY 65536, groupCountZ 65536 exceed the device's work group counts"
  VENUS_CLIENT=$MESH_CLIENT expect_good "$1" vk_bad_newest newest
  newest --bad-push-descriptor2 \
    "vkCmdPushDescriptorSet2: pDescriptorWrites[0]: dstArrayElement 2 + descriptorCount 1 exceed the 2 descriptors from dstBinding 0 on"
  newest --bad-bind-sets2-null-layout "vkCmdBindDescriptorSets2: pBindDescriptorSetsInfo->layout is VK_NULL_HANDLE"
  newest --bad-sliced-view \
    "vkCreateImageView: pCreateInfo->pNext<VkImageViewSlicedCreateInfoEXT>: sliceOffset 4, sliceCount 1 are not in the 4 slices of mip level 0"
  newest --bad-inherited-input-index \
    "vkBeginCommandBuffer: pBeginInfo->pInheritanceInfo->pNext->pColorAttachmentInputIndices[0] = "
  newest --bad-host-copy-unbound \
    "vkCopyMemoryToImageMESA: pCopyMemoryToImageInfo->dstImage: a host image copy on an image with no memory bound"
}

for worker in ${GUEST_RANGES_WORKER_MODES:-$(worker_modes)}; do
  start_venusd_or_fail "guest_ranges/$worker/start" --worker "$worker" || continue
  expect_good "$worker" vk_bad_ranges ranges
  expect_good "$worker" vk_bad_audit audit
  ranges --bad-buffer-to-image \
    "vkCmdCopyBufferToImage: pRegions[0]: srcBuffer: 16384 bytes at offset 4 do not fit the 16384-byte buffer"
  ranges --bad-image-to-buffer-region \
    "vkCmdCopyImageToBuffer2: pRegions[0].imageOffset/imageExtent: offset (1, 0, 0) + extent (64, 32, 1) leave the 64x64x1 subresource"
  ranges --bad-copy-mip \
    "vkCmdCopyImageToBuffer: pRegions[0].imageSubresource: mipLevel 1 is not below the image's 1 mip levels"
  ranges --bad-copy-image-layers \
    "vkCmdCopyImage2: pRegions[0].dstSubresource: baseArrayLayer 1 + layerCount 1 exceed the image's 1 array layers"
  ranges --bad-blit "vkCmdBlitImage: pRegions[0].dstOffsets[1]: (65, 64, 1) is outside the 64x64x1 subresource"
  ranges --bad-timestamp "vkCmdWriteTimestamp: query 8 is not in the 8-query pool"
  ranges --bad-reset-queries "vkResetQueryPool: firstQuery 4 + queryCount 5 exceed the 8-query pool"
  ranges --bad-copy-query-results \
    "vkCmdCopyQueryPoolResults: dstBuffer: 64 bytes at offset 0 do not fit the 16-byte buffer"
  ranges --bad-subresource-layout \
    "vkGetImageSubresourceLayout: pSubresource: mipLevel 0, arrayLayer 1 are not in the image's 1 mip levels and 1 array layers"
  ranges --bad-descriptor-write \
    "vkUpdateDescriptorSets: pDescriptorWrites[0]: dstArrayElement 1 + descriptorCount 2 exceed the 2 descriptors from dstBinding 1 on"
  ranges --bad-descriptor-binding \
    "vkUpdateDescriptorSets: pDescriptorWrites[0].dstBinding 2 is not a binding of the set's layout"
  ranges --bad-layout-count \
    "vkCreateDescriptorSetLayout: pCreateInfo->pBindings[0].descriptorCount 2147483648: more than the"
  audit --bad-image-view \
    "vkCreateImageView: pCreateInfo->subresourceRange: mip levels 1 + 1 and array layers 0 + 1 are not all in the image's 1 mip levels and 1 layers"
  audit --bad-specialization \
    "vkCreateComputePipelines: pCreateInfos[0].stage.pSpecializationInfo->pMapEntries[0]: offset 4 + size 4 exceed dataSize 4"
  audit --bad-base-index "vkCreateComputePipelines: pCreateInfos[1].basePipelineIndex 5 is not an earlier create info"
  audit --bad-push-constant-range "+ size 4 exceed the device's maxPushConstantsSize"
  audit --bad-render-pass-attachment \
    "vkCreateRenderPass: pSubpasses[0].pColorAttachments[0].attachment 2 is not one of the 2 attachments"
  audit --bad-input-aspect \
    "vkCreateRenderPass: pAspectReferences[0].inputAttachmentIndex 1 is not one of the 1 input attachments of the subpass"
  audit --bad-inheritance-subpass \
    "vkBeginCommandBuffer: pBeginInfo->pInheritanceInfo->subpass 1 is not one of the render pass's 1 subpasses"
  audit --bad-render-pass2-dependency "vkCreateRenderPass2: pDependencies[0].srcSubpass 5 is not one of the 1 subpasses"
  audit --bad-clear-color \
    "vkCmdClearColorImage: pRanges[0]: mip levels 0 + 2 and array layers 0 + 1 are not all in the image's 1 mip levels and 1 layers"
  audit --bad-clear-attachments "vkCmdClearAttachments: pAttachments[0].colorAttachment 100 is not below the device's maxColorAttachments"
  audit --bad-barrier-buffer \
    "vkCmdPipelineBarrier: pBufferMemoryBarriers[0]: 32768 bytes at offset 0 do not fit the 16384-byte buffer"
  audit --bad-barrier2-image \
    "vkCmdPipelineBarrier2: pImageMemoryBarriers[0].subresourceRange: mip levels 0 + 1 and array layers 1 + 1 are not all in the image's 1 mip levels and 1 layers"
  audit --bad-set-event2 "vkCmdSetEvent2: pImageMemoryBarriers[0].subresourceRange: mip levels 0 + 1 and array layers 1 + 1"
  audit --bad-peer-memory \
    "vkGetDeviceGroupPeerMemoryFeatures: heapIndex 0, localDeviceIndex 0, remoteDeviceIndex 1: the device has"
  audit --bad-bind-device-index \
    "vkBindBufferMemory2: pBindInfos[0]: pDeviceIndices[0] 1 is not below the device's 1 physical devices"
  audit --bad-xfb-binding "vkCmdBindTransformFeedbackBuffersEXT: firstBinding 4 + bindingCount 1 exceed the device's maxTransformFeedbackBuffers (4)"
  audit --bad-push-descriptor \
    "vkCmdPushDescriptorSetKHR: pDescriptorWrites[0]: dstArrayElement 2 + descriptorCount 1 exceed the 2 descriptors from dstBinding 0 on"
  audit --bad-push-descriptor-set "vkCmdPushDescriptorSetKHR: set 1 is not a set layout of the 1-set pipeline layout"
  audit --bad-vertex-input "vkCmdSetVertexInputEXT: pVertexAttributeDescriptions[0].binding 0 is not among the 1 pVertexBindingDescriptions"
  audit --bad-blend-attachment "vkCmdSetColorWriteMaskEXT: firstAttachment 8 + attachmentCount 1 exceed the device's maxColorAttachments (8)"
  audit --bad-dispatch-no-pipeline "vkCmdDispatch: no compute pipeline is bound to command buffer"
  audit --bad-draw-no-pipeline \
    "vkCmdDraw: no graphics pipeline with vertex input stages is bound to command buffer"
  audit --bad-bind-compute-as-graphics \
    "vkCmdBindPipeline: a compute pipeline (pipeline "
  audit --bad-device-subresource-layout \
    "vkGetDeviceImageSubresourceLayoutKHR: pInfo->pSubresource: mipLevel 1, arrayLayer 1 are not in the described image's 1 mip levels and 2 array layers"
  # The newest protocol's checks go through a Mesa 26 client in the Debian 13 chroot (seconds
  # a client): in one worker mode, GUEST_RANGES_NEWEST_MODES (default process), since the
  # checks are the same code in both and the modes differ only in what a crash would take.
  if [[ " ${GUEST_RANGES_NEWEST_MODES:-process} " == *" $worker "* ]]; then
    if [ -n "$RT_CLIENT" ]; then
      VENUS_CLIENT=$RT_CLIENT expect_good "$worker" vk_bad_rt rt
    fi
    rt --bad-as-range "vkCreateAccelerationStructureKHR: pCreateInfo.buffer: "
    rt --bad-as-unbound "vkCreateAccelerationStructureKHR: pCreateInfo.buffer has no memory bound"
    rt --bad-dst-size "vkCmdBuildAccelerationStructuresKHR: pInfos[0]: dstAccelerationStructure of 64 bytes, the build needs "
    rt --bad-scratch "vkCmdBuildAccelerationStructuresKHR: pInfos[0].scratchData: 64 bytes at device address 0x"
    rt --bad-address "vkCmdBuildAccelerationStructuresKHR: pInfos[0] geometry 0 (ppBuildRangeInfos[0][0]).vertexData: 36 bytes at device address 0x10000 are not inside one bound buffer of the device created with SHADER_DEVICE_ADDRESS usage"
    rt --bad-address-range "vkCmdBuildAccelerationStructuresKHR: pInfos[0] geometry 0 (ppBuildRangeInfos[0][0]).vertexData: 36 bytes at device address 0x"
    rt --bad-geometries "vkCmdBuildAccelerationStructuresKHR: pInfos[0]: pGeometries and ppGeometries are both NULL"
    rt --bad-primitive-count "vkCmdBuildAccelerationStructuresKHR: pInfos[0] geometry 0 (ppBuildRangeInfos[0][0]): primitiveCount 2147483648 is above the host's maxPrimitiveCount"
    rt --bad-group-index "vkCreateRayTracingPipelinesKHR: pCreateInfos[0].pGroups[0]: type 0 with general 1, closest hit 4294967295, any hit 4294967295, intersection 4294967295: not stages of the 1 given"
    rt --bad-group-handles "vkGetRayTracingShaderGroupHandlesKHR: group 1 + count 1: not among the 1 shader groups of the pipeline"
    rt --bad-handles-size "vkGetRayTracingShaderGroupHandlesKHR: dataSize 31 is less than groupCount 1 x shaderGroupHandleSize 32"
    rt --bad-stack-group "vkGetRayTracingShaderGroupStackSizeKHR: group 1 + count 1: not among the 1 shader groups of the pipeline"
    rt --bad-sbt-stride "vkCmdTraceRaysKHR: pRaygenShaderBindingTable: deviceAddress 0x"
    rt --bad-sbt-address "vkCmdTraceRaysKHR: pRaygenShaderBindingTable: 32 bytes at device address 0x10000 are not inside one bound buffer"
    mesh_checks "$worker"
  fi
  expect_good "$worker" vk_bad_ranges ranges
  stop_venusd "guest_ranges/$worker/clean_exit"
done

test_finish
