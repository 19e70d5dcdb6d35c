/* The worker sandbox on Linux: a classic-BPF seccomp filter, see sandbox.h.
 *
 * The filter, in order:
 *   1. a system call of another architecture (or ABI) kills the process outright;
 *   2. clone with a namespace flag, and ioctl TIOCSTI / TIOCLINUX (typing into the
 *      terminal venusd's stderr may be), trap; clone3, whose flags a filter cannot read,
 *      fails with ENOSYS so that glibc falls back to clone, whose flags it can;
 *   3. the calls in allowed[] are allowed;
 *   4. everything else traps: SIGSYS, and the worker dies (sigsys_handler).
 *
 * What it does not restrict: file access.  lavapipe, LLVM and the loader open files under
 * /sys, /proc and /usr at run time, and venusd maps memfds, so openat stays allowed; what
 * a worker can read and write is what the user running venusd can.  What it takes away:
 * running programs, new sockets, namespaces, ptrace, mounts, kernel modules, BPF, keyrings,
 * io_uring, and the rest of the ~300 calls the driver never makes. */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

#if defined(__x86_64__)
#define VD_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define VD_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* si_code of a SIGSYS raised by SECCOMP_RET_TRAP (the kernel's asm-generic/siginfo.h,
 * which clashes with glibc's <signal.h>; glibc 2.36 does not define it). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Sanitizer builds: see extra_sanitizer[]. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VD_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VD_SANITIZER_BUILD 1
#endif
#endif

struct vd_sandbox_report {
   atomic_int trapped; /* 1 once sigsys_handler stored nr */
   atomic_long nr;
};

/* -- the system call tables ---------------------------------------------------------- */

struct sc_entry {
   long nr;
   const char *name;
};

#define SC(n)      \
   {               \
      __NR_##n, #n \
   }

/* What a sandboxed worker may call: venusd's own loops (sockets it already has, eventfds,
 * memfds, futexes, threads) and what lavapipe, LLVM's JIT, Mesa's disk-cache thread and
 * glibc do after device creation.  Checked by running tests/apps, the real apps
 * (test_real_apps.sh), the render-server tests and test_sandbox.sh under the filter with
 * no worker killed; a call missing here shows up as a "killed by the sandbox" log line
 * naming it.  Calls that only some architectures have are under #ifdef. */
static const struct sc_entry allowed[] = {
   /* memory: mappings, the JIT's executable pages, venusd's memfd blobs */
   SC(brk),
   SC(mmap),
   SC(munmap),
   SC(mremap),
   SC(mprotect),
   SC(madvise),
   SC(mincore),
   SC(membarrier),
   SC(memfd_create),
   SC(ftruncate),
   SC(fallocate),
   /* file descriptors venusd and the driver already hold or open read-mostly */
   SC(read),
   SC(write),
   SC(readv),
   SC(writev),
   SC(pread64),
   SC(pwrite64),
   SC(lseek),
   SC(close),
   SC(openat),
   SC(fstat),
   SC(newfstatat),
   SC(statx),
   SC(fstatfs),
   SC(statfs),
   SC(fcntl),
   SC(dup),
   SC(dup3),
   SC(getdents64),
   SC(readlinkat),
   SC(faccessat),
   SC(faccessat2),
   SC(flock),
   /* Mesa's shader disk cache (~/.cache/mesa_shader_cache): lavapipe creates its
    * directories at the first pipeline, writes entries to temporary files it renames into
    * place and evicts old ones (found by the VM test, whose render server starts with an
    * empty cache).  File access is not confined anyway (see the header). */
   SC(mkdirat),
   SC(renameat),
   SC(renameat2),
   SC(unlinkat),
   SC(utimensat),
   SC(fchmod),
   SC(fsync),
   SC(fdatasync),
   SC(getcwd),
   SC(umask),
   SC(eventfd2),
   SC(pipe2),
   SC(ioctl),
#ifdef __NR_open
   SC(open),
   SC(mkdir),
   SC(rename),
   SC(unlink),
   SC(stat),
   SC(lstat),
   SC(access),
   SC(readlink),
   SC(dup2),
   SC(pipe),
   SC(eventfd),
#endif
   /* the client socket and SCM_RIGHTS */
   SC(sendmsg),
   SC(recvmsg),
   SC(sendto),
   SC(recvfrom),
   SC(shutdown),
   SC(getsockopt),
   SC(getsockname),
   SC(ppoll),
   SC(pselect6),
   SC(epoll_pwait),
#ifdef __NR_poll
   SC(poll),
   SC(select),
   SC(epoll_wait),
#endif
   /* threads and synchronization (clone: see build_filter) */
   SC(futex),
   SC(set_robust_list),
   SC(get_robust_list),
   SC(rseq),
   SC(set_tid_address),
   SC(sched_yield),
   SC(sched_getaffinity),
   SC(sched_setaffinity),
   SC(sched_getparam),
   SC(sched_getscheduler),
   SC(sched_setscheduler),
   SC(sched_get_priority_max),
   SC(sched_get_priority_min),
   SC(getpriority),
   SC(setpriority),
   SC(prctl),
   SC(exit),
   SC(exit_group),
#ifdef __NR_arch_prctl
   SC(arch_prctl),
#endif
#ifdef __NR_futex_waitv
   SC(futex_waitv),
#endif
   /* signals: glibc's, the SIGSYS handler's raise(), venusd's own SIGKILL to nobody else */
   SC(rt_sigaction),
   SC(rt_sigprocmask),
   SC(rt_sigreturn),
   SC(rt_sigtimedwait),
   SC(sigaltstack),
   SC(tgkill),
   SC(restart_syscall),
   /* time and identity */
   SC(clock_gettime),
   SC(clock_getres),
   SC(clock_nanosleep),
   SC(nanosleep),
   SC(gettimeofday),
   SC(getpid),
   SC(gettid),
   SC(getppid),
   SC(getuid),
   SC(geteuid),
   SC(getgid),
   SC(getegid),
   SC(getresuid),
   SC(getresgid),
   SC(uname),
   SC(sysinfo),
   SC(getrlimit),
   SC(prlimit64),
   SC(getrusage),
   SC(times),
   SC(getrandom),
};

/* Sanitizer builds only: ASan's report symbolizer runs llvm-symbolizer (fork + execve +
 * wait4), and LeakSanitizer's exit-time check stops the threads with ptrace from a clone
 * of the process, which lists /proc/PID/task with the old getdents on x86_64.  A
 * sanitizer build is for finding bugs, so its reports win over the sandbox; release
 * builds never allow these. */
#ifdef VD_SANITIZER_BUILD
static const struct sc_entry extra_sanitizer[] = {
   SC(ptrace), SC(wait4), SC(waitid),   SC(execve), SC(kill), SC(setsid), SC(setpgid),
#ifdef __NR_fork
   SC(fork),   SC(vfork), SC(getdents),
#endif
};
#endif

/* Calls that are never allowed, listed only so that the parent's log can name them. */
static const struct sc_entry named_only[] = {
   SC(socket),
   SC(socketpair),
   SC(connect),
   SC(bind),
   SC(listen),
   SC(accept4),
   SC(execve),
   SC(execveat),
   SC(ptrace),
   SC(process_vm_readv),
   SC(process_vm_writev),
   SC(mount),
   SC(umount2),
   SC(pivot_root),
   SC(chroot),
   SC(unshare),
   SC(setns),
   SC(clone3),
   SC(bpf),
   SC(perf_event_open),
   SC(init_module),
   SC(finit_module),
   SC(delete_module),
   SC(kexec_load),
   SC(reboot),
   SC(swapon),
   SC(swapoff),
   SC(keyctl),
   SC(add_key),
   SC(request_key),
   SC(userfaultfd),
   SC(io_uring_setup),
   SC(io_uring_enter),
   SC(io_uring_register),
   SC(kill),
   SC(tkill),
   SC(wait4),
   SC(waitid),
   SC(setuid),
   SC(setgid),
   SC(setresuid),
   SC(setresgid),
   SC(capset),
   SC(chdir),
   SC(fchdir),
   SC(mkdirat),
   SC(unlinkat),
   SC(renameat),
   SC(linkat),
   SC(symlinkat),
   SC(fchmod),
   SC(fchmodat),
   SC(fchown),
   SC(fchownat),
   SC(truncate),
   SC(mknodat),
   SC(setsid),
   SC(setpgid),
   SC(personality),
   SC(seccomp),
   SC(pidfd_open),
   SC(pidfd_getfd),
   SC(pidfd_send_signal),
   SC(open_by_handle_at),
   SC(name_to_handle_at),
   SC(fanotify_init),
   SC(inotify_init1),
   SC(timerfd_create),
   SC(signalfd4),
   SC(accept),
   SC(epoll_create1),
   SC(mlock),
   SC(mlockall),
   SC(mbind),
   SC(migrate_pages),
   SC(move_pages),
   SC(syslog),
   SC(acct),
   SC(quotactl),
   SC(settimeofday),
   SC(clock_settime),
   SC(adjtimex),
   SC(sethostname),
   SC(setdomainname),
   SC(vhangup),
   SC(clone),
#ifdef __NR_fork
   SC(fork),
   SC(vfork),
   SC(unlink),
   SC(rename),
   SC(mkdir),
   SC(rmdir),
   SC(creat),
   SC(link),
   SC(symlink),
   SC(chmod),
   SC(chown),
   SC(iopl),
   SC(ioperm),
   SC(getdents),
#endif
};

#undef SC

const char *vd_sandbox_syscall_name(long nr)
{
   for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
      if (allowed[i].nr == nr)
         return allowed[i].name;
   }
   for (size_t i = 0; i < sizeof(named_only) / sizeof(named_only[0]); i++) {
      if (named_only[i].nr == nr)
         return named_only[i].name;
   }
   return "unknown";
}

/* -- the report page and the SIGSYS handler ------------------------------------------ */

static struct vd_sandbox_report *worker_report; /* this worker's, or NULL */
static bool worker_armed, worker_entered;

struct vd_sandbox_report *vd_sandbox_report_create(bool enabled)
{
#ifdef VD_AUDIT_ARCH
   if (!enabled)
      return NULL;
   void *p = mmap(NULL, sizeof(struct vd_sandbox_report), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
   if (p == MAP_FAILED) {
      vd_warn(VD_CAT_MAIN,
              "sandbox: cannot map the page a worker reports a forbidden "
              "system call in (%s): such a call will be logged without its name",
              strerror(errno));
      return NULL;
   }
   return p;
#else
   return NULL;
#endif
}

void vd_sandbox_report_destroy(struct vd_sandbox_report *report)
{
   if (report)
      munmap(report, sizeof(*report));
}

/* Async-signal-safe: stores the call and dies of SIGSYS (SA_RESETHAND made the action the
 * default one, SA_NODEFER left the signal unblocked), which kills every thread. */
static void sigsys_handler(int sig, siginfo_t *info, void *ucontext)
{
   (void)ucontext;
   if (worker_report && info->si_code == SYS_SECCOMP) {
      atomic_store(&worker_report->nr, (long)info->si_syscall);
      atomic_store(&worker_report->trapped, 1);
   }
   raise(sig);
   _exit(128 + sig);
}

/* Writes "forbidden system call NAME (nr N)" into buf if the report holds a call. */
static bool describe_trap(const struct vd_sandbox_report *report, char *buf, size_t size)
{
   struct vd_sandbox_report *r = (struct vd_sandbox_report *)report;
   if (!r || !atomic_load(&r->trapped))
      return false;
   const long nr = atomic_load(&r->nr);
   snprintf(buf, size, "forbidden system call %s (nr %ld)", vd_sandbox_syscall_name(nr), nr);
   return true;
}

bool vd_sandbox_describe_exit(const struct vd_sandbox_report *report, int status, char *buf,
                              size_t size)
{
   if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
      return false;
   if (!describe_trap(report, buf, size))
      snprintf(buf, size, "SIGSYS, the sandbox's signal (which system call is unknown)");
   return true;
}

bool vd_sandbox_describe_helper(const struct vd_sandbox_report *report, int status, char *buf,
                                size_t size)
{
   if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
      return false;
   return describe_trap(report, buf, size);
}

/* -- the filter ---------------------------------------------------------------------- */

#ifdef VD_AUDIT_ARCH

struct prog {
   struct sock_filter insns[512];
   unsigned len;
};

static void emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
   if (p->len < sizeof(p->insns) / sizeof(p->insns[0]))
      p->insns[p->len] = (struct sock_filter){ code, jt, jf, k };
   p->len++;
}

/* A = the low 32 bits of argument `i` (both architectures are little-endian). */
static void emit_load_arg(struct prog *p, unsigned i)
{
   emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, args[i]));
}

static void emit_allow_list(struct prog *p, const struct sc_entry *list, size_t n)
{
   for (size_t i = 0; i < n; i++) {
      emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)list[i].nr);
      emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
   }
}

#define NAMESPACE_FLAGS                                                                          \
   (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
    CLONE_NEWNET)

/* Returns false if the program does not fit. */
static bool build_filter(struct prog *p)
{
   p->len = 0;
   /* 1. the architecture: another one's numbers mean other calls.  (x86_64's x32 calls,
    * numbered from 0x40000000, match no entry below and trap.) */
   emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, arch));
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, VD_AUDIT_ARCH);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
   emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr));
   /* 2a. clone: threads and (sanitizer builds) helper processes, never namespaces.  The
    * branches below return, so A holding an argument afterwards does not matter. */
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, __NR_clone);
   emit_load_arg(p, 0);
   emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, NAMESPACE_FLAGS);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
   /* 2b. clone3 passes its flags in memory the filter cannot read: ENOSYS, which glibc's
    * pthread_create answers by using clone. */
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, __NR_clone3);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
   /* 2c. ioctl: anything but pushing input into a terminal. */
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, __NR_ioctl);
   emit_load_arg(p, 1);
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, TIOCSTI);
   emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, TIOCLINUX);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP);
   /* 3. the allow list */
   emit_allow_list(p, allowed, sizeof(allowed) / sizeof(allowed[0]));
#ifdef VD_SANITIZER_BUILD
   emit_allow_list(p, extra_sanitizer, sizeof(extra_sanitizer) / sizeof(extra_sanitizer[0]));
#endif
   /* 4. everything else */
   emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP);
   return p->len <= sizeof(p->insns) / sizeof(p->insns[0]);
}

bool vd_sandbox_enter(char *err, size_t err_size)
{
   static struct prog prog;
   if (!build_filter(&prog)) {
      snprintf(err, err_size,
               "the seccomp filter has %u instructions, more than venusd's "
               "limit of %zu (a venusd bug: raise it in sandbox/seccomp.c)",
               prog.len, sizeof(prog.insns) / sizeof(prog.insns[0]));
      return false;
   }
   struct sigaction sa = { .sa_sigaction = sigsys_handler,
                           .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER };
   sigemptyset(&sa.sa_mask);
   if (sigaction(SIGSYS, &sa, NULL) < 0) {
      snprintf(err, err_size, "sigaction(SIGSYS) failed: %s", strerror(errno));
      return false;
   }
   if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
      snprintf(err, err_size, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s", strerror(errno));
      return false;
   }
   const struct sock_fprog fprog = { .len = (unsigned short)prog.len, .filter = prog.insns };
   /* TSYNC: the context's ring threads and the driver's threads exist already. */
   const long ret =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
   if (ret != 0) {
      if (ret > 0)
         snprintf(err, err_size,
                  "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) could not apply "
                  "the filter to thread %ld",
                  ret);
      else
         snprintf(err, err_size,
                  "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) failed: %s (a "
                  "kernel without CONFIG_SECCOMP_FILTER, or a container that forbids it)",
                  strerror(errno));
      return false;
   }
   return true;
}

#else /* !VD_AUDIT_ARCH */

bool vd_sandbox_enter(char *err, size_t err_size)
{
   snprintf(err, err_size, "venusd has no seccomp filter for this architecture");
   return false;
}

#endif

/* -- the worker's side --------------------------------------------------------------- */

void vd_sandbox_arm(struct vd_sandbox_report *report, uint32_t ctx_id, bool enabled)
{
   if (!enabled)
      return;
#ifdef VD_AUDIT_ARCH
   worker_report = report;
   worker_armed = true;
#ifdef VD_SANITIZER_BUILD
   vd_info(VD_CAT_MAIN,
           "context %u: sandbox on: system calls limited once the first "
           "VkDevice exists (sanitizer build: fork, execve, wait4 and ptrace allowed for the "
           "sanitizer's reports)",
           ctx_id);
#else
   vd_info(VD_CAT_MAIN,
           "context %u: sandbox on: system calls limited once the first "
           "VkDevice exists",
           ctx_id);
#endif
#else
   vd_warn(VD_CAT_MAIN,
           "context %u: not sandboxed: venusd has no seccomp filter for this "
           "architecture",
           ctx_id);
#endif
}

/* VENUSD_TEST_FORBIDDEN_SYSCALL=NAME (or "*"): a context whose client process is NAME
 * makes a forbidden call right after entering the sandbox, so that the tests can see a
 * worker die of it (tests/integration/test_sandbox.sh).  It can only kill the worker the
 * user's own environment asked to kill. */
static void test_forbidden_syscall(uint32_t ctx_id, const char *ctx_name)
{
   const char *want = getenv("VENUSD_TEST_FORBIDDEN_SYSCALL");
   if (!want || !*want || (strcmp(want, "*") && (!ctx_name || strcmp(want, ctx_name))))
      return;
   vd_info(VD_CAT_MAIN, "context %u: VENUSD_TEST_FORBIDDEN_SYSCALL: calling chroot()", ctx_id);
   /* A path that does not exist: harmless where the sandbox is off. */
   syscall(SYS_chroot, "/nonexistent/venusd-sandbox-test");
}

bool vd_sandbox_device_created(uint32_t ctx_id, const char *ctx_name)
{
   if (!worker_armed || worker_entered)
      return true;
   char err[256];
   if (!vd_sandbox_enter(err, sizeof(err))) {
      vd_err(VD_CAT_MAIN,
             "context %u: cannot enter the worker sandbox: %s; failing "
             "vkCreateDevice so the worker does not run unconfined.  Run venusd with "
             "--no-sandbox to serve clients without it",
             ctx_id, err);
      return false;
   }
   worker_entered = true;
   vd_dbg(VD_CAT_MAIN, "context %u: sandbox entered", ctx_id);
   test_forbidden_syscall(ctx_id, ctx_name);
   return true;
}
