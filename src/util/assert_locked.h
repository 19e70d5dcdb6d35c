/* Checks of internal invariants that are cheap enough to keep in every build but
 * NDEBUG ones (assert). */
#ifndef VD_UTIL_ASSERT_LOCKED_H
#define VD_UTIL_ASSERT_LOCKED_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>

/* The mutex is held: a trylock of a held (non-recursive) mutex fails with EBUSY, whichever
 * thread holds it, and never blocks.  It cannot tell the caller from another holder, so it
 * catches a caller that forgot the lock only while nobody else holds it: in tests, nearly
 * always. */
#define vd_assert_locked(mutex) assert(pthread_mutex_trylock(mutex) == EBUSY)

#endif
