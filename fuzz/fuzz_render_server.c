/* libFuzzer target: venusd as virgl_render_server, driven by a fuzzed proxy.
 *
 * The real server loop (vd_render_server_serve, thread workers) runs on its own thread
 * with one end of a SOCK_SEQPACKET pair; this thread plays libvirglrenderer's proxy on the
 * other end.  The input is a list of messages, each
 *
 *    u8 target;   0: the server socket; 1..255: context socket (target - 1) % count, in
 *                 the order CREATE_CONTEXT replies handed them over (the server socket
 *                 while there is none)
 *    u8 fds;      fds attached as SCM_RIGHTS (see attach_fds): 0 none, 1 a memfd of arg
 *                 bytes, 2 an eventfd, 3 both, 4 /dev/null, 5 two memfds and an eventfd
 *    u16 size;    payload bytes (cut to what the input has left)
 *    u32 arg;     the memfd's size (at most 1 MiB)
 *    u8 payload[size];
 *
 * all little-endian, sent as one message each: client ops (INIT, CREATE_CONTEXT, ...) and
 * context ops (INIT with the timeline shmem, CREATE_RESOURCE, SUBMIT_CMD and its
 * continuation, SUBMIT_FENCE, ...) laid out as render_server.c declares them.  After a
 * message that looks like CREATE_CONTEXT (op 3) the proxy waits for the reply and keeps the
 * context socket it carries.  Before each message to the server and at the end it waits
 * until the workers have read everything sent to them (wait_consumed), so that what runs
 * does not depend on thread timing.  Replies on context sockets are read and thrown away (their
 * fds closed) whenever the proxy sends, so neither side blocks on a full socket.  At the
 * end the proxy closes every socket and the server returns.
 *
 * Speed: the server loop runs on one persistent thread, handed each input's socket, rather
 * than on a thread per input (under ASan a thread's start and exit map and unmap its
 * state, which cost more than a short input); the workers are venusd's own, a thread per
 * context.  The proxy sleeps in short naps while it waits for a worker, rather than
 * yield-polling, so that on a busy core the worker gets the time.
 *
 * Seeds: fuzz/seeds.sh.  Build and run: fuzz/README.md. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "fuzz_common.h"
#include "util/options.h"
#include "transport/render_server.h"

static const struct vd_options fuzz_opts = VD_OPTIONS_DEFAULT;

#define MAX_CTX_SOCKS 8
#define MAX_MEMFD (1u << 20)
#define REPLY_TIMEOUT_MS 5000
#define CONSUME_TIMEOUT_NS (1000u * 1000000u)
#define NAP_NS 20000u

struct proxy {
   int server;
   int ctx[MAX_CTX_SOCKS];
   unsigned ctx_count;
};

static int make_memfd(uint32_t size)
{
   const int fd = memfd_create("fuzz", MFD_CLOEXEC);
   if (fd >= 0 && ftruncate(fd, size % (MAX_MEMFD + 1)) < 0) {
      close(fd);
      return -1;
   }
   return fd;
}

/* Opens the fds of attachment kind `kind`; returns how many. */
static int attach_fds(uint8_t kind, uint32_t arg, int fds[3])
{
   int n = 0;
   switch (kind % 6) {
   case 1: fds[n++] = make_memfd(arg); break;
   case 2: fds[n++] = eventfd(0, EFD_CLOEXEC); break;
   case 3:
      fds[n++] = make_memfd(arg);
      fds[n++] = eventfd(0, EFD_CLOEXEC);
      break;
   case 4: fds[n++] = open("/dev/null", O_RDWR | O_CLOEXEC); break;
   case 5:
      fds[n++] = make_memfd(arg);
      fds[n++] = make_memfd(arg);
      fds[n++] = eventfd(0, EFD_CLOEXEC);
      break;
   default: break;
   }
   for (int i = 0; i < n; i++) {
      if (fds[i] < 0)
         abort(); /* the harness, not venusd, is out of fds */
   }
   return n;
}

/* Sends one message, reading replies while the socket is full.  False if the peer is
 * gone. */
static bool send_msg(int sock, const void *data, size_t size, const int *fds, int nfds)
{
   union {
      char buf[CMSG_SPACE(3 * sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   struct iovec iov = { .iov_base = (void *)data, .iov_len = size };
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
   if (nfds) {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
   }
   for (;;) {
      if (sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
         return true;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
         return false;
      struct pollfd pfd = { .fd = sock, .events = POLLIN | POLLOUT };
      if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
         return false;
      if ((pfd.revents & POLLIN) && !fuzz_drain(sock, MSG_DONTWAIT))
         return false;
      if (pfd.revents & (POLLHUP | POLLERR))
         return false;
   }
}

/* Waits for the CREATE_CONTEXT reply {bool ok} and keeps the context socket it carries. */
static void take_context_socket(struct proxy *p)
{
   struct pollfd pfd = { .fd = p->server, .events = POLLIN };
   if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
      return;
   char reply[8];
   union {
      char buf[CMSG_SPACE(4 * sizeof(int))];
      struct cmsghdr align;
   } u;
   struct iovec iov = { .iov_base = reply, .iov_len = sizeof(reply) };
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
   };
   if (recvmsg(p->server, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) <= 0)
      return;
   for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
         if (p->ctx_count < MAX_CTX_SOCKS)
            p->ctx[p->ctx_count++] = fd;
         else
            close(fd);
      }
   }
}

static uint64_t now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits until every worker has received all that was sent to it (SIOCOUTQ: bytes not yet
 * read by the peer), reading replies meanwhile.  A worker finishes a request it has read
 * even when its context is destroyed; so the messages before a client op (DESTROY_CONTEXT,
 * RESET) or the end always run, as they do behind a proxy that waits for its fences. */
static void wait_consumed(struct proxy *p)
{
   const uint64_t deadline = now_ns() + CONSUME_TIMEOUT_NS;
   for (unsigned i = 0; i < p->ctx_count; i++) {
      int outq = 0;
      while (ioctl(p->ctx[i], SIOCOUTQ, &outq) == 0 && outq > 0 && now_ns() < deadline) {
         /* A worker that ended has shut its socket down (POLLHUP): nothing more to wait
          * for. */
         struct pollfd pfd = { .fd = p->ctx[i], .events = POLLIN };
         if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
            break;
         if (!fuzz_drain(p->ctx[i], MSG_DONTWAIT))
            break;
         const struct timespec nap = { 0, NAP_NS };
         nanosleep(&nap, NULL);
      }
   }
}

static uint32_t get_le(const uint8_t *p, unsigned bytes)
{
   uint32_t v = 0;
   for (unsigned i = 0; i < bytes; i++)
      v |= (uint32_t)p[i] << (8 * i);
   return v;
}

/* Sends the input's messages; stops at the first the server side no longer takes. */
static void run_proxy(struct proxy *p, const uint8_t *data, size_t size)
{
   while (size >= 8) {
      const uint8_t target = data[0], fd_kind = data[1];
      size_t len = get_le(data + 2, 2);
      const uint32_t arg = get_le(data + 4, 4);
      data += 8;
      size -= 8;
      if (len > size)
         len = size;
      const int sock = target && p->ctx_count ? p->ctx[(target - 1) % p->ctx_count] : p->server;
      if (sock == p->server)
         wait_consumed(p);
      int fds[3];
      const int nfds = attach_fds(fd_kind, arg, fds);
      const bool sent = send_msg(sock, data, len, fds, nfds);
      for (int i = 0; i < nfds; i++)
         close(fds[i]);
      if (sent && sock == p->server && len >= 4 && get_le(data, 4) == 3)
         take_context_socket(p);
      if (!sent && sock == p->server)
         return;
      data += len;
      size -= len;
   }
}

/* The persistent server thread: serves one input's socket at a time. */
static struct {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   struct vd_render_server_config cfg;
   bool busy; /* cfg holds an input's socket that the server has not finished serving */
} server = { .mutex = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *server_main(void *arg)
{
   (void)arg;
   pthread_mutex_lock(&server.mutex);
   for (;;) {
      while (!server.busy)
         pthread_cond_wait(&server.cond, &server.mutex);
      const struct vd_render_server_config cfg = server.cfg;
      pthread_mutex_unlock(&server.mutex);
      vd_render_server_serve(&cfg); /* closes the socket */
      pthread_mutex_lock(&server.mutex);
      server.busy = false;
      pthread_cond_broadcast(&server.cond);
   }
   return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   fuzz_pin_cpu(*argc, *argv);
   fuzz_init(false);
   prctl(PR_SET_TIMERSLACK, 1000ul); /* NAP_NS naps, not the default 50 us slack */
   pthread_t thread;
   if (pthread_create(&thread, NULL, server_main, NULL))
      abort();
   pthread_detach(thread);
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
      abort();
   pthread_mutex_lock(&server.mutex);
   server.cfg = (struct vd_render_server_config){ .socket_fd = sv[1],
                                                  .worker = VD_WORKER_THREAD,
                                                  .opts = &fuzz_opts };
   server.busy = true;
   pthread_cond_broadcast(&server.cond);
   pthread_mutex_unlock(&server.mutex);
   struct proxy p = { .server = sv[0] };
   run_proxy(&p, data, size);
   wait_consumed(&p);
   /* The proxy goes away: context sockets first, so that a worker never waits on one. */
   for (unsigned i = 0; i < p.ctx_count; i++)
      close(p.ctx[i]);
   close(p.server);
   pthread_mutex_lock(&server.mutex);
   while (server.busy)
      pthread_cond_wait(&server.cond, &server.mutex);
   pthread_mutex_unlock(&server.mutex);
   return 0;
}
