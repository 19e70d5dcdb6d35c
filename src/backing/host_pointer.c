/* host-pointer backend: shared memory imported with VK_EXT_external_memory_host. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vk/memory_backend.h"
#include "util/shm.h"
#include "util/options.h"
#include "platform/platform.h"
#include "util/log.h"
#include "vk/vk_common.h"

static bool hp_probe(struct vd_physical_device *pdev, char *why, size_t why_size)
{
   if (!pdev->has_external_memory_host) {
      snprintf(why, why_size, "the driver lacks VK_EXT_external_memory_host");
      return false;
   }
   snprintf(why, why_size, "VK_EXT_external_memory_host, alignment %" PRIu64 " bytes",
            pdev->host_pointer_alignment);
   return true;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
   return (v + a - 1) / a * a;
}

/* Maps fd at an address aligned to `align` (mmap only promises page alignment, and the
 * driver may need more: 16 KiB on Apple Silicon). */
static void *map_aligned(int fd, uint64_t size, uint64_t align)
{
   const uint64_t span = size + align;
   uint8_t *res = vd_platform_map_reserve(span);
   if (res == MAP_FAILED)
      return MAP_FAILED;
   uint8_t *aligned = (uint8_t *)(uintptr_t)align_up((uintptr_t)res, align);
   void *p = mmap(aligned, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
   if (p == MAP_FAILED) {
      munmap(res, span);
      return MAP_FAILED;
   }
   if (aligned > res)
      munmap(res, (size_t)(aligned - res));
   if (aligned + size < res + span)
      munmap(aligned + size, (size_t)(res + span - (aligned + size)));
   return p;
}

/* Recycling: a context that allocates and frees host-visible memory in a loop would
 * otherwise pay memfd_create + ftruncate + mmap + munmap + close every time.  Backings are
 * reused only within one device, hence one guest context: what the old allocation held is
 * the guest's own data (Vulkan does not promise zeroed memory). */
static bool cache_take(struct vd_device *dev, uint64_t size, int *fd, void **ptr)
{
   struct vd_backing_cache *c = &dev->backings;
   bool found = false;
   pthread_mutex_lock(&c->mutex);
   for (unsigned i = 0; i < c->count; i++) {
      if (c->slots[i].size == size) {
         *fd = c->slots[i].fd;
         *ptr = c->slots[i].ptr;
         c->bytes -= size;
         c->slots[i] = c->slots[--c->count];
         found = true;
         break;
      }
   }
   pthread_mutex_unlock(&c->mutex);
   return found;
}

static bool cache_put(struct vd_device *dev, int fd, void *ptr, uint64_t size)
{
   struct vd_backing_cache *c = &dev->backings;
   bool kept = false;
   pthread_mutex_lock(&c->mutex);
   if (c->count < VD_BACKING_CACHE_SLOTS && size <= VD_BACKING_CACHE_MAX_BYTES - c->bytes) {
      c->slots[c->count].fd = fd;
      c->slots[c->count].ptr = ptr;
      c->slots[c->count].size = size;
      c->count++;
      c->bytes += size;
      kept = true;
   }
   pthread_mutex_unlock(&c->mutex);
   return kept;
}

void vd_backing_cache_fini(struct vd_backing_cache *c)
{
   for (unsigned i = 0; i < c->count; i++) {
      munmap(c->slots[i].ptr, c->slots[i].size);
      close(c->slots[i].fd);
   }
   c->count = 0;
   c->bytes = 0;
}

static VkResult hp_allocate(struct vd_device *dev, const VkMemoryAllocateInfo *info, int import_fd,
                            uint64_t import_size, struct vd_memory *mem)
{
   const struct vd_vk_dispatch *vk = dev->vk;
   const uint64_t align = dev->pdev->host_pointer_alignment;
   mem->fd = -1;
   if (!(mem->flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && import_fd < 0)
      return vk->AllocateMemory(dev->handle, info, NULL, &mem->handle);

   uint64_t size = align_up(info->allocationSize ? info->allocationSize : 1, align);
   if (import_fd >= 0) {
      /* Guest-declared sizes never exceed the real backing. */
      if (info->allocationSize > import_size)
         return VK_ERROR_INVALID_EXTERNAL_HANDLE;
      mem->fd = fcntl(import_fd, F_DUPFD_CLOEXEC, 0);
      size = import_size / align * align;
      if (size < info->allocationSize) {
         /* The resource is not a whole number of alignment units: cannot import. */
         if (mem->fd >= 0)
            close(mem->fd);
         mem->fd = -1;
         return VK_ERROR_INVALID_EXTERNAL_HANDLE;
      }
      mem->imported = true;
   }
   void *ptr = MAP_FAILED;
   if (import_fd < 0 && !cache_take(dev, size, &mem->fd, &ptr))
      mem->fd = vd_shm_create("venusd-memory", size);
   if (mem->fd < 0)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   if (ptr == MAP_FAILED)
      ptr = map_aligned(mem->fd, size, align);
   if (ptr == MAP_FAILED) {
      close(mem->fd);
      mem->fd = -1;
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   VkMemoryHostPointerPropertiesEXT props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT
   };
   VkResult r = vk->GetMemoryHostPointerPropertiesEXT(
      dev->handle, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, ptr, &props);
   if (r != VK_SUCCESS || !(props.memoryTypeBits & (1u << info->memoryTypeIndex))) {
      vd_warn(VD_CAT_MEMORY, "host pointer cannot back memory type %u (types 0x%x, VkResult %d)",
              info->memoryTypeIndex, props.memoryTypeBits, r);
      munmap(ptr, size);
      close(mem->fd);
      mem->fd = -1;
      return r != VK_SUCCESS ? r : VK_ERROR_INVALID_EXTERNAL_HANDLE;
   }
   VkImportMemoryHostPointerInfoEXT import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
      .pHostPointer = ptr,
   };
   /* Keep the guest's chain minus what cannot combine with a host-pointer import:
    * dedicated-allocation hints and export requests. */
   const void *chain = info->pNext;
   const VkBaseInStructure **p = (const VkBaseInStructure **)&chain;
   while (*p) {
      if ((*p)->sType == VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO ||
          (*p)->sType == VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO)
         *p = (*p)->pNext;
      else
         p = (const VkBaseInStructure **)&(*p)->pNext;
   }
   import.pNext = chain;
   VkMemoryAllocateInfo ai = *info;
   ai.pNext = &import;
   ai.allocationSize = size;
   r = vk->AllocateMemory(dev->handle, &ai, NULL, &mem->handle);
   if (r != VK_SUCCESS) {
      munmap(ptr, size);
      close(mem->fd);
      mem->fd = -1;
      return r;
   }
   mem->ptr = ptr;
   mem->backing_size = size;
   return VK_SUCCESS;
}

static int hp_export_blob(struct vd_memory *mem, uint64_t size, struct vd_blob *out)
{
   if (mem->fd < 0 || size > mem->backing_size)
      return -EINVAL;
   if (mem->dev->pdev->instance->opts->vmm_blobs && lseek(mem->fd, 0, SEEK_END) != (off_t)size) {
      /* virglrenderer's proxy accepts a shared-memory blob only if the file is exactly the
       * blob's size, while the backing is rounded up to the import alignment.  Cut the file
       * to the blob: the pages past its end are padding that neither the guest (it maps
       * `size` bytes) nor the driver (resources bound to this memory lie inside the guest's
       * allocationSize <= size) ever touches, so they may stop being backed. */
      if (size < mem->size || mem->imported || mem->resized) {
         vd_err(VD_CAT_MEMORY,
                "blob of %" PRIu64 " bytes for a %" PRIu64 "-byte allocation "
                "(backing %" PRIu64 " bytes): the render-server proxy needs a shared-memory "
                "file of exactly the blob's size, which cannot be made here",
                size, mem->size, mem->backing_size);
         return -EINVAL;
      }
      if (ftruncate(mem->fd, (off_t)size) < 0) {
         const int err = errno;
         vd_err(VD_CAT_MEMORY,
                "cannot cut the %" PRIu64 "-byte backing to the %" PRIu64
                "-byte blob the render-server proxy requires: %s",
                mem->backing_size, size, strerror(err));
         return -err;
      }
      mem->resized = true;
   }
   memset(out, 0, sizeof(*out));
   out->fd = fcntl(mem->fd, F_DUPFD_CLOEXEC, 0);
   if (out->fd < 0)
      return -errno;
   out->fd_type = VD_FD_TYPE_SHM;
   out->map_info = 1; /* cached: it is ordinary host memory */
   out->size = size;
   return 0;
}

static void hp_free(struct vd_memory *mem)
{
   mem->dev->vk->FreeMemory(mem->dev->handle, mem->handle, NULL);
   /* A backing goes back to the device's cache only if nobody else can still reach it.  Over
    * vtest the blob's only holder is this same client (one trust domain, and Mesa drops
    * the blob when it frees the memory), so exported backings are reused; behind a VMM a
    * blob may live on in other guest processes (dma-buf), so those are not. */
   const bool vmm_blobs = mem->dev->pdev->instance->opts->vmm_blobs;
   const bool reusable = !mem->imported && !mem->resized && !(mem->exported && vmm_blobs);
   if (mem->ptr && mem->fd >= 0 && reusable &&
       cache_put(mem->dev, mem->fd, mem->ptr, mem->backing_size))
      return;
   if (mem->ptr)
      munmap(mem->ptr, mem->backing_size);
   if (mem->fd >= 0)
      close(mem->fd);
}

const struct vd_memory_backend vd_memory_host_pointer = {
   .name = "host-pointer",
   .probe = hp_probe,
   .allocate = hp_allocate,
   .export_blob = hp_export_blob,
   .free = hp_free,
};
