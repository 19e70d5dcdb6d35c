/* Command pools / command buffers and descriptor pools / sets.
 *
 * Pool children are records whose parent is the pool's record.  Freeing a child calls
 * the host free directly and drops the record; destroying or resetting a pool drops the
 * records of all its children (the host frees them with the pool).  The child records
 * themselves never free anything on the host; a descriptor set's record keeps its layout's
 * bindings (vk/buffer_image.c checks descriptor updates against them). */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* A pool's record: the ids of the children allocated from it, so that a reset, destroy or
 * teardown finds them without walking the object table (that cost O(the context's
 * objects) per reset, and ggml resets a command pool about ten times a token).  The list
 * may hold ids of children freed since, or an id twice (freed and allocated again): it is
 * checked against the table and compacted when read and before it grows. */
struct pool_record {
   const struct vd_vk_dispatch *vk; /* first, as in every record (vd_object_vk) */
   pthread_mutex_t lock;
   uint64_t *ids;
   uint32_t count, cap;
};

static int id_cmp(const void *a, const void *b)
{
   const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
   return x < y ? -1 : x > y;
}

/* Drops the ids that no longer name a child of pool, and repeats; with objs, also collects
 * each child with a reference (at most count of them).  Called with r->lock held. */
static uint32_t pool_compact_locked(struct vd_dispatch *disp, struct vd_object *pool,
                                    struct pool_record *r, struct vd_object **objs)
{
   if (r->count > 1)
      qsort(r->ids, r->count, sizeof(*r->ids), id_cmp);
   uint32_t kept = 0;
   for (uint32_t i = 0; i < r->count; i++) {
      if (kept && r->ids[kept - 1] == r->ids[i])
         continue;
      struct vd_object *o = vd_objtable_get(disp->ctx->objects, r->ids[i]);
      if (!o || o->parent != pool) {
         vd_object_unref(o);
         continue;
      }
      if (objs)
         objs[kept] = o;
      else
         vd_object_unref(o);
      r->ids[kept++] = r->ids[i];
   }
   r->count = kept;
   return kept;
}

/* Notes a child allocated from pool; false when out of memory.  A full list first drops
 * what is stale, and grows (doubling) if it is still more than half full. */
static bool pool_add_child(struct vd_dispatch *disp, struct vd_object *pool, uint64_t id)
{
   struct pool_record *r = pool->data;
   pthread_mutex_lock(&r->lock);
   if (r->count == r->cap) {
      pool_compact_locked(disp, pool, r, NULL);
      if (r->count * 2 > r->cap || !r->cap) {
         const uint32_t cap = r->cap ? r->cap * 2 : 16;
         uint64_t *ids = cap > r->cap ? realloc(r->ids, sizeof(*ids) * cap) : NULL;
         if (ids) {
            r->ids = ids;
            r->cap = cap;
         }
      }
      if (r->count == r->cap) {
         pthread_mutex_unlock(&r->lock);
         return false;
      }
   }
   r->ids[r->count++] = id;
   pthread_mutex_unlock(&r->lock);
   return true;
}

/* The records of every child of pool, each with a reference the caller drops (arena
 * array); NULL with *count 0 if there are none or out of memory. */
static struct vd_object **children_of(struct vd_dispatch *disp, struct vd_object *pool,
                                      uint32_t *count)
{
   struct pool_record *r = pool->data;
   *count = 0;
   pthread_mutex_lock(&r->lock);
   struct vd_object **objs =
      r->count ? vd_arena_alloc_array(&disp->arena, sizeof(*objs), r->count) : NULL;
   if (objs)
      *count = pool_compact_locked(disp, pool, r, objs);
   pthread_mutex_unlock(&r->lock);
   return *count ? objs : NULL;
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
   struct pool_record *r = obj->data;
   pthread_mutex_destroy(&r->lock);
   free(r->ids);
   free(r);
}

/* A new pool's record (NULL when out of memory). */
static struct pool_record *pool_record_new(const struct vd_object *dev_obj)
{
   struct pool_record *r = calloc(1, sizeof(*r));
   if (r) {
      r->vk = vd_object_vk(dev_obj);
      pthread_mutex_init(&r->lock, NULL);
   }
   return r;
}

static void pool_record_free(struct pool_record *r)
{
   if (r) {
      pthread_mutex_destroy(&r->lock);
      free(r);
   }
}

/* Adds a new pool's record (with its own record of children); false after making the
 * context fatal or when the id is refused, and the caller destroys the host pool. */
static bool pool_add(struct vd_dispatch *disp, struct vd_object *dev_obj, uint64_t id,
                     uint32_t type, uint64_t handle)
{
   struct pool_record *r = pool_record_new(dev_obj);
   if (!r) {
      vd_dispatch_fatal(disp, "out of memory adding %s %" PRIu64, vn_object_type_name(type), id);
      return false;
   }
   if (vd_object_add(disp, id, type, handle, dev_obj, r, pool_destroy))
      return true;
   pool_record_free(r);
   return false;
}

VD_HANDLER(vkCreateCommandPool)
{
   const uint64_t id = (uint64_t)(uintptr_t)*a->pCommandPool;
   VkCommandPool pool;
   a->ret = vd_object_vk(a->obj)->CreateCommandPool(a->device, a->pCreateInfo, NULL, &pool);
   if (a->ret == VK_SUCCESS &&
       !pool_add(disp, a->obj, id, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)pool))
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
      else if (!pool_add_child(disp, pool, ids[i]))
         vd_dispatch_fatal(disp, "out of memory noting command buffer %" PRIu64 " in its pool",
                           ids[i]);
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
       !pool_add(disp, a->obj, id, VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)pool))
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
      else if (!pool_add_child(disp, pool, ids[i]))
         vd_dispatch_fatal(disp, "out of memory noting descriptor set %" PRIu64 " in its pool",
                           ids[i]);
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
