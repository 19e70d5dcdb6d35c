/* Bump allocator with block reuse across resets.
 *
 * Layout: a->head is the block small allocations are bumped from; the blocks used since
 * the last reset hang off it through ->next (dedicated blocks for large allocations are
 * linked in behind head, so head stays the bump block).  a->free holds the blocks kept by
 * the last reset, in the order they were first used, so the same sequence of allocations
 * after a reset gets the same blocks (and the same addresses) without calling malloc.
 *
 * Allocations are zeroed when handed out, since reused blocks are dirty. */
#include "arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN VD_ARENA_ALIGN
/* Capacity of an ordinary block. */
#define ARENA_BLOCK_SIZE (64 * 1024)
/* Allocations above this get a dedicated block of their own size, so they neither waste
 * the rest of an ordinary block nor force ordinary blocks to grow. */
#define ARENA_LARGE (ARENA_BLOCK_SIZE / 4)
/* On reset, blocks bigger than this are freed rather than kept ... */
#define ARENA_KEEP_BLOCK_MAX (1024 * 1024)
/* ... and at most this many bytes of blocks are kept in total. */
#define ARENA_KEEP_TOTAL_MAX (8 * 1024 * 1024)

/* Returned for zero-sized requests: non-NULL, aligned, never written through. */
static alignas(ARENA_ALIGN) unsigned char empty_alloc[ARENA_ALIGN];

void vd_arena_init(struct vd_arena *a, size_t max_bytes)
{
   a->head = NULL;
   a->free = NULL;
   a->used = 0;
   a->max_bytes = max_bytes;
}

static void free_list(struct vd_arena_block *b)
{
   while (b) {
      struct vd_arena_block *next = b->next;
      free(b);
      b = next;
   }
}

void vd_arena_fini(struct vd_arena *a)
{
   free_list(a->head);
   free_list(a->free);
   a->head = NULL;
   a->free = NULL;
   a->used = 0;
}

static struct vd_arena_block *block_new(size_t cap)
{
   if (cap > SIZE_MAX - sizeof(struct vd_arena_block))
      return NULL;
   /* sizeof(struct vd_arena_block) is a multiple of ARENA_ALIGN and cap is rounded, so
    * the size is a multiple of the alignment as aligned_alloc wants. */
   struct vd_arena_block *b = aligned_alloc(ARENA_ALIGN, sizeof(*b) + cap);
   if (!b)
      return NULL;
   b->next = NULL;
   b->cap = cap;
   b->pos = 0;
   return b;
}

/* Unlinks and returns the first kept block whose capacity is ordinary (for bumping), or
 * the smallest kept block holding at least `size` bytes (for a dedicated allocation). */
static struct vd_arena_block *take_free(struct vd_arena *a, size_t size, bool ordinary)
{
   struct vd_arena_block **best = NULL;
   for (struct vd_arena_block **pp = &a->free; *pp; pp = &(*pp)->next) {
      struct vd_arena_block *b = *pp;
      if (ordinary) {
         if (b->cap == ARENA_BLOCK_SIZE) {
            best = pp;
            break;
         }
      } else if (b->cap >= size && (!best || b->cap < (*best)->cap)) {
         best = pp;
         if (b->cap == size)
            break;
      }
   }
   if (!best)
      return NULL;
   struct vd_arena_block *b = *best;
   *best = b->next;
   b->next = NULL;
   b->pos = 0;
   return b;
}

void *vd_arena_alloc_slow(struct vd_arena *a, size_t size)
{
   if (size == 0)
      return empty_alloc;
   if (size > SIZE_MAX - (ARENA_ALIGN - 1))
      return NULL;
   /* max_bytes == 0 means no cap. */
   if (a->max_bytes && (size > a->max_bytes || a->used > a->max_bytes - size))
      return NULL;

   size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
   void *p;

   if (a->head && a->head->cap - a->head->pos >= rounded) {
      p = a->head->data + a->head->pos;
      a->head->pos += rounded;
   } else if (rounded > ARENA_LARGE) {
      struct vd_arena_block *b = take_free(a, rounded, false);
      if (!b)
         b = block_new(rounded);
      if (!b)
         return NULL;
      b->pos = b->cap; /* never bumped from */
      if (a->head) {
         b->next = a->head->next;
         a->head->next = b;
      } else {
         a->head = b;
      }
      p = b->data;
   } else {
      struct vd_arena_block *b = take_free(a, 0, true);
      if (!b)
         b = block_new(ARENA_BLOCK_SIZE);
      if (!b)
         return NULL;
      b->next = a->head;
      a->head = b;
      p = b->data;
      b->pos = rounded;
   }

   a->used += size;
   vd_arena_zero(p, rounded);
   return p;
}

void *vd_arena_alloc_array_slow(struct vd_arena *a, size_t elem_size, uint64_t count)
{
   if (count == 0 || elem_size == 0)
      return empty_alloc;
   if (count > SIZE_MAX / elem_size)
      return NULL;
   return vd_arena_alloc(a, elem_size * (size_t)count);
}

static void keep_block(struct vd_arena *a, struct vd_arena_block *b)
{
   b->pos = 0;
   b->next = a->free;
   a->free = b;
}

void vd_arena_release_slow(struct vd_arena *a, const struct vd_arena_mark *m)
{
   /* Blocks taken since the mark are either in front of the mark's head (new bump blocks
    * and the dedicated blocks linked in behind them) or between the mark's head and the
    * block that followed it (dedicated blocks linked in while it was still the head). */
   while (a->head && a->head != m->head) {
      struct vd_arena_block *b = a->head;
      a->head = b->next;
      keep_block(a, b);
   }
   if (a->head) {
      while (a->head->next != m->head_next) {
         struct vd_arena_block *b = a->head->next;
         a->head->next = b->next;
         keep_block(a, b);
      }
      a->head->pos = m->pos;
   }
   a->used = m->used;
}

void vd_arena_reset(struct vd_arena *a)
{
   /* The used list runs newest to oldest (ordinary blocks strictly so); reverse it into
    * first-use order so the next cycle takes the blocks in the same order as this one. */
   struct vd_arena_block *used = NULL;
   while (a->head) {
      struct vd_arena_block *b = a->head;
      a->head = b->next;
      b->next = used;
      used = b;
   }

   /* Keep this cycle's blocks first, then the ones kept earlier but unused since, within
    * the per-block and total limits; free the rest. */
   struct vd_arena_block *stale = a->free;
   struct vd_arena_block **tail = &a->free;
   size_t kept = 0;
   for (int pass = 0; pass < 2; pass++) {
      struct vd_arena_block *b = pass == 0 ? used : stale;
      while (b) {
         struct vd_arena_block *next = b->next;
         if (b->cap > ARENA_KEEP_BLOCK_MAX || b->cap > ARENA_KEEP_TOTAL_MAX - kept) {
            free(b);
         } else {
            kept += b->cap;
            b->pos = 0;
            *tail = b;
            tail = &b->next;
         }
         b = next;
      }
   }
   *tail = NULL;
   a->used = 0;
}
