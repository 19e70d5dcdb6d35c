/* The vtest front door: a unix-socket server speaking vtest protocol version 3 the way
 * Mesa 25.0.7's Venus driver drives it (VN_DEBUG=vtest).  Protocol: docs/protocol.md §1.
 *
 * One connection = one client = (after CONTEXT_INIT) one vd_context.  Every client is
 * served on its own thread of control, either a forked worker process (the default; the
 * server process itself never touches Vulkan) or a thread of the server process.  A
 * client that disconnects, sends malformed input or whose context goes fatal is dropped
 * and cleaned up without affecting the others. */
#ifndef VD_TRANSPORT_VTEST_H
#define VD_TRANSPORT_VTEST_H

#include <stdbool.h>
#include <stdint.h>

struct vd_context_hooks;
struct vd_options;

#define VD_VTEST_DEFAULT_SOCKET "/tmp/.virgl_test"
/* Socket activation (systemd's LISTEN_FDS protocol): the first passed fd. */
#define VD_LISTEN_FDS_START 3

enum vd_worker_mode {
   VD_WORKER_PROCESS = 0, /* fork one worker process per client */
   VD_WORKER_THREAD,      /* one thread per client in the server process */
   VD_WORKER_SPAWN,       /* fork and execute venusd again ("venusd worker") per client */
};

struct vd_vtest_config {
   const char *socket_path; /* ignored when activated */
   enum vd_worker_mode worker;
   const struct vd_context_hooks *hooks; /* for every client's context (vk/vk.h) */
   const struct vd_options *opts;        /* the command line's settings, for each client */
   bool activated;          /* serve the listening socket inherited as VD_LISTEN_FDS_START */
   char *const *spawn_args; /* --worker spawn: the options to hand each worker */
};

/* Socket activation: true if the service manager passed this process a socket, i.e.
 * LISTEN_PID is our pid and LISTEN_FDS >= 1 (the socket is then fd VD_LISTEN_FDS_START).
 * Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES either way, so that no child process
 * takes them for its own.  Sets *error (logged) when the variables are malformed. */
bool vd_vtest_socket_activation(bool *error);

/* Binds and listens on cfg->socket_path (replacing a stale socket file), or with
 * cfg->activated checks and takes the inherited listening socket, and serves clients in the
 * foreground until SIGINT or SIGTERM; then stops accepting, terminates the clients, removes
 * the socket (unless it was inherited: its owner removes it) and returns 0.  Returns 1 if
 * the server could not be set up (logged).  Must be called before the process creates any
 * thread (it blocks signals for signalfd). */
int vd_vtest_serve(const struct vd_vtest_config *cfg);

/* Serves one connected vtest client on the calling thread until it disconnects or is
 * dropped, then destroys its context and everything else it had.  Does not close fd.
 * client_id names the client (and its context) in logs. */
void vd_vtest_serve_client(const struct vd_vtest_config *cfg, int fd, uint32_t client_id);

#endif
