/* The Venus protocols venusd speaks, and the one each context negotiated.
 *
 * The build decodes the newest protocol (gen/, --protocol mesa26: vk.xml 1.4.343's commands
 * and the extensions of protocol/venus_extensions_mesa26.tsv); Mesa 25.0.7's protocol is a
 * subset of it.  A context speaks the level its transport offered the guest in the capset
 * (the guest takes the lower of that and its own): the level caps the apiVersion and the
 * extensions the guest sees, and a command above it makes the context fatal. */
#ifndef VD_CONTEXT_PROTOCOL_H
#define VD_CONTEXT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vd_protocol_level {
   VD_PROTOCOL_MESA25 = 0, /* Mesa 25.0.7 / virglrenderer 1.1.0: vk.xml 1.3.269, spec 2 */
   VD_PROTOCOL_NEWEST = 1, /* vk.xml 1.4.343, spec 3 (Mesa 26.x speaks spec 4) */
};

struct vd_protocol {
   const char *name;
   uint32_t vk_xml_version; /* the capset's vk_xml_version; the apiVersion cap */
   uint32_t mesa_spec;      /* the capset's vk_mesa_venus_protocol_spec_version */
   uint32_t command_count;  /* command type values below this one */
};

const struct vd_protocol *vd_protocol_get(uint32_t level);
/* The capset's extension mask of a level: bit N = extension number N, bit 0 = valid. */
void vd_protocol_extension_mask(uint32_t level, uint32_t mask[32]);
/* Whether a context of `level` may send command `type` (named `name`); if not, writes why
 * (naming the command and both versions) into why. */
bool vd_protocol_command_ok(uint32_t level, uint32_t type, const char *name, char *why,
                            size_t why_size);

#endif
