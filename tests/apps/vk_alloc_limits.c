/* Failed allocations come back to the application as errors and leave the device usable.
 * Through venusd a host-visible allocation of 1 PiB, beyond any heap, must fail with an
 * out-of-memory error (venusd refuses it before making any shared memory) and the same
 * device must then still fill and read back a buffer.  lavapipe itself accepts such an
 * allocation lazily, so natively (no argument) a success is reported, not checked.
 * Through venusd it runs with VN_PERF=no_async_mem_alloc: by default Mesa allocates
 * asynchronously and cannot report a host failure at vkAllocateMemory.
 *
 *
 * vk_alloc_limits --bad-bind binds a 4 KiB buffer at offset 1 MiB of a 64 KiB allocation
 * (invalid usage that the driver would turn into an out-of-bounds host access) and then
 * waits for the device: through venusd the context must go fatal at the bind, and the
 * client never prints "OK".
 *
 * vk_alloc_limits --bad-fill records a vkCmdFillBuffer of 1 MiB into a 4 KiB buffer and
 * submits it: through venusd the context must go fatal when the command is recorded.
 *
 * vk_alloc_limits --expect-oom SIZE allocates SIZE bytes (K, M suffixes) instead of 1 PiB,
 * for a venusd whose --max-memory is below SIZE (tests/integration/test_limits.sh).
 *
 *   vk_alloc_limits [--expect-oom [SIZE] | --bad-bind | --bad-fill] */
#include <stdlib.h>
#include <string.h>

#include "smoke.h"

int main(int argc, char **argv)
{
   const int expect_oom = argc > 1 && !strcmp(argv[1], "--expect-oom");
   struct smoke s;
   smoke_init(&s);
   if (argc > 1 && !strcmp(argv[1], "--bad-fill")) {
      VkBuffer buf;
      VkDeviceMemory mem;
      buf = smoke_host_buffer(&s, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
      VkCommandPool pool;
      CK(vkCreateCommandPool(
         s.dev, &(VkCommandPoolCreateInfo){ VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO }, NULL,
         &pool));
      VkCommandBuffer cb;
      CK(vkAllocateCommandBuffers(s.dev,
                                  &(VkCommandBufferAllocateInfo){
                                     VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1 },
                                  &cb));
      CK(vkBeginCommandBuffer(
         cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
      printf("filling out of bounds\n");
      fflush(stdout);
      vkCmdFillBuffer(cb, buf, 0, 1u << 20, 0xdeadbeef);
      vkEndCommandBuffer(cb);
      VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                          .pCommandBuffers = &cb };
      vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE);
      vkDeviceWaitIdle(s.dev);
      printf("OK the device survived an out-of-bounds fill\n");
      return 0;
   }
   if (argc > 1 && !strcmp(argv[1], "--bad-bind")) {
      VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
      VkBuffer buf;
      CK(vkCreateBuffer(s.dev, &bci, NULL, &buf));
      VkMemoryRequirements mr;
      vkGetBufferMemoryRequirements(s.dev, buf, &mr);
      VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = 65536,
                                   .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
      VkDeviceMemory mem;
      CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
      printf("binding out of bounds\n");
      fflush(stdout);
      vkBindBufferMemory(s.dev, buf, mem, 1u << 20);
      vkDeviceWaitIdle(s.dev);
      printf("OK the device survived an out-of-bounds bind\n");
      return 0;
   }

   const uint32_t type = smoke_memory_type(&s, ~0u, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
   VkDeviceSize want = 1ull << 50;
   const char *what = "1 PiB (beyond the heap)";
   char custom[64];
   if (expect_oom && argc > 2) {
      char *end;
      want = strtoull(argv[2], &end, 0);
      want <<= *end == 'K' ? 10 : *end == 'M' ? 20 : 0;
      snprintf(custom, sizeof(custom), "%llu bytes", (unsigned long long)want);
      what = custom;
   } else if (s.mp.memoryHeaps[s.mp.memoryTypes[type].heapIndex].size >= (1ull << 50)) {
      printf("FAIL a heap of 1 PiB or more\n");
      return 1;
   }
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = want,
                                .memoryTypeIndex = type };
   VkDeviceMemory huge = VK_NULL_HANDLE;
   VkResult r = vkAllocateMemory(s.dev, &mai, NULL, &huge);
   if (r == VK_SUCCESS && !expect_oom) {
      printf("OK allocation of 1 PiB succeeded (lazily, as lavapipe does)\n");
      vkFreeMemory(s.dev, huge, NULL);
   } else if (r != VK_ERROR_OUT_OF_DEVICE_MEMORY && r != VK_ERROR_OUT_OF_HOST_MEMORY) {
      printf("FAIL allocation of %s returned %d\n", what, r);
      if (r == VK_SUCCESS)
         vkFreeMemory(s.dev, huge, NULL);
      return 1;
   } else {
      printf("OK allocation of %s fails with an out-of-memory error\n", what);
   }

   /* The device is still usable. */
   const VkDeviceSize size = 64 << 10;
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(&s, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   uint32_t *p;
   CK(vkMapMemory(s.dev, mem, 0, size, 0, (void **)&p));
   memset(p, 0, size);
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdFillBuffer(cb, buf, 0, size, 0x600dcafe);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
   for (VkDeviceSize i = 0; i < size / 4; i++) {
      if (p[i] != 0x600dcafe) {
         printf("FAIL after the failed allocation, word %llu = 0x%x\n", (unsigned long long)i,
                p[i]);
         return 1;
      }
   }
   printf("OK the device still fills and reads back a buffer\n");
   vkUnmapMemory(s.dev, mem);
   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyBuffer(s.dev, buf, NULL);
   vkFreeMemory(s.dev, mem, NULL);
   smoke_fini(&s);
   printf("OK alloc_limits\n");
   return 0;
}
