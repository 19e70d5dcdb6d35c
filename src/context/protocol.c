/* The Venus protocol levels (context/protocol.h). */
#include "context/protocol.h"

#include <stdio.h>
#include <string.h>

#include "vn_protocol.h"

#define XML(major, minor, patch) (((major) << 22) | ((minor) << 12) | (patch))

static const struct vd_protocol levels[] = {
   [VD_PROTOCOL_MESA25] = { "Mesa 25.0.7's", XML(1u, 3u, 269u), 2, VN_COMMAND_TYPE_COUNT_LEVEL0 },
   [VD_PROTOCOL_NEWEST] = { "the newest", XML(1u, 4u, 343u), VN_MESA_SPEC_VERSION,
                            VN_COMMAND_TYPE_COUNT },
};

const struct vd_protocol *vd_protocol_get(uint32_t level)
{
   return &levels[level > VD_PROTOCOL_NEWEST ? VD_PROTOCOL_NEWEST : level];
}

void vd_protocol_extension_mask(uint32_t level, uint32_t mask[32])
{
   memset(mask, 0, 32 * sizeof(uint32_t));
   mask[0] = 1u; /* the mask is valid */
   for (uint32_t i = 0; i < VN_PROTOCOL_EXTENSION_COUNT; i++) {
      const struct vn_protocol_extension *e = &vn_protocol_extensions[i];
      if (e->level <= level && e->number < 32 * 32)
         mask[e->number / 32] |= 1u << (e->number % 32);
   }
}

static void xml_str(char *out, size_t n, uint32_t v)
{
   snprintf(out, n, "%u.%u.%u", v >> 22, (v >> 12) & 0x3ffu, v & 0xfffu);
}

bool vd_protocol_command_ok(uint32_t level, uint32_t type, const char *name, char *why,
                            size_t why_size)
{
   const struct vd_protocol *p = vd_protocol_get(level);
   const uint32_t spec = vn_command_mesa_spec(type);
   if (__builtin_expect(spec <= p->mesa_spec && type < p->command_count, 1))
      return true; /* the per-command path: no formatting */
   char have[24], need[24];
   xml_str(have, sizeof(have), p->vk_xml_version);
   if (spec > p->mesa_spec) {
      snprintf(why, why_size,
               "%s (command type %u) needs VK_MESA_venus_protocol spec %u, but this context "
               "negotiated spec %u (%s protocol): a guest must not send it",
               name, type, spec, p->mesa_spec, p->name);
      return false;
   }
   if (type >= p->command_count) {
      xml_str(need, sizeof(need), levels[VD_PROTOCOL_NEWEST].vk_xml_version);
      snprintf(why, why_size,
               "%s (command type %u) is in the vk.xml %s protocol, but this context negotiated "
               "vk.xml %s (%s protocol, command types below %u): a guest must not send it",
               name, type, need, have, p->name, p->command_count);
      return false;
   }
   return true;
}
