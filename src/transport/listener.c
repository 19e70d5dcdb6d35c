/* Who holds a unix socket path (listener.h). */
#include "transport/listener.h"

#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

pid_t vd_socket_listener(const char *path)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return 0;
   pid_t pid = 0;
   if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
      pid = vd_platform_peer_pid(fd);
      if (pid <= 0)
         pid = -1; /* someone listens; who is unknown */
   } else if (errno != ECONNREFUSED && errno != ENOENT) {
      pid = -1; /* e.g. EAGAIN: a listener whose backlog is full is still a listener */
   }
   close(fd);
   return pid;
}

void vd_process_name(pid_t pid, char *buf, size_t size)
{
   snprintf(buf, size, "?");
   char proc[64];
   snprintf(proc, sizeof(proc), "/proc/%ld/comm", (long)pid);
   FILE *f = pid > 0 ? fopen(proc, "r") : NULL;
   if (!f)
      return;
   if (fgets(buf, (int)size, f))
      buf[strcspn(buf, "\n")] = '\0';
   fclose(f);
}
