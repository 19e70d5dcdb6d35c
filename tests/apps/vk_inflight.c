/* A client that leaves GPU work in flight, for tests/integration/test_teardown.sh.
 *
 *   vk_inflight --pending-wait [--exit]
 *       submits a batch (a 16 MiB fill) that waits for value 1 of a timeline semaphore
 *       that nothing will ever signal, and another that waits for an event nobody sets,
 *       prints "pending", then sleeps until killed, or with --exit returns from main at
 *       once without cleaning anything up (the process exits with the work pending).
 *   vk_inflight --busy
 *       loops forever: allocates a 4 MiB buffer and its memory, records fills and copies
 *       into it, submits with a fence, keeps four submissions in flight, and frees the
 *       oldest (buffer, memory, command buffer) once its fence signals; prints "busy"
 *       after the first round.  Meant to be killed at a random moment.
 * Every Vulkan call is checked; a failure prints FAIL and exits 1. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smoke.h"

#define SLOTS 4
#define SIZE (4u << 20)

struct slot {
   VkBuffer buf;
   VkDeviceMemory mem;
   VkCommandBuffer cb;
   VkFence fence;
   int used;
};

static void release(struct smoke *s, VkCommandPool pool, struct slot *sl)
{
   CK(vkWaitForFences(s->dev, 1, &sl->fence, VK_TRUE, UINT64_MAX));
   vkFreeCommandBuffers(s->dev, pool, 1, &sl->cb);
   vkDestroyBuffer(s->dev, sl->buf, NULL);
   vkFreeMemory(s->dev, sl->mem, NULL);
   vkDestroyFence(s->dev, sl->fence, NULL);
   sl->used = 0;
}

static int busy(struct smoke *s)
{
   VkCommandPool pool;
   CK(vkCreateCommandPool(s->dev,
                          &(VkCommandPoolCreateInfo){ VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO },
                          NULL, &pool));
   struct slot slots[SLOTS];
   memset(slots, 0, sizeof(slots));
   for (unsigned round = 0;; round++) {
      struct slot *sl = &slots[round % SLOTS];
      if (sl->used)
         release(s, pool, sl);
      sl->buf = smoke_host_buffer(
         s, SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &sl->mem);
      CK(vkAllocateCommandBuffers(s->dev,
                                  &(VkCommandBufferAllocateInfo){
                                     VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1 },
                                  &sl->cb));
      CK(vkBeginCommandBuffer(
         sl->cb, &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
      for (int i = 0; i < 8; i++) {
         vkCmdFillBuffer(sl->cb, sl->buf, 0, SIZE / 2, 0x01010101u * (uint32_t)i);
         VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                .dstAccessMask =
                                   VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT };
         vkCmdPipelineBarrier(sl->cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                              VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
         VkBufferCopy region = { 0, SIZE / 2, SIZE / 2 };
         vkCmdCopyBuffer(sl->cb, sl->buf, sl->buf, 1, &region);
      }
      CK(vkEndCommandBuffer(sl->cb));
      CK(vkCreateFence(s->dev, &(VkFenceCreateInfo){ VK_STRUCTURE_TYPE_FENCE_CREATE_INFO }, NULL,
                       &sl->fence));
      VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                          .pCommandBuffers = &sl->cb };
      CK(vkQueueSubmit(s->q, 1, &si, sl->fence));
      sl->used = 1;
      if (round == SLOTS) {
         printf("busy\n");
         fflush(stdout);
      }
   }
}

static int pending_wait(struct smoke *s, int exit_at_once)
{
   VkSemaphoreTypeCreateInfo type = { VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE };
   VkSemaphore sem;
   CK(vkCreateSemaphore(
      s->dev, &(VkSemaphoreCreateInfo){ VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type },
      NULL, &sem));
   VkEvent event;
   CK(vkCreateEvent(s->dev, &(VkEventCreateInfo){ VK_STRUCTURE_TYPE_EVENT_CREATE_INFO }, NULL,
                    &event));
   VkDeviceMemory mem;
   VkBuffer buf = smoke_host_buffer(s, 16u << 20, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &mem);
   VkCommandPool pool;
   VkCommandBuffer cb[2];
   CK(vkCreateCommandPool(s->dev,
                          &(VkCommandPoolCreateInfo){ VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO },
                          NULL, &pool));
   CK(vkAllocateCommandBuffers(
      s->dev,
      &(VkCommandBufferAllocateInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 2 },
      cb));
   CK(vkBeginCommandBuffer(
      cb[0], &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
   vkCmdFillBuffer(cb[0], buf, 0, VK_WHOLE_SIZE, 0x5eadbeefu);
   CK(vkEndCommandBuffer(cb[0]));
   CK(vkBeginCommandBuffer(
      cb[1], &(VkCommandBufferBeginInfo){ VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO }));
   vkCmdWaitEvents(cb[1], 1, &event, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                   NULL, 0, NULL, 0, NULL);
   vkCmdFillBuffer(cb[1], buf, 0, 4096, 0x600dcafeu);
   CK(vkEndCommandBuffer(cb[1]));
   const uint64_t one = 1;
   VkTimelineSemaphoreSubmitInfo tl = { VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                        .waitSemaphoreValueCount = 1,
                                        .pWaitSemaphoreValues = &one };
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   VkSubmitInfo si[2] = {
      { VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &tl, .waitSemaphoreCount = 1,
        .pWaitSemaphores = &sem, .pWaitDstStageMask = &stage, .commandBufferCount = 1,
        .pCommandBuffers = &cb[0] },
      { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb[1] },
   };
   CK(vkQueueSubmit(s->q, 2, si, VK_NULL_HANDLE));
   printf("pending\n");
   fflush(stdout);
   if (exit_at_once)
      return 0; /* no cleanup, no wait: the work stays pending */
   for (;;)
      sleep(60);
}

int main(int argc, char **argv)
{
   struct smoke s;
   smoke_init(&s);
   if (argc > 1 && !strcmp(argv[1], "--busy"))
      return busy(&s);
   if (argc > 1 && !strcmp(argv[1], "--pending-wait"))
      return pending_wait(&s, argc > 2 && !strcmp(argv[2], "--exit"));
   printf("usage: vk_inflight --pending-wait [--exit] | --busy\n");
   return 2;
}
