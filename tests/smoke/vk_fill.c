/* Smoke test of the guest path: checks its own results, prints "OK <name>" or "FAIL ...".
 * Built by tests/smoke/meson.build, run natively and through venusd by
 * tests/integration/test_smoke.sh. */
#include <vulkan/vulkan.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#define CK(x) do { VkResult r_ = (x); if (r_ != VK_SUCCESS) { printf("FAIL %s = %d\n", #x, r_); exit(1);} } while (0)
int main(void) {
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   VkInstance inst; CK(vkCreateInstance(&ici, NULL, &inst));
   uint32_t n = 1; VkPhysicalDevice pd; vkEnumeratePhysicalDevices(inst, &n, &pd);
   float prio = 1; VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1, .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   VkDevice dev; CK(vkCreateDevice(pd, &dci, NULL, &dev));
   VkQueue q; vkGetDeviceQueue(dev, 0, 0, &q);
   const VkDeviceSize size = 1 << 20;
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
   VkBuffer buf; CK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements mr; vkGetBufferMemoryRequirements(dev, buf, &mr);
   VkPhysicalDeviceMemoryProperties mp; vkGetPhysicalDeviceMemoryProperties(pd, &mp);
   uint32_t ti = 0; for (; ti < mp.memoryTypeCount; ti++) if ((mr.memoryTypeBits & (1u << ti)) && (mp.memoryTypes[ti].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) break;
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size, .memoryTypeIndex = ti };
   VkDeviceMemory mem; CK(vkAllocateMemory(dev, &mai, NULL, &mem));
   CK(vkBindBufferMemory(dev, buf, mem, 0));
   uint32_t *p; CK(vkMapMemory(dev, mem, 0, size, 0, (void **)&p));
   memset(p, 0, size);
   VkCommandPoolCreateInfo pci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
   VkCommandPool pool; CK(vkCreateCommandPool(dev, &pci, NULL, &pool));
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1 };
   VkCommandBuffer cb; CK(vkAllocateCommandBuffers(dev, &cai, &cb));
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdFillBuffer(cb, buf, 0, size, 0xdeadbeef);
   CK(vkEndCommandBuffer(cb));
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f; CK(vkCreateFence(dev, &fci, NULL, &f));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb };
   CK(vkQueueSubmit(q, 1, &si, f));
   CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));
   for (uint32_t i = 0; i < size / 4; i++) if (p[i] != 0xdeadbeef) { printf("FAIL at %u: %x\n", i, p[i]); return 1; }
   vkUnmapMemory(dev, mem);
   vkDestroyFence(dev, f, NULL); vkDestroyCommandPool(dev, pool, NULL); vkDestroyBuffer(dev, buf, NULL); vkFreeMemory(dev, mem, NULL);
   vkDestroyDevice(dev, NULL); vkDestroyInstance(inst, NULL);
   printf("OK fill\n"); return 0;
}
