/* External objects the guest believes in: SYNC_FD semaphores and fences, dma-buf memory
 * and the foreign queue family.
 *
 * Mesa's Venus driver offers Vulkan 1.3 and VK_KHR_swapchain only when the renderer
 * imports SYNC_FD semaphores, lists dma-buf memory and the foreign queue family (and DRM
 * format modifiers, modifier.c).  It never passes a real sync_fd to the renderer: it waits
 * for imported sync files on its own CPU and then asks for the host semaphore to be
 * signalled (vkImportSemaphoreResourceMESA with resource 0), and for exports it asks the
 * renderer to consume the host semaphore's signal (vkWaitSemaphoreResourceMESA) or reset
 * the host fence (vkResetFenceResourceMESA).  Where the host driver has SYNC_FD these map
 * onto its import/export; where it does not (lavapipe, MoltenVK) venusd does the same
 * with empty host submissions and fence waits (emulation.c decides which).
 *
 * dma-buf and opaque-fd memory: whatever the guest calls it, the memory it can share is
 * venusd's blob memory, so the handle types in create infos and queries are rewritten to
 * the one the memory backend really uses. */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "vk/vk_common.h"

#define GUEST_MEMORY_HANDLE_TYPES \
   (VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT | VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT)

/* -- records ------------------------------------------------------------------------- */

static void destroy_host_sync(const struct vd_device *dev, uint32_t type, uint64_t handle)
{
   if (type == VK_OBJECT_TYPE_SEMAPHORE)
      dev->vk->DestroySemaphore(dev->handle, (VkSemaphore)(uintptr_t)handle, NULL);
   else
      dev->vk->DestroyFence(dev->handle, (VkFence)(uintptr_t)handle, NULL);
}

static void sync_destroy(struct vd_object *obj)
{
   struct vd_sync *s = obj->data;
   destroy_host_sync(s->dev, obj->type, obj->handle);
   free(s);
}

/* Records a new host semaphore or fence under the guest's id (a failure destroys it). */
static VkResult add_sync(struct vd_dispatch *disp, struct vd_object *dev_obj, uint64_t id,
                         VkObjectType type, uint64_t handle, VkSemaphoreType kind)
{
   struct vd_device *dev = dev_obj->data;
   struct vd_sync *rec = malloc(sizeof(*rec));
   if (!rec) {
      destroy_host_sync(dev, type, handle);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   *rec = (struct vd_sync){ .dev = dev, .type = kind };
   if (!vd_object_add(disp, id, type, handle, dev_obj, rec, sync_destroy)) {
      destroy_host_sync(dev, type, handle); /* the context is fatal now */
      free(rec);
   }
   return VK_SUCCESS;
}

/* The SYNC_FD export request (`stype`) in a create chain: venusd's emulation needs none and
 * drops the guest's; where the host's own SYNC_FD serves the MESA resource commands, the
 * object must be exportable (`needed`), so `export` is added when the guest gave none. */
static void fix_export_request(const void **pnext, VkStructureType stype, bool emulated,
                               bool needed, VkBaseInStructure *export)
{
   if (emulated) {
      vd_chain_unlink(pnext, stype);
   } else if (needed && !vd_chain_find(*pnext, stype)) {
      export->pNext = *pnext;
      *pnext = export;
   }
}

VD_HANDLER(vkCreateSemaphore)
{
   struct vd_device *dev = a->obj->data;
   VkSemaphoreCreateInfo info = *a->pCreateInfo;
   vd_strip_mesa_structs(&info.pNext);
   const VkSemaphoreTypeCreateInfo *type =
      vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   const VkSemaphoreType kind = type ? type->semaphoreType : VK_SEMAPHORE_TYPE_BINARY;
   VkExportSemaphoreCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   /* vkWaitSemaphoreResourceMESA exports a SYNC_FD from any binary semaphore. */
   fix_export_request(&info.pNext, export.sType, dev->emulated & VD_EMU_SYNC_FD_SEMAPHORE,
                      kind == VK_SEMAPHORE_TYPE_BINARY, (VkBaseInStructure *)&export);
   VkSemaphore sem;
   a->ret = dev->vk->CreateSemaphore(a->device, &info, NULL, &sem);
   if (a->ret == VK_SUCCESS)
      a->ret = add_sync(disp, a->obj, (uint64_t)(uintptr_t)*a->pSemaphore, VK_OBJECT_TYPE_SEMAPHORE,
                        (uint64_t)(uintptr_t)sem, kind);
}

VD_HANDLER(vkCreateFence)
{
   struct vd_device *dev = a->obj->data;
   VkFenceCreateInfo info = *a->pCreateInfo;
   vd_strip_mesa_structs(&info.pNext);
   VkExportFenceCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   /* vkResetFenceResourceMESA exports a SYNC_FD from any fence. */
   fix_export_request(&info.pNext, export.sType, dev->emulated & VD_EMU_SYNC_FD_FENCE, true,
                      (VkBaseInStructure *)&export);
   VkFence fence;
   a->ret = dev->vk->CreateFence(a->device, &info, NULL, &fence);
   if (a->ret == VK_SUCCESS)
      a->ret = add_sync(disp, a->obj, (uint64_t)(uintptr_t)*a->pFence, VK_OBJECT_TYPE_FENCE,
                        (uint64_t)(uintptr_t)fence, VK_SEMAPHORE_TYPE_BINARY);
}

/* -- queries ------------------------------------------------------------------------- */

VD_HANDLER(vkGetPhysicalDeviceExternalSemaphoreProperties)
{
   const struct vd_physical_device *pd = a->obj->data;
   VkPhysicalDeviceExternalSemaphoreInfo info = *a->pExternalSemaphoreInfo;
   const VkSemaphoreTypeCreateInfo *type =
      vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   const bool binary = !type || type->semaphoreType == VK_SEMAPHORE_TYPE_BINARY;
   VkExternalSemaphoreProperties *out = a->pExternalSemaphoreProperties;
   if ((pd->emulated & VD_EMU_SYNC_FD_SEMAPHORE) &&
       info.handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT) {
      /* SYNC_FD is a binary-semaphore payload (the spec allows no timeline one). */
      const VkExternalSemaphoreHandleTypeFlags t =
         binary ? VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT : 0;
      out->exportFromImportedHandleTypes = t;
      out->compatibleHandleTypes = t;
      out->externalSemaphoreFeatures = binary ? VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
                                                   VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT
                                              : 0;
      return;
   }
   pd->vk->GetPhysicalDeviceExternalSemaphoreProperties(a->physicalDevice, &info, out);
}

VD_HANDLER(vkGetPhysicalDeviceExternalFenceProperties)
{
   const struct vd_physical_device *pd = a->obj->data;
   VkExternalFenceProperties *out = a->pExternalFenceProperties;
   if ((pd->emulated & VD_EMU_SYNC_FD_FENCE) &&
       a->pExternalFenceInfo->handleType == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT) {
      out->exportFromImportedHandleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT;
      out->compatibleHandleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT;
      out->externalFenceFeatures =
         VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_FENCE_FEATURE_IMPORTABLE_BIT;
      return;
   }
   pd->vk->GetPhysicalDeviceExternalFenceProperties(a->physicalDevice, a->pExternalFenceInfo, out);
}

/* The handle type that stands for guest dma-bufs and opaque fds on the host: what the
 * memory backend imports or exports.  0: none (nothing can be shared). */
static VkExternalMemoryHandleTypeFlagBits backend_handle_type(const struct vd_physical_device *pd)
{
   if (pd->memory == &vd_memory_host_pointer)
      return VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
   if (pd->memory == &vd_memory_export)
      return pd->has_dma_buf ? VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT
                             : VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
   return 0;
}

/* Host answer for the backend's handle type -> the answer for the guest's type. */
static void guest_memory_properties(VkExternalMemoryProperties *p,
                                    VkExternalMemoryHandleTypeFlagBits guest)
{
   const bool ok = p->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
   p->externalMemoryFeatures =
      ok ? (p->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) |
              VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT
         : 0;
   p->exportFromImportedHandleTypes = ok ? GUEST_MEMORY_HANDLE_TYPES : 0;
   p->compatibleHandleTypes = ok ? GUEST_MEMORY_HANDLE_TYPES : 0;
   (void)guest;
}

VD_HANDLER(vkGetPhysicalDeviceExternalBufferProperties)
{
   const struct vd_physical_device *pd = a->obj->data;
   VkPhysicalDeviceExternalBufferInfo info = *a->pExternalBufferInfo;
   const VkExternalMemoryHandleTypeFlagBits guest = info.handleType;
   const VkExternalMemoryHandleTypeFlagBits host = backend_handle_type(pd);
   const bool emulate = (pd->emulated & VD_EMU_DMA_BUF) && (guest & GUEST_MEMORY_HANDLE_TYPES);
   if (emulate && !host) {
      a->pExternalBufferProperties->externalMemoryProperties = (VkExternalMemoryProperties){ 0 };
      return;
   }
   if (emulate)
      info.handleType = host;
   pd->vk->GetPhysicalDeviceExternalBufferProperties(a->physicalDevice, &info,
                                                     a->pExternalBufferProperties);
   if (emulate)
      guest_memory_properties(&a->pExternalBufferProperties->externalMemoryProperties, guest);
}

VkExternalMemoryHandleTypeFlagBits vd_external_fix_image_query(const struct vd_physical_device *pd,
                                                               const void *pnext)
{
   VkPhysicalDeviceExternalImageFormatInfo *ext =
      (VkPhysicalDeviceExternalImageFormatInfo *)vd_chain_find(
         pnext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO);
   if (!ext || !(pd->emulated & VD_EMU_DMA_BUF) || !(ext->handleType & GUEST_MEMORY_HANDLE_TYPES))
      return 0;
   const VkExternalMemoryHandleTypeFlagBits guest = ext->handleType;
   ext->handleType = backend_handle_type(pd);
   return guest;
}

void vd_external_fix_image_result(void *pnext, VkExternalMemoryHandleTypeFlagBits guest)
{
   VkExternalImageFormatProperties *p = (VkExternalImageFormatProperties *)vd_chain_find(
      pnext, VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES);
   if (p && guest)
      guest_memory_properties(&p->externalMemoryProperties, guest);
}

void vd_external_fix_memory_create_chain(struct vd_dispatch *disp, struct vd_device *dev,
                                         const void **pnext, bool image_ok)
{
   (void)disp;
   if (!(dev->emulated & VD_EMU_DMA_BUF))
      return;
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)*pnext; s; s = s->pNext) {
      VkExternalMemoryHandleTypeFlags *types = NULL;
      if (s->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO)
         types = &((VkExternalMemoryBufferCreateInfo *)s)->handleTypes;
      else if (s->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO)
         types = &((VkExternalMemoryImageCreateInfo *)s)->handleTypes;
      if (!types || !(*types & GUEST_MEMORY_HANDLE_TYPES))
         continue;
      *types &= ~GUEST_MEMORY_HANDLE_TYPES;
      if (image_ok)
         *types |= backend_handle_type(dev->pdev);
   }
   /* An empty handle-type list says nothing: drop it so the host sees a plain resource. */
   const VkBaseInStructure **p = (const VkBaseInStructure **)pnext;
   while (*p) {
      const bool empty = ((*p)->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO &&
                          !((const VkExternalMemoryBufferCreateInfo *)*p)->handleTypes) ||
                         ((*p)->sType == VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO &&
                          !((const VkExternalMemoryImageCreateInfo *)*p)->handleTypes);
      if (empty)
         *p = (*p)->pNext;
      else
         p = (const VkBaseInStructure **)&(*p)->pNext;
   }
}

/* -- the MESA resource commands -------------------------------------------------------- */

/* The binary semaphore record behind host handle `sem`, or NULL after making the context
 * fatal. */
static struct vd_sync *binary_semaphore(struct vd_dispatch *disp, VkSemaphore sem, const char *what)
{
   struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_SEMAPHORE, (uint64_t)(uintptr_t)sem);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: no semaphore", what);
      return NULL;
   }
   struct vd_sync *s = o->data;
   if (s->type != VK_SEMAPHORE_TYPE_BINARY) {
      vd_dispatch_fatal(disp,
                        "%s: semaphore %" PRIu64 " is a timeline semaphore; SYNC_FD "
                        "payloads are binary only",
                        what, o->id);
      return NULL;
   }
   return s;
}

/* An empty host submission that signals or waits for `sem`, on one of the device's
 * queues: a binary semaphore may be signalled on one queue and waited for on another, and
 * the guest's own submission that waits for (or signals) it comes after this command. */
static VkResult empty_submit(struct vd_dispatch *disp, struct vd_device *dev, VkSemaphore sem,
                             bool signal)
{
   struct vd_context *ctx = disp->ctx;
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = signal ? 0 : 1,
      .pWaitSemaphores = &sem,
      .pWaitDstStageMask = &stage,
      .signalSemaphoreCount = signal ? 1 : 0,
      .pSignalSemaphores = &sem,
   };
   VkResult r = VK_ERROR_UNKNOWN;
   bool found = false;
   /* The timeline mutex keeps the queue from being destroyed meanwhile (queue_destroy
    * takes it first); the queue's own mutex serialises host access to it. */
   pthread_mutex_lock(&ctx->timeline_mutex);
   for (uint32_t i = 1; i < VD_MAX_TIMELINES && !found; i++) {
      struct vd_queue *q = ctx->timeline_queue[i];
      if (!q || q->dev != dev)
         continue;
      found = true;
      pthread_mutex_lock(&q->mutex);
      r = dev->vk->QueueSubmit(q->handle, 1, &submit, VK_NULL_HANDLE);
      q->track_covers_all = false; /* a semaphore wait or signal: not tracked */
      pthread_mutex_unlock(&q->mutex);
   }
   pthread_mutex_unlock(&ctx->timeline_mutex);
   if (!found)
      vd_dispatch_fatal(disp, "the device has no queue yet to %s the semaphore on",
                        signal ? "signal" : "wait for");
   return r;
}

VD_HANDLER(vkImportSemaphoreResourceMESA)
{
   struct vd_device *dev = a->obj->data;
   const VkImportSemaphoreResourceInfoMESA *info = a->pImportSemaphoreResourceInfo;
   struct vd_sync *s =
      binary_semaphore(disp, info->semaphore, "pImportSemaphoreResourceInfo->semaphore");
   if (!s)
      return;
   if (info->resourceId) {
      /* Resources are memory blobs here; only resource 0 ("already signalled") is a
       * SYNC_FD payload Mesa sends. */
      struct vd_resource *res = vd_context_get_resource(disp->ctx, info->resourceId);
      if (res)
         vd_resource_unref(res);
      vd_dispatch_fatal(disp,
                        "pImportSemaphoreResourceInfo->resourceId %u: %s; only 0 (a "
                        "signalled sync file) can be imported into a semaphore",
                        info->resourceId,
                        res ? "a memory resource, not a sync file"
                            : "no such resource in this context");
      return;
   }
   VkResult r;
   if (!(dev->emulated & VD_EMU_SYNC_FD_SEMAPHORE)) {
      /* fd -1: an already signalled sync file (the spec's special value). */
      const VkImportSemaphoreFdInfoKHR import = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
         .semaphore = info->semaphore,
         .flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
         .fd = -1,
      };
      r = dev->vk->ImportSemaphoreFdKHR(a->device, &import);
   } else {
      r = empty_submit(disp, dev, info->semaphore, true);
   }
   if (r != VK_SUCCESS && !disp->ctx->fatal)
      vd_dispatch_fatal(disp, "signalling the semaphore on the host failed: VkResult %d", r);
}

VD_HANDLER(vkWaitSemaphoreResourceMESA)
{
   struct vd_device *dev = a->obj->data;
   if (!binary_semaphore(disp, a->semaphore, "semaphore"))
      return;
   VkResult r;
   if (!(dev->emulated & VD_EMU_SYNC_FD_SEMAPHORE)) {
      /* Exporting a SYNC_FD has the semantics of a wait (the semaphore is unsignalled);
       * the guest made its own sync file already, so the fd itself is not needed. */
      const VkSemaphoreGetFdInfoKHR get = {
         .sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
         .semaphore = a->semaphore,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      int fd = -1;
      r = dev->vk->GetSemaphoreFdKHR(a->device, &get, &fd);
      if (fd >= 0)
         close(fd);
   } else {
      r = empty_submit(disp, dev, a->semaphore, false);
   }
   if (r != VK_SUCCESS && !disp->ctx->fatal)
      vd_dispatch_fatal(disp, "waiting for the semaphore on the host failed: VkResult %d", r);
}

VD_HANDLER(vkResetFenceResourceMESA)
{
   struct vd_device *dev = a->obj->data;
   VkResult r;
   if (!(dev->emulated & VD_EMU_SYNC_FD_FENCE)) {
      const VkFenceGetFdInfoKHR get = {
         .sType = VK_STRUCTURE_TYPE_FENCE_GET_FD_INFO_KHR,
         .fence = a->fence,
         .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      int fd = -1;
      r = dev->vk->GetFenceFdKHR(a->device, &get, &fd);
      if (fd >= 0)
         close(fd);
   } else {
      /* A SYNC_FD export resets the fence once its pending work is done; a host fence may
       * not be reset while pending, so wait for it first (in slices, so that a context
       * being destroyed never stays here).  The guest already holds its own sync file. */
      if (!disp->ring) {
         vd_dispatch_fatal(disp, "vkResetFenceResourceMESA may block and must come on a ring");
         return;
      }
      do {
         r = dev->vk->WaitForFences(a->device, 1, &a->fence, VK_TRUE, 100000000ull);
      } while (r == VK_TIMEOUT && !vd_ring_stopping(disp->ring));
      if (r == VK_SUCCESS)
         r = dev->vk->ResetFences(a->device, 1, &a->fence);
      else if (r == VK_TIMEOUT)
         return; /* the ring is stopping */
   }
   if (r != VK_SUCCESS && !disp->ctx->fatal)
      vd_dispatch_fatal(disp, "resetting the fence on the host failed: VkResult %d", r);
}

/* -- the foreign queue family ---------------------------------------------------------- */

/* Without VK_EXT_queue_family_foreign on the host, an ownership transfer to or from the
 * foreign family (Mesa's WSI images, around present and acquire) becomes no transfer:
 * spec deviation, but the memory is host memory that nothing outside venusd's device
 * accesses through another Vulkan queue, and the layout transition and the memory
 * dependency of the barrier are kept. */
static void fix_families(uint32_t *src, uint32_t *dst)
{
   if (*src == VK_QUEUE_FAMILY_FOREIGN_EXT || *dst == VK_QUEUE_FAMILY_FOREIGN_EXT) {
      *src = VK_QUEUE_FAMILY_IGNORED;
      *dst = VK_QUEUE_FAMILY_IGNORED;
   }
}

static bool emulates_foreign(const struct vd_object *cmd)
{
   const struct vd_device *dev = cmd->data;
   return dev->emulated & VD_EMU_FOREIGN;
}

static void fix_barriers(uint32_t nbuf, const VkBufferMemoryBarrier *buf, uint32_t nimg,
                         const VkImageMemoryBarrier *img)
{
   for (uint32_t i = 0; i < nbuf; i++) {
      VkBufferMemoryBarrier *b = (VkBufferMemoryBarrier *)&buf[i];
      fix_families(&b->srcQueueFamilyIndex, &b->dstQueueFamilyIndex);
   }
   for (uint32_t i = 0; i < nimg; i++) {
      VkImageMemoryBarrier *b = (VkImageMemoryBarrier *)&img[i];
      fix_families(&b->srcQueueFamilyIndex, &b->dstQueueFamilyIndex);
   }
}

static void fix_dependency(const VkDependencyInfo *dep)
{
   for (uint32_t i = 0; i < dep->bufferMemoryBarrierCount; i++) {
      VkBufferMemoryBarrier2 *b = (VkBufferMemoryBarrier2 *)&dep->pBufferMemoryBarriers[i];
      fix_families(&b->srcQueueFamilyIndex, &b->dstQueueFamilyIndex);
   }
   for (uint32_t i = 0; i < dep->imageMemoryBarrierCount; i++) {
      VkImageMemoryBarrier2 *b = (VkImageMemoryBarrier2 *)&dep->pImageMemoryBarriers[i];
      fix_families(&b->srcQueueFamilyIndex, &b->dstQueueFamilyIndex);
   }
}

VD_HANDLER(vkCmdPipelineBarrier)
{
   if (!vd_barriers_ok(disp, a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
                       a->imageMemoryBarrierCount, a->pImageMemoryBarriers))
      return;
   if (emulates_foreign(a->obj))
      fix_barriers(a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
                   a->imageMemoryBarrierCount, a->pImageMemoryBarriers);
   vd_object_vk(a->obj)->CmdPipelineBarrier(
      a->commandBuffer, a->srcStageMask, a->dstStageMask, a->dependencyFlags, a->memoryBarrierCount,
      a->pMemoryBarriers, a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
      a->imageMemoryBarrierCount, a->pImageMemoryBarriers);
}

VD_HANDLER(vkCmdWaitEvents)
{
   if (!vd_barriers_ok(disp, a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
                       a->imageMemoryBarrierCount, a->pImageMemoryBarriers))
      return;
   if (emulates_foreign(a->obj))
      fix_barriers(a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
                   a->imageMemoryBarrierCount, a->pImageMemoryBarriers);
   vd_object_vk(a->obj)->CmdWaitEvents(a->commandBuffer, a->eventCount, a->pEvents, a->srcStageMask,
                                       a->dstStageMask, a->memoryBarrierCount, a->pMemoryBarriers,
                                       a->bufferMemoryBarrierCount, a->pBufferMemoryBarriers,
                                       a->imageMemoryBarrierCount, a->pImageMemoryBarriers);
}

VD_HANDLER(vkCmdPipelineBarrier2)
{
   if (!vd_dependency_ok(disp, a->pDependencyInfo))
      return;
   if (emulates_foreign(a->obj))
      fix_dependency(a->pDependencyInfo);
   vd_object_vk(a->obj)->CmdPipelineBarrier2(a->commandBuffer, a->pDependencyInfo);
}

VD_HANDLER(vkCmdWaitEvents2)
{
   for (uint32_t i = 0; i < a->eventCount; i++)
      if (!vd_dependency_ok(disp, &a->pDependencyInfos[i]))
         return;
   if (emulates_foreign(a->obj))
      for (uint32_t i = 0; i < a->eventCount; i++)
         fix_dependency(&a->pDependencyInfos[i]);
   vd_object_vk(a->obj)->CmdWaitEvents2(a->commandBuffer, a->eventCount, a->pEvents,
                                        a->pDependencyInfos);
}

/* The dependency of vkCmdSetEvent2 must match its vkCmdWaitEvents2's: checked and rewritten
 * alike. */
VD_HANDLER(vkCmdSetEvent2)
{
   if (!vd_dependency_ok(disp, a->pDependencyInfo))
      return;
   if (emulates_foreign(a->obj))
      fix_dependency(a->pDependencyInfo);
   vd_object_vk(a->obj)->CmdSetEvent2(a->commandBuffer, a->event, a->pDependencyInfo);
}
