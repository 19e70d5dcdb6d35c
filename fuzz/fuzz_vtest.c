/* libFuzzer target: arbitrary bytes as what a vtest client sends on its connection.
 *
 * The input is the client-to-server byte stream of one connection, from the first byte:
 * CREATE_RENDERER, CONTEXT_INIT, blobs, SUBMIT_CMD2, syncs and anything else.  The real
 * per-client code (vd_vtest_serve_client, as a thread-mode worker runs it) serves it on a
 * socketpair, in this thread.  A vtest client sends no fds, so the input has none.
 *
 * Speed: the harness writes the whole input into the socket before serving it (the
 * client's send buffer is made big enough: inputs are cut to MAX_INPUT bytes) and
 * half-closes its side, so that the server never waits for a client thread.  The replies
 * (and the blob and eventfd fds they carry) pile up in the client's receive queue and go
 * when the socket is closed.  Only an input that runs for more than a tick (DRAIN_TICK_NS,
 * e.g. one with thousands of replies, whose send would block on a full queue) gets one
 * persistent drain thread reading and throwing them away meanwhile: a thread per input
 * cost more than the input itself (ASan maps and unmaps each thread's state).
 *
 * Seeds: fuzz/seeds.sh (sessions built around the Mesa streams in tests/unit/data).
 * Build and run: fuzz/README.md. */
#include <pthread.h>
#include <time.h>

#include "fuzz_common.h"
#include "util/options.h"
#include "transport/vtest.h"

static const struct vd_options fuzz_opts = VD_OPTIONS_DEFAULT;

#define MAX_INPUT (64u << 10)
#define SEND_BUFFER (1u << 20) /* the kernel caps it at net.core.wmem_max (x2) */

static struct fuzz_drainer drainer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   fuzz_pin_cpu(*argc, *argv);
   fuzz_init(false);
   fuzz_drainer_start(&drainer);
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   if (size > MAX_INPUT)
      size = MAX_INPUT;
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      abort();
   const int sndbuf = SEND_BUFFER;
   setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
   setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
   /* The whole input, or what the buffer takes (all of it, unless net.core.wmem_max is
    * below 64 KiB): the rest would never be read. */
   size_t sent = 0;
   while (sent < size) {
      const ssize_t n = send(sv[1], data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0)
         break;
      sent += (size_t)n;
   }
   shutdown(sv[1], SHUT_WR);
   fuzz_drainer_watch(&drainer, sv[1]);
   static const struct vd_vtest_config cfg = { .worker = VD_WORKER_THREAD, .opts = &fuzz_opts };
   vd_vtest_serve_client(&cfg, sv[0], 1);
   close(sv[0]);
   fuzz_drainer_unwatch(&drainer);
   close(sv[1]);
   return 0;
}
