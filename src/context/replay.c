/* `venusd replay FILE`: decodes a stream recorded with --record offline and prints each
 * command.  Object ids are printed as they are (there is no object table to check them
 * against); everything else is checked exactly as a live context would. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "context/context_priv.h"
#include "context/replay.h"
#include "vn_protocol.h"

static int replay_stream(const uint8_t *data, size_t size, uint32_t chunk, FILE *out)
{
   struct vd_arena arena;
   vd_arena_init(&arena, 256u << 20);
   /* offline: every protocol venusd decodes (mesa25_only false) */
   struct vd_decoder dec = { .cur = data, .end = data + size, .arena = &arena };
   int ret = 0;
   while (dec.cur < dec.end) {
      const size_t off = (size_t)(dec.cur - data);
      dec.cmd = NULL;
      const uint32_t type = vd_dec_u32(&dec, "command type");
      const uint32_t flags = vd_dec_u32(&dec, "command flags");
      const struct vn_command_info *info =
         !dec.failed && type < VN_COMMAND_TYPE_COUNT ? &vn_commands[type] : NULL;
      if (!dec.failed && (!info || !info->name))
         vd_dec_fail(&dec, "command type", "unknown command type %u", type);
      else if (!dec.failed && !info->decode)
         vd_dec_fail(&dec, "command type", "%s cannot be carried by the protocol", info->name);
      if (!dec.failed) {
         dec.cmd = info->name;
         void *args = vd_arena_alloc(&arena, info->args_size);
         info->decode(&dec, args);
      }
      if (dec.failed) {
         fprintf(out, "chunk %u +%zu: error: %s: %s\n", chunk, off, dec.cmd ? dec.cmd : "-",
                 dec.error);
         ret = 1;
         break;
      }
      fprintf(out, "chunk %u +%zu: %s%s (%zu bytes)\n", chunk, off, info->name,
              (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT) ? " [reply]" : "",
              (size_t)(dec.cur - data) - off);
      vd_arena_reset(&arena);
   }
   vd_arena_fini(&arena);
   return ret;
}

int vd_replay_file(const char *path, FILE *out)
{
   FILE *f = fopen(path, "rb");
   if (!f) {
      fprintf(stderr, "venusd replay: cannot open %s: %s\n", path, strerror(errno));
      return 2;
   }
   int ret = 0;
   uint32_t chunk = 0, size;
   while (fread(&size, 4, 1, f) == 1) {
      uint8_t *buf = malloc(size ? size : 1);
      if (!buf || fread(buf, 1, size, f) != size) {
         fprintf(stderr, "venusd replay: %s: chunk %u is truncated\n", path, chunk);
         free(buf);
         ret = 2;
         break;
      }
      ret |= replay_stream(buf, size, chunk, out);
      free(buf);
      chunk++;
   }
   fclose(f);
   return ret;
}
