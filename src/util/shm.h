/* Shared-memory files, for blobs and host-pointer backings. */
#ifndef VD_UTIL_SHM_H
#define VD_UTIL_SHM_H

#include <stdint.h>

/* A new shared-memory file of `size` bytes: memfd where available (sealable), POSIX shm
 * otherwise.  Returns an fd (CLOEXEC) or a negative errno. */
int vd_shm_create(const char *name, uint64_t size);

#endif
