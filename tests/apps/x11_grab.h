/* Reads back what the X server shows for one window (a GetImage request, the same readback
 * as `xwd -id`), writes it as a binary PPM and summarises it: size, an FNV-1a checksum of
 * the RGB bytes, and how many distinct colours it holds.  Shared by x11_grab (a separate
 * X client) and x11_grab_preload.so (which grabs inside a program that is about to destroy
 * its window, e.g. vkcube).  Only 24/32-bit TrueColor windows with 32 bits per pixel, as
 * Xvfb gives with -screen 0 WxHx24, are supported. */
#ifndef X11_GRAB_H
#define X11_GRAB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xcb/xcb.h>

struct grab {
   uint32_t w, h;
   uint8_t *rgb; /* w * h * 3 bytes, top row first */
};

/* The visual of `win`, looked up in the screens of `c`'s setup. */
static inline const xcb_visualtype_t *grab_find_visual(xcb_connection_t *c, xcb_visualid_t id)
{
   for (xcb_screen_iterator_t s = xcb_setup_roots_iterator(xcb_get_setup(c)); s.rem;
        xcb_screen_next(&s))
      for (xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(s.data); d.rem;
           xcb_depth_next(&d))
         for (xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(d.data); v.rem;
              xcb_visualtype_next(&v))
            if (v.data->visual_id == id)
               return v.data;
   return NULL;
}

static inline int grab_shift(uint32_t mask)
{
   int s = 0;
   while (mask && !(mask & 1)) {
      mask >>= 1;
      s++;
   }
   return s;
}

/* Fills `g` with the window's pixels.  Returns 0, or -1 with a reason on stderr. */
static inline int grab_window(xcb_connection_t *c, xcb_window_t win, struct grab *g)
{
   xcb_generic_error_t *err = NULL;
   xcb_get_geometry_reply_t *geo = xcb_get_geometry_reply(c, xcb_get_geometry(c, win), &err);
   xcb_get_window_attributes_reply_t *attr =
      xcb_get_window_attributes_reply(c, xcb_get_window_attributes(c, win), NULL);
   if (!geo || !attr) {
      fprintf(stderr, "grab: window 0x%x: no such window (X error %d)\n", win,
              err ? err->error_code : 0);
      free(err);
      free(geo);
      free(attr);
      return -1;
   }
   const xcb_visualtype_t *vis = grab_find_visual(c, attr->visual);
   g->w = geo->width;
   g->h = geo->height;
   uint8_t depth = geo->depth;
   free(geo);
   free(attr);
   if (!vis || vis->_class != XCB_VISUAL_CLASS_TRUE_COLOR || (depth != 24 && depth != 32)) {
      fprintf(stderr, "grab: window 0x%x: depth %u, not a 24/32-bit TrueColor window\n", win,
              depth);
      return -1;
   }
   xcb_get_image_reply_t *img = xcb_get_image_reply(
      c,
      xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, win, 0, 0, (uint16_t)g->w, (uint16_t)g->h, ~0u),
      &err);
   if (!img) {
      fprintf(stderr, "grab: GetImage of window 0x%x failed (X error %d; is it mapped?)\n", win,
              err ? err->error_code : 0);
      free(err);
      return -1;
   }
   const uint8_t *src = xcb_get_image_data(img);
   size_t len = (size_t)xcb_get_image_data_length(img);
   if (len < (size_t)g->w * g->h * 4) {
      fprintf(stderr, "grab: GetImage returned %zu bytes for %ux%u (expected 32 bits a pixel)\n",
              len, g->w, g->h);
      free(img);
      return -1;
   }
   int big = xcb_get_setup(c)->image_byte_order == XCB_IMAGE_ORDER_MSB_FIRST;
   int rs = grab_shift(vis->red_mask), gs = grab_shift(vis->green_mask),
       bs = grab_shift(vis->blue_mask);
   g->rgb = malloc((size_t)g->w * g->h * 3);
   if (!g->rgb) {
      free(img);
      return -1;
   }
   for (size_t i = 0; i < (size_t)g->w * g->h; i++) {
      const uint8_t *p = src + i * 4;
      uint32_t px = big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                        : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
      g->rgb[i * 3 + 0] = (uint8_t)((px & vis->red_mask) >> rs);
      g->rgb[i * 3 + 1] = (uint8_t)((px & vis->green_mask) >> gs);
      g->rgb[i * 3 + 2] = (uint8_t)((px & vis->blue_mask) >> bs);
   }
   free(img);
   return 0;
}

static inline uint64_t grab_fnv1a(const uint8_t *p, size_t n)
{
   uint64_t h = 0xcbf29ce484222325ull;
   for (size_t i = 0; i < n; i++) {
      h ^= p[i];
      h *= 0x100000001b3ull;
   }
   return h;
}

/* Distinct colours, counted up to 4096 (an open-addressing set of 8192 slots). */
static inline unsigned grab_colours(const struct grab *g)
{
   enum {
      CAP = 4096,
      SLOTS = 8192
   };
   static uint32_t set[SLOTS];
   memset(set, 0xff, sizeof(set)); /* 0xffffffff: empty (colours have 24 bits) */
   unsigned n = 0;
   for (size_t i = 0; i < (size_t)g->w * g->h && n < CAP; i++) {
      uint32_t c =
         (uint32_t)g->rgb[i * 3] << 16 | (uint32_t)g->rgb[i * 3 + 1] << 8 | g->rgb[i * 3 + 2];
      uint32_t s = (c * 2654435761u) >> 19;
      while (set[s] != UINT32_MAX && set[s] != c)
         s = (s + 1) & (SLOTS - 1);
      if (set[s] == UINT32_MAX) {
         set[s] = c;
         n++;
      }
   }
   return n;
}

/* Writes `g` as a binary PPM to `path`; returns 0 or -1. */
static inline int grab_write_ppm(const struct grab *g, const char *path)
{
   FILE *f = fopen(path, "wb");
   if (!f) {
      perror(path);
      return -1;
   }
   fprintf(f, "P6\n%u %u\n255\n", g->w, g->h);
   size_t n = (size_t)g->w * g->h * 3;
   int ok = fwrite(g->rgb, 1, n, f) == n;
   ok &= fclose(f) == 0;
   return ok ? 0 : -1;
}

/* "grab WxH fnv=HEX colours=N" */
static inline void grab_summary(FILE *out, const struct grab *g)
{
   fprintf(out, "grab %ux%u fnv=%016llx colours=%u\n", g->w, g->h,
           (unsigned long long)grab_fnv1a(g->rgb, (size_t)g->w * g->h * 3), grab_colours(g));
}

#endif
