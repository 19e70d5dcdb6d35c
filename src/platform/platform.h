/* The platform layer: every call that differs between Linux and other POSIX systems (macOS)
 * lives behind these functions.  linux.c uses memfd, eventfd, signalfd, prctl, accept4 and
 * pthread_timedjoin_np; posix.c uses only POSIX.1-2008 (shm_open, pipes, a self-pipe for
 * signals, getppid polling).  meson's -Dplatform=linux|posix picks one of them.  This is
 * the lowest layer: it includes nothing of venusd's. */
#ifndef VD_PLATFORM_PLATFORM_H
#define VD_PLATFORM_PLATFORM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

/* "linux" or "posix", for logs. */
const char *vd_platform_name(void);

/* A new close-on-exec shared-memory object of size 0 (memfd, sealable; or shm_open then
 * shm_unlink).  Returns the fd or -errno. */
int vd_platform_shm_create(const char *name);

/* A wake-up object: writing to `wr` makes `rd` readable (poll).  On Linux one eventfd
 * (rd == wr), elsewhere a pipe pair.  Both ends are non-blocking and close-on-exec. */
struct vd_wake {
   int rd, wr;
};
bool vd_wake_open(struct vd_wake *w);
void vd_wake_signal(int wr);
void vd_wake_drain(int rd); /* reads until empty */
void vd_wake_close(struct vd_wake *w);

/* The pid of the process at the other end of unix socket `fd`, or 0 when unknown (POSIX
 * has no portable way to ask). */
pid_t vd_platform_peer_pid(int fd);

/* accept() whose new fd is close-on-exec. */
int vd_platform_accept(int listen_fd);

/* recvmsg() whose received fds are close-on-exec. */
ssize_t vd_platform_recvmsg(int sock, struct msghdr *msg);

/* Signals for a server loop.  The caller has blocked `mask` (all threads created later
 * inherit that).  Returns an fd that is readable while one of them is pending, or -1
 * (errno set).  vd_signals_next() returns the next pending signal, 0 when none is left.
 * POSIX: a self-pipe written by handlers; the mask's signals are unblocked again in the
 * calling thread so that the handlers can run. */
int vd_signals_open(const sigset_t *mask);
int vd_signals_next(int fd);

/* In a child of `parent`: die (SIGKILL) when the parent dies, and exit at once if it
 * already has.  POSIX: a thread that polls getppid(); it does not survive exec(), so a
 * spawned worker calls this again. */
void vd_platform_die_with_parent(pid_t parent);

/* Process mode: orphaned grandchildren are re-parented to us (Linux only; no-op). */
void vd_platform_child_subreaper(void);

/* Joins `t` by the absolute CLOCK_REALTIME `deadline`: 0, or ETIMEDOUT.  POSIX has no
 * timed join: it polls finished(arg) (true once the thread is about to return) until the
 * deadline, then joins. */
int vd_platform_join_timed(pthread_t t, const struct timespec *deadline,
                           bool (*finished)(void *arg), void *arg);

/* The calling thread's timer slack for short naps (Linux prctl; no-op elsewhere). */
void vd_platform_timer_slack(void);

/* Names the calling thread (at most 15 characters), as `top -H`, `perf report --sort comm`
 * and /proc/PID/task/TID/comm show it (Linux prctl; no-op elsewhere).  Only threads other
 * than a process's first are named: the process keeps its name for ps and pgrep. */
void vd_platform_thread_name(const char *name);

/* A private PROT_NONE reservation of `size` bytes of address space, or MAP_FAILED.  POSIX
 * 2008 has no MAP_ANONYMOUS: posix.c maps /dev/zero. */
void *vd_platform_map_reserve(size_t size);

/* The file of the loaded library holding `addr` into buf: true, or false when unknown
 * (dladdr is not POSIX; posix.c does not know). */
bool vd_platform_symbol_file(void *addr, char *buf, size_t size);

#endif
