/* venusd's command line: subcommands, options, and the process model's entry points.
 *
 *   venusd vtest [OPTIONS]               serve vtest clients (transport/vtest.c)
 *   venusd replay FILE                   decode a --record file (context/replay.c)
 *   venusd render-server --socket-fd N   virglrenderer's render server (transport/render_server.c);
 *                                        also when run as virgl_render_server or as
 *                                        "venusd --socket-fd N"
 *   venusd --help | --version
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "context/context_priv.h"
#include "memory/memory.h"
#include "options.h"
#include "vk/vk_common.h"
#include "transport/render_server.h"
#include "transport/vtest.h"
#include "util/log.h"

#ifndef VD_VERSION
#define VD_VERSION "0.1.0"
#endif

struct vd_options vd_opts = {
   .memory_mode = VD_MEMORY_AUTO,
   .spin_us = VD_SPIN_US_DEFAULT,
   .ring_spin_us = VD_RING_SPIN_US_DEFAULT,
   .max_rings = VD_MAX_RINGS_DEFAULT,
};

#define EXIT_USAGE 2

static const char *const usage_head =
   "Usage: venusd vtest [OPTIONS]\n"
   "       venusd replay FILE\n"
   "       venusd render-server --socket-fd N [OPTIONS]\n"
   "       venusd commands\n"
   "       venusd --help | --version\n";

static const char *const usage_about =
   "\n"
   "venusd is a host-side Venus renderer: it decodes the Vulkan calls that Mesa's Venus\n"
   "driver (libvulkan_virtio) serializes and runs them on the host's Vulkan driver.\n"
   "\n"
   "Commands:\n"
   "  vtest          serve the vtest protocol on a unix socket, in the foreground; this is\n"
   "                 how Mesa clients started with VN_DEBUG=vtest connect.  Exits 0 on\n"
   "                 SIGINT or SIGTERM, after stopping its clients and removing the socket.\n"
   "  replay FILE    decode a command stream recorded with --record and print each command\n"
   "  render-server  serve virglrenderer's render-server protocol on an inherited socket:\n"
   "                 a drop-in virgl_render_server for QEMU and other libvirglrenderer\n"
   "                 users (see 'venusd render-server --help')\n"
   "  commands       print how each command of the Venus protocol is served\n";

static const char *const usage_vtest =
   "\n"
   "vtest options:\n"
   "  --socket PATH      unix socket to listen on (default: $VTEST_SOCKET_NAME if set,\n"
   "                     else " VD_VTEST_DEFAULT_SOCKET ", the path Mesa uses by default)\n"
   "  --worker process|thread\n"
   "                     serve each client in a forked worker process (process, the\n"
   "                     default: a crashing client takes only its worker down) or in a\n"
   "                     thread of the venusd process (thread: for debuggers, sanitizers)\n"
   "  --log SPEC         log levels: comma-separated LEVEL or CATEGORY=LEVEL items, e.g.\n"
   "                     \"info,ring=debug\" (default: $VENUSD_LOG, else info)\n"
   "                     levels: error warn info debug trace\n"
   "                     categories: main transport context ring decode vk memory\n"
   "  --record DIR       write each context's command streams to DIR/ctx<id>-<name>.vnr\n"
   "                     (decode them with 'venusd replay FILE')\n"
   "  --memory auto|host-pointer|export\n"
   "                     how host-visible memory is shared with the client: host-pointer\n"
   "                     (shared memory imported with VK_EXT_external_memory_host), export\n"
   "                     (memory exported by the driver as a dma-buf or opaque fd), or\n"
   "                     auto (host-pointer where the driver has VK_EXT_external_memory_host,\n"
   "                     else export; the default).  The log says which was chosen and why.\n"
   "  --host-pointer-alignment N\n"
   "                     align host-pointer allocations to at least N bytes (a power of\n"
   "                     two; K, M and G suffixes allowed; default: the driver's\n"
   "                     minImportedHostPointerAlignment)\n"
   "  --spin-us N        how long venusd polls a client's socket for more input before\n"
   "                     it sleeps in read() (default 20).  The client's writes are\n"
   "                     cheaper when they need not wake venusd; longer polls cost CPU.\n"
   "  --ring-spin-us N   how long a ring thread yield-polls an empty ring before it naps\n"
   "                     in short timed waits until the client's idle timeout, after\n"
   "                     which it sleeps until notified (default 200)\n"
   "  --max-rings N      rings a context may create (each is a thread; default 256):\n"
   "                     one more makes the context fatal\n"
   "  --emulate LIST     emulate for the guest even where the host driver has it (for\n"
   "                     testing; venusd always emulates what the host lacks): a comma-\n"
   "                     separated list of sync_fd (SYNC_FD semaphores), fence_fd,\n"
   "                     dma_buf, modifiers (DRM format modifiers), foreign (the foreign\n"
   "                     queue family), all, none (the default)\n"
   "  --validate         enable VK_LAYER_KHRONOS_validation on the host instance\n"
   "  --no-sandbox       run worker processes without the seccomp filter that otherwise\n"
   "                     limits each to the system calls the host driver needs once its\n"
   "                     first VkDevice exists (thread workers are never sandboxed)\n"
   "  -h, --help         show this help\n";

static const char *const usage_env =
   "\n"
   "Environment:\n"
   "  VENUSD_LOG         log levels when --log is not given (same syntax)\n"
   "  VTEST_SOCKET_NAME  socket path when --socket is not given (Mesa's client reads it too)\n"
   "  The host Vulkan loader's variables (VK_DRIVER_FILES, ...) choose the host driver.\n"
   "\n"
   "Example:\n"
   "  venusd vtest --socket /tmp/venus.sock &\n"
   "  VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/venus.sock \\\n"
   "    VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json vulkaninfo --summary\n";

static void print_usage(FILE *f)
{
   fputs(usage_head, f);
   fputs(usage_about, f);
   fputs(usage_vtest, f);
   fputs(usage_env, f);
}

static void print_vtest_usage(FILE *f)
{
   fputs("Usage: venusd vtest [OPTIONS]\n"
         "\n"
         "Serves the vtest protocol (Mesa's VN_DEBUG=vtest) on a unix socket, in the\n"
         "foreground, until SIGINT or SIGTERM.\n",
         f);
   fputs(usage_vtest, f);
   fputs(usage_env, f);
}

/* Prints "venusd[ CMD]: MESSAGE" and a hint, and exits with EXIT_USAGE. */
static void usage_error(const char *cmd, const char *fmt, ...)
   __attribute__((format(printf, 2, 3), noreturn));
static void usage_error(const char *cmd, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   fprintf(stderr, "venusd%s%s: ", cmd ? " " : "", cmd ? cmd : "");
   vfprintf(stderr, fmt, ap);
   va_end(ap);
   fprintf(stderr, "\nTry 'venusd%s%s --help' for more information.\n", cmd ? " " : "",
           cmd ? cmd : "");
   exit(EXIT_USAGE);
}

/* Matches argv[*i] against option `name` ("--name VALUE" or "--name=VALUE").  On a match,
 * sets *value, advances *i past a separate value, and returns true. */
static bool opt_with_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                           const char **value)
{
   const char *a = argv[*i];
   const size_t n = strlen(name);
   if (strncmp(a, name, n) != 0)
      return false;
   if (a[n] == '=') {
      *value = a + n + 1;
      return true;
   }
   if (a[n] != '\0')
      return false;
   if (*i + 1 >= argc)
      usage_error(cmd, "option '%s' needs a value", name);
   *value = argv[++*i];
   return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
   if (!*s || *s == '-')
      return false;
   errno = 0;
   char *end;
   unsigned long long v = strtoull(s, &end, 0);
   if (errno || end == s)
      return false;
   unsigned shift = 0;
   switch (*end) {
   case 'k': case 'K': shift = 10; end++; break;
   case 'm': case 'M': shift = 20; end++; break;
   case 'g': case 'G': shift = 30; end++; break;
   default: break;
   }
   if (*end || (shift && v > (UINT64_MAX >> shift)))
      return false;
   *out = (uint64_t)v << shift;
   return true;
}

/* --emulate LIST: emulations to use even where the host has the capability. */
static bool parse_emulate(const char *list, unsigned *out)
{
   static const struct {
      const char *name;
      unsigned bits;
   } names[] = {
      { "sync_fd", VD_EMU_SYNC_FD_SEMAPHORE }, { "fence_fd", VD_EMU_SYNC_FD_FENCE },
      { "dma_buf", VD_EMU_DMA_BUF },           { "modifiers", VD_EMU_MODIFIERS },
      { "foreign", VD_EMU_FOREIGN },           { "all", VD_EMU_ALL },
      { "none", 0 },
   };
   unsigned bits = 0;
   const char *p = list;
   while (*p) {
      const size_t len = strcspn(p, ",");
      bool found = false;
      for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !found; k++) {
         if (strlen(names[k].name) == len && !strncmp(p, names[k].name, len)) {
            bits |= names[k].bits;
            found = true;
         }
      }
      if (!found)
         return false;
      p += len;
      if (*p == ',')
         p++;
   }
   *out = bits;
   return true;
}

/* Options that vtest and render-server share.  On a match consumes it (and its value) and
 * returns true. */
static bool parse_common_option(const char *me, int argc, char **argv, int *ip,
                                enum vd_worker_mode *worker)
{
   int i = *ip;
   const char *a = argv[i], *v;
   if (opt_with_value(me, argc, argv, &i, "--worker", &v)) {
      if (!strcmp(v, "process"))
         *worker = VD_WORKER_PROCESS;
      else if (!strcmp(v, "thread"))
         *worker = VD_WORKER_THREAD;
      else
         usage_error(me, "--worker must be 'process' or 'thread', not '%s'", v);
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--log", &v)) {
      if (!vd_log_configure(v))
         usage_error(me, "malformed --log spec '%s' (e.g. \"info,ring=debug\"; levels: "
                     "error warn info debug trace)", v);
      vd_opts.log_spec = v;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--record", &v)) {
      if (!*v)
         usage_error(me, "--record needs a directory");
      vd_opts.record_dir = v;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--memory", &v)) {
      if (!strcmp(v, "auto"))
         vd_opts.memory_mode = VD_MEMORY_AUTO;
      else if (!strcmp(v, "host-pointer"))
         vd_opts.memory_mode = VD_MEMORY_HOST_POINTER;
      else if (!strcmp(v, "export"))
         vd_opts.memory_mode = VD_MEMORY_EXPORT;
      else
         usage_error(me, "--memory must be 'auto', 'host-pointer' or 'export', not '%s'", v);
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--host-pointer-alignment", &v)) {
      uint64_t n;
      if (!parse_size(v, &n) || n == 0 || (n & (n - 1)) || n > (1ull << 30))
         usage_error(me, "--host-pointer-alignment must be a power of two up to 1G, "
                     "not '%s'", v);
      vd_opts.host_pointer_alignment = n;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--spin-us", &v)) {
      char *end;
      errno = 0;
      const long long n = strtoll(v, &end, 10);
      if (errno || end == v || *end || n < 0 || n > 1000000)
         usage_error(me, "--spin-us must be a number of microseconds from 0 to "
                     "1000000, not '%s'", v);
      vd_opts.spin_us = n;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--ring-spin-us", &v)) {
      char *end;
      errno = 0;
      const long long n = strtoll(v, &end, 10);
      if (errno || end == v || *end || n < 0 || n > 1000000)
         usage_error(me, "--ring-spin-us must be a number of microseconds from 0 to "
                     "1000000, not '%s'", v);
      vd_opts.ring_spin_us = n;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--max-rings", &v)) {
      char *end;
      errno = 0;
      const long long n = strtoll(v, &end, 10);
      if (errno || end == v || *end || n < 1 || n > 4096)
         usage_error(me, "--max-rings must be a number of rings from 1 to 4096, not '%s'", v);
      vd_opts.max_rings = (uint32_t)n;
      *ip = i;
      return true;
   }
   if (opt_with_value(me, argc, argv, &i, "--emulate", &v)) {
      if (!parse_emulate(v, &vd_opts.emulate))
         usage_error(me, "--emulate takes a comma-separated list of sync_fd, fence_fd, "
                     "dma_buf, modifiers, foreign, all or none, not '%s'", v);
      *ip = i;
      return true;
   }
   if (!strcmp(a, "--validate")) {
      vd_opts.validate = true;
      *ip = i;
      return true;
   }
   if (!strcmp(a, "--no-sandbox")) {
      vd_opts.no_sandbox = true;
      *ip = i;
      return true;
   }
   return false;
}

/* Says once how the workers are confined (the workers themselves log "sandbox on"). */
static void log_sandbox_mode(enum vd_worker_mode worker)
{
   if (vd_opts.no_sandbox)
      vd_info(VD_CAT_MAIN, "--no-sandbox: worker processes run without the seccomp filter");
   else if (worker == VD_WORKER_THREAD)
      vd_info(VD_CAT_MAIN, "thread workers are not sandboxed: a seccomp filter would confine "
              "the whole server (use --worker process, the default, for the sandbox)");
}

static int cmd_vtest(int argc, char **argv)
{
   static const char *const me = "vtest";
   struct vd_vtest_config cfg = { .socket_path = NULL, .worker = VD_WORKER_PROCESS };
   for (int i = 0; i < argc; i++) {
      const char *a = argv[i], *v;
      if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
         print_vtest_usage(stdout);
         return 0;
      } else if (opt_with_value(me, argc, argv, &i, "--socket", &v)) {
         if (!*v)
            usage_error(me, "--socket needs a non-empty path");
         cfg.socket_path = v;
      } else if (parse_common_option(me, argc, argv, &i, &cfg.worker)) {
         continue;
      } else if (a[0] == '-') {
         usage_error(me, "unknown option '%s'", a);
      } else {
         usage_error(me, "unexpected argument '%s'", a);
      }
   }
   if (!cfg.socket_path) {
      const char *env = getenv("VTEST_SOCKET_NAME");
      cfg.socket_path = env && *env ? env : VD_VTEST_DEFAULT_SOCKET;
   }
   if (vd_opts.record_dir)
      vd_info(VD_CAT_MAIN, "recording command streams to %s", vd_opts.record_dir);
   log_sandbox_mode(cfg.worker);
   if (!vd_vulkan_probe()) {
      fprintf(stderr, "venusd vtest: no usable host Vulkan driver (see above), so every client "
                      "would fail: install one (Debian: mesa-vulkan-drivers for lavapipe) or "
                      "point VK_DRIVER_FILES at its manifest, check it with vulkaninfo, and "
                      "start venusd again\n");
      return 1;
   }
   return vd_vtest_serve(&cfg);
}

static int cmd_replay(int argc, char **argv)
{
   const char *path = NULL;
   for (int i = 0; i < argc; i++) {
      if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
         printf("Usage: venusd replay FILE\n\n"
                "Decodes a command stream written by 'venusd vtest --record DIR' and prints\n"
                "each command.  Exits 0 if every stream decoded cleanly.\n");
         return 0;
      }
      if (argv[i][0] == '-' && argv[i][1])
         usage_error("replay", "unknown option '%s'", argv[i]);
      if (path)
         usage_error("replay", "unexpected argument '%s'", argv[i]);
      path = argv[i];
   }
   if (!path)
      usage_error("replay", "missing FILE");
   return vd_replay_file(path, stdout);
}

static const char *const usage_render_server =
   "Usage: venusd render-server --socket-fd N [OPTIONS]\n"
   "       virgl_render_server --socket-fd N      (venusd installed or linked under that name)\n"
   "       venusd --socket-fd N                   (RENDER_SERVER_EXEC_PATH=/path/to/venusd)\n"
   "\n"
   "Serves virglrenderer's render-server protocol on the SOCK_SEQPACKET socket N: this is\n"
   "what libvirglrenderer's proxy runs (QEMU, virgl_test_server) when it is started with\n"
   "RENDER_SERVER_EXEC_PATH pointing at venusd.  Each guest context runs in its own worker.\n"
   "Exits 0 when the proxy closes the socket or on SIGINT/SIGTERM.\n"
   "\n"
   "render-server options: the vtest options below except --socket and --spin-us (the\n"
   "proxy's socket is not polled), plus\n"
   "  --socket-fd N      the socket the proxy passes (required)\n"
   "  --worker-seccomp-bpf PATH, --worker-seccomp-minijail-policy PATH,\n"
   "  --worker-seccomp-minijail-log\n"
   "                     virgl_render_server's sandbox options: accepted and ignored (venusd\n"
   "                     sandboxes its workers with its own filter; a warning says so)\n"
   "\n"
   "The proxy passes only --socket-fd, so further options come from the environment:\n"
   "  VENUSD_RENDER_SERVER_ARGS  options added before the command line's, split at spaces,\n"
   "                     e.g. \"--memory host-pointer --host-pointer-alignment 16384\"\n";

/* Splits VENUSD_RENDER_SERVER_ARGS into words placed before argv's.  The strings live until
 * the render server returns (options point into them); *copy_out is freed then, with the
 * returned array if it is not argv. */
static char **render_server_argv(int *argc, char **argv, char **copy_out)
{
   const char *env = getenv("VENUSD_RENDER_SERVER_ARGS");
   *copy_out = NULL;
   if (!env || !*env)
      return argv;
   char *copy = strdup(env);
   char **out = calloc((size_t)*argc + strlen(env) / 2 + 2, sizeof(*out));
   if (!copy || !out) {
      free(copy);
      free(out);
      return argv;
   }
   int n = 0;
   for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save); w;
        w = strtok_r(NULL, " \t\n", &save))
      out[n++] = w;
   for (int i = 0; i < *argc; i++)
      out[n++] = argv[i];
   *argc = n;
   *copy_out = copy;
   return out;
}

static int cmd_render_server(int argc, char **argv)
{
   static const char *const me = "render-server";
   struct vd_render_server_config cfg = { .socket_fd = -1, .worker = VD_WORKER_PROCESS };
   bool seccomp = false;
   char *env_args = NULL;
   char **const orig_argv = argv;
   argv = render_server_argv(&argc, argv, &env_args);
   for (int i = 0; i < argc; i++) {
      const char *a = argv[i], *v;
      if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
         fputs(usage_render_server, stdout);
         fputs(usage_vtest, stdout);
         if (argv != orig_argv)
            free(argv);
         free(env_args);
         return 0;
      } else if (opt_with_value(me, argc, argv, &i, "--socket-fd", &v)) {
         char *end;
         errno = 0;
         const long n = strtol(v, &end, 10);
         if (errno || end == v || *end || n < 0 || n > 1 << 20)
            usage_error(me, "--socket-fd must be a file descriptor number, not '%s'", v);
         cfg.socket_fd = (int)n;
      } else if (opt_with_value(me, argc, argv, &i, "--worker-seccomp-bpf", &v) ||
                 opt_with_value(me, argc, argv, &i, "--worker-seccomp-minijail-policy", &v) ||
                 !strcmp(a, "--worker-seccomp-minijail-log")) {
         seccomp = true;
      } else if (parse_common_option(me, argc, argv, &i, &cfg.worker)) {
         continue;
      } else if (a[0] == '-') {
         usage_error(me, "unknown option '%s'", a);
      } else {
         usage_error(me, "unexpected argument '%s'", a);
      }
   }
   if (cfg.socket_fd < 0)
      usage_error(me, "--socket-fd N is required (the proxy passes it)");
   if (seccomp)
      vd_warn(VD_CAT_MAIN, "--worker-seccomp-* options ignored: venusd's workers use its own "
              "built-in seccomp filter (--no-sandbox turns it off)");
   log_sandbox_mode(cfg.worker);
   /* virglrenderer's proxy requires a shared-memory blob's file to be exactly the blob, and
    * the VMM may hand blobs to other guest processes. */
   vd_opts.vmm_blobs = true;
   int rc = 1;
   if (vd_vulkan_probe())
      rc = vd_render_server_serve(&cfg);
   else
      fprintf(stderr, "venusd render-server: no usable host Vulkan driver (see above), so "
                      "every guest context would fail: install one or point VK_DRIVER_FILES "
                      "(in the VMM's environment) at its manifest\n");
   if (argv != orig_argv)
      free(argv);
   free(env_args);
   return rc;
}

static const char *base_name(const char *path)
{
   const char *s = strrchr(path, '/');
   return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
   vd_log_init_from_env();

   if (argc > 0 && !strcmp(base_name(argv[0]), "virgl_render_server"))
      return cmd_render_server(argc - 1, argv + 1);

   if (argc < 2) {
      print_usage(stderr);
      return EXIT_USAGE;
   }
   const char *cmd = argv[1];
   if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
      print_usage(stdout);
      return 0;
   }
   if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
      printf("venusd %s (Venus protocol of Mesa 25.0.7 / virglrenderer 1.1.0, vtest "
             "protocol 3)\n", VD_VERSION);
      return 0;
   }
   if (!strcmp(cmd, "vtest"))
      return cmd_vtest(argc - 2, argv + 2);
   if (!strcmp(cmd, "replay"))
      return cmd_replay(argc - 2, argv + 2);
   if (!strcmp(cmd, "commands"))
      return vd_cmd_commands(argc - 2, argv + 2);
   if (!strcmp(cmd, "render-server"))
      return cmd_render_server(argc - 2, argv + 2);
   /* RENDER_SERVER_EXEC_PATH=/path/to/venusd: the proxy runs "venusd --socket-fd N". */
   if (!strncmp(cmd, "--socket-fd", 11))
      return cmd_render_server(argc - 1, argv + 1);
   if (cmd[0] == '-')
      usage_error(NULL, "unknown option '%s'", cmd);
   usage_error(NULL, "unknown command '%s'", cmd);
}
