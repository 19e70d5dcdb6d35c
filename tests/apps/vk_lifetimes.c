/* Object lifetimes and parent devices, through the real Mesa Venus driver (which checks
 * neither).  Each mode prints "OK lifetimes MODE" when it gets that far.
 *
 * Held objects (docs/design.md, "Lifetimes"): what a recorded command buffer, a descriptor
 * set or a pending submission uses stays alive on the host after the guest destroys it,
 * and the work runs correctly:
 *   --hold-recorded   a compute dispatch and a 40 MiB copy are recorded; then the pipeline,
 *                     its layout, shader module, descriptor set layout and pool (with the
 *                     set), the storage buffer and the copy's source buffer and memory are
 *                     destroyed; the submission still computes and copies the right values
 *   --hold-submitted  the same objects, and the command buffer and its pool, are destroyed
 *                     right after vkQueueSubmit, while the host still runs the work
 *   --batch           2048 descriptor sets, each of its own layout, from one
 *                     vkAllocateDescriptorSets, and one vkUpdateDescriptorSets writing buffer i
 *                     into set i; three dispatches through sets 0, 1024 and 2047 are
 *                     recorded, every layout and buffer is destroyed, and the submission
 *                     computes the right values in those three buffers (each set holds
 *                     its own layout and buffer; test_lifetimes.sh also checks that the batch
 *                     costs venusd O(n) memory, not O(n^2))
 * Refused (the context goes fatal before the driver sees it; never prints OK):
 *   --freed-set           submitting a command buffer whose bound set was freed
 *   --reset-pool          ... whose bound set's pool was reset
 *   --freed-secondary     submitting a primary whose secondary was freed
 *   --cross-device-copy   a copy in a command buffer of device A naming a buffer of device B
 *   --cross-device-bind   binding a buffer of device A to memory of device B
 *   --cross-device-write  writing a buffer of device B into a descriptor set of device A
 *   --cross-device-submit submitting a command buffer of device B to a queue of device A
 *   --bad-vertex-offset   vkCmdBindVertexBuffers at an offset past the buffer's end
 *   --bad-vertex-size     vkCmdBindVertexBuffers2 with offset + size past the buffer's end
 *   --bad-index-offset    vkCmdBindIndexBuffer at an offset past the buffer's end
 *   --bad-viewport        vkCmdSetViewport at firstViewport = maxViewports
 *   --bad-push-constants  vkCmdPushConstants of 8 bytes 4 bytes before maxPushConstantsSize */
#include <string.h>

#include "smoke.h"
#include "add_comp_spv.h"

#define N 65536u
#define BIG (40ull << 20) /* more than venusd keeps of freed backings: freed memory unmaps */

static struct smoke s;

struct compute {
   VkDeviceMemory mem;
   uint32_t *p;
   VkBuffer buf;
   VkShaderModule sm;
   VkDescriptorSetLayout dsl;
   VkPipelineLayout pl;
   VkPipeline pipe;
   VkDescriptorPool dp;
   VkDescriptorSet ds;
};

static VkDescriptorSetLayout storage_set_layout(VkDevice dev)
{
   VkDescriptorSetLayoutBinding bind = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                         VK_SHADER_STAGE_COMPUTE_BIT, NULL };
   VkDescriptorSetLayoutCreateInfo ci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = 1, .pBindings = &bind };
   VkDescriptorSetLayout dsl;
   CK(vkCreateDescriptorSetLayout(dev, &ci, NULL, &dsl));
   return dsl;
}

static VkDescriptorSet storage_set(VkDevice dev, VkDescriptorSetLayout dsl, VkDescriptorPool *dp)
{
   VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
   VkDescriptorPoolCreateInfo pci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
                                      .maxSets = 1, .poolSizeCount = 1, .pPoolSizes = &ps };
   CK(vkCreateDescriptorPool(dev, &pci, NULL, dp));
   VkDescriptorSetAllocateInfo ai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = *dp, .descriptorSetCount = 1,
                                      .pSetLayouts = &dsl };
   VkDescriptorSet ds;
   CK(vkAllocateDescriptorSets(dev, &ai, &ds));
   return ds;
}

static void write_buffer(VkDevice dev, VkDescriptorSet ds, VkBuffer buf)
{
   VkDescriptorBufferInfo dbi = { buf, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = ds,
                              .descriptorCount = 1,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = &dbi };
   vkUpdateDescriptorSets(dev, 1, &w, 0, NULL);
}

/* p[i] = i, to become i * 3 + 7 (add.comp). */
static void compute_setup(struct compute *c)
{
   c->buf = smoke_host_buffer(&s, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &c->mem);
   CK(vkMapMemory(s.dev, c->mem, 0, N * 4, 0, (void **)&c->p));
   for (uint32_t i = 0; i < N; i++)
      c->p[i] = i;
   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(add_comp_spv), .pCode = add_comp_spv };
   CK(vkCreateShaderModule(s.dev, &smci, NULL, &c->sm));
   c->dsl = storage_set_layout(s.dev);
   VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &c->dsl,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   CK(vkCreatePipelineLayout(s.dev, &plci, NULL, &c->pl));
   VkComputePipelineCreateInfo cpci = {
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = c->sm, .pName = "main" },
      .layout = c->pl
   };
   CK(vkCreateComputePipelines(s.dev, VK_NULL_HANDLE, 1, &cpci, NULL, &c->pipe));
   c->ds = storage_set(s.dev, c->dsl, &c->dp);
   write_buffer(s.dev, c->ds, c->buf);
}

static void compute_record(struct compute *c, VkCommandBuffer cb)
{
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipe);
   vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl, 0, 1, &c->ds, 0, NULL);
   uint32_t k = 7;
   vkCmdPushConstants(cb, c->pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &k);
   vkCmdDispatch(cb, N / 64, 1, 1);
}

/* Everything but the memory, which the check reads. */
static void compute_destroy(struct compute *c)
{
   vkDestroyPipeline(s.dev, c->pipe, NULL);
   vkDestroyPipelineLayout(s.dev, c->pl, NULL);
   vkDestroyShaderModule(s.dev, c->sm, NULL);
   vkDestroyDescriptorPool(s.dev, c->dp, NULL);
   vkDestroyDescriptorSetLayout(s.dev, c->dsl, NULL);
   vkDestroyBuffer(s.dev, c->buf, NULL);
}

static void compute_check(struct compute *c)
{
   for (uint32_t i = 0; i < N; i++)
      if (c->p[i] != i * 3 + 7) {
         printf("FAIL dispatch: p[%u] = %u, expected %u\n", i, c->p[i], i * 3 + 7);
         exit(1);
      }
   vkFreeMemory(s.dev, c->mem, NULL);
}

struct copy {
   VkDeviceMemory src_mem, dst_mem;
   VkBuffer src, dst;
   uint32_t *d;
};

static void copy_setup(struct copy *c)
{
   c->src = smoke_host_buffer(&s, BIG, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &c->src_mem);
   c->dst = smoke_host_buffer(&s, BIG, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &c->dst_mem);
   uint32_t *p;
   CK(vkMapMemory(s.dev, c->src_mem, 0, BIG, 0, (void **)&p));
   for (uint64_t i = 0; i < BIG / 4; i++)
      p[i] = (uint32_t)(i * 2654435761u);
   vkUnmapMemory(s.dev, c->src_mem);
   CK(vkMapMemory(s.dev, c->dst_mem, 0, BIG, 0, (void **)&c->d));
   memset(c->d, 0, BIG);
}

static void copy_check(struct copy *c)
{
   for (uint64_t i = 0; i < BIG / 4; i += 4099)
      if (c->d[i] != (uint32_t)(i * 2654435761u)) {
         printf("FAIL copy: word %llu is 0x%x\n", (unsigned long long)i, c->d[i]);
         exit(1);
      }
}

static VkCommandBuffer begin(VkDevice dev, VkCommandPool *pool, VkCommandBufferLevel level)
{
   VkCommandPoolCreateInfo pci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
   CK(vkCreateCommandPool(dev, &pci, NULL, pool));
   VkCommandBufferAllocateInfo ai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = *pool, .level = level,
                                      .commandBufferCount = 1 };
   VkCommandBuffer cb;
   CK(vkAllocateCommandBuffers(dev, &ai, &cb));
   VkCommandBufferInheritanceInfo inh = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO };
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .pInheritanceInfo = &inh };
   CK(vkBeginCommandBuffer(cb, &bi));
   return cb;
}

static void submit(VkQueue q, VkCommandBuffer cb, VkFence fence)
{
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(q, 1, &si, fence));
}

static void hold(int after_submit)
{
   struct compute c;
   struct copy cp;
   compute_setup(&c);
   copy_setup(&cp);
   VkCommandPool pool;
   VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   compute_record(&c, cb);
   vkCmdCopyBuffer(cb, cp.src, cp.dst, 1, &(VkBufferCopy){ 0, 0, BIG });
   CK(vkEndCommandBuffer(cb));
   if (!after_submit) {
      compute_destroy(&c);
      vkDestroyBuffer(s.dev, cp.src, NULL);
      vkFreeMemory(s.dev, cp.src_mem, NULL);
   }
   VkFence fence;
   CK(vkCreateFence(s.dev, &(VkFenceCreateInfo){ VK_STRUCTURE_TYPE_FENCE_CREATE_INFO }, NULL,
                    &fence));
   submit(s.q, cb, fence);
   if (after_submit) {
      compute_destroy(&c);
      vkDestroyBuffer(s.dev, cp.src, NULL);
      vkFreeMemory(s.dev, cp.src_mem, NULL);
      vkFreeCommandBuffers(s.dev, pool, 1, &cb);
      vkDestroyCommandPool(s.dev, pool, NULL);
   }
   CK(vkWaitForFences(s.dev, 1, &fence, VK_TRUE, UINT64_MAX));
   compute_check(&c);
   copy_check(&cp);
   vkDestroyFence(s.dev, fence, NULL);
   if (!after_submit)
      vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyBuffer(s.dev, cp.dst, NULL);
   vkFreeMemory(s.dev, cp.dst_mem, NULL);
}

#define BATCH 2048u
#define BATCH_WORDS 64u /* one workgroup of add.comp */

static void batch(void)
{
   static VkDescriptorSetLayout layouts[BATCH];
   static VkDescriptorSet sets[BATCH];
   static VkBuffer bufs[BATCH];
   static VkWriteDescriptorSet writes[BATCH];
   static VkDescriptorBufferInfo infos[BATCH];
   for (uint32_t i = 0; i < BATCH; i++)
      layouts[i] = storage_set_layout(s.dev);
   VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, BATCH };
   VkDescriptorPoolCreateInfo pci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = BATCH, .poolSizeCount = 1, .pPoolSizes = &ps };
   VkDescriptorPool dp;
   CK(vkCreateDescriptorPool(s.dev, &pci, NULL, &dp));
   VkDescriptorSetAllocateInfo ai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = dp, .descriptorSetCount = BATCH,
                                      .pSetLayouts = layouts };
   CK(vkAllocateDescriptorSets(s.dev, &ai, sets));
   /* every buffer in one allocation, at its own aligned offset */
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = BATCH_WORDS * 4,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT };
   for (uint32_t i = 0; i < BATCH; i++)
      CK(vkCreateBuffer(s.dev, &bci, NULL, &bufs[i]));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(s.dev, bufs[0], &mr);
   const VkDeviceSize stride = (mr.size + mr.alignment - 1) / mr.alignment * mr.alignment;
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = stride * BATCH,
                                .memoryTypeIndex =
                                   smoke_memory_type(&s, mr.memoryTypeBits,
                                                     VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(s.dev, &mai, NULL, &mem));
   uint8_t *base;
   CK(vkMapMemory(s.dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&base));
   for (uint32_t i = 0; i < BATCH; i++) {
      CK(vkBindBufferMemory(s.dev, bufs[i], mem, stride * i));
      uint32_t *p = (uint32_t *)(base + stride * i);
      for (uint32_t j = 0; j < BATCH_WORDS; j++)
         p[j] = j + i;
      infos[i] = (VkDescriptorBufferInfo){ bufs[i], 0, VK_WHOLE_SIZE };
      writes[i] = (VkWriteDescriptorSet){ VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = sets[i],
                                          .descriptorCount = 1,
                                          .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                          .pBufferInfo = &infos[i] };
   }
   vkUpdateDescriptorSets(s.dev, BATCH, writes, 0, NULL);
   /* a pipeline whose layout is made of layout 0: the others are identically defined, so
    * their sets are compatible with it */
   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(add_comp_spv), .pCode = add_comp_spv };
   VkShaderModule sm;
   CK(vkCreateShaderModule(s.dev, &smci, NULL, &sm));
   VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &layouts[0],
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(s.dev, &plci, NULL, &pl));
   VkComputePipelineCreateInfo cpci = {
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = sm, .pName = "main" },
      .layout = pl
   };
   VkPipeline pipe;
   CK(vkCreateComputePipelines(s.dev, VK_NULL_HANDLE, 1, &cpci, NULL, &pipe));
   VkCommandPool pool;
   VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
   const uint32_t used[3] = { 0, BATCH / 2, BATCH - 1 };
   for (uint32_t u = 0; u < 3; u++) {
      vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 1, &sets[used[u]], 0,
                              NULL);
      const uint32_t k = 7 + u;
      vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &k);
      vkCmdDispatch(cb, 1, 1, 1);
   }
   CK(vkEndCommandBuffer(cb));
   /* the sets and the command buffer keep what they use */
   for (uint32_t i = 0; i < BATCH; i++) {
      vkDestroyBuffer(s.dev, bufs[i], NULL);
      vkDestroyDescriptorSetLayout(s.dev, layouts[i], NULL);
   }
   vkDestroyPipeline(s.dev, pipe, NULL);
   vkDestroyPipelineLayout(s.dev, pl, NULL);
   vkDestroyShaderModule(s.dev, sm, NULL);
   submit(s.q, cb, VK_NULL_HANDLE);
   CK(vkQueueWaitIdle(s.q));
   for (uint32_t u = 0; u < 3; u++) {
      const uint32_t *p = (const uint32_t *)(base + stride * used[u]);
      for (uint32_t j = 0; j < BATCH_WORDS; j++)
         if (p[j] != (j + used[u]) * 3 + 7 + u) {
            printf("FAIL batch: buffer %u word %u = %u, expected %u\n", used[u], j, p[j],
                   (j + used[u]) * 3 + 7 + u);
            exit(1);
         }
   }
   vkDestroyCommandPool(s.dev, pool, NULL);
   vkDestroyDescriptorPool(s.dev, dp, NULL);
   vkFreeMemory(s.dev, mem, NULL);
}

/* A command buffer that bound a set, which is then freed or its pool reset. */
static void freed_set(int reset_pool)
{
   struct compute c;
   compute_setup(&c);
   VkCommandPool pool;
   VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   compute_record(&c, cb);
   CK(vkEndCommandBuffer(cb));
   if (reset_pool)
      CK(vkResetDescriptorPool(s.dev, c.dp, 0));
   else
      CK(vkFreeDescriptorSets(s.dev, c.dp, 1, &c.ds));
   submit(s.q, cb, VK_NULL_HANDLE);
   CK(vkQueueWaitIdle(s.q));
}

static void freed_secondary(void)
{
   VkCommandPool pool, spool;
   VkCommandBuffer sec = begin(s.dev, &spool, VK_COMMAND_BUFFER_LEVEL_SECONDARY);
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(&s, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   vkCmdFillBuffer(sec, buf, 0, 4096, 1);
   CK(vkEndCommandBuffer(sec));
   VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   vkCmdExecuteCommands(cb, 1, &sec);
   CK(vkEndCommandBuffer(cb));
   vkFreeCommandBuffers(s.dev, spool, 1, &sec);
   submit(s.q, cb, VK_NULL_HANDLE);
   CK(vkQueueWaitIdle(s.q));
}

/* A second device on the same physical device, with its queue. */
static VkDevice second_device(VkQueue *q)
{
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci };
   VkDevice dev;
   CK(smoke_create_device(s.pd, &dci, &dev));
   vkGetDeviceQueue(dev, 0, 0, q);
   return dev;
}

static VkBuffer buffer_of(VkDevice dev, VkDeviceSize size, VkBufferUsageFlags usage,
                          VkDeviceMemory *mem_out)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage };
   VkBuffer buf;
   CK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(dev, buf, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = smoke_memory_type(&s, mr.memoryTypeBits, 0) };
   CK(vkAllocateMemory(dev, &mai, NULL, mem_out));
   if (mem_out != NULL && dev != VK_NULL_HANDLE)
      CK(vkBindBufferMemory(dev, buf, *mem_out, 0));
   return buf;
}

static void cross_device(const char *what)
{
   VkQueue q2;
   VkDevice dev2 = second_device(&q2);
   VkDeviceMemory mem_a, mem_b;
   VkBuffer a = buffer_of(
      s.dev, 4096, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &mem_a);
   VkBuffer b = buffer_of(
      dev2, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &mem_b);
   VkCommandPool pool;
   if (!strcmp(what, "copy")) {
      VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
      vkCmdCopyBuffer(cb, a, b, 1, &(VkBufferCopy){ 0, 0, 4096 });
      CK(vkEndCommandBuffer(cb));
      submit(s.q, cb, VK_NULL_HANDLE);
   } else if (!strcmp(what, "bind")) {
      VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
      VkBuffer c;
      CK(vkCreateBuffer(s.dev, &bci, NULL, &c));
      CK(vkBindBufferMemory(s.dev, c, mem_b, 0));
   } else if (!strcmp(what, "write")) {
      VkDescriptorSetLayout dsl = storage_set_layout(s.dev);
      VkDescriptorPool dp;
      VkDescriptorSet ds = storage_set(s.dev, dsl, &dp);
      write_buffer(s.dev, ds, b);
   } else {
      VkCommandBuffer cb = begin(dev2, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
      vkCmdFillBuffer(cb, b, 0, 4096, 1);
      CK(vkEndCommandBuffer(cb));
      submit(s.q, cb, VK_NULL_HANDLE);
   }
   CK(vkQueueWaitIdle(s.q));
   CK(vkDeviceWaitIdle(s.dev));
}

static void bad_vertex(const char *what)
{
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(
      &s, 256, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT, &mem);
   VkCommandPool pool;
   VkCommandBuffer cb = begin(s.dev, &pool, VK_COMMAND_BUFFER_LEVEL_PRIMARY);
   VkDeviceSize off = 256, size = 16;
   if (!strcmp(what, "vertex-offset")) {
      vkCmdBindVertexBuffers(cb, 0, 1, &buf, &off);
   } else if (!strcmp(what, "vertex-size")) {
      off = 248;
      vkCmdBindVertexBuffers2(cb, 0, 1, &buf, &off, &size, NULL);
   } else if (!strcmp(what, "index-offset")) {
      off = 260;
      vkCmdBindIndexBuffer(cb, buf, off, VK_INDEX_TYPE_UINT32);
   } else if (!strcmp(what, "viewport")) {
      VkPhysicalDeviceProperties props;
      vkGetPhysicalDeviceProperties(s.pd, &props);
      VkViewport vp = { 0, 0, 1, 1, 0, 1 };
      vkCmdSetViewport(cb, props.limits.maxViewports, 1, &vp);
   } else {
      VkPhysicalDeviceProperties props;
      vkGetPhysicalDeviceProperties(s.pd, &props);
      VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
      VkPipelineLayout pl;
      CK(vkCreatePipelineLayout(s.dev, &plci, NULL, &pl));
      static uint32_t values[64];
      vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, props.limits.maxPushConstantsSize - 4,
                         8, values);
   }
   CK(vkEndCommandBuffer(cb));
   submit(s.q, cb, VK_NULL_HANDLE);
   CK(vkQueueWaitIdle(s.q));
}

int main(int argc, char **argv)
{
   if (argc != 2) {
      printf("usage: vk_lifetimes --hold-recorded | --hold-submitted | --freed-set | ...\n");
      return 2;
   }
   const char *mode = argv[1];
   smoke_init(&s);
   if (!strcmp(mode, "--hold-recorded"))
      hold(0);
   else if (!strcmp(mode, "--hold-submitted"))
      hold(1);
   else if (!strcmp(mode, "--batch"))
      batch();
   else if (!strcmp(mode, "--freed-set"))
      freed_set(0);
   else if (!strcmp(mode, "--reset-pool"))
      freed_set(1);
   else if (!strcmp(mode, "--freed-secondary"))
      freed_secondary();
   else if (!strncmp(mode, "--cross-device-", 15))
      cross_device(mode + 15);
   else if (!strncmp(mode, "--bad-", 6))
      bad_vertex(mode + 6);
   else {
      printf("FAIL unknown mode %s\n", mode);
      return 2;
   }
   printf("OK lifetimes %s\n", mode + 2);
   return 0;
}
