/* Unit tests for src/util: log spec parsing and output, arena, object table. */
#include "unit.h"

#include "arena.h"
#include "log.h"
#include "objtable.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------- */
/* log */

static void reset_log(void)
{
   vd_log_configure("info");
   vd_log_set_thread_prefix(NULL);
}

UNIT_TEST(log_default_is_info)
{
   for (int c = 0; c < VD_CAT_COUNT; c++)
      UNIT_CHECK_EQ(vd_log_levels[c], VD_LOG_INFO);
   UNIT_CHECK(vd_log_enabled(VD_LOG_INFO, VD_CAT_RING));
   UNIT_CHECK(!vd_log_enabled(VD_LOG_DEBUG, VD_CAT_RING));
}

UNIT_TEST(log_spec_valid)
{
   UNIT_CHECK(vd_log_configure("info,ring=debug,decode=trace"));
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_MAIN], VD_LOG_INFO);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_RING], VD_LOG_DEBUG);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_DECODE], VD_LOG_TRACE);
   UNIT_CHECK(vd_log_enabled(VD_LOG_TRACE, VD_CAT_DECODE));
   UNIT_CHECK(!vd_log_enabled(VD_LOG_TRACE, VD_CAT_RING));

   /* Items apply left to right; a spec starts from the default, not the previous spec. */
   UNIT_CHECK(vd_log_configure("vk=error, warn ,memory=TRACE"));
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_VK], VD_LOG_WARN);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_MEMORY], VD_LOG_TRACE);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_RING], VD_LOG_WARN);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_DECODE], VD_LOG_WARN);

   UNIT_CHECK(vd_log_configure("transport=debug"));
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_TRANSPORT], VD_LOG_DEBUG);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_VK], VD_LOG_INFO);

   UNIT_CHECK(vd_log_configure("error"));
   for (int c = 0; c < VD_CAT_COUNT; c++)
      UNIT_CHECK_EQ(vd_log_levels[c], VD_LOG_ERROR);
   reset_log();
}

UNIT_TEST(log_spec_malformed_rejected_unchanged)
{
   static const char *const bad[] = {
      "",
      ",",
      "info,",
      ",info",
      "info,,debug",
      "verbose",
      "ring=",
      "=debug",
      "ring=loud",
      "gpu=debug",
      "ring=debug=x",
      "info ring",
      "ring==debug",
      "  ",
      "info,ring=debug,nope",
   };
   UNIT_CHECK(vd_log_configure("warn,context=trace"));
   int before[VD_CAT_COUNT];
   memcpy(before, vd_log_levels, sizeof(before));
   for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      UNIT_CHECK(!vd_log_configure(bad[i]));
      UNIT_CHECK(memcmp(before, vd_log_levels, sizeof(before)) == 0);
   }
   UNIT_CHECK(!vd_log_configure(NULL));
   reset_log();
}

UNIT_TEST(log_init_from_env)
{
   setenv("VENUSD_LOG", "error,vk=debug", 1);
   vd_log_init_from_env();
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_MAIN], VD_LOG_ERROR);
   UNIT_CHECK_EQ(vd_log_levels[VD_CAT_VK], VD_LOG_DEBUG);
   unsetenv("VENUSD_LOG");
   reset_log();
}

/* Runs vd_log_write with stderr redirected to a pipe; returns what was written. */
static size_t capture_log(char *out, size_t cap, enum vd_log_level lvl, enum vd_log_cat cat,
                          const char *msg)
{
   int fds[2];
   if (pipe(fds) != 0)
      return 0;
   int saved = dup(STDERR_FILENO);
   dup2(fds[1], STDERR_FILENO);
   vd_log(lvl, cat, "%s", msg);
   dup2(saved, STDERR_FILENO);
   close(saved);
   close(fds[1]);
   ssize_t n = read(fds[0], out, cap - 1);
   close(fds[0]);
   out[n > 0 ? n : 0] = '\0';
   return n > 0 ? (size_t)n : 0;
}

UNIT_TEST(log_line_format)
{
   char buf[8192], want[256];
   reset_log();

   capture_log(buf, sizeof(buf), VD_LOG_WARN, VD_CAT_RING, "hello 42");
   snprintf(want, sizeof(want), "venusd[%ld] WARN ring: hello 42\n", (long)getpid());
   UNIT_CHECK_STREQ(buf, want);

   /* A trailing newline in the message does not make an empty line. */
   vd_log_set_thread_prefix("ctx 3 vulkaninfo");
   capture_log(buf, sizeof(buf), VD_LOG_ERROR, VD_CAT_VK, "oops\n");
   snprintf(want, sizeof(want), "venusd[%ld] ERROR vk: [ctx 3 vulkaninfo] oops\n", (long)getpid());
   UNIT_CHECK_STREQ(buf, want);
   vd_log_set_thread_prefix(NULL);

   /* Filtered out: nothing written. */
   UNIT_CHECK_EQ(capture_log(buf, sizeof(buf), VD_LOG_DEBUG, VD_CAT_RING, "quiet"), 0u);

   /* Longer than the internal stack buffer: still one complete line. */
   char longmsg[3000];
   memset(longmsg, 'x', sizeof(longmsg) - 1);
   longmsg[sizeof(longmsg) - 1] = '\0';
   size_t n = capture_log(buf, sizeof(buf), VD_LOG_INFO, VD_CAT_MAIN, longmsg);
   snprintf(want, sizeof(want), "venusd[%ld] INFO main: ", (long)getpid());
   UNIT_CHECK_EQ(n, strlen(want) + sizeof(longmsg) - 1 + 1);
   UNIT_CHECK(strncmp(buf, want, strlen(want)) == 0);
   UNIT_CHECK_EQ(buf[n - 1], '\n');
   UNIT_CHECK_EQ(buf[n - 2], 'x');
}

/* ---------------------------------------------------------------------------------- */
/* arena */

UNIT_TEST(arena_alignment_and_zeroing)
{
   struct vd_arena a;
   vd_arena_init(&a, SIZE_MAX);
   static const size_t sizes[] = { 1, 3, 16, 17, 31, 100, 4096, 20000, 70000 };

   for (int round = 0; round < 3; round++) {
      for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
         unsigned char *p = vd_arena_alloc(&a, sizes[i]);
         UNIT_CHECK(p != NULL);
         UNIT_CHECK_EQ((uintptr_t)p % 16, 0u);
         for (size_t j = 0; j < sizes[i]; j++)
            UNIT_CHECK_EQ(p[j], 0);
         memset(p, 0xa5, sizes[i]); /* dirty it for the next round */
      }
      vd_arena_reset(&a);
   }
   vd_arena_fini(&a);
}

UNIT_TEST(arena_cap_returns_null)
{
   struct vd_arena a;
   vd_arena_init(&a, 1024);
   UNIT_CHECK(vd_arena_alloc(&a, 1000) != NULL);
   UNIT_CHECK(vd_arena_alloc(&a, 100) == NULL);
   UNIT_CHECK(vd_arena_alloc(&a, 24) != NULL); /* exactly at the cap */
   UNIT_CHECK(vd_arena_alloc(&a, 1) == NULL);
   UNIT_CHECK(vd_arena_alloc(&a, SIZE_MAX) == NULL);
   vd_arena_reset(&a);
   UNIT_CHECK(vd_arena_alloc(&a, 1024) != NULL);
   UNIT_CHECK(vd_arena_alloc(&a, 2000) == NULL);
   vd_arena_fini(&a);
}

UNIT_TEST(arena_alloc_array_overflow_and_zero)
{
   struct vd_arena a;
   vd_arena_init(&a, SIZE_MAX);
   UNIT_CHECK(vd_arena_alloc_array(&a, 16, UINT64_MAX / 8) == NULL);
   UNIT_CHECK(vd_arena_alloc_array(&a, SIZE_MAX, 2) == NULL);
   UNIT_CHECK(vd_arena_alloc_array(&a, 8, UINT64_MAX) == NULL);
   UNIT_CHECK(vd_arena_alloc_array(&a, 1, SIZE_MAX) == NULL);
   UNIT_CHECK(vd_arena_alloc_array(&a, 24, 0) != NULL);
   UNIT_CHECK(vd_arena_alloc(&a, 0) != NULL);

   uint32_t *v = vd_arena_alloc_array(&a, sizeof(uint32_t), 100);
   UNIT_CHECK(v != NULL);
   for (int i = 0; i < 100; i++)
      UNIT_CHECK_EQ(v[i], 0u);
   vd_arena_fini(&a);
}

/* What vkExecuteCommandStreamsMESA relies on: memory allocated before a mark survives a
 * release to it, memory allocated after it is reused (same addresses), and the arena's
 * use stays bounded however many commands run between resets. */
UNIT_TEST(arena_mark_release_keeps_earlier_and_reuses_later)
{
   struct vd_arena a;
   vd_arena_init(&a, 1u << 20);
   unsigned char *outer = vd_arena_alloc(&a, 100);
   UNIT_CHECK(outer != NULL);
   memset(outer, 0xab, 100);
   void *first_small = NULL, *first_large = NULL;
   for (int i = 0; i < 10000; i++) { /* 10000 x ~20 KiB would overrun the 1 MiB cap */
      const struct vd_arena_mark m = vd_arena_mark(&a);
      void *small = vd_arena_alloc(&a, 64);
      unsigned char *large = vd_arena_alloc(&a, 20000); /* a dedicated block */
      void *more = vd_arena_alloc(&a, 60000);           /* forces a new bump block */
      UNIT_CHECK(small != NULL && large != NULL && more != NULL);
      if (!small || !large || !more)
         break;
      UNIT_CHECK_EQ(large[19999], 0); /* reused memory is zeroed again */
      memset(large, 0xcd, 20000);
      if (i == 0) {
         first_small = small;
         first_large = large;
      } else {
         UNIT_CHECK(small == first_small);
         UNIT_CHECK(large == first_large);
      }
      vd_arena_release(&a, &m);
   }
   for (int i = 0; i < 100; i++)
      UNIT_CHECK_EQ(outer[i], 0xab);
   /* Releasing to a mark of an empty arena empties it. */
   vd_arena_reset(&a);
   const struct vd_arena_mark empty = vd_arena_mark(&a);
   UNIT_CHECK(vd_arena_alloc(&a, 500000) != NULL);
   vd_arena_release(&a, &empty);
   UNIT_CHECK(vd_arena_alloc(&a, 1u << 20) != NULL); /* the whole cap is free again */
   vd_arena_fini(&a);
}

#define WORKLOAD_N 400
/* Mixed small and large allocations, spanning several ordinary blocks. */
static void arena_workload(struct vd_arena *a, void **ptrs)
{
   for (int i = 0; i < WORKLOAD_N; i++) {
      size_t size = i % 50 == 7 ? 40000 + (size_t)i : 24 + (size_t)(i % 13) * 200;
      if (i == 123)
         size = 300000;
      ptrs[i] = vd_arena_alloc(a, size);
   }
}

UNIT_TEST(arena_reuses_blocks_after_reset)
{
   static void *first[WORKLOAD_N], *again[WORKLOAD_N];
   struct vd_arena a;
   vd_arena_init(&a, SIZE_MAX);

   arena_workload(&a, first);
   for (int i = 0; i < WORKLOAD_N; i++)
      UNIT_CHECK(first[i] != NULL);
   /* The same workload after a reset gets exactly the same memory back: every block is
    * reused, none is allocated anew. */
   for (int round = 0; round < 3; round++) {
      vd_arena_reset(&a);
      arena_workload(&a, again);
      for (int i = 0; i < WORKLOAD_N; i++)
         UNIT_CHECK(again[i] == first[i]);
   }

   /* A smaller workload after reset stays inside the first block. */
   vd_arena_reset(&a);
   UNIT_CHECK(vd_arena_alloc(&a, 64) == first[0]);

   /* Oversized blocks are not kept, but still work across resets. */
   vd_arena_reset(&a);
   unsigned char *big = vd_arena_alloc(&a, 3 << 20);
   UNIT_CHECK(big != NULL);
   memset(big, 1, 3 << 20);
   vd_arena_reset(&a);
   big = vd_arena_alloc(&a, 3 << 20);
   UNIT_CHECK(big != NULL);
   UNIT_CHECK_EQ(big[(3 << 20) - 1], 0);
   vd_arena_fini(&a);
}

/* ---------------------------------------------------------------------------------- */
/* objtable */

struct test_obj {
   struct vd_object base;
   int *destroyed; /* set to 1 by destroy, may be NULL */
};

static uint64_t destroy_order[64];
static int destroy_count;

static void test_obj_destroy(struct vd_object *obj)
{
   struct test_obj *o = (struct test_obj *)obj;
   if (destroy_count < 64)
      destroy_order[destroy_count] = obj->id;
   destroy_count++;
   if (o->destroyed)
      *o->destroyed = 1;
   free(o);
}

static struct vd_object *new_obj(uint64_t id, int *destroyed)
{
   struct test_obj *o = calloc(1, sizeof(*o));
   o->base.id = id;
   o->base.destroy = test_obj_destroy;
   atomic_init(&o->base.refs, 1);
   o->destroyed = destroyed;
   return &o->base;
}

UNIT_TEST(objtable_insert_get_remove)
{
   struct vd_objtable *t = vd_objtable_create();
   UNIT_CHECK(t != NULL);
   destroy_count = 0;

   struct vd_object *a = new_obj(7, NULL);
   UNIT_CHECK(vd_objtable_insert(t, a));
   UNIT_CHECK_EQ(vd_objtable_count(t), 1u);

   /* Duplicate id and id 0 are rejected and leave the table alone. */
   struct vd_object *dup = new_obj(7, NULL);
   UNIT_CHECK(!vd_objtable_insert(t, dup));
   struct vd_object *zero = new_obj(0, NULL);
   UNIT_CHECK(!vd_objtable_insert(t, zero));
   UNIT_CHECK_EQ(vd_objtable_count(t), 1u);
   vd_object_unref(dup);
   vd_object_unref(zero);
   UNIT_CHECK_EQ(destroy_count, 2);

   UNIT_CHECK(vd_objtable_get(t, 0) == NULL);
   UNIT_CHECK(vd_objtable_get(t, 8) == NULL);

   /* get takes a reference. */
   struct vd_object *g = vd_objtable_get(t, 7);
   UNIT_CHECK(g == a);
   UNIT_CHECK_EQ(atomic_load(&a->refs), 2);
   vd_object_unref(g);
   UNIT_CHECK_EQ(atomic_load(&a->refs), 1);

   UNIT_CHECK(vd_objtable_remove(t, 7));
   UNIT_CHECK(!vd_objtable_remove(t, 7));
   UNIT_CHECK_EQ(vd_objtable_count(t), 0u);
   UNIT_CHECK_EQ(destroy_count, 3);
   vd_objtable_destroy(t);
}

UNIT_TEST(objtable_remove_defers_destroy_to_last_unref)
{
   struct vd_objtable *t = vd_objtable_create();
   int destroyed = 0;
   struct vd_object *a = new_obj(42, &destroyed);
   UNIT_CHECK(vd_objtable_insert(t, a));

   struct vd_object *held = vd_objtable_get(t, 42);
   struct vd_object *held2 = vd_objtable_get(t, 42);
   UNIT_CHECK(held == a && held2 == a);

   UNIT_CHECK(vd_objtable_remove(t, 42));
   UNIT_CHECK(vd_objtable_get(t, 42) == NULL); /* gone from the table at once */
   UNIT_CHECK_EQ(destroyed, 0);                /* but still alive for its holders */
   vd_object_unref(held);
   UNIT_CHECK_EQ(destroyed, 0);
   vd_object_unref(held2);
   UNIT_CHECK_EQ(destroyed, 1);

   /* The id can be reused after removal. */
   UNIT_CHECK(vd_objtable_insert(t, new_obj(42, NULL)));
   vd_objtable_destroy(t);
}

UNIT_TEST(objtable_destroy_reverse_insertion_order)
{
   static const uint64_t ids[] = { 5, 3, 900, 1, 77, 2, 1u << 20, 64, 128 };
   const int n = (int)(sizeof(ids) / sizeof(ids[0]));
   struct vd_objtable *t = vd_objtable_create();
   destroy_count = 0;
   for (int i = 0; i < n; i++)
      UNIT_CHECK(vd_objtable_insert(t, new_obj(ids[i], NULL)));
   /* Removing and re-inserting moves a record to the end of the order. */
   UNIT_CHECK(vd_objtable_remove(t, 3));
   UNIT_CHECK(vd_objtable_insert(t, new_obj(3, NULL)));
   destroy_count = 0;

   vd_objtable_destroy(t);
   UNIT_CHECK_EQ(destroy_count, n);
   UNIT_CHECK_EQ(destroy_order[0], 3u);
   int k = 1;
   for (int i = n - 1; i >= 0; i--) {
      if (ids[i] == 3)
         continue;
      UNIT_CHECK_EQ(destroy_order[k], ids[i]);
      k++;
   }
}

static void count_fn(struct vd_object *obj, void *data)
{
   (void)obj;
   (*(int *)data)++;
}

UNIT_TEST(objtable_many_records)
{
   /* Enough to grow the table several times and exercise deletion in long probe runs. */
   enum {
      N = 20000
   };
   struct vd_objtable *t = vd_objtable_create();
   for (uint64_t id = 1; id <= N; id++)
      UNIT_CHECK(vd_objtable_insert(t, new_obj(id * 3, NULL)));
   UNIT_CHECK_EQ(vd_objtable_count(t), (uint32_t)N);
   for (uint64_t id = 1; id <= N; id += 2)
      UNIT_CHECK(vd_objtable_remove(t, id * 3));
   UNIT_CHECK_EQ(vd_objtable_count(t), (uint32_t)(N / 2));
   for (uint64_t id = 1; id <= N; id++) {
      struct vd_object *o = vd_objtable_get(t, id * 3);
      if (id % 2) {
         UNIT_CHECK(o == NULL);
      } else {
         UNIT_CHECK(o != NULL);
         UNIT_CHECK_EQ(o->id, id * 3);
         vd_object_unref(o);
      }
      UNIT_CHECK(vd_objtable_get(t, id * 3 + 1) == NULL);
   }
   int visited = 0;
   vd_objtable_foreach(t, count_fn, &visited);
   UNIT_CHECK_EQ(visited, N / 2);
   vd_objtable_destroy(t);
}

/* Stress: readers look up and release random ids while a writer removes and re-inserts.
 * Use-after-free would show under ASan, races under TSan. */
enum {
   STRESS_IDS = 256,
   STRESS_READERS = 4
};

struct stress_obj {
   struct vd_object base;
   uint64_t magic;
};

static atomic_int stress_created, stress_destroyed;

static void stress_destroy(struct vd_object *obj)
{
   struct stress_obj *o = (struct stress_obj *)obj;
   o->magic = 0;
   atomic_fetch_add(&stress_destroyed, 1);
   free(o);
}

static struct vd_object *stress_new(uint64_t id)
{
   struct stress_obj *o = calloc(1, sizeof(*o));
   o->base.id = id;
   o->base.destroy = stress_destroy;
   o->magic = id ^ 0x5a5a5a5a5a5a5a5aull;
   atomic_init(&o->base.refs, 1);
   atomic_fetch_add(&stress_created, 1);
   return &o->base;
}

struct stress_ctx {
   struct vd_objtable *t;
   uint64_t seed;
   int iters;
   atomic_int bad; /* readers' mismatches */
   uint32_t expected_count;
};

static uint64_t xorshift(uint64_t *s)
{
   *s ^= *s << 13;
   *s ^= *s >> 7;
   *s ^= *s << 17;
   return *s;
}

static void *stress_reader(void *arg)
{
   struct stress_ctx *c = arg;
   uint64_t s = c->seed + (uint64_t)pthread_self();
   if (!s)
      s = 1;
   for (int i = 0; i < c->iters; i++) {
      uint64_t id = 1 + xorshift(&s) % (STRESS_IDS * 2);
      struct vd_object *o = vd_objtable_get(c->t, id);
      if (!o)
         continue;
      struct stress_obj *so = (struct stress_obj *)o;
      if (o->id != id || so->magic != (id ^ 0x5a5a5a5a5a5a5a5aull))
         atomic_fetch_add(&c->bad, 1);
      vd_object_unref(o);
   }
   return NULL;
}

static void *stress_writer(void *arg)
{
   struct stress_ctx *c = arg;
   bool present[STRESS_IDS * 2 + 1] = { 0 };
   uint32_t count = 0;
   uint64_t s = 88172645463325252ull;
   for (uint64_t id = 1; id <= STRESS_IDS * 2; id += 2) {
      present[id] = true;
      count++;
   }
   for (int i = 0; i < c->iters; i++) {
      uint64_t id = 1 + xorshift(&s) % (STRESS_IDS * 2);
      if (present[id]) {
         if (!vd_objtable_remove(c->t, id))
            atomic_fetch_add(&c->bad, 1);
         present[id] = false;
         count--;
      } else {
         struct vd_object *o = stress_new(id);
         if (!vd_objtable_insert(c->t, o)) {
            atomic_fetch_add(&c->bad, 1);
            vd_object_unref(o);
         } else {
            present[id] = true;
            count++;
         }
      }
   }
   c->expected_count = count;
   return NULL;
}

UNIT_TEST(objtable_concurrent_stress)
{
   struct stress_ctx c = { .t = vd_objtable_create(), .seed = 12345 };
   atomic_init(&c.bad, 0);
   atomic_store(&stress_created, 0);
   atomic_store(&stress_destroyed, 0);
   UNIT_CHECK(c.t != NULL);
   /* The writer's initial view: every odd id present. */
   for (uint64_t id = 1; id <= STRESS_IDS * 2; id += 2)
      UNIT_CHECK(vd_objtable_insert(c.t, stress_new(id)));

   pthread_t readers[STRESS_READERS], writer;
   c.iters = 100000;
   for (int i = 0; i < STRESS_READERS; i++)
      UNIT_CHECK(pthread_create(&readers[i], NULL, stress_reader, &c) == 0);
   /* Fewer writer iterations: writes take the exclusive lock. */
   struct stress_ctx wc = { .t = c.t, .iters = 20000 };
   atomic_init(&wc.bad, 0);
   UNIT_CHECK(pthread_create(&writer, NULL, stress_writer, &wc) == 0);
   for (int i = 0; i < STRESS_READERS; i++)
      pthread_join(readers[i], NULL);
   pthread_join(writer, NULL);

   UNIT_CHECK_EQ(atomic_load(&c.bad), 0);
   UNIT_CHECK_EQ(atomic_load(&wc.bad), 0);
   UNIT_CHECK_EQ(vd_objtable_count(c.t), wc.expected_count);
   UNIT_CHECK_EQ(atomic_load(&stress_created) - atomic_load(&stress_destroyed),
                 (int)wc.expected_count);
   vd_objtable_destroy(c.t);
   UNIT_CHECK_EQ(atomic_load(&stress_created), atomic_load(&stress_destroyed));
}

UNIT_MAIN()
