/* Bad acceleration structure input (src/vk/accel.c, src/vk/device_address.c): each --bad-*
 * mode records one invalid value that the driver would trust, through the Mesa 26 Venus
 * driver; venusd must make the context fatal before the driver sees it (lavapipe
 * dereferences device addresses as host pointers).  --good builds a bottom-level structure
 * of one triangle with every value at its valid edge and prints "OK bad_rt good".
 * The ray tracing pipeline modes (group indices and ranges, handle data size, shader binding
 * table regions) need VK_KHR_ray_tracing_pipeline; --good also creates a one-group
 * pipeline and asks for its handle and stack size where the device has it.
 * "SKIP no VK_KHR_acceleration_structure" where the device lacks it (a Mesa 25.0.7 guest).
 * Run by tests/integration/test_guest_ranges.sh. */
#include <stdint.h>
#include <string.h>

#include "rt_rgen_spv.h"
#include "smoke.h"

static PFN_vkGetAccelerationStructureBuildSizesKHR build_sizes;
static PFN_vkCreateAccelerationStructureKHR create_as;
static PFN_vkCmdBuildAccelerationStructuresKHR cmd_build;
static PFN_vkCreateRayTracingPipelinesKHR create_rt;
static PFN_vkGetRayTracingShaderGroupHandlesKHR group_handles;
static PFN_vkGetRayTracingShaderGroupStackSizeKHR stack_size;
static PFN_vkCmdTraceRaysKHR trace_rays;
static int has_rt; /* VK_KHR_ray_tracing_pipeline enabled */

static const char *const exts[] = {
   VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME,
   VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME,
   VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME,
};

struct buf {
   VkBuffer buf;
   VkDeviceAddress addr;
   void *map;
};

static void make_device(struct smoke *s)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s->inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s->inst, &n, &s->pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   uint32_t count = 0;
   CK(vkEnumerateDeviceExtensionProperties(s->pd, NULL, &count, NULL));
   VkExtensionProperties *p = calloc(count ? count : 1, sizeof(*p));
   CK(vkEnumerateDeviceExtensionProperties(s->pd, NULL, &count, p));
   int found = 0;
   for (uint32_t i = 0; i < count; i++) {
      found |= !strcmp(p[i].extensionName, exts[0]);
      has_rt |= !strcmp(p[i].extensionName, exts[2]);
   }
   free(p);
   if (!found) {
      printf("SKIP no VK_KHR_acceleration_structure\n");
      exit(0);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceRayTracingPipelineFeaturesKHR rt = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR,
      .rayTracingPipeline = VK_TRUE
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR asf = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = has_rt ? &rt : NULL, .accelerationStructure = VK_TRUE
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &asf, .bufferDeviceAddress = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f12,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = has_rt ? 3 : 2,
                              .ppEnabledExtensionNames = exts };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
   build_sizes = (PFN_vkGetAccelerationStructureBuildSizesKHR)vkGetDeviceProcAddr(
      s->dev, "vkGetAccelerationStructureBuildSizesKHR");
   create_as = (PFN_vkCreateAccelerationStructureKHR)vkGetDeviceProcAddr(
      s->dev, "vkCreateAccelerationStructureKHR");
   cmd_build = (PFN_vkCmdBuildAccelerationStructuresKHR)vkGetDeviceProcAddr(
      s->dev, "vkCmdBuildAccelerationStructuresKHR");
   create_rt = (PFN_vkCreateRayTracingPipelinesKHR)vkGetDeviceProcAddr(
      s->dev, "vkCreateRayTracingPipelinesKHR");
   group_handles = (PFN_vkGetRayTracingShaderGroupHandlesKHR)vkGetDeviceProcAddr(
      s->dev, "vkGetRayTracingShaderGroupHandlesKHR");
   stack_size = (PFN_vkGetRayTracingShaderGroupStackSizeKHR)vkGetDeviceProcAddr(
      s->dev, "vkGetRayTracingShaderGroupStackSizeKHR");
   trace_rays = (PFN_vkCmdTraceRaysKHR)vkGetDeviceProcAddr(s->dev, "vkCmdTraceRaysKHR");
   if (!build_sizes || !create_as || !cmd_build ||
       (has_rt && (!create_rt || !group_handles || !stack_size || !trace_rays))) {
      printf("FAIL acceleration structure entry points missing\n");
      exit(1);
   }
}

/* A host-visible buffer of `size` bytes with a device address; bound unless !bind. */
static struct buf make_buf(struct smoke *s, VkDeviceSize size, VkBufferUsageFlags usage, int bind)
{
   struct buf b = { 0 };
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = usage | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT };
   CK(vkCreateBuffer(s->dev, &bci, NULL, &b.buf));
   if (!bind)
      return b;
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(s->dev, b.buf, &mr);
   VkMemoryAllocateFlagsInfo fi = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT };
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi,
                                .allocationSize = mr.size,
                                .memoryTypeIndex =
                                   smoke_memory_type(s, mr.memoryTypeBits,
                                                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s->dev, &mai, NULL, &mem));
   CK(vkBindBufferMemory(s->dev, b.buf, mem, 0));
   CK(vkMapMemory(s->dev, mem, 0, VK_WHOLE_SIZE, 0, &b.map));
   VkBufferDeviceAddressInfo ai = { VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b.buf };
   b.addr = vkGetBufferDeviceAddress(s->dev, &ai);
   return b;
}

static VkAccelerationStructureKHR make_as(struct smoke *s, VkDeviceSize buf_size, VkDeviceSize size,
                                          int bind)
{
   struct buf st =
      make_buf(s, buf_size, VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR, bind);
   VkAccelerationStructureCreateInfoKHR ci = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_CREATE_INFO_KHR, .buffer = st.buf, .size = size,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR
   };
   VkAccelerationStructureKHR as;
   CK(create_as(s->dev, &ci, NULL, &as));
   return as;
}

static int is(const char *mode, const char *name)
{
   return !strcmp(mode, name);
}

/* A ray tracing pipeline of one raygen group (rt.rgen); --bad-group-index names a second
 * stage that does not exist. */
static VkPipeline make_rt_pipeline(struct smoke *s, const char *mode)
{
   VkDescriptorSetLayoutBinding b[2] = {
      { 0, VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1, VK_SHADER_STAGE_RAYGEN_BIT_KHR, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_RAYGEN_BIT_KHR, NULL },
   };
   VkDescriptorSetLayoutCreateInfo dci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = 2, .pBindings = b };
   VkDescriptorSetLayout dsl;
   CK(vkCreateDescriptorSetLayout(s->dev, &dci, NULL, &dsl));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &dsl };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s->dev, &plci, NULL, &pl));
   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(rt_rgen_spv), .pCode = rt_rgen_spv };
   VkPipelineShaderStageCreateInfo st = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                          .stage = VK_SHADER_STAGE_RAYGEN_BIT_KHR,
                                          .pName = "main" };
   CK(vkCreateShaderModule(s->dev, &smci, NULL, &st.module));
   const uint32_t u = VK_SHADER_UNUSED_KHR;
   VkRayTracingShaderGroupCreateInfoKHR g = {
      VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
      .type = VK_RAY_TRACING_SHADER_GROUP_TYPE_GENERAL_KHR,
      .generalShader = is(mode, "--bad-group-index") ? 1 : 0,
      .closestHitShader = u,
      .anyHitShader = u,
      .intersectionShader = u
   };
   VkRayTracingPipelineCreateInfoKHR ci = { VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_CREATE_INFO_KHR,
                                            .stageCount = 1,
                                            .pStages = &st,
                                            .groupCount = 1,
                                            .pGroups = &g,
                                            .maxPipelineRayRecursionDepth = 1,
                                            .layout = pl };
   VkPipeline p;
   CK(create_rt(s->dev, VK_NULL_HANDLE, VK_NULL_HANDLE, 1, &ci, NULL, &p));
   return p;
}

/* The ray tracing pipeline modes: group indices and ranges, handle data size, shader
 * binding table regions (its one raygen record in a buffer of exactly one record). */
static void rt_modes(struct smoke *s, const char *mode)
{
   if (!has_rt) {
      printf("SKIP no VK_KHR_ray_tracing_pipeline\n");
      exit(0);
   }
   VkPhysicalDeviceRayTracingPipelinePropertiesKHR rtp = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_PROPERTIES_KHR
   };
   VkPhysicalDeviceProperties2 props = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &rtp };
   vkGetPhysicalDeviceProperties2(s->pd, &props);
   VkPipeline p = make_rt_pipeline(s, mode);
   uint8_t handle[64] = { 0 };
   const uint32_t first = is(mode, "--bad-group-handles") ? 1 : 0;
   const size_t size =
      is(mode, "--bad-handles-size") ? rtp.shaderGroupHandleSize - 1 : rtp.shaderGroupHandleSize;
   if (rtp.shaderGroupHandleSize > sizeof(handle)) {
      printf("FAIL shaderGroupHandleSize %u\n", rtp.shaderGroupHandleSize);
      exit(1);
   }
   CK(group_handles(s->dev, p, first, 1, size, handle));
   (void)stack_size(s->dev, p, is(mode, "--bad-stack-group") ? 1 : 0,
                    VK_SHADER_GROUP_SHADER_GENERAL_KHR);
   const VkDeviceSize rec = rtp.shaderGroupBaseAlignment > rtp.shaderGroupHandleSize
                               ? rtp.shaderGroupBaseAlignment
                               : rtp.shaderGroupHandleSize;
   struct buf sbt = make_buf(s, 2 * rec, VK_BUFFER_USAGE_SHADER_BINDING_TABLE_BIT_KHR, 1);
   VkStridedDeviceAddressRegionKHR rgen = { (sbt.addr + rec - 1) / rec * rec,
                                            rtp.shaderGroupHandleSize, rtp.shaderGroupHandleSize };
   if (is(mode, "--bad-sbt-stride")) /* the raygen region's stride must be its size */
      rgen.size = 2 * rgen.stride;
   if (is(mode, "--bad-sbt-address")) /* no buffer there */
      rgen.deviceAddress = 0x10000;
   const VkStridedDeviceAddressRegionKHR none = { 0 };
   if (is(mode, "--good"))
      return; /* no trace: the pipeline's shader would need its descriptors */
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR, p);
   trace_rays(cb, &rgen, &none, &none, &none, 1, 1, 1);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s->q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s->q));
   printf("FAIL bad_rt %s: no error\n", mode);
   exit(1);
}

int main(int argc, char **argv)
{
   const char *mode = argc > 1 ? argv[1] : "--good";
   struct smoke s;
   make_device(&s);
   if (!strncmp(mode, "--bad-rt-", 9) || is(mode, "--bad-group-index") ||
       is(mode, "--bad-group-handles") || is(mode, "--bad-handles-size") ||
       is(mode, "--bad-stack-group") || is(mode, "--bad-sbt-stride") ||
       is(mode, "--bad-sbt-address"))
      rt_modes(&s, mode);

   /* one triangle: 3 vertices of 12 bytes, exactly the vertex buffer */
   struct buf vb =
      make_buf(&s, 36, VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR, 1);
   const float verts[9] = { 0, 0, 0, 1, 0, 0, 0, 1, 0 };
   memcpy(vb.map, verts, sizeof(verts));
   VkAccelerationStructureGeometryKHR tri = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_TRIANGLES_KHR,
      .geometry.triangles = { VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_TRIANGLES_DATA_KHR,
                              .vertexFormat = VK_FORMAT_R32G32B32_SFLOAT,
                              .vertexData.deviceAddress = vb.addr, .vertexStride = 12,
                              .maxVertex = 2, .indexType = VK_INDEX_TYPE_NONE_KHR },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR
   };
   VkAccelerationStructureBuildGeometryInfoKHR info = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR, .geometryCount = 1,
      .pGeometries = &tri
   };
   const uint32_t one = 1;
   VkAccelerationStructureBuildSizesInfoKHR sz = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR
   };
   build_sizes(s.dev, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, &info, &one, &sz);

   if (is(mode, "--bad-as-range")) /* 256 bytes more than its buffer */
      make_as(&s, sz.accelerationStructureSize, sz.accelerationStructureSize + 256, 1);
   else if (is(mode, "--bad-as-unbound"))
      make_as(&s, sz.accelerationStructureSize, sz.accelerationStructureSize, 0);
   const int small_dst = is(mode, "--bad-dst-size");
   info.dstAccelerationStructure =
      make_as(&s, sz.accelerationStructureSize, small_dst ? 64 : sz.accelerationStructureSize, 1);
   const VkDeviceSize scratch_size = is(mode, "--bad-scratch") ? 16 : sz.buildScratchSize + 256;
   struct buf scratch = make_buf(&s, scratch_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, 1);
   info.scratchData.deviceAddress = (scratch.addr + 255) & ~(VkDeviceAddress)255;
   if (is(mode, "--bad-scratch"))
      info.scratchData.deviceAddress = scratch.addr;
   if (is(mode, "--bad-address")) /* no buffer there */
      tri.geometry.triangles.vertexData.deviceAddress = 0x10000;
   if (is(mode, "--bad-address-range")) /* the third vertex ends 4 bytes past the buffer */
      tri.geometry.triangles.vertexData.deviceAddress = vb.addr + 4;
   if (is(mode, "--bad-geometries"))
      info.pGeometries = NULL;
   VkAccelerationStructureBuildRangeInfoKHR range = { .primitiveCount = 1 };
   if (is(mode, "--bad-primitive-count"))
      range.primitiveCount = 0x80000000u;
   const VkAccelerationStructureBuildRangeInfoKHR *pr = &range;

   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   cmd_build(cb, 1, &info, &pr);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
   if (!is(mode, "--good")) {
      printf("FAIL bad_rt %s: no error\n", mode);
      return 1;
   }
   if (has_rt)
      rt_modes(&s, mode);
   printf("OK bad_rt good\n");
   return 0;
}
