/* Host image copy (VK_EXT_host_image_copy, core in Vulkan 1.4): a layout transition, memory
 * to image, image to memory (a sub-rectangle) and image to image, all on the host, checked
 * against the pattern written.  Through Venus a Mesa 26 guest sends the copies to and from
 * memory as vkCopyMemoryToImageMESA / vkCopyImageToMemoryMESA (venus_protocol spec 3).
 * Prints "SKIP ..." where the device lacks the extension (a Mesa 25.0.7 guest), else
 * "OK host_copy" and exits 0, or "FAIL ..." and exits 1.
 * Run by tests/integration/test_protocol_levels.sh. */
#include <stdint.h>
#include <string.h>

#include "smoke.h"

#define W 16u
#define H 16u

static PFN_vkTransitionImageLayoutEXT transition;
static PFN_vkCopyMemoryToImageEXT to_image;
static PFN_vkCopyImageToMemoryEXT to_memory;
static PFN_vkCopyImageToImageEXT image_to_image;

static int has_extension(VkPhysicalDevice pd, const char *name)
{
   uint32_t n = 0;
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL));
   VkExtensionProperties *p = calloc(n ? n : 1, sizeof(*p));
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p));
   int found = 0;
   for (uint32_t i = 0; i < n; i++)
      found |= !strcmp(p[i].extensionName, name);
   free(p);
   return found;
}

static VkDevice make_device(VkPhysicalDevice pd)
{
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceHostImageCopyFeaturesEXT hic = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT, .hostImageCopy = VK_TRUE
   };
   const char *ext = VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME;
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &hic,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = &ext };
   VkDevice dev;
   CK(vkCreateDevice(pd, &dci, NULL, &dev));
   transition =
      (PFN_vkTransitionImageLayoutEXT)vkGetDeviceProcAddr(dev, "vkTransitionImageLayoutEXT");
   to_image = (PFN_vkCopyMemoryToImageEXT)vkGetDeviceProcAddr(dev, "vkCopyMemoryToImageEXT");
   to_memory = (PFN_vkCopyImageToMemoryEXT)vkGetDeviceProcAddr(dev, "vkCopyImageToMemoryEXT");
   image_to_image = (PFN_vkCopyImageToImageEXT)vkGetDeviceProcAddr(dev, "vkCopyImageToImageEXT");
   if (!transition || !to_image || !to_memory || !image_to_image) {
      printf("FAIL host image copy entry points missing\n");
      exit(1);
   }
   return dev;
}

static VkImage make_image(VkDevice dev, const VkPhysicalDeviceMemoryProperties *mp,
                          VkDeviceMemory *mem)
{
   VkImageCreateInfo ici = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                             .imageType = VK_IMAGE_TYPE_2D,
                             .format = VK_FORMAT_R8G8B8A8_UNORM,
                             .extent = { W, H, 1 },
                             .mipLevels = 1,
                             .arrayLayers = 1,
                             .samples = VK_SAMPLE_COUNT_1_BIT,
                             .tiling = VK_IMAGE_TILING_OPTIMAL,
                             .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                      VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                                      VK_IMAGE_USAGE_HOST_TRANSFER_BIT_EXT };
   VkImage img;
   CK(vkCreateImage(dev, &ici, NULL, &img));
   VkMemoryRequirements req;
   vkGetImageMemoryRequirements(dev, img, &req);
   uint32_t type = 0;
   while (type < mp->memoryTypeCount && !(req.memoryTypeBits & (1u << type)))
      type++;
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = type };
   CK(vkAllocateMemory(dev, &mai, NULL, mem));
   CK(vkBindImageMemory(dev, img, *mem, 0));
   VkHostImageLayoutTransitionInfoEXT t = {
      VK_STRUCTURE_TYPE_HOST_IMAGE_LAYOUT_TRANSITION_INFO_EXT, .image = img,
      .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED, .newLayout = VK_IMAGE_LAYOUT_GENERAL,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 }
   };
   CK(transition(dev, 1, &t));
   return img;
}

static const VkImageSubresourceLayers color = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 };

/* Reads the w x h rectangle at (x, y) of img into out (tightly packed). */
static void read_back(VkDevice dev, VkImage img, int32_t x, int32_t y, uint32_t w, uint32_t h,
                      uint32_t *out)
{
   VkImageToMemoryCopyEXT r = { VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY_EXT, .pHostPointer = out,
                                .imageSubresource = color, .imageOffset = { x, y, 0 },
                                .imageExtent = { w, h, 1 } };
   VkCopyImageToMemoryInfoEXT info = { VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_EXT,
                                       .srcImage = img, .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                       .regionCount = 1, .pRegions = &r };
   CK(to_memory(dev, &info));
}

static int expect(const char *what, const uint32_t *got, int32_t x0, int32_t y0, uint32_t w,
                  uint32_t h)
{
   for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < w; x++) {
         const uint32_t want = ((uint32_t)(y0 + (int32_t)y) << 8) | (uint32_t)(x0 + (int32_t)x);
         if (got[y * w + x] != want) {
            printf("FAIL %s: texel (%u,%u) is 0x%08x, want 0x%08x\n", what, x0 + x, y0 + y,
                   got[y * w + x], want);
            return 0;
         }
      }
   printf("%s: %ux%u texels match\n", what, w, h);
   return 1;
}

int main(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   VkInstance inst;
   CK(vkCreateInstance(&ici, NULL, &inst));
   uint32_t n = 1;
   VkPhysicalDevice pd;
   if (vkEnumeratePhysicalDevices(inst, &n, &pd) < 0 || !n) {
      printf("FAIL no physical device\n");
      return 1;
   }
   if (!has_extension(pd, VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME)) {
      printf("SKIP no %s\n", VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME);
      vkDestroyInstance(inst, NULL);
      return 0;
   }
   VkPhysicalDeviceMemoryProperties mp;
   vkGetPhysicalDeviceMemoryProperties(pd, &mp);
   VkDevice dev = make_device(pd);
   VkDeviceMemory mem_a, mem_b;
   VkImage a = make_image(dev, &mp, &mem_a), b = make_image(dev, &mp, &mem_b);

   static uint32_t pattern[W * H], out[W * H];
   for (uint32_t y = 0; y < H; y++)
      for (uint32_t x = 0; x < W; x++)
         pattern[y * W + x] = (y << 8) | x;
   VkMemoryToImageCopyEXT r = { VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_EXT, .pHostPointer = pattern,
                                .imageSubresource = color, .imageExtent = { W, H, 1 } };
   VkCopyMemoryToImageInfoEXT to = { VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_EXT, .dstImage = a,
                                     .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL, .regionCount = 1,
                                     .pRegions = &r };
   CK(to_image(dev, &to));
   read_back(dev, a, 0, 0, W, H, out);
   int ok = expect("memory to image to memory", out, 0, 0, W, H);
   memset(out, 0, sizeof(out));
   read_back(dev, a, 4, 6, 8, 5, out);
   ok = ok && expect("sub-rectangle (4,6) 8x5", out, 4, 6, 8, 5);

   VkImageCopy2 c = { VK_STRUCTURE_TYPE_IMAGE_COPY_2, .srcSubresource = color,
                      .dstSubresource = color, .extent = { W, H, 1 } };
   VkCopyImageToImageInfoEXT ii = { VK_STRUCTURE_TYPE_COPY_IMAGE_TO_IMAGE_INFO_EXT,
                                    .srcImage = a,
                                    .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                    .dstImage = b,
                                    .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL,
                                    .regionCount = 1,
                                    .pRegions = &c };
   CK(image_to_image(dev, &ii));
   memset(out, 0, sizeof(out));
   read_back(dev, b, 0, 0, W, H, out);
   ok = ok && expect("image to image", out, 0, 0, W, H);

   vkDestroyImage(dev, a, NULL);
   vkDestroyImage(dev, b, NULL);
   vkFreeMemory(dev, mem_a, NULL);
   vkFreeMemory(dev, mem_b, NULL);
   vkDestroyDevice(dev, NULL);
   vkDestroyInstance(inst, NULL);
   if (!ok)
      return 1;
   printf("OK host_copy\n");
   return 0;
}
