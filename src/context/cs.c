/* Non-inline command-stream primitives (see cs.h). */
#include "context/cs.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

void vd_dec_fail(struct vd_decoder *d, const char *field, const char *fmt, ...)
{
   if (d->failed)
      return;
   d->failed = true;
   /* Every later read fails without reading (vd_dec_take). */
   d->cur = d->end;
   int n = snprintf(d->error, sizeof(d->error), "%s: ", field ? field : "?");
   if (n < 0 || (size_t)n >= sizeof(d->error))
      return;
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(d->error + n, sizeof(d->error) - (size_t)n, fmt, ap);
   va_end(ap);
}

void vd_dec_take_slow(struct vd_decoder *d, void *dst, uint64_t size, uint64_t wire,
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

uint32_t vd_dec_stype(struct vd_decoder *d, int32_t expected, const char *field)
{
   const uint32_t v = vd_dec_u32(d, field);
   if (!d->failed && (int32_t)v != expected)
      vd_dec_fail(d, field, "sType %d where %d is required", (int32_t)v, expected);
   return v;
}

bool vd_dec_pointer(struct vd_decoder *d, bool optional, const char *field)
{
   const uint64_t n = vd_dec_u64(d, field);
   if (d->failed)
      return false;
   if (n > 1) {
      vd_dec_fail(d, field, "pointer marker %" PRIu64 " (must be 0 or 1)", n);
      return false;
   }
   if (!n && !optional) {
      vd_dec_fail(d, field, "required pointer is NULL");
      return false;
   }
   return n == 1;
}

void vd_dec_null_pointer(struct vd_decoder *d, const char *field)
{
   const uint64_t n = vd_dec_u64(d, field);
   if (!d->failed && n)
      vd_dec_fail(d, field, "must be NULL over Venus");
}

uint64_t vd_dec_array_slow(struct vd_decoder *d, uint64_t n, uint64_t count, bool optional,
                           size_t min_elem_wire, const char *field)
{
   if (d->failed)
      return 0;
   if (n == 0) {
      if (count && !optional)
         vd_dec_fail(d, field, "array is NULL but its count is %" PRIu64, count);
      return 0;
   }
   if (n != count) {
      vd_dec_fail(d, field, "array size %" PRIu64 " disagrees with its count %" PRIu64, n, count);
      return 0;
   }
   if (min_elem_wire && n > vd_dec_remaining(d) / min_elem_wire) {
      vd_dec_fail(d, field, "count %" PRIu64 " does not fit the %zu bytes left", n,
                  vd_dec_remaining(d));
      return 0;
   }
   return n;
}

void vd_dec_fixed_array(struct vd_decoder *d, uint64_t n, const char *field)
{
   const uint64_t v = vd_dec_u64(d, field);
   if (!d->failed && v != n)
      vd_dec_fail(d, field, "fixed array size %" PRIu64 " (must be %" PRIu64 ")", v, n);
}

void *vd_dec_alloc_fail(struct vd_decoder *d, size_t elem_size, uint64_t count, const char *field)
{
   vd_dec_fail(d, field, "decode memory limit exceeded (%" PRIu64 " x %zu bytes)", count,
               elem_size);
   return NULL;
}

const char *vd_dec_string(struct vd_decoder *d, bool optional, const char *field)
{
   const uint64_t n = vd_dec_u64(d, field);
   if (d->failed)
      return NULL;
   if (n == 0) {
      if (!optional)
         vd_dec_fail(d, field, "required string is NULL");
      return NULL;
   }
   const uint64_t wire = (n + 3) & ~(uint64_t)3;
   if (n > vd_dec_remaining(d) || wire > vd_dec_remaining(d)) {
      vd_dec_fail(d, field, "string of %" PRIu64 " bytes does not fit the %zu bytes left", n,
                  vd_dec_remaining(d));
      return NULL;
   }
   if (d->cur[n - 1] != '\0') {
      vd_dec_fail(d, field, "string without its NUL");
      return NULL;
   }
   char *s = vd_dec_alloc(d, 1, n, field);
   if (s)
      vd_dec_take(d, s, n, wire, field);
   return s;
}

const char **vd_dec_string_array(struct vd_decoder *d, uint64_t count, const char *field)
{
   const uint64_t n = vd_dec_array(d, count, false, 8, field);
   if (!n)
      return NULL;
   const char **arr = vd_dec_alloc(d, sizeof(*arr), n, field);
   for (uint64_t i = 0; arr && i < n && !d->failed; i++)
      arr[i] = vd_dec_string(d, false, field);
   return arr;
}
