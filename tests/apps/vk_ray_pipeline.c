/* Ray tracing pipelines (VK_KHR_ray_tracing_pipeline): the scene of vk_ray_query (a unit
 * square of two triangles at z = 0 in a bottom-level acceleration structure, two instances
 * of it with custom indices 5 and 9, the second translated by (1.5, 1, 0.5)), traced by a
 * pipeline of three groups (rt.rgen, rt.rmiss, rt.rchit) through a shader binding table
 * built from vkGetRayTracingShaderGroupHandlesKHR, with vkCmdTraceRaysKHR over a 16x16
 * grid (where the device has VK_EXT_pipeline_library_group_handles, the three groups are a
 * pipeline library linked into the traced pipeline, whose handles must equal the
 * library's).  Each ray stores 1 + the instance's custom index (0: miss, with 77 from the miss
 * shader), the primitive id and the barycentrics x 1000.
 * Prints the grid of hits, a checksum of every value and "OK ray_pipeline", exit 0; "FAIL
 * ..." and exit 1 where a ray known to hit or miss did not; "SKIP no
 * VK_KHR_ray_tracing_pipeline" where the device lacks it (a Mesa 25.0.7 guest).
 * Run by tests/integration/test_apps.sh. */
#include <stdint.h>
#include <string.h>

#include "rt_rchit_spv.h"
#include "rt_rgen_spv.h"
#include "rt_rmiss_spv.h"
#include "smoke.h"

#define GRID 16u

static PFN_vkGetAccelerationStructureBuildSizesKHR build_sizes;
static PFN_vkCreateAccelerationStructureKHR create_as;
static PFN_vkDestroyAccelerationStructureKHR destroy_as;
static PFN_vkCmdBuildAccelerationStructuresKHR cmd_build;
static PFN_vkGetAccelerationStructureDeviceAddressKHR as_address;
static PFN_vkCreateRayTracingPipelinesKHR create_rt;
static PFN_vkGetRayTracingShaderGroupHandlesKHR group_handles;
static PFN_vkCmdTraceRaysKHR trace_rays;

static const char *const exts[] = {
   VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME,
   VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME,
   VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME,
   /* optional: the pipeline as a library linked into another */
   VK_KHR_PIPELINE_LIBRARY_EXTENSION_NAME,
   VK_EXT_PIPELINE_LIBRARY_GROUP_HANDLES_EXTENSION_NAME,
};
#define N_EXTS 3u
static int has_lib; /* both optional extensions */

struct buf {
   VkBuffer buf;
   VkDeviceMemory mem;
   VkDeviceAddress addr;
   void *map;
};

static int has_extensions(VkPhysicalDevice pd)
{
   uint32_t n = 0;
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL));
   VkExtensionProperties *p = calloc(n ? n : 1, sizeof(*p));
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p));
   unsigned found = 0, optional = 0;
   for (uint32_t e = 0; e < N_EXTS + 2; e++)
      for (uint32_t i = 0; i < n; i++)
         *(e < N_EXTS ? &found : &optional) += !strcmp(p[i].extensionName, exts[e]);
   has_lib = optional == 2;
   free(p);
   return found == N_EXTS;
}

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
   if (!has_extensions(s->pd)) {
      printf("SKIP no VK_KHR_ray_tracing_pipeline\n");
      exit(0);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDevicePipelineLibraryGroupHandlesFeaturesEXT lgh = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_LIBRARY_GROUP_HANDLES_FEATURES_EXT,
      .pipelineLibraryGroupHandles = VK_TRUE
   };
   VkPhysicalDeviceRayTracingPipelineFeaturesKHR rt = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR,
      .pNext = has_lib ? &lgh : NULL, .rayTracingPipeline = VK_TRUE
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR asf = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR, .pNext = &rt,
      .accelerationStructure = VK_TRUE
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &asf, .bufferDeviceAddress = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f12,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = N_EXTS + (has_lib ? 2 : 0),
                              .ppEnabledExtensionNames = exts };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
#define LOAD(var, name) var = (PFN_##name)vkGetDeviceProcAddr(s->dev, #name)
   LOAD(build_sizes, vkGetAccelerationStructureBuildSizesKHR);
   LOAD(create_as, vkCreateAccelerationStructureKHR);
   LOAD(destroy_as, vkDestroyAccelerationStructureKHR);
   LOAD(cmd_build, vkCmdBuildAccelerationStructuresKHR);
   LOAD(as_address, vkGetAccelerationStructureDeviceAddressKHR);
   LOAD(create_rt, vkCreateRayTracingPipelinesKHR);
   LOAD(group_handles, vkGetRayTracingShaderGroupHandlesKHR);
   LOAD(trace_rays, vkCmdTraceRaysKHR);
#undef LOAD
   if (!build_sizes || !create_as || !destroy_as || !cmd_build || !as_address || !create_rt ||
       !group_handles || !trace_rays) {
      printf("FAIL ray tracing entry points missing\n");
      exit(1);
   }
}

/* A host-visible buffer with a device address, mapped and zeroed. */
static struct buf make_buf(struct smoke *s, VkDeviceSize size, VkBufferUsageFlags usage)
{
   struct buf b;
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = usage | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT };
   CK(vkCreateBuffer(s->dev, &bci, NULL, &b.buf));
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
   CK(vkAllocateMemory(s->dev, &mai, NULL, &b.mem));
   CK(vkBindBufferMemory(s->dev, b.buf, b.mem, 0));
   CK(vkMapMemory(s->dev, b.mem, 0, VK_WHOLE_SIZE, 0, &b.map));
   memset(b.map, 0, size);
   VkBufferDeviceAddressInfo ai = { VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b.buf };
   b.addr = vkGetBufferDeviceAddress(s->dev, &ai);
   return b;
}

/* An acceleration structure for `info` with `primitives` primitives, in a buffer of its own,
 * built into `cb` with scratch memory from `scratch` (256-byte aligned). */
static VkAccelerationStructureKHR build_as(struct smoke *s, VkCommandBuffer cb,
                                           VkAccelerationStructureBuildGeometryInfoKHR *info,
                                           uint32_t primitives, struct buf *storage,
                                           struct buf *scratch)
{
   VkAccelerationStructureBuildSizesInfoKHR sz = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR
   };
   build_sizes(s->dev, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, info, &primitives, &sz);
   *storage = make_buf(s, sz.accelerationStructureSize,
                       VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR);
   *scratch = make_buf(s, sz.buildScratchSize + 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
   VkAccelerationStructureCreateInfoKHR ci = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_CREATE_INFO_KHR, .buffer = storage->buf,
      .size = sz.accelerationStructureSize, .type = info->type
   };
   VkAccelerationStructureKHR as;
   CK(create_as(s->dev, &ci, NULL, &as));
   info->dstAccelerationStructure = as;
   info->scratchData.deviceAddress = (scratch->addr + 255) & ~(VkDeviceAddress)255;
   const VkAccelerationStructureBuildRangeInfoKHR range = { .primitiveCount = primitives };
   const VkAccelerationStructureBuildRangeInfoKHR *pr = &range;
   cmd_build(cb, 1, info, &pr);
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_ACCELERATION_STRUCTURE_WRITE_BIT_KHR,
                          .dstAccessMask = VK_ACCESS_ACCELERATION_STRUCTURE_READ_BIT_KHR };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR,
                        VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR |
                           VK_PIPELINE_STAGE_RAY_TRACING_SHADER_BIT_KHR,
                        0, 1, &mb, 0, NULL, 0, NULL);
   return as;
}

static VkShaderModule module(struct smoke *s, const uint32_t *code, size_t size)
{
   VkShaderModuleCreateInfo ci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                   .pCode = code };
   VkShaderModule m;
   CK(vkCreateShaderModule(s->dev, &ci, NULL, &m));
   return m;
}

/* The pipeline of three groups (raygen, miss, hit); with VK_EXT_pipeline_library_group_handles
 * made as a library (*lib) linked into the pipeline returned. */
static VkPipeline make_pipeline(struct smoke *s, VkDescriptorSetLayout *dsl, VkPipelineLayout *pl,
                                VkPipeline *lib)
{
   VkDescriptorSetLayoutBinding b[2] = {
      { 0, VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1, VK_SHADER_STAGE_RAYGEN_BIT_KHR, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_RAYGEN_BIT_KHR, NULL },
   };
   VkDescriptorSetLayoutCreateInfo dci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = 2, .pBindings = b };
   CK(vkCreateDescriptorSetLayout(s->dev, &dci, NULL, dsl));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = dsl };
   CK(vkCreatePipelineLayout(s->dev, &plci, NULL, pl));
   VkPipelineShaderStageCreateInfo st[3] = {
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_RAYGEN_BIT_KHR,
        .module = module(s, rt_rgen_spv, sizeof(rt_rgen_spv)), .pName = "main" },
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_MISS_BIT_KHR,
        .module = module(s, rt_rmiss_spv, sizeof(rt_rmiss_spv)), .pName = "main" },
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_CLOSEST_HIT_BIT_KHR,
        .module = module(s, rt_rchit_spv, sizeof(rt_rchit_spv)), .pName = "main" },
   };
   const uint32_t u = VK_SHADER_UNUSED_KHR;
   VkRayTracingShaderGroupCreateInfoKHR g[3] = {
      { VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
        .type = VK_RAY_TRACING_SHADER_GROUP_TYPE_GENERAL_KHR, .generalShader = 0,
        .closestHitShader = u, .anyHitShader = u, .intersectionShader = u },
      { VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
        .type = VK_RAY_TRACING_SHADER_GROUP_TYPE_GENERAL_KHR, .generalShader = 1,
        .closestHitShader = u, .anyHitShader = u, .intersectionShader = u },
      { VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
        .type = VK_RAY_TRACING_SHADER_GROUP_TYPE_TRIANGLES_HIT_GROUP_KHR, .generalShader = u,
        .closestHitShader = 2, .anyHitShader = u, .intersectionShader = u },
   };
   VkRayTracingPipelineInterfaceCreateInfoKHR itf = {
      VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_INTERFACE_CREATE_INFO_KHR,
      .maxPipelineRayPayloadSize = 16, .maxPipelineRayHitAttributeSize = 8
   };
   VkRayTracingPipelineCreateInfoKHR ci = { VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_CREATE_INFO_KHR,
                                            .flags =
                                               has_lib ? VK_PIPELINE_CREATE_LIBRARY_BIT_KHR : 0,
                                            .stageCount = 3,
                                            .pStages = st,
                                            .groupCount = 3,
                                            .pGroups = g,
                                            .maxPipelineRayRecursionDepth = 1,
                                            .pLibraryInterface = has_lib ? &itf : NULL,
                                            .layout = *pl };
   VkPipeline p;
   CK(create_rt(s->dev, VK_NULL_HANDLE, VK_NULL_HANDLE, 1, &ci, NULL, &p));
   for (int i = 0; i < 3; i++)
      vkDestroyShaderModule(s->dev, st[i].module, NULL);
   if (!has_lib)
      return p;
   /* the three groups as a library, linked into a pipeline of no groups of its own */
   *lib = p;
   VkPipelineLibraryCreateInfoKHR li = { VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR,
                                         .libraryCount = 1, .pLibraries = lib };
   VkRayTracingPipelineCreateInfoKHR link = {
      VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_CREATE_INFO_KHR, .maxPipelineRayRecursionDepth = 1,
      .pLibraryInfo = &li, .pLibraryInterface = &itf, .layout = *pl
   };
   CK(create_rt(s->dev, VK_NULL_HANDLE, VK_NULL_HANDLE, 1, &link, NULL, &p));
   return p;
}

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a)
{
   return (v + a - 1) / a * a;
}

int main(void)
{
   struct smoke s;
   make_device(&s);
   VkPhysicalDeviceRayTracingPipelinePropertiesKHR rtp = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_PROPERTIES_KHR
   };
   VkPhysicalDeviceProperties2 props = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &rtp };
   vkGetPhysicalDeviceProperties2(s.pd, &props);

   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(cb, &bi));

   const float verts[4][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 1, 0 } };
   const uint32_t idx[6] = { 0, 1, 2, 2, 1, 3 };
   const VkBufferUsageFlags input =
      VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR;
   struct buf vb = make_buf(&s, sizeof(verts), input), ib = make_buf(&s, sizeof(idx), input);
   memcpy(vb.map, verts, sizeof(verts));
   memcpy(ib.map, idx, sizeof(idx));
   VkAccelerationStructureGeometryKHR tri = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_TRIANGLES_KHR,
      .geometry.triangles = { VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_TRIANGLES_DATA_KHR,
                              .vertexFormat = VK_FORMAT_R32G32B32_SFLOAT,
                              .vertexData.deviceAddress = vb.addr, .vertexStride = sizeof(verts[0]),
                              .maxVertex = 3, .indexType = VK_INDEX_TYPE_UINT32,
                              .indexData.deviceAddress = ib.addr },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR
   };
   VkAccelerationStructureBuildGeometryInfoKHR blas_info = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR, .geometryCount = 1,
      .pGeometries = &tri
   };
   struct buf blas_mem, blas_scratch, tlas_mem, tlas_scratch;
   VkAccelerationStructureKHR blas = build_as(&s, cb, &blas_info, 2, &blas_mem, &blas_scratch);
   VkAccelerationStructureDeviceAddressInfoKHR dai = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_DEVICE_ADDRESS_INFO_KHR,
      .accelerationStructure = blas
   };
   VkAccelerationStructureInstanceKHR inst[2] = {
      { .transform = { { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } } },
        .instanceCustomIndex = 5,
        .mask = 0xff,
        .accelerationStructureReference = as_address(s.dev, &dai) },
      { .transform = { { { 1, 0, 0, 1.5f }, { 0, 1, 0, 1 }, { 0, 0, 1, 0.5f } } },
        .instanceCustomIndex = 9,
        .mask = 0xff,
        .accelerationStructureReference = as_address(s.dev, &dai) },
   };
   struct buf instb = make_buf(&s, sizeof(inst), input);
   memcpy(instb.map, inst, sizeof(inst));
   VkAccelerationStructureGeometryKHR insts = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_INSTANCES_KHR,
      .geometry.instances = { VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_INSTANCES_DATA_KHR,
                              .data.deviceAddress = instb.addr },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR
   };
   VkAccelerationStructureBuildGeometryInfoKHR tlas_info = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR, .geometryCount = 1,
      .pGeometries = &insts
   };
   VkAccelerationStructureKHR tlas = build_as(&s, cb, &tlas_info, 2, &tlas_mem, &tlas_scratch);

   VkDescriptorSetLayout dsl;
   VkPipelineLayout pl;
   VkPipeline lib = VK_NULL_HANDLE;
   VkPipeline pipe = make_pipeline(&s, &dsl, &pl, &lib);
   /* the shader binding table: raygen, miss, hit, one record each, base-aligned */
   const uint32_t hsize = rtp.shaderGroupHandleSize;
   uint8_t handles[3 * 64];
   if (hsize > 64) {
      printf("FAIL shaderGroupHandleSize %u\n", hsize);
      return 1;
   }
   CK(group_handles(s.dev, pipe, 0, 3, 3 * hsize, handles));
   if (lib) { /* the library's handles are the linked pipeline's */
      uint8_t lib_handles[3 * 64];
      CK(group_handles(s.dev, lib, 0, 3, 3 * hsize, lib_handles));
      printf("library group handles equal the linked pipeline's: %s\n",
             memcmp(handles, lib_handles, 3 * hsize) ? "no" : "yes");
   } else {
      printf("library group handles: no VK_EXT_pipeline_library_group_handles\n");
   }
   const VkDeviceSize stride = align_up(hsize, rtp.shaderGroupHandleAlignment);
   const VkDeviceSize region = align_up(stride, rtp.shaderGroupBaseAlignment);
   struct buf sbt = make_buf(&s, 3 * region + rtp.shaderGroupBaseAlignment,
                             VK_BUFFER_USAGE_SHADER_BINDING_TABLE_BIT_KHR);
   const VkDeviceAddress base = align_up(sbt.addr, rtp.shaderGroupBaseAlignment);
   for (int i = 0; i < 3; i++)
      memcpy((uint8_t *)sbt.map + (base - sbt.addr) + i * region, handles + i * hsize, hsize);
   const VkStridedDeviceAddressRegionKHR rgen = { base, stride, stride };
   const VkStridedDeviceAddressRegionKHR miss = { base + region, stride, stride };
   const VkStridedDeviceAddressRegionKHR hit = { base + 2 * region, stride, stride };
   const VkStridedDeviceAddressRegionKHR none = { 0 };

   struct buf out = make_buf(&s, GRID * GRID * 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
   VkDescriptorPoolSize ps[2] = { { VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1 },
                                  { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 } };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                       .poolSizeCount = 2, .pPoolSizes = ps };
   VkDescriptorPool dp;
   CK(vkCreateDescriptorPool(s.dev, &dpci, NULL, &dp));
   VkDescriptorSetAllocateInfo dsai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .descriptorPool = dp, .descriptorSetCount = 1,
                                        .pSetLayouts = &dsl };
   VkDescriptorSet set;
   CK(vkAllocateDescriptorSets(s.dev, &dsai, &set));
   VkWriteDescriptorSetAccelerationStructureKHR was = {
      VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_ACCELERATION_STRUCTURE_KHR,
      .accelerationStructureCount = 1, .pAccelerationStructures = &tlas
   };
   VkDescriptorBufferInfo obi = { out.buf, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet w[2] = {
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .pNext = &was, .dstSet = set, .dstBinding = 0,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR },
      { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 1,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &obi },
   };
   vkUpdateDescriptorSets(s.dev, 2, w, 0, NULL);

   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR, pipe);
   vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR, pl, 0, 1, &set, 0, NULL);
   trace_rays(cb, &rgen, &miss, &hit, &none, GRID, GRID, 1);
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_RAY_TRACING_SHADER_BIT_KHR,
                        VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));

   const uint32_t(*v)[4] = out.map;
   uint64_t sum = 0;
   for (uint32_t y = 0; y < GRID; y++) {
      char row[GRID + 1];
      for (uint32_t x = 0; x < GRID; x++) {
         const uint32_t *o = v[y * GRID + x];
         row[x] = o[0] ? (char)('0' + o[0] % 10) : o[3] == 77 ? '.' : '?';
         for (int k = 0; k < 4; k++)
            sum = sum * 1099511628211ull ^ o[k];
      }
      row[GRID] = 0;
      printf("row %2u %s\n", y, row);
   }
   printf("checksum %016llx\n", (unsigned long long)sum);
   /* (5, 5) lies inside the first instance only, (11, 9) inside the second only, (0, 0)
    * misses (see vk_ray_query.c) */
   const uint32_t *a = v[5 * GRID + 5], *b = v[9 * GRID + 11], *c = v[0];
   if (a[0] != 6 || b[0] != 10 || c[0] != 0 || c[3] != 77) {
      printf("FAIL hits: (5,5) %u, want 6; (11,9) %u, want 10; (0,0) %u/%u, want 0/77\n", a[0],
             b[0], c[0], c[3]);
      return 1;
   }
   printf("OK ray_pipeline\n");

   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyDescriptorPool(s.dev, dp, NULL);
   vkDestroyPipeline(s.dev, pipe, NULL);
   if (lib)
      vkDestroyPipeline(s.dev, lib, NULL);
   vkDestroyPipelineLayout(s.dev, pl, NULL);
   vkDestroyDescriptorSetLayout(s.dev, dsl, NULL);
   destroy_as(s.dev, tlas, NULL);
   destroy_as(s.dev, blas, NULL);
   struct buf *bufs[] = { &vb,       &ib,           &instb, &blas_mem, &blas_scratch,
                          &tlas_mem, &tlas_scratch, &sbt,   &out };
   for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
      vkDestroyBuffer(s.dev, bufs[i]->buf, NULL);
      vkFreeMemory(s.dev, bufs[i]->mem, NULL);
   }
   smoke_fini(&s);
   return 0;
}
