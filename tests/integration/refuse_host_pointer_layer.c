/* A tiny Vulkan layer for test_doctor.sh: the driver below keeps listing
 * VK_EXT_external_memory_host, but vkAllocateMemory refuses host-pointer imports with
 * VK_ERROR_INVALID_EXTERNAL_HANDLE: every one, or with VD_TEST_HOST_POINTER_ALIGN=N only
 * those whose pointer is not a multiple of N (a driver that needs more alignment than its
 * minImportedHostPointerAlignment says, as 16 KiB on Apple Silicon).
 * With VD_TEST_PORTABILITY_ONLY=1 it also lists devices only to an instance created with
 * VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR, as MoltenVK's do.
 *
 * Loaded as an explicit layer: VK_LAYER_PATH=<dir of its manifest>
 * VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_test_refuse_host_pointer.  It serves one instance
 * and its devices at a time, which is all the doctor makes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan_core.h>

#include "../layers/layer_link.h"

static PFN_vkGetInstanceProcAddr next_gipa;
static PFN_vkGetDeviceProcAddr next_gdpa;
static PFN_vkAllocateMemory next_allocate;
static VkInstance the_instance;
static bool portability_requested;
static PFN_vkEnumeratePhysicalDevices next_enumerate;

static VKAPI_ATTR VkResult VKAPI_CALL layer_allocate_memory(VkDevice dev,
                                                            const VkMemoryAllocateInfo *info,
                                                            const VkAllocationCallbacks *alloc,
                                                            VkDeviceMemory *mem)
{
   const char *env = getenv("VD_TEST_HOST_POINTER_ALIGN");
   const uintptr_t align = env ? (uintptr_t)strtoull(env, NULL, 0) : 0;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType != VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT)
         continue;
      const VkImportMemoryHostPointerInfoEXT *imp = (const void *)s;
      if (!align || (uintptr_t)imp->pHostPointer % align)
         return VK_ERROR_INVALID_EXTERNAL_HANDLE;
   }
   return next_allocate(dev, info, alloc, mem);
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
      portability_requested = ci->flags & VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
      next_enumerate =
         (PFN_vkEnumeratePhysicalDevices)next_gipa(*inst, "vkEnumeratePhysicalDevices");
   }
   return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_enumerate_devices(VkInstance inst, uint32_t *count,
                                                              VkPhysicalDevice *devs)
{
   const char *env = getenv("VD_TEST_PORTABILITY_ONLY");
   if (env && *env == '1' && !portability_requested) {
      *count = 0;
      return VK_SUCCESS;
   }
   return next_enumerate(inst, count, devs);
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
   const VkResult r = create(pd, ci, alloc, dev);
   if (r == VK_SUCCESS)
      next_allocate = (PFN_vkAllocateMemory)next_gdpa(*dev, "vkAllocateMemory");
   return r;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_gdpa(VkDevice dev, const char *name);

static PFN_vkVoidFunction own_function(const char *name);

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_gipa(VkInstance inst, const char *name)
{
   PFN_vkVoidFunction own = own_function(name);
   return own ? own : next_gipa ? next_gipa(inst, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_gdpa(VkDevice dev, const char *name)
{
   if (!strcmp(name, "vkAllocateMemory"))
      return (PFN_vkVoidFunction)layer_allocate_memory;
   if (!strcmp(name, "vkGetDeviceProcAddr"))
      return (PFN_vkVoidFunction)layer_gdpa;
   return next_gdpa ? next_gdpa(dev, name) : NULL;
}

static PFN_vkVoidFunction own_function(const char *name)
{
   static const struct {
      const char *name;
      PFN_vkVoidFunction fn;
   } own[] = {
      { "vkGetInstanceProcAddr", (PFN_vkVoidFunction)layer_gipa },
      { "vkGetDeviceProcAddr", (PFN_vkVoidFunction)layer_gdpa },
      { "vkCreateInstance", (PFN_vkVoidFunction)layer_create_instance },
      { "vkCreateDevice", (PFN_vkVoidFunction)layer_create_device },
      { "vkAllocateMemory", (PFN_vkVoidFunction)layer_allocate_memory },
      { "vkEnumeratePhysicalDevices", (PFN_vkVoidFunction)layer_enumerate_devices },
   };
   for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
      if (!strcmp(name, own[i].name))
         return own[i].fn;
   return NULL;
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
