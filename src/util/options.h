/* Settings from the command line (main.c's option table), passed explicitly: main.c hands
 * them to the transport, which puts them into each context's params; handlers reach them
 * through their context (ctx->params.opts), memory backends through their device's
 * instance (vd_instance.opts).  There is no global copy.
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

/* --memory: how host-visible memory is shared with the guest (vk/memory_backend.h). */
enum vd_memory_mode {
   VD_MEMORY_AUTO = 0,
   VD_MEMORY_HOST_POINTER,
   VD_MEMORY_EXPORT,
};

/* --venus-protocol: the Venus protocol offered to guests (context/protocol.h). */
enum vd_venus_protocol_choice {
   VD_VENUS_PROTOCOL_AUTO = 0, /* vtest: the newest; render server: Mesa 25.0.7's */
   VD_VENUS_PROTOCOL_MESA25,
   VD_VENUS_PROTOCOL_NEWEST,
};

struct vd_options {
   const char *record_dir;          /* --record DIR, or NULL */
   int venus_protocol;              /* --venus-protocol: enum vd_venus_protocol_choice */
   int memory_mode;                 /* --memory: enum vd_memory_mode */
   uint64_t host_pointer_alignment; /* --host-pointer-alignment N, 0 = driver minimum */
   bool validate;                   /* --validate: enable host validation layers */
   bool stats;                      /* --stats: log each dispatcher's time per command
                                       type when its context ends (context/dispatch.c) */
   int64_t spin_us;                 /* --spin-us N: poll a client socket this long before
                                       sleeping in read() (VD_SPIN_US_DEFAULT) */
   int64_t ring_spin_us;            /* --ring-spin-us N: yield-poll an empty ring this long,
                                       then nap (VD_RING_SPIN_US_DEFAULT) */
   unsigned emulate;                /* --emulate LIST: enum vd_emulation_bits (vk/vk_common.h)
                                       to emulate even where the host has the capability */
   uint32_t max_rings;              /* --max-rings N: rings (each a thread) per context;
                                       0 = VD_MAX_RINGS_DEFAULT */
   /* Per-context limits (context/limits.h); 0 = the default below. */
   uint64_t max_objects;    /* --max-objects N: records in the object table */
   uint64_t max_memory;     /* --max-memory N: VkDeviceMemory bytes; 0 = the
                                       total of the device's heaps */
   uint64_t max_blobs;      /* --max-blobs N: resources (blobs and imports) */
   uint64_t max_blob_bytes; /* --max-blob-bytes N: shared-memory blob bytes */
   uint64_t max_fds;        /* --max-fds N: fds held for the context */
   uint64_t max_waits;      /* --max-waits N: pending host fences + sync waits */
   uint64_t max_threads;    /* --max-threads N: rings, ring monitor, queue threads */
   const char *log_spec;    /* --log SPEC, or NULL (VENUSD_LOG / default) */
   bool no_sandbox;         /* --no-sandbox: process workers run without the
                                       seccomp filter (sandbox/sandbox.h) */
   bool no_preload;         /* --no-preload: the server does not load the Vulkan
                                       loader and driver libraries before forking process
                                       workers (vk/preload.c) */
   bool vmm_blobs;          /* render-server: blobs go to a VMM, which checks that
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

/* Every setting's default (a context created without options, e.g. in unit tests, gets
 * these). */
#define VD_OPTIONS_DEFAULT                                                        \
   {                                                                              \
      .memory_mode = VD_MEMORY_AUTO, .spin_us = VD_SPIN_US_DEFAULT,               \
      .ring_spin_us = VD_RING_SPIN_US_DEFAULT, .max_rings = VD_MAX_RINGS_DEFAULT, \
   }

/* Per-context limit defaults, chosen so that no real guest reaches them (a guest that does
 * is looping or hostile):
 * - objects: 1M.  Large games keep tens of thousands of Vulkan objects (descriptor sets
 *   and command buffers included); a million records is ~100 MB of venusd's own memory
 *   before the driver's.
 * - device memory: the total of the device's heaps (lavapipe: most of host RAM), more
 *   than a guest can use, since no single allocation may exceed its heap either.
 * - blobs: 16384.  Mesa makes one blob per mappable allocation (portable applications
 *   stay under maxMemoryAllocationCount, whose required minimum is 4096) plus a few dozen
 *   of its own shared memory (rings, reply streams).
 * - shared-memory blob bytes: 16 GiB.  Mesa's own shared memory (rings, reply and
 *   feedback pools) is tens of MiB; memory exports count under device memory instead.
 * - fds: 16384: a host-visible allocation holds its backing and its blob (2 x 4096), plus
 *   the blobs, imports and sync waits above.
 * - pending waits: 16384.  Mesa keeps a few frames of submissions in flight and waits on
 *   a handful of syncs at once; tens of thousands outstanding means nothing retires.
 * - threads: 512: --max-rings 256 rings, one ring monitor and a fence thread per queue
 *   bound to a timeline (at most 64). */
#define VD_MAX_OBJECTS_DEFAULT (1ull << 20)
#define VD_MAX_BLOBS_DEFAULT 16384
#define VD_MAX_BLOB_BYTES_DEFAULT (16ull << 30)
#define VD_MAX_FDS_DEFAULT 16384
#define VD_MAX_WAITS_DEFAULT 16384
#define VD_MAX_THREADS_DEFAULT 512

/* Whether process workers enter the seccomp sandbox (no settings: the defaults, on). */
static inline bool vd_options_sandboxed(const struct vd_options *opts)
{
   return !opts || !opts->no_sandbox;
}

#endif
