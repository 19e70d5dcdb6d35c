/* libFuzzer target: arbitrary bytes as a virtqueue command stream of a live context.
 *
 * Everything a guest can send without a host Vulkan driver is reachable: every command's
 * decoder (the dispatcher decodes before it looks at handlers), the transport commands
 * (reply streams, rings over a shared-memory resource) and the error paths.  Vulkan
 * handlers are not reached: a context without an instance has no objects to name.
 *
 * Build and run: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "context/context_priv.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   (void)argc;
   (void)argv;
   /* Quiet: errors are expected on almost every input. */
   vd_log_configure("error,context=error");
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct vd_context_params p = { .id = 1, .name = "fuzz" };
   struct vd_context *ctx = vd_context_create(&p);
   if (!ctx)
      return 0;
   /* Resource 1: 64 KiB of shared memory, for rings and reply streams. */
   struct vd_blob blob;
   if (vd_context_create_blob(ctx, 1, 0, 65536, VD_BLOB_FLAG_MAPPABLE, &blob) == 0)
      close(blob.fd);
   /* Commands are 4-byte aligned on the wire. */
   vd_context_submit_cmd(ctx, data, size & ~(size_t)3);
   vd_context_destroy(ctx);
   return 0;
}
