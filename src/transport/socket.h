/* Message sockets: one request or reply per message, fds by SCM_RIGHTS, in either of the
 * two framings virglrenderer's render-server protocol is spoken in (docs/protocol.md §6.6):
 *
 * - seqpacket: a SOCK_SEQPACKET socket keeps each message's boundary; a message is the
 *   request's bytes and nothing else (virglrenderer on Linux).
 * - stream: every message is preceded by its length, a big-endian uint32_t, and fds
 *   travel with the message's first bytes (virglrenderer main's macOS build, whose unix
 *   sockets are SOCK_STREAM: macOS has no SOCK_SEQPACKET for them; its
 *   struct render_context_socket_header, sent with htonl).
 *
 * The framing is chosen by the socket's type (SO_TYPE) unless the command line overrides
 * it (--framing); a stream framing also works over a SOCK_SEQPACKET socket (the records
 * are then read as one byte stream). */
#ifndef VD_TRANSPORT_SOCKET_H
#define VD_TRANSPORT_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The most fds one message may carry (virglrenderer's own limit). */
#define VD_MSG_MAX_FDS 8

enum vd_framing {
   VD_FRAMING_AUTO = 0,  /* from the socket's type */
   VD_FRAMING_SEQPACKET, /* no header: one message per SOCK_SEQPACKET record */
   VD_FRAMING_STREAM,    /* a uint32_t length before every message */
};

struct vd_msgsock {
   int fd;
   enum vd_framing framing; /* never AUTO once initialised */
   bool chosen;             /* the framing came from --framing, not the socket's type */
   bool records;            /* the socket keeps record boundaries (SOCK_SEQPACKET) */
   /* Stream framing over records: the unread rest of the last record read. */
   char *rec;
   size_t rec_len, rec_off;
};

/* "auto", "seqpacket", "stream". */
const char *vd_framing_name(enum vd_framing framing);

/* The socket's type as a name ("SOCK_SEQPACKET", "SOCK_STREAM", ...); *type gets the
 * value, or -1 when fd is not a socket. */
const char *vd_socket_type_name(int fd, int *type);

/* Sets up s for fd with `framing` (AUTO: seqpacket on a SOCK_SEQPACKET socket, stream on a
 * SOCK_STREAM one).  Returns false, after logging what is wrong and what to do, when fd is
 * not a unix socket of either type, or when the seqpacket framing is asked for on a
 * SOCK_STREAM socket (it would lose the message boundaries).  `who` names the socket in
 * messages. */
bool vd_msgsock_init(struct vd_msgsock *s, int fd, enum vd_framing framing, const char *who);

/* Frees what s holds besides the fd (the caller closes that). */
void vd_msgsock_fini(struct vd_msgsock *s);

/* Receives one message of at most `cap` bytes and at most VD_MSG_MAX_FDS fds.  Returns its
 * size, 0 at a clean end of the socket (before any byte of a message), or -1 after logging
 * what was wrong as coming from `who`: a read error, a message longer than cap, a zero or
 * truncated stream message.  On 0 and -1 no fds are returned (any received were closed). */
ssize_t vd_msgsock_recv(struct vd_msgsock *s, void *buf, size_t cap, int *fds, int *nfds,
                        const char *who);

/* Sends one message with its fds (nfds may be 0).  False if the peer is gone or the
 * socket failed (errno set). */
bool vd_msgsock_send(struct vd_msgsock *s, const void *data, size_t size, const int *fds, int nfds);

/* The first message on a render-server socket, checked against both framings before it is
 * read.  `sizes[op]` is the size of each of the `op_count` requests the socket takes.
 * Returns true when the waiting bytes parse under s's framing or under neither (the caller
 * then reports the malformed request as usual).  Returns false, with `why` saying which
 * framing the peer uses, which one this socket was given and what to change, when they
 * parse only under the other framing.  Blocks at most 200 ms for the rest of a message
 * whose first bytes came alone. */
bool vd_msgsock_check_first(struct vd_msgsock *s, const size_t *sizes, uint32_t op_count, char *why,
                            size_t why_size);

/* Closes n fds. */
void vd_close_fds(const int *fds, int n);

#endif
