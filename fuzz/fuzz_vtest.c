/* libFuzzer target: arbitrary bytes as what a vtest client sends on its connection.
 *
 * The input is the client-to-server byte stream of one connection, from the first byte:
 * CREATE_RENDERER, CONTEXT_INIT, blobs, SUBMIT_CMD2, syncs and anything else.  The real
 * per-client code (vd_vtest_serve_client, as a thread-mode worker runs it) serves it on a
 * socketpair, in this thread; a helper thread writes the input, then shuts down its side,
 * and meanwhile reads and throws away the replies (closing the blob and eventfd fds they
 * carry) so that the server never blocks on a full socket.  A vtest client sends no fds,
 * so the input has none.
 *
 * Seeds: fuzz/seeds.sh (sessions built around the Mesa streams in tests/unit/data).
 * Build and run: fuzz/README.md. */
#include <pthread.h>

#include "fuzz_common.h"
#include "util/options.h"
#include "transport/vtest.h"

static const struct vd_options fuzz_opts = VD_OPTIONS_DEFAULT;

struct client {
   int sock;
   const uint8_t *data;
   size_t size;
};

/* The client: writes the input, then half-closes; drains replies until the server hangs
 * up. */
static void *client_main(void *arg)
{
   struct client *cl = arg;
   size_t sent = 0;
   bool open = true;
   if (!cl->size) {
      shutdown(cl->sock, SHUT_WR);
      open = false;
   }
   for (;;) {
      struct pollfd pfd = { .fd = cl->sock, .events = POLLIN | (open ? POLLOUT : 0) };
      if (poll(&pfd, 1, -1) < 0) {
         if (errno == EINTR)
            continue;
         break;
      }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
         if (!fuzz_drain(cl->sock, MSG_DONTWAIT))
            break;
      }
      if (open && (pfd.revents & POLLOUT)) {
         const ssize_t n =
            send(cl->sock, cl->data + sent, cl->size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
         if (n > 0)
            sent += (size_t)n;
         else if (n < 0 && errno != EAGAIN && errno != EINTR)
            sent = cl->size; /* the server hung up */
         if (sent == cl->size) {
            shutdown(cl->sock, SHUT_WR);
            open = false;
         }
      }
   }
   return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   (void)argc;
   (void)argv;
   fuzz_init(false);
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      abort();
   struct client cl = { .sock = sv[1], .data = data, .size = size };
   pthread_t thread;
   if (pthread_create(&thread, NULL, client_main, &cl))
      abort();
   static const struct vd_vtest_config cfg = { .worker = VD_WORKER_THREAD, .opts = &fuzz_opts };
   vd_vtest_serve_client(&cfg, sv[0], 1);
   close(sv[0]); /* the client thread sees the end of the stream */
   pthread_join(thread, NULL);
   close(sv[1]);
   return 0;
}
