/* transport_floor: what Mesa's vtest client must pay for every new mappable allocation on
 * this machine, whatever the server does: one socket round trip that carries an fd
 * (RESOURCE_CREATE_BLOB), then mmap + first touch + munmap of the blob.  The "server" here
 * is a process that busy-polls its socket (so the client's request never has to wake it)
 * and answers at once with an fd it already has, so these figures are a lower bound for
 * venusd's alloc/map/free; bench/run.sh prints them next to the native
 * figure, which gives the best ratio any vtest server could reach.
 *
 *   transport_floor [SIZE_KIB]   (default 64) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int send_fd(int sock, int fd)
{
   char byte = 0;
   struct iovec iov = { &byte, 1 };
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } ctl;
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)
   };
   struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
   c->cmsg_level = SOL_SOCKET;
   c->cmsg_type = SCM_RIGHTS;
   c->cmsg_len = CMSG_LEN(sizeof(int));
   memcpy(CMSG_DATA(c), &fd, sizeof(fd));
   return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
   char byte;
   struct iovec iov = { &byte, 1 };
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } ctl;
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)
   };
   if (recvmsg(sock, &msg, 0) != 1)
      return -1;
   struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
   if (!c || c->cmsg_type != SCM_RIGHTS)
      return -1;
   int fd;
   memcpy(&fd, CMSG_DATA(c), sizeof(fd));
   return fd;
}

int main(int argc, char **argv)
{
   const size_t size = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) << 10;
   const int n = 2000;
   int fd = memfd_create("transport-floor", MFD_CLOEXEC);
   if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
      perror("memfd");
      return 1;
   }
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
      perror("socketpair");
      return 1;
   }
   pid_t pid = fork();
   if (pid == 0) {
      close(sv[0]);
      uint32_t req[2], reply[3] = { 1, 18, 0 };
      for (;;) {
         ssize_t got;
         while ((got = recv(sv[1], req, sizeof(req), MSG_DONTWAIT)) < 0)
            ; /* spin: no wake-up on the server side */
         if (got != sizeof(req))
            break;
         if (write(sv[1], reply, sizeof(reply)) != sizeof(reply) || send_fd(sv[1], fd) < 0)
            _exit(1);
      }
      _exit(0);
   }
   close(sv[1]);
   for (int rep = 0; rep < 5; rep++) {
      const double t0 = now();
      for (int i = 0; i < n; i++) {
         uint32_t req[2] = { 6, 18 }, reply[3];
         if (write(sv[0], req, sizeof(req)) != sizeof(req) ||
             read(sv[0], reply, sizeof(reply)) != sizeof(reply)) {
            perror("round trip");
            return 1;
         }
         int blob = recv_fd(sv[0]);
         volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, blob, 0);
         close(blob);
         if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
         }
         p[0] = 1;
         munmap((void *)p, size);
      }
      printf("metric transport_floor_%zuk ops/s %.0f\n", size >> 10, n / (now() - t0));
   }
   close(sv[0]);
   waitpid(pid, NULL, 0);
   return 0;
}
