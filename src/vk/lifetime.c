/* Lifetimes of the objects that command buffers, descriptor sets and submissions use.
 *
 * The rule (docs/design.md, "Lifetimes"): a record holds a reference on every object its
 * host object may use (a command buffer: what its commands named; a descriptor set: what
 * was written into it; a view, framebuffer or pipeline: what it was created from; a bound
 * buffer or image: its memory), and a submission holds its objects until the host has
 * finished it.  A guest destroy removes the id at once, but the host object goes only with
 * the last reference, so neither a recorded command buffer nor work the driver is still
 * running ever reaches a freed host object.  Only pool resets and frees of command buffers
 * and descriptor sets free host objects that others may hold; they wait for the host to
 * finish with them, and a command buffer that recorded one of them can no longer be
 * submitted (its generation changed).  Every command is also checked to name only objects
 * of its own device. */
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"
#include "vn_protocol.h"
#include "vk/vk_common.h"

void vd_lifetime_invalidate(struct vd_object *obj)
{
   atomic_fetch_add(&obj->gen, 1);
   vd_object_clear_holds(obj);
}

#define WAIT_VIRTQUEUE_NS 2000000000ull

/* Every queue of the context drops what its finished submissions held. */
static void reap_all(struct vd_dispatch *disp, uint64_t timeout_ns)
{
   uint32_t n;
   struct vd_object **queues = vd_objects_collect(disp->ctx, 1ull << VK_OBJECT_TYPE_QUEUE, &n);
   for (uint32_t i = 0; i < n; i++) {
      vd_queue_reap(queues[i]->data, timeout_ns);
      vd_object_unref(queues[i]);
   }
   free(queues);
}

bool vd_lifetime_wait_unused(struct vd_dispatch *disp, struct vd_object *obj, const char *what)
{
   if (!atomic_load(&obj->pending))
      return true;
   /* A guest that waited for its own fence may ask a moment before the host has seen the
    * tracking semaphore (or fence) signal: wait for it in short blocking slices, which the
    * driver ends as soon as the work is done (polling with naps cost ~0.7 ms a submission
    * on NVIDIA), checking between slices whether to give up. */
   const uint64_t start = vd_now_ns();
   for (uint32_t spins = 0; atomic_load(&obj->pending); spins++) {
      reap_all(disp, spins ? 200000 : 0);
      if (!atomic_load(&obj->pending))
         break;
      const bool give_up =
         disp->ring ? vd_ring_stopping(disp->ring) : vd_now_ns() - start > WAIT_VIRTQUEUE_NS;
      if (give_up && atomic_load(&obj->pending)) {
         vd_dispatch_fatal(disp,
                           "%s: %s %" PRIu64 " is still used by a submission the host "
                           "has not finished; wait for its fence first",
                           what, vn_object_type_name(obj->type), obj->id);
         return false;
      }
   }
   return true;
}

/* -- submissions ------------------------------------------------------------------------ */

struct collect {
   struct vd_dispatch *disp;
   struct vd_object **objs;
   uint32_t count, cap;
   bool failed;
};

static bool collect_push(struct collect *c, struct vd_object *obj)
{
   if (c->count == c->cap) {
      const uint32_t n = c->cap ? c->cap * 2 : 16;
      struct vd_object **a = realloc(c->objs, sizeof(*a) * n);
      if (!a) {
         vd_dispatch_fatal(c->disp, "out of memory tracking a submission");
         c->failed = true;
         vd_object_unref(obj);
         return false;
      }
      c->objs = a;
      c->cap = n;
   }
   atomic_fetch_add(&obj->pending, 1);
   c->objs[c->count++] = obj;
   return true;
}

/* The command buffer's descriptor sets and secondaries (and theirs) are still what it
 * recorded; they join the submission. */
static void collect_recorded(struct collect *c, struct vd_object *cb, const char *field,
                             unsigned depth)
{
   uint32_t n = vd_object_holds_copy(cb, NULL, 0);
   struct vd_hold *h = n ? vd_arena_alloc_array(&c->disp->arena, sizeof(*h), n) : NULL;
   if (n && !h) {
      vd_dispatch_fatal(c->disp, "out of memory tracking a submission");
      c->failed = true;
      return;
   }
   n = n ? vd_object_holds_copy(cb, h, n) : 0; /* (may have grown: the first n are copied) */
   for (uint32_t i = 0; i < n; i++) {
      struct vd_object *o = h[i].obj;
      if (!c->failed && h[i].gen != atomic_load(&o->gen)) {
         vd_dispatch_fatal(c->disp,
                           "%s: VkCommandBuffer %" PRIu64 " recorded %s %" PRIu64
                           ", which was freed or reset after that; record it again",
                           field, cb->id, vn_object_type_name(o->type), o->id);
         c->failed = true;
      }
      const bool nested =
         o->type == VK_OBJECT_TYPE_COMMAND_BUFFER || o->type == VK_OBJECT_TYPE_DESCRIPTOR_SET;
      if (c->failed || !nested) {
         vd_object_unref(o);
         continue;
      }
      if (!collect_push(c, o))
         continue;
      /* Nested command buffers nest at most a few levels; a cycle stops here. */
      if (o->type == VK_OBJECT_TYPE_COMMAND_BUFFER && depth < 4)
         collect_recorded(c, o, field, depth + 1);
   }
}

bool vd_lifetime_submit_begin(struct vd_dispatch *disp, struct vd_object ***objs, uint32_t *count)
{
   struct collect c = { .disp = disp };
   for (uint32_t i = 0; i < disp->looked_count && !c.failed; i++) {
      struct vd_object *o = disp->looked[i];
      if (o->type == VK_OBJECT_TYPE_QUEUE || o->type == VK_OBJECT_TYPE_DEVICE)
         continue;
      vd_object_ref(o);
      if (collect_push(&c, o) && o->type == VK_OBJECT_TYPE_COMMAND_BUFFER)
         collect_recorded(&c, o, disp->looked_field[i], 0);
   }
   if (c.failed) {
      vd_lifetime_submit_end(NULL, c.objs, c.count, false, 0);
      return false;
   }
   *objs = c.objs;
   *count = c.count;
   return true;
}

void vd_lifetime_submit_end(struct vd_queue *queue, struct vd_object **objs, uint32_t count,
                            bool submitted, uint64_t track_value)
{
   if (submitted && count && vd_queue_retire_after(queue, objs, count, track_value))
      return;
   if (submitted && count) {
      /* No fence to tell when the host is done: wait for the queue instead. */
      vd_warn(VD_CAT_CONTEXT, "cannot track a submission's objects; waiting for the queue");
      queue->vk->QueueWaitIdle(queue->handle);
   }
   for (uint32_t i = 0; i < count; i++)
      atomic_fetch_sub(&objs[i]->pending, 1);
   for (uint32_t i = 0; i < count; i++)
      vd_object_unref(objs[i]);
   free(objs);
}
