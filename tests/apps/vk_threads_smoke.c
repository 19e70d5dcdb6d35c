/* Guest path under concurrency: 4 threads, each with its own command pool, buffer and
 * fence, record and submit fills in a loop, and each submit signals a shared timeline
 * semaphore that the main thread waits on.  (Mesa 25.0.7 gives a thread its own ring only
 * for synchronous pipeline calls; vk_timeline_threads makes it do that.) */
#include <pthread.h>
#include <string.h>

#include "smoke.h"

#define THREADS 4
#define ITERS 20
#define SIZE (256 * 1024)

static struct smoke s;
static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;
static VkSemaphore timeline;
static uint64_t timeline_value;

static void *worker(void *arg)
{
   const uint32_t id = (uint32_t)(uintptr_t)arg;
   VkDevice dev = s.dev;
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(&s, SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   uint32_t *p;
   CK(vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p));
   VkCommandPool pool;
   VkCommandBuffer cb =
      smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(dev, &fci, NULL, &fence));
   for (uint32_t it = 0; it < ITERS; it++) {
      const uint32_t value = id << 16 | it;
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb, &bi));
      vkCmdFillBuffer(cb, buf, 0, SIZE, value);
      CK(vkEndCommandBuffer(cb));
      pthread_mutex_lock(&queue_mutex);
      const uint64_t signal = ++timeline_value;
      VkTimelineSemaphoreSubmitInfo ts = { VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                           .signalSemaphoreValueCount = 1,
                                           .pSignalSemaphoreValues = &signal };
      VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &ts,
                          .commandBufferCount = 1,       .pCommandBuffers = &cb,
                          .signalSemaphoreCount = 1,     .pSignalSemaphores = &timeline };
      VkResult r = vkQueueSubmit(s.q, 1, &si, fence);
      pthread_mutex_unlock(&queue_mutex);
      CK(r);
      CK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
      CK(vkResetFences(dev, 1, &fence));
      for (uint32_t i = 0; i < SIZE / 4; i++) {
         if (p[i] != value) {
            printf("FAIL threads: thread %u iteration %u word %u = 0x%x\n", id, it, i, p[i]);
            exit(1);
         }
      }
      CK(vkResetCommandBuffer(cb, 0));
   }
   vkDestroyFence(dev, fence, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, mem, NULL);
   return NULL;
}

int main(void)
{
   smoke_init(&s);
   VkSemaphoreTypeCreateInfo tci = { VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                     .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE };
   VkSemaphoreCreateInfo sci = { VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &tci };
   CK(vkCreateSemaphore(s.dev, &sci, NULL, &timeline));
   pthread_t t[THREADS];
   for (uintptr_t i = 0; i < THREADS; i++)
      pthread_create(&t[i], NULL, worker, (void *)i);
   for (int i = 0; i < THREADS; i++)
      pthread_join(t[i], NULL);
   const uint64_t want = THREADS * ITERS;
   VkSemaphoreWaitInfo wi = { VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, .semaphoreCount = 1,
                              .pSemaphores = &timeline, .pValues = &want };
   CK(vkWaitSemaphores(s.dev, &wi, UINT64_MAX));
   uint64_t value = 0;
   CK(vkGetSemaphoreCounterValue(s.dev, timeline, &value));
   if (value != want) {
      printf("FAIL threads: timeline at %llu, want %llu\n", (unsigned long long)value,
             (unsigned long long)want);
      return 1;
   }
   printf("result: threads timeline=%llu\n", (unsigned long long)value);
   vkDestroySemaphore(s.dev, timeline, NULL);
   smoke_fini(&s);
   printf("OK threads\n");
   return 0;
}
