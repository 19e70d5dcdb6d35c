/* Logging: level/category filtering and line-atomic output to stderr.
 *
 * Every line is formatted into one buffer and handed to a single write(2), so lines from
 * different threads or processes sharing stderr do not interleave mid-line. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

_Static_assert(VD_CAT_COUNT == 7, "update vd_log_cat_names and the default levels");

const char *const vd_log_cat_names[VD_CAT_COUNT] = {
   [VD_CAT_MAIN] = "main",     [VD_CAT_TRANSPORT] = "transport", [VD_CAT_CONTEXT] = "context",
   [VD_CAT_RING] = "ring",     [VD_CAT_DECODE] = "decode",       [VD_CAT_VK] = "vk",
   [VD_CAT_MEMORY] = "memory",
};

#define VD_LOG_DEFAULT_LEVEL VD_LOG_INFO

int vd_log_levels[VD_CAT_COUNT] = {
   [VD_CAT_MAIN] = VD_LOG_DEFAULT_LEVEL,    [VD_CAT_TRANSPORT] = VD_LOG_DEFAULT_LEVEL,
   [VD_CAT_CONTEXT] = VD_LOG_DEFAULT_LEVEL, [VD_CAT_RING] = VD_LOG_DEFAULT_LEVEL,
   [VD_CAT_DECODE] = VD_LOG_DEFAULT_LEVEL,  [VD_CAT_VK] = VD_LOG_DEFAULT_LEVEL,
   [VD_CAT_MEMORY] = VD_LOG_DEFAULT_LEVEL,
};

/* Names accepted in specs (lower case) and printed in lines (upper case). */
static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static const char *const level_tags[] = { "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
#define LEVEL_COUNT ((int)(sizeof(level_names) / sizeof(level_names[0])))

#define PREFIX_MAX 128
static _Thread_local char thread_prefix[PREFIX_MAX];

/* Trims spaces/tabs from both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
   while (*len && (**s == ' ' || **s == '\t')) {
      (*s)++;
      (*len)--;
   }
   while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
      (*len)--;
}

/* Matches s[0..len) case-insensitively against names[]; returns the index or -1. */
static int lookup(const char *s, size_t len, const char *const *names, int count)
{
   if (len == 0)
      return -1;
   for (int i = 0; i < count; i++) {
      if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
         return i;
   }
   return -1;
}

/* Spec items are applied left to right on top of the default level, so a spec fully
 * describes the resulting configuration ("ring=debug" alone leaves the others at info). */
bool vd_log_configure(const char *spec)
{
   if (!spec)
      return false;

   int levels[VD_CAT_COUNT];
   for (int c = 0; c < VD_CAT_COUNT; c++)
      levels[c] = VD_LOG_DEFAULT_LEVEL;

   const char *p = spec;
   for (;;) {
      const char *end = strchr(p, ',');
      size_t len = end ? (size_t)(end - p) : strlen(p);
      const char *item = p;
      trim(&item, &len);
      if (len == 0)
         return false; /* empty spec or empty item ("info,,debug", "info,") */

      const char *eq = memchr(item, '=', len);
      if (eq) {
         const char *cat = item;
         size_t cat_len = (size_t)(eq - item);
         const char *lvl = eq + 1;
         size_t lvl_len = len - cat_len - 1;
         trim(&cat, &cat_len);
         trim(&lvl, &lvl_len);
         int c = lookup(cat, cat_len, vd_log_cat_names, VD_CAT_COUNT);
         int l = lookup(lvl, lvl_len, level_names, LEVEL_COUNT);
         if (c < 0 || l < 0)
            return false;
         levels[c] = l;
      } else {
         int l = lookup(item, len, level_names, LEVEL_COUNT);
         if (l < 0)
            return false;
         for (int c = 0; c < VD_CAT_COUNT; c++)
            levels[c] = l;
      }

      if (!end)
         break;
      p = end + 1;
   }

   memcpy(vd_log_levels, levels, sizeof(levels));
   return true;
}

void vd_log_init_from_env(void)
{
   const char *spec = getenv("VENUSD_LOG");
   if (!spec || !*spec)
      return;
   if (!vd_log_configure(spec))
      vd_log_write(VD_LOG_WARN, VD_CAT_MAIN, "ignoring malformed VENUSD_LOG \"%s\"", spec);
}

void vd_log_set_thread_prefix(const char *prefix)
{
   if (!prefix) {
      thread_prefix[0] = '\0';
      return;
   }
   /* Truncates silently: the prefix is decoration only. */
   snprintf(thread_prefix, sizeof(thread_prefix), "%s", prefix);
}

/* Writes all of buf with as few write() calls as the kernel allows (normally one). */
static void write_all(int fd, const char *buf, size_t len)
{
   while (len > 0) {
      ssize_t n = write(fd, buf, len);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return; /* nowhere to report a failure to log */
      }
      buf += n;
      len -= (size_t)n;
   }
}

void vd_log_write(enum vd_log_level lvl, enum vd_log_cat cat, const char *fmt, ...)
{
   int saved_errno = errno; /* callers may log and then inspect errno */

   const char *tag = ((int)lvl >= 0 && (int)lvl < LEVEL_COUNT) ? level_tags[lvl] : "?";
   const char *cat_name = ((int)cat >= 0 && cat < VD_CAT_COUNT) ? vd_log_cat_names[cat] : "?";

   char stack_buf[1024];
   char *buf = stack_buf;
   size_t cap = sizeof(stack_buf);

   /* Header: "venusd[pid] LEVEL category: " plus "[prefix] " when a prefix is set. */
   int hdr;
   if (thread_prefix[0])
      hdr = snprintf(buf, cap, "venusd[%ld] %s %s: [%s] ", (long)getpid(), tag, cat_name,
                     thread_prefix);
   else
      hdr = snprintf(buf, cap, "venusd[%ld] %s %s: ", (long)getpid(), tag, cat_name);
   if (hdr < 0)
      goto out;
   /* The header always fits: pid, tag, category and a PREFIX_MAX prefix are well
    * under sizeof(stack_buf). */

   va_list ap;
   va_start(ap, fmt);
   int msg = vsnprintf(buf + hdr, cap - (size_t)hdr, fmt, ap);
   va_end(ap);
   if (msg < 0)
      goto out;

   /* +2: newline and terminating NUL. */
   size_t need = (size_t)hdr + (size_t)msg + 2;
   if (need > cap) {
      char *big = malloc(need);
      if (big) {
         memcpy(big, buf, (size_t)hdr);
         va_start(ap, fmt);
         vsnprintf(big + hdr, need - (size_t)hdr, fmt, ap);
         va_end(ap);
         buf = big;
         cap = need;
      } else {
         msg = (int)(cap - (size_t)hdr - 2); /* truncate into the stack buffer */
      }
   }

   size_t len = (size_t)hdr + (size_t)msg;
   if (len > cap - 2)
      len = cap - 2;
   /* One line per call: drop the message's own trailing newlines, then add one. */
   while (len > (size_t)hdr && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
      len--;
   buf[len++] = '\n';

   write_all(STDERR_FILENO, buf, len);

   if (buf != stack_buf)
      free(buf);
out:
   errno = saved_errno;
}
