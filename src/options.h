/* Global options parsed from the command line (main.c), read by the rest of venusd.
 *
 * Filled in once by main() before any context exists and never written afterwards, so any
 * thread may read them without locking. */
#ifndef VD_OPTIONS_H
#define VD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct vd_options {
   const char *record_dir;          /* --record DIR, or NULL */
   int memory_mode;                 /* --memory: enum vd_memory_mode (memory/memory.h) */
   uint64_t host_pointer_alignment; /* --host-pointer-alignment N, 0 = driver minimum */
   bool validate;                   /* --validate: enable host validation layers */
   int64_t spin_us;                 /* --spin-us N: poll a client socket this long before
                                       sleeping in read() (main.c: VD_SPIN_US_DEFAULT) */
   int64_t ring_spin_us;            /* --ring-spin-us N: yield-poll an empty ring this long,
                                       then nap (main.c: VD_RING_SPIN_US_DEFAULT) */
   const char *log_spec;            /* --log SPEC, or NULL (VENUSD_LOG / default) */
   bool vmm_blobs;                  /* render-server: blobs go to a VMM, which checks that
                                       a shared-memory blob's file is exactly the blob's
                                       size and may share blobs beyond the context (guest
                                       dma-bufs), so their backings are never recycled */
};

#define VD_SPIN_US_DEFAULT 20
#define VD_RING_SPIN_US_DEFAULT 200

/* Defined in main.c. */
extern struct vd_options vd_opts;

#endif
