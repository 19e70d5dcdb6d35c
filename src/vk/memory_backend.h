/* Memory backends: the interface that vk/ defines and each backend in backing/ implements
 * (backing/ includes vk/, never the reverse; the linker joins the two).
 *
 * A backend is a small table of functions, chosen per device from --memory
 * auto|host-pointer|export; handlers call through it and never test which backend they
 * have.  host-pointer backs every HOST_VISIBLE allocation with a shared-memory file that
 * venusd maps and imports with VK_EXT_external_memory_host, so the blob handed to the
 * guest is that same memory (zero copies).  export asks the driver to export the memory as
 * a dma-buf, or else an opaque fd, and hands that out. */
#ifndef VD_VK_MEMORY_BACKEND_H
#define VD_VK_MEMORY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#include "context/blob.h"

struct vd_device;
struct vd_physical_device;
struct vd_memory;
struct vd_backing_cache;

struct vd_memory_backend {
   const char *name;
   /* Whether this backend can serve the physical device; fills *why either way. */
   bool (*probe)(struct vd_physical_device *pdev, char *why, size_t why_size);
   /* Allocates mem->handle for the guest's allocate info (pNext chain already stripped of
    * Venus structs; import_fd >= 0 when the guest imports a resource).  Returns a
    * VkResult; on failure nothing is left allocated. */
   VkResult (*allocate)(struct vd_device *dev, const VkMemoryAllocateInfo *info, int import_fd,
                        uint64_t import_size, struct vd_memory *mem);
   /* Exports mem as a blob of `size` bytes (<= the allocation).  Returns 0 or -errno. */
   int (*export_blob)(struct vd_memory *mem, uint64_t size, struct vd_blob *out);
   void (*free)(struct vd_memory *mem);
};

/* A VkDeviceMemory and its backing. */
struct vd_memory {
   struct vd_device *dev;
   const struct vd_memory_backend *backend;
   VkDeviceMemory handle;
   uint64_t size; /* guest-declared allocationSize */
   uint32_t type_index;
   VkMemoryPropertyFlags flags;
   int fd;                /* shared-memory backing (host-pointer) or -1 */
   void *ptr;             /* its mapping */
   uint64_t backing_size; /* size of fd/ptr, >= size, a multiple of the alignment */
   bool imported;         /* fd came from the guest (never recycled) */
   bool resized;          /* the file was cut to a blob's size (never recycled) */
   bool exported;
   struct vd_context *ctx; /* charged size bytes of VD_LIMIT_MEMORY (vk/memory.c) */
   bool fd_charged;        /* fd was charged to VD_LIMIT_FDS */
};

extern const struct vd_memory_backend vd_memory_host_pointer;
extern const struct vd_memory_backend vd_memory_export;

/* Chooses the backend for a physical device per --memory and logs the choice and why. */
const struct vd_memory_backend *vd_memory_choose(struct vd_physical_device *pdev);
/* The same choice without the log line: the backend (NULL: none fits) and why, for
 * `venusd doctor`.  Reads pdev's has_* flags, host_pointer_alignment, instance->opts. */
const struct vd_memory_backend *vd_memory_decide(struct vd_physical_device *pdev, char *why,
                                                 size_t why_size);

/* Releases the backings a device's cache still holds (device destruction). */
void vd_backing_cache_fini(struct vd_backing_cache *cache);

#endif
