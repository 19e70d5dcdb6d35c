/* What a command buffer has bound: a draw, dispatch or trace with no pipeline of its kind
 * bound (or with the wrong kind: a vertex draw on a mesh pipeline) is invalid, and drivers
 * do not survive it (lavapipe dereferences the missing pipeline's shaders).  A command
 * buffer's vd_object.state holds the VD_BOUND_* bits of the pipelines bound since it was
 * begun; its own recording thread is the only one that touches it. */
#include <inttypes.h>

#include "vk/vk_common.h"

static const char *bind_point_name(VkPipelineBindPoint bp)
{
   switch (bp) {
   case VK_PIPELINE_BIND_POINT_GRAPHICS: return "GRAPHICS";
   case VK_PIPELINE_BIND_POINT_COMPUTE: return "COMPUTE";
   case VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR: return "RAY_TRACING_KHR";
   default: return NULL;
   }
}

static uint32_t bind_point_bits(VkPipelineBindPoint bp)
{
   switch (bp) {
   case VK_PIPELINE_BIND_POINT_GRAPHICS: return VD_BOUND_VERTEX | VD_BOUND_MESH;
   case VK_PIPELINE_BIND_POINT_COMPUTE: return VD_BOUND_COMPUTE;
   case VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR: return VD_BOUND_RAY_TRACING;
   default: return 0;
   }
}

void vd_bind_state_reset(struct vd_object *cb)
{
   cb->state = 0;
}

bool vd_bind_state_ok(struct vd_dispatch *disp, struct vd_object *cb, uint32_t need,
                      const char *what)
{
   if (__builtin_expect((cb->state & need) != 0, 1))
      return true;
   vd_dispatch_fatal(disp,
                     "no %s is bound to command buffer %" PRIu64
                     " (a driver does not survive the command without one)",
                     what, cb->id);
   return false;
}

VD_HANDLER(vkCmdBindPipeline)
{
   const uint32_t slot = bind_point_bits(a->pipelineBindPoint);
   struct vd_object *p =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)a->pipeline);
   const uint32_t kind = vd_pipeline_bind_bits(p);
   if (!slot || !(kind & slot)) {
      const char *bp = bind_point_name(a->pipelineBindPoint);
      if (!bp)
         vd_dispatch_fatal(disp, "pipelineBindPoint %d is not a bind point",
                           (int)a->pipelineBindPoint);
      else
         vd_dispatch_fatal(disp, "%s (pipeline %" PRIu64 ") cannot be bound at %s",
                           vd_pipeline_kind_name(p), p ? p->id : 0, bp);
      return;
   }
   a->obj->state = (a->obj->state & ~slot) | (kind & slot);
   vd_object_vk(a->obj)->CmdBindPipeline(a->commandBuffer, a->pipelineBindPoint, a->pipeline);
}

#define NEED_VERTEX(disp, a) \
   vd_bind_state_ok(disp, (a)->obj, VD_BOUND_VERTEX, "graphics pipeline with vertex input stages")
#define NEED_COMPUTE(disp, a) vd_bind_state_ok(disp, (a)->obj, VD_BOUND_COMPUTE, "compute pipeline")

VD_HANDLER(vkCmdDraw)
{
   if (NEED_VERTEX(disp, a))
      vd_object_vk(a->obj)->CmdDraw(a->commandBuffer, a->vertexCount, a->instanceCount,
                                    a->firstVertex, a->firstInstance);
}

VD_HANDLER(vkCmdDrawIndexed)
{
   if (NEED_VERTEX(disp, a))
      vd_object_vk(a->obj)->CmdDrawIndexed(a->commandBuffer, a->indexCount, a->instanceCount,
                                           a->firstIndex, a->vertexOffset, a->firstInstance);
}

VD_HANDLER(vkCmdDrawMultiEXT)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   if (!vd_entry_ok(disp, (const void *)vk->CmdDrawMultiEXT, VK_EXT_MULTI_DRAW_EXTENSION_NAME))
      return;
   /* The decoder stored the draws as a plain array: the guest's stride described the
    * guest's memory, not this array, and passing it on would let the driver read past it. */
   if (NEED_VERTEX(disp, a))
      vk->CmdDrawMultiEXT(a->commandBuffer, a->drawCount, a->pVertexInfo, a->instanceCount,
                          a->firstInstance, sizeof(VkMultiDrawInfoEXT));
}

VD_HANDLER(vkCmdDrawMultiIndexedEXT)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   if (!vd_entry_ok(disp, (const void *)vk->CmdDrawMultiIndexedEXT,
                    VK_EXT_MULTI_DRAW_EXTENSION_NAME))
      return;
   /* As for vkCmdDrawMultiEXT: the decoded draws are a plain array. */
   if (NEED_VERTEX(disp, a))
      vk->CmdDrawMultiIndexedEXT(a->commandBuffer, a->drawCount, a->pIndexInfo, a->instanceCount,
                                 a->firstInstance, sizeof(VkMultiDrawIndexedInfoEXT),
                                 a->pVertexOffset);
}

VD_HANDLER(vkCmdDispatch)
{
   if (NEED_COMPUTE(disp, a))
      vd_object_vk(a->obj)->CmdDispatch(a->commandBuffer, a->groupCountX, a->groupCountY,
                                        a->groupCountZ);
}

VD_HANDLER(vkCmdDispatchBase)
{
   if (NEED_COMPUTE(disp, a))
      vd_object_vk(a->obj)->CmdDispatchBase(a->commandBuffer, a->baseGroupX, a->baseGroupY,
                                            a->baseGroupZ, a->groupCountX, a->groupCountY,
                                            a->groupCountZ);
}
