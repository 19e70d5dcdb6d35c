/* Shared by the libFuzzer targets in fuzz/: quiet logging and a drain thread that plays
 * the client's side of a socket. */
#ifndef VD_FUZZ_COMMON_H
#define VD_FUZZ_COMMON_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

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
   if (getenv("VENUSD_LOG")) {
      vd_log_init_from_env();
      return;
   }
   for (int i = 0; i < VD_CAT_COUNT; i++)
      vd_log_levels[i] = -1;
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

#endif
