/* DRM format modifiers for hosts without VK_EXT_image_drm_format_modifier (lavapipe,
 * MoltenVK).
 *
 * Mesa's Venus driver lists the extension for its WSI only if the renderer does, and its
 * WSI images ask for DRM_FORMAT_MOD_LINEAR.  venusd offers exactly that modifier, for
 * single-plane formats, and serves it with linear-tiled host images: the modifier lists of
 * vkGetPhysicalDeviceFormatProperties2 carry one entry (LINEAR, one plane, the format's
 * linear features), image queries and creations with DRM_FORMAT_MODIFIER tiling become
 * LINEAR ones, vkGetImageDrmFormatModifierPropertiesEXT answers LINEAR, and the memory
 * plane aspect of vkGetImageSubresourceLayout is the colour aspect.  A guest plane layout
 * (VkImageDrmFormatModifierExplicitCreateInfoEXT) is honoured only where it is the layout
 * the host gives the linear image. */
#include <inttypes.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

#define MOD_LINEAR 0ull /* DRM_FORMAT_MOD_LINEAR */

/* An output chain is echoed back to the guest, whose decoder expects its own order: the
 * chain is saved before structs are unlinked for the host call and restored after. */
#define SAVED_CHAIN_MAX 32
struct saved_chain {
   VkBaseOutStructure *head;
   VkBaseOutStructure *links[SAVED_CHAIN_MAX];
   unsigned count;
};

static bool chain_save(struct saved_chain *c, VkBaseOutStructure *head)
{
   c->head = head;
   c->count = 0;
   for (VkBaseOutStructure *s = head; s; s = s->pNext) {
      if (c->count == SAVED_CHAIN_MAX)
         return false;
      c->links[c->count++] = s;
   }
   return true;
}

static VkBaseOutStructure *chain_restore(const struct saved_chain *c)
{
   for (unsigned i = 0; i < c->count; i++)
      c->links[i]->pNext = i + 1 < c->count ? c->links[i + 1] : NULL;
   return c->head;
}

/* Multi-planar (YCbCr) formats get no modifier: Mesa's WSI never asks for one, and a
 * LINEAR modifier of N planes would need N memory planes of the host's linear layout. */
static bool multi_planar(VkFormat f)
{
   return (f >= VK_FORMAT_G8_B8_R8_3PLANE_420_UNORM && f <= VK_FORMAT_G8_B8_R8_3PLANE_444_UNORM) ||
          (f >= VK_FORMAT_G10X6_B10X6_R10X6_3PLANE_420_UNORM_3PACK16 &&
           f <= VK_FORMAT_G10X6_B10X6_R10X6_3PLANE_444_UNORM_3PACK16) ||
          (f >= VK_FORMAT_G12X4_B12X4_R12X4_3PLANE_420_UNORM_3PACK16 &&
           f <= VK_FORMAT_G12X4_B12X4_R12X4_3PLANE_444_UNORM_3PACK16) ||
          (f >= VK_FORMAT_G16_B16_R16_3PLANE_420_UNORM &&
           f <= VK_FORMAT_G16_B16_R16_3PLANE_444_UNORM) ||
          (f >= VK_FORMAT_G8_B8R8_2PLANE_444_UNORM && f <= VK_FORMAT_G16_B16R16_2PLANE_444_UNORM);
}

static bool emulates(const struct vd_physical_device *pd)
{
   return pd->emulated & VD_EMU_MODIFIERS;
}

VD_HANDLER(vkGetPhysicalDeviceFormatProperties2)
{
   const struct vd_physical_device *pd = a->obj->data;
   VkFormatProperties2 *props = a->pFormatProperties;
   if (!emulates(pd)) {
      pd->vk->GetPhysicalDeviceFormatProperties2(a->physicalDevice, a->format, props);
      return;
   }
   struct saved_chain saved;
   if (!chain_save(&saved, props->pNext)) {
      vd_dispatch_fatal(disp, "pFormatProperties: pNext chain longer than %d structs",
                        SAVED_CHAIN_MAX);
      return;
   }
   const void **head = (const void **)&props->pNext;
   void *list1 = vd_chain_unlink(head, VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT);
   void *list2 = vd_chain_unlink(head, VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT);
   VkFormatProperties3 props3 = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3 };
   VkFormatProperties3 *p3 = vd_chain_find(props->pNext, VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3);
   const bool own_p3 = !p3 && list2 && pd->instance->api_version >= VK_API_VERSION_1_3 &&
                       pd->props.apiVersion >= VK_API_VERSION_1_3;
   if (own_p3) {
      props3.pNext = props->pNext;
      props->pNext = &props3;
      p3 = &props3;
   }
   pd->vk->GetPhysicalDeviceFormatProperties2(a->physicalDevice, a->format, props);
   const VkFormatFeatureFlags linear =
      props->formatProperties.linearTilingFeatures & ~VK_FORMAT_FEATURE_DISJOINT_BIT;
   const VkFormatFeatureFlags2 linear2 =
      (p3 ? p3->linearTilingFeatures
          : (VkFormatFeatureFlags2)props->formatProperties.linearTilingFeatures) &
      ~VK_FORMAT_FEATURE_2_DISJOINT_BIT;
   const uint32_t offered = (linear && !multi_planar(a->format)) ? 1 : 0;
   if (list1) {
      VkDrmFormatModifierPropertiesListEXT *l = (VkDrmFormatModifierPropertiesListEXT *)list1;
      if (l->pDrmFormatModifierProperties && l->drmFormatModifierCount && offered)
         l->pDrmFormatModifierProperties[0] = (VkDrmFormatModifierPropertiesEXT){
            .drmFormatModifier = MOD_LINEAR,
            .drmFormatModifierPlaneCount = 1,
            .drmFormatModifierTilingFeatures = linear,
         };
      if (!l->pDrmFormatModifierProperties || l->drmFormatModifierCount > offered)
         l->drmFormatModifierCount = offered;
   }
   if (list2) {
      VkDrmFormatModifierPropertiesList2EXT *l = (VkDrmFormatModifierPropertiesList2EXT *)list2;
      if (l->pDrmFormatModifierProperties && l->drmFormatModifierCount && offered)
         l->pDrmFormatModifierProperties[0] = (VkDrmFormatModifierProperties2EXT){
            .drmFormatModifier = MOD_LINEAR,
            .drmFormatModifierPlaneCount = 1,
            .drmFormatModifierTilingFeatures = linear2,
         };
      if (!l->pDrmFormatModifierProperties || l->drmFormatModifierCount > offered)
         l->drmFormatModifierCount = offered;
   }
   props->pNext = chain_restore(&saved);
}

VD_HANDLER(vkGetPhysicalDeviceImageFormatProperties2)
{
   const struct vd_physical_device *pd = a->obj->data;
   /* The decoder's copy of the guest's structs: ours to change. */
   VkPhysicalDeviceImageFormatInfo2 *info = (VkPhysicalDeviceImageFormatInfo2 *)a->pImageFormatInfo;
   const VkExternalMemoryHandleTypeFlagBits guest_type =
      vd_external_fix_image_query(pd, info->pNext);
   if (emulates(pd)) {
      const VkPhysicalDeviceImageDrmFormatModifierInfoEXT *m =
         vd_chain_unlink((const void **)&info->pNext,
                         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_DRM_FORMAT_MODIFIER_INFO_EXT);
      if (info->tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT) {
         if (!m) {
            vd_dispatch_fatal(disp, "pImageFormatInfo: DRM_FORMAT_MODIFIER tiling without "
                                    "VkPhysicalDeviceImageDrmFormatModifierInfoEXT");
            return;
         }
         /* Asking about a modifier that was not offered is fine: the answer is no. */
         if (m->drmFormatModifier != MOD_LINEAR || multi_planar(info->format)) {
            a->ret = VK_ERROR_FORMAT_NOT_SUPPORTED;
            return;
         }
         info->tiling = VK_IMAGE_TILING_LINEAR;
      }
   }
   a->ret = pd->vk->GetPhysicalDeviceImageFormatProperties2(a->physicalDevice, info,
                                                            a->pImageFormatProperties);
   if (a->ret == VK_SUCCESS)
      vd_external_fix_image_result(a->pImageFormatProperties->pNext, guest_type);
}

bool vd_modifier_fix_image_create(struct vd_dispatch *disp, struct vd_device *dev,
                                  VkImageCreateInfo *info,
                                  const VkSubresourceLayout **explicit_layout)
{
   *explicit_layout = NULL;
   if (!emulates(dev->pdev))
      return true;
   const VkImageDrmFormatModifierListCreateInfoEXT *list = vd_chain_unlink(
      &info->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT);
   const VkImageDrmFormatModifierExplicitCreateInfoEXT *expl = vd_chain_unlink(
      &info->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT);
   if (info->tiling != VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT)
      return true; /* the structs are ignored without that tiling */
   if (!(dev->emulated & VD_EMU_MODIFIERS)) {
      vd_dispatch_fatal(disp, "pCreateInfo: DRM_FORMAT_MODIFIER tiling, but the device was "
                              "created without VK_EXT_image_drm_format_modifier");
      return false;
   }
   if (!list == !expl) {
      vd_dispatch_fatal(disp,
                        "pCreateInfo: DRM_FORMAT_MODIFIER tiling needs exactly one of "
                        "VkImageDrmFormatModifierListCreateInfoEXT and "
                        "VkImageDrmFormatModifierExplicitCreateInfoEXT (has %s)",
                        list ? "both" : "neither");
      return false;
   }
   if (multi_planar(info->format)) {
      vd_dispatch_fatal(disp,
                        "pCreateInfo.format %d: no DRM format modifier was offered for "
                        "this multi-planar format",
                        info->format);
      return false;
   }
   if (list) {
      bool linear = false;
      for (uint32_t i = 0; list->pDrmFormatModifiers && i < list->drmFormatModifierCount; i++)
         linear |= list->pDrmFormatModifiers[i] == MOD_LINEAR;
      if (!linear) {
         vd_dispatch_fatal(disp,
                           "VkImageDrmFormatModifierListCreateInfoEXT: none of its %u "
                           "modifiers was offered (only DRM_FORMAT_MOD_LINEAR is)",
                           list->drmFormatModifierCount);
         return false;
      }
   } else {
      if (expl->drmFormatModifier != MOD_LINEAR) {
         vd_dispatch_fatal(disp,
                           "VkImageDrmFormatModifierExplicitCreateInfoEXT.drmFormatModifier "
                           "0x%" PRIx64 " was never offered (only DRM_FORMAT_MOD_LINEAR is)",
                           expl->drmFormatModifier);
         return false;
      }
      if (expl->drmFormatModifierPlaneCount != 1 || !expl->pPlaneLayouts) {
         vd_dispatch_fatal(disp,
                           "VkImageDrmFormatModifierExplicitCreateInfoEXT."
                           "drmFormatModifierPlaneCount is %u; DRM_FORMAT_MOD_LINEAR has 1 plane",
                           expl->drmFormatModifierPlaneCount);
         return false;
      }
      const VkSubresourceLayout *l = &expl->pPlaneLayouts[0];
      if (l->offset > UINT64_MAX - l->size || (l->size && l->rowPitch > l->size)) {
         vd_dispatch_fatal(disp,
                           "VkImageDrmFormatModifierExplicitCreateInfoEXT.pPlaneLayouts[0]: "
                           "offset %" PRIu64 ", size %" PRIu64 ", rowPitch %" PRIu64
                           " do not describe a plane",
                           l->offset, l->size, l->rowPitch);
         return false;
      }
      *explicit_layout = l;
   }
   info->tiling = VK_IMAGE_TILING_LINEAR;
   return true;
}

VkResult vd_modifier_check_layout(struct vd_dispatch *disp, struct vd_device *dev, VkImage img,
                                  const VkSubresourceLayout *want)
{
   const VkImageSubresource sub = { .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT };
   VkSubresourceLayout have;
   dev->vk->GetImageSubresourceLayout(dev->handle, img, &sub, &have);
   /* A linear host image has its own layout; venusd cannot impose another.  A guest that
    * needs one the host does not give gets the error the extension defines for that. */
   if (want->offset == have.offset && want->rowPitch == have.rowPitch &&
       (!want->size || want->size >= have.size))
      return VK_SUCCESS;
   vd_warn(VD_CAT_VK,
           "context %u: %s: explicit plane layout (offset %" PRIu64 ", rowPitch %" PRIu64
           ", size %" PRIu64 ") is not the host's linear layout (offset %" PRIu64
           ", rowPitch %" PRIu64 ", size %" PRIu64
           "): VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT",
           disp->ctx->params.id, disp->name, want->offset, want->rowPitch, want->size, have.offset,
           have.rowPitch, have.size);
   return VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT;
}

static const struct vd_image *image_record(struct vd_dispatch *disp, VkImage img)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)img);
   return o ? o->data : NULL;
}

VD_HANDLER(vkGetImageDrmFormatModifierPropertiesEXT)
{
   struct vd_device *dev = a->obj->data;
   if (!emulates(dev->pdev)) {
      a->ret = dev->vk->GetImageDrmFormatModifierPropertiesEXT(a->device, a->image, a->pProperties);
      return;
   }
   const struct vd_image *img = image_record(disp, a->image);
   if (!img || !img->linear_modifier) {
      vd_dispatch_fatal(disp, "image: not created with DRM_FORMAT_MODIFIER tiling");
      return;
   }
   a->pProperties->drmFormatModifier = MOD_LINEAR;
   a->ret = VK_SUCCESS;
}

/* MEMORY_PLANE_0 of a LINEAR-modifier image is its colour plane; other memory planes do
 * not exist.  false after making the context fatal. */
static bool fix_aspect(struct vd_dispatch *disp, VkImage image, VkImageAspectFlags *aspect)
{
   const VkImageAspectFlags planes =
      VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT | VK_IMAGE_ASPECT_MEMORY_PLANE_1_BIT_EXT |
      VK_IMAGE_ASPECT_MEMORY_PLANE_2_BIT_EXT | VK_IMAGE_ASPECT_MEMORY_PLANE_3_BIT_EXT;
   if (!(*aspect & planes))
      return true;
   const struct vd_image *img = image_record(disp, image);
   if (!img || !img->linear_modifier) {
      if (img && img->dev->pdev->has_drm_format_modifier && !emulates(img->dev->pdev))
         return true; /* the host's own modifier image */
      vd_dispatch_fatal(disp,
                        "pSubresource->aspectMask 0x%x: a memory plane of an image "
                        "without DRM_FORMAT_MODIFIER tiling",
                        *aspect);
      return false;
   }
   if (*aspect != VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT) {
      vd_dispatch_fatal(disp,
                        "pSubresource->aspectMask 0x%x: DRM_FORMAT_MOD_LINEAR has only "
                        "memory plane 0",
                        *aspect);
      return false;
   }
   *aspect = VK_IMAGE_ASPECT_COLOR_BIT;
   return true;
}

/* mipLevel and arrayLayer lie inside the image (the driver indexes its levels and layers
 * with them). */
static bool subresource_in_image(struct vd_dispatch *disp, VkImage image,
                                 const VkImageSubresource *s)
{
   const struct vd_image *img = image_record(disp, image);
   if (!img) {
      vd_dispatch_fatal(disp, "image: not found among the command's objects");
      return false;
   }
   if (s->mipLevel >= img->mip_levels || s->arrayLayer >= img->array_layers) {
      vd_dispatch_fatal(disp,
                        "pSubresource: mipLevel %u, arrayLayer %u are not in the image's "
                        "%u mip levels and %u array layers",
                        s->mipLevel, s->arrayLayer, img->mip_levels, img->array_layers);
      return false;
   }
   return true;
}

VD_HANDLER(vkGetImageSubresourceLayout)
{
   VkImageSubresource sub = *a->pSubresource;
   if (subresource_in_image(disp, a->image, &sub) && fix_aspect(disp, a->image, &sub.aspectMask))
      vd_object_vk(a->obj)->GetImageSubresourceLayout(a->device, a->image, &sub, a->pLayout);
}

VD_HANDLER(vkGetImageSubresourceLayout2EXT)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->GetImageSubresourceLayout2EXT, NULL))
      return;
   VkImageSubresource2 sub = *a->pSubresource;
   if (subresource_in_image(disp, a->image, &sub.imageSubresource) &&
       fix_aspect(disp, a->image, &sub.imageSubresource.aspectMask))
      vd_object_vk(a->obj)->GetImageSubresourceLayout2EXT(a->device, a->image, &sub, a->pLayout);
}

/* The subresource of the image the create info describes: the driver computes the layout
 * of that mip level and layer (lavapipe indexes its per-level offsets with the level). */
VD_HANDLER(vkGetDeviceImageSubresourceLayoutKHR)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->GetDeviceImageSubresourceLayoutKHR,
                    NULL))
      return;
   const VkImageCreateInfo *ci = a->pInfo->pCreateInfo;
   const VkImageSubresource *s = &a->pInfo->pSubresource->imageSubresource;
   if (s->mipLevel >= ci->mipLevels || s->arrayLayer >= ci->arrayLayers) {
      vd_dispatch_fatal(disp,
                        "pInfo->pSubresource: mipLevel %u, arrayLayer %u are not in the "
                        "described image's %u mip levels and %u array layers",
                        s->mipLevel, s->arrayLayer, ci->mipLevels, ci->arrayLayers);
      return;
   }
   vd_object_vk(a->obj)->GetDeviceImageSubresourceLayoutKHR(a->device, a->pInfo, a->pLayout);
}
