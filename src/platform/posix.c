/* The POSIX.1-2008 platform layer (platform.h): what venusd uses where Linux's own calls
 * (memfd, eventfd, signalfd, prctl, accept4) do not exist, as on macOS.  Built on Linux by
 * -Dplatform=posix without _GNU_SOURCE, so that a Linux-only call does not compile. */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vd_platform_name(void)
{
   return "posix";
}

static bool set_cloexec_nonblock(int fd, bool nonblock)
{
   const int fl = fcntl(fd, F_GETFL);
   return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
          (!nonblock || (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0));
}

int vd_platform_shm_create(const char *name)
{
   (void)name;
   static unsigned counter;
   for (int tries = 0; tries < 16; tries++) {
      char path[64];
      snprintf(path, sizeof(path), "/venusd-%ld-%u", (long)getpid(),
               __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
      /* shm_open's O_CLOEXEC is implied by POSIX ("FD_CLOEXEC is set"). */
      const int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
      if (fd >= 0) {
         shm_unlink(path);
         return fd;
      }
      if (errno != EEXIST)
         return -errno;
   }
   return -EEXIST;
}

bool vd_wake_open(struct vd_wake *w)
{
   int p[2];
   w->rd = w->wr = -1;
   if (pipe(p) < 0)
      return false;
   if (!set_cloexec_nonblock(p[0], true) || !set_cloexec_nonblock(p[1], true)) {
      const int err = errno;
      close(p[0]);
      close(p[1]);
      errno = err;
      return false;
   }
   w->rd = p[0];
   w->wr = p[1];
   return true;
}

void vd_wake_signal(int wr)
{
   const char one = 1;
   /* A full pipe (EAGAIN) is already readable: nothing is lost. */
   while (write(wr, &one, 1) < 0 && errno == EINTR)
      ;
}

void vd_wake_drain(int rd)
{
   char buf[64];
   for (;;) {
      const ssize_t n = read(rd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
         continue;
      if (n < (ssize_t)sizeof(buf))
         return;
   }
}

void vd_wake_close(struct vd_wake *w)
{
   if (w->rd >= 0)
      close(w->rd);
   if (w->wr >= 0 && w->wr != w->rd)
      close(w->wr);
   w->rd = w->wr = -1;
}

pid_t vd_platform_peer_pid(int fd)
{
   /* Spec gap: POSIX has no peer-credential call (macOS has LOCAL_PEERPID, the BSDs
    * getpeereid without a pid), so the peer is "unknown". */
   (void)fd;
   return 0;
}

int vd_platform_accept(int listen_fd)
{
   const int fd = accept(listen_fd, NULL, NULL);
   if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      const int err = errno;
      close(fd);
      errno = err;
      return -1;
   }
   /* An accepted socket may inherit O_NONBLOCK on some systems: clients expect blocking. */
   const int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
   if (fl >= 0 && (fl & O_NONBLOCK))
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
   return fd;
}

ssize_t vd_platform_recvmsg(int sock, struct msghdr *msg)
{
   const ssize_t n = recvmsg(sock, msg, 0);
   if (n < 0)
      return n;
   /* No MSG_CMSG_CLOEXEC: set it on every received fd at once (a fork in between, by
    * another thread, could still inherit one). */
   for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < nfds; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
         fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
   }
   return n;
}

/* The self-pipe: handlers write the signal's number; only the process that opened it. */
static int sig_pipe[2] = { -1, -1 };
static pid_t sig_owner;

static void sig_handler(int sig)
{
   const int saved = errno;
   if (getpid() != sig_owner) {
      /* A forked child that has not reset its handlers yet: default action. */
      signal(sig, SIG_DFL);
      raise(sig);
   } else {
      const unsigned char b = (unsigned char)sig;
      (void)!write(sig_pipe[1], &b, 1);
   }
   errno = saved;
}

int vd_signals_open(const sigset_t *mask)
{
   if (sig_pipe[0] < 0) {
      if (pipe(sig_pipe) < 0)
         return -1;
      if (!set_cloexec_nonblock(sig_pipe[0], true) || !set_cloexec_nonblock(sig_pipe[1], true))
         return -1;
   }
   sig_owner = getpid();
   struct sigaction sa = { .sa_handler = sig_handler, .sa_flags = SA_RESTART };
   sigfillset(&sa.sa_mask);
   for (int sig = 1; sig < 32; sig++) {
      if (sigismember(mask, sig) == 1 && sigaction(sig, &sa, NULL) < 0)
         return -1;
   }
   /* The handlers must be able to run: unblock the signals here (threads started later
    * inherit this thread's mask). */
   if (pthread_sigmask(SIG_UNBLOCK, mask, NULL) != 0)
      return -1;
   return sig_pipe[0];
}

int vd_signals_next(int fd)
{
   unsigned char b;
   ssize_t n;
   do
      n = read(fd, &b, 1);
   while (n < 0 && errno == EINTR);
   return n == 1 ? b : 0;
}

static pid_t watched_parent;

static void *parent_watch(void *arg)
{
   (void)arg;
   const struct timespec nap = { 0, 100 * 1000000 };
   while (getppid() == watched_parent)
      nanosleep(&nap, NULL);
   kill(getpid(), SIGKILL);
   return NULL;
}

void vd_platform_die_with_parent(pid_t parent)
{
   if (getppid() != parent)
      _exit(0);
   /* No PR_SET_PDEATHSIG: a thread notices re-parenting within 100 ms. */
   watched_parent = parent;
   pthread_t t;
   if (pthread_create(&t, NULL, parent_watch, NULL) == 0)
      pthread_detach(t);
}

void vd_platform_child_subreaper(void)
{
   /* Linux only: orphaned grandchildren go to init instead. */
}

int vd_platform_join_timed(pthread_t t, const struct timespec *deadline,
                           bool (*finished)(void *arg), void *arg)
{
   /* No pthread_timedjoin_np: wait for the thread's own "finished" flag, then join. */
   const struct timespec nap = { 0, 5 * 1000000 };
   for (;;) {
      if (finished(arg)) {
         pthread_join(t, NULL);
         return 0;
      }
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      if (now.tv_sec > deadline->tv_sec ||
          (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec))
         return ETIMEDOUT;
      nanosleep(&nap, NULL);
   }
}

void vd_platform_timer_slack(void)
{
}

void vd_platform_thread_name(const char *name)
{
   (void)name; /* POSIX has no call for it (pthread_setname_np differs per system) */
}

void *vd_platform_map_reserve(size_t size)
{
   /* MAP_ANONYMOUS is POSIX 2024, not 2008: a private mapping of /dev/zero. */
   const int fd = open("/dev/zero", O_RDONLY);
   if (fd < 0)
      return MAP_FAILED;
   void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE, fd, 0);
   close(fd);
   return p;
}

bool vd_platform_symbol_file(void *addr, char *buf, size_t size)
{
   /* dladdr is an extension (macOS has it, but not under POSIX): the path is unknown. */
   (void)addr;
   (void)buf;
   (void)size;
   return false;
}
