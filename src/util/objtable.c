/* Object table: open addressing with linear probing, guarded by a rwlock.
 *
 * Slots hold the id, an insertion sequence number and the object; obj == NULL marks an
 * empty slot.  Removal uses backward-shift deletion, so there are no tombstones and a
 * lookup stops at the first empty slot.  The load factor is kept at or below 1/2. */
#include "objtable.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OBJTABLE_MIN_CAP 64

struct slot {
   uint64_t id;
   uint64_t seq; /* insertion order, for vd_objtable_destroy */
   struct vd_object *obj;
};

struct vd_objtable {
   pthread_rwlock_t lock;
   struct slot *slots;
   size_t mask; /* capacity - 1; capacity is a power of two */
   uint32_t count;
   uint64_t next_seq;
   _Atomic uint64_t removals; /* bumped by every successful remove */
};

/* Ids are often small sequential integers; mix them so they spread over the table.  This
 * is the 64-bit finalizer from SplitMix64. */
static size_t hash_id(uint64_t id)
{
   id ^= id >> 30;
   id *= 0xbf58476d1ce4e5b9ull;
   id ^= id >> 27;
   id *= 0x94d049bb133111ebull;
   id ^= id >> 31;
   return (size_t)id;
}

struct vd_objtable *vd_objtable_create(void)
{
   struct vd_objtable *t = calloc(1, sizeof(*t));
   if (!t)
      return NULL;
   t->slots = calloc(OBJTABLE_MIN_CAP, sizeof(*t->slots));
   if (!t->slots) {
      free(t);
      return NULL;
   }
   t->mask = OBJTABLE_MIN_CAP - 1;

   /* glibc's default rwlock prefers readers; with several rings looking objects up
    * constantly, a writer (create/destroy) could starve.  Prefer writers instead. */
   pthread_rwlockattr_t attr;
   pthread_rwlockattr_init(&attr);
#ifdef VD_PLATFORM_LINUX /* a glibc extension; elsewhere the system's default */
   pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
   int err = pthread_rwlock_init(&t->lock, &attr);
   pthread_rwlockattr_destroy(&attr);
   if (err) {
      free(t->slots);
      free(t);
      return NULL;
   }
   return t;
}

/* Returns the slot holding id, or NULL.  Caller holds the lock. */
static struct slot *find_slot(struct vd_objtable *t, uint64_t id)
{
   for (size_t i = hash_id(id) & t->mask;; i = (i + 1) & t->mask) {
      struct slot *s = &t->slots[i];
      if (!s->obj)
         return NULL;
      if (s->id == id)
         return s;
   }
}

/* Places an entry known to be absent; the table must have a free slot. */
static void place(struct slot *slots, size_t mask, const struct slot *entry)
{
   size_t i = hash_id(entry->id) & mask;
   while (slots[i].obj)
      i = (i + 1) & mask;
   slots[i] = *entry;
}

static bool grow(struct vd_objtable *t)
{
   size_t old_cap = t->mask + 1;
   if (old_cap > SIZE_MAX / 2 / sizeof(struct slot))
      return false;
   size_t new_cap = old_cap * 2;
   struct slot *slots = calloc(new_cap, sizeof(*slots));
   if (!slots)
      return false;
   for (size_t i = 0; i < old_cap; i++) {
      if (t->slots[i].obj)
         place(slots, new_cap - 1, &t->slots[i]);
   }
   free(t->slots);
   t->slots = slots;
   t->mask = new_cap - 1;
   return true;
}

/* Empties slot index `hole` and shifts later entries of the probe run back into it, so
 * that every remaining entry is still reachable from its home slot without gaps. */
static void erase_slot(struct vd_objtable *t, size_t hole)
{
   size_t j = hole;
   for (;;) {
      j = (j + 1) & t->mask;
      if (!t->slots[j].obj)
         break;
      size_t home = hash_id(t->slots[j].id) & t->mask;
      /* The entry at j may move to the hole only if its home is not cyclically within
       * (hole, j]; otherwise moving it would put it before its home slot. */
      bool home_in_range = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (home_in_range)
         continue;
      t->slots[hole] = t->slots[j];
      hole = j;
   }
   t->slots[hole].obj = NULL;
   t->slots[hole].id = 0;
   t->count--;
}

bool vd_objtable_insert(struct vd_objtable *t, struct vd_object *obj)
{
   if (!obj || obj->id == 0)
      return false;

   bool ok = false;
   pthread_rwlock_wrlock(&t->lock);
   if (find_slot(t, obj->id))
      goto out;
   /* Keep count + 1 <= capacity / 2. */
   if ((size_t)t->count + 1 > (t->mask + 1) / 2 && !grow(t))
      goto out;
   struct slot entry = { .id = obj->id, .seq = t->next_seq++, .obj = obj };
   place(t->slots, t->mask, &entry);
   t->count++;
   ok = true;
out:
   pthread_rwlock_unlock(&t->lock);
   return ok;
}

struct vd_object *vd_objtable_get(struct vd_objtable *t, uint64_t id)
{
   if (id == 0)
      return NULL;
   pthread_rwlock_rdlock(&t->lock);
   struct slot *s = find_slot(t, id);
   struct vd_object *obj = s ? s->obj : NULL;
   /* Taking the reference under the lock means a concurrent remove cannot drop the
    * table's reference (and free the object) between the lookup and the ref. */
   if (obj)
      vd_object_ref(obj);
   pthread_rwlock_unlock(&t->lock);
   return obj;
}

bool vd_objtable_remove(struct vd_objtable *t, uint64_t id)
{
   if (id == 0)
      return false;
   pthread_rwlock_wrlock(&t->lock);
   struct slot *s = find_slot(t, id);
   struct vd_object *obj = s ? s->obj : NULL;
   if (s) {
      erase_slot(t, (size_t)(s - t->slots));
      atomic_fetch_add_explicit(&t->removals, 1, memory_order_release);
   }
   pthread_rwlock_unlock(&t->lock);

   /* Outside the lock: the destroy callback may be slow or use the table itself. */
   if (obj)
      vd_object_unref(obj);
   return obj != NULL;
}

const _Atomic uint64_t *vd_objtable_removals_counter(struct vd_objtable *t)
{
   return &t->removals;
}

uint32_t vd_objtable_count(struct vd_objtable *t)
{
   pthread_rwlock_rdlock(&t->lock);
   uint32_t n = t->count;
   pthread_rwlock_unlock(&t->lock);
   return n;
}

void vd_objtable_foreach(struct vd_objtable *t, void (*fn)(struct vd_object *, void *), void *data)
{
   pthread_rwlock_rdlock(&t->lock);
   for (size_t i = 0; i <= t->mask; i++) {
      if (t->slots[i].obj)
         fn(t->slots[i].obj, data);
   }
   pthread_rwlock_unlock(&t->lock);
}

static int cmp_seq_desc(const void *pa, const void *pb)
{
   const struct slot *a = pa, *b = pb;
   return a->seq < b->seq ? 1 : a->seq > b->seq ? -1 : 0;
}

/* Removes and returns the most recently inserted record, or NULL if the table is empty. */
static struct vd_object *pop_newest(struct vd_objtable *t)
{
   pthread_rwlock_wrlock(&t->lock);
   size_t newest = SIZE_MAX;
   for (size_t i = 0; i <= t->mask; i++) {
      if (t->slots[i].obj && (newest == SIZE_MAX || t->slots[i].seq > t->slots[newest].seq))
         newest = i;
   }
   struct vd_object *obj = NULL;
   if (newest != SIZE_MAX) {
      obj = t->slots[newest].obj;
      erase_slot(t, newest);
   }
   pthread_rwlock_unlock(&t->lock);
   return obj;
}

void vd_objtable_destroy(struct vd_objtable *t)
{
   if (!t)
      return;

   /* Children are inserted after their parents, so dropping records newest first lets a
    * child's destroy callback still use its parent.  The records are taken out of the
    * table before any callback runs; a callback that looks into the table (e.g. removes
    * its children) finds it already empty. */
   pthread_rwlock_wrlock(&t->lock);
   size_t n = t->count;
   struct slot *records = n ? malloc(n * sizeof(*records)) : NULL;
   if (records) {
      size_t k = 0;
      for (size_t i = 0; i <= t->mask; i++) {
         if (t->slots[i].obj)
            records[k++] = t->slots[i];
      }
      assert(k == n);
      memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
      t->count = 0;
   }
   pthread_rwlock_unlock(&t->lock);

   if (records) {
      qsort(records, n, sizeof(*records), cmp_seq_desc);
      for (size_t i = 0; i < n; i++)
         vd_object_unref(records[i].obj);
      free(records);
   } else {
      /* Out of memory (or empty): quadratic, but still in the right order. */
      struct vd_object *obj;
      while ((obj = pop_newest(t)))
         vd_object_unref(obj);
   }

   pthread_rwlock_destroy(&t->lock);
   free(t->slots);
   free(t);
}

void vd_object_unref(struct vd_object *obj)
{
   if (!obj)
      return;
   /* acq_rel: release orders this holder's uses of the object before the decrement, and
    * the acquire half makes all holders' uses visible to destroy on the last one.  (A
    * plain release plus an acquire fence would do, but ThreadSanitizer ignores fences.) */
   int old = atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_acq_rel);
   assert(old > 0);
   if (old == 1 && obj->destroy)
      obj->destroy(obj);
}

/* -- holds ------------------------------------------------------------------------------ */

static void holds_lock(struct vd_holds *h)
{
   while (atomic_flag_test_and_set_explicit(&h->lock, memory_order_acquire))
      ;
}

static void holds_unlock(struct vd_holds *h)
{
   atomic_flag_clear_explicit(&h->lock, memory_order_release);
}

static size_t hash_ptr(const void *p)
{
   return hash_id((uint64_t)(uintptr_t)p);
}

static void holds_place(struct vd_hold *slots, size_t mask, struct vd_hold entry)
{
   size_t i = hash_ptr(entry.obj) & mask;
   while (slots[i].obj)
      i = (i + 1) & mask;
   slots[i] = entry;
}

static bool holds_grow(struct vd_holds *h)
{
   const size_t cap = h->slots ? (size_t)h->mask + 1 : 0;
   const size_t new_cap = cap ? cap * 2 : 16;
   if (new_cap > UINT32_MAX)
      return false;
   struct vd_hold *slots = calloc(new_cap, sizeof(*slots));
   if (!slots)
      return false;
   for (size_t i = 0; i < cap; i++)
      if (h->slots[i].obj)
         holds_place(slots, new_cap - 1, h->slots[i]);
   free(h->slots);
   h->slots = slots;
   h->mask = (uint32_t)(new_cap - 1);
   return true;
}

/* Tokens of sets of holds (struct vd_holds.token): never 0, never reused. */
static _Atomic uint64_t next_holds_token = 1;

bool vd_object_hold_many(struct vd_object *obj, struct vd_object *const *deps, uint32_t n)
{
   struct vd_holds *h = &obj->holds;
   bool ok = true;
   holds_lock(h);
   uint64_t token = atomic_load_explicit(&h->token, memory_order_relaxed);
   if (!token) {
      token = atomic_fetch_add_explicit(&next_holds_token, 1, memory_order_relaxed);
      atomic_store_explicit(&h->token, token, memory_order_relaxed);
   }
   for (uint32_t k = 0; k < n; k++) {
      struct vd_object *dep = deps[k];
      if (dep == obj || atomic_load_explicit(&dep->held_by, memory_order_relaxed) == token)
         continue;
      bool found = false;
      if (h->slots) {
         for (size_t i = hash_ptr(dep) & h->mask; h->slots[i].obj; i = (i + 1) & h->mask)
            if (h->slots[i].obj == dep) {
               found = true;
               break;
            }
      }
      if (!found) {
         /* Keep count + 1 <= capacity / 2. */
         if ((!h->slots || h->count + 1 > (h->mask + 1) / 2) && !holds_grow(h)) {
            ok = false;
            break;
         }
         vd_object_ref(dep);
         holds_place(h->slots, h->mask, (struct vd_hold){ dep, atomic_load(&dep->gen) });
         h->count++;
      }
      /* (after the insertion: the mark promises that this set holds dep) */
      atomic_store_explicit(&dep->held_by, token, memory_order_relaxed);
   }
   holds_unlock(h);
   return ok;
}

bool vd_object_hold(struct vd_object *obj, struct vd_object *dep)
{
   return vd_object_hold_many(obj, &dep, 1);
}

/* Empties obj's holds under the lock and drops their references outside it (a release may
 * destroy objects that hold others); returns the detached slot array, its capacity in
 * *cap, for the caller to free or give back. */
static struct vd_hold *holds_detach(struct vd_object *obj, size_t *cap)
{
   struct vd_holds *h = &obj->holds;
   holds_lock(h);
   struct vd_hold *slots = h->slots;
   *cap = slots ? (size_t)h->mask + 1 : 0;
   h->slots = NULL;
   h->mask = 0;
   h->count = 0;
   /* The marks that name the old token are stale from here on. */
   atomic_store_explicit(&h->token, 0, memory_order_relaxed);
   holds_unlock(h);
   for (size_t i = 0; i < *cap; i++)
      if (slots[i].obj)
         vd_object_unref(slots[i].obj);
   return slots;
}

void vd_object_release_holds(struct vd_object *obj)
{
   size_t cap;
   free(holds_detach(obj, &cap));
}

/* Slot arrays up to this many entries (16 bytes each) survive vd_object_clear_holds. */
#define HOLDS_KEEP_SLOTS 4096u

void vd_object_clear_holds(struct vd_object *obj)
{
   size_t cap;
   struct vd_hold *slots = holds_detach(obj, &cap);
   if (cap && cap <= HOLDS_KEEP_SLOTS) {
      /* Emptied, it goes back unless a hold taken meanwhile brought an array of its own;
       * the record's destroy frees it (vd_object_release_holds). */
      struct vd_holds *h = &obj->holds;
      memset(slots, 0, cap * sizeof(*slots));
      holds_lock(h);
      if (!h->slots) {
         h->slots = slots;
         h->mask = (uint32_t)(cap - 1);
         slots = NULL;
      }
      holds_unlock(h);
   }
   free(slots);
}

uint32_t vd_object_holds_copy(struct vd_object *obj, struct vd_hold *out, uint32_t max)
{
   struct vd_holds *h = &obj->holds;
   holds_lock(h);
   const uint32_t n = h->count;
   uint32_t k = 0;
   const size_t cap = h->slots ? (size_t)h->mask + 1 : 0;
   for (size_t i = 0; i < cap && k < max; i++) {
      if (h->slots[i].obj) {
         vd_object_ref(h->slots[i].obj);
         out[k++] = h->slots[i];
      }
   }
   holds_unlock(h);
   return n;
}
