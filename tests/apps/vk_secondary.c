/* Secondary command buffers, on a device created with dynamicRendering (Vulkan 1.3):
 * (a) a classic render pass begun with VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS whose
 *     draws are in two secondaries (inheritance: render pass, subpass, framebuffer;
 *     RENDER_PASS_CONTINUE) run by one vkCmdExecuteCommands: each draws the tri.vert triangle
 *     into its own half (dynamic viewport/scissor), the second then vkCmdClearAttachments a
 *     rectangle over its triangle;
 * (b) vkCmdBeginRendering with VK_RENDERING_CONTENTS_SECONDARY_COMMAND_BUFFERS_BIT and a
 *     secondary inheriting VkCommandBufferInheritanceRenderingInfo that draws the triangle;
 * (c) a SIMULTANEOUS_USE secondary of transfer commands (copy, fill, update with barriers)
 *     outside any render pass, in two primaries: one submitted twice, one executing it twice.
 * Checks: FNV-1a checksums of both images (identical natively and through venusd), pixels
 * that must be the clear color, the triangle (its colors sum to 255) or the cleared rectangle,
 * and the buffer words after every submission. */
#include <string.h>

#include "smoke.h"
#include "tri_frag_spv.h"
#include "tri_vert_spv.h"

#define W 128
#define H 128
#define FMT VK_FORMAT_R8G8B8A8_UNORM
#define FILL 0x5ec0da7au

static uint32_t fnv(const uint8_t *p, size_t n)
{
   uint32_t h = 2166136261u;
   for (size_t i = 0; i < n; i++)
      h = (h ^ p[i]) * 16777619u;
   return h;
}

static void fail_if(int bad, const char *what, const char *fmt, unsigned a, unsigned b)
{
   if (bad) {
      printf("FAIL %s: ", what);
      printf(fmt, a, b);
      printf("\n");
      exit(1);
   }
}

static VkImage make_image(struct smoke *s, VkDeviceMemory *mem, VkImageView *view)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = FMT,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                     VK_IMAGE_USAGE_TRANSFER_SRC_BIT };
   VkImage img;
   CK(vkCreateImage(s->dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s->dev, img, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(
                                  s, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) };
   CK(vkAllocateMemory(s->dev, &ai, NULL, mem));
   CK(vkBindImageMemory(s->dev, img, *mem, 0));
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = FMT,
                                 .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   CK(vkCreateImageView(s->dev, &vci, NULL, view));
   return img;
}

/* The tri.vert/tri.frag pipeline with dynamic viewport and scissor, for a render pass or,
 * with `rendering` chained, for dynamic rendering. */
static VkPipeline make_pipeline(struct smoke *s, VkPipelineLayout pl, VkRenderPass rp,
                                const void *rendering, VkShaderModule vs, VkShaderModule fs)
{
   VkPipelineShaderStageCreateInfo stages[2] = {
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
   VkPipelineViewportStateCreateInfo vps = { VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
                                             .viewportCount = 1, .scissorCount = 1 };
   VkPipelineRasterizationStateCreateInfo rs = {
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL, .cullMode = VK_CULL_MODE_NONE, .lineWidth = 1.0f
   };
   VkPipelineMultisampleStateCreateInfo ms = {
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cb = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkDynamicState dyn[2] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
   VkPipelineDynamicStateCreateInfo dsi = { VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
                                            .dynamicStateCount = 2, .pDynamicStates = dyn };
   VkGraphicsPipelineCreateInfo gpci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                         .pNext = rendering,
                                         .stageCount = 2,
                                         .pStages = stages,
                                         .pVertexInputState = &vi,
                                         .pInputAssemblyState = &ia,
                                         .pViewportState = &vps,
                                         .pRasterizationState = &rs,
                                         .pMultisampleState = &ms,
                                         .pColorBlendState = &cb,
                                         .pDynamicState = &dsi,
                                         .layout = pl,
                                         .renderPass = rp };
   VkPipeline pipe;
   CK(vkCreateGraphicsPipelines(s->dev, VK_NULL_HANDLE, 1, &gpci, NULL, &pipe));
   return pipe;
}

static void begin_secondary(VkCommandBuffer cb, VkCommandBufferUsageFlags flags,
                            const VkCommandBufferInheritanceInfo *inh)
{
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, .flags = flags,
                                   .pInheritanceInfo = inh };
   CK(vkBeginCommandBuffer(cb, &bi));
}

/* Binds the pipeline, sets viewport and scissor to x..x+w, draws the triangle. */
static void draw_triangle(VkCommandBuffer cb, VkPipeline pipe, int32_t x, uint32_t w)
{
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
   VkViewport vp = { x, 0, w, H, 0, 1 };
   VkRect2D sc = { { x, 0 }, { w, H } };
   vkCmdSetViewport(cb, 0, 1, &vp);
   vkCmdSetScissor(cb, 0, 1, &sc);
   vkCmdDraw(cb, 3, 1, 0, 0);
}

static void image_barrier(VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags sa, VkAccessFlags da, VkPipelineStageFlags ss,
                          VkPipelineStageFlags ds)
{
   VkImageMemoryBarrier b = { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = sa,
                              .dstAccessMask = da,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = img,
                              .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   vkCmdPipelineBarrier(cb, ss, ds, 0, 0, NULL, 0, NULL, 1, &b);
}

static void memory_barrier(VkCommandBuffer cb, VkAccessFlags sa, VkAccessFlags da,
                           VkPipelineStageFlags ds)
{
   VkMemoryBarrier b = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = sa,
                         .dstAccessMask = da };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, ds, 0, 1, &b, 0, NULL, 0, NULL);
}

static void submit(struct smoke *s, VkFence fence, uint32_t n, const VkCommandBuffer *cbs)
{
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = n,
                       .pCommandBuffers = cbs };
   CK(vkQueueSubmit(s->q, 1, &si, fence));
   CK(vkWaitForFences(s->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   CK(vkResetFences(s->dev, 1, &fence));
}

/* Pixel checks: clear color, inside the triangle (r+g+b of its interpolated colors is 255), exact. */
static void check_px(const char *what, const uint8_t *img, int x, int y, int inside,
                     const uint8_t want[4])
{
   const uint8_t *p = img + (y * W + x) * 4;
   int sum = p[0] + p[1] + p[2];
   int ok = inside ? p[3] == 255 && sum >= 252 && sum <= 258 : !memcmp(p, want, 4);
   if (!ok) {
      printf("FAIL %s: pixel %d,%d is %u %u %u %u\n", what, x, y, p[0], p[1], p[2], p[3]);
      exit(1);
   }
   printf("OK %s (%d,%d)\n", what, x, y);
}

int main(void)
{
   /* Own device creation: Vulkan 1.3 dynamicRendering. */
   struct smoke s;
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s.inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s.inst, &n, &s.pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      return 1;
   }
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES };
   VkPhysicalDeviceFeatures2 f2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f13 };
   vkGetPhysicalDeviceFeatures2(s.pd, &f2);
   if (!f13.dynamicRendering) {
      printf("FAIL dynamicRendering is not supported\n");
      return 1;
   }
   f13 = (VkPhysicalDeviceVulkan13Features){ VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                             .dynamicRendering = VK_TRUE };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f13,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
   VkDevice dev = s.dev;

   VkDeviceMemory mem_a, mem_b, rb_mem, tb_mem;
   VkImageView view_a, view_b;
   VkImage img_a = make_image(&s, &mem_a, &view_a), img_b = make_image(&s, &mem_b, &view_b);
   VkBuffer rb = smoke_host_buffer(&s, 2 * W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &rb_mem);
   VkBuffer tb = smoke_host_buffer(
      &s, 4096, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, &tb_mem);

   VkAttachmentDescription att = { 0,
                                   FMT,
                                   VK_SAMPLE_COUNT_1_BIT,
                                   VK_ATTACHMENT_LOAD_OP_CLEAR,
                                   VK_ATTACHMENT_STORE_OP_STORE,
                                   VK_ATTACHMENT_LOAD_OP_DONT_CARE,
                                   VK_ATTACHMENT_STORE_OP_DONT_CARE,
                                   VK_IMAGE_LAYOUT_UNDEFINED,
                                   VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL };
   VkAttachmentReference ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkSubpassDescription sub = { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .colorAttachmentCount = 1,
                                .pColorAttachments = &ref };
   VkSubpassDependency dep = { 0,
                               VK_SUBPASS_EXTERNAL,
                               VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                               VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                               VK_ACCESS_TRANSFER_READ_BIT,
                               0 };
   VkRenderPassCreateInfo rpci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                   .attachmentCount = 1,
                                   .pAttachments = &att,
                                   .subpassCount = 1,
                                   .pSubpasses = &sub,
                                   .dependencyCount = 1,
                                   .pDependencies = &dep };
   VkRenderPass rp;
   CK(vkCreateRenderPass(dev, &rpci, NULL, &rp));
   VkFramebufferCreateInfo fbci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                    .renderPass = rp,
                                    .attachmentCount = 1,
                                    .pAttachments = &view_a,
                                    .width = W,
                                    .height = H,
                                    .layers = 1 };
   VkFramebuffer fb;
   CK(vkCreateFramebuffer(dev, &fbci, NULL, &fb));

   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(tri_vert_spv), .pCode = tri_vert_spv };
   VkShaderModule vs, fs;
   CK(vkCreateShaderModule(dev, &smci, NULL, &vs));
   smci.codeSize = sizeof(tri_frag_spv), smci.pCode = tri_frag_spv;
   CK(vkCreateShaderModule(dev, &smci, NULL, &fs));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
   const VkFormat fmt = FMT;
   VkPipelineRenderingCreateInfo prci = { VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
                                          .colorAttachmentCount = 1,
                                          .pColorAttachmentFormats = &fmt };
   VkPipeline pipe_a = make_pipeline(&s, pl, rp, NULL, vs, fs);
   VkPipeline pipe_b = make_pipeline(&s, pl, VK_NULL_HANDLE, &prci, vs, fs);

   VkCommandPool pool;
   VkCommandBuffer cmd = smoke_command_buffer(&s, 0, &pool), prim[2], sec[4];
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 2 };
   CK(vkAllocateCommandBuffers(dev, &cai, prim));
   cai.level = VK_COMMAND_BUFFER_LEVEL_SECONDARY, cai.commandBufferCount = 4;
   CK(vkAllocateCommandBuffers(dev, &cai, sec));

   /* (a) secondaries 0 and 1 continue the render pass: left and right triangles, then a
    * rectangle cleared over the right one. */
   VkCommandBufferInheritanceInfo inh_a = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
                                            .renderPass = rp, .subpass = 0, .framebuffer = fb };
   for (int i = 0; i < 2; i++) {
      begin_secondary(sec[i], VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT, &inh_a);
      draw_triangle(sec[i], pipe_a, i * W / 2, W / 2);
      if (i == 1) {
         VkClearAttachment ca = { VK_IMAGE_ASPECT_COLOR_BIT,
                                  0,
                                  { .color = { .float32 = { 1, 1, 0, 1 } } } };
         VkClearRect cr = { { { 88, 70 }, { 16, 20 } }, 0, 1 };
         vkCmdClearAttachments(sec[i], 1, &ca, 1, &cr);
      }
      CK(vkEndCommandBuffer(sec[i]));
   }
   /* (b) secondary 2 inherits dynamic rendering state and draws the full-size triangle. */
   VkCommandBufferInheritanceRenderingInfo irin = {
      VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO, .colorAttachmentCount = 1,
      .pColorAttachmentFormats = &fmt, .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkCommandBufferInheritanceInfo inh_b = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
                                            .pNext = &irin };
   begin_secondary(sec[2], VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT, &inh_b);
   draw_triangle(sec[2], pipe_b, 0, W);
   CK(vkEndCommandBuffer(sec[2]));

   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cmd, &bi));
   VkClearValue clear_a = { .color = {
                               .float32 = { 26 / 255.0f, 51 / 255.0f, 76 / 255.0f,
                                            1.0f } /* exact in UNORM8: no rounding ties */ } };
   VkRenderPassBeginInfo rbi = {
      VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO, .renderPass = rp,     .framebuffer = fb,
      .renderArea = { { 0, 0 }, { W, H } },     .clearValueCount = 1, .pClearValues = &clear_a
   };
   vkCmdBeginRenderPass(cmd, &rbi, VK_SUBPASS_CONTENTS_SECONDARY_COMMAND_BUFFERS);
   vkCmdExecuteCommands(cmd, 2, sec);
   vkCmdEndRenderPass(cmd);
   image_barrier(cmd, img_b, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, 0,
                 VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                 VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT);
   VkRenderingAttachmentInfo rai = {
      VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
      .imageView = view_b,
      .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
      .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .clearValue = { .color = { .float32 = { 64 / 255.0f, 32 / 255.0f, 16 / 255.0f, 1.0f } } }
   };
   VkRenderingInfo ri = { VK_STRUCTURE_TYPE_RENDERING_INFO,
                          .flags = VK_RENDERING_CONTENTS_SECONDARY_COMMAND_BUFFERS_BIT,
                          .renderArea = { { 0, 0 }, { W, H } },
                          .layerCount = 1,
                          .colorAttachmentCount = 1,
                          .pColorAttachments = &rai };
   vkCmdBeginRendering(cmd, &ri);
   vkCmdExecuteCommands(cmd, 1, &sec[2]);
   vkCmdEndRendering(cmd);
   image_barrier(cmd, img_b, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                 VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                 VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                 VK_PIPELINE_STAGE_TRANSFER_BIT);
   VkBufferImageCopy reg = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                             .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cmd, img_a, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb, 1, &reg);
   reg.bufferOffset = W * H * 4;
   vkCmdCopyImageToBuffer(cmd, img_b, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb, 1, &reg);
   memory_barrier(cmd, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT);
   CK(vkEndCommandBuffer(cmd));
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(dev, &fci, NULL, &fence));
   submit(&s, fence, 1, &cmd);

   const uint8_t *px;
   CK(vkMapMemory(dev, rb_mem, 0, VK_WHOLE_SIZE, 0, (void **)&px));
   printf("render pass secondaries checksum=0x%08x\n", fnv(px, W * H * 4));
   const uint8_t clear_a8[4] = { 26, 51, 76, 255 }, clear_b8[4] = { 64, 32, 16, 255 },
                 yellow[4] = { 255, 255, 0, 255 };
   check_px("render pass: corner is the clear color", px, 0, 0, 0, clear_a8);
   check_px("render pass: above the triangles is the clear color", px, 64, 5, 0, clear_a8);
   check_px("render pass: secondary 0 drew the left triangle", px, 32, 81, 1, NULL);
   check_px("render pass: secondary 1 drew the right triangle", px, 96, 100, 1, NULL);
   check_px("render pass: secondary 1 cleared a rectangle after its draw", px, 96, 81, 0, yellow);
   check_px("render pass: clear rectangle corner", px, 88, 70, 0, yellow);
   check_px("render pass: just outside the clear rectangle is the triangle", px, 87, 69, 1, NULL);
   const uint8_t *pb = px + W * H * 4;
   printf("dynamic rendering secondary checksum=0x%08x\n", fnv(pb, W * H * 4));
   check_px("dynamic rendering: corner is the clear color", pb, 0, 0, 0, clear_b8);
   check_px("dynamic rendering: secondary drew the triangle", pb, 64, 81, 1, NULL);
   check_px("dynamic rendering: below the triangle is the clear color", pb, 64, 122, 0, clear_b8);
   vkUnmapMemory(dev, rb_mem);

   /* (c) secondary 3: words 256..511 = old words 0..255, words 0..255 = FILL, words 512..515 = 1..4. */
   VkCommandBufferInheritanceInfo inh_c = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO };
   begin_secondary(sec[3], VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT, &inh_c);
   memory_barrier(sec[3], VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
   VkBufferCopy bc = { 0, 1024, 1024 };
   vkCmdCopyBuffer(sec[3], tb, tb, 1, &bc);
   memory_barrier(sec[3], VK_ACCESS_TRANSFER_READ_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
   vkCmdFillBuffer(sec[3], tb, 0, 1024, FILL);
   vkCmdUpdateBuffer(sec[3], tb, 2048, 16, (const uint32_t[]){ 1, 2, 3, 4 });
   CK(vkEndCommandBuffer(sec[3]));
   /* prim[0] executes it once, prim[1] twice in a row. */
   for (int i = 0; i < 2; i++) {
      CK(vkBeginCommandBuffer(prim[i], &bi));
      vkCmdExecuteCommands(prim[i], i + 1, (VkCommandBuffer[]){ sec[3], sec[3] });
      memory_barrier(prim[i], VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT,
                     VK_PIPELINE_STAGE_HOST_BIT);
      CK(vkEndCommandBuffer(prim[i]));
   }
   uint32_t *w;
   CK(vkMapMemory(dev, tb_mem, 0, VK_WHOLE_SIZE, 0, (void **)&w));
   /* Submissions of prim[first..first+count): the host reseeds words 0..255 and zeroes 256..1023
    * first, so words 256..511 show whether a second execution copied the first one's FILL. */
   static const struct {
      uint32_t seed, first, count;
      int copied_fill;
      const char *what;
   } rounds[] = {
      { 3, 0, 1, 0, "transfer secondary, 1st submission" },
      { 7, 0, 1, 0, "transfer secondary, same primary re-submitted" },
      { 11, 1, 1, 1, "transfer secondary executed twice in one primary" },
      { 13, 0, 2, 1, "transfer secondary pending in both primaries of one submission" },
   };
   for (int k = 0; k < 4; k++) {
      for (uint32_t i = 0; i < 1024; i++)
         w[i] = i < 256 ? i * rounds[k].seed + 1 : 0;
      submit(&s, fence, rounds[k].count, &prim[rounds[k].first]);
      for (uint32_t i = 0; i < 516; i++) {
         uint32_t want = i < 256   ? FILL
                         : i < 512 ? (rounds[k].copied_fill ? FILL : (i - 256) * rounds[k].seed + 1)
                                   : i - 511;
         fail_if(w[i] != want, rounds[k].what, "word %u is 0x%x", i, w[i]);
      }
      fail_if(w[516] != 0, rounds[k].what, "word %u is 0x%x", 516, w[516]);
      printf("OK %s (checksum=0x%08x)\n", rounds[k].what, fnv((const uint8_t *)w, 4096));
   }
   vkUnmapMemory(dev, tb_mem);

   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipe_a, NULL);
   vkDestroyPipeline(dev, pipe_b, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
   vkDestroyShaderModule(dev, vs, NULL);
   vkDestroyShaderModule(dev, fs, NULL);
   vkDestroyFramebuffer(dev, fb, NULL);
   vkDestroyRenderPass(dev, rp, NULL);
   vkDestroyImageView(dev, view_a, NULL);
   vkDestroyImageView(dev, view_b, NULL);
   vkDestroyImage(dev, img_a, NULL);
   vkDestroyImage(dev, img_b, NULL);
   vkDestroyBuffer(dev, rb, NULL);
   vkDestroyBuffer(dev, tb, NULL);
   vkFreeMemory(dev, mem_a, NULL);
   vkFreeMemory(dev, mem_b, NULL);
   vkFreeMemory(dev, rb_mem, NULL);
   vkFreeMemory(dev, tb_mem, NULL);
   smoke_fini(&s);
   printf("OK secondary\n");
   return 0;
}
