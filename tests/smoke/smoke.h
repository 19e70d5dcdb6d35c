/* Shared set-up of the smoke programs: instance, physical device 0, a device with one
 * queue, and memory-type selection.  Every Vulkan result is checked. */
#ifndef SMOKE_H
#define SMOKE_H

#include <stdio.h>
#include <stdlib.h>
#include <vulkan/vulkan.h>

#define CK(x)                                                                              \
   do {                                                                                    \
      VkResult r_ = (x);                                                                   \
      if (r_ != VK_SUCCESS) {                                                              \
         printf("FAIL %s = %d\n", #x, r_);                                                 \
         exit(1);                                                                          \
      }                                                                                    \
   } while (0)

struct smoke {
   VkInstance inst;
   VkPhysicalDevice pd;
   VkDevice dev;
   VkQueue q;
   VkPhysicalDeviceMemoryProperties mp;
};

static inline void smoke_init(struct smoke *s)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(vkCreateInstance(&ici, NULL, &s->inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s->inst, &n, &s->pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1, .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .timelineSemaphore = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12, .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(vkCreateDevice(s->pd, &dci, NULL, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
}

static inline void smoke_fini(struct smoke *s)
{
   vkDestroyDevice(s->dev, NULL);
   vkDestroyInstance(s->inst, NULL);
}

/* The first memory type allowed by `bits` that has all of `flags`. */
static inline uint32_t smoke_memory_type(const struct smoke *s, uint32_t bits, VkMemoryPropertyFlags flags)
{
   for (uint32_t i = 0; i < s->mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (s->mp.memoryTypes[i].propertyFlags & flags) == flags)
         return i;
   printf("FAIL no memory type with flags 0x%x in 0x%x\n", flags, bits);
   exit(1);
}

#endif
