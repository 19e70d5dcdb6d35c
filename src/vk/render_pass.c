/* Render passes: the attachment, subpass and input attachment indices of a create info,
 * which Mesa's common render pass code (lavapipe's) uses to index the create info's own
 * arrays, lie in those arrays (the spec's valid-usage rules; docs/design.md, "Ranges the
 * driver trusts"). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* A render pass's record: its subpass count, which pipelines and secondary command
 * buffers name a subpass of (Mesa's common code indexes the pass's subpasses with it). */
struct render_pass {
   struct vd_device *dev;
   uint32_t subpass_count;
};

static void render_pass_destroy(struct vd_object *obj)
{
   struct render_pass *r = obj->data;
   r->dev->vk->DestroyRenderPass(r->dev->handle, (VkRenderPass)(uintptr_t)obj->handle, NULL);
   free(r);
}

bool vd_subpass_ok(struct vd_dispatch *disp, const char *what, VkRenderPass pass, uint32_t subpass)
{
   if (!pass)
      return true;
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)pass);
   if (!o) {
      vd_dispatch_fatal(disp, "%s: the render pass is not among the command's objects", what);
      return false;
   }
   const struct render_pass *r = o->data;
   if (subpass < r->subpass_count)
      return true;
   vd_dispatch_fatal(disp, "%s %u is not one of the render pass's %u subpasses", what, subpass,
                     r->subpass_count);
   return false;
}

static bool index_ok(struct vd_dispatch *disp, const char *what, uint32_t index, uint32_t count,
                     uint32_t unused, const char *of)
{
   if (index == unused || index < count)
      return true;
   vd_dispatch_fatal(disp, "%s %u is not one of the %u %s", what, index, count, of);
   return false;
}

/* Every attachment reference of a subpass (count references `refs` apart, reading the
 * `attachment` member at the start of each) names an attachment or is UNUSED. */
static bool refs_ok(struct vd_dispatch *disp, uint32_t s, const char *field, const void *refs,
                    size_t stride, uint32_t count, uint32_t attachments)
{
   for (uint32_t j = 0; refs && j < count; j++) {
      const uint32_t att = *(const uint32_t *)((const char *)refs + j * stride);
      char what[96];
      snprintf(what, sizeof(what), "pSubpasses[%u].%s[%u].attachment", s, field, j);
      if (!index_ok(disp, what, att, attachments, VK_ATTACHMENT_UNUSED, "attachments"))
         return false;
   }
   return true;
}

static bool dependency_ok(struct vd_dispatch *disp, uint32_t i, uint32_t src, uint32_t dst,
                          uint32_t subpasses)
{
   char what[64];
   snprintf(what, sizeof(what), "pDependencies[%u].srcSubpass", i);
   if (!index_ok(disp, what, src, subpasses, VK_SUBPASS_EXTERNAL, "subpasses"))
      return false;
   snprintf(what, sizeof(what), "pDependencies[%u].dstSubpass", i);
   return index_ok(disp, what, dst, subpasses, VK_SUBPASS_EXTERNAL, "subpasses");
}

/* VkRenderPassInputAttachmentAspectCreateInfo names input attachments of subpasses. */
static bool aspect_refs_ok(struct vd_dispatch *disp, const VkRenderPassCreateInfo *info)
{
   const VkRenderPassInputAttachmentAspectCreateInfo *ia =
      vd_chain_find(info->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_INPUT_ATTACHMENT_ASPECT_CREATE_INFO);
   for (uint32_t i = 0; ia && i < ia->aspectReferenceCount; i++) {
      const VkInputAttachmentAspectReference *r = &ia->pAspectReferences[i];
      char what[80];
      snprintf(what, sizeof(what), "pAspectReferences[%u].subpass", i);
      if (!index_ok(disp, what, r->subpass, info->subpassCount, UINT32_MAX, "subpasses"))
         return false;
      snprintf(what, sizeof(what), "pAspectReferences[%u].inputAttachmentIndex", i);
      if (!index_ok(disp, what, r->inputAttachmentIndex,
                    info->pSubpasses[r->subpass].inputAttachmentCount, UINT32_MAX,
                    "input attachments of the subpass"))
         return false;
   }
   return true;
}

/* VkRenderPassMultiviewCreateInfo's arrays are per subpass and per dependency. */
static bool multiview_ok(struct vd_dispatch *disp, const VkRenderPassCreateInfo *info)
{
   const VkRenderPassMultiviewCreateInfo *mv =
      vd_chain_find(info->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_MULTIVIEW_CREATE_INFO);
   if (!mv || ((!mv->subpassCount || mv->subpassCount == info->subpassCount) &&
               (!mv->dependencyCount || mv->dependencyCount == info->dependencyCount)))
      return true;
   vd_dispatch_fatal(disp,
                     "VkRenderPassMultiviewCreateInfo: subpassCount %u / dependencyCount %u are "
                     "neither 0 nor the render pass's %u subpasses / %u dependencies",
                     mv->subpassCount, mv->dependencyCount, info->subpassCount,
                     info->dependencyCount);
   return false;
}

static bool render_pass_ok(struct vd_dispatch *disp, const VkRenderPassCreateInfo *info)
{
   const uint32_t n = info->attachmentCount;
   for (uint32_t s = 0; s < info->subpassCount; s++) {
      const VkSubpassDescription *d = &info->pSubpasses[s];
      const size_t st = sizeof(VkAttachmentReference);
      if (!refs_ok(disp, s, "pInputAttachments", d->pInputAttachments, st, d->inputAttachmentCount,
                   n) ||
          !refs_ok(disp, s, "pColorAttachments", d->pColorAttachments, st, d->colorAttachmentCount,
                   n) ||
          !refs_ok(disp, s, "pResolveAttachments", d->pResolveAttachments, st,
                   d->colorAttachmentCount, n) ||
          !refs_ok(disp, s, "pDepthStencilAttachment", d->pDepthStencilAttachment, st, 1, n) ||
          !refs_ok(disp, s, "pPreserveAttachments", d->pPreserveAttachments, sizeof(uint32_t),
                   d->preserveAttachmentCount, n))
         return false;
   }
   for (uint32_t i = 0; i < info->dependencyCount; i++)
      if (!dependency_ok(disp, i, info->pDependencies[i].srcSubpass,
                         info->pDependencies[i].dstSubpass, info->subpassCount))
         return false;
   return aspect_refs_ok(disp, info) && multiview_ok(disp, info);
}

static void render_pass_add(struct vd_dispatch *disp, struct vd_object *dev_obj, uint64_t id,
                            VkRenderPass pass, uint32_t subpasses)
{
   struct vd_device *dev = dev_obj->data;
   struct render_pass *r = malloc(sizeof(*r));
   if (!r) {
      dev->vk->DestroyRenderPass(dev->handle, pass, NULL);
      vd_dispatch_fatal(disp, "out of memory");
      return;
   }
   *r = (struct render_pass){ dev, subpasses };
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)pass, dev_obj, r,
                      render_pass_destroy)) {
      dev->vk->DestroyRenderPass(dev->handle, pass, NULL);
      free(r);
   }
}

VD_HANDLER(vkCreateRenderPass)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pRenderPass;
   VkRenderPassCreateInfo info = *a->pCreateInfo;
   if (!render_pass_ok(disp, &info))
      return;
   vd_strip_mesa_structs(&info.pNext);
   VkRenderPass pass;
   a->ret = dev->vk->CreateRenderPass(a->device, &info, NULL, &pass);
   if (a->ret == VK_SUCCESS)
      render_pass_add(disp, a->obj, id, pass, info.subpassCount);
}

/* A used fragment shading rate attachment has a texel size the driver divides by. */
static bool shading_rate_ok(struct vd_dispatch *disp, uint32_t s, const VkSubpassDescription2 *d,
                            uint32_t attachments)
{
   const VkFragmentShadingRateAttachmentInfoKHR *fsr =
      vd_chain_find(d->pNext, VK_STRUCTURE_TYPE_FRAGMENT_SHADING_RATE_ATTACHMENT_INFO_KHR);
   if (!fsr || !fsr->pFragmentShadingRateAttachment)
      return true;
   if (!refs_ok(disp, s, "pFragmentShadingRateAttachment", fsr->pFragmentShadingRateAttachment,
                sizeof(VkAttachmentReference2), 1, attachments))
      return false;
   const VkExtent2D t = fsr->shadingRateAttachmentTexelSize;
   if (fsr->pFragmentShadingRateAttachment->attachment == VK_ATTACHMENT_UNUSED ||
       (t.width && t.height && !(t.width & (t.width - 1)) && !(t.height & (t.height - 1))))
      return true;
   vd_dispatch_fatal(disp,
                     "pSubpasses[%u]: shadingRateAttachmentTexelSize %ux%u is not a power of two "
                     "in each dimension",
                     s, t.width, t.height);
   return false;
}

static bool subpass2_ok(struct vd_dispatch *disp, uint32_t s, const VkSubpassDescription2 *d,
                        uint32_t n)
{
   /* VkAttachmentReference2: sType, pNext, then attachment. */
   const size_t st = sizeof(VkAttachmentReference2),
                at = offsetof(VkAttachmentReference2, attachment);
   const char *in = d->pInputAttachments ? (const char *)d->pInputAttachments + at : NULL;
   const char *col = d->pColorAttachments ? (const char *)d->pColorAttachments + at : NULL;
   const char *res = d->pResolveAttachments ? (const char *)d->pResolveAttachments + at : NULL;
   const char *ds =
      d->pDepthStencilAttachment ? (const char *)d->pDepthStencilAttachment + at : NULL;
   const VkSubpassDescriptionDepthStencilResolve *dsr =
      vd_chain_find(d->pNext, VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_DEPTH_STENCIL_RESOLVE);
   const char *dsr_ref = dsr && dsr->pDepthStencilResolveAttachment
                            ? (const char *)dsr->pDepthStencilResolveAttachment + at
                            : NULL;
   return refs_ok(disp, s, "pInputAttachments", in, st, d->inputAttachmentCount, n) &&
          refs_ok(disp, s, "pColorAttachments", col, st, d->colorAttachmentCount, n) &&
          refs_ok(disp, s, "pResolveAttachments", res, st, d->colorAttachmentCount, n) &&
          refs_ok(disp, s, "pDepthStencilAttachment", ds, st, 1, n) &&
          refs_ok(disp, s, "pDepthStencilResolveAttachment", dsr_ref, st, 1, n) &&
          refs_ok(disp, s, "pPreserveAttachments", d->pPreserveAttachments, sizeof(uint32_t),
                  d->preserveAttachmentCount, n) &&
          shading_rate_ok(disp, s, d, n);
}

/* As vkCreateRenderPass; a dependency's viewOffset is a value, not an index. */
VD_HANDLER(vkCreateRenderPass2)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pRenderPass;
   VkRenderPassCreateInfo2 info = *a->pCreateInfo;
   for (uint32_t s = 0; s < info.subpassCount; s++)
      if (!subpass2_ok(disp, s, &info.pSubpasses[s], info.attachmentCount))
         return;
   for (uint32_t i = 0; i < info.dependencyCount; i++)
      if (!dependency_ok(disp, i, info.pDependencies[i].srcSubpass,
                         info.pDependencies[i].dstSubpass, info.subpassCount))
         return;
   vd_strip_mesa_structs(&info.pNext);
   VkRenderPass pass;
   a->ret = dev->vk->CreateRenderPass2(a->device, &info, NULL, &pass);
   if (a->ret == VK_SUCCESS)
      render_pass_add(disp, a->obj, id, pass, info.subpassCount);
}
