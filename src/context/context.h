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

struct vd_context;

/* Blob fd types, numbered as virglrenderer's enum virgl_resource_fd_type. */
enum vd_fd_type {
   VD_FD_TYPE_DMABUF = 0,
   VD_FD_TYPE_OPAQUE = 1,
   VD_FD_TYPE_SHM = 2,
   VD_FD_TYPE_INVALID = -1,
};

/* Blob flags, numbered as vtest / virglrenderer. */
#define VD_BLOB_FLAG_MAPPABLE 0x1u
#define VD_BLOB_FLAG_SHAREABLE 0x2u
#define VD_BLOB_FLAG_CROSS_DEVICE 0x4u

#define VD_MAX_TIMELINES 64

struct vd_context_params {
   uint32_t id;          /* transport-chosen, for logs */
   const char *name;     /* client's process name, for logs */
   const char *record_dir; /* --record DIR or NULL */
   /* Called when every command submitted before vd_context_submit_fence(ring_idx, fence_id)
    * has completed (ring_idx 0: processed; others: GPU work on the queue bound to ring_idx
    * done).  Fences on one timeline retire in order. */
   void (*fence_retired)(void *cookie, uint32_t ring_idx, uint64_t fence_id);
   void *cookie;
};

struct vd_blob {
   int fd;              /* owned by the caller after return */
   enum vd_fd_type fd_type;
   uint32_t map_info;   /* VIRGL_RENDERER_MAP_CACHE_* (0 none, 1 cached, 2 uncached, 3 wc) */
   uint64_t size;
   /* Only for VD_FD_TYPE_OPAQUE exports. */
   uint8_t device_uuid[16], driver_uuid[16];
   uint64_t allocation_size;
   uint32_t memory_type_index;
};

/* Returns NULL (and logs why) on failure. */
struct vd_context *vd_context_create(const struct vd_context_params *params);
/* Stops all threads, destroys all host objects, closes all fds. */
void vd_context_destroy(struct vd_context *ctx);

/* blob_id 0 with flags == MAPPABLE: new shared memory of `size` bytes.
 * Otherwise blob_id is a VkDeviceMemory object id to export.
 * Returns 0, or a negative errno (the context stays alive). */
int vd_context_create_blob(struct vd_context *ctx, uint32_t res_id, uint64_t blob_id,
                           uint64_t size, uint32_t flags, struct vd_blob *out);
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
