/* The render-server message framings (transport/socket.c): both round-trip through the
 * server's own code (vd_render_server_selftest, what `venusd doctor` runs), the stream
 * framing also over SOCK_SEQPACKET records, the header is big-endian as virglrenderer
 * main's macOS build sends it, and the first-message check names the other framing. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/render_server.h"
#include "transport/socket.h"
#include "unit.h"

static const size_t sizes[5] = { 4, 8, 4, 40, 8 }; /* the client requests' sizes */

UNIT_TEST(framing_selftest_both)
{
   char why[512] = "";
   UNIT_CHECK(vd_render_server_selftest(VD_FRAMING_SEQPACKET, why, sizeof(why)));
   UNIT_CHECK(vd_render_server_selftest(VD_FRAMING_STREAM, why, sizeof(why)));
}

UNIT_TEST(framing_stream_header_is_big_endian)
{
   int sv[2];
   UNIT_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
   struct vd_msgsock s;
   UNIT_CHECK(vd_msgsock_init(&s, sv[0], VD_FRAMING_AUTO, "test"));
   UNIT_CHECK_EQ(s.framing, VD_FRAMING_STREAM);
   const uint32_t msg[2] = { 1, 64 };
   UNIT_CHECK(vd_msgsock_send(&s, msg, sizeof(msg), NULL, 0));
   uint32_t raw[3];
   UNIT_CHECK_EQ(read(sv[1], raw, sizeof(raw)), (ssize_t)sizeof(raw));
   UNIT_CHECK_EQ(raw[0], htonl(8));
   UNIT_CHECK_EQ(raw[1], 1u);
   vd_msgsock_fini(&s);
   close(sv[0]);
   close(sv[1]);
}

UNIT_TEST(framing_stream_over_records_and_split_header)
{
   int sv[2];
   UNIT_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
   struct vd_msgsock s;
   UNIT_CHECK(vd_msgsock_init(&s, sv[0], VD_FRAMING_STREAM, "test"));
   /* Header and payload in records of their own, then two messages in one record. */
   const uint32_t len = htonl(8), init[2] = { 1, 64 };
   UNIT_CHECK_EQ(write(sv[1], &len, 4), 4);
   UNIT_CHECK_EQ(write(sv[1], init, 8), 8);
   const uint32_t two[5] = { htonl(4), 0, htonl(8), 4, 7 };
   UNIT_CHECK_EQ(write(sv[1], two, sizeof(two)), (ssize_t)sizeof(two));
   uint32_t buf[16];
   int fds[VD_MSG_MAX_FDS], nfds;
   UNIT_CHECK_EQ(vd_msgsock_recv(&s, buf, sizeof(buf), fds, &nfds, "test"), 8);
   UNIT_CHECK_EQ(buf[1], 64u);
   UNIT_CHECK_EQ(vd_msgsock_recv(&s, buf, sizeof(buf), fds, &nfds, "test"), 4);
   UNIT_CHECK_EQ(vd_msgsock_recv(&s, buf, sizeof(buf), fds, &nfds, "test"), 8);
   UNIT_CHECK_EQ(buf[1], 7u);
   vd_msgsock_fini(&s);
   close(sv[0]);
   close(sv[1]);
}

UNIT_TEST(framing_first_message_names_other_framing)
{
   int sv[2];
   char why[768];
   struct vd_msgsock s;
   /* A length-prefixed INIT read as seqpacket. */
   UNIT_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
   UNIT_CHECK(vd_msgsock_init(&s, sv[0], VD_FRAMING_AUTO, "test"));
   const uint32_t framed[3] = { htonl(8), 1, 64 };
   UNIT_CHECK_EQ(write(sv[1], framed, sizeof(framed)), (ssize_t)sizeof(framed));
   UNIT_CHECK(!vd_msgsock_check_first(&s, sizes, 5, why, sizeof(why)));
   UNIT_CHECK(strstr(why, "4-byte length before each message") != NULL);
   close(sv[0]);
   close(sv[1]);
   /* A plain INIT read as stream. */
   UNIT_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
   UNIT_CHECK(vd_msgsock_init(&s, sv[0], VD_FRAMING_AUTO, "test"));
   UNIT_CHECK_EQ(write(sv[1], framed + 1, 8), 8);
   UNIT_CHECK(!vd_msgsock_check_first(&s, sizes, 5, why, sizeof(why)));
   UNIT_CHECK(strstr(why, "without a length header") != NULL);
   /* The same bytes framed are fine. */
   close(sv[0]);
   close(sv[1]);
   UNIT_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
   UNIT_CHECK(vd_msgsock_init(&s, sv[0], VD_FRAMING_AUTO, "test"));
   UNIT_CHECK_EQ(write(sv[1], framed, sizeof(framed)), (ssize_t)sizeof(framed));
   UNIT_CHECK(vd_msgsock_check_first(&s, sizes, 5, why, sizeof(why)));
   close(sv[0]);
   close(sv[1]);
}

UNIT_MAIN()
