/* The doctor's report: checks printed as lines, or kept for one JSON document (doctor.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

enum field_kind {
   FIELD_STR,
   FIELD_INT,
   FIELD_BOOL
};

struct field {
   const char *key; /* a string literal */
   enum field_kind kind;
   char *str;
   int64_t num;
};

struct vd_doctor_check {
   const char *section, *name;
   enum vd_doctor_status status;
   char *message, *fix;
   struct field *fields;
   unsigned field_count;
};

struct vd_doctor {
   bool json;
   const char *section;
   struct vd_doctor_check **checks; /* each allocated alone: a check stays where it is */
   unsigned count, cap;
   unsigned failures, warnings;
   struct vd_doctor_check spare; /* returned when a check cannot be kept */
};

static const char *const status_names[] = { "info", "ok", "warn", "fail" };
static const char *const status_labels[] = { "info", "ok", "warn", "FAIL" };

struct vd_doctor *vd_doctor_create(bool json)
{
   struct vd_doctor *d = calloc(1, sizeof(*d));
   if (d)
      d->json = json;
   return d;
}

static void check_free(struct vd_doctor_check *c)
{
   for (unsigned i = 0; i < c->field_count; i++)
      free(c->fields[i].str);
   free(c->fields);
   free(c->message);
   free(c->fix);
   memset(c, 0, sizeof(*c));
}

void vd_doctor_destroy(struct vd_doctor *d)
{
   for (unsigned i = 0; i < d->count; i++) {
      check_free(d->checks[i]);
      free(d->checks[i]);
   }
   check_free(&d->spare);
   free(d->checks);
   free(d);
}

void vd_doctor_section(struct vd_doctor *d, const char *name)
{
   d->section = name;
   if (!d->json)
      printf("\n== %s\n", name);
}

/* Prints text indented under the label column, wrapping nothing (terminals do). */
static void print_check(const struct vd_doctor_check *c)
{
   printf("%-5s %s\n", status_labels[c->status], c->message);
   if (c->fix)
      printf("      what to do: %s\n", c->fix);
   fflush(stdout);
}

struct vd_doctor_check *vd_doctor_add(struct vd_doctor *d, const char *name,
                                      enum vd_doctor_status status, const char *fix,
                                      const char *fmt, ...)
{
   if (status == VD_DOCTOR_FAIL)
      d->failures++;
   if (status == VD_DOCTOR_WARN)
      d->warnings++;
   struct vd_doctor_check *c = NULL;
   if (d->count == d->cap) {
      const unsigned cap = d->cap ? d->cap * 2 : 32;
      struct vd_doctor_check **n = realloc(d->checks, cap * sizeof(*n));
      if (n) {
         d->checks = n;
         d->cap = cap;
      }
   }
   if (d->count < d->cap)
      c = malloc(sizeof(*c));
   if (c)
      d->checks[d->count++] = c;
   check_free(&d->spare);
   if (!c)
      c = &d->spare;
   memset(c, 0, sizeof(*c));
   c->section = d->section ? d->section : "";
   c->name = name;
   c->status = status;
   va_list ap, ap2;
   va_start(ap, fmt);
   va_copy(ap2, ap);
   /* vasprintf is not POSIX: measure, then print. */
   const int len = vsnprintf(NULL, 0, fmt, ap);
   c->message = len >= 0 ? malloc((size_t)len + 1) : NULL;
   if (c->message)
      vsnprintf(c->message, (size_t)len + 1, fmt, ap2);
   va_end(ap2);
   va_end(ap);
   c->fix = fix ? strdup(fix) : NULL;
   if (!d->json)
      print_check(c);
   return c;
}

static struct field *field_add(struct vd_doctor_check *c, const char *key, enum field_kind kind)
{
   struct field *n = realloc(c->fields, (c->field_count + 1) * sizeof(*n));
   if (!n)
      return NULL;
   c->fields = n;
   struct field *f = &n[c->field_count++];
   *f = (struct field){ .key = key, .kind = kind };
   return f;
}

void vd_doctor_field_str(struct vd_doctor_check *c, const char *key, const char *value)
{
   struct field *f = field_add(c, key, FIELD_STR);
   if (f)
      f->str = strdup(value ? value : "");
}

void vd_doctor_field_int(struct vd_doctor_check *c, const char *key, int64_t value)
{
   struct field *f = field_add(c, key, FIELD_INT);
   if (f)
      f->num = value;
}

void vd_doctor_field_bool(struct vd_doctor_check *c, const char *key, bool value)
{
   struct field *f = field_add(c, key, FIELD_BOOL);
   if (f)
      f->num = value;
}

unsigned vd_doctor_failures(const struct vd_doctor *d)
{
   return d->failures;
}

void vd_json_write_string(FILE *f, const char *s)
{
   fputc('"', f);
   for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
      if (*p == '"' || *p == '\\')
         fprintf(f, "\\%c", *p);
      else if (*p == '\n')
         fputs("\\n", f);
      else if (*p == '\t')
         fputs("\\t", f);
      else if (*p < 0x20 || *p == 0x7f)
         fprintf(f, "\\u%04x", *p);
      else
         fputc(*p, f);
   }
   fputc('"', f);
}

static void write_check(FILE *f, const struct vd_doctor_check *c)
{
   fputs("    {\"section\": ", f);
   vd_json_write_string(f, c->section);
   fputs(", \"name\": ", f);
   vd_json_write_string(f, c->name);
   fprintf(f, ", \"status\": \"%s\", \"message\": ", status_names[c->status]);
   vd_json_write_string(f, c->message);
   fputs(", \"fix\": ", f);
   if (c->fix)
      vd_json_write_string(f, c->fix);
   else
      fputs("null", f);
   fputs(", \"data\": {", f);
   for (unsigned i = 0; i < c->field_count; i++) {
      const struct field *x = &c->fields[i];
      fputs(i ? ", " : "", f);
      vd_json_write_string(f, x->key);
      fputs(": ", f);
      if (x->kind == FIELD_STR)
         vd_json_write_string(f, x->str);
      else if (x->kind == FIELD_INT)
         fprintf(f, "%lld", (long long)x->num);
      else
         fputs(x->num ? "true" : "false", f);
   }
   fputs("}}", f);
}

void vd_doctor_finish(struct vd_doctor *d)
{
   if (!d->json) {
      printf("\n%s: %u failed, %u warnings, %u checks\n", d->failures ? "FAIL" : "ok", d->failures,
             d->warnings, d->count);
      return;
   }
   printf("{\n  \"ok\": %s,\n  \"failures\": %u,\n  \"warnings\": %u,\n  \"checks\": [\n",
          d->failures ? "false" : "true", d->failures, d->warnings);
   for (unsigned i = 0; i < d->count; i++) {
      write_check(stdout, d->checks[i]);
      fputs(i + 1 < d->count ? ",\n" : "\n", stdout);
   }
   fputs("  ]\n}\n", stdout);
   fflush(stdout);
}
