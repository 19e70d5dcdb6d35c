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

struct holders {
   struct vd_object **objs;
   uint32_t count, cap;
};

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

static bool *record_commands;

static void record_commands_init(void)
{
   record_commands = calloc(VN_COMMAND_TYPE_COUNT, sizeof(*record_commands));
   if (!record_commands)
      return;
   for (uint32_t t = 0; t < VN_COMMAND_TYPE_COUNT; t++) {
      const char *n = vn_commands[t].name;
      record_commands[t] =
         n && n[0] == 'v' && n[1] == 'k' && n[2] == 'C' && n[3] == 'm' && n[4] == 'd';
   }
}

bool vd_holds_is_record_command(uint32_t type)
{
   static pthread_once_t once = PTHREAD_ONCE_INIT;
   pthread_once(&once, record_commands_init);
   /* Without the table (out of memory) every command counts: holding more is safe. */
   return !record_commands || record_commands[type];
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

static void collect_holder(struct vd_object *obj, void *data)
{
   struct holders *h = data;
   if ((obj->type == VK_OBJECT_TYPE_COMMAND_BUFFER || obj->type == VK_OBJECT_TYPE_DESCRIPTOR_SET) &&
       h->count < h->cap) {
      vd_object_ref(obj);
      h->objs[h->count++] = obj;
   }
}

void vd_holds_release_all(struct vd_context *ctx)
{
   struct holders h = { .cap = vd_objtable_count(ctx->objects) };
   h.objs = h.cap ? calloc(h.cap, sizeof(*h.objs)) : NULL;
   if (!h.objs)
      return;
   vd_objtable_foreach(ctx->objects, collect_holder, &h);
   for (uint32_t i = 0; i < h.count; i++)
      vd_object_release_holds(h.objs[i]);
   for (uint32_t i = 0; i < h.count; i++)
      vd_object_unref(h.objs[i]);
   free(h.objs);
}
