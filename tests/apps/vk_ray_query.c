/* Ray queries (VK_KHR_ray_query, VK_KHR_acceleration_structure): a bottom-level acceleration
 * structure of two triangles (a unit square at z = 0, built from pGeometries with an index
 * buffer), a top-level one of two instances of it (custom indices 5 and 9, the second
 * translated by (1.5, 1, 0.5); built from ppGeometries), and a compute shader
 * (ray_query.comp) that casts a 16x16 grid of rays along +z and writes, per ray, 1 + the
 * instance's custom index (0: miss), the primitive id and the barycentrics x 1000.  The
 * compacted size of the bottom-level structure is queried on the GPU
 * (vkCmdWriteAccelerationStructuresPropertiesKHR), and its size too where the device has
 * VK_KHR_ray_tracing_maintenance1.
 * Prints the grid of hits, a checksum of every value and "OK ray_query", exit 0; "FAIL ..."
 * and exit 1 where a ray known to hit or miss did not; "SKIP no VK_KHR_ray_query" where the
 * device lacks the extensions (a Mesa 25.0.7 guest: not in its protocol).
 * Run by tests/integration/test_apps.sh and test_protocol_levels.sh. */
#include <stdint.h>
#include <string.h>

#include "ray_query_comp_spv.h"
#include "smoke.h"

#define GRID 16u

static PFN_vkGetAccelerationStructureBuildSizesKHR build_sizes;
static PFN_vkCreateAccelerationStructureKHR create_as;
static PFN_vkDestroyAccelerationStructureKHR destroy_as;
static PFN_vkCmdBuildAccelerationStructuresKHR cmd_build;
static PFN_vkGetAccelerationStructureDeviceAddressKHR as_address;
static PFN_vkCmdWriteAccelerationStructuresPropertiesKHR cmd_write_props;

static const char *const exts[] = {
   VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME, VK_KHR_RAY_QUERY_EXTENSION_NAME,
   VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME,
   VK_KHR_RAY_TRACING_MAINTENANCE_1_EXTENSION_NAME, /* optional: the size query */
};
#define N_REQUIRED 3u
static int has_maintenance1;

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
   unsigned found = 0;
   for (uint32_t e = 0; e < N_REQUIRED; e++)
      for (uint32_t i = 0; i < n; i++)
         found += !strcmp(p[i].extensionName, exts[e]);
   for (uint32_t i = 0; i < n; i++)
      has_maintenance1 |= !strcmp(p[i].extensionName, exts[N_REQUIRED]);
   free(p);
   return found == N_REQUIRED;
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
      printf("SKIP no VK_KHR_ray_query\n");
      exit(0);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceRayTracingMaintenance1FeaturesKHR m1 = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_MAINTENANCE_1_FEATURES_KHR,
      .rayTracingMaintenance1 = VK_TRUE
   };
   VkPhysicalDeviceRayQueryFeaturesKHR rq = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_QUERY_FEATURES_KHR,
      .pNext = has_maintenance1 ? &m1 : NULL, .rayQuery = VK_TRUE
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR asf = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR, .pNext = &rq,
      .accelerationStructure = VK_TRUE
   };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &asf, .bufferDeviceAddress = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f12,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = N_REQUIRED + (has_maintenance1 ? 1 : 0),
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
   LOAD(cmd_write_props, vkCmdWriteAccelerationStructuresPropertiesKHR);
#undef LOAD
   if (!build_sizes || !create_as || !destroy_as || !cmd_build || !as_address || !cmd_write_props) {
      printf("FAIL acceleration structure entry points missing\n");
      exit(1);
   }
}

/* A host-visible buffer with a device address, mapped. */
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

static void free_buf(struct smoke *s, struct buf *b)
{
   vkDestroyBuffer(s->dev, b->buf, NULL);
   vkFreeMemory(s->dev, b->mem, NULL);
}

/* An acceleration structure of `size` bytes in a buffer of its own. */
static VkAccelerationStructureKHR make_as(struct smoke *s, VkAccelerationStructureTypeKHR type,
                                          VkDeviceSize size, struct buf *storage)
{
   *storage = make_buf(s, size, VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR);
   VkAccelerationStructureCreateInfoKHR ci = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_CREATE_INFO_KHR, .buffer = storage->buf,
      .size = size, .type = type
   };
   VkAccelerationStructureKHR as;
   CK(create_as(s->dev, &ci, NULL, &as));
   return as;
}

static void barrier(VkCommandBuffer cb, VkPipelineStageFlags src, VkAccessFlags src_access,
                    VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src_access,
                          .dstAccessMask = dst_access };
   vkCmdPipelineBarrier(cb, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static VkPipeline make_pipeline(struct smoke *s, VkDescriptorSetLayout *dsl, VkPipelineLayout *pl)
{
   VkDescriptorSetLayoutBinding b[2] = {
      { 0, VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
   };
   VkDescriptorSetLayoutCreateInfo dci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = 2, .pBindings = b };
   CK(vkCreateDescriptorSetLayout(s->dev, &dci, NULL, dsl));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = dsl };
   CK(vkCreatePipelineLayout(s->dev, &plci, NULL, pl));
   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(ray_query_comp_spv),
                                     .pCode = ray_query_comp_spv };
   VkShaderModule sm;
   CK(vkCreateShaderModule(s->dev, &smci, NULL, &sm));
   VkComputePipelineCreateInfo cpci = {
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = sm, .pName = "main" },
      .layout = *pl
   };
   VkPipeline p;
   CK(vkCreateComputePipelines(s->dev, VK_NULL_HANDLE, 1, &cpci, NULL, &p));
   vkDestroyShaderModule(s->dev, sm, NULL);
   return p;
}

/* The build info of one geometry, with its sizes asked of the device. */
static VkAccelerationStructureBuildSizesInfoKHR sizes_of(
   struct smoke *s, VkAccelerationStructureBuildGeometryInfoKHR *info, uint32_t primitives)
{
   VkAccelerationStructureBuildSizesInfoKHR sz = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR
   };
   build_sizes(s->dev, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, info, &primitives, &sz);
   if (!sz.accelerationStructureSize) {
      printf("FAIL vkGetAccelerationStructureBuildSizesKHR: size 0\n");
      exit(1);
   }
   return sz;
}

int main(void)
{
   struct smoke s;
   make_device(&s);

   /* bottom level: a unit square at z = 0, two indexed triangles */
   const float verts[4][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 1, 0 } };
   const uint32_t idx[6] = { 0, 1, 2, 2, 1, 3 };
   struct buf vb = make_buf(&s, sizeof(verts),
                            VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR);
   struct buf ib = make_buf(&s, sizeof(idx),
                            VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR);
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
      .flags = VK_BUILD_ACCELERATION_STRUCTURE_PREFER_FAST_TRACE_BIT_KHR |
               VK_BUILD_ACCELERATION_STRUCTURE_ALLOW_COMPACTION_BIT_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR,
      .geometryCount = 1,
      .pGeometries = &tri
   };
   VkAccelerationStructureBuildSizesInfoKHR bsz = sizes_of(&s, &blas_info, 2);
   struct buf blas_mem, tlas_mem;
   VkAccelerationStructureKHR blas = make_as(&s, VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
                                             bsz.accelerationStructureSize, &blas_mem);
   VkAccelerationStructureDeviceAddressInfoKHR dai = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_DEVICE_ADDRESS_INFO_KHR,
      .accelerationStructure = blas
   };
   const VkDeviceAddress blas_addr = as_address(s.dev, &dai);

   /* top level: two instances of it */
   VkAccelerationStructureInstanceKHR inst[2] = {
      { .transform = { { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } } },
        .instanceCustomIndex = 5,
        .mask = 0xff,
        .accelerationStructureReference = blas_addr },
      { .transform = { { { 1, 0, 0, 1.5f }, { 0, 1, 0, 1 }, { 0, 0, 1, 0.5f } } },
        .instanceCustomIndex = 9,
        .mask = 0xff,
        .accelerationStructureReference = blas_addr },
   };
   struct buf instb = make_buf(
      &s, sizeof(inst), VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR);
   memcpy(instb.map, inst, sizeof(inst));
   VkAccelerationStructureGeometryKHR insts = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_INSTANCES_KHR,
      .geometry.instances = { VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_INSTANCES_DATA_KHR,
                              .data.deviceAddress = instb.addr },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR
   };
   const VkAccelerationStructureGeometryKHR *pinsts = &insts;
   VkAccelerationStructureBuildGeometryInfoKHR tlas_info = {
      VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR, .geometryCount = 1,
      .ppGeometries = &pinsts
   };
   VkAccelerationStructureBuildSizesInfoKHR tsz = sizes_of(&s, &tlas_info, 2);
   VkAccelerationStructureKHR tlas = make_as(&s, VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR,
                                             tsz.accelerationStructureSize, &tlas_mem);
   /* scratch for both builds, each 256-byte aligned */
   const VkDeviceSize bscratch = (bsz.buildScratchSize + 255) & ~(VkDeviceSize)255;
   struct buf scratch =
      make_buf(&s, bscratch + tsz.buildScratchSize + 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
   const VkDeviceAddress sbase = (scratch.addr + 255) & ~(VkDeviceAddress)255;
   blas_info.dstAccelerationStructure = blas;
   blas_info.scratchData.deviceAddress = sbase;
   tlas_info.dstAccelerationStructure = tlas;
   tlas_info.scratchData.deviceAddress = sbase + bscratch;

   struct buf out = make_buf(&s, GRID * GRID * 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
   VkDescriptorSetLayout dsl;
   VkPipelineLayout pl;
   VkPipeline pipe = make_pipeline(&s, &dsl, &pl);
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
   VkQueryPoolCreateInfo qpci = { VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                  .queryType =
                                     VK_QUERY_TYPE_ACCELERATION_STRUCTURE_COMPACTED_SIZE_KHR,
                                  .queryCount = 1 };
   VkQueryPool qp, qsize = VK_NULL_HANDLE;
   CK(vkCreateQueryPool(s.dev, &qpci, NULL, &qp));
   if (has_maintenance1) { /* VK_KHR_ray_tracing_maintenance1's size query */
      qpci.queryType = VK_QUERY_TYPE_ACCELERATION_STRUCTURE_SIZE_KHR;
      CK(vkCreateQueryPool(s.dev, &qpci, NULL, &qsize));
   }

   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdResetQueryPool(cb, qp, 0, 1);
   if (qsize)
      vkCmdResetQueryPool(cb, qsize, 0, 1);
   const VkAccelerationStructureBuildRangeInfoKHR brange = { .primitiveCount = 2 };
   const VkAccelerationStructureBuildRangeInfoKHR *pbrange = &brange;
   cmd_build(cb, 1, &blas_info, &pbrange);
   const VkPipelineStageFlags as_stage = VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR;
   barrier(cb, as_stage, VK_ACCESS_ACCELERATION_STRUCTURE_WRITE_BIT_KHR, as_stage,
           VK_ACCESS_ACCELERATION_STRUCTURE_READ_BIT_KHR);
   cmd_write_props(cb, 1, &blas, VK_QUERY_TYPE_ACCELERATION_STRUCTURE_COMPACTED_SIZE_KHR, qp, 0);
   if (qsize)
      cmd_write_props(cb, 1, &blas, VK_QUERY_TYPE_ACCELERATION_STRUCTURE_SIZE_KHR, qsize, 0);
   const VkAccelerationStructureBuildRangeInfoKHR trange = { .primitiveCount = 2 };
   const VkAccelerationStructureBuildRangeInfoKHR *ptrange = &trange;
   cmd_build(cb, 1, &tlas_info, &ptrange);
   barrier(cb, as_stage, VK_ACCESS_ACCELERATION_STRUCTURE_WRITE_BIT_KHR,
           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_ACCELERATION_STRUCTURE_READ_BIT_KHR);
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
   vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 1, &set, 0, NULL);
   vkCmdDispatch(cb, 1, 1, 1);
   barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
           VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));

   uint64_t compacted = 0;
   CK(vkGetQueryPoolResults(s.dev, qp, 0, 1, sizeof(compacted), &compacted, sizeof(compacted),
                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
   uint64_t as_size = 0;
   if (qsize)
      CK(vkGetQueryPoolResults(s.dev, qsize, 0, 1, sizeof(as_size), &as_size, sizeof(as_size),
                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
   const uint32_t(*v)[4] = out.map;
   uint64_t sum = 0;
   for (uint32_t y = 0; y < GRID; y++) {
      char row[GRID + 1];
      for (uint32_t x = 0; x < GRID; x++) {
         const uint32_t *o = v[y * GRID + x];
         row[x] = o[0] ? (char)('0' + o[0] % 10) : '.';
         for (int k = 0; k < 4; k++)
            sum = sum * 1099511628211ull ^ o[k];
      }
      row[GRID] = 0;
      printf("row %2u %s\n", y, row);
   }
   printf("compacted size > 0: %s\n", compacted ? "yes" : "no");
   if (qsize)
      printf("size (VK_KHR_ray_tracing_maintenance1) %s the build's %llu bytes\n",
             as_size == bsz.accelerationStructureSize ? "is" : "is NOT",
             (unsigned long long)bsz.accelerationStructureSize);
   else
      printf("size query: no VK_KHR_ray_tracing_maintenance1\n");
   printf("checksum %016llx\n", (unsigned long long)sum);
   /* ray (x, y) starts at -1 + (x + 0.5) / 4: (5, 5) is at (0.375, 0.375), inside the first
    * instance only; (11, 9) at (1.875, 1.375), inside the second only; (0, 0) misses. */
   const uint32_t *a = v[5 * GRID + 5], *b = v[9 * GRID + 11], *c = v[0];
   if (a[0] != 6 || b[0] != 10 || c[0] != 0 || !compacted) {
      printf("FAIL hits: (5,5) %u, want 6; (11,9) %u, want 10; (0,0) %u, want 0; compacted %llu\n",
             a[0], b[0], c[0], (unsigned long long)compacted);
      return 1;
   }
   printf("OK ray_query\n");

   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyQueryPool(s.dev, qp, NULL);
   if (qsize)
      vkDestroyQueryPool(s.dev, qsize, NULL);
   vkDestroyDescriptorPool(s.dev, dp, NULL);
   vkDestroyPipeline(s.dev, pipe, NULL);
   vkDestroyPipelineLayout(s.dev, pl, NULL);
   vkDestroyDescriptorSetLayout(s.dev, dsl, NULL);
   destroy_as(s.dev, tlas, NULL);
   destroy_as(s.dev, blas, NULL);
   struct buf *bufs[] = { &vb, &ib, &instb, &scratch, &out, &blas_mem, &tlas_mem };
   for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
      free_buf(&s, bufs[i]);
   smoke_fini(&s);
   return 0;
}
