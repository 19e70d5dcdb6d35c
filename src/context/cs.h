/* Command-stream primitives used by the generated decoders and encoders (vn_protocol.c).
 *
 * Decoding never reads past `end`: every read checks the remaining bytes first.  The first
 * error is sticky: it records the field and the reason, later reads return zeros and
 * advance nothing, and the dispatcher turns it into "context fatal" with one log line. */
#ifndef VD_CONTEXT_CS_H
#define VD_CONTEXT_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"

struct vd_dispatch;
struct vd_object;

struct vd_decoder {
   const uint8_t *cur;
   const uint8_t *end;
   struct vd_arena *arena;
   struct vd_dispatch *disp; /* for object lookups; NULL in offline replay */
   const char *cmd;          /* name of the command being decoded */
   bool mesa25_only;         /* the context negotiated Mesa 25.0.7's protocol: pNext structs of the
                        newer one are refused (context/protocol.h; false: all decoded) */
   bool failed;
   char error[320];
};

struct vd_encoder {
   uint8_t *cur;
   uint8_t *end;
   bool failed;
};

void vd_dec_fail(struct vd_decoder *d, const char *field, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

static inline __attribute__((always_inline)) size_t vd_dec_remaining(const struct vd_decoder *d)
{
   return (size_t)(d->end - d->cur);
}

void vd_dec_take_slow(struct vd_decoder *d, void *dst, uint64_t size, uint64_t wire,
                      const char *field);

/* Reads `wire` bytes (the padded wire size) and copies the first `size` of them.  The
 * check is the only one a read needs: a failed decoder has cur == end (vd_dec_fail), so
 * every later read of at least one byte takes the slow path, which reads nothing. */
static inline __attribute__((always_inline)) void vd_dec_take(struct vd_decoder *d, void *dst,
                                                              uint64_t size, uint64_t wire,
                                                              const char *field)
{
   if (__builtin_expect(wire <= vd_dec_remaining(d) && size <= wire && wire, 1)) {
      memcpy(dst, d->cur, (size_t)size);
      d->cur += wire;
      return;
   }
   vd_dec_take_slow(d, dst, size, wire, field);
}

static inline __attribute__((always_inline)) uint32_t vd_dec_u32(struct vd_decoder *d,
                                                                 const char *field)
{
   uint32_t v = 0;
   vd_dec_take(d, &v, 4, 4, field);
   return v;
}

static inline __attribute__((always_inline)) uint64_t vd_dec_u64(struct vd_decoder *d,
                                                                 const char *field)
{
   uint64_t v = 0;
   vd_dec_take(d, &v, 8, 8, field);
   return v;
}

/* sType of a struct passed directly (not in a chain) must be the expected one. */
uint32_t vd_dec_stype(struct vd_decoder *d, int32_t expected, const char *field);
/* A "pointer" marker: u64 count that must be 0 or 1 here.  Returns whether data follows.
 * A NULL for a non-optional pointer fails. */
bool vd_dec_pointer(struct vd_decoder *d, bool optional, const char *field);
/* pAllocator and friends: the guest must send NULL. */
void vd_dec_null_pointer(struct vd_decoder *d, const char *field);
/* Array size prefix of a count/array pair.  `count` is the count given separately; a
 * non-zero size must equal it, a zero size means NULL and is allowed if `optional` or if
 * count is 0.  min_elem_wire is the smallest wire size of one element: the array must fit
 * in the bytes left.  Returns the element count (0 on NULL or error). */
uint64_t vd_dec_array_slow(struct vd_decoder *d, uint64_t n, uint64_t count, bool optional,
                           size_t min_elem_wire, const char *field);
static inline __attribute__((always_inline)) uint64_t vd_dec_array(struct vd_decoder *d,
                                                                   uint64_t count, bool optional,
                                                                   size_t min_elem_wire,
                                                                   const char *field)
{
   const uint64_t n = vd_dec_u64(d, field);
   /* The usual case: a non-empty array of the given count that fits (min_elem_wire is a
    * constant in the generated decoders, so the division folds into a shift or nothing). */
   /* (n != 0 means the read succeeded: a failed decoder reads zeros) */
   if (__builtin_expect(
          n && n == count && (!min_elem_wire || n <= vd_dec_remaining(d) / min_elem_wire), 1))
      return n;
   return vd_dec_array_slow(d, n, count, optional, min_elem_wire, field);
}
/* Size prefix of a fixed-size array: must equal n. */
void vd_dec_fixed_array(struct vd_decoder *d, uint64_t n, const char *field);
void *vd_dec_alloc_fail(struct vd_decoder *d, size_t elem_size, uint64_t count, const char *field);
static inline __attribute__((always_inline)) void *vd_dec_alloc(struct vd_decoder *d,
                                                                size_t elem_size, uint64_t count,
                                                                const char *field)
{
   if (d->failed)
      return NULL;
   void *p = vd_arena_alloc_array(d->arena, elem_size, count);
   return __builtin_expect(p != NULL, 1) ? p : vd_dec_alloc_fail(d, elem_size, count, field);
}
/* Bytes of an input (a count/array pair of void or 1-byte elements): the array size, as
 * vd_dec_array with elements of 1 byte, then the bytes padded to 4, copied into the arena
 * without zeroing it first (every byte is written).  NULL for an empty array or on error. */
static inline __attribute__((always_inline)) void *vd_dec_blob(struct vd_decoder *d, uint64_t count,
                                                               bool optional, const char *field)
{
   const uint64_t n = vd_dec_array(d, count, optional, 1, field);
   if (!n)
      return NULL;
   void *p = vd_arena_alloc_uninit(d->arena, n);
   if (__builtin_expect(!p, 0))
      return vd_dec_alloc_fail(d, 1, n, field);
   const uint64_t wire = (n + 3) & ~(uint64_t)3;
   if (__builtin_expect(wire > vd_dec_remaining(d), 0)) {
      vd_dec_take_slow(d, p, n, wire, field); /* (fails: names the field) */
      return NULL;
   }
   memcpy(p, d->cur, (size_t)n);
   d->cur += wire;
   return p;
}
/* NUL-terminated string: u64 size including the NUL, then the bytes padded to 4.  A size
 * of 0 is NULL (fails unless optional); the last byte must be NUL. */
const char *vd_dec_string(struct vd_decoder *d, bool optional, const char *field);
const char **vd_dec_string_array(struct vd_decoder *d, uint64_t count, const char *field);

/* Object ids: vd_dec_lookup, vd_dec_lookup_obj and vd_dec_lookup_obj_optional are in
 * context_priv.h (their fast path reads the dispatcher's lookup cache). */
/* The id of an object the command creates: must not be 0. */
uint64_t vd_dec_new_id(struct vd_decoder *d, const char *field);

/* Encoder: writes `size` bytes and zero padding up to `wire`. */
static inline void vd_enc_put(struct vd_encoder *e, const void *src, uint64_t size, uint64_t wire)
{
   if (e->failed)
      return;
   if (wire > (uint64_t)(e->end - e->cur)) {
      e->failed = true;
      return;
   }
   memcpy(e->cur, src, (size_t)size);
   memset(e->cur + size, 0, (size_t)(wire - size));
   e->cur += wire;
}

static inline void vd_enc_u32(struct vd_encoder *e, uint32_t v)
{
   vd_enc_put(e, &v, 4, 4);
}

static inline void vd_enc_u64(struct vd_encoder *e, uint64_t v)
{
   vd_enc_put(e, &v, 8, 8);
}

static inline void vd_enc_string(struct vd_encoder *e, const char *s)
{
   if (!s) {
      vd_enc_u64(e, 0);
      return;
   }
   const uint64_t n = strlen(s) + 1;
   vd_enc_u64(e, n);
   vd_enc_put(e, s, n, (n + 3) & ~(uint64_t)3);
}

#endif
