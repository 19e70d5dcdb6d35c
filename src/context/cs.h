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

static inline size_t vd_dec_remaining(const struct vd_decoder *d)
{
   return (size_t)(d->end - d->cur);
}

/* Reads `wire` bytes (the padded wire size) and copies the first `size` of them. */
static inline void vd_dec_take(struct vd_decoder *d, void *dst, uint64_t size, uint64_t wire,
                               const char *field)
{
   if (d->failed)
      return;
   if (wire > vd_dec_remaining(d) || size > wire) {
      vd_dec_fail(d, field, "truncated stream: need %llu bytes, %zu left", (unsigned long long)wire,
                  vd_dec_remaining(d));
      return;
   }
   memcpy(dst, d->cur, (size_t)size);
   d->cur += wire;
}

static inline uint32_t vd_dec_u32(struct vd_decoder *d, const char *field)
{
   uint32_t v = 0;
   vd_dec_take(d, &v, 4, 4, field);
   return v;
}

static inline uint64_t vd_dec_u64(struct vd_decoder *d, const char *field)
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
uint64_t vd_dec_array(struct vd_decoder *d, uint64_t count, bool optional, size_t min_elem_wire,
                      const char *field);
/* Size prefix of a fixed-size array: must equal n. */
void vd_dec_fixed_array(struct vd_decoder *d, uint64_t n, const char *field);
void *vd_dec_alloc(struct vd_decoder *d, size_t elem_size, uint64_t count, const char *field);
/* NUL-terminated string: u64 size including the NUL, then the bytes padded to 4.  A size
 * of 0 is NULL (fails unless optional); the last byte must be NUL. */
const char *vd_dec_string(struct vd_decoder *d, bool optional, const char *field);
const char **vd_dec_string_array(struct vd_decoder *d, uint64_t count, const char *field);

/* Object ids.  A looked-up object is referenced until the command is finished. */
uint64_t vd_dec_lookup(struct vd_decoder *d, uint32_t objtype, bool optional, const char *field);
struct vd_object *vd_dec_lookup_obj(struct vd_decoder *d, uint32_t objtype, const char *field);
/* Same, but id 0 is allowed (returns NULL). */
struct vd_object *vd_dec_lookup_obj_optional(struct vd_decoder *d, uint32_t objtype,
                                             const char *field);
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
