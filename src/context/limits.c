/* Per-context resource limits (limits.h): charging, the once-per-context log line, and the
 * OS limits of the process model.  The defaults and why no real guest reaches them are in
 * options.h. */
#include <inttypes.h>
#include <sys/resource.h>

#include "context/context_priv.h"
#include "context/limits.h"
#include "util/options.h"
#include "util/log.h"

static const struct {
   const char *name; /* in the log line */
   const char *unit;
   const char *option; /* raises it */
   uint64_t fallback;  /* the default, used when the option is 0 (unit tests) */
} limit_info[VD_LIMIT_COUNT] = {
   [VD_LIMIT_OBJECTS] = { "objects", "objects", "--max-objects", VD_MAX_OBJECTS_DEFAULT },
   [VD_LIMIT_MEMORY] = { "device memory", "bytes", "--max-memory", 0 },
   [VD_LIMIT_BLOBS] = { "blobs", "blobs", "--max-blobs", VD_MAX_BLOBS_DEFAULT },
   [VD_LIMIT_BLOB_BYTES] = { "shared-memory blob bytes", "bytes", "--max-blob-bytes",
                             VD_MAX_BLOB_BYTES_DEFAULT },
   [VD_LIMIT_FDS] = { "file descriptors", "fds", "--max-fds", VD_MAX_FDS_DEFAULT },
   [VD_LIMIT_WAITS] = { "pending waits", "waits", "--max-waits", VD_MAX_WAITS_DEFAULT },
   [VD_LIMIT_THREADS] = { "threads", "threads", "--max-threads", VD_MAX_THREADS_DEFAULT },
};

/* Thread mode (vd_limits_init_thread_mode): fds all contexts of this process may hold
 * together, and what one context may hold of them.  0: no shared budget (process mode). */
static uint64_t thread_fd_budget, thread_fd_share, thread_fd_rlimit;
static _Atomic uint64_t thread_fds_used;

/* fds kept back from the clients' budget: the listener, accept(), the log, the loader and
 * driver (ICD manifests, shared objects, /proc and /sys reads) and fds in transit to a
 * client.  lavapipe and the loader hold fewer than 50; the rest is headroom. */
#define VD_FD_RESERVE 1024

uint64_t vd_limit_max(const struct vd_options *opts, enum vd_limit limit)
{
   uint64_t v = 0;
   switch (opts ? limit : VD_LIMIT_COUNT) {
   case VD_LIMIT_OBJECTS: v = opts->max_objects; break;
   case VD_LIMIT_MEMORY: v = opts->max_memory; break;
   case VD_LIMIT_BLOBS: v = opts->max_blobs; break;
   case VD_LIMIT_BLOB_BYTES: v = opts->max_blob_bytes; break;
   case VD_LIMIT_FDS: v = opts->max_fds; break;
   case VD_LIMIT_WAITS: v = opts->max_waits; break;
   case VD_LIMIT_THREADS: v = opts->max_threads; break;
   case VD_LIMIT_COUNT: break;
   }
   return v ? v : limit_info[limit].fallback;
}

/* True the first time `limit` is hit in ctx. */
static bool first_hit(struct vd_context *ctx, enum vd_limit limit)
{
   const unsigned bit = 1u << limit;
   return !(atomic_fetch_or(&ctx->limits.logged, bit) & bit);
}

static void log_hit(struct vd_context *ctx, enum vd_limit limit, uint64_t used, uint64_t n,
                    uint64_t max)
{
   if (!first_hit(ctx, limit))
      return;
   vd_warn(VD_CAT_CONTEXT,
           "context %u (%s): limit reached: %s: %" PRIu64 " %s in use, %" PRIu64
           " more asked for, %" PRIu64 " allowed (raise it with %s N); logged once per context",
           ctx->params.id, ctx->name, limit_info[limit].name, used, limit_info[limit].unit, n, max,
           limit_info[limit].option);
}

/* Adds n to *counter unless that passes max; returns the value before, or UINT64_MAX. */
static uint64_t add_bounded(_Atomic uint64_t *counter, uint64_t n, uint64_t max)
{
   uint64_t cur = atomic_load(counter);
   do {
      if (n > max || cur > max - n)
         return UINT64_MAX;
   } while (!atomic_compare_exchange_weak(counter, &cur, cur + n));
   return cur;
}

/* Thread mode: the process-wide fd budget, shared by every context of this process. */
static bool charge_thread_fds(struct vd_context *ctx, uint64_t n)
{
   if (add_bounded(&thread_fds_used, n, thread_fd_budget) != UINT64_MAX)
      return true;
   if (first_hit(ctx, VD_LIMIT_FDS))
      vd_warn(VD_CAT_CONTEXT,
              "context %u (%s): limit reached: file descriptors of all "
              "thread-mode contexts together: %" PRIu64 " in use, %" PRIu64 " more asked for, "
              "%" PRIu64 " allowed (RLIMIT_NOFILE %" PRIu64 " less %" PRIu64 " kept for the "
              "listener and the driver); run venusd with --worker process or a higher "
              "ulimit -n; logged once per context",
              ctx->params.id, ctx->name, atomic_load(&thread_fds_used), n, thread_fd_budget,
              thread_fd_rlimit, thread_fd_rlimit - thread_fd_budget);
   return false;
}

bool vd_limit_charge_max(struct vd_context *ctx, enum vd_limit limit, uint64_t n,
                         uint64_t default_max)
{
   uint64_t max = vd_limit_max(ctx->params.opts, limit);
   if (!max) /* no option and no fixed default (device memory): the caller's */
      max = default_max ? default_max : UINT64_MAX;
   if (limit == VD_LIMIT_FDS && thread_fd_budget && thread_fd_share < max)
      max = thread_fd_share; /* one thread-mode client may not take the others' fds */
   const uint64_t before = add_bounded(&ctx->limits.used[limit], n, max);
   if (before == UINT64_MAX) {
      log_hit(ctx, limit, atomic_load(&ctx->limits.used[limit]), n, max);
      return false;
   }
   if (limit == VD_LIMIT_FDS && thread_fd_budget && !charge_thread_fds(ctx, n)) {
      atomic_fetch_sub(&ctx->limits.used[limit], n);
      return false;
   }
   return true;
}

bool vd_limit_charge(struct vd_context *ctx, enum vd_limit limit, uint64_t n)
{
   return vd_limit_charge_max(ctx, limit, n, 0);
}

void vd_limit_release(struct vd_context *ctx, enum vd_limit limit, uint64_t n)
{
   atomic_fetch_sub(&ctx->limits.used[limit], n);
   if (limit == VD_LIMIT_FDS && thread_fd_budget)
      atomic_fetch_sub(&thread_fds_used, n);
}

uint64_t vd_limit_used(const struct vd_context *ctx, enum vd_limit limit)
{
   return atomic_load(&((struct vd_context *)ctx)->limits.used[limit]);
}

void vd_limits_init_thread_mode(const struct vd_options *opts)
{
   struct rlimit rl;
   if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
      return;
   /* venusd never uses select(), so the soft limit may go up to the hard one. */
   if (rl.rlim_cur < rl.rlim_max) {
      const rlim_t old = rl.rlim_cur;
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
         rl.rlim_cur = old;
   }
   uint64_t lim = rl.rlim_cur == RLIM_INFINITY ? (1ull << 20) : (uint64_t)rl.rlim_cur;
   /* A quarter is kept back (at least 64 fds, at most VD_FD_RESERVE), so the listener can
    * accept and the other clients can work when the contexts' fds are all taken. */
   uint64_t reserve = lim / 4;
   reserve = reserve < 64 ? 64 : reserve > VD_FD_RESERVE ? VD_FD_RESERVE : reserve;
   thread_fd_rlimit = lim;
   thread_fd_budget = lim > reserve ? lim - reserve : 1;
   thread_fd_share = thread_fd_budget / 2 ? thread_fd_budget / 2 : 1;
   vd_info(VD_CAT_MAIN,
           "thread workers: all contexts together may hold %" PRIu64 " fds "
           "(RLIMIT_NOFILE %" PRIu64 " less %" PRIu64 " kept back), one context at most %" PRIu64,
           thread_fd_budget, lim, lim - thread_fd_budget,
           thread_fd_share < vd_limit_max(opts, VD_LIMIT_FDS) ? thread_fd_share
                                                              : vd_limit_max(opts, VD_LIMIT_FDS));
}

void vd_limits_apply_process_worker(const struct vd_options *opts)
{
   /* RLIMIT_NOFILE: the context's own fds (--max-fds, counted by venusd, which fails the
    * request cleanly first) plus a reserve for the driver and the loader.  The hard limit
    * goes down too, so nothing in the worker raises it again.
    *
    * RLIMIT_NPROC is deliberately left alone: the kernel counts it per real user id over
    * every process and thread of that user (the server, the other workers, the user's own
    * programs), not per process, so lowering it in one worker would make its thread
    * creation fail depending on what other contexts do.  Threads per context are counted
    * by venusd itself (--max-threads); the driver's own threads (llvmpipe: one set per
    * device) are bounded through the objects limit. */
   struct rlimit rl;
   if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
      return;
   const uint64_t want = vd_limit_max(opts, VD_LIMIT_FDS) + VD_FD_RESERVE;
   rlim_t lim = (rlim_t)want;
   if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < lim)
      lim = rl.rlim_max;
   rl.rlim_cur = lim;
   rl.rlim_max = lim;
   if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      vd_warn(VD_CAT_MAIN,
              "worker: cannot set RLIMIT_NOFILE to %" PRIu64 ": the worker "
              "keeps the server's fd limit",
              (uint64_t)lim);
   else
      vd_dbg(VD_CAT_MAIN,
             "worker: RLIMIT_NOFILE set to %" PRIu64 " (--max-fds %" PRIu64 " + %u for the driver)",
             (uint64_t)lim, vd_limit_max(opts, VD_LIMIT_FDS), VD_FD_RESERVE);
}
