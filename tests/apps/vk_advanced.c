/* Less common device features, each checked exactly where the result is certain:
 * 1. Sparse binding: vkQueueBindSparse signals a fence and a semaphore that a submission waits
 *    on.  Where sparseBinding is exposed (natively; Mesa 25.0.7's Venus hides it whenever the
 *    host driver is lavapipe), it also binds a SPARSE_BINDING buffer to two allocations, fills
 *    and copies across them, checks the readback and the mapped allocations, then rebinds a
 *    block to a third allocation and checks again.  Those lines are not printed, so that the
 *    output stays identical through Venus; a wrong value still prints FAIL.
 * 2. Sampler YCbCr conversion: G8_B8R8_2PLANE_420_UNORM (format features printed), planes
 *    uploaded per aspect, an immutable converting sampler sampled by scene.frag into RGBA:
 *    checksum, and grey where the chroma is neutral, red where Cr is high.
 * 3. Graphics pipeline libraries: the four parts of tri.vert/tri.frag, linked with and without
 *    link-time optimization, draw with dynamic rendering exactly the pixels of a monolithic
 *    pipeline.
 * 4. Pipeline cache: the data of one cache (two-call size query, header checked, VK_INCOMPLETE)
 *    seeds another, which makes a pipeline drawing the same pixels; vkMergePipelineCaches. */
#include <stdbool.h>
#include <string.h>

#include "smoke.h"
#include "scene_frag_spv.h"
#include "scene_vert_spv.h"
#include "tri_frag_spv.h"
#include "tri_vert_spv.h"

#define W 64
#define H 64
#define IMG (W * H * 4)
#define NDRAW 5 /* monolithic, linked, linked with LTO, from the seeded cache, YCbCr */
#define SPARSE 262144
#define YUV VK_FORMAT_G8_B8R8_2PLANE_420_UNORM
#define FAIL(...) (printf("FAIL " __VA_ARGS__), printf("\n"), exit(1))

static PFN_vkCmdBeginRenderingKHR begin_rendering;
static bool sparse_queue; /* queue family 0 has SPARSE_BINDING (MoltenVK: none) */
static PFN_vkCmdEndRenderingKHR end_rendering;

static uint32_t fnv(const uint8_t *p, size_t n)
{
   uint32_t h = 2166136261u;
   while (n--)
      h = (h ^ *p++) * 16777619u;
   return h;
}

#define XFER VK_PIPELINE_STAGE_TRANSFER_BIT
#define TW VK_ACCESS_TRANSFER_WRITE_BIT
#define TR VK_ACCESS_TRANSFER_READ_BIT

static void barrier(VkCommandBuffer c, VkPipelineStageFlags src, VkPipelineStageFlags dst,
                    VkAccessFlags sa, VkAccessFlags da)
{
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = sa,
                          .dstAccessMask = da };
   vkCmdPipelineBarrier(c, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static void image_barrier(VkCommandBuffer c, VkImage img, VkImageLayout from, VkImageLayout to,
                          VkPipelineStageFlags src, VkPipelineStageFlags dst, VkAccessFlags sa,
                          VkAccessFlags da)
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
   vkCmdPipelineBarrier(c, src, dst, 0, 0, NULL, 0, NULL, 1, &b);
}

static void begin(VkCommandBuffer c)
{
   CK(vkBeginCommandBuffer(
      c, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
}

/* Ends cmd (if any), submits it after waiting on sem (if any) and waits for the fence. */
static void submit(struct smoke *s, VkCommandBuffer cmd, VkSemaphore sem, VkFence fence)
{
   VkPipelineStageFlags stage = XFER;
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .waitSemaphoreCount = sem != VK_NULL_HANDLE,
                       .pWaitSemaphores = &sem,
                       .pWaitDstStageMask = &stage,
                       .commandBufferCount = cmd != VK_NULL_HANDLE,
                       .pCommandBuffers = &cmd };
   if (cmd)
      CK(vkEndCommandBuffer(cmd));
   CK(vkResetFences(s->dev, 1, &fence));
   CK(vkQueueSubmit(s->q, 1, &si, fence));
   CK(vkWaitForFences(s->dev, 1, &fence, VK_TRUE, 10000000000ull));
}

/* Instance and a device with YCbCr conversion, dynamic rendering, graphics pipeline libraries,
 * timeline semaphores (as smoke_init) and, where exposed, sparse binding (the return value). */
static bool init(struct smoke *s)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s->inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s->inst, &n, &s->pd);
   if (r < 0 || !n)
      FAIL("no physical device (%d)", r);
   const char *exts[3] = { "VK_KHR_dynamic_rendering", "VK_KHR_pipeline_library",
                           "VK_EXT_graphics_pipeline_library" };
   CK(vkEnumerateDeviceExtensionProperties(s->pd, NULL, &n, NULL));
   VkExtensionProperties *props = calloc(n, sizeof(*props));
   CK(vkEnumerateDeviceExtensionProperties(s->pd, NULL, &n, props));
   for (int e = 0; e < 3; e++) {
      bool found = false;
      for (uint32_t i = 0; i < n; i++)
         found |= !strcmp(props[i].extensionName, exts[e]);
      if (!found)
         FAIL("device extension %s is not exposed", exts[e]);
   }
   free(props);
   VkPhysicalDeviceTimelineSemaphoreFeatures tl = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES
   };
   VkPhysicalDeviceGraphicsPipelineLibraryFeaturesEXT gpl = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_GRAPHICS_PIPELINE_LIBRARY_FEATURES_EXT, &tl
   };
   VkPhysicalDeviceDynamicRenderingFeaturesKHR dr = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DYNAMIC_RENDERING_FEATURES_KHR, &gpl
   };
   VkPhysicalDeviceSamplerYcbcrConversionFeatures yc = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SAMPLER_YCBCR_CONVERSION_FEATURES, &dr
   };
   VkPhysicalDeviceFeatures2 f2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &yc };
   vkGetPhysicalDeviceFeatures2(s->pd, &f2);
   if (!yc.samplerYcbcrConversion || !dr.dynamicRendering || !gpl.graphicsPipelineLibrary ||
       !tl.timelineSemaphore)
      FAIL("features: samplerYcbcrConversion %u dynamicRendering %u graphicsPipelineLibrary %u "
           "timelineSemaphore %u",
           yc.samplerYcbcrConversion, dr.dynamicRendering, gpl.graphicsPipelineLibrary,
           tl.timelineSemaphore);
   VkQueueFamilyProperties qf;
   n = 1;
   vkGetPhysicalDeviceQueueFamilyProperties(s->pd, &n, &qf);
   sparse_queue = qf.queueFlags & VK_QUEUE_SPARSE_BINDING_BIT;
   if (!sparse_queue && f2.features.sparseBinding)
      FAIL("sparseBinding without a SPARSE_BINDING queue family 0");
   printf("OK features: samplerYcbcrConversion dynamicRendering graphicsPipelineLibrary\n");
   bool sparse = f2.features.sparseBinding;
   f2.features = (VkPhysicalDeviceFeatures){ .sparseBinding = sparse };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f2,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 3,
                              .ppEnabledExtensionNames = exts };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
   begin_rendering =
      (PFN_vkCmdBeginRenderingKHR)vkGetDeviceProcAddr(s->dev, "vkCmdBeginRenderingKHR");
   end_rendering = (PFN_vkCmdEndRenderingKHR)vkGetDeviceProcAddr(s->dev, "vkCmdEndRenderingKHR");
   if (!begin_rendering || !end_rendering)
      FAIL("no vkCmdBeginRenderingKHR/vkCmdEndRenderingKHR");
   return sparse;
}

static void check_words(const char *what, const uint32_t *got, const uint32_t *want, size_t words)
{
   for (size_t i = 0; i < words; i++)
      if (got[i] != want[i])
         FAIL("sparse %s: word %zu is 0x%08x, expected 0x%08x", what, i, got[i], want[i]);
}

/* The sparse buffer (S bytes, blocks of A) is bound to mem[0] (first half) and mem[1] (second
 * half); later its block at S/2 to mem[2].  host holds a source pattern, then the readback. */
static void test_sparse(struct smoke *s, bool sparse, VkCommandBuffer cmd)
{
   VkDevice dev = s->dev;
   VkSemaphore sem;
   VkFence fence;
   CK(vkCreateSemaphore(dev, &(VkSemaphoreCreateInfo){ VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO },
                        NULL, &sem));
   CK(vkCreateFence(dev, &(VkFenceCreateInfo){ VK_STRUCTURE_TYPE_FENCE_CREATE_INFO }, NULL,
                    &fence));
   VkBuffer buf = VK_NULL_HANDLE, host = VK_NULL_HANDLE;
   VkDeviceMemory mem[3] = { 0 }, hmem = VK_NULL_HANDLE;
   uint32_t *map[3] = { 0 }, *hp = NULL, *want = NULL;
   VkDeviceSize S = 0, A = 0;
   VkSparseMemoryBind binds[2] = { 0 };
   VkSparseBufferMemoryBindInfo bbi = { .bindCount = 2, .pBinds = binds };
   VkBindSparseInfo bsi = { VK_STRUCTURE_TYPE_BIND_SPARSE_INFO, .bufferBindCount = sparse,
                            .pBufferBinds = sparse ? &bbi : NULL, .signalSemaphoreCount = 1,
                            .pSignalSemaphores = &sem };
   VkMemoryRequirements mr = { 0 };
   if (sparse) {
      VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                                 .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT, .size = SPARSE,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                          VK_BUFFER_USAGE_TRANSFER_DST_BIT };
      CK(vkCreateBuffer(dev, &bci, NULL, &buf));
      vkGetBufferMemoryRequirements(dev, buf, &mr);
      S = mr.size, A = mr.alignment;
      bool mappable = false;
      for (uint32_t i = 0; i < s->mp.memoryTypeCount; i++)
         mappable |=
            (mr.memoryTypeBits & (1u << i)) &&
            (s->mp.memoryTypes[i].propertyFlags &
             (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) ==
               (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
      if (!mappable) {
         /* Some drivers (NVIDIA) back sparse resources with device-local memory only: the
          * checks below read the bound memory through mappings, so only the
          * fence/semaphore path is checked there. */
         printf("OK sparse: sparse buffers cannot use mappable memory on this driver; contents not "
                "checked\n");
         vkDestroyBuffer(dev, buf, NULL);
         buf = VK_NULL_HANDLE;
         sparse = false;
         bsi.bufferBindCount = 0;
         bsi.pBufferBinds = NULL;
      }
   }
   if (sparse) {
      if (S < SPARSE || !A || S % (2 * A))
         FAIL("sparse buffer requirements: size %llu alignment %llu", (unsigned long long)S,
              (unsigned long long)A);
      for (int i = 0; i < 3; i++) {
         VkMemoryAllocateInfo ai = {
            VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = i < 2 ? S / 2 : A,
            .memoryTypeIndex = smoke_memory_type(s, mr.memoryTypeBits,
                                                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
         };
         CK(vkAllocateMemory(dev, &ai, NULL, &mem[i]));
         CK(vkMapMemory(dev, mem[i], 0, VK_WHOLE_SIZE, 0, (void **)&map[i]));
      }
      binds[0] = (VkSparseMemoryBind){ 0, S / 2, mem[0], 0, 0 };
      binds[1] = (VkSparseMemoryBind){ S / 2, S / 2, mem[1], 0, 0 };
      bbi.buffer = buf;
      host = smoke_host_buffer(
         s, 2 * S, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, &hmem);
      CK(vkMapMemory(dev, hmem, 0, VK_WHOLE_SIZE, 0, (void **)&hp));
      want = malloc(S);
      for (size_t i = 0; i < S / 4; i++)
         hp[i] = (uint32_t)i * 2654435761u, want[i] = 0xa5a5a5a5;
      /* Fill all, copy half of the pattern over the middle, fill across the boundary between the
       * allocations, copy the first 4 KiB (in mem[0]) to the end (in mem[1]), read back. */
      memcpy(want + S / 16, hp, S / 2);
      for (size_t i = S / 8 - 64; i < S / 8 + 64; i++)
         want[i] = 0x5a5a5a5a;
      memcpy(want + (S - 4096) / 4, want, 4096);
      begin(cmd);
      vkCmdFillBuffer(cmd, buf, 0, VK_WHOLE_SIZE, 0xa5a5a5a5);
      barrier(cmd, XFER, XFER, TW, TW);
      vkCmdCopyBuffer(cmd, host, buf, 1, &(VkBufferCopy){ 0, S / 4, S / 2 });
      barrier(cmd, XFER, XFER, TW, TR | TW);
      vkCmdFillBuffer(cmd, buf, S / 2 - 256, 512, 0x5a5a5a5a);
      vkCmdCopyBuffer(cmd, buf, buf, 1, &(VkBufferCopy){ 0, S - 4096, 4096 });
      barrier(cmd, XFER, XFER, TW, TR);
      vkCmdCopyBuffer(cmd, buf, host, 1, &(VkBufferCopy){ 0, S, S });
      barrier(cmd, XFER, VK_PIPELINE_STAGE_HOST_BIT, TW, VK_ACCESS_HOST_READ_BIT);
   }
   CK(vkQueueBindSparse(s->q, 1, &bsi, fence));
   CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10000000000ull));
   CK(vkGetFenceStatus(dev, fence));
   submit(s, sparse ? cmd : VK_NULL_HANDLE, sem,
          fence); /* only completes if the semaphore was signaled */
   printf(
      "OK sparse: vkQueueBindSparse signaled its fence and the semaphore a submission waited on\n");
   if (sparse) {
      check_words("readback", hp + S / 4, want, S / 4);
      check_words("first allocation", map[0], want, S / 8);
      check_words("second allocation", map[1], want + S / 8, S / 8);

      /* Rebind the first block of the second half to mem[2] and fill it. */
      binds[0] = (VkSparseMemoryBind){ S / 2, A, mem[2], 0, 0 };
      bbi.bindCount = 1, bsi.signalSemaphoreCount = 0;
      CK(vkResetFences(dev, 1, &fence));
      CK(vkQueueBindSparse(s->q, 1, &bsi, fence));
      CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10000000000ull));
      uint32_t *old = malloc(A);
      memcpy(old, want + S / 8, A);
      for (size_t i = S / 8; i < (S / 2 + A) / 4; i++)
         want[i] = 0xc3c3c3c3;
      begin(cmd);
      vkCmdFillBuffer(cmd, buf, S / 2, A, 0xc3c3c3c3);
      barrier(cmd, XFER, XFER, TW, TR);
      vkCmdCopyBuffer(cmd, buf, host, 1, &(VkBufferCopy){ 0, S, S });
      barrier(cmd, XFER, VK_PIPELINE_STAGE_HOST_BIT, TW, VK_ACCESS_HOST_READ_BIT);
      submit(s, cmd, VK_NULL_HANDLE, fence);
      check_words("readback after rebind", hp + S / 4, want, S / 4);
      check_words("third allocation", map[2], want + S / 8, A / 4);
      check_words("second allocation after rebind", map[1], old, A / 4); /* no longer bound there */
      check_words("second allocation tail", map[1] + A / 4, want + (S / 2 + A) / 4,
                  (S / 2 - A) / 4);
      free(old);
      free(want);
      vkDestroyBuffer(dev, buf, NULL);
      vkDestroyBuffer(dev, host, NULL);
      for (int i = 0; i < 3; i++)
         vkFreeMemory(dev, mem[i], NULL);
      vkFreeMemory(dev, hmem, NULL);
   }
   vkDestroySemaphore(dev, sem, NULL);
   vkDestroyFence(dev, fence, NULL);
}

/* Fixed-function state shared by every graphics pipeline here (holds pointers into itself). */
struct gfx {
   VkPipelineShaderStageCreateInfo st[2];
   VkVertexInputBindingDescription vb;
   VkVertexInputAttributeDescription va[2];
   VkPipelineVertexInputStateCreateInfo vi;
   VkPipelineInputAssemblyStateCreateInfo ia;
   VkViewport vp;
   VkRect2D sc;
   VkPipelineViewportStateCreateInfo vps;
   VkPipelineRasterizationStateCreateInfo rs;
   VkPipelineMultisampleStateCreateInfo ms;
   VkPipelineDepthStencilStateCreateInfo ds;
   VkPipelineColorBlendAttachmentState cba;
   VkPipelineColorBlendStateCreateInfo cb;
   VkFormat fmt;
   VkPipelineRenderingCreateInfoKHR ri;
   VkGraphicsPipelineCreateInfo ci;
};

static void gfx_init(struct gfx *g, VkShaderModule vs, VkShaderModule fs, VkPipelineLayout pl)
{
   memset(g, 0, sizeof(*g));
   for (int i = 0; i < 2; i++)
      g->st[i] =
         (VkPipelineShaderStageCreateInfo){ VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                            .stage = i ? VK_SHADER_STAGE_FRAGMENT_BIT
                                                       : VK_SHADER_STAGE_VERTEX_BIT,
                                            .module = i ? fs : vs, .pName = "main" };
   g->vi.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO;
   g->ia = (VkPipelineInputAssemblyStateCreateInfo){
      VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST
   };
   g->vp = (VkViewport){ 0, 0, W, H, 0, 1 };
   g->sc = (VkRect2D){ { 0, 0 }, { W, H } };
   g->vps =
      (VkPipelineViewportStateCreateInfo){ VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
                                           .viewportCount = 1, .pViewports = &g->vp,
                                           .scissorCount = 1, .pScissors = &g->sc };
   g->rs = (VkPipelineRasterizationStateCreateInfo){
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL, .lineWidth = 1.0f
   };
   g->ms = (VkPipelineMultisampleStateCreateInfo){
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   g->ds.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO;
   g->cba.colorWriteMask = 0xf;
   g->cb = (VkPipelineColorBlendStateCreateInfo){
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &g->cba
   };
   g->fmt = VK_FORMAT_R8G8B8A8_UNORM;
   g->ri = (VkPipelineRenderingCreateInfoKHR){ VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO_KHR,
                                               .colorAttachmentCount = 1,
                                               .pColorAttachmentFormats = &g->fmt };
   g->ci = (VkGraphicsPipelineCreateInfo){ VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                           .pNext = &g->ri,
                                           .stageCount = 2,
                                           .pStages = g->st,
                                           .pVertexInputState = &g->vi,
                                           .pInputAssemblyState = &g->ia,
                                           .pViewportState = &g->vps,
                                           .pRasterizationState = &g->rs,
                                           .pMultisampleState = &g->ms,
                                           .pColorBlendState = &g->cb,
                                           .layout = pl };
}

static VkPipeline pipeline(VkDevice dev, const VkGraphicsPipelineCreateInfo *ci,
                           VkPipelineCache cache)
{
   VkPipeline p;
   CK(vkCreateGraphicsPipelines(dev, cache, 1, ci, NULL, &p));
   return p;
}

/* One graphics pipeline library part: only the state that belongs to it. */
static VkPipeline gpl_part(VkDevice dev, struct gfx *g, VkGraphicsPipelineLibraryFlagsEXT part)
{
   /* The attachment formats only where they matter (the 1.3.239 layer wrongly wants blend state
    * in a pre-rasterization part that has them). */
   VkGraphicsPipelineLibraryCreateInfoEXT li = {
      VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_LIBRARY_CREATE_INFO_EXT,
      part >= VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT ? &g->ri : NULL, part
   };
   VkGraphicsPipelineCreateInfo ci = {
      VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO, .pNext = &li,
      .flags = VK_PIPELINE_CREATE_LIBRARY_BIT_KHR |
               VK_PIPELINE_CREATE_RETAIN_LINK_TIME_OPTIMIZATION_INFO_BIT_EXT
   };
   if (part == VK_GRAPHICS_PIPELINE_LIBRARY_VERTEX_INPUT_INTERFACE_BIT_EXT) {
      ci.pVertexInputState = &g->vi, ci.pInputAssemblyState = &g->ia;
   } else if (part == VK_GRAPHICS_PIPELINE_LIBRARY_PRE_RASTERIZATION_SHADERS_BIT_EXT) {
      ci.stageCount = 1, ci.pStages = &g->st[0], ci.pViewportState = &g->vps,
      ci.pRasterizationState = &g->rs;
      ci.layout = g->ci.layout;
   } else if (part == VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT) {
      ci.stageCount = 1, ci.pStages = &g->st[1], ci.pMultisampleState = &g->ms,
      ci.pDepthStencilState = &g->ds;
      ci.layout = g->ci.layout;
   } else {
      ci.pMultisampleState = &g->ms, ci.pColorBlendState = &g->cb;
   }
   return pipeline(dev, &ci, VK_NULL_HANDLE);
}

int main(void)
{
   struct smoke s;
   bool sparse = init(&s);
   VkDevice dev = s.dev;
   VkCommandPool pool;
   VkCommandBuffer cmd =
      smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkFence fence;
   CK(vkCreateFence(dev, &(VkFenceCreateInfo){ VK_STRUCTURE_TYPE_FENCE_CREATE_INFO }, NULL,
                    &fence));

   if (sparse_queue)
      test_sparse(&s, sparse, cmd);
   else
      printf("SKIP sparse: queue family 0 has no SPARSE_BINDING (no vkQueueBindSparse)\n");

   /* --- YCbCr: format support, conversion, immutable sampler, view --- */
   VkFormatProperties fp;
   vkGetPhysicalDeviceFormatProperties(s.pd, YUV, &fp);
   const VkFormatFeatureFlags need =
      VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
   VkFormatFeatureFlags f = fp.optimalTilingFeatures;
   bool midpoint = f & VK_FORMAT_FEATURE_MIDPOINT_CHROMA_SAMPLES_BIT;
   printf("ycbcr: G8_B8R8_2PLANE_420_UNORM optimal features sampled=%d transfer_dst=%d midpoint=%d "
          "cosited=%d "
          "linear_filter=%d disjoint=%d\n",
          !!(f & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT), !!(f & VK_FORMAT_FEATURE_TRANSFER_DST_BIT),
          midpoint, !!(f & VK_FORMAT_FEATURE_COSITED_CHROMA_SAMPLES_BIT),
          !!(f & VK_FORMAT_FEATURE_SAMPLED_IMAGE_YCBCR_CONVERSION_LINEAR_FILTER_BIT),
          !!(f & VK_FORMAT_FEATURE_DISJOINT_BIT));
   if ((f & need) != need || !(f & (VK_FORMAT_FEATURE_MIDPOINT_CHROMA_SAMPLES_BIT |
                                    VK_FORMAT_FEATURE_COSITED_CHROMA_SAMPLES_BIT)))
      FAIL("ycbcr: G8_B8R8_2PLANE_420_UNORM cannot be sampled with a conversion");
   VkSamplerYcbcrConversionImageFormatProperties yfp = {
      VK_STRUCTURE_TYPE_SAMPLER_YCBCR_CONVERSION_IMAGE_FORMAT_PROPERTIES
   };
   VkImageFormatProperties2 ifp = { VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2, &yfp };
   VkPhysicalDeviceImageFormatInfo2 ifi = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
                                            .format = YUV, .type = VK_IMAGE_TYPE_2D,
                                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                                            .usage = VK_IMAGE_USAGE_SAMPLED_BIT |
                                                     VK_IMAGE_USAGE_TRANSFER_DST_BIT };
   CK(vkGetPhysicalDeviceImageFormatProperties2(s.pd, &ifi, &ifp));
   printf("ycbcr: combinedImageSamplerDescriptorCount=%u\n",
          yfp.combinedImageSamplerDescriptorCount);
   VkSamplerYcbcrConversionCreateInfo yci = {
      VK_STRUCTURE_TYPE_SAMPLER_YCBCR_CONVERSION_CREATE_INFO,
      .format = YUV,
      .ycbcrModel = VK_SAMPLER_YCBCR_MODEL_CONVERSION_YCBCR_601,
      .ycbcrRange = VK_SAMPLER_YCBCR_RANGE_ITU_FULL,
      .xChromaOffset = midpoint ? VK_CHROMA_LOCATION_MIDPOINT : VK_CHROMA_LOCATION_COSITED_EVEN,
      .yChromaOffset = midpoint ? VK_CHROMA_LOCATION_MIDPOINT : VK_CHROMA_LOCATION_COSITED_EVEN,
      .chromaFilter = VK_FILTER_NEAREST
   };
   VkSamplerYcbcrConversion conv;
   CK(vkCreateSamplerYcbcrConversion(dev, &yci, NULL, &conv));
   VkSamplerYcbcrConversionInfo cinfo = { VK_STRUCTURE_TYPE_SAMPLER_YCBCR_CONVERSION_INFO,
                                          .conversion = conv };
   VkSamplerCreateInfo smci = { VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
                                &cinfo,
                                .magFilter = VK_FILTER_NEAREST,
                                .minFilter = VK_FILTER_NEAREST,
                                .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                                .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
                                .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE };
   VkSampler sampler;
   CK(vkCreateSampler(dev, &smci, NULL, &sampler));
   VkImageCreateInfo ici = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                             .imageType = VK_IMAGE_TYPE_2D,
                             .format = YUV,
                             .extent = { W, H, 1 },
                             .mipLevels = 1,
                             .arrayLayers = 1,
                             .samples = VK_SAMPLE_COUNT_1_BIT,
                             .tiling = VK_IMAGE_TILING_OPTIMAL,
                             .usage = ifi.usage };
   VkImage img[2];
   VkDeviceMemory img_mem[2];
   CK(vkCreateImage(dev, &ici, NULL, &img[0]));
   ici.format = VK_FORMAT_R8G8B8A8_UNORM,
   ici.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
   CK(vkCreateImage(dev, &ici, NULL, &img[1]));
   for (int i = 0; i < 2; i++) {
      VkMemoryRequirements mr;
      vkGetImageMemoryRequirements(dev, img[i], &mr);
      VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                  .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
      CK(vkAllocateMemory(dev, &ai, NULL, &img_mem[i]));
      CK(vkBindImageMemory(dev, img[i], img_mem[i], 0));
   }
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
                                 &cinfo,
                                 .image = img[0],
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                 .format = YUV,
                                 .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   VkImageView views[2];
   CK(vkCreateImageView(dev, &vci, NULL, &views[0]));
   vci.pNext = NULL, vci.image = img[1], vci.format = VK_FORMAT_R8G8B8A8_UNORM;
   CK(vkCreateImageView(dev, &vci, NULL, &views[1]));

   /* Descriptors for scene.vert/scene.frag: the transform (identity: positions are in NDC) and
    * the texture through the immutable converting sampler. */
   VkDescriptorSetLayoutBinding dslb[2] = {
      { 0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_VERTEX_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, &sampler },
   };
   VkDescriptorSetLayoutCreateInfo dslci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                             .bindingCount = 2, .pBindings = dslb };
   VkDescriptorSetLayout dsl;
   CK(vkCreateDescriptorSetLayout(dev, &dslci, NULL, &dsl));
   VkDescriptorPoolSize ps[2] = { { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
                                  { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                                    yfp.combinedImageSamplerDescriptorCount } };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                       .poolSizeCount = 2, .pPoolSizes = ps };
   VkDescriptorPool dpool;
   CK(vkCreateDescriptorPool(dev, &dpci, NULL, &dpool));
   VkDescriptorSet set;
   CK(vkAllocateDescriptorSets(
      dev,
      &(VkDescriptorSetAllocateInfo){ VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = dpool, .descriptorSetCount = 1,
                                      .pSetLayouts = &dsl },
      &set));
   /* One host buffer: transform, quad, Y plane, CbCr plane, then the readback of every draw. */
   enum {
      XF = 0,
      VTX = 64,
      YPL = 256,
      CPL = YPL + W * H,
      RB = CPL + W * H / 2
   };
   VkDeviceMemory hmem;
   VkBuffer hbuf =
      smoke_host_buffer(&s, RB + NDRAW * IMG,
                        VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT |
                           VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        &hmem);
   uint8_t *hp;
   CK(vkMapMemory(dev, hmem, 0, VK_WHOLE_SIZE, 0, (void **)&hp));
   const float xf[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
   const float quad[6][5] = {
      { -1, -1, 0.5f, 0, 0 }, { 1, -1, 0.5f, 1, 0 }, { -1, 1, 0.5f, 0, 1 },
      { 1, -1, 0.5f, 1, 0 },  { 1, 1, 0.5f, 1, 1 },  { -1, 1, 0.5f, 0, 1 }
   };
   memcpy(hp + XF, xf, sizeof(xf));
   memcpy(hp + VTX, quad, sizeof(quad));
   for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
         hp[YPL + y * W + x] = 16 + ((x * 7 + y * 13) & 127);
   for (int y = 0; y < H / 2; y++) /* chroma: neutral on the left, high Cr on the right */
      for (int x = 0; x < W / 2; x++)
         hp[CPL + (y * W / 2 + x) * 2] = 128,
                                    hp[CPL + (y * W / 2 + x) * 2 + 1] = x < W / 4 ? 128 : 240;
   VkDescriptorBufferInfo dbi = { hbuf, XF, 64 };
   VkDescriptorImageInfo dii = { VK_NULL_HANDLE, views[0],
                                 VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   VkWriteDescriptorSet wds[2] = {
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 0,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
        .pBufferInfo = &dbi },
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 1,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
        .pImageInfo = &dii },
   };
   vkUpdateDescriptorSets(dev, 2, wds, 0, NULL);

   /* --- Pipelines: monolithic (through cache A), four library parts, two links, one from the
    * cache seeded with A's data, and the YCbCr scene pipeline (through cache C). --- */
   VkShaderModule mods[4];
   const uint32_t *code[4] = { tri_vert_spv, tri_frag_spv, scene_vert_spv, scene_frag_spv };
   const size_t code_size[4] = { sizeof(tri_vert_spv), sizeof(tri_frag_spv), sizeof(scene_vert_spv),
                                 sizeof(scene_frag_spv) };
   for (int i = 0; i < 4; i++)
      CK(vkCreateShaderModule(
         dev,
         &(VkShaderModuleCreateInfo){ VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                      .codeSize = code_size[i], .pCode = code[i] },
         NULL, &mods[i]));
   VkPushConstantRange pcr = { VK_SHADER_STAGE_FRAGMENT_BIT, 0, 16 };
   VkPipelineLayout pl[2];
   CK(vkCreatePipelineLayout(
      dev, &(VkPipelineLayoutCreateInfo){ VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO }, NULL,
      &pl[0]));
   CK(vkCreatePipelineLayout(
      dev,
      &(VkPipelineLayoutCreateInfo){ VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1, .pSetLayouts = &dsl,
                                     .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr },
      NULL, &pl[1]));
   struct gfx tri, scene;
   gfx_init(&tri, mods[0], mods[1], pl[0]);
   gfx_init(&scene, mods[2], mods[3], pl[1]);
   scene.vb = (VkVertexInputBindingDescription){ 0, 20, VK_VERTEX_INPUT_RATE_VERTEX };
   scene.va[0] = (VkVertexInputAttributeDescription){ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0 };
   scene.va[1] = (VkVertexInputAttributeDescription){ 1, 0, VK_FORMAT_R32G32_SFLOAT, 12 };
   scene.vi.vertexBindingDescriptionCount = 1, scene.vi.pVertexBindingDescriptions = &scene.vb;
   scene.vi.vertexAttributeDescriptionCount = 2, scene.vi.pVertexAttributeDescriptions = scene.va;

   VkPipelineCacheCreateInfo pcci = { VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };
   VkPipelineCache cache[4];
   CK(vkCreatePipelineCache(dev, &pcci, NULL, &cache[0]));
   VkPipeline pipes[NDRAW], parts[4];
   pipes[0] = pipeline(dev, &tri.ci, cache[0]);
   for (int i = 0; i < 4; i++)
      parts[i] = gpl_part(dev, &tri,
                          1u << i); /* vertex input, pre-rasterization, fragment shader, output */
   VkPipelineLibraryCreateInfoKHR lib = { VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR,
                                          .libraryCount = 4, .pLibraries = parts };
   VkGraphicsPipelineCreateInfo link = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO, &lib,
                                         .layout = pl[0] };
   pipes[1] = pipeline(dev, &link, VK_NULL_HANDLE);
   link.flags = VK_PIPELINE_CREATE_LINK_TIME_OPTIMIZATION_BIT_EXT;
   pipes[2] = pipeline(dev, &link, VK_NULL_HANDLE);
   printf(
      "OK graphics pipeline library: 4 parts linked, with and without link-time optimization\n");

   VkPhysicalDeviceProperties props;
   vkGetPhysicalDeviceProperties(s.pd, &props);
   size_t size = 0, size2;
   CK(vkGetPipelineCacheData(dev, cache[0], &size, NULL));
   if (size < sizeof(VkPipelineCacheHeaderVersionOne))
      FAIL("pipeline cache: data size %zu is smaller than its header", size);
   uint8_t *data = malloc(size), small[16];
   size2 = size;
   CK(vkGetPipelineCacheData(dev, cache[0], &size2, data));
   VkPipelineCacheHeaderVersionOne hdr;
   memcpy(&hdr, data, sizeof(hdr));
   if (size2 > size || hdr.headerSize != sizeof(hdr) ||
       hdr.headerVersion != VK_PIPELINE_CACHE_HEADER_VERSION_ONE ||
       hdr.vendorID != props.vendorID || hdr.deviceID != props.deviceID ||
       memcmp(hdr.pipelineCacheUUID, props.pipelineCacheUUID, VK_UUID_SIZE))
      FAIL("pipeline cache: header (size %u version %u) does not match the device", hdr.headerSize,
           hdr.headerVersion);
   size = sizeof(small);
   VkResult r = vkGetPipelineCacheData(dev, cache[0], &size, small);
   if (r != VK_INCOMPLETE)
      FAIL("pipeline cache: data into 16 bytes returned %d, not VK_INCOMPLETE", r);
   pcci.initialDataSize = size2, pcci.pInitialData = data;
   CK(vkCreatePipelineCache(dev, &pcci, NULL, &cache[1]));
   pcci.initialDataSize = 0, pcci.pInitialData = NULL;
   CK(vkCreatePipelineCache(dev, &pcci, NULL, &cache[2]));
   data[16] ^= 0xff; /* a foreign UUID: the data must be ignored, not rejected */
   pcci.initialDataSize = size2, pcci.pInitialData = data;
   CK(vkCreatePipelineCache(dev, &pcci, NULL, &cache[3]));
   free(data);
   pipes[3] = pipeline(dev, &tri.ci, cache[1]);
   pipes[4] = pipeline(dev, &scene.ci, cache[2]);
   CK(vkMergePipelineCaches(dev, cache[1], 3, (VkPipelineCache[]){ cache[0], cache[2], cache[3] }));
   size = 0;
   CK(vkGetPipelineCacheData(dev, cache[1], &size, NULL));
   if (size < sizeof(hdr))
      FAIL("pipeline cache: merged data size %zu is smaller than its header", size);
   printf("OK pipeline cache: data queried, header matches the device, VK_INCOMPLETE, seeded, "
          "merged\n");

   /* --- Record: YCbCr upload per plane aspect, then each draw into the color image and its readback. --- */
   begin(cmd);
   image_barrier(cmd, img[0], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                 VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                 VK_ACCESS_TRANSFER_WRITE_BIT);
   VkBufferImageCopy planes[2] = {
      { YPL, 0, 0, { VK_IMAGE_ASPECT_PLANE_0_BIT, 0, 0, 1 }, { 0, 0, 0 }, { W, H, 1 } },
      { CPL, 0, 0, { VK_IMAGE_ASPECT_PLANE_1_BIT, 0, 0, 1 }, { 0, 0, 0 }, { W / 2, H / 2, 1 } }
   };
   for (int i = 0; i < 2; i++)
      vkCmdCopyBufferToImage(cmd, hbuf, img[0], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                             &planes[i]);
   image_barrier(cmd, img[0], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                 VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                 VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                 VK_ACCESS_SHADER_READ_BIT);
   for (int i = 0; i < NDRAW; i++) {
      image_barrier(cmd, img[1], VK_IMAGE_LAYOUT_UNDEFINED,
                    VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0,
                    VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
      VkRenderingAttachmentInfoKHR att = { VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO_KHR,
                                           .imageView = views[1],
                                           .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                                           .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
                                           .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
                                           .clearValue.color.float32 = {
                                              26 / 255.0f, 51 / 255.0f, 76 / 255.0f,
                                              1.0f } /* exact in UNORM8: no rounding ties */ };
      VkRenderingInfoKHR rinfo = { VK_STRUCTURE_TYPE_RENDERING_INFO_KHR, .renderArea = tri.sc,
                                   .layerCount = 1, .colorAttachmentCount = 1,
                                   .pColorAttachments = &att };
      begin_rendering(cmd, &rinfo);
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipes[i]);
      if (i == NDRAW - 1) {
         const float tint[4] = { 1, 1, 1, 1 };
         vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pl[1], 0, 1, &set, 0, NULL);
         vkCmdBindVertexBuffers(cmd, 0, 1, &hbuf, (VkDeviceSize[]){ VTX });
         vkCmdPushConstants(cmd, pl[1], VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(tint), tint);
         vkCmdDraw(cmd, 6, 1, 0, 0);
      } else {
         vkCmdDraw(cmd, 3, 1, 0, 0);
      }
      end_rendering(cmd);
      image_barrier(cmd, img[1], VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                    VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                    VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT);
      VkBufferImageCopy rb = { RB + (VkDeviceSize)i * IMG,
                               0,
                               0,
                               { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                               { 0, 0, 0 },
                               { W, H, 1 } };
      vkCmdCopyImageToBuffer(cmd, img[1], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, hbuf, 1, &rb);
   }
   barrier(cmd, XFER, VK_PIPELINE_STAGE_HOST_BIT, TW, VK_ACCESS_HOST_READ_BIT);
   submit(&s, cmd, VK_NULL_HANDLE, fence);

   /* --- Check: the triangle (corner = clear color, centre inside), every other tri pipeline equal. --- */
   const uint8_t *px = hp + RB, *corner = px, *center = px + ((H / 2) * W + W / 2) * 4;
   if (corner[0] != 26 || corner[1] != 51 || corner[2] != 76 || corner[3] != 255 ||
       center[0] < 40 || center[1] < 40 || center[2] < 40)
      FAIL("triangle: corner %u %u %u, center %u %u %u", corner[0], corner[1], corner[2], center[0],
           center[1], center[2]);
   printf("result: triangle checksum=0x%08x\n", fnv(px, IMG));
   const char *names[3] = { "linked library pipeline", "linked library pipeline with LTO",
                            "pipeline from the seeded cache" };
   for (int i = 1; i < 4; i++) {
      if (memcmp(px, px + i * IMG, IMG))
         FAIL("%s: pixels differ from the monolithic pipeline's", names[i - 1]);
      printf("OK %s: pixels equal the monolithic pipeline's\n", names[i - 1]);
   }
   /* YCbCr: neutral chroma gives grey = Y exactly (full range); Cr = 240 gives strong red. */
   const uint8_t *yp = px + 4 * IMG;
   for (int y = 0; y < H; y += 9) {
      for (int x = 0; x < W; x += 5) {
         const uint8_t *p = yp + (y * W + x) * 4, lum = hp[YPL + y * W + x];
         bool grey = x < W / 2 - 4, red = x >= W / 2 + 4;
         if ((grey && (abs(p[0] - lum) > 1 || abs(p[1] - lum) > 1 || abs(p[2] - lum) > 1)) ||
             (red && p[0] < p[1] + 80) || p[3] != 255)
            FAIL("ycbcr: pixel (%d,%d) = %u %u %u %u for Y %u", x, y, p[0], p[1], p[2], p[3], lum);
      }
   }
   printf("result: ycbcr checksum=0x%08x\n", fnv(yp, IMG));
   printf("OK ycbcr: grey where the chroma is neutral, red where Cr is high\n");

   vkUnmapMemory(dev, hmem);
   for (int i = 0; i < NDRAW; i++)
      vkDestroyPipeline(dev, pipes[i], NULL);
   for (int i = 0; i < 4; i++) {
      vkDestroyPipeline(dev, parts[i], NULL);
      vkDestroyPipelineCache(dev, cache[i], NULL);
      vkDestroyShaderModule(dev, mods[i], NULL);
   }
   for (int i = 0; i < 2; i++) {
      vkDestroyPipelineLayout(dev, pl[i], NULL);
      vkDestroyImageView(dev, views[i], NULL);
      vkDestroyImage(dev, img[i], NULL);
      vkFreeMemory(dev, img_mem[i], NULL);
   }
   vkDestroyDescriptorPool(dev, dpool, NULL);
   vkDestroyDescriptorSetLayout(dev, dsl, NULL);
   vkDestroySampler(dev, sampler, NULL);
   vkDestroySamplerYcbcrConversion(dev, conv, NULL);
   vkDestroyBuffer(dev, hbuf, NULL);
   vkFreeMemory(dev, hmem, NULL);
   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   smoke_fini(&s);
   printf("OK advanced\n");
   return 0;
}
