/* export backend: the driver exports the memory as a dma-buf, else an opaque fd. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vk/memory_backend.h"
#include "util/options.h"
#include "util/log.h"
#include "vk/vk_common.h"

static VkExternalMemoryHandleTypeFlagBits export_type(const struct vd_physical_device *pdev)
{
   return pdev->has_dma_buf ? VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT
                            : VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
}

static bool ex_probe(struct vd_physical_device *pdev, char *why, size_t why_size)
{
   if (!pdev->has_external_memory_fd) {
      snprintf(why, why_size, "the driver lacks VK_KHR_external_memory_fd");
      return false;
   }
   snprintf(why, why_size, "the driver exports %s fds", pdev->has_dma_buf ? "dma-buf" : "opaque");
   return true;
}

static VkResult ex_allocate(struct vd_device *dev, const VkMemoryAllocateInfo *info, int import_fd,
                            uint64_t import_size, struct vd_memory *mem)
{
   const struct vd_vk_dispatch *vk = dev->vk;
   mem->fd = -1;
   VkMemoryAllocateInfo ai = *info;
   VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = export_type(dev->pdev),
   };
   VkImportMemoryFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .handleType = export_type(dev->pdev),
   };
   if (import_fd >= 0) {
      if (info->allocationSize > import_size)
         return VK_ERROR_INVALID_EXTERNAL_HANDLE;
      import.fd = dup(import_fd);
      import.pNext = ai.pNext;
      ai.pNext = &import;
   } else if (mem->flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
      /* Every host-visible allocation must be exportable so the guest can map it. */
      bool has_export = false;
      for (const VkBaseInStructure *s = ai.pNext; s; s = s->pNext)
         has_export |= s->sType == VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
      if (!has_export) {
         export.pNext = ai.pNext;
         ai.pNext = &export;
      }
   }
   VkResult r = vk->AllocateMemory(dev->handle, &ai, NULL, &mem->handle);
   if (r != VK_SUCCESS && import_fd >= 0)
      close(import.fd); /* ownership passes to the driver only on success */
   if (r != VK_SUCCESS && ai.pNext == &export) {
      /* Say once (per worker process) why every mappable allocation will fail. */
      static atomic_flag warned = ATOMIC_FLAG_INIT;
      if (!atomic_flag_test_and_set(&warned))
         vd_err(VD_CAT_MEMORY,
                "%s: the driver cannot allocate exportable (%s) memory here "
                "(VkResult %d); lavapipe, for one, needs /dev/udmabuf.  Every mappable "
                "allocation will fail: use --memory host-pointer (or auto, which picks it "
                "where the driver has VK_EXT_external_memory_host)",
                dev->pdev->props.deviceName, dev->pdev->has_dma_buf ? "dma-buf" : "opaque fd", r);
   }
   mem->backing_size = info->allocationSize;
   return r;
}

static int ex_export_blob(struct vd_memory *mem, uint64_t size, struct vd_blob *out)
{
   /* (vd_device_memory_export_blob checked the size against the page-rounded allocation:
    * the driver's memory is whole pages.) */
   VkMemoryGetFdInfoKHR gi = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
      .memory = mem->handle,
      .handleType = export_type(mem->dev->pdev),
   };
   int fd = -1;
   if (mem->dev->vk->GetMemoryFdKHR(mem->dev->handle, &gi, &fd) != VK_SUCCESS)
      return -EIO;
   memset(out, 0, sizeof(*out));
   out->fd = fd;
   out->fd_type = mem->dev->pdev->has_dma_buf ? VD_FD_TYPE_DMABUF : VD_FD_TYPE_OPAQUE;
   out->map_info = (mem->flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) ? 1 : 3;
   out->size = size;
   memcpy(out->device_uuid, mem->dev->pdev->device_uuid, 16);
   memcpy(out->driver_uuid, mem->dev->pdev->driver_uuid, 16);
   out->allocation_size = mem->size;
   out->memory_type_index = mem->type_index;
   return 0;
}

static void ex_free(struct vd_memory *mem)
{
   mem->dev->vk->FreeMemory(mem->dev->handle, mem->handle, NULL);
}

const struct vd_memory_backend vd_memory_export = {
   .name = "export",
   .probe = ex_probe,
   .allocate = ex_allocate,
   .export_blob = ex_export_blob,
   .free = ex_free,
};

const struct vd_memory_backend *vd_memory_decide(struct vd_physical_device *pdev, char *why,
                                                 size_t why_size)
{
   char why_hp[160], why_ex[160];
   const bool hp = vd_memory_host_pointer.probe(pdev, why_hp, sizeof(why_hp));
   const bool ex = vd_memory_export.probe(pdev, why_ex, sizeof(why_ex));
   const struct vd_memory_backend *b = NULL;
   const char *rule = "";
   switch (pdev->instance->opts->memory_mode) {
   case VD_MEMORY_HOST_POINTER:
      b = hp ? &vd_memory_host_pointer : NULL;
      rule = hp ? "--memory host-pointer" : why_hp;
      break;
   case VD_MEMORY_EXPORT:
      b = ex ? &vd_memory_export : NULL;
      rule = ex ? "--memory export" : why_ex;
      break;
   default:
      /* Host pointers work wherever the extension exists and always give the guest a
       * mappable memfd.  Exported fds are not mappable on every driver (lavapipe's dma-buf
       * export needs udmabuf, opaque fds of discrete GPUs are not mappable at all), so
       * export is only the fallback. */
      if (hp) {
         b = &vd_memory_host_pointer;
         rule = "auto: host pointers give the guest mappable shared memory";
      } else if (ex) {
         b = &vd_memory_export;
         rule = "auto: no VK_EXT_external_memory_host; exporting fds (must be mappable)";
      } else {
         rule = "auto: no backend fits (need VK_EXT_external_memory_host or dma-buf export)";
      }
      break;
   }
   if (b)
      snprintf(why, why_size, "%s; %s", rule, b == &vd_memory_host_pointer ? why_hp : why_ex);
   else
      snprintf(why, why_size, "%s", rule);
   return b;
}

const struct vd_memory_backend *vd_memory_choose(struct vd_physical_device *pdev)
{
   char why[400];
   const struct vd_memory_backend *b = vd_memory_decide(pdev, why, sizeof(why));
   if (b)
      vd_info(VD_CAT_MEMORY, "%s: memory backend %s (%s)", pdev->props.deviceName, b->name, why);
   else
      vd_warn(VD_CAT_MEMORY,
              "%s: no memory backend: %s; host-visible memory cannot be mapped by "
              "the guest",
              pdev->props.deviceName, why);
   return b;
}
