/* ctx_hold: an idle Vulkan client for bench/contexts.sh.  It makes an instance and a device
 * with one queue, allocates 1 MiB (or --mib N) of host-visible memory, maps it and writes
 * every page, prints "ready MS" (milliseconds from the start of main to the written
 * mapping) and then holds all of that until its standard input reaches end of file, when it
 * frees everything and exits.  Through Venus each such client is one context on the server. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#define CK(x)                                                            \
   do {                                                                  \
      VkResult r_ = (x);                                                 \
      if (r_ != VK_SUCCESS) {                                            \
         printf("FAIL %s = %d (ctx_hold, line %d)\n", #x, r_, __LINE__); \
         exit(1);                                                        \
      }                                                                  \
   } while (0)

static double now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint32_t host_visible_type(VkPhysicalDevice pd)
{
   VkPhysicalDeviceMemoryProperties mp;
   vkGetPhysicalDeviceMemoryProperties(pd, &mp);
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
      if ((mp.memoryTypes[i].propertyFlags & want) == want)
         return i;
   printf("FAIL ctx_hold: no host-visible coherent memory type among %u\n", mp.memoryTypeCount);
   exit(1);
}

int main(int argc, char **argv)
{
   const double t0 = now_ms();
   VkDeviceSize size = 1u << 20;
   if (argc == 3 && !strcmp(argv[1], "--mib"))
      size = (VkDeviceSize)strtoul(argv[2], NULL, 10) << 20;
   else if (argc != 1) {
      fprintf(stderr, "usage: ctx_hold [--mib N]   (holds until stdin closes)\n");
      return 2;
   }
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "ctx_hold",
                             .apiVersion = VK_API_VERSION_1_1 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   VkInstance inst;
   CK(vkCreateInstance(&ici, NULL, &inst));
   uint32_t n = 1;
   VkPhysicalDevice pd;
   VkResult r = vkEnumeratePhysicalDevices(inst, &n, &pd);
   if (r < 0 || !n) {
      printf("FAIL ctx_hold: no physical device (VkResult %d)\n", r);
      return 1;
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci };
   VkDevice dev;
   CK(vkCreateDevice(pd, &dci, NULL, &dev));
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                                .memoryTypeIndex = host_visible_type(pd) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(dev, &mai, NULL, &mem));
   void *p;
   CK(vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, &p));
   memset(p, 0x5a, (size_t)size);
   printf("ready %.1f\n", now_ms() - t0);
   fflush(stdout);
   char buf[256];
   while (read(0, buf, sizeof(buf)) > 0)
      ;
   vkUnmapMemory(dev, mem);
   vkFreeMemory(dev, mem, NULL);
   vkDestroyDevice(dev, NULL);
   vkDestroyInstance(inst, NULL);
   return 0;
}
