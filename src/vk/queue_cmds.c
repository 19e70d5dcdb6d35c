/* Queue submission and blocking waits.
 *
 * Host VkQueue access is externally synchronized, and several rings may submit to one
 * queue: every host call on a queue holds the queue's mutex.  Blocking waits are allowed
 * on ring threads (the capset promises allow_vk_wait_syncs) but never on the virtqueue,
 * which must stay responsive. */
#include <inttypes.h>
#include <string.h>

#include "util/log.h"
#include "util/clock.h"
#include "vk/vk_common.h"

static bool not_on_virtqueue(struct vd_dispatch *disp)
{
   if (!disp->ring) {
      vd_dispatch_fatal(disp, "blocking call on the virtqueue (only rings may block)");
      return false;
   }
   return true;
}

/* The guest's batches, with the last one also signalling `value` on the queue's tracking
 * semaphore (vd_queue_track_value): the host then needs no extra submission to tell when
 * the work, and so the objects it holds, are done.  The copies live in the command's
 * arena; NULL if it is out of memory. */
static const VkSubmitInfo *track_submit(struct vd_dispatch *disp, const VkSubmitInfo *subs,
                                        uint32_t count, VkSemaphore sem, uint64_t value)
{
   VkSubmitInfo *copy = vd_arena_alloc_array(&disp->arena, sizeof(*copy), count);
   if (!copy)
      return NULL;
   memcpy(copy, subs, count * sizeof(*copy));
   VkSubmitInfo *last = &copy[count - 1];
   const uint32_t ns = last->signalSemaphoreCount;
   VkSemaphore *sems = vd_arena_alloc_array(&disp->arena, sizeof(*sems), (uint64_t)ns + 1);
   uint64_t *vals = vd_arena_alloc_array(&disp->arena, sizeof(*vals), (uint64_t)ns + 1);
   if (!sems || !vals)
      return NULL;
   if (ns) /* (memcpy from NULL is undefined even for 0 bytes) */
      memcpy(sems, last->pSignalSemaphores, ns * sizeof(*sems));
   sems[ns] = sem;
   /* The guest's own timeline values, if it gave any (binary semaphores ignore theirs). */
   VkTimelineSemaphoreSubmitInfo *tl =
      vd_chain_find(last->pNext, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
   for (uint32_t i = 0; i < ns; i++)
      vals[i] = tl && i < tl->signalSemaphoreValueCount ? tl->pSignalSemaphoreValues[i] : 0;
   vals[ns] = value;
   if (!tl) {
      tl = vd_arena_alloc(&disp->arena, sizeof(*tl));
      if (!tl)
         return NULL;
      *tl = (VkTimelineSemaphoreSubmitInfo){
         .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
         .pNext = last->pNext,
      };
      last->pNext = tl;
   }
   tl->signalSemaphoreValueCount = ns + 1;
   tl->pSignalSemaphoreValues = vals;
   last->signalSemaphoreCount = ns + 1;
   last->pSignalSemaphores = sems;
   return copy;
}

static const VkSubmitInfo2 *track_submit2(struct vd_dispatch *disp, const VkSubmitInfo2 *subs,
                                          uint32_t count, VkSemaphore sem, uint64_t value)
{
   VkSubmitInfo2 *copy = vd_arena_alloc_array(&disp->arena, sizeof(*copy), count);
   if (!copy)
      return NULL;
   memcpy(copy, subs, count * sizeof(*copy));
   VkSubmitInfo2 *last = &copy[count - 1];
   const uint32_t ns = last->signalSemaphoreInfoCount;
   VkSemaphoreSubmitInfo *infos =
      vd_arena_alloc_array(&disp->arena, sizeof(*infos), (uint64_t)ns + 1);
   if (!infos)
      return NULL;
   if (ns)
      memcpy(infos, last->pSignalSemaphoreInfos, ns * sizeof(*infos));
   infos[ns] = (VkSemaphoreSubmitInfo){
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
      .semaphore = sem,
      .value = value,
      .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
   };
   last->signalSemaphoreInfoCount = ns + 1;
   last->pSignalSemaphoreInfos = infos;
   return copy;
}

/* After a guest submission (queue mutex held): a submission with no objects has no work
 * (no command buffers, no semaphores) and changes nothing; any other one is covered by
 * the tracking semaphore only if it signals it. */
static void note_tracked(struct vd_queue *q, uint32_t objs, VkResult r, uint64_t track_value)
{
   if (objs)
      q->track_covers_all = r == VK_SUCCESS && track_value;
}

VD_HANDLER(vkQueueSubmit)
{
   struct vd_queue *q = a->obj->data;
   struct vd_object **objs = NULL;
   uint32_t n = 0;
   vd_queue_reap(q, 0);
   if (!vd_lifetime_submit_begin(disp, &objs, &n))
      return;
   pthread_mutex_lock(&q->mutex);
   /* A fence-only submission (no batches) gets one empty batch that signals the tracking
    * semaphore: still one host submission. */
   const VkSubmitInfo empty = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };
   uint32_t count = a->submitCount;
   const VkSubmitInfo *subs = count ? a->pSubmits : &empty;
   uint64_t v = n ? vd_queue_track_value(q) : 0;
   if (v && !(subs = track_submit(disp, subs, count ? count : 1, q->track_sem, v))) {
      subs = a->pSubmits;
      v = 0;
   }
   if (v && !count)
      count = 1;
   a->ret = q->vk->QueueSubmit(a->queue, count, subs, a->fence);
   note_tracked(q, n, a->ret, v);
   vd_lifetime_submit_end(q, objs, n, a->ret == VK_SUCCESS, v);
   pthread_mutex_unlock(&q->mutex);
}

VD_HANDLER(vkQueueSubmit2)
{
   struct vd_queue *q = a->obj->data;
   struct vd_object **objs = NULL;
   uint32_t n = 0;
   vd_queue_reap(q, 0);
   if (!vd_lifetime_submit_begin(disp, &objs, &n))
      return;
   pthread_mutex_lock(&q->mutex);
   const VkSubmitInfo2 empty = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2 };
   uint32_t count = a->submitCount;
   const VkSubmitInfo2 *subs = count ? a->pSubmits : &empty;
   uint64_t v = n ? vd_queue_track_value(q) : 0;
   if (v && !(subs = track_submit2(disp, subs, count ? count : 1, q->track_sem, v))) {
      subs = a->pSubmits;
      v = 0;
   }
   if (v && !count)
      count = 1;
   a->ret = q->vk->QueueSubmit2(a->queue, count, subs, a->fence);
   note_tracked(q, n, a->ret, v);
   vd_lifetime_submit_end(q, objs, n, a->ret == VK_SUCCESS, v);
   pthread_mutex_unlock(&q->mutex);
}

VD_HANDLER(vkQueueBindSparse)
{
   struct vd_queue *q = a->obj->data;
   struct vd_object **objs = NULL;
   uint32_t n = 0;
   if (!vd_sparse_binds_fit(disp, q->dev, a->pBindInfo, a->bindInfoCount) ||
       !vd_lifetime_submit_begin(disp, &objs, &n))
      return;
   pthread_mutex_lock(&q->mutex);
   a->ret = q->vk->QueueBindSparse(a->queue, a->bindInfoCount, a->pBindInfo, a->fence);
   q->track_covers_all = false;
   vd_lifetime_submit_end(q, objs, n, a->ret == VK_SUCCESS, 0);
   pthread_mutex_unlock(&q->mutex);
   if (a->ret != VK_SUCCESS)
      return;
   /* A sparse buffer or image holds the memory bound to it (over-approximated: every
    * memory of the command), as a bound one does. */
   for (uint32_t i = 0; i < disp->looked_count; i++) {
      struct vd_object *o = disp->looked[i];
      if (o->type != VK_OBJECT_TYPE_BUFFER && o->type != VK_OBJECT_TYPE_IMAGE)
         continue;
      for (uint32_t j = 0; j < disp->looked_count; j++)
         if (disp->looked[j]->type == VK_OBJECT_TYPE_DEVICE_MEMORY &&
             !vd_object_hold(o, disp->looked[j]))
            vd_dispatch_fatal(disp, "out of memory holding sparse memory");
   }
}

VD_HANDLER(vkQueueWaitIdle)
{
   struct vd_queue *q = a->obj->data;
   if (!not_on_virtqueue(disp))
      return;
   pthread_mutex_lock(&q->mutex);
   a->ret = q->vk->QueueWaitIdle(a->queue);
   pthread_mutex_unlock(&q->mutex);
}

VD_HANDLER(vkDeviceWaitIdle)
{
   if (not_on_virtqueue(disp))
      a->ret = vd_object_vk(a->obj)->DeviceWaitIdle(a->device);
}

/* Host waits run in slices so that a ring whose context is being destroyed (or went
 * fatal) never stays blocked on a fence or semaphore nothing will signal: destroying a
 * context joins its ring threads, and a guest may send vkWaitForFences with no timeout
 * on a fence it never submits.  The guest's timeout is kept. */
#define WAIT_SLICE_NS 100000000ull

/* Calls wait(cookie, slice) until it returns something other than VK_TIMEOUT, the guest's
 * timeout passes, or the ring stops (then VK_TIMEOUT, which the guest never sees). */
static VkResult sliced_wait(struct vd_dispatch *disp, uint64_t timeout,
                            VkResult (*wait)(void *cookie, uint64_t slice), void *cookie)
{
   const uint64_t start = vd_now_ns();
   const uint64_t end = timeout > UINT64_MAX - start ? UINT64_MAX : start + timeout;
   for (;;) {
      const uint64_t t = vd_now_ns();
      const uint64_t left = t >= end ? 0 : end - t;
      const uint64_t slice = left < WAIT_SLICE_NS ? left : WAIT_SLICE_NS;
      const VkResult r = wait(cookie, slice);
      if (r != VK_TIMEOUT || slice == left || vd_ring_stopping(disp->ring))
         return r;
   }
}

static VkResult wait_fences(void *cookie, uint64_t slice)
{
   const struct vn_args_vkWaitForFences *a = cookie;
   return vd_object_vk(a->obj)->WaitForFences(a->device, a->fenceCount, a->pFences, a->waitAll,
                                              slice);
}

static VkResult wait_semaphores(void *cookie, uint64_t slice)
{
   const struct vn_args_vkWaitSemaphores *a = cookie;
   return vd_object_vk(a->obj)->WaitSemaphores(a->device, a->pWaitInfo, slice);
}

VD_HANDLER(vkWaitForFences)
{
   if (not_on_virtqueue(disp))
      a->ret = sliced_wait(disp, a->timeout, wait_fences, a);
}

VD_HANDLER(vkWaitSemaphores)
{
   if (not_on_virtqueue(disp))
      a->ret = sliced_wait(disp, a->timeout, wait_semaphores, a);
}

/* The queries lie inside the pool, and the results fit the dataSize bytes of pData (an
 * arena buffer of that size, which the driver would otherwise write past). */
VD_HANDLER(vkGetQueryPoolResults)
{
   if ((a->flags & VK_QUERY_RESULT_WAIT_BIT) && !not_on_virtqueue(disp))
      return;
   const struct vd_query_pool *p = vd_query_pool_of(disp, a->queryPool);
   if (!p || !vd_query_range_ok(disp, p, a->firstQuery, a->queryCount))
      return;
   const uint64_t span = vd_query_results_span(p, a->queryCount, a->stride, a->flags);
   if (span > a->dataSize || (a->queryCount && !a->pData)) {
      vd_dispatch_fatal(disp,
                        "dataSize %zu: %u results %" PRIu64 " bytes apart need %" PRIu64 " bytes",
                        a->dataSize, a->queryCount, (uint64_t)a->stride, span);
      return;
   }
   a->ret = vd_object_vk(a->obj)->GetQueryPoolResults(a->device, a->queryPool, a->firstQuery,
                                                      a->queryCount, a->dataSize, a->pData,
                                                      a->stride, a->flags);
}
