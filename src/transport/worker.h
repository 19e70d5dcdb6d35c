/* Worker processes, for both front doors (vtest.c: one per client; render_server.c: one
 * per context).  A worker is either a fork of the server that goes on serving in the
 * forked copy (--worker process), or a fork that at once executes venusd again as
 * "venusd worker ..." (--worker spawn): a fresh process with none of the server's state
 * (no loaded Vulkan driver, no heap), handed only its socket and its settings, as a host
 * where fork() without exec() breaks system libraries (macOS: Metal's XPC connections)
 * needs.  Either way the worker restores the signal mask, dies with the server
 * (PR_SET_PDEATHSIG) and runs its context in the sandbox (sandbox/sandbox.h). */
#ifndef VD_TRANSPORT_WORKER_H
#define VD_TRANSPORT_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "transport/vtest.h" /* enum vd_worker_mode */

struct vd_options;
struct vd_sandbox_report;

struct vd_worker_start {
   enum vd_worker_mode mode; /* VD_WORKER_PROCESS or VD_WORKER_SPAWN */
   const char *front;        /* "vtest" or "render-server": the worker's front door */
   uint32_t id;              /* the client's or context's id */
   const char *name;         /* render-server: the context's name, else NULL */
   const char *framing;      /* render-server: the socket's framing name, else NULL */
   int sock;                 /* the worker's socket: the only fd it keeps */
   const int *close_fds;     /* the server's own fds (listening socket, signalfd, ...) */
   int nclose;
   const sigset_t *orig_mask;         /* the mask to restore in the worker */
   const struct vd_options *opts;     /* for the limits and the sandbox */
   struct vd_sandbox_report *sandbox; /* fork: the page that names a forbidden call */
   char *const *spawn_args;           /* spawn: the server's options, NULL-terminated */
   /* fork: called in the worker to free the server's state (the other workers' pages)
    * and then to serve sock; the worker exits 0 when serve returns. */
   void (*child_cleanup)(void *arg);
   void (*serve)(void *arg, int sock);
   void *arg;
};

/* Starts a worker.  Returns its pid, or -1 with errno set (nothing started; the caller
 * still owns sock).  In the server, sock stays open: the caller closes it. */
pid_t vd_worker_start(const struct vd_worker_start *ws);

/* The spawned worker's side ("venusd worker"): the limits and the sandbox's arming that a
 * forked worker gets in vd_worker_start. */
void vd_worker_enter(const struct vd_options *opts, uint32_t id);

/* The program to execute for a spawned worker: /proc/self/exe on Linux, else the path
 * main() saved from argv[0] (vd_worker_set_program). */
void vd_worker_set_program(const char *argv0);

#endif
