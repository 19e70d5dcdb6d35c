/* feedback_poll: how soon the CPU sees a value the GPU writes into host-visible memory,
 * natively, for the two kinds of memory a Venus guest's fence feedback can live in:
 *
 *   driver   memory the driver allocates (HOST_VISIBLE | HOST_COHERENT)
 *   import   shared memory imported with VK_EXT_external_memory_host, which is what
 *            venusd's host-pointer backend gives the guest
 *
 * Each iteration submits a command buffer that writes i into the buffer (vkCmdFillBuffer +
 * a barrier to HOST_READ, as Mesa's fence feedback does) without a fence, and spins on the
 * mapping until i appears.  Prints "metric feedback_poll_<kind> us N" per repetition.
 *
 *   feedback_poll [driver|import]   (default: both) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#define CK(x)                                                       \
   do {                                                             \
      VkResult r_ = (x);                                            \
      if (r_ != VK_SUCCESS) {                                       \
         fprintf(stderr, "feedback_poll: %s failed: %d\n", #x, r_); \
         exit(1);                                                   \
      }                                                             \
   } while (0)

static double now(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static VkDevice dev;
static VkQueue queue;
static VkPhysicalDeviceMemoryProperties mp;

static uint32_t pick_type(uint32_t bits, VkMemoryPropertyFlags want)
{
   for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
         return i;
   fprintf(stderr, "feedback_poll: no memory type with flags 0x%x in 0x%x\n", want, bits);
   exit(1);
}

static void run(const char *kind, bool import)
{
   const VkDeviceSize size = 65536;
   VkExternalMemoryBufferCreateInfo ext = {
      VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT
   };
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .pNext = import ? &ext : NULL,
                              .size = size, .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
   VkBuffer buf;
   CK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(dev, buf, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size };
   VkImportMemoryHostPointerInfoEXT hp = {
      VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT
   };
   volatile uint32_t *p;
   if (import) {
      int fd = memfd_create("feedback-poll", MFD_CLOEXEC);
      if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
         perror("memfd");
         exit(1);
      }
      void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED) {
         perror("mmap");
         exit(1);
      }
      PFN_vkGetMemoryHostPointerPropertiesEXT get_props =
         (PFN_vkGetMemoryHostPointerPropertiesEXT)vkGetDeviceProcAddr(
            dev, "vkGetMemoryHostPointerPropertiesEXT");
      VkMemoryHostPointerPropertiesEXT props = {
         VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT
      };
      CK(get_props(dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, m, &props));
      hp.pHostPointer = m;
      mai.pNext = &hp;
      mai.memoryTypeIndex =
         pick_type(mr.memoryTypeBits & props.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
      p = m;
   } else {
      mai.memoryTypeIndex = pick_type(mr.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
   }
   VkDeviceMemory mem;
   CK(vkAllocateMemory(dev, &mai, NULL, &mem));
   CK(vkBindBufferMemory(dev, buf, mem, 0));
   if (!import)
      CK(vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p));
   VkCommandPool pool;
   CK(vkCreateCommandPool(
      dev,
      &(VkCommandPoolCreateInfo){ VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT },
      NULL, &pool));
   VkCommandBuffer cb;
   CK(vkAllocateCommandBuffers(
      dev,
      &(VkCommandBufferAllocateInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1 },
      &cb));
   VkFence idle;
   CK(vkCreateFence(dev, &(VkFenceCreateInfo){ VK_STRUCTURE_TYPE_FENCE_CREATE_INFO }, NULL, &idle));
   p[0] = 0;
   for (int rep = -1; rep < 7; rep++) {
      const int n = 300;
      double spent = 0;
      for (int i = 1; i <= n; i++) {
         const uint32_t v = (uint32_t)((rep + 2) * 100000 + i);
         CK(vkBeginCommandBuffer(
            cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
         vkCmdFillBuffer(cb, buf, 0, 4, v);
         VkBufferMemoryBarrier b = { VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                     .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                     .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
                                     .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                     .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                     .buffer = buf,
                                     .size = 4 };
         vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                              NULL, 1, &b, 0, NULL);
         CK(vkEndCommandBuffer(cb));
         VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                             .pCommandBuffers = &cb };
         const double t0 = now();
         CK(vkQueueSubmit(queue, 1, &si, idle));
         while (p[0] != v)
            ;
         spent += now() - t0;
         /* The command buffer is reused: wait for the submission itself, untimed. */
         CK(vkWaitForFences(dev, 1, &idle, VK_TRUE, UINT64_MAX));
         CK(vkResetFences(dev, 1, &idle));
      }
      if (rep >= 0)
         printf("metric feedback_poll_%s us %.3f\n", kind, spent / n * 1e6);
   }
   vkDestroyFence(dev, idle, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, mem, NULL);
}

int main(int argc, char **argv)
{
   const char *only = argc > 1 ? argv[1] : NULL;
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_1 };
   VkInstance inst;
   CK(vkCreateInstance(
      &(VkInstanceCreateInfo){ VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app },
      NULL, &inst));
   uint32_t n = 1;
   VkPhysicalDevice pd;
   vkEnumeratePhysicalDevices(inst, &n, &pd);
   vkGetPhysicalDeviceMemoryProperties(pd, &mp);
   const float prio = 1;
   const char *exts[] = { "VK_EXT_external_memory_host" };
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   CK(vkCreateDevice(pd,
                     &(VkDeviceCreateInfo){ VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                            .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                                            .enabledExtensionCount = 1,
                                            .ppEnabledExtensionNames = exts },
                     NULL, &dev));
   vkGetDeviceQueue(dev, 0, 0, &queue);
   if (!only || !strcmp(only, "driver"))
      run("driver", false);
   if (!only || !strcmp(only, "import"))
      run("import", true);
   vkDestroyDevice(dev, NULL);
   vkDestroyInstance(inst, NULL);
   return 0;
}
