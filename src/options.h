/* Global options parsed from the command line (main.c), read by the rest of venusd.
 *
 * Filled in once by main() before any context exists and never written afterwards, so any
 * thread may read them without locking. */
#ifndef VD_OPTIONS_H
#define VD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* What venusd emulates for the guest on one physical device, because the host driver
 * lacks it (or --emulate forces it): see emulation.c for the decision and design.md for
 * how each emulation works. */
enum vd_emulation_bits {
   VD_EMU_SYNC_FD_SEMAPHORE = 1u << 0, /* VK_KHR_external_semaphore_fd (SYNC_FD import/export) */
   VD_EMU_SYNC_FD_FENCE = 1u << 1,     /* VK_KHR_external_fence_fd (SYNC_FD export) */
   VD_EMU_DMA_BUF = 1u << 2,           /* dma-buf / opaque-fd memory = venusd's blobs */
   VD_EMU_MODIFIERS = 1u << 3,         /* VK_EXT_image_drm_format_modifier, LINEAR only */
   VD_EMU_FOREIGN = 1u << 4,           /* VK_EXT_queue_family_foreign */
   VD_EMU_ALL = (1u << 5) - 1,
};

struct vd_options {
   const char *record_dir;          /* --record DIR, or NULL */
   int memory_mode;                 /* --memory: enum vd_memory_mode (memory/memory.h) */
   uint64_t host_pointer_alignment; /* --host-pointer-alignment N, 0 = driver minimum */
   bool validate;                   /* --validate: enable host validation layers */
   int64_t spin_us;                 /* --spin-us N: poll a client socket this long before
                                       sleeping in read() (main.c: VD_SPIN_US_DEFAULT) */
   int64_t ring_spin_us;            /* --ring-spin-us N: yield-poll an empty ring this long,
                                       then nap (main.c: VD_RING_SPIN_US_DEFAULT) */
   unsigned emulate;                /* --emulate LIST: enum vd_emulation_bits (vk/vk_common.h)
                                       to emulate even where the host has the capability */
   uint32_t max_rings;              /* --max-rings N: rings (each a thread) per context;
                                       0 = VD_MAX_RINGS_DEFAULT */
   const char *log_spec;            /* --log SPEC, or NULL (VENUSD_LOG / default) */
   bool no_sandbox;                 /* --no-sandbox: process workers run without the
                                       seccomp filter (sandbox/sandbox.h) */
   bool vmm_blobs;                  /* render-server: blobs go to a VMM, which checks that
                                       a shared-memory blob's file is exactly the blob's
                                       size and may share blobs beyond the context (guest
                                       dma-bufs), so their backings are never recycled */
};

#define VD_SPIN_US_DEFAULT 20
#define VD_MAX_RINGS_DEFAULT 256
/* The shortest ring-monitor period venusd honours: a guest asking for less (1 us would keep
 * a quarter of a core busy) gets this. */
#define VD_MIN_MONITOR_PERIOD_US 10000
#define VD_RING_SPIN_US_DEFAULT 200

/* Defined in main.c. */
extern struct vd_options vd_opts;

#endif
