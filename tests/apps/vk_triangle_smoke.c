/* Smoke test of the guest path: renders a colored triangle offscreen with a render pass,
 * a graphics pipeline and 4x MSAA resolve, reads it back and prints an FNV-1a checksum of
 * the pixels, which must be identical natively and through venusd.  Also checks a few
 * pixels whose value is certain. */
#include <string.h>

#include "smoke.h"
#include "tri_frag_spv.h"
#include "tri_vert_spv.h"

#define W 128
#define H 128

static VkImage make_image(struct smoke *s, VkSampleCountFlagBits samples, VkImageUsageFlags usage,
                          VkDeviceMemory *mem)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = samples,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = usage };
   VkImage img;
   CK(vkCreateImage(s->dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s->dev, img, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(s, mr.memoryTypeBits, 0) };
   CK(vkAllocateMemory(s->dev, &ai, NULL, mem));
   CK(vkBindImageMemory(s->dev, img, *mem, 0));
   return img;
}

static VkImageView make_view(struct smoke *s, VkImage img)
{
   VkImageViewCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                .format = VK_FORMAT_R8G8B8A8_UNORM,
                                .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   VkImageView v;
   CK(vkCreateImageView(s->dev, &ci, NULL, &v));
   return v;
}

static VkShaderModule make_shader(struct smoke *s, const uint32_t *code, size_t size)
{
   VkShaderModuleCreateInfo ci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                   .pCode = code };
   VkShaderModule m;
   CK(vkCreateShaderModule(s->dev, &ci, NULL, &m));
   return m;
}

int main(void)
{
   struct smoke s;
   smoke_init(&s);
   VkDevice dev = s.dev;

   VkDeviceMemory msaa_mem, resolve_mem;
   VkImage msaa =
      make_image(&s, VK_SAMPLE_COUNT_4_BIT, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, &msaa_mem);
   VkImage resolve = make_image(
      &s, VK_SAMPLE_COUNT_1_BIT,
      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &resolve_mem);
   VkImageView views[2] = { make_view(&s, msaa), make_view(&s, resolve) };

   VkAttachmentDescription att[2] = {
      { 0, VK_FORMAT_R8G8B8A8_UNORM, VK_SAMPLE_COUNT_4_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
        VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
      { 0, VK_FORMAT_R8G8B8A8_UNORM, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_STORE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
        VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
   };
   VkAttachmentReference color_ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkAttachmentReference resolve_ref = { 1, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkSubpassDescription sub = { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .colorAttachmentCount = 1,
                                .pColorAttachments = &color_ref,
                                .pResolveAttachments = &resolve_ref };
   VkSubpassDependency dep = { 0,
                               VK_SUBPASS_EXTERNAL,
                               VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                               VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                               VK_ACCESS_TRANSFER_READ_BIT,
                               0 };
   VkRenderPassCreateInfo rpci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                   .attachmentCount = 2,
                                   .pAttachments = att,
                                   .subpassCount = 1,
                                   .pSubpasses = &sub,
                                   .dependencyCount = 1,
                                   .pDependencies = &dep };
   VkRenderPass rp;
   CK(vkCreateRenderPass(dev, &rpci, NULL, &rp));
   VkFramebufferCreateInfo fbci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                    .renderPass = rp,
                                    .attachmentCount = 2,
                                    .pAttachments = views,
                                    .width = W,
                                    .height = H,
                                    .layers = 1 };
   VkFramebuffer fb;
   CK(vkCreateFramebuffer(dev, &fbci, NULL, &fb));

   VkShaderModule vs = make_shader(&s, tri_vert_spv, sizeof(tri_vert_spv));
   VkShaderModule fs = make_shader(&s, tri_frag_spv, sizeof(tri_frag_spv));
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
   VkViewport vp = { 0, 0, W, H, 0, 1 };
   VkRect2D sc = { { 0, 0 }, { W, H } };
   VkPipelineViewportStateCreateInfo vps = { VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
                                             .viewportCount = 1, .pViewports = &vp,
                                             .scissorCount = 1, .pScissors = &sc };
   VkPipelineRasterizationStateCreateInfo rs = {
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL, .cullMode = VK_CULL_MODE_NONE, .lineWidth = 1.0f
   };
   VkSampleMask mask = 0xf;
   VkPipelineMultisampleStateCreateInfo ms = {
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_4_BIT, .pSampleMask = &mask
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cb = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
   VkGraphicsPipelineCreateInfo gpci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                         .stageCount = 2,
                                         .pStages = stages,
                                         .pVertexInputState = &vi,
                                         .pInputAssemblyState = &ia,
                                         .pViewportState = &vps,
                                         .pRasterizationState = &rs,
                                         .pMultisampleState = &ms,
                                         .pColorBlendState = &cb,
                                         .layout = pl,
                                         .renderPass = rp };
   VkPipeline pipe;
   CK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &gpci, NULL, &pipe));

   VkDeviceMemory bmem;
   VkBuffer buf = smoke_host_buffer(&s, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &bmem);

   VkCommandPool pool;
   VkCommandBuffer cmd = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cmd, &bi));
   VkClearValue clear = { .color = {
                             .float32 = { 26 / 255.0f, 51 / 255.0f, 76 / 255.0f,
                                          1.0f } /* exact in UNORM8: no rounding ties */ } };
   VkRenderPassBeginInfo rbi = { VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
                                 .renderPass = rp,
                                 .framebuffer = fb,
                                 .renderArea = sc,
                                 .clearValueCount = 1,
                                 .pClearValues = &clear };
   vkCmdBeginRenderPass(cmd, &rbi, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
   vkCmdDraw(cmd, 3, 1, 0, 0);
   vkCmdEndRenderPass(cmd);
   VkBufferImageCopy reg = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                             .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cmd, resolve, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &reg);
   CK(vkEndCommandBuffer(cmd));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cmd };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));

   const uint8_t *px;
   CK(vkMapMemory(dev, bmem, 0, VK_WHOLE_SIZE, 0, (void **)&px));
   uint32_t h = 2166136261u;
   for (uint32_t i = 0; i < W * H * 4; i++)
      h = (h ^ px[i]) * 16777619u;
   /* A corner is the clear color; the centroid of the triangle is a mix of all three. */
   const uint8_t *corner = px, *center = px + ((H / 2) * W + W / 2) * 4;
   if (corner[0] != 26 || corner[1] != 51 || corner[2] != 76 || corner[3] != 255) {
      printf("FAIL triangle: corner %u %u %u %u is not the clear color\n", corner[0], corner[1],
             corner[2], corner[3]);
      return 1;
   }
   if (center[0] < 40 || center[1] < 40 || center[2] < 40) {
      printf("FAIL triangle: center %u %u %u %u is not inside the triangle\n", center[0], center[1],
             center[2], center[3]);
      return 1;
   }
   printf("result: triangle checksum=0x%08x\n", h);
   vkUnmapMemory(dev, bmem);

   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipe, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
   vkDestroyShaderModule(dev, vs, NULL);
   vkDestroyShaderModule(dev, fs, NULL);
   vkDestroyFramebuffer(dev, fb, NULL);
   vkDestroyRenderPass(dev, rp, NULL);
   vkDestroyImageView(dev, views[0], NULL);
   vkDestroyImageView(dev, views[1], NULL);
   vkDestroyImage(dev, msaa, NULL);
   vkDestroyImage(dev, resolve, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, msaa_mem, NULL);
   vkFreeMemory(dev, resolve_mem, NULL);
   vkFreeMemory(dev, bmem, NULL);
   smoke_fini(&s);
   printf("OK triangle\n");
   return 0;
}
