/* venusd's command line: subcommands, options, and the process model's entry points.
 *
 *   venusd vtest [OPTIONS]               serve vtest clients (transport/vtest.c)
 *   venusd replay FILE                   decode a --record file (context/replay.c)
 *   venusd render-server --socket-fd N   virglrenderer's render server (transport/render_server.c);
 *                                        also when run as virgl_render_server or as
 *                                        "venusd --socket-fd N"
 *   venusd doctor [OPTIONS]              check the host and say what to fix (doctor.c)
 *   venusd --help | --version
 *   venusd worker --front F --fd N ...   a spawned worker (--worker spawn; transport/worker.c)
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "context/limits.h"
#include "context/replay.h"
#include "doctor.h"
#include "transport/render_server.h"
#include "transport/worker.h"
#include "transport/vtest.h"
#include "util/log.h"
#include "util/options.h"
#include "vk/vk.h"

#ifndef VD_VERSION
#define VD_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

static const char *const usage_head = "Usage: venusd vtest [OPTIONS]\n"
                                      "       venusd replay FILE\n"
                                      "       venusd render-server --socket-fd N [OPTIONS]\n"
                                      "       venusd commands\n"
                                      "       venusd doctor [--json] [--socket PATH]\n"
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
   "  commands       print how each command of the Venus protocol is served\n"
   "  doctor         check the host for venusd (Vulkan loader, drivers, devices, memory\n"
   "                 backend, vtest socket, render server) and say what to fix; exits 1\n"
   "                 on any failure (see 'venusd doctor --help')\n";

static const char *const usage_env =
   "\n"
   "Environment:\n"
   "  VENUSD_LOG         log levels when --log is not given (same syntax)\n"
   "  VTEST_SOCKET_NAME  socket path when --socket is not given (Mesa's client reads it too)\n"
   "  LISTEN_PID, LISTEN_FDS\n"
   "                     socket activation (systemd's venusd.socket): when LISTEN_PID is\n"
   "                     venusd's pid, vtest serves the listening socket passed as fd 3\n"
   "  The host Vulkan loader's variables (VK_DRIVER_FILES, ...) choose the host driver.\n"
   "\n"
   "Example:\n"
   "  venusd vtest --socket /tmp/venus.sock &\n"
   "  VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/venus.sock \\\n"
   "    VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json vulkaninfo --summary\n";

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

/* -- the option table ------------------------------------------------------------------
 *
 * One entry per option of vtest and render-server: its name, which commands take it, how
 * its value is parsed and into which field of struct cli, and its --help text.  getopt_long
 * is driven from it, and --help is printed from it, so a new option is one entry (plus its
 * field, in struct vd_options when contexts or backends need it). */

/* What the command line sets. */
struct cli {
   const char *cmd;         /* "vtest" / "render-server", for messages */
   struct vd_options opts;  /* handed to the transport, and by it to every context */
   const char *socket_path; /* vtest --socket */
   enum vd_worker_mode worker;
   enum vd_framing framing; /* render-server --framing */
   int socket_fd;           /* render-server --socket-fd */
   bool sandbox_options;    /* render-server --worker-seccomp-*: accepted, ignored */
   const char *front;       /* worker --front vtest|render-server */
   int worker_fd;           /* worker --fd N: the client's or context's socket */
   int worker_id;           /* worker --id N */
   const char *worker_name; /* worker --name NAME: the context's */
   bool json;               /* doctor --json */
   bool help;
};

#define CMD_VTEST 0x1u
#define CMD_RS 0x2u
#define CMD_BOTH (CMD_VTEST | CMD_RS)
#define CMD_DOCTOR 0x4u
/* "venusd worker": a spawned worker takes the server's options and these of its own. */
#define CMD_WORKER 0x8u

enum cli_kind {
   CLI_HELP,   /* -h, --help */
   CLI_TRUE,   /* bool field = true (a value, if the option takes one, is ignored) */
   CLI_STRING, /* const char * field = the value, which must not be empty */
   CLI_INT,    /* integer field (4 or 8 bytes) = a decimal value in [min, max] */
   CLI_POW2,   /* uint64_t field = a power of two up to max; K, M and G suffixes */
   CLI_SIZE,   /* uint64_t field = a positive number; K, M and G suffixes */
   CLI_CHOICE, /* enum field (4 bytes) = the value's index in choices */
   CLI_FUNC,   /* parse(cli, value) */
};

struct cli_option {
   const char *name; /* the long name, without "--" */
   const char *arg;  /* the value's name in --help; NULL: takes no value */
   unsigned cmds;    /* CMD_VTEST, CMD_RS */
   enum cli_kind kind;
   size_t offset, size;                               /* the field of struct cli (CLI_FIELD) */
   int64_t min, max;                                  /* CLI_INT: range; CLI_POW2: largest value */
   const char *const *choices;                        /* CLI_CHOICE: NULL-terminated */
   bool (*parse)(struct cli *cli, const char *value); /* CLI_FUNC */
   const char *expect;                                /* what a valid value is, for errors */
   const char *help; /* --help text; lines after the first are indented */
};

#define CLI_FIELD(f) .offset = offsetof(struct cli, f), .size = sizeof(((struct cli *)0)->f)

static bool parse_log(struct cli *cli, const char *v)
{
   if (!vd_log_configure(v))
      return false;
   cli->opts.log_spec = v;
   return true;
}

/* --emulate LIST: emulations to use even where the host has the capability. */
static bool parse_emulate(struct cli *cli, const char *list)
{
   static const struct {
      const char *name;
      unsigned bits;
   } names[] = {
      { "sync_fd", VD_EMU_SYNC_FD_SEMAPHORE },
      { "fence_fd", VD_EMU_SYNC_FD_FENCE },
      { "dma_buf", VD_EMU_DMA_BUF },
      { "modifiers", VD_EMU_MODIFIERS },
      { "foreign", VD_EMU_FOREIGN },
      { "all", VD_EMU_ALL },
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
   cli->opts.emulate = bits;
   return true;
}

static const char *const worker_choices[] = { "process", "thread", "spawn", NULL };
static const char *const framing_choices[] = { "auto", "seqpacket", "stream", NULL };
static const char *const memory_choices[] = { "auto", "host-pointer", "export", NULL };
static const char *const venus_protocol_choices[] = { "auto", "mesa25", "newest", NULL };

static const struct cli_option cli_options[] = {
   { "socket", "PATH", CMD_VTEST | CMD_DOCTOR, CLI_STRING, CLI_FIELD(socket_path),
     .expect = "a path",
     .help = "unix socket to listen on (default: $VTEST_SOCKET_NAME if set,\n"
             "else " VD_VTEST_DEFAULT_SOCKET ", the path Mesa uses by default);\n"
             "not with socket activation, where the socket is inherited" },
   { "socket-fd", "N", CMD_RS, CLI_INT, CLI_FIELD(socket_fd), .min = 0, .max = 1 << 20,
     .expect = "a file descriptor number", .help = "the socket the proxy passes (required)" },
   { "framing", "auto|seqpacket|stream", CMD_RS, CLI_CHOICE, CLI_FIELD(framing),
     .choices = framing_choices,
     .help = "how messages are delimited on the proxy's socket: seqpacket (one\n"
             "SOCK_SEQPACKET record each, virglrenderer on Linux), stream (a\n"
             "4-byte length before each, virglrenderer's macOS build) or auto\n"
             "(by the socket's type; the default)" },
   { "worker", "process|thread|spawn", CMD_BOTH, CLI_CHOICE, CLI_FIELD(worker),
     .choices = worker_choices,
     .help = "serve each client in a forked worker process (process, the\n"
             "default: a crashing client takes only its worker down), in a\n"
             "thread of the venusd process (thread: for debuggers, sanitizers)\n"
             "or in a fresh venusd executed for it (spawn: nothing inherited\n"
             "from the server but its socket and settings, as macOS needs)" },
   /* Only for "venusd worker", which the server runs (--worker spawn). */
   { "front", "vtest|render-server", CMD_WORKER, CLI_STRING, CLI_FIELD(front),
     .expect = "vtest or render-server", .help = "" },
   { "fd", "N", CMD_WORKER, CLI_INT, CLI_FIELD(worker_fd), .min = 0, .max = 1 << 20,
     .expect = "a file descriptor number", .help = "" },
   { "id", "N", CMD_WORKER, CLI_INT, CLI_FIELD(worker_id), .min = 1, .max = INT32_MAX,
     .expect = "a client or context id", .help = "" },
   { "name", "NAME", CMD_WORKER, CLI_STRING, CLI_FIELD(worker_name), .expect = "a name",
     .help = "" },
   { "log", "SPEC", CMD_BOTH | CMD_DOCTOR, CLI_FUNC, .parse = parse_log,
     .expect = "a log spec such as \"info,ring=debug\" (levels: error warn info debug trace)",
     .help = "log levels: comma-separated LEVEL or CATEGORY=LEVEL items, e.g.\n"
             "\"info,ring=debug\" (default: $VENUSD_LOG, else info)\n"
             "levels: error warn info debug trace\n"
             "categories: main transport context ring decode vk memory" },
   { "record", "DIR", CMD_BOTH, CLI_STRING, CLI_FIELD(opts.record_dir), .expect = "a directory",
     .help = "write each context's command streams to DIR/ctx<id>-<name>.vnr\n"
             "(decode them with 'venusd replay FILE')" },
   { "memory", "auto|host-pointer|export", CMD_BOTH | CMD_DOCTOR, CLI_CHOICE,
     CLI_FIELD(opts.memory_mode), .choices = memory_choices,
     .help = "how host-visible memory is shared with the client: host-pointer\n"
             "(shared memory imported with VK_EXT_external_memory_host), export\n"
             "(memory exported by the driver as a dma-buf or opaque fd), or\n"
             "auto (host-pointer where the driver has VK_EXT_external_memory_host,\n"
             "else export; the default).  The log says which was chosen and why." },
   { "host-pointer-alignment", "N", CMD_BOTH | CMD_DOCTOR, CLI_POW2,
     CLI_FIELD(opts.host_pointer_alignment), .max = 1 << 30, .expect = "a power of two up to 1G",
     .help = "align host-pointer allocations to at least N bytes (a power of\n"
             "two; K, M and G suffixes allowed; default: the driver's\n"
             "minImportedHostPointerAlignment)" },
   { "spin-us", "N", CMD_BOTH, CLI_INT, CLI_FIELD(opts.spin_us), .min = 0, .max = 1000000,
     .expect = "a number of microseconds",
     .help = "how long venusd polls a client's socket for more input before\n"
             "it sleeps in read() (default 20).  The client's writes are\n"
             "cheaper when they need not wake venusd; longer polls cost CPU.\n"
             "(vtest only: render-server accepts it and ignores it)" },
   { "ring-spin-us", "N", CMD_BOTH, CLI_INT, CLI_FIELD(opts.ring_spin_us), .min = 0, .max = 1000000,
     .expect = "a number of microseconds",
     .help = "how long a ring thread yield-polls an empty ring before it naps\n"
             "in short timed waits until the client's idle timeout, after\n"
             "which it sleeps until notified (default 200)" },
   { "max-rings", "N", CMD_BOTH, CLI_INT, CLI_FIELD(opts.max_rings), .min = 1, .max = 4096,
     .expect = "a number of rings",
     .help = "rings a context may create (each is a thread; default 256):\n"
             "one more makes the context fatal" },
   /* Per-context limits (context/limits.h; defaults and why in util/options.h). */
   { "max-objects", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_objects),
     .expect = "a positive number (K, M, G suffixes)",
     .help = "Vulkan objects a context may hold (default 1M); past it the\n"
             "context is fatal" },
   { "max-memory", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_memory),
     .expect = "a positive number of bytes (K, M, G suffixes)",
     .help = "VkDeviceMemory bytes per context (default: the device's heaps);\n"
             "past it vkAllocateMemory fails with VK_ERROR_OUT_OF_DEVICE_MEMORY" },
   { "max-blobs", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_blobs),
     .expect = "a positive number (K, M, G suffixes)",
     .help = "blobs and imported resources per context (default 16384)" },
   { "max-blob-bytes", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_blob_bytes),
     .expect = "a positive number of bytes (K, M, G suffixes)",
     .help = "bytes of shared-memory blobs per context (default 16G)" },
   { "max-fds", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_fds),
     .expect = "a positive number (K, M, G suffixes)",
     .help = "file descriptors venusd holds for a context (default 16384;\n"
             "a process worker's RLIMIT_NOFILE is this + 1024)" },
   { "max-waits", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_waits),
     .expect = "a positive number (K, M, G suffixes)",
     .help = "pending waits per context: host fences, client sync waits\n"
             "(default 16384)" },
   { "max-threads", "N", CMD_BOTH, CLI_SIZE, CLI_FIELD(opts.max_threads),
     .expect = "a positive number (K, M, G suffixes)",
     .help = "threads per context: rings, ring monitor, queue fences (default\n"
             "512).  Each limit logs one line per context when hit, naming it" },
   { "emulate", "LIST", CMD_BOTH, CLI_FUNC, .parse = parse_emulate,
     .expect = "a comma-separated list of sync_fd, fence_fd, dma_buf, modifiers, foreign, "
               "all or none",
     .help = "emulate for the guest even where the host driver has it (for\n"
             "testing; venusd always emulates what the host lacks): a comma-\n"
             "separated list of sync_fd (SYNC_FD semaphores), fence_fd,\n"
             "dma_buf, modifiers (DRM format modifiers), foreign (the foreign\n"
             "queue family), all, none (the default)" },
   { "venus-protocol", "auto|mesa25|newest", CMD_BOTH, CLI_CHOICE, CLI_FIELD(opts.venus_protocol),
     .choices = venus_protocol_choices,
     .help = "the Venus protocol offered to guests, who take the lower of it\n"
             "and their own: newest (vk.xml 1.4.343, venus_protocol spec 3: Vulkan\n"
             "1.4 for Mesa 26 guests), mesa25 (Mesa 25.0.7's: vk.xml 1.3.269,\n"
             "spec 2), or auto (the default: newest for vtest; mesa25 for the\n"
             "render server, whose guests got the capset of QEMU's\n"
             "libvirglrenderer 1.1.0)" },
   { "validate", NULL, CMD_BOTH, CLI_TRUE, CLI_FIELD(opts.validate),
     .help = "enable VK_LAYER_KHRONOS_validation on the host instance" },
   { "stats", NULL, CMD_BOTH, CLI_TRUE, CLI_FIELD(opts.stats),
     .help = "when a ring or context ends, log for each ring and virtqueue\n"
             "how many commands it served, how long that took, and the command\n"
             "types that took longest (count, total, mean; inclusive of the host\n"
             "driver's call; a vkExecuteCommandStreamsMESA includes its commands)" },
   { "no-sandbox", NULL, CMD_BOTH, CLI_TRUE, CLI_FIELD(opts.no_sandbox),
     .help = "run worker processes without the seccomp filter that otherwise\n"
             "limits each to the system calls the host driver needs once its\n"
             "first VkDevice exists (thread workers are never sandboxed)" },
   { "no-preload", NULL, CMD_BOTH, CLI_TRUE, CLI_FIELD(opts.no_preload),
     .help = "do not load the Vulkan loader and driver libraries into the\n"
             "server before forking process workers (by default they are, so\n"
             "that the workers share their relocated pages: ~10 MB less per\n"
             "context on lavapipe; no driver function is called there)" },
   { "worker-seccomp-bpf", "PATH", CMD_RS, CLI_TRUE, CLI_FIELD(sandbox_options),
     .help = "virgl_render_server's sandbox option: accepted and ignored\n"
             "(venusd sandboxes its workers with its own filter; a warning says so)" },
   { "worker-seccomp-minijail-policy", "PATH", CMD_RS, CLI_TRUE, CLI_FIELD(sandbox_options),
     .help = "likewise" },
   { "worker-seccomp-minijail-log", NULL, CMD_RS, CLI_TRUE, CLI_FIELD(sandbox_options),
     .help = "likewise" },
   { "json", NULL, CMD_DOCTOR, CLI_TRUE, CLI_FIELD(json),
     .help = "doctor: print one JSON document (every check with its status,\n"
             "message, what to do and its data) instead of lines" },
   { "help", NULL, CMD_BOTH | CMD_DOCTOR, CLI_HELP, .help = "show this help" },
};

#define CLI_OPTION_COUNT (sizeof(cli_options) / sizeof(cli_options[0]))
/* getopt_long's value for cli_options[i]: clear of every short option character. */
#define CLI_VAL_BASE 0x100

/* Prints the options of `cmds`, each as "  --name ARG" and its help from column 22. */
static void print_options(FILE *f, unsigned cmds)
{
   for (size_t i = 0; i < CLI_OPTION_COUNT; i++) {
      const struct cli_option *o = &cli_options[i];
      if (!(o->cmds & cmds))
         continue;
      char left[96];
      const int n = snprintf(left, sizeof(left), "  %s--%s%s%s", o->kind == CLI_HELP ? "-h, " : "",
                             o->name, o->arg ? " " : "", o->arg ? o->arg : "");
      if (n > 19)
         fprintf(f, "%s\n%21s", left, "");
      else
         fprintf(f, "%-21s", left);
      for (const char *h = o->help; *h;) {
         const size_t len = strcspn(h, "\n");
         fprintf(f, "%.*s\n", (int)len, h);
         h += len;
         if (*h == '\n' && *++h)
            fprintf(f, "%21s", "");
      }
   }
}

static void print_usage(FILE *f)
{
   fputs(usage_head, f);
   fputs(usage_about, f);
   fputs("\nvtest options:\n", f);
   print_options(f, CMD_VTEST);
   fputs(usage_env, f);
}

static void print_vtest_usage(FILE *f)
{
   fputs("Usage: venusd vtest [OPTIONS]\n"
         "\n"
         "Serves the vtest protocol (Mesa's VN_DEBUG=vtest) on a unix socket, in the\n"
         "foreground, until SIGINT or SIGTERM.\n"
         "\n"
         "vtest options:\n",
         f);
   print_options(f, CMD_VTEST);
   fputs(usage_env, f);
}

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
   char *end;
   errno = 0;
   const long long n = strtoll(s, &end, 10);
   if (errno || end == s || *end || n < min || n > max)
      return false;
   *out = n;
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
   case 'k':
   case 'K':
      shift = 10;
      end++;
      break;
   case 'm':
   case 'M':
      shift = 20;
      end++;
      break;
   case 'g':
   case 'G':
      shift = 30;
      end++;
      break;
   default: break;
   }
   if (*end || (shift && v > (UINT64_MAX >> shift)))
      return false;
   *out = (uint64_t)v << shift;
   return true;
}

/* Stores n into an integer or enum field of 4 or 8 bytes. */
static void store_int(void *field, size_t size, int64_t n)
{
   assert(size == 4 || size == 8);
   if (size == 4) {
      const int32_t v = (int32_t)n;
      memcpy(field, &v, 4);
   } else {
      memcpy(field, &n, 8);
   }
}

/* "must be X, not 'V'": the option, what it takes, and what it got. */
static void __attribute__((noreturn))
bad_value(const struct cli *cli, const struct cli_option *o, const char *v)
{
   char expect[256];
   size_t n = 0;
   if (o->kind == CLI_CHOICE) {
      for (size_t i = 0; o->choices[i] && n < sizeof(expect); i++)
         n += (size_t)snprintf(expect + n, sizeof(expect) - n, "%s'%s'",
                               !i                  ? ""
                               : o->choices[i + 1] ? ", "
                                                   : " or ",
                               o->choices[i]);
   } else if (o->kind == CLI_INT) {
      snprintf(expect, sizeof(expect), "%s from %lld to %lld", o->expect, (long long)o->min,
               (long long)o->max);
   } else {
      snprintf(expect, sizeof(expect), "%s", o->expect);
   }
   usage_error(cli->cmd, "--%s must be %s, not '%s'", o->name, expect, v);
}

static void cli_apply(struct cli *cli, const struct cli_option *o, const char *v)
{
   void *field = (char *)cli + o->offset;
   switch (o->kind) {
   case CLI_HELP: cli->help = true; return;
   case CLI_TRUE: *(bool *)field = true; return;
   case CLI_STRING:
      if (!*v)
         bad_value(cli, o, v);
      *(const char **)field = v;
      return;
   case CLI_INT: {
      int64_t n;
      if (!parse_int(v, o->min, o->max, &n))
         bad_value(cli, o, v);
      store_int(field, o->size, n);
      return;
   }
   case CLI_POW2: {
      uint64_t n;
      if (!parse_size(v, &n) || !n || (n & (n - 1)) || n > (uint64_t)o->max)
         bad_value(cli, o, v);
      assert(o->size == sizeof(uint64_t));
      memcpy(field, &n, sizeof(n));
      return;
   }
   case CLI_SIZE: {
      uint64_t n;
      if (!parse_size(v, &n) || !n)
         bad_value(cli, o, v);
      assert(o->size == sizeof(uint64_t));
      memcpy(field, &n, sizeof(n));
      return;
   }
   case CLI_CHOICE:
      for (int64_t i = 0; o->choices[i]; i++) {
         if (!strcmp(v, o->choices[i])) {
            store_int(field, o->size, i);
            return;
         }
      }
      bad_value(cli, o, v);
   case CLI_FUNC:
      if (!o->parse(cli, v))
         bad_value(cli, o, v);
      return;
   }
}

/* Parses argv[1..] (argv[0] names the command) with getopt_long for the options of `cmd`
 * (CMD_VTEST or CMD_RS), in order; stops at -h/--help.  Exits with a usage error naming the
 * option and the value on anything it cannot take. */
static void cli_parse(struct cli *cli, unsigned cmd, int argc, char **argv)
{
   struct option longopts[CLI_OPTION_COUNT + 1];
   size_t n = 0;
   for (size_t i = 0; i < CLI_OPTION_COUNT; i++) {
      if (cli_options[i].cmds & cmd)
         longopts[n++] = (struct option){ cli_options[i].name,
                                          cli_options[i].arg ? required_argument : no_argument,
                                          NULL, CLI_VAL_BASE + (int)i };
   }
   longopts[n] = (struct option){ 0 };
   opterr = 0;
   optind = 1;
   while (!cli->help) {
      const int at = optind;
      /* '+': stop at the first non-option (refused below); ':': a missing value is ':'. */
      const int c = getopt_long(argc, argv, "+:h", longopts, NULL);
      if (c == -1)
         break;
      const char *arg = argv[at];
      if (c == 'h') {
         cli->help = true;
      } else if (c == ':') {
         usage_error(cli->cmd, "option '%s' needs a value", arg);
      } else if (c == '?') {
         if (!strncmp(arg, "--", 2) && strchr(arg, '='))
            usage_error(cli->cmd, "unknown option '%s' (or one that takes no value)", arg);
         usage_error(cli->cmd, "unknown option '%s'", arg);
      } else {
         assert(c >= CLI_VAL_BASE && c < CLI_VAL_BASE + (int)CLI_OPTION_COUNT);
         const struct cli_option *o = &cli_options[c - CLI_VAL_BASE];
         /* getopt_long also takes unambiguous abbreviations (--mem); venusd has always
          * matched names exactly, so that a later option cannot change what one means. */
         const size_t len = strlen(o->name);
         if (strncmp(arg + 2, o->name, len) || (arg[2 + len] && arg[2 + len] != '='))
            usage_error(cli->cmd, "unknown option '%s' (did you mean '--%s'?)", arg, o->name);
         cli_apply(cli, o, o->arg ? optarg : NULL);
      }
   }
   if (!cli->help && optind < argc)
      usage_error(cli->cmd, "unexpected argument '%s'", argv[optind]);
}

/* The POSIX build (-Dplatform=posix, as on macOS) spawns its workers: fork() without
 * exec() breaks Metal's XPC connections.  It has no sandbox: seccomp is Linux only. */
#ifdef VD_PLATFORM_POSIX
#define VD_DEFAULT_WORKER VD_WORKER_SPAWN
#else
#define VD_DEFAULT_WORKER VD_WORKER_PROCESS
#endif

static void cli_init(struct cli *cli, const char *cmd)
{
   *cli = (struct cli){
      .cmd = cmd,
      .opts = VD_OPTIONS_DEFAULT,
      .worker = VD_DEFAULT_WORKER,
      .socket_fd = -1,
      .worker_fd = -1,
   };
#ifdef VD_PLATFORM_POSIX
   cli->opts.no_sandbox = true;
#endif
}

/* Says once how the workers are confined (the workers themselves log "sandbox on"). */
static void log_sandbox_mode(const struct vd_options *opts, enum vd_worker_mode worker)
{
#ifdef VD_PLATFORM_POSIX
   vd_info(VD_CAT_MAIN, "the posix build has no sandbox (seccomp is Linux only): workers run "
                        "as with --no-sandbox");
   return;
#endif
   if (opts->no_sandbox)
      vd_info(VD_CAT_MAIN, "--no-sandbox: worker processes run without the seccomp filter");
   else if (worker == VD_WORKER_THREAD)
      vd_info(VD_CAT_MAIN, "thread workers are not sandboxed: a seccomp filter would confine "
                           "the whole server (use --worker process, the default, for the sandbox)");
}

/* argv[0] is "vtest". */
/* Process workers share the driver libraries when the server loads them before it forks
 * (vk/preload.c); thread workers share them anyway. */
static void preload_for_workers(const struct vd_options *opts, enum vd_worker_mode worker)
{
   if (worker == VD_WORKER_PROCESS && !opts->no_preload)
      vd_vulkan_preload();
}

static int cmd_vtest(int argc, char **argv)
{
   struct cli cli;
   cli_init(&cli, "vtest");
   cli_parse(&cli, CMD_VTEST, argc, argv);
   if (cli.help) {
      print_vtest_usage(stdout);
      return 0;
   }
   struct vd_vtest_config cfg = {
      .socket_path = cli.socket_path,
      .worker = cli.worker,
      .hooks = &vd_vk_context_hooks,
      .opts = &cli.opts,
      .spawn_args = argv + 1,
   };
   bool activation_error;
   cfg.activated = vd_vtest_socket_activation(&activation_error);
   if (activation_error)
      return 1;
   if (cfg.activated && cfg.socket_path)
      usage_error(cli.cmd,
                  "--socket %s given, but a socket was passed by socket activation "
                  "(LISTEN_FDS): drop --socket from the service's command line",
                  cfg.socket_path);
   if (!cfg.socket_path) {
      const char *env = getenv("VTEST_SOCKET_NAME");
      cfg.socket_path = env && *env ? env : VD_VTEST_DEFAULT_SOCKET;
   }
   if (cli.opts.record_dir)
      vd_info(VD_CAT_MAIN, "recording command streams to %s", cli.opts.record_dir);
   preload_for_workers(&cli.opts, cfg.worker);
   if (!vd_vulkan_probe()) {
      fprintf(stderr, "venusd vtest: no usable host Vulkan driver (see above), so every client "
                      "would fail: install one (Debian: mesa-vulkan-drivers for lavapipe) or "
                      "point VK_DRIVER_FILES at its manifest, and start venusd again; "
                      "'venusd doctor' checks the loader, each driver and device and says "
                      "what to fix\n");
      return 1;
   }
   log_sandbox_mode(&cli.opts, cfg.worker);
   if (cfg.worker == VD_WORKER_THREAD)
      vd_limits_init_thread_mode(&cli.opts);
   const int rc = vd_vtest_serve(&cfg);
   if (rc == 1 && !cfg.activated)
      fprintf(stderr,
              "venusd vtest: could not start (see above); 'venusd doctor --socket %s' "
              "checks the socket, the Vulkan driver and the memory backend\n",
              cfg.socket_path);
   return rc;
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
   "Serves virglrenderer's render-server protocol on the socket N (SOCK_SEQPACKET, or\n"
   "SOCK_STREAM with a length before each message as on macOS; see --framing): this is\n"
   "what libvirglrenderer's proxy runs (QEMU, virgl_test_server) when it is started with\n"
   "RENDER_SERVER_EXEC_PATH pointing at venusd.  Each guest context runs in its own worker.\n"
   "Exits 0 when the proxy closes the socket or on SIGINT/SIGTERM.\n"
   "\n"
   "The proxy passes only --socket-fd, so further options come from the environment:\n"
   "  VENUSD_RENDER_SERVER_ARGS  options added before the command line's, split at spaces,\n"
   "                     e.g. \"--memory host-pointer --host-pointer-alignment 16384\"\n"
   "\n"
   "render-server options:\n";

/* Splits VENUSD_RENDER_SERVER_ARGS into words placed after argv[0] and before argv's
 * options.  The strings live until the render server returns (options point into them);
 * *copy_out is freed then, with the returned array if it is not argv. */
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
   out[n++] = argv[0];
   for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save); w;
        w = strtok_r(NULL, " \t\n", &save))
      out[n++] = w;
   for (int i = 1; i < *argc; i++)
      out[n++] = argv[i];
   *argc = n;
   *copy_out = copy;
   return out;
}

static int render_server_run(struct cli *cli, char **argv)
{
   if (cli->help) {
      fputs(usage_render_server, stdout);
      print_options(stdout, CMD_RS);
      return 0;
   }
   if (cli->socket_fd < 0)
      usage_error(cli->cmd, "--socket-fd N is required (the proxy passes it)");
   if (cli->sandbox_options)
      vd_warn(VD_CAT_MAIN, "--worker-seccomp-* options ignored: venusd's workers use its own "
                           "built-in seccomp filter (--no-sandbox turns it off)");
   /* virglrenderer's proxy requires a shared-memory blob's file to be exactly the blob, and
    * the VMM may hand blobs to other guest processes. */
   cli->opts.vmm_blobs = true;
   const struct vd_render_server_config cfg = {
      .socket_fd = cli->socket_fd,
      .framing = cli->framing,
      .worker = cli->worker,
      .hooks = &vd_vk_context_hooks,
      .opts = &cli->opts,
      .spawn_args = argv + 1,
   };
   log_sandbox_mode(&cli->opts, cfg.worker);
   if (cfg.worker == VD_WORKER_THREAD)
      vd_limits_init_thread_mode(&cli->opts);
   preload_for_workers(&cli->opts, cfg.worker);
   if (vd_vulkan_probe())
      return vd_render_server_serve(&cfg);
   fprintf(stderr, "venusd render-server: no usable host Vulkan driver (see above), so every "
                   "guest context would fail: install one or point VK_DRIVER_FILES (in the "
                   "VMM's environment) at its manifest; 'venusd doctor' (with the VMM's "
                   "environment) checks each driver and device and says what to fix\n");
   return 1;
}

/* argv[0] is "render-server", the program (virgl_render_server) or "venusd". */
static int cmd_render_server(int argc, char **argv)
{
   struct cli cli;
   cli_init(&cli, "render-server");
   char *env_args = NULL;
   char **const orig_argv = argv;
   argv = render_server_argv(&argc, argv, &env_args);
   cli_parse(&cli, CMD_RS, argc, argv);
   const int rc = render_server_run(&cli, argv);
   if (argv != orig_argv)
      free(argv);
   free(env_args);
   return rc;
}

static const char *const usage_doctor =
   "Usage: venusd doctor [--json] [--socket PATH] [--memory MODE] [OPTIONS]\n"
   "\n"
   "Checks what venusd needs on this host, one check a line (ok, warn, FAIL, info), with\n"
   "what to do after each failure:\n"
   "  - the Venus protocol served and the Mesa / virglrenderer releases it matches;\n"
   "  - the Vulkan loader and every ICD manifest it would read (VK_DRIVER_FILES,\n"
   "    VK_ICD_FILENAMES, VK_ADD_DRIVER_FILES, the standard directories): does it parse,\n"
   "    does its library load and export vk_icdGetInstanceProcAddr;\n"
   "  - an instance (with portability enumeration when only that lists devices), every\n"
   "    device, the memory backend venusd would choose for it and why (--memory,\n"
   "    --host-pointer-alignment as for vtest), and a live host-pointer import at the\n"
   "    driver's minimum alignment and at 16 KiB: allocate, map, write, read back;\n"
   "  - whether the vtest socket (--socket, else $VTEST_SOCKET_NAME, else\n"
   "    " VD_VTEST_DEFAULT_SOCKET ") is free, in use by a live server or stale;\n"
   "  - a render-server self-test: venusd started as a VMM starts it, over a socket pair;\n"
   "  - advice: the guest's VN_PERF=no_fence_feedback, what it buys and when to use it.\n"
   "Exits 0 when nothing failed, 1 otherwise.  --socket names the path to check; the log\n"
   "(stderr) shows only errors unless --log or VENUSD_LOG says otherwise.\n"
   "\n"
   "doctor options:\n";

static int cmd_doctor(int argc, char **argv, const char *self)
{
   struct cli cli;
   cli_init(&cli, "doctor");
   cli_parse(&cli, CMD_DOCTOR, argc, argv);
   if (cli.help) {
      fputs(usage_doctor, stdout);
      print_options(stdout, CMD_DOCTOR);
      return 0;
   }
   /* Its own lines say what failed; the library's info lines would only repeat them. */
   if (!cli.opts.log_spec && !getenv("VENUSD_LOG"))
      vd_log_configure("error");
   const char *env = getenv("VTEST_SOCKET_NAME");
   char exe[4096];
   const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
   if (n > 0)
      exe[n] = '\0';
   const struct vd_doctor_config cfg = {
      .socket_path = cli.socket_path ? cli.socket_path
                     : env && *env   ? env
                                     : VD_VTEST_DEFAULT_SOCKET,
      .json = cli.json,
      .opts = &cli.opts,
      .self_exe = n > 0 ? exe : self,
   };
   return vd_doctor_run(&cfg);
}

/* "venusd worker --front F --fd N --id ID [--name NAME] [--framing F] OPTIONS...": a
 * worker the server executed for one client or context (--worker spawn), with the
 * server's options.  Serves it, then exits 0. */
static int cmd_worker(int argc, char **argv)
{
   struct cli cli;
   cli_init(&cli, "worker");
   cli_parse(&cli, CMD_BOTH | CMD_WORKER, argc, argv);
   const bool vtest = cli.front && !strcmp(cli.front, "vtest");
   if (!vtest && !(cli.front && !strcmp(cli.front, "render-server")))
      usage_error(cli.cmd, "--front vtest or --front render-server is required (venusd starts "
                           "its workers itself: use --worker spawn)");
   if (cli.worker_fd < 0 || cli.worker_id <= 0)
      usage_error(cli.cmd, "--fd and --id are required (venusd starts its workers itself)");
   vd_worker_enter(&cli.opts, (uint32_t)cli.worker_id);
   if (vtest) {
      const struct vd_vtest_config cfg = { .worker = VD_WORKER_SPAWN,
                                           .hooks = &vd_vk_context_hooks,
                                           .opts = &cli.opts };
      vd_vtest_serve_client(&cfg, cli.worker_fd, (uint32_t)cli.worker_id);
   } else {
      cli.opts.vmm_blobs = true; /* as render_server_run sets it */
      const struct vd_render_server_config cfg = { .framing = cli.framing,
                                                   .worker = VD_WORKER_SPAWN,
                                                   .hooks = &vd_vk_context_hooks,
                                                   .opts = &cli.opts };
      vd_render_server_serve_context(&cfg, cli.worker_fd, (uint32_t)cli.worker_id,
                                     cli.worker_name ? cli.worker_name : "");
   }
   close(cli.worker_fd);
   return 0;
}

static const char *base_name(const char *path)
{
   const char *s = strrchr(path, '/');
   return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
   vd_log_init_from_env();
   vd_worker_set_program(argc > 0 ? argv[0] : NULL);

   if (argc > 0 && !strcmp(base_name(argv[0]), "virgl_render_server"))
      return cmd_render_server(argc, argv);

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
      printf("venusd %s (Venus protocols of Mesa 25.0.7 / virglrenderer 1.1.0 and of vk.xml "
             "1.4.343, spec 3, for Mesa 26; vtest protocol 3)\n",
             VD_VERSION);
      return 0;
   }
   if (!strcmp(cmd, "vtest"))
      return cmd_vtest(argc - 1, argv + 1);
   if (!strcmp(cmd, "replay"))
      return cmd_replay(argc - 2, argv + 2);
   if (!strcmp(cmd, "commands"))
      return vd_cmd_commands(argc - 2, argv + 2);
   if (!strcmp(cmd, "render-server"))
      return cmd_render_server(argc - 1, argv + 1);
   if (!strcmp(cmd, "doctor"))
      return cmd_doctor(argc - 1, argv + 1, argv[0]);
   if (!strcmp(cmd, "worker"))
      return cmd_worker(argc - 1, argv + 1);
   /* RENDER_SERVER_EXEC_PATH=/path/to/venusd: the proxy runs "venusd --socket-fd N". */
   if (!strncmp(cmd, "--socket-fd", 11))
      return cmd_render_server(argc, argv);
   if (cmd[0] == '-')
      usage_error(NULL, "unknown option '%s'", cmd);
   usage_error(NULL, "unknown command '%s'", cmd);
}
