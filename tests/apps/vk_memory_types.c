/* Every memory type the device lists, used as an application would: a 64 KiB storage buffer
 * bound to a new allocation of that type and, where the type is host-visible, mapped,
 * written, read back and unmapped.  Prints one line per type with its property flags and
 * what happened, then "OK memory_types" (or "FAIL ..." on a wrong read-back).  An allocation
 * or map the driver refuses is printed, not fatal: natively every type of lavapipe and of a
 * GPU driver works, so a guest whose output differs from native's was offered a type it
 * cannot use (tests/integration/test_apps.sh and bench/gpu-device.sh compare them). */
#include <string.h>

#include "smoke.h"

#define SIZE 65536u

int main(void)
{
   struct smoke s;
   smoke_init(&s);
   VkDevice dev = s.dev;
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = SIZE,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_DST_BIT };
   int bad = 0;
   for (uint32_t t = 0; t < s.mp.memoryTypeCount; t++) {
      const VkMemoryPropertyFlags flags = s.mp.memoryTypes[t].propertyFlags;
      printf("type %u heap %u flags 0x%x: ", t, s.mp.memoryTypes[t].heapIndex, flags);
      VkBuffer buf;
      CK(vkCreateBuffer(dev, &bci, NULL, &buf));
      VkMemoryRequirements mr;
      vkGetBufferMemoryRequirements(dev, buf, &mr);
      if (!(mr.memoryTypeBits & (1u << t))) {
         printf("not for buffers\n");
         vkDestroyBuffer(dev, buf, NULL);
         continue;
      }
      if (flags & VK_MEMORY_PROPERTY_PROTECTED_BIT) {
         printf("protected, skipped\n");
         vkDestroyBuffer(dev, buf, NULL);
         continue;
      }
      VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                   .allocationSize = mr.size, .memoryTypeIndex = t };
      VkDeviceMemory mem;
      VkResult r = vkAllocateMemory(dev, &mai, NULL, &mem);
      if (r != VK_SUCCESS) {
         printf("vkAllocateMemory failed: %d\n", r);
         vkDestroyBuffer(dev, buf, NULL);
         continue;
      }
      CK(vkBindBufferMemory(dev, buf, mem, 0));
      if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
         uint32_t *p;
         r = vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p);
         if (r != VK_SUCCESS) {
            printf("vkMapMemory failed: %d\n", r);
         } else {
            for (uint32_t i = 0; i < SIZE / 4; i++)
               p[i] = i * 2654435761u + t;
            const VkMappedMemoryRange range = { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                                .memory = mem, .size = VK_WHOLE_SIZE };
            if (!(flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
               CK(vkFlushMappedMemoryRanges(dev, 1, &range));
               CK(vkInvalidateMappedMemoryRanges(dev, 1, &range));
            }
            uint32_t wrong = 0;
            for (uint32_t i = 0; i < SIZE / 4; i++)
               wrong += p[i] != i * 2654435761u + t;
            vkUnmapMemory(dev, mem);
            if (wrong) {
               printf("FAIL %u words read back wrong\n", wrong);
               bad = 1;
            } else {
               printf("allocated, mapped, %u bytes read back\n", SIZE);
            }
         }
      } else {
         printf("allocated\n");
      }
      vkDestroyBuffer(dev, buf, NULL);
      vkFreeMemory(dev, mem, NULL);
   }
   smoke_fini(&s);
   if (bad)
      return 1;
   printf("OK memory_types\n");
   return 0;
}
