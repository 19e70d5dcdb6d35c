/* Queue timelines: a fence on timeline N retires when all work submitted to the VkQueue
 * bound to N before it has completed.  It waits for the value the guest's last submission
 * signalled on the queue's tracking semaphore, or, where that does not cover everything
 * submitted, for a host VkFence on an empty batch; a per-queue thread does the waiting, so
 * neither the virtqueue nor a ring ever blocks on it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "platform/platform.h"
#include "util/assert_locked.h"
#include "util/log.h"
#include "vk/vk_common.h"

struct vd_queue_fence {
   struct vd_queue_fence *next;
   VkFence fence;
   uint32_t ring_idx;
   uint64_t fence_id;
   /* A submission's objects (vd_queue_retire_after): released instead of a fence retire. */
   struct vd_object **objs;
   uint32_t obj_count;
   uint64_t track_value; /* done when queue->track_sem reaches it (fence is then unused) */
};

/* The submission is done: its objects are no longer pending, and may go. */
static void release_objs(struct vd_queue_fence *f)
{
   for (uint32_t i = 0; i < f->obj_count; i++)
      atomic_fetch_sub(&f->objs[i]->pending, 1);
   for (uint32_t i = 0; i < f->obj_count; i++)
      vd_object_unref(f->objs[i]);
   free(f->objs);
}

/* An unsignalled host fence: a pooled one, else a new one.  Called with queue->mutex held. */
static VkResult fence_get_locked(struct vd_queue *queue, VkFence *out)
{
   vd_assert_locked(&queue->mutex);
   if (queue->fence_pool_count) {
      *out = queue->fence_pool[--queue->fence_pool_count];
      return VK_SUCCESS;
   }
   const VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   return queue->vk->CreateFence(queue->dev->handle, &fci, NULL, out);
}

/* Gives back a signalled fence, reset, to the pool (or destroys it when the pool is full or
 * the reset fails).  Called with queue->mutex held. */
static void fence_put_locked(struct vd_queue *queue, VkFence fence)
{
   vd_assert_locked(&queue->mutex);
   const uint32_t cap = sizeof(queue->fence_pool) / sizeof(queue->fence_pool[0]);
   if (queue->fence_pool_count < cap &&
       queue->vk->ResetFences(queue->dev->handle, 1, &fence) == VK_SUCCESS)
      queue->fence_pool[queue->fence_pool_count++] = fence;
   else
      queue->vk->DestroyFence(queue->dev->handle, fence, NULL);
}

static void *queue_thread(void *arg)
{
   vd_platform_thread_name("vd-fence");
   struct vd_queue *queue = arg;
   const struct vd_vk_dispatch *vk = queue->vk;
   VkDevice dev = queue->dev->handle;
   char prefix[96];
   snprintf(prefix, sizeof(prefix), "ctx %u %s queue fences", queue->ctx->params.id,
            queue->ctx->params.name ? queue->ctx->params.name : "?");
   vd_log_set_thread_prefix(prefix);
   pthread_mutex_lock(&queue->mutex);
   for (;;) {
      while (!queue->pending && !queue->stop)
         pthread_cond_wait(&queue->cond, &queue->mutex);
      if (!queue->pending)
         break;
      struct vd_queue_fence *f = queue->pending;
      /* track_sem lives until vd_queue_finish, which joins this thread first */
      const VkSemaphore sem = queue->track_sem;
      pthread_mutex_unlock(&queue->mutex);
      VkResult r;
      if (f->fence) {
         r = vk->WaitForFences(dev, 1, &f->fence, VK_TRUE, UINT64_MAX);
      } else {
         const VkSemaphoreWaitInfo wi = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                          .semaphoreCount = 1,
                                          .pSemaphores = &sem,
                                          .pValues = &f->track_value };
         r = vk->WaitSemaphores(dev, &wi, UINT64_MAX);
      }
      if (r != VK_SUCCESS)
         vd_warn(VD_CAT_CONTEXT, "timeline %u: host fence wait failed: VkResult %d", f->ring_idx,
                 r);
      if (queue->ctx->params.fence_retired)
         queue->ctx->params.fence_retired(queue->ctx->params.cookie, f->ring_idx, f->fence_id);
      pthread_mutex_lock(&queue->mutex);
      if (f->fence && r == VK_SUCCESS)
         fence_put_locked(queue, f->fence);
      else if (f->fence)
         vk->DestroyFence(dev, f->fence, NULL);
      queue->pending = f->next;
      if (!queue->pending)
         queue->pending_tail = &queue->pending;
      free(f);
      vd_limit_release(queue->ctx, VD_LIMIT_WAITS, 1);
   }
   pthread_mutex_unlock(&queue->mutex);
   return NULL;
}

bool vd_queue_submit_fence(struct vd_context *ctx, struct vd_queue *queue, uint32_t ring_idx,
                           uint64_t fence_id)
{
   /* The caller (vd_context_submit_fence) holds the timeline lock, which keeps the queue. */
   vd_assert_locked(&ctx->timeline_mutex);
   const struct vd_vk_dispatch *vk = queue->vk;
   /* Each pending fence is a host VkFence: the guest may not queue them without end. */
   if (!vd_limit_charge(ctx, VD_LIMIT_WAITS, 1))
      return false;
   struct vd_queue_fence *f = calloc(1, sizeof(*f));
   if (!f) {
      vd_limit_release(ctx, VD_LIMIT_WAITS, 1);
      return false;
   }
   f->ring_idx = ring_idx;
   f->fence_id = fence_id;
   pthread_mutex_lock(&queue->mutex);
   /* Where the guest's last submission signalled the tracking semaphore, the fence is that
    * value: a semaphore signal of vkQueueSubmit includes every command earlier in
    * submission order, so nothing needs submitting (an empty batch with a fence costs NVIDIA's
    * driver a host submission per guest fence).  Else an empty batch with a host fence. */
   const bool ride = queue->track_sem && queue->track_covers_all && queue->track_value;
   if (ride) {
      f->track_value = queue->track_value;
      vd_trace(VD_CAT_CONTEXT, "fence %" PRIu64 " on timeline %u: tracking value %" PRIu64,
               fence_id, ring_idx, f->track_value);
   } else if (fence_get_locked(queue, &f->fence) != VK_SUCCESS) {
      pthread_mutex_unlock(&queue->mutex);
      free(f);
      vd_limit_release(ctx, VD_LIMIT_WAITS, 1);
      return false;
   }
   if (!queue->thread_started && !vd_limit_charge(ctx, VD_LIMIT_THREADS, 1)) {
      if (f->fence)
         fence_put_locked(queue, f->fence); /* never submitted: unsignalled, reset is a no-op */
      pthread_mutex_unlock(&queue->mutex);
      free(f);
      vd_limit_release(ctx, VD_LIMIT_WAITS, 1);
      return false;
   }
   VkResult r = ride ? VK_SUCCESS : vk->QueueSubmit(queue->handle, 0, NULL, f->fence);
   if (r != VK_SUCCESS) {
      if (!queue->thread_started)
         vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
      /* a failed submission may have left the fence in any state: not reused */
      vk->DestroyFence(queue->dev->handle, f->fence, NULL);
      pthread_mutex_unlock(&queue->mutex);
      free(f);
      vd_limit_release(ctx, VD_LIMIT_WAITS, 1);
      return false;
   }
   if (!queue->thread_started) {
      if (pthread_create(&queue->thread, NULL, queue_thread, queue) == 0)
         queue->thread_started = true;
      else
         vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
   }
   *queue->pending_tail = f;
   queue->pending_tail = &f->next;
   pthread_cond_signal(&queue->cond);
   pthread_mutex_unlock(&queue->mutex);
   return queue->thread_started;
}

uint64_t vd_queue_track_value(struct vd_queue *queue)
{
   if (!queue->track_sem && !queue->track_failed) {
      const struct vd_physical_device *pd = queue->dev->pdev;
      VkSemaphoreTypeCreateInfo type = {
         .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
         .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
      };
      const VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                          .pNext = &type };
      /* device.c enables timelineSemaphore on every device where the host has it */
      if (!pd->has_timeline_semaphore || pd->instance->api_version < VK_API_VERSION_1_2 ||
          queue->vk->CreateSemaphore(queue->dev->handle, &sci, NULL, &queue->track_sem) !=
             VK_SUCCESS) {
         queue->track_sem = VK_NULL_HANDLE;
         queue->track_failed = true;
      }
   }
   return queue->track_sem ? queue->track_value + 1 : 0;
}

bool vd_queue_retire_after(struct vd_queue *queue, struct vd_object **objs, uint32_t count,
                           uint64_t track_value)
{
   const struct vd_vk_dispatch *vk = queue->vk;
   /* Consumed whatever happens next: a timeline value is never signalled twice. */
   if (track_value)
      queue->track_value = track_value;
   struct vd_queue_fence *f = calloc(1, sizeof(*f));
   if (!f)
      return false;
   f->objs = objs;
   f->obj_count = count;
   if (track_value) {
      /* The submission itself signals queue->track_sem: no extra host work. */
      f->track_value = track_value;
      *queue->retire_tail = f;
      queue->retire_tail = &f->next;
      return true;
   }
   /* Fence signal operations of vkQueueSubmit include every command submitted before them
    * in their first synchronization scope: the fence of an empty batch signals once the
    * guest's submission before it is complete. */
   /* The caller holds queue->mutex (queue_cmds.c: every host call on a queue does). */
   if (fence_get_locked(queue, &f->fence) != VK_SUCCESS) {
      free(f);
      return false;
   }
   if (vk->QueueSubmit(queue->handle, 0, NULL, f->fence) != VK_SUCCESS) {
      vk->DestroyFence(queue->dev->handle, f->fence, NULL);
      free(f);
      return false;
   }
   *queue->retire_tail = f;
   queue->retire_tail = &f->next;
   return true;
}

/* No thread waits for these fences: a wake-up per submission cost more than the check,
 * which runs at the next submission on the queue, whenever a reset or free waits for an
 * object, and at teardown.  Until then finished work only keeps its objects a while. */
void vd_queue_reap(struct vd_queue *queue, uint64_t timeout_ns)
{
   const bool wait = timeout_ns != 0;
   const struct vd_vk_dispatch *vk = queue->vk;
   VkDevice dev = queue->dev->handle;
   struct vd_queue_fence *done = NULL, **done_tail = &done;
   uint64_t reached = 0;
   bool have_reached = false;
   pthread_mutex_lock(&queue->mutex);
   while (queue->retire) {
      struct vd_queue_fence *f = queue->retire;
      VkResult r;
      if (f->track_value) {
         if (wait) {
            const VkSemaphoreWaitInfo wi = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                             .semaphoreCount = 1,
                                             .pSemaphores = &queue->track_sem,
                                             .pValues = &f->track_value };
            r = vk->WaitSemaphores(dev, &wi, timeout_ns);
         } else {
            /* one counter read per reap: submissions finish in order */
            r = have_reached ? VK_SUCCESS
                             : vk->GetSemaphoreCounterValue(dev, queue->track_sem, &reached);
            have_reached = true;
            if (r == VK_SUCCESS && reached < f->track_value)
               r = VK_NOT_READY;
         }
      } else {
         r = wait ? vk->WaitForFences(dev, 1, &f->fence, VK_TRUE, timeout_ns)
                  : vk->GetFenceStatus(dev, f->fence);
      }
      if (r == VK_NOT_READY || r == VK_TIMEOUT)
         break;
      if (r != VK_SUCCESS)
         vd_warn(VD_CAT_CONTEXT,
                 "submission tracking: host fence or semaphore status: "
                 "VkResult %d",
                 r);
      queue->retire = f->next;
      if (!queue->retire)
         queue->retire_tail = &queue->retire;
      if (!f->track_value) {
         if (r == VK_SUCCESS)
            fence_put_locked(queue, f->fence);
         else
            vk->DestroyFence(dev, f->fence, NULL);
      }
      f->next = NULL;
      *done_tail = f;
      done_tail = &f->next;
   }
   pthread_mutex_unlock(&queue->mutex);
   /* Outside the lock: releasing may destroy host objects. */
   while (done) {
      struct vd_queue_fence *f = done;
      done = f->next;
      release_objs(f);
      free(f);
   }
}

void vd_queue_finish(struct vd_queue *queue)
{
   pthread_mutex_lock(&queue->mutex);
   queue->stop = true;
   pthread_cond_broadcast(&queue->cond);
   pthread_mutex_unlock(&queue->mutex);
   if (queue->thread_started) {
      pthread_join(queue->thread, NULL);
      vd_limit_release(queue->ctx, VD_LIMIT_THREADS, 1);
   }
   queue->thread_started = false;
   vd_queue_reap(queue, UINT64_MAX);
   pthread_mutex_lock(&queue->mutex);
   while (queue->fence_pool_count)
      queue->vk->DestroyFence(queue->dev->handle, queue->fence_pool[--queue->fence_pool_count],
                              NULL);
   pthread_mutex_unlock(&queue->mutex);
   if (queue->track_sem)
      queue->vk->DestroySemaphore(queue->dev->handle, queue->track_sem, NULL);
   queue->track_sem = VK_NULL_HANDLE;
}
