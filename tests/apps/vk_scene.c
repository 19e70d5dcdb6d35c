/* An offscreen graphics scene through a classic VkRenderPass: three overlapping textured
 * quads at different depths (vertex + 16-bit index buffer, vertexOffset per quad) drawn with
 * depth test LESS into a 4x MSAA R8G8B8A8 color target and a 4x D32_SFLOAT depth attachment,
 * resolved to a 1-sample image and read back.  The texture is a 16x16 procedural checkerboard
 * uploaded through a staging buffer (vkCmdCopyBufferToImage + layout transitions) and sampled
 * NEAREST through a combined image sampler; a uniform buffer holds the transform (pixel units
 * -> clip space) and push constants a per-quad tint.  Prints an FNV-1a checksum of all pixels
 * (identical natively and through venusd) and checks pixels whose value is certain: the clear
 * color outside the quads, the texel * tint of each quad where it alone covers a whole pixel,
 * the nearer quad where two overlap (whatever the draw order). */
#include <string.h>

#include "smoke.h"
#include "scene_frag_spv.h"
#include "scene_vert_spv.h"

#define W 128
#define H 128
#define TEX 16
#define COLOR_FMT VK_FORMAT_R8G8B8A8_UNORM
#define DEPTH_FMT VK_FORMAT_D32_SFLOAT

/* In draw order: B (nearest) first, then A (farthest, behind B), then C (between them). */
static const struct quad {
   int x0, y0, x1, y1;
   float z, tint[4];
} quads[3] = {
   { 32, 32, 112, 112, 0.3f, { 0, 1, 1, 1 } }, /* B */
   { 16, 16, 96, 96, 0.6f, { 1, 0, 1, 1 } },   /* A */
   { 72, 8, 120, 56, 0.45f, { 1, 1, 0, 1 } },  /* C */
};

static void texel(int i, int j, uint8_t out[4])
{
   int white = (i ^ j) & 1;
   out[0] = white ? 255 : i * 16 + 8;
   out[1] = white ? 255 : j * 16 + 8;
   out[2] = white ? 255 : 128;
   out[3] = 255;
}

static VkImage make_image(struct smoke *s, VkFormat fmt, uint32_t size,
                          VkSampleCountFlagBits samples, VkImageUsageFlags usage,
                          VkDeviceMemory *mem)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = fmt,
                            .extent = { size, size, 1 },
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
                               .memoryTypeIndex = smoke_memory_type(
                                  s, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) };
   CK(vkAllocateMemory(s->dev, &ai, NULL, mem));
   CK(vkBindImageMemory(s->dev, img, *mem, 0));
   return img;
}

static VkImageView make_view(struct smoke *s, VkImage img, VkFormat fmt, VkImageAspectFlags aspect)
{
   VkImageViewCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = fmt,
                                .subresourceRange = { aspect, 0, 1, 0, 1 } };
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

static void image_barrier(VkCommandBuffer cmd, VkImage img, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags src_access, VkAccessFlags dst_access,
                          VkPipelineStageFlags src, VkPipelineStageFlags dst)
{
   VkImageMemoryBarrier b = { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = src_access,
                              .dstAccessMask = dst_access,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = img,
                              .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   vkCmdPipelineBarrier(cmd, src, dst, 0, 0, NULL, 0, NULL, 1, &b);
}

int main(void)
{
   struct smoke s;
   smoke_init(&s);
   VkDevice dev = s.dev;

   /* Attachments: 4x color, 4x depth, 1x resolve; the texture. */
   VkDeviceMemory msaa_mem, depth_mem, resolve_mem, tex_mem;
   VkImage msaa = make_image(&s, COLOR_FMT, W, VK_SAMPLE_COUNT_4_BIT,
                             VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, &msaa_mem);
   VkImage depth = make_image(&s, DEPTH_FMT, W, VK_SAMPLE_COUNT_4_BIT,
                              VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &depth_mem);
   VkImage resolve = make_image(
      &s, COLOR_FMT, W, VK_SAMPLE_COUNT_1_BIT,
      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &resolve_mem);
   VkImage tex = make_image(&s, COLOR_FMT, TEX, VK_SAMPLE_COUNT_1_BIT,
                            VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT, &tex_mem);
   VkImageView views[3] = { make_view(&s, msaa, COLOR_FMT, VK_IMAGE_ASPECT_COLOR_BIT),
                            make_view(&s, depth, DEPTH_FMT, VK_IMAGE_ASPECT_DEPTH_BIT),
                            make_view(&s, resolve, COLOR_FMT, VK_IMAGE_ASPECT_COLOR_BIT) };
   VkImageView tex_view = make_view(&s, tex, COLOR_FMT, VK_IMAGE_ASPECT_COLOR_BIT);
   VkSamplerCreateInfo sci = { VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
                               .magFilter = VK_FILTER_NEAREST,
                               .minFilter = VK_FILTER_NEAREST,
                               .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
                               .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                               .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                               .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                               .maxLod = 0.25f };
   VkSampler sampler;
   CK(vkCreateSampler(dev, &sci, NULL, &sampler));

   /* Host buffers: staging (texels), vertices, indices, the transform, the readback. */
   VkDeviceMemory stage_mem, vb_mem, ib_mem, ub_mem, rb_mem;
   VkBuffer stage =
      smoke_host_buffer(&s, TEX * TEX * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &stage_mem);
   VkBuffer vb =
      smoke_host_buffer(&s, sizeof(float) * 5 * 4 * 3, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, &vb_mem);
   VkBuffer ib =
      smoke_host_buffer(&s, sizeof(uint16_t) * 6, VK_BUFFER_USAGE_INDEX_BUFFER_BIT, &ib_mem);
   VkBuffer ub =
      smoke_host_buffer(&s, sizeof(float) * 16, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, &ub_mem);
   VkBuffer rb = smoke_host_buffer(&s, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &rb_mem);
   uint8_t *texels;
   CK(vkMapMemory(dev, stage_mem, 0, VK_WHOLE_SIZE, 0, (void **)&texels));
   for (int j = 0; j < TEX; j++)
      for (int i = 0; i < TEX; i++)
         texel(i, j, texels + (j * TEX + i) * 4);
   vkUnmapMemory(dev, stage_mem);
   float *v;
   CK(vkMapMemory(dev, vb_mem, 0, VK_WHOLE_SIZE, 0, (void **)&v));
   for (int q = 0; q < 3; q++) {
      const struct quad *d = &quads[q];
      const float corners[4][4] = { { d->x0, d->y0, 0, 0 },
                                    { d->x1, d->y0, 1, 0 },
                                    { d->x1, d->y1, 1, 1 },
                                    { d->x0, d->y1, 0, 1 } };
      for (int c = 0; c < 4; c++, v += 5) {
         v[0] = corners[c][0], v[1] = corners[c][1], v[2] = d->z;
         v[3] = corners[c][2], v[4] = corners[c][3];
      }
   }
   vkUnmapMemory(dev, vb_mem);
   uint16_t *idx;
   CK(vkMapMemory(dev, ib_mem, 0, VK_WHOLE_SIZE, 0, (void **)&idx));
   memcpy(idx, (const uint16_t[]){ 0, 1, 2, 2, 3, 0 }, 6 * sizeof(uint16_t));
   vkUnmapMemory(dev, ib_mem);
   float *m; /* column-major: x/64 - 1, y/64 - 1, z */
   CK(vkMapMemory(dev, ub_mem, 0, VK_WHOLE_SIZE, 0, (void **)&m));
   memcpy(m, (const float[]){ 1 / 64.0f, 0, 0, 0, 0, 1 / 64.0f, 0, 0, 0, 0, 1, 0, -1, -1, 0, 1 },
          16 * sizeof(float));
   vkUnmapMemory(dev, ub_mem);

   /* Descriptors: binding 0 the transform, binding 1 the texture. */
   VkDescriptorSetLayoutBinding binds[2] = {
      { 0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_VERTEX_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, NULL },
   };
   VkDescriptorSetLayoutCreateInfo dslci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                             .bindingCount = 2, .pBindings = binds };
   VkDescriptorSetLayout dsl;
   CK(vkCreateDescriptorSetLayout(dev, &dslci, NULL, &dsl));
   VkDescriptorPoolSize sizes[2] = { { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
                                     { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1 } };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                       .poolSizeCount = 2, .pPoolSizes = sizes };
   VkDescriptorPool dpool;
   CK(vkCreateDescriptorPool(dev, &dpci, NULL, &dpool));
   VkDescriptorSetAllocateInfo dsai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .descriptorPool = dpool, .descriptorSetCount = 1,
                                        .pSetLayouts = &dsl };
   VkDescriptorSet set;
   CK(vkAllocateDescriptorSets(dev, &dsai, &set));
   VkDescriptorBufferInfo dbi = { ub, 0, VK_WHOLE_SIZE };
   VkDescriptorImageInfo dii = { sampler, tex_view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   VkWriteDescriptorSet writes[2] = {
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 0,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
        .pBufferInfo = &dbi },
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 1,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
        .pImageInfo = &dii },
   };
   vkUpdateDescriptorSets(dev, 2, writes, 0, NULL);

   /* Render pass: clear color + depth (4x), resolve into the 1-sample image for the copy. */
   VkAttachmentDescription att[3] = {
      { 0, COLOR_FMT, VK_SAMPLE_COUNT_4_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
        VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL },
      { 0, DEPTH_FMT, VK_SAMPLE_COUNT_4_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
        VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL },
      { 0, COLOR_FMT, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_STORE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED,
        VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL },
   };
   VkAttachmentReference color_ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkAttachmentReference depth_ref = { 1, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL };
   VkAttachmentReference resolve_ref = { 2, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkSubpassDescription sub = { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .colorAttachmentCount = 1,
                                .pColorAttachments = &color_ref,
                                .pResolveAttachments = &resolve_ref,
                                .pDepthStencilAttachment = &depth_ref };
   const VkPipelineStageFlags att_stages = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT |
                                           VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
                                           VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
   VkSubpassDependency deps[2] = {
      { VK_SUBPASS_EXTERNAL, 0, att_stages, att_stages, 0,
        VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, 0 },
      { 0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
        VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
        VK_ACCESS_TRANSFER_READ_BIT, 0 },
   };
   VkRenderPassCreateInfo rpci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                   .attachmentCount = 3,
                                   .pAttachments = att,
                                   .subpassCount = 1,
                                   .pSubpasses = &sub,
                                   .dependencyCount = 2,
                                   .pDependencies = deps };
   VkRenderPass rp;
   CK(vkCreateRenderPass(dev, &rpci, NULL, &rp));
   VkFramebufferCreateInfo fbci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                    .renderPass = rp,
                                    .attachmentCount = 3,
                                    .pAttachments = views,
                                    .width = W,
                                    .height = H,
                                    .layers = 1 };
   VkFramebuffer fb;
   CK(vkCreateFramebuffer(dev, &fbci, NULL, &fb));

   /* Pipeline: pos (vec3) + uv (vec2) per vertex, depth test LESS with writes, 4x MSAA. */
   VkShaderModule vs = make_shader(&s, scene_vert_spv, sizeof(scene_vert_spv));
   VkShaderModule fs = make_shader(&s, scene_frag_spv, sizeof(scene_frag_spv));
   VkPipelineShaderStageCreateInfo stages[2] = {
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_VERTEX_BIT,
        .module = vs, .pName = "main" },
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
        .module = fs, .pName = "main" },
   };
   VkVertexInputBindingDescription vib = { 0, 5 * sizeof(float), VK_VERTEX_INPUT_RATE_VERTEX };
   VkVertexInputAttributeDescription via[2] = {
      { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0 }, { 1, 0, VK_FORMAT_R32G32_SFLOAT, 3 * sizeof(float) }
   };
   VkPipelineVertexInputStateCreateInfo vi = {
      VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO, .vertexBindingDescriptionCount = 1,
      .pVertexBindingDescriptions = &vib, .vertexAttributeDescriptionCount = 2,
      .pVertexAttributeDescriptions = via
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
   VkPipelineMultisampleStateCreateInfo ms = {
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_4_BIT
   };
   VkPipelineDepthStencilStateCreateInfo ds = {
      VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO, .depthTestEnable = VK_TRUE,
      .depthWriteEnable = VK_TRUE, .depthCompareOp = VK_COMPARE_OP_LESS, .maxDepthBounds = 1.0f
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cb = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkPushConstantRange pcr = { VK_SHADER_STAGE_FRAGMENT_BIT, 0, 4 * sizeof(float) };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &dsl,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
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
                                         .pDepthStencilState = &ds,
                                         .pColorBlendState = &cb,
                                         .layout = pl,
                                         .renderPass = rp };
   VkPipeline pipe;
   CK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &gpci, NULL, &pipe));

   /* One command buffer: texture upload, the scene, the readback. */
   VkCommandPool pool;
   VkCommandBuffer cmd = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(cmd, &bi));
   image_barrier(cmd, tex, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                 VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                 VK_PIPELINE_STAGE_TRANSFER_BIT);
   VkBufferImageCopy up = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                            .imageExtent = { TEX, TEX, 1 } };
   vkCmdCopyBufferToImage(cmd, stage, tex, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &up);
   image_barrier(cmd, tex, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                 VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                 VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                 VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
   VkClearValue clears[2] = {
      { .color = { .float32 = { 26 / 255.0f, 51 / 255.0f, 76 / 255.0f,
                                1.0f } /* exact in UNORM8: no rounding ties */ } },
      { .depthStencil = { 1.0f, 0 } }
   };
   VkRenderPassBeginInfo rbi = { VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
                                 .renderPass = rp,
                                 .framebuffer = fb,
                                 .renderArea = sc,
                                 .clearValueCount = 2,
                                 .pClearValues = clears };
   vkCmdBeginRenderPass(cmd, &rbi, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pl, 0, 1, &set, 0, NULL);
   VkDeviceSize zero = 0;
   vkCmdBindVertexBuffers(cmd, 0, 1, &vb, &zero);
   vkCmdBindIndexBuffer(cmd, ib, 0, VK_INDEX_TYPE_UINT16);
   for (int q = 0; q < 3; q++) {
      vkCmdPushConstants(cmd, pl, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(quads[q].tint),
                         quads[q].tint);
      vkCmdDrawIndexed(cmd, 6, 1, 0, 4 * q, 0);
   }
   vkCmdEndRenderPass(cmd);
   VkBufferImageCopy down = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                              .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cmd, resolve, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb, 1, &down);
   VkMemoryBarrier hb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &hb,
                        0, NULL, 0, NULL);
   CK(vkEndCommandBuffer(cmd));
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(dev, &fci, NULL, &fence));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cmd };
   CK(vkQueueSubmit(s.q, 1, &si, fence));
   CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));

   const uint8_t *px;
   CK(vkMapMemory(dev, rb_mem, 0, VK_WHOLE_SIZE, 0, (void **)&px));
   uint32_t h = 2166136261u;
   for (uint32_t i = 0; i < W * H * 4; i++)
      h = (h ^ px[i]) * 16777619u;
   printf("scene checksum=0x%08x\n", h);

   /* Pixels whose whole area lies in one texel of the quad that must win (-1: the clear color). */
   static const struct {
      int x, y, quad;
      const char *what;
   } checks[] = {
      { 0, 0, -1, "corner is the clear color" },
      { 126, 126, -1, "bottom-right corner is the clear color" },
      { 4, 120, -1, "bottom-left is the clear color" },
      { 33, 23, 1, "far quad A alone" },
      { 54, 64, 0, "near quad B over far quad A (B drawn first)" },
      { 59, 64, 0, "near quad B over far quad A, white texel" },
      { 88, 21, 2, "middle quad C over far quad A" },
      { 100, 40, 0, "near quad B over middle quad C (C drawn last)" },
      { 115, 50, 2, "middle quad C alone" },
   };
   for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
      uint8_t want[4] = { 26, 51, 76, 255 };
      if (checks[k].quad >= 0) {
         const struct quad *d = &quads[checks[k].quad];
         int dx = (checks[k].x - d->x0) * TEX, dy = (checks[k].y - d->y0) * TEX, w = d->x1 - d->x0,
             hh = d->y1 - d->y0;
         if (dx / w != (dx + TEX - 1) / w || dy / hh != (dy + TEX - 1) / hh) {
            printf("FAIL %s: pixel %d,%d straddles texels\n", checks[k].what, checks[k].x,
                   checks[k].y);
            return 1;
         }
         texel(dx / w, dy / hh, want);
         for (int c = 0; c < 4; c++)
            want[c] = d->tint[c] ? want[c] : 0;
      }
      const uint8_t *p = px + (checks[k].y * W + checks[k].x) * 4;
      if (memcmp(p, want, 4)) {
         printf("FAIL %s: pixel %d,%d is %u %u %u %u, want %u %u %u %u\n", checks[k].what,
                checks[k].x, checks[k].y, p[0], p[1], p[2], p[3], want[0], want[1], want[2],
                want[3]);
         return 1;
      }
      printf("OK %s (%d,%d = %u %u %u %u)\n", checks[k].what, checks[k].x, checks[k].y, p[0], p[1],
             p[2], p[3]);
   }
   vkUnmapMemory(dev, rb_mem);

   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipe, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
   vkDestroyShaderModule(dev, vs, NULL);
   vkDestroyShaderModule(dev, fs, NULL);
   vkDestroyFramebuffer(dev, fb, NULL);
   vkDestroyRenderPass(dev, rp, NULL);
   vkDestroyDescriptorPool(dev, dpool, NULL);
   vkDestroyDescriptorSetLayout(dev, dsl, NULL);
   vkDestroySampler(dev, sampler, NULL);
   for (int i = 0; i < 3; i++)
      vkDestroyImageView(dev, views[i], NULL);
   vkDestroyImageView(dev, tex_view, NULL);
   VkImage imgs[4] = { msaa, depth, resolve, tex };
   VkDeviceMemory img_mems[4] = { msaa_mem, depth_mem, resolve_mem, tex_mem };
   VkBuffer bufs[5] = { stage, vb, ib, ub, rb };
   VkDeviceMemory buf_mems[5] = { stage_mem, vb_mem, ib_mem, ub_mem, rb_mem };
   for (int i = 0; i < 4; i++) {
      vkDestroyImage(dev, imgs[i], NULL);
      vkFreeMemory(dev, img_mems[i], NULL);
   }
   for (int i = 0; i < 5; i++) {
      vkDestroyBuffer(dev, bufs[i], NULL);
      vkFreeMemory(dev, buf_mems[i], NULL);
   }
   smoke_fini(&s);
   printf("OK scene\n");
   return 0;
}
