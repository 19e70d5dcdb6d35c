/* VK_LAYER_VENUSD_hide_extensions: a Vulkan layer for benchmarks that hides the device
 * extensions named in VD_HIDE_DEVICE_EXTENSIONS (comma-separated) from
 * vkEnumerateDeviceExtensionProperties, so that a native run sees the device as a Venus
 * guest does.  bench/llama/run.sh's variant native-cm1-nosm hides VK_NV_shader_sm_builtins,
 * which no Venus protocol carries: without it ggml does not know the GPU's SM count and
 * chooses other matrix-multiplication splits (bench/README.md).
 *
 * With VD_FORCE_ROBUSTNESS=1 it also enables robustBufferAccess and robustImageAccess at
 * vkCreateDevice, as venusd does for every guest device (src/vk/device.c): variant
 * native-robust measures what that costs natively.  It writes into the application's
 * feature structs where the chain has them (a benchmark layer, not a general one).
 *
 * Load it with VK_LAYER_PATH=<dir with VkLayer_venusd_hide_extensions.json>
 * VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_hide_extensions (bench/llama/run.sh writes the
 * manifest).  Not a test fixture: nothing in the test suite loads it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan_core.h>

#include "../tests/layers/layer_link.h"

static PFN_vkGetInstanceProcAddr next_gipa;
static PFN_vkGetDeviceProcAddr next_gdpa;
static PFN_vkEnumerateDeviceExtensionProperties next_enumerate_ext;
static VkInstance the_instance;

static bool hidden(const char *name)
{
   const char *list = getenv("VD_HIDE_DEVICE_EXTENSIONS");
   const size_t n = strlen(name);
   for (const char *p = list; p && *p;) {
      const char *end = strchr(p, ',');
      const size_t len = end ? (size_t)(end - p) : strlen(p);
      if (len == n && !strncmp(p, name, n))
         return true;
      p = end ? end + 1 : NULL;
   }
   return false;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_enumerate_device_extensions(VkPhysicalDevice pd,
                                                                        const char *layer,
                                                                        uint32_t *count,
                                                                        VkExtensionProperties *out)
{
   const PFN_vkEnumerateDeviceExtensionProperties next = next_enumerate_ext;
   if (layer)
      return next(pd, layer, count, out);
   uint32_t all = 0;
   VkResult r = next(pd, NULL, &all, NULL);
   if (r != VK_SUCCESS)
      return r;
   VkExtensionProperties *props = calloc(all ? all : 1, sizeof(*props));
   if (!props)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   r = next(pd, NULL, &all, props);
   if (r < 0) {
      free(props);
      return r;
   }
   uint32_t kept = 0;
   for (uint32_t i = 0; i < all; i++)
      if (!hidden(props[i].extensionName))
         props[kept++] = props[i];
   if (!out) {
      *count = kept;
      free(props);
      return VK_SUCCESS;
   }
   const uint32_t n = *count < kept ? *count : kept;
   memcpy(out, props, n * sizeof(*out));
   *count = n;
   free(props);
   return n < kept ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_create_instance(const VkInstanceCreateInfo *ci,
                                                            const VkAllocationCallbacks *alloc,
                                                            VkInstance *inst)
{
   VkLayerInstanceCreateInfo *link = layer_instance_link(ci);
   if (!link)
      return VK_ERROR_INITIALIZATION_FAILED;
   next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
   link->u.pLayerInfo = link->u.pLayerInfo->pNext;
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)next_gipa(NULL, "vkCreateInstance");
   const VkResult r = create(ci, alloc, inst);
   if (r == VK_SUCCESS) {
      the_instance = *inst;
      next_enumerate_ext = (PFN_vkEnumerateDeviceExtensionProperties)next_gipa(
         *inst, "vkEnumerateDeviceExtensionProperties");
   }
   return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_create_device(VkPhysicalDevice pd,
                                                          const VkDeviceCreateInfo *ci,
                                                          const VkAllocationCallbacks *alloc,
                                                          VkDevice *dev)
{
   VkLayerDeviceCreateInfo *link = layer_device_link(ci);
   if (!link)
      return VK_ERROR_INITIALIZATION_FAILED;
   PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
   next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
   link->u.pLayerInfo = link->u.pLayerInfo->pNext;
   PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(the_instance, "vkCreateDevice");
   const char *force = getenv("VD_FORCE_ROBUSTNESS");
   if (!force || strcmp(force, "1"))
      return create(pd, ci, alloc, dev);
   VkDeviceCreateInfo info = *ci;
   VkPhysicalDeviceFeatures features = { 0 };
   VkPhysicalDeviceImageRobustnessFeatures image = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES,
      .robustImageAccess = VK_TRUE,
   };
   bool buffer_set = false, image_set = false;
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)info.pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2) {
         ((VkPhysicalDeviceFeatures2 *)s)->features.robustBufferAccess = VK_TRUE;
         buffer_set = true;
      } else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES) {
         ((VkPhysicalDeviceVulkan13Features *)s)->robustImageAccess = VK_TRUE;
         image_set = true;
      } else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_ROBUSTNESS_FEATURES) {
         ((VkPhysicalDeviceImageRobustnessFeatures *)s)->robustImageAccess = VK_TRUE;
         image_set = true;
      }
   }
   if (!buffer_set) {
      if (info.pEnabledFeatures)
         features = *info.pEnabledFeatures;
      features.robustBufferAccess = VK_TRUE;
      info.pEnabledFeatures = &features;
   }
   /* the devices this runs on (lavapipe, NVIDIA) are Vulkan 1.3: the struct is core */
   if (!image_set) {
      image.pNext = (void *)info.pNext;
      info.pNext = &image;
   }
   return create(pd, &info, alloc, dev);
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_gdpa(VkDevice dev, const char *name)
{
   if (!strcmp(name, "vkGetDeviceProcAddr"))
      return (PFN_vkVoidFunction)layer_gdpa;
   return next_gdpa ? next_gdpa(dev, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_gipa(VkInstance inst, const char *name)
{
   static const struct {
      const char *name;
      PFN_vkVoidFunction fn;
   } own[] = {
      { "vkGetInstanceProcAddr", (PFN_vkVoidFunction)layer_gipa },
      { "vkGetDeviceProcAddr", (PFN_vkVoidFunction)layer_gdpa },
      { "vkCreateInstance", (PFN_vkVoidFunction)layer_create_instance },
      { "vkCreateDevice", (PFN_vkVoidFunction)layer_create_device },
      { "vkEnumerateDeviceExtensionProperties",
        (PFN_vkVoidFunction)layer_enumerate_device_extensions },
   };
   for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
      if (!strcmp(name, own[i].name))
         return own[i].fn;
   return next_gipa ? next_gipa(inst, name) : NULL;
}

VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v);
VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v)
{
   if (v->loaderLayerInterfaceVersion > 2)
      v->loaderLayerInterfaceVersion = 2;
   v->pfnGetInstanceProcAddr = layer_gipa;
   v->pfnGetDeviceProcAddr = layer_gdpa;
   v->pfnGetPhysicalDeviceProcAddr = NULL;
   return VK_SUCCESS;
}
