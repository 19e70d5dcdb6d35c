/* Queue submission and blocking waits.
 *
 * Host VkQueue access is externally synchronized, and several rings may submit to one
 * queue: every host call on a queue holds the queue's mutex.  Blocking waits are allowed
 * on ring threads (the capset promises allow_vk_wait_syncs) but never on the virtqueue,
 * which must stay responsive. */
#include "util/log.h"
#include "vk/vk_common.h"

static bool not_on_virtqueue(struct vd_dispatch *disp)
{
   if (!disp->ring) {
      vd_dispatch_fatal(disp, "blocking call on the virtqueue (only rings may block)");
      return false;
   }
   return true;
}

VD_HANDLER(vkQueueSubmit)
{
   struct vd_queue *q = a->obj->data;
   pthread_mutex_lock(&q->mutex);
   a->ret = q->vk->QueueSubmit(a->queue, a->submitCount, a->pSubmits, a->fence);
   pthread_mutex_unlock(&q->mutex);
}

VD_HANDLER(vkQueueSubmit2)
{
   struct vd_queue *q = a->obj->data;
   pthread_mutex_lock(&q->mutex);
   a->ret = q->vk->QueueSubmit2(a->queue, a->submitCount, a->pSubmits, a->fence);
   pthread_mutex_unlock(&q->mutex);
}

VD_HANDLER(vkQueueBindSparse)
{
   struct vd_queue *q = a->obj->data;
   pthread_mutex_lock(&q->mutex);
   a->ret = q->vk->QueueBindSparse(a->queue, a->bindInfoCount, a->pBindInfo, a->fence);
   pthread_mutex_unlock(&q->mutex);
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

VD_HANDLER(vkWaitForFences)
{
   if (not_on_virtqueue(disp))
      a->ret = vd_object_vk(a->obj)->WaitForFences(a->device, a->fenceCount, a->pFences,
                                                   a->waitAll, a->timeout);
}

VD_HANDLER(vkWaitSemaphores)
{
   if (not_on_virtqueue(disp))
      a->ret = vd_object_vk(a->obj)->WaitSemaphores(a->device, a->pWaitInfo, a->timeout);
}

VD_HANDLER(vkGetQueryPoolResults)
{
   if ((a->flags & VK_QUERY_RESULT_WAIT_BIT) && !not_on_virtqueue(disp))
      return;
   a->ret = vd_object_vk(a->obj)->GetQueryPoolResults(a->device, a->queryPool, a->firstQuery,
                                                      a->queryCount, a->dataSize, a->pData,
                                                      a->stride, a->flags);
}
