/* Mesh shading (VK_EXT_mesh_shader): a task + mesh + fragment pipeline with no vertex input
 * state draws quads into an 8x8 grid of cells of a 64x64 image, with a direct draw, an
 * indirect draw of two records and an indirect-count draw whose count buffer says 2 of its
 * 3 records.  Each task work group asks for 1 or 2 mesh work groups (task payload), each
 * mesh work group draws one quad: the column says which task and mesh group drew it, the
 * row which command (push constant) and which record (gl_DrawID).  Prints the grid and an
 * FNV-1a checksum of the image, which must be identical natively and through venusd.
 * Prints "SKIP ..." where the device lacks the extension (a Mesa 25.0.7 guest: its
 * protocol has no mesh shaders), else "OK mesh", or "FAIL ..." and exits 1.
 *
 * --good records the valid edges of venusd's checks (the last record and the count ending
 * at their buffers' last byte, stride 12, the largest group counts) without submitting
 * them and prints "OK bad_mesh good"; each --bad-* mode records one invalid mesh draw,
 * which venusd must refuse (tests/integration/test_guest_ranges.sh). */
#include <stdint.h>
#include <string.h>

#include "mesh_frag_spv.h"
#include "mesh_mesh_spv.h"
#include "mesh_task_spv.h"
#include "smoke.h"

#define W 64u
#define H 64u
#define CELL 8u

static PFN_vkCmdDrawMeshTasksEXT draw_mesh;
static PFN_vkCmdDrawMeshTasksIndirectEXT draw_mesh_indirect;
static PFN_vkCmdDrawMeshTasksIndirectCountEXT draw_mesh_count;

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

static void make_device(struct smoke *s)
{
   VkPhysicalDeviceMeshShaderFeaturesEXT mesh = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MESH_SHADER_FEATURES_EXT, .taskShader = VK_TRUE,
      .meshShader = VK_TRUE
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &mesh, .drawIndirectCount = VK_TRUE };
   VkPhysicalDeviceVulkan11Features f11 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12, .shaderDrawParameters = VK_TRUE };
   VkPhysicalDeviceFeatures2 f = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11 };
   f.features.multiDrawIndirect = VK_TRUE;
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   const char *ext = VK_EXT_MESH_SHADER_EXTENSION_NAME;
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = &ext };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
   draw_mesh = (PFN_vkCmdDrawMeshTasksEXT)vkGetDeviceProcAddr(s->dev, "vkCmdDrawMeshTasksEXT");
   draw_mesh_indirect = (PFN_vkCmdDrawMeshTasksIndirectEXT)vkGetDeviceProcAddr(
      s->dev, "vkCmdDrawMeshTasksIndirectEXT");
   draw_mesh_count = (PFN_vkCmdDrawMeshTasksIndirectCountEXT)vkGetDeviceProcAddr(
      s->dev, "vkCmdDrawMeshTasksIndirectCountEXT");
   if (!draw_mesh || !draw_mesh_indirect || !draw_mesh_count) {
      printf("FAIL mesh draw entry points missing\n");
      exit(1);
   }
}

/* Whether the device offers task and mesh shaders; if so, a device with them in s. */
static int mesh_init(struct smoke *s)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s->inst));
   uint32_t n = 1;
   if (vkEnumeratePhysicalDevices(s->inst, &n, &s->pd) < 0 || !n) {
      printf("FAIL no physical device\n");
      exit(1);
   }
   if (!has_extension(s->pd, VK_EXT_MESH_SHADER_EXTENSION_NAME))
      return 0;
   VkPhysicalDeviceMeshShaderFeaturesEXT mesh = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MESH_SHADER_FEATURES_EXT
   };
   VkPhysicalDeviceFeatures2 f = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &mesh };
   vkGetPhysicalDeviceFeatures2(s->pd, &f);
   if (!mesh.taskShader || !mesh.meshShader) {
      printf("FAIL VK_EXT_mesh_shader listed, but taskShader %u meshShader %u\n", mesh.taskShader,
             mesh.meshShader);
      exit(1);
   }
   make_device(s);
   return 1;
}

static VkShaderModule make_shader(struct smoke *s, const uint32_t *code, size_t size)
{
   VkShaderModuleCreateInfo ci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                   .pCode = code };
   VkShaderModule m;
   CK(vkCreateShaderModule(s->dev, &ci, NULL, &m));
   return m;
}

struct target {
   VkImage img;
   VkDeviceMemory mem;
   VkImageView view;
   VkRenderPass rp;
   VkFramebuffer fb;
   VkPipelineLayout layout;
   VkPipeline pipe;
   VkShaderModule modules[3];
};

static void make_target(struct smoke *s, struct target *t)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 1,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                     VK_IMAGE_USAGE_TRANSFER_SRC_BIT };
   CK(vkCreateImage(s->dev, &ci, NULL, &t->img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s->dev, t->img, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(s, mr.memoryTypeBits, 0) };
   CK(vkAllocateMemory(s->dev, &ai, NULL, &t->mem));
   CK(vkBindImageMemory(s->dev, t->img, t->mem, 0));
   VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = t->img,
                                 .viewType = VK_IMAGE_VIEW_TYPE_2D,
                                 .format = VK_FORMAT_R8G8B8A8_UNORM,
                                 .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   CK(vkCreateImageView(s->dev, &vci, NULL, &t->view));
   VkAttachmentDescription att = { 0,
                                   VK_FORMAT_R8G8B8A8_UNORM,
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
   CK(vkCreateRenderPass(s->dev, &rpci, NULL, &t->rp));
   VkFramebufferCreateInfo fbci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                    .renderPass = t->rp,
                                    .attachmentCount = 1,
                                    .pAttachments = &t->view,
                                    .width = W,
                                    .height = H,
                                    .layers = 1 };
   CK(vkCreateFramebuffer(s->dev, &fbci, NULL, &t->fb));
}

/* Task, mesh and fragment stages; no vertex input or input assembly state (a mesh pipeline
 * has none). */
static void make_pipeline(struct smoke *s, struct target *t)
{
   t->modules[0] = make_shader(s, mesh_task_spv, sizeof(mesh_task_spv));
   t->modules[1] = make_shader(s, mesh_mesh_spv, sizeof(mesh_mesh_spv));
   t->modules[2] = make_shader(s, mesh_frag_spv, sizeof(mesh_frag_spv));
   const VkShaderStageFlagBits stage[3] = { VK_SHADER_STAGE_TASK_BIT_EXT,
                                            VK_SHADER_STAGE_MESH_BIT_EXT,
                                            VK_SHADER_STAGE_FRAGMENT_BIT };
   VkPipelineShaderStageCreateInfo stages[3];
   for (int i = 0; i < 3; i++)
      stages[i] =
         (VkPipelineShaderStageCreateInfo){ VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                            .stage = stage[i], .module = t->modules[i],
                                            .pName = "main" };
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
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cb = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkPushConstantRange pcr = { VK_SHADER_STAGE_MESH_BIT_EXT, 0, 4 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   CK(vkCreatePipelineLayout(s->dev, &plci, NULL, &t->layout));
   VkGraphicsPipelineCreateInfo gpci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                         .stageCount = 3,
                                         .pStages = stages,
                                         .pViewportState = &vps,
                                         .pRasterizationState = &rs,
                                         .pMultisampleState = &ms,
                                         .pColorBlendState = &cb,
                                         .layout = t->layout,
                                         .renderPass = t->rp };
   CK(vkCreateGraphicsPipelines(s->dev, VK_NULL_HANDLE, 1, &gpci, NULL, &t->pipe));
}

static void destroy_target(struct smoke *s, struct target *t)
{
   vkDestroyPipeline(s->dev, t->pipe, NULL);
   vkDestroyPipelineLayout(s->dev, t->layout, NULL);
   for (int i = 0; i < 3; i++)
      vkDestroyShaderModule(s->dev, t->modules[i], NULL);
   vkDestroyFramebuffer(s->dev, t->fb, NULL);
   vkDestroyRenderPass(s->dev, t->rp, NULL);
   vkDestroyImageView(s->dev, t->view, NULL);
   vkDestroyImage(s->dev, t->img, NULL);
   vkFreeMemory(s->dev, t->mem, NULL);
}

static void set_row(VkCommandBuffer cmd, const struct target *t, uint32_t row)
{
   vkCmdPushConstants(cmd, t->layout, VK_SHADER_STAGE_MESH_BIT_EXT, 0, 4, &row);
}

static void begin_pass(VkCommandBuffer cmd, const struct target *t)
{
   VkClearValue clear = { .color = { .float32 = { 0, 0, 0, 1 } } };
   VkRenderPassBeginInfo rbi = {
      VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO, .renderPass = t->rp,  .framebuffer = t->fb,
      .renderArea = { { 0, 0 }, { W, H } },     .clearValueCount = 1, .pClearValues = &clear
   };
   vkCmdBeginRenderPass(cmd, &rbi, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, t->pipe);
}

/* The indirect records: at 0 and 16 (stride 16) for the indirect draw; from 32 on for the
 * indirect-count draw; the count (2) at 80. */
static void fill_records(uint32_t *p)
{
   const uint32_t words[] = { 1, 1, 1, 0, 4, 1, 1, 0, 2, 1, 1, 0, 3, 1, 1, 0, 4, 1, 1, 0, 2 };
   memcpy(p, words, sizeof(words));
}

/* The cells the draws must cover: row 0 the direct draw of 3 task groups (tasks 0 and 2
 * ask for 1 mesh group, task 1 for 2); rows 1-2 the indirect records of 1 and 4 task
 * groups; rows 3-4 the first two of the indirect-count draw's records (2 and 3 task
 * groups), row 5 stays empty (its third record is past the count). */
static const char *const want_rows[8] = {
   "X.XXX...", "X.......", "X.XXX.XX", "X.XX....", "X.XXX...", "........", "........", "........",
};

static int check_grid(const uint8_t *px)
{
   int ok = 1;
   for (uint32_t r = 0; r < H / CELL; r++) {
      char row[H / CELL + 1] = { 0 };
      for (uint32_t c = 0; c < W / CELL; c++) {
         const uint8_t *p = px + ((r * CELL + CELL / 2) * W + c * CELL + CELL / 2) * 4;
         row[c] = p[0] || p[1] || p[2] ? 'X' : '.';
      }
      printf("row %u: %s\n", r, row);
      if (strcmp(row, want_rows[r])) {
         printf("FAIL mesh: row %u is %s, want %s\n", r, row, want_rows[r]);
         ok = 0;
      }
   }
   return ok;
}

static int draw(struct smoke *s)
{
   struct target t;
   make_target(s, &t);
   make_pipeline(s, &t);
   VkDeviceMemory imem, bmem;
   VkBuffer ind = smoke_host_buffer(s, 84, VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, &imem);
   VkBuffer out = smoke_host_buffer(s, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &bmem);
   uint32_t *rec;
   CK(vkMapMemory(s->dev, imem, 0, VK_WHOLE_SIZE, 0, (void **)&rec));
   fill_records(rec);
   vkUnmapMemory(s->dev, imem);

   VkCommandPool pool;
   VkCommandBuffer cmd = smoke_command_buffer(s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cmd, &bi));
   begin_pass(cmd, &t);
   set_row(cmd, &t, 0);
   draw_mesh(cmd, 3, 1, 1);
   set_row(cmd, &t, 1);
   draw_mesh_indirect(cmd, ind, 0, 2, 16);
   set_row(cmd, &t, 3);
   draw_mesh_count(cmd, ind, 32, ind, 80, 3, 16);
   vkCmdEndRenderPass(cmd);
   VkBufferImageCopy reg = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                             .imageExtent = { W, H, 1 } };
   vkCmdCopyImageToBuffer(cmd, t.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, out, 1, &reg);
   CK(vkEndCommandBuffer(cmd));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cmd };
   CK(vkQueueSubmit(s->q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s->q));

   const uint8_t *px;
   CK(vkMapMemory(s->dev, bmem, 0, VK_WHOLE_SIZE, 0, (void **)&px));
   const int ok = check_grid(px);
   uint32_t h = 2166136261u;
   for (uint32_t i = 0; i < W * H * 4; i++)
      h = (h ^ px[i]) * 16777619u;
   printf("result: mesh checksum=0x%08x\n", h);
   vkUnmapMemory(s->dev, bmem);

   vkDestroyCommandPool(s->dev, pool, NULL);
   vkDestroyBuffer(s->dev, ind, NULL);
   vkDestroyBuffer(s->dev, out, NULL);
   vkFreeMemory(s->dev, imem, NULL);
   vkFreeMemory(s->dev, bmem, NULL);
   destroy_target(s, &t);
   return ok;
}

/* --good and --bad-*: records into a 64-byte indirect buffer (a count buffer of 16 bytes),
 * never submitted; vkDeviceWaitIdle makes sure venusd has decoded the recording. */
static int record_edges(struct smoke *s, const char *mode)
{
   VkPhysicalDeviceMeshShaderPropertiesEXT mp = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MESH_SHADER_PROPERTIES_EXT
   };
   VkPhysicalDeviceProperties2 p2 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &mp };
   vkGetPhysicalDeviceProperties2(s->pd, &p2);
   struct target t;
   make_target(s, &t);
   make_pipeline(s, &t);
   VkDeviceMemory imem, cmem;
   VkBuffer ind = smoke_host_buffer(s, 64, VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, &imem);
   VkBuffer cnt = smoke_host_buffer(s, 16, VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, &cmem);
   VkCommandPool pool;
   VkCommandBuffer cmd = smoke_command_buffer(s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cmd, &bi));
   begin_pass(cmd, &t);
   set_row(cmd, &t, 0);
   const uint32_t *tc = mp.maxTaskWorkGroupCount;
   if (!strcmp(mode, "--good")) {
      draw_mesh_indirect(cmd, ind, 52, 1, 0);        /* the last 12 bytes */
      draw_mesh_indirect(cmd, ind, 16, 4, 12);       /* 16 + 3 * 12 + 12 = 64 */
      draw_mesh_indirect(cmd, ind, 64, 0, 0);        /* no record */
      draw_mesh_count(cmd, ind, 40, cnt, 12, 2, 12); /* 40 + 12 + 12 = 64; the last count */
      draw_mesh(cmd, tc[0], 1, 1);
      draw_mesh(cmd, 1, 1, tc[2]);
      draw_mesh(cmd, 0, 0, 0);
   } else if (!strcmp(mode, "--bad-mesh-indirect-range")) {
      draw_mesh_indirect(cmd, ind, 16, 4, 16); /* 16 + 3 * 16 + 12 = 76 > 64 */
   } else if (!strcmp(mode, "--bad-mesh-indirect-stride")) {
      draw_mesh_indirect(cmd, ind, 0, 2, 6);
   } else if (!strcmp(mode, "--bad-mesh-indirect-offset")) {
      draw_mesh_indirect(cmd, ind, 2, 1, 0);
   } else if (!strcmp(mode, "--bad-mesh-count-buffer")) {
      draw_mesh_count(cmd, ind, 0, cnt, 16, 1, 12); /* the count at 16 of a 16-byte buffer */
   } else if (!strcmp(mode, "--bad-mesh-count-records")) {
      draw_mesh_count(cmd, ind, 0, cnt, 0, 6, 12); /* 5 * 12 + 12 = 72 > 64 */
   } else if (!strcmp(mode, "--bad-mesh-count-stride")) {
      draw_mesh_count(cmd, ind, 0, cnt, 0, 1, 8);
   } else if (!strcmp(mode, "--bad-mesh-group-count")) {
      draw_mesh(cmd, tc[0] + 1, 1, 1);
   } else if (!strcmp(mode, "--bad-mesh-group-total")) {
      draw_mesh(cmd, tc[0], tc[1], tc[2]);
   } else {
      printf("FAIL unknown mode %s\n", mode);
      return 0;
   }
   vkCmdEndRenderPass(cmd);
   vkEndCommandBuffer(cmd);
   CK(vkDeviceWaitIdle(s->dev));
   vkDestroyCommandPool(s->dev, pool, NULL);
   vkDestroyBuffer(s->dev, ind, NULL);
   vkDestroyBuffer(s->dev, cnt, NULL);
   vkFreeMemory(s->dev, imem, NULL);
   vkFreeMemory(s->dev, cmem, NULL);
   destroy_target(s, &t);
   printf("OK bad_mesh %s\n", mode + 2);
   return 1;
}

int main(int argc, char **argv)
{
   struct smoke s;
   if (!mesh_init(&s)) {
      printf("SKIP no %s\n", VK_EXT_MESH_SHADER_EXTENSION_NAME);
      vkDestroyInstance(s.inst, NULL);
      return 0;
   }
   const int ok = argc > 1 ? record_edges(&s, argv[1]) : draw(&s);
   smoke_fini(&s);
   if (!ok)
      return 1;
   if (argc <= 1)
      printf("OK mesh\n");
   return 0;
}
