/* Message sockets in the seqpacket and stream framings: see socket.h. */
#include "transport/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"
#include "util/log.h"

/* Stream framing over a SOCK_SEQPACKET socket reads whole records: the largest is a
 * continuation of the largest command (render_server.c's RS_MAX_CMD_SIZE) with its
 * header. */
#define RECORD_MAX ((4u << 20) + 64u)
#define HEADER_SIZE sizeof(uint32_t)

const char *vd_framing_name(enum vd_framing framing)
{
   switch (framing) {
   case VD_FRAMING_SEQPACKET: return "seqpacket";
   case VD_FRAMING_STREAM: return "stream";
   default: return "auto";
   }
}

const char *vd_socket_type_name(int fd, int *type)
{
   int t = 0;
   socklen_t len = sizeof(t);
   if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) < 0) {
      *type = -1;
      return "not a socket";
   }
   *type = t;
   switch (t) {
   case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
   case SOCK_STREAM: return "SOCK_STREAM";
   case SOCK_DGRAM: return "SOCK_DGRAM";
   default: return "a socket of another type";
   }
}

void vd_close_fds(const int *fds, int n)
{
   for (int i = 0; i < n; i++)
      close(fds[i]);
}

bool vd_msgsock_init(struct vd_msgsock *s, int fd, enum vd_framing framing, const char *who)
{
   *s = (struct vd_msgsock){ .fd = fd, .framing = framing, .chosen = framing != VD_FRAMING_AUTO };
   int type;
   const char *type_name = vd_socket_type_name(fd, &type);
   if (type != SOCK_SEQPACKET && type != SOCK_STREAM) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: fd %d is %s (%s); it must be a unix SOCK_SEQPACKET socket (virglrenderer "
             "on Linux) or SOCK_STREAM socket (its macOS build), as the proxy passes it "
             "with --socket-fd",
             who, fd, type_name, type < 0 ? strerror(errno) : "wrong type");
      return false;
   }
   s->records = type == SOCK_SEQPACKET;
   if (framing == VD_FRAMING_AUTO)
      s->framing = s->records ? VD_FRAMING_SEQPACKET : VD_FRAMING_STREAM;
   if (s->framing == VD_FRAMING_SEQPACKET && !s->records) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: --framing seqpacket on fd %d, a SOCK_STREAM socket, which does not keep "
             "message boundaries: use --framing stream (a proxy built for macOS sends a "
             "length before each message) or --framing auto, or pass a SOCK_SEQPACKET socket",
             who, fd);
      return false;
   }
   return true;
}

void vd_msgsock_fini(struct vd_msgsock *s)
{
   free(s->rec);
   s->rec = NULL;
   s->rec_len = s->rec_off = 0;
}

/* Adds the SCM_RIGHTS fds of msg to fds[*nfds...], closing those past VD_MSG_MAX_FDS. */
static void take_fds(struct msghdr *msg, int *fds, int *nfds)
{
   for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
         continue;
      const int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < count; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
         if (*nfds < VD_MSG_MAX_FDS)
            fds[(*nfds)++] = fd;
         else
            close(fd);
      }
   }
}

/* One recvmsg of at most cap bytes, its fds appended to fds.  Returns the bytes read, 0 at
 * the end of the socket, -1 on an error or a truncated record or fd list (logged). */
static ssize_t recv_once(int sock, bool records, void *buf, size_t cap, int *fds, int *nfds,
                         const char *who)
{
   union {
      char buf[CMSG_SPACE(VD_MSG_MAX_FDS * sizeof(int))];
      struct cmsghdr align;
   } u;
   struct iovec iov = { .iov_base = buf, .iov_len = cap };
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
   };
   ssize_t n;
   do
      n = vd_platform_recvmsg(sock, &msg);
   while (n < 0 && errno == EINTR);
   if (n < 0) {
      if (errno == ECONNRESET)
         return 0;
      vd_err(VD_CAT_TRANSPORT, "%s: cannot read a request: %s", who, strerror(errno));
      return -1;
   }
   take_fds(&msg, fds, nfds);
   if ((records && (msg.msg_flags & MSG_TRUNC)) || (msg.msg_flags & MSG_CTRUNC)) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: request of more than %zu bytes or %d fds: not one of the render-server "
             "protocol's",
             who, cap, VD_MSG_MAX_FDS);
      return -1;
   }
   return n;
}

/* Stream framing: up to n bytes of the byte stream.  Returns the bytes read (fewer than n
 * only at the end of the socket) or -1 (logged). */
static ssize_t read_stream(struct vd_msgsock *s, void *dst, size_t n, int *fds, int *nfds,
                           const char *who)
{
   size_t got = 0;
   while (got < n) {
      if (!s->records) {
         const ssize_t r = recv_once(s->fd, false, (char *)dst + got, n - got, fds, nfds, who);
         if (r <= 0)
            return r < 0 ? -1 : (ssize_t)got;
         got += (size_t)r;
         continue;
      }
      if (s->rec_off == s->rec_len) {
         if (!s->rec && !(s->rec = malloc(RECORD_MAX))) {
            vd_err(VD_CAT_TRANSPORT, "%s: out of memory for a %u-byte record", who, RECORD_MAX);
            return -1;
         }
         const ssize_t r = recv_once(s->fd, true, s->rec, RECORD_MAX, fds, nfds, who);
         if (r <= 0)
            return r < 0 ? -1 : (ssize_t)got;
         s->rec_len = (size_t)r;
         s->rec_off = 0;
      }
      const size_t k = n - got < s->rec_len - s->rec_off ? n - got : s->rec_len - s->rec_off;
      memcpy((char *)dst + got, s->rec + s->rec_off, k);
      s->rec_off += k;
      got += k;
   }
   return (ssize_t)got;
}

static ssize_t recv_stream(struct vd_msgsock *s, void *buf, size_t cap, int *fds, int *nfds,
                           const char *who)
{
   uint32_t be_len;
   ssize_t r = read_stream(s, &be_len, HEADER_SIZE, fds, nfds, who);
   const uint32_t len = ntohl(be_len);
   if (r <= 0)
      return r;
   if (r < (ssize_t)HEADER_SIZE) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: the socket ended %zd bytes into a 4-byte length header (stream framing)", who, r);
      return -1;
   }
   if (len == 0) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: a length header of 0 bytes (stream framing); every request has at least its "
             "4-byte op",
             who);
      return -1;
   }
   if (len > cap) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: a length header announcing %u bytes, more than the %zu a request here may "
             "have (stream framing): the peer is out of step or does not send a length "
             "before each message",
             who, len, cap);
      return -1;
   }
   r = read_stream(s, buf, len, fds, nfds, who);
   if (r < 0)
      return -1;
   if (r < (ssize_t)len) {
      vd_err(VD_CAT_TRANSPORT,
             "%s: the socket ended %zd bytes into a %u-byte message (stream framing)", who, r, len);
      return -1;
   }
   return (ssize_t)len;
}

ssize_t vd_msgsock_recv(struct vd_msgsock *s, void *buf, size_t cap, int *fds, int *nfds,
                        const char *who)
{
   *nfds = 0;
   const ssize_t n = s->framing == VD_FRAMING_STREAM
                        ? recv_stream(s, buf, cap, fds, nfds, who)
                        : recv_once(s->fd, true, buf, cap, fds, nfds, who);
   if (n <= 0) {
      /* The end of the socket, or an error: fds sent with an empty message or a broken
       * one are not ours to keep. */
      vd_close_fds(fds, *nfds);
      *nfds = 0;
   }
   return n;
}

bool vd_msgsock_send(struct vd_msgsock *s, const void *data, size_t size, const int *fds, int nfds)
{
   union {
      char buf[CMSG_SPACE(VD_MSG_MAX_FDS * sizeof(int))];
      struct cmsghdr align;
   } u;
   memset(&u, 0, sizeof(u));
   const uint32_t len = htonl((uint32_t)size);
   const bool stream = s->framing == VD_FRAMING_STREAM;
   struct iovec iov[2] = { { .iov_base = (void *)&len, .iov_len = HEADER_SIZE },
                           { .iov_base = (void *)data, .iov_len = size } };
   struct msghdr msg = { .msg_iov = stream ? iov : iov + 1, .msg_iovlen = stream ? 2 : 1 };
   if (nfds > 0 && nfds <= VD_MSG_MAX_FDS) {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
   }
   size_t left = stream ? HEADER_SIZE + size : size;
   while (left) {
      const ssize_t n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0 || (s->records && (size_t)n != left))
         return false;
      /* A stream socket may take part of it: the fds went with the first part. */
      left -= (size_t)n;
      msg.msg_control = NULL;
      msg.msg_controllen = 0;
      for (size_t done = (size_t)n; done;) {
         const size_t k = done < msg.msg_iov->iov_len ? done : msg.msg_iov->iov_len;
         msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + k;
         msg.msg_iov->iov_len -= k;
         done -= k;
         if (!msg.msg_iov->iov_len && msg.msg_iovlen > 1) {
            msg.msg_iov++;
            msg.msg_iovlen--;
         }
      }
   }
   return true;
}

/* -- the first message under both framings --------------------------------------------- */

struct peeked {
   uint32_t w[16]; /* the first bytes waiting, as words */
   size_t n;       /* how many bytes */
   bool records;
   const size_t *sizes;
   uint32_t count;
};

static bool is_request_size(const struct peeked *p, uint32_t size)
{
   for (uint32_t op = 0; op < p->count; op++)
      if (p->sizes[op] == size)
         return true;
   return false;
}

/* A whole request at byte offset `at` of `len` bytes, the rest of the record or stream. */
static bool request_at(const struct peeked *p, size_t at, uint32_t len)
{
   const uint32_t op = p->w[at / 4];
   return p->n >= at + 4 && op < p->count && p->sizes[op] == len &&
          (p->records ? p->n == at + len : p->n >= at + len);
}

/* No header: the bytes are one request. */
static bool parses_plain(const struct peeked *p)
{
   return p->n >= 4 && p->w[0] < p->count && request_at(p, 0, (uint32_t)p->sizes[p->w[0]]);
}

/* A header of `hdr` bytes and its request, or the header alone (sent in a write of its
 * own, as virglrenderer does).  4: the stream framing's big-endian length; 8: a length and
 * an fd count in host byte order, the header of a macOS port (pannous/virglrenderer). */
static bool parses_framed(const struct peeked *p, size_t hdr)
{
   const uint32_t len = hdr == 4 ? ntohl(p->w[0]) : p->w[0];
   if (p->n < hdr || !is_request_size(p, len) || (hdr == 8 && p->w[1] > VD_MSG_MAX_FDS))
      return false;
   return p->n == hdr || request_at(p, hdr, len);
}

static bool peek(int fd, struct peeked *p)
{
   struct iovec iov = { .iov_base = p->w, .iov_len = sizeof(p->w) };
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
   ssize_t n;
   do
      n = recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT);
   while (n < 0 && errno == EINTR);
   if (n < 0 || (msg.msg_flags & MSG_TRUNC))
      return false;
   p->n = (size_t)n;
   return true;
}

static bool parses_as(const struct peeked *p, enum vd_framing framing)
{
   return framing == VD_FRAMING_STREAM ? parses_framed(p, 4) : parses_plain(p);
}

bool vd_msgsock_check_first(struct vd_msgsock *s, const size_t *sizes, uint32_t op_count, char *why,
                            size_t why_size)
{
   struct peeked p = { .records = s->records, .sizes = sizes, .count = op_count };
   memset(p.w, 0, sizeof(p.w));
   /* On a stream socket the rest of a message may follow its first bytes a moment later. */
   for (int i = 0; i < 20; i++) {
      const size_t before = p.n;
      if (!peek(s->fd, &p) || parses_as(&p, s->framing))
         return true;
      if (s->records || p.n >= 48 || (i > 0 && p.n == before))
         break;
      nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
   }
   int type;
   const char *type_name = vd_socket_type_name(s->fd, &type);
   const char *how = s->chosen ? "by --framing" : "from the socket's type (--framing auto)";
   if (s->framing == VD_FRAMING_SEQPACKET && parses_framed(&p, 4)) {
      snprintf(why, why_size,
               "the proxy sends a 4-byte length before each message (virglrenderer's macOS "
               "framing) but this socket (%s) was treated as seqpacket, %s: read without "
               "the header, the length %u is taken for op %u (virglrenderer's own server "
               "says \"invalid client op %u\").  Run venusd with --framing stream, or use "
               "a proxy built with the seqpacket framing",
               type_name, how, ntohl(p.w[0]), p.w[0], p.w[0]);
      return false;
   }
   if (s->framing == VD_FRAMING_STREAM && parses_plain(&p)) {
      snprintf(why, why_size,
               "the proxy sends each message without a length header (virglrenderer's Linux "
               "seqpacket framing) but this socket (%s) was treated as stream, %s: its op %u "
               "is taken for a %u-byte length.  Give venusd a SOCK_SEQPACKET socket with "
               "--framing seqpacket or auto (a SOCK_STREAM socket loses the message "
               "boundaries the seqpacket framing needs)",
               type_name, how, p.w[0], p.w[0]);
      return false;
   }
   if (parses_framed(&p, 8)) {
      char misread[160];
      if (s->framing == VD_FRAMING_SEQPACKET)
         snprintf(misread, sizeof(misread),
                  "its length %u is taken for op %u (virglrenderer's own server says "
                  "\"invalid client op %u\")",
                  p.w[0], p.w[0], p.w[0]);
      else
         snprintf(misread, sizeof(misread), "its length %u is taken for a %u-byte length", p.w[0],
                  ntohl(p.w[0]));
      snprintf(why, why_size,
               "the proxy sends an 8-byte header (length and fd count, host byte order) "
               "before each message, as a macOS port of virglrenderer (pannous's) does; read "
               "as %s framing (%s, socket %s), %s.  venusd speaks the seqpacket framing and "
               "virglrenderer main's stream framing (a 4-byte big-endian length): use a "
               "proxy with one of those",
               vd_framing_name(s->framing), how, type_name, misread);
      return false;
   }
   return true;
}
