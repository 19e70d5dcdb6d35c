/* Device memory handlers: allocation through the device's memory backend (memory/), blobs
 * the guest maps, and imports of guest resources (VkImportMemoryResourceInfoMESA). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/log.h"
#include "vk/vk_common.h"

static void memory_destroy(struct vd_object *obj)
{
   struct vd_memory *mem = obj->data;
   if (mem->backend)
      mem->backend->free(mem);
   else
      mem->dev->vk->FreeMemory(mem->dev->handle, mem->handle, NULL);
   free(mem);
}

VD_HANDLER(vkAllocateMemory)
{
   struct vd_device *dev = a->obj->data;
   const struct vd_physical_device *pd = dev->pdev;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pMemory;
   VkMemoryAllocateInfo info = *a->pAllocateInfo;

   if (info.memoryTypeIndex >= pd->memory_props.memoryTypeCount) {
      vd_warn(VD_CAT_MEMORY, "context %u: vkAllocateMemory: memoryTypeIndex %u (the device has %u)",
              disp->ctx->params.id, info.memoryTypeIndex, pd->memory_props.memoryTypeCount);
      a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
      return;
   }
   /* Larger than its heap: refused before any backing is made (a guest must not make
    * venusd create a terabyte memfd). */
   const VkMemoryType *type = &pd->memory_props.memoryTypes[info.memoryTypeIndex];
   if (type->heapIndex < pd->memory_props.memoryHeapCount &&
       info.allocationSize > pd->memory_props.memoryHeaps[type->heapIndex].size) {
      vd_warn(VD_CAT_MEMORY, "context %u: vkAllocateMemory of %" PRIu64 " bytes exceeds heap %u "
              "(%" PRIu64 " bytes): VK_ERROR_OUT_OF_DEVICE_MEMORY", disp->ctx->params.id,
              info.allocationSize, type->heapIndex,
              pd->memory_props.memoryHeaps[type->heapIndex].size);
      a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
      return;
   }
   struct vd_resource *res = NULL;
   for (const VkBaseInStructure *s = info.pNext; s; s = s->pNext) {
      if (s->sType != VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA)
         continue;
      const uint32_t res_id = ((const VkImportMemoryResourceInfoMESA *)s)->resourceId;
      res = vd_context_get_resource(disp->ctx, res_id);
      if (!res) {
         /* A bad resource id fails this allocation only. */
         vd_warn(VD_CAT_MEMORY, "context %u: vkAllocateMemory imports unknown resource %u",
                 disp->ctx->params.id, res_id);
         a->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         return;
      }
   }
   vd_strip_mesa_structs(&info.pNext);

   struct vd_memory *mem = calloc(1, sizeof(*mem));
   if (!mem) {
      if (res)
         vd_resource_unref(res);
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   mem->dev = dev;
   mem->backend = pd->memory;
   mem->size = info.allocationSize;
   mem->type_index = info.memoryTypeIndex;
   mem->flags = pd->memory_props.memoryTypes[info.memoryTypeIndex].propertyFlags;
   mem->fd = -1;
   if (mem->backend)
      a->ret = mem->backend->allocate(dev, &info, res ? res->fd : -1, res ? res->size : 0, mem);
   else if (res)
      a->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
   else
      a->ret = dev->vk->AllocateMemory(dev->handle, &info, NULL, &mem->handle);
   if (res)
      vd_resource_unref(res);
   if (a->ret != VK_SUCCESS) {
      vd_warn(VD_CAT_MEMORY, "context %u: vkAllocateMemory of %" PRIu64 " bytes, type %u failed: "
              "VkResult %d", disp->ctx->params.id, info.allocationSize, info.memoryTypeIndex, a->ret);
      free(mem);
      return;
   }
   vd_object_add(disp, id, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)mem->handle, a->obj,
                 mem, memory_destroy);
}

VD_HANDLER(vkFreeMemory)
{
   if (a->target)
      vd_object_remove(disp, a->target->id);
}

int vd_device_memory_export_blob(struct vd_context *ctx, uint64_t blob_id, uint64_t size,
                                 uint32_t flags, struct vd_blob *out)
{
   struct vd_object *obj = vd_objtable_get(ctx->objects, blob_id);
   if (!obj || obj->type != VK_OBJECT_TYPE_DEVICE_MEMORY) {
      vd_warn(VD_CAT_MEMORY, "context %u: blob for unknown VkDeviceMemory %" PRIu64,
              ctx->params.id, blob_id);
      if (obj)
         vd_object_unref(obj);
      return -EINVAL;
   }
   struct vd_memory *mem = obj->data;
   int ret = -ENOTSUP;
   if (!mem->backend)
      vd_warn(VD_CAT_MEMORY, "context %u: VkDeviceMemory %" PRIu64 ": no memory backend can share "
              "it (see the backend choice logged at start-up)", ctx->params.id, blob_id);
   else if (size > mem->size)
      ret = -EINVAL;
   else
      ret = mem->backend->export_blob(mem, size, out);
   if (!ret && out->fd_type == VD_FD_TYPE_OPAQUE && (flags & VD_BLOB_FLAG_MAPPABLE)) {
      /* An opaque fd is only good for importing into another Vulkan device: neither a vtest
       * client nor a VMM can mmap it, so a mappable blob of one would fail later, far from
       * the cause. */
      vd_err(VD_CAT_MEMORY, "context %u: VkDeviceMemory %" PRIu64 " is exported as an opaque "
             "fd, which cannot be mapped; run venusd with --memory host-pointer (or auto)",
             ctx->params.id, blob_id);
      close(out->fd);
      ret = -EINVAL;
   }
   if (ret)
      vd_warn(VD_CAT_MEMORY, "context %u: blob of %" PRIu64 " bytes (flags 0x%x) for VkDeviceMemory "
              "%" PRIu64 " failed: %d", ctx->params.id, size, flags, blob_id, ret);
   else
      mem->exported = true;
   vd_object_unref(obj);
   return ret;
}

VD_HANDLER(vkGetMemoryResourcePropertiesMESA)
{
   struct vd_device *dev = a->obj->data;
   struct vd_resource *res = vd_context_get_resource(disp->ctx, a->resourceId);
   if (!res || res->fd_type != VD_FD_TYPE_SHM || !res->ptr) {
      a->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
      if (res)
         vd_resource_unref(res);
      return;
   }
   /* Shared memory can back any host-visible type the host-pointer import accepts. */
   uint32_t bits = 0;
   for (uint32_t i = 0; i < dev->pdev->memory_props.memoryTypeCount; i++)
      if (dev->pdev->memory_props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
         bits |= 1u << i;
   a->pMemoryResourceProperties->memoryTypeBits = dev->pdev->memory ? bits : 0;
   for (VkBaseOutStructure *s = a->pMemoryResourceProperties->pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA)
         ((VkMemoryResourceAllocationSizePropertiesMESA *)s)->allocationSize = res->size;
   vd_resource_unref(res);
   a->ret = VK_SUCCESS;
}
