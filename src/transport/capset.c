/* The Venus capset reported by venusd. */
#include "transport/capset.h"

#include <string.h>

#include "context/protocol.h"

/* The 118 Vulkan extensions of the Mesa 25.0.7 protocol (protocol/venus_extensions_mesa25.tsv),
 * as a mask of extension numbers, plus bit 0 ("the mask is valid").  tests/unit/test_capset.c
 * recomputes these words from the TSV. */
static const uint32_t extension_mask1[16] = {
   0x20008001u, 0x30402000u, 0x005f6bcbu, 0xc25660c0u, 0xe01a2819u, 0x8265060cu,
   0x41310162u, 0xd0c4600cu, 0x86201454u, 0x08000549u, 0x00350842u, 0xc4000233u,
   0x50020703u, 0x00000080u, 0x00810140u, 0x00108000u,
};

void vd_venus_capset_fill(uint32_t out[VD_VENUS_CAPSET_DWORDS], uint32_t level)
{
   memset(out, 0, VD_VENUS_CAPSET_DWORDS * sizeof(uint32_t));
   out[VD_CAPSET_WIRE_FORMAT_VERSION] = VD_CAPSET_WIRE_FORMAT;
   out[VD_CAPSET_VK_XML_VERSION] = VD_CAPSET_XML_VERSION;
   out[VD_CAPSET_VK_EXT_COMMAND_SERIALIZATION_SPEC_VERSION] = VD_CAPSET_COMMAND_SERIALIZATION_SPEC;
   out[VD_CAPSET_VK_MESA_VENUS_PROTOCOL_SPEC_VERSION] = VD_CAPSET_VENUS_PROTOCOL_SPEC;
   out[VD_CAPSET_SUPPORTS_BLOB_ID_0] = 1;
   memcpy(&out[VD_CAPSET_VK_EXTENSION_MASK1], extension_mask1, sizeof(extension_mask1));
   /* Mesa 25.0.7's: the other 16 mask words stay 0 (no extension numbered >= 512) */
   if (level != VD_PROTOCOL_MESA25) {
      const struct vd_protocol *p = vd_protocol_get(level);
      out[VD_CAPSET_VK_XML_VERSION] = p->vk_xml_version;
      out[VD_CAPSET_VK_MESA_VENUS_PROTOCOL_SPEC_VERSION] = p->mesa_spec;
      vd_protocol_extension_mask(level, &out[VD_CAPSET_VK_EXTENSION_MASK1]);
   }
   out[VD_CAPSET_ALLOW_VK_WAIT_SYNCS] = 1;
   out[VD_CAPSET_SUPPORTS_MULTIPLE_TIMELINES] = 1;
   out[VD_CAPSET_USE_GUEST_VRAM] = 0;
}
