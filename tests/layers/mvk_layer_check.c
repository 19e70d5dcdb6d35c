/* mvk_layer_check: VK_LAYER_VENUSD_moltenvk_shape seen from an application, on the driver
 * under it.  Prints "OK <check>" for each property of a MoltenVK-shaped driver, and on the
 * first one that does not hold "FAIL <check>: <what was seen>" and exits 1.  Without the
 * layer (plain lavapipe) the first check fails: lavapipe lists its device to any instance. */
#define VK_ENABLE_BETA_EXTENSIONS
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define FAIL(check, ...) (printf("FAIL %s: ", check), printf(__VA_ARGS__), printf("\n"), exit(1))
#define OK(check) printf("OK %s\n", check)
#define K16 16384

static VkInstance make_instance(bool portability)
{
   const char *ext = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ci = {
      VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .flags = portability ? VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR : 0,
      .pApplicationInfo = &app,
      .enabledExtensionCount = portability,
      .ppEnabledExtensionNames = &ext,
   };
   VkInstance inst;
   VkResult r = vkCreateInstance(&ci, NULL, &inst);
   if (r != VK_SUCCESS)
      FAIL("instance", "vkCreateInstance (portability %d) = %d", portability, r);
   return inst;
}

static bool has_extension(VkPhysicalDevice pd, const char *name)
{
   uint32_t n = 0;
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
   VkExtensionProperties *e = calloc(n ? n : 1, sizeof(*e));
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e);
   bool found = false;
   for (uint32_t i = 0; i < n; i++)
      found |= !strcmp(e[i].extensionName, name);
   free(e);
   return found;
}

static void check_extensions(VkPhysicalDevice pd)
{
   if (!has_extension(pd, VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME))
      FAIL("portability_subset_listed", "VK_KHR_portability_subset is not listed");
   OK("portability_subset_listed");
   static const char *const absent[] = {
      "VK_KHR_external_memory_fd",        "VK_EXT_external_memory_dma_buf",
      "VK_EXT_image_drm_format_modifier", "VK_KHR_external_semaphore_fd",
      "VK_KHR_external_fence_fd",         "VK_EXT_queue_family_foreign",
      "VK_KHR_draw_indirect_count"
   };
   for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
      if (has_extension(pd, absent[i]))
         FAIL("no_fd_extensions", "%s is listed", absent[i]);
   OK("no_fd_extensions");
   if (!has_extension(pd, "VK_EXT_external_memory_host"))
      FAIL("external_memory_host_listed", "VK_EXT_external_memory_host is not listed");
   OK("external_memory_host_listed");
}

static void check_features(VkPhysicalDevice pd)
{
   VkPhysicalDevicePortabilitySubsetFeaturesKHR sub = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            &sub };
   VkPhysicalDeviceFeatures2 f = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12 };
   vkGetPhysicalDeviceFeatures2(pd, &f);
   const VkPhysicalDeviceFeatures *c = &f.features;
   if (c->geometryShader || c->logicOp || c->pipelineStatisticsQuery || c->wideLines ||
       c->sparseBinding || c->shaderFloat64 || f12.drawIndirectCount || f12.samplerFilterMinmax)
      FAIL("features_off",
           "geometryShader %u logicOp %u pipelineStatisticsQuery %u wideLines %u sparseBinding "
           "%u shaderFloat64 %u drawIndirectCount %u samplerFilterMinmax %u",
           c->geometryShader, c->logicOp, c->pipelineStatisticsQuery, c->wideLines,
           c->sparseBinding, c->shaderFloat64, f12.drawIndirectCount, f12.samplerFilterMinmax);
   if (!c->tessellationShader || !c->robustBufferAccess || !f12.timelineSemaphore)
      FAIL("features_off", "a feature the M1 has is off too");
   OK("features_off");
   if (sub.pointPolygons || sub.samplerMipLodBias || sub.tessellationIsolines ||
       sub.tessellationPointMode || !sub.triangleFans || !sub.events)
      FAIL("portability_subset_features",
           "pointPolygons %u samplerMipLodBias %u tessellationIsolines %u "
           "tessellationPointMode %u triangleFans %u events %u",
           sub.pointPolygons, sub.samplerMipLodBias, sub.tessellationIsolines,
           sub.tessellationPointMode, sub.triangleFans, sub.events);
   OK("portability_subset_features");
   VkPhysicalDeviceFeatures f1;
   vkGetPhysicalDeviceFeatures(pd, &f1);
   if (f1.geometryShader || f1.pipelineStatisticsQuery)
      FAIL("features_off_1_0",
           "vkGetPhysicalDeviceFeatures reports geometryShader %u "
           "pipelineStatisticsQuery %u",
           f1.geometryShader, f1.pipelineStatisticsQuery);
   OK("features_off_1_0");
}

static void check_properties(VkPhysicalDevice pd)
{
   VkPhysicalDevicePortabilitySubsetPropertiesKHR sub = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_PROPERTIES_KHR
   };
   VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT, &sub
   };
   VkPhysicalDeviceProperties2 p = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &host };
   vkGetPhysicalDeviceProperties2(pd, &p);
   if (host.minImportedHostPointerAlignment != K16)
      FAIL("host_pointer_alignment_16k", "minImportedHostPointerAlignment %llu",
           (unsigned long long)host.minImportedHostPointerAlignment);
   OK("host_pointer_alignment_16k");
   const VkPhysicalDeviceLimits *l = &p.properties.limits;
   if (sub.minVertexInputBindingStrideAlignment != 1 || l->maxPerStageDescriptorSamplers > 16 ||
       l->lineWidthRange[1] != 1.0f || l->maxGeometryOutputVertices)
      FAIL("m1_limits",
           "minVertexInputBindingStrideAlignment %u maxPerStageDescriptorSamplers %u "
           "lineWidthRange[1] %g maxGeometryOutputVertices %u",
           sub.minVertexInputBindingStrideAlignment, l->maxPerStageDescriptorSamplers,
           l->lineWidthRange[1], l->maxGeometryOutputVertices);
   OK("m1_limits");
   uint32_t n = 0;
   vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
   VkQueueFamilyProperties qf[8];
   n = n > 8 ? 8 : n;
   vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
   for (uint32_t i = 0; i < n; i++)
      if (qf[i].queueFlags & VK_QUEUE_SPARSE_BINDING_BIT)
         FAIL("no_sparse_queue", "queue family %u has SPARSE_BINDING", i);
   OK("no_sparse_queue");
}

static void check_external(VkPhysicalDevice pd)
{
   VkPhysicalDeviceExternalSemaphoreInfo si = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT
   };
   VkExternalSemaphoreProperties sp = { VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
   vkGetPhysicalDeviceExternalSemaphoreProperties(pd, &si, &sp);
   VkPhysicalDeviceExternalBufferInfo bi = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
                                             .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                             .handleType =
                                                VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT };
   VkExternalBufferProperties bp = { VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   vkGetPhysicalDeviceExternalBufferProperties(pd, &bi, &bp);
   bi.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
   VkExternalBufferProperties hp = { VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   vkGetPhysicalDeviceExternalBufferProperties(pd, &bi, &hp);
   if (sp.externalSemaphoreFeatures || bp.externalMemoryProperties.externalMemoryFeatures ||
       !(hp.externalMemoryProperties.externalMemoryFeatures &
         VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT))
      FAIL("external_handles", "SYNC_FD semaphore 0x%x, dma-buf buffer 0x%x, host allocation 0x%x",
           sp.externalSemaphoreFeatures, bp.externalMemoryProperties.externalMemoryFeatures,
           hp.externalMemoryProperties.externalMemoryFeatures);
   OK("external_handles");
   VkFormatProperties fp;
   vkGetPhysicalDeviceFormatProperties(pd, VK_FORMAT_D24_UNORM_S8_UINT, &fp);
   if (fp.optimalTilingFeatures || fp.linearTilingFeatures)
      FAIL("no_d24s8", "D24_UNORM_S8_UINT optimal features 0x%x", fp.optimalTilingFeatures);
   vkGetPhysicalDeviceFormatProperties(pd, VK_FORMAT_D32_SFLOAT_S8_UINT, &fp);
   if (!(fp.optimalTilingFeatures & VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT))
      FAIL("no_d24s8", "D32_SFLOAT_S8_UINT is no depth/stencil attachment");
   OK("no_d24s8");
}

static VkResult make_device(VkPhysicalDevice pd, bool subset, const VkPhysicalDeviceFeatures *f,
                            const void *next, VkDevice *dev)
{
   const char *exts[2] = { "VK_EXT_external_memory_host",
                           VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo ci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .pNext = next,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qci,
                             .enabledExtensionCount = subset ? 2 : 1,
                             .ppEnabledExtensionNames = exts,
                             .pEnabledFeatures = f };
   return vkCreateDevice(pd, &ci, NULL, dev);
}

static void check_device_rules(VkPhysicalDevice pd)
{
   VkDevice dev;
   VkResult r = make_device(pd, false, NULL, NULL, &dev);
   if (r == VK_SUCCESS)
      FAIL("device_needs_portability_subset", "vkCreateDevice without it succeeded");
   OK("device_needs_portability_subset");
   VkPhysicalDeviceFeatures gs = { .geometryShader = VK_TRUE };
   r = make_device(pd, true, &gs, NULL, &dev);
   if (r != VK_ERROR_FEATURE_NOT_PRESENT)
      FAIL("device_refuses_geometry_shader", "vkCreateDevice = %d", r);
   OK("device_refuses_geometry_shader");
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .drawIndirectCount = VK_TRUE };
   r = make_device(pd, true, NULL, &f12, &dev);
   if (r != VK_ERROR_FEATURE_NOT_PRESENT)
      FAIL("device_refuses_draw_indirect_count", "vkCreateDevice = %d", r);
   OK("device_refuses_draw_indirect_count");
}

static VkResult import(VkDevice dev, void *ptr, VkDeviceSize size, uint32_t type)
{
   VkImportMemoryHostPointerInfoEXT imp = {
      VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, .pHostPointer = ptr
   };
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, &imp, size, type };
   VkDeviceMemory mem;
   VkResult r = vkAllocateMemory(dev, &ai, NULL, &mem);
   if (r == VK_SUCCESS)
      vkFreeMemory(dev, mem, NULL);
   return r;
}

static void check_host_pointers(VkPhysicalDevice pd)
{
   VkDevice dev;
   VkResult r = make_device(pd, true, NULL, NULL, &dev);
   if (r != VK_SUCCESS)
      FAIL("host_pointer_import", "vkCreateDevice with the subset = %d", r);
   PFN_vkGetMemoryHostPointerPropertiesEXT props =
      (PFN_vkGetMemoryHostPointerPropertiesEXT)vkGetDeviceProcAddr(
         dev, "vkGetMemoryHostPointerPropertiesEXT");
   uint8_t *buf = aligned_alloc(K16, 4 * K16);
   VkMemoryHostPointerPropertiesEXT hp = { VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT };
   props(dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, buf, &hp);
   uint32_t type = 0;
   while (type < 32 && !(hp.memoryTypeBits & (1u << type)))
      type++;
   VkResult at4k = import(dev, buf + 4096, K16, type);
   VkResult size4k = import(dev, buf, 4096, type);
   VkResult at16k = import(dev, buf, K16, type);
   if (at4k != VK_ERROR_INVALID_EXTERNAL_HANDLE || size4k != VK_ERROR_INVALID_EXTERNAL_HANDLE)
      FAIL("host_pointer_4k_refused", "import at a 4 KiB offset = %d, of 4 KiB = %d", at4k, size4k);
   OK("host_pointer_4k_refused");
   if (at16k != VK_SUCCESS)
      FAIL("host_pointer_16k_accepted", "import of 16 KiB at 16 KiB = %d", at16k);
   OK("host_pointer_16k_accepted");
   vkDestroyDevice(dev, NULL);
   free(buf);
}

int main(void)
{
   VkInstance inst = make_instance(false);
   uint32_t n = 0;
   vkEnumeratePhysicalDevices(inst, &n, NULL);
   if (n)
      FAIL("no_devices_without_portability", "%u devices listed without the portability flag", n);
   OK("no_devices_without_portability");
   vkDestroyInstance(inst, NULL);

   inst = make_instance(true);
   VkPhysicalDevice pd;
   n = 1;
   if (vkEnumeratePhysicalDevices(inst, &n, &pd) < 0 || !n)
      FAIL("devices_with_portability", "no device listed with the portability flag");
   OK("devices_with_portability");
   check_extensions(pd);
   check_features(pd);
   check_properties(pd);
   check_external(pd);
   check_device_rules(pd);
   check_host_pointers(pd);
   vkDestroyInstance(inst, NULL);
   printf("OK mvk_layer_check\n");
   return 0;
}
