/* What the guest is told the host supports: the one place that decides which host
 * extensions pass through, which are hidden, which are emulated, and which versions are
 * capped.
 *
 *   - apiVersion: capped at the context's protocol's vk.xml version (1.3.269 for Mesa 25.0.7's
 *     protocol, 1.4.343 for the newest: context/protocol.h).
 *   - device extensions: passed through when both the host and the protocol table know
 *     them, with the spec version capped at the protocol's; everything else is hidden
 *     because the guest could not encode its structs and commands.
 *   - emulated extensions: what Mesa's Venus driver needs from the renderer before it
 *     offers Vulkan 1.3 (VK_KHR_synchronization2 needs SYNC_FD semaphore import) and
 *     VK_KHR_swapchain (dma-buf memory, DRM format modifiers, the foreign queue family),
 *     listed whether or not the host has them.  Where the host lacks one, venusd serves it
 *     itself (external.c, modifier.c) and the host never sees the extension.
 *   - Venus-private structs (sType 1000384xxx) are stripped before host calls. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/protocol.h"
#include "util/log.h"
#include "vk/vk_common.h"

#define VD_MAX_API_VERSION VK_MAKE_API_VERSION(0, 1, 3, 269)

uint32_t vd_emulation_api_version(uint32_t host_version, uint32_t protocol_level)
{
   const uint32_t max = protocol_level == VD_PROTOCOL_MESA25
                           ? VD_MAX_API_VERSION
                           : vd_protocol_get(protocol_level)->vk_xml_version;
   if (VK_API_VERSION_MAJOR(host_version) > VK_API_VERSION_MAJOR(max) ||
       (VK_API_VERSION_MAJOR(host_version) == VK_API_VERSION_MAJOR(max) &&
        VK_API_VERSION_MINOR(host_version) > VK_API_VERSION_MINOR(max)))
      return max;
   return host_version;
}

/* The extensions venusd can emulate, and which emulation serves each. */
static const struct {
   const char *name;
   unsigned bit;
} emulated_extensions[] = {
   { "VK_KHR_external_semaphore_fd", VD_EMU_SYNC_FD_SEMAPHORE },
   { "VK_KHR_external_fence_fd", VD_EMU_SYNC_FD_FENCE },
   { "VK_KHR_external_memory_fd", VD_EMU_DMA_BUF },
   { "VK_EXT_external_memory_dma_buf", VD_EMU_DMA_BUF },
   { "VK_EXT_image_drm_format_modifier", VD_EMU_MODIFIERS },
   { "VK_EXT_queue_family_foreign", VD_EMU_FOREIGN },
};
#define EMULATED_COUNT (sizeof(emulated_extensions) / sizeof(emulated_extensions[0]))

static const char *const emulation_names[] = { "sync_fd semaphores", "sync_fd fences",
                                               "dma-buf memory", "DRM format modifiers",
                                               "the foreign queue family" };

/* What replaces each missing host capability (for the once-per-context log line). */
static const char *const emulation_how[] = {
   "SYNC_FD imports signal the semaphore with an empty host submission, waits consume it "
   "with another",
   "SYNC_FD exports wait for the host fence, then reset it",
   "dma-buf and opaque-fd memory is venusd's own blob memory (the host-pointer memfd or "
   "the exported fd)",
   "DRM_FORMAT_MOD_LINEAR only, served by linear-tiled host images",
   "ownership transfers to or from the foreign queue family become no transfer",
};

static bool host_sync_fd(const struct vd_physical_device *pd, bool fence)
{
   const struct vd_vk_dispatch *vk = pd->vk;
   if (fence) {
      const VkPhysicalDeviceExternalFenceInfo info = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_FENCE_INFO,
         .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      VkExternalFenceProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_FENCE_PROPERTIES };
      vk->GetPhysicalDeviceExternalFenceProperties(pd->handle, &info, &props);
      vd_dbg(VD_CAT_VK, "%s: host SYNC_FD fence features 0x%x", pd->props.deviceName,
             props.externalFenceFeatures);
      return props.externalFenceFeatures & VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT;
   }
   const VkPhysicalDeviceExternalSemaphoreInfo info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   VkExternalSemaphoreProperties props = { .sType =
                                              VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
   vk->GetPhysicalDeviceExternalSemaphoreProperties(pd->handle, &info, &props);
   vd_dbg(VD_CAT_VK, "%s: host SYNC_FD semaphore features 0x%x", pd->props.deviceName,
          props.externalSemaphoreFeatures);
   const VkExternalSemaphoreFeatureFlags both =
      VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT | VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT;
   return (props.externalSemaphoreFeatures & both) == both;
}

void vd_emulation_choose(struct vd_physical_device *pd)
{
   pd->has_sync_fd_semaphore =
      vd_host_has_extension(pd, "VK_KHR_external_semaphore_fd") && host_sync_fd(pd, false);
   pd->has_sync_fd_fence =
      vd_host_has_extension(pd, "VK_KHR_external_fence_fd") && host_sync_fd(pd, true);
   pd->has_drm_format_modifier = vd_host_has_extension(pd, "VK_EXT_image_drm_format_modifier");
   pd->has_queue_family_foreign = vd_host_has_extension(pd, "VK_EXT_queue_family_foreign");

   unsigned emu = pd->instance->opts->emulate;
   if (!pd->has_sync_fd_semaphore)
      emu |= VD_EMU_SYNC_FD_SEMAPHORE;
   if (!pd->has_sync_fd_fence)
      emu |= VD_EMU_SYNC_FD_FENCE;
   /* Guest dma-bufs are venusd's blobs.  Only the export backend on a dma-buf driver has
    * real ones; host-pointer memory is a memfd whatever the guest calls it. */
   if (pd->memory != &vd_memory_export || !pd->has_dma_buf)
      emu |= VD_EMU_DMA_BUF;
   if (!pd->has_drm_format_modifier)
      emu |= VD_EMU_MODIFIERS;
   if (!pd->has_queue_family_foreign)
      emu |= VD_EMU_FOREIGN;
   /* Without a memory backend nothing can be shared with the guest: no dma-bufs. */
   if (!pd->memory)
      emu &= ~VD_EMU_DMA_BUF;
   pd->emulated = emu;
}

unsigned vd_emulation_for_extension(const struct vd_physical_device *pd, const char *name)
{
   for (size_t i = 0; i < EMULATED_COUNT; i++)
      if (!strcmp(emulated_extensions[i].name, name))
         return pd->emulated & emulated_extensions[i].bit;
   return 0;
}

void vd_emulation_log_once(struct vd_context *ctx, const struct vd_physical_device *pd,
                           unsigned bits)
{
   const unsigned before = atomic_fetch_or(&ctx->emulation_logged, bits);
   const unsigned fresh = bits & ~before;
   for (unsigned i = 0; i < sizeof(emulation_names) / sizeof(emulation_names[0]); i++) {
      if (!(fresh & (1u << i)))
         continue;
      const char *why = "the host driver lacks it";
      if (pd->instance->opts->emulate & (1u << i))
         why = "forced by --emulate";
      else if ((1u << i) == VD_EMU_DMA_BUF && pd->memory != &vd_memory_export)
         why = "guest memory is host-pointer memory here";
      vd_info(VD_CAT_VK, "context %u: %s: emulating %s (%s): %s", ctx->params.id,
              pd->props.deviceName, emulation_names[i], why, emulation_how[i]);
   }
}

static const struct vn_protocol_extension *protocol_extension(const char *name)
{
   for (uint32_t i = 0; i < VN_PROTOCOL_EXTENSION_COUNT; i++)
      if (!strcmp(vn_protocol_extensions[i].name, name))
         return &vn_protocol_extensions[i];
   return NULL;
}

bool vd_emulation_build_extensions(struct vd_physical_device *pdev)
{
   const struct vd_vk_dispatch *vk = pdev->vk;
   uint32_t count = 0;
   if (vk->EnumerateDeviceExtensionProperties(pdev->handle, NULL, &count, NULL) != VK_SUCCESS)
      return false;
   VkExtensionProperties *host = calloc(count ? count : 1, sizeof(*host));
   pdev->exts = calloc(count + EMULATED_COUNT, sizeof(*pdev->exts));
   if (!host || !pdev->exts) {
      free(host);
      return false;
   }
   if (vk->EnumerateDeviceExtensionProperties(pdev->handle, NULL, &count, host) < 0) {
      free(host);
      return false;
   }
   pdev->ext_count = 0;
   for (uint32_t i = 0; i < count; i++) {
      const struct vn_protocol_extension *pe = protocol_extension(host[i].extensionName);
      if (!pe) {
         vd_trace(VD_CAT_VK, "hidden: %s (not in the Venus protocol)", host[i].extensionName);
         continue;
      }
      if (pe->level > pdev->instance->protocol_level) {
         vd_trace(VD_CAT_VK, "hidden: %s (not in the context's Venus protocol)",
                  host[i].extensionName);
         continue;
      }
      if (vd_emulation_for_extension(pdev, host[i].extensionName))
         continue; /* listed below, as venusd serves it */
      VkExtensionProperties e = host[i];
      if (e.specVersion > pe->spec_version)
         e.specVersion = pe->spec_version;
      pdev->exts[pdev->ext_count++] = e;
   }
   for (size_t i = 0; i < EMULATED_COUNT; i++) {
      const struct vn_protocol_extension *pe = protocol_extension(emulated_extensions[i].name);
      if (!pe || pe->level > pdev->instance->protocol_level ||
          !(pdev->emulated & emulated_extensions[i].bit))
         continue;
      VkExtensionProperties e = { .specVersion = pe->spec_version };
      snprintf(e.extensionName, sizeof(e.extensionName), "%s", pe->name);
      pdev->exts[pdev->ext_count++] = e;
   }
   vd_dbg(VD_CAT_VK, "%s: %u of %u host device extensions exposed", pdev->props.deviceName,
          pdev->ext_count, count);
   free(host);
   return true;
}

bool vd_emulation_extension_exposed(const struct vd_physical_device *pdev, const char *name)
{
   for (uint32_t i = 0; i < pdev->ext_count; i++)
      if (!strcmp(pdev->exts[i].extensionName, name))
         return true;
   return false;
}

void vd_strip_mesa_structs(const void **pnext)
{
   const VkBaseInStructure **p = (const VkBaseInStructure **)pnext;
   while (*p) {
      if ((uint32_t)(*p)->sType >= 1000384000u && (uint32_t)(*p)->sType < 1000385000u)
         *p = (*p)->pNext;
      else
         p = (const VkBaseInStructure **)&(*p)->pNext;
   }
}
