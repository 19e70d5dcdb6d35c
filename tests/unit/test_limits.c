/* Per-context limits (src/context/limits.c): charging, releasing, the defaults, and that a
 * context's resources are charged while they live and released when they go. */
#include <stdlib.h>
#include <unistd.h>

#include "context/context_priv.h"
#include "context/limits.h"
#include "util/options.h"
#include "unit.h"

static struct vd_options opts = VD_OPTIONS_DEFAULT; /* what the tests change */

static struct vd_context *new_context(void)
{
   struct vd_context_params p = { .id = 1, .name = "unit", .opts = &opts };
   return vd_context_create(&p);
}

/* An unset option (0, as here) means the documented default. */
UNIT_TEST(limits_defaults)
{
   UNIT_CHECK_EQ(vd_limit_max(&opts, VD_LIMIT_OBJECTS), VD_MAX_OBJECTS_DEFAULT);
   UNIT_CHECK_EQ(vd_limit_max(&opts, VD_LIMIT_BLOBS), 16384u);
   UNIT_CHECK_EQ(vd_limit_max(&opts, VD_LIMIT_FDS), 16384u);
   UNIT_CHECK_EQ(vd_limit_max(&opts, VD_LIMIT_THREADS), 512u);
   /* device memory: the device's heaps, passed by the caller */
   UNIT_CHECK_EQ(vd_limit_max(&opts, VD_LIMIT_MEMORY), 0u);
}

/* Charges succeed up to the limit and not past it; a failed charge changes nothing; a
 * release makes room again; the hit is remembered (logged) once per context. */
UNIT_TEST(limits_charge_up_to_the_limit)
{
   struct vd_context *ctx = new_context();
   UNIT_CHECK(ctx);
   opts.max_waits = 3;
   UNIT_CHECK(vd_limit_charge(ctx, VD_LIMIT_WAITS, 2));
   UNIT_CHECK(vd_limit_charge(ctx, VD_LIMIT_WAITS, 1));
   UNIT_CHECK(!vd_limit_charge(ctx, VD_LIMIT_WAITS, 1));
   UNIT_CHECK(!vd_limit_charge(ctx, VD_LIMIT_WAITS, UINT64_MAX));
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_WAITS), 3u);
   UNIT_CHECK(atomic_load(&ctx->limits.logged) == 1u << VD_LIMIT_WAITS);
   vd_limit_release(ctx, VD_LIMIT_WAITS, 1);
   UNIT_CHECK(vd_limit_charge(ctx, VD_LIMIT_WAITS, 1));
   vd_limit_release(ctx, VD_LIMIT_WAITS, 3);
   opts.max_waits = 0;
   /* with no option, the caller's default applies (device memory) */
   UNIT_CHECK(vd_limit_charge_max(ctx, VD_LIMIT_MEMORY, 4096, 4096));
   UNIT_CHECK(!vd_limit_charge_max(ctx, VD_LIMIT_MEMORY, 1, 4096));
   vd_limit_release(ctx, VD_LIMIT_MEMORY, 4096);
   vd_context_destroy(ctx);
}

/* A shmem blob is one blob, its bytes and one fd, until its resource goes; past
 * --max-blobs the blob is refused and nothing stays charged. */
UNIT_TEST(limits_blobs_are_charged_while_they_live)
{
   struct vd_context *ctx = new_context();
   UNIT_CHECK(ctx);
   opts.max_blobs = 2;
   struct vd_blob blob;
   UNIT_CHECK_EQ(vd_context_create_blob(ctx, 1, 0, 4096, VD_BLOB_FLAG_MAPPABLE, &blob), 0);
   close(blob.fd);
   UNIT_CHECK_EQ(vd_context_create_blob(ctx, 2, 0, 8192, VD_BLOB_FLAG_MAPPABLE, &blob), 0);
   close(blob.fd);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOBS), 2u);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOB_BYTES), 12288u);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_FDS), 2u);
   UNIT_CHECK(vd_context_create_blob(ctx, 3, 0, 4096, VD_BLOB_FLAG_MAPPABLE, &blob) < 0);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOBS), 2u);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_FDS), 2u);
   /* a duplicate resource id is refused and leaves nothing charged */
   opts.max_blobs = 0;
   UNIT_CHECK(vd_context_create_blob(ctx, 2, 0, 4096, VD_BLOB_FLAG_MAPPABLE, &blob) < 0);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOBS), 2u);
   vd_context_destroy_resource(ctx, 1);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOBS), 1u);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_BLOB_BYTES), 8192u);
   UNIT_CHECK_EQ(vd_limit_used(ctx, VD_LIMIT_FDS), 1u);
   vd_context_destroy(ctx);
}

UNIT_MAIN()
