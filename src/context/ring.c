/* Rings: one thread per guest ring, decoding commands the guest writes into shared memory.
 *
 * Layout and protocol: docs/protocol.md "Rings".  head/tail are free-running u32 byte
 * counters; the guest owns tail, we own head and status.  After each command we publish the
 * new head with release ordering, after its reply has been written.  When no data arrives
 * for idleTimeout we set IDLE and sleep until vkNotifyRingMESA; the seq_cst
 * store-then-load pairs on both sides make that race-free.  A monitor thread keeps ALIVE
 * set on monitored rings so the guest's watchdog does not abort long waits. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "context/context_priv.h"
#include "util/options.h"
#include "util/assert_locked.h"
#include "platform/platform.h"
#include "util/log.h"
#include "util/clock.h"
#include "vn_protocol.h"

#define VD_RING_MAX_BUFFER (16u << 20)

struct vd_ring {
   uint64_t id;
   struct vd_context *ctx;
   struct vd_resource *res;
   _Atomic uint32_t *head;
   _Atomic uint32_t *tail;
   _Atomic uint32_t *status;
   uint8_t *buffer;
   uint32_t buffer_size;
   uint8_t *extra;
   uint64_t extra_size;
   uint64_t idle_timeout_ns;
   uint32_t monitor_period_us; /* 0: not monitored */
   bool has_priority;
   int32_t priority;

   pthread_t thread;
   bool started;
   atomic_bool stop;       /* set under ctx->ring_mutex */
   uint64_t sleep_gen;     /* times it went to sleep, under ctx->ring_mutex */
   bool notified;          /* under ctx->ring_mutex */
   bool sleeping;          /* waiting for a notify, under ctx->ring_mutex */
   bool waiting_vq;        /* blocked in vkWaitVirtqueueSeqnoMESA, under ctx->ring_mutex */
   uint64_t vq_wait_seqno; /* the seqno it waits for there, under ctx->ring_mutex */
   uint64_t vq_seqno;      /* last vkSubmitVirtqueueSeqnoMESA value, under ctx->ring_mutex */
   _Atomic uint32_t progress_waiters;
   uint8_t *cmds; /* commands copied out of the ring */
   uint32_t batch_start;
   struct vd_dispatch disp;
   struct vd_ring *next;
};

static void deadline_after(struct timespec *ts, uint64_t ns)
{
   clock_gettime(CLOCK_MONOTONIC, ts);
   uint64_t t = (uint64_t)ts->tv_nsec + ns;
   ts->tv_sec += (time_t)(t / 1000000000ull);
   ts->tv_nsec = (long)(t % 1000000000ull);
}

/* Wrap-aware "a >= b" on the 32-bit ring counters. */
static bool seqno_ge(uint32_t a, uint32_t b)
{
   return (uint32_t)(a - b) <= INT32_MAX;
}

static struct vd_ring *find_ring_locked(struct vd_context *ctx, uint64_t id)
{
   vd_assert_locked(&ctx->ring_mutex);
   for (struct vd_ring *r = ctx->rings; r; r = r->next)
      if (r->id == id)
         return r;
   return NULL;
}

static void ring_head_advanced(void *cookie, size_t consumed)
{
   struct vd_ring *ring = cookie;
   atomic_store_explicit(ring->head, ring->batch_start + (uint32_t)consumed, memory_order_release);
   if (atomic_load_explicit(&ring->progress_waiters, memory_order_acquire)) {
      pthread_mutex_lock(&ring->ctx->ring_mutex);
      pthread_cond_broadcast(&ring->ctx->ring_cond);
      pthread_mutex_unlock(&ring->ctx->ring_mutex);
   }
}

bool vd_ring_stopping(struct vd_ring *ring)
{
   return atomic_load_explicit(&ring->stop, memory_order_relaxed) ||
          atomic_load_explicit(&ring->ctx->fatal, memory_order_relaxed);
}

#define VD_RING_NAP_NS 20000u

/* A short timed wait while the ring is empty but not yet idle. */
static void ring_nap(struct vd_ring *ring, uint32_t cur)
{
   struct vd_context *ctx = ring->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   if (!ring->notified && !ring->stop &&
       atomic_load_explicit(ring->tail, memory_order_acquire) == cur) {
      struct timespec ts;
      deadline_after(&ts, VD_RING_NAP_NS);
      pthread_cond_timedwait(&ctx->ring_cond, &ctx->ring_mutex, &ts);
   }
   ring->notified = false;
   pthread_mutex_unlock(&ctx->ring_mutex);
}

/* Sleeps until notified (or stopped).  Returns false if the ring must stop. */
static bool ring_sleep(struct vd_ring *ring, uint32_t cur)
{
   atomic_fetch_or_explicit(ring->status, VK_RING_STATUS_IDLE_BIT_MESA, memory_order_seq_cst);
   if (atomic_load_explicit(ring->tail, memory_order_seq_cst) != cur) {
      atomic_fetch_and_explicit(ring->status, ~VK_RING_STATUS_IDLE_BIT_MESA, memory_order_seq_cst);
      return true;
   }
   struct vd_context *ctx = ring->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   ring->sleeping = true;
   ring->sleep_gen++;
   pthread_cond_broadcast(&ctx->ring_cond); /* a WaitRingSeqno may be watching */
   while (!ring->notified && !ring->stop && !atomic_load(&ctx->fatal)) {
      /* The notify protocol is race-free; the timeout only bounds the damage of a guest
       * that forgets to notify. */
      struct timespec ts;
      deadline_after(&ts, 100 * 1000000ull);
      pthread_cond_timedwait(&ctx->ring_cond, &ctx->ring_mutex, &ts);
      if (atomic_load_explicit(ring->tail, memory_order_acquire) != cur)
         break;
   }
   ring->notified = false;
   ring->sleeping = false;
   bool stop = ring->stop;
   pthread_mutex_unlock(&ctx->ring_mutex);
   atomic_fetch_and_explicit(ring->status, ~VK_RING_STATUS_IDLE_BIT_MESA, memory_order_seq_cst);
   return !stop;
}

static void *ring_thread(void *arg)
{
   struct vd_ring *ring = arg;
   struct vd_context *ctx = ring->ctx;
   vd_platform_thread_name("vd-ring");
   /* README: "Lines about a context carry its id and the client's name". */
   char prefix[96];
   snprintf(prefix, sizeof(prefix), "ctx %u %s ring %" PRIx64, ctx->params.id,
            ctx->params.name ? ctx->params.name : "?", ring->id);
   vd_log_set_thread_prefix(prefix);
   if (ring->has_priority) {
      /* A guest may lower its ring's priority, never raise it above venusd's own: a
       * venusd running as root would otherwise give a guest nice -20. */
      errno = 0;
      const int own = getpriority(PRIO_PROCESS, 0);
      int prio = ring->priority;
      if (!errno && prio < own) {
         vd_info(VD_CAT_RING,
                 "ring %" PRIx64 ": priority %d asked for, clamped to venusd's "
                 "own %d",
                 ring->id, prio, own);
         prio = own;
      }
      if (prio > 19)
         prio = 19;
      if (setpriority(PRIO_PROCESS, 0, prio) < 0)
         vd_dbg(VD_CAT_RING, "ring %" PRIx64 ": cannot apply priority %d: %s", ring->id, prio,
                strerror(errno));
   }

   /* An empty ring must be watched for the guest's whole idleTimeout before it may be
    * marked idle: Mesa sends vkNotifyRingMESA at most once per idleTimeout (1 ms), so a
    * ring that went idle sooner would miss commands until the 100 ms safety timeout.
    * For the first --ring-spin-us it yield-polls (yielding, so that on a host with fewer
    * cores than runnable threads the guest's own threads get the core); for the rest it
    * naps in short timed waits that vkWaitRingSeqnoMESA cuts short. */
   uint64_t spin_ns = (uint64_t)ctx->params.opts->ring_spin_us * 1000u;
   if (spin_ns > ring->idle_timeout_ns)
      spin_ns = ring->idle_timeout_ns;
   vd_platform_timer_slack(); /* naps of tens of µs, not the default 50 µs slack */
   uint32_t cur = atomic_load_explicit(ring->head, memory_order_relaxed);
   uint64_t last_active = vd_now_ns();
   while (!vd_ring_stopping(ring)) {
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
      if (tail == cur) {
         const uint64_t idle = vd_now_ns() - last_active;
         if (idle < spin_ns) {
            sched_yield();
         } else if (idle < ring->idle_timeout_ns) {
            ring_nap(ring, cur);
         } else {
            if (!ring_sleep(ring, cur))
               break;
            last_active = vd_now_ns();
         }
         continue;
      }
      const uint32_t size = tail - cur;
      if (size > ring->buffer_size || size % 4) {
         vd_dispatch_fatal(&ring->disp, "ring tail %u is %u bytes past head %u (buffer %u bytes)",
                           tail, size, cur, ring->buffer_size);
         break;
      }
      const uint32_t off = cur & (ring->buffer_size - 1);
      const uint32_t first = size < ring->buffer_size - off ? size : ring->buffer_size - off;
      memcpy(ring->cmds, ring->buffer + off, first);
      if (first < size)
         memcpy(ring->cmds + first, ring->buffer, size - first);
      ring->batch_start = cur;
      if (!vd_dispatch_run(&ring->disp, ring->cmds, size, ring_head_advanced, ring))
         break;
      cur = tail;
      last_active = vd_now_ns();
   }
   return NULL;
}

/* -- monitor ---------------------------------------------------------------------------- */

static void *monitor_thread(void *arg)
{
   vd_platform_thread_name("vd-monitor");
   struct vd_context *ctx = arg;
   pthread_mutex_lock(&ctx->ring_mutex);
   while (!ctx->monitor_stop) {
      if (!atomic_load(&ctx->fatal)) {
         for (struct vd_ring *r = ctx->rings; r; r = r->next)
            if (r->monitor_period_us)
               atomic_fetch_or(r->status, VK_RING_STATUS_ALIVE_BIT_MESA);
      }
      struct timespec ts;
      /* Twice per requested period, so one late wakeup never misses a report. */
      deadline_after(&ts, (uint64_t)ctx->monitor_period_us * 1000ull / 2);
      pthread_cond_timedwait(&ctx->monitor_cond, &ctx->ring_mutex, &ts);
   }
   pthread_mutex_unlock(&ctx->ring_mutex);
   return NULL;
}

/* -- creation and validation -------------------------------------------------------------- */

struct region {
   const char *name;
   uint64_t off, size;
};

static bool validate_layout(struct vd_dispatch *d, const VkRingCreateInfoMESA *info,
                            const struct vd_resource *res)
{
   if (info->offset > res->size || info->size > res->size - info->offset) {
      vd_dispatch_fatal(d, "ring area [%zu, +%zu) is outside resource %u (%" PRIu64 " bytes)",
                        info->offset, info->size, info->resourceId, res->size);
      return false;
   }
   if (info->offset % 4) {
      vd_dispatch_fatal(d, "ring offset %zu is not 4-byte aligned", info->offset);
      return false;
   }
   const struct region r[] = {
      { "head", info->headOffset, 4 },
      { "tail", info->tailOffset, 4 },
      { "status", info->statusOffset, 4 },
      { "buffer", info->bufferOffset, info->bufferSize },
      { "extra", info->extraOffset, info->extraSize },
   };
   for (unsigned i = 0; i < 5; i++) {
      if (r[i].off % 4 || r[i].off > info->size || r[i].size > info->size - r[i].off) {
         vd_dispatch_fatal(d,
                           "ring %s region [%" PRIu64 ", +%" PRIu64 ") is misaligned or "
                           "outside the %zu-byte ring area",
                           r[i].name, r[i].off, r[i].size, info->size);
         return false;
      }
      for (unsigned j = 0; j < i; j++) {
         if (!r[i].size || !r[j].size)
            continue;
         if (r[i].off < r[j].off + r[j].size && r[j].off < r[i].off + r[i].size) {
            vd_dispatch_fatal(d, "ring %s and %s regions overlap", r[i].name, r[j].name);
            return false;
         }
      }
   }
   if (!info->bufferSize || (info->bufferSize & (info->bufferSize - 1)) ||
       info->bufferSize > VD_RING_MAX_BUFFER) {
      vd_dispatch_fatal(d, "ring buffer size %zu must be a power of two <= %u", info->bufferSize,
                        VD_RING_MAX_BUFFER);
      return false;
   }
   return true;
}

bool vd_ring_create(struct vd_dispatch *d, uint64_t ring_id, const void *create_info)
{
   const VkRingCreateInfoMESA *info = create_info;
   struct vd_context *ctx = d->ctx;
   struct vd_resource *res = vd_context_get_resource(ctx, info->resourceId);
   if (!res || !res->ptr) {
      vd_dispatch_fatal(d, "ring resource %u %s", info->resourceId,
                        res ? "is not mappable shared memory" : "does not exist");
      if (res)
         vd_resource_unref(res);
      return false;
   }
   if (!validate_layout(d, info, res)) {
      vd_resource_unref(res);
      return false;
   }
   struct vd_ring *ring = calloc(1, sizeof(*ring));
   uint8_t *cmds = malloc(info->bufferSize);
   if (!ring || !cmds) {
      free(ring);
      free(cmds);
      vd_resource_unref(res);
      vd_dispatch_fatal(d, "out of memory creating a ring");
      return false;
   }
   uint8_t *base = res->ptr + info->offset;
   ring->id = ring_id;
   ring->ctx = ctx;
   ring->res = res;
   ring->head = (_Atomic uint32_t *)(base + info->headOffset);
   ring->tail = (_Atomic uint32_t *)(base + info->tailOffset);
   ring->status = (_Atomic uint32_t *)(base + info->statusOffset);
   ring->buffer = base + info->bufferOffset;
   ring->buffer_size = (uint32_t)info->bufferSize;
   ring->extra = base + info->extraOffset;
   ring->extra_size = info->extraSize;
   ring->idle_timeout_ns = info->idleTimeout;
   if (ring->idle_timeout_ns > 1000000000ull)
      ring->idle_timeout_ns = 1000000000ull;
   ring->cmds = cmds;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA) {
         const VkRingMonitorInfoMESA *m = (const void *)s;
         if (!m->maxReportingPeriodMicroseconds) {
            vd_dispatch_fatal(d, "VkRingMonitorInfoMESA.maxReportingPeriodMicroseconds is 0");
            free(cmds);
            free(ring);
            vd_resource_unref(res);
            return false;
         }
         ring->monitor_period_us = m->maxReportingPeriodMicroseconds;
         if (ring->monitor_period_us < VD_MIN_MONITOR_PERIOD_US) {
            /* Spec deviation for guests only: Mesa asks for seconds; a period of a few
             * microseconds would keep the monitor thread busy. */
            vd_info(VD_CAT_RING,
                    "context %u: ring %" PRIx64 ": monitor period %u us raised "
                    "to the minimum %u us",
                    ctx->params.id, ring_id, ring->monitor_period_us, VD_MIN_MONITOR_PERIOD_US);
            ring->monitor_period_us = VD_MIN_MONITOR_PERIOD_US;
         }
      } else if (s->sType == VK_STRUCTURE_TYPE_RING_PRIORITY_INFO_MESA) {
         ring->has_priority = true;
         ring->priority = ((const VkRingPriorityInfoMESA *)s)->priority;
      }
   }
   char name[32];
   snprintf(name, sizeof(name), "ring %" PRIx64, ring_id);
   vd_dispatch_init(&ring->disp, ctx, ring, name);

   pthread_mutex_lock(&ctx->ring_mutex);
   uint32_t count = 0;
   for (const struct vd_ring *r = ctx->rings; r; r = r->next)
      count++;
   const uint32_t max_rings =
      ctx->params.opts->max_rings ? ctx->params.opts->max_rings : VD_MAX_RINGS_DEFAULT;
   if (count >= max_rings) {
      pthread_mutex_unlock(&ctx->ring_mutex);
      vd_dispatch_fini(&ring->disp);
      free(cmds);
      free(ring);
      vd_resource_unref(res);
      vd_dispatch_fatal(d,
                        "the context already has %u rings, the most "
                        "allowed (--max-rings %u)",
                        count, max_rings);
      return false;
   }
   if (find_ring_locked(ctx, ring_id)) {
      pthread_mutex_unlock(&ctx->ring_mutex);
      vd_dispatch_fini(&ring->disp);
      free(cmds);
      free(ring);
      vd_resource_unref(res);
      vd_dispatch_fatal(d, "ring %" PRIx64 " already exists", ring_id);
      return false;
   }
   /* The ring's thread, and the monitor's if this is the first monitored ring. */
   const bool start_monitor = ring->monitor_period_us && !ctx->monitor_running;
   const uint32_t threads = start_monitor ? 2 : 1;
   if (!vd_limit_charge(ctx, VD_LIMIT_THREADS, threads)) {
      pthread_mutex_unlock(&ctx->ring_mutex);
      vd_dispatch_fini(&ring->disp);
      free(cmds);
      free(ring);
      vd_resource_unref(res);
      vd_dispatch_fatal(d,
                        "ring %" PRIx64 " not created: the context runs %" PRIu64
                        " threads, the most allowed (--max-threads %" PRIu64 ")",
                        ring_id, vd_limit_used(ctx, VD_LIMIT_THREADS),
                        vd_limit_max(ctx->params.opts, VD_LIMIT_THREADS));
      return false;
   }
   ring->next = ctx->rings;
   ctx->rings = ring;
   if (ring->monitor_period_us) {
      if (!ctx->monitor_period_us || ring->monitor_period_us < ctx->monitor_period_us)
         ctx->monitor_period_us = ring->monitor_period_us;
      atomic_fetch_or(ring->status, VK_RING_STATUS_ALIVE_BIT_MESA);
   }
   if (start_monitor) {
      ctx->monitor_stop = false;
      if (pthread_create(&ctx->monitor_thread, NULL, monitor_thread, ctx) == 0) {
         ctx->monitor_running = true;
      } else {
         vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
         vd_err(VD_CAT_RING, "context %u: cannot start the ring monitor thread", ctx->params.id);
      }
   }
   int err = pthread_create(&ring->thread, NULL, ring_thread, ring);
   ring->started = err == 0;
   if (err)
      vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
   pthread_mutex_unlock(&ctx->ring_mutex);
   if (err) {
      vd_dispatch_fatal(d, "cannot start a ring thread: %s", strerror(err));
      return false;
   }
   vd_dbg(VD_CAT_RING, "context %u: ring %" PRIx64 " created (buffer %u bytes, monitor %u us)",
          ctx->params.id, ring_id, ring->buffer_size, ring->monitor_period_us);
   return true;
}

static void ring_free(struct vd_ring *ring)
{
   struct vd_context *ctx = ring->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   ring->stop = true;
   pthread_cond_broadcast(&ctx->ring_cond);
   pthread_mutex_unlock(&ctx->ring_mutex);
   if (ring->started) {
      pthread_join(ring->thread, NULL);
      vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
   }
   vd_dispatch_fini(&ring->disp);
   vd_resource_unref(ring->res);
   free(ring->cmds);
   free(ring);
}

void vd_ring_destroy(struct vd_context *ctx, uint64_t ring_id)
{
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring **p = &ctx->rings;
   while (*p && (*p)->id != ring_id)
      p = &(*p)->next;
   struct vd_ring *ring = *p;
   if (ring)
      *p = ring->next;
   pthread_mutex_unlock(&ctx->ring_mutex);
   if (ring)
      ring_free(ring);
   else
      vd_dbg(VD_CAT_RING, "context %u: destroy of unknown ring %" PRIx64, ctx->params.id, ring_id);
}

void vd_rings_destroy_all(struct vd_context *ctx)
{
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring *rings = ctx->rings;
   ctx->rings = NULL;
   for (struct vd_ring *r = rings; r; r = r->next)
      r->stop = true;
   ctx->monitor_stop = true;
   pthread_cond_broadcast(&ctx->ring_cond);
   pthread_cond_broadcast(&ctx->monitor_cond);
   pthread_mutex_unlock(&ctx->ring_mutex);
   if (ctx->monitor_running) {
      pthread_join(ctx->monitor_thread, NULL);
      vd_limit_release(ctx, VD_LIMIT_THREADS, 1);
   }
   ctx->monitor_running = false;
   while (rings) {
      struct vd_ring *next = rings->next;
      ring_free(rings);
      rings = next;
   }
}

void vd_rings_set_fatal(struct vd_context *ctx)
{
   pthread_mutex_lock(&ctx->ring_mutex);
   for (struct vd_ring *r = ctx->rings; r; r = r->next)
      atomic_fetch_or(r->status, VK_RING_STATUS_FATAL_BIT_MESA);
   pthread_cond_broadcast(&ctx->ring_cond);
   pthread_mutex_unlock(&ctx->ring_mutex);
}

bool vd_ring_notify(struct vd_context *ctx, uint64_t ring_id)
{
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring *ring = find_ring_locked(ctx, ring_id);
   if (ring) {
      ring->notified = true;
      pthread_cond_broadcast(&ctx->ring_cond);
   }
   pthread_mutex_unlock(&ctx->ring_mutex);
   return ring != NULL;
}

bool vd_ring_submit_virtqueue_seqno(struct vd_context *ctx, uint64_t ring_id, uint64_t seqno)
{
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring *ring = find_ring_locked(ctx, ring_id);
   if (ring) {
      ring->vq_seqno = seqno;
      pthread_cond_broadcast(&ctx->ring_cond);
   }
   pthread_mutex_unlock(&ctx->ring_mutex);
   return ring != NULL;
}

bool vd_ring_wait_virtqueue_seqno(struct vd_dispatch *d, uint64_t seqno)
{
   struct vd_ring *ring = d->ring;
   struct vd_context *ctx = d->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   ring->waiting_vq = true;
   ring->vq_wait_seqno = seqno;
   pthread_cond_broadcast(&ctx->ring_cond);
   while (!seqno_ge((uint32_t)ring->vq_seqno, (uint32_t)seqno) && !ring->stop &&
          !atomic_load(&ctx->fatal))
      pthread_cond_wait(&ctx->ring_cond, &ctx->ring_mutex);
   ring->waiting_vq = false;
   bool ok = !ring->stop && !atomic_load(&ctx->fatal);
   pthread_mutex_unlock(&ctx->ring_mutex);
   return ok;
}

bool vd_ring_wait_seqno(struct vd_dispatch *d, uint64_t ring_id, uint64_t seqno)
{
   struct vd_context *ctx = d->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring *ring = find_ring_locked(ctx, ring_id);
   if (!ring) {
      pthread_mutex_unlock(&ctx->ring_mutex);
      vd_dispatch_fatal(d, "unknown ring %" PRIx64, ring_id);
      return false;
   }
   if (seqno_ge(atomic_load_explicit(ring->head, memory_order_acquire), (uint32_t)seqno)) {
      pthread_mutex_unlock(&ctx->ring_mutex);
      return true;
   }
   ring->notified = true; /* wake it if idle */
   const uint64_t gen = ring->sleep_gen;
   pthread_cond_broadcast(&ctx->ring_cond);
   if (!ring->sleeping) {
      /* A ring that is awake usually gets there within microseconds (the guest waits
       * for this before its first map of new memory): yield-poll briefly before paying
       * for a condvar sleep and wake-up.  Rings are destroyed on this thread only, so
       * `ring` stays valid without the lock. */
      pthread_mutex_unlock(&ctx->ring_mutex);
      const uint64_t until = vd_now_ns() + 50000u;
      bool reached = false;
      while (!(reached = seqno_ge(atomic_load_explicit(ring->head, memory_order_acquire),
                                  (uint32_t)seqno)) &&
             vd_now_ns() < until && !atomic_load(&ctx->fatal))
         sched_yield();
      if (reached)
         return true;
      pthread_mutex_lock(&ctx->ring_mutex);
   }
   atomic_fetch_add(&ring->progress_waiters, 1);
   bool ok = true;
   while (!seqno_ge(atomic_load_explicit(ring->head, memory_order_acquire), (uint32_t)seqno)) {
      if (atomic_load(&ctx->fatal) || ring->stop) {
         ok = false;
         break;
      }
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
      /* A ring that waits for a virtqueue seqno already submitted is only not awake yet
       * (vkSubmitVirtqueueSeqnoMESA earlier on this virtqueue woke it): not a deadlock.
       * Mesa 26's threads hit that window often. */
      const bool vq_blocked =
         ring->waiting_vq && !seqno_ge((uint32_t)ring->vq_seqno, (uint32_t)ring->vq_wait_seqno);
      if ((ring->sleeping && ring->sleep_gen != gen && !seqno_ge(tail, (uint32_t)seqno)) ||
          vq_blocked) {
         /* The ring has consumed everything the guest wrote (or waits on the virtqueue
          * for a seqno not yet submitted, and the virtqueue is us): the seqno can never
          * be reached. */
         pthread_mutex_unlock(&ctx->ring_mutex);
         atomic_fetch_sub(&ring->progress_waiters, 1);
         vd_dispatch_fatal(d,
                           "waiting for ring %" PRIx64 " seqno %" PRIu64 " that it cannot "
                           "reach (tail %u)",
                           ring_id, seqno, tail);
         return false;
      }
      struct timespec ts;
      deadline_after(&ts, 10 * 1000000ull);
      pthread_cond_timedwait(&ctx->ring_cond, &ctx->ring_mutex, &ts);
   }
   pthread_mutex_unlock(&ctx->ring_mutex);
   atomic_fetch_sub(&ring->progress_waiters, 1);
   return ok;
}

bool vd_ring_write_extra(struct vd_dispatch *d, uint64_t ring_id, uint64_t offset, uint32_t value)
{
   struct vd_context *ctx = d->ctx;
   pthread_mutex_lock(&ctx->ring_mutex);
   struct vd_ring *ring = find_ring_locked(ctx, ring_id);
   bool ok =
      ring && offset % 4 == 0 && offset <= ring->extra_size && ring->extra_size - offset >= 4;
   if (ok)
      atomic_store_explicit((_Atomic uint32_t *)(ring->extra + offset), value,
                            memory_order_release);
   pthread_mutex_unlock(&ctx->ring_mutex);
   if (!ok)
      vd_dispatch_fatal(d, "vkWriteRingExtraMESA: bad ring %" PRIx64 " or offset %" PRIu64, ring_id,
                        offset);
   return ok;
}
