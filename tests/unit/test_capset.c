/* The Venus capset: fixed fields, and the extension mask recomputed from
 * protocol/venus_extensions_mesa25.tsv (path in VD_EXT_TSV, set by meson). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/capset.h"
#include "unit.h"

#ifndef VD_EXT_TSV
#error "VD_EXT_TSV must name protocol/venus_extensions_mesa25.tsv"
#endif

UNIT_TEST(capset_fixed_fields)
{
   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   memset(caps, 0xab, sizeof(caps));
   vd_venus_capset_fill(caps);
   UNIT_CHECK_EQ(sizeof(caps), (size_t)160);
   UNIT_CHECK_EQ(caps[0], 1u);                             /* wire_format_version */
   UNIT_CHECK_EQ(caps[1], (1u << 22) | (3u << 12) | 269u); /* vk_xml_version 1.3.269 */
   UNIT_CHECK_EQ(caps[2], 1u);  /* vk_ext_command_serialization_spec_version */
   UNIT_CHECK_EQ(caps[3], 2u);  /* vk_mesa_venus_protocol_spec_version */
   UNIT_CHECK_EQ(caps[4], 1u);  /* supports_blob_id_0 */
   UNIT_CHECK_EQ(caps[37], 1u); /* allow_vk_wait_syncs (byte 148) */
   UNIT_CHECK_EQ(caps[38], 1u); /* supports_multiple_timelines (byte 152) */
   UNIT_CHECK_EQ(caps[39], 0u); /* use_guest_vram (byte 156) */
   UNIT_CHECK(caps[5] & 1u);    /* mask valid */
}

UNIT_TEST(capset_extension_mask_matches_tsv)
{
   FILE *f = fopen(VD_EXT_TSV, "r");
   UNIT_CHECK(f != NULL);
   uint32_t want[32] = { 1u }; /* bit 0: the mask is valid */
   char line[512];
   int count = 0, bad = 0;
   bool header = true;
   while (fgets(line, sizeof(line), f)) {
      if (header) { /* "ext_number\textension\tspec_version_cap" */
         header = false;
         if (strncmp(line, "ext_number", 10) == 0)
            continue;
      }
      if (line[0] == '\n' || line[0] == '#')
         continue;
      char *end;
      unsigned long n = strtoul(line, &end, 10);
      if (end == line || *end != '\t' || n == 0 || n >= 1024) {
         bad++;
         continue;
      }
      want[n / 32] |= 1u << (n % 32);
      count++;
   }
   fclose(f);
   UNIT_CHECK_EQ(bad, 0);
   UNIT_CHECK_EQ(count, 118);

   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   vd_venus_capset_fill(caps);
   for (int i = 0; i < 32; i++) {
      if (caps[5 + i] != want[i])
         printf("    mask word %d: capset 0x%08x, tsv 0x%08x\n", i, caps[5 + i], want[i]);
   }
   UNIT_CHECK(memcmp(&caps[5], want, sizeof(want)) == 0);
}

UNIT_MAIN()
