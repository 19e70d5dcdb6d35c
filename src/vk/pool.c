/* Command pools / command buffers and descriptor pools / sets.
 *
 * Pool children are records whose parent is the pool's record.  Freeing a child calls
 * the host free directly and drops the record; destroying or resetting a pool drops the
 * records of all its children (the host frees them with the pool).  The child records
 * themselves never free anything on the host; a descriptor set's record keeps its layout's
 * bindings (vk/buffer_image.c checks descriptor updates against them). */
#include <inttypes.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

struct child_scan {
   struct vd_object *pool;
   struct vd_object **objs;
   uint32_t count, cap;
};

static void collect_child(struct vd_object *obj, void *data)
{
   struct child_scan *scan = data;
   if (obj->parent != scan->pool || scan->count == scan->cap)
      return;
   vd_object_ref(obj);
   scan->objs[scan->count++] = obj;
}

/* The records of every child of pool, each with a reference the caller drops (arena
 * array); NULL with *count 0 if there are none or out of memory. */
static struct vd_object **children_of(struct vd_dispatch *disp, struct vd_object *pool,
                                      uint32_t *count)
{
   const uint32_t cap = vd_objtable_count(disp->ctx->objects);
   struct child_scan scan = { .pool = pool, .cap = cap };
   scan.objs = cap ? vd_arena_alloc_array(&disp->arena, sizeof(*scan.objs), cap) : NULL;
   *count = 0;
   if (!scan.objs)
      return NULL;
   vd_objtable_foreach(disp->ctx->objects, collect_child, &scan);
   *count = scan.count;
   return scan.objs;
}

static void unref_all(struct vd_object **objs, uint32_t count)
{
   for (uint32_t i = 0; i < count; i++)
      vd_object_unref(objs[i]);
}

/* Drops the records of every child of pool. */
static void remove_children(struct vd_dispatch *disp, struct vd_object *pool)
{
   uint32_t n;
   struct vd_object **children = children_of(disp, pool, &n);
   for (uint32_t i = 0; i < n; i++)
      vd_object_remove(disp, children[i]->id);
   unref_all(children, n);
}

/* The host is about to free or reset the children of a pool: each waits until no
 * submission uses it, then whatever recorded it can no longer be submitted. */
static bool children_wait_unused(struct vd_dispatch *disp, struct vd_object **children, uint32_t n,
                                 const char *what)
{
   for (uint32_t i = 0; i < n; i++)
      if (!vd_lifetime_wait_unused(disp, children[i], what))
         return false;
   return true;
}

static void children_invalidate(struct vd_object **children, uint32_t n)
{
   for (uint32_t i = 0; i < n; i++) {
      vd_lifetime_invalidate(children[i]);
      if (children[i]->type == VK_OBJECT_TYPE_COMMAND_BUFFER)
         vd_bind_state_reset(children[i]);
   }
}

static void pool_destroy(struct vd_object *obj)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(obj->parent);
   const VkDevice dev = (VkDevice)(uintptr_t)obj->parent->handle;
   if (obj->type == VK_OBJECT_TYPE_COMMAND_POOL)
      vk->DestroyCommandPool(dev, (VkCommandPool)(uintptr_t)obj->handle, NULL);
   else
      vk->DestroyDescriptorPool(dev, (VkDescriptorPool)(uintptr_t)obj->handle, NULL);
}

VD_HANDLER(vkCreateCommandPool)
{
   const uint64_t id = (uint64_t)(uintptr_t)*a->pCommandPool;
   VkCommandPool pool;
   a->ret = vd_object_vk(a->obj)->CreateCommandPool(a->device, a->pCreateInfo, NULL, &pool);
   if (a->ret == VK_SUCCESS &&
       !vd_object_add(disp, id, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)pool, a->obj,
                      a->obj->data, pool_destroy))
      vd_object_vk(a->obj)->DestroyCommandPool(a->device, pool, NULL);
}

VD_HANDLER(vkDestroyCommandPool)
{
   if (!a->target)
      return;
   remove_children(disp, a->target);
   vd_object_remove(disp, a->target->id);
}

VD_HANDLER(vkAllocateCommandBuffers)
{
   const VkCommandBufferAllocateInfo *info = a->pAllocateInfo;
   struct vd_object *pool =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)info->commandPool);
   const uint32_t n = info->commandBufferCount;
   uint64_t *ids = vd_arena_alloc_array(&disp->arena, sizeof(*ids), n);
   if (!pool || !ids) {
      vd_dispatch_fatal(disp, "out of memory");
      return;
   }
   for (uint32_t i = 0; i < n; i++)
      ids[i] = (uint64_t)(uintptr_t)a->pCommandBuffers[i];
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   a->ret = vk->AllocateCommandBuffers(a->device, info, a->pCommandBuffers);
   for (uint32_t i = 0; i < n; i++) {
      VkCommandBuffer cb = a->pCommandBuffers[i];
      a->pCommandBuffers[i] = (VkCommandBuffer)(uintptr_t)ids[i];
      if (a->ret != VK_SUCCESS)
         continue;
      /* Command buffers are dispatchable: the host loader's dispatch pointer lives in them,
       * and their record shares the device's table. */
      if (!vd_object_add(disp, ids[i], VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)cb, pool,
                         a->obj->data, NULL))
         vk->FreeCommandBuffers(a->device, info->commandPool, 1, &cb);
   }
}

/* The looked-up objects of `type` (the command's own list), each waited for. */
static struct vd_object **looked_of_type(struct vd_dispatch *disp, uint32_t type, uint32_t *count,
                                         const char *what)
{
   struct vd_object **objs = vd_arena_alloc_array(&disp->arena, sizeof(*objs), disp->looked_count);
   *count = 0;
   if (!objs) {
      vd_dispatch_fatal(disp, "out of memory");
      return NULL;
   }
   for (uint32_t i = 0; i < disp->looked_count; i++)
      if (disp->looked[i]->type == type)
         objs[(*count)++] = disp->looked[i];
   if (!children_wait_unused(disp, objs, *count, what))
      return NULL;
   return objs;
}

VD_HANDLER(vkFreeCommandBuffers)
{
   uint32_t n;
   struct vd_object **cbs =
      looked_of_type(disp, VK_OBJECT_TYPE_COMMAND_BUFFER, &n, "pCommandBuffers");
   if (!cbs)
      return;
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   vk->FreeCommandBuffers(a->device, a->commandPool, a->commandBufferCount, a->pCommandBuffers);
   children_invalidate(cbs, n);
   for (uint32_t i = 0; i < n; i++)
      vd_object_remove(disp, cbs[i]->id);
}

VD_HANDLER(vkResetCommandPool)
{
   struct vd_object *pool =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)a->commandPool);
   uint32_t n = 0;
   struct vd_object **children = pool ? children_of(disp, pool, &n) : NULL;
   if (children_wait_unused(disp, children, n, "commandPool")) {
      a->ret = vd_object_vk(a->obj)->ResetCommandPool(a->device, a->commandPool, a->flags);
      children_invalidate(children, n);
   }
   unref_all(children, n);
}

/* Beginning a command buffer resets it: it must not be in use, and it no longer holds
 * what it recorded before.  It holds what the inheritance info names. */
VD_HANDLER(vkBeginCommandBuffer)
{
   if (!vd_lifetime_wait_unused(disp, a->obj, "commandBuffer"))
      return;
   vd_lifetime_invalidate(a->obj);
   vd_bind_state_reset(a->obj);
   /* A secondary continuing a render pass names one of its subpasses (render_pass.c). */
   const VkCommandBufferInheritanceInfo *inh = a->pBeginInfo->pInheritanceInfo;
   if (inh && (a->pBeginInfo->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT) &&
       !vd_subpass_ok(disp, "pBeginInfo->pInheritanceInfo->subpass", inh->renderPass, inh->subpass))
      return;
   /* ... and its dynamic rendering local read indices are in range (range_check.c). */
   const VkRenderingInputAttachmentIndexInfo *inputs =
      inh ? vd_chain_find(inh->pNext, VK_STRUCTURE_TYPE_RENDERING_INPUT_ATTACHMENT_INDEX_INFO)
          : NULL;
   const struct vd_device *dev = a->obj->data;
   if (inputs && !vd_input_attachment_indices_ok(disp, &dev->pdev->props.limits,
                                                 "pBeginInfo->pInheritanceInfo->pNext", inputs))
      return;
   a->ret = vd_object_vk(a->obj)->BeginCommandBuffer(a->commandBuffer, a->pBeginInfo);
   if (!vd_object_hold_many(a->obj, disp->looked + 1, disp->looked_count - 1))
      vd_dispatch_fatal(disp, "out of memory holding the objects of command buffer %" PRIu64,
                        a->obj->id);
}

VD_HANDLER(vkResetCommandBuffer)
{
   if (!vd_lifetime_wait_unused(disp, a->obj, "commandBuffer"))
      return;
   vd_lifetime_invalidate(a->obj);
   vd_bind_state_reset(a->obj);
   a->ret = vd_object_vk(a->obj)->ResetCommandBuffer(a->commandBuffer, a->flags);
}

VD_HANDLER(vkCreateDescriptorPool)
{
   const uint64_t id = (uint64_t)(uintptr_t)*a->pDescriptorPool;
   VkDescriptorPool pool;
   a->ret = vd_object_vk(a->obj)->CreateDescriptorPool(a->device, a->pCreateInfo, NULL, &pool);
   if (a->ret == VK_SUCCESS &&
       !vd_object_add(disp, id, VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)pool, a->obj,
                      a->obj->data, pool_destroy))
      vd_object_vk(a->obj)->DestroyDescriptorPool(a->device, pool, NULL);
}

VD_HANDLER(vkDestroyDescriptorPool)
{
   if (!a->target)
      return;
   remove_children(disp, a->target);
   vd_object_remove(disp, a->target->id);
}

VD_HANDLER(vkResetDescriptorPool)
{
   struct vd_object *pool = vd_dispatch_looked(disp, VK_OBJECT_TYPE_DESCRIPTOR_POOL,
                                               (uint64_t)(uintptr_t)a->descriptorPool);
   uint32_t n = 0;
   struct vd_object **children = pool ? children_of(disp, pool, &n) : NULL;
   if (children_wait_unused(disp, children, n, "descriptorPool")) {
      a->ret = vd_object_vk(a->obj)->ResetDescriptorPool(a->device, a->descriptorPool, a->flags);
      children_invalidate(children, n);
      for (uint32_t i = 0; i < n; i++)
         vd_object_remove(disp, children[i]->id);
   }
   unref_all(children, n);
}

static void descriptor_set_destroy_record(struct vd_descriptor_set *rec)
{
   vd_set_layout_unref(rec->layout);
   free(rec);
}

/* Drops the record only: the host set goes with vkFreeDescriptorSets or its pool. */
static void descriptor_set_destroy(struct vd_object *obj)
{
   descriptor_set_destroy_record(obj->data);
}

VD_HANDLER(vkAllocateDescriptorSets)
{
   const VkDescriptorSetAllocateInfo *info = a->pAllocateInfo;
   struct vd_object *pool = vd_dispatch_looked(disp, VK_OBJECT_TYPE_DESCRIPTOR_POOL,
                                               (uint64_t)(uintptr_t)info->descriptorPool);
   const uint32_t n = info->descriptorSetCount;
   uint64_t *ids = vd_arena_alloc_array(&disp->arena, sizeof(*ids), n);
   if (!pool || !ids) {
      vd_dispatch_fatal(disp, "out of memory");
      return;
   }
   for (uint32_t i = 0; i < n; i++)
      ids[i] = (uint64_t)(uintptr_t)a->pDescriptorSets[i];
   const VkDescriptorSetVariableDescriptorCountAllocateInfo *variable = NULL;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_ALLOCATE_INFO)
         variable = (const void *)s;
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   a->ret = vk->AllocateDescriptorSets(a->device, info, a->pDescriptorSets);
   for (uint32_t i = 0; i < n; i++) {
      VkDescriptorSet set = a->pDescriptorSets[i];
      a->pDescriptorSets[i] = (VkDescriptorSet)(uintptr_t)ids[i];
      if (a->ret != VK_SUCCESS)
         continue;
      struct vd_descriptor_set *rec = malloc(sizeof(*rec));
      if (!rec) {
         vd_dispatch_fatal(disp, "out of memory");
         vk->FreeDescriptorSets(a->device, info->descriptorPool, 1, &set);
         continue;
      }
      rec->layout = info->pSetLayouts ? vd_set_layout_of(disp, info->pSetLayouts[i]) : NULL;
      rec->variable_count = 0;
      if (rec->layout) {
         atomic_fetch_add(&rec->layout->refs, 1);
         /* The variable count the driver sized the set by, never more than the layout's. */
         const uint32_t last = rec->layout->binding_count - 1;
         if (rec->layout->variable_last && variable && variable->pDescriptorCounts &&
             i < variable->descriptorSetCount)
            rec->variable_count = variable->pDescriptorCounts[i] < rec->layout->bindings[last].count
                                     ? variable->pDescriptorCounts[i]
                                     : rec->layout->bindings[last].count;
      }
      if (!vd_object_add(disp, ids[i], VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)set,
                         pool, rec, descriptor_set_destroy))
         descriptor_set_destroy_record(rec);
   }
}

VD_HANDLER(vkFreeDescriptorSets)
{
   uint32_t n;
   struct vd_object **sets =
      looked_of_type(disp, VK_OBJECT_TYPE_DESCRIPTOR_SET, &n, "pDescriptorSets");
   if (!sets)
      return;
   a->ret = vd_object_vk(a->obj)->FreeDescriptorSets(a->device, a->descriptorPool,
                                                     a->descriptorSetCount, a->pDescriptorSets);
   children_invalidate(sets, n);
   for (uint32_t i = 0; i < n; i++)
      vd_object_remove(disp, sets[i]->id);
}
