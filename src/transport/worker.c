/* Worker processes by fork or by spawn: see worker.h. */
#include "transport/worker.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context/limits.h"
#include "platform/platform.h"
#include "sandbox/sandbox.h"
#include "util/log.h"
#include "util/options.h"

static char program[PATH_MAX];

void vd_worker_set_program(const char *argv0)
{
   if (!argv0 || !realpath(argv0, program))
      program[0] = '\0';
}

static const char *worker_program(void)
{
   /* Linux: the running binary itself, even when argv[0] was a bare name found in PATH or
    * the file was replaced since. */
   if (access("/proc/self/exe", X_OK) == 0)
      return "/proc/self/exe";
   return program[0] ? program : NULL;
}

void vd_worker_enter(const struct vd_options *opts, uint32_t id)
{
   vd_platform_die_with_parent(getppid()); /* POSIX: the watch thread did not survive exec */
   vd_limits_apply_process_worker(opts);
   /* A spawned worker has no report page: a forbidden call still kills it with SIGSYS,
    * which the server logs, only without the call's name. */
   vd_sandbox_arm(NULL, id, vd_options_sandboxed(opts));
}

/* In the forked worker: "venusd worker --front F --fd N --id ID [--name N] [--framing F]
 * OPTIONS...".  Does not return. */
static void exec_worker(const struct vd_worker_start *ws)
{
   const char *exe = worker_program();
   /* The socket must survive exec: a copy without FD_CLOEXEC. */
   const int fd = exe ? dup(ws->sock) : -1;
   int nargs = 0;
   while (ws->spawn_args && ws->spawn_args[nargs])
      nargs++;
   const char **argv = calloc((size_t)nargs + 16, sizeof(*argv));
   if (fd < 0 || !argv) {
      fprintf(stderr, "venusd: cannot start a worker for %s %u: %s\n", ws->front, ws->id,
              exe ? strerror(errno) : "the program's path is unknown");
      _exit(127);
   }
   char fd_arg[16], id_arg[16];
   snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
   snprintf(id_arg, sizeof(id_arg), "%u", ws->id);
   /* The server's options first: the worker's own come last and win. */
   int n = 0;
   argv[n++] = "venusd";
   argv[n++] = "worker";
   for (int i = 0; i < nargs; i++)
      argv[n++] = ws->spawn_args[i];
   argv[n++] = "--front";
   argv[n++] = ws->front;
   argv[n++] = "--fd";
   argv[n++] = fd_arg;
   argv[n++] = "--id";
   argv[n++] = id_arg;
   if (ws->name) {
      argv[n++] = "--name";
      argv[n++] = ws->name;
   }
   if (ws->framing) {
      argv[n++] = "--framing";
      argv[n++] = ws->framing;
   }
   execv(exe, (char *const *)argv);
   fprintf(stderr, "venusd: cannot execute %s for the worker of %s %u: %s\n", exe, ws->front,
           ws->id, strerror(errno));
   _exit(127);
}

pid_t vd_worker_start(const struct vd_worker_start *ws)
{
   fflush(NULL);
   const pid_t parent = getpid();
   const pid_t pid = fork();
   if (pid != 0)
      return pid;
   /* The worker: only its socket, default signals, dies with the server. */
   for (int i = 0; i < ws->nclose; i++)
      if (ws->close_fds[i] >= 0)
         close(ws->close_fds[i]);
   sigprocmask(SIG_SETMASK, ws->orig_mask, NULL);
   vd_platform_die_with_parent(parent);
   if (ws->mode == VD_WORKER_SPAWN)
      exec_worker(ws);
   if (ws->child_cleanup)
      ws->child_cleanup(ws->arg);
   vd_limits_apply_process_worker(ws->opts);
   vd_sandbox_arm(ws->sandbox, ws->id, vd_options_sandboxed(ws->opts));
   ws->serve(ws->arg, ws->sock);
   close(ws->sock);
   exit(0);
}
