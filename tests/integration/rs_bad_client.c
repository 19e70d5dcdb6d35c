/* rs_bad_client: drives "venusd render-server" over its socket the way libvirglrenderer's
 * proxy does (docs/protocol.md §6), then with requests no proxy sends, for
 * tests/integration/test_render_server_protocol.sh.  The well-formed half checks real
 * behaviour: a fence on ring 0 stores its seqno in the timeline shmem and writes the
 * eventfd.  Each malformed request must end its own context (the worker closes its socket,
 * at once: a thread worker shuts it down itself rather than waiting for the server to join
 * it, which takes up to a second) while the server keeps creating working contexts.
 *
 *   rs_bad_client [--framing seqpacket|stream] VENUSD [VENUSD OPTIONS...]
 *   rs_bad_client --mismatch VENUSD [VENUSD OPTIONS...]
 *
 * --framing stream plays virglrenderer's macOS proxy: SOCK_STREAM sockets, a 4-byte length
 * before every message; its malformed requests include broken length headers.  --mismatch
 * runs a server for each pairing of a proxy's framing with the wrong socket type or
 * --framing, and for length headers that break the proxy's own socket: each must stop the
 * server with exit status 1 (the log lines are checked by the calling script).
 *
 * venusd's stderr is this program's.  Output: "PASS name" / "FAIL name: reason" lines,
 * names prefixed by $RS_NAME_PREFIX.  Exit status 0 if every check passed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The request layouts of docs/protocol.md §6.3/§6.4 (LP64). */
struct client_init {
   uint32_t op, flags;
};
struct create_context {
   uint32_t op, ctx_id;
   char name[32];
};
struct destroy_context {
   uint32_t op, ctx_id;
};
struct ctx_init {
   uint32_t op, flags;
   uint64_t shmem_size;
};
struct submit_cmd {
   uint32_t op, size;
   char cmd[256];
};
struct submit_fence {
   uint32_t op, flags, ring_index, seqno;
};

static const char *prefix = "";
static int failures;
/* How this client frames its messages (a 4-byte length first, or none) and the type of
 * the socket pair it gives the server. */
static bool framed;
static int sock_type = SOCK_SEQPACKET;

static void report(bool ok, const char *name, const char *fmt, ...)
{
   if (ok) {
      printf("PASS %s%s\n", prefix, name);
   } else {
      char why[256];
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(why, sizeof(why), fmt, ap);
      va_end(ap);
      printf("FAIL %s%s: %s\n", prefix, name, why);
      failures++;
   }
   fflush(stdout);
}

static bool send_with_fds(int sock, const void *data, size_t size, const int *fds, int nfds)
{
   union {
      char buf[CMSG_SPACE(4 * sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   const uint32_t len = htonl((uint32_t)size); /* virglrenderer main's header */
   struct iovec iov[2] = { { .iov_base = (void *)&len, .iov_len = 4 },
                           { .iov_base = (void *)data, .iov_len = size } };
   struct msghdr msg = { .msg_iov = framed ? iov : iov + 1, .msg_iovlen = framed ? 2 : 1 };
   if (nfds) {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
   }
   return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)(size + (framed ? 4 : 0));
}

/* Raw bytes, no framing added, with optional fds. */
static bool send_raw(int sock, const void *data, size_t size, const int *fds, int nfds)
{
   const bool was = framed;
   framed = false;
   const bool ok = send_with_fds(sock, data, size, fds, nfds);
   framed = was;
   return ok;
}

static bool send_msg(int sock, const void *data, size_t size)
{
   return send_with_fds(sock, data, size, NULL, 0);
}

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True if the peer closes sock within ms (recv returns 0 or ECONNRESET). */
static bool closes_within(int sock, int ms)
{
   struct pollfd p = { .fd = sock, .events = POLLIN };
   while (poll(&p, 1, ms) > 0) {
      char b[512];
      ssize_t n = recv(sock, b, sizeof(b), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
         return true;
      if (n < 0 && errno != EAGAIN)
         return true;
   }
   return false;
}

static int create_context(int srv, uint32_t id, const char *name)
{
   struct create_context req = { .op = 3, .ctx_id = id };
   snprintf(req.name, sizeof(req.name), "%s", name);
   if (!send_msg(srv, &req, sizeof(req)))
      return -1;
   /* The reply: a bool, after its length in the stream framing; the fd comes with the
    * first bytes. */
   struct {
      uint32_t len;
      bool ok;
   } __attribute__((packed)) reply = { 0 };
   char *dst = framed ? (char *)&reply : (char *)&reply.ok;
   const size_t want = framed ? 5 : 1;
   size_t got = 0;
   int fd = -1;
   while (got < want) {
      union {
         char buf[CMSG_SPACE(sizeof(int))];
         struct cmsghdr align;
      } u;
      struct iovec iov = { .iov_base = dst + got, .iov_len = want - got };
      struct msghdr msg = {
         .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
      };
      struct pollfd p = { .fd = srv, .events = POLLIN };
      const ssize_t n = poll(&p, 1, 5000) == 1 ? recvmsg(srv, &msg, MSG_CMSG_CLOEXEC) : -1;
      if (n <= 0)
         break;
      got += (size_t)n;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      if (c && c->cmsg_type == SCM_RIGHTS && fd < 0)
         memcpy(&fd, CMSG_DATA(c), sizeof(fd));
   }
   if (got == want && reply.ok && (!framed || ntohl(reply.len) == 1))
      return fd;
   if (fd >= 0)
      close(fd);
   return -1;
}

struct timelines {
   int shm_fd, event_fd;
   volatile uint32_t *seqno;
};

/* INIT as the proxy sends it: a 64-ring timeline memfd and an eventfd. */
static bool init_context(int ctx, uint32_t flags, struct timelines *t)
{
   t->shm_fd = memfd_create("rs-bad-client", MFD_CLOEXEC);
   t->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   if (t->shm_fd < 0 || t->event_fd < 0 || ftruncate(t->shm_fd, 256) < 0)
      return false;
   void *p = mmap(NULL, 256, PROT_READ | PROT_WRITE, MAP_SHARED, t->shm_fd, 0);
   if (p == MAP_FAILED)
      return false;
   t->seqno = p;
   const struct ctx_init req = { .op = 1, .flags = flags, .shmem_size = 256 };
   const int fds[2] = { t->shm_fd, t->event_fd };
   return send_with_fds(ctx, &req, sizeof(req), fds, 2);
}

static void fini_timelines(struct timelines *t)
{
   if (t->seqno)
      munmap((void *)t->seqno, 256);
   if (t->shm_fd > 0)
      close(t->shm_fd);
   if (t->event_fd > 0)
      close(t->event_fd);
   memset(t, 0, sizeof(*t));
}

static int count_fds(pid_t pid)
{
   char path[64];
   snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
   DIR *d = opendir(path);
   if (!d)
      return -1;
   int n = 0;
   for (struct dirent *e; (e = readdir(d));)
      n += e->d_name[0] != '.';
   closedir(d);
   return n;
}

static bool fence_signals(int ctx, struct timelines *t, uint32_t ring, uint32_t seqno)
{
   const struct submit_fence f = { .op = 6, .flags = 1, .ring_index = ring, .seqno = seqno };
   if (!send_msg(ctx, &f, sizeof(f)))
      return false;
   for (int i = 0; i < 2000; i++) {
      uint64_t v;
      if (t->seqno[ring] == seqno && read(t->event_fd, &v, sizeof(v)) == sizeof(v) && v >= 1)
         return true;
      usleep(1000);
   }
   return false;
}

static pid_t spawn_server(char **argv, int *srv)
{
   int sv[2];
   if (socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, sv) < 0)
      return -1;
   const pid_t pid = fork();
   if (pid == 0) {
      char fdarg[16];
      snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
      int n = 0;
      while (argv[n])
         n++;
      char **args = calloc((size_t)n + 5, sizeof(*args));
      args[0] = argv[0];
      args[1] = "render-server";
      args[2] = "--socket-fd";
      args[3] = fdarg;
      for (int i = 1; i < n; i++)
         args[3 + i] = argv[i];
      close(sv[0]);
      /* The server's end survives exec, as the proxy's child arranges. */
      int fd = dup(sv[1]);
      close(sv[1]);
      if (fd != sv[1] && dup2(fd, sv[1]) < 0)
         _exit(127);
      if (fd != sv[1])
         close(fd);
      execv(args[0], args);
      _exit(127);
   }
   close(sv[1]);
   *srv = sv[0];
   return pid;
}

/* The server's exit status, after at most 5 s (then it is killed: -1). */
static int wait_exit(pid_t pid)
{
   int status = -1;
   for (int i = 0; i < 500; i++) {
      if (waitpid(pid, &status, WNOHANG) == pid)
         return status;
      usleep(10000);
   }
   kill(pid, SIGKILL);
   waitpid(pid, NULL, 0);
   return -1;
}

/* A malformed request on a fresh context must end that context alone. */
typedef bool (*bad_fn)(int ctx, struct timelines *t);

static bool bad_unknown_op(int ctx, struct timelines *t)
{
   const uint32_t op = 99;
   return init_context(ctx, 4, t) && send_msg(ctx, &op, sizeof(op));
}
static bool bad_wrong_size(int ctx, struct timelines *t)
{
   const uint32_t nop[2] = { 0, 0 }; /* NOP is 4 bytes */
   return init_context(ctx, 4, t) && send_msg(ctx, nop, sizeof(nop));
}
static bool bad_before_init(int ctx, struct timelines *t)
{
   (void)t;
   const struct submit_fence f = { .op = 6, .flags = 1, .ring_index = 0, .seqno = 1 };
   return send_msg(ctx, &f, sizeof(f));
}
static bool bad_capset(int ctx, struct timelines *t)
{
   return init_context(ctx, 1 /* virgl */, t);
}
static bool bad_fence_ring(int ctx, struct timelines *t)
{
   const struct submit_fence f = { .op = 6, .flags = 1, .ring_index = 64, .seqno = 1 };
   return init_context(ctx, 4, t) && send_msg(ctx, &f, sizeof(f));
}
static bool bad_continuation(int ctx, struct timelines *t)
{
   struct submit_cmd c = { .op = 5, .size = 300 };
   const char rest[10] = { 0 }; /* 44 bytes were announced */
   return init_context(ctx, 4, t) && send_msg(ctx, &c, sizeof(c)) &&
          send_msg(ctx, rest, sizeof(rest));
}
static bool bad_venus_command(int ctx, struct timelines *t)
{
   struct submit_cmd c = { .op = 5, .size = 8 };
   const uint32_t cmd[2] = { 9999, 0 }; /* command type, flags */
   memcpy(c.cmd, cmd, sizeof(cmd));
   return init_context(ctx, 4, t) && send_msg(ctx, &c, sizeof(c));
}
static bool bad_extra_fd(int ctx, struct timelines *t)
{
   const uint32_t op = 0;
   const int fd = 0;
   return init_context(ctx, 4, t) && send_with_fds(ctx, &op, sizeof(op), &fd, 1);
}
static bool bad_short_shmem(int ctx, struct timelines *t)
{
   /* A 256-byte memfd announced as 16 KiB: mapping and zeroing the timelines would touch
    * pages past the file's end (SIGBUS, fatal to a thread-mode server). */
   t->shm_fd = memfd_create("rs-bad-client", MFD_CLOEXEC);
   t->event_fd = -1;
   if (t->shm_fd < 0 || ftruncate(t->shm_fd, 256) < 0)
      return false;
   const struct ctx_init req = { .op = 1, .flags = 4, .shmem_size = 16384 };
   return send_with_fds(ctx, &req, sizeof(req), &t->shm_fd, 1);
}
/* Stream framing: broken length headers. */
static bool bad_zero_length(int ctx, struct timelines *t)
{
   const uint32_t zero = 0;
   return init_context(ctx, 4, t) && send_raw(ctx, &zero, 4, NULL, 0);
}
static bool bad_huge_length(int ctx, struct timelines *t)
{
   const uint32_t huge[2] = { htonl(0x7fffffffu), 0 };
   return init_context(ctx, 4, t) && send_raw(ctx, huge, sizeof(huge), NULL, 0);
}
static bool bad_truncated_message(int ctx, struct timelines *t)
{
   const uint32_t part[2] = { htonl(16), 6 }; /* a SUBMIT_FENCE's length and its op alone */
   return init_context(ctx, 4, t) && send_raw(ctx, part, sizeof(part), NULL, 0) &&
          shutdown(ctx, SHUT_WR) == 0;
}
static bool bad_truncated_header(int ctx, struct timelines *t)
{
   const uint16_t half = 16;
   return init_context(ctx, 4, t) && send_raw(ctx, &half, sizeof(half), NULL, 0) &&
          shutdown(ctx, SHUT_WR) == 0;
}
static bool bad_fds_without_data(int ctx, struct timelines *t)
{
   const uint32_t zero = 0;
   int p[2];
   if (!init_context(ctx, 4, t) || pipe(p) < 0)
      return false;
   const bool ok = send_raw(ctx, &zero, 4, p, 2);
   close(p[0]);
   close(p[1]);
   return ok;
}

static bool bad_init_twice(int ctx, struct timelines *t)
{
   struct timelines t2 = { 0 };
   const bool ok = init_context(ctx, 4, t) && init_context(ctx, 4, &t2);
   fini_timelines(&t2);
   return ok;
}

/* Run 1: a well-behaved proxy, then every malformed context request; run 2: a client
 * request of another protocol version. */
static void run_contexts(char **argv)
{
   int srv;
   pid_t pid = spawn_server(argv, &srv);
   const struct client_init init = { .op = 1, .flags = (1u << 6) | (1u << 7) };
   report(pid > 0 && send_msg(srv, &init, sizeof(init)), "client_init", "cannot start %s", argv[0]);

   uint32_t id = 1;
   int ctx = create_context(srv, id, "rs-good");
   struct timelines t = { 0 };
   bool ok = ctx >= 0 && init_context(ctx, 4, &t);
   report(ok, "create_and_init_context", "CREATE_CONTEXT or INIT failed");
   if (ok) {
      const struct submit_cmd empty = { .op = 5, .size = 0 };
      report(fence_signals(ctx, &t, 0, 1) && send_msg(ctx, &empty, sizeof(empty)) &&
                fence_signals(ctx, &t, 0, 2) && fence_signals(ctx, &t, 5, 1),
             "fences_update_timeline_shmem",
             "ring 0 seqno %u, ring 5 seqno %u (expected 2 and 1, with eventfd writes)", t.seqno[0],
             t.seqno[5]);
   }

   static const struct {
      const char *name;
      bad_fn fn;
   } bad[] = {
      { "unknown_op", bad_unknown_op },
      { "wrong_size", bad_wrong_size },
      { "request_before_init", bad_before_init },
      { "non_venus_capset", bad_capset },
      { "fence_ring_out_of_range", bad_fence_ring },
      { "short_continuation", bad_continuation },
      { "unknown_venus_command", bad_venus_command },
      { "unexpected_fd", bad_extra_fd },
      { "init_twice", bad_init_twice },
      { "short_timeline_shmem", bad_short_shmem },
      /* Stream framing only (the last five). */
      { "zero_length", bad_zero_length },
      { "huge_length", bad_huge_length },
      { "truncated_message", bad_truncated_message },
      { "truncated_header", bad_truncated_header },
      { "fds_without_data", bad_fds_without_data },
   };
   int64_t slowest_ms = 0;
   const size_t nbad = sizeof(bad) / sizeof(bad[0]) - (framed ? 0 : 5);
   for (size_t i = 0; i < nbad; i++) {
      char name[96];
      int c = create_context(srv, ++id, bad[i].name);
      struct timelines bt = { 0 };
      const bool sent = c >= 0 && bad[i].fn(c, &bt);
      const int64_t start = now_ms();
      const bool closed = sent && closes_within(c, 3000);
      if (closed && now_ms() - start > slowest_ms)
         slowest_ms = now_ms() - start;
      snprintf(name, sizeof(name), "%s_ends_its_context", bad[i].name);
      report(closed, name,
             c < 0  ? "CREATE_CONTEXT failed"
             : sent ? "the context socket stayed open"
                    : "could not send");
      if (c >= 0)
         close(c);
      fini_timelines(&bt);
   }

   /* Before thread workers shut their socket down, the slowest of these was almost surely
    * past 750 ms (each waited for the server's next one-second poll tick). */
   /* RS_PROMPT_MS raises the bound where the measured time also holds a spawned worker's
    * exec and start (--worker spawn). */
   const int64_t prompt_ms = getenv("RS_PROMPT_MS") ? atoll(getenv("RS_PROMPT_MS")) : 750;
   report(slowest_ms < prompt_ms, "bad_contexts_close_promptly",
          "the slowest context socket closed %" PRId64 " ms after its bad request", slowest_ms);

   /* An empty message carrying fds is the end of that context's stream; the fds it carried
    * must not stay open in the server (thread mode) after the context is gone.  (Fewer fds
    * after is fine: one may have been in flight from an earlier context before.) */
   {
      const int before = count_fds(pid);
      int c = create_context(srv, ++id, "rs-empty");
      int p[2] = { -1, -1 };
      bool sent = c >= 0 && pipe(p) == 0 && send_with_fds(c, "", 0, p, 2);
      const bool closed = sent && closes_within(c, 3000);
      if (c >= 0)
         close(c);
      if (p[0] >= 0) {
         close(p[0]);
         close(p[1]);
      }
      usleep(1500 * 1000); /* thread workers are joined within a second */
      const int after = count_fds(pid);
      report(closed && before > 0 && after <= before, "empty_message_with_fds_leaks_nothing",
             "context closed: %d, server fds %d before, %d after", closed, before, after);
   }

   /* The first context is untouched and the server still makes working contexts. */
   report(ok && fence_signals(ctx, &t, 0, 3), "other_context_unaffected",
          "the first context's fence no longer signals");
   int c2 = create_context(srv, ++id, "rs-after");
   struct timelines t2 = { 0 };
   report(c2 >= 0 && init_context(c2, 4, &t2) && fence_signals(c2, &t2, 0, 1),
          "server_still_creates_contexts", "a new context after the bad ones does not work");
   const struct destroy_context d = { .op = 4, .ctx_id = id };
   report(c2 >= 0 && send_msg(srv, &d, sizeof(d)) && closes_within(c2, 3000),
          "destroy_context_ends_worker", "the context socket stayed open after DESTROY_CONTEXT");
   fini_timelines(&t2);
   if (c2 >= 0)
      close(c2);
   fini_timelines(&t);
   if (ctx >= 0)
      close(ctx);

   /* The proxy goes away: the server exits 0. */
   close(srv);
   int status = wait_exit(pid);
   report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exits_0_when_proxy_closes", "status 0x%x",
          status);

   /* Run 2: a client request from another protocol version stops the server (exit 1).
    * (Op 8 is --mismatch's: it is what a length header read as an op gives.) */
   pid = spawn_server(argv, &srv);
   const uint32_t op99[2] = { 99, 0 };
   send_msg(srv, op99, sizeof(op99));
   status = wait_exit(pid);
   report(WIFEXITED(status) && WEXITSTATUS(status) == 1, "malformed_client_op_exits_1",
          "status 0x%x", status);
   close(srv);
}

/* One server for a proxy of one framing on a socket of `type`, venusd given `extra`
 * (NULL or "--framing=..."): `send` plays the proxy; the server must exit 1. */
static void expect_exit_1(char **argv, const char *name, int type, bool proxy_framed,
                          const char *extra, bool (*send)(int srv))
{
   sock_type = type;
   framed = proxy_framed;
   char **args = argv;
   char *with[64];
   int n = 0;
   if (extra) {
      with[n++] = argv[0];
      with[n++] = (char *)extra;
      for (int i = 1; argv[i] && n < 63; i++)
         with[n++] = argv[i];
      with[n] = NULL;
      args = with;
   }
   int srv;
   const pid_t pid = spawn_server(args, &srv);
   const bool sent = pid > 0 && send(srv);
   const int status = pid > 0 ? wait_exit(pid) : -1;
   report(sent && WIFEXITED(status) && WEXITSTATUS(status) == 1, name,
          "sent: %d, server status 0x%x (expected exit 1)", sent, status);
   close(srv);
}

static const struct client_init good_init = { .op = 1, .flags = (1u << 6) | (1u << 7) };

static bool send_init(int srv)
{
   return send_msg(srv, &good_init, sizeof(good_init));
}
static bool send_init_header_apart(int srv)
{
   const uint32_t len = htonl(sizeof(good_init));
   return send_raw(srv, &len, 4, NULL, 0) && send_raw(srv, &good_init, sizeof(good_init), NULL, 0);
}
/* pannous/virglrenderer's macOS header: length and fd count in host order, written
 * before the message. */
static bool send_init_8_byte_header(int srv)
{
   const uint32_t hdr[2] = { sizeof(good_init), 0 };
   return send_raw(srv, hdr, sizeof(hdr), NULL, 0) &&
          send_raw(srv, &good_init, sizeof(good_init), NULL, 0);
}
static bool send_init_then_zero_length(int srv)
{
   const uint32_t zero = 0;
   return send_init(srv) && send_raw(srv, &zero, 4, NULL, 0);
}
static bool send_init_then_huge_length(int srv)
{
   const uint32_t huge[2] = { htonl(1u << 30), 0 };
   return send_init(srv) && send_raw(srv, huge, sizeof(huge), NULL, 0);
}
static bool send_init_then_truncated(int srv)
{
   const uint32_t part[2] = { htonl(40), 3 }; /* a CREATE_CONTEXT's length and its op alone */
   return send_init(srv) && send_raw(srv, part, sizeof(part), NULL, 0) &&
          shutdown(srv, SHUT_WR) == 0;
}

/* A stream-framed proxy on a SOCK_SEQPACKET socket, with --framing stream: works. */
static void run_stream_over_seqpacket(char **argv)
{
   sock_type = SOCK_SEQPACKET;
   framed = true;
   char *with[64] = { argv[0], "--framing=stream" };
   int n = 2;
   for (int i = 1; argv[i] && n < 63; i++)
      with[n++] = argv[i];
   int srv;
   const pid_t pid = spawn_server(with, &srv);
   int ctx = pid > 0 && send_init(srv) ? create_context(srv, 1, "rs-stream-seqpacket") : -1;
   struct timelines t = { 0 };
   report(ctx >= 0 && init_context(ctx, 4, &t) && fence_signals(ctx, &t, 0, 7),
          "framing_stream_on_seqpacket_socket_works",
          "a stream-framed context on SOCK_SEQPACKET sockets did not signal its fence");
   fini_timelines(&t);
   if (ctx >= 0)
      close(ctx);
   close(srv);
   const int status = pid > 0 ? wait_exit(pid) : -1;
   report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "framing_stream_on_seqpacket_exits_0",
          "status 0x%x", status);
}

static void run_mismatch(char **argv)
{
   /* virglrenderer main's macOS proxy on a Linux socket pair: the big-endian length 8 of
    * INIT is read as op 0x08000000. */
   expect_exit_1(argv, "stream_proxy_on_seqpacket_socket", SOCK_SEQPACKET, true, NULL, send_init);
   expect_exit_1(argv, "stream_proxy_header_apart_on_seqpacket_socket", SOCK_SEQPACKET, true, NULL,
                 send_init_header_apart);
   expect_exit_1(argv, "seqpacket_proxy_on_stream_socket", SOCK_STREAM, false, NULL, send_init);
   expect_exit_1(argv, "seqpacket_proxy_with_framing_stream", SOCK_SEQPACKET, false,
                 "--framing=stream", send_init);
   expect_exit_1(argv, "framing_seqpacket_on_stream_socket", SOCK_STREAM, true,
                 "--framing=seqpacket", send_init);
   /* "invalid client op 8": a host-order length header read as the op. */
   expect_exit_1(argv, "eight_byte_header_proxy_on_seqpacket_socket", SOCK_SEQPACKET, true, NULL,
                 send_init_8_byte_header);
   expect_exit_1(argv, "eight_byte_header_proxy", SOCK_STREAM, true, NULL, send_init_8_byte_header);
   /* The proxy's own socket broken after a good INIT: the server stops. */
   expect_exit_1(argv, "client_zero_length", SOCK_STREAM, true, NULL, send_init_then_zero_length);
   expect_exit_1(argv, "client_huge_length", SOCK_STREAM, true, NULL, send_init_then_huge_length);
   expect_exit_1(argv, "client_truncated_message", SOCK_STREAM, true, NULL,
                 send_init_then_truncated);
   run_stream_over_seqpacket(argv);
}

int main(int argc, char **argv)
{
   int i = 1;
   bool mismatch = false;
   if (argc > 2 && !strcmp(argv[i], "--framing")) {
      framed = !strcmp(argv[i + 1], "stream");
      sock_type = framed ? SOCK_STREAM : SOCK_SEQPACKET;
      i += 2;
   } else if (argc > 1 && !strcmp(argv[i], "--mismatch")) {
      mismatch = true;
      i++;
   }
   if (i >= argc) {
      fprintf(stderr, "usage: rs_bad_client [--framing seqpacket|stream | --mismatch] VENUSD "
                      "[VENUSD OPTIONS...]\n");
      return 2;
   }
   if (getenv("RS_NAME_PREFIX"))
      prefix = getenv("RS_NAME_PREFIX");
   if (mismatch)
      run_mismatch(argv + i);
   else
      run_contexts(argv + i);
   return failures ? 1 : 0;
}
