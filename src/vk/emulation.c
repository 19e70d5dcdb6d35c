/* What the guest is told the host supports: the one place that decides which host
 * extensions pass through, which are hidden, and which versions are capped.
 *
 *   - apiVersion: capped at 1.3 (the protocol of Mesa 25.0.7 is Vulkan 1.3 + extensions).
 *   - device extensions: passed through when both the host and the protocol table know
 *     them, with the spec version capped at the protocol's; everything else is hidden
 *     because the guest could not encode its structs and commands.
 *   - Venus-private structs (sType 1000384xxx) are stripped before host calls. */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vk/vk_common.h"

#define VD_MAX_API_VERSION VK_MAKE_API_VERSION(0, 1, 3, 269)

uint32_t vd_emulation_api_version(uint32_t host_version)
{
   if (VK_API_VERSION_MAJOR(host_version) > 1 ||
       (VK_API_VERSION_MAJOR(host_version) == 1 && VK_API_VERSION_MINOR(host_version) > 3))
      return VD_MAX_API_VERSION;
   return host_version;
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
   pdev->exts = calloc(count ? count : 1, sizeof(*pdev->exts));
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
      VkExtensionProperties e = host[i];
      if (e.specVersion > pe->spec_version)
         e.specVersion = pe->spec_version;
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
