/* Logging: levels and categories, configured by --log or VENUSD_LOG.
 *
 * Spec syntax: a comma-separated list of "LEVEL" (applies to all categories) or
 * "CATEGORY=LEVEL", e.g. "info,ring=debug,decode=trace".
 * Levels: error, warn, info, debug, trace.  Categories: see vd_log_cat_names[]. */
#ifndef VD_UTIL_LOG_H
#define VD_UTIL_LOG_H

#include <stdbool.h>

enum vd_log_level {
   VD_LOG_ERROR = 0,
   VD_LOG_WARN,
   VD_LOG_INFO,
   VD_LOG_DEBUG,
   VD_LOG_TRACE,
};

enum vd_log_cat {
   VD_CAT_MAIN = 0,  /* "main": command line, process model */
   VD_CAT_TRANSPORT, /* "transport": vtest / render-server sockets */
   VD_CAT_CONTEXT,   /* "context": context lifetime, virtqueue, timelines */
   VD_CAT_RING,      /* "ring": ring threads */
   VD_CAT_DECODE,    /* "decode": protocol decoding, per-command traces */
   VD_CAT_VK,        /* "vk": host Vulkan calls and handlers */
   VD_CAT_MEMORY,    /* "memory": memory backends, blobs */
   VD_CAT_COUNT,
};

extern const char *const vd_log_cat_names[VD_CAT_COUNT];

/* Parses a spec; returns false (and changes nothing) when it is malformed. */
bool vd_log_configure(const char *spec);
/* Applies VENUSD_LOG if set; default level is "info" for all categories. */
void vd_log_init_from_env(void);
/* Optional prefix for every line (e.g. "ctx 3 vulkaninfo"), per thread. */
void vd_log_set_thread_prefix(const char *prefix);

extern int vd_log_levels[VD_CAT_COUNT];
static inline bool vd_log_enabled(enum vd_log_level lvl, enum vd_log_cat cat)
{
   return (int)lvl <= vd_log_levels[cat];
}

void vd_log_write(enum vd_log_level lvl, enum vd_log_cat cat, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

#define vd_log(lvl, cat, ...)                     \
   do {                                           \
      if (vd_log_enabled((lvl), (cat)))           \
         vd_log_write((lvl), (cat), __VA_ARGS__); \
   } while (0)

#define vd_err(cat, ...) vd_log(VD_LOG_ERROR, cat, __VA_ARGS__)
#define vd_warn(cat, ...) vd_log(VD_LOG_WARN, cat, __VA_ARGS__)
#define vd_info(cat, ...) vd_log(VD_LOG_INFO, cat, __VA_ARGS__)
#define vd_dbg(cat, ...) vd_log(VD_LOG_DEBUG, cat, __VA_ARGS__)
#define vd_trace(cat, ...) vd_log(VD_LOG_TRACE, cat, __VA_ARGS__)

#endif
