/* Command pools / command buffers and descriptor pools / sets.
 *
 * Pool children are records whose parent is the pool's record.  Freeing a child calls
 * the host free directly and drops the record; destroying or resetting a pool drops the
 * records of all its children (the host frees them with the pool).  The child records
 * themselves never free anything on the host; a descriptor set's record keeps its layout's
 * bindings (vk/buffer_image.c checks descriptor updates against them). */
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

struct child_scan {
   struct vd_object *pool;
   uint64_t *ids;
   uint32_t count, cap;
};

static void collect_child(struct vd_object *obj, void *data)
{
   struct child_scan *scan = data;
   if (obj->parent != scan->pool || scan->count == scan->cap)
      return;
   scan->ids[scan->count++] = obj->id;
}

/* Drops the records of every child of pool. */
static void remove_children(struct vd_dispatch *disp, struct vd_object *pool)
{
   const uint32_t cap = vd_objtable_count(disp->ctx->objects);
   struct child_scan scan = { .pool = pool, .cap = cap };
   scan.ids = vd_arena_alloc_array(&disp->arena, sizeof(*scan.ids), cap);
   if (!scan.ids)
      return;
   vd_objtable_foreach(disp->ctx->objects, collect_child, &scan);
   for (uint32_t i = 0; i < scan.count; i++)
      vd_object_remove(disp, scan.ids[i]);
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
   struct vd_object *pool = vd_dispatch_looked(disp, VK_OBJECT_TYPE_COMMAND_POOL,
                                        (uint64_t)(uintptr_t)info->commandPool);
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
      if (!vd_object_add(disp, ids[i], VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)cb,
                         pool, a->obj->data, NULL))
         vk->FreeCommandBuffers(a->device, info->commandPool, 1, &cb);
   }
}

VD_HANDLER(vkFreeCommandBuffers)
{
   const struct vd_vk_dispatch *vk = vd_object_vk(a->obj);
   vk->FreeCommandBuffers(a->device, a->commandPool, a->commandBufferCount, a->pCommandBuffers);
   for (uint32_t i = 0; i < disp->looked_count; i++)
      if (disp->looked[i]->type == VK_OBJECT_TYPE_COMMAND_BUFFER)
         vd_object_remove(disp, disp->looked[i]->id);
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
   a->ret = vd_object_vk(a->obj)->ResetDescriptorPool(a->device, a->descriptorPool, a->flags);
   if (pool)
      remove_children(disp, pool);
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
   a->ret = vd_object_vk(a->obj)->FreeDescriptorSets(a->device, a->descriptorPool,
                                                     a->descriptorSetCount, a->pDescriptorSets);
   for (uint32_t i = 0; i < disp->looked_count; i++)
      if (disp->looked[i]->type == VK_OBJECT_TYPE_DESCRIPTOR_SET)
         vd_object_remove(disp, disp->looked[i]->id);
}
