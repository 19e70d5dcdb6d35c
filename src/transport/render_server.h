/* The render-server front door: venusd as a drop-in virgl_render_server.
 *
 * libvirglrenderer's proxy (virgl_renderer_init with VIRGL_RENDERER_RENDER_SERVER, as QEMU
 * and virgl_test_server use it) forks and execs $RENDER_SERVER_EXEC_PATH --socket-fd N,
 * with N one end of a SOCK_SEQPACKET socket pair.  On it the proxy creates and destroys
 * contexts; for each context the server hands back one end of a new socket pair on which
 * the proxy sends that context's requests (init with a timeline shmem, blobs, command
 * streams, fences).  Protocol: docs/protocol.md §6.
 *
 * Each context runs in a worker: a forked process (the default) or a thread. */
#ifndef VD_TRANSPORT_RENDER_SERVER_H
#define VD_TRANSPORT_RENDER_SERVER_H

#include "transport/socket.h" /* enum vd_framing */
#include "transport/vtest.h"  /* enum vd_worker_mode */

struct vd_render_server_config {
   int socket_fd; /* the proxy's end of the client socket (SOCK_SEQPACKET or SOCK_STREAM) */
   enum vd_framing framing; /* --framing: AUTO picks it by the socket's type */
   enum vd_worker_mode worker;
   const struct vd_context_hooks *hooks; /* for every context (vk/vk.h) */
   const struct vd_options *opts;        /* the command line's settings, for each context */
   char *const *spawn_args;              /* --worker spawn: the options to hand each worker */
};

/* Serves the proxy until it closes the socket (returns 0), or until SIGINT/SIGTERM
 * (returns 0 after stopping the workers).  Returns 1 if the socket is unusable or the proxy
 * broke the protocol (logged).
 * Must be called before the process creates any thread. */
int vd_render_server_serve(const struct vd_render_server_config *cfg);

/* A spawned worker ("venusd worker --front render-server"): serves context `id` on sock
 * (of cfg->framing, which must not be AUTO's guess of another type) until the proxy closes
 * it or it breaks, then destroys the context.  The caller closes sock. */
void vd_render_server_serve_context(const struct vd_render_server_config *cfg, int sock,
                                    uint32_t id, const char *name);

/* For `venusd doctor`: sends the proxy's INIT and a reply with an fd over a new socket pair
 * in `framing` (seqpacket or stream; the pair is SOCK_SEQPACKET or SOCK_STREAM to match)
 * through the code the server uses, and checks both arrive whole.  Returns false with
 * `why` filled in on any failure.  No Vulkan, no worker. */
bool vd_render_server_selftest(enum vd_framing framing, char *why, size_t why_size);

#endif
