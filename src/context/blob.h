/* Blobs: guest-visible memory handed to a transport as an fd (vtest, render server).  The
 * context creates them (context.h); Vulkan device memory is exported into one by the memory
 * backends (vk/memory_backend.h). */
#ifndef VD_CONTEXT_BLOB_H
#define VD_CONTEXT_BLOB_H

#include <stdint.h>

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

struct vd_blob {
   int fd; /* owned by the caller after return */
   enum vd_fd_type fd_type;
   uint32_t map_info; /* VIRGL_RENDERER_MAP_CACHE_* (0 none, 1 cached, 2 uncached, 3 wc) */
   uint64_t size;
   /* Only for VD_FD_TYPE_OPAQUE exports. */
   uint8_t device_uuid[16], driver_uuid[16];
   uint64_t allocation_size;
   uint32_t memory_type_index;
};

#endif
