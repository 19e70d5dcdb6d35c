/* Handlers of the Venus transport commands (VK_MESA_venus_protocol): reply streams,
 * indirect command streams, rings and seqnos. */
#include <inttypes.h>

#include "context/context_priv.h"
#include "util/log.h"
#include "vn_protocol.h"

static bool on_virtqueue(struct vd_dispatch *disp)
{
   if (disp->ring) {
      vd_dispatch_fatal(disp, "only allowed on the virtqueue, not inside a ring");
      return false;
   }
   return true;
}

/* Looks up a shared-memory resource range [offset, offset+size). */
static struct vd_resource *get_stream_resource(struct vd_dispatch *disp,
                                               const VkCommandStreamDescriptionMESA *s)
{
   struct vd_resource *res = vd_context_get_resource(disp->ctx, s->resourceId);
   if (!res || !res->ptr) {
      vd_dispatch_fatal(disp, "resource %u %s", s->resourceId,
                        res ? "is not mappable shared memory" : "does not exist");
      if (res)
         vd_resource_unref(res);
      return NULL;
   }
   if (s->offset > res->size || s->size > res->size - s->offset) {
      vd_dispatch_fatal(disp, "stream [%zu, +%zu) is outside resource %u (%" PRIu64 " bytes)",
                        s->offset, s->size, s->resourceId, res->size);
      vd_resource_unref(res);
      return NULL;
   }
   return res;
}

VD_HANDLER(vkSetReplyCommandStreamMESA)
{
   struct vd_resource *res = get_stream_resource(disp, a->pStream);
   if (!res)
      return;
   if (disp->reply_res)
      vd_resource_unref(disp->reply_res);
   disp->reply_res = res;
   disp->reply_offset = a->pStream->offset;
   disp->reply_size = a->pStream->size;
   disp->reply_pos = 0;
}

VD_HANDLER(vkSeekReplyCommandStreamMESA)
{
   if (!disp->reply_res || a->position > disp->reply_size) {
      vd_dispatch_fatal(disp, "seek to %zu outside the reply stream (%" PRIu64 " bytes)",
                        a->position, disp->reply_size);
      return;
   }
   disp->reply_pos = a->position;
}

VD_HANDLER(vkExecuteCommandStreamsMESA)
{
   if (disp->in_execute_streams) {
      vd_dispatch_fatal(disp, "nested vkExecuteCommandStreamsMESA");
      return;
   }
   if (!a->streamCount) {
      vd_dispatch_fatal(disp, "streamCount is 0");
      return;
   }
   disp->in_execute_streams = true;
   for (uint32_t i = 0; i < a->streamCount; i++) {
      struct vd_resource *res = get_stream_resource(disp, &a->pStreams[i]);
      if (!res)
         break;
      if (a->pReplyPositions) {
         if (!disp->reply_res || a->pReplyPositions[i] > disp->reply_size) {
            vd_resource_unref(res);
            vd_dispatch_fatal(disp, "reply position %zu outside the reply stream",
                              a->pReplyPositions[i]);
            break;
         }
         disp->reply_pos = a->pReplyPositions[i];
      }
      /* The guest may rewrite the stream memory only after we are done with it (it waits
       * for the ring head), so decoding it in place is safe. */
      bool ok =
         vd_dispatch_run(disp, res->ptr + a->pStreams[i].offset, a->pStreams[i].size, NULL, NULL);
      vd_resource_unref(res);
      if (!ok)
         break;
   }
   disp->in_execute_streams = false;
}

VD_HANDLER(vkCreateRingMESA)
{
   if (on_virtqueue(disp))
      vd_ring_create(disp, a->ring, a->pCreateInfo);
}

VD_HANDLER(vkDestroyRingMESA)
{
   if (on_virtqueue(disp))
      vd_ring_destroy(disp->ctx, a->ring);
}

VD_HANDLER(vkNotifyRingMESA)
{
   if (on_virtqueue(disp) && !vd_ring_notify(disp->ctx, a->ring))
      vd_dbg(VD_CAT_RING, "notify of unknown ring %" PRIx64, a->ring);
}

VD_HANDLER(vkWriteRingExtraMESA)
{
   if (on_virtqueue(disp))
      vd_ring_write_extra(disp, a->ring, a->offset, a->value);
}

VD_HANDLER(vkSubmitVirtqueueSeqnoMESA)
{
   if (on_virtqueue(disp) && !vd_ring_submit_virtqueue_seqno(disp->ctx, a->ring, a->seqno))
      vd_dispatch_fatal(disp, "unknown ring %" PRIx64, a->ring);
}

VD_HANDLER(vkWaitVirtqueueSeqnoMESA)
{
   if (!disp->ring) {
      vd_dispatch_fatal(disp, "only allowed inside a ring");
      return;
   }
   vd_ring_wait_virtqueue_seqno(disp, a->seqno);
}

VD_HANDLER(vkWaitRingSeqnoMESA)
{
   if (on_virtqueue(disp))
      vd_ring_wait_seqno(disp, a->ring, a->seqno);
}
