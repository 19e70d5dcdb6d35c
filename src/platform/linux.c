/* The Linux platform layer (platform.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "platform.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

const char *vd_platform_name(void)
{
   return "linux";
}

int vd_platform_shm_create(const char *name)
{
   int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
   return fd < 0 ? -errno : fd;
}

bool vd_wake_open(struct vd_wake *w)
{
   w->rd = w->wr = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   return w->rd >= 0;
}

void vd_wake_signal(int wr)
{
   const uint64_t one = 1;
   while (write(wr, &one, sizeof(one)) < 0 && errno == EINTR)
      ;
}

void vd_wake_drain(int rd)
{
   uint64_t v;
   while (read(rd, &v, sizeof(v)) < 0 && errno == EINTR)
      ;
}

void vd_wake_close(struct vd_wake *w)
{
   if (w->rd >= 0)
      close(w->rd);
   w->rd = w->wr = -1;
}

pid_t vd_platform_peer_pid(int fd)
{
   struct ucred cred;
   socklen_t len = sizeof(cred);
   if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred) &&
       cred.pid > 0)
      return cred.pid;
   return 0;
}

int vd_platform_accept(int listen_fd)
{
   return accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

ssize_t vd_platform_recvmsg(int sock, struct msghdr *msg)
{
   return recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
}

int vd_signals_open(const sigset_t *mask)
{
   return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int vd_signals_next(int fd)
{
   struct signalfd_siginfo si;
   ssize_t n;
   do
      n = read(fd, &si, sizeof(si));
   while (n < 0 && errno == EINTR);
   return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

void vd_platform_die_with_parent(pid_t parent)
{
   prctl(PR_SET_PDEATHSIG, SIGKILL);
   if (getppid() != parent)
      _exit(0);
}

void vd_platform_child_subreaper(void)
{
   prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int vd_platform_join_timed(pthread_t t, const struct timespec *deadline,
                           bool (*finished)(void *arg), void *arg)
{
   (void)finished;
   (void)arg;
   return pthread_timedjoin_np(t, NULL, deadline);
}

void vd_platform_timer_slack(void)
{
   prctl(PR_SET_TIMERSLACK, 1000ul); /* naps of tens of µs, not the default 50 µs slack */
}

void vd_platform_thread_name(const char *name)
{
   prctl(PR_SET_NAME, (unsigned long)name, 0ul, 0ul, 0ul);
}

void *vd_platform_map_reserve(size_t size)
{
   return mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

bool vd_platform_symbol_file(void *addr, char *buf, size_t size)
{
   Dl_info info = { 0 };
   if (!dladdr(addr, &info) || !info.dli_fname)
      return false;
   snprintf(buf, size, "%s", info.dli_fname);
   return true;
}
