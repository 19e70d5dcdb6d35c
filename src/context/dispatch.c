/* The dispatcher: decodes one command at a time with the generated decoders, runs its
 * handler, writes its reply into the reply stream, and turns any error into "context
 * fatal" with one log line naming context, dispatcher, command, field and reason. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "context/context_priv.h"
#include "context/protocol.h"
#include "util/options.h"
#include "util/log.h"
#include "vn_protocol.h"

#define VD_DECODE_ARENA_MAX (256u << 20)

void vd_dispatch_init(struct vd_dispatch *d, struct vd_context *ctx, struct vd_ring *ring,
                      const char *name)
{
   static const _Atomic uint64_t no_removals = 0;
   memset(d, 0, sizeof(*d));
   d->ctx = ctx;
   d->ring = ring;
   d->removals = ctx && ctx->objects ? vd_objtable_removals_counter(ctx->objects) : &no_removals;
   snprintf(d->name, sizeof(d->name), "%s", name);
   vd_arena_init(&d->arena, VD_DECODE_ARENA_MAX);
   if (ctx && ctx->params.record_dir) {
      char path[512];
      mkdir(ctx->params.record_dir, 0755);
      snprintf(path, sizeof(path), "%s/ctx%u-%s.vnr", ctx->params.record_dir, ctx->params.id, name);
      for (char *p = path + strlen(ctx->params.record_dir) + 1; *p; p++)
         if (*p == ' ')
            *p = '-';
      d->record = fopen(path, "wb");
      if (!d->record)
         vd_warn(VD_CAT_CONTEXT, "--record: cannot create %s: %s", path, strerror(errno));
   }
}

static void release_held(struct vd_dispatch *d)
{
   for (uint32_t i = 0; i < d->held_count; i++)
      vd_object_unref(d->held[i]);
   d->held_count = 0;
   d->looked_count = 0;
}

static bool push_looked(struct vd_dispatch *d, struct vd_object *obj, const char *field)
{
   if (d->looked_count == d->looked_cap) {
      uint32_t n = d->looked_cap ? d->looked_cap * 2 : 16;
      struct vd_object **a = realloc(d->looked, sizeof(*a) * n);
      if (!a)
         return false;
      d->looked = a;
      const char **f = realloc(d->looked_field, sizeof(*f) * n);
      if (!f)
         return false;
      d->looked_field = f;
      d->looked_cap = n;
   }
   d->looked_field[d->looked_count] = field;
   d->looked[d->looked_count++] = obj;
   return true;
}

static bool push_obj(struct vd_object ***arr, uint32_t *count, uint32_t *cap, struct vd_object *obj)
{
   if (*count == *cap) {
      uint32_t n = *cap ? *cap * 2 : 16;
      struct vd_object **a = realloc(*arr, sizeof(*a) * n);
      if (!a)
         return false;
      *arr = a;
      *cap = n;
   }
   (*arr)[(*count)++] = obj;
   return true;
}

static bool hold(struct vd_dispatch *d, struct vd_object *obj);

/* Empties the lookup cache.  Mid-command (to_held) its references move to the held list,
 * released when the command ends: the command may still be using those objects. */
static bool lookup_cache_flush_to(struct vd_dispatch *d, bool to_held)
{
   bool ok = true;
   for (size_t i = 0; i < sizeof(d->lookup_cache) / sizeof(d->lookup_cache[0]); i++) {
      struct vd_object *obj = d->lookup_cache[i].obj;
      if (obj && !(to_held && hold(d, obj))) {
         ok = !to_held;
         vd_object_unref(obj);
      }
      d->lookup_cache[i].obj = NULL;
      d->lookup_cache[i].id = 0;
   }
   return ok;
}

static void lookup_cache_flush(struct vd_dispatch *d)
{
   lookup_cache_flush_to(d, false);
}

void vd_dispatch_fini(struct vd_dispatch *d)
{
   lookup_cache_flush(d);
   release_held(d);
   free(d->held);
   d->held = NULL;
   free(d->looked);
   d->looked = NULL;
   free(d->looked_field);
   d->looked_field = NULL;
   if (d->reply_res)
      vd_resource_unref(d->reply_res);
   d->reply_res = NULL;
   vd_arena_fini(&d->arena);
   if (d->record)
      fclose(d->record);
   d->record = NULL;
}

void vd_dispatch_fatal(struct vd_dispatch *d, const char *fmt, ...)
{
   char msg[400];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(msg, sizeof(msg), fmt, ap);
   va_end(ap);
   if (!atomic_load(&d->ctx->fatal)) {
      snprintf(d->ctx->fatal_reason, sizeof(d->ctx->fatal_reason), "%s: %s: %s", d->name,
               d->dec.cmd ? d->dec.cmd : "-", msg);
      vd_err(VD_CAT_CONTEXT, "context %u (%s) fatal: %s", d->ctx->params.id, d->ctx->name,
             d->ctx->fatal_reason);
   }
   vd_context_set_fatal(d->ctx);
}

static bool hold(struct vd_dispatch *d, struct vd_object *obj)
{
   return push_obj(&d->held, &d->held_count, &d->held_cap, obj);
}

/* The general lookup: everything the fast path below does not cover.  id has been read. */
static __attribute__((noinline)) struct vd_object *lookup_slow(struct vd_decoder *dec, uint64_t id,
                                                               uint32_t objtype, bool optional,
                                                               const char *field)
{
   if (dec->failed || !dec->disp)
      return NULL;
   if (!id) {
      if (!optional)
         vd_dec_fail(dec, field, "object id 0 (VK_NULL_HANDLE) where a %s is required",
                     vn_object_type_name(objtype));
      return NULL;
   }
   struct vd_dispatch *d = dec->disp;
   /* Command buffers record thousands of commands naming the same few objects: a small
    * cache saves the table's lock and the reference counting.  The cache's references
    * keep its objects alive; any removal from the table invalidates all of it. */
   const uint64_t removals = atomic_load_explicit(d->removals, memory_order_acquire);
   if (removals != d->lookup_cache_removals) {
      d->lookup_cache_removals = removals;
      if (!lookup_cache_flush_to(d, true)) {
         vd_dec_fail(dec, field, "out of memory");
         return NULL;
      }
   }
   const size_t n = sizeof(d->lookup_cache) / sizeof(d->lookup_cache[0]);
   const size_t slot = (size_t)((id ^ (id >> 4) ^ (id >> 12)) & (n - 1));
   struct vd_object *obj = d->lookup_cache[slot].obj;
   const bool cached = obj && d->lookup_cache[slot].id == id;
   if (!cached) {
      obj = vd_objtable_get(d->ctx->objects, id);
      if (!obj) {
         vd_dec_fail(dec, field, "unknown object id %" PRIu64, id);
         return NULL;
      }
   }
   if (obj->type != objtype) {
      vd_dec_fail(dec, field, "object id %" PRIu64 " is a %s (type %u), not a %s (type %u)", id,
                  vn_object_type_name(obj->type), obj->type, vn_object_type_name(objtype), objtype);
      if (!cached)
         vd_object_unref(obj);
      return NULL;
   }
   if (!cached) {
      /* The cache takes over the reference; the one it evicts is held until the command
       * ends, as the command may have looked it up already. */
      struct vd_object *old = d->lookup_cache[slot].obj;
      if (old && !hold(d, old)) {
         vd_object_unref(obj);
         vd_dec_fail(dec, field, "out of memory");
         return NULL;
      }
      d->lookup_cache[slot].id = id;
      d->lookup_cache[slot].obj = obj;
   }
   if (!push_looked(d, obj, field)) {
      vd_dec_fail(dec, field, "out of memory");
      return NULL;
   }
   return obj;
}

/* Command buffers name the same few objects thousands of times: a cached object of the
 * right type, with room in the looked-up list, takes no locks, calls or references. */
static inline struct vd_object *lookup(struct vd_decoder *dec, uint32_t objtype, bool optional,
                                       const char *field)
{
   const uint64_t id = vd_dec_u64(dec, field);
   struct vd_dispatch *d = dec->disp;
   if (__builtin_expect(!dec->failed && d && id, 1) &&
       atomic_load_explicit(d->removals, memory_order_acquire) == d->lookup_cache_removals) {
      const size_t n = sizeof(d->lookup_cache) / sizeof(d->lookup_cache[0]);
      const size_t slot = (size_t)((id ^ (id >> 4) ^ (id >> 12)) & (n - 1));
      struct vd_object *obj = d->lookup_cache[slot].obj;
      if (obj && d->lookup_cache[slot].id == id && obj->type == objtype &&
          d->looked_count < d->looked_cap) {
         d->looked_field[d->looked_count] = field;
         d->looked[d->looked_count++] = obj;
         return obj;
      }
   }
   return lookup_slow(dec, id, objtype, optional, field);
}

struct vd_object *vd_dispatch_looked(struct vd_dispatch *d, uint32_t type, uint64_t handle)
{
   for (uint32_t i = 0; i < d->looked_count; i++)
      if (d->looked[i]->type == type && d->looked[i]->handle == handle)
         return d->looked[i];
   return NULL;
}

uint64_t vd_dec_lookup(struct vd_decoder *dec, uint32_t objtype, bool optional, const char *field)
{
   if (!dec->disp) /* offline replay: keep the id */
      return vd_dec_u64(dec, field);
   struct vd_object *obj = lookup(dec, objtype, optional, field);
   return obj ? obj->handle : 0;
}

struct vd_object *vd_dec_lookup_obj(struct vd_decoder *dec, uint32_t objtype, const char *field)
{
   if (!dec->disp) {
      vd_dec_u64(dec, field);
      return NULL;
   }
   return lookup(dec, objtype, false, field);
}

struct vd_object *vd_dec_lookup_obj_optional(struct vd_decoder *dec, uint32_t objtype,
                                             const char *field)
{
   if (!dec->disp) {
      vd_dec_u64(dec, field);
      return NULL;
   }
   return lookup(dec, objtype, true, field);
}

uint64_t vd_dec_new_id(struct vd_decoder *dec, const char *field)
{
   const uint64_t id = vd_dec_u64(dec, field);
   if (!dec->failed && !id)
      vd_dec_fail(dec, field, "new object id is 0");
   return id;
}

/* Writes the reply of the command just handled into the current reply stream. */
static bool write_reply(struct vd_dispatch *d, const struct vn_command_info *info, const void *args)
{
   if (!d->reply_res) {
      vd_dispatch_fatal(d, "command asks for a reply but no reply stream is set");
      return false;
   }
   struct vd_encoder enc = {
      .cur = d->reply_res->ptr + d->reply_offset + d->reply_pos,
      .end = d->reply_res->ptr + d->reply_offset + d->reply_size,
   };
   uint8_t *start = enc.cur;
   info->reply(&enc, args);
   if (enc.failed) {
      vd_dispatch_fatal(
         d, "reply does not fit the reply stream (%" PRIu64 " of %" PRIu64 " bytes used)",
         d->reply_pos, d->reply_size);
      return false;
   }
   d->reply_pos += (uint64_t)(enc.cur - start);
   /* The guest reads the reply once it sees the ring head pass this command: the head
    * store has release semantics, which orders these writes before it. */
   return true;
}

static bool dispatch_run(struct vd_dispatch *d, const uint8_t *data, size_t size,
                         void (*on_done)(void *cookie, size_t consumed), void *cookie);

bool vd_dispatch_run(struct vd_dispatch *d, const uint8_t *data, size_t size,
                     void (*on_done)(void *cookie, size_t consumed), void *cookie)
{
   const bool nested = d->in_execute_streams;
   const bool ok = dispatch_run(d, data, size, on_done, cookie);
   /* Between batches the dispatcher holds no references: an idle ring must not keep
    * destroyed objects (and their memory) alive. */
   if (!nested) {
      lookup_cache_flush(d);
      release_held(d);
   }
   return ok;
}

static bool dispatch_run(struct vd_dispatch *d, const uint8_t *data, size_t size,
                         void (*on_done)(void *cookie, size_t consumed), void *cookie)
{
   struct vd_context *ctx = d->ctx;
   if (d->record) {
      uint32_t sz = (uint32_t)size;
      fwrite(&sz, 4, 1, d->record);
      fwrite(data, 1, size, d->record);
      fflush(d->record);
   }
   d->dec.cur = data;
   d->dec.end = data + size;
   d->dec.disp = d;
   d->dec.arena = &d->arena;
   d->dec.mesa25_only = ctx->params.protocol_level == VD_PROTOCOL_MESA25;
   while (d->dec.cur < d->dec.end) {
      if (atomic_load_explicit(&ctx->fatal, memory_order_relaxed))
         return false;
      d->dec.failed = false;
      d->dec.cmd = NULL;
      const uint32_t type = vd_dec_u32(&d->dec, "command type");
      const uint32_t flags = vd_dec_u32(&d->dec, "command flags");
      if (d->dec.failed) {
         vd_dispatch_fatal(d, "%s", d->dec.error);
         return false;
      }
      const struct vn_command_info *info = type < VN_COMMAND_TYPE_COUNT ? &vn_commands[type] : NULL;
      if (!info || !info->name) {
         vd_dispatch_fatal(d, "unknown command type %u", type);
         return false;
      }
      d->dec.cmd = info->name;
      char why[320];
      if (!vd_protocol_command_ok(d->ctx->params.protocol_level, type, info->name, why,
                                  sizeof(why))) {
         vd_dispatch_fatal(d, "%s", why);
         return false;
      }
      if (!info->decode || !info->handle) {
         vd_dispatch_fatal(d,
                           "%s is not served by this renderer (the guest handles it locally "
                           "in a correct driver)",
                           info->name);
         return false;
      }
      /* Inside vkExecuteCommandStreamsMESA the arena also holds that command's own
       * arguments: give back each inner command's memory rather than resetting. */
      const struct vd_arena_mark mark = vd_arena_mark(&d->arena);
      void *args = vd_arena_alloc(&d->arena, info->args_size);
      if (!args) {
         vd_dispatch_fatal(d, "out of memory");
         return false;
      }
      info->decode(&d->dec, args);
      if (d->dec.failed) {
         vd_dispatch_fatal(d, "%s", d->dec.error);
         release_held(d);
         vd_arena_reset(&d->arena);
         return false;
      }
      if (d->looked_count > 1 && !vd_holds_check_domains(d)) {
         release_held(d);
         vd_arena_reset(&d->arena);
         return false;
      }
      vd_trace(VD_CAT_DECODE, "ctx %u %s: %s%s", ctx->params.id, d->name, info->name,
               (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT) ? " (reply)" : "");
      /* The handler may re-enter vd_dispatch_run (vkExecuteCommandStreamsMESA), which
       * replaces the decoder window: save it. */
      const uint8_t *cur = d->dec.cur, *end = d->dec.end;
      const char *cmd = d->dec.cmd;
      info->handle(d, args);
      /* Marks balanced: the inner commands of vkExecuteCommandStreamsMESA gave back only
       * their own memory, so this command's arguments are still in the arena (a failing
       * inner decode resets it, but then the context is fatal). */
      assert(atomic_load(&ctx->fatal) || d->arena.used >= mark.used + info->args_size);
      d->dec.cur = cur;
      d->dec.end = end;
      d->dec.cmd = cmd;
      bool ok = !atomic_load(&ctx->fatal);
      if (ok && d->looked_count > 1 && vd_holds_is_record_command(type))
         vd_holds_record(d);
      if (ok && (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT))
         ok = write_reply(d, info, args);
      /* A destroy (here or on another ring) invalidates the lookup cache: drop it now, so
       * a destroyed object goes when the command that destroyed it ends, as without it. */
      const uint64_t removals = atomic_load_explicit(d->removals, memory_order_acquire);
      if (removals != d->lookup_cache_removals) {
         d->lookup_cache_removals = removals;
         lookup_cache_flush(d);
      }
      release_held(d);
      if (!d->in_execute_streams)
         vd_arena_reset(&d->arena);
      else
         vd_arena_release(&d->arena, &mark);
      if (!ok)
         return false;
      if (on_done)
         on_done(cookie, (size_t)(d->dec.cur - data));
   }
   return true;
}
