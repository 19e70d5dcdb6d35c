/* Looking up the texel block of a VkFormat in the table generated from vk.xml. */
#include <stddef.h>

#include "vk/format.h"

const struct vd_format_info *vd_format_info(int32_t format)
{
   /* The table is sorted by value (format_table.py). */
   size_t lo = 0, hi = vd_format_table_count;
   while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (vd_format_table[mid].format == format)
         return &vd_format_table[mid];
      if (vd_format_table[mid].format < format)
         lo = mid + 1;
      else
         hi = mid;
   }
   return NULL;
}
