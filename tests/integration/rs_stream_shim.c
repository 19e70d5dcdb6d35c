/* rs_stream_shim: puts venusd's render server behind a proxy of the other framing, so that
 * test_render_server.sh can run libvirglrenderer's real (Linux, seqpacket) proxy against
 * venusd speaking the stream framing of virglrenderer's macOS build.
 *
 *   RS_SHIM_SERVER=/path/to/venusd rs_stream_shim --socket-fd N
 *
 * The proxy runs this as its render server (RENDER_SERVER_EXEC_PATH).  It starts
 * "$RS_SHIM_SERVER render-server --socket-fd M" on a SOCK_STREAM socket pair (venusd picks
 * the stream framing by the socket's type) and relays: each SOCK_SEQPACKET record from the
 * proxy goes to venusd after a 4-byte big-endian length, with its fds; each framed message
 * from venusd goes to the proxy as one record.  A reply on the client socket that carries
 * an fd hands over a context socket (CREATE_CONTEXT): the proxy gets the end of a new
 * SOCK_SEQPACKET pair instead, relayed the same way.  Exits with venusd's status when the
 * proxy closes its socket; venusd dies with the shim (PR_SET_PDEATHSIG), as the proxy kills
 * its render server at teardown.  Test code: Linux only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LINKS 512
#define MAX_FDS 8
#define MAX_MSG (8u << 20)

struct link {
   int seq, str; /* the proxy's side (records), venusd's side (framed stream) */
   bool client;  /* the render-server socket itself, not a context's */
};

static struct link links[MAX_LINKS];
static int nlinks;
static char *buf;

static void die(const char *what)
{
   fprintf(stderr, "rs_stream_shim: %s: %s\n", what, strerror(errno));
   exit(1);
}

/* One recvmsg; its fds appended to fds.  Returns bytes (0: end), -1 on error. */
static ssize_t recv_fds(int fd, void *data, size_t size, int *fds, int *nfds)
{
   union {
      char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
      struct cmsghdr align;
   } u;
   struct iovec iov = { .iov_base = data, .iov_len = size };
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)
   };
   ssize_t n;
   do
      n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
   while (n < 0 && errno == EINTR);
   for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
      const int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < count && *nfds < MAX_FDS; i++)
         memcpy(&fds[(*nfds)++], CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
   }
   return n;
}

static bool send_fds(int fd, const struct iovec *iov, int niov, const int *fds, int nfds)
{
   union {
      char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)niov };
   if (nfds) {
      msg.msg_control = u.b;
      msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
   }
   size_t total = 0;
   for (int i = 0; i < niov; i++)
      total += iov[i].iov_len;
   ssize_t n;
   do
      n = sendmsg(fd, &msg, MSG_NOSIGNAL);
   while (n < 0 && errno == EINTR);
   /* Messages here are small enough for one stream write (the test's largest is a
    * command continuation well below the socket buffer); a short write is an error. */
   return n == (ssize_t)total;
}

static void close_all(const int *fds, int n)
{
   for (int i = 0; i < n; i++)
      close(fds[i]);
}

static void drop_link(int i)
{
   shutdown(links[i].seq, SHUT_RDWR);
   close(links[i].seq);
   close(links[i].str);
   links[i] = links[--nlinks];
}

/* A record from the proxy, framed for venusd.  False at the end of the link. */
static bool relay_to_server(struct link *l)
{
   int fds[MAX_FDS], nfds = 0;
   const ssize_t n = recv_fds(l->seq, buf, MAX_MSG, fds, &nfds);
   if (n <= 0) {
      close_all(fds, nfds);
      return false;
   }
   const uint32_t len = htonl((uint32_t)n);
   const struct iovec iov[2] = { { (void *)&len, 4 }, { buf, (size_t)n } };
   const bool ok = send_fds(l->str, iov, 2, fds, nfds);
   close_all(fds, nfds);
   return ok;
}

/* Reads exactly n bytes of venusd's stream, collecting fds. */
static bool read_exact(int fd, void *data, size_t n, int *fds, int *nfds)
{
   for (size_t got = 0; got < n;) {
      const ssize_t r = recv_fds(fd, (char *)data + got, n - got, fds, nfds);
      if (r <= 0)
         return false;
      got += (size_t)r;
   }
   return true;
}

/* A framed message from venusd, one record for the proxy.  False at the end of the link. */
static bool relay_to_proxy(struct link *l)
{
   int fds[MAX_FDS], nfds = 0;
   uint32_t len;
   if (!read_exact(l->str, &len, 4, fds, &nfds) || ntohl(len) > MAX_MSG ||
       !read_exact(l->str, buf, ntohl(len), fds, &nfds)) {
      close_all(fds, nfds);
      return false;
   }
   if (l->client && nfds == 1 && nlinks < MAX_LINKS) {
      /* CREATE_CONTEXT's reply: venusd's context socket, behind a seqpacket pair. */
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
         die("socketpair");
      links[nlinks++] = (struct link){ .seq = sv[0], .str = fds[0] };
      fds[0] = sv[1];
   }
   const struct iovec iov = { buf, ntohl(len) };
   const bool ok = send_fds(l->seq, &iov, 1, fds, nfds);
   close_all(fds, nfds);
   return ok;
}

static pid_t start_server(const char *server, int *str)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      die("socketpair");
   const pid_t pid = fork();
   if (pid < 0)
      die("fork");
   if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = dup(sv[1]); /* without FD_CLOEXEC */
      char arg[16];
      snprintf(arg, sizeof(arg), "%d", fd);
      execl(server, server, "render-server", "--socket-fd", arg, (char *)NULL);
      die(server);
   }
   close(sv[1]);
   *str = sv[0];
   return pid;
}

int main(int argc, char **argv)
{
   const char *server = getenv("RS_SHIM_SERVER");
   if (argc != 3 || strcmp(argv[1], "--socket-fd") || !server) {
      fprintf(stderr, "usage: RS_SHIM_SERVER=VENUSD rs_stream_shim --socket-fd N\n");
      return 2;
   }
   buf = malloc(MAX_MSG);
   if (!buf)
      die("malloc");
   int str;
   const pid_t pid = start_server(server, &str);
   links[nlinks++] = (struct link){ .seq = atoi(argv[2]), .str = str, .client = true };
   while (nlinks && links[0].client) {
      struct pollfd p[2 * MAX_LINKS];
      for (int i = 0; i < nlinks; i++) {
         p[2 * i] = (struct pollfd){ .fd = links[i].seq, .events = POLLIN };
         p[2 * i + 1] = (struct pollfd){ .fd = links[i].str, .events = POLLIN };
      }
      const int count = nlinks;
      const nfds_t npoll = 2u * (unsigned)count;
      if (npoll <= 2u * MAX_LINKS && poll(p, npoll, -1) < 0 && errno != EINTR)
         die("poll");
      for (int i = count - 1; i >= 0; i--) {
         bool alive = true;
         if (p[2 * i].revents)
            alive = relay_to_server(&links[i]);
         if (alive && p[2 * i + 1].revents)
            alive = relay_to_proxy(&links[i]);
         if (!alive)
            drop_link(i);
      }
   }
   while (nlinks)
      drop_link(0);
   int status = 0;
   while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
   return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
