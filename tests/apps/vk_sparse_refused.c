/* Sparse binding where venusd cannot serve it (lavapipe with the host-pointer backend: see
 * src/vk/physical_device.c).  Prints whether the device offers sparseBinding, then, with
 * --bind, binds host-visible memory to a SPARSE_BINDING buffer anyway, as a guest ignoring
 * the feature would: venusd must make that context fatal instead of letting the driver map
 * something else under the buffer.  Prints OK only if the bind returned (it must not). */
#include <string.h>

#include "smoke.h"

int main(int argc, char **argv)
{
   struct smoke s;
   smoke_init(&s);
   VkPhysicalDeviceFeatures f;
   vkGetPhysicalDeviceFeatures(s.pd, &f);
   VkPhysicalDeviceFeatures2 f2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 };
   vkGetPhysicalDeviceFeatures2(s.pd, &f2);
   printf("sparse features: sparseBinding=%u sparseResidencyBuffer=%u (features2: %u %u)\n",
          f.sparseBinding, f.sparseResidencyBuffer, f2.features.sparseBinding,
          f2.features.sparseResidencyBuffer);
   if (argc < 2 || strcmp(argv[1], "--bind")) {
      smoke_fini(&s);
      return 0;
   }
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT, .size = 1 << 16,
                              .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
   VkBuffer buf;
   CK(vkCreateBuffer(s.dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(s.dev, buf, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(
                                  &s, mr.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &ai, NULL, &mem));
   VkSparseMemoryBind bind = { 0, mr.size, mem, 0, 0 };
   VkSparseBufferMemoryBindInfo bbi = { buf, 1, &bind };
   VkBindSparseInfo bsi = { VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .bufferBindCount = 1,
                            .pBufferBinds = &bbi };
   printf("sending vkQueueBindSparse\n");
   fflush(stdout);
   vkQueueBindSparse(s.q, 1, &bsi, VK_NULL_HANDLE);
   vkQueueWaitIdle(s.q);
   printf("OK the sparse bind returned\n");
   return 0;
}
