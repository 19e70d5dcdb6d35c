/* The Venus capset (capset id 4, struct virgl_renderer_capset_venus: 40 dwords, 160 bytes)
 * that venusd reports to vtest clients.  Layout and values: docs/protocol.md §2. */
#ifndef VD_TRANSPORT_CAPSET_H
#define VD_TRANSPORT_CAPSET_H

#include <stdint.h>

#define VD_CAPSET_ID_VENUS 4u
#define VD_VENUS_CAPSET_DWORDS 40u

/* Dword indices of the fields. */
enum {
   VD_CAPSET_WIRE_FORMAT_VERSION = 0,
   VD_CAPSET_VK_XML_VERSION = 1,
   VD_CAPSET_VK_EXT_COMMAND_SERIALIZATION_SPEC_VERSION = 2,
   VD_CAPSET_VK_MESA_VENUS_PROTOCOL_SPEC_VERSION = 3,
   VD_CAPSET_SUPPORTS_BLOB_ID_0 = 4,
   VD_CAPSET_VK_EXTENSION_MASK1 = 5, /* 32 dwords: bit N = extension number N; bit 0 = valid */
   VD_CAPSET_VK_EXTENSION_MASK1_DWORDS = 32,
   VD_CAPSET_ALLOW_VK_WAIT_SYNCS = 37,
   VD_CAPSET_SUPPORTS_MULTIPLE_TIMELINES = 38,
   VD_CAPSET_USE_GUEST_VRAM = 39,
};

/* The protocol level venusd speaks: Mesa 25.0.7 / virglrenderer 1.1.0. */
#define VD_CAPSET_WIRE_FORMAT 1u
#define VD_CAPSET_XML_VERSION ((1u << 22) | (3u << 12) | 269u) /* VK_MAKE_API_VERSION(0,1,3,269) */
#define VD_CAPSET_COMMAND_SERIALIZATION_SPEC 1u
#define VD_CAPSET_VENUS_PROTOCOL_SPEC 2u

/* Fills the whole capset (every dword written) for a protocol level (context/protocol.h):
 * VD_PROTOCOL_MESA25 gives exactly the values above, VD_PROTOCOL_NEWEST the newest
 * protocol's vk.xml version, MESA spec and extension mask. */
void vd_venus_capset_fill(uint32_t out[VD_VENUS_CAPSET_DWORDS], uint32_t level);

#endif
