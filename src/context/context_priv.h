/* Internals shared by the context, its dispatchers, rings and the Vulkan handlers. */
#ifndef VD_CONTEXT_PRIV_H
#define VD_CONTEXT_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "context/context.h"
#include "context/cs.h"
#include "context/limits.h"
#include "util/arena.h"
#include "util/objtable.h"

struct vd_context;
struct vd_ring;
struct vd_queue;

/* A shared-memory or exported resource, known to the guest by res_id.  Kept in the
 * context's resource table (an objtable with type VD_OBJECT_TYPE_RESOURCE); rings and reply
 * streams hold references, so an early RESOURCE_UNREF never unmaps memory still in use. */
#define VD_OBJECT_TYPE_RESOURCE 0x7fff0001u
struct vd_resource {
   struct vd_object obj;   /* id = res_id, data = self */
   struct vd_context *ctx; /* for the limits it is charged to */
   uint64_t blob_bytes;    /* charged to VD_LIMIT_BLOB_BYTES */
   int fd;
   enum vd_fd_type fd_type;
   uint8_t *ptr; /* mapping, or NULL if not mappable */
   uint64_t size;
};

/* A dispatcher decodes and executes one command stream at a time: the virtqueue's, or a
 * ring's.  Each has its own arena, reply stream and held references. */
struct vd_dispatch {
   struct vd_context *ctx;
   struct vd_ring *ring; /* NULL for the virtqueue */
   char name[32];        /* "virtqueue" / "ring 2" */
   struct vd_arena arena;
   struct vd_decoder dec;
   /* reply stream */
   struct vd_resource *reply_res;
   uint64_t reply_offset, reply_size, reply_pos;
   /* references to be dropped when the current command ends */
   struct vd_object **held;
   uint32_t held_count, held_cap;
   /* every object the current command looked up, in order (no references of its own:
    * the lookup cache or `held` keeps them alive); handlers that act on "the objects
    * named by this command" (vkFreeCommandBuffers, ...) read it */
   struct vd_object **looked;
   const char **looked_field; /* the field each was named by (looked_cap entries) */
   uint32_t looked_count, looked_cap;
   /* A hash index of `looked` by type and handle, for commands that name many objects (a
    * batch of descriptor writes or set allocations): slots hold positions + 1.  Built and
    * extended by vd_dispatch_looked, emptied with `looked`. */
   uint32_t *looked_index;
   uint32_t looked_index_mask; /* slots - 1 */
   uint32_t looked_indexed;    /* looked[0, looked_indexed) are in the index */
   /* The objects the current command named, held once for the second and later objects it
    * creates (vd_object_add); dropped when the command ends. */
   struct vd_object *create_bundle;
   uint32_t created;   /* objects the current command has created */
   bool created_named; /* the first of them held some of the objects the command named */
   /* Recent lookups, each holding a reference, valid while the object table has seen no
    * removal; dropped at the end of every top-level vd_dispatch_run (dispatch.c). */
   struct {
      uint64_t id;
      struct vd_object *obj;
   } lookup_cache[8];
   uint64_t lookup_cache_removals;
   const _Atomic uint64_t *removals; /* the object table's removal counter */
   const bool *record_commands;      /* vd_holds_record_commands() */
   /* The context's protocol level, for the per-command check: command types below
    * cmd_limit, and (unless every spec is in) a spec of at most mesa_spec (protocol.c). */
   uint32_t cmd_limit, mesa_spec;
   bool all_specs;
   bool in_execute_streams;
   FILE *record;
   /* --stats: per command type, how many and the nanoseconds from the start of decoding to
    * the end of the reply (NULL without --stats); the top-level commands' total; since */
   struct vd_dispatch_stat {
      uint64_t count, ns;
   } * stats;
   uint64_t stats_busy_ns, stats_since_ns;
};

struct vd_context {
   struct vd_context_params params;
   char name[64];
   atomic_bool fatal;
   char fatal_reason[480];        /* the first fatal error: dispatcher, command, field, reason */
   struct vd_objtable *objects;   /* guest Vulkan objects */
   struct vd_objtable *resources; /* res_id -> struct vd_resource */
   struct vd_dispatch vq;         /* the virtqueue dispatcher */

   pthread_mutex_t ring_mutex;
   pthread_cond_t ring_cond; /* ring progress, virtqueue seqnos */
   struct vd_ring *rings;

   pthread_t monitor_thread;
   bool monitor_running;
   bool monitor_stop;
   uint32_t monitor_period_us; /* smallest requested */
   pthread_cond_t monitor_cond;

   pthread_mutex_t timeline_mutex;
   struct vd_queue *timeline_queue[VD_MAX_TIMELINES];
   atomic_uint emulation_logged; /* vk/emulation.c: emulations already logged */
   struct vd_limits limits;      /* what the context holds of each limit (limits.c) */
   uint32_t record_seq;
};

/* Dispatcher */
void vd_dispatch_init(struct vd_dispatch *d, struct vd_context *ctx, struct vd_ring *ring,
                      const char *name);
void vd_dispatch_fini(struct vd_dispatch *d);
/* Executes every command in [data, data+size).  After each command, if on_done is given,
 * calls it with the number of bytes consumed so far.  Returns false on a fatal error (the
 * context has been marked fatal and the error logged). */
bool vd_dispatch_run(struct vd_dispatch *d, const uint8_t *data, size_t size,
                     void (*on_done)(void *cookie, size_t consumed), void *cookie);
/* Makes the context fatal, naming the dispatcher, command and reason. */
void vd_dispatch_fatal(struct vd_dispatch *d, const char *fmt, ...)
   __attribute__((format(printf, 2, 3)));
void vd_context_set_fatal(struct vd_context *ctx);

/* -- Lookups: the decoders' fast path (dispatch.c has the rest) ----------------------- */

static inline size_t vd_lookup_slot(uint64_t id)
{
   const size_t n = sizeof(((struct vd_dispatch *)0)->lookup_cache) /
                    sizeof(((struct vd_dispatch *)0)->lookup_cache[0]);
   return (size_t)((id ^ (id >> 4) ^ (id >> 12)) & (n - 1));
}

/* id has been read: everything the fast path does not cover (errors, misses, growth). */
struct vd_object *vd_dispatch_lookup_slow(struct vd_decoder *dec, uint64_t id, uint32_t objtype,
                                          bool optional, const char *field);

/* The record of object `id` (read by the caller), or NULL with the decoder failed (or for
 * id 0 when optional).  The record stays referenced until the command is finished (by the
 * lookup cache, or the held list) and is appended to the command's looked-up objects.
 * Command buffers name the same few objects thousands of times: a cached object of the
 * right type, with room in the looked-up list, costs a few loads and two stores, no lock or
 * reference.  (A cache entry has an object exactly when its id is not 0, and the cache is
 * emptied whenever the object table has seen a removal since it was filled: dispatch.c
 * checks before and after each command.) */
#define VD_HOT static inline __attribute__((always_inline))
VD_HOT struct vd_object *vd_dispatch_lookup_id(struct vd_decoder *dec, uint64_t id,
                                               uint32_t objtype, bool optional, const char *field)
{
   struct vd_dispatch *d = dec->disp;
   const size_t slot = vd_lookup_slot(id);
   struct vd_object *obj = d->lookup_cache[slot].obj;
   if (__builtin_expect(obj && d->lookup_cache[slot].id == id && obj->type == objtype &&
                           d->looked_count < d->looked_cap,
                        1)) {
      d->looked_field[d->looked_count] = field;
      d->looked[d->looked_count++] = obj;
      return obj;
   }
   return vd_dispatch_lookup_slow(dec, id, objtype, optional, field);
}

/* The host handle of an existing object (0 for an optional id 0).  Offline (replay, no
 * dispatcher) the id itself. */
VD_HOT uint64_t vd_dec_lookup(struct vd_decoder *dec, uint32_t objtype, bool optional,
                              const char *field)
{
   const uint64_t id = vd_dec_u64(dec, field);
   if (!dec->disp)
      return id;
   struct vd_object *obj = vd_dispatch_lookup_id(dec, id, objtype, optional, field);
   return obj ? obj->handle : 0;
}

/* The record of an existing object (NULL offline). */
VD_HOT struct vd_object *vd_dec_lookup_obj(struct vd_decoder *dec, uint32_t objtype,
                                           const char *field)
{
   const uint64_t id = vd_dec_u64(dec, field);
   return dec->disp ? vd_dispatch_lookup_id(dec, id, objtype, false, field) : NULL;
}

/* Same, but id 0 is allowed (returns NULL). */
VD_HOT struct vd_object *vd_dec_lookup_obj_optional(struct vd_decoder *dec, uint32_t objtype,
                                                    const char *field)
{
   const uint64_t id = vd_dec_u64(dec, field);
   return dec->disp ? vd_dispatch_lookup_id(dec, id, objtype, true, field) : NULL;
}

/* vd_dec_lookup and vd_dec_lookup_obj of an id at `at`, inside bytes the caller has already
 * bounds-checked and consumed (the generated fast paths; only with a dispatcher). */
VD_HOT uint64_t vd_dec_lookup_at(struct vd_decoder *dec, const uint8_t *at, uint32_t objtype,
                                 bool optional, const char *field)
{
   uint64_t id;
   memcpy(&id, at, sizeof(id));
   struct vd_object *obj = vd_dispatch_lookup_id(dec, id, objtype, optional, field);
   return obj ? obj->handle : 0;
}

VD_HOT struct vd_object *vd_dec_lookup_obj_at(struct vd_decoder *dec, const uint8_t *at,
                                              uint32_t objtype, const char *field)
{
   uint64_t id;
   memcpy(&id, at, sizeof(id));
   return vd_dispatch_lookup_id(dec, id, objtype, false, field);
}
#undef VD_HOT

/* Resources */
struct vd_resource *vd_context_get_resource(struct vd_context *ctx, uint32_t res_id);
void vd_resource_unref(struct vd_resource *res);

/* Rings (ring.c) */
bool vd_ring_create(struct vd_dispatch *d, uint64_t ring_id, const void *create_info);
void vd_ring_destroy(struct vd_context *ctx, uint64_t ring_id);
bool vd_ring_notify(struct vd_context *ctx, uint64_t ring_id);
bool vd_ring_submit_virtqueue_seqno(struct vd_context *ctx, uint64_t ring_id, uint64_t seqno);
bool vd_ring_wait_virtqueue_seqno(struct vd_dispatch *d, uint64_t seqno);
bool vd_ring_wait_seqno(struct vd_dispatch *d, uint64_t ring_id, uint64_t seqno);
/* The object of `type` with host handle `handle` that the current command looked up, or
 * NULL: how handlers find the records behind the host handles in their arguments. */
struct vd_object *vd_dispatch_looked(struct vd_dispatch *d, uint32_t type, uint64_t handle);
/* The ring is being destroyed or its context is fatal: blocking handlers give up. */
bool vd_ring_stopping(struct vd_ring *ring);
bool vd_ring_write_extra(struct vd_dispatch *d, uint64_t ring_id, uint64_t offset, uint32_t value);
void vd_rings_destroy_all(struct vd_context *ctx);
void vd_rings_set_fatal(struct vd_context *ctx);

/* Objects */
/* Adds a host object under the guest id; on a duplicate id the context goes fatal and the
 * caller must destroy the host object (returns false). */
struct vd_object *vd_object_add(struct vd_dispatch *d, uint64_t id, uint32_t type, uint64_t handle,
                                struct vd_object *parent, void *data, vd_object_destroy_fn destroy);
bool vd_object_remove(struct vd_dispatch *d, uint64_t id);

/* Holds (context/holds.c; the lifetime rule: vk/lifetime.c, docs/design.md "Lifetimes"). */
/* Every object the command names belongs to the device (or instance) of its first
 * parameter; false after making the context fatal. */
bool vd_holds_check_domains(struct vd_dispatch *d);
/* A vkCmd* command was recorded: its command buffer holds what the command named. */
void vd_holds_record(struct vd_dispatch *d);
/* By command type, whether it records into a command buffer (a vkCmd* command). */
const bool *vd_holds_record_commands(void);
/* Every record whose type is in `types` (a mask of 1 << VkObjectType, types below 64),
 * each with a reference the caller drops (vd_object_unref), in a malloc'ed array the
 * caller frees; NULL with *count 0 when there are none or memory is short. */
struct vd_object **vd_objects_collect(struct vd_context *ctx, uint64_t types, uint32_t *count);
/* Context teardown: drops the holds of every command buffer and descriptor set. */
void vd_holds_release_all(struct vd_context *ctx);

#endif
