/* Guest input of the newest Venus protocol (Vulkan 1.4 and the newer extensions) that the
 * driver would trust, through a Mesa 26 guest (tests/integration/test_guest_ranges.sh):
 *
 *   vk_bad_newest --good | --bad-push-descriptor2 | --bad-bind-sets2-null-layout |
 *                 --bad-sliced-view | --bad-inherited-input-index | --bad-host-copy-unbound
 *
 * --good records (and submits) the valid edges and prints "OK bad_newest good"; each --bad-*
 * mode sends one invalid command, which venusd must refuse before the driver sees it (the
 * context goes fatal, the program never prints OK).  Prints "SKIP ..." where the device is
 * below Vulkan 1.4 or lacks VK_EXT_image_sliced_view_of_3d (a Mesa 25.0.7 guest). */
#include <stdint.h>
#include <string.h>

#include "smoke.h"

static struct smoke s;
static VkPhysicalDeviceLimits limits;
static PFN_vkCmdPushDescriptorSet2 push_set2;
static PFN_vkCmdBindDescriptorSets2 bind_sets2;
static PFN_vkCopyMemoryToImage copy_to_image;

static int has_extension(const char *name)
{
   uint32_t n = 0;
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &n, NULL));
   VkExtensionProperties *p = calloc(n ? n : 1, sizeof(*p));
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &n, p));
   int found = 0;
   for (uint32_t i = 0; i < n; i++)
      found |= !strcmp(p[i].extensionName, name);
   free(p);
   return found;
}

/* A Vulkan 1.4 device with push descriptors, maintenance6, local read, host image copy and
 * sliced 3D views; 0 (after "SKIP ...") where the device cannot. */
static int init(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_4 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s.inst));
   uint32_t n = 1;
   if (vkEnumeratePhysicalDevices(s.inst, &n, &s.pd) < 0 || !n) {
      printf("FAIL no physical device\n");
      exit(1);
   }
   VkPhysicalDeviceProperties props;
   vkGetPhysicalDeviceProperties(s.pd, &props);
   limits = props.limits;
   if (props.apiVersion < VK_API_VERSION_1_4 ||
       !has_extension(VK_EXT_IMAGE_SLICED_VIEW_OF_3D_EXTENSION_NAME)) {
      printf("SKIP no Vulkan 1.4 or no %s\n", VK_EXT_IMAGE_SLICED_VIEW_OF_3D_EXTENSION_NAME);
      return 0;
   }
   VkPhysicalDeviceImageSlicedViewOf3DFeaturesEXT sliced = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_SLICED_VIEW_OF_3D_FEATURES_EXT,
      .imageSlicedViewOf3D = VK_TRUE
   };
   VkPhysicalDeviceVulkan14Features f14 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_FEATURES,
                                            .pNext = &sliced,
                                            .pushDescriptor = VK_TRUE,
                                            .maintenance6 = VK_TRUE,
                                            .dynamicRenderingLocalRead = VK_TRUE,
                                            .hostImageCopy = VK_TRUE };
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .pNext = &f14, .dynamicRendering = VK_TRUE };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   const char *ext = VK_EXT_IMAGE_SLICED_VIEW_OF_3D_EXTENSION_NAME;
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f13,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = &ext };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
   push_set2 = (PFN_vkCmdPushDescriptorSet2)vkGetDeviceProcAddr(s.dev, "vkCmdPushDescriptorSet2");
   bind_sets2 =
      (PFN_vkCmdBindDescriptorSets2)vkGetDeviceProcAddr(s.dev, "vkCmdBindDescriptorSets2");
   copy_to_image = (PFN_vkCopyMemoryToImage)vkGetDeviceProcAddr(s.dev, "vkCopyMemoryToImage");
   if (!push_set2 || !bind_sets2 || !copy_to_image) {
      printf("FAIL Vulkan 1.4 entry points missing\n");
      exit(1);
   }
   return 1;
}

/* A pipeline layout whose set 0 (a push descriptor set if `push`) has binding 0: two storage
 * buffers. */
static VkPipelineLayout make_layout(int push, VkDescriptorSetLayout *dsl)
{
   VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2,
                                      VK_SHADER_STAGE_COMPUTE_BIT, NULL };
   VkDescriptorSetLayoutCreateInfo dci = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = push ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT : 0, .bindingCount = 1,
      .pBindings = &b
   };
   CK(vkCreateDescriptorSetLayout(s.dev, &dci, NULL, dsl));
   VkPipelineLayoutCreateInfo pci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1, .pSetLayouts = dsl };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s.dev, &pci, NULL, &pl));
   return pl;
}

static void push_write(VkCommandBuffer cb, VkPipelineLayout pl, uint32_t elem, VkBuffer buf)
{
   VkDescriptorBufferInfo bi = { buf, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstBinding = 0,
                              .dstArrayElement = elem,
                              .descriptorCount = 1,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = &bi };
   VkPushDescriptorSetInfo info = { VK_STRUCTURE_TYPE_PUSH_DESCRIPTOR_SET_INFO,
                                    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                                    .layout = pl,
                                    .set = 0,
                                    .descriptorWriteCount = 1,
                                    .pDescriptorWrites = &w };
   push_set2(cb, &info);
}

/* An 8x8x4 3D image (memory bound if `bind`) and, for --good/--bad-sliced-view, a 3D view of
 * slices [offset, offset + count) of mip level 0. */
static VkImage make_3d(int bind, VkDeviceMemory *mem)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_3D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { 8, 8, 4 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage =
                               VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_HOST_TRANSFER_BIT };
   VkImage img;
   CK(vkCreateImage(s.dev, &ci, NULL, &img));
   *mem = VK_NULL_HANDLE;
   if (bind) {
      VkMemoryRequirements mr;
      vkGetImageMemoryRequirements(s.dev, img, &mr);
      VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                  .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
      CK(vkAllocateMemory(s.dev, &ai, NULL, mem));
      CK(vkBindImageMemory(s.dev, img, *mem, 0));
   }
   return img;
}

static VkResult sliced_view(VkImage img, uint32_t offset, uint32_t count)
{
   VkImageViewSlicedCreateInfoEXT sl = { VK_STRUCTURE_TYPE_IMAGE_VIEW_SLICED_CREATE_INFO_EXT,
                                         .sliceOffset = offset, .sliceCount = count };
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                 .pNext = &sl,
                                 .image = img,
                                 .viewType = VK_IMAGE_VIEW_TYPE_3D,
                                 .format = VK_FORMAT_R8G8B8A8_UNORM,
                                 .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   VkImageView v;
   VkResult r = vkCreateImageView(s.dev, &vci, NULL, &v);
   if (r == VK_SUCCESS)
      vkDestroyImageView(s.dev, v, NULL);
   return r;
}

/* Begins a secondary command buffer for dynamic rendering whose inherited input attachment
 * index of color attachment 0 is `index`. */
static void begin_secondary(VkCommandPool pool, uint32_t index)
{
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
                                       .commandBufferCount = 1 };
   VkCommandBuffer sec;
   CK(vkAllocateCommandBuffers(s.dev, &cai, &sec));
   VkRenderingInputAttachmentIndexInfo idx = {
      VK_STRUCTURE_TYPE_RENDERING_INPUT_ATTACHMENT_INDEX_INFO, .colorAttachmentCount = 1,
      .pColorAttachmentInputIndices = &index
   };
   const VkFormat fmt = VK_FORMAT_R8G8B8A8_UNORM;
   VkCommandBufferInheritanceRenderingInfo ri = {
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO, .pNext = &idx,
      .colorAttachmentCount = 1, .pColorAttachmentFormats = &fmt,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkCommandBufferInheritanceInfo inh = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
                                          .pNext = &ri };
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT,
                                   .pInheritanceInfo = &inh };
   CK(vkBeginCommandBuffer(sec, &bi));
   CK(vkEndCommandBuffer(sec));
}

static int run(const char *mode)
{
   const int good = !strcmp(mode, "--good");
   VkDeviceMemory bmem;
   VkBuffer buf = smoke_host_buffer(&s, 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &bmem);
   VkDescriptorSetLayout push_dsl, dsl;
   VkPipelineLayout push_pl = make_layout(1, &push_dsl), pl = make_layout(0, &dsl);
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   if (good || !strcmp(mode, "--bad-push-descriptor2"))
      push_write(cb, push_pl, good ? 1 : 2, buf); /* binding 0 has 2 descriptors */
   if (good || !strcmp(mode, "--bad-bind-sets2-null-layout")) {
      VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
      VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                          .maxSets = 1, .poolSizeCount = 1, .pPoolSizes = &ps };
      VkDescriptorPool dp;
      CK(vkCreateDescriptorPool(s.dev, &dpci, NULL, &dp));
      VkDescriptorSetAllocateInfo ai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                         .descriptorPool = dp, .descriptorSetCount = 1,
                                         .pSetLayouts = &dsl };
      VkDescriptorSet set;
      CK(vkAllocateDescriptorSets(s.dev, &ai, &set));
      VkBindDescriptorSetsInfo info = { VK_STRUCTURE_TYPE_BIND_DESCRIPTOR_SETS_INFO,
                                        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                                        .layout = good ? pl : VK_NULL_HANDLE,
                                        .firstSet = 0,
                                        .descriptorSetCount = 1,
                                        .pDescriptorSets = &set };
      bind_sets2(cb, &info);
   }
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
   if (good || !strcmp(mode, "--bad-inherited-input-index"))
      begin_secondary(pool, good ? limits.maxPerStageDescriptorInputAttachments - 1
                                 : limits.maxPerStageDescriptorInputAttachments);
   VkDeviceMemory imem;
   if (good || !strcmp(mode, "--bad-sliced-view")) {
      VkImage img = make_3d(1, &imem);
      if (good) {
         CK(sliced_view(img, 3, 1)); /* the last of 4 slices */
         CK(sliced_view(img, 1, VK_REMAINING_3D_SLICES_EXT));
      } else {
         sliced_view(img, 4, 1);
      }
      vkDestroyImage(s.dev, img, NULL);
      vkFreeMemory(s.dev, imem, NULL);
   }
   if (good || !strcmp(mode, "--bad-host-copy-unbound")) {
      VkImage img = make_3d(good, &imem);
      VkHostImageLayoutTransitionInfo t = {
         VK_STRUCTURE_TYPE_HOST_IMAGE_LAYOUT_TRANSITION_INFO, .image = img,
         .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED, .newLayout = VK_IMAGE_LAYOUT_GENERAL,
         .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 }
      };
      PFN_vkTransitionImageLayout transition =
         (PFN_vkTransitionImageLayout)vkGetDeviceProcAddr(s.dev, "vkTransitionImageLayout");
      if (good)
         CK(transition(s.dev, 1, &t));
      static uint32_t texels[8 * 8 * 4];
      VkMemoryToImageCopy r = { VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY, .pHostPointer = texels,
                                .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                .imageExtent = { 8, 8, 4 } };
      VkCopyMemoryToImageInfo info = { VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO, .dstImage = img,
                                       .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL, .regionCount = 1,
                                       .pRegions = &r };
      VkResult res = copy_to_image(s.dev, &info);
      if (good)
         CK(res);
      vkDestroyImage(s.dev, img, NULL);
      vkFreeMemory(s.dev, imem, NULL);
   }
   CK(vkDeviceWaitIdle(s.dev));
   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyPipelineLayout(s.dev, push_pl, NULL);
   vkDestroyPipelineLayout(s.dev, pl, NULL);
   vkDestroyDescriptorSetLayout(s.dev, push_dsl, NULL);
   vkDestroyDescriptorSetLayout(s.dev, dsl, NULL);
   vkDestroyBuffer(s.dev, buf, NULL);
   vkFreeMemory(s.dev, bmem, NULL);
   printf("OK bad_newest %s\n", mode + 2);
   return 0;
}

int main(int argc, char **argv)
{
   if (argc != 2) {
      printf("FAIL usage: vk_bad_newest --good | --bad-MODE\n");
      return 1;
   }
   if (!init()) {
      vkDestroyInstance(s.inst, NULL);
      return 0;
   }
   const int ret = run(argv[1]);
   smoke_fini(&s);
   return ret;
}
