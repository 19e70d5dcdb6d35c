/* Per-context resource limits: what one guest context may hold at once.
 *
 * Every limited resource is charged when it is made and released when it goes; a charge
 * past the limit fails, and the first failure of each limit in a context logs one line
 * naming the limit, the values and the option that raises it.  The caller then fails the
 * request the Vulkan way where the protocol can say so, or makes the context fatal.
 * Rings (--max-rings), the ring-monitor period and ring priorities are limited in ring.c.
 *
 * Counters are atomic: any context thread may charge or release. */
#ifndef VD_CONTEXT_LIMITS_H
#define VD_CONTEXT_LIMITS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vd_options;

struct vd_context;

enum vd_limit {
   VD_LIMIT_OBJECTS,    /* records in the object table (--max-objects) */
   VD_LIMIT_MEMORY,     /* bytes of VkDeviceMemory allocated (--max-memory) */
   VD_LIMIT_BLOBS,      /* resources: blobs and imports (--max-blobs) */
   VD_LIMIT_BLOB_BYTES, /* bytes of shared-memory blobs, blob_id 0 (--max-blob-bytes) */
   VD_LIMIT_FDS,        /* file descriptors held for the context (--max-fds) */
   VD_LIMIT_WAITS,      /* pending waits: host fences, client sync waits (--max-waits) */
   VD_LIMIT_THREADS,    /* threads: rings, ring monitor, queue fences (--max-threads) */
   VD_LIMIT_COUNT,
};

struct vd_limits {
   _Atomic uint64_t used[VD_LIMIT_COUNT];
   atomic_uint logged; /* 1 << limit: already logged for this context */
};

/* The limit in force: the option, else its default; 0 for device memory without
 * --max-memory, whose default is the device's (vd_limit_charge_max). */
uint64_t vd_limit_max(const struct vd_options *opts, enum vd_limit limit);
/* Charges n units; false (nothing charged, logged once per context) past the limit. */
bool vd_limit_charge(struct vd_context *ctx, enum vd_limit limit, uint64_t n);
/* The same, with default_max as the limit where vd_limit_max() is 0 (device memory: the
 * total of the device's heaps). */
bool vd_limit_charge_max(struct vd_context *ctx, enum vd_limit limit, uint64_t n,
                         uint64_t default_max);
void vd_limit_release(struct vd_context *ctx, enum vd_limit limit, uint64_t n);
uint64_t vd_limit_used(const struct vd_context *ctx, enum vd_limit limit);

/* Thread workers share one fd table: caps the fds of all contexts together at the
 * process's RLIMIT_NOFILE less a reserve (for the listener, new clients, the driver), and
 * each context at half of that.  Call once before the first context, in thread mode. */
void vd_limits_init_thread_mode(const struct vd_options *opts);
/* A process worker, just after fork: sets its RLIMIT_NOFILE to --max-fds plus a reserve
 * for the driver (logged at debug level). */
void vd_limits_apply_process_worker(const struct vd_options *opts);

#endif
