/* The Venus capset of each protocol level: fixed fields, and the extension mask recomputed
 * from protocol/venus_extensions_mesa25.tsv and venus_extensions_mesa26.tsv (paths in
 * VD_EXT_TSV and VD_EXT_TSV26, set by meson; of the latter only the rows venusd serves). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/protocol.h"
#include "transport/capset.h"
#include "unit.h"

#ifndef VD_EXT_TSV
#error "VD_EXT_TSV must name protocol/venus_extensions_mesa25.tsv"
#endif
#ifndef VD_EXT_TSV26
#error "VD_EXT_TSV26 must name protocol/venus_extensions_mesa26.tsv"
#endif

UNIT_TEST(capset_fixed_fields)
{
   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   memset(caps, 0xab, sizeof(caps));
   vd_venus_capset_fill(caps, VD_PROTOCOL_MESA25);
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

/* The mask of a TSV's rows (with a 5th column, only those whose 5th column is "served"). */
static int tsv_mask(const char *path, uint32_t want[32], int *bad)
{
   FILE *f = fopen(path, "r");
   if (!f)
      return -1;
   memset(want, 0, 32 * sizeof(uint32_t));
   want[0] = 1u; /* bit 0: the mask is valid */
   char line[512];
   int count = 0;
   while (fgets(line, sizeof(line), f)) {
      if (strncmp(line, "ext_number", 10) == 0 || line[0] == '\n' || line[0] == '#')
         continue;
      char *end;
      unsigned long n = strtoul(line, &end, 10);
      if (end == line || *end != '\t' || n == 0 || n >= 1024) {
         (*bad)++;
         continue;
      }
      int tabs = 0;
      const char *col5 = NULL;
      for (char *p = line; *p; p++)
         if (*p == '\t' && ++tabs == 4)
            col5 = p + 1;
      if (col5 && strncmp(col5, "served", 6) != 0)
         continue;
      want[n / 32] |= 1u << (n % 32);
      count++;
   }
   fclose(f);
   return count;
}

static bool mask_matches(const uint32_t *caps, const uint32_t want[32])
{
   for (int i = 0; i < 32; i++) {
      if (caps[5 + i] != want[i])
         printf("    mask word %d: capset 0x%08x, tsv 0x%08x\n", i, caps[5 + i], want[i]);
   }
   return memcmp(&caps[5], want, 32 * sizeof(uint32_t)) == 0;
}

UNIT_TEST(capset_extension_mask_matches_tsv)
{
   uint32_t want[32];
   int bad = 0;
   UNIT_CHECK_EQ(tsv_mask(VD_EXT_TSV, want, &bad), 118);
   UNIT_CHECK_EQ(bad, 0);
   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   vd_venus_capset_fill(caps, VD_PROTOCOL_MESA25);
   UNIT_CHECK(mask_matches(caps, want));
}

/* The newest protocol: vk.xml 1.4.343, the MESA spec venusd serves (3), and the 184 of the
 * 187 extensions of Mesa 26.x's protocol that venusd decodes. */
UNIT_TEST(capset_newest_protocol)
{
   uint32_t want[32];
   int bad = 0;
   UNIT_CHECK_EQ(tsv_mask(VD_EXT_TSV26, want, &bad), 184);
   UNIT_CHECK_EQ(bad, 0);
   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   vd_venus_capset_fill(caps, VD_PROTOCOL_NEWEST);
   UNIT_CHECK_EQ(caps[0], 1u);
   UNIT_CHECK_EQ(caps[1], (1u << 22) | (4u << 12) | 343u);
   UNIT_CHECK_EQ(caps[2], 1u);
   UNIT_CHECK_EQ(caps[3], 3u);
   UNIT_CHECK_EQ(caps[4], 1u);
   UNIT_CHECK_EQ(caps[37], 1u);
   UNIT_CHECK_EQ(caps[38], 1u);
   UNIT_CHECK(mask_matches(caps, want));
}

/* A command above the negotiated protocol is refused, naming it and both versions. */
UNIT_TEST(protocol_command_levels)
{
   char why[320];
   UNIT_CHECK(
      vd_protocol_command_ok(VD_PROTOCOL_NEWEST, 297, "vkCopyImageToMemoryMESA", why, sizeof(why)));
   UNIT_CHECK(!vd_protocol_command_ok(VD_PROTOCOL_MESA25, 297, "vkCopyImageToMemoryMESA", why,
                                      sizeof(why)));
   printf("    %s\n", why);
   UNIT_CHECK(strstr(why, "vkCopyImageToMemoryMESA") && strstr(why, "spec 3") &&
              strstr(why, "spec 2"));
   UNIT_CHECK(!vd_protocol_command_ok(VD_PROTOCOL_MESA25, 283, "vkCmdSetSampleLocationsEXT", why,
                                      sizeof(why)));
   printf("    %s\n", why);
   UNIT_CHECK(strstr(why, "1.4.343") && strstr(why, "1.3.269"));
   UNIT_CHECK(vd_protocol_command_ok(VD_PROTOCOL_MESA25, 282, "vkGetImageSubresourceLayout2KHR",
                                     why, sizeof(why)));
}

UNIT_MAIN()
