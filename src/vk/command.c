/* Commands recorded into command buffers whose buffer ranges the driver does not check.
 *
 * Drivers trust the offsets and sizes of transfer and indirect commands; lavapipe turns
 * them into host memcpy()s and reads.  A range outside its buffer is invalid usage that
 * would reach outside the buffer's memory, so it makes the context fatal here instead of
 * being recorded.  (Not checked yet: buffer <-> image copies, whose extent depends on the
 * image format, and vkCmdCopyQueryPoolResults, whose size depends on the query type.) */
#include <inttypes.h>

#include "util/log.h"
#include "vk/vk_common.h"

bool vd_range_fits(struct vd_dispatch *disp, const char *what, VkDeviceSize offset,
                   VkDeviceSize size, VkDeviceSize limit, const char *container)
{
   if (offset > limit || (size != VK_WHOLE_SIZE && size > limit - offset)) {
      vd_dispatch_fatal(disp, "%s: %" PRIu64 " bytes at offset %" PRIu64 " do not fit the %"
                        PRIu64 "-byte %s", what, (uint64_t)size, (uint64_t)offset,
                        (uint64_t)limit, container);
      return false;
   }
   return true;
}

/* [offset, offset + size) lies inside the buffer; size VK_WHOLE_SIZE means "to the end". */
static bool range_ok(struct vd_dispatch *disp, const char *what, VkBuffer buffer,
                     VkDeviceSize offset, VkDeviceSize size)
{
   const struct vd_object *o = vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER,
                                                  (uint64_t)(uintptr_t)buffer);
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
   vd_object_vk(a->obj)->CmdCopyBuffer(a->commandBuffer, a->srcBuffer, a->dstBuffer,
                                       a->regionCount, a->pRegions);
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
   if (range_ok(disp, "buffer", a->buffer, a->offset, sizeof(VkDispatchIndirectCommand)))
      vd_object_vk(a->obj)->CmdDispatchIndirect(a->commandBuffer, a->buffer, a->offset);
}

VD_HANDLER(vkCmdDrawIndirect)
{
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->drawCount, a->stride,
                  sizeof(VkDrawIndirectCommand)))
      vd_object_vk(a->obj)->CmdDrawIndirect(a->commandBuffer, a->buffer, a->offset, a->drawCount,
                                            a->stride);
}

VD_HANDLER(vkCmdDrawIndexedIndirect)
{
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->drawCount, a->stride,
                  sizeof(VkDrawIndexedIndirectCommand)))
      vd_object_vk(a->obj)->CmdDrawIndexedIndirect(a->commandBuffer, a->buffer, a->offset,
                                                   a->drawCount, a->stride);
}

VD_HANDLER(vkCmdDrawIndirectCount)
{
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->maxDrawCount, a->stride,
                  sizeof(VkDrawIndirectCommand)) &&
       range_ok(disp, "countBuffer", a->countBuffer, a->countBufferOffset, sizeof(uint32_t)))
      vd_object_vk(a->obj)->CmdDrawIndirectCount(a->commandBuffer, a->buffer, a->offset,
                                                 a->countBuffer, a->countBufferOffset,
                                                 a->maxDrawCount, a->stride);
}

VD_HANDLER(vkCmdDrawIndexedIndirectCount)
{
   if (records_ok(disp, "buffer", a->buffer, a->offset, a->maxDrawCount, a->stride,
                  sizeof(VkDrawIndexedIndirectCommand)) &&
       range_ok(disp, "countBuffer", a->countBuffer, a->countBufferOffset, sizeof(uint32_t)))
      vd_object_vk(a->obj)->CmdDrawIndexedIndirectCount(a->commandBuffer, a->buffer, a->offset,
                                                        a->countBuffer, a->countBufferOffset,
                                                        a->maxDrawCount, a->stride);
}
