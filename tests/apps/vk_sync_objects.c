/* Events, private data, indirect commands and render pass 2, each checked exactly:
 *  - events: host vkSetEvent/vkResetEvent/vkGetEventStatus; vkCmdSetEvent + vkCmdWaitEvents
 *    between a fill and a copy, vkCmdResetEvent; a GPU vkCmdWaitEvents on an event the host
 *    sets only after the submission (the fence must time out first, and the copy must see
 *    host writes made before vkSetEvent); vkCmdSetEvent2/vkCmdWaitEvents2/vkCmdResetEvent2.
 *    Every status is read back with vkGetEventStatus (Venus's event feedback path).
 *  - private data (1.3): two slots, values on a buffer, an image and the device round-trip.
 *  - vkCmdDispatchIndirect of add.comp with its size written by vkCmdFillBuffer and
 *    vkCmdUpdateBuffer; vkCmdDrawIndirect, vkCmdDrawIndexedIndirect, vkCmdDrawIndirectCount
 *    and vkCmdDrawIndexedIndirectCount (count from vkCmdUpdateBuffer) of grid cells colored by
 *    draw tag, cell and gl_DrawID; the 32x32 image is compared with the expected one.
 *  - vkCreateRenderPass2 with two subpasses: the second reads the first's color attachment
 *    as an input attachment and writes it swizzled (vkCmdBeginRenderPass2/NextSubpass2/
 *    EndRenderPass2); both attachments are compared exactly and their checksums printed. */
#include <string.h>

#include "smoke.h"
#include "add_comp_spv.h"
#include "indirect_vert_spv.h"
#include "subpass_in_frag_spv.h"
#include "tri_frag_spv.h"

#define W 32
#define H 32
#define HND(x) ((uint64_t)(uintptr_t)(x))
#define CHECK(cond, what, ...)                                                  \
   do {                                                                         \
      if (!(cond))                                                              \
         printf("FAIL %s: ", what), printf(__VA_ARGS__), printf("\n"), exit(1); \
   } while (0)

static struct smoke s;
static VkDevice dev;
static VkCommandBuffer cb[2];
static VkFence fence;
static VkBool32 has_count;

static void init_device(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s.inst));
   uint32_t n = 1;
   if (vkEnumeratePhysicalDevices(s.inst, &n, &s.pd) < 0 || !n) {
      printf("FAIL no physical device\n");
      exit(1);
   }
   VkPhysicalDeviceVulkan12Features q12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES };
   VkPhysicalDeviceFeatures2 q = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &q12 };
   vkGetPhysicalDeviceFeatures2(s.pd, &q);
   has_count = q12.drawIndirectCount;
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan11Features f11 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .shaderDrawParameters = VK_TRUE };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &f11, .drawIndirectCount = has_count };
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .pNext = &f12, .synchronization2 = VK_TRUE,
                                            .privateData = VK_TRUE };
   VkDevicePrivateDataCreateInfo pdci = { VK_STRUCTURE_TYPE_DEVICE_PRIVATE_DATA_CREATE_INFO,
                                          .pNext = &f13, .privateDataSlotRequestCount = 2 };
   VkPhysicalDeviceFeatures f = { .multiDrawIndirect = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &pdci,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                              .pEnabledFeatures = &f };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   dev = s.dev;
   vkGetDeviceQueue(dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
}

static void begin(VkCommandBuffer c)
{
   CK(vkResetCommandBuffer(c, 0));
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(c, &bi));
}

static void submit(VkCommandBuffer c)
{
   CK(vkEndCommandBuffer(c));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &c };
   CK(vkQueueSubmit(s.q, 1, &si, fence));
}

static void finish(void)
{
   CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
   CK(vkResetFences(dev, 1, &fence));
}

static void barrier(VkCommandBuffer c, VkPipelineStageFlags ss, VkAccessFlags sa,
                    VkPipelineStageFlags ds, VkAccessFlags da)
{
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = sa,
                          .dstAccessMask = da };
   vkCmdPipelineBarrier(c, ss, ds, 0, 1, &mb, 0, NULL, 0, NULL);
}

static void event_is(VkEvent e, VkResult want, const char *what)
{
   VkResult r = vkGetEventStatus(dev, e);
   CHECK(r == want, what, "vkGetEventStatus = %d, want %d", r, want);
}

static void words_are(const uint32_t *m, uint32_t first, uint32_t n, uint32_t v, uint32_t step,
                      const char *what)
{
   for (uint32_t i = 0; i < n; i++)
      CHECK(m[first + i] == v + i * step, what, "word %u = 0x%08x, want 0x%08x", first + i,
            m[first + i], v + i * step);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
   uint32_t h = 2166136261u;
   for (size_t i = 0; i < n; i++)
      h = (h ^ p[i]) * 16777619u;
   return h;
}

/* hb: 1024 bytes host-visible; words [0,64) A, [64,128) B, [128,192) C, [192,256) D. */
static void test_events(VkBuffer hb, uint32_t *m)
{
   VkEventCreateInfo eci = { VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
   VkEvent ev[4];
   for (int i = 0; i < 4; i++) {
      CK(vkCreateEvent(dev, &eci, NULL, &ev[i]));
      event_is(ev[i], VK_EVENT_RESET, "new event is reset");
   }
   CK(vkSetEvent(dev, ev[0]));
   event_is(ev[0], VK_EVENT_SET, "vkSetEvent");
   event_is(ev[0], VK_EVENT_SET, "vkSetEvent, read twice");
   CK(vkResetEvent(dev, ev[0]));
   event_is(ev[0], VK_EVENT_RESET, "vkResetEvent");
   CK(vkSetEvent(dev, ev[1]));
   event_is(ev[1], VK_EVENT_SET, "vkSetEvent of a second event");
   event_is(ev[0], VK_EVENT_RESET, "first event unaffected");
   printf("OK event host set/reset/status\n");

   /* fill A; set ev0; wait ev0; copy A -> B; reset ev1 (set by the host). */
   memset(m, 0, 1024);
   begin(cb[0]);
   vkCmdFillBuffer(cb[0], hb, 0, 256, 0x11223344);
   vkCmdSetEvent(cb[0], ev[0], VK_PIPELINE_STAGE_TRANSFER_BIT);
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT };
   vkCmdWaitEvents(cb[0], 1, &ev[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                   1, &mb, 0, NULL, 0, NULL);
   VkBufferCopy ab = { 0, 256, 256 }, cd = { 512, 768, 256 };
   vkCmdCopyBuffer(cb[0], hb, hb, 1, &ab);
   vkCmdResetEvent(cb[0], ev[1], VK_PIPELINE_STAGE_TRANSFER_BIT);
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   submit(cb[0]);
   finish();
   words_are(m, 0, 128, 0x11223344, 0, "fill, vkCmdSetEvent, vkCmdWaitEvents, copy");
   event_is(ev[0], VK_EVENT_SET, "vkCmdSetEvent");
   event_is(ev[1], VK_EVENT_RESET, "vkCmdResetEvent");
   printf("OK event vkCmdSetEvent/vkCmdWaitEvents between fill and copy, vkCmdResetEvent\n");

   /* The GPU waits on ev2 (HOST stage) before copying A -> B; the host writes A, then sets ev2. */
   begin(cb[1]);
   mb.srcAccessMask = VK_ACCESS_HOST_WRITE_BIT;
   vkCmdWaitEvents(cb[1], 1, &ev[2], VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 1,
                   &mb, 0, NULL, 0, NULL);
   vkCmdCopyBuffer(cb[1], hb, hb, 1, &ab);
   barrier(cb[1], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   submit(cb[1]);
   VkResult r = vkWaitForFences(dev, 1, &fence, VK_TRUE, 20 * 1000 * 1000);
   CHECK(r == VK_TIMEOUT, "GPU wait on unset event", "vkWaitForFences = %d, want VK_TIMEOUT", r);
   r = vkGetFenceStatus(dev, fence);
   CHECK(r == VK_NOT_READY, "GPU wait on unset event", "vkGetFenceStatus = %d, want VK_NOT_READY",
         r);
   event_is(ev[2], VK_EVENT_RESET, "waited-on event still reset");
   words_are(m, 64, 64, 0x11223344, 0, "copy must not run before the event is set");
   for (uint32_t i = 0; i < 64; i++)
      m[i] = 0xc0de0000 + i;
   CK(vkSetEvent(dev, ev[2]));
   finish();
   words_are(m, 64, 64, 0xc0de0000, 1, "copy after host vkSetEvent");
   event_is(ev[2], VK_EVENT_SET, "host-set event after the GPU wait");
   printf("OK event GPU vkCmdWaitEvents on a host-set event: fence timed out, then completed\n");

   /* synchronization2: fill C; vkCmdSetEvent2; vkCmdWaitEvents2; copy C -> D; later reset. */
   begin(cb[0]);
   vkCmdFillBuffer(cb[0], hb, 512, 256, 0x5a5aa5a5);
   VkMemoryBarrier2 mb2 = { VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
                            .srcStageMask = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
                            .srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
                            .dstStageMask = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
                            .dstAccessMask = VK_ACCESS_2_TRANSFER_READ_BIT };
   VkDependencyInfo di = { VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .memoryBarrierCount = 1,
                           .pMemoryBarriers = &mb2 };
   vkCmdSetEvent2(cb[0], ev[3], &di);
   vkCmdWaitEvents2(cb[0], 1, &ev[3], &di);
   vkCmdCopyBuffer(cb[0], hb, hb, 1, &cd);
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   submit(cb[0]);
   finish();
   words_are(m, 128, 128, 0x5a5aa5a5, 0, "fill, vkCmdSetEvent2, vkCmdWaitEvents2, copy");
   event_is(ev[3], VK_EVENT_SET, "vkCmdSetEvent2");
   begin(cb[0]);
   vkCmdResetEvent2(cb[0], ev[3], VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT);
   submit(cb[0]);
   finish();
   event_is(ev[3], VK_EVENT_RESET, "vkCmdResetEvent2");
   printf("OK event vkCmdSetEvent2/vkCmdWaitEvents2 between fill and copy, vkCmdResetEvent2\n");
   for (int i = 0; i < 4; i++)
      vkDestroyEvent(dev, ev[i], NULL);
}

static void test_private_data(VkBuffer buf, VkImage img)
{
   VkPrivateDataSlotCreateInfo ci = { VK_STRUCTURE_TYPE_PRIVATE_DATA_SLOT_CREATE_INFO };
   VkPrivateDataSlot slot[2];
   CK(vkCreatePrivateDataSlot(dev, &ci, NULL, &slot[0]));
   CK(vkCreatePrivateDataSlot(dev, &ci, NULL, &slot[1]));
   const VkObjectType type[3] = { VK_OBJECT_TYPE_BUFFER, VK_OBJECT_TYPE_IMAGE,
                                  VK_OBJECT_TYPE_DEVICE };
   const uint64_t obj[3] = { HND(buf), HND(img), HND(dev) };
   uint64_t v;
   for (int round = 0; round < 3; round++)
      for (int o = 0; o < 3; o++)
         for (int k = 0; k < 2; k++) {
            /* round 0: unset (0); round 1: set; round 2: slot 0 overwritten, slot 1 kept. */
            uint64_t want = round == 0 ? 0
                                       : 0x0123456789abcdefull * (uint64_t)(o * 2 + k + 1) +
                                            (uint64_t)round * (k == 0);
            if (round == 1 || (round == 2 && k == 0))
               CK(vkSetPrivateData(dev, type[o], obj[o], slot[k], want));
            vkGetPrivateData(dev, type[o], obj[o], slot[k], &v);
            CHECK(v == want, "private data",
                  "round %d object %d slot %d = 0x%016llx, want 0x%016llx", round, o, k,
                  (unsigned long long)v, (unsigned long long)want);
         }
   vkDestroyPrivateDataSlot(dev, slot[0], NULL);
   vkDestroyPrivateDataSlot(dev, slot[1], NULL);
   printf("OK private data: 2 slots on a buffer, an image and the device round-trip\n");
}

static VkShaderModule shader(const uint32_t *code, size_t size)
{
   VkShaderModuleCreateInfo ci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                   .pCode = code };
   VkShaderModule m;
   CK(vkCreateShaderModule(dev, &ci, NULL, &m));
   return m;
}

static VkImage color_image(VkImageUsageFlags usage, VkDeviceMemory *mem, VkImageView *view)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = usage | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                     VK_IMAGE_USAGE_TRANSFER_SRC_BIT };
   VkImage img;
   CK(vkCreateImage(dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(dev, img, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   CK(vkAllocateMemory(dev, &ai, NULL, mem));
   CK(vkBindImageMemory(dev, img, *mem, 0));
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = ci.format,
                                 .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   CK(vkCreateImageView(dev, &vci, NULL, view));
   return img;
}

static VkPipeline gfx_pipeline(VkShaderModule vs, VkShaderModule fs, VkPipelineLayout pl,
                               VkRenderPass rp, uint32_t subpass)
{
   VkPipelineShaderStageCreateInfo st[2] = {
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_VERTEX_BIT,
        .module = vs, .pName = "main" },
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
        .module = fs, .pName = "main" },
   };
   VkPipelineVertexInputStateCreateInfo vi = {
      VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO
   };
   VkPipelineInputAssemblyStateCreateInfo ia = {
      VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST
   };
   VkViewport vp = { 0, 0, W, H, 0, 1 };
   VkRect2D sc = { { 0, 0 }, { W, H } };
   VkPipelineViewportStateCreateInfo vps = { VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
                                             .viewportCount = 1, .pViewports = &vp,
                                             .scissorCount = 1, .pScissors = &sc };
   VkPipelineRasterizationStateCreateInfo rs = {
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL, .lineWidth = 1.0f
   };
   VkPipelineMultisampleStateCreateInfo ms = {
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cbs = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkGraphicsPipelineCreateInfo ci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                       .stageCount = 2,
                                       .pStages = st,
                                       .pVertexInputState = &vi,
                                       .pInputAssemblyState = &ia,
                                       .pViewportState = &vps,
                                       .pRasterizationState = &rs,
                                       .pMultisampleState = &ms,
                                       .pColorBlendState = &cbs,
                                       .layout = pl,
                                       .renderPass = rp,
                                       .subpass = subpass };
   VkPipeline p;
   CK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &ci, NULL, &p));
   return p;
}

/* Expected subpass-0 image: cell c of the 8x8 grid (4x4 pixels) is (tag, c, drawID + 1, 255). */
static uint8_t want0[W * H * 4], want1[W * H * 4];
static void paint(int c, int tag, int id)
{
   for (int y = 0; y < 4; y++)
      for (int x = 0; x < 4; x++) {
         uint8_t *p = want0 + (((c / 8) * 4 + y) * W + (c % 8) * 4 + x) * 4;
         p[0] = tag, p[1] = c, p[2] = id + 1, p[3] = 255;
      }
}

static void compare(const uint8_t *got, const uint8_t *want, const char *what)
{
   for (int i = 0; i < W * H * 4; i++)
      CHECK(got[i] == want[i], what, "pixel (%d,%d) channel %d = %u, want %u", i / 4 % W, i / 4 / W,
            i % 4, got[i], want[i]);
}

int main(void)
{
   init_device();
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   CK(vkCreateFence(dev, &fci, NULL, &fence));
   VkCommandPool pool;
   cb[0] = smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1 };
   CK(vkAllocateCommandBuffers(dev, &cai, &cb[1]));

   VkDeviceMemory hmem, dmem, imem, rmem, amem[2];
   VkBuffer hb = smoke_host_buffer(
      &s, 1024, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, &hmem);
   VkBuffer db = smoke_host_buffer(&s, 1024, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &dmem);
   VkBuffer ib =
      smoke_host_buffer(&s, 512,
                        VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT |
                           VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        &imem);
   VkBuffer rb = smoke_host_buffer(&s, 2 * W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &rmem);
   uint32_t *hm, *dm, *im;
   uint8_t *rm;
   CK(vkMapMemory(dev, hmem, 0, VK_WHOLE_SIZE, 0, (void **)&hm));
   CK(vkMapMemory(dev, dmem, 0, VK_WHOLE_SIZE, 0, (void **)&dm));
   CK(vkMapMemory(dev, imem, 0, VK_WHOLE_SIZE, 0, (void **)&im));
   CK(vkMapMemory(dev, rmem, 0, VK_WHOLE_SIZE, 0, (void **)&rm));
   VkImageView view[2];
   VkImage img[2] = { color_image(VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT, &amem[0], &view[0]),
                      color_image(0, &amem[1], &view[1]) };

   test_events(hb, hm);
   test_private_data(db, img[0]);

   /* Descriptors: the storage buffer of add.comp, the input attachment of subpass_in.frag. */
   VkDescriptorSetLayoutBinding bnd[2] = {
      { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT },
      { 0, VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 1, VK_SHADER_STAGE_FRAGMENT_BIT }
   };
   VkDescriptorSetLayout dsl[2];
   VkPipelineLayout pl[2];
   VkPushConstantRange pcr[2] = { { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 },
                                  { VK_SHADER_STAGE_VERTEX_BIT, 0, 4 } };
   for (int i = 0; i < 2; i++) {
      VkDescriptorSetLayoutCreateInfo lci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                              .bindingCount = 1, .pBindings = &bnd[i] };
      CK(vkCreateDescriptorSetLayout(dev, &lci, NULL, &dsl[i]));
      VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                          .setLayoutCount = 1, .pSetLayouts = &dsl[i],
                                          .pushConstantRangeCount = 1,
                                          .pPushConstantRanges = &pcr[i] };
      CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl[i]));
   }
   VkDescriptorPoolSize psz[2] = { { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 },
                                   { VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, 1 } };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 2,
                                       .poolSizeCount = 2, .pPoolSizes = psz };
   VkDescriptorPool dpool;
   CK(vkCreateDescriptorPool(dev, &dpci, NULL, &dpool));
   VkDescriptorSetAllocateInfo dsai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .descriptorPool = dpool, .descriptorSetCount = 2,
                                        .pSetLayouts = dsl };
   VkDescriptorSet ds[2];
   CK(vkAllocateDescriptorSets(dev, &dsai, ds));
   VkDescriptorBufferInfo dbi = { db, 0, VK_WHOLE_SIZE };
   VkDescriptorImageInfo dii = { VK_NULL_HANDLE, view[0],
                                 VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   VkWriteDescriptorSet wr[2] = {
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = ds[0], .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &dbi },
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = ds[1], .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT, .pImageInfo = &dii },
   };
   vkUpdateDescriptorSets(dev, 2, wr, 0, NULL);

   /* vkCmdDispatchIndirect: (1,1,1) filled at byte 320 of ib, x then updated to 3. */
   VkShaderModule cs = shader(add_comp_spv, sizeof(add_comp_spv));
   VkComputePipelineCreateInfo cpci = {
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO, .layout = pl[0],
      .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = cs, .pName = "main" }
   };
   VkPipeline cpipe;
   CK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, NULL, &cpipe));
   memset(im, 0, 512);
   for (uint32_t i = 0; i < 256; i++)
      dm[i] = i;
   begin(cb[0]);
   vkCmdFillBuffer(cb[0], ib, 320, 12, 1);
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   uint32_t x = 3, k = 7;
   vkCmdUpdateBuffer(cb[0], ib, 320, 4, &x);
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT, VK_ACCESS_INDIRECT_COMMAND_READ_BIT);
   vkCmdBindPipeline(cb[0], VK_PIPELINE_BIND_POINT_COMPUTE, cpipe);
   vkCmdBindDescriptorSets(cb[0], VK_PIPELINE_BIND_POINT_COMPUTE, pl[0], 0, 1, &ds[0], 0, NULL);
   vkCmdPushConstants(cb[0], pl[0], VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &k);
   vkCmdDispatchIndirect(cb[0], ib, 320);
   barrier(cb[0], VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   submit(cb[0]);
   finish();
   words_are(im, 80, 1, 3, 0, "dispatch size x");
   words_are(im, 81, 2, 1, 0, "dispatch size y, z");
   words_are(dm, 0, 192, 7, 3, "vkCmdDispatchIndirect (3,1,1): v * 3 + 7");
   words_are(dm, 192, 64, 192, 1, "vkCmdDispatchIndirect: values past 3 groups untouched");
   printf(
      "OK dispatch indirect (3,1,1) from vkCmdFillBuffer + vkCmdUpdateBuffer: 192 of 256 values\n");

   /* Render pass 2: subpass 0 draws cells into attachment 0; subpass 1 reads it as an input
    * attachment and writes (g, r, b, 1) to attachment 1. */
   VkAttachmentDescription2 ad = { VK_STRUCTURE_TYPE_ATTACHMENT_DESCRIPTION_2,
                                   .format = VK_FORMAT_R8G8B8A8_UNORM,
                                   .samples = VK_SAMPLE_COUNT_1_BIT,
                                   .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
                                   .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
                                   .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
                                   .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
                                   .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                   .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL };
   VkAttachmentDescription2 ads[2] = { ad, ad };
   ads[1].loadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
   VkAttachmentReference2 ref[3] = {
      { VK_STRUCTURE_TYPE_ATTACHMENT_REFERENCE_2, .attachment = 0,
        .layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
      { VK_STRUCTURE_TYPE_ATTACHMENT_REFERENCE_2, .attachment = 0,
        .layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
        .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT },
      { VK_STRUCTURE_TYPE_ATTACHMENT_REFERENCE_2, .attachment = 1,
        .layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
   };
   VkSubpassDescription2 sd[2] = {
      { VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_2,
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS, .colorAttachmentCount = 1,
        .pColorAttachments = &ref[0] },
      { VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_2,
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS, .inputAttachmentCount = 1,
        .pInputAttachments = &ref[1], .colorAttachmentCount = 1, .pColorAttachments = &ref[2] },
   };
   const VkPipelineStageFlags out = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
   VkSubpassDependency2 dep[3] = {
      { VK_STRUCTURE_TYPE_SUBPASS_DEPENDENCY_2, .srcSubpass = 0, .dstSubpass = 1,
        .srcStageMask = out, .dstStageMask = VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
        .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_INPUT_ATTACHMENT_READ_BIT,
        .dependencyFlags = VK_DEPENDENCY_BY_REGION_BIT },
      { VK_STRUCTURE_TYPE_SUBPASS_DEPENDENCY_2, .srcSubpass = 0, .dstSubpass = VK_SUBPASS_EXTERNAL,
        .srcStageMask = out, .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
        .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT },
      { VK_STRUCTURE_TYPE_SUBPASS_DEPENDENCY_2, .srcSubpass = 1, .dstSubpass = VK_SUBPASS_EXTERNAL,
        .srcStageMask = out | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
        .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
        .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT },
   };
   VkRenderPassCreateInfo2 rpci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO_2,
                                    .attachmentCount = 2,
                                    .pAttachments = ads,
                                    .subpassCount = 2,
                                    .pSubpasses = sd,
                                    .dependencyCount = 3,
                                    .pDependencies = dep };
   VkRenderPass rp;
   CK(vkCreateRenderPass2(dev, &rpci, NULL, &rp));
   VkFramebufferCreateInfo fbci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                    .renderPass = rp,
                                    .attachmentCount = 2,
                                    .pAttachments = view,
                                    .width = W,
                                    .height = H,
                                    .layers = 1 };
   VkFramebuffer fb;
   CK(vkCreateFramebuffer(dev, &fbci, NULL, &fb));
   VkShaderModule vs = shader(indirect_vert_spv, sizeof(indirect_vert_spv));
   VkShaderModule fs[2] = { shader(tri_frag_spv, sizeof(tri_frag_spv)),
                            shader(subpass_in_frag_spv, sizeof(subpass_in_frag_spv)) };
   VkPipeline gp[2] = { gfx_pipeline(vs, fs[0], pl[1], rp, 0),
                        gfx_pipeline(vs, fs[1], pl[1], rp, 1) };

   /* Indirect commands in ib (bytes): 0 draw x3, 64 indexed x2, 128 draw x3, 192 indexed x2,
    * 256/260 the two counts (vkCmdUpdateBuffer), 288 uint16 indices. */
   const VkDrawIndirectCommand d0[3] = { { 12, 1, 0, 0 }, { 6, 2, 24, 0 }, { 6, 0, 36, 0 } };
   const VkDrawIndexedIndirectCommand d1[2] = { { 12, 1, 0, 96, 0 }, { 6, 1, 6, 144, 0 } };
   const VkDrawIndirectCommand d2[3] = { { 6, 1, 240, 0 }, { 6, 1, 252, 0 }, { 6, 1, 264, 0 } };
   const VkDrawIndexedIndirectCommand d3[2] = { { 6, 1, 0, 288, 0 }, { 6, 1, 0, 300, 0 } };
   const uint16_t idx[12] = { 0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17 };
   uint8_t *ibp = (uint8_t *)im;
   memcpy(ibp, d0, sizeof(d0)), memcpy(ibp + 64, d1, sizeof(d1)), memcpy(ibp + 128, d2, sizeof(d2));
   memcpy(ibp + 192, d3, sizeof(d3)), memcpy(ibp + 288, idx, sizeof(idx));
   const uint32_t counts[2] = { 2, 1 };
   begin(cb[0]);
   vkCmdUpdateBuffer(cb[0], ib, 256, sizeof(counts), counts);
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT, VK_ACCESS_INDIRECT_COMMAND_READ_BIT);
   VkClearValue clear[2] = {
      { .color = { .float32 = { 10 / 255.0f, 20 / 255.0f, 30 / 255.0f, 40 / 255.0f } } }
   };
   VkRenderPassBeginInfo rbi = {
      VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO, .renderPass = rp,     .framebuffer = fb,
      .renderArea = { { 0, 0 }, { W, H } },     .clearValueCount = 2, .pClearValues = clear
   };
   VkSubpassBeginInfo sbi = { VK_STRUCTURE_TYPE_SUBPASS_BEGIN_INFO,
                              .contents = VK_SUBPASS_CONTENTS_INLINE };
   VkSubpassEndInfo sei = { VK_STRUCTURE_TYPE_SUBPASS_END_INFO };
   const uint32_t tag[6] = { 0, 1, 2, 3, 4, 5 };
   vkCmdBeginRenderPass2(cb[0], &rbi, &sbi);
   vkCmdBindPipeline(cb[0], VK_PIPELINE_BIND_POINT_GRAPHICS, gp[0]);
   vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[5]);
   vkCmdDraw(cb[0], 18, 1, 6 * 56, 0);
   vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[1]);
   vkCmdDrawIndirect(cb[0], ib, 0, 3, sizeof(VkDrawIndirectCommand));
   vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[2]);
   vkCmdBindIndexBuffer(cb[0], ib, 288, VK_INDEX_TYPE_UINT16);
   vkCmdDrawIndexedIndirect(cb[0], ib, 64, 2, sizeof(VkDrawIndexedIndirectCommand));
   if (has_count) {
      vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[3]);
      vkCmdDrawIndirectCount(cb[0], ib, 128, ib, 256, 3, sizeof(VkDrawIndirectCommand));
      vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[4]);
      vkCmdDrawIndexedIndirectCount(cb[0], ib, 192, ib, 260, 2,
                                    sizeof(VkDrawIndexedIndirectCommand));
   }
   vkCmdNextSubpass2(cb[0], &sbi, &sei);
   vkCmdBindPipeline(cb[0], VK_PIPELINE_BIND_POINT_GRAPHICS, gp[1]);
   vkCmdBindDescriptorSets(cb[0], VK_PIPELINE_BIND_POINT_GRAPHICS, pl[1], 0, 1, &ds[1], 0, NULL);
   vkCmdPushConstants(cb[0], pl[1], VK_SHADER_STAGE_VERTEX_BIT, 0, 4, &tag[0]);
   vkCmdDraw(cb[0], 48, 8, 0, 0); /* all 64 cells */
   vkCmdEndRenderPass2(cb[0], &sei);
   for (int i = 0; i < 2; i++) {
      VkBufferImageCopy reg = { .bufferOffset = i * W * H * 4,
                                .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                .imageExtent = { W, H, 1 } };
      vkCmdCopyImageToBuffer(cb[0], img[i], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb, 1, &reg);
   }
   barrier(cb[0], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   submit(cb[0]);
   finish();

   for (int i = 0; i < W * H; i++)
      want0[i * 4] = 10, want0[i * 4 + 1] = 20, want0[i * 4 + 2] = 30, want0[i * 4 + 3] = 40;
   static const int cells[][3] = { { 56, 5, 0 }, { 57, 5, 0 }, { 58, 5, 0 }, { 0, 1, 0 },
                                   { 1, 1, 0 },  { 4, 1, 1 },  { 12, 1, 1 }, { 16, 2, 0 },
                                   { 18, 2, 0 }, { 26, 2, 1 }, { 40, 3, 0 }, { 42, 3, 1 },
                                   { 48, 4, 0 } };
   for (int i = 0; i < (has_count ? 13 : 10); i++)
      paint(cells[i][0], cells[i][1], cells[i][2]);
   for (int i = 0; i < W * H; i++)
      want1[i * 4] = want0[i * 4 + 1], want1[i * 4 + 1] = want0[i * 4],
                want1[i * 4 + 2] = want0[i * 4 + 2], want1[i * 4 + 3] = 255;
   compare(rm, want0, "subpass 0: vkCmdDraw/DrawIndirect/DrawIndexedIndirect/DrawIndirectCount");
   printf("OK draw indirect (%s): %d cells, checksum=0x%08x\n",
          has_count ? "with count" : "no drawIndirectCount", has_count ? 13 : 10,
          fnv(rm, W * H * 4));
   compare(rm + W * H * 4, want1, "subpass 1: input attachment");
   printf("OK render pass 2: subpass 1 read subpass 0 as input attachment, checksum=0x%08x\n",
          fnv(rm + W * H * 4, W * H * 4));

   VkPipeline pipes[3] = { gp[0], gp[1], cpipe };
   VkShaderModule mods[4] = { vs, fs[0], fs[1], cs };
   for (int i = 0; i < 4; i++)
      vkDestroyShaderModule(dev, mods[i], NULL),
         vkDestroyPipeline(dev, i < 3 ? pipes[i] : VK_NULL_HANDLE, NULL);
   vkDestroyFramebuffer(dev, fb, NULL);
   vkDestroyRenderPass(dev, rp, NULL);
   vkDestroyDescriptorPool(dev, dpool, NULL);
   for (int i = 0; i < 2; i++) {
      vkDestroyPipelineLayout(dev, pl[i], NULL);
      vkDestroyDescriptorSetLayout(dev, dsl[i], NULL);
      vkDestroyImageView(dev, view[i], NULL);
      vkDestroyImage(dev, img[i], NULL);
      vkFreeMemory(dev, amem[i], NULL);
   }
   VkBuffer bufs[4] = { hb, db, ib, rb };
   VkDeviceMemory mems[4] = { hmem, dmem, imem, rmem };
   for (int i = 0; i < 4; i++) {
      vkUnmapMemory(dev, mems[i]);
      vkDestroyBuffer(dev, bufs[i], NULL);
      vkFreeMemory(dev, mems[i], NULL);
   }
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyFence(dev, fence, NULL);
   smoke_fini(&s);
   printf("OK all\n");
   return 0;
}
