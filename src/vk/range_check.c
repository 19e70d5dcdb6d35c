/* Commands recorded into command buffers whose ranges the driver does not check.
 *
 * Drivers trust the offsets and sizes of transfer, indirect and query commands; lavapipe
 * turns them into host memcpy()s, reads and array indices.  A range outside its buffer,
 * image subresource or query pool is invalid usage that would reach outside the object's
 * memory, so it makes the context fatal here instead of being recorded.  The rules are
 * the spec's valid-usage rules (docs/design.md, "Binds"), so valid input is never refused. */
#include <inttypes.h>
#include <stdio.h>

#include "util/log.h"
#include "vk/format.h"
#include "vk/vk_common.h"

bool vd_range_fits(struct vd_dispatch *disp, const char *what, VkDeviceSize offset,
                   VkDeviceSize size, VkDeviceSize limit, const char *container)
{
   if (offset > limit || (size != VK_WHOLE_SIZE && size > limit - offset)) {
      vd_dispatch_fatal(
         disp, "%s: %" PRIu64 " bytes at offset %" PRIu64 " do not fit the %" PRIu64 "-byte %s",
         what, (uint64_t)size, (uint64_t)offset, (uint64_t)limit, container);
      return false;
   }
   return true;
}

/* [offset, offset + size) lies inside the buffer; size VK_WHOLE_SIZE means "to the end". */
static bool range_ok(struct vd_dispatch *disp, const char *what, VkBuffer buffer,
                     VkDeviceSize offset, VkDeviceSize size)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buffer);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: buffer not found among the command's objects", what);
      return false;
   }
   return vd_range_fits(disp, what, offset, size, ((const struct vd_buffer *)o->data)->size,
                        "buffer");
}

/* count records of `record` bytes, `stride` apart, starting at offset. */
static bool records_ok(struct vd_dispatch *disp, const char *what, VkBuffer buffer,
                       VkDeviceSize offset, uint32_t count, uint32_t stride, uint32_t record)
{
   if (!count)
      return true;
   const uint64_t span = (uint64_t)(count - 1) * stride + record; /* < 2^64: 32-bit factors */
   return range_ok(disp, what, buffer, offset, span);
}

VD_HANDLER(vkCmdFillBuffer)
{
   if (range_ok(disp, "dstBuffer", a->dstBuffer, a->dstOffset, a->size))
      vd_object_vk(a->obj)->CmdFillBuffer(a->commandBuffer, a->dstBuffer, a->dstOffset, a->size,
                                          a->data);
}

VD_HANDLER(vkCmdUpdateBuffer)
{
   if (range_ok(disp, "dstBuffer", a->dstBuffer, a->dstOffset, a->dataSize))
      vd_object_vk(a->obj)->CmdUpdateBuffer(a->commandBuffer, a->dstBuffer, a->dstOffset,
                                            a->dataSize, a->pData);
}

VD_HANDLER(vkCmdCopyBuffer)
{
   for (uint32_t i = 0; i < a->regionCount; i++) {
      const VkBufferCopy *r = &a->pRegions[i];
      if (!range_ok(disp, "srcBuffer", a->srcBuffer, r->srcOffset, r->size) ||
          !range_ok(disp, "dstBuffer", a->dstBuffer, r->dstOffset, r->size))
         return;
   }
   vd_object_vk(a->obj)->CmdCopyBuffer(a->commandBuffer, a->srcBuffer, a->dstBuffer, a->regionCount,
                                       a->pRegions);
}

VD_HANDLER(vkCmdCopyBuffer2)
{
   const VkCopyBufferInfo2 *c = a->pCopyBufferInfo;
   for (uint32_t i = 0; i < c->regionCount; i++) {
      const VkBufferCopy2 *r = &c->pRegions[i];
      if (!range_ok(disp, "srcBuffer", c->srcBuffer, r->srcOffset, r->size) ||
          !range_ok(disp, "dstBuffer", c->dstBuffer, r->dstOffset, r->size))
         return;
   }
   vd_object_vk(a->obj)->CmdCopyBuffer2(a->commandBuffer, c);
}

VD_HANDLER(vkCmdDispatchIndirect)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_COMPUTE, "compute pipeline"))
      return;
   if (range_ok(disp, "buffer", a->buffer, a->offset, sizeof(VkDispatchIndirectCommand)))
      vd_object_vk(a->obj)->CmdDispatchIndirect(a->commandBuffer, a->buffer, a->offset);
}

VD_HANDLER(vkCmdDrawIndirect)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_VERTEX,
                         "graphics pipeline with vertex input stages"))
      return;
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->drawCount, a->stride,
                  sizeof(VkDrawIndirectCommand)))
      vd_object_vk(a->obj)->CmdDrawIndirect(a->commandBuffer, a->buffer, a->offset, a->drawCount,
                                            a->stride);
}

VD_HANDLER(vkCmdDrawIndexedIndirect)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_VERTEX,
                         "graphics pipeline with vertex input stages"))
      return;
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->drawCount, a->stride,
                  sizeof(VkDrawIndexedIndirectCommand)))
      vd_object_vk(a->obj)->CmdDrawIndexedIndirect(a->commandBuffer, a->buffer, a->offset,
                                                   a->drawCount, a->stride);
}

VD_HANDLER(vkCmdDrawIndirectCount)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_VERTEX,
                         "graphics pipeline with vertex input stages"))
      return;
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->maxDrawCount, a->stride,
                  sizeof(VkDrawIndirectCommand)) &&
       range_ok(disp, "countBuffer", a->countBuffer, a->countBufferOffset, sizeof(uint32_t)))
      vd_object_vk(a->obj)->CmdDrawIndirectCount(a->commandBuffer, a->buffer, a->offset,
                                                 a->countBuffer, a->countBufferOffset,
                                                 a->maxDrawCount, a->stride);
}

VD_HANDLER(vkCmdDrawIndexedIndirectCount)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_VERTEX,
                         "graphics pipeline with vertex input stages"))
      return;
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->maxDrawCount, a->stride,
                  sizeof(VkDrawIndexedIndirectCommand)) &&
       range_ok(disp, "countBuffer", a->countBuffer, a->countBufferOffset, sizeof(uint32_t)))
      vd_object_vk(a->obj)->CmdDrawIndexedIndirectCount(a->commandBuffer, a->buffer, a->offset,
                                                        a->countBuffer, a->countBufferOffset,
                                                        a->maxDrawCount, a->stride);
}

/* -- mesh draws (VK_EXT_mesh_shader) ----------------------------------------------------- */

static const struct vd_physical_device *pdev_of(const struct vd_object *cb)
{
   return ((const struct vd_device *)cb->data)->pdev;
}

/* The alignment rules of indirect mesh draws: offsets (VUID-...-offset-02710,
 * countBufferOffset-02716) and, where records follow each other, strides (drawCount-07088,
 * stride-07096) are multiples of 4, strides at least one record. */
static bool mesh_stride_ok(struct vd_dispatch *disp, const char *count_name, uint32_t count,
                           uint32_t stride, bool always)
{
   const uint32_t record = sizeof(VkDrawMeshTasksIndirectCommandEXT);
   if ((always || count > 1) && (stride % 4 || stride < record)) {
      vd_dispatch_fatal(disp,
                        "stride %u (%s %u) is not a multiple of 4 of at least %u bytes "
                        "(sizeof(VkDrawMeshTasksIndirectCommandEXT))",
                        stride, count_name, count, record);
      return false;
   }
   return true;
}

static bool multiple_of_4(struct vd_dispatch *disp, const char *what, VkDeviceSize offset)
{
   if (offset % 4) {
      vd_dispatch_fatal(disp, "%s %" PRIu64 " is not a multiple of 4", what, (uint64_t)offset);
      return false;
   }
   return true;
}

/* VUID-vkCmdDrawMeshTasksIndirectEXT-drawCount-02719. */
static bool mesh_count_ok(struct vd_dispatch *disp, const struct vd_object *cb, uint32_t count)
{
   const uint32_t max = pdev_of(cb)->props.limits.maxDrawIndirectCount;
   if (count > max) {
      vd_dispatch_fatal(disp, "drawCount %u exceeds the device's maxDrawIndirectCount (%u)", count,
                        max);
      return false;
   }
   return true;
}

/* The spec bounds each group count and their product by the task shader's limits when the
 * bound pipeline has one, else by the mesh shader's (VUID-vkCmdDrawMeshTasksEXT-TaskEXT-07322
 * to -07329).  venusd does not track which pipeline a command buffer has bound, so it checks
 * against the larger of the two limits (equal on lavapipe): valid draws are never refused,
 * and no draw exceeds what the driver declares for both stages. */
static bool mesh_groups_ok(struct vd_dispatch *disp, const struct vd_physical_device *pd,
                           const uint32_t g[3])
{
   const uint32_t *max = pd->mesh_group_count;
   /* each count fits its limit (< 2^32) first, so the products below cannot wrap */
   if (g[0] <= max[0] && g[1] <= max[1] && g[2] <= max[2] &&
       (uint64_t)g[0] * g[1] <= pd->mesh_group_total &&
       (uint64_t)g[0] * g[1] * g[2] <= pd->mesh_group_total)
      return true;
   vd_dispatch_fatal(disp,
                     "groupCountX %u, groupCountY %u, groupCountZ %u exceed the device's work "
                     "group counts (%u, %u, %u, and %u in all: the larger of the task and mesh "
                     "shader limits)",
                     g[0], g[1], g[2], max[0], max[1], max[2], pd->mesh_group_total);
   return false;
}

VD_HANDLER(vkCmdDrawMeshTasksEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdDrawMeshTasksEXT, NULL))
      return;
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_MESH, "graphics pipeline with mesh stages"))
      return;
   const uint32_t g[3] = { a->groupCountX, a->groupCountY, a->groupCountZ };
   if (mesh_groups_ok(disp, pdev_of(a->obj), g))
      vd_object_vk(a->obj)->CmdDrawMeshTasksEXT(a->commandBuffer, g[0], g[1], g[2]);
}

VD_HANDLER(vkCmdDrawMeshTasksIndirectEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdDrawMeshTasksIndirectEXT, NULL))
      return;
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_MESH, "graphics pipeline with mesh stages"))
      return;
   if (multiple_of_4(disp, "offset", a->offset) &&
       mesh_stride_ok(disp, "drawCount", a->drawCount, a->stride, false) &&
       mesh_count_ok(disp, a->obj, a->drawCount) &&
       records_ok(disp, "buffer", a->buffer, a->offset, a->drawCount, a->stride,
                  sizeof(VkDrawMeshTasksIndirectCommandEXT)))
      vd_object_vk(a->obj)->CmdDrawMeshTasksIndirectEXT(a->commandBuffer, a->buffer, a->offset,
                                                        a->drawCount, a->stride);
}

VD_HANDLER(vkCmdDrawMeshTasksIndirectCountEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdDrawMeshTasksIndirectCountEXT,
                    NULL))
      return;
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_MESH, "graphics pipeline with mesh stages"))
      return;
   if (multiple_of_4(disp, "offset", a->offset) &&
       multiple_of_4(disp, "countBufferOffset", a->countBufferOffset) &&
       mesh_stride_ok(disp, "maxDrawCount", a->maxDrawCount, a->stride, true) &&
       records_ok(disp, "buffer", a->buffer, a->offset, a->maxDrawCount, a->stride,
                  sizeof(VkDrawMeshTasksIndirectCommandEXT)) &&
       range_ok(disp, "countBuffer", a->countBuffer, a->countBufferOffset, sizeof(uint32_t)))
      vd_object_vk(a->obj)->CmdDrawMeshTasksIndirectCountEXT(a->commandBuffer, a->buffer, a->offset,
                                                             a->countBuffer, a->countBufferOffset,
                                                             a->maxDrawCount, a->stride);
}

/* -- indices into the driver's per-command-buffer state ---------------------------------- */

/* Drivers keep bound state in fixed arrays sized by their own limits (lavapipe: viewports,
 * descriptor sets, vertex bindings, push constant bytes) and index them with the guest's
 * first + count unchecked.  The spec bounds each by a limit the host reports. */
static const VkPhysicalDeviceLimits *limits_of(const struct vd_object *cb)
{
   return &((const struct vd_device *)cb->data)->pdev->props.limits;
}

static bool within_limit(struct vd_dispatch *disp, const char *first_name, uint32_t first,
                         const char *count_name, uint32_t count, uint32_t limit,
                         const char *limit_name)
{
   if ((uint64_t)first + count > limit) {
      vd_dispatch_fatal(disp, "%s %u + %s %u exceed the device's %s (%u)", first_name, first,
                        count_name, count, limit_name, limit);
      return false;
   }
   return true;
}

VD_HANDLER(vkCmdSetViewport)
{
   if (within_limit(disp, "firstViewport", a->firstViewport, "viewportCount", a->viewportCount,
                    limits_of(a->obj)->maxViewports, "maxViewports"))
      vd_object_vk(a->obj)->CmdSetViewport(a->commandBuffer, a->firstViewport, a->viewportCount,
                                           a->pViewports);
}

VD_HANDLER(vkCmdSetScissor)
{
   if (within_limit(disp, "firstScissor", a->firstScissor, "scissorCount", a->scissorCount,
                    limits_of(a->obj)->maxViewports, "maxViewports"))
      vd_object_vk(a->obj)->CmdSetScissor(a->commandBuffer, a->firstScissor, a->scissorCount,
                                          a->pScissors);
}

VD_HANDLER(vkCmdSetViewportWithCount)
{
   if (within_limit(disp, "first viewport", 0, "viewportCount", a->viewportCount,
                    limits_of(a->obj)->maxViewports, "maxViewports"))
      vd_object_vk(a->obj)->CmdSetViewportWithCount(a->commandBuffer, a->viewportCount,
                                                    a->pViewports);
}

VD_HANDLER(vkCmdSetScissorWithCount)
{
   if (within_limit(disp, "first scissor", 0, "scissorCount", a->scissorCount,
                    limits_of(a->obj)->maxViewports, "maxViewports"))
      vd_object_vk(a->obj)->CmdSetScissorWithCount(a->commandBuffer, a->scissorCount, a->pScissors);
}

VD_HANDLER(vkCmdBindDescriptorSets)
{
   if (within_limit(disp, "firstSet", a->firstSet, "descriptorSetCount", a->descriptorSetCount,
                    limits_of(a->obj)->maxBoundDescriptorSets, "maxBoundDescriptorSets"))
      vd_object_vk(a->obj)->CmdBindDescriptorSets(
         a->commandBuffer, a->pipelineBindPoint, a->layout, a->firstSet, a->descriptorSetCount,
         a->pDescriptorSets, a->dynamicOffsetCount, a->pDynamicOffsets);
}

/* The recording hot path (bench/ cmds_100k): one comparison. */
VD_HANDLER(vkCmdPushConstants)
{
   if (within_limit(disp, "offset", a->offset, "size", a->size,
                    limits_of(a->obj)->maxPushConstantsSize, "maxPushConstantsSize"))
      vd_object_vk(a->obj)->CmdPushConstants(a->commandBuffer, a->layout, a->stageFlags, a->offset,
                                             a->size, a->pValues);
}

/* -- vertex, index, transform feedback and condition buffers ------------------------------ */

/* A binding's offset lies strictly inside its buffer (the spec: "less than the size"), and
 * offset + size too unless size is VK_WHOLE_SIZE (or 0: no size given).  A null buffer
 * (nullDescriptor) binds nothing.  The field is array[i], or array with i UINT32_MAX. */
static bool binding_ok(struct vd_dispatch *disp, const char *array, uint32_t i, VkBuffer buffer,
                       VkDeviceSize offset, VkDeviceSize size)
{
   if (!buffer)
      return true;
   char what[48];
   if (i == UINT32_MAX)
      snprintf(what, sizeof(what), "%s", array);
   else
      snprintf(what, sizeof(what), "%s[%u]", array, i);
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buffer);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: buffer not found among the command's objects", what);
      return false;
   }
   const VkDeviceSize limit = ((const struct vd_buffer *)o->data)->size;
   if (offset >= limit) {
      vd_dispatch_fatal(disp, "%s: offset %" PRIu64 " is not below the %" PRIu64 "-byte buffer",
                        what, (uint64_t)offset, (uint64_t)limit);
      return false;
   }
   return !size || vd_range_fits(disp, what, offset, size, limit, "buffer");
}

VD_HANDLER(vkCmdBindVertexBuffers)
{
   if (!within_limit(disp, "firstBinding", a->firstBinding, "bindingCount", a->bindingCount,
                     limits_of(a->obj)->maxVertexInputBindings, "maxVertexInputBindings"))
      return;
   for (uint32_t i = 0; i < a->bindingCount; i++)
      if (!binding_ok(disp, "pBuffers", i, a->pBuffers[i], a->pOffsets[i], 0))
         return;
   vd_object_vk(a->obj)->CmdBindVertexBuffers(a->commandBuffer, a->firstBinding, a->bindingCount,
                                              a->pBuffers, a->pOffsets);
}

VD_HANDLER(vkCmdBindVertexBuffers2)
{
   if (!within_limit(disp, "firstBinding", a->firstBinding, "bindingCount", a->bindingCount,
                     limits_of(a->obj)->maxVertexInputBindings, "maxVertexInputBindings"))
      return;
   for (uint32_t i = 0; i < a->bindingCount; i++)
      if (!binding_ok(disp, "pBuffers", i, a->pBuffers ? a->pBuffers[i] : VK_NULL_HANDLE,
                      a->pOffsets[i], a->pSizes ? a->pSizes[i] : 0))
         return;
   vd_object_vk(a->obj)->CmdBindVertexBuffers2(a->commandBuffer, a->firstBinding, a->bindingCount,
                                               a->pBuffers, a->pOffsets, a->pSizes, a->pStrides);
}

VD_HANDLER(vkCmdBindIndexBuffer)
{
   if (binding_ok(disp, "buffer", UINT32_MAX, a->buffer, a->offset, 0))
      vd_object_vk(a->obj)->CmdBindIndexBuffer(a->commandBuffer, a->buffer, a->offset,
                                               a->indexType);
}

VD_HANDLER(vkCmdBindIndexBuffer2KHR)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdBindIndexBuffer2KHR, NULL))
      return;
   if (binding_ok(disp, "buffer", UINT32_MAX, a->buffer, a->offset, a->size))
      vd_object_vk(a->obj)->CmdBindIndexBuffer2KHR(a->commandBuffer, a->buffer, a->offset, a->size,
                                                   a->indexType);
}

/* The host's maxTransformFeedbackBuffers (0 without VK_EXT_transform_feedback).  Transform
 * feedback binds are rare: the property is asked for each time. */
static uint32_t max_xfb_buffers(const struct vd_object *cb)
{
   const struct vd_physical_device *pd = ((const struct vd_device *)cb->data)->pdev;
   VkPhysicalDeviceTransformFeedbackPropertiesEXT xfb = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TRANSFORM_FEEDBACK_PROPERTIES_EXT
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &xfb };
   pd->vk->GetPhysicalDeviceProperties2(pd->handle, &props);
   return xfb.maxTransformFeedbackBuffers;
}

VD_HANDLER(vkCmdBindTransformFeedbackBuffersEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdBindTransformFeedbackBuffersEXT,
                    NULL))
      return;
   if (!within_limit(disp, "firstBinding", a->firstBinding, "bindingCount", a->bindingCount,
                     max_xfb_buffers(a->obj), "maxTransformFeedbackBuffers"))
      return;
   for (uint32_t i = 0; i < a->bindingCount; i++)
      if (!binding_ok(disp, "pBuffers", i, a->pBuffers[i], a->pOffsets[i],
                      a->pSizes ? a->pSizes[i] : 0))
         return;
   vd_object_vk(a->obj)->CmdBindTransformFeedbackBuffersEXT(
      a->commandBuffer, a->firstBinding, a->bindingCount, a->pBuffers, a->pOffsets, a->pSizes);
}

/* Counter buffers hold one 32-bit value at their offset (a null one: no counter). */
static bool counters_ok(struct vd_dispatch *disp, uint32_t count, const VkBuffer *buffers,
                        const VkDeviceSize *offsets)
{
   for (uint32_t i = 0; buffers && i < count; i++) {
      char what[48];
      snprintf(what, sizeof(what), "pCounterBuffers[%u]", i);
      if (buffers[i] && !range_ok(disp, what, buffers[i], offsets ? offsets[i] : 0, 4))
         return false;
   }
   return true;
}

VD_HANDLER(vkCmdBeginTransformFeedbackEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdBeginTransformFeedbackEXT, NULL))
      return;
   if (within_limit(disp, "firstCounterBuffer", a->firstCounterBuffer, "counterBufferCount",
                    a->counterBufferCount, max_xfb_buffers(a->obj),
                    "maxTransformFeedbackBuffers") &&
       counters_ok(disp, a->counterBufferCount, a->pCounterBuffers, a->pCounterBufferOffsets))
      vd_object_vk(a->obj)->CmdBeginTransformFeedbackEXT(a->commandBuffer, a->firstCounterBuffer,
                                                         a->counterBufferCount, a->pCounterBuffers,
                                                         a->pCounterBufferOffsets);
}

VD_HANDLER(vkCmdEndTransformFeedbackEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdEndTransformFeedbackEXT, NULL))
      return;
   if (within_limit(disp, "firstCounterBuffer", a->firstCounterBuffer, "counterBufferCount",
                    a->counterBufferCount, max_xfb_buffers(a->obj),
                    "maxTransformFeedbackBuffers") &&
       counters_ok(disp, a->counterBufferCount, a->pCounterBuffers, a->pCounterBufferOffsets))
      vd_object_vk(a->obj)->CmdEndTransformFeedbackEXT(a->commandBuffer, a->firstCounterBuffer,
                                                       a->counterBufferCount, a->pCounterBuffers,
                                                       a->pCounterBufferOffsets);
}

VD_HANDLER(vkCmdDrawIndirectByteCountEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdDrawIndirectByteCountEXT, NULL))
      return;
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_VERTEX,
                         "graphics pipeline with vertex input stages"))
      return;
   if (range_ok(disp, "counterBuffer", a->counterBuffer, a->counterBufferOffset, 4))
      vd_object_vk(a->obj)->CmdDrawIndirectByteCountEXT(
         a->commandBuffer, a->instanceCount, a->firstInstance, a->counterBuffer,
         a->counterBufferOffset, a->counterOffset, a->vertexStride);
}

/* The condition is a 32-bit value at the offset. */
VD_HANDLER(vkCmdBeginConditionalRenderingEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdBeginConditionalRenderingEXT,
                    NULL))
      return;
   const VkConditionalRenderingBeginInfoEXT *c = a->pConditionalRenderingBegin;
   if (range_ok(disp, "pConditionalRenderingBegin->buffer", c->buffer, c->offset, 4))
      vd_object_vk(a->obj)->CmdBeginConditionalRenderingEXT(a->commandBuffer, c);
}

/* -- image regions ---------------------------------------------------------------------- */

static const struct vd_image *image_of(struct vd_dispatch *disp, const char *what, VkImage image)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)image);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: image not found among the command's objects", what);
      return NULL;
   }
   return o->data;
}

static uint32_t mip_dim(uint32_t d, uint32_t level)
{
   d = level >= 32 ? 0 : d >> level;
   return d ? d : 1;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
   return a / b + (a % b != 0);
}

/* The plane a PLANE_i aspect names, or -1 for any other aspect. */
static int aspect_plane(VkImageAspectFlags aspect)
{
   switch (aspect) {
   case VK_IMAGE_ASPECT_PLANE_0_BIT: return 0;
   case VK_IMAGE_ASPECT_PLANE_1_BIT: return 1;
   case VK_IMAGE_ASPECT_PLANE_2_BIT: return 2;
   default: return -1;
   }
}

/* A subresource's texels: its extent at the mip level (in the plane's texels for a plane
 * aspect), rounded up to whole texel blocks (lavapipe stores whole blocks, and a region of
 * a block-compressed image may end at the block edge), and its block. */
struct subres {
   const struct vd_image *img;
   const struct vd_format_info *fmt; /* NULL: vk.xml does not describe the format */
   uint32_t dim[3];
   uint32_t block[3];
   uint32_t layers; /* layerCount with VK_REMAINING_ARRAY_LAYERS resolved */
};

/* mipLevel and the array layers of `s` lie inside the image, and a plane aspect names a
 * plane it has; fills *out.  `what` names the field, e.g. "pRegions[2].srcSubresource". */
static bool subresource_ok(struct vd_dispatch *disp, const char *what, const struct vd_image *img,
                           const VkImageSubresourceLayers *s, struct subres *out)
{
   if (s->mipLevel >= img->mip_levels) {
      vd_dispatch_fatal(disp, "%s: mipLevel %u is not below the image's %u mip levels", what,
                        s->mipLevel, img->mip_levels);
      return false;
   }
   uint32_t layers = s->layerCount;
   if (layers == VK_REMAINING_ARRAY_LAYERS)
      layers = s->baseArrayLayer < img->array_layers ? img->array_layers - s->baseArrayLayer : 0;
   if (s->baseArrayLayer >= img->array_layers ||
       (uint64_t)s->baseArrayLayer + layers > img->array_layers) {
      vd_dispatch_fatal(disp,
                        "%s: baseArrayLayer %u + layerCount %u exceed the image's %u "
                        "array layers",
                        what, s->baseArrayLayer, s->layerCount, img->array_layers);
      return false;
   }
   out->img = img;
   out->fmt = vd_format_info(img->format);
   out->layers = layers;
   out->dim[0] = mip_dim(img->extent.width, s->mipLevel);
   out->dim[1] = mip_dim(img->extent.height, s->mipLevel);
   out->dim[2] = mip_dim(img->extent.depth, s->mipLevel);
   out->block[0] = out->block[1] = out->block[2] = 1;
   const int plane = aspect_plane(s->aspectMask);
   if (plane >= 0) {
      if (!out->fmt || plane >= out->fmt->plane_count) {
         vd_dispatch_fatal(disp,
                           "%s: aspectMask 0x%x names plane %d of format %d, which has "
                           "%u planes",
                           what, s->aspectMask, plane, img->format,
                           out->fmt ? out->fmt->plane_count : 0);
         return false;
      }
      out->dim[0] = out->dim[0] / out->fmt->plane[plane].wdiv;
      out->dim[1] = out->dim[1] / out->fmt->plane[plane].hdiv;
      out->dim[0] += !out->dim[0];
      out->dim[1] += !out->dim[1];
   } else if (out->fmt) {
      for (int i = 0; i < 3; i++) {
         out->block[i] = out->fmt->block[i];
         out->dim[i] = div_up(out->dim[i], out->block[i]) * out->block[i];
      }
   }
   return true;
}

/* [o, o + e) lies inside the subresource.  An image that is not 3D has only offset 0 and
 * depth 1 in z (`z_depth`: the depth that region takes in this image, which for a 2D image
 * copied to or from a 3D one is its layer count, checked apart). */
static bool region_ok(struct vd_dispatch *disp, const char *what, const struct subres *s,
                      VkOffset3D o, VkExtent3D e, uint32_t z_depth)
{
   const int64_t off[3] = { o.x, o.y, o.z };
   const uint64_t ext[3] = { e.width, e.height, z_depth };
   for (int i = 0; i < 3; i++) {
      if (off[i] < 0 || (uint64_t)off[i] + ext[i] > s->dim[i]) {
         vd_dispatch_fatal(disp,
                           "%s: offset (%d, %d, %d) + extent (%u, %u, %u) leave the "
                           "%ux%ux%u subresource",
                           what, o.x, o.y, o.z, e.width, e.height, z_depth, s->dim[0], s->dim[1],
                           s->dim[2]);
         return false;
      }
   }
   return true;
}

/* A blit corner lies inside the subresource (each coordinate 0..extent inclusive). */
static bool corner_ok(struct vd_dispatch *disp, const char *what, const struct subres *s,
                      VkOffset3D o)
{
   const int64_t off[3] = { o.x, o.y, o.z };
   for (int i = 0; i < 3; i++) {
      if (off[i] < 0 || (uint64_t)off[i] > s->dim[i]) {
         vd_dispatch_fatal(disp, "%s: (%d, %d, %d) is outside the %ux%ux%u subresource", what, o.x,
                           o.y, o.z, s->dim[0], s->dim[1], s->dim[2]);
         return false;
      }
   }
   return true;
}

/* -- buffer <-> image copies ------------------------------------------------------------ */

/* The bytes per texel block that a buffer copy of `aspect` of the image moves; 0 if the
 * aspect is not exactly one aspect of the format (the spec's rule for buffer copies). */
static uint32_t aspect_block_bytes(const struct subres *s, VkImageAspectFlags aspect)
{
   const struct vd_format_info *f = s->fmt;
   const int plane = aspect_plane(aspect);
   if (plane >= 0)
      return f->plane[plane].size; /* subresource_ok checked the plane exists */
   if (f->plane_count)
      return 0;
   switch (aspect) {
   case VK_IMAGE_ASPECT_COLOR_BIT: return f->depth_bytes || f->stencil_bytes ? 0 : f->block_size;
   case VK_IMAGE_ASPECT_DEPTH_BIT: return f->depth_bytes;
   case VK_IMAGE_ASPECT_STENCIL_BIT: return f->stencil_bytes;
   default: return 0;
   }
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
   uint64_t r;
   return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
   uint64_t r;
   return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

struct buffer_image_region {
   VkDeviceSize offset;
   uint32_t row_length, image_height;
   VkImageSubresourceLayers sub;
   VkOffset3D image_offset;
   VkExtent3D image_extent;
};

/* One region of a buffer (or host memory) <-> image copy: the image region lies inside its
 * subresource; *bytes is how many bytes from the region's offset it addresses.  The address
 * of the texel block (x, y, z) of layer l is offset + (((l * depth + z) * imageHeight + y) *
 * rowLength + x) * blockBytes, in blocks (the spec's formula); the copy touches up to the
 * largest such address plus one block. */
static bool image_region_bytes(struct vd_dispatch *disp, uint32_t i, const struct vd_image *img,
                               const struct buffer_image_region *r, uint64_t *bytes_out)
{
   char what[80];
   snprintf(what, sizeof(what), "pRegions[%u].imageSubresource", i);
   struct subres s;
   if (!subresource_ok(disp, what, img, &r->sub, &s))
      return false;
   snprintf(what, sizeof(what), "pRegions[%u].imageOffset/imageExtent", i);
   if (!region_ok(disp, what, &s, r->image_offset, r->image_extent, r->image_extent.depth))
      return false;
   const uint32_t bytes = s.fmt ? aspect_block_bytes(&s, r->sub.aspectMask) : 0;
   if (!bytes) {
      vd_dispatch_fatal(disp,
                        "pRegions[%u].imageSubresource: aspectMask 0x%x is not one "
                        "aspect of format %d",
                        i, r->sub.aspectMask, img->format);
      return false;
   }
   const VkExtent3D e = r->image_extent;
   const uint64_t w = div_up(e.width, s.block[0]), h = div_up(e.height, s.block[1]);
   const uint64_t slices =
      (uint64_t)div_up(e.depth, s.block[2]) * (img->type == VK_IMAGE_TYPE_3D ? 1 : s.layers);
   const uint64_t row = div_up(r->row_length ? r->row_length : e.width, s.block[0]);
   const uint64_t rows = div_up(r->image_height ? r->image_height : e.height, s.block[1]);
   uint64_t size = 0;
   if (w && h && slices) {
      const uint64_t last_row = add_sat(mul_sat(slices - 1, rows), h - 1);
      size = mul_sat(add_sat(mul_sat(last_row, row), w), bytes);
   }
   *bytes_out = size == UINT64_MAX ? size - 1 : size;
   return true;
}

static bool buffer_image_region_ok(struct vd_dispatch *disp, uint32_t i, const char *buffer_name,
                                   VkBuffer buffer, const struct vd_image *img,
                                   const struct buffer_image_region *r)
{
   uint64_t size;
   if (!image_region_bytes(disp, i, img, r, &size))
      return false;
   char what[80];
   snprintf(what, sizeof(what), "pRegions[%u]: %s", i, buffer_name);
   return range_ok(disp, what, buffer, r->offset, size);
}

static void region_from_v1(struct buffer_image_region *out, const VkBufferImageCopy *r)
{
   *out =
      (struct buffer_image_region){ r->bufferOffset,     r->bufferRowLength, r->bufferImageHeight,
                                    r->imageSubresource, r->imageOffset,     r->imageExtent };
}

static void region_from_v2(struct buffer_image_region *out, const VkBufferImageCopy2 *r)
{
   *out =
      (struct buffer_image_region){ r->bufferOffset,     r->bufferRowLength, r->bufferImageHeight,
                                    r->imageSubresource, r->imageOffset,     r->imageExtent };
}

/* Every region of a buffer<->image copy (v1 regions, or v2's when `v2`) lies inside the
 * image named `image_field` and the buffer named `buffer_field`. */
static bool buffer_image_regions_ok(struct vd_dispatch *disp, const char *image_field,
                                    VkImage image, const char *buffer_field, VkBuffer buffer,
                                    uint32_t count, const void *regions, bool v2)
{
   const struct vd_image *img = image_of(disp, image_field, image);
   if (!img)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      struct buffer_image_region r;
      if (v2)
         region_from_v2(&r, &((const VkBufferImageCopy2 *)regions)[i]);
      else
         region_from_v1(&r, &((const VkBufferImageCopy *)regions)[i]);
      if (!buffer_image_region_ok(disp, i, buffer_field, buffer, img, &r))
         return false;
   }
   return true;
}

VD_HANDLER(vkCmdCopyBufferToImage)
{
   if (buffer_image_regions_ok(disp, "dstImage", a->dstImage, "srcBuffer", a->srcBuffer,
                               a->regionCount, a->pRegions, false))
      vd_object_vk(a->obj)->CmdCopyBufferToImage(a->commandBuffer, a->srcBuffer, a->dstImage,
                                                 a->dstImageLayout, a->regionCount, a->pRegions);
}

VD_HANDLER(vkCmdCopyBufferToImage2)
{
   const VkCopyBufferToImageInfo2 *c = a->pCopyBufferToImageInfo;
   if (buffer_image_regions_ok(disp, "dstImage", c->dstImage, "srcBuffer", c->srcBuffer,
                               c->regionCount, c->pRegions, true))
      vd_object_vk(a->obj)->CmdCopyBufferToImage2(a->commandBuffer, c);
}

VD_HANDLER(vkCmdCopyImageToBuffer)
{
   if (buffer_image_regions_ok(disp, "srcImage", a->srcImage, "dstBuffer", a->dstBuffer,
                               a->regionCount, a->pRegions, false))
      vd_object_vk(a->obj)->CmdCopyImageToBuffer(a->commandBuffer, a->srcImage, a->srcImageLayout,
                                                 a->dstBuffer, a->regionCount, a->pRegions);
}

VD_HANDLER(vkCmdCopyImageToBuffer2)
{
   const VkCopyImageToBufferInfo2 *c = a->pCopyImageToBufferInfo;
   if (buffer_image_regions_ok(disp, "srcImage", c->srcImage, "dstBuffer", c->dstBuffer,
                               c->regionCount, c->pRegions, true))
      vd_object_vk(a->obj)->CmdCopyImageToBuffer2(a->commandBuffer, c);
}

/* -- image <-> image copies, blits, resolves -------------------------------------------- */

/* Copies and resolves: `extent` texels of the source; the destination region has the same
 * number of texel blocks (sizes differ when a compressed and an uncompressed format are
 * copied).  A 2D side of a 2D <-> 3D copy takes extent.depth layers, which must be its
 * layerCount; two non-3D images copy the same number of layers, with extent.depth 1. */
static bool image_pair_ok(struct vd_dispatch *disp, uint32_t i, const struct vd_image *src,
                          const VkImageSubresourceLayers *ss, VkOffset3D so,
                          const struct vd_image *dst, const VkImageSubresourceLayers *ds,
                          VkOffset3D dof, VkExtent3D e)
{
   char what[64];
   struct subres s, d;
   snprintf(what, sizeof(what), "pRegions[%u].srcSubresource", i);
   if (!subresource_ok(disp, what, src, ss, &s))
      return false;
   snprintf(what, sizeof(what), "pRegions[%u].dstSubresource", i);
   if (!subresource_ok(disp, what, dst, ds, &d))
      return false;
   const bool s3 = src->type == VK_IMAGE_TYPE_3D, d3 = dst->type == VK_IMAGE_TYPE_3D;
   if (s3 != d3 ? e.depth != (s3 ? d.layers : s.layers)
                : (!s3 && (s.layers != d.layers || e.depth != 1))) {
      vd_dispatch_fatal(disp,
                        "pRegions[%u]: extent.depth %u, srcSubresource.layerCount %u and "
                        "dstSubresource.layerCount %u do not describe the same layers",
                        i, e.depth, ss->layerCount, ds->layerCount);
      return false;
   }
   VkExtent3D de = e;
   de.width = div_up(e.width, s.block[0]) * d.block[0];
   de.height = div_up(e.height, s.block[1]) * d.block[1];
   de.depth = div_up(e.depth, s.block[2]) * d.block[2];
   snprintf(what, sizeof(what), "pRegions[%u].srcOffset/extent", i);
   if (!region_ok(disp, what, &s, so, e, s3 ? e.depth : 1))
      return false;
   snprintf(what, sizeof(what), "pRegions[%u].dstOffset/extent", i);
   return region_ok(disp, what, &d, dof, de, d3 ? de.depth : 1);
}

static bool copies_ok(struct vd_dispatch *disp, VkImage src_image, VkImage dst_image,
                      uint32_t count, const void *regions, size_t stride, bool v2)
{
   const struct vd_image *src = image_of(disp, "srcImage", src_image);
   const struct vd_image *dst = src ? image_of(disp, "dstImage", dst_image) : NULL;
   if (!dst)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      const void *r = (const uint8_t *)regions + i * stride;
      bool ok;
      if (v2) {
         const VkImageCopy2 *c = r;
         ok = image_pair_ok(disp, i, src, &c->srcSubresource, c->srcOffset, dst, &c->dstSubresource,
                            c->dstOffset, c->extent);
      } else {
         const VkImageCopy *c = r;
         ok = image_pair_ok(disp, i, src, &c->srcSubresource, c->srcOffset, dst, &c->dstSubresource,
                            c->dstOffset, c->extent);
      }
      if (!ok)
         return false;
   }
   return true;
}

VD_HANDLER(vkCmdCopyImage)
{
   if (copies_ok(disp, a->srcImage, a->dstImage, a->regionCount, a->pRegions, sizeof(*a->pRegions),
                 false))
      vd_object_vk(a->obj)->CmdCopyImage(a->commandBuffer, a->srcImage, a->srcImageLayout,
                                         a->dstImage, a->dstImageLayout, a->regionCount,
                                         a->pRegions);
}

VD_HANDLER(vkCmdCopyImage2)
{
   const VkCopyImageInfo2 *c = a->pCopyImageInfo;
   if (copies_ok(disp, c->srcImage, c->dstImage, c->regionCount, c->pRegions, sizeof(*c->pRegions),
                 true))
      vd_object_vk(a->obj)->CmdCopyImage2(a->commandBuffer, c);
}

/* VkImageResolve and VkImageResolve2 have a VkImageCopy's members. */
static bool resolves_ok(struct vd_dispatch *disp, VkImage src_image, VkImage dst_image,
                        uint32_t count, const VkImageResolve *v1, const VkImageResolve2 *v2)
{
   const struct vd_image *src = image_of(disp, "srcImage", src_image);
   const struct vd_image *dst = src ? image_of(disp, "dstImage", dst_image) : NULL;
   if (!dst)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      const bool ok = v1 ? image_pair_ok(disp, i, src, &v1[i].srcSubresource, v1[i].srcOffset, dst,
                                         &v1[i].dstSubresource, v1[i].dstOffset, v1[i].extent)
                         : image_pair_ok(disp, i, src, &v2[i].srcSubresource, v2[i].srcOffset, dst,
                                         &v2[i].dstSubresource, v2[i].dstOffset, v2[i].extent);
      if (!ok)
         return false;
   }
   return true;
}

VD_HANDLER(vkCmdResolveImage)
{
   if (resolves_ok(disp, a->srcImage, a->dstImage, a->regionCount, a->pRegions, NULL))
      vd_object_vk(a->obj)->CmdResolveImage(a->commandBuffer, a->srcImage, a->srcImageLayout,
                                            a->dstImage, a->dstImageLayout, a->regionCount,
                                            a->pRegions);
}

VD_HANDLER(vkCmdResolveImage2)
{
   const VkResolveImageInfo2 *c = a->pResolveImageInfo;
   if (resolves_ok(disp, c->srcImage, c->dstImage, c->regionCount, NULL, c->pRegions))
      vd_object_vk(a->obj)->CmdResolveImage2(a->commandBuffer, c);
}

/* Blits: both corners of each side inside its subresource (z 0..1 for an image that is
 * not 3D), and as many layers on both sides. */
static bool blit_ok(struct vd_dispatch *disp, uint32_t i, const struct vd_image *src,
                    const VkImageSubresourceLayers *ss, const VkOffset3D so[2],
                    const struct vd_image *dst, const VkImageSubresourceLayers *ds,
                    const VkOffset3D dof[2])
{
   char what[64];
   struct subres s, d;
   snprintf(what, sizeof(what), "pRegions[%u].srcSubresource", i);
   if (!subresource_ok(disp, what, src, ss, &s))
      return false;
   snprintf(what, sizeof(what), "pRegions[%u].dstSubresource", i);
   if (!subresource_ok(disp, what, dst, ds, &d))
      return false;
   if (s.layers != d.layers) {
      vd_dispatch_fatal(disp,
                        "pRegions[%u]: srcSubresource.layerCount %u and "
                        "dstSubresource.layerCount %u differ",
                        i, ss->layerCount, ds->layerCount);
      return false;
   }
   for (int k = 0; k < 2; k++) {
      snprintf(what, sizeof(what), "pRegions[%u].srcOffsets[%d]", i, k);
      if (!corner_ok(disp, what, &s, so[k]))
         return false;
      snprintf(what, sizeof(what), "pRegions[%u].dstOffsets[%d]", i, k);
      if (!corner_ok(disp, what, &d, dof[k]))
         return false;
   }
   return true;
}

VD_HANDLER(vkCmdBlitImage)
{
   const struct vd_image *src = image_of(disp, "srcImage", a->srcImage);
   const struct vd_image *dst = src ? image_of(disp, "dstImage", a->dstImage) : NULL;
   if (!dst)
      return;
   for (uint32_t i = 0; i < a->regionCount; i++) {
      const VkImageBlit *r = &a->pRegions[i];
      if (!blit_ok(disp, i, src, &r->srcSubresource, r->srcOffsets, dst, &r->dstSubresource,
                   r->dstOffsets))
         return;
   }
   vd_object_vk(a->obj)->CmdBlitImage(a->commandBuffer, a->srcImage, a->srcImageLayout, a->dstImage,
                                      a->dstImageLayout, a->regionCount, a->pRegions, a->filter);
}

VD_HANDLER(vkCmdBlitImage2)
{
   const VkBlitImageInfo2 *c = a->pBlitImageInfo;
   const struct vd_image *src = image_of(disp, "srcImage", c->srcImage);
   const struct vd_image *dst = src ? image_of(disp, "dstImage", c->dstImage) : NULL;
   if (!dst)
      return;
   for (uint32_t i = 0; i < c->regionCount; i++) {
      const VkImageBlit2 *r = &c->pRegions[i];
      if (!blit_ok(disp, i, src, &r->srcSubresource, r->srcOffsets, dst, &r->dstSubresource,
                   r->dstOffsets))
         return;
   }
   vd_object_vk(a->obj)->CmdBlitImage2(a->commandBuffer, c);
}

/* -- queries ---------------------------------------------------------------------------- */

static bool query_ok(struct vd_dispatch *disp, VkQueryPool pool, uint32_t query)
{
   const struct vd_query_pool *p = vd_query_pool_of(disp, pool);
   if (!p)
      return false;
   if (query >= p->count) {
      vd_dispatch_fatal(disp, "query %u is not in the %u-query pool", query, p->count);
      return false;
   }
   return true;
}

VD_HANDLER(vkCmdWriteTimestamp)
{
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdWriteTimestamp(a->commandBuffer, a->pipelineStage, a->queryPool,
                                              a->query);
}

VD_HANDLER(vkCmdWriteTimestamp2)
{
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdWriteTimestamp2(a->commandBuffer, a->stage, a->queryPool, a->query);
}

VD_HANDLER(vkCmdBeginQuery)
{
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdBeginQuery(a->commandBuffer, a->queryPool, a->query, a->flags);
}

VD_HANDLER(vkCmdEndQuery)
{
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdEndQuery(a->commandBuffer, a->queryPool, a->query);
}

VD_HANDLER(vkCmdBeginQueryIndexedEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdBeginQueryIndexedEXT, NULL))
      return;
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdBeginQueryIndexedEXT(a->commandBuffer, a->queryPool, a->query,
                                                    a->flags, a->index);
}

VD_HANDLER(vkCmdEndQueryIndexedEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdEndQueryIndexedEXT, NULL))
      return;
   if (query_ok(disp, a->queryPool, a->query))
      vd_object_vk(a->obj)->CmdEndQueryIndexedEXT(a->commandBuffer, a->queryPool, a->query,
                                                  a->index);
}

VD_HANDLER(vkCmdResetQueryPool)
{
   const struct vd_query_pool *p = vd_query_pool_of(disp, a->queryPool);
   if (p && vd_query_range_ok(disp, p, a->firstQuery, a->queryCount))
      vd_object_vk(a->obj)->CmdResetQueryPool(a->commandBuffer, a->queryPool, a->firstQuery,
                                              a->queryCount);
}

VD_HANDLER(vkCmdCopyQueryPoolResults)
{
   const struct vd_query_pool *p = vd_query_pool_of(disp, a->queryPool);
   if (!p || !vd_query_range_ok(disp, p, a->firstQuery, a->queryCount))
      return;
   const uint64_t span = vd_query_results_span(p, a->queryCount, a->stride, a->flags);
   if (!range_ok(disp, "dstBuffer", a->dstBuffer, a->dstOffset, span))
      return;
   vd_object_vk(a->obj)->CmdCopyQueryPoolResults(a->commandBuffer, a->queryPool, a->firstQuery,
                                                 a->queryCount, a->dstBuffer, a->dstOffset,
                                                 a->stride, a->flags);
}

/* -- dynamic state indices --------------------------------------------------------------- */

/* lavapipe keeps vertex input state in arrays of its limits and looks each attribute's
 * binding up among the bindings given, dereferencing what it finds (a missing one is
 * NULL).  The spec bounds bindings, locations, strides and offsets by the host's limits and
 * requires every attribute's binding among the binding descriptions. */
static bool vertex_bindings_ok(struct vd_dispatch *disp, const VkPhysicalDeviceLimits *l,
                               uint32_t count, const VkVertexInputBindingDescription2EXT *b)
{
   if (!within_limit(disp, "first binding", 0, "vertexBindingDescriptionCount", count,
                     l->maxVertexInputBindings, "maxVertexInputBindings"))
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (b[i].binding >= l->maxVertexInputBindings ||
          b[i].stride > l->maxVertexInputBindingStride) {
         vd_dispatch_fatal(disp,
                           "pVertexBindingDescriptions[%u]: binding %u or stride %u is not below "
                           "the device's maxVertexInputBindings (%u) / maxVertexInputBindingStride "
                           "(%u)",
                           i, b[i].binding, b[i].stride, l->maxVertexInputBindings,
                           l->maxVertexInputBindingStride);
         return false;
      }
   }
   return true;
}

static bool vertex_attributes_ok(struct vd_dispatch *disp, const VkPhysicalDeviceLimits *l,
                                 uint32_t count, const VkVertexInputAttributeDescription2EXT *at,
                                 uint32_t binding_count,
                                 const VkVertexInputBindingDescription2EXT *b)
{
   if (!within_limit(disp, "first attribute", 0, "vertexAttributeDescriptionCount", count,
                     l->maxVertexInputAttributes, "maxVertexInputAttributes"))
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (at[i].location >= l->maxVertexInputAttributes ||
          at[i].offset > l->maxVertexInputAttributeOffset) {
         vd_dispatch_fatal(disp,
                           "pVertexAttributeDescriptions[%u]: location %u or offset %u is not "
                           "within the device's maxVertexInputAttributes (%u) / "
                           "maxVertexInputAttributeOffset (%u)",
                           i, at[i].location, at[i].offset, l->maxVertexInputAttributes,
                           l->maxVertexInputAttributeOffset);
         return false;
      }
      uint32_t j = 0;
      while (j < binding_count && b[j].binding != at[i].binding)
         j++;
      if (j == binding_count) {
         vd_dispatch_fatal(disp,
                           "pVertexAttributeDescriptions[%u].binding %u is not among the %u "
                           "pVertexBindingDescriptions",
                           i, at[i].binding, binding_count);
         return false;
      }
   }
   return true;
}

VD_HANDLER(vkCmdSetVertexInputEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdSetVertexInputEXT, NULL))
      return;
   const VkPhysicalDeviceLimits *l = limits_of(a->obj);
   const uint32_t nb = a->pVertexBindingDescriptions ? a->vertexBindingDescriptionCount : 0;
   const uint32_t na = a->pVertexAttributeDescriptions ? a->vertexAttributeDescriptionCount : 0;
   if (vertex_bindings_ok(disp, l, nb, a->pVertexBindingDescriptions) &&
       vertex_attributes_ok(disp, l, na, a->pVertexAttributeDescriptions, nb,
                            a->pVertexBindingDescriptions))
      vd_object_vk(a->obj)->CmdSetVertexInputEXT(
         a->commandBuffer, nb, a->pVertexBindingDescriptions, na, a->pVertexAttributeDescriptions);
}

/* Per-attachment blend state lives in arrays of maxColorAttachments entries. */
static bool attachments_ok(struct vd_dispatch *disp, const struct vd_object *cb, uint32_t first,
                           uint32_t count)
{
   return within_limit(disp, "firstAttachment", first, "attachmentCount", count,
                       limits_of(cb)->maxColorAttachments, "maxColorAttachments");
}

VD_HANDLER(vkCmdSetColorBlendEnableEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdSetColorBlendEnableEXT, NULL))
      return;
   if (attachments_ok(disp, a->obj, a->firstAttachment, a->attachmentCount))
      vd_object_vk(a->obj)->CmdSetColorBlendEnableEXT(a->commandBuffer, a->firstAttachment,
                                                      a->attachmentCount, a->pColorBlendEnables);
}

VD_HANDLER(vkCmdSetColorBlendEquationEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdSetColorBlendEquationEXT, NULL))
      return;
   if (attachments_ok(disp, a->obj, a->firstAttachment, a->attachmentCount))
      vd_object_vk(a->obj)->CmdSetColorBlendEquationEXT(
         a->commandBuffer, a->firstAttachment, a->attachmentCount, a->pColorBlendEquations);
}

VD_HANDLER(vkCmdSetColorWriteMaskEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdSetColorWriteMaskEXT, NULL))
      return;
   if (attachments_ok(disp, a->obj, a->firstAttachment, a->attachmentCount))
      vd_object_vk(a->obj)->CmdSetColorWriteMaskEXT(a->commandBuffer, a->firstAttachment,
                                                    a->attachmentCount, a->pColorWriteMasks);
}

VD_HANDLER(vkCmdSetColorBlendAdvancedEXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdSetColorBlendAdvancedEXT, NULL))
      return;
   if (attachments_ok(disp, a->obj, a->firstAttachment, a->attachmentCount))
      vd_object_vk(a->obj)->CmdSetColorBlendAdvancedEXT(a->commandBuffer, a->firstAttachment,
                                                        a->attachmentCount, a->pColorBlendAdvanced);
}

/* -- subresource ranges of clears and barriers ------------------------------------------ */

/* count, with VK_REMAINING_* (~0) resolved against the `total` from `base` (0 if base is
 * already past it). */
static uint32_t resolve_remaining(uint32_t count, uint32_t base, uint32_t total)
{
   if (count != VK_REMAINING_MIP_LEVELS)
      return count;
   return base < total ? total - base : 0;
}

/* Whether the range's mip levels and layers all lie in the image's (no report). */
static bool subresource_range_fits(const struct vd_image *img, const VkImageSubresourceRange *r,
                                   uint32_t layers)
{
   const uint32_t levels = resolve_remaining(r->levelCount, r->baseMipLevel, img->mip_levels);
   const uint32_t n = resolve_remaining(r->layerCount, r->baseArrayLayer, layers);
   return r->baseMipLevel < img->mip_levels &&
          (uint64_t)r->baseMipLevel + levels <= img->mip_levels && r->baseArrayLayer < layers &&
          (uint64_t)r->baseArrayLayer + n <= layers;
}

bool vd_subresource_range_ok(struct vd_dispatch *disp, const char *what, const struct vd_image *img,
                             const VkImageSubresourceRange *r, uint32_t layers)
{
   if (subresource_range_fits(img, r, layers))
      return true;
   vd_dispatch_fatal(disp,
                     "%s: mip levels %u + %u and array layers %u + %u are not all in the "
                     "image's %u mip levels and %u layers",
                     what, r->baseMipLevel, r->levelCount, r->baseArrayLayer, r->layerCount,
                     img->mip_levels, layers);
   return false;
}

/* The checks below name the element they report ("pRanges[3]") only once it has failed:
 * formatting the name of every barrier and range would cost more than checking it. */

static bool clear_ranges_ok(struct vd_dispatch *disp, VkImage image, uint32_t count,
                            const VkImageSubresourceRange *ranges)
{
   const struct vd_image *img = image_of(disp, "image", image);
   if (!img)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (subresource_range_fits(img, &ranges[i], img->array_layers))
         continue;
      char what[32];
      snprintf(what, sizeof(what), "pRanges[%u]", i);
      return vd_subresource_range_ok(disp, what, img, &ranges[i], img->array_layers);
   }
   return true;
}

VD_HANDLER(vkCmdClearColorImage)
{
   if (clear_ranges_ok(disp, a->image, a->rangeCount, a->pRanges))
      vd_object_vk(a->obj)->CmdClearColorImage(a->commandBuffer, a->image, a->imageLayout,
                                               a->pColor, a->rangeCount, a->pRanges);
}

VD_HANDLER(vkCmdClearDepthStencilImage)
{
   if (clear_ranges_ok(disp, a->image, a->rangeCount, a->pRanges))
      vd_object_vk(a->obj)->CmdClearDepthStencilImage(a->commandBuffer, a->image, a->imageLayout,
                                                      a->pDepthStencil, a->rangeCount, a->pRanges);
}

/* A barrier's buffer range lies in the buffer, its image subresource range in the image. */
static bool buffer_barrier_ok(struct vd_dispatch *disp, uint32_t i, VkBuffer buffer,
                              VkDeviceSize offset, VkDeviceSize size)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buffer);
   if (o) {
      const VkDeviceSize limit = ((const struct vd_buffer *)o->data)->size;
      if (offset <= limit && (size == VK_WHOLE_SIZE || size <= limit - offset))
         return true;
   }
   char what[48];
   snprintf(what, sizeof(what), "pBufferMemoryBarriers[%u]", i);
   return range_ok(disp, what, buffer, offset, size);
}

static bool image_barrier_ok(struct vd_dispatch *disp, uint32_t i, VkImage image,
                             const VkImageSubresourceRange *r)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)image);
   const struct vd_image *img = o ? o->data : NULL;
   if (img && subresource_range_fits(img, r, img->array_layers))
      return true;
   char what[64];
   snprintf(what, sizeof(what), "pImageMemoryBarriers[%u].subresourceRange", i);
   img = image_of(disp, what, image);
   return img && vd_subresource_range_ok(disp, what, img, r, img->array_layers);
}

bool vd_barriers_ok(struct vd_dispatch *disp, uint32_t buffer_count,
                    const VkBufferMemoryBarrier *buffers, uint32_t image_count,
                    const VkImageMemoryBarrier *images)
{
   for (uint32_t i = 0; i < buffer_count; i++)
      if (!buffer_barrier_ok(disp, i, buffers[i].buffer, buffers[i].offset, buffers[i].size))
         return false;
   for (uint32_t i = 0; i < image_count; i++)
      if (!image_barrier_ok(disp, i, images[i].image, &images[i].subresourceRange))
         return false;
   return true;
}

bool vd_dependency_ok(struct vd_dispatch *disp, const VkDependencyInfo *d)
{
   for (uint32_t i = 0; i < d->bufferMemoryBarrierCount; i++) {
      const VkBufferMemoryBarrier2 *b = &d->pBufferMemoryBarriers[i];
      if (!buffer_barrier_ok(disp, i, b->buffer, b->offset, b->size))
         return false;
   }
   for (uint32_t i = 0; i < d->imageMemoryBarrierCount; i++) {
      const VkImageMemoryBarrier2 *b = &d->pImageMemoryBarriers[i];
      if (!image_barrier_ok(disp, i, b->image, &b->subresourceRange))
         return false;
   }
   return true;
}

/* -- Vulkan 1.4 (VK_KHR_maintenance6) forms: the same index checks as their 1.0 forms ---- */

/* The layout these take may be VK_NULL_HANDLE only with dynamicPipelineLayout
 * (VK_NV_per_stage_descriptor_set: a chained VkPipelineLayoutCreateInfo stands for it), which
 * the Venus protocol lacks; drivers dereference the layout (VUID-VkBindDescriptorSetsInfo-
 * None-09495, VkPushConstantsInfo-None-09495). */
static bool layout_given(struct vd_dispatch *disp, const char *what, VkPipelineLayout layout)
{
   if (layout)
      return true;
   vd_dispatch_fatal(disp,
                     "%s->layout is VK_NULL_HANDLE (only dynamicPipelineLayout allows it, "
                     "which no Venus guest can enable)",
                     what);
   return false;
}

VD_HANDLER(vkCmdBindDescriptorSets2)
{
   const VkBindDescriptorSetsInfo *info = a->pBindDescriptorSetsInfo;
   if (layout_given(disp, "pBindDescriptorSetsInfo", info->layout) &&
       within_limit(disp, "pBindDescriptorSetsInfo->firstSet", info->firstSet, "descriptorSetCount",
                    info->descriptorSetCount, limits_of(a->obj)->maxBoundDescriptorSets,
                    "maxBoundDescriptorSets"))
      vd_object_vk(a->obj)->CmdBindDescriptorSets2(a->commandBuffer, info);
}

VD_HANDLER(vkCmdPushConstants2)
{
   const VkPushConstantsInfo *info = a->pPushConstantsInfo;
   if (layout_given(disp, "pPushConstantsInfo", info->layout) &&
       within_limit(disp, "pPushConstantsInfo->offset", info->offset, "size", info->size,
                    limits_of(a->obj)->maxPushConstantsSize, "maxPushConstantsSize"))
      vd_object_vk(a->obj)->CmdPushConstants2(a->commandBuffer, info);
}

/* -- host image copies through the Venus streams (venus_protocol spec 3) ------------------
 *
 * vkCopyImageToMemoryMESA / vkCopyMemoryToImageMESA carry the host image copy's memory in
 * the command (or reply) stream instead of a guest pointer: the region must lie inside the
 * image and the bytes it addresses inside the carried data, as for a buffer copy. */

/* A host image copy reads or writes the image's memory on the host at once, so the image
 * must have memory bound (it holds the VkDeviceMemory it was bound to, device_memory.c);
 * an image without would make the driver dereference nothing. */
static const struct vd_image *host_image_of(struct vd_dispatch *disp, const char *what,
                                            VkImage image)
{
   const struct vd_image *img = image_of(disp, what, image);
   if (!img)
      return NULL;
   struct vd_object *o = vd_dispatch_looked(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)image);
   struct vd_hold holds[8];
   const uint32_t n = vd_object_holds_copy(o, holds, 8);
   bool bound = false;
   for (uint32_t i = 0; i < n && i < 8; i++) {
      bound |= holds[i].obj->type == VK_OBJECT_TYPE_DEVICE_MEMORY;
      vd_object_unref(holds[i].obj);
   }
   if (!bound)
      vd_dispatch_fatal(disp, "%s: a host image copy on an image with no memory bound", what);
   return bound ? img : NULL;
}

static bool host_region_ok(struct vd_dispatch *disp, uint32_t i, const struct vd_image *img,
                           const struct buffer_image_region *r, size_t data_size)
{
   uint64_t size;
   if (!image_region_bytes(disp, i, img, r, &size))
      return false;
   char what[64];
   snprintf(what, sizeof(what), "pRegions[%u]: dataSize", i);
   return vd_range_fits(disp, what, 0, size, data_size, "data");
}

VD_HANDLER(vkCopyImageToMemoryMESA)
{
   const VkCopyImageToMemoryInfoMESA *info = a->pCopyImageToMemoryInfo;
   const struct vd_image *img =
      host_image_of(disp, "pCopyImageToMemoryInfo->srcImage", info->srcImage);
   const struct buffer_image_region r = { 0,
                                          info->memoryRowLength,
                                          info->memoryImageHeight,
                                          info->imageSubresource,
                                          info->imageOffset,
                                          info->imageExtent };
   if (!img || !host_region_ok(disp, 0, img, &r, a->dataSize))
      return;
   const VkImageToMemoryCopy region = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY,
      .pHostPointer = a->pData,
      .memoryRowLength = info->memoryRowLength,
      .memoryImageHeight = info->memoryImageHeight,
      .imageSubresource = info->imageSubresource,
      .imageOffset = info->imageOffset,
      .imageExtent = info->imageExtent,
   };
   const VkCopyImageToMemoryInfo host = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO,
      .flags = info->flags,
      .srcImage = info->srcImage,
      .srcImageLayout = info->srcImageLayout,
      .regionCount = 1,
      .pRegions = &region,
   };
   a->ret = vd_object_vk(a->obj)->CopyImageToMemory(a->device, &host);
}

VD_HANDLER(vkCopyMemoryToImageMESA)
{
   const VkCopyMemoryToImageInfoMESA *info = a->pCopyMemoryToImageInfo;
   const struct vd_image *img =
      host_image_of(disp, "pCopyMemoryToImageInfo->dstImage", info->dstImage);
   if (!img)
      return;
   VkMemoryToImageCopy *regions =
      vd_arena_alloc_array(&disp->arena, sizeof(*regions), info->regionCount);
   if (info->regionCount && !regions) {
      vd_dispatch_fatal(disp, "pCopyMemoryToImageInfo: out of memory for %u regions",
                        info->regionCount);
      return;
   }
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkMemoryToImageCopyMESA *m = &info->pRegions[i];
      const struct buffer_image_region r = { 0,
                                             m->memoryRowLength,
                                             m->memoryImageHeight,
                                             m->imageSubresource,
                                             m->imageOffset,
                                             m->imageExtent };
      if (!host_region_ok(disp, i, img, &r, m->dataSize))
         return;
      regions[i] = (VkMemoryToImageCopy){
         .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY,
         .pHostPointer = m->pData,
         .memoryRowLength = m->memoryRowLength,
         .memoryImageHeight = m->memoryImageHeight,
         .imageSubresource = m->imageSubresource,
         .imageOffset = m->imageOffset,
         .imageExtent = m->imageExtent,
      };
   }
   const VkCopyMemoryToImageInfo host = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO,
      .flags = info->flags,
      .dstImage = info->dstImage,
      .dstImageLayout = info->dstImageLayout,
      .regionCount = info->regionCount,
      .pRegions = regions,
   };
   a->ret = vd_object_vk(a->obj)->CopyMemoryToImage(a->device, &host);
}

/* Image to image on the host (Vulkan 1.4 / VK_EXT_host_image_copy): the regions of
 * vkCmdCopyImage2, both images with memory bound. */
VD_HANDLER(vkCopyImageToImage)
{
   const VkCopyImageToImageInfo *info = a->pCopyImageToImageInfo;
   if (host_image_of(disp, "pCopyImageToImageInfo->srcImage", info->srcImage) &&
       host_image_of(disp, "pCopyImageToImageInfo->dstImage", info->dstImage) &&
       copies_ok(disp, info->srcImage, info->dstImage, info->regionCount, info->pRegions,
                 sizeof(VkImageCopy2), true))
      a->ret = vd_object_vk(a->obj)->CopyImageToImage(a->device, info);
}

/* The subresource range of a layout transition lies inside its image (VK_REMAINING_*
 * counts: to the end). */
static bool range_in_image(struct vd_dispatch *disp, uint32_t i, const struct vd_image *img,
                           const VkImageSubresourceRange *r)
{
   const bool base_ok = r->baseMipLevel < img->mip_levels && r->baseArrayLayer < img->array_layers;
   const uint32_t levels = r->levelCount == VK_REMAINING_MIP_LEVELS && base_ok
                              ? img->mip_levels - r->baseMipLevel
                              : r->levelCount;
   const uint32_t layers = r->layerCount == VK_REMAINING_ARRAY_LAYERS && base_ok
                              ? img->array_layers - r->baseArrayLayer
                              : r->layerCount;
   if (!levels || !layers || !base_ok || levels > img->mip_levels - r->baseMipLevel ||
       r->baseArrayLayer >= img->array_layers || layers > img->array_layers - r->baseArrayLayer) {
      vd_dispatch_fatal(disp,
                        "pTransitions[%u].subresourceRange: mip levels %u+%u, layers %u+%u do "
                        "not fit the image's %u levels and %u layers",
                        i, r->baseMipLevel, r->levelCount, r->baseArrayLayer, r->layerCount,
                        img->mip_levels, img->array_layers);
      return false;
   }
   return true;
}

/* lavapipe indexes its color attachments with colorAttachment, clips each rectangle to the
 * framebuffer itself and clears the layers [baseArrayLayer, + layerCount) of the views.
 * venusd does not track render pass instances, so the layers are bounded only by the
 * host's maxFramebufferLayers (docs/design.md, "Not checked yet"). */
VD_HANDLER(vkCmdClearAttachments)
{
   const VkPhysicalDeviceLimits *l = limits_of(a->obj);
   for (uint32_t i = 0; i < a->attachmentCount; i++) {
      const VkClearAttachment *c = &a->pAttachments[i];
      if ((c->aspectMask & VK_IMAGE_ASPECT_COLOR_BIT) &&
          c->colorAttachment >= l->maxColorAttachments) {
         vd_dispatch_fatal(disp,
                           "pAttachments[%u].colorAttachment %u is not below the device's "
                           "maxColorAttachments (%u)",
                           i, c->colorAttachment, l->maxColorAttachments);
         return;
      }
   }
   for (uint32_t i = 0; i < a->rectCount; i++) {
      const VkClearRect *r = &a->pRects[i];
      if (!r->layerCount || (uint64_t)r->baseArrayLayer + r->layerCount > l->maxFramebufferLayers) {
         vd_dispatch_fatal(disp,
                           "pRects[%u]: baseArrayLayer %u + layerCount %u are not within the "
                           "device's maxFramebufferLayers (%u)",
                           i, r->baseArrayLayer, r->layerCount, l->maxFramebufferLayers);
         return;
      }
   }
   vd_object_vk(a->obj)->CmdClearAttachments(a->commandBuffer, a->attachmentCount, a->pAttachments,
                                             a->rectCount, a->pRects);
}

VD_HANDLER(vkTransitionImageLayout)
{
   for (uint32_t i = 0; i < a->transitionCount; i++) {
      const VkHostImageLayoutTransitionInfo *t = &a->pTransitions[i];
      const struct vd_image *img = host_image_of(disp, "pTransitions[].image", t->image);
      if (!img || !range_in_image(disp, i, img, &t->subresourceRange))
         return;
   }
   a->ret =
      vd_object_vk(a->obj)->TransitionImageLayout(a->device, a->transitionCount, a->pTransitions);
}

/* -- dynamic rendering local read (Vulkan 1.4): the driver indexes its per-attachment state
 * with these counts and values (the spec's limits: maxColorAttachments and
 * maxPerStageDescriptorInputAttachments; VK_ATTACHMENT_UNUSED aside) ----------------------- */

static bool index_ok(struct vd_dispatch *disp, const char *what, uint32_t i, uint32_t v,
                     uint32_t limit, const char *limit_name)
{
   if (v == VK_ATTACHMENT_UNUSED || v < limit)
      return true;
   vd_dispatch_fatal(disp, "%s[%u] = %u is not below the device's %s (%u)", what, i, v, limit_name,
                     limit);
   return false;
}

VD_HANDLER(vkCmdSetRenderingAttachmentLocations)
{
   const VkRenderingAttachmentLocationInfo *info = a->pLocationInfo;
   const uint32_t max = limits_of(a->obj)->maxColorAttachments;
   if (!within_limit(disp, "pLocationInfo->colorAttachmentCount", 0, "colorAttachmentCount",
                     info->colorAttachmentCount, max, "maxColorAttachments"))
      return;
   for (uint32_t i = 0; info->pColorAttachmentLocations && i < info->colorAttachmentCount; i++)
      if (!index_ok(disp, "pColorAttachmentLocations", i, info->pColorAttachmentLocations[i], max,
                    "maxColorAttachments"))
         return;
   vd_object_vk(a->obj)->CmdSetRenderingAttachmentLocations(a->commandBuffer, info);
}

bool vd_input_attachment_indices_ok(struct vd_dispatch *disp, const VkPhysicalDeviceLimits *l,
                                    const char *what,
                                    const VkRenderingInputAttachmentIndexInfo *info)
{
   const uint32_t max = l->maxPerStageDescriptorInputAttachments;
   char name[160];
   snprintf(name, sizeof(name), "%s->colorAttachmentCount", what);
   if (!within_limit(disp, name, 0, "colorAttachmentCount", info->colorAttachmentCount,
                     l->maxColorAttachments, "maxColorAttachments"))
      return false;
   snprintf(name, sizeof(name), "%s->pColorAttachmentInputIndices", what);
   for (uint32_t i = 0; info->pColorAttachmentInputIndices && i < info->colorAttachmentCount; i++)
      if (!index_ok(disp, name, i, info->pColorAttachmentInputIndices[i], max,
                    "maxPerStageDescriptorInputAttachments"))
         return false;
   snprintf(name, sizeof(name), "%s->pDepthInputAttachmentIndex", what);
   if (info->pDepthInputAttachmentIndex &&
       !index_ok(disp, name, 0, *info->pDepthInputAttachmentIndex, max,
                 "maxPerStageDescriptorInputAttachments"))
      return false;
   snprintf(name, sizeof(name), "%s->pStencilInputAttachmentIndex", what);
   return !info->pStencilInputAttachmentIndex ||
          index_ok(disp, name, 0, *info->pStencilInputAttachmentIndex, max,
                   "maxPerStageDescriptorInputAttachments");
}

VD_HANDLER(vkCmdSetRenderingInputAttachmentIndices)
{
   if (vd_input_attachment_indices_ok(disp, limits_of(a->obj), "pInputAttachmentIndexInfo",
                                      a->pInputAttachmentIndexInfo))
      vd_object_vk(a->obj)->CmdSetRenderingInputAttachmentIndices(a->commandBuffer,
                                                                  a->pInputAttachmentIndexInfo);
}
