/* Shared-memory files for blobs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

int vd_shm_create(const char *name, uint64_t size)
{
   int fd = -1;
#ifdef MFD_CLOEXEC
   fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
#endif
   if (fd < 0) {
      /* POSIX shm fallback (macOS, kernels without memfd): create, then unlink at once. */
      char path[64];
      static unsigned counter;
      snprintf(path, sizeof(path), "/venusd-%d-%u", (int)getpid(),
               __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
      fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0)
         return -errno;
      shm_unlink(path);
   }
   if (ftruncate(fd, (off_t)size) < 0) {
      int err = -errno;
      close(fd);
      return err;
   }
   return fd;
}
