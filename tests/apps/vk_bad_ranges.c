/* Out-of-range guest values that the driver would trust, sent through the real Mesa Venus
 * driver (which passes them on unchecked): through venusd each --bad-* mode must make the
 * context fatal before the driver sees the value (the client never prints "OK"), and
 * --good runs the valid edge cases of the same checks (the last texel, query and
 * descriptor; consecutive-binding descriptor writes) and must print "OK bad_ranges good".
 * (vkGetQueryPoolResults's dataSize cannot be sent too small through Mesa: it asks the
 * host for results into its own buffer of the right size.)
 *
 *   vk_bad_ranges --good | --bad-buffer-to-image | --bad-image-to-buffer-region |
 *                 --bad-copy-mip | --bad-copy-image-layers | --bad-blit | --bad-timestamp |
 *                 --bad-reset-queries | --bad-copy-query-results |
 *                 --bad-subresource-layout | --bad-descriptor-write | --bad-descriptor-binding |
 *                 --bad-layout-count */
#include <string.h>

#include "smoke.h"

#define W 64
#define H 64

static struct smoke s;
static VkCommandPool cpool;
static VkCommandBuffer cb;

static VkImage make_image(VkFormat format, uint32_t mips, uint32_t layers, VkImageTiling tiling,
                          VkImageUsageFlags usage)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = format,
                            .extent = { W, H, 1 },
                            .mipLevels = mips,
                            .arrayLayers = layers,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = tiling,
                            .usage = usage };
   VkImage img;
   CK(vkCreateImage(s.dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s.dev, img, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
   CK(vkBindImageMemory(s.dev, img, mem, 0));
   return img;
}

static VkImage color_image(uint32_t mips, uint32_t layers)
{
   return make_image(VK_FORMAT_R8G8B8A8_UNORM, mips, layers, VK_IMAGE_TILING_OPTIMAL,
                     VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
}

/* All of the image in GENERAL layout. */
static void to_general(VkImage img, VkImageAspectFlags aspect)
{
   VkImageMemoryBarrier b = {
      VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT,
      .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .newLayout = VK_IMAGE_LAYOUT_GENERAL,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = img,
      .subresourceRange = { aspect, 0, VK_REMAINING_MIP_LEVELS, 0, VK_REMAINING_ARRAY_LAYERS }
   };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                        NULL, 0, NULL, 1, &b);
}

static void barrier(void)
{
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask =
                             VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                        &mb, 0, NULL, 0, NULL);
}

static void begin(void)
{
   CK(vkBeginCommandBuffer(
      cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
}

static void submit(void)
{
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
}

static VkQueryPool timestamp_pool(uint32_t count)
{
   VkQueryPoolCreateInfo ci = { VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = count };
   VkQueryPool qp;
   CK(vkCreateQueryPool(s.dev, &ci, NULL, &qp));
   return qp;
}

/* Binding 0: 2 storage buffers, binding 1: 2 storage buffers, (no binding 2), binding 3:
 * 1 uniform buffer. */
static VkDescriptorSet descriptor_set(uint32_t count0, VkDescriptorSetLayout *layout_out)
{
   VkDescriptorSetLayoutBinding b[3] = {
      { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, count0, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 3, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
   };
   VkDescriptorSetLayoutCreateInfo lci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = 3, .pBindings = b };
   VkDescriptorSetLayout layout;
   CK(vkCreateDescriptorSetLayout(s.dev, &lci, NULL, &layout));
   VkDescriptorPoolSize sizes[2] = { { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 8 },
                                     { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 2 } };
   VkDescriptorPoolCreateInfo pci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 2,
                                      .poolSizeCount = 2, .pPoolSizes = sizes };
   VkDescriptorPool pool;
   CK(vkCreateDescriptorPool(s.dev, &pci, NULL, &pool));
   VkDescriptorSetAllocateInfo ai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = pool, .descriptorSetCount = 1,
                                      .pSetLayouts = &layout };
   VkDescriptorSet set;
   CK(vkAllocateDescriptorSets(s.dev, &ai, &set));
   *layout_out = layout;
   return set;
}

static void write_buffers(VkDescriptorSet set, uint32_t binding, uint32_t elem, uint32_t count,
                          VkBuffer buf)
{
   VkDescriptorBufferInfo info[8];
   for (uint32_t i = 0; i < count && i < 8; i++)
      info[i] = (VkDescriptorBufferInfo){ buf, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstSet = set,
                              .dstBinding = binding,
                              .dstArrayElement = elem,
                              .descriptorCount = count,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = info };
   vkUpdateDescriptorSets(s.dev, 1, &w, 0, NULL);
}

static int good(void)
{
   VkDeviceMemory mem;
   const VkDeviceSize size = W * H * 4;
   VkBuffer buf =
      smoke_host_buffer(&s, size,
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                           VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        &mem);
   uint8_t *p;
   CK(vkMapMemory(s.dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p));
   for (VkDeviceSize i = 0; i < size; i++)
      p[i] = (uint8_t)(i * 7);
   VkImage a = color_image(2, 2), b = color_image(2, 2);
   VkImage depth = make_image(VK_FORMAT_D32_SFLOAT, 1, 1, VK_IMAGE_TILING_OPTIMAL,
                              VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
   VkQueryPool qp = timestamp_pool(8);
   begin();
   to_general(a, VK_IMAGE_ASPECT_COLOR_BIT);
   to_general(b, VK_IMAGE_ASPECT_COLOR_BIT);
   to_general(depth, VK_IMAGE_ASPECT_DEPTH_BIT);
   vkCmdResetQueryPool(cb, qp, 0, 8);
   /* The whole buffer into all of layer 1 of mip 0; the 32x32 mip 1 of layer 0 from rows
    * of 64 texels placed so that its last texel is the buffer's last. */
   VkBufferImageCopy r = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 1 },
                           .imageExtent = { W, H, 1 } };
   vkCmdCopyBufferToImage(cb, buf, a, VK_IMAGE_LAYOUT_GENERAL, 1, &r);
   r = (VkBufferImageCopy){ .bufferOffset = size - ((31 * 64) + 32) * 4,
                            .bufferRowLength = 64,
                            .bufferImageHeight = 64,
                            .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 1, 0, 1 },
                            .imageExtent = { 32, 32, 1 } };
   vkCmdCopyBufferToImage(cb, buf, a, VK_IMAGE_LAYOUT_GENERAL, 1, &r);
   barrier();
   VkImageCopy ic = { .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 2 },
                      .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 2 },
                      .extent = { W, H, 1 } };
   vkCmdCopyImage(cb, a, VK_IMAGE_LAYOUT_GENERAL, b, VK_IMAGE_LAYOUT_GENERAL, 1, &ic);
   VkImageBlit bl = { .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                      .srcOffsets = { { W, H, 0 }, { 0, 0, 1 } },
                      .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 1, 1, 1 },
                      .dstOffsets = { { 0, 0, 0 }, { W / 2, H / 2, 1 } } };
   vkCmdBlitImage(cb, a, VK_IMAGE_LAYOUT_GENERAL, b, VK_IMAGE_LAYOUT_GENERAL, 1, &bl,
                  VK_FILTER_NEAREST);
   barrier();
   /* The last texel of layer 1 of b to the last 4 bytes of the buffer. */
   VkBufferImageCopy last = { .bufferOffset = size - 4,
                              .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 1 },
                              .imageOffset = { W - 1, H - 1, 0 },
                              .imageExtent = { 1, 1, 1 } };
   vkCmdCopyImageToBuffer(cb, b, VK_IMAGE_LAYOUT_GENERAL, buf, 1, &last);
   /* Depth aspect: 4 bytes a texel, the whole buffer. */
   VkBufferImageCopy d = { .imageSubresource = { VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 1 },
                           .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cb, depth, VK_IMAGE_LAYOUT_GENERAL, buf, 1, &d);
   vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 7);
   submit();
   printf("OK buffer <-> image copies reaching the last texel and the last byte\n");

   /* Queries: the last one, results exactly filling dataSize and the destination. */
   CK(vkResetCommandBuffer(cb, 0));
   begin();
   vkCmdResetQueryPool(cb, qp, 0, 8);
   for (uint32_t i = 0; i < 8; i++)
      vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, i);
   vkCmdCopyQueryPoolResults(cb, qp, 0, 8, buf, size - 8 * 16, 16,
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                                VK_QUERY_RESULT_WAIT_BIT);
   submit();
   uint64_t results[16];
   CK(vkGetQueryPoolResults(s.dev, qp, 0, 8, sizeof(results), results, 16,
                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                               VK_QUERY_RESULT_WAIT_BIT));
   const uint64_t *copied = (const uint64_t *)(p + size - 8 * 16);
   for (uint32_t i = 0; i < 8; i++) {
      if (!results[2 * i + 1] || !copied[2 * i + 1]) {
         printf("FAIL query %u not available\n", i);
         return 1;
      }
   }
   printf("OK queries up to the last, results filling dataSize and the buffer exactly\n");

   /* The last mip level and layer of an image. */
   VkImage lin = make_image(VK_FORMAT_R8G8B8A8_UNORM, 1, 1, VK_IMAGE_TILING_LINEAR,
                            VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
   VkSubresourceLayout sl;
   vkGetImageSubresourceLayout(s.dev, lin, &(VkImageSubresource){ VK_IMAGE_ASPECT_COLOR_BIT, 0, 0 },
                               &sl);
   if (sl.rowPitch < W * 4) {
      printf("FAIL rowPitch %llu\n", (unsigned long long)sl.rowPitch);
      return 1;
   }
   printf("OK subresource layout of the last mip level and layer\n");

   /* The last descriptor of binding 1, and 3 descriptors from element 1 of binding 0 that
    * continue into binding 1 (consecutive binding update). */
   VkDescriptorSetLayout l1, l2;
   VkDescriptorSet set = descriptor_set(2, &l1);
   write_buffers(set, 1, 1, 1, buf);
   write_buffers(set, 0, 1, 3, buf);
   VkDescriptorSet set2 = descriptor_set(2, &l2);
   VkCopyDescriptorSet copy = { VK_STRUCTURE_TYPE_COPY_DESCRIPTOR_SET,
                                .srcSet = set,
                                .srcBinding = 0,
                                .srcArrayElement = 0,
                                .dstSet = set2,
                                .dstBinding = 0,
                                .dstArrayElement = 0,
                                .descriptorCount = 4 };
   vkUpdateDescriptorSets(s.dev, 0, NULL, 1, &copy);
   /* The sets outlive their layouts (they may, if they are not updated again). */
   vkDestroyDescriptorSetLayout(s.dev, l1, NULL);
   vkDestroyDescriptorSetLayout(s.dev, l2, NULL);
   CK(vkDeviceWaitIdle(s.dev));
   printf("OK descriptor writes up to the last descriptor and across consecutive bindings\n");
   printf("OK bad_ranges good\n");
   return 0;
}

int main(int argc, char **argv)
{
   const char *mode = argc > 1 && argv[1] ? argv[1] : "--good";
   smoke_init(&s);
   cb = smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &cpool);
   if (!strcmp(mode, "--good"))
      return good();

   VkDeviceMemory mem;
   VkBuffer buf =
      smoke_host_buffer(&s, W * H * 4,
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                           VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        &mem);
   VkBuffer small = smoke_host_buffer(&s, 16, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   printf("sending %s\n", mode);
   fflush(stdout);
   if (!strcmp(mode, "--bad-subresource-layout")) {
      VkImage lin = make_image(VK_FORMAT_R8G8B8A8_UNORM, 1, 1, VK_IMAGE_TILING_LINEAR,
                               VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
      VkSubresourceLayout sl;
      vkGetImageSubresourceLayout(s.dev, lin,
                                  &(VkImageSubresource){ VK_IMAGE_ASPECT_COLOR_BIT, 0, 1 }, &sl);
   } else if (!strcmp(mode, "--bad-descriptor-write")) {
      VkDescriptorSetLayout l;
      write_buffers(descriptor_set(2, &l), 1, 1, 2, buf);
   } else if (!strcmp(mode, "--bad-descriptor-binding")) {
      VkDescriptorSetLayout l;
      write_buffers(descriptor_set(2, &l), 2, 0, 1, buf);
   } else if (!strcmp(mode, "--bad-layout-count")) {
      VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1u << 31,
                                         VK_SHADER_STAGE_COMPUTE_BIT, NULL };
      VkDescriptorSetLayoutCreateInfo lci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                              .bindingCount = 1, .pBindings = &b };
      VkDescriptorSetLayout layout;
      vkCreateDescriptorSetLayout(s.dev, &lci, NULL, &layout);
   } else if (!strcmp(mode, "--bad-reset-queries")) {
      vkResetQueryPool(s.dev, timestamp_pool(8), 4, 5);
   } else {
      VkImage a = color_image(1, 1), b = color_image(1, 1);
      VkQueryPool qp = timestamp_pool(8);
      begin();
      if (!strcmp(mode, "--bad-buffer-to-image")) {
         VkBufferImageCopy r = { .bufferOffset = 4,
                                 .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                 .imageExtent = { W, H, 1 } };
         vkCmdCopyBufferToImage(cb, buf, a, VK_IMAGE_LAYOUT_GENERAL, 1, &r);
      } else if (!strcmp(mode, "--bad-image-to-buffer-region")) {
         VkBufferImageCopy2 r = { VK_STRUCTURE_TYPE_BUFFER_IMAGE_COPY_2,
                                  .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                  .imageOffset = { 1, 0, 0 }, .imageExtent = { W, H / 2, 1 } };
         VkCopyImageToBufferInfo2 ci = { VK_STRUCTURE_TYPE_COPY_IMAGE_TO_BUFFER_INFO_2,
                                         .srcImage = a,
                                         .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                         .dstBuffer = buf,
                                         .regionCount = 1,
                                         .pRegions = &r };
         vkCmdCopyImageToBuffer2(cb, &ci);
      } else if (!strcmp(mode, "--bad-copy-mip")) {
         VkBufferImageCopy r = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 1, 0, 1 },
                                 .imageExtent = { 1, 1, 1 } };
         vkCmdCopyImageToBuffer(cb, a, VK_IMAGE_LAYOUT_GENERAL, buf, 1, &r);
      } else if (!strcmp(mode, "--bad-copy-image-layers")) {
         VkImageCopy2 r = { VK_STRUCTURE_TYPE_IMAGE_COPY_2,
                            .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                            .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 1 },
                            .extent = { W, H, 1 } };
         VkCopyImageInfo2 ci = { VK_STRUCTURE_TYPE_COPY_IMAGE_INFO_2,
                                 .srcImage = a,
                                 .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                 .dstImage = b,
                                 .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                 .regionCount = 1,
                                 .pRegions = &r };
         vkCmdCopyImage2(cb, &ci);
      } else if (!strcmp(mode, "--bad-blit")) {
         VkImageBlit r = { .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                           .srcOffsets = { { 0, 0, 0 }, { W, H, 1 } },
                           .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                           .dstOffsets = { { 0, 0, 0 }, { W + 1, H, 1 } } };
         vkCmdBlitImage(cb, a, VK_IMAGE_LAYOUT_GENERAL, b, VK_IMAGE_LAYOUT_GENERAL, 1, &r,
                        VK_FILTER_NEAREST);
      } else if (!strcmp(mode, "--bad-timestamp")) {
         vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 8);
      } else if (!strcmp(mode, "--bad-copy-query-results")) {
         vkCmdCopyQueryPoolResults(cb, qp, 0, 8, small, 0, 8, VK_QUERY_RESULT_64_BIT);
      } else {
         printf("FAIL unknown mode %s\n", mode);
         return 2;
      }
      vkEndCommandBuffer(cb);
      VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                          .pCommandBuffers = &cb };
      vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE);
   }
   vkDeviceWaitIdle(s.dev);
   printf("OK the device survived %s\n", mode);
   return 0;
}
