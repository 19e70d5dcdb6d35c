/* Timeline semaphores across threads.  lavapipe has one queue, so every thread submits to
 * that single queue under a mutex.  (A second VkDevice would give another queue, but
 * semaphores cannot be shared between devices without external-semaphore export/import, so
 * that is not used.)  Checks:
 *  - a producer thread fills slot i of a buffer and signals timeline P = i (vkQueueSubmit
 *    with VkTimelineSemaphoreSubmitInfo and vkQueueSubmit2 with VkSemaphoreSubmitInfo,
 *    alternately), i = 1..N,
 *  - a consumer thread submits (vkQueueSubmit2) batches that wait on P = i, copy slot i
 *    elsewhere and signal timeline C = i; it only waits on values already submitted for
 *    signalling, since on one queue a wait ahead of its signal would deadlock,
 *  - a third thread polls vkGetSemaphoreCounterValue(P) until N, then blocks in
 *    vkWaitSemaphores for C = N (wait-all) and for P or C (wait-any),
 *  - wait-before-signal: before the threads start, a batch waits on H >= 7 (H created at 3)
 *    ahead of any signal; it must not have run (counter value, zero-timeout wait, fence
 *    status) until the host signals H = 7 with vkSignalSemaphore, then it signals D = 1
 *    (not H = 8: Mesa 25.0's vn_SignalSemaphore writes the host-signalled value into H's
 *    feedback slot after sending the signal, so it can overwrite the 8 that the unblocked
 *    batch's feedback wrote and H would read 7 for ever),
 *  - the copied data and the final counter values.
 * Every thread makes its own Vulkan calls; each also reads a pipeline cache's data (checking
 * its header), a synchronous call that Venus (Mesa 25.0) sends on a per-thread ring (like
 * vkCreate*Pipelines), so each thread gets its own ring. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "smoke.h"

#define N 32      /* timeline steps */
#define SLOT 1024 /* words per slot */

static struct smoke s;
static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t submitted_cond = PTHREAD_COND_INITIALIZER;
static uint32_t submitted; /* steps the producer has submitted, under queue_mutex */
static VkSemaphore P, C, H, D;
static VkBuffer src, dst, marker;
static int waiter_ok, cache_ok[3];
static uint8_t cache_uuid[VK_UUID_SIZE];

/* smoke_init plus the synchronization2 feature (vkQueueSubmit2, vkCmdPipelineBarrier2). */
static void init_device(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s.inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s.inst, &n, &s.pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .synchronization2 = VK_TRUE };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = &f13, .timelineSemaphore = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f12,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
}

static uint32_t pattern(uint32_t i)
{
   return 0x5a000000u | i * 0x10101u;
}

static VkSemaphore timeline(uint64_t initial)
{
   VkSemaphoreTypeCreateInfo tci = { VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                     .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
                                     .initialValue = initial };
   VkSemaphoreCreateInfo sci = { VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &tci };
   VkSemaphore sem;
   CK(vkCreateSemaphore(s.dev, &sci, NULL, &sem));
   return sem;
}

static void wait_value(VkSemaphore sem, uint64_t value)
{
   VkSemaphoreWaitInfo wi = { VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, .semaphoreCount = 1,
                              .pSemaphores = &sem, .pValues = &value };
   CK(vkWaitSemaphores(s.dev, &wi, UINT64_MAX));
}

/* Transfer writes made visible to the host (a semaphore wait alone does not do that). */
static void host_barrier(VkCommandBuffer cb)
{
   VkMemoryBarrier2 mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
                           .srcStageMask = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
                           .srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
                           .dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT,
                           .dstAccessMask = VK_ACCESS_2_HOST_READ_BIT };
   VkDependencyInfo di = { VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .memoryBarrierCount = 1,
                           .pMemoryBarriers = &mb };
   vkCmdPipelineBarrier2(cb, &di);
}

static void allocate(VkCommandPool *pool, VkCommandBuffer *cbs, uint32_t count)
{
   VkCommandPoolCreateInfo pci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
   CK(vkCreateCommandPool(s.dev, &pci, NULL, pool));
   VkCommandBufferAllocateInfo cai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = *pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = count };
   CK(vkAllocateCommandBuffers(s.dev, &cai, cbs));
}

/* Creates a pipeline cache, reads its data and checks the header (the device's UUID). */
static void cache_check(int id)
{
   VkPipelineCacheCreateInfo pcci = { VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };
   VkPipelineCache cache;
   CK(vkCreatePipelineCache(s.dev, &pcci, NULL, &cache));
   size_t size = 0;
   CK(vkGetPipelineCacheData(s.dev, cache, &size, NULL));
   uint32_t *data = calloc(1, size + 4);
   if (size >= 16 + VK_UUID_SIZE) {
      CK(vkGetPipelineCacheData(s.dev, cache, &size, data));
      cache_ok[id] = data[0] >= 16 + VK_UUID_SIZE &&
                     data[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
                     !memcmp(&data[4], cache_uuid, VK_UUID_SIZE);
   }
   free(data);
   vkDestroyPipelineCache(s.dev, cache, NULL);
}

static void *producer(void *arg)
{
   cache_check(0);
   VkCommandPool pool;
   VkCommandBuffer cb[N];
   allocate(&pool, cb, N);
   for (uint32_t i = 1; i <= N; i++) {
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb[i - 1], &bi));
      vkCmdFillBuffer(cb[i - 1], src, (i - 1) * SLOT * 4, SLOT * 4, pattern(i));
      host_barrier(cb[i - 1]);
      CK(vkEndCommandBuffer(cb[i - 1]));
      const uint64_t value = i;
      VkResult r;
      pthread_mutex_lock(&queue_mutex);
      if (i & 1) {
         VkTimelineSemaphoreSubmitInfo ts = { VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                              .signalSemaphoreValueCount = 1,
                                              .pSignalSemaphoreValues = &value };
         VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &ts,
                             .commandBufferCount = 1,       .pCommandBuffers = &cb[i - 1],
                             .signalSemaphoreCount = 1,     .pSignalSemaphores = &P };
         r = vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE);
      } else {
         VkCommandBufferSubmitInfo cbi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
                                           .commandBuffer = cb[i - 1] };
         VkSemaphoreSubmitInfo sig = { VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = P,
                                       .value = value,
                                       .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
         VkSubmitInfo2 si = { VK_STRUCTURE_TYPE_SUBMIT_INFO_2, .commandBufferInfoCount = 1,
                              .pCommandBufferInfos = &cbi, .signalSemaphoreInfoCount = 1,
                              .pSignalSemaphoreInfos = &sig };
         r = vkQueueSubmit2(s.q, 1, &si, VK_NULL_HANDLE);
      }
      submitted = i;
      pthread_cond_broadcast(&submitted_cond);
      pthread_mutex_unlock(&queue_mutex);
      CK(r);
   }
   wait_value(P, N); /* before the command buffers go away */
   vkDestroyCommandPool(s.dev, pool, NULL);
   return arg;
}

static void *consumer(void *arg)
{
   cache_check(1);
   VkCommandPool pool;
   VkCommandBuffer cb[N];
   allocate(&pool, cb, N);
   for (uint32_t i = 1; i <= N; i++) {
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb[i - 1], &bi));
      VkBufferCopy region = { (i - 1) * SLOT * 4, (i - 1) * SLOT * 4, SLOT * 4 };
      vkCmdCopyBuffer(cb[i - 1], src, dst, 1, &region);
      host_barrier(cb[i - 1]);
      CK(vkEndCommandBuffer(cb[i - 1]));
      VkCommandBufferSubmitInfo cbi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
                                        .commandBuffer = cb[i - 1] };
      VkSemaphoreSubmitInfo wait = { VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = P,
                                     .value = i, .stageMask = VK_PIPELINE_STAGE_2_COPY_BIT };
      VkSemaphoreSubmitInfo sig = { VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = C,
                                    .value = i, .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
      VkSubmitInfo2 si = { VK_STRUCTURE_TYPE_SUBMIT_INFO_2, .waitSemaphoreInfoCount = 1,
                           .pWaitSemaphoreInfos = &wait,    .commandBufferInfoCount = 1,
                           .pCommandBufferInfos = &cbi,     .signalSemaphoreInfoCount = 1,
                           .pSignalSemaphoreInfos = &sig };
      pthread_mutex_lock(&queue_mutex);
      while (submitted < i)
         pthread_cond_wait(&submitted_cond, &queue_mutex);
      VkResult r = vkQueueSubmit2(s.q, 1, &si, VK_NULL_HANDLE);
      pthread_mutex_unlock(&queue_mutex);
      CK(r);
   }
   wait_value(C, N);
   vkDestroyCommandPool(s.dev, pool, NULL);
   return arg;
}

static void *waiter(void *arg)
{
   cache_check(2);
   /* Poll P's counter until it reaches N (bounded: 60 s). */
   const struct timespec ms = { 0, 1000000 };
   uint64_t v = 0, last = 0;
   for (int tries = 0; tries < 60000; tries++) {
      CK(vkGetSemaphoreCounterValue(s.dev, P, &v));
      if (v < last) {
         printf("FAIL waiter: P went back from %llu to %llu\n", (unsigned long long)last,
                (unsigned long long)v);
         exit(1);
      }
      last = v;
      if (v >= N)
         break;
      nanosleep(&ms, NULL);
   }
   if (v != N) {
      printf("FAIL waiter: P is %llu after polling, want %u\n", (unsigned long long)v, N);
      exit(1);
   }
   wait_value(C, N);
   VkSemaphore both[2] = { P, C };
   const uint64_t values[2] = { N, N };
   VkSemaphoreWaitInfo any = { VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                               .flags = VK_SEMAPHORE_WAIT_ANY_BIT, .semaphoreCount = 2,
                               .pSemaphores = both, .pValues = values };
   CK(vkWaitSemaphores(s.dev, &any, UINT64_MAX));
   CK(vkGetSemaphoreCounterValue(s.dev, C, &v));
   waiter_ok = v == N;
   return arg;
}

static uint64_t counter(VkSemaphore sem)
{
   uint64_t v;
   CK(vkGetSemaphoreCounterValue(s.dev, sem, &v));
   return v;
}

int main(void)
{
   init_device();
   VkDevice dev = s.dev;
   VkPhysicalDeviceProperties props;
   vkGetPhysicalDeviceProperties(s.pd, &props);
   memcpy(cache_uuid, props.pipelineCacheUUID, VK_UUID_SIZE);
   P = timeline(0);
   C = timeline(0);
   H = timeline(3);
   D = timeline(0);
   VkDeviceMemory src_mem, dst_mem, marker_mem;
   src = smoke_host_buffer(&s, N * SLOT * 4,
                           VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                           &src_mem);
   dst = smoke_host_buffer(&s, N * SLOT * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &dst_mem);
   marker = smoke_host_buffer(&s, 256, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &marker_mem);
   uint32_t *srcp, *dstp, *markp;
   CK(vkMapMemory(dev, src_mem, 0, VK_WHOLE_SIZE, 0, (void **)&srcp));
   CK(vkMapMemory(dev, dst_mem, 0, VK_WHOLE_SIZE, 0, (void **)&dstp));
   CK(vkMapMemory(dev, marker_mem, 0, VK_WHOLE_SIZE, 0, (void **)&markp));
   memset(srcp, 0, N * SLOT * 4);
   memset(dstp, 0, N * SLOT * 4);
   memset(markp, 0, 256);

   /* Wait-before-signal: nothing has signalled H = 7 yet. */
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdFillBuffer(cb, marker, 0, 256, 0xfeedf00du);
   host_barrier(cb);
   CK(vkEndCommandBuffer(cb));
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(dev, &fci, NULL, &fence));
   VkCommandBufferSubmitInfo cbi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
                                     .commandBuffer = cb };
   VkSemaphoreSubmitInfo wait = { VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = H,
                                  .value = 7, .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
   VkSemaphoreSubmitInfo sig = { VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = D,
                                 .value = 1, .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
   VkSubmitInfo2 si = { VK_STRUCTURE_TYPE_SUBMIT_INFO_2, .waitSemaphoreInfoCount = 1,
                        .pWaitSemaphoreInfos = &wait,    .commandBufferInfoCount = 1,
                        .pCommandBufferInfos = &cbi,     .signalSemaphoreInfoCount = 1,
                        .pSignalSemaphoreInfos = &sig };
   CK(vkQueueSubmit2(s.q, 1, &si, fence));
   const uint64_t one = 1;
   VkSemaphoreWaitInfo wi = { VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, .semaphoreCount = 1,
                              .pSemaphores = &D, .pValues = &one };
   VkResult r = vkWaitSemaphores(dev, &wi, 0);
   VkResult fs = vkGetFenceStatus(dev, fence);
   if (counter(H) != 3 || counter(D) != 0 || r != VK_TIMEOUT || fs != VK_NOT_READY ||
       markp[0] != 0) {
      printf("FAIL wait-before-signal ran early: H %llu, D %llu, wait %d, fence %d, marker 0x%x\n",
             (unsigned long long)counter(H), (unsigned long long)counter(D), r, fs, markp[0]);
      return 1;
   }
   printf(
      "OK wait-before-signal: pending at H = 3 (zero-timeout wait VK_TIMEOUT, fence not ready)\n");

   /* The threads' submissions queue up behind the waiting batch until the host signals. */
   pthread_t t[3];
   pthread_create(&t[0], NULL, producer, NULL);
   pthread_create(&t[1], NULL, consumer, NULL);
   pthread_create(&t[2], NULL, waiter, NULL);
   VkSemaphoreSignalInfo ssi = { VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, .semaphore = H,
                                 .value = 7 };
   CK(vkSignalSemaphore(dev, &ssi));
   for (int i = 0; i < 3; i++)
      pthread_join(t[i], NULL);

   CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
   wait_value(D, 1);
   if (counter(H) != 7 || counter(D) != 1 || markp[0] != 0xfeedf00du || markp[63] != 0xfeedf00du) {
      printf("FAIL wait-before-signal: H %llu, D %llu, marker 0x%x\n",
             (unsigned long long)counter(H), (unsigned long long)counter(D), markp[0]);
      return 1;
   }
   printf("OK wait-before-signal: ran after vkSignalSemaphore(7), H = 7, D = 1\n");
   if (!waiter_ok) {
      printf("FAIL waiter thread\n");
      return 1;
   }
   for (int i = 0; i < 3; i++)
      if (!cache_ok[i]) {
         printf("FAIL thread %d: pipeline cache data header\n", i);
         return 1;
      }
   printf("OK pipeline cache data header in each thread\n");
   printf("OK waiter thread: polled P to %u, waited for C = %u (all) and P or C (any)\n", N, N);
   if (counter(P) != N || counter(C) != N) {
      printf("FAIL final values P %llu C %llu\n", (unsigned long long)counter(P),
             (unsigned long long)counter(C));
      return 1;
   }
   printf("OK final counter values: P = %u, C = %u\n", N, N);
   uint32_t h = 2166136261u;
   for (uint32_t i = 1; i <= N; i++)
      for (uint32_t w = 0; w < SLOT; w++) {
         const uint32_t off = (i - 1) * SLOT + w;
         if (srcp[off] != pattern(i) || dstp[off] != pattern(i)) {
            printf("FAIL slot %u word %u: src 0x%x dst 0x%x want 0x%x\n", i, w, srcp[off],
                   dstp[off], pattern(i));
            return 1;
         }
         h = (h ^ dstp[off]) * 16777619u;
      }
   printf("OK data: %u slots produced and consumed in order, checksum 0x%08x\n", N, h);

   CK(vkQueueWaitIdle(s.q));
   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkUnmapMemory(dev, src_mem);
   vkUnmapMemory(dev, dst_mem);
   vkUnmapMemory(dev, marker_mem);
   vkDestroyBuffer(dev, src, NULL);
   vkDestroyBuffer(dev, dst, NULL);
   vkDestroyBuffer(dev, marker, NULL);
   vkFreeMemory(dev, src_mem, NULL);
   vkFreeMemory(dev, dst_mem, NULL);
   vkFreeMemory(dev, marker_mem, NULL);
   vkDestroySemaphore(dev, P, NULL);
   vkDestroySemaphore(dev, C, NULL);
   vkDestroySemaphore(dev, H, NULL);
   vkDestroySemaphore(dev, D, NULL);
   smoke_fini(&s);
   printf("OK timeline_threads\n");
   return 0;
}
