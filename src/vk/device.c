/* Device and queue handlers. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sandbox.h"
#include "util/log.h"
#include "vk/vk_common.h"

static void device_destroy(struct vd_object *obj)
{
   struct vd_device *dev = obj->data;
   dev->table.DeviceWaitIdle(dev->handle);
   dev->table.DestroyDevice(dev->handle, NULL);
   vd_backing_cache_fini(&dev->backings);
   pthread_mutex_destroy(&dev->backings.mutex);
   vd_address_map_fini(&dev->addresses);
   free(dev);
}

/* Guest shaders must not make the host driver read or write outside a resource: a
 * software driver like lavapipe keeps device memory in venusd's own heap, so an
 * out-of-bounds buffer or image store from a guest shader would corrupt venusd.  (Workgroup
 * shared memory has no such guard: ffmpeg 5.1's avgblur_vulkan overruns it, natively too,
 * and only process workers keep that from other contexts.)  Spec deviation: the device gets robustBufferAccess and
 * robustImageAccess even when the guest did not enable them; that only defines results
 * that were undefined.  Also timelineSemaphore, which the guest driver itself uses.
 * Returns the extension to add, or NULL. */
static const char *enable_robustness(struct vd_dispatch *disp, const struct vd_physical_device *pd,
                                     VkDeviceCreateInfo *info, bool image_ext_enabled)
{
   VkPhysicalDeviceFeatures2 *f2 = NULL;
   VkPhysicalDeviceVulkan12Features *f12 = NULL;
   VkPhysicalDeviceVulkan13Features *f13 = NULL;
   VkPhysicalDeviceImageRobustnessFeatures *fimg = NULL;
   VkPhysicalDeviceTimelineSemaphoreFeatures *ftl = NULL;
   /* The chain is the decoder's own copy of the guest's structs: ours to change. */
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
         f2 = (VkPhysicalDeviceFeatures2 *)s;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES)
         f12 = (VkPhysicalDeviceVulkan12Features *)s;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES)
         ftl = (VkPhysicalDeviceTimelineSemaphoreFeatures *)s;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES)
         f13 = (VkPhysicalDeviceVulkan13Features *)s;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES)
         fimg = (VkPhysicalDeviceImageRobustnessFeatures *)s;
   }
   if (pd->has_robust_buffer_access) {
      if (f2) {
         f2->features.robustBufferAccess = VK_TRUE;
      } else {
         VkPhysicalDeviceFeatures *f = vd_arena_alloc(&disp->arena, sizeof(*f));
         if (f) {
            *f = info->pEnabledFeatures ? *info->pEnabledFeatures : (VkPhysicalDeviceFeatures){ 0 };
            f->robustBufferAccess = VK_TRUE;
            info->pEnabledFeatures = f;
         }
      }
   }
   /* Mesa's Venus driver makes timeline semaphores of its own (feedback for
    * vkQueueBindSparse, ...) whether or not the application enabled the feature. */
   if (pd->has_timeline_semaphore && pd->instance->api_version >= VK_API_VERSION_1_2) {
      if (f12) {
         f12->timelineSemaphore = VK_TRUE;
      } else if (ftl) {
         ftl->timelineSemaphore = VK_TRUE;
      } else {
         ftl = vd_arena_alloc(&disp->arena, sizeof(*ftl));
         if (ftl) {
            *ftl = (VkPhysicalDeviceTimelineSemaphoreFeatures){
               .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
               .pNext = (void *)info->pNext,
               .timelineSemaphore = VK_TRUE,
            };
            info->pNext = ftl;
         }
      }
   }
   if (!pd->has_robust_image_access)
      return NULL;
   if (f13) {
      f13->robustImageAccess = VK_TRUE;
   } else if (fimg) {
      fimg->robustImageAccess = VK_TRUE;
   } else if (pd->has_image_robustness_ext || pd->instance->api_version >= VK_API_VERSION_1_3) {
      fimg = vd_arena_alloc(&disp->arena, sizeof(*fimg));
      if (fimg) {
         *fimg = (VkPhysicalDeviceImageRobustnessFeatures){
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES,
            .pNext = (void *)info->pNext,
            .robustImageAccess = VK_TRUE,
         };
         info->pNext = fimg;
         /* Below 1.3 the struct needs its extension (enabling it on 1.3 is harmless). */
         if (pd->has_image_robustness_ext && !image_ext_enabled)
            return "VK_EXT_image_robustness";
      }
   }
   return NULL;
}

/* A portability-subset host (MoltenVK) requires VK_KHR_portability_subset on every device
 * (VUID-VkDeviceCreateInfo-pProperties-04451).  The guest cannot ask for the subset's
 * features (Venus has no such struct) and does not know they may be missing, so every one
 * the host has is enabled: the guest gets as much of core Vulkan as the host can do. */
static bool enable_portability_subset(struct vd_dispatch *disp, const struct vd_physical_device *pd,
                                      VkDeviceCreateInfo *info)
{
   VkPhysicalDevicePortabilitySubsetFeaturesKHR *f = vd_arena_alloc(&disp->arena, sizeof(*f));
   if (!f)
      return false;
   *f = pd->portability_subset;
   f->sType = VD_STYPE_PORTABILITY_SUBSET_FEATURES;
   f->pNext = (void *)info->pNext;
   info->pNext = f;
   return true;
}

/* Whether the create info venusd passes to the host enables robustBufferAccess and
 * robustImageAccess (read back from the final chain, for the debug log that
 * tests/integration/test_cli_claims.sh checks). */
static void robustness_enabled(const VkDeviceCreateInfo *info, bool *buffer, bool *image)
{
   *buffer = info->pEnabledFeatures && info->pEnabledFeatures->robustBufferAccess;
   *image = false;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
         *buffer |= ((const VkPhysicalDeviceFeatures2 *)s)->features.robustBufferAccess;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES)
         *image |= ((const VkPhysicalDeviceVulkan13Features *)s)->robustImageAccess;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES)
         *image |= ((const VkPhysicalDeviceImageRobustnessFeatures *)s)->robustImageAccess;
   }
}

VD_HANDLER(vkCreateDevice)
{
   const uint64_t id = (uint64_t)(uintptr_t)*a->pDevice;
   struct vd_physical_device *pd = a->obj->data;
   VkDeviceCreateInfo info = *a->pCreateInfo;

   for (uint32_t i = 0; i < info.enabledExtensionCount; i++) {
      if (!vd_emulation_extension_exposed(pd, info.ppEnabledExtensionNames[i])) {
         vd_warn(VD_CAT_VK, "context %u: vkCreateDevice: extension %s was not exposed",
                 disp->ctx->params.id, info.ppEnabledExtensionNames[i]);
         a->ret = VK_ERROR_EXTENSION_NOT_PRESENT;
         return;
      }
   }
   /* A bad queue family or count would make the host driver read out of bounds. */
   for (uint32_t i = 0; i < info.queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *q = &info.pQueueCreateInfos[i];
      if (q->queueFamilyIndex >= pd->queue_family_count || !q->queueCount ||
          q->queueCount > pd->queue_families[q->queueFamilyIndex].queueCount ||
          !q->pQueuePriorities) {
         vd_warn(VD_CAT_VK, "context %u: vkCreateDevice: queue family %u x%u is not valid on %s",
                 disp->ctx->params.id, q->queueFamilyIndex, q->queueCount, pd->props.deviceName);
         a->ret = VK_ERROR_INITIALIZATION_FAILED;
         return;
      }
   }
   info.enabledLayerCount = 0;
   info.ppEnabledLayerNames = NULL;
   vd_strip_mesa_structs(&info.pNext);
   /* Extensions venusd itself needs (memory backend, robustness, the portability subset),
    * added to the guest's. */
   const char *needed[5];
   uint32_t needed_count = 0;
   bool image_ext = false;
   for (uint32_t i = 0; i < info.enabledExtensionCount; i++)
      image_ext |= !strcmp(info.ppEnabledExtensionNames[i], "VK_EXT_image_robustness");
   const char *robust_ext = enable_robustness(disp, pd, &info, image_ext);
   if (robust_ext)
      needed[needed_count++] = robust_ext;
   if (pd->memory == &vd_memory_host_pointer)
      needed[needed_count++] = "VK_EXT_external_memory_host";
   if (pd->memory == &vd_memory_export) {
      needed[needed_count++] = "VK_KHR_external_memory_fd";
      if (pd->has_dma_buf)
         needed[needed_count++] = "VK_EXT_external_memory_dma_buf";
   }
   if (pd->has_portability_subset && !enable_portability_subset(disp, pd, &info)) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   if (pd->has_portability_subset)
      needed[needed_count++] = "VK_KHR_portability_subset";
   const char **exts = vd_arena_alloc_array(&disp->arena, sizeof(*exts),
                                            (uint64_t)info.enabledExtensionCount + needed_count);
   if (!exts) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   /* Emulated extensions are venusd's to serve: the host never sees them. */
   uint32_t ext_count = 0;
   unsigned emulated = 0;
   for (uint32_t i = 0; i < info.enabledExtensionCount; i++) {
      const unsigned emu = vd_emulation_for_extension(pd, info.ppEnabledExtensionNames[i]);
      if (emu)
         emulated |= emu;
      else
         exts[ext_count++] = info.ppEnabledExtensionNames[i];
   }
   for (uint32_t n = 0; n < needed_count; n++) {
      bool present = false;
      for (uint32_t i = 0; i < ext_count; i++)
         present |= !strcmp(exts[i], needed[n]);
      if (!present)
         exts[ext_count++] = needed[n];
   }
   info.enabledExtensionCount = ext_count;
   info.ppEnabledExtensionNames = exts;

   struct vd_device *dev = calloc(1, sizeof(*dev));
   if (!dev) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   const struct vd_vk_dispatch *ivk = vd_object_vk(a->obj);
   a->ret = ivk->CreateDevice(a->physicalDevice, &info, NULL, &dev->handle);
   if (a->ret != VK_SUCCESS) {
      vd_warn(VD_CAT_VK, "context %u: host vkCreateDevice failed: VkResult %d",
              disp->ctx->params.id, a->ret);
      free(dev);
      return;
   }
   bool rba, ria;
   robustness_enabled(&info, &rba, &ria);
   vd_dbg(VD_CAT_VK,
          "context %u: vkCreateDevice on %s: robustBufferAccess %s, "
          "robustImageAccess %s (venusd enables both when the driver has them)",
          disp->ctx->params.id, pd->props.deviceName, rba ? "on" : "off", ria ? "on" : "off");
   pthread_mutex_init(&dev->backings.mutex, NULL);
   vd_address_map_init(&dev->addresses);
   dev->table = *ivk; /* instance-level entries, then the device-level ones */
   vd_vk_dispatch_load_device(&dev->table, ivk->GetDeviceProcAddr, dev->handle);
   dev->vk = &dev->table;
   dev->pdev = pd;
   /* Device-group indices of binds and queries are checked against the group's size. */
   const VkDeviceGroupDeviceCreateInfo *group =
      vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_DEVICE_GROUP_DEVICE_CREATE_INFO);
   dev->group_size = group && group->physicalDeviceCount ? group->physicalDeviceCount : 1;
   /* The emulations that act without the guest naming their extension: handle-type
    * translation for dma-bufs and SYNC_FD (Mesa's Venus driver uses both internally). */
   dev->emulated = emulated | (pd->emulated &
                               (VD_EMU_DMA_BUF | VD_EMU_SYNC_FD_SEMAPHORE | VD_EMU_SYNC_FD_FENCE));
   if (emulated)
      vd_emulation_log_once(disp->ctx, pd, emulated);
   /* A process worker enters its sandbox once its first device exists: by then the
    * driver has loaded what it loads (sandbox/sandbox.h). */
   if (!vd_sandbox_device_created(disp->ctx->params.id, disp->ctx->params.name) ||
       !vd_object_add(disp, id, VK_OBJECT_TYPE_DEVICE, (uint64_t)(uintptr_t)dev->handle, a->obj,
                      dev, device_destroy)) {
      dev->table.DestroyDevice(dev->handle, NULL);
      pthread_mutex_destroy(&dev->backings.mutex);
      vd_address_map_fini(&dev->addresses);
      free(dev);
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
   }
}

/* -- quiescing a device before its objects go ------------------------------------------ */

struct quiesce_scan {
   const struct vd_object *device;
   VkSemaphore *timelines;
   VkEvent *events;
   uint32_t timeline_count, event_count, cap;
};

static void collect_waitables(struct vd_object *obj, void *data)
{
   struct quiesce_scan *scan = data;
   if (obj->parent != scan->device)
      return;
   if (obj->type == VK_OBJECT_TYPE_SEMAPHORE && scan->timeline_count < scan->cap &&
       ((const struct vd_sync *)obj->data)->type == VK_SEMAPHORE_TYPE_TIMELINE)
      scan->timelines[scan->timeline_count++] = (VkSemaphore)(uintptr_t)obj->handle;
   else if (obj->type == VK_OBJECT_TYPE_EVENT && scan->event_count < scan->cap)
      scan->events[scan->event_count++] = (VkEvent)(uintptr_t)obj->handle;
}

/* Makes a device idle so that its objects can be freed in any order: the guest may be gone
 * (killed, exited, fatal) or may destroy its device with work in flight.  Work that waits
 * for something nobody will ever do (a timeline value or an event the guest never
 * signals) is released first: every timeline semaphore is signalled as far as the driver
 * allows and every event is set.  Spec deviation, harmless because the guest is gone or
 * has given the device up.  Then the device waits for idle with every queue held. */
void vd_device_quiesce(struct vd_context *ctx, struct vd_object *dev_obj)
{
   struct vd_device *dev = dev_obj->data;
   const struct vd_vk_dispatch *vk = dev->vk;
   const uint32_t cap = vd_objtable_count(ctx->objects);
   struct quiesce_scan scan = { .device = dev_obj, .cap = cap };
   scan.timelines = calloc(cap ? cap : 1, sizeof(*scan.timelines));
   scan.events = calloc(cap ? cap : 1, sizeof(*scan.events));
   if (scan.timelines && scan.events)
      vd_objtable_foreach(ctx->objects, collect_waitables, &scan);
   uint64_t max_diff = UINT64_MAX;
   if (scan.timeline_count) {
      VkPhysicalDeviceTimelineSemaphoreProperties tl = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_PROPERTIES,
      };
      VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                            .pNext = &tl };
      vk->GetPhysicalDeviceProperties2(dev->pdev->handle, &props);
      if (tl.maxTimelineSemaphoreValueDifference)
         max_diff = tl.maxTimelineSemaphoreValueDifference;
   }
   for (uint32_t i = 0; i < scan.timeline_count; i++) {
      uint64_t value = 0;
      if (vk->GetSemaphoreCounterValue(dev->handle, scan.timelines[i], &value) != VK_SUCCESS)
         continue;
      const uint64_t target = value > UINT64_MAX - max_diff ? UINT64_MAX : value + max_diff;
      if (target == value)
         continue;
      const VkSemaphoreSignalInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                                         .semaphore = scan.timelines[i],
                                         .value = target };
      vk->SignalSemaphore(dev->handle, &si);
   }
   for (uint32_t i = 0; i < scan.event_count; i++)
      vk->SetEvent(dev->handle, scan.events[i]);
   free(scan.timelines);
   free(scan.events);

   /* Host queue access is externally synchronised: hold every queue of the device. */
   struct vd_queue *held[VD_MAX_TIMELINES];
   uint32_t n = 0;
   pthread_mutex_lock(&ctx->timeline_mutex);
   for (uint32_t i = 1; i < VD_MAX_TIMELINES; i++) {
      struct vd_queue *q = ctx->timeline_queue[i];
      if (q && q->dev == dev) {
         pthread_mutex_lock(&q->mutex);
         held[n++] = q;
      }
   }
   const VkResult r = vk->DeviceWaitIdle(dev->handle);
   while (n)
      pthread_mutex_unlock(&held[--n]->mutex);
   pthread_mutex_unlock(&ctx->timeline_mutex);
   if (r != VK_SUCCESS)
      vd_warn(VD_CAT_VK, "context %u: quiescing the device: vkDeviceWaitIdle returned %d",
              ctx->params.id, r);
}

struct device_scan {
   struct vd_object **devices;
   uint32_t count, cap;
};

static void collect_device(struct vd_object *obj, void *data)
{
   struct device_scan *scan = data;
   /* (a record without a host device, as unit tests make, has nothing to quiesce) */
   if (obj->type == VK_OBJECT_TYPE_DEVICE && obj->data && scan->count < scan->cap) {
      vd_object_ref(obj);
      scan->devices[scan->count++] = obj;
   }
}

void vd_devices_quiesce(struct vd_context *ctx)
{
   const uint32_t cap = vd_objtable_count(ctx->objects);
   struct device_scan scan = { .cap = cap };
   scan.devices = calloc(cap ? cap : 1, sizeof(*scan.devices));
   if (!scan.devices)
      return;
   vd_objtable_foreach(ctx->objects, collect_device, &scan);
   for (uint32_t i = 0; i < scan.count; i++) {
      vd_device_quiesce(ctx, scan.devices[i]);
      vd_object_unref(scan.devices[i]);
   }
   free(scan.devices);
}

VD_HANDLER(vkDestroyDevice)
{
   /* The guest should have waited; if it did not, its objects must not be freed under
    * the driver's feet. */
   vd_device_quiesce(disp->ctx, a->obj);
   vd_object_remove(disp, a->obj->id);
}

static void queue_destroy(struct vd_object *obj)
{
   struct vd_queue *queue = obj->data;
   struct vd_context *ctx = queue->ctx;
   pthread_mutex_lock(&ctx->timeline_mutex);
   if (queue->ring_idx && ctx->timeline_queue[queue->ring_idx] == queue)
      ctx->timeline_queue[queue->ring_idx] = NULL;
   pthread_mutex_unlock(&ctx->timeline_mutex);
   vd_queue_finish(queue);
   pthread_mutex_destroy(&queue->mutex);
   pthread_cond_destroy(&queue->cond);
   free(queue);
}

VD_HANDLER(vkGetDeviceQueue2)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pQueue;
   VkDeviceQueueInfo2 info = *a->pQueueInfo;
   uint32_t ring_idx = 0;
   for (const VkBaseInStructure *s = info.pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA)
         ring_idx = ((const VkDeviceQueueTimelineInfoMESA *)s)->ringIdx;
   if (!ring_idx || ring_idx >= VD_MAX_TIMELINES) {
      vd_dispatch_fatal(disp, "VkDeviceQueueTimelineInfoMESA.ringIdx %u missing or not in 1..%u",
                        ring_idx, VD_MAX_TIMELINES - 1);
      return;
   }
   if (info.queueFamilyIndex >= dev->pdev->queue_family_count ||
       info.queueIndex >= dev->pdev->queue_families[info.queueFamilyIndex].queueCount) {
      vd_dispatch_fatal(disp, "queue %u of family %u does not exist", info.queueIndex,
                        info.queueFamilyIndex);
      return;
   }
   vd_strip_mesa_structs(&info.pNext);
   VkQueue handle = VK_NULL_HANDLE;
   dev->vk->GetDeviceQueue2(a->device, &info, &handle);
   if (!handle) {
      vd_dispatch_fatal(disp, "host vkGetDeviceQueue2 returned no queue (was it created with "
                              "these flags?)");
      return;
   }
   struct vd_context *ctx = disp->ctx;
   pthread_mutex_lock(&ctx->timeline_mutex);
   bool taken = ctx->timeline_queue[ring_idx] != NULL;
   pthread_mutex_unlock(&ctx->timeline_mutex);
   if (taken) {
      vd_dispatch_fatal(disp, "timeline %u is already bound to a queue", ring_idx);
      return;
   }
   struct vd_queue *queue = calloc(1, sizeof(*queue));
   if (!queue) {
      vd_dispatch_fatal(disp, "out of memory");
      return;
   }
   queue->vk = dev->vk;
   queue->handle = handle;
   queue->dev = dev;
   queue->ctx = ctx;
   queue->ring_idx = ring_idx;
   pthread_mutex_init(&queue->mutex, NULL);
   pthread_cond_init(&queue->cond, NULL);
   queue->pending_tail = &queue->pending;
   queue->retire_tail = &queue->retire;
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_QUEUE, (uint64_t)(uintptr_t)handle, a->obj, queue,
                      queue_destroy)) {
      pthread_mutex_destroy(&queue->mutex);
      pthread_cond_destroy(&queue->cond);
      free(queue);
      return;
   }
   pthread_mutex_lock(&ctx->timeline_mutex);
   ctx->timeline_queue[ring_idx] = queue;
   pthread_mutex_unlock(&ctx->timeline_mutex);
}

void vd_vk_no_entry(struct vd_dispatch *disp, const char *ext)
{
   /* The loader gives NULL for a command whose extension the device (or instance) was not
    * created with; calling it would crash the worker.  vd_dispatch_fatal names the command. */
   vd_dispatch_fatal(disp,
                     "the host has no entry point for it on this object: the guest did not "
                     "enable %s at creation, so it must not send it",
                     ext ? ext : "its extension (or Vulkan version)");
}
