/* Queries: draws rectangles into a 32x32 color + depth target with dynamic rendering and
 * checks
 *  - occlusion queries (PRECISE: exact sample counts; non-precise: zero / non-zero) around a
 *    visible rectangle, one hidden by the depth test, one outside the viewport, one cut by
 *    the scissor, one scissored away entirely; one query is never written (unavailable),
 *  - timestamps from vkCmdWriteTimestamp and vkCmdWriteTimestamp2 (non-decreasing, within
 *    timestampValidBits; values are never printed),
 *  - a pipeline-statistics query (input-assembly vertices and primitives and vertex-shader
 *    invocations are exact; clipping and fragment counts are only bounded),
 *  - results read with vkGetQueryPoolResults (WAIT, 64-bit, WITH_AVAILABILITY, VK_NOT_READY
 *    for unavailable queries) and with vkCmdCopyQueryPoolResults into a buffer,
 *  - reset with vkCmdResetQueryPool (round 1) and the host's vkResetQueryPool (round 2,
 *    whose results are polled without WAIT until available: Venus's query feedback).
 * Without pipelineStatisticsQuery (MoltenVK) the statistics are skipped with a SKIP line. */
#include <string.h>
#include <time.h>

#include "smoke.h"
#include "query_frag_spv.h"
#include "query_vert_spv.h"

#define W 32
#define H 32
#define NOCC 8  /* occlusion queries; the last is never begun */
#define NTS 4   /* timestamps */
#define NSTAT 6 /* pipeline statistics counters */
#define NDRAW 7

static const VkQueryPipelineStatisticFlags stat_flags =
   VK_QUERY_PIPELINE_STATISTIC_INPUT_ASSEMBLY_VERTICES_BIT |
   VK_QUERY_PIPELINE_STATISTIC_INPUT_ASSEMBLY_PRIMITIVES_BIT |
   VK_QUERY_PIPELINE_STATISTIC_VERTEX_SHADER_INVOCATIONS_BIT |
   VK_QUERY_PIPELINE_STATISTIC_CLIPPING_INVOCATIONS_BIT |
   VK_QUERY_PIPELINE_STATISTIC_CLIPPING_PRIMITIVES_BIT |
   VK_QUERY_PIPELINE_STATISTIC_FRAGMENT_SHADER_INVOCATIONS_BIT;

/* One draw per occlusion query: rectangle in NDC, depth, scissor, precise, expected count
 * (-1: non-precise, only "non-zero" is certain).  Pixel p of 32 is NDC p / 16 - 1. */
static const struct draw {
   float rect[4], z;
   VkRect2D scissor;
   int precise;
   int64_t want;
   const char *what;
} draws[NDRAW] = {
   { { -0.5f, -0.5f, 0.5f, 0.5f }, 0.25f, { { 0, 0 }, { W, H } }, 1, 256, "visible 16x16 precise" },
   { { -0.5f, -0.5f, 0.5f, 0.5f },
     0.25f,
     { { 0, 0 }, { W, H } },
     0,
     -1,
     "visible 16x16 non-precise" },
   { { -0.5f, -0.5f, 0.5f, 0.5f }, 0.75f, { { 0, 0 }, { W, H } }, 1, 0, "depth-hidden precise" },
   { { -0.5f, -0.5f, 0.5f, 0.5f },
     0.75f,
     { { 0, 0 }, { W, H } },
     0,
     0,
     "depth-hidden non-precise" },
   { { 1.5f, -0.5f, 2.5f, 0.5f }, 0.25f, { { 0, 0 }, { W, H } }, 1, 0, "outside viewport" },
   { { -1.0f, -1.0f, 1.0f, 1.0f },
     0.25f,
     { { 2, 3 }, { 10, 4 } },
     1,
     40,
     "full screen, 10x4 scissor" },
   { { -0.5f, -0.5f, 0.5f, 0.5f }, 0.25f, { { 0, 0 }, { 4, 4 } }, 1, 0, "scissored away" },
};

static struct smoke s;
static VkQueryPool occ, ts, stat;
static VkPipeline pipe;
static VkPipelineLayout pl;
static VkImage img[2]; /* color, depth */
static VkImageView view[2];
static VkBuffer rbuf;
static uint32_t ts_bits;
static VkBool32 has_stats; /* pipelineStatisticsQuery */
static uint32_t npools;    /* occ, ts and, with has_stats, stat */

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
   VkQueueFamilyProperties qfp;
   vkGetPhysicalDeviceQueueFamilyProperties(s.pd, &n, &qfp);
   ts_bits = qfp.timestampValidBits;
   VkPhysicalDeviceFeatures have;
   vkGetPhysicalDeviceFeatures(s.pd, &have);
   has_stats = have.pipelineStatisticsQuery;
   npools = has_stats ? 3 : 2;
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .dynamicRendering = VK_TRUE,
                                            .synchronization2 = VK_TRUE };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &f13, .hostQueryReset = VK_TRUE };
   VkPhysicalDeviceFeatures f = { .pipelineStatisticsQuery = has_stats,
                                  .occlusionQueryPrecise = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                              .pEnabledFeatures = &f };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
}

static VkImage make_image(VkFormat fmt, VkImageUsageFlags usage, VkImageAspectFlags aspect,
                          VkDeviceMemory *mem, VkImageView *view)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = fmt,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = usage };
   VkImage img;
   CK(vkCreateImage(s.dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s.dev, img, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   CK(vkAllocateMemory(s.dev, &ai, NULL, mem));
   CK(vkBindImageMemory(s.dev, img, *mem, 0));
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = fmt,
                                 .subresourceRange = { aspect, 0, 1, 0, 1 } };
   CK(vkCreateImageView(s.dev, &vci, NULL, view));
   return img;
}

static void record(VkCommandBuffer cb, int cmd_reset)
{
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   if (cmd_reset) {
      vkCmdResetQueryPool(cb, occ, 0, NOCC);
      vkCmdResetQueryPool(cb, ts, 0, NTS);
      if (has_stats)
         vkCmdResetQueryPool(cb, stat, 0, 1);
   }
   vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ts, 0);
   VkImageMemoryBarrier2 ib[2] = {
      { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2,
        .dstStageMask = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
        .dstAccessMask = VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, .image = img[0],
        .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } },
      { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2,
        .dstStageMask = VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT |
                        VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
        .dstAccessMask = VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
                         VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, .image = img[1],
        .subresourceRange = { VK_IMAGE_ASPECT_DEPTH_BIT, 0, 1, 0, 1 } },
   };
   VkDependencyInfo di = { VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .imageMemoryBarrierCount = 2,
                           .pImageMemoryBarriers = ib };
   vkCmdPipelineBarrier2(cb, &di);

   if (has_stats)
      vkCmdBeginQuery(cb, stat, 0, 0);
   VkRenderingAttachmentInfo ca = { VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
                                    .imageView = view[0],
                                    .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                                    .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
                                    .storeOp = VK_ATTACHMENT_STORE_OP_STORE };
   VkRenderingAttachmentInfo da = { VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
                                    .imageView = view[1],
                                    .imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
                                    .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
                                    .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
                                    .clearValue = { .depthStencil = { 0.5f, 0 } } };
   VkRenderingInfo ri = { VK_STRUCTURE_TYPE_RENDERING_INFO,
                          .renderArea = { { 0, 0 }, { W, H } },
                          .layerCount = 1,
                          .colorAttachmentCount = 1,
                          .pColorAttachments = &ca,
                          .pDepthAttachment = &da };
   vkCmdBeginRendering(cb, &ri);
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
   VkViewport vp = { 0, 0, W, H, 0, 1 };
   vkCmdSetViewport(cb, 0, 1, &vp);
   for (uint32_t i = 0; i < NDRAW; i++) {
      vkCmdSetScissor(cb, 0, 1, &draws[i].scissor);
      vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_VERTEX_BIT, 0, 16, draws[i].rect);
      vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_VERTEX_BIT, 16, 4, &draws[i].z);
      vkCmdBeginQuery(cb, occ, i, draws[i].precise ? VK_QUERY_CONTROL_PRECISE_BIT : 0);
      vkCmdDraw(cb, 6, 1, 0, 0);
      vkCmdEndQuery(cb, occ, i);
   }
   vkCmdEndRendering(cb);
   if (has_stats)
      vkCmdEndQuery(cb, stat, 0);
   vkCmdWriteTimestamp2(cb, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, ts, 1);

   /* Results into rbuf: occlusion [0, 128) 64-bit value + availability each; stats at 128
    * (32-bit); timestamps at 256 (64-bit). */
   vkCmdCopyQueryPoolResults(cb, occ, 0, NOCC - 1, rbuf, 0, 16,
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT |
                                VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   vkCmdCopyQueryPoolResults(cb, occ, NOCC - 1, 1, rbuf, (NOCC - 1) * 16, 16,
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   if (has_stats)
      vkCmdCopyQueryPoolResults(cb, stat, 0, 1, rbuf, 128, NSTAT * 4, VK_QUERY_RESULT_WAIT_BIT);
   vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 2);
   vkCmdWriteTimestamp2(cb, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, ts, 3);
   vkCmdCopyQueryPoolResults(cb, ts, 0, NTS, rbuf, 256, 8,
                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
   VkMemoryBarrier2 mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
                           .srcStageMask = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
                           .srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
                           .dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT,
                           .dstAccessMask = VK_ACCESS_2_HOST_READ_BIT };
   VkDependencyInfo hd = { VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .memoryBarrierCount = 1,
                           .pMemoryBarriers = &mb };
   vkCmdPipelineBarrier2(cb, &hd);
   CK(vkEndCommandBuffer(cb));
}

static void fail(const char *what, const char *round, uint64_t got, int64_t want)
{
   printf("FAIL %s %s: got %llu want %lld\n", round, what, (unsigned long long)got,
          (long long)want);
   exit(1);
}

/* Checks occlusion values (stride `stride` uint64s, availability after each if `avail`). */
static void check_occ(const char *round, const char *how, const uint64_t *v, int stride, int avail)
{
   for (int i = 0; i < NDRAW; i++) {
      const uint64_t got = v[i * stride];
      if (avail && v[i * stride + 1] != 1)
         fail(draws[i].what, round, v[i * stride + 1], 1);
      if (draws[i].want < 0 ? got == 0 : got != (uint64_t)draws[i].want)
         fail(draws[i].what, round, got, draws[i].want);
      char val[24] = "non-zero";
      if (draws[i].want >= 0)
         snprintf(val, sizeof(val), "%llu", (unsigned long long)got);
      printf("OK %s %s occlusion %s: %s\n", round, how, draws[i].what, val);
   }
}

static void check_stats(const char *round, const char *how, const uint64_t *v)
{
   /* 7 rectangles of 2 triangles.  Whether the clipper counts trivially rejected triangles
    * and how many fragments are shaded for depth-hidden ones is up to the driver: bounds only
    * (the precise counts prove that at least 256 + 256 + 40 fragments were shaded). */
   static const char *name[NSTAT] = { "IA vertices",         "IA primitives",
                                      "VS invocations",      "clipping invocations",
                                      "clipping primitives", "FS invocations" };
   const uint64_t verts = NDRAW * 6, prims = NDRAW * 2;
   const uint64_t lo[NSTAT] = { verts, prims, verts, 0, 0, 256 * 2 + 40 };
   const uint64_t hi[NSTAT] = { verts, prims, verts, prims, 2 * prims, UINT64_MAX };
   for (int i = 0; i < NSTAT; i++)
      if (v[i] < lo[i] || v[i] > hi[i])
         fail(name[i], round, v[i], v[i] < lo[i] ? (int64_t)lo[i] : (int64_t)hi[i]);
   printf("OK %s %s statistics: IA vertices %llu, IA primitives %llu, VS invocations %llu\n", round,
          how, (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2]);
}

static void check_ts(const char *round, const char *how, const uint64_t *t)
{
   for (int i = 0; i < NTS; i++) {
      if (ts_bits < 64 && t[i] >> ts_bits)
         fail("timestamp beyond timestampValidBits", round, t[i] >> ts_bits, 0);
      if (i && t[i] < t[i - 1])
         fail("timestamps decrease", round, i, -1);
   }
   printf("OK %s %s timestamps: %d non-decreasing\n", round, how, NTS);
}

/* Reads back one round.  With a `fence` (not yet waited on), first polls the occlusion
 * results without WAIT, then waits for the fence before reading the copied results. */
static void check_round(const char *round, const uint8_t *rmem, VkFence fence)
{
   uint64_t v[NOCC * 2];
   const VkQueryResultFlags f64 = VK_QUERY_RESULT_64_BIT;
   if (fence) {
      /* No WAIT: VK_NOT_READY until every query of the range is available. */
      const struct timespec ms = { 0, 1000000 };
      VkResult r;
      int tries = 0;
      while ((r = vkGetQueryPoolResults(s.dev, occ, 0, NDRAW, sizeof(v), v, 8, f64)) ==
                VK_NOT_READY &&
             tries++ < 20000)
         nanosleep(&ms, NULL);
      CK(r);
      check_occ(round, "polled", v, 1, 0);
      CK(vkWaitForFences(s.dev, 1, &fence, VK_TRUE, UINT64_MAX));
   }
   CK(vkGetQueryPoolResults(s.dev, occ, 0, NDRAW, sizeof(v), v, 8, f64 | VK_QUERY_RESULT_WAIT_BIT));
   check_occ(round, "get-wait", v, 1, 0);
   /* The whole pool with availability: the last query was never begun. */
   memset(v, 0xab, sizeof(v));
   VkResult r = vkGetQueryPoolResults(s.dev, occ, 0, NOCC, sizeof(v), v, 16,
                                      f64 | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   if (r != VK_NOT_READY)
      fail("get with availability result", round, r, VK_NOT_READY);
   check_occ(round, "get-avail", v, 2, 1);
   if (v[NOCC * 2 - 1] != 0)
      fail("unused query availability", round, v[NOCC * 2 - 1], 0);
   printf("OK %s unused query: VK_NOT_READY, unavailable\n", round);

   const uint64_t *cv = (const uint64_t *)rmem;
   check_occ(round, "copied", cv, 2, 1);
   /* (The spec says the value is not written; lavapipe writes 0, so it is not checked.) */
   if (cv[NOCC * 2 - 1] != 0)
      fail("copied unused query availability", round, cv[NOCC * 2 - 1], 0);
   printf("OK %s copied unused query: unavailable\n", round);

   if (has_stats) {
      uint64_t st[NSTAT];
      CK(vkGetQueryPoolResults(s.dev, stat, 0, 1, sizeof(st), st, sizeof(st),
                               f64 | VK_QUERY_RESULT_WAIT_BIT));
      check_stats(round, "get-wait", st);
      const uint32_t *cs = (const uint32_t *)(rmem + 128);
      for (int i = 0; i < NSTAT; i++)
         if (cs[i] != st[i])
            fail("copied 32-bit statistic differs", round, cs[i], st[i]);
      printf("OK %s copied 32-bit statistics equal\n", round);
   } else {
      printf("SKIP %s pipeline statistics: the device has no pipelineStatisticsQuery\n", round);
   }

   uint64_t t[NTS];
   CK(vkGetQueryPoolResults(s.dev, ts, 0, NTS, sizeof(t), t, 8, f64 | VK_QUERY_RESULT_WAIT_BIT));
   check_ts(round, "get-wait", t);
   check_ts(round, "copied", (const uint64_t *)(rmem + 256));
}

int main(void)
{
   init_device();
   VkDevice dev = s.dev;
   if (!ts_bits) {
      printf("FAIL timestampValidBits is 0\n");
      return 1;
   }
   printf("OK timestampValidBits %u\n", ts_bits);

   VkDeviceMemory imem[2], rmem_h;
   img[0] = make_image(VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
                       VK_IMAGE_ASPECT_COLOR_BIT, &imem[0], &view[0]);
   img[1] = make_image(VK_FORMAT_D32_SFLOAT, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
                       VK_IMAGE_ASPECT_DEPTH_BIT, &imem[1], &view[1]);
   rbuf = smoke_host_buffer(&s, 512, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &rmem_h);
   uint8_t *rmem;
   CK(vkMapMemory(dev, rmem_h, 0, VK_WHOLE_SIZE, 0, (void **)&rmem));

   VkQueryPool *pools[3] = { &occ, &ts, &stat };
   const VkQueryPoolCreateInfo qpci[3] = {
      { VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_OCCLUSION,
        .queryCount = NOCC },
      { VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
        .queryCount = NTS },
      { VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_PIPELINE_STATISTICS,
        .queryCount = 1, .pipelineStatistics = stat_flags },
   };
   for (uint32_t i = 0; i < npools; i++)
      CK(vkCreateQueryPool(dev, &qpci[i], NULL, pools[i]));

   const VkShaderModuleCreateInfo smci[2] = {
      { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sizeof(query_vert_spv),
        .pCode = query_vert_spv },
      { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sizeof(query_frag_spv),
        .pCode = query_frag_spv },
   };
   VkShaderModule vs, fs;
   CK(vkCreateShaderModule(dev, &smci[0], NULL, &vs));
   CK(vkCreateShaderModule(dev, &smci[1], NULL, &fs));
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
   VkPipelineDepthStencilStateCreateInfo ds = {
      VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO, .depthTestEnable = VK_TRUE,
      .depthCompareOp = VK_COMPARE_OP_LESS
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cbs = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkDynamicState dyn[2] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
   VkPipelineDynamicStateCreateInfo dys = { VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
                                            .dynamicStateCount = 2, .pDynamicStates = dyn };
   VkPushConstantRange pcr = { VK_SHADER_STAGE_VERTEX_BIT, 0, 20 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
   const VkFormat cfmt = VK_FORMAT_R8G8B8A8_UNORM;
   VkPipelineRenderingCreateInfo prci = { VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
                                          .colorAttachmentCount = 1,
                                          .pColorAttachmentFormats = &cfmt,
                                          .depthAttachmentFormat = VK_FORMAT_D32_SFLOAT };
   VkGraphicsPipelineCreateInfo gpci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                         .pNext = &prci,
                                         .stageCount = 2,
                                         .pStages = stages,
                                         .pVertexInputState = &vi,
                                         .pInputAssemblyState = &ia,
                                         .pViewportState = &vps,
                                         .pRasterizationState = &rs,
                                         .pMultisampleState = &ms,
                                         .pDepthStencilState = &ds,
                                         .pColorBlendState = &cbs,
                                         .pDynamicState = &dys,
                                         .layout = pl };
   CK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &gpci, NULL, &pipe));

   VkCommandPool pool;
   VkCommandBuffer cb[2] = { smoke_command_buffer(&s, 0, &pool) };
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1 };
   CK(vkAllocateCommandBuffers(dev, &cai, &cb[1]));
   record(cb[0], 1);
   record(cb[1], 0);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(dev, &fci, NULL, &fence));

   /* Round 1: the command buffer resets the pools; wait for the fence. */
   memset(rmem, 0xab, 512);
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb[0] };
   CK(vkQueueSubmit(s.q, 1, &si, fence));
   CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
   check_round("round1", rmem, VK_NULL_HANDLE);

   /* Round 2: host reset; every query is unavailable until the new submission ends. */
   for (uint32_t i = 0; i < npools; i++)
      vkResetQueryPool(dev, *pools[i], 0, qpci[i].queryCount);
   uint64_t v[2];
   VkResult r =
      vkGetQueryPoolResults(dev, occ, 0, 1, sizeof(v), v, 16,
                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   if (r != VK_NOT_READY || v[1] != 0)
      fail("host-reset query not unavailable", "round2", r, VK_NOT_READY);
   printf("OK round2 host reset: query unavailable\n");
   memset(rmem, 0xab, 512);
   CK(vkResetFences(dev, 1, &fence));
   si.pCommandBuffers = &cb[1];
   CK(vkQueueSubmit(s.q, 1, &si, fence));
   check_round("round2", rmem, fence);

   vkUnmapMemory(dev, rmem_h);
   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipe, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
   vkDestroyShaderModule(dev, vs, NULL);
   vkDestroyShaderModule(dev, fs, NULL);
   for (uint32_t i = 0; i < npools; i++)
      vkDestroyQueryPool(dev, *pools[i], NULL);
   vkDestroyBuffer(dev, rbuf, NULL);
   vkFreeMemory(dev, rmem_h, NULL);
   for (int i = 0; i < 2; i++) {
      vkDestroyImageView(dev, view[i], NULL);
      vkDestroyImage(dev, img[i], NULL);
      vkFreeMemory(dev, imem[i], NULL);
   }
   smoke_fini(&s);
   printf("OK queries\n");
   return 0;
}
