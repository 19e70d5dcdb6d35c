/* Texel blocks of VkFormats (the table is generated from vk.xml by format_table.py). */
#ifndef VD_VK_FORMAT_H
#define VD_VK_FORMAT_H

#include <stdint.h>

struct vd_format_info {
   int32_t format;        /* VkFormat */
   uint8_t block_size;    /* bytes per texel block */
   uint8_t block[3];      /* block extent in texels: width, height, depth */
   uint8_t depth_bytes;   /* bytes of a depth texel in a buffer copy (0: no depth) */
   uint8_t stencil_bytes; /* bytes of a stencil texel in a buffer copy (0: no stencil) */
   uint8_t plane_count;   /* multi-planar formats: 2 or 3, else 0 */
   struct {
      uint8_t size;       /* bytes per texel of the plane's compatible format */
      uint8_t wdiv, hdiv; /* subsampling of the plane */
   } plane[3];
};

extern const struct vd_format_info vd_format_table[];
extern const unsigned vd_format_table_count;

/* The entry of `format`, or NULL if vk.xml does not describe it. */
const struct vd_format_info *vd_format_info(int32_t format);

#endif
