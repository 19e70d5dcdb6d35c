/* The doctor's socket checks: whether the vtest socket path is free, held by a live
 * server (which process: the check behind `venusd vtest`'s own refusal) or stale; and a
 * render-server self-test: venusd itself, started as libvirglrenderer's proxy starts its
 * render server, over a socket pair, driven through one context: create it, INIT with a
 * timeline shmem and an eventfd, a fence that must retire into both, a shared-memory blob
 * that must map, and a clean exit when the "proxy" closes its socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "context/blob.h"
#include "doctor.h"
#include "platform/platform.h"
#include "transport/capset.h"
#include "transport/listener.h"

void vd_doctor_check_socket(struct vd_doctor *d, const char *path)
{
   vd_doctor_section(d, "vtest socket");
   struct stat st;
   struct vd_doctor_check *c;
   const int err = lstat(path, &st) < 0 ? errno : 0;
   const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
   if (strlen(path) > max) {
      c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                        "unix socket paths are limited: use a shorter --socket (and "
                        "VTEST_SOCKET_NAME for clients)",
                        "%s is longer than a unix socket path may be (%zu bytes)", path, max);
      vd_doctor_field_str(c, "state", "too-long");
   } else if (err && err != ENOENT) {
      c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                        "venusd vtest could not use this path either: fix the directory's "
                        "permissions or use another --socket",
                        "cannot look at %s: %s", path, strerror(err));
      vd_doctor_field_str(c, "state", "unreachable");
   } else if (err == ENOENT) {
      char dir[4096];
      snprintf(dir, sizeof(dir), "%s", path);
      char *slash = strrchr(dir, '/');
      if (slash)
         *(slash == dir ? slash + 1 : slash) = '\0';
      const char *where = slash ? dir : ".";
      const int dir_err = access(where, W_OK | X_OK) == 0 ? 0 : errno;
      c = vd_doctor_add(
         d, "socket", dir_err ? VD_DOCTOR_FAIL : VD_DOCTOR_OK,
         dir_err ? "give venusd vtest a --socket in a directory it may "
                   "write, and clients the same VTEST_SOCKET_NAME"
                 : NULL,
         "%s is free%s%s%s", path, dir_err ? ", but venusd vtest cannot create it there: " : "",
         dir_err ? where : ": venusd vtest can listen there",
         dir_err ? (dir_err == ENOENT ? " does not exist" : " is not writable") : "");
      vd_doctor_field_str(c, "state", "free");
   } else if (!S_ISSOCK(st.st_mode)) {
      c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                        "venusd vtest never replaces a file that is not a socket: remove it or "
                        "use another --socket (and VTEST_SOCKET_NAME for clients)",
                        "%s exists and is not a socket", path);
      vd_doctor_field_str(c, "state", "not-a-socket");
   } else {
      const pid_t holder = vd_socket_listener(path);
      char comm[64];
      vd_process_name(holder, comm, sizeof(comm));
      if (holder > 0) {
         c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                           "another venusd vtest cannot start there: stop that process, or give "
                           "the new server another --socket (if it is the server you meant to "
                           "run, clients can already connect to it)",
                           "%s is in use: process %ld (%s) is listening on it", path, (long)holder,
                           comm);
         vd_doctor_field_int(c, "pid", holder);
         vd_doctor_field_str(c, "process", comm);
         vd_doctor_field_str(c, "state", "in-use");
      } else if (holder < 0) {
         c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                           "another venusd vtest cannot start there: stop the server that "
                           "listens on it, or use another --socket",
                           "%s is in use by a live server (its pid is unknown)", path);
         vd_doctor_field_str(c, "state", "in-use");
      } else {
         c = vd_doctor_add(d, "socket", VD_DOCTOR_FAIL,
                           "clients get 'connection refused' until a server listens: start "
                           "venusd vtest (it removes the stale file) or remove the file",
                           "%s is stale: a socket file nobody listens on (its server died)", path);
         vd_doctor_field_str(c, "state", "stale");
      }
   }
   vd_doctor_field_str(c, "path", path);
}

/* -- the render-server self-test --------------------------------------------------------- */

/* How proxy and server frame their messages on the socket.  seqpacket: one message per
 * request, fds attached (virglrenderer on Linux).  stream: SOCK_STREAM, a 4-byte
 * big-endian length sent on its own with the message's fds, then the message
 * (virglrenderer's macOS build; docs/protocol.md).  The doctor plays the proxy with its own
 * code for each, not venusd's transport code, so the self-test checks the server against
 * the format rather than against itself. */
struct rs_framing {
   const char *name;
   int sock_type;
   const char *server_arg; /* appended to the server's command line, or NULL */
   bool (*send)(int sock, const void *data, size_t size, const int *fds, int nfds);
   /* One reply of at most size bytes (and one fd, -1 if none); its size or -1. */
   ssize_t (*recv)(int sock, void *buf, size_t size, int *fd);
};

static bool seq_send(int sock, const void *data, size_t size, const int *fds, int nfds)
{
   union {
      char buf[CMSG_SPACE(4 * sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   struct iovec iov = { .iov_base = (void *)data, .iov_len = size };
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
   if (nfds > 0) {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
   }
   return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)size;
}

static ssize_t seq_recv(int sock, void *buf, size_t size, int *fd)
{
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } u;
   struct iovec iov = { .iov_base = buf, .iov_len = size };
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
   };
   *fd = -1;
   const ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
   struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
   if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy(fd, CMSG_DATA(c), sizeof(int));
   return n;
}

static bool stream_send(int sock, const void *data, size_t size, const int *fds, int nfds)
{
   const uint32_t len = htonl((uint32_t)size);
   if (!seq_send(sock, &len, sizeof(len), fds, nfds))
      return false;
   return send(sock, data, size, MSG_NOSIGNAL) == (ssize_t)size;
}

/* Reads exactly size bytes of a stream (the fds come with the first ones); false at EOF. */
static bool stream_read_all(int sock, void *buf, size_t size, int *fd)
{
   size_t got = 0;
   while (got < size) {
      int f = -1;
      const ssize_t n = seq_recv(sock, (char *)buf + got, size - got, &f);
      if (f >= 0) {
         if (*fd < 0)
            *fd = f;
         else
            close(f);
      }
      if (n <= 0)
         return false;
      got += (size_t)n;
   }
   return true;
}

static ssize_t stream_recv(int sock, void *buf, size_t size, int *fd)
{
   uint32_t len;
   *fd = -1;
   if (!stream_read_all(sock, &len, sizeof(len), fd))
      return -1;
   len = ntohl(len);
   if (len > size)
      return -1;
   return stream_read_all(sock, buf, len, fd) ? (ssize_t)len : -1;
}

static const struct rs_framing framings[] = {
   { "seqpacket", SOCK_SEQPACKET, NULL, seq_send, seq_recv },
   { "stream", SOCK_STREAM, "--framing=stream", stream_send, stream_recv },
};

/* The requests of docs/protocol.md §6 (LP64), as the proxy sends them. */
enum {
   RS_CLIENT_INIT = 1,
   RS_CLIENT_CREATE_CONTEXT = 3,
   RS_CLIENT_DESTROY_CONTEXT = 4
};
enum {
   RS_CTX_INIT = 1,
   RS_CTX_CREATE_RESOURCE = 2,
   RS_CTX_SUBMIT_FENCE = 6
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
struct rs_ctx_init {
   uint32_t op, flags;
   uint64_t shmem_size;
};
struct rs_create_resource {
   uint32_t op, res_id;
   uint64_t blob_id, blob_size;
   uint32_t blob_flags;
};
struct rs_create_resource_reply {
   int32_t fd_type;
   uint32_t map_info;
   uint8_t device_uuid[16], driver_uuid[16];
   uint64_t allocation_size;
   uint32_t memory_type_index;
};
struct rs_submit_fence {
   uint32_t op, flags, ring_index, seqno;
};

#define RS_TIMEOUT_MS 30000 /* the server's start includes its Vulkan driver check */
#define RS_SHMEM_SIZE 256u

struct rs_test {
   const struct rs_framing *f;
   pid_t pid;
   int srv, ctx, log_fd, shm_fd;
   struct vd_wake event; /* the proxy's eventfd (a pipe on POSIX): .wr goes to the server */
   volatile uint32_t *timelines;
   char step[256]; /* what failed */
};

static void sleep_us(long us)
{
   const struct timespec ts = { us / 1000000, us % 1000000 * 1000 };
   nanosleep(&ts, NULL);
}

static bool wait_readable(int fd, int ms)
{
   struct pollfd p = { .fd = fd, .events = POLLIN };
   int r;
   do
      r = poll(&p, 1, ms);
   while (r < 0 && errno == EINTR);
   return r == 1;
}

static bool rs_fail(struct rs_test *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool rs_fail(struct rs_test *t, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(t->step, sizeof(t->step), fmt, ap);
   va_end(ap);
   return false;
}

/* Starts `self render-server --socket-fd N`, its stdout and stderr into t->log_fd. */
static bool rs_spawn(struct rs_test *t, const char *self)
{
   int sv[2];
   if (socketpair(AF_UNIX, t->f->sock_type | SOCK_CLOEXEC, 0, sv) < 0)
      return rs_fail(t, "socketpair: %s", strerror(errno));
   char fdarg[16];
   snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
   char *argv[] = { (char *)self, "render-server",          "--socket-fd",
                    fdarg,        (char *)t->f->server_arg, NULL };
   fflush(NULL);
   t->pid = fork();
   if (t->pid < 0) {
      close(sv[0]);
      close(sv[1]);
      return rs_fail(t, "fork: %s", strerror(errno));
   }
   if (t->pid == 0) {
      /* The server's end survives exec, as the proxy's child arranges; output goes to the
       * log, never into the doctor's own (JSON) output. */
      fcntl(sv[1], F_SETFD, 0);
      dup2(t->log_fd, STDOUT_FILENO);
      dup2(t->log_fd, STDERR_FILENO);
      execv(self, argv);
      _exit(127);
   }
   close(sv[1]);
   t->srv = sv[0];
   const struct rs_client_init init = { .op = RS_CLIENT_INIT };
   if (!t->f->send(t->srv, &init, sizeof(init), NULL, 0))
      return rs_fail(t, "sending INIT: %s", strerror(errno));
   return true;
}

static bool rs_create_context(struct rs_test *t)
{
   struct rs_create_context req = { .op = RS_CLIENT_CREATE_CONTEXT, .ctx_id = 1 };
   snprintf(req.name, sizeof(req.name), "venusd-doctor");
   if (!t->f->send(t->srv, &req, sizeof(req), NULL, 0))
      return rs_fail(t, "sending CREATE_CONTEXT: %s", strerror(errno));
   if (!wait_readable(t->srv, RS_TIMEOUT_MS))
      return rs_fail(t, "no answer to CREATE_CONTEXT within %d s", RS_TIMEOUT_MS / 1000);
   bool ok = false;
   const ssize_t n = t->f->recv(t->srv, &ok, sizeof(ok), &t->ctx);
   if (n != 1 || !ok || t->ctx < 0)
      return rs_fail(t, "CREATE_CONTEXT answered %zd bytes, ok %d, %s", n, ok,
                     t->ctx < 0 ? "no context socket" : "a context socket");
   return true;
}

static bool rs_init_context(struct rs_test *t)
{
   t->shm_fd = vd_platform_shm_create("venusd-doctor-timelines");
   if (t->shm_fd < 0)
      return rs_fail(t, "shared memory: %s", strerror(-t->shm_fd));
   if (!vd_wake_open(&t->event) || ftruncate(t->shm_fd, RS_SHMEM_SIZE) < 0)
      return rs_fail(t, "eventfd/ftruncate: %s", strerror(errno));
   void *p = mmap(NULL, RS_SHMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->shm_fd, 0);
   if (p == MAP_FAILED)
      return rs_fail(t, "mmap: %s", strerror(errno));
   t->timelines = p;
   const struct rs_ctx_init req = { .op = RS_CTX_INIT,
                                    .flags = VD_CAPSET_ID_VENUS,
                                    .shmem_size = RS_SHMEM_SIZE };
   const int fds[2] = { t->shm_fd, t->event.wr };
   if (!t->f->send(t->ctx, &req, sizeof(req), fds, 2))
      return rs_fail(t, "sending the context's INIT: %s", strerror(errno));
   return true;
}

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool rs_fence(struct rs_test *t)
{
   const struct rs_submit_fence req = { .op = RS_CTX_SUBMIT_FENCE, .ring_index = 0, .seqno = 7 };
   if (!t->f->send(t->ctx, &req, sizeof(req), NULL, 0))
      return rs_fail(t, "sending SUBMIT_FENCE: %s", strerror(errno));
   const int64_t end = now_ms() + RS_TIMEOUT_MS;
   uint64_t count = 0;
   while (now_ms() < end) {
      if (t->timelines[0] == 7 && read(t->event.rd, &count, sizeof(count)) == sizeof(count))
         return true;
      if (wait_readable(t->ctx, 0))
         return rs_fail(t, "the context closed after INIT and SUBMIT_FENCE");
      sleep_us(1000);
   }
   return rs_fail(t, "fence 7 on ring 0 not retired within %d s (timeline holds %u)",
                  RS_TIMEOUT_MS / 1000, t->timelines[0]);
}

static bool rs_blob(struct rs_test *t)
{
   const struct rs_create_resource req = { .op = RS_CTX_CREATE_RESOURCE,
                                           .res_id = 1,
                                           .blob_id = 0,
                                           .blob_size = 4096,
                                           .blob_flags = VD_BLOB_FLAG_MAPPABLE };
   if (!t->f->send(t->ctx, &req, sizeof(req), NULL, 0))
      return rs_fail(t, "sending CREATE_RESOURCE: %s", strerror(errno));
   if (!wait_readable(t->ctx, RS_TIMEOUT_MS))
      return rs_fail(t, "no answer to CREATE_RESOURCE within %d s", RS_TIMEOUT_MS / 1000);
   struct rs_create_resource_reply reply;
   int fd = -1;
   const ssize_t n = t->f->recv(t->ctx, &reply, sizeof(reply), &fd);
   void *p = fd >= 0 ? mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
   const bool ok =
      n == (ssize_t)sizeof(reply) && reply.fd_type == VD_FD_TYPE_SHM && p != MAP_FAILED;
   if (p != MAP_FAILED)
      munmap(p, 4096);
   if (fd >= 0)
      close(fd);
   if (!ok)
      return rs_fail(t,
                     "CREATE_RESOURCE of a 4 KiB shared-memory blob: %zd bytes, fd type %d, "
                     "%s",
                     n, n > 0 ? reply.fd_type : -1, fd < 0 ? "no fd" : "an fd that does not map");
   return true;
}

/* Closes the proxy's sockets: the server must exit 0 on its own. */
static bool rs_finish(struct rs_test *t)
{
   const struct rs_destroy_context req = { .op = RS_CLIENT_DESTROY_CONTEXT, .ctx_id = 1 };
   t->f->send(t->srv, &req, sizeof(req), NULL, 0);
   close(t->ctx);
   t->ctx = -1;
   close(t->srv);
   t->srv = -1;
   int status = 0;
   const int64_t end = now_ms() + RS_TIMEOUT_MS;
   pid_t r;
   while ((r = waitpid(t->pid, &status, WNOHANG)) == 0 && now_ms() < end)
      sleep_us(5000);
   if (r != t->pid)
      return rs_fail(t, "the server did not exit within %d s of the proxy closing its socket",
                     RS_TIMEOUT_MS / 1000);
   t->pid = -1;
   if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return rs_fail(t, "the server ended with %s %d when the proxy closed its socket",
                     WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
   return true;
}

static void rs_cleanup(struct rs_test *t)
{
   if (t->pid > 0) {
      kill(t->pid, SIGKILL);
      waitpid(t->pid, NULL, 0);
   }
   if (t->timelines)
      munmap((void *)t->timelines, RS_SHMEM_SIZE);
   vd_wake_close(&t->event);
   const int fds[] = { t->srv, t->ctx, t->shm_fd };
   for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
      if (fds[i] >= 0)
         close(fds[i]);
}

/* The server's own summary of a failure for the message: its last "venusd ...:" line
 * (main.c's start-up errors), else its last ERROR line, else its last line. */
static void last_log_line(int fd, char *out, size_t size)
{
   char buf[8192];
   out[0] = '\0';
   const off_t end = lseek(fd, 0, SEEK_END);
   const off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
   const ssize_t n = pread(fd, buf, sizeof(buf) - 1, start);
   if (n <= 0)
      return;
   buf[n] = '\0';
   const char *summary = NULL, *error = NULL, *last = NULL;
   for (char *save = NULL, *p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
      if (!strncmp(p, "venusd ", 7))
         summary = p;
      if (strstr(p, " ERROR "))
         error = p;
      last = p;
   }
   snprintf(out, size, "%s", summary ? summary : error ? error : last ? last : "");
}

/* Adds "(the server exited ...)" to t->step when the server is gone. */
static void note_server_exit(struct rs_test *t)
{
   int status;
   pid_t r = 0;
   /* A server that closed its socket is exiting: give it a moment to become a zombie. */
   for (int i = 0; t->pid > 0 && i < 100 && (r = waitpid(t->pid, &status, WNOHANG)) == 0; i++)
      sleep_us(10000);
   if (t->pid <= 0 || r != t->pid)
      return;
   t->pid = -1;
   const size_t len = strlen(t->step);
   snprintf(t->step + len, sizeof(t->step) - len, " (the server had exited: %s %d)",
            WIFEXITED(status) ? "status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void run_framing(struct vd_doctor *d, const struct vd_doctor_config *cfg,
                        const struct rs_framing *f)
{
   struct rs_test t = {
      .f = f, .pid = -1, .srv = -1, .ctx = -1, .shm_fd = -1, .event = { -1, -1 }
   };
   t.log_fd = vd_platform_shm_create("venusd-doctor-rs-log");
   const bool ok = t.log_fd >= 0 && rs_spawn(&t, cfg->self_exe) && rs_create_context(&t) &&
                   rs_init_context(&t) && rs_fence(&t) && rs_blob(&t) && rs_finish(&t);
   if (t.log_fd < 0)
      rs_fail(&t, "cannot make the log file: %s", strerror(-t.log_fd));
   if (!ok)
      note_server_exit(&t);
   rs_cleanup(&t);
   char log[512] = "";
   if (!ok && t.log_fd >= 0)
      last_log_line(t.log_fd, log, sizeof(log));
   if (t.log_fd >= 0)
      close(t.log_fd);
   struct vd_doctor_check *c;
   if (ok) {
      c = vd_doctor_add(d, "render-server", VD_DOCTOR_OK, NULL,
                        "render-server self-test (%s): context created, INIT, a fence retired "
                        "into the timeline shmem and the eventfd, a shared-memory blob mapped, "
                        "clean exit",
                        f->name);
   } else {
      c = vd_doctor_add(d, "render-server", VD_DOCTOR_FAIL,
                        "a VMM's render server would fail the same way: fix what the server's "
                        "log says (run 'venusd render-server' by hand with the VMM's "
                        "environment to see all of it); VENUSD_RENDER_SERVER_ARGS applies here "
                        "as it does under the VMM",
                        "render-server self-test (%s) failed: %s%s%s", f->name, t.step,
                        log[0] ? "; the server said: " : "", log);
      vd_doctor_field_str(c, "error", t.step);
      vd_doctor_field_str(c, "server_log", log);
   }
   vd_doctor_field_str(c, "framing", f->name);
   vd_doctor_field_bool(c, "ok", ok);
}

void vd_doctor_check_render_server(struct vd_doctor *d, const struct vd_doctor_config *cfg)
{
   vd_doctor_section(d, "render server");
   for (size_t i = 0; i < sizeof(framings) / sizeof(framings[0]); i++)
      run_framing(d, cfg, &framings[i]);
}
