/* Smoke test of the guest path: checks its own results, prints "OK <name>" or "FAIL ...".
 * Built by tests/smoke/meson.build, run natively and through venusd by
 * tests/integration/test_smoke.sh. */
#include <string.h>

#include "smoke.h"

int main(void)
{
   struct smoke s;
   smoke_init(&s);
   VkDevice dev = s.dev;
   VkQueue q = s.q;
   const VkDeviceSize size = 1 << 20;
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(&s, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   uint32_t *p;
   CK(vkMapMemory(dev, mem, 0, size, 0, (void **)&p));
   memset(p, 0, size);
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdFillBuffer(cb, buf, 0, size, 0xdeadbeef);
   CK(vkEndCommandBuffer(cb));
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(q, 1, &si, f));
   CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));
   for (uint32_t i = 0; i < size / 4; i++)
      if (p[i] != 0xdeadbeef) {
         printf("FAIL at %u: %x\n", i, p[i]);
         return 1;
      }
   vkUnmapMemory(dev, mem);
   vkDestroyFence(dev, f, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, mem, NULL);
   smoke_fini(&s);
   printf("OK fill\n");
   return 0;
}
