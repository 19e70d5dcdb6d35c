/* What records hold, at the dispatch level (the rule is vk/lifetime.c's and docs/design.md's
 * "Lifetimes"): every command names objects of one device only; a vkCmd* command's command
 * buffer holds every object the command named; at teardown every holder lets go, so that no
 * cycle of holds keeps a host object alive.  These need only the object table and the
 * decoder's lookups, so they live below the Vulkan layer. */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "context/context_priv.h"
#include "util/log.h"
#include "vn_protocol.h"

/* -- parent devices --------------------------------------------------------------------- */

bool vd_holds_check_domains(struct vd_dispatch *d)
{
   const struct vd_object *first = d->looked[0];
   const struct vd_object *dom = first->domain;
   if (!dom)
      return true;
   for (uint32_t i = 1; i < d->looked_count; i++) {
      const struct vd_object *o = d->looked[i];
      if (!o->domain || o->domain == dom)
         continue;
      vd_dispatch_fatal(d,
                        "%s: %s %" PRIu64 " belongs to %s %" PRIu64 ", but the command is "
                        "for %s %" PRIu64 " (%s %s %" PRIu64 "); use objects of one device",
                        d->looked_field[i], vn_object_type_name(o->type), o->id,
                        vn_object_type_name(o->domain->type), o->domain->id,
                        vn_object_type_name(dom->type), dom->id, d->looked_field[0],
                        vn_object_type_name(first->type), first->id);
      return false;
   }
   return true;
}

/* -- command buffers and descriptor sets ------------------------------------------------ */

static bool record_commands[VN_COMMAND_TYPE_COUNT];

static void record_commands_init(void)
{
   for (uint32_t t = 0; t < VN_COMMAND_TYPE_COUNT; t++) {
      const char *n = vn_commands[t].name;
      record_commands[t] =
         n && n[0] == 'v' && n[1] == 'k' && n[2] == 'C' && n[3] == 'm' && n[4] == 'd';
   }
}

const bool *vd_holds_record_commands(void)
{
   static pthread_once_t once = PTHREAD_ONCE_INIT;
   pthread_once(&once, record_commands_init);
   return record_commands;
}

void vd_holds_record(struct vd_dispatch *d)
{
   struct vd_object *cb = d->looked[0];
   if (cb->type != VK_OBJECT_TYPE_COMMAND_BUFFER)
      return;
   if (!vd_object_hold_many(cb, d->looked + 1, d->looked_count - 1))
      vd_dispatch_fatal(d, "out of memory holding the objects of command buffer %" PRIu64, cb->id);
}

/* -- teardown --------------------------------------------------------------------------- */

struct collect_types {
   uint64_t types;
   struct vd_object **objs;
   uint32_t count, cap;
};

static void collect_typed(struct vd_object *obj, void *data)
{
   struct collect_types *c = data;
   if (obj->type < 64 && (c->types >> obj->type & 1) && c->count < c->cap) {
      vd_object_ref(obj);
      c->objs[c->count++] = obj;
   }
}

struct vd_object **vd_objects_collect(struct vd_context *ctx, uint64_t types, uint32_t *count)
{
   struct collect_types c = { .types = types, .cap = vd_objtable_count(ctx->objects) };
   /* (malloc, not an arena: a wait may collect many times in one command) */
   c.objs = c.cap ? calloc(c.cap, sizeof(*c.objs)) : NULL;
   if (c.objs)
      vd_objtable_foreach(ctx->objects, collect_typed, &c);
   *count = c.count;
   return c.objs;
}

void vd_holds_release_all(struct vd_context *ctx)
{
   uint32_t n;
   struct vd_object **objs = vd_objects_collect(
      ctx, 1ull << VK_OBJECT_TYPE_COMMAND_BUFFER | 1ull << VK_OBJECT_TYPE_DESCRIPTOR_SET, &n);
   for (uint32_t i = 0; i < n; i++)
      vd_object_release_holds(objs[i]);
   for (uint32_t i = 0; i < n; i++)
      vd_object_unref(objs[i]);
   free(objs);
}
