/* What a guest WSI does with an image it shares, through the extensions venusd lists for
 * every guest: VK_EXT_image_drm_format_modifier (DRM_FORMAT_MOD_LINEAR),
 * VK_EXT_queue_family_foreign and dma-buf memory (VK_EXT_external_memory_dma_buf).
 *
 *   - the LINEAR modifier is offered for B8G8R8A8_UNORM with colour-attachment and
 *     transfer features, as one plane, in both modifier property lists;
 *   - vkGetPhysicalDeviceImageFormatProperties2 accepts LINEAR and refuses another modifier;
 *   - a 64x32 image made from a modifier list, with dma-buf external memory, exportable
 *     dedicated memory, reports the LINEAR modifier; memory plane 0 has a row pitch of at
 *     least 256 bytes;
 *   - it is acquired from the foreign queue family, cleared to a known colour with a
 *     known rectangle copied over it, and released back: read through the mapped memory
 *     at plane 0's layout, every pixel is what was drawn (so the layout is true);
 *   - an image made with that explicit plane layout works; one with a row pitch the host
 *     cannot give fails with VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT.
 * Prints "OK ..." per check; exits 1 at the first failure; 77 if the device lacks the
 * extensions (natively on lavapipe, which has no DRM format modifiers).
 *
 *   vk_modifiers --bad-modifier     creates an image with modifier 0x00ffffffffffffff,
 *                                   which was never offered: the context must go fatal
 *   vk_modifiers --bad-plane-layout gives a plane layout whose offset + size overflows */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smoke.h"

#define W 64
#define H 32
#define MOD_LINEAR 0ull

static const char *const exts[] = {
   "VK_EXT_image_drm_format_modifier",
   "VK_EXT_queue_family_foreign",
   "VK_KHR_external_memory_fd",
   "VK_EXT_external_memory_dma_buf",
};

static bool has_exts(VkPhysicalDevice pd)
{
   uint32_t n = 0;
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
   VkExtensionProperties *p = calloc(n, sizeof(*p));
   vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p);
   unsigned found = 0;
   for (uint32_t i = 0; i < n; i++)
      for (unsigned e = 0; e < 4; e++)
         if (!strcmp(p[i].extensionName, exts[e]))
            found |= 1u << e;
   free(p);
   return found == 0xf;
}

static VkImageCreateInfo image_info(const void *pnext)
{
   return (VkImageCreateInfo){
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .pNext = pnext,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_B8G8R8A8_UNORM,
      .extent = { W, H, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
      .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
               VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
}

static void barrier(VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
                    uint32_t src_family, uint32_t dst_family)
{
   VkImageMemoryBarrier b = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
      .oldLayout = from,
      .newLayout = to,
      .srcQueueFamilyIndex = src_family,
      .dstQueueFamilyIndex = dst_family,
      .image = img,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                        0, 0, NULL, 0, NULL, 1, &b);
}

static int bad_input(struct smoke *s, bool modifier)
{
   VkSubresourceLayout layout = { .offset = modifier ? 0 : UINT64_MAX - 16,
                                  .size = 4096,
                                  .rowPitch = 256 };
   VkImageDrmFormatModifierExplicitCreateInfoEXT ex = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT,
      .drmFormatModifier = modifier ? 0x00ffffffffffffffull : MOD_LINEAR,
      .drmFormatModifierPlaneCount = 1,
      .pPlaneLayouts = &layout,
   };
   VkImageCreateInfo ici = image_info(&ex);
   VkImage img;
   printf("creating an image with %s\n",
          modifier ? "a modifier never offered" : "an overflowing plane layout");
   fflush(stdout);
   VkResult r = vkCreateImage(s->dev, &ici, NULL, &img);
   vkDeviceWaitIdle(s->dev);
   printf("OK the device survived (vkCreateImage returned %d)\n", r);
   return 0;
}

int main(int argc, char **argv)
{
   struct smoke s;
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo inst_info = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                      .pApplicationInfo = &app };
   CK(smoke_create_instance(&inst_info, &s.inst));
   uint32_t n = 1;
   if (vkEnumeratePhysicalDevices(s.inst, &n, &s.pd) < 0 || !n) {
      printf("FAIL no physical device\n");
      return 1;
   }
   if (!has_exts(s.pd)) {
      printf("SKIP the device lacks DRM format modifiers, the foreign queue family or dma-buf "
             "memory\n");
      return 77;
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .enabledExtensionCount = 4,
                              .ppEnabledExtensionNames = exts };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
   if (argc > 1 && !strcmp(argv[1], "--bad-modifier"))
      return bad_input(&s, true);
   if (argc > 1 && !strcmp(argv[1], "--bad-plane-layout"))
      return bad_input(&s, false);

   /* 1. The modifier lists. */
   VkDrmFormatModifierPropertiesEXT mods[8];
   VkDrmFormatModifierPropertiesListEXT list = {
      .sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT,
   };
   VkFormatProperties2 fp = { VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2, .pNext = &list };
   vkGetPhysicalDeviceFormatProperties2(s.pd, VK_FORMAT_B8G8R8A8_UNORM, &fp);
   const uint32_t count = list.drmFormatModifierCount;
   list.pDrmFormatModifierProperties = mods;
   list.drmFormatModifierCount = count < 8 ? count : 8;
   vkGetPhysicalDeviceFormatProperties2(s.pd, VK_FORMAT_B8G8R8A8_UNORM, &fp);
   int linear = -1;
   for (uint32_t i = 0; i < list.drmFormatModifierCount; i++)
      if (mods[i].drmFormatModifier == MOD_LINEAR)
         linear = (int)i;
   const VkFormatFeatureFlags need = VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT |
                                     VK_FORMAT_FEATURE_TRANSFER_DST_BIT |
                                     VK_FORMAT_FEATURE_TRANSFER_SRC_BIT;
   if (linear < 0 || mods[linear].drmFormatModifierPlaneCount != 1 ||
       (mods[linear].drmFormatModifierTilingFeatures & need) != need) {
      /* A driver with modifiers of its own may not offer LINEAR for colour and transfers
       * (venusd's emulation always does: the test of it looks for "OK modifiers"). */
      printf("SKIP B8G8R8A8_UNORM: no single-plane LINEAR modifier with colour and transfer "
             "features among %u modifiers:",
             count);
      for (uint32_t i = 0; i < list.drmFormatModifierCount; i++)
         printf(" 0x%llx/%u planes/features 0x%x", (unsigned long long)mods[i].drmFormatModifier,
                mods[i].drmFormatModifierPlaneCount, mods[i].drmFormatModifierTilingFeatures);
      printf("\n");
      return 77;
   }
   printf("OK B8G8R8A8_UNORM offers DRM_FORMAT_MOD_LINEAR, 1 plane, colour + transfer\n");
   VkDrmFormatModifierProperties2EXT mods2[8];
   VkDrmFormatModifierPropertiesList2EXT list2 = {
      .sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT,
      .drmFormatModifierCount = 8,
      .pDrmFormatModifierProperties = mods2,
   };
   fp.pNext = &list2;
   vkGetPhysicalDeviceFormatProperties2(s.pd, VK_FORMAT_B8G8R8A8_UNORM, &fp);
   bool linear2 = false;
   for (uint32_t i = 0; i < list2.drmFormatModifierCount; i++)
      linear2 |=
         mods2[i].drmFormatModifier == MOD_LINEAR &&
         (mods2[i].drmFormatModifierTilingFeatures & VK_FORMAT_FEATURE_2_COLOR_ATTACHMENT_BIT);
   if (!linear2) {
      printf("FAIL VkDrmFormatModifierPropertiesList2EXT has no LINEAR colour modifier\n");
      return 1;
   }
   printf("OK the second modifier list agrees\n");

   /* 2. Image format queries. */
   VkPhysicalDeviceImageDrmFormatModifierInfoEXT mi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_DRM_FORMAT_MODIFIER_INFO_EXT,
      .drmFormatModifier = MOD_LINEAR,
   };
   VkPhysicalDeviceExternalImageFormatInfo ei = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .pNext = &mi,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
   };
   VkPhysicalDeviceImageFormatInfo2 ifi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = &ei,
      .format = VK_FORMAT_B8G8R8A8_UNORM,
      .type = VK_IMAGE_TYPE_2D,
      .tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
      .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
   };
   VkExternalImageFormatProperties eprops = { VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES };
   VkImageFormatProperties2 ifp = { VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2, .pNext = &eprops };
   CK(vkGetPhysicalDeviceImageFormatProperties2(s.pd, &ifi, &ifp));
   if (ifp.imageFormatProperties.maxExtent.width < W ||
       !(eprops.externalMemoryProperties.externalMemoryFeatures &
         VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT)) {
      printf("FAIL LINEAR-modifier image: max width %u, dma-buf features 0x%x\n",
             ifp.imageFormatProperties.maxExtent.width,
             eprops.externalMemoryProperties.externalMemoryFeatures);
      return 1;
   }
   printf("OK a LINEAR-modifier image with dma-buf memory can be made and exported\n");
   mi.drmFormatModifier = 0x00ffffffffffffffull;
   VkResult r = vkGetPhysicalDeviceImageFormatProperties2(s.pd, &ifi, &ifp);
   if (r != VK_ERROR_FORMAT_NOT_SUPPORTED) {
      printf("FAIL a modifier never offered: vkGetPhysicalDeviceImageFormatProperties2 = %d\n", r);
      return 1;
   }
   printf("OK a modifier never offered is not supported\n");

   /* 3. The image, its memory and its layout. */
   const uint64_t linear_mod = MOD_LINEAR;
   VkImageDrmFormatModifierListCreateInfoEXT mlist = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT,
      .drmFormatModifierCount = 1,
      .pDrmFormatModifiers = &linear_mod,
   };
   VkExternalMemoryImageCreateInfo emi = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .pNext = &mlist,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
   };
   VkImageCreateInfo ici = image_info(&emi);
   VkImage img;
   CK(vkCreateImage(s.dev, &ici, NULL, &img));
   VkImageDrmFormatModifierPropertiesEXT mp = {
      VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_PROPERTIES_EXT
   };
   PFN_vkGetImageDrmFormatModifierPropertiesEXT get_modifier =
      (PFN_vkGetImageDrmFormatModifierPropertiesEXT)vkGetDeviceProcAddr(
         s.dev, "vkGetImageDrmFormatModifierPropertiesEXT");
   CK(get_modifier(s.dev, img, &mp));
   if (mp.drmFormatModifier != MOD_LINEAR) {
      printf("FAIL the image's modifier is 0x%llx, not LINEAR\n",
             (unsigned long long)mp.drmFormatModifier);
      return 1;
   }
   printf("OK the image reports DRM_FORMAT_MOD_LINEAR\n");
   VkSubresourceLayout layout;
   vkGetImageSubresourceLayout(
      s.dev, img, &(VkImageSubresource){ VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT, 0, 0 }, &layout);
   if (layout.rowPitch < W * 4 || layout.size < layout.rowPitch * (H - 1) + W * 4) {
      printf("FAIL memory plane 0: rowPitch %llu, size %llu\n", (unsigned long long)layout.rowPitch,
             (unsigned long long)layout.size);
      return 1;
   }
   printf("OK memory plane 0 holds %dx%d pixels\n", W, H);
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s.dev, img, &mr);
   VkMemoryDedicatedAllocateInfo ded = { VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
                                         .image = img };
   VkExportMemoryAllocateInfo exp = { VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO, .pNext = &ded,
                                      .handleTypes =
                                         VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT };
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &exp,
                                .allocationSize = mr.size,
                                .memoryTypeIndex =
                                   smoke_memory_type(&s, mr.memoryTypeBits,
                                                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
   CK(vkBindImageMemory(s.dev, img, mem, 0));

   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   CK(vkBeginCommandBuffer(
      cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
   barrier(cb, img, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
           VK_QUEUE_FAMILY_FOREIGN_EXT, 0);
   const VkClearColorValue blue = { .uint32 = { 0 } };
   VkClearColorValue c = blue;
   c.float32[2] = 1.0f;
   c.float32[3] = 1.0f;
   vkCmdClearColorImage(cb, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &c, 1,
                        &(VkImageSubresourceRange){ VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 });
   /* a red 16x8 rectangle at (8, 4), from a buffer */
   VkDeviceMemory smem;
   VkBuffer src = smoke_host_buffer(&s, 16 * 8 * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &smem);
   uint32_t *sp;
   CK(vkMapMemory(s.dev, smem, 0, VK_WHOLE_SIZE, 0, (void **)&sp));
   for (int i = 0; i < 16 * 8; i++)
      sp[i] = 0xffff0000u; /* BGRA in memory: B=0, G=0, R=255, A=255 */
   barrier(cb, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
           VK_QUEUE_FAMILY_IGNORED, VK_QUEUE_FAMILY_IGNORED);
   VkBufferImageCopy region = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                .imageOffset = { 8, 4, 0 },
                                .imageExtent = { 16, 8, 1 } };
   vkCmdCopyBufferToImage(cb, src, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
   barrier(cb, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL, 0,
           VK_QUEUE_FAMILY_FOREIGN_EXT);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
   uint8_t *base;
   CK(vkMapMemory(s.dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&base));
   for (int y = 0; y < H; y++) {
      const uint32_t *row = (const uint32_t *)(base + layout.offset + y * layout.rowPitch);
      for (int x = 0; x < W; x++) {
         const bool red = x >= 8 && x < 24 && y >= 4 && y < 12;
         const uint32_t want = red ? 0xffff0000u : 0xff0000ffu;
         if (row[x] != want) {
            printf("FAIL pixel (%d, %d) through plane 0's layout is 0x%08x, want 0x%08x\n", x, y,
                   row[x], want);
            return 1;
         }
      }
   }
   printf("OK the drawn pixels lie where memory plane 0's layout says (acquired from and "
          "released to the foreign queue family)\n");
   vkUnmapMemory(s.dev, mem);

   /* 4. Explicit plane layouts. */
   VkSubresourceLayout plane = { .offset = 0, .size = 0, .rowPitch = layout.rowPitch };
   VkImageDrmFormatModifierExplicitCreateInfoEXT ex = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT,
      .drmFormatModifier = MOD_LINEAR,
      .drmFormatModifierPlaneCount = 1,
      .pPlaneLayouts = &plane,
   };
   VkImageCreateInfo eci = image_info(&ex);
   VkImage img2;
   CK(vkCreateImage(s.dev, &eci, NULL, &img2));
   vkDestroyImage(s.dev, img2, NULL);
   printf("OK an explicit plane layout equal to the host's is honoured\n");
   plane.rowPitch = layout.rowPitch + 4096 + 4;
   r = vkCreateImage(s.dev, &eci, NULL, &img2);
   if (r != VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT) {
      printf("FAIL an explicit row pitch the host cannot give: vkCreateImage = %d\n", r);
      return 1;
   }
   printf("OK an explicit plane layout the host cannot give is refused\n");

   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyBuffer(s.dev, src, NULL);
   vkFreeMemory(s.dev, smem, NULL);
   vkDestroyImage(s.dev, img, NULL);
   vkFreeMemory(s.dev, mem, NULL);
   smoke_fini(&s);
   printf("OK modifiers\n");
   return 0;
}
