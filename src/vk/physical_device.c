/* Physical-device handlers: enumeration (binding guest ids to host devices), properties
 * with the versions and extensions the guest may see.  The plain queries (features,
 * formats, queue families, memory, external-*) are generated pass-throughs. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/options.h"
#include "util/log.h"
#include "vk/vk_common.h"

bool vd_host_has_extension(const struct vd_physical_device *pd, const char *name)
{
   uint32_t count = 0;
   pd->vk->EnumerateDeviceExtensionProperties(pd->handle, NULL, &count, NULL);
   VkExtensionProperties *exts = calloc(count ? count : 1, sizeof(*exts));
   bool found = false;
   if (exts && pd->vk->EnumerateDeviceExtensionProperties(pd->handle, NULL, &count, exts) >= 0)
      for (uint32_t i = 0; i < count && !found; i++)
         found = !strcmp(exts[i].extensionName, name);
   free(exts);
   return found;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
   return a > b ? a : b;
}

/* The work group limits of direct mesh draws (vk_common.h, range_check.c). */
static void probe_mesh_limits(struct vd_physical_device *pd)
{
   if (!vd_host_has_extension(pd, "VK_EXT_mesh_shader"))
      return;
   VkPhysicalDeviceMeshShaderPropertiesEXT mesh = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MESH_SHADER_PROPERTIES_EXT,
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &mesh };
   pd->vk->GetPhysicalDeviceProperties2(pd->handle, &props);
   for (int i = 0; i < 3; i++)
      pd->mesh_group_count[i] =
         max_u32(mesh.maxTaskWorkGroupCount[i], mesh.maxMeshWorkGroupCount[i]);
   pd->mesh_group_total = max_u32(mesh.maxTaskWorkGroupTotalCount, mesh.maxMeshWorkGroupTotalCount);
}

/* What venusd itself can use on this device (memory backends). */
static void probe_host_features(struct vd_physical_device *pd)
{
   pd->vk->GetPhysicalDeviceMemoryProperties(pd->handle, &pd->memory_props);
   VkPhysicalDeviceIDProperties id = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
   VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
   };
   pd->has_external_memory_host = vd_host_has_extension(pd, "VK_EXT_external_memory_host");
   pd->has_external_memory_fd = vd_host_has_extension(pd, "VK_KHR_external_memory_fd");
   pd->has_dma_buf = vd_host_has_extension(pd, "VK_EXT_external_memory_dma_buf");
   if (pd->has_external_memory_host)
      id.pNext = &host;
   VkPhysicalDeviceDriverProperties driver = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
   };
   if (pd->props.apiVersion >= VK_API_VERSION_1_2) {
      driver.pNext = id.pNext;
      id.pNext = &driver;
   }
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &id };
   pd->vk->GetPhysicalDeviceProperties2(pd->handle, &props);
   pd->driver_id = driver.driverID;
   memcpy(pd->device_uuid, id.deviceUUID, 16);
   memcpy(pd->driver_uuid, id.driverUUID, 16);
   /* Robustness that venusd turns on for every guest device (device.c). */
   pd->has_image_robustness_ext = vd_host_has_extension(pd, "VK_EXT_image_robustness");
   VkPhysicalDeviceImageRobustnessFeatures image_robust = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES,
   };
   VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
   };
   VkPhysicalDeviceFeatures2 feats = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 };
   if (pd->has_image_robustness_ext || props.properties.apiVersion >= VK_API_VERSION_1_3) {
      image_robust.pNext = feats.pNext;
      feats.pNext = &image_robust;
   }
   if (props.properties.apiVersion >= VK_API_VERSION_1_2) {
      timeline.pNext = feats.pNext;
      feats.pNext = &timeline;
   }
   pd->has_portability_subset = vd_host_has_extension(pd, "VK_KHR_portability_subset");
   pd->portability_subset = (VkPhysicalDevicePortabilitySubsetFeaturesKHR){
      .sType = VD_STYPE_PORTABILITY_SUBSET_FEATURES,
   };
   if (pd->has_portability_subset) {
      pd->portability_subset.pNext = feats.pNext;
      feats.pNext = &pd->portability_subset;
   }
   pd->vk->GetPhysicalDeviceFeatures2(pd->handle, &feats);
   pd->portability_subset.pNext = NULL;
   pd->has_timeline_semaphore = timeline.timelineSemaphore;
   pd->has_robust_buffer_access = feats.features.robustBufferAccess;
   pd->has_robust_image_access = image_robust.robustImageAccess;
   uint64_t align =
      host.minImportedHostPointerAlignment ? host.minImportedHostPointerAlignment : 4096;
   if (pd->instance->opts->host_pointer_alignment > align)
      align = pd->instance->opts->host_pointer_alignment;
   pd->host_pointer_alignment = align;
   probe_mesh_limits(pd);
}

/* A portability-subset host (MoltenVK) cannot do some things core Vulkan promises.  Venus
 * has no VK_KHR_portability_subset, so the guest cannot be told; where a limit says the same
 * thing, it is lowered instead (samplerMipLodBias off: maxSamplerLodBias 0, i.e. any bias is
 * clamped to none, which is what the host does).  The rest is logged once per device, at
 * info level, for whoever debugs a guest that uses it. */
static void log_portability_subset(unsigned ctx_id, const struct vd_physical_device *pd)
{
   const VkPhysicalDevicePortabilitySubsetFeaturesKHR *f = &pd->portability_subset;
   const struct {
      VkBool32 on;
      const char *name;
   } subset[] = {
      { f->constantAlphaColorBlendFactors, "constantAlphaColorBlendFactors" },
      { f->events, "events" },
      { f->imageViewFormatReinterpretation, "imageViewFormatReinterpretation" },
      { f->imageViewFormatSwizzle, "imageViewFormatSwizzle" },
      { f->imageView2DOn3DImage, "imageView2DOn3DImage" },
      { f->multisampleArrayImage, "multisampleArrayImage" },
      { f->mutableComparisonSamplers, "mutableComparisonSamplers" },
      { f->pointPolygons, "pointPolygons" },
      { f->samplerMipLodBias, "samplerMipLodBias (guests see maxSamplerLodBias 0)" },
      { f->separateStencilMaskRef, "separateStencilMaskRef" },
      { f->shaderSampleRateInterpolationFunctions, "shaderSampleRateInterpolationFunctions" },
      { f->tessellationIsolines, "tessellationIsolines" },
      { f->tessellationPointMode, "tessellationPointMode" },
      { f->triangleFans, "triangleFans" },
      { f->vertexAttributeAccessBeyondStride, "vertexAttributeAccessBeyondStride" },
   };
   char off[600] = "";
   size_t len = 0;
   for (size_t i = 0; i < sizeof(subset) / sizeof(subset[0]); i++)
      if (!subset[i].on && len < sizeof(off))
         len += snprintf(off + len, sizeof(off) - len, "%s%s", len ? ", " : "", subset[i].name);
   vd_info(VD_CAT_VK,
           "context %u: %s is a portability-subset driver (VK_KHR_portability_subset, enabled "
           "on every device); not supported there, and not expressible to guests (Venus has no "
           "VK_KHR_portability_subset): %s",
           ctx_id, pd->props.deviceName, len ? off : "nothing");
}

/* lavapipe (llvmpipe 25.0) binds sparse memory by mmap()ing the allocation's fd into the
 * resource; an allocation imported from a host pointer has no fd, so llvmpipe maps fd 0
 * (a failed or, worse, unrelated mapping) and the guest's view of the memory never sees
 * what the GPU wrote through the sparse resource.  Mesa 25.0.7's Venus driver hid sparse
 * binding on lavapipe for its own reasons; Mesa 26 no longer does, so venusd hides it (the
 * features and sparse image formats; the queue keeps SPARSE_BINDING, as with Mesa 25.0.7,
 * for binds without memory that only signal) and refuses sparse memory binds where its
 * host-pointer backend serves the device. */
static bool sparse_unusable(const struct vd_physical_device *pd)
{
   return pd->memory == &vd_memory_host_pointer && pd->driver_id == VK_DRIVER_ID_MESA_LLVMPIPE;
}

static bool enumerate_host(struct vd_dispatch *disp, struct vd_instance *inst)
{
   if (inst->pdevs_enumerated)
      return true;
   uint32_t count = 0;
   VkResult r = inst->table.EnumeratePhysicalDevices(inst->handle, &count, NULL);
   VkPhysicalDevice *handles = calloc(count ? count : 1, sizeof(*handles));
   if (r == VK_SUCCESS && handles)
      r = inst->table.EnumeratePhysicalDevices(inst->handle, &count, handles);
   if (r < 0 || !handles) {
      vd_err(VD_CAT_VK, "context %u: host vkEnumeratePhysicalDevices failed: VkResult %d",
             disp->ctx->params.id, r);
      free(handles);
      return false;
   }
   inst->pdevs = calloc(count ? count : 1, sizeof(*inst->pdevs));
   if (!inst->pdevs) {
      free(handles);
      return false;
   }
   for (uint32_t i = 0; i < count; i++) {
      struct vd_physical_device *pd = &inst->pdevs[i];
      pd->vk = &inst->table;
      pd->handle = handles[i];
      pd->instance = inst;
      inst->table.GetPhysicalDeviceProperties(pd->handle, &pd->props);
      inst->table.GetPhysicalDeviceQueueFamilyProperties(pd->handle, &pd->queue_family_count, NULL);
      pd->queue_families =
         calloc(pd->queue_family_count ? pd->queue_family_count : 1, sizeof(*pd->queue_families));
      if (pd->queue_families)
         inst->table.GetPhysicalDeviceQueueFamilyProperties(pd->handle, &pd->queue_family_count,
                                                            pd->queue_families);
      probe_host_features(pd);
      pd->memory = vd_memory_choose(pd);
      pd->sparse_hidden = sparse_unusable(pd);
      vd_emulation_choose(pd);
      vd_emulation_build_extensions(pd);
      if (pd->has_portability_subset)
         log_portability_subset(disp->ctx->params.id, pd);
      vd_info(VD_CAT_VK,
              "context %u: physical device %u: %s (API %u.%u.%u, %u extensions "
              "exposed, emulation mask 0x%x)",
              disp->ctx->params.id, i, pd->props.deviceName,
              VK_API_VERSION_MAJOR(pd->props.apiVersion),
              VK_API_VERSION_MINOR(pd->props.apiVersion),
              VK_API_VERSION_PATCH(pd->props.apiVersion), pd->ext_count, pd->emulated);
   }
   if (!count)
      vd_err(VD_CAT_VK, "context %u: the host Vulkan instance has no physical devices",
             disp->ctx->params.id);
   inst->pdev_count = count;
   inst->pdevs_enumerated = true;
   free(handles);
   return true;
}

static void pdev_destroy(struct vd_object *obj)
{
   (void)obj; /* owned by the instance record */
}

/* Binds guest id to host device pd; later enumerations must repeat the same ids. */
static bool bind_pdev(struct vd_dispatch *disp, struct vd_object *inst_obj,
                      struct vd_physical_device *pd, uint64_t id)
{
   if (pd->id)
      return pd->id == id || (vd_dispatch_fatal(disp,
                                                "physical device re-enumerated with id %" PRIu64
                                                " instead of %" PRIu64,
                                                id, pd->id),
                              false);
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_PHYSICAL_DEVICE, (uint64_t)(uintptr_t)pd->handle,
                      inst_obj, pd, pdev_destroy))
      return false;
   pd->id = id;
   return true;
}

VD_HANDLER(vkEnumeratePhysicalDevices)
{
   struct vd_instance *inst = a->obj->data;
   pthread_mutex_lock(&inst->mutex);
   if (!enumerate_host(disp, inst)) {
      pthread_mutex_unlock(&inst->mutex);
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }
   if (!a->pPhysicalDevices) {
      *a->pPhysicalDeviceCount = inst->pdev_count;
      a->ret = VK_SUCCESS;
      pthread_mutex_unlock(&inst->mutex);
      return;
   }
   uint32_t n =
      *a->pPhysicalDeviceCount < inst->pdev_count ? *a->pPhysicalDeviceCount : inst->pdev_count;
   for (uint32_t i = 0; i < n; i++) {
      if (!bind_pdev(disp, a->obj, &inst->pdevs[i], (uint64_t)(uintptr_t)a->pPhysicalDevices[i]))
         break;
   }
   pthread_mutex_unlock(&inst->mutex);
   *a->pPhysicalDeviceCount = n;
   a->ret = n < inst->pdev_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VD_HANDLER(vkEnumeratePhysicalDeviceGroups)
{
   struct vd_instance *inst = a->obj->data;
   pthread_mutex_lock(&inst->mutex);
   if (!enumerate_host(disp, inst)) {
      pthread_mutex_unlock(&inst->mutex);
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }
   uint32_t count = 0;
   a->ret = inst->table.EnumeratePhysicalDeviceGroups(inst->handle, &count, NULL);
   if (a->ret < 0 || !a->pPhysicalDeviceGroupProperties) {
      *a->pPhysicalDeviceGroupCount = count;
      pthread_mutex_unlock(&inst->mutex);
      return;
   }
   VkPhysicalDeviceGroupProperties *host = calloc(count ? count : 1, sizeof(*host));
   if (!host) {
      pthread_mutex_unlock(&inst->mutex);
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   for (uint32_t i = 0; i < count; i++)
      host[i].sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_GROUP_PROPERTIES;
   a->ret = inst->table.EnumeratePhysicalDeviceGroups(inst->handle, &count, host);
   uint32_t n = *a->pPhysicalDeviceGroupCount < count ? *a->pPhysicalDeviceGroupCount : count;
   for (uint32_t g = 0; g < n && a->ret >= 0; g++) {
      VkPhysicalDeviceGroupProperties *out = &a->pPhysicalDeviceGroupProperties[g];
      /* The reply names member devices by id.  Devices already bound by
       * vkEnumeratePhysicalDevices keep their ids; otherwise the guest may name ids in
       * the (partial) physicalDevices[] it sent, and they are bound now. */
      for (uint32_t i = 0; i < host[g].physicalDeviceCount; i++) {
         struct vd_physical_device *pd = NULL;
         for (uint32_t j = 0; j < inst->pdev_count; j++)
            if (inst->pdevs[j].handle == host[g].physicalDevices[i])
               pd = &inst->pdevs[j];
         const uint64_t guest_id = (uint64_t)(uintptr_t)out->physicalDevices[i];
         if (!pd || (!pd->id && (!guest_id || !bind_pdev(disp, a->obj, pd, guest_id)))) {
            vd_warn(VD_CAT_VK,
                    "context %u: vkEnumeratePhysicalDeviceGroups before "
                    "vkEnumeratePhysicalDevices bound the devices",
                    disp->ctx->params.id);
            a->ret = VK_ERROR_INITIALIZATION_FAILED;
            break;
         }
         out->physicalDevices[i] = (VkPhysicalDevice)(uintptr_t)pd->id;
      }
      out->physicalDeviceCount = host[g].physicalDeviceCount;
      out->subsetAllocation = host[g].subsetAllocation;
      /* physicalDevices[] keep the guest's ids: the reply carries ids, not host handles. */
   }
   pthread_mutex_unlock(&inst->mutex);
   free(host);
   *a->pPhysicalDeviceGroupCount = n;
   if (a->ret == VK_SUCCESS && n < count)
      a->ret = VK_INCOMPLETE;
}

static void patch_properties(const struct vd_object *pd, VkPhysicalDeviceProperties *p)
{
   const struct vd_physical_device *pdev = pd->data;
   p->apiVersion = vd_emulation_api_version(p->apiVersion, pdev->instance->protocol_level);
   /* (log_portability_subset says why) */
   if (pdev->has_portability_subset && !pdev->portability_subset.samplerMipLodBias)
      p->limits.maxSamplerLodBias = 0.0f;
}

VD_HANDLER(vkGetPhysicalDeviceProperties)
{
   vd_object_vk(a->obj)->GetPhysicalDeviceProperties(a->physicalDevice, a->pProperties);
   patch_properties(a->obj, a->pProperties);
}

VD_HANDLER(vkGetPhysicalDeviceProperties2)
{
   vd_object_vk(a->obj)->GetPhysicalDeviceProperties2(a->physicalDevice, a->pProperties);
   patch_properties(a->obj, &a->pProperties->properties);
}

VD_HANDLER(vkEnumerateDeviceExtensionProperties)
{
   const struct vd_physical_device *pd = a->obj->data;
   if (a->pLayerName) {
      a->ret = VK_ERROR_LAYER_NOT_PRESENT;
      return;
   }
   if (!a->pProperties) {
      *a->pPropertyCount = pd->ext_count;
      a->ret = VK_SUCCESS;
      return;
   }
   uint32_t n = *a->pPropertyCount < pd->ext_count ? *a->pPropertyCount : pd->ext_count;
   memcpy(a->pProperties, pd->exts, n * sizeof(*pd->exts));
   *a->pPropertyCount = n;
   a->ret = n < pd->ext_count ? VK_INCOMPLETE : VK_SUCCESS;
}

static void hide_sparse_features(VkPhysicalDeviceFeatures *f)
{
   f->sparseBinding = VK_FALSE;
   f->sparseResidencyBuffer = VK_FALSE;
   f->sparseResidencyImage2D = VK_FALSE;
   f->sparseResidencyImage3D = VK_FALSE;
   f->sparseResidency2Samples = VK_FALSE;
   f->sparseResidency4Samples = VK_FALSE;
   f->sparseResidency8Samples = VK_FALSE;
   f->sparseResidency16Samples = VK_FALSE;
   f->sparseResidencyAliased = VK_FALSE;
}

VD_HANDLER(vkGetPhysicalDeviceFeatures)
{
   const struct vd_physical_device *pd = a->obj->data;
   pd->vk->GetPhysicalDeviceFeatures(a->physicalDevice, a->pFeatures);
   if (pd->sparse_hidden)
      hide_sparse_features(a->pFeatures);
}

VD_HANDLER(vkGetPhysicalDeviceFeatures2)
{
   const struct vd_physical_device *pd = a->obj->data;
   pd->vk->GetPhysicalDeviceFeatures2(a->physicalDevice, a->pFeatures);
   if (pd->sparse_hidden)
      hide_sparse_features(&a->pFeatures->features);
   vd_accel_hide_features(a->pFeatures->pNext);
}

VD_HANDLER(vkGetPhysicalDeviceSparseImageFormatProperties)
{
   const struct vd_physical_device *pd = a->obj->data;
   if (pd->sparse_hidden) {
      *a->pPropertyCount = 0;
      return;
   }
   pd->vk->GetPhysicalDeviceSparseImageFormatProperties(a->physicalDevice, a->format, a->type,
                                                        a->samples, a->usage, a->tiling,
                                                        a->pPropertyCount, a->pProperties);
}

VD_HANDLER(vkGetPhysicalDeviceSparseImageFormatProperties2)
{
   const struct vd_physical_device *pd = a->obj->data;
   if (pd->sparse_hidden) {
      *a->pPropertyCount = 0;
      return;
   }
   pd->vk->GetPhysicalDeviceSparseImageFormatProperties2(a->physicalDevice, a->pFormatInfo,
                                                         a->pPropertyCount, a->pProperties);
}
