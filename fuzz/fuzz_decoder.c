/* libFuzzer target: arbitrary bytes as a virtqueue command stream of a live context.
 *
 * Every command's decoder is reachable (the dispatcher decodes before it looks at
 * handlers), the transport commands (reply streams, rings over a shared-memory resource)
 * and the error paths.  An input that creates an instance (the Mesa seeds do) reaches the
 * host driver (lavapipe, see fuzz_init) and the handlers of the objects it then makes; the
 * context has venusd's Vulkan hooks, so that its teardown quiesces the devices the input
 * left behind, as a transport's does.
 *
 * Before the live context, the input goes through every command's decoder offline (as
 * `venusd replay` does: no object table, so object ids are taken as they are and a stream
 * is decoded to its end or its first malformed command, whatever objects exist).  Without
 * a driver the live pass stops at the first command naming an object, since none can be
 * created (vkCreateInstance fails); the offline pass still decodes the rest, so that the
 * decoders are fuzzed in full on a host without lavapipe too (fuzz/campaign.sh there).
 *
 * The harness keeps one host instance of its own for the whole run (fuzz_pin_driver), so
 * that the driver stays loaded between inputs whatever the loader does when an input's
 * instance, the only other one, goes (the run's first instance, which loads lavapipe and
 * LLVM, took about 0.9 s here; later ones a few ms, with or without the pin).  The
 * instance is not the context's: every input still gets its own host instance, devices and
 * objects, created and destroyed by venusd.  Without a driver (VK_DRIVER_FILES pointing
 * nowhere, fuzz/campaign.sh on a host without lavapipe) vkCreateInstance fails and the
 * live pass ends at the first command naming an object.
 *
 * The protocol level of the context comes from the input's size: the stream is read in
 * 4-byte words, and the 1 to 3 bytes a size leaves over pick Mesa 25.0.7's level
 * (VD_PROTOCOL_MESA25: commands and pNext structs above it make the context fatal), a
 * multiple of 4 the newest (VD_PROTOCOL_NEWEST: every command of the build, e.g. the mesh
 * draws, reaches its handler).  fuzz_make_seeds writes each stream at both levels.
 *
 * Build and run: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "context/context_priv.h"
#include "context/protocol.h"
#include "fuzz_common.h"
#include "util/log.h"
#include "util/options.h"
#include "vk/vk.h"
#include "vn_protocol.h"

static const struct vd_options fuzz_opts = VD_OPTIONS_DEFAULT;

/* Decodes every command of the stream with no dispatcher (object ids unchecked), until its
 * end or the first command that does not decode; the arena is kept between inputs. */
static void decode_offline(const uint8_t *data, size_t size)
{
   static struct vd_arena arena;
   static bool arena_ready;
   if (!arena_ready) {
      vd_arena_init(&arena, 256u << 20);
      arena_ready = true;
   }
   struct vd_decoder dec = { .cur = data, .end = data + size, .arena = &arena };
   while (dec.cur < dec.end && !dec.failed) {
      dec.cmd = NULL;
      const uint32_t type = vd_dec_u32(&dec, "command type");
      vd_dec_u32(&dec, "command flags");
      if (dec.failed || type >= VN_COMMAND_TYPE_COUNT || !vn_commands[type].decode)
         break;
      const struct vn_command_info *info = &vn_commands[type];
      dec.cmd = info->name;
      info->decode(&dec, vd_arena_alloc(&arena, info->args_size));
      vd_arena_reset(&arena);
   }
   vd_arena_reset(&arena);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   fuzz_pin_cpu(*argc, *argv);
   fuzz_init(true);
   fuzz_pin_driver();
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct vd_context_params p = {
      .id = 1,
      .name = "fuzz",
      .hooks = &vd_vk_context_hooks,
      .opts = &fuzz_opts,
      .protocol_level = size % 4 ? VD_PROTOCOL_MESA25 : VD_PROTOCOL_NEWEST,
   };
   struct vd_context *ctx = vd_context_create(&p);
   if (!ctx)
      return 0;
   /* Resources 1 and 2: 64 KiB of shared memory each, for rings and reply streams (Mesa's
    * streams, the seeds, use 2 for replies). */
   for (uint32_t res_id = 1; res_id <= 2; res_id++) {
      struct vd_blob blob;
      if (vd_context_create_blob(ctx, res_id, 0, 65536, VD_BLOB_FLAG_MAPPABLE, &blob) == 0)
         close(blob.fd);
   }
   /* Commands are 4-byte aligned on the wire. */
   decode_offline(data, size & ~(size_t)3);
   vd_context_submit_cmd(ctx, data, size & ~(size_t)3);
   vd_context_destroy(ctx);
   return 0;
}
