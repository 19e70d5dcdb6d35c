/* venus_bench: micro-benchmarks of the guest path, run the same way natively and through
 * venusd by bench/run.sh.  Each subcommand prints "metric <name> <unit> <value>" lines,
 * one per repetition; run.sh computes medians and ratios.  Benchmarks, not tests: nothing
 * here asserts a timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vulkan/vulkan.h>

#define CK(x)                                                     \
   do {                                                           \
      VkResult r_ = (x);                                          \
      if (r_ != VK_SUCCESS) {                                     \
         fprintf(stderr, "venus_bench: %s failed: %d\n", #x, r_); \
         exit(1);                                                 \
      }                                                           \
   } while (0)

#define REPS 7

static VkInstance inst;
static VkPhysicalDevice pd;
static VkDevice dev;
static VkQueue queue;
static VkPhysicalDeviceMemoryProperties mp;

static double now(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void init(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(vkCreateInstance(&ici, NULL, &inst));
   uint32_t n = 1;
   vkEnumeratePhysicalDevices(inst, &n, &pd);
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .bufferDeviceAddress = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(vkCreateDevice(pd, &dci, NULL, &dev));
   vkGetDeviceQueue(dev, 0, 0, &queue);
   vkGetPhysicalDeviceMemoryProperties(pd, &mp);
}

static uint32_t host_visible_type(uint32_t bits)
{
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
         return i;
   fprintf(stderr, "venus_bench: no host-visible coherent memory type\n");
   exit(1);
}

/* n rounds of vkQueueSubmit(submitCount of si) + vkWaitForFences + vkResetFences per
 * repetition, printed as metric `name` in µs per round. */
static void time_fenced_submits(const char *name, uint32_t submit_count, const VkSubmitInfo *si,
                                int n)
{
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   for (int rep = -1; rep < REPS; rep++) {
      const double t0 = now();
      for (int i = 0; i < n; i++) {
         CK(vkQueueSubmit(queue, submit_count, si, f));
         CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));
         CK(vkResetFences(dev, 1, &f));
      }
      if (rep >= 0)
         printf("metric %s us %.3f\n", name, (now() - t0) / n * 1e6);
   }
   vkDestroyFence(dev, f, NULL);
}

/* A buffer of `size` bytes bound to its own host-visible memory. */
static VkBuffer host_buffer(VkDeviceSize size, VkBufferUsageFlags usage, VkDeviceMemory *mem)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage };
   VkBuffer buf;
   CK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(dev, buf, &mr);
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                .memoryTypeIndex = host_visible_type(mr.memoryTypeBits) };
   CK(vkAllocateMemory(dev, &mai, NULL, mem));
   CK(vkBindBufferMemory(dev, buf, *mem, 0));
   return buf;
}

/* One primary command buffer from a new pool (flags: the pool's). */
static VkCommandBuffer command_buffer(VkCommandPoolCreateFlags flags, VkCommandPool *pool)
{
   VkCommandPoolCreateInfo pci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .flags = flags };
   CK(vkCreateCommandPool(dev, &pci, NULL, pool));
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = *pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1 };
   VkCommandBuffer cb;
   CK(vkAllocateCommandBuffers(dev, &cai, &cb));
   return cb;
}

/* Empty vkQueueSubmit + vkWaitForFences + vkResetFences. */
static void bench_submit_fence(void)
{
   time_fenced_submits("submit_fence", 0, NULL, 1000);
}

/* submit_fence with one tiny command buffer (a 4-byte vkCmdFillBuffer) in the batch: what
 * a minimal real GPU submission costs.  Mesa's fence feedback adds such a command buffer
 * to every fenced submission, so natively this is the baseline that submit_fence through
 * Venus compares with on a GPU whose empty submissions are a driver shortcut. */
static void bench_submit_cmd_fence(void)
{
   VkDeviceMemory m;
   VkBuffer buf = host_buffer(256, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &m);
   VkCommandPool pool;
   VkCommandBuffer cb = command_buffer(0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdFillBuffer(cb, buf, 0, 4, 1);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   time_fenced_submits("submit_cmd_fence", 1, &si, 500);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, m, NULL);
}

/* vkGetBufferDeviceAddress: Mesa's Venus driver sends it synchronously every time (a ring
 * command with a reply), so it measures one guest -> host -> guest round trip. */
static void bench_sync_call(void)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                       VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT };
   VkBuffer buf;
   CK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements mr;
   vkGetBufferMemoryRequirements(dev, buf, &mr);
   VkMemoryAllocateFlagsInfo fl = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT };
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fl,
                                .allocationSize = mr.size,
                                .memoryTypeIndex = host_visible_type(mr.memoryTypeBits) };
   VkDeviceMemory mem;
   CK(vkAllocateMemory(dev, &mai, NULL, &mem));
   CK(vkBindBufferMemory(dev, buf, mem, 0));
   VkBufferDeviceAddressInfo ai = { VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = buf };
   volatile VkDeviceAddress sink = 0;
   for (int rep = -1; rep < REPS; rep++) {
      const int n = 2000;
      const double t0 = now();
      for (int i = 0; i < n; i++)
         sink += vkGetBufferDeviceAddress(dev, &ai);
      if (rep >= 0)
         printf("metric sync_call us %.3f\n", (now() - t0) / n * 1e6);
   }
   if (!sink) /* the address is never 0: keeps the calls from being optimised away */
      printf("sync_call: buffer device address 0\n");
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, mem, NULL);
}

/* Submits cb (recorded from t0 to t1), waits on f and resets it, then (rep >= 0) prints
 * metric `name` (`calls` per second from t0 to completion) and its _record / _submit_wait
 * milliseconds: through Venus, encoding into the guest's command stream (which Mesa sends
 * at vkEndCommandBuffer) vs. host decode, replay, execution and completion. */
static void submit_timed(VkCommandBuffer cb, VkFence f, int rep, const char *name, const char *unit,
                         double calls, double t0, double t1)
{
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(queue, 1, &si, f));
   CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));
   CK(vkResetFences(dev, 1, &f));
   if (rep < 0)
      return;
   const double t2 = now();
   printf("metric %s %s %.0f\n", name, unit, calls / (t2 - t0));
   printf("metric %s_record ms %.3f\n", name, (t1 - t0) * 1e3);
   printf("metric %s_submit_wait ms %.3f\n", name, (t2 - t1) * 1e3);
}

/* 100k vkCmdPushConstants recorded, submitted and completed. */
static void bench_cmds_100k(void)
{
   VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   VkPipelineLayout pl;
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
   VkCommandPool pool;
   VkCommandBuffer cb = command_buffer(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   for (int rep = -1; rep < REPS; rep++) {
      const double t0 = now();
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb, &bi));
      for (uint32_t i = 0; i < 100000; i++)
         vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &i);
      CK(vkEndCommandBuffer(cb));
      submit_timed(cb, f, rep, "cmds_100k", "cmds/s", 100000, t0, now());
   }
   vkDestroyFence(dev, f, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
}

/* What cmds_mix and cmds_rerecord share: a set layout of `per_set` storage buffers, a
 * pipeline layout with it and 16 bytes of push constants, `n` sets allocated from a pool
 * of their own, and two 1 MiB host-visible storage buffers. */
struct mix {
   VkDescriptorSetLayout dsl;
   VkPipelineLayout pl;
   VkDescriptorPool dp;
   VkDescriptorSet *sets;
   VkDeviceMemory mem[2];
   VkBuffer buf[2];
};

static void mix_init(struct mix *m, uint32_t per_set, uint32_t n, VkDescriptorSet *sets,
                     VkDescriptorSetLayout *layouts)
{
   VkDescriptorSetLayoutBinding b = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, per_set,
                                      VK_SHADER_STAGE_COMPUTE_BIT };
   VkDescriptorSetLayoutCreateInfo dlci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                            .bindingCount = 1, .pBindings = &b };
   CK(vkCreateDescriptorSetLayout(dev, &dlci, NULL, &m->dsl));
   VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 16 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1, .pSetLayouts = &m->dsl,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &m->pl));
   VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, per_set * n };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = n,
                                       .poolSizeCount = 1, .pPoolSizes = &ps };
   CK(vkCreateDescriptorPool(dev, &dpci, NULL, &m->dp));
   for (uint32_t i = 0; i < n; i++)
      layouts[i] = m->dsl;
   VkDescriptorSetAllocateInfo dai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = m->dp, .descriptorSetCount = n,
                                       .pSetLayouts = layouts };
   CK(vkAllocateDescriptorSets(dev, &dai, sets));
   m->sets = sets;
   for (int i = 0; i < 2; i++)
      m->buf[i] = host_buffer(1 << 20, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &m->mem[i]);
}

static void mix_fini(struct mix *m)
{
   for (int i = 0; i < 2; i++) {
      vkDestroyBuffer(dev, m->buf[i], NULL);
      vkFreeMemory(dev, m->mem[i], NULL);
   }
   vkDestroyDescriptorPool(dev, m->dp, NULL);
   vkDestroyPipelineLayout(dev, m->pl, NULL);
   vkDestroyDescriptorSetLayout(dev, m->dsl, NULL);
}

/* One round's commands: set i bound, push constants pc, and a shader-write-to-read
 * barrier on 256 bytes at `off` of buffer i & 1. */
static void mix_round(VkCommandBuffer cb, const struct mix *m, uint32_t i, const uint32_t pc[4],
                      VkDeviceSize off)
{
   vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, m->pl, 0, 1, &m->sets[i], 0, NULL);
   vkCmdPushConstants(cb, m->pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 * sizeof(uint32_t), pc);
   VkBufferMemoryBarrier bb = { VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                                .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
                                .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                .buffer = m->buf[i & 1],
                                .offset = off,
                                .size = 256 };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 1, &bb, 0, NULL);
}

/* What a compute framework records per dispatch, without the dispatch (no shader, so
 * execution stays trivial and the figure is the recording path's): 10k rounds of
 * vkUpdateDescriptorSets (a new set, two storage buffers: outside the command buffer, so
 * through Venus on the ring), vkCmdBindDescriptorSets, vkCmdPushConstants and
 * vkCmdPipelineBarrier with one buffer barrier; then submit and wait.  40k calls. */
#define MIX_ROUNDS 10000
static void bench_cmds_mix(void)
{
   static VkDescriptorSet sets[MIX_ROUNDS];
   static VkDescriptorSetLayout layouts[MIX_ROUNDS];
   struct mix m;
   mix_init(&m, 2, MIX_ROUNDS, sets, layouts);
   VkCommandPool pool;
   VkCommandBuffer cb = command_buffer(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   for (int rep = -1; rep < REPS; rep++) {
      const double t0 = now();
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb, &bi));
      for (uint32_t i = 0; i < MIX_ROUNDS; i++) {
         const VkDeviceSize off = (VkDeviceSize)(i % 4096) * 256;
         VkDescriptorBufferInfo dbi[2] = { { m.buf[0], off, 256 }, { m.buf[1], off, 256 } };
         VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = sets[i],
                                    .descriptorCount = 2,
                                    .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                    .pBufferInfo = dbi };
         vkUpdateDescriptorSets(dev, 1, &w, 0, NULL);
         const uint32_t pc[4] = { i, i + 1, i + 2, i + 3 };
         mix_round(cb, &m, i, pc, off);
      }
      CK(vkEndCommandBuffer(cb));
      submit_timed(cb, f, rep, "cmds_mix", "calls/s", 4.0 * MIX_ROUNDS, t0, now());
   }
   vkDestroyFence(dev, f, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   mix_fini(&m);
}

/* What a compute framework does per graph, many times a second (ggml: about ten command
 * buffers a generated token): reset the command pool, record a short command buffer
 * naming a few dozen objects again (64 rounds of vkCmdBindDescriptorSets, one of 64
 * sets updated once beforehand, vkCmdPushConstants and vkCmdPipelineBarrier on one of
 * two buffers: 192 calls), submit it and wait; 200 times per repetition. */
#define RR_SETS 64
#define RR_TIMES 200
static void bench_cmds_rerecord(void)
{
   VkDescriptorSet sets[RR_SETS];
   VkDescriptorSetLayout layouts[RR_SETS];
   struct mix m;
   mix_init(&m, 1, RR_SETS, sets, layouts);
   for (uint32_t i = 0; i < RR_SETS; i++) {
      VkDescriptorBufferInfo dbi = { m.buf[i & 1], (VkDeviceSize)i * 256, 256 };
      VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = sets[i],
                                 .descriptorCount = 1,
                                 .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                 .pBufferInfo = &dbi };
      vkUpdateDescriptorSets(dev, 1, &w, 0, NULL);
   }
   VkCommandPool pool;
   VkCommandBuffer cb = command_buffer(0, &pool);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   for (int rep = -1; rep < REPS; rep++) {
      const double t0 = now();
      for (int t = 0; t < RR_TIMES; t++) {
         CK(vkResetCommandPool(dev, pool, 0));
         VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                         .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
         CK(vkBeginCommandBuffer(cb, &bi));
         for (uint32_t i = 0; i < RR_SETS; i++) {
            const uint32_t pc[4] = { i, i + 1, i + 2, (uint32_t)t };
            mix_round(cb, &m, i, pc, (VkDeviceSize)i * 256);
         }
         CK(vkEndCommandBuffer(cb));
         CK(vkQueueSubmit(queue, 1, &si, f));
         CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));
         CK(vkResetFences(dev, 1, &f));
      }
      if (rep >= 0)
         printf("metric cmds_rerecord rerecords/s %.0f\n", RR_TIMES / (now() - t0));
   }
   vkDestroyFence(dev, f, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   mix_fini(&m);
}

/* vkAllocateMemory + vkMapMemory + one write + vkUnmapMemory + vkFreeMemory. */
static void bench_alloc_map_free(VkDeviceSize size, const char *name)
{
   const uint32_t type = host_visible_type(~0u);
   for (int rep = -1; rep < REPS; rep++) {
      const int n = size > (1 << 20) ? 50 : 200;
      const double t0 = now();
      for (int i = 0; i < n; i++) {
         VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                      .allocationSize = size, .memoryTypeIndex = type };
         VkDeviceMemory m;
         CK(vkAllocateMemory(dev, &mai, NULL, &m));
         volatile char *p;
         CK(vkMapMemory(dev, m, 0, VK_WHOLE_SIZE, 0, (void **)&p));
         p[0] = 1;
         vkUnmapMemory(dev, m);
         vkFreeMemory(dev, m, NULL);
      }
      if (rep >= 0)
         printf("metric %s ops/s %.0f\n", name, n / (now() - t0));
   }
}

/* Guest writes and reads of 64 MiB of mapped host-visible memory. */
static void bench_mapped_bw(void)
{
   const VkDeviceSize size = 64u << 20;
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                                .memoryTypeIndex = host_visible_type(~0u) };
   VkDeviceMemory m;
   CK(vkAllocateMemory(dev, &mai, NULL, &m));
   uint8_t *p;
   CK(vkMapMemory(dev, m, 0, VK_WHOLE_SIZE, 0, (void **)&p));
   uint8_t *src = malloc(size), *dst = malloc(size);
   memset(src, 0x5a, size);
   memset(dst, 0, size);
   memset(p, 0, size);                     /* fault the pages in */
   for (int rep = -3; rep < REPS; rep++) { /* 3 warm-up passes */
      double t0 = now();
      memcpy(p, src, size);
      const double w = now() - t0;
      t0 = now();
      memcpy(dst, p, size);
      const double r = now() - t0;
      if (rep < 0)
         continue;
      printf("metric mapped_write GB/s %.3f\n", size / w / 1e9);
      printf("metric mapped_read GB/s %.3f\n", size / r / 1e9);
   }
   free(src);
   free(dst);
   vkUnmapMemory(dev, m);
   vkFreeMemory(dev, m, NULL);
}

int main(int argc, char **argv)
{
   if (argc != 2) {
      fprintf(stderr, "usage: venus_bench "
                      "submit_fence|submit_cmd_fence|sync_call|cmds_100k|cmds_mix|cmds_rerecord|"
                      "alloc_64k|alloc_4m|mapped_bw\n");
      return 2;
   }
   init();
   const char *b = argv[1];
   if (!strcmp(b, "submit_fence"))
      bench_submit_fence();
   else if (!strcmp(b, "submit_cmd_fence"))
      bench_submit_cmd_fence();
   else if (!strcmp(b, "sync_call"))
      bench_sync_call();
   else if (!strcmp(b, "cmds_100k"))
      bench_cmds_100k();
   else if (!strcmp(b, "cmds_mix"))
      bench_cmds_mix();
   else if (!strcmp(b, "cmds_rerecord"))
      bench_cmds_rerecord();
   else if (!strcmp(b, "alloc_64k"))
      bench_alloc_map_free(64 << 10, "alloc_map_free_64k");
   else if (!strcmp(b, "alloc_4m"))
      bench_alloc_map_free(4 << 20, "alloc_map_free_4m");
   else if (!strcmp(b, "mapped_bw"))
      bench_mapped_bw();
   else {
      fprintf(stderr, "venus_bench: unknown benchmark %s\n", b);
      return 2;
   }
   vkDestroyDevice(dev, NULL);
   vkDestroyInstance(inst, NULL);
   return 0;
}
