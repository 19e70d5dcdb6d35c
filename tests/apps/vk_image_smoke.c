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
   const uint32_t W = 64, H = 32;
   VkImageCreateInfo imci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                              .imageType = VK_IMAGE_TYPE_2D,
                              .format = VK_FORMAT_R8G8B8A8_UNORM,
                              .extent = { W, H, 1 },
                              .mipLevels = 1,
                              .arrayLayers = 1,
                              .samples = VK_SAMPLE_COUNT_1_BIT,
                              .tiling = VK_IMAGE_TILING_OPTIMAL,
                              .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                       VK_IMAGE_USAGE_TRANSFER_DST_BIT };
   VkImage img;
   CK(vkCreateImage(dev, &imci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(dev, img, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = smoke_memory_type(
                                   &s, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) };
   VkDeviceMemory imem;
   CK(vkAllocateMemory(dev, &mai, NULL, &imem));
   CK(vkBindImageMemory(dev, img, imem, 0));
   VkDeviceMemory bmem;
   VkBuffer buf = smoke_host_buffer(&s, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &bmem);
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   VkImageSubresourceRange rng = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   VkImageMemoryBarrier b1 = { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                               .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                               .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                               .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .image = img,
                               .subresourceRange = rng };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                        NULL, 0, NULL, 1, &b1);
   VkClearColorValue cc = { .float32 = { 1.0f, 0.5f, 0.0f, 1.0f } };
   vkCmdClearColorImage(cb, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &cc, 1, &rng);
   VkImageMemoryBarrier b2 = b1;
   b2.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
   b2.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
   b2.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
   b2.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                        NULL, 0, NULL, 1, &b2);
   VkBufferImageCopy reg = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                             .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cb, img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &reg);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(q));
   uint8_t *p;
   CK(vkMapMemory(dev, bmem, 0, VK_WHOLE_SIZE, 0, (void **)&p));
   for (uint32_t i = 0; i < W * H; i++)
      if (p[i * 4] != 255 || p[i * 4 + 1] < 127 || p[i * 4 + 1] > 128 || p[i * 4 + 2] != 0 ||
          p[i * 4 + 3] != 255) {
         printf("FAIL px %u: %u %u %u %u\n", i, p[i * 4], p[i * 4 + 1], p[i * 4 + 2], p[i * 4 + 3]);
         return 1;
      }
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkDestroyImage(dev, img, NULL);
   vkFreeMemory(dev, bmem, NULL);
   vkFreeMemory(dev, imem, NULL);
   smoke_fini(&s);
   printf("OK image\n");
   return 0;
}
