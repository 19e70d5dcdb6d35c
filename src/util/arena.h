/* A bump allocator for per-command decode storage.  Blocks are kept across resets, so a
 * steady-state dispatcher does not call malloc.  All memory is zeroed and 16-byte
 * aligned.  Allocations past max_bytes (total live bytes) fail with NULL. */
#ifndef VD_UTIL_ARENA_H
#define VD_UTIL_ARENA_H

#include <assert.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VD_ARENA_ALIGN 16

/* Internal to arena.c except for the inline fast paths below. */
struct vd_arena_block {
   struct vd_arena_block *next;
   size_t cap; /* usable bytes at data */
   size_t pos; /* bytes handed out from data */
   alignas(VD_ARENA_ALIGN) unsigned char data[];
};

struct vd_arena {
   struct vd_arena_block *head; /* current block */
   struct vd_arena_block *free; /* blocks kept after reset */
   size_t used;                 /* bytes handed out since the last reset */
   size_t max_bytes;
};

void vd_arena_init(struct vd_arena *a, size_t max_bytes);
void vd_arena_fini(struct vd_arena *a);
void *vd_arena_alloc_slow(struct vd_arena *a, size_t size);

/* Zeroes `rounded` bytes (a multiple of VD_ARENA_ALIGN) at the aligned p.  Most decoded
 * arguments are a few dozen bytes, for which a libc memset call costs more than the
 * stores: those sizes get fixed-size stores the compiler inlines. */
static inline __attribute__((always_inline)) void vd_arena_zero(unsigned char *p, size_t rounded)
{
   switch (rounded / VD_ARENA_ALIGN) {
   case 4: memset(p + 48, 0, VD_ARENA_ALIGN); /* fall through */
   case 3: memset(p + 32, 0, VD_ARENA_ALIGN); /* fall through */
   case 2: memset(p + 16, 0, VD_ARENA_ALIGN); /* fall through */
   case 1: memset(p, 0, VD_ARENA_ALIGN); break;
   default: memset(p, 0, rounded); break;
   }
}

/* Decoding allocates two or three small zeroed objects per command: those come from the
 * current block inline; everything else goes through vd_arena_alloc_slow. */
static inline __attribute__((always_inline)) void *vd_arena_alloc(struct vd_arena *a, size_t size)
{
   struct vd_arena_block *h = a->head;
   const size_t rounded = (size + VD_ARENA_ALIGN - 1) & ~(size_t)(VD_ARENA_ALIGN - 1);
   if (__builtin_expect(h && size - 1 < 64 && h->cap - h->pos >= rounded &&
                           (!a->max_bytes || a->used + size <= a->max_bytes),
                        1)) {
      unsigned char *p = h->data + h->pos;
      h->pos += rounded;
      a->used += size;
      vd_arena_zero(p, rounded);
      return p;
   }
   return vd_arena_alloc_slow(a, size);
}
/* The same without zeroing, for memory the caller overwrites at once. */
static inline __attribute__((always_inline)) void *vd_arena_alloc_uninit(struct vd_arena *a,
                                                                         size_t size)
{
   struct vd_arena_block *h = a->head;
   const size_t rounded = (size + VD_ARENA_ALIGN - 1) & ~(size_t)(VD_ARENA_ALIGN - 1);
   if (__builtin_expect(h && size - 1 < 4096 && h->cap - h->pos >= rounded &&
                           (!a->max_bytes || a->used + size <= a->max_bytes),
                        1)) {
      unsigned char *p = h->data + h->pos;
      h->pos += rounded;
      a->used += size;
      return p;
   }
   return vd_arena_alloc_slow(a, size);
}
/* count * elem_size with overflow check; count 0 returns a non-NULL dummy pointer. */
void *vd_arena_alloc_array_slow(struct vd_arena *a, size_t elem_size, uint64_t count);
static inline __attribute__((always_inline)) void *vd_arena_alloc_array(struct vd_arena *a,
                                                                        size_t elem_size,
                                                                        uint64_t count)
{
   /* Small arrays (push constants, a few handles or regions) take the inline path. */
   if (__builtin_expect(count && elem_size && count <= 64 / elem_size, 1))
      return vd_arena_alloc(a, elem_size * (size_t)count);
   return vd_arena_alloc_array_slow(a, elem_size, count);
}
void vd_arena_reset(struct vd_arena *a);

/* A position in the arena: vd_arena_release() gives back everything allocated after
 * vd_arena_mark() (kept for reuse, as by a reset) and leaves what came before intact.
 * Marks nest like a stack; releasing to a mark invalidates the marks taken after it. */
struct vd_arena_mark {
   struct vd_arena_block *head, *head_next;
   size_t pos, used;
};
static inline struct vd_arena_mark vd_arena_mark(const struct vd_arena *a)
{
   struct vd_arena_mark m = { .head = a->head, .used = a->used };
   if (a->head) {
      m.head_next = a->head->next;
      m.pos = a->head->pos;
   }
   return m;
}
void vd_arena_release_slow(struct vd_arena *a, const struct vd_arena_mark *m);
static inline void vd_arena_release(struct vd_arena *a, const struct vd_arena_mark *m)
{
   /* Marks nest like a stack: a mark below the arena's current use was already released
    * past (a later mark released after an earlier one, or a reset in between). */
   assert(m->used <= a->used);
   /* Usually nothing but the current block's bump pointer moved since the mark. */
   if (__builtin_expect(a->head && a->head == m->head && a->head->next == m->head_next, 1)) {
      a->head->pos = m->pos;
      a->used = m->used;
      return;
   }
   vd_arena_release_slow(a, m);
}

#endif
