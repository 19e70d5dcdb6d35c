/* Shared set-up of the smoke programs: instance, physical device 0, a device with one
 * queue, and memory-type selection.  Every Vulkan result is checked. */
#ifndef SMOKE_H
#define SMOKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#define CK(x)                              \
   do {                                    \
      VkResult r_ = (x);                   \
      if (r_ != VK_SUCCESS) {              \
         printf("FAIL %s = %d\n", #x, r_); \
         exit(1);                          \
      }                                    \
   } while (0)

/* vkCreateInstance as a portable application calls it: where the loader offers
 * VK_KHR_portability_enumeration, it is enabled with
 * VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR, so that portability drivers (MoltenVK;
 * tests/layers' MoltenVK-shaped layer) are listed too. */
static inline VkResult smoke_create_instance(const VkInstanceCreateInfo *ci, VkInstance *inst)
{
   const char *name = "VK_KHR_portability_enumeration";
   uint32_t n = 0;
   vkEnumerateInstanceExtensionProperties(NULL, &n, NULL);
   VkExtensionProperties *e = calloc(n ? n : 1, sizeof(*e));
   vkEnumerateInstanceExtensionProperties(NULL, &n, e);
   int found = 0;
   for (uint32_t i = 0; i < n; i++)
      found |= !strcmp(e[i].extensionName, name);
   free(e);
   if (!found)
      return vkCreateInstance(ci, NULL, inst);
   const char **names = calloc(ci->enabledExtensionCount + 1, sizeof(*names));
   for (uint32_t i = 0; i < ci->enabledExtensionCount; i++)
      names[i] = ci->ppEnabledExtensionNames[i];
   names[ci->enabledExtensionCount] = name;
   VkInstanceCreateInfo info = *ci;
   info.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
   info.enabledExtensionCount++;
   info.ppEnabledExtensionNames = names;
   VkResult r = vkCreateInstance(&info, NULL, inst);
   free(names);
   return r;
}

/* vkCreateDevice with VK_KHR_portability_subset added where the device lists it (a
 * portability driver requires it). */
static inline VkResult smoke_create_device(VkPhysicalDevice pd, const VkDeviceCreateInfo *ci,
                                           VkDevice *dev)
{
   const char *name = "VK_KHR_portability_subset";
   uint32_t n = 0;
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
   VkExtensionProperties *e = calloc(n ? n : 1, sizeof(*e));
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e);
   int found = 0;
   for (uint32_t i = 0; i < n; i++)
      found |= !strcmp(e[i].extensionName, name);
   free(e);
   if (!found)
      return vkCreateDevice(pd, ci, NULL, dev);
   const char **names = calloc(ci->enabledExtensionCount + 1, sizeof(*names));
   for (uint32_t i = 0; i < ci->enabledExtensionCount; i++)
      names[i] = ci->ppEnabledExtensionNames[i];
   names[ci->enabledExtensionCount] = name;
   VkDeviceCreateInfo info = *ci;
   info.enabledExtensionCount++;
   info.ppEnabledExtensionNames = names;
   VkResult r = vkCreateDevice(pd, &info, NULL, dev);
   free(names);
   return r;
}

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
   CK(smoke_create_instance(&ici, &s->inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s->inst, &n, &s->pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .timelineSemaphore = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
}

static inline void smoke_fini(struct smoke *s)
{
   vkDestroyDevice(s->dev, NULL);
   vkDestroyInstance(s->inst, NULL);
}

/* The first memory type allowed by `bits` that has all of `flags`. */
static inline uint32_t smoke_memory_type(const struct smoke *s, uint32_t bits,
                                         VkMemoryPropertyFlags flags)
{
   for (uint32_t i = 0; i < s->mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (s->mp.memoryTypes[i].propertyFlags & flags) == flags)
         return i;
   printf("FAIL no memory type with flags 0x%x in 0x%x\n", flags, bits);
   exit(1);
}

/* A buffer of `size` bytes bound to new host-visible, coherent memory. */
static inline VkBuffer smoke_host_buffer(struct smoke *s, VkDeviceSize size,
                                         VkBufferUsageFlags usage, VkDeviceMemory *mem)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage };
   VkBuffer buf;
   CK(vkCreateBuffer(s->dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(s->dev, buf, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex =
                                   smoke_memory_type(s, mr.memoryTypeBits,
                                                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) };
   CK(vkAllocateMemory(s->dev, &mai, NULL, mem));
   CK(vkBindBufferMemory(s->dev, buf, *mem, 0));
   return buf;
}

/* A command pool (with `flags`) and one primary command buffer from it. */
static inline VkCommandBuffer smoke_command_buffer(struct smoke *s, VkCommandPoolCreateFlags flags,
                                                   VkCommandPool *pool)
{
   VkCommandPoolCreateInfo pci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .flags = flags };
   CK(vkCreateCommandPool(s->dev, &pci, NULL, pool));
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = *pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1 };
   VkCommandBuffer cb;
   CK(vkAllocateCommandBuffers(s->dev, &cai, &cb));
   return cb;
}

#endif
