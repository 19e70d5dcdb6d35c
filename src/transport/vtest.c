/* vtest server: socket, process/thread workers, and the per-client protocol loop.
 *
 * Protocol facts (docs/protocol.md §1): every message is {u32 length, u32 command} and a
 * payload; length counts payload dwords, except CREATE_RENDERER's, which counts bytes.
 * Replies reuse the request's command id.  A reply that carries an fd is followed by one
 * data byte sent with sendmsg() and an SCM_RIGHTS control message.
 *
 * Threads: the client's own thread (a worker process's main thread, or a worker thread)
 * reads the socket, executes commands and writes every reply; nothing else writes the
 * socket.  The context's threads call fence_retired(), which only touches the sync table
 * (syncs, pending fences, pending waits), so that table has a mutex. */
#include "transport/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "context/context.h"
#include "context/limits.h"
#include "context/protocol.h"
#include "platform/platform.h"
#include "util/options.h"
#include "sandbox/sandbox.h"
#include "transport/capset.h"
#include "transport/listener.h"
#include "transport/worker.h"
#include "util/log.h"
#include "util/assert_locked.h"
#include "util/clock.h"

/* -- protocol constants (vtest_protocol.h numbering) -------------------------------------- */

enum {
   VCMD_GET_CAPS = 1,
   VCMD_RESOURCE_CREATE = 2,
   VCMD_RESOURCE_UNREF = 3,
   VCMD_TRANSFER_GET = 4,
   VCMD_TRANSFER_PUT = 5,
   VCMD_SUBMIT_CMD = 6,
   VCMD_RESOURCE_BUSY_WAIT = 7,
   VCMD_CREATE_RENDERER = 8,
   VCMD_GET_CAPS2 = 9,
   VCMD_PING_PROTOCOL_VERSION = 10,
   VCMD_PROTOCOL_VERSION = 11,
   VCMD_RESOURCE_CREATE2 = 12,
   VCMD_TRANSFER_GET2 = 13,
   VCMD_TRANSFER_PUT2 = 14,
   VCMD_GET_PARAM = 15,
   VCMD_GET_CAPSET = 16,
   VCMD_CONTEXT_INIT = 17,
   VCMD_RESOURCE_CREATE_BLOB = 18,
   VCMD_SYNC_CREATE = 19,
   VCMD_SYNC_UNREF = 20,
   VCMD_SYNC_READ = 21,
   VCMD_SYNC_WRITE = 22,
   VCMD_SYNC_WAIT = 23,
   VCMD_SUBMIT_CMD2 = 24,
   VCMD_COUNT_V3 = 25,
};

#define VT_PROTOCOL_VERSION 3u
#define VT_PARAM_MAX_TIMELINE_COUNT 1u
#define VT_BLOB_TYPE_GUEST 1u
#define VT_BLOB_TYPE_HOST3D 2u
#define VT_BLOB_TYPE_HOST3D_GUEST 3u
#define VT_BLOB_FLAGS_KNOWN \
   (VD_BLOB_FLAG_MAPPABLE | VD_BLOB_FLAG_SHAREABLE | VD_BLOB_FLAG_CROSS_DEVICE)
#define VT_SUBMIT_CMD2_FLAG_RING_IDX 1u
/* batch header: flags, cmd_offset, cmd_size, sync_offset, sync_count, ring_idx */
#define VT_SUBMIT_CMD2_BATCH_DWORDS 6u
#define VT_SYNC_WAIT_FLAG_ANY 1u

/* Limits on what a client may make us hold. */
#define VT_MAX_MESSAGE_BYTES (64u << 20)
#define VT_MAX_NAME_BYTES 4096u
#define VT_MAX_SYNCS 65536u
#define VT_MAX_FENCES 65536u
#define VT_KEEP_BUFFER_BYTES (1u << 20) /* larger message buffers are freed after use */

/* What each command's payload must look like; -1 = variable (checked by its handler). */
struct vt_cmd_info {
   const char *name;
   int32_t dwords;
   bool needs_context;
   bool gl_only;
};

static const struct vt_cmd_info vt_cmds[VCMD_COUNT_V3] = {
   [VCMD_GET_CAPS] = { "GET_CAPS", -1, false, true },
   [VCMD_RESOURCE_CREATE] = { "RESOURCE_CREATE", -1, false, true },
   [VCMD_RESOURCE_UNREF] = { "RESOURCE_UNREF", 1, true, false },
   [VCMD_TRANSFER_GET] = { "TRANSFER_GET", -1, false, true },
   [VCMD_TRANSFER_PUT] = { "TRANSFER_PUT", -1, false, true },
   [VCMD_SUBMIT_CMD] = { "SUBMIT_CMD", -1, false, true },
   [VCMD_RESOURCE_BUSY_WAIT] = { "RESOURCE_BUSY_WAIT", 2, false, false },
   [VCMD_CREATE_RENDERER] = { "CREATE_RENDERER", -1, false, false },
   [VCMD_GET_CAPS2] = { "GET_CAPS2", -1, false, true },
   [VCMD_PING_PROTOCOL_VERSION] = { "PING_PROTOCOL_VERSION", 0, false, false },
   [VCMD_PROTOCOL_VERSION] = { "PROTOCOL_VERSION", 1, false, false },
   [VCMD_RESOURCE_CREATE2] = { "RESOURCE_CREATE2", -1, false, true },
   [VCMD_TRANSFER_GET2] = { "TRANSFER_GET2", -1, false, true },
   [VCMD_TRANSFER_PUT2] = { "TRANSFER_PUT2", -1, false, true },
   [VCMD_GET_PARAM] = { "GET_PARAM", 1, false, false },
   [VCMD_GET_CAPSET] = { "GET_CAPSET", 2, false, false },
   [VCMD_CONTEXT_INIT] = { "CONTEXT_INIT", 1, false, false },
   [VCMD_RESOURCE_CREATE_BLOB] = { "RESOURCE_CREATE_BLOB", 6, true, false },
   [VCMD_SYNC_CREATE] = { "SYNC_CREATE", 2, false, false },
   [VCMD_SYNC_UNREF] = { "SYNC_UNREF", 1, false, false },
   [VCMD_SYNC_READ] = { "SYNC_READ", 1, false, false },
   [VCMD_SYNC_WRITE] = { "SYNC_WRITE", 3, false, false },
   [VCMD_SYNC_WAIT] = { "SYNC_WAIT", -1, false, false },
   [VCMD_SUBMIT_CMD2] = { "SUBMIT_CMD2", -1, true, false },
};

static const char *cmd_name(uint32_t cmd)
{
   return cmd < VCMD_COUNT_V3 && vt_cmds[cmd].name ? vt_cmds[cmd].name : "unknown command";
}

/* -- socket I/O ------------------------------------------------------------------------------ */

/* Reads exactly len bytes.  Returns 1 on success, 0 on end-of-file before the first byte,
 * -1 on an error or end-of-file part-way (errno = EPIPE then). */
static int read_full(int fd, void *buf, size_t len, uint64_t spin_ns)
{
   uint8_t *p = buf;
   size_t got = 0;
   /* Mesa writes a command's header and body with separate write()s, and a write that
    * has to wake a sleeping reader costs the guest far more than one that does not
    * (tens of µs on a virtualised host).  So when nothing is there yet, poll without
    * blocking for --spin-us before sleeping in read(). */
   uint64_t spin_until = 0;
   while (got < len) {
      ssize_t n = recv(fd, p + got, len - got, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
         const uint64_t t = vd_now_ns();
         if (!spin_until)
            spin_until = t + spin_ns;
         if (t < spin_until) {
            sched_yield();
            continue;
         }
         n = read(fd, p + got, len - got);
         spin_until = 0;
      }
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return -1;
      }
      if (n == 0) {
         if (got == 0)
            return 0;
         errno = EPIPE;
         return -1;
      }
      got += (size_t)n;
   }
   return 1;
}

static bool write_full(int fd, const void *buf, size_t len)
{
   const uint8_t *p = buf;
   while (len) {
      ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return false;
      }
      p += n;
      len -= (size_t)n;
   }
   return true;
}

/* Sends fd as Mesa's vtest_receive_fd expects it: one data byte (0) in its own sendmsg,
 * with one SCM_RIGHTS int. */
static bool send_fd(int sock, int fd)
{
   char byte = 0;
   struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = u.buf,
      .msg_controllen = sizeof(u.buf),
   };
   struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
   cm->cmsg_level = SOL_SOCKET;
   cm->cmsg_type = SCM_RIGHTS;
   cm->cmsg_len = CMSG_LEN(sizeof(int));
   memcpy(CMSG_DATA(cm), &fd, sizeof(int));
   for (;;) {
      ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
      if (n == 1)
         return true;
      if (n < 0 && errno == EINTR)
         continue;
      if (n >= 0)
         errno = EIO;
      return false;
   }
}

static pid_t peer_pid(int fd)
{
   return vd_platform_peer_pid(fd);
}

/* -- per-client state ------------------------------------------------------------------------ */

/* A vtest sync: a 64-bit counter.  id = slot index + 1.  A slot is in use while refs > 0;
 * the client holds one ref until SYNC_UNREF, pending waits and fences one each. */
struct vt_sync {
   uint64_t value;
   uint32_t refs;
   bool client_ref;
   uint32_t next_free; /* slot index + 1 of the next free slot, 0 = end */
};

struct vt_sync_ref {
   uint32_t slot;
   uint64_t value;
   bool done; /* wait entries: reached once (latched, like a timeline semaphore) */
};

/* A pending SYNC_WAIT: `fd` is our copy of the eventfd the client polls. */
struct vt_wait {
   struct vt_wait *next;
   int fd;
   struct vd_context *charged; /* charged a wait and an fd to this context's limits */
   bool any;
   uint64_t deadline_ns; /* UINT64_MAX: never expires */
   uint32_t count;
   struct vt_sync_ref e[];
};

/* A SUBMIT_CMD2 batch's syncs, set when fence fence_id on timeline ring_idx retires. */
struct vt_fence {
   struct vt_fence *next;
   uint32_t ring_idx;
   uint64_t fence_id;
   uint32_t count;
   struct vt_sync_ref e[];
};

struct vt_client {
   const struct vd_vtest_config *cfg;
   uint64_t spin_ns; /* --spin-us */
   int fd;
   uint32_t id;
   pid_t pid;
   char name[64];
   bool have_renderer;
   uint32_t protocol_version;
   struct vd_context *ctx;
   uint32_t next_res_id;
   uint64_t next_fence_id;

   uint32_t *buf; /* payload of the current message */
   size_t buf_cap;

   /* sync table; fence_retired() runs on context threads */
   pthread_mutex_t sync_mutex;
   struct vt_sync *syncs;
   uint32_t sync_cap;
   uint32_t free_syncs; /* slot index + 1 of the first free slot, 0 = none */
   uint32_t live_syncs;
   struct vt_wait *waits;
   uint32_t wait_count;
   struct vt_fence *fences, *fences_tail; /* in fence_id order */
   uint32_t fence_count;
};

/* Errors about a client: the thread's log prefix names it ("ctx ID NAME (pid PID)"). */
#define vt_err(...) vd_err(VD_CAT_TRANSPORT, __VA_ARGS__)

static void sync_unref_locked(struct vt_client *c, uint32_t slot)
{
   vd_assert_locked(&c->sync_mutex);
   struct vt_sync *s = &c->syncs[slot];
   if (--s->refs == 0) {
      s->next_free = c->free_syncs;
      c->free_syncs = slot + 1;
      c->live_syncs--;
   }
}

/* The slot of a sync the client may name, or UINT32_MAX. */
static uint32_t sync_lookup_locked(struct vt_client *c, uint32_t id)
{
   vd_assert_locked(&c->sync_mutex);
   if (id == 0 || id > c->sync_cap)
      return UINT32_MAX;
   const struct vt_sync *s = &c->syncs[id - 1];
   return s->refs && s->client_ref ? id - 1 : UINT32_MAX;
}

static void wait_free_locked(struct vt_client *c, struct vt_wait *w)
{
   vd_assert_locked(&c->sync_mutex);
   for (uint32_t i = 0; i < w->count; i++) {
      if (!w->e[i].done)
         sync_unref_locked(c, w->e[i].slot);
   }
   close(w->fd);
   if (w->charged) {
      vd_limit_release(w->charged, VD_LIMIT_WAITS, 1);
      vd_limit_release(w->charged, VD_LIMIT_FDS, 1);
   }
   free(w);
}

/* A kept wait holds an eventfd: it counts as a pending wait and an fd of the context. */
static bool wait_charge(struct vt_client *c, struct vt_wait *w)
{
   if (!c->ctx)
      return true; /* no context yet: nothing to charge; the sync table bounds it */
   if (!vd_limit_charge(c->ctx, VD_LIMIT_WAITS, 1))
      return false;
   if (!vd_limit_charge(c->ctx, VD_LIMIT_FDS, 1)) {
      vd_limit_release(c->ctx, VD_LIMIT_WAITS, 1);
      return false;
   }
   w->charged = c->ctx;
   return true;
}

/* Latches the entries that have reached their values; true if the wait is satisfied. */
static bool wait_update_locked(struct vt_client *c, struct vt_wait *w)
{
   vd_assert_locked(&c->sync_mutex);
   uint32_t done = 0;
   for (uint32_t i = 0; i < w->count; i++) {
      struct vt_sync_ref *e = &w->e[i];
      if (!e->done && c->syncs[e->slot].value >= e->value) {
         e->done = true;
         sync_unref_locked(c, e->slot);
      }
      done += e->done;
   }
   return w->count == 0 || (w->any ? done > 0 : done == w->count);
}

static void signal_eventfd(int fd)
{
   vd_wake_signal(fd);
}

/* Signals satisfied waits and drops expired ones. */
static void check_waits_locked(struct vt_client *c)
{
   vd_assert_locked(&c->sync_mutex);
   if (!c->waits)
      return;
   const uint64_t now = vd_now_ns();
   struct vt_wait **pp = &c->waits;
   while (*pp) {
      struct vt_wait *w = *pp;
      const bool ready = wait_update_locked(c, w);
      if (ready || w->deadline_ns <= now) {
         if (ready)
            signal_eventfd(w->fd);
         *pp = w->next;
         c->wait_count--;
         wait_free_locked(c, w);
      } else {
         pp = &w->next;
      }
   }
}

static void fence_retired(void *cookie, uint32_t ring_idx, uint64_t fence_id)
{
   struct vt_client *c = cookie;
   pthread_mutex_lock(&c->sync_mutex);
   bool changed = false;
   struct vt_fence **pp = &c->fences, *last = NULL;
   while (*pp) {
      struct vt_fence *f = *pp;
      if (f->ring_idx == ring_idx && f->fence_id <= fence_id) {
         for (uint32_t i = 0; i < f->count; i++)
            c->syncs[f->e[i].slot].value = f->e[i].value;
         for (uint32_t i = 0; i < f->count; i++)
            sync_unref_locked(c, f->e[i].slot);
         *pp = f->next;
         c->fence_count--;
         free(f);
         changed = true;
      } else {
         last = f;
         pp = &f->next;
      }
   }
   c->fences_tail = last;
   if (changed)
      check_waits_locked(c);
   pthread_mutex_unlock(&c->sync_mutex);
   vd_trace(VD_CAT_TRANSPORT, "fence %" PRIu64 " on timeline %u retired", fence_id, ring_idx);
}

/* Removes a pending fence that was never queued (vd_context_submit_fence failed). */
static void fence_cancel(struct vt_client *c, uint64_t fence_id)
{
   pthread_mutex_lock(&c->sync_mutex);
   struct vt_fence **pp = &c->fences, *last = NULL;
   while (*pp) {
      struct vt_fence *f = *pp;
      if (f->fence_id == fence_id) {
         for (uint32_t i = 0; i < f->count; i++)
            sync_unref_locked(c, f->e[i].slot);
         *pp = f->next;
         c->fence_count--;
         free(f);
      } else {
         last = f;
         pp = &f->next;
      }
   }
   c->fences_tail = last;
   pthread_mutex_unlock(&c->sync_mutex);
}

/* -- replies --------------------------------------------------------------------------------- */

/* A reply that cannot be sent: a client that went away (killed while it waited, which a
 * valid client may be) is not an error; anything else is. */
static void reply_failed(struct vt_client *c, uint32_t cmd, const char *what)
{
   if (errno == EPIPE || errno == ECONNRESET)
      vd_info(VD_CAT_TRANSPORT, "client %u went away before the %s to %s; dropping it", c->id, what,
              cmd_name(cmd));
   else
      vt_err("cannot send the %s to %s: %s; dropping the client", what, cmd_name(cmd),
             strerror(errno));
}

static bool reply(struct vt_client *c, uint32_t cmd, const uint32_t *payload, uint32_t dwords)
{
   uint32_t msg[2 + 1 + VD_VENUS_CAPSET_DWORDS];
   if (dwords > sizeof(msg) / 4 - 2)
      return false;
   msg[0] = dwords;
   msg[1] = cmd;
   if (dwords)
      memcpy(&msg[2], payload, (size_t)dwords * 4);
   if (!write_full(c->fd, msg, (size_t)(2 + dwords) * 4)) {
      reply_failed(c, cmd, "reply");
      return false;
   }
   return true;
}

static bool reply_fd(struct vt_client *c, uint32_t cmd, int fd)
{
   if (!send_fd(c->fd, fd)) {
      reply_failed(c, cmd, "fd of the reply");
      return false;
   }
   return true;
}

/* -- command handlers: each returns false to drop the client (after logging why) ------------ */

static void set_log_prefix(struct vt_client *c)
{
   char prefix[128];
   if (c->have_renderer)
      snprintf(prefix, sizeof(prefix), "ctx %u %s (pid %ld)", c->id, c->name, (long)c->pid);
   else
      snprintf(prefix, sizeof(prefix), "ctx %u (pid %ld)", c->id, (long)c->pid);
   vd_log_set_thread_prefix(prefix);
}

static bool cmd_create_renderer(struct vt_client *c, const uint32_t *p, uint32_t bytes)
{
   if (c->have_renderer) {
      vt_err("CREATE_RENDERER: sent twice; dropping the client");
      return false;
   }
   /* The process name, NUL-terminated; keep it printable for the logs. */
   const char *s = (const char *)p;
   size_t n = 0;
   for (uint32_t i = 0; i < bytes && s[i] && n < sizeof(c->name) - 1; i++) {
      const unsigned char ch = (unsigned char)s[i];
      c->name[n++] = (ch > ' ' && ch < 0x7f) ? (char)ch : '_';
   }
   c->name[n] = '\0';
   if (!n)
      snprintf(c->name, sizeof(c->name), "unnamed");
   c->have_renderer = true;
   set_log_prefix(c);
   vd_info(VD_CAT_TRANSPORT, "client %u is '%s' (pid %ld)", c->id, c->name, (long)c->pid);
   return true;
}

static bool cmd_protocol_version(struct vt_client *c, const uint32_t *p)
{
   uint32_t v = p[0] < VT_PROTOCOL_VERSION ? p[0] : VT_PROTOCOL_VERSION;
   c->protocol_version = v;
   vd_dbg(VD_CAT_TRANSPORT, "protocol version: client %u, using %u", p[0], v);
   return reply(c, VCMD_PROTOCOL_VERSION, &v, 1);
}

static bool cmd_get_param(struct vt_client *c, const uint32_t *p)
{
   uint32_t r[2] = { 0, 0 };
   if (p[0] == VT_PARAM_MAX_TIMELINE_COUNT) {
      r[0] = 1;
      r[1] = VD_MAX_TIMELINES;
   } else {
      vd_dbg(VD_CAT_TRANSPORT, "GET_PARAM: unknown param %u", p[0]);
   }
   return reply(c, VCMD_GET_PARAM, r, 2);
}

/* The protocol offered in the capset and spoken by the client's context. */
static uint32_t vt_protocol_level(const struct vt_client *c)
{
   return c->cfg->opts->venus_protocol == VD_VENUS_PROTOCOL_MESA25 ? VD_PROTOCOL_MESA25
                                                                   : VD_PROTOCOL_NEWEST;
}

static bool cmd_get_capset(struct vt_client *c, const uint32_t *p)
{
   uint32_t r[1 + VD_VENUS_CAPSET_DWORDS];
   if (p[0] == VD_CAPSET_ID_VENUS && p[1] == 0) {
      r[0] = 1;
      vd_venus_capset_fill(&r[1], vt_protocol_level(c));
      return reply(c, VCMD_GET_CAPSET, r, 1 + VD_VENUS_CAPSET_DWORDS);
   }
   vd_dbg(VD_CAT_TRANSPORT, "GET_CAPSET: capset %u version %u not supported", p[0], p[1]);
   r[0] = 0;
   return reply(c, VCMD_GET_CAPSET, r, 1);
}

static bool cmd_context_init(struct vt_client *c, const uint32_t *p)
{
   if (p[0] != VD_CAPSET_ID_VENUS) {
      vt_err("CONTEXT_INIT: capset %u is not Venus (%u), the only one served; "
             "dropping the client",
             p[0], VD_CAPSET_ID_VENUS);
      return false;
   }
   if (c->ctx) {
      vt_err("CONTEXT_INIT: the client already has a context; dropping the client");
      return false;
   }
   const struct vd_context_params params = {
      .id = c->id,
      .name = c->name,
      .record_dir = c->cfg->opts->record_dir,
      .fence_retired = fence_retired,
      .cookie = c,
      .hooks = c->cfg->hooks,
      .opts = c->cfg->opts,
      /* GET_CAPSET offered this protocol; the guest took the lower of it and its own */
      .protocol_level = vt_protocol_level(c),
   };
   c->ctx = vd_context_create(&params);
   if (!c->ctx) {
      vt_err("CONTEXT_INIT: cannot create the Venus context; dropping the client");
      return false;
   }
   return true;
}

static bool cmd_resource_create_blob(struct vt_client *c, const uint32_t *p)
{
   const uint32_t type = p[0], flags = p[1];
   const uint64_t size = p[2] | (uint64_t)p[3] << 32;
   const uint64_t blob_id = p[4] | (uint64_t)p[5] << 32;
   if (type != VT_BLOB_TYPE_HOST3D) {
      vt_err("RESOURCE_CREATE_BLOB: blob type %u is not supported (only HOST3D = %u); "
             "dropping the client",
             type, VT_BLOB_TYPE_HOST3D);
      return false;
   }
   if (flags & ~VT_BLOB_FLAGS_KNOWN) {
      vt_err("RESOURCE_CREATE_BLOB: unknown flags 0x%x; dropping the client", flags);
      return false;
   }
   const uint32_t res_id = c->next_res_id++;
   if (c->next_res_id == 0)
      c->next_res_id = 1;
   struct vd_blob blob;
   memset(&blob, 0, sizeof(blob));
   blob.fd = -1;
   const int ret = vd_context_create_blob(c->ctx, res_id, blob_id, size, flags, &blob);
   if (ret < 0 || blob.fd < 0) {
      /* Mesa has no way to handle a failed blob (it aborts when no fd arrives). */
      vt_err("RESOURCE_CREATE_BLOB (blob_id %" PRIu64 ", size %" PRIu64 ", flags 0x%x) "
             "failed: %s; dropping the client",
             blob_id, size, flags, ret < 0 ? strerror(-ret) : "no fd");
      if (ret == 0) /* no fd, but the resource exists */
         vd_context_destroy_resource(c->ctx, res_id);
      return false;
   }
   vd_dbg(VD_CAT_TRANSPORT,
          "blob res %u: blob_id %" PRIu64 " size %" PRIu64 " flags 0x%x fd type %d", res_id,
          blob_id, size, flags, (int)blob.fd_type);
   const bool ok = reply(c, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1) &&
                   reply_fd(c, VCMD_RESOURCE_CREATE_BLOB, blob.fd);
   close(blob.fd);
   return ok;
}

static bool cmd_resource_unref(struct vt_client *c, const uint32_t *p)
{
   if (p[0])
      vd_context_destroy_resource(c->ctx, p[0]);
   return true;
}

/* SUBMIT_CMD2 (docs/protocol.md §1.7): dword 0 batch_count, then batch_count headers of 6
 * dwords {flags, cmd_offset, cmd_size, sync_offset, sync_count, ring_idx}.  Offsets and sizes
 * are in dwords from the payload start and are what we go by. */
static bool cmd_submit_cmd2(struct vt_client *c, const uint32_t *p, uint32_t dwords)
{
   if (dwords < 1) {
      vt_err("SUBMIT_CMD2: empty message (no batch_count); dropping the client");
      return false;
   }
   const uint32_t batch_count = p[0];
   if ((uint64_t)1 + (uint64_t)batch_count * VT_SUBMIT_CMD2_BATCH_DWORDS > dwords) {
      vt_err("SUBMIT_CMD2: batch_count %u needs %" PRIu64 " header dwords, the message "
             "has %u; dropping the client",
             batch_count, (uint64_t)1 + (uint64_t)batch_count * VT_SUBMIT_CMD2_BATCH_DWORDS,
             dwords);
      return false;
   }
   /* Check every batch before running any. */
   for (uint32_t b = 0; b < batch_count; b++) {
      const uint32_t *h = &p[1 + b * VT_SUBMIT_CMD2_BATCH_DWORDS];
      const uint32_t flags = h[0], cmd_off = h[1], cmd_size = h[2], sync_off = h[3],
                     sync_count = h[4], ring_idx = h[5];
      if (flags & ~VT_SUBMIT_CMD2_FLAG_RING_IDX) {
         vt_err("SUBMIT_CMD2: batch %u: unknown flags 0x%x; dropping the client", b, flags);
         return false;
      }
      if ((uint64_t)cmd_off + cmd_size > dwords) {
         vt_err("SUBMIT_CMD2: batch %u: command stream at dword %u, %u dwords long, "
                "ends past the %u-dword message; dropping the client",
                b, cmd_off, cmd_size, dwords);
         return false;
      }
      if ((uint64_t)sync_off + (uint64_t)sync_count * 3 > dwords) {
         vt_err("SUBMIT_CMD2: batch %u: %u syncs at dword %u end past the %u-dword "
                "message; dropping the client",
                b, sync_count, sync_off, dwords);
         return false;
      }
      if (ring_idx >= VD_MAX_TIMELINES) {
         vt_err("SUBMIT_CMD2: batch %u: ring_idx %u is out of range (< %u); dropping "
                "the client",
                b, ring_idx, VD_MAX_TIMELINES);
         return false;
      }
      /* Only this thread removes the client's syncs, so they still exist below. */
      uint32_t missing = 0;
      pthread_mutex_lock(&c->sync_mutex);
      for (uint32_t i = 0; i < sync_count && !missing; i++) {
         if (sync_lookup_locked(c, p[sync_off + i * 3]) == UINT32_MAX)
            missing = p[sync_off + i * 3] ? p[sync_off + i * 3] : UINT32_MAX;
      }
      pthread_mutex_unlock(&c->sync_mutex);
      if (missing) {
         vt_err("SUBMIT_CMD2: batch %u: sync %u does not exist; dropping the client", b,
                missing == UINT32_MAX ? 0 : missing);
         return false;
      }
   }

   for (uint32_t b = 0; b < batch_count; b++) {
      const uint32_t *h = &p[1 + b * VT_SUBMIT_CMD2_BATCH_DWORDS];
      const uint32_t flags = h[0], cmd_off = h[1], cmd_size = h[2], sync_off = h[3],
                     sync_count = h[4], ring_idx = h[5];
      if (cmd_size && !vd_context_submit_cmd(c->ctx, &p[cmd_off], (size_t)cmd_size * 4)) {
         vt_err("SUBMIT_CMD2: batch %u: the context is fatal; dropping the client", b);
         return false;
      }
      if (!sync_count)
         continue;

      const uint32_t *t = &p[sync_off];
      if (!(flags & VT_SUBMIT_CMD2_FLAG_RING_IDX)) {
         /* No timeline: the syncs are signalled once the commands have been processed. */
         pthread_mutex_lock(&c->sync_mutex);
         for (uint32_t i = 0; i < sync_count; i++) {
            if (sync_lookup_locked(c, t[i * 3]) == UINT32_MAX) {
               pthread_mutex_unlock(&c->sync_mutex);
               vt_err("SUBMIT_CMD2: batch %u: sync %u does not exist; dropping the "
                      "client",
                      b, t[i * 3]);
               return false;
            }
         }
         for (uint32_t i = 0; i < sync_count; i++)
            c->syncs[t[i * 3] - 1].value = t[i * 3 + 1] | (uint64_t)t[i * 3 + 2] << 32;
         check_waits_locked(c);
         pthread_mutex_unlock(&c->sync_mutex);
         continue;
      }

      struct vt_fence *f = calloc(1, sizeof(*f) + (size_t)sync_count * sizeof(f->e[0]));
      if (!f) {
         vt_err("SUBMIT_CMD2: out of memory for %u syncs; dropping the client", sync_count);
         return false;
      }
      f->ring_idx = ring_idx;
      f->fence_id = c->next_fence_id++;
      f->count = sync_count;
      pthread_mutex_lock(&c->sync_mutex);
      if (c->fence_count >= VT_MAX_FENCES) {
         pthread_mutex_unlock(&c->sync_mutex);
         free(f);
         vt_err("SUBMIT_CMD2: more than %u fences pending; dropping the client", VT_MAX_FENCES);
         return false;
      }
      for (uint32_t i = 0; i < sync_count; i++) {
         const uint32_t slot = sync_lookup_locked(c, t[i * 3]);
         if (slot == UINT32_MAX) {
            for (uint32_t j = 0; j < i; j++)
               sync_unref_locked(c, f->e[j].slot);
            pthread_mutex_unlock(&c->sync_mutex);
            free(f);
            vt_err("SUBMIT_CMD2: batch %u: sync %u does not exist; dropping the client", b,
                   t[i * 3]);
            return false;
         }
         c->syncs[slot].refs++;
         f->e[i].slot = slot;
         f->e[i].value = t[i * 3 + 1] | (uint64_t)t[i * 3 + 2] << 32;
      }
      /* Queue it before submitting the fence: it may retire at once, on any thread. */
      if (c->fences_tail)
         c->fences_tail->next = f;
      else
         c->fences = f;
      c->fences_tail = f;
      c->fence_count++;
      const uint64_t fence_id = f->fence_id;
      pthread_mutex_unlock(&c->sync_mutex);

      if (!vd_context_submit_fence(c->ctx, ring_idx, fence_id)) {
         fence_cancel(c, fence_id);
         vt_err("SUBMIT_CMD2: batch %u: cannot queue a fence on timeline %u; dropping "
                "the client",
                b, ring_idx);
         return false;
      }
   }
   return true;
}

static bool cmd_sync_create(struct vt_client *c, const uint32_t *p)
{
   const uint64_t value = p[0] | (uint64_t)p[1] << 32;
   pthread_mutex_lock(&c->sync_mutex);
   uint32_t slot;
   if (c->free_syncs) {
      slot = c->free_syncs - 1;
      c->free_syncs = c->syncs[slot].next_free;
   } else {
      if (c->sync_cap >= VT_MAX_SYNCS) {
         pthread_mutex_unlock(&c->sync_mutex);
         vt_err("SYNC_CREATE: the client has %u syncs, the limit; dropping the client",
                VT_MAX_SYNCS);
         return false;
      }
      const uint32_t cap = c->sync_cap ? c->sync_cap * 2 : 16;
      struct vt_sync *s = realloc(c->syncs, (size_t)cap * sizeof(*s));
      if (!s) {
         pthread_mutex_unlock(&c->sync_mutex);
         vt_err("SYNC_CREATE: out of memory; dropping the client");
         return false;
      }
      memset(&s[c->sync_cap], 0, (size_t)(cap - c->sync_cap) * sizeof(*s));
      /* slots sync_cap+1 .. cap-1 go to the free list, sync_cap is used now */
      for (uint32_t i = cap - 1; i > c->sync_cap; i--) {
         s[i].next_free = c->free_syncs;
         c->free_syncs = i + 1;
      }
      slot = c->sync_cap;
      c->syncs = s;
      c->sync_cap = cap;
   }
   struct vt_sync *s = &c->syncs[slot];
   s->value = value;
   s->refs = 1;
   s->client_ref = true;
   s->next_free = 0;
   c->live_syncs++;
   pthread_mutex_unlock(&c->sync_mutex);
   const uint32_t id = slot + 1;
   return reply(c, VCMD_SYNC_CREATE, &id, 1);
}

static bool cmd_sync_unref(struct vt_client *c, const uint32_t *p)
{
   pthread_mutex_lock(&c->sync_mutex);
   const uint32_t slot = sync_lookup_locked(c, p[0]);
   if (slot != UINT32_MAX) {
      c->syncs[slot].client_ref = false;
      sync_unref_locked(c, slot);
   }
   pthread_mutex_unlock(&c->sync_mutex);
   if (slot == UINT32_MAX) {
      vt_err("SYNC_UNREF: sync %u does not exist; dropping the client", p[0]);
      return false;
   }
   return true;
}

static bool cmd_sync_read(struct vt_client *c, const uint32_t *p)
{
   pthread_mutex_lock(&c->sync_mutex);
   const uint32_t slot = sync_lookup_locked(c, p[0]);
   const uint64_t value = slot != UINT32_MAX ? c->syncs[slot].value : 0;
   pthread_mutex_unlock(&c->sync_mutex);
   if (slot == UINT32_MAX) {
      vt_err("SYNC_READ: sync %u does not exist; dropping the client", p[0]);
      return false;
   }
   const uint32_t r[2] = { (uint32_t)value, (uint32_t)(value >> 32) };
   return reply(c, VCMD_SYNC_READ, r, 2);
}

static bool cmd_sync_write(struct vt_client *c, const uint32_t *p)
{
   pthread_mutex_lock(&c->sync_mutex);
   const uint32_t slot = sync_lookup_locked(c, p[0]);
   if (slot != UINT32_MAX) {
      c->syncs[slot].value = p[1] | (uint64_t)p[2] << 32;
      check_waits_locked(c);
   }
   pthread_mutex_unlock(&c->sync_mutex);
   if (slot == UINT32_MAX) {
      vt_err("SYNC_WRITE: sync %u does not exist; dropping the client", p[0]);
      return false;
   }
   return true;
}

/* SYNC_WAIT {flags, timeout_ms, count x {sync_id, value_lo, value_hi}}: replies {0, 23} and
 * an eventfd that becomes readable when all (or, with ANY, one) of the syncs have reached
 * their values.  timeout_ms: how long we keep watching (UINT32_MAX: forever; 0: only what
 * holds now); the client polls the fd with its own timeout. */
static bool cmd_sync_wait(struct vt_client *c, const uint32_t *p, uint32_t dwords)
{
   if (dwords < 2 || (dwords - 2) % 3) {
      vt_err("SYNC_WAIT: length %u is not 2 + 3 x sync count; dropping the client", dwords);
      return false;
   }
   const uint32_t flags = p[0], timeout_ms = p[1], count = (dwords - 2) / 3;
   if (flags & ~VT_SYNC_WAIT_FLAG_ANY) {
      vt_err("SYNC_WAIT: unknown flags 0x%x; dropping the client", flags);
      return false;
   }
   struct vt_wait *w = calloc(1, sizeof(*w) + (size_t)count * sizeof(w->e[0]));
   if (!w) {
      vt_err("SYNC_WAIT: out of memory for %u syncs; dropping the client", count);
      return false;
   }
   w->any = flags & VT_SYNC_WAIT_FLAG_ANY;
   w->count = count;
   w->deadline_ns =
      timeout_ms == UINT32_MAX ? UINT64_MAX : vd_now_ns() + (uint64_t)timeout_ms * 1000000u;
   /* The client polls wk.rd; the wait keeps a copy of wk.wr (one eventfd on Linux). */
   struct vd_wake wk;
   if (!vd_wake_open(&wk)) {
      vt_err("SYNC_WAIT: cannot create an eventfd: %s; dropping the client", strerror(errno));
      free(w);
      return false;
   }
   w->fd = -1;

   pthread_mutex_lock(&c->sync_mutex);
   const uint32_t *t = &p[2];
   for (uint32_t i = 0; i < count; i++) {
      const uint32_t slot = sync_lookup_locked(c, t[i * 3]);
      if (slot == UINT32_MAX) {
         for (uint32_t j = 0; j < i; j++)
            sync_unref_locked(c, w->e[j].slot);
         pthread_mutex_unlock(&c->sync_mutex);
         vt_err("SYNC_WAIT: sync %u does not exist; dropping the client", t[i * 3]);
         free(w);
         vd_wake_close(&wk);
         return false;
      }
      c->syncs[slot].refs++;
      w->e[i].slot = slot;
      w->e[i].value = t[i * 3 + 1] | (uint64_t)t[i * 3 + 2] << 32;
   }
   const bool ready = wait_update_locked(c, w);
   bool keep = !ready && timeout_ms != 0;
   /* At the limit, expired waits go first (and are not counted against this one). */
   if (keep && c->ctx &&
       vd_limit_used(c->ctx, VD_LIMIT_WAITS) >= vd_limit_max(c->cfg->opts, VD_LIMIT_WAITS))
      check_waits_locked(c);
   if (keep && !wait_charge(c, w)) {
      w->fd = fcntl(wk.wr, F_DUPFD_CLOEXEC, 0);
      wait_free_locked(c, w); /* closes that copy */
      vd_wake_close(&wk);
      pthread_mutex_unlock(&c->sync_mutex);
      /* Mesa cannot handle a SYNC_WAIT without its fd. */
      vt_err("SYNC_WAIT: the context's pending waits or fds are at their limit (logged "
             "above); dropping the client");
      return false;
   }
   if (keep) {
      /* The wait owns a copy of the eventfd: it may complete (and close it) on a context
       * thread before the reply below has been sent. */
      w->fd = fcntl(wk.wr, F_DUPFD_CLOEXEC, 0);
      if (w->fd < 0) {
         const int err = errno;
         for (uint32_t i = 0; i < count; i++) {
            if (!w->e[i].done)
               sync_unref_locked(c, w->e[i].slot);
         }
         pthread_mutex_unlock(&c->sync_mutex);
         if (w->charged) {
            vd_limit_release(w->charged, VD_LIMIT_WAITS, 1);
            vd_limit_release(w->charged, VD_LIMIT_FDS, 1);
         }
         free(w);
         vd_wake_close(&wk);
         vt_err("SYNC_WAIT: cannot duplicate the eventfd: %s; dropping the client", strerror(err));
         return false;
      }
      w->next = c->waits;
      c->waits = w;
      c->wait_count++;
   } else {
      for (uint32_t i = 0; i < count; i++) {
         if (!w->e[i].done)
            sync_unref_locked(c, w->e[i].slot);
      }
      free(w);
   }
   pthread_mutex_unlock(&c->sync_mutex);

   if (ready)
      signal_eventfd(wk.wr);
   const bool ok = reply(c, VCMD_SYNC_WAIT, NULL, 0) && reply_fd(c, VCMD_SYNC_WAIT, wk.rd);
   vd_wake_close(&wk);
   return ok;
}

/* -- the client loop ------------------------------------------------------------------------- */

/* Checks the header of a message; false (logged) if the client must be dropped. */
static bool check_header(struct vt_client *c, uint32_t len, uint32_t cmd, size_t *bytes)
{
   if (cmd >= VCMD_COUNT_V3 || !vt_cmds[cmd].name) {
      vt_err("unknown vtest command id %u (length %u); dropping the client", cmd, len);
      return false;
   }
   const struct vt_cmd_info *info = &vt_cmds[cmd];
   if (!c->have_renderer && cmd != VCMD_CREATE_RENDERER) {
      vt_err("first message is %s (id %u), not CREATE_RENDERER; dropping the client", info->name,
             cmd);
      return false;
   }
   if (info->gl_only) {
      vt_err("%s (id %u) is a virgl (OpenGL) command; venusd serves Venus only; "
             "dropping the client",
             info->name, cmd);
      return false;
   }
   *bytes = cmd == VCMD_CREATE_RENDERER ? (size_t)len : (size_t)len * 4;
   if (cmd == VCMD_CREATE_RENDERER && len > VT_MAX_NAME_BYTES) {
      vt_err("CREATE_RENDERER: name length %u bytes exceeds %u; dropping the client", len,
             VT_MAX_NAME_BYTES);
      return false;
   }
   if (*bytes > VT_MAX_MESSAGE_BYTES) {
      vt_err("%s: length %u dwords exceeds the %u MiB message limit; dropping the client",
             info->name, len, VT_MAX_MESSAGE_BYTES >> 20);
      return false;
   }
   if (info->dwords >= 0 && len != (uint32_t)info->dwords) {
      vt_err("%s: length %u dwords, expected %d; dropping the client", info->name, len,
             info->dwords);
      return false;
   }
   if (info->needs_context && !c->ctx) {
      vt_err("%s before CONTEXT_INIT; dropping the client", info->name);
      return false;
   }
   if (info->needs_context && vd_context_is_fatal(c->ctx)) {
      vt_err("%s: the context is fatal; dropping the client", info->name);
      return false;
   }
   return true;
}

static bool dispatch(struct vt_client *c, uint32_t cmd, const uint32_t *p, uint32_t len)
{
   switch (cmd) {
   case VCMD_CREATE_RENDERER: return cmd_create_renderer(c, p, len);
   case VCMD_PING_PROTOCOL_VERSION: return reply(c, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   case VCMD_RESOURCE_BUSY_WAIT: {
      /* Venus resources have no GPU-side busy state; Mesa only uses this in the probe. */
      const uint32_t busy = 0;
      return reply(c, VCMD_RESOURCE_BUSY_WAIT, &busy, 1);
   }
   case VCMD_PROTOCOL_VERSION: return cmd_protocol_version(c, p);
   case VCMD_GET_PARAM: return cmd_get_param(c, p);
   case VCMD_GET_CAPSET: return cmd_get_capset(c, p);
   case VCMD_CONTEXT_INIT: return cmd_context_init(c, p);
   case VCMD_RESOURCE_CREATE_BLOB: return cmd_resource_create_blob(c, p);
   case VCMD_RESOURCE_UNREF: return cmd_resource_unref(c, p);
   case VCMD_SUBMIT_CMD2: return cmd_submit_cmd2(c, p, len);
   case VCMD_SYNC_CREATE: return cmd_sync_create(c, p);
   case VCMD_SYNC_UNREF: return cmd_sync_unref(c, p);
   case VCMD_SYNC_READ: return cmd_sync_read(c, p);
   case VCMD_SYNC_WRITE: return cmd_sync_write(c, p);
   case VCMD_SYNC_WAIT: return cmd_sync_wait(c, p, len);
   default:
      vt_err("%s (id %u) is not served; dropping the client", cmd_name(cmd), cmd);
      return false;
   }
}

static void client_loop(struct vt_client *c)
{
   for (;;) {
      uint32_t hdr[2];
      int r = read_full(c->fd, hdr, sizeof(hdr), c->spin_ns);
      if (r == 0) {
         vd_info(VD_CAT_TRANSPORT, "client %u disconnected", c->id);
         return;
      }
      if (r < 0) {
         if (errno == EPIPE)
            vt_err("connection closed in the middle of a message header; dropping "
                   "the client");
         else if (errno == ECONNRESET)
            vd_warn(VD_CAT_TRANSPORT, "client %u reset the connection", c->id);
         else
            vt_err("cannot read from the client: %s; dropping the client", strerror(errno));
         return;
      }
      const uint32_t len = hdr[0], cmd = hdr[1];
      size_t bytes;
      if (!check_header(c, len, cmd, &bytes))
         return;
      if (bytes > c->buf_cap) {
         free(c->buf);
         c->buf_cap = 0;
         c->buf = malloc(bytes);
         if (!c->buf) {
            vt_err("%s: out of memory for a %zu-byte message; dropping the client", cmd_name(cmd),
                   bytes);
            return;
         }
         c->buf_cap = bytes;
      }
      if (bytes) {
         r = read_full(c->fd, c->buf, bytes, c->spin_ns);
         if (r <= 0) {
            if (r == 0 || errno == EPIPE)
               vt_err("%s: connection closed after the header; %zu payload bytes "
                      "missing; dropping the client",
                      cmd_name(cmd), bytes);
            else
               vt_err("%s: cannot read the payload: %s; dropping the client", cmd_name(cmd),
                      strerror(errno));
            return;
         }
      }
      vd_trace(VD_CAT_TRANSPORT, "%s, %u %s", cmd_name(cmd), len,
               cmd == VCMD_CREATE_RENDERER ? "bytes" : "dwords");
      if (!dispatch(c, cmd, c->buf, len))
         return;
      if (c->buf_cap > VT_KEEP_BUFFER_BYTES) {
         free(c->buf);
         c->buf = NULL;
         c->buf_cap = 0;
      }
      if (c->waits) {
         pthread_mutex_lock(&c->sync_mutex);
         check_waits_locked(c); /* garbage-collects expired waits */
         pthread_mutex_unlock(&c->sync_mutex);
      }
   }
}

void vd_vtest_serve_client(const struct vd_vtest_config *cfg, int fd, uint32_t client_id)
{
   struct vt_client *c = calloc(1, sizeof(*c));
   if (!c) {
      vt_err("client %u: out of memory; dropping the client", client_id);
      return;
   }
   c->cfg = cfg;
   c->spin_ns = (uint64_t)cfg->opts->spin_us * 1000u;
   c->fd = fd;
   c->id = client_id;
   c->pid = peer_pid(fd);
   c->next_res_id = 1;
   c->next_fence_id = 1;
   pthread_mutex_init(&c->sync_mutex, NULL);
   set_log_prefix(c);

   client_loop(c);

   /* Pending waits are charged to the context: they go before it (under the lock, so a
    * fence retiring meanwhile finds none). */
   pthread_mutex_lock(&c->sync_mutex);
   while (c->waits) {
      struct vt_wait *w = c->waits;
      c->waits = w->next;
      wait_free_locked(c, w);
   }
   c->wait_count = 0;
   pthread_mutex_unlock(&c->sync_mutex);
   /* The context first: after this no fence_retired() can run. */
   if (c->ctx)
      vd_context_destroy(c->ctx);
   pthread_mutex_lock(&c->sync_mutex);
   while (c->waits) {
      struct vt_wait *w = c->waits;
      c->waits = w->next;
      wait_free_locked(c, w);
   }
   pthread_mutex_unlock(&c->sync_mutex);
   while (c->fences) {
      struct vt_fence *f = c->fences;
      c->fences = f->next;
      free(f);
   }
   free(c->syncs);
   free(c->buf);
   pthread_mutex_destroy(&c->sync_mutex);
   free(c);
   vd_log_set_thread_prefix(NULL);
}

/* -- the server ------------------------------------------------------------------------------ */

/* Thread workers: the server thread joins them when they report done, or at shutdown. */
struct vt_worker {
   struct vt_worker *next;
   pthread_t thread;
   int fd; /* the client socket; -1 once closed.  Guarded by workers_mutex */
   uint32_t id;
   bool done;
};

/* Process workers. */
struct vt_child {
   pid_t pid;
   uint32_t id;
   struct vd_sandbox_report *sandbox; /* names the call that killed it; may be NULL */
};

struct vt_server {
   const struct vd_vtest_config *cfg;
   int listen_fd;
   int signal_fd;
   sigset_t orig_mask;
   dev_t sock_dev;
   ino_t sock_ino;
   char sock_name[160]; /* for the log */
   uint32_t next_client_id;

   /* thread mode */
   pthread_mutex_t workers_mutex;
   struct vt_worker *workers;
   struct vd_wake done; /* a worker finished */

   /* process mode */
   bool stopping; /* workers are being killed: their deaths are expected */
   struct vt_child *children;
   uint32_t child_count, child_cap;
};

static struct vt_server *thread_server; /* for worker threads to report completion */

static void *worker_main(void *arg)
{
   vd_platform_thread_name("vd-context");
   struct vt_worker *w = arg;
   struct vt_server *s = thread_server;
   vd_vtest_serve_client(s->cfg, w->fd, w->id);
   pthread_mutex_lock(&s->workers_mutex);
   close(w->fd);
   w->fd = -1;
   w->done = true;
   pthread_mutex_unlock(&s->workers_mutex);
   signal_eventfd(s->done.wr);
   return NULL;
}

static void join_done_workers(struct vt_server *s)
{
   vd_wake_drain(s->done.rd);
   for (;;) {
      struct vt_worker *found = NULL;
      pthread_mutex_lock(&s->workers_mutex);
      for (struct vt_worker **pp = &s->workers; *pp; pp = &(*pp)->next) {
         if ((*pp)->done) {
            found = *pp;
            *pp = found->next;
            break;
         }
      }
      pthread_mutex_unlock(&s->workers_mutex);
      if (!found)
         return;
      pthread_join(found->thread, NULL);
      vd_dbg(VD_CAT_MAIN, "worker thread of client %u joined", found->id);
      free(found);
   }
}

static void start_thread_worker(struct vt_server *s, int fd, uint32_t id)
{
   struct vt_worker *w = calloc(1, sizeof(*w));
   if (!w) {
      vd_err(VD_CAT_MAIN, "client %u: out of memory; closing the connection", id);
      close(fd);
      return;
   }
   w->fd = fd;
   w->id = id;
   pthread_mutex_lock(&s->workers_mutex);
   int ret = pthread_create(&w->thread, NULL, worker_main, w);
   if (ret == 0) {
      w->next = s->workers;
      s->workers = w;
   }
   pthread_mutex_unlock(&s->workers_mutex);
   if (ret != 0) {
      vd_err(VD_CAT_MAIN, "client %u: cannot create a worker thread: %s; closing the connection",
             id, strerror(ret));
      close(fd);
      free(w);
   }
}

/* Reaps every exited child: workers, and (venusd being a child subreaper) any process a
 * worker left behind, e.g. a sanitizer's helper.  Returns false once there are none left. */
static bool reap_children(struct vt_server *s)
{
   for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR)
         continue;
      if (pid < 0)
         return false; /* ECHILD */
      if (pid == 0)
         return true;
      uint32_t id = 0;
      struct vd_sandbox_report *sandbox = NULL;
      for (uint32_t i = 0; i < s->child_count; i++) {
         if (s->children[i].pid == pid) {
            id = s->children[i].id;
            sandbox = s->children[i].sandbox;
            s->children[i] = s->children[--s->child_count];
            break;
         }
      }
      char why[128];
      if (!id)
         vd_dbg(VD_CAT_MAIN, "reaped process %ld left behind by a worker", (long)pid);
      else if (vd_sandbox_describe_exit(sandbox, status, why, sizeof(why)))
         vd_warn(VD_CAT_MAIN,
                 "worker process %ld for client %u killed by the sandbox: %s; "
                 "the client's context is lost, other clients go on.  If the host driver "
                 "needs this call, report it; --no-sandbox turns the sandbox off",
                 (long)pid, id, why);
      else if (vd_sandbox_describe_helper(sandbox, status, why, sizeof(why)))
         vd_warn(VD_CAT_MAIN,
                 "worker process %ld of client %u ended (status 0x%x) after a "
                 "process it started was killed by the sandbox: %s",
                 (long)pid, id, (unsigned)status, why);
      else if (WIFSIGNALED(status) && !s->stopping)
         vd_warn(VD_CAT_MAIN, "worker process %ld of client %u was killed by signal %d (%s)",
                 (long)pid, id, WTERMSIG(status), strsignal(WTERMSIG(status)));
      else if (WIFSIGNALED(status))
         vd_dbg(VD_CAT_MAIN, "worker process %ld of client %u stopped by signal %d", (long)pid, id,
                WTERMSIG(status));
      else
         vd_dbg(VD_CAT_MAIN, "worker process %ld of client %u exited with status %d", (long)pid, id,
                WEXITSTATUS(status));
      vd_sandbox_report_destroy(sandbox);
   }
}

/* In a forked worker: the other workers' report pages are not its own. */
static void forget_children(void *arg)
{
   struct vt_server *s = arg;
   for (uint32_t i = 0; i < s->child_count; i++)
      vd_sandbox_report_destroy(s->children[i].sandbox);
   free(s->children);
   s->children = NULL;
   s->child_count = s->child_cap = 0;
}

static void serve_forked_client(void *arg, int fd)
{
   struct vt_server *s = arg;
   vd_vtest_serve_client(s->cfg, fd, s->next_client_id);
}

static void start_process_worker(struct vt_server *s, int fd, uint32_t id)
{
   if (s->child_count == s->child_cap) {
      const uint32_t cap = s->child_cap ? s->child_cap * 2 : 8;
      struct vt_child *n = realloc(s->children, (size_t)cap * sizeof(*n));
      if (!n) {
         vd_err(VD_CAT_MAIN, "client %u: out of memory; closing the connection", id);
         close(fd);
         return;
      }
      s->children = n;
      s->child_cap = cap;
   }
   struct vd_sandbox_report *sandbox =
      s->cfg->worker == VD_WORKER_SPAWN
         ? NULL
         : vd_sandbox_report_create(vd_options_sandboxed(s->cfg->opts));
   const int server_fds[2] = { s->listen_fd, s->signal_fd };
   const struct vd_worker_start ws = {
      .mode = s->cfg->worker,
      .front = "vtest",
      .id = id,
      .sock = fd,
      .close_fds = server_fds,
      .nclose = 2,
      .orig_mask = &s->orig_mask,
      .opts = s->cfg->opts,
      .sandbox = sandbox,
      .spawn_args = s->cfg->spawn_args,
      .child_cleanup = forget_children,
      .serve = serve_forked_client,
      .arg = s,
   };
   const pid_t pid = vd_worker_start(&ws);
   if (pid < 0) {
      vd_err(VD_CAT_MAIN, "client %u: cannot fork a worker process: %s; closing the connection", id,
             strerror(errno));
      vd_sandbox_report_destroy(sandbox);
      close(fd);
      return;
   }
   s->children[s->child_count++] = (struct vt_child){ .pid = pid, .id = id, .sandbox = sandbox };
   vd_dbg(VD_CAT_MAIN, "client %u: worker process %ld", id, (long)pid);
   close(fd);
}

static void accept_clients(struct vt_server *s)
{
   for (;;) {
      int fd = vd_platform_accept(s->listen_fd);
      if (fd < 0) {
         if (errno == EINTR || errno == ECONNABORTED)
            continue;
         if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
         vd_warn(VD_CAT_MAIN, "accept: %s", strerror(errno));
         if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of resources: back off instead of spinning on a readable socket. */
            struct timespec ts = { 0, 100 * 1000000 };
            nanosleep(&ts, NULL);
         }
         return;
      }
      uint32_t id = ++s->next_client_id;
      if (id == 0)
         id = ++s->next_client_id;
      vd_info(VD_CAT_MAIN, "client %u connected (pid %ld)", id, (long)peer_pid(fd));
      if (s->cfg->worker == VD_WORKER_THREAD)
         start_thread_worker(s, fd, id);
      else
         start_process_worker(s, fd, id);
   }
}

static int64_t ms_until(const struct timespec *deadline)
{
   struct timespec now;
   clock_gettime(CLOCK_MONOTONIC, &now);
   return (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
          (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static void sleep_ms(long ms)
{
   struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
   while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
      ;
}

/* Stops every process worker (SIGTERM, a short grace period, then SIGKILL) and reaps them
 * and whatever they left behind. */
static void stop_children(struct vt_server *s)
{
   if (s->child_count)
      vd_info(VD_CAT_MAIN, "stopping %u worker process(es)", s->child_count);
   s->stopping = true;
   for (uint32_t i = 0; i < s->child_count; i++)
      kill(s->children[i].pid, SIGTERM);
   struct timespec deadline;
   clock_gettime(CLOCK_MONOTONIC, &deadline);
   deadline.tv_nsec += 300 * 1000000;
   deadline.tv_sec += deadline.tv_nsec / 1000000000;
   deadline.tv_nsec %= 1000000000;
   while (s->child_count && reap_children(s) && ms_until(&deadline) > 0)
      sleep_ms(5);
   /* A worker may ignore SIGTERM for a while (e.g. stopped by a sanitizer's tracer). */
   for (uint32_t i = 0; i < s->child_count; i++)
      kill(s->children[i].pid, SIGKILL);
   clock_gettime(CLOCK_MONOTONIC, &deadline);
   deadline.tv_sec += 1;
   while (reap_children(s) && ms_until(&deadline) > 0)
      sleep_ms(5);
   if (s->child_count)
      vd_warn(VD_CAT_MAIN, "%u worker process(es) not reaped", s->child_count);
}

/* Stops every thread worker: shuts their sockets down (so their reads end) and joins them.
 * Returns false if some did not finish in time (e.g. stuck in the host driver). */
/* For vd_platform_join_timed(): whether a worker thread is about to return. */
static bool worker_finished(void *arg)
{
   const struct vt_worker *w = arg;
   pthread_mutex_lock(&thread_server->workers_mutex);
   const bool done = w->done;
   pthread_mutex_unlock(&thread_server->workers_mutex);
   return done;
}

static bool stop_workers(struct vt_server *s)
{
   pthread_mutex_lock(&s->workers_mutex);
   uint32_t n = 0;
   for (struct vt_worker *w = s->workers; w; w = w->next) {
      if (w->fd >= 0)
         shutdown(w->fd, SHUT_RDWR);
      n++;
   }
   struct vt_worker *list = s->workers;
   s->workers = NULL;
   pthread_mutex_unlock(&s->workers_mutex);
   if (n)
      vd_info(VD_CAT_MAIN, "stopping %u client thread(s)", n);

   struct timespec deadline;
   clock_gettime(CLOCK_REALTIME, &deadline);
   deadline.tv_nsec += 500 * 1000000;
   deadline.tv_sec += 1 + deadline.tv_nsec / 1000000000;
   deadline.tv_nsec %= 1000000000;
   bool all = true;
   while (list) {
      struct vt_worker *w = list;
      list = w->next;
      const int ret = vd_platform_join_timed(w->thread, &deadline, worker_finished, w);
      if (ret != 0) {
         vd_warn(VD_CAT_MAIN, "client %u's thread did not finish in time (%s)", w->id,
                 strerror(ret));
         all = false;
         continue; /* still running: its struct stays allocated */
      }
      free(w);
   }
   return all;
}

static int open_listen_socket(struct vt_server *s, const char *path)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   if (strlen(path) >= sizeof(addr.sun_path)) {
      vd_err(VD_CAT_MAIN, "socket path '%s' is too long (max %zu bytes)", path,
             sizeof(addr.sun_path) - 1);
      return -1;
   }
   strcpy(addr.sun_path, path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (fd < 0) {
      vd_err(VD_CAT_MAIN, "socket: %s", strerror(errno));
      return -1;
   }
   struct stat st;
   if (lstat(path, &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
         vd_err(VD_CAT_MAIN, "'%s' exists and is not a socket; not replacing it", path);
         close(fd);
         return -1;
      }
      /* A socket someone still listens on is not ours to take: replacing it would leave
       * that server running and unreachable.  Only a stale one (nobody accepts) goes. */
      const pid_t holder = vd_socket_listener(path);
      if (holder) {
         char comm[64];
         vd_process_name(holder, comm, sizeof(comm));
         if (holder > 0)
            vd_err(VD_CAT_MAIN,
                   "'%s' is in use: process %ld (%s) is listening on it; stop it "
                   "or give this server another --socket",
                   path, (long)holder, comm);
         else
            vd_err(VD_CAT_MAIN,
                   "'%s' is in use: a live server is listening on it; stop it or "
                   "give this server another --socket",
                   path);
         close(fd);
         return -1;
      }
      vd_info(VD_CAT_MAIN, "removing the stale socket '%s' (nothing listens on it)", path);
      unlink(path);
   }
   if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
      vd_err(VD_CAT_MAIN, "cannot bind '%s': %s", path, strerror(errno));
      close(fd);
      return -1;
   }
   if (listen(fd, 64) < 0) {
      vd_err(VD_CAT_MAIN, "cannot listen on '%s': %s", path, strerror(errno));
      close(fd);
      unlink(path);
      return -1;
   }
   if (stat(path, &st) == 0) {
      s->sock_dev = st.st_dev;
      s->sock_ino = st.st_ino;
   }
   return fd;
}

/* Removes the socket file if it is still ours (not replaced by another server).  An
 * inherited socket belongs to the service manager, which removes it. */
static void remove_socket(struct vt_server *s, const char *path)
{
   struct stat st;
   if (s->cfg->activated)
      return;
   if (stat(path, &st) == 0 && st.st_dev == s->sock_dev && st.st_ino == s->sock_ino)
      unlink(path);
}

/* Reads an environment variable holding a positive decimal number; 0 if unset. */
static long env_number(const char *name, bool *error)
{
   const char *v = getenv(name);
   if (!v)
      return 0;
   char *end;
   errno = 0;
   const long n = strtol(v, &end, 10);
   if (errno || end == v || *end || n <= 0) {
      vd_err(VD_CAT_MAIN,
             "socket activation: %s='%s' is not a positive number; start venusd "
             "from a .socket unit (or unset %s)",
             name, v, name);
      *error = true;
      return 0;
   }
   return n;
}

bool vd_vtest_socket_activation(bool *error)
{
   *error = false;
   if (!getenv("LISTEN_FDS") && !getenv("LISTEN_PID"))
      return false;
   const long fds = env_number("LISTEN_FDS", error);
   const long pid = env_number("LISTEN_PID", error);
   unsetenv("LISTEN_FDS");
   unsetenv("LISTEN_PID");
   unsetenv("LISTEN_FDNAMES");
   if (*error)
      return false;
   if (pid == 0) {
      vd_info(VD_CAT_MAIN, "socket activation: LISTEN_FDS is set without LISTEN_PID; "
                           "ignoring it");
      return false;
   }
   if (pid != (long)getpid()) {
      /* Meant for another process (e.g. a wrapper that exec'd us without updating it). */
      vd_info(VD_CAT_MAIN,
              "socket activation: LISTEN_PID=%ld is not this process (%ld); "
              "ignoring LISTEN_FDS",
              pid, (long)getpid());
      return false;
   }
   if (fds < 1) {
      vd_err(VD_CAT_MAIN, "socket activation: LISTEN_PID is set but LISTEN_FDS is not; "
                          "the service manager passed no socket");
      *error = true;
      return false;
   }
   if (fds > 1)
      vd_warn(VD_CAT_MAIN,
              "socket activation: LISTEN_FDS=%ld, serving only the first socket "
              "(fd %d); give the .socket unit one ListenStream=",
              fds, VD_LISTEN_FDS_START);
   return true;
}

/* Takes the socket inherited by socket activation, after checking that it is what vtest
 * clients connect to: a listening AF_UNIX stream socket.  Returns it, or -1 (logged). */
static int adopt_listen_socket(struct vt_server *s)
{
   const int fd = VD_LISTEN_FDS_START;
   int domain = -1, type = -1, listening = 0;
   socklen_t len = sizeof(int);
   /* The domain from the socket's address: SO_DOMAIN is Linux only. */
   struct sockaddr_storage ss;
   socklen_t sslen = sizeof(ss);
   bool ok = getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0;
   domain = ok ? ss.ss_family : -1;
   len = sizeof(int);
   ok = ok && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
   len = sizeof(int);
   ok = ok && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0;
   if (!ok) {
      vd_err(VD_CAT_MAIN,
             "socket activation: fd %d is not a socket (%s); the service manager "
             "must pass the vtest socket as the first fd",
             fd, strerror(errno));
      return -1;
   }
   if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
      vd_err(VD_CAT_MAIN,
             "socket activation: fd %d is not a listening unix stream socket "
             "(domain %d, want %d; type %d, want %d; listening %d): use ListenStream=/PATH "
             "and Accept=no in the .socket unit",
             fd, domain, AF_UNIX, type, SOCK_STREAM, listening);
      return -1;
   }
   const int fl = fcntl(fd, F_GETFL);
   if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      vd_err(VD_CAT_MAIN,
             "socket activation: cannot set fd %d non-blocking and close-on-exec: "
             "%s",
             fd, strerror(errno));
      return -1;
   }
   struct sockaddr_un addr = { 0 };
   socklen_t alen = sizeof(addr);
   if (getsockname(fd, (struct sockaddr *)&addr, &alen) == 0 &&
       alen > offsetof(struct sockaddr_un, sun_path) && addr.sun_path[0])
      snprintf(s->sock_name, sizeof(s->sock_name), "%s (socket activation, fd %d)", addr.sun_path,
               fd);
   else
      snprintf(s->sock_name, sizeof(s->sock_name),
               "an unnamed socket (socket activation, "
               "fd %d)",
               fd);
   return fd;
}

int vd_vtest_serve(const struct vd_vtest_config *cfg)
{
   struct vt_server s = { .cfg = cfg, .listen_fd = -1, .signal_fd = -1, .done = { -1, -1 } };
   const bool threads = cfg->worker == VD_WORKER_THREAD;

   /* Signals are taken through a signalfd; every thread created later inherits the mask. */
   signal(SIGPIPE, SIG_IGN);
   sigset_t mask;
   sigemptyset(&mask);
   sigaddset(&mask, SIGINT);
   sigaddset(&mask, SIGTERM);
   if (!threads)
      sigaddset(&mask, SIGCHLD);
   if (sigprocmask(SIG_BLOCK, &mask, &s.orig_mask) < 0) {
      vd_err(VD_CAT_MAIN, "sigprocmask: %s", strerror(errno));
      return 1;
   }
   s.signal_fd = vd_signals_open(&mask);
   if (s.signal_fd < 0) {
      vd_err(VD_CAT_MAIN, "cannot take signals (%s): %s", vd_platform_name(), strerror(errno));
      sigprocmask(SIG_SETMASK, &s.orig_mask, NULL);
      return 1;
   }
   if (threads) {
      pthread_mutex_init(&s.workers_mutex, NULL);
      if (!vd_wake_open(&s.done)) {
         vd_err(VD_CAT_MAIN, "cannot make the workers' wake-up object (%s): %s", vd_platform_name(),
                strerror(errno));
         close(s.signal_fd);
         sigprocmask(SIG_SETMASK, &s.orig_mask, NULL);
         return 1;
      }
      thread_server = &s;
   }
   /* Process mode: whatever a worker leaves behind is re-parented to us and reaped. */
   if (!threads)
      vd_platform_child_subreaper();
   if (cfg->activated) {
      s.listen_fd = adopt_listen_socket(&s);
   } else {
      snprintf(s.sock_name, sizeof(s.sock_name), "%s", cfg->socket_path);
      s.listen_fd = open_listen_socket(&s, cfg->socket_path);
   }
   if (s.listen_fd < 0) {
      close(s.signal_fd);
      if (threads) {
         vd_wake_close(&s.done);
         pthread_mutex_destroy(&s.workers_mutex);
         thread_server = NULL;
      }
      sigprocmask(SIG_SETMASK, &s.orig_mask, NULL);
      return 1;
   }
   vd_info(VD_CAT_MAIN, "vtest: listening on %s (%s workers)", s.sock_name,
           threads ? "thread" : "process");

   int stop_sig = 0;
   while (!stop_sig) {
      struct pollfd pfd[3] = {
         { .fd = s.listen_fd, .events = POLLIN },
         { .fd = s.signal_fd, .events = POLLIN },
         { .fd = s.done.rd, .events = POLLIN },
      };
      const nfds_t n = threads ? 3 : 2;
      if (poll(pfd, n, -1) < 0) {
         if (errno == EINTR)
            continue;
         vd_err(VD_CAT_MAIN, "poll: %s", strerror(errno));
         break;
      }
      if (pfd[1].revents & POLLIN) {
         int sig;
         while ((sig = vd_signals_next(s.signal_fd)) != 0) {
            if (sig == SIGCHLD)
               reap_children(&s);
            else
               stop_sig = sig;
         }
      }
      if (stop_sig)
         break;
      if (threads && (pfd[2].revents & POLLIN))
         join_done_workers(&s);
      if (pfd[0].revents & POLLIN)
         accept_clients(&s);
   }

   if (stop_sig)
      vd_info(VD_CAT_MAIN, "%s: shutting down", strsignal(stop_sig));
   close(s.listen_fd);
   remove_socket(&s, cfg->socket_path);
   bool clean = true;
   if (threads)
      clean = stop_workers(&s);
   else
      stop_children(&s);
   free(s.children);
   if (!clean) {
      /* A worker is stuck (in the host driver, most likely): exit without running the
       * process's exit handlers underneath it. */
      vd_warn(VD_CAT_MAIN, "exiting with client threads still running");
      fflush(NULL);
      _exit(0);
   }
   if (threads) {
      vd_wake_close(&s.done);
      pthread_mutex_destroy(&s.workers_mutex);
      thread_server = NULL;
   }
   /* The signal mask stays as it is: a second SIGTERM must not kill us on the way out. */
   close(s.signal_fd);
   return stop_sig ? 0 : 1;
}
