/* The worker sandbox: a seccomp filter that limits a worker process to the system calls
 * venusd and the host Vulkan driver need once the context's first VkDevice exists.
 *
 * Life of one process worker (transport/vtest.c, transport/render_server.c):
 *   parent: r = vd_sandbox_report_create(on)     before fork(); NULL when --no-sandbox
 *   worker: vd_sandbox_arm(r, id, on)            right after fork()
 *   worker: vd_sandbox_device_created(...)       vk/device.c, after each host vkCreateDevice:
 *                                                the first one installs the filter
 *   parent: vd_sandbox_describe_exit(r, status)  after waitpid(): names the forbidden call
 *           vd_sandbox_report_destroy(r)
 *
 * A forbidden call raises SIGSYS (SECCOMP_RET_TRAP); the worker's handler stores the call's
 * number in the report page it shares with its parent and dies of SIGSYS, so the parent
 * can log which call it was.  Thread workers are never sandboxed: a filter would confine
 * the whole server (see docs/design.md, "The worker sandbox"). */
#ifndef VD_SANDBOX_SANDBOX_H
#define VD_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One page of shared memory between a parent and one worker. */
struct vd_sandbox_report;

/* Parent, before fork(): NULL when the sandbox is off (--no-sandbox, or a platform
 * without seccomp) or the page cannot be mapped (then logs why and the worker is
 * sandboxed without the report: the parent still sees SIGSYS, only not the call). */
struct vd_sandbox_report *vd_sandbox_report_create(bool enabled);
void vd_sandbox_report_destroy(struct vd_sandbox_report *report);

/* Worker, after fork(): the sandbox is entered when the worker's first VkDevice exists.
 * Does nothing when --no-sandbox is given.  `ctx_id` is for the log line. */
void vd_sandbox_arm(struct vd_sandbox_report *report, uint32_t ctx_id, bool enabled);

/* vk/device.c, after a host vkCreateDevice succeeded: enters the sandbox if this worker
 * was armed and has not entered it yet.  Returns false (the reason logged) when the
 * filter could not be installed: the caller fails the device creation, since a worker
 * that was meant to be confined must not go on unconfined.  `ctx_name` is the client's
 * process name, for the test hook VENUSD_TEST_FORBIDDEN_SYSCALL. */
bool vd_sandbox_device_created(uint32_t ctx_id, const char *ctx_name);

/* Installs the filter in the calling process (all its threads).  On failure returns false
 * and writes what failed and what to do into err. */
bool vd_sandbox_enter(char *err, size_t err_size);

/* Parent, after waitpid(): if `status` says the worker died of the sandbox's SIGSYS,
 * writes "forbidden system call NAME (nr N)" (or that the call is unknown) into buf and
 * returns true. */
bool vd_sandbox_describe_exit(const struct vd_sandbox_report *report, int status, char *buf,
                              size_t size);

/* Parent, after waitpid(): if the worker did not die of SIGSYS but a process it started
 * (which inherits the filter and the report page: a sanitizer's helper, say) made a
 * forbidden call, describes that call into buf and returns true. */
bool vd_sandbox_describe_helper(const struct vd_sandbox_report *report, int status, char *buf,
                                size_t size);

/* The name of system call `nr` on this architecture, or "unknown". */
const char *vd_sandbox_syscall_name(long nr);

#endif
