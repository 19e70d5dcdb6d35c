/* A guest context: one Venus context of one client (vtest connection or render-server
 * context).  The transport owns the socket; the context owns everything else: resources,
 * the virtqueue dispatcher, ring threads, host Vulkan objects.
 *
 * Threading: every vd_context_* function below is called from the transport's thread for
 * that context (the "virtqueue thread"), except vd_context_is_fatal, which any thread may
 * call.  fence_retired may be called from any context thread. */
#ifndef VD_CONTEXT_CONTEXT_H
#define VD_CONTEXT_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context/blob.h"

struct vd_context;
struct vd_queue;
struct vd_options;

/* What a context needs from the Vulkan layer (vk/), which sits above it: vk/ fills the table
 * (vd_vk_context_hooks, vk/vk.h) and the program passes it down through the transport, so
 * context/ never includes vk/.  NULL hooks (unit tests): no device memory can be exported,
 * fences retire at once (no queue is bound to a timeline without a device) and teardown has
 * no device to quiesce. */
struct vd_context_hooks {
   /* Queues fence_id on `queue`, the queue bound to timeline ring_idx; called with the
    * context's timeline lock held, so the queue stays alive. */
   bool (*submit_fence)(struct vd_context *ctx, struct vd_queue *queue, uint32_t ring_idx,
                        uint64_t fence_id);
   /* Exports the VkDeviceMemory with guest id blob_id as a blob.  Returns 0 or -errno. */
   int (*export_blob)(struct vd_context *ctx, uint64_t blob_id, uint64_t size, uint32_t flags,
                      struct vd_blob *out);
   /* Releases waits nothing will satisfy and waits for every device of the context to go
    * idle, before its objects are freed. */
   void (*quiesce)(struct vd_context *ctx);
};

#define VD_MAX_TIMELINES 64

struct vd_context_params {
   uint32_t id;            /* transport-chosen, for logs */
   const char *name;       /* client's process name, for logs */
   const char *record_dir; /* --record DIR or NULL */
   /* Called when every command submitted before vd_context_submit_fence(ring_idx, fence_id)
    * has completed (ring_idx 0: processed; others: GPU work on the queue bound to ring_idx
    * done).  Fences on one timeline retire in order. */
   void (*fence_retired)(void *cookie, uint32_t ring_idx, uint64_t fence_id);
   void *cookie;
   const struct vd_context_hooks *hooks; /* see above; NULL: no Vulkan */
   /* The command line's settings (util/options.h), valid for the context's life; NULL: the
    * defaults.  vd_context_create never leaves ctx->params.opts NULL. */
   const struct vd_options *opts;
   /* The Venus protocol offered to the guest (context/protocol.h, enum vd_protocol_level):
    * caps what the guest sees and what it may send. */
   uint32_t protocol_level;
};

/* Returns NULL (and logs why) on failure. */
struct vd_context *vd_context_create(const struct vd_context_params *params);
/* Stops all threads, destroys all host objects, closes all fds. */
void vd_context_destroy(struct vd_context *ctx);

/* blob_id 0 with flags == MAPPABLE: new shared memory of `size` bytes.
 * Otherwise blob_id is a VkDeviceMemory object id to export.
 * Returns 0, or a negative errno (the context stays alive). */
int vd_context_create_blob(struct vd_context *ctx, uint32_t res_id, uint64_t blob_id, uint64_t size,
                           uint32_t flags, struct vd_blob *out);
/* Attaches an existing fd (dup'd by the callee) as resource res_id. */
int vd_context_import_resource(struct vd_context *ctx, uint32_t res_id, int fd,
                               enum vd_fd_type fd_type, uint64_t size);
void vd_context_destroy_resource(struct vd_context *ctx, uint32_t res_id);

/* Executes a virtqueue command stream synchronously.  Returns false once the context is
 * fatal (the error has been logged). */
bool vd_context_submit_cmd(struct vd_context *ctx, const void *data, size_t size);
/* Queues a fence on timeline ring_idx (< VD_MAX_TIMELINES). */
bool vd_context_submit_fence(struct vd_context *ctx, uint32_t ring_idx, uint64_t fence_id);

bool vd_context_is_fatal(const struct vd_context *ctx);

#endif
