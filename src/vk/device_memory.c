/* Device memory handlers: allocation through the device's memory backend (backing/), blobs
 * the guest maps, and imports of guest resources (VkImportMemoryResourceInfoMESA). */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* Frees the host memory and releases what it was charged. */
static void memory_release(struct vd_context *ctx, struct vd_memory *mem, bool fd_charged)
{
   if (mem->backend)
      mem->backend->free(mem);
   else
      mem->dev->vk->FreeMemory(mem->dev->handle, mem->handle, NULL);
   vd_limit_release(ctx, VD_LIMIT_MEMORY, mem->size);
   if (fd_charged)
      vd_limit_release(ctx, VD_LIMIT_FDS, 1);
   free(mem);
}

static void memory_destroy(struct vd_object *obj)
{
   struct vd_memory *mem = obj->data;
   memory_release(mem->ctx, mem, mem->fd_charged);
}

/* The total of the heaps of the device: the default per-context device memory limit. */
static uint64_t heaps_total(const struct vd_physical_device *pd)
{
   uint64_t total = 0;
   for (uint32_t i = 0; i < pd->memory_props.memoryHeapCount; i++) {
      const uint64_t size = pd->memory_props.memoryHeaps[i].size;
      total = total > UINT64_MAX - size ? UINT64_MAX : total + size;
   }
   return total;
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
      vd_warn(VD_CAT_MEMORY,
              "context %u: vkAllocateMemory of %" PRIu64 " bytes exceeds heap %u "
              "(%" PRIu64 " bytes): VK_ERROR_OUT_OF_DEVICE_MEMORY",
              disp->ctx->params.id, info.allocationSize, type->heapIndex,
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

   /* Counted at allocation (imports too: the guest's resource is mapped again), released
    * at free; past the limit, out of device memory, as for a full heap. */
   if (!vd_limit_charge_max(disp->ctx, VD_LIMIT_MEMORY, info.allocationSize, heaps_total(pd))) {
      if (res)
         vd_resource_unref(res);
      a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
      return;
   }
   struct vd_memory *mem = calloc(1, sizeof(*mem));
   if (!mem) {
      vd_limit_release(disp->ctx, VD_LIMIT_MEMORY, info.allocationSize);
      if (res)
         vd_resource_unref(res);
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   mem->ctx = disp->ctx;
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
      vd_warn(VD_CAT_MEMORY,
              "context %u: vkAllocateMemory of %" PRIu64 " bytes, type %u failed: "
              "VkResult %d",
              disp->ctx->params.id, info.allocationSize, info.memoryTypeIndex, a->ret);
      vd_limit_release(disp->ctx, VD_LIMIT_MEMORY, info.allocationSize);
      free(mem);
      return;
   }
   /* A shared-memory backing (host-pointer) is an fd held for the context: past the fd
    * limit, too many objects, as for maxMemoryAllocationCount. */
   if (mem->fd >= 0) {
      if (!vd_limit_charge(disp->ctx, VD_LIMIT_FDS, 1)) {
         memory_release(disp->ctx, mem, false);
         a->ret = VK_ERROR_TOO_MANY_OBJECTS;
         return;
      }
      mem->fd_charged = true;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)mem->handle,
                      a->obj, mem, memory_destroy))
      memory_release(disp->ctx, mem, mem->fd_charged);
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
      vd_warn(VD_CAT_MEMORY, "context %u: blob for unknown VkDeviceMemory %" PRIu64, ctx->params.id,
              blob_id);
      if (obj)
         vd_object_unref(obj);
      return -EINVAL;
   }
   struct vd_memory *mem = obj->data;
   int ret = -ENOTSUP;
   if (!mem->backend)
      vd_warn(VD_CAT_MEMORY,
              "context %u: VkDeviceMemory %" PRIu64 ": no memory backend can share "
              "it (see the backend choice logged at start-up)",
              ctx->params.id, blob_id);
   else if (size > ((mem->size + 4095) & ~(uint64_t)4095))
      /* virtio-gpu blobs are whole pages: a guest kernel asks for the allocation rounded
       * up to its page size (the backend checks the rest against its backing). */
      ret = -EINVAL;
   else
      ret = mem->backend->export_blob(mem, size, out);
   if (!ret && out->fd_type == VD_FD_TYPE_OPAQUE && (flags & VD_BLOB_FLAG_MAPPABLE)) {
      /* An opaque fd is only good for importing into another Vulkan device: neither a vtest
       * client nor a VMM can mmap it, so a mappable blob of one would fail later, far from
       * the cause. */
      vd_err(VD_CAT_MEMORY,
             "context %u: VkDeviceMemory %" PRIu64 " is exported as an opaque "
             "fd, which cannot be mapped; run venusd with --memory host-pointer (or auto)",
             ctx->params.id, blob_id);
      close(out->fd);
      ret = -EINVAL;
   }
   if (ret)
      vd_warn(VD_CAT_MEMORY,
              "context %u: blob of %" PRIu64 " bytes (flags 0x%x) for VkDeviceMemory "
              "%" PRIu64 " failed: %d",
              ctx->params.id, size, flags, blob_id, ret);
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
      if (dev->pdev->memory_props.memoryTypes[i].propertyFlags &
          VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
         bits |= 1u << i;
   a->pMemoryResourceProperties->memoryTypeBits = dev->pdev->memory ? bits : 0;
   for (VkBaseOutStructure *s = a->pMemoryResourceProperties->pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA)
         ((VkMemoryResourceAllocationSizePropertiesMESA *)s)->allocationSize = res->size;
   vd_resource_unref(res);
   a->ret = VK_SUCCESS;
}

/* -- binding resources to memory -------------------------------------------------------- *
 *
 * The driver trusts the offsets it is given: lavapipe, for one, computes host pointers
 * from them.  So every bind is checked against the allocation size the guest declared (the
 * backing is at least that large): a resource must lie entirely inside its memory.  A bind
 * outside it is invalid usage that would make the host read or write out of bounds, so it
 * makes the context fatal rather than reaching the driver. */

static bool bind_fits(struct vd_dispatch *disp, const char *what, uint32_t index,
                      VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size)
{
   char where[96];
   if (index != UINT32_MAX)
      snprintf(where, sizeof(where), "%s[%u]", what, index);
   else
      snprintf(where, sizeof(where), "%s", what);
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)memory);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: memory not found among the command's objects", where);
      return false;
   }
   return vd_range_fits(disp, where, offset, size, ((const struct vd_memory *)o->data)->size,
                        "allocation");
}

static VkDeviceSize buffer_size(const struct vd_vk_dispatch *vk, VkDevice dev, VkBuffer buffer)
{
   VkMemoryRequirements r;
   vk->GetBufferMemoryRequirements(dev, buffer, &r);
   return r.size;
}

static VkDeviceSize image_size(const struct vd_vk_dispatch *vk, VkDevice dev, VkImage image,
                               const void *bind_pnext)
{
   /* A disjoint multi-planar image binds one plane at a time. */
   VkImagePlaneMemoryRequirementsInfo plane = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO,
   };
   VkImageMemoryRequirementsInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
      .image = image,
   };
   for (const VkBaseInStructure *s = bind_pnext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO) {
         plane.planeAspect = ((const VkBindImagePlaneMemoryInfo *)s)->planeAspect;
         info.pNext = &plane;
      }
   }
   VkMemoryRequirements2 r = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
   vk->GetImageMemoryRequirements2(dev, &info, &r);
   return r.memoryRequirements.size;
}

/* A bound buffer or image holds its memory: the host object points into it until it is
 * destroyed (docs/design.md, "Lifetimes").  Held even when the bind failed: holding more
 * is safe. */
static void hold_memory(struct vd_dispatch *disp, uint32_t type, uint64_t handle,
                        VkDeviceMemory memory)
{
   struct vd_object *res = vd_dispatch_looked(disp, type, handle);
   struct vd_object *mem =
      memory ? vd_dispatch_looked(disp, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)memory)
             : NULL;
   if (res && mem && !vd_object_hold(res, mem))
      vd_dispatch_fatal(disp, "out of memory holding the memory of object %" PRIu64, res->id);
}

/* A bound buffer's device address can be named by commands (device_address.c). */
static void buffer_bound(struct vd_dispatch *disp, VkBuffer buffer)
{
   struct vd_object *b =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buffer);
   if (b)
      vd_address_buffer_bound(b);
}

VD_HANDLER(vkBindBufferMemory)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   if (bind_fits(disp, "memoryOffset", UINT32_MAX, a->memory, a->memoryOffset,
                 buffer_size(vk, a->device, a->buffer))) {
      a->ret = vk->BindBufferMemory(a->device, a->buffer, a->memory, a->memoryOffset);
      hold_memory(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)a->buffer, a->memory);
      if (a->ret == VK_SUCCESS)
         buffer_bound(disp, a->buffer);
   }
}

/* Device indices name physical devices of the device's group.  A split-instance bind
 * needs an image created with SPLIT_INSTANCE_BIND_REGIONS, which a group of one device may
 * not create; its regions are group_size^2 rectangles otherwise. */
static bool device_indices_ok(struct vd_dispatch *disp, const struct vd_device *dev, uint32_t i,
                              uint32_t count, const uint32_t *indices, uint32_t regions)
{
   for (uint32_t j = 0; indices && j < count; j++) {
      if (indices[j] >= dev->group_size) {
         vd_dispatch_fatal(disp,
                           "pBindInfos[%u]: pDeviceIndices[%u] %u is not below the device's %u "
                           "physical devices",
                           i, j, indices[j], dev->group_size);
         return false;
      }
   }
   if (regions && (dev->group_size == 1 || regions != dev->group_size * dev->group_size)) {
      vd_dispatch_fatal(disp,
                        "pBindInfos[%u]: splitInstanceBindRegionCount %u on a device of %u "
                        "physical devices",
                        i, regions, dev->group_size);
      return false;
   }
   return true;
}

static bool buffer_group_ok(struct vd_dispatch *disp, const struct vd_device *dev, uint32_t i,
                            const void *pnext)
{
   const VkBindBufferMemoryDeviceGroupInfo *g =
      vd_chain_find(pnext, VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_DEVICE_GROUP_INFO);
   return !g || device_indices_ok(disp, dev, i, g->deviceIndexCount, g->pDeviceIndices, 0);
}

static bool image_group_ok(struct vd_dispatch *disp, const struct vd_device *dev, uint32_t i,
                           const void *pnext)
{
   const VkBindImageMemoryDeviceGroupInfo *g =
      vd_chain_find(pnext, VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_DEVICE_GROUP_INFO);
   return !g || device_indices_ok(disp, dev, i, g->deviceIndexCount, g->pDeviceIndices,
                                  g->splitInstanceBindRegionCount);
}

/* Heap and device indices of the query name a heap and devices of the group. */
VD_HANDLER(vkGetDeviceGroupPeerMemoryFeatures)
{
   const struct vd_device *dev = a->obj->data;
   const uint32_t heaps = dev->pdev->memory_props.memoryHeapCount;
   if (a->heapIndex >= heaps || a->localDeviceIndex >= dev->group_size ||
       a->remoteDeviceIndex >= dev->group_size) {
      vd_dispatch_fatal(disp,
                        "heapIndex %u, localDeviceIndex %u, remoteDeviceIndex %u: the device "
                        "has %u heaps and %u physical devices",
                        a->heapIndex, a->localDeviceIndex, a->remoteDeviceIndex, heaps,
                        dev->group_size);
      return;
   }
   dev->vk->GetDeviceGroupPeerMemoryFeatures(a->device, a->heapIndex, a->localDeviceIndex,
                                             a->remoteDeviceIndex, a->pPeerMemoryFeatures);
}

VD_HANDLER(vkBindBufferMemory2)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   for (uint32_t i = 0; i < a->bindInfoCount; i++) {
      const VkBindBufferMemoryInfo *b = &a->pBindInfos[i];
      if (!buffer_group_ok(disp, a->obj->data, i, b->pNext) ||
          !bind_fits(disp, "pBindInfos", i, b->memory, b->memoryOffset,
                     buffer_size(vk, a->device, b->buffer)))
         return;
   }
   a->ret = vk->BindBufferMemory2(a->device, a->bindInfoCount, a->pBindInfos);
   for (uint32_t i = 0; i < a->bindInfoCount; i++) {
      hold_memory(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)a->pBindInfos[i].buffer,
                  a->pBindInfos[i].memory);
      if (a->ret == VK_SUCCESS)
         buffer_bound(disp, a->pBindInfos[i].buffer);
   }
}

VD_HANDLER(vkBindImageMemory)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   if (bind_fits(disp, "memoryOffset", UINT32_MAX, a->memory, a->memoryOffset,
                 image_size(vk, a->device, a->image, NULL))) {
      a->ret = vk->BindImageMemory(a->device, a->image, a->memory, a->memoryOffset);
      hold_memory(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)a->image, a->memory);
   }
}

VD_HANDLER(vkBindImageMemory2)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   for (uint32_t i = 0; i < a->bindInfoCount; i++) {
      const VkBindImageMemoryInfo *b = &a->pBindInfos[i];
      if (!image_group_ok(disp, a->obj->data, i, b->pNext) ||
          !bind_fits(disp, "pBindInfos", i, b->memory, b->memoryOffset,
                     image_size(vk, a->device, b->image, b->pNext)))
         return;
   }
   a->ret = vk->BindImageMemory2(a->device, a->bindInfoCount, a->pBindInfos);
   for (uint32_t i = 0; i < a->bindInfoCount; i++)
      hold_memory(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)a->pBindInfos[i].image,
                  a->pBindInfos[i].memory);
}

bool vd_sparse_binds_fit(struct vd_dispatch *disp, const struct vd_device *dev,
                         const VkBindSparseInfo *infos, uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkBindSparseInfo *b = &infos[i];
      if (dev->pdev->sparse_hidden &&
          (b->bufferBindCount || b->imageOpaqueBindCount || b->imageBindCount)) {
         vd_dispatch_fatal(disp,
                           "pBindInfo[%u]: sparse binding is not offered on this "
                           "device (%s cannot bind host-pointer memory sparsely; see "
                           "vkGetPhysicalDeviceFeatures)",
                           i, dev->pdev->props.deviceName);
         return false;
      }
      for (uint32_t j = 0; j < b->bufferBindCount; j++)
         for (uint32_t k = 0; k < b->pBufferBinds[j].bindCount; k++) {
            const VkSparseMemoryBind *m = &b->pBufferBinds[j].pBinds[k];
            if (m->memory &&
                !bind_fits(disp, "pBufferBinds: pBinds", k, m->memory, m->memoryOffset, m->size))
               return false;
         }
      for (uint32_t j = 0; j < b->imageOpaqueBindCount; j++)
         for (uint32_t k = 0; k < b->pImageOpaqueBinds[j].bindCount; k++) {
            const VkSparseMemoryBind *m = &b->pImageOpaqueBinds[j].pBinds[k];
            if (m->memory && !bind_fits(disp, "pImageOpaqueBinds: pBinds", k, m->memory,
                                        m->memoryOffset, m->size))
               return false;
         }
      /* Image binds are measured in texels; the driver sizes them, so only the offset is
       * checked here. */
      for (uint32_t j = 0; j < b->imageBindCount; j++)
         for (uint32_t k = 0; k < b->pImageBinds[j].bindCount; k++) {
            const VkSparseImageMemoryBind *m = &b->pImageBinds[j].pBinds[k];
            if (m->memory &&
                !bind_fits(disp, "pImageBinds: pBinds", k, m->memory, m->memoryOffset, 0))
               return false;
         }
   }
   return true;
}
