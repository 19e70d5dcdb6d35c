/* The dispatcher: decodes one command at a time with the generated decoders, runs its
 * handler, writes its reply into the reply stream, and turns any error into "context
 * fatal" with one log line naming context, dispatcher, command, field and reason. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "context/context_priv.h"
#include "context/protocol.h"
#include "util/clock.h"
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
   d->record_commands = vd_holds_record_commands();
   const struct vd_protocol *proto =
      vd_protocol_get(ctx ? ctx->params.protocol_level : VD_PROTOCOL_NEWEST);
   d->cmd_limit = proto->command_count;
   d->mesa_spec = proto->mesa_spec;
   d->all_specs = proto->mesa_spec >= VN_MESA_SPEC_VERSION;
   snprintf(d->name, sizeof(d->name), "%s", name);
   vd_arena_init(&d->arena, VD_DECODE_ARENA_MAX);
   if (ctx && ctx->params.opts && ctx->params.opts->stats) {
      d->stats = calloc(VN_COMMAND_TYPE_COUNT, sizeof(*d->stats));
      d->stats_since_ns = vd_now_ns();
   }
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

static inline void release_held(struct vd_dispatch *d)
{
   for (uint32_t i = 0; i < d->held_count; i++)
      vd_object_unref(d->held[i]);
   d->held_count = 0;
   d->looked_count = 0;
   if (__builtin_expect(d->looked_indexed != 0, 0)) {
      /* A big index (from a command that named thousands of objects) is not kept for the
       * next one, which would have to clear it. */
      if (d->looked_index_mask >= 4096) {
         free(d->looked_index);
         d->looked_index = NULL;
         d->looked_index_mask = 0;
      } else {
         memset(d->looked_index, 0, sizeof(*d->looked_index) * ((size_t)d->looked_index_mask + 1));
      }
      d->looked_indexed = 0;
   }
   if (__builtin_expect(d->create_bundle != NULL, 0)) {
      vd_object_unref(d->create_bundle);
      d->create_bundle = NULL;
   }
   d->created = 0;
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

/* --stats: one log line for the dispatcher, then one per command type among the ten that
 * took longest. */
static void stats_log(const struct vd_dispatch *d)
{
   uint64_t commands = 0;
   for (uint32_t t = 0; t < VN_COMMAND_TYPE_COUNT; t++)
      commands += d->stats[t].count;
   if (!commands)
      return;
   const unsigned id = d->ctx->params.id;
   const uint64_t wall = vd_now_ns() - d->stats_since_ns;
   vd_info(VD_CAT_CONTEXT,
           "stats: ctx %u %s: %" PRIu64 " commands in %.3f ms busy of %.3f ms (%.1f %%)", id,
           d->name, commands, (double)d->stats_busy_ns / 1e6, (double)wall / 1e6,
           wall ? 100.0 * (double)d->stats_busy_ns / (double)wall : 0.0);
   bool shown[VN_COMMAND_TYPE_COUNT] = { false };
   for (int rank = 0; rank < 10; rank++) {
      uint32_t best = VN_COMMAND_TYPE_COUNT;
      for (uint32_t t = 0; t < VN_COMMAND_TYPE_COUNT; t++)
         if (!shown[t] && d->stats[t].count &&
             (best == VN_COMMAND_TYPE_COUNT || d->stats[t].ns > d->stats[best].ns))
            best = t;
      if (best == VN_COMMAND_TYPE_COUNT)
         break;
      shown[best] = true;
      const struct vd_dispatch_stat *s = &d->stats[best];
      vd_info(VD_CAT_CONTEXT,
              "stats: ctx %u %s:   %-36s %10" PRIu64 " x %12.3f ms = %10.3f us each", id, d->name,
              vn_commands[best].name, s->count, (double)s->ns / 1e6,
              (double)s->ns / 1e3 / (double)s->count);
   }
}

void vd_dispatch_fini(struct vd_dispatch *d)
{
   if (d->stats) {
      stats_log(d);
      free(d->stats);
      d->stats = NULL;
   }
   lookup_cache_flush(d);
   release_held(d);
   free(d->held);
   d->held = NULL;
   free(d->looked);
   d->looked = NULL;
   free(d->looked_field);
   d->looked_field = NULL;
   free(d->looked_index);
   d->looked_index = NULL;
   d->looked_index_mask = 0;
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

/* The general lookup: everything the fast path (vd_dispatch_lookup, context_priv.h) does
 * not cover.  id has been read. */
struct vd_object *vd_dispatch_lookup_slow(struct vd_decoder *dec, uint64_t id, uint32_t objtype,
                                          bool optional, const char *field)
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
   const size_t slot = vd_lookup_slot(id);
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

/* Up to this many looked-up objects a search scans them; past it, it uses the index. */
#define LOOKED_SCAN 16

static inline size_t looked_slot(uint32_t type, uint64_t handle, uint32_t mask)
{
   const uint64_t h = (handle ^ ((uint64_t)type << 40)) * 0x9e3779b97f4a7c15ull;
   return (size_t)(h >> 32) & mask;
}

/* Adds looked[i] to the index unless an earlier entry has its type and handle (a search
 * finds the first, as a scan would). */
static void looked_index_add(struct vd_dispatch *d, uint32_t i)
{
   const struct vd_object *o = d->looked[i];
   size_t s = looked_slot(o->type, o->handle, d->looked_index_mask);
   for (; d->looked_index[s]; s = (s + 1) & d->looked_index_mask) {
      const struct vd_object *e = d->looked[d->looked_index[s] - 1];
      if (e->type == o->type && e->handle == o->handle)
         return;
   }
   d->looked_index[s] = i + 1;
}

/* Makes the index cover every looked-up object, at most half full; false when out of
 * memory (the caller scans). */
static bool looked_index_update(struct vd_dispatch *d)
{
   const size_t want = (size_t)d->looked_count * 2;
   if (!d->looked_index || want > (size_t)d->looked_index_mask + 1) {
      size_t cap = 64;
      while (cap < want)
         cap *= 2;
      uint32_t *index = calloc(cap, sizeof(*index));
      if (!index)
         return false;
      free(d->looked_index);
      d->looked_index = index;
      d->looked_index_mask = (uint32_t)(cap - 1);
      d->looked_indexed = 0;
   }
   while (d->looked_indexed < d->looked_count)
      looked_index_add(d, d->looked_indexed++);
   return true;
}

struct vd_object *vd_dispatch_looked(struct vd_dispatch *d, uint32_t type, uint64_t handle)
{
   if (d->looked_count > LOOKED_SCAN && looked_index_update(d)) {
      for (size_t s = looked_slot(type, handle, d->looked_index_mask); d->looked_index[s];
           s = (s + 1) & d->looked_index_mask) {
         struct vd_object *o = d->looked[d->looked_index[s] - 1];
         if (o->type == type && o->handle == handle)
            return o;
      }
      return NULL;
   }
   for (uint32_t i = 0; i < d->looked_count; i++)
      if (d->looked[i]->type == type && d->looked[i]->handle == handle)
         return d->looked[i];
   return NULL;
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

/* Arguments of at most this many bytes (every vkCmd* command's) are decoded on the stack:
 * zeroing them is a few stores, and the arena is left to the arrays. */
#define ARGS_ON_STACK 256

/* A destroy (here or on another ring) invalidates the lookup cache. */
static inline void lookup_cache_check(struct vd_dispatch *d)
{
   const uint64_t removals = atomic_load_explicit(d->removals, memory_order_acquire);
   if (__builtin_expect(removals != d->lookup_cache_removals, 0)) {
      d->lookup_cache_removals = removals;
      lookup_cache_flush(d);
   }
}

/* Every object the command named belongs to the device of its first one
 * (vd_holds_check_domains reports the first that does not). */
static inline bool domains_ok(struct vd_dispatch *d)
{
   const struct vd_object *dom = d->looked[0]->domain;
   if (!dom)
      return true;
   for (uint32_t i = 1; i < d->looked_count; i++) {
      const struct vd_object *o = d->looked[i]->domain;
      if (__builtin_expect(o && o != dom, 0))
         return vd_holds_check_domains(d);
   }
   return true;
}

/* A vkCmd* command's command buffer holds what it named; usually it holds all of it
 * already, which the objects' marks tell without a lock. */
static inline void record_holds(struct vd_dispatch *d)
{
   const struct vd_object *cb = d->looked[0];
   if (cb->type == VK_OBJECT_TYPE_COMMAND_BUFFER &&
       !vd_object_holds_all(cb, d->looked + 1, d->looked_count - 1))
      vd_holds_record(d);
}

/* The table entry of a command type, or NULL after making the context fatal. */
static inline const struct vn_command_info *command_info(struct vd_dispatch *d, uint32_t type)
{
   const struct vn_command_info *info = type < VN_COMMAND_TYPE_COUNT ? &vn_commands[type] : NULL;
   if (__builtin_expect(!info || !info->name, 0)) {
      vd_dispatch_fatal(d, "unknown command type %u", type);
      return NULL;
   }
   d->dec.cmd = info->name;
   /* The context's protocol has the command (vd_protocol_command_ok, inline). */
   if (__builtin_expect(type >= d->cmd_limit ||
                           (!d->all_specs && vn_command_mesa_spec(type) > d->mesa_spec),
                        0)) {
      char why[320];
      if (!vd_protocol_command_ok(d->ctx->params.protocol_level, type, info->name, why,
                                  sizeof(why))) {
         vd_dispatch_fatal(d, "%s", why);
         return NULL;
      }
   }
   if (__builtin_expect(!info->decode || !info->handle, 0)) {
      vd_dispatch_fatal(d,
                        "%s is not served by this renderer (the guest handles it locally "
                        "in a correct driver)",
                        info->name);
      return NULL;
   }
   return info;
}

/* Reads a command's header: its table entry, or NULL after making the context fatal. */
static const struct vn_command_info *decode_header(struct vd_dispatch *d, uint32_t *type,
                                                   uint32_t *flags)
{
   d->dec.failed = false;
   d->dec.cmd = NULL;
   if (__builtin_expect(vd_dec_remaining(&d->dec) >= 8, 1)) {
      memcpy(type, d->dec.cur, 4);
      memcpy(flags, d->dec.cur + 4, 4);
      d->dec.cur += 8;
      return command_info(d, *type);
   }
   *type = vd_dec_u32(&d->dec, "command type");
   *flags = vd_dec_u32(&d->dec, "command flags");
   if (d->dec.failed) {
      vd_dispatch_fatal(d, "%s", d->dec.error);
      return NULL;
   }
   return command_info(d, *type);
}

/* Decodes, checks and runs one command whose header has been read; false after making the
 * context fatal. */
static bool dispatch_one(struct vd_dispatch *d, const struct vn_command_info *info, uint32_t type,
                         uint32_t flags)
{
   struct vd_context *ctx = d->ctx;
   const uint64_t stats_t0 = __builtin_expect(d->stats != NULL, 0) ? vd_now_ns() : 0;
   lookup_cache_check(d);
   /* Inside vkExecuteCommandStreamsMESA the arena also holds that command's own
    * arguments: give back each inner command's memory rather than resetting. */
   const struct vd_arena_mark mark = vd_arena_mark(&d->arena);
   alignas(VD_ARENA_ALIGN) unsigned char stack_args[ARGS_ON_STACK];
   const bool on_stack = info->args_size <= ARGS_ON_STACK;
   void *args = stack_args;
   if (__builtin_expect(on_stack, 1))
      vd_arena_zero(stack_args,
                    (info->args_size + VD_ARENA_ALIGN - 1) & ~(size_t)(VD_ARENA_ALIGN - 1));
   else if (!(args = vd_arena_alloc(&d->arena, info->args_size))) {
      vd_dispatch_fatal(d, "out of memory");
      return false;
   }
   info->decode(&d->dec, args);
   if (__builtin_expect(d->dec.failed, 0)) {
      vd_dispatch_fatal(d, "%s", d->dec.error);
      release_held(d);
      vd_arena_reset(&d->arena);
      return false;
   }
   if (d->looked_count > 1 && !domains_ok(d)) {
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
   assert(atomic_load(&ctx->fatal) ||
          d->arena.used >= mark.used + (on_stack ? 0 : info->args_size));
   d->dec.cur = cur;
   d->dec.end = end;
   d->dec.cmd = cmd;
   bool ok = !atomic_load_explicit(&ctx->fatal, memory_order_relaxed);
   if (ok && d->looked_count > 1 && d->record_commands[type])
      record_holds(d);
   if (ok && (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT))
      ok = write_reply(d, info, args);
   /* Drop the cache now if this command destroyed something, so a destroyed object goes
    * when the command that destroyed it ends, as without the cache. */
   lookup_cache_check(d);
   release_held(d);
   if (!d->in_execute_streams)
      vd_arena_reset(&d->arena);
   else
      vd_arena_release(&d->arena, &mark);
   if (__builtin_expect(d->stats != NULL, 0)) {
      const uint64_t dt = vd_now_ns() - stats_t0;
      d->stats[type].count++;
      d->stats[type].ns += dt;
      if (!d->in_execute_streams)
         d->stats_busy_ns += dt;
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
      uint32_t type, flags;
      const struct vn_command_info *info = decode_header(d, &type, &flags);
      if (!info || !dispatch_one(d, info, type, flags))
         return false;
      if (on_done)
         on_done(cookie, (size_t)(d->dec.cur - data));
   }
   return true;
}
