/* A bump allocator for per-command decode storage.  Blocks are kept across resets, so a
 * steady-state dispatcher does not call malloc.  All memory is zeroed and 16-byte
 * aligned.  Allocations past max_bytes (total live bytes) fail with NULL. */
#ifndef VD_UTIL_ARENA_H
#define VD_UTIL_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct vd_arena_block;

struct vd_arena {
   struct vd_arena_block *head; /* current block */
   struct vd_arena_block *free; /* blocks kept after reset */
   size_t used;                 /* bytes handed out since the last reset */
   size_t max_bytes;
};

void vd_arena_init(struct vd_arena *a, size_t max_bytes);
void vd_arena_fini(struct vd_arena *a);
void *vd_arena_alloc(struct vd_arena *a, size_t size);
/* count * elem_size with overflow check; count 0 returns a non-NULL dummy pointer. */
void *vd_arena_alloc_array(struct vd_arena *a, size_t elem_size, uint64_t count);
void vd_arena_reset(struct vd_arena *a);

/* A position in the arena: vd_arena_release() gives back everything allocated after
 * vd_arena_mark() (kept for reuse, as by a reset) and leaves what came before intact.
 * Marks nest like a stack; releasing to a mark invalidates the marks taken after it. */
struct vd_arena_mark {
   struct vd_arena_block *head, *head_next;
   size_t pos, used;
};
struct vd_arena_mark vd_arena_mark(const struct vd_arena *a);
void vd_arena_release(struct vd_arena *a, const struct vd_arena_mark *m);

#endif
