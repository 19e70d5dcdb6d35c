/* The protocol audit's last classes of guest indices and ranges (docs/protocol-audit.md),
 * sent through the real Mesa Venus driver, which passes them on unchecked: through venusd
 * each --bad-* mode must make the context fatal before the driver sees the value (the
 * client never prints "OK"), and --good runs the valid edge cases of the same checks (the
 * last mip level, layer, attachment, binding, descriptor, byte; VK_REMAINING_* and
 * VK_WHOLE_SIZE) and must print "OK bad_audit good".  A mode whose extension the device
 * lacks prints "SKIP" (lavapipe has them all).
 *
 *   vk_bad_audit --good | --bad-image-view | --bad-specialization | --bad-base-index |
 *     --bad-push-constant-range | --bad-render-pass-attachment | --bad-input-aspect |
 *     --bad-render-pass2-dependency | --bad-clear-color | --bad-clear-attachments |
 *     --bad-barrier-buffer | --bad-barrier2-image | --bad-set-event2 | --bad-peer-memory |
 *     --bad-bind-device-index | --bad-xfb-binding | --bad-push-descriptor |
 *     --bad-push-descriptor-set | --bad-vertex-input | --bad-blend-attachment |
 *     --bad-device-subresource-layout | --bad-inheritance-subpass | --bad-dispatch-no-pipeline |
 *     --bad-draw-no-pipeline | --bad-bind-compute-as-graphics */
#include <stdbool.h>
#include <string.h>

#include "smoke.h"
#include "add_comp_spv.h"

/* VK_KHR_maintenance5, newer than Debian 12's headers (the layouts of vk.xml 1.3.269+). */
#ifndef VK_KHR_maintenance5
#define VK_KHR_MAINTENANCE_5_EXTENSION_NAME "VK_KHR_maintenance5"
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_5_FEATURES_KHR ((VkStructureType)1000470000)
#define VK_STRUCTURE_TYPE_DEVICE_IMAGE_SUBRESOURCE_INFO_KHR ((VkStructureType)1000470004)
#define VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_KHR ((VkStructureType)1000338002)
#define VK_STRUCTURE_TYPE_IMAGE_SUBRESOURCE_2_KHR ((VkStructureType)1000338003)
typedef struct {
   VkStructureType sType;
   void *pNext;
   VkBool32 maintenance5;
} VkPhysicalDeviceMaintenance5FeaturesKHR;
typedef struct {
   VkStructureType sType;
   void *pNext;
   VkImageSubresource imageSubresource;
} VkImageSubresource2KHR;
typedef struct {
   VkStructureType sType;
   void *pNext;
   VkSubresourceLayout subresourceLayout;
} VkSubresourceLayout2KHR;
typedef struct {
   VkStructureType sType;
   const void *pNext;
   const VkImageCreateInfo *pCreateInfo;
   const VkImageSubresource2KHR *pSubresource;
} VkDeviceImageSubresourceInfoKHR;
typedef void(VKAPI_PTR *PFN_vkGetDeviceImageSubresourceLayoutKHR)(
   VkDevice, const VkDeviceImageSubresourceInfoKHR *, VkSubresourceLayout2KHR *);
#endif

#define W 64
#define H 64

static struct smoke s;
static VkCommandPool cpool;
static VkCommandBuffer cb;
static VkPhysicalDeviceLimits limits;
static bool has_xfb, has_push, has_vi, has_eds3, has_m5;
static uint32_t max_xfb_buffers;

static bool listed(const VkExtensionProperties *e, uint32_t n, const char *name)
{
   for (uint32_t i = 0; i < n; i++)
      if (!strcmp(e[i].extensionName, name))
         return true;
   return false;
}

/* smoke_init with the extensions (and features) of the checked commands, where present. */
static void init(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(vkCreateInstance(&ici, NULL, &s.inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s.inst, &n, &s.pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   uint32_t count = 0;
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &count, NULL));
   VkExtensionProperties *e = calloc(count, sizeof(*e));
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &count, e));
   const char *names[5];
   uint32_t ne = 0;
   if ((has_xfb = listed(e, count, VK_EXT_TRANSFORM_FEEDBACK_EXTENSION_NAME)))
      names[ne++] = VK_EXT_TRANSFORM_FEEDBACK_EXTENSION_NAME;
   if ((has_push = listed(e, count, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)))
      names[ne++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
   if ((has_vi = listed(e, count, VK_EXT_VERTEX_INPUT_DYNAMIC_STATE_EXTENSION_NAME)))
      names[ne++] = VK_EXT_VERTEX_INPUT_DYNAMIC_STATE_EXTENSION_NAME;
   if ((has_eds3 = listed(e, count, VK_EXT_EXTENDED_DYNAMIC_STATE_3_EXTENSION_NAME)))
      names[ne++] = VK_EXT_EXTENDED_DYNAMIC_STATE_3_EXTENSION_NAME;
   if ((has_m5 = listed(e, count, VK_KHR_MAINTENANCE_5_EXTENSION_NAME)))
      names[ne++] = VK_KHR_MAINTENANCE_5_EXTENSION_NAME;
   free(e);
   VkPhysicalDeviceMaintenance5FeaturesKHR m5 = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_5_FEATURES_KHR, .maintenance5 = has_m5
   };
   VkPhysicalDeviceExtendedDynamicState3FeaturesEXT eds3 = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTENDED_DYNAMIC_STATE_3_FEATURES_EXT,
      .pNext = has_m5 ? &m5 : NULL, .extendedDynamicState3ColorWriteMask = has_eds3
   };
   VkPhysicalDeviceVertexInputDynamicStateFeaturesEXT vi = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VERTEX_INPUT_DYNAMIC_STATE_FEATURES_EXT,
      .pNext = has_eds3 ? (void *)&eds3 : (has_m5 ? (void *)&m5 : NULL),
      .vertexInputDynamicState = has_vi
   };
   VkPhysicalDeviceTransformFeedbackFeaturesEXT xfb = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TRANSFORM_FEEDBACK_FEATURES_EXT, .pNext = &vi,
      .transformFeedback = has_xfb
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &xfb, .timelineSemaphore = VK_TRUE };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f12,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = ne,
                              .ppEnabledExtensionNames = names };
   CK(vkCreateDevice(s.pd, &dci, NULL, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
   VkPhysicalDeviceTransformFeedbackPropertiesEXT xp = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TRANSFORM_FEEDBACK_PROPERTIES_EXT
   };
   VkPhysicalDeviceProperties2 props = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = has_xfb ? &xp : NULL };
   vkGetPhysicalDeviceProperties2(s.pd, &props);
   limits = props.properties.limits;
   max_xfb_buffers = xp.maxTransformFeedbackBuffers;
}

#define DEV_PROC(name) ((PFN_##name)vkGetDeviceProcAddr(s.dev, #name))

static VkImage color_image(uint32_t mips, uint32_t layers, VkImageTiling tiling)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { W, H, 1 },
                            .mipLevels = mips,
                            .arrayLayers = layers,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = tiling,
                            .usage =
                               tiling == VK_IMAGE_TILING_LINEAR
                                  ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT
                                  : VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT };
   VkImage img;
   CK(vkCreateImage(s.dev, &ci, NULL, &img));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s.dev, img, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
   CK(vkBindImageMemory(s.dev, img, mem, 0));
   return img;
}

static VkImageView image_view(VkImage img, VkImageViewType type, VkImageSubresourceRange r)
{
   VkImageViewCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = img,
                                .viewType = type, .format = VK_FORMAT_R8G8B8A8_UNORM,
                                .subresourceRange = r };
   VkImageView v = VK_NULL_HANDLE;
   CK(vkCreateImageView(s.dev, &ci, NULL, &v));
   return v;
}

static void begin(void)
{
   CK(vkBeginCommandBuffer(
      cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
}

static void submit(void)
{
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
}

static VkPipeline last_compute; /* the last pipeline compute_pipeline made */

/* A compute pipeline of add.comp whose one specialization entry is [offset, offset + 4) of
 * 4 bytes of data; with `derivative`, a second create info derives from index `base`. */
static VkResult compute_pipeline(uint32_t offset, bool derivative, int32_t base)
{
   VkShaderModuleCreateInfo mci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                    .codeSize = sizeof(add_comp_spv), .pCode = add_comp_spv };
   VkShaderModule mod;
   CK(vkCreateShaderModule(s.dev, &mci, NULL, &mod));
   VkPushConstantRange pc = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                      VK_SHADER_STAGE_COMPUTE_BIT, NULL };
   VkDescriptorSetLayoutCreateInfo lci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = 1, .pBindings = &b };
   VkDescriptorSetLayout sl;
   CK(vkCreateDescriptorSetLayout(s.dev, &lci, NULL, &sl));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &sl,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pc };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s.dev, &plci, NULL, &pl));
   uint32_t data = 7;
   VkSpecializationMapEntry entry = { 0, offset, 4 };
   VkSpecializationInfo spec = { 1, &entry, sizeof(data), &data };
   VkComputePipelineCreateInfo ci[2] = {
      { VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = derivative ? VK_PIPELINE_CREATE_ALLOW_DERIVATIVES_BIT : 0,
        .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = mod, .pName = "main",
                   .pSpecializationInfo = &spec },
        .layout = pl, .basePipelineIndex = -1 },
   };
   ci[1] = ci[0];
   ci[1].flags = VK_PIPELINE_CREATE_DERIVATIVE_BIT;
   ci[1].basePipelineIndex = base;
   VkPipeline p[2];
   const VkResult r =
      vkCreateComputePipelines(s.dev, VK_NULL_HANDLE, derivative ? 2 : 1, ci, NULL, p);
   if (r == VK_SUCCESS)
      last_compute = p[0];
   return r;
}

static VkPipelineLayout push_constant_layout(uint32_t offset, uint32_t size)
{
   VkPushConstantRange pc = { VK_SHADER_STAGE_ALL, offset, size };
   VkPipelineLayoutCreateInfo ci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .pushConstantRangeCount = 1, .pPushConstantRanges = &pc };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s.dev, &ci, NULL, &pl));
   return pl;
}

/* Two attachments; one subpass reading attachment `input` as its one input attachment and
 * writing `color`; an aspect reference to input attachment `aspect_index`. */
static VkRenderPass last_pass;
static VkResult render_pass(uint32_t input, uint32_t color, uint32_t aspect_index)
{
   VkAttachmentDescription att[2];
   for (int i = 0; i < 2; i++)
      att[i] = (VkAttachmentDescription){ .format = VK_FORMAT_R8G8B8A8_UNORM,
                                          .samples = VK_SAMPLE_COUNT_1_BIT,
                                          .loadOp = VK_ATTACHMENT_LOAD_OP_LOAD,
                                          .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
                                          .initialLayout = VK_IMAGE_LAYOUT_GENERAL,
                                          .finalLayout = VK_IMAGE_LAYOUT_GENERAL };
   VkAttachmentReference in = { input, VK_IMAGE_LAYOUT_GENERAL };
   VkAttachmentReference col[2] = { { color, VK_IMAGE_LAYOUT_GENERAL },
                                    { VK_ATTACHMENT_UNUSED, VK_IMAGE_LAYOUT_GENERAL } };
   VkSubpassDescription sub = { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .inputAttachmentCount = 1,
                                .pInputAttachments = &in,
                                .colorAttachmentCount = 2,
                                .pColorAttachments = col };
   VkInputAttachmentAspectReference ref = { 0, aspect_index, VK_IMAGE_ASPECT_COLOR_BIT };
   VkRenderPassInputAttachmentAspectCreateInfo aspect = {
      VK_STRUCTURE_TYPE_RENDER_PASS_INPUT_ATTACHMENT_ASPECT_CREATE_INFO, .aspectReferenceCount = 1,
      .pAspectReferences = &ref
   };
   VkSubpassDependency dep = { VK_SUBPASS_EXTERNAL,
                               0,
                               VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                               VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                               0,
                               VK_ACCESS_INPUT_ATTACHMENT_READ_BIT,
                               0 };
   VkRenderPassCreateInfo ci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                 .pNext = &aspect,
                                 .attachmentCount = 2,
                                 .pAttachments = att,
                                 .subpassCount = 1,
                                 .pSubpasses = &sub,
                                 .dependencyCount = 1,
                                 .pDependencies = &dep };
   return vkCreateRenderPass(s.dev, &ci, NULL, &last_pass);
}

/* A secondary command buffer continuing subpass `subpass` of last_pass. */
static VkResult begin_secondary(uint32_t subpass)
{
   VkCommandBufferAllocateInfo ai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = cpool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
                                      .commandBufferCount = 1 };
   VkCommandBuffer sec;
   CK(vkAllocateCommandBuffers(s.dev, &ai, &sec));
   VkCommandBufferInheritanceInfo inh = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
                                          .renderPass = last_pass, .subpass = subpass };
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT,
                                   .pInheritanceInfo = &inh };
   VkResult r = vkBeginCommandBuffer(sec, &bi);
   if (r == VK_SUCCESS)
      r = vkEndCommandBuffer(sec);
   return r;
}

static VkResult render_pass2(uint32_t src_subpass)
{
   VkAttachmentDescription2 att = {
      VK_STRUCTURE_TYPE_ATTACHMENT_DESCRIPTION_2, .format = VK_FORMAT_R8G8B8A8_UNORM,
      .samples = VK_SAMPLE_COUNT_1_BIT,           .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,    .finalLayout = VK_IMAGE_LAYOUT_GENERAL
   };
   VkAttachmentReference2 col = { VK_STRUCTURE_TYPE_ATTACHMENT_REFERENCE_2, .attachment = 0,
                                  .layout = VK_IMAGE_LAYOUT_GENERAL,
                                  .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT };
   VkSubpassDescription2 sub = { VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_2,
                                 .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                 .colorAttachmentCount = 1, .pColorAttachments = &col };
   VkSubpassDependency2 dep = { VK_STRUCTURE_TYPE_SUBPASS_DEPENDENCY_2,
                                .srcSubpass = src_subpass,
                                .dstSubpass = 0,
                                .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                                .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                                .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT };
   VkRenderPassCreateInfo2 ci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO_2,
                                  .attachmentCount = 1,
                                  .pAttachments = &att,
                                  .subpassCount = 1,
                                  .pSubpasses = &sub,
                                  .dependencyCount = 1,
                                  .pDependencies = &dep };
   VkRenderPass rp;
   return vkCreateRenderPass2(s.dev, &ci, NULL, &rp);
}

/* A push descriptor set layout of one binding of 2 storage buffers, in set 0 of a pipeline
 * layout (the set layout is destroyed: the pipeline layout outlives it). */
static VkPipelineLayout push_layout(void)
{
   VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2,
                                      VK_SHADER_STAGE_COMPUTE_BIT, NULL };
   VkDescriptorSetLayoutCreateInfo lci = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR, .bindingCount = 1,
      .pBindings = &b
   };
   VkDescriptorSetLayout sl;
   CK(vkCreateDescriptorSetLayout(s.dev, &lci, NULL, &sl));
   VkPipelineLayoutCreateInfo ci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1, .pSetLayouts = &sl };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s.dev, &ci, NULL, &pl));
   vkDestroyDescriptorSetLayout(s.dev, sl, NULL);
   return pl;
}

static void push_write(VkPipelineLayout pl, uint32_t set, uint32_t elem, VkBuffer buf)
{
   VkDescriptorBufferInfo info = { buf, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstBinding = 0,
                              .dstArrayElement = elem,
                              .descriptorCount = 1,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = &info };
   DEV_PROC(vkCmdPushDescriptorSetKHR)(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl, set, 1, &w);
}

static void vertex_input(uint32_t attribute_binding)
{
   VkVertexInputBindingDescription2EXT b = {
      VK_STRUCTURE_TYPE_VERTEX_INPUT_BINDING_DESCRIPTION_2_EXT,
      .binding = limits.maxVertexInputBindings - 1, .stride = 16,
      .inputRate = VK_VERTEX_INPUT_RATE_VERTEX, .divisor = 1
   };
   VkVertexInputAttributeDescription2EXT at = {
      VK_STRUCTURE_TYPE_VERTEX_INPUT_ATTRIBUTE_DESCRIPTION_2_EXT,
      .location = limits.maxVertexInputAttributes - 1, .binding = attribute_binding,
      .format = VK_FORMAT_R32G32B32A32_SFLOAT, .offset = 0
   };
   DEV_PROC(vkCmdSetVertexInputEXT)(cb, 1, &b, 1, &at);
}

static void subresource_layout(uint32_t mip)
{
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = VK_FORMAT_R8G8B8A8_UNORM,
                            .extent = { W, H, 1 },
                            .mipLevels = 1,
                            .arrayLayers = 2,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_LINEAR,
                            .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT };
   VkImageSubresource2KHR sub = { VK_STRUCTURE_TYPE_IMAGE_SUBRESOURCE_2_KHR,
                                  .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, mip, 1 } };
   VkDeviceImageSubresourceInfoKHR info = { VK_STRUCTURE_TYPE_DEVICE_IMAGE_SUBRESOURCE_INFO_KHR,
                                            .pCreateInfo = &ci, .pSubresource = &sub };
   VkSubresourceLayout2KHR out = { VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_KHR };
   DEV_PROC(vkGetDeviceImageSubresourceLayoutKHR)(s.dev, &info, &out);
   if (!mip && out.subresourceLayout.rowPitch < W * 4) {
      printf("FAIL rowPitch %llu\n", (unsigned long long)out.subresourceLayout.rowPitch);
      exit(1);
   }
}

static VkBuffer bind2_buffer(uint32_t device_index)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT };
   VkBuffer buf;
   CK(vkCreateBuffer(s.dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(s.dev, buf, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
   VkBindBufferMemoryDeviceGroupInfo g = { VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_DEVICE_GROUP_INFO,
                                           .deviceIndexCount = 1, .pDeviceIndices = &device_index };
   VkBindBufferMemoryInfo bi = { VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .pNext = &g,
                                 .buffer = buf, .memory = mem };
   CK(vkBindBufferMemory2(s.dev, 1, &bi));
   return buf;
}

static void buffer_barrier(VkBuffer buf, VkDeviceSize offset, VkDeviceSize size)
{
   VkBufferMemoryBarrier b = { VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
                               .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                               .buffer = buf,
                               .offset = offset,
                               .size = size };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                        0, NULL, 1, &b, 0, NULL);
}

static VkDependencyInfo image_dependency(VkImageMemoryBarrier2 *b, VkImage img,
                                         VkImageSubresourceRange r)
{
   *b = (VkImageMemoryBarrier2){ VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2,
                                 .srcStageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                                 .dstStageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                                 .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                 .newLayout = VK_IMAGE_LAYOUT_GENERAL,
                                 .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                 .image = img,
                                 .subresourceRange = r };
   return (VkDependencyInfo){ VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .imageMemoryBarrierCount = 1,
                              .pImageMemoryBarriers = b };
}

static const VkImageSubresourceRange ALL = { VK_IMAGE_ASPECT_COLOR_BIT, 0, VK_REMAINING_MIP_LEVELS,
                                             0, VK_REMAINING_ARRAY_LAYERS };

static int good(VkBuffer buf, VkDeviceSize size)
{
   /* Views of the last mip level and layer, with and without VK_REMAINING_*. */
   VkImage img = color_image(3, 4, VK_IMAGE_TILING_OPTIMAL);
   image_view(img, VK_IMAGE_VIEW_TYPE_2D,
              (VkImageSubresourceRange){ VK_IMAGE_ASPECT_COLOR_BIT, 2, 1, 3, 1 });
   image_view(img, VK_IMAGE_VIEW_TYPE_2D_ARRAY,
              (VkImageSubresourceRange){ VK_IMAGE_ASPECT_COLOR_BIT, 1, VK_REMAINING_MIP_LEVELS, 1,
                                         VK_REMAINING_ARRAY_LAYERS });
   printf("OK image views of the last mip level and layer\n");
   CK(compute_pipeline(0, true, 0));
   push_constant_layout(limits.maxPushConstantsSize - 4, 4);
   printf("OK specialization data, base pipeline index and push constants up to their ends\n");
   CK(render_pass(1, 1, 0));
   CK(render_pass2(VK_SUBPASS_EXTERNAL));
   CK(begin_secondary(0));
   printf("OK render passes naming their last attachment, input attachment, subpass and "
          "external\n");
   if (has_m5)
      subresource_layout(0);
   bind2_buffer(0);
   printf("OK device index 0 and the described image's last layer\n");

   begin();
   VkImageMemoryBarrier2 b2;
   VkDependencyInfo dep = image_dependency(&b2, img, ALL);
   vkCmdPipelineBarrier2(cb, &dep);
   VkClearColorValue red = { .float32 = { 1, 0, 0, 1 } };
   VkImageSubresourceRange last = { VK_IMAGE_ASPECT_COLOR_BIT, 2, 1, 3, 1 };
   vkCmdClearColorImage(cb, img, VK_IMAGE_LAYOUT_GENERAL, &red, 1, &ALL);
   vkCmdClearColorImage(cb, img, VK_IMAGE_LAYOUT_GENERAL, &red, 1, &last);
   buffer_barrier(buf, 0, VK_WHOLE_SIZE);
   buffer_barrier(buf, size - 4, 4);
   VkEvent ev;
   CK(vkCreateEvent(s.dev, &(VkEventCreateInfo){ VK_STRUCTURE_TYPE_EVENT_CREATE_INFO }, NULL, &ev));
   dep = image_dependency(&b2, img, last);
   b2.oldLayout = VK_IMAGE_LAYOUT_GENERAL;
   vkCmdSetEvent2(cb, ev, &dep);
   vkCmdWaitEvents2(cb, 1, &ev, &dep);
   if (has_push)
      push_write(push_layout(), 0, 1, buf);
   submit();
   printf("OK clears, barriers and events over whole images and up to the last byte\n");
   if (has_vi || has_eds3 || has_xfb) {
      /* Dynamic state at the last binding, location and attachment (recorded only: these
       * need a graphics pipeline to draw). */
      CK(vkResetCommandBuffer(cb, 0));
      begin();
      if (has_vi)
         vertex_input(limits.maxVertexInputBindings - 1);
      if (has_eds3) {
         VkColorComponentFlags mask = 0xf;
         DEV_PROC(vkCmdSetColorWriteMaskEXT)(cb, limits.maxColorAttachments - 1, 1, &mask);
      }
      if (has_xfb) {
         VkDeviceSize off = 0;
         DEV_PROC(vkCmdBindTransformFeedbackBuffersEXT)
         (cb, max_xfb_buffers - 1, 1, &buf, &off, NULL);
      }
      CK(vkEndCommandBuffer(cb));
   }
   printf("OK dynamic vertex input, blend and transform feedback state at the last index\n");
   CK(vkDeviceWaitIdle(s.dev));
   printf("OK bad_audit good\n");
   return 0;
}

/* Modes that are not recorded into a command buffer; false if `mode` is none of them. */
static bool bad_object(const char *mode)
{
   if (!strcmp(mode, "--bad-image-view"))
      image_view(color_image(1, 1, VK_IMAGE_TILING_OPTIMAL), VK_IMAGE_VIEW_TYPE_2D,
                 (VkImageSubresourceRange){ VK_IMAGE_ASPECT_COLOR_BIT, 1, 1, 0, 1 });
   else if (!strcmp(mode, "--bad-specialization"))
      compute_pipeline(4, false, -1);
   else if (!strcmp(mode, "--bad-base-index"))
      compute_pipeline(0, true, 5);
   else if (!strcmp(mode, "--bad-push-constant-range"))
      push_constant_layout(limits.maxPushConstantsSize, 4);
   else if (!strcmp(mode, "--bad-render-pass-attachment"))
      render_pass(0, 2, 0);
   else if (!strcmp(mode, "--bad-input-aspect"))
      render_pass(0, 1, 1);
   else if (!strcmp(mode, "--bad-inheritance-subpass")) {
      CK(render_pass(1, 1, 0));
      begin_secondary(1);
   } else if (!strcmp(mode, "--bad-render-pass2-dependency"))
      render_pass2(5);
   else if (!strcmp(mode, "--bad-peer-memory")) {
      VkPeerMemoryFeatureFlags f;
      vkGetDeviceGroupPeerMemoryFeatures(s.dev, 0, 0, 1, &f);
   } else if (!strcmp(mode, "--bad-bind-device-index"))
      bind2_buffer(1);
   else if (!strcmp(mode, "--bad-device-subresource-layout")) {
      if (!has_m5) {
         printf("SKIP no VK_KHR_maintenance5\n");
         exit(0);
      }
      subresource_layout(1);
   } else
      return false;
   return true;
}

static bool needs(bool has, const char *ext)
{
   if (!has)
      printf("SKIP no %s\n", ext);
   return has;
}

/* Modes recorded into a command buffer, then submitted. */
static int bad_command(const char *mode, VkBuffer buf)
{
   VkImage img = color_image(1, 1, VK_IMAGE_TILING_OPTIMAL);
   begin();
   if (!strcmp(mode, "--bad-clear-color")) {
      VkClearColorValue c = { 0 };
      VkImageSubresourceRange r = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 2, 0, 1 };
      vkCmdClearColorImage(cb, img, VK_IMAGE_LAYOUT_GENERAL, &c, 1, &r);
   } else if (!strcmp(mode, "--bad-clear-attachments")) {
      VkClearAttachment att = { VK_IMAGE_ASPECT_COLOR_BIT, 100 };
      VkClearRect rect = { { { 0, 0 }, { W, H } }, 0, 1 };
      vkCmdClearAttachments(cb, 1, &att, 1, &rect);
   } else if (!strcmp(mode, "--bad-barrier-buffer")) {
      buffer_barrier(buf, 0, 2 * W * H * 4);
   } else if (!strcmp(mode, "--bad-barrier2-image") || !strcmp(mode, "--bad-set-event2")) {
      VkImageMemoryBarrier2 b2;
      VkDependencyInfo dep = image_dependency(
         &b2, img, (VkImageSubresourceRange){ VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 1, 1 });
      if (!strcmp(mode, "--bad-set-event2")) {
         VkEvent ev;
         CK(vkCreateEvent(s.dev, &(VkEventCreateInfo){ VK_STRUCTURE_TYPE_EVENT_CREATE_INFO }, NULL,
                          &ev));
         vkCmdSetEvent2(cb, ev, &dep);
      } else {
         vkCmdPipelineBarrier2(cb, &dep);
      }
   } else if (!strcmp(mode, "--bad-xfb-binding")) {
      if (!needs(has_xfb, "VK_EXT_transform_feedback"))
         return 0;
      VkDeviceSize off = 0;
      DEV_PROC(vkCmdBindTransformFeedbackBuffersEXT)(cb, max_xfb_buffers, 1, &buf, &off, NULL);
   } else if (!strcmp(mode, "--bad-push-descriptor")) {
      if (!needs(has_push, "VK_KHR_push_descriptor"))
         return 0;
      push_write(push_layout(), 0, 2, buf);
   } else if (!strcmp(mode, "--bad-push-descriptor-set")) {
      if (!needs(has_push, "VK_KHR_push_descriptor"))
         return 0;
      push_write(push_layout(), 1, 0, buf);
   } else if (!strcmp(mode, "--bad-vertex-input")) {
      if (!needs(has_vi, "VK_EXT_vertex_input_dynamic_state"))
         return 0;
      vertex_input(0);
   } else if (!strcmp(mode, "--bad-dispatch-no-pipeline")) {
      vkCmdDispatch(cb, 1, 1, 1);
   } else if (!strcmp(mode, "--bad-draw-no-pipeline")) {
      vkCmdDraw(cb, 3, 1, 0, 0);
   } else if (!strcmp(mode, "--bad-bind-compute-as-graphics")) {
      CK(compute_pipeline(0, false, -1));
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, last_compute);
   } else if (!strcmp(mode, "--bad-blend-attachment")) {
      if (!needs(has_eds3, "VK_EXT_extended_dynamic_state3"))
         return 0;
      VkColorComponentFlags mask = 0xf;
      DEV_PROC(vkCmdSetColorWriteMaskEXT)(cb, limits.maxColorAttachments, 1, &mask);
   } else {
      printf("FAIL unknown mode %s\n", mode);
      return 2;
   }
   vkEndCommandBuffer(cb);
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE);
   return -1;
}

int main(int argc, char **argv)
{
   const char *mode = argc > 1 && argv[1] ? argv[1] : "--good";
   init();
   cb = smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &cpool);
   VkDeviceMemory mem;
   const VkDeviceSize size = W * H * 4;
   VkBuffer buf =
      smoke_host_buffer(&s, size,
                        VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                           (has_xfb ? VK_BUFFER_USAGE_TRANSFORM_FEEDBACK_BUFFER_BIT_EXT : 0),
                        &mem);
   if (!strcmp(mode, "--good"))
      return good(buf, size);
   printf("sending %s\n", mode);
   fflush(stdout);
   if (!bad_object(mode)) {
      const int rc = bad_command(mode, buf);
      if (rc >= 0)
         return rc;
   }
   vkDeviceWaitIdle(s.dev);
   printf("OK the device survived %s\n", mode);
   return 0;
}
