/* Shared-memory files for blobs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

#include "platform/platform.h"

int vd_shm_create(const char *name, uint64_t size)
{
   const int fd = vd_platform_shm_create(name);
   if (fd < 0)
      return fd;
   if (ftruncate(fd, (off_t)size) < 0) {
      int err = -errno;
      close(fd);
      return err;
   }
   return fd;
}
