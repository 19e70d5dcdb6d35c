/* Guest object ids -> host objects.
 *
 * Records are reference counted.  The table holds one reference; every lookup takes one
 * more, which the dispatcher drops when the command that looked it up is finished.  A
 * removed record is gone from the table at once (later lookups fail), but its destroy
 * callback, which releases the host object, runs only when the last reference is dropped.
 * So a destroy on one ring never frees an object that another ring is still using. */
#ifndef VD_UTIL_OBJTABLE_H
#define VD_UTIL_OBJTABLE_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vd_object;
typedef void (*vd_object_destroy_fn)(struct vd_object *obj);

/* The objects a record keeps alive (docs/design.md, "Lifetimes"): a set of references,
 * each with the generation its object had when it was taken. */
struct vd_hold {
   struct vd_object *obj;
   uint32_t gen;
};
struct vd_holds {
   atomic_flag lock;
   uint32_t count, mask; /* mask: capacity - 1, or 0 with no slots */
   struct vd_hold *slots;
   /* This set's token, unique in the process, while it holds anything (0 while empty): a
    * new one after every release, so a stale vd_object.held_by never matches. */
   _Atomic uint64_t token;
};

struct vd_object {
   uint64_t id;
   uint32_t type; /* VkObjectType */
   /* Family-specific flags, touched only by the thread recording the object: for a command
    * buffer, the pipelines bound since it was begun (vk/bind_state.c). */
   uint32_t state;
   uint64_t handle;              /* host handle (dispatchable handles cast to uint64) */
   struct vd_object *parent;     /* the instance / physical device / device it belongs to */
   void *data;                   /* family-specific record (struct vd_device *, ...) */
   vd_object_destroy_fn destroy; /* may be NULL */
   atomic_int refs;
   /* The VkDevice record (for a physical device: the VkInstance record) the object belongs
    * to; the record itself for a device or an instance.  Commands check it (dispatch.c). */
   struct vd_object *domain;
   atomic_uint pending; /* submissions using it that the host has not finished */
   atomic_uint gen;     /* bumped when the host object is freed or reset under the record */
   struct vd_holds holds;
   /* The token of the last set of holds (of another record) that took a reference on this
    * one: when it is a set's current token, that set holds this record, and recording a
    * command that names it again needs no lock or probe (dispatch.c). */
   _Atomic uint64_t held_by;
};

struct vd_objtable;

struct vd_objtable *vd_objtable_create(void);
/* Destroys every remaining record (in reverse insertion order), then the table. */
void vd_objtable_destroy(struct vd_objtable *t);

/* Inserts obj (refs must be 1, owned by the table).  Fails (returns false) for id 0 or an
 * id already present. */
bool vd_objtable_insert(struct vd_objtable *t, struct vd_object *obj);
/* Returns the record with a new reference, or NULL if absent. */
struct vd_object *vd_objtable_get(struct vd_objtable *t, uint64_t id);
/* Removes the record and drops the table's reference.  Returns false if absent. */
bool vd_objtable_remove(struct vd_objtable *t, uint64_t id);
/* Number of live records. */
uint32_t vd_objtable_count(struct vd_objtable *t);
/* How many removals the table has seen (read it with acquire): a cache of lookups is
 * valid while this is unchanged. */
const _Atomic uint64_t *vd_objtable_removals_counter(struct vd_objtable *t);
/* Calls fn for each record (under the table lock; fn must not call back into the table). */
void vd_objtable_foreach(struct vd_objtable *t, void (*fn)(struct vd_object *, void *), void *data);

static inline void vd_object_ref(struct vd_object *obj)
{
   /* Only a holder of a reference may take another: a record at 0 is being destroyed. */
   const int old = atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
   assert(old >= 1);
   (void)old;
}
void vd_object_unref(struct vd_object *obj);

/* Adds a reference on dep to obj's holds, unless obj already holds it (then the first
 * generation stays).  False only when out of memory. */
bool vd_object_hold(struct vd_object *obj, struct vd_object *dep);
/* The same for n objects under one lock (obj itself among them is skipped).  Marks each
 * dep as held by obj's set (held_by), which vd_object_holds_all() reads. */
bool vd_object_hold_many(struct vd_object *obj, struct vd_object *const *deps, uint32_t n);
/* Whether obj already holds each of deps, by the marks alone (no lock): false means "not
 * known", and vd_object_hold_many() then decides.  obj's holds must not be released
 * concurrently; only a guest that resets a command buffer on one ring while recording
 * into it on another could do that, and the host driver would race on it as well. */
static inline bool vd_object_holds_all(const struct vd_object *obj, struct vd_object *const *deps,
                                       uint32_t n)
{
   const uint64_t token = atomic_load_explicit(&obj->holds.token, memory_order_relaxed);
   if (!token)
      return false;
   for (uint32_t i = 0; i < n; i++)
      if (atomic_load_explicit(&deps[i]->held_by, memory_order_relaxed) != token)
         return false;
   return true;
}
/* Drops every reference obj holds. */
void vd_object_release_holds(struct vd_object *obj);
/* The same, but a small slot array stays allocated, empty, for the object's next holds: a
 * command buffer re-recorded after every reset takes the same holds again without growing
 * the array from nothing each time.  Only a record's destroy frees it. */
void vd_object_clear_holds(struct vd_object *obj);
/* Copies obj's holds into out (up to max entries, each with a new reference the caller
 * drops); returns how many there are (more than max: only max were copied). */
uint32_t vd_object_holds_copy(struct vd_object *obj, struct vd_hold *out, uint32_t max);

#endif
