/* Shared by the libFuzzer targets in fuzz/: quiet logging and a drain thread that plays
 * the client's side of a socket. */
#ifndef VD_FUZZ_COMMON_H
#define VD_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "vk/vk_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* For LLVMFuzzerInitialize.  Errors are expected on almost every input: log nothing,
 * unless VENUSD_LOG asks for it (to see why an input ends where it does).
 * host_driver: inputs that create a Vulkan instance get lavapipe (the host driver the tests
 * use), so that the handlers run; else no driver at all (vkCreateInstance fails at once),
 * for targets about framing, where a real instance per input (hundreds of ms under ASan)
 * would leave little time for anything else.  VK_DRIVER_FILES, if set, wins either way. */
static inline void fuzz_init(bool host_driver)
{
   setenv("VK_DRIVER_FILES",
          host_driver ? "/usr/share/vulkan/icd.d/lvp_icd.json"
                      : "/nonexistent/venusd-fuzz-no-driver.json",
          0);
   /* The loader reads every layer manifest it finds at each vkCreateInstance, failed or
    * not, and the inputs call it often: that cost two thirds of a fuzz_ring input.  No
    * layer is the subject here, so none is looked for or loaded (VK_LOADER_LAYERS_DISABLE
    * needs loader 1.3.234, Debian 12 has 1.3.239; the XDG variables cover older ones and
    * the directories the loader would still list).  The shader cache is off so that an
    * input does not depend on what earlier inputs compiled. */
   setenv("VK_LOADER_LAYERS_DISABLE", "~all~", 0);
   static const char *const xdg[] = { "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME",
                                      "XDG_DATA_DIRS" };
   for (unsigned i = 0; i < sizeof(xdg) / sizeof(xdg[0]); i++)
      setenv(xdg[i], "/nonexistent/venusd-fuzz", 0);
   setenv("MESA_SHADER_CACHE_DISABLE", "true", 0);
   if (getenv("VENUSD_LOG")) {
      vd_log_init_from_env();
      return;
   }
   for (int i = 0; i < VD_CAT_COUNT; i++)
      vd_log_levels[i] = -1;
}

/* With VENUSD_FUZZ_CPU_LOCKS=DIR (fuzz/campaign.sh sets it), a fuzzing process takes the
 * first CPU of its affinity mask that no other process holds (an flock on DIR/cpuN, held
 * until it exits) and keeps itself and every thread it starts later on that CPU: the
 * targets start and end threads on every input, and under ASan each thread's exit unmaps
 * its state, a TLB shootdown sent to every CPU the process ran on; on one CPU it stays
 * local, and handing work between the harness and venusd's threads costs no cross-CPU
 * wake-up (fuzz_render_server: half the CPU time per input).  libFuzzer's -fork supervisor
 * and merge processes (argv has -fork=N or -merge_inner) take no CPU. */
static inline void fuzz_pin_cpu(int argc, char **argv)
{
   const char *dir = getenv("VENUSD_FUZZ_CPU_LOCKS");
   if (!dir)
      return;
   for (int i = 1; i < argc; i++) {
      if ((!strncmp(argv[i], "-fork=", 6) && atoi(argv[i] + 6) > 0) ||
          !strncmp(argv[i], "-merge_inner", 12) || !strncmp(argv[i], "-merge=", 7))
         return;
   }
   cpu_set_t allowed;
   if (sched_getaffinity(0, sizeof(allowed), &allowed))
      return;
   for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
      if (!CPU_ISSET(cpu, &allowed))
         continue;
      char path[4096];
      snprintf(path, sizeof(path), "%s/cpu%d", dir, cpu);
      const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
         return;
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
         cpu_set_t one;
         CPU_ZERO(&one);
         CPU_SET(cpu, &one);
         sched_setaffinity(0, sizeof(one), &one);
         return; /* fd stays open: the lock lives as long as the process */
      }
      close(fd);
   }
}

/* Creates one host Vulkan instance that lives until the process exits, so that the driver
 * stays loaded between inputs even if the loader would unload it with an input's last
 * instance (loading lavapipe and LLVM took about 0.9 s here).  Nothing of it is visible to
 * the contexts the inputs make.  Without a driver it fails, and nothing is pinned (nothing
 * needs to be). */
static inline void fuzz_pin_driver(void)
{
   PFN_vkGetInstanceProcAddr gipa = vd_loader_get_instance_proc_addr();
   if (!gipa)
      return;
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
   if (!create)
      return;
   const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                                   .pApplicationName = "venusd-fuzz-pin",
                                   .apiVersion = VK_API_VERSION_1_1 };
   const VkInstanceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                       .pApplicationInfo = &app };
   static VkInstance pinned;
   if (create(&info, NULL, &pinned) != VK_SUCCESS)
      return;
   /* The physical devices too: the driver sets its device up on first enumeration. */
   PFN_vkEnumeratePhysicalDevices enumerate =
      (PFN_vkEnumeratePhysicalDevices)gipa(pinned, "vkEnumeratePhysicalDevices");
   uint32_t count = 0;
   if (enumerate)
      enumerate(pinned, &count, NULL);
}

/* Receives whatever is waiting on sock without blocking and throws it away, closing any fds
 * that came with it.  Returns false at end of stream or on an error. */
static inline bool fuzz_drain(int sock, int flags)
{
   for (;;) {
      char buf[4096];
      union {
         char buf[CMSG_SPACE(16 * sizeof(int))];
         struct cmsghdr align;
      } u;
      struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
      struct msghdr msg = {
         .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
      };
      const ssize_t n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
         continue;
      if (n < 0)
         return errno == EAGAIN || errno == EWOULDBLOCK;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
         if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
         const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
         for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            close(fd);
         }
      }
      if (n == 0)
         return false;
      if (flags & MSG_DONTWAIT)
         continue;
      return true;
   }
}

/* A persistent thread that reads and throws away what a slow input's server sends to the
 * harness's socket, so that the server never blocks on a full socket; fast inputs never
 * wake it.  It looks every DRAIN_TICK_NS: a socket watched at two ticks in a row (an
 * input running for more than a tick) is drained until it is unwatched. */
#define DRAIN_TICK_NS 1000000u

struct fuzz_drainer {
   pthread_mutex_t mutex;
   pthread_cond_t cond;
   int fd;        /* the watched socket, -1: none */
   uint64_t gen;  /* counts fuzz_drainer_watch calls */
   bool draining; /* the thread is reading fd */
};

static inline void *fuzz_drainer_main(void *arg)
{
   struct fuzz_drainer *d = arg;
   uint64_t seen = 0;
   for (;;) {
      const struct timespec tick = { 0, DRAIN_TICK_NS };
      nanosleep(&tick, NULL);
      pthread_mutex_lock(&d->mutex);
      const int fd = d->fd;
      const uint64_t gen = d->gen;
      const bool slow = fd >= 0 && gen == seen;
      seen = gen;
      if (!slow) {
         pthread_mutex_unlock(&d->mutex);
         continue;
      }
      d->draining = true;
      pthread_mutex_unlock(&d->mutex);
      bool open = true;
      for (;;) {
         struct pollfd pfd = { .fd = fd, .events = POLLIN };
         /* After the end of the stream only the unwatch is waited for. */
         poll(&pfd, open ? 1 : 0, 1);
         if (open && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            open = fuzz_drain(fd, MSG_DONTWAIT);
         pthread_mutex_lock(&d->mutex);
         const bool still = d->fd == fd && d->gen == gen;
         if (!still) {
            d->draining = false;
            pthread_cond_broadcast(&d->cond);
         }
         pthread_mutex_unlock(&d->mutex);
         if (!still)
            break;
      }
   }
   return NULL;
}

static inline void fuzz_drainer_start(struct fuzz_drainer *d)
{
   pthread_mutex_init(&d->mutex, NULL);
   pthread_cond_init(&d->cond, NULL);
   d->fd = -1;
   pthread_t thread;
   if (pthread_create(&thread, NULL, fuzz_drainer_main, d))
      abort();
   pthread_detach(thread);
}

/* From now on, fd is drained if the input runs for more than a tick. */
static inline void fuzz_drainer_watch(struct fuzz_drainer *d, int fd)
{
   pthread_mutex_lock(&d->mutex);
   d->fd = fd;
   d->gen++;
   pthread_mutex_unlock(&d->mutex);
}

/* Stops watching; returns once the thread no longer reads the socket (it may be closed). */
static inline void fuzz_drainer_unwatch(struct fuzz_drainer *d)
{
   pthread_mutex_lock(&d->mutex);
   d->fd = -1;
   while (d->draining)
      pthread_cond_wait(&d->cond, &d->mutex);
   pthread_mutex_unlock(&d->mutex);
}

#endif
