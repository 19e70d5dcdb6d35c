/* Pipeline layouts, pipelines and render passes: the guest indices and ranges in their create
 * infos that drivers use as array indices or read offsets (docs/design.md, "Ranges the
 * driver trusts"), and the pipeline layouts' set layouts, kept for push descriptors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

static const VkPhysicalDeviceLimits *dev_limits(const struct vd_device *dev)
{
   return &dev->pdev->props.limits;
}

/* -- pipeline layouts --------------------------------------------------------------------- */

/* A pipeline layout's record: its set layouts (NULL where the guest gave none), each a
 * reference, so that vkCmdPushDescriptorSetKHR can check its writes after the set layouts
 * are destroyed. */
struct pipeline_layout {
   struct vd_device *dev;
   uint32_t set_count;
   struct vd_set_layout *sets[];
};

static void pipeline_layout_destroy(struct vd_object *obj)
{
   struct pipeline_layout *r = obj->data;
   r->dev->vk->DestroyPipelineLayout(r->dev->handle, (VkPipelineLayout)(uintptr_t)obj->handle,
                                     NULL);
   for (uint32_t i = 0; i < r->set_count; i++)
      vd_set_layout_unref(r->sets[i]);
   free(r);
}

/* Drivers keep push constants in a buffer of maxPushConstantsSize bytes and bound sets in
 * arrays of maxBoundDescriptorSets. */
static bool pipeline_layout_ok(struct vd_dispatch *disp, const struct vd_device *dev,
                               const VkPipelineLayoutCreateInfo *info)
{
   const VkPhysicalDeviceLimits *l = dev_limits(dev);
   if (info->setLayoutCount > l->maxBoundDescriptorSets) {
      vd_dispatch_fatal(disp,
                        "pCreateInfo->setLayoutCount %u exceeds the device's "
                        "maxBoundDescriptorSets (%u)",
                        info->setLayoutCount, l->maxBoundDescriptorSets);
      return false;
   }
   for (uint32_t i = 0; i < info->pushConstantRangeCount; i++) {
      const VkPushConstantRange *r = &info->pPushConstantRanges[i];
      if ((uint64_t)r->offset + r->size > l->maxPushConstantsSize) {
         vd_dispatch_fatal(disp,
                           "pCreateInfo->pPushConstantRanges[%u]: offset %u + size %u exceed "
                           "the device's maxPushConstantsSize (%u)",
                           i, r->offset, r->size, l->maxPushConstantsSize);
         return false;
      }
   }
   return true;
}

VD_HANDLER(vkCreatePipelineLayout)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pPipelineLayout;
   VkPipelineLayoutCreateInfo info = *a->pCreateInfo;
   if (!pipeline_layout_ok(disp, dev, &info))
      return;
   vd_strip_mesa_structs(&info.pNext);
   const uint32_t n = info.pSetLayouts ? info.setLayoutCount : 0;
   struct pipeline_layout *r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->sets[0]));
   if (!r) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   r->dev = dev;
   VkPipelineLayout layout;
   a->ret = dev->vk->CreatePipelineLayout(a->device, &info, NULL, &layout);
   if (a->ret != VK_SUCCESS) {
      free(r);
      return;
   }
   for (uint32_t i = 0; i < n; i++) {
      r->sets[i] = info.pSetLayouts[i] ? vd_set_layout_of(disp, info.pSetLayouts[i]) : NULL;
      if (r->sets[i])
         atomic_fetch_add(&r->sets[i]->refs, 1);
   }
   r->set_count = n;
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_PIPELINE_LAYOUT, (uint64_t)(uintptr_t)layout, a->obj,
                      r, pipeline_layout_destroy)) {
      dev->vk->DestroyPipelineLayout(a->device, layout, NULL);
      for (uint32_t i = 0; i < n; i++)
         vd_set_layout_unref(r->sets[i]);
      free(r);
   }
}

/* The writes name bindings and elements of the layout's set `set` (lavapipe writes them
 * into a set it sizes by that set layout). */
static bool push_writes_ok(struct vd_dispatch *disp, VkPipelineLayout layout, uint32_t set,
                           uint32_t count, const VkWriteDescriptorSet *writes)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_PIPELINE_LAYOUT, (uint64_t)(uintptr_t)layout);
   if (!o) {
      vd_dispatch_fatal(disp, "layout: not found among the command's objects");
      return false;
   }
   const struct pipeline_layout *r = o->data;
   if (set >= r->set_count || !r->sets[set]) {
      vd_dispatch_fatal(disp, "set %u is not a set layout of the %u-set pipeline layout", set,
                        r->set_count);
      return false;
   }
   return vd_push_descriptor_writes_ok(disp, r->sets[set], count, writes);
}

VD_HANDLER(vkCmdPushDescriptorSetKHR)
{
   if (!vd_entry_ok(disp, (const void *)vd_object_vk(a->obj)->CmdPushDescriptorSetKHR, NULL))
      return;
   if (push_writes_ok(disp, a->layout, a->set, a->descriptorWriteCount, a->pDescriptorWrites))
      vd_object_vk(a->obj)->CmdPushDescriptorSetKHR(a->commandBuffer, a->pipelineBindPoint,
                                                    a->layout, a->set, a->descriptorWriteCount,
                                                    a->pDescriptorWrites);
}

/* The Vulkan 1.4 form: the same checks.  (Its chained VkPipelineLayoutCreateInfo stands for
 * the layout only with VK_NV_per_stage_descriptor_set's dynamicPipelineLayout, which the
 * Venus protocol lacks: the layout handle is required here.) */
VD_HANDLER(vkCmdPushDescriptorSet2)
{
   const VkPushDescriptorSetInfo *info = a->pPushDescriptorSetInfo;
   if (push_writes_ok(disp, info->layout, info->set, info->descriptorWriteCount,
                      info->pDescriptorWrites))
      vd_object_vk(a->obj)->CmdPushDescriptorSet2(a->commandBuffer, info);
}

/* -- pipelines ---------------------------------------------------------------------------- */

/* The record of a VkPipeline: a ray tracing pipeline's shader groups (its own and its
 * libraries') bound the group indices of the commands that name it. */
struct vd_pipeline {
   struct vd_device *dev;
   uint32_t groups;    /* 0: not a ray tracing pipeline */
   uint32_t bind_bits; /* VD_BOUND_* (bind_state.c); 0 for a library */
};

static void pipeline_destroy(struct vd_object *obj)
{
   struct vd_pipeline *p = obj->data;
   p->dev->vk->DestroyPipeline(p->dev->handle, (VkPipeline)(uintptr_t)obj->handle, NULL);
   free(p);
}

uint32_t vd_pipeline_bind_bits(const struct vd_object *pipeline)
{
   const struct vd_pipeline *p = pipeline ? pipeline->data : NULL;
   return p ? p->bind_bits : 0;
}

const char *vd_pipeline_kind_name(const struct vd_object *pipeline)
{
   switch (vd_pipeline_bind_bits(pipeline)) {
   case 0: return pipeline ? "a pipeline library" : "no pipeline";
   case VD_BOUND_VERTEX: return "a graphics pipeline with vertex input stages";
   case VD_BOUND_MESH: return "a graphics pipeline with mesh stages";
   case VD_BOUND_VERTEX | VD_BOUND_MESH: return "a graphics pipeline";
   case VD_BOUND_COMPUTE: return "a compute pipeline";
   default: return "a ray tracing pipeline";
   }
}

/* What a pipeline may be bound as: libraries cannot be bound at all; a graphics pipeline
 * linked from libraries has its stages there, so it may stand for either kind of draw. */
static uint32_t graphics_bind_bits(const VkGraphicsPipelineCreateInfo *c)
{
   if (c->flags & VK_PIPELINE_CREATE_LIBRARY_BIT_KHR)
      return 0;
   uint32_t bits = 0;
   for (uint32_t s = 0; s < c->stageCount; s++) {
      const VkShaderStageFlagBits st = c->pStages[s].stage;
      if (st & (VK_SHADER_STAGE_MESH_BIT_EXT | VK_SHADER_STAGE_TASK_BIT_EXT))
         bits |= VD_BOUND_MESH;
      else if (st == VK_SHADER_STAGE_VERTEX_BIT)
         bits |= VD_BOUND_VERTEX;
   }
   return bits ? bits : VD_BOUND_VERTEX | VD_BOUND_MESH;
}

uint32_t vd_pipeline_group_count(const struct vd_object *pipeline)
{
   const struct vd_pipeline *p = pipeline ? pipeline->data : NULL;
   return p ? p->groups : 0;
}

/* Each specialization constant lies in the data (the driver reads it at pData + offset).
 * `stage` names the field, e.g. "pCreateInfos[0].pStages[1]". */
static bool specialization_ok(struct vd_dispatch *disp, const char *stage,
                              const VkPipelineShaderStageCreateInfo *info)
{
   const VkSpecializationInfo *sp = info->pSpecializationInfo;
   for (uint32_t e = 0; sp && e < sp->mapEntryCount; e++) {
      const VkSpecializationMapEntry *m = &sp->pMapEntries[e];
      if ((uint64_t)m->offset + m->size > sp->dataSize) {
         vd_dispatch_fatal(disp,
                           "%s.pSpecializationInfo->pMapEntries[%u]: offset %u + size %zu "
                           "exceed dataSize %zu",
                           stage, e, m->offset, m->size, sp->dataSize);
         return false;
      }
   }
   return true;
}

/* A derivative's basePipelineIndex names an earlier create info of the same command. */
static bool base_index_ok(struct vd_dispatch *disp, uint32_t i, VkPipelineCreateFlags flags,
                          VkPipeline base, int32_t index)
{
   if (!(flags & VK_PIPELINE_CREATE_DERIVATIVE_BIT) || base || index == -1 ||
       (index >= 0 && (uint32_t)index < i))
      return true;
   vd_dispatch_fatal(disp, "pCreateInfos[%u].basePipelineIndex %d is not an earlier create info", i,
                     index);
   return false;
}

static bool vertex_input_ok(struct vd_dispatch *disp, uint32_t i, const VkPhysicalDeviceLimits *l,
                            const VkPipelineVertexInputStateCreateInfo *vi)
{
   for (uint32_t j = 0; vi && j < vi->vertexBindingDescriptionCount; j++) {
      const VkVertexInputBindingDescription *b = &vi->pVertexBindingDescriptions[j];
      if (b->binding >= l->maxVertexInputBindings || b->stride > l->maxVertexInputBindingStride) {
         vd_dispatch_fatal(disp,
                           "pCreateInfos[%u].pVertexInputState->pVertexBindingDescriptions[%u]: "
                           "binding %u or stride %u exceed the device's maxVertexInputBindings "
                           "(%u) / maxVertexInputBindingStride (%u)",
                           i, j, b->binding, b->stride, l->maxVertexInputBindings,
                           l->maxVertexInputBindingStride);
         return false;
      }
   }
   for (uint32_t j = 0; vi && j < vi->vertexAttributeDescriptionCount; j++) {
      const VkVertexInputAttributeDescription *at = &vi->pVertexAttributeDescriptions[j];
      if (at->location >= l->maxVertexInputAttributes || at->binding >= l->maxVertexInputBindings ||
          at->offset > l->maxVertexInputAttributeOffset) {
         vd_dispatch_fatal(disp,
                           "pCreateInfos[%u].pVertexInputState->pVertexAttributeDescriptions[%u]: "
                           "location %u, binding %u or offset %u exceed the device's limits "
                           "(%u attributes, %u bindings, offset %u)",
                           i, j, at->location, at->binding, at->offset, l->maxVertexInputAttributes,
                           l->maxVertexInputBindings, l->maxVertexInputAttributeOffset);
         return false;
      }
   }
   const VkPipelineVertexInputDivisorStateCreateInfoKHR *d =
      vi ? vd_chain_find(vi->pNext,
                         VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_DIVISOR_STATE_CREATE_INFO_KHR)
         : NULL;
   for (uint32_t j = 0; d && j < d->vertexBindingDivisorCount; j++) {
      if (d->pVertexBindingDivisors[j].binding >= l->maxVertexInputBindings) {
         vd_dispatch_fatal(disp,
                           "pCreateInfos[%u]: pVertexBindingDivisors[%u].binding %u exceeds the "
                           "device's maxVertexInputBindings (%u)",
                           i, j, d->pVertexBindingDivisors[j].binding, l->maxVertexInputBindings);
         return false;
      }
   }
   return true;
}

static bool viewports_ok(struct vd_dispatch *disp, uint32_t i, const VkPhysicalDeviceLimits *l,
                         const VkPipelineViewportStateCreateInfo *vp)
{
   if (!vp || (vp->viewportCount <= l->maxViewports && vp->scissorCount <= l->maxViewports))
      return true;
   vd_dispatch_fatal(disp,
                     "pCreateInfos[%u].pViewportState: viewportCount %u or scissorCount %u "
                     "exceed the device's maxViewports (%u)",
                     i, vp->viewportCount, vp->scissorCount, l->maxViewports);
   return false;
}

static bool graphics_ok(struct vd_dispatch *disp, const struct vd_device *dev, uint32_t count,
                        const VkGraphicsPipelineCreateInfo *infos)
{
   const VkPhysicalDeviceLimits *l = dev_limits(dev);
   for (uint32_t i = 0; i < count; i++) {
      const VkGraphicsPipelineCreateInfo *c = &infos[i];
      for (uint32_t s = 0; c->pStages && s < c->stageCount; s++) {
         char what[48];
         snprintf(what, sizeof(what), "pCreateInfos[%u].pStages[%u]", i, s);
         if (!specialization_ok(disp, what, &c->pStages[s]))
            return false;
      }
      const VkRenderingInputAttachmentIndexInfo *inputs =
         vd_chain_find(c->pNext, VK_STRUCTURE_TYPE_RENDERING_INPUT_ATTACHMENT_INDEX_INFO);
      char what[80];
      snprintf(what, sizeof(what), "pCreateInfos[%u].pNext<VkRenderingInputAttachmentIndexInfo>",
               i);
      if (inputs && !vd_input_attachment_indices_ok(disp, l, what, inputs))
         return false;
      snprintf(what, sizeof(what), "pCreateInfos[%u].subpass", i);
      if (!vd_subpass_ok(disp, what, c->renderPass, c->subpass) ||
          !base_index_ok(disp, i, c->flags, c->basePipelineHandle, c->basePipelineIndex) ||
          !vertex_input_ok(disp, i, l, c->pVertexInputState) ||
          !viewports_ok(disp, i, l, c->pViewportState))
         return false;
   }
   return true;
}

/* Adds the pipelines the driver created (VK_NULL_HANDLE where it made none) under the
 * guest's ids, which the reply echoes; `groups`: each one's shader groups (NULL: none). */
static void pipelines_add(struct vd_dispatch *disp, struct vd_object *dev_obj, uint32_t n,
                          const uint64_t *ids, VkPipeline *pipelines, VkResult ret,
                          const uint32_t *groups, const uint32_t *bind_bits)
{
   struct vd_device *dev = dev_obj->data;
   for (uint32_t i = 0; i < n; i++) {
      const VkPipeline p = pipelines[i];
      pipelines[i] = (VkPipeline)(uintptr_t)ids[i];
      if (ret < 0 || !p)
         continue;
      struct vd_pipeline *rec = malloc(sizeof(*rec));
      if (rec)
         *rec = (struct vd_pipeline){ dev, groups ? groups[i] : 0, bind_bits[i] };
      if (!rec || !vd_object_add(disp, ids[i], VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)p,
                                 dev_obj, rec, pipeline_destroy)) {
         if (!rec)
            vd_dispatch_fatal(disp, "out of memory adding pipeline %" PRIu64, ids[i]);
         dev->vk->DestroyPipeline(dev->handle, p, NULL);
         free(rec);
      }
   }
}

/* A uint32_t for each of n pipelines, for the length of the command (NULL: fatal). */
static uint32_t *per_pipeline(struct vd_dispatch *disp, uint32_t n)
{
   uint32_t *v = vd_arena_alloc_array(&disp->arena, sizeof(*v), n ? n : 1);
   if (!v)
      vd_dispatch_fatal(disp, "out of memory");
   return v;
}

static uint64_t *guest_ids(struct vd_dispatch *disp, uint32_t n, const VkPipeline *pipelines)
{
   uint64_t *ids = vd_arena_alloc_array(&disp->arena, sizeof(*ids), n ? n : 1);
   if (!ids) {
      vd_dispatch_fatal(disp, "out of memory");
      return NULL;
   }
   for (uint32_t i = 0; i < n; i++)
      ids[i] = (uint64_t)(uintptr_t)pipelines[i];
   return ids;
}

VD_HANDLER(vkCreateGraphicsPipelines)
{
   struct vd_device *dev = a->obj->data;
   if (!graphics_ok(disp, dev, a->createInfoCount, a->pCreateInfos))
      return;
   uint64_t *ids = guest_ids(disp, a->createInfoCount, a->pPipelines);
   if (!ids)
      return;
   uint32_t *bits = per_pipeline(disp, a->createInfoCount);
   if (!bits)
      return;
   for (uint32_t i = 0; i < a->createInfoCount; i++)
      bits[i] = graphics_bind_bits(&a->pCreateInfos[i]);
   a->ret = dev->vk->CreateGraphicsPipelines(a->device, a->pipelineCache, a->createInfoCount,
                                             a->pCreateInfos, NULL, a->pPipelines);
   pipelines_add(disp, a->obj, a->createInfoCount, ids, a->pPipelines, a->ret, NULL, bits);
}

VD_HANDLER(vkCreateComputePipelines)
{
   struct vd_device *dev = a->obj->data;
   for (uint32_t i = 0; i < a->createInfoCount; i++) {
      const VkComputePipelineCreateInfo *c = &a->pCreateInfos[i];
      char what[48];
      snprintf(what, sizeof(what), "pCreateInfos[%u].stage", i);
      if (!specialization_ok(disp, what, &c->stage) ||
          !base_index_ok(disp, i, c->flags, c->basePipelineHandle, c->basePipelineIndex))
         return;
   }
   uint64_t *ids = guest_ids(disp, a->createInfoCount, a->pPipelines);
   if (!ids)
      return;
   uint32_t *bits = per_pipeline(disp, a->createInfoCount);
   if (!bits)
      return;
   for (uint32_t i = 0; i < a->createInfoCount; i++)
      bits[i] = VD_BOUND_COMPUTE;
   a->ret = dev->vk->CreateComputePipelines(a->device, a->pipelineCache, a->createInfoCount,
                                            a->pCreateInfos, NULL, a->pPipelines);
   pipelines_add(disp, a->obj, a->createInfoCount, ids, a->pPipelines, a->ret, NULL, bits);
}

/* -- ray tracing pipelines (VK_KHR_ray_tracing_pipeline, newest protocol only) ----------- */

/* A group's shader indices name stages of its create info (the driver indexes pStages with
 * them), or are VK_SHADER_UNUSED_KHR where its type has no such shader. */
static bool group_ok(struct vd_dispatch *disp, uint32_t i, uint32_t g, uint32_t stages,
                     const VkRayTracingShaderGroupCreateInfoKHR *gr)
{
   const uint32_t u = VK_SHADER_UNUSED_KHR;
   const uint32_t idx[4] = { gr->generalShader, gr->closestHitShader, gr->anyHitShader,
                             gr->intersectionShader };
   /* which of the four each type may (1) or must (2) name */
   static const uint8_t use[3][4] = { { 2, 0, 0, 0 }, { 0, 1, 1, 0 }, { 0, 1, 1, 2 } };
   bool ok = gr->type <= VK_RAY_TRACING_SHADER_GROUP_TYPE_PROCEDURAL_HIT_GROUP_KHR;
   for (int k = 0; ok && k < 4; k++) {
      const uint8_t m = use[gr->type][k];
      ok = (idx[k] == u && m != 2) || (idx[k] != u && m && idx[k] < stages);
   }
   if (!ok)
      vd_dispatch_fatal(disp,
                        "pCreateInfos[%u].pGroups[%u]: type %d with general %u, closest hit %u, "
                        "any hit %u, intersection %u: not stages of the %u given (or "
                        "VK_SHADER_UNUSED_KHR where the type has none)",
                        i, g, gr->type, idx[0], idx[1], idx[2], idx[3], stages);
   return ok;
}

/* The groups of create info i with its libraries' (each a ray tracing pipeline), or 0 after
 * making the context fatal. */
static uint32_t rt_groups(struct vd_dispatch *disp, const struct vd_device *dev, uint32_t i,
                          const VkRayTracingPipelineCreateInfoKHR *c)
{
   if (c->maxPipelineRayRecursionDepth > dev->rt.maxRayRecursionDepth ||
       (c->flags & (VK_PIPELINE_CREATE_RAY_TRACING_SHADER_GROUP_HANDLE_CAPTURE_REPLAY_BIT_KHR))) {
      vd_dispatch_fatal(disp,
                        "pCreateInfos[%u]: maxPipelineRayRecursionDepth %u above the device's %u, "
                        "or flags 0x%x ask for capture/replay handles (reported off)",
                        i, c->maxPipelineRayRecursionDepth, dev->rt.maxRayRecursionDepth, c->flags);
      return 0;
   }
   for (uint32_t s = 0; c->pStages && s < c->stageCount; s++) {
      char what[48];
      snprintf(what, sizeof(what), "pCreateInfos[%u].pStages[%u]", i, s);
      if (!specialization_ok(disp, what, &c->pStages[s]))
         return 0;
   }
   uint64_t total = c->groupCount;
   for (uint32_t g = 0; g < c->groupCount; g++)
      if (!group_ok(disp, i, g, c->stageCount, &c->pGroups[g]))
         return 0;
   for (uint32_t l = 0; c->pLibraryInfo && l < c->pLibraryInfo->libraryCount; l++) {
      const struct vd_object *lib = vd_dispatch_looked(
         disp, VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)c->pLibraryInfo->pLibraries[l]);
      const uint32_t n = vd_pipeline_group_count(lib);
      if (!n) {
         vd_dispatch_fatal(disp,
                           "pCreateInfos[%u].pLibraryInfo->pLibraries[%u] is not a ray tracing "
                           "pipeline",
                           i, l);
         return 0;
      }
      total += n;
   }
   if (!base_index_ok(disp, i, c->flags, c->basePipelineHandle, c->basePipelineIndex))
      return 0;
   if (!total || total > UINT32_MAX) {
      vd_dispatch_fatal(disp, "pCreateInfos[%u]: %" PRIu64 " shader groups", i, total);
      return 0;
   }
   return (uint32_t)total;
}

/* A deferred operation is not used on the host: the pipelines are created at once and the
 * guest is told VK_OPERATION_NOT_DEFERRED_KHR, which the spec allows for any deferrable
 * command (venusd would otherwise have to learn the handles when the host's operation
 * completes). */
VD_HANDLER(vkCreateRayTracingPipelinesKHR)
{
   struct vd_device *dev = a->obj->data;
   vd_accel_limits(dev);
   if (!vd_entry_ok(disp, (const void *)dev->vk->CreateRayTracingPipelinesKHR,
                    VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME))
      return;
   uint32_t *groups = per_pipeline(disp, a->createInfoCount);
   if (!groups)
      return;
   for (uint32_t i = 0; i < a->createInfoCount; i++)
      if (!(groups[i] = rt_groups(disp, dev, i, &a->pCreateInfos[i])))
         return;
   uint64_t *ids = guest_ids(disp, a->createInfoCount, a->pPipelines);
   if (!ids)
      return;
   uint32_t *bits = per_pipeline(disp, a->createInfoCount);
   if (!bits)
      return;
   for (uint32_t i = 0; i < a->createInfoCount; i++)
      bits[i] =
         (a->pCreateInfos[i].flags & VK_PIPELINE_CREATE_LIBRARY_BIT_KHR) ? 0 : VD_BOUND_RAY_TRACING;
   a->ret = dev->vk->CreateRayTracingPipelinesKHR(a->device, VK_NULL_HANDLE, a->pipelineCache,
                                                  a->createInfoCount, a->pCreateInfos, NULL,
                                                  a->pPipelines);
   pipelines_add(disp, a->obj, a->createInfoCount, ids, a->pPipelines, a->ret, groups, bits);
   if (a->ret == VK_SUCCESS && a->deferredOperation)
      a->ret = VK_OPERATION_NOT_DEFERRED_KHR;
}

/* The ray tracing pipeline a query names, with [first, first + count) among its groups. */
static bool groups_in(struct vd_dispatch *disp, VkPipeline pipeline, uint32_t first, uint32_t count)
{
   const struct vd_object *p =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)pipeline);
   const uint32_t n = vd_pipeline_group_count(p);
   if (n && first < n && count <= n - first)
      return true;
   vd_dispatch_fatal(disp,
                     "group %u + count %u: not among the %u shader groups of the pipeline (0: "
                     "not a ray tracing pipeline)",
                     first, count, n);
   return false;
}

VD_HANDLER(vkGetRayTracingShaderGroupHandlesKHR)
{
   struct vd_device *dev = a->obj->data;
   vd_accel_limits(dev);
   if (!groups_in(disp, a->pipeline, a->firstGroup, a->groupCount))
      return;
   if ((uint64_t)a->groupCount * dev->rt.shaderGroupHandleSize > a->dataSize || !a->pData) {
      vd_dispatch_fatal(disp, "dataSize %zu is less than groupCount %u x shaderGroupHandleSize %u",
                        a->dataSize, a->groupCount, dev->rt.shaderGroupHandleSize);
      return;
   }
   a->ret = dev->vk->GetRayTracingShaderGroupHandlesKHR(a->device, a->pipeline, a->firstGroup,
                                                        a->groupCount, a->dataSize, a->pData);
}

VD_HANDLER(vkGetRayTracingShaderGroupStackSizeKHR)
{
   const struct vd_device *dev = a->obj->data;
   if (!groups_in(disp, a->pipeline, a->group, 1))
      return;
   if (a->groupShader > VK_SHADER_GROUP_SHADER_INTERSECTION_KHR) {
      vd_dispatch_fatal(disp, "groupShader %d is not a VkShaderGroupShaderKHR", a->groupShader);
      return;
   }
   a->ret = dev->vk->GetRayTracingShaderGroupStackSizeKHR(a->device, a->pipeline, a->group,
                                                          a->groupShader);
}
