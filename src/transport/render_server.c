/* venusd as virgl_render_server: see render_server.h and docs/protocol.md §6.
 *
 * Wire format.  Every request and reply is one message holding a C struct of
 * virglrenderer 1.1.0's server/render_protocol.h as laid out by the LP64 ABI that proxy
 * and server share (they run on one host); fds travel as SCM_RIGHTS with the message.  A
 * message is one SOCK_SEQPACKET record (Linux), or follows a 4-byte length on a
 * SOCK_STREAM socket (virglrenderer's macOS build): transport/socket.c reads both.
 * A request must have exactly its struct's size, as virglrenderer's own server requires.
 * The structs below are venusd's own declarations of that layout; the static asserts pin
 * the sizes. */
#include "transport/render_server.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "context/context.h"
#include "context/protocol.h"
#include "context/limits.h"
#include "platform/platform.h"
#include "util/options.h"
#include "sandbox/sandbox.h"
#include "transport/capset.h"
#include "transport/socket.h"
#include "transport/worker.h"
#include "util/log.h"

/* -- protocol ------------------------------------------------------------------------------ */

enum rs_client_op {
   RS_CLIENT_NOP = 0,
   RS_CLIENT_INIT,
   RS_CLIENT_RESET,
   RS_CLIENT_CREATE_CONTEXT,
   RS_CLIENT_DESTROY_CONTEXT,
   RS_CLIENT_OP_COUNT,
};

enum rs_context_op {
   RS_CTX_NOP = 0,
   RS_CTX_INIT,
   RS_CTX_CREATE_RESOURCE,
   RS_CTX_IMPORT_RESOURCE,
   RS_CTX_DESTROY_RESOURCE,
   RS_CTX_SUBMIT_CMD,
   RS_CTX_SUBMIT_FENCE,
   RS_CTX_OP_COUNT,
};

struct rs_client_init {
   uint32_t op, flags;
};
struct rs_create_context {
   uint32_t op, ctx_id;
   char name[32];
};
struct rs_destroy_context {
   uint32_t op, ctx_id;
};
struct rs_create_context_reply {
   bool ok;
}; /* + the context socket if ok */

struct rs_ctx_init {
   uint32_t op, flags;
   size_t shmem_size;
}; /* + shmem fd [+ eventfd] */
struct rs_create_resource {
   uint32_t op, res_id;
   uint64_t blob_id, blob_size;
   uint32_t blob_flags;
};
struct rs_create_resource_reply {
   int32_t fd_type; /* enum vd_fd_type; -1: failed, no fd follows */
   uint32_t map_info;
   uint8_t device_uuid[16], driver_uuid[16]; /* these three: opaque fds only */
   uint64_t allocation_size;
   uint32_t memory_type_index;
};
struct rs_import_resource {
   uint32_t op, res_id;
   int32_t fd_type;
   uint64_t size;
}; /* + fd */
struct rs_destroy_resource {
   uint32_t op, res_id;
};
#define RS_INLINE_CMD 256u
struct rs_submit_cmd {
   uint32_t op, size;
   char cmd[RS_INLINE_CMD];
};
struct rs_submit_fence {
   uint32_t op, flags, ring_index, seqno;
};

_Static_assert(sizeof(size_t) == 8, "the render-server protocol is defined for LP64 hosts");
_Static_assert(sizeof(struct rs_create_context) == 40, "layout");
_Static_assert(sizeof(struct rs_ctx_init) == 16, "layout");
_Static_assert(sizeof(struct rs_create_resource) == 32, "layout");
_Static_assert(sizeof(struct rs_create_resource_reply) == 56, "layout");
_Static_assert(sizeof(struct rs_import_resource) == 24, "layout");
_Static_assert(sizeof(struct rs_submit_cmd) == 264, "layout");
_Static_assert(sizeof(struct rs_submit_fence) == 16, "layout");

#define RS_CONTEXT_FLAG_CAPSET_ID_MASK 0xffu
/* Commands too big for the inline buffer follow in one more message; SOCK_SEQPACKET keeps
 * such messages well below this. */
#define RS_MAX_CMD_SIZE (4u << 20)

static const char *client_op_name(uint32_t op)
{
   static const char *const names[] = { "NOP", "INIT", "RESET", "CREATE_CONTEXT",
                                        "DESTROY_CONTEXT" };
   return op < RS_CLIENT_OP_COUNT ? names[op] : "unknown";
}

static const char *context_op_name(uint32_t op)
{
   static const char *const names[] = {
      "NOP",        "INIT",        "CREATE_RESOURCE", "IMPORT_RESOURCE", "DESTROY_RESOURCE",
      "SUBMIT_CMD", "SUBMIT_FENCE"
   };
   return op < RS_CTX_OP_COUNT ? names[op] : "unknown";
}

/* -- one context (a worker) ------------------------------------------------------------- */

struct rs_ctx {
   const struct vd_render_server_config *cfg;
   struct vd_msgsock ms;
   uint32_t id;
   char name[33];
   char who[64];
   struct vd_context *vc;
   atomic_uint *timelines; /* the proxy's shmem: one sequence number per ring */
   uint32_t timeline_count;
   void *shmem;
   size_t shmem_size;
   int eventfd;
};

/* Context threads call this when a fence retires: publish the ring's sequence number and
 * wake the proxy if it gave an eventfd. */
static void rs_fence_retired(void *cookie, uint32_t ring_idx, uint64_t fence_id)
{
   struct rs_ctx *c = cookie;
   if (ring_idx >= c->timeline_count)
      return;
   atomic_store(&c->timelines[ring_idx], (unsigned)fence_id);
   if (c->eventfd >= 0) {
      const uint64_t one = 1;
      ssize_t n;
      do
         n = write(c->eventfd, &one, sizeof(one));
      while (n < 0 && errno == EINTR);
   }
}

static bool ctx_init_map(struct rs_ctx *c, const struct rs_ctx_init *req, const int *fds, int nfds);

/* Takes ownership of fds, whatever it returns. */
static bool ctx_init(struct rs_ctx *c, const struct rs_ctx_init *req, const int *fds, int nfds)
{
   if (!ctx_init_map(c, req, fds, nfds)) {
      vd_close_fds(fds, nfds);
      return false;
   }
   close(fds[0]);
   c->eventfd = nfds == 2 ? fds[1] : -1;
   const struct vd_context_params params = {
      .id = c->id,
      .name = c->name,
      .record_dir = c->cfg->opts->record_dir,
      .fence_retired = rs_fence_retired,
      .cookie = c,
      .hooks = c->cfg->hooks,
      .opts = c->cfg->opts,
      /* The guest's capset comes from QEMU's libvirglrenderer (its proxy computes it from
       * its own tables, docs/protocol.md §2); Debian 12's 1.1.0 offers Mesa 25.0.7's. */
      .protocol_level = c->cfg->opts->venus_protocol == VD_VENUS_PROTOCOL_NEWEST
                           ? VD_PROTOCOL_NEWEST
                           : VD_PROTOCOL_MESA25,
   };
   c->vc = vd_context_create(&params);
   if (!c->vc) {
      vd_err(VD_CAT_TRANSPORT, "%s: cannot create the context (see above)", c->who);
      return false;
   }
   return true;
}

static bool ctx_init_map(struct rs_ctx *c, const struct rs_ctx_init *req, const int *fds, int nfds)
{
   if (c->shmem) {
      vd_err(VD_CAT_TRANSPORT, "%s: INIT sent twice", c->who);
      return false;
   }
   if (nfds != 1 && nfds != 2) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: INIT carries %d fds (needs a shmem fd and an optional "
             "eventfd)",
             c->who, nfds);
      return false;
   }
   const uint32_t capset = req->flags & RS_CONTEXT_FLAG_CAPSET_ID_MASK;
   if (capset != VD_CAPSET_ID_VENUS) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: context for capset %u; venusd serves only Venus "
             "(capset %u)",
             c->who, capset, VD_CAPSET_ID_VENUS);
      return false;
   }
   const size_t count = req->shmem_size / sizeof(atomic_uint);
   if (!count || count > 4096) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: INIT with a %zu-byte timeline shmem (needs 4 bytes per "
             "ring, 1 to 4096 rings)",
             c->who, req->shmem_size);
      return false;
   }
   struct stat st;
   if (fstat(fds[0], &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < req->shmem_size) {
      /* Touching pages past the file's end would raise SIGBUS in this process. */
      vd_err(VD_CAT_TRANSPORT,
             "%s: INIT's timeline shmem is not a file of at least the "
             "%zu bytes announced",
             c->who, req->shmem_size);
      return false;
   }
   void *p = mmap(NULL, req->shmem_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
   if (p == MAP_FAILED) {
      vd_err(VD_CAT_TRANSPORT, "%s: cannot map the %zu-byte timeline shmem: %s", c->who,
             req->shmem_size, strerror(errno));
      return false;
   }
   c->shmem = p;
   c->shmem_size = req->shmem_size;
   c->timelines = p;
   c->timeline_count = (uint32_t)(count < VD_MAX_TIMELINES ? count : VD_MAX_TIMELINES);
   for (size_t i = 0; i < count; i++)
      atomic_store(&c->timelines[i], 0);
   return true;
}

static bool ctx_create_resource(struct rs_ctx *c, const struct rs_create_resource *req)
{
   struct rs_create_resource_reply reply = { .fd_type = VD_FD_TYPE_INVALID };
   struct vd_blob blob;
   const int ret = vd_context_create_blob(c->vc, req->res_id, req->blob_id, req->blob_size,
                                          req->blob_flags, &blob);
   if (ret) {
      /* The proxy reports the failure to the guest; the context carries on. */
      vd_warn(VD_CAT_TRANSPORT,
              "%s: resource %u (blob %" PRIu64 ", %" PRIu64 " bytes, flags "
              "0x%x) not created: %s",
              c->who, req->res_id, req->blob_id, req->blob_size, req->blob_flags, strerror(-ret));
      return vd_msgsock_send(&c->ms, &reply, sizeof(reply), NULL, 0);
   }
   reply.fd_type = blob.fd_type;
   reply.map_info = blob.map_info;
   if (blob.fd_type == VD_FD_TYPE_OPAQUE) {
      memcpy(reply.device_uuid, blob.device_uuid, 16);
      memcpy(reply.driver_uuid, blob.driver_uuid, 16);
      reply.allocation_size = blob.allocation_size;
      reply.memory_type_index = blob.memory_type_index;
   }
   const bool ok = vd_msgsock_send(&c->ms, &reply, sizeof(reply), &blob.fd, blob.fd >= 0);
   close(blob.fd);
   return ok;
}

static bool ctx_submit_cmd(struct rs_ctx *c, const struct rs_submit_cmd *req)
{
   if (req->size > RS_MAX_CMD_SIZE) {
      vd_err(VD_CAT_TRANSPORT, "%s: SUBMIT_CMD of %u bytes (at most %u)", c->who, req->size,
             RS_MAX_CMD_SIZE);
      return false;
   }
   const void *data = req->cmd;
   char *big = NULL;
   if (req->size > RS_INLINE_CMD) {
      /* The rest follows in one message of exactly size - 256 bytes. */
      const size_t rest = req->size - RS_INLINE_CMD;
      big = malloc(req->size + 1);
      if (!big) {
         vd_err(VD_CAT_TRANSPORT, "%s: out of memory for a %u-byte command", c->who, req->size);
         return false;
      }
      memcpy(big, req->cmd, RS_INLINE_CMD);
      int fds[VD_MSG_MAX_FDS], nfds;
      const ssize_t n = vd_msgsock_recv(&c->ms, big + RS_INLINE_CMD, rest + 1, fds, &nfds, c->who);
      vd_close_fds(fds, nfds);
      if (n != (ssize_t)rest || nfds) {
         if (n >= 0)
            vd_err(VD_CAT_TRANSPORT,
                   "%s: SUBMIT_CMD of %u bytes: the continuation has %zd "
                   "bytes and %d fds (needs %zu bytes, no fds)",
                   c->who, req->size, n, nfds, rest);
         free(big);
         return false;
      }
      data = big;
   }
   const bool ok = vd_context_submit_cmd(c->vc, data, req->size);
   free(big);
   if (!ok)
      vd_err(VD_CAT_TRANSPORT, "%s: the context is fatal (see above); closing it", c->who);
   return ok;
}

/* One request.  Returns false when the worker must end: end of stream or a request that is
 * not valid (logged; virglrenderer's own server also ends the context then). */
static bool ctx_dispatch(struct rs_ctx *c, bool *eof)
{
   union {
      uint32_t op;
      struct rs_ctx_init init;
      struct rs_create_resource create_resource;
      struct rs_import_resource import_resource;
      struct rs_destroy_resource destroy_resource;
      struct rs_submit_cmd submit_cmd;
      struct rs_submit_fence submit_fence;
      char bytes[sizeof(struct rs_submit_cmd) + 1];
   } req;
   int fds[VD_MSG_MAX_FDS], nfds;
   const ssize_t n = vd_msgsock_recv(&c->ms, &req, sizeof(req), fds, &nfds, c->who);
   if (n <= 0) {
      *eof = n == 0;
      return false;
   }
   static const struct {
      size_t size;
      int max_fds;
   } expect[RS_CTX_OP_COUNT] = {
      [RS_CTX_NOP] = { 4, 0 },
      [RS_CTX_INIT] = { sizeof(struct rs_ctx_init), 2 },
      [RS_CTX_CREATE_RESOURCE] = { sizeof(struct rs_create_resource), 0 },
      [RS_CTX_IMPORT_RESOURCE] = { sizeof(struct rs_import_resource), 1 },
      [RS_CTX_DESTROY_RESOURCE] = { sizeof(struct rs_destroy_resource), 0 },
      [RS_CTX_SUBMIT_CMD] = { sizeof(struct rs_submit_cmd), 0 },
      [RS_CTX_SUBMIT_FENCE] = { sizeof(struct rs_submit_fence), 0 },
   };
   const uint32_t op = n >= 4 ? req.op : RS_CTX_OP_COUNT;
   if (op >= RS_CTX_OP_COUNT || (size_t)n != expect[op].size || nfds > expect[op].max_fds) {
      vd_err(VD_CAT_TRANSPORT, "%s: malformed request: op %u (%s), %zd bytes, %d fds%s", c->who,
             n >= 4 ? req.op : 0u, n >= 4 ? context_op_name(req.op) : "short", n, nfds,
             op < RS_CTX_OP_COUNT ? "" : " (unknown op)");
      vd_close_fds(fds, nfds);
      return false;
   }
   if (op != RS_CTX_NOP && op != RS_CTX_INIT && !c->vc) {
      vd_err(VD_CAT_TRANSPORT, "%s: %s before INIT", c->who, context_op_name(op));
      vd_close_fds(fds, nfds);
      return false;
   }
   switch (op) {
   case RS_CTX_NOP: return true;
   case RS_CTX_INIT: return ctx_init(c, &req.init, fds, nfds);
   case RS_CTX_CREATE_RESOURCE: return ctx_create_resource(c, &req.create_resource);
   case RS_CTX_IMPORT_RESOURCE: {
      if (nfds != 1) {
         vd_err(VD_CAT_TRANSPORT, "%s: IMPORT_RESOURCE of resource %u without an fd", c->who,
                req.import_resource.res_id);
         return false;
      }
      const int ret = vd_context_import_resource(c->vc, req.import_resource.res_id, fds[0],
                                                 (enum vd_fd_type)req.import_resource.fd_type,
                                                 req.import_resource.size);
      close(fds[0]);
      if (ret)
         vd_err(VD_CAT_TRANSPORT,
                "%s: cannot import resource %u (fd type %d, %" PRIu64 " bytes): %s", c->who,
                req.import_resource.res_id, req.import_resource.fd_type, req.import_resource.size,
                strerror(-ret));
      return ret == 0;
   }
   case RS_CTX_DESTROY_RESOURCE:
      vd_context_destroy_resource(c->vc, req.destroy_resource.res_id);
      return true;
   case RS_CTX_SUBMIT_CMD: return ctx_submit_cmd(c, &req.submit_cmd);
   case RS_CTX_SUBMIT_FENCE:
      if (req.submit_fence.ring_index >= c->timeline_count) {
         vd_err(VD_CAT_TRANSPORT, "%s: fence on ring %u; the timeline shmem has %u rings", c->who,
                req.submit_fence.ring_index, c->timeline_count);
         return false;
      }
      if (!vd_context_submit_fence(c->vc, req.submit_fence.ring_index, req.submit_fence.seqno)) {
         vd_err(VD_CAT_TRANSPORT, "%s: cannot queue fence %u on ring %u", c->who,
                req.submit_fence.seqno, req.submit_fence.ring_index);
         return false;
      }
      return true;
   default: return false;
   }
}

/* Serves one context socket until the proxy closes it or sends something invalid, then
 * destroys the context and everything it had.  The caller closes sock. */
static void serve_context(const struct vd_render_server_config *cfg, int sock,
                          enum vd_framing framing, uint32_t id, const char *name)
{
   struct rs_ctx c = { .cfg = cfg, .id = id, .eventfd = -1 };
   snprintf(c.name, sizeof(c.name), "%s", name);
   snprintf(c.who, sizeof(c.who), "render-server context %u", id);
   if (!vd_msgsock_init(&c.ms, sock, framing, c.who)) {
      shutdown(sock, SHUT_RDWR);
      return;
   }
   char prefix[96];
   snprintf(prefix, sizeof(prefix), "ctx %u %s", id, c.name);
   vd_log_set_thread_prefix(prefix);
   vd_info(VD_CAT_TRANSPORT, "context %u '%s' created", id, c.name);
   bool eof = false;
   while (ctx_dispatch(&c, &eof))
      ;
   if (eof)
      vd_info(VD_CAT_TRANSPORT, "context %u closed by the proxy", id);
   if (c.vc)
      vd_context_destroy(c.vc); /* joins the threads that call rs_fence_retired */
   if (c.shmem)
      munmap(c.shmem, c.shmem_size);
   if (c.eventfd >= 0)
      close(c.eventfd);
   /* The proxy learns at once that the context is gone, as when a worker process exits;
    * a thread worker's socket is only closed when the server joins it. */
   shutdown(sock, SHUT_RDWR);
   vd_msgsock_fini(&c.ms);
   vd_log_set_thread_prefix(NULL);
}

/* -- the server: contexts and their workers --------------------------------------------- */

struct rs_server;

struct rs_worker {
   const struct vd_render_server_config *cfg;
   struct rs_server *server;
   uint32_t ctx_id;
   pid_t pid;        /* process workers */
   pthread_t thread; /* thread workers */
   int sock;         /* thread workers: the worker's socket (shut down to stop it) */
   atomic_bool done; /* thread workers: finished */
   enum vd_framing framing;
   char name[33];
   struct vd_sandbox_report *sandbox; /* process workers: names a forbidden call */
   struct rs_worker *next;
};

struct rs_server {
   const struct vd_render_server_config *cfg;
   int sock;
   struct vd_msgsock ms; /* on sock */
   bool first_checked;   /* the first request was checked against both framings */
   int signal_fd;
   sigset_t orig_mask;
   struct rs_worker *workers;
};

static void *thread_main(void *arg)
{
   vd_platform_thread_name("vd-context");
   struct rs_worker *w = arg;
   serve_context(w->cfg, w->sock, w->framing, w->ctx_id, w->name);
   atomic_store(&w->done, true);
   return NULL;
}

/* Logs a process worker that ended on its own: killed by a signal other than the SIGKILL
 * venusd sends, or exiting with an error. */
static void report_worker_exit(const struct rs_worker *w, int status)
{
   char why[128];
   if (vd_sandbox_describe_exit(w->sandbox, status, why, sizeof(why)))
      vd_warn(VD_CAT_MAIN,
              "worker process %ld for context %u killed by the sandbox: %s; the "
              "context is lost, the others go on.  If the host driver needs this call, "
              "report it; --no-sandbox turns the sandbox off",
              (long)w->pid, w->ctx_id, why);
   else if (vd_sandbox_describe_helper(w->sandbox, status, why, sizeof(why)))
      vd_warn(VD_CAT_MAIN,
              "worker process %ld of context %u ended (status 0x%x) after a "
              "process it started was killed by the sandbox: %s",
              (long)w->pid, w->ctx_id, (unsigned)status, why);
   else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
      vd_warn(VD_CAT_MAIN, "worker process %ld of context %u was killed by signal %d (%s)",
              (long)w->pid, w->ctx_id, WTERMSIG(status), strsignal(WTERMSIG(status)));
   else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      vd_warn(VD_CAT_MAIN, "worker process %ld of context %u exited with status %d", (long)w->pid,
              w->ctx_id, WEXITSTATUS(status));
}

static void worker_free(struct rs_worker *w)
{
   vd_sandbox_report_destroy(w->sandbox);
   free(w);
}

/* Joins finished thread workers and reaps exited process workers. */
static void collect_workers(struct rs_server *s)
{
   for (struct rs_worker **pp = &s->workers; *pp;) {
      struct rs_worker *w = *pp;
      if (s->cfg->worker == VD_WORKER_THREAD && atomic_load(&w->done)) {
         pthread_join(w->thread, NULL);
         close(w->sock);
         *pp = w->next;
         free(w);
         continue;
      }
      pp = &w->next;
   }
   for (;;) {
      int status;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0)
         break;
      for (struct rs_worker **pp = &s->workers; *pp; pp = &(*pp)->next) {
         struct rs_worker *w = *pp;
         if (w->pid != pid)
            continue;
         report_worker_exit(w, status);
         *pp = w->next;
         worker_free(w);
         break;
      }
   }
}

/* Stops one worker: a process is killed (as virglrenderer does; the kernel frees all it
 * had), a thread sees its socket shut down, destroys its context and is joined. */
static void stop_worker(struct rs_server *s, struct rs_worker *w)
{
   if (s->cfg->worker == VD_WORKER_THREAD) {
      shutdown(w->sock, SHUT_RDWR);
      pthread_join(w->thread, NULL);
      close(w->sock);
   } else {
      kill(w->pid, SIGKILL);
      int status = 0;
      while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
         ;
      /* It may have died on its own before the proxy asked (the client then saw its
       * context die). */
      report_worker_exit(w, status);
   }
}

static void destroy_context(struct rs_server *s, uint32_t ctx_id)
{
   for (struct rs_worker **pp = &s->workers; *pp; pp = &(*pp)->next) {
      struct rs_worker *w = *pp;
      if (w->ctx_id != ctx_id)
         continue;
      *pp = w->next;
      stop_worker(s, w);
      vd_info(VD_CAT_MAIN, "context %u destroyed", ctx_id);
      worker_free(w);
      return;
   }
   vd_warn(VD_CAT_MAIN, "DESTROY_CONTEXT of unknown context %u", ctx_id);
}

static void destroy_all(struct rs_server *s)
{
   while (s->workers) {
      struct rs_worker *w = s->workers;
      s->workers = w->next;
      stop_worker(s, w);
      worker_free(w);
   }
}

/* In a forked worker: the other workers' report pages are not its own. */
static void forget_workers(void *arg)
{
   const struct rs_worker *w = arg;
   for (struct rs_worker *o = w->server->workers; o; o = o->next)
      vd_sandbox_report_destroy(o->sandbox);
}

static void serve_forked_context(void *arg, int sock)
{
   const struct rs_worker *w = arg;
   serve_context(w->cfg, sock, w->framing, w->ctx_id, w->name);
}

void vd_render_server_serve_context(const struct vd_render_server_config *cfg, int sock,
                                    uint32_t id, const char *name)
{
   serve_context(cfg, sock, cfg->framing, id, name);
}

static bool create_context(struct rs_server *s, const struct rs_create_context *req)
{
   struct rs_create_context_reply reply = { .ok = false };
   for (struct rs_worker *w = s->workers; w; w = w->next) {
      if (w->ctx_id == req->ctx_id) {
         vd_err(VD_CAT_MAIN, "CREATE_CONTEXT of context %u, which exists", req->ctx_id);
         return vd_msgsock_send(&s->ms, &reply, sizeof(reply), NULL, 0);
      }
   }
   int sv[2];
   struct rs_worker *w = calloc(1, sizeof(*w));
   /* The context socket is of the client socket's type and framing. */
   const int type = s->ms.records ? SOCK_SEQPACKET : SOCK_STREAM;
   if (!w || socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
      vd_err(VD_CAT_MAIN, "cannot create context %u: %s", req->ctx_id,
             w ? strerror(errno) : "out of memory");
      free(w);
      return vd_msgsock_send(&s->ms, &reply, sizeof(reply), NULL, 0);
   }
   w->cfg = s->cfg;
   w->ctx_id = req->ctx_id;
   w->framing = s->ms.framing;
   memcpy(w->name, req->name, sizeof(req->name));
   w->name[32] = '\0';
   w->sock = sv[1];
   if (s->cfg->worker == VD_WORKER_THREAD) {
      const int ret = pthread_create(&w->thread, NULL, thread_main, w);
      if (ret) {
         vd_err(VD_CAT_MAIN, "cannot create a worker thread for context %u: %s", req->ctx_id,
                strerror(ret));
         close(sv[0]);
         close(sv[1]);
         free(w);
         return vd_msgsock_send(&s->ms, &reply, sizeof(reply), NULL, 0);
      }
   } else {
      if (s->cfg->worker != VD_WORKER_SPAWN)
         w->sandbox = vd_sandbox_report_create(vd_options_sandboxed(s->cfg->opts));
      w->server = s;
      const int server_fds[3] = { s->sock, s->signal_fd, sv[0] };
      const struct vd_worker_start ws = {
         .mode = s->cfg->worker,
         .front = "render-server",
         .id = w->ctx_id,
         .name = w->name,
         .framing = vd_framing_name(w->framing),
         .sock = sv[1],
         .close_fds = server_fds,
         .nclose = 3,
         .orig_mask = &s->orig_mask,
         .opts = s->cfg->opts,
         .sandbox = w->sandbox,
         .spawn_args = s->cfg->spawn_args,
         .child_cleanup = forget_workers,
         .serve = serve_forked_context,
         .arg = w,
      };
      const pid_t pid = vd_worker_start(&ws);
      if (pid < 0) {
         vd_err(VD_CAT_MAIN, "cannot fork a worker for context %u: %s", req->ctx_id,
                strerror(errno));
         close(sv[0]);
         close(sv[1]);
         worker_free(w);
         return vd_msgsock_send(&s->ms, &reply, sizeof(reply), NULL, 0);
      }
      w->pid = pid;
      close(sv[1]);
      w->sock = -1;
   }
   w->next = s->workers;
   s->workers = w;
   reply.ok = true;
   const bool sent = vd_msgsock_send(&s->ms, &reply, sizeof(reply), &sv[0], 1);
   close(sv[0]);
   return sent;
}

/* The size of each client request. */
static const size_t client_request_size[RS_CLIENT_OP_COUNT] = {
   [RS_CLIENT_NOP] = 4,
   [RS_CLIENT_INIT] = sizeof(struct rs_client_init),
   [RS_CLIENT_RESET] = 4,
   [RS_CLIENT_CREATE_CONTEXT] = sizeof(struct rs_create_context),
   [RS_CLIENT_DESTROY_CONTEXT] = sizeof(struct rs_destroy_context),
};

/* One client request.  Returns 1 to go on, 0 when the proxy went away, -1 when it broke
 * the protocol. */
static int client_dispatch(struct rs_server *s)
{
   union {
      uint32_t op;
      struct rs_client_init init;
      struct rs_create_context create_context;
      struct rs_destroy_context destroy_context;
      char bytes[sizeof(struct rs_create_context) + 1];
   } req;
   if (!s->first_checked) {
      /* A proxy of the other framing: say so rather than "invalid op". */
      char why[768];
      s->first_checked = true;
      if (!vd_msgsock_check_first(&s->ms, client_request_size, RS_CLIENT_OP_COUNT, why,
                                  sizeof(why))) {
         vd_err(VD_CAT_MAIN, "framing mismatch on the render-server socket: %s", why);
         return -1;
      }
   }
   int fds[VD_MSG_MAX_FDS], nfds;
   const ssize_t n = vd_msgsock_recv(&s->ms, &req, sizeof(req), fds, &nfds, "render-server");
   if (n == 0) {
      vd_info(VD_CAT_MAIN, "the proxy closed the render-server socket; exiting");
      return 0;
   }
   if (n < 0) {
      vd_err(VD_CAT_MAIN, "the render-server socket is broken (see above): the proxy itself "
                          "sends malformed messages, so no context can be trusted; exiting");
      return -1;
   }
   vd_close_fds(fds, nfds);
   if (n < 4 || req.op >= RS_CLIENT_OP_COUNT || (size_t)n != client_request_size[req.op] || nfds) {
      /* The proxy is libvirglrenderer itself, not a guest: a malformed request means a
       * protocol mismatch, and nothing after it can be trusted. */
      vd_err(VD_CAT_MAIN,
             "malformed render-server request: op %u (%s), %zd bytes, %d fds; "
             "is the proxy a virglrenderer with another protocol version?",
             n >= 4 ? req.op : 0u, n >= 4 ? client_op_name(req.op) : "short", n, nfds);
      return -1;
   }
   switch (req.op) {
   case RS_CLIENT_NOP: return 1;
   case RS_CLIENT_INIT:
      vd_info(VD_CAT_MAIN, "proxy initialised the renderer (flags 0x%x)", req.init.flags);
      return 1;
   case RS_CLIENT_RESET: destroy_all(s); return 1;
   case RS_CLIENT_CREATE_CONTEXT:
      if (create_context(s, &req.create_context))
         return 1;
      vd_err(VD_CAT_MAIN, "cannot answer CREATE_CONTEXT: %s", strerror(errno));
      return -1;
   case RS_CLIENT_DESTROY_CONTEXT: destroy_context(s, req.destroy_context.ctx_id); return 1;
   default: return -1;
   }
}

int vd_render_server_serve(const struct vd_render_server_config *cfg)
{
   struct rs_server s = { .cfg = cfg, .sock = cfg->socket_fd, .signal_fd = -1 };
   if (!vd_msgsock_init(&s.ms, s.sock, cfg->framing, "render-server"))
      return 1;
   sigset_t mask;
   sigemptyset(&mask);
   sigaddset(&mask, SIGCHLD);
   sigaddset(&mask, SIGINT);
   sigaddset(&mask, SIGTERM);
   sigprocmask(SIG_BLOCK, &mask, &s.orig_mask);
   s.signal_fd = vd_signals_open(&mask);
   if (s.signal_fd < 0) {
      vd_err(VD_CAT_MAIN, "cannot take signals (%s): %s", vd_platform_name(), strerror(errno));
      return 1;
   }
   int type;
   vd_info(VD_CAT_MAIN, "render server on fd %d (%s, %s framing), %s workers", s.sock,
           vd_socket_type_name(s.sock, &type), vd_framing_name(s.ms.framing),
           cfg->worker == VD_WORKER_THREAD  ? "thread"
           : cfg->worker == VD_WORKER_SPAWN ? "spawned"
                                            : "process");
   bool run = true;
   int status = 0;
   while (run) {
      struct pollfd pfd[2] = { { .fd = s.sock, .events = POLLIN },
                               { .fd = s.signal_fd, .events = POLLIN } };
      /* Thread workers finish without a signal: look for them now and then. */
      const int ret = poll(pfd, 2, cfg->worker == VD_WORKER_THREAD ? 1000 : -1);
      if (ret < 0 && errno != EINTR) {
         vd_err(VD_CAT_MAIN, "poll: %s", strerror(errno));
         break;
      }
      if (pfd[1].revents) {
         int sig;
         while ((sig = vd_signals_next(s.signal_fd)) != 0) {
            if (sig == SIGINT || sig == SIGTERM) {
               vd_info(VD_CAT_MAIN, "signal %d: stopping", sig);
               run = false;
            }
         }
      }
      collect_workers(&s);
      if (run && pfd[0].revents) {
         const int r = client_dispatch(&s);
         run = r > 0;
         if (r < 0)
            status = 1;
      }
   }
   destroy_all(&s);
   close(s.signal_fd);
   vd_msgsock_fini(&s.ms);
   close(s.sock);
   sigprocmask(SIG_SETMASK, &s.orig_mask, NULL);
   return status;
}

/* The proxy's side and the server's side of one framing over a socket pair. */
static bool selftest_exchange(struct vd_msgsock *proxy, struct vd_msgsock *server, char *why,
                              size_t why_size)
{
   const struct rs_client_init init = { .op = RS_CLIENT_INIT, .flags = 1u << 6 };
   if (!vd_msgsock_send(proxy, &init, sizeof(init), NULL, 0)) {
      snprintf(why, why_size, "cannot send INIT: %s", strerror(errno));
      return false;
   }
   if (!vd_msgsock_check_first(server, client_request_size, RS_CLIENT_OP_COUNT, why, why_size))
      return false;
   struct rs_create_context req;
   int fds[VD_MSG_MAX_FDS], nfds;
   ssize_t n = vd_msgsock_recv(server, &req, sizeof(req), fds, &nfds, "self-test");
   vd_close_fds(fds, nfds);
   if (n != sizeof(init) || req.op != RS_CLIENT_INIT) {
      snprintf(why, why_size, "INIT read back as %zd bytes, op %u", n, n >= 4 ? req.op : 0u);
      return false;
   }
   const struct rs_create_context_reply reply = { .ok = true };
   if (!vd_msgsock_send(server, &reply, sizeof(reply), &server->fd, 1)) {
      snprintf(why, why_size, "cannot send a reply with an fd: %s", strerror(errno));
      return false;
   }
   struct rs_create_context_reply got = { .ok = false };
   n = vd_msgsock_recv(proxy, &got, sizeof(got), fds, &nfds, "self-test");
   vd_close_fds(fds, nfds);
   if (n != sizeof(got) || !got.ok || nfds != 1) {
      snprintf(why, why_size, "the reply came back as %zd bytes, ok %d, %d fds (sent 1, 1, 1)", n,
               got.ok, nfds);
      return false;
   }
   return true;
}

bool vd_render_server_selftest(enum vd_framing framing, char *why, size_t why_size)
{
   int sv[2];
   const int type = framing == VD_FRAMING_STREAM ? SOCK_STREAM : SOCK_SEQPACKET;
   if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
      snprintf(why, why_size, "socketpair(%s): %s",
               type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_SEQPACKET", strerror(errno));
      return false;
   }
   struct vd_msgsock proxy, server;
   bool ok = vd_msgsock_init(&proxy, sv[0], framing, "self-test proxy") &&
             vd_msgsock_init(&server, sv[1], framing, "self-test server");
   if (!ok)
      snprintf(why, why_size, "the socket pair was refused (see above)");
   else
      ok = selftest_exchange(&proxy, &server, why, why_size);
   vd_msgsock_fini(&proxy);
   vd_msgsock_fini(&server);
   close(sv[0]);
   close(sv[1]);
   return ok;
}
