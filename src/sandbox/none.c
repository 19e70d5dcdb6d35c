/* The sandbox on platforms without seccomp (-Dplatform=posix): nothing is confined, as if
 * every worker ran with --no-sandbox (sandbox.h).  README, "The POSIX build", says so. */
#include "sandbox/sandbox.h"

#include <stdio.h>

struct vd_sandbox_report *vd_sandbox_report_create(bool enabled)
{
   (void)enabled;
   return NULL;
}

void vd_sandbox_report_destroy(struct vd_sandbox_report *report)
{
   (void)report;
}

void vd_sandbox_arm(struct vd_sandbox_report *report, uint32_t ctx_id, bool enabled)
{
   (void)report;
   (void)ctx_id;
   (void)enabled;
}

bool vd_sandbox_device_created(uint32_t ctx_id, const char *ctx_name)
{
   (void)ctx_id;
   (void)ctx_name;
   return true;
}

bool vd_sandbox_enter(char *err, size_t err_size)
{
   snprintf(err, err_size,
            "this venusd was built with -Dplatform=posix, which has no sandbox (seccomp is "
            "Linux only): run it with --no-sandbox, or build with -Dplatform=linux");
   return false;
}

bool vd_sandbox_describe_exit(const struct vd_sandbox_report *report, int status, char *buf,
                              size_t size)
{
   (void)report;
   (void)status;
   (void)buf;
   (void)size;
   return false;
}

bool vd_sandbox_describe_helper(const struct vd_sandbox_report *report, int status, char *buf,
                                size_t size)
{
   (void)report;
   (void)status;
   (void)buf;
   (void)size;
   return false;
}

const char *vd_sandbox_syscall_name(long nr)
{
   (void)nr;
   return "unknown";
}
