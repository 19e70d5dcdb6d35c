/* x11_grab: what the X server shows for a window, read back by a separate X client.
 *
 *   x11_grab [--probe X,Y[,RRGGBB]]... [--min-colours N] [--wait-ms MS] [--close] WINDOW OUT.ppm
 *
 * Writes the window's pixels (GetImage, as `xwd -id` does) to OUT.ppm and prints
 * "grab WxH fnv=HEX colours=N", then "pixel X Y RRGGBB" for each --probe.  With --wait-ms
 * and expected colours it reads the window again every 20 ms until every probe shows its
 * colour or MS milliseconds have passed (a present may still be on its way to the server),
 * and prints "waited MS" if it had to.  With --close it
 * then asks the window's owner to close it (a WM_DELETE_WINDOW client message, which
 * vk_present and gl_window wait for in --hold-ms).  WINDOW is an id as xwininfo prints it
 * (0x...), or size:WxH, the first viewable top-level window of that size, which --wait-ms
 * also waits for: for a program that prints no window id and sets no title (Debian 13's
 * vkcube).  --min-colours N waits, as the probes do, until the window holds at least N
 * colours.  Exit status 0, or 1 with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x11_grab.h"

static xcb_atom_t intern(xcb_connection_t *c, const char *name)
{
   xcb_intern_atom_reply_t *r =
      xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
   xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;
   free(r);
   return a;
}

static int probes_ok(const struct grab *g, int probes[][3], int n)
{
   for (int p = 0; p < n; p++) {
      int x = probes[p][0], y = probes[p][1];
      if (probes[p][2] < 0)
         continue;
      if (x < 0 || y < 0 || (uint32_t)x >= g->w || (uint32_t)y >= g->h)
         return 0;
      const uint8_t *px = g->rgb + ((size_t)y * g->w + (size_t)x) * 3;
      if (((int)px[0] << 16 | (int)px[1] << 8 | px[2]) != probes[p][2])
         return 0;
   }
   return 1;
}

/* Whether `win` is w x h pixels and viewable (GetImage fails on a window not yet mapped). */
static int viewable_sized(xcb_connection_t *c, xcb_window_t win, unsigned w, unsigned h)
{
   xcb_get_geometry_reply_t *g = xcb_get_geometry_reply(c, xcb_get_geometry(c, win), NULL);
   xcb_get_window_attributes_reply_t *a =
      xcb_get_window_attributes_reply(c, xcb_get_window_attributes(c, win), NULL);
   const int ok =
      g && a && g->width == w && g->height == h && a->map_state == XCB_MAP_STATE_VIEWABLE;
   free(g);
   free(a);
   return ok;
}

/* The first viewable child of a root window that is w x h pixels, or 0. */
static xcb_window_t find_sized(xcb_connection_t *c, unsigned w, unsigned h)
{
   xcb_window_t found = 0;
   for (xcb_screen_iterator_t s = xcb_setup_roots_iterator(xcb_get_setup(c)); s.rem && !found;
        xcb_screen_next(&s)) {
      xcb_query_tree_reply_t *t = xcb_query_tree_reply(c, xcb_query_tree(c, s.data->root), NULL);
      if (!t)
         continue;
      const xcb_window_t *kids = xcb_query_tree_children(t);
      for (int k = 0; k < xcb_query_tree_children_length(t) && !found; k++)
         if (viewable_sized(c, kids[k], w, h))
            found = kids[k];
      free(t);
   }
   return found;
}

static void sleep_20ms(void)
{
   struct timespec ts = { 0, 20 * 1000 * 1000 };
   nanosleep(&ts, NULL);
}

/* The window WINDOW names (see the top), waiting up to `wait_ms` for a sized one; 0 with
 * the reason on stderr if there is none.  Adds the time waited to *waited. */
static xcb_window_t resolve_window(xcb_connection_t *c, const char *arg, int wait_ms, int *waited)
{
   unsigned w, h;
   if (sscanf(arg, "size:%ux%u", &w, &h) != 2)
      return (xcb_window_t)strtoul(arg, NULL, 0);
   for (;;) {
      xcb_window_t win = find_sized(c, w, h);
      if (win)
         return win;
      if (*waited >= wait_ms) {
         fprintf(stderr, "x11_grab: no viewable %ux%u top-level window after %d ms\n", w, h,
                 *waited);
         return 0;
      }
      sleep_20ms();
      *waited += 20;
   }
}

int main(int argc, char **argv)
{
   int probes[64][3], nprobes = 0, close_it = 0, wait_ms = 0, min_colours = 0, i = 1;
   for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
      if (!strcmp(argv[i], "--close")) {
         close_it = 1;
      } else if (!strcmp(argv[i], "--wait-ms") && i + 1 < argc) {
         wait_ms = atoi(argv[++i]);
      } else if (!strcmp(argv[i], "--min-colours") && i + 1 < argc) {
         min_colours = atoi(argv[++i]);
      } else if (!strcmp(argv[i], "--probe") && i + 1 < argc && nprobes < 64 &&
                 sscanf(argv[i + 1], "%d,%d", &probes[nprobes][0], &probes[nprobes][1]) == 2) {
         unsigned rgb;
         const char *c = strchr(strchr(argv[i + 1], ',') + 1, ',');
         probes[nprobes][2] = c && sscanf(c + 1, "%x", &rgb) == 1 ? (int)(rgb & 0xffffff) : -1;
         nprobes++;
         i++;
      } else {
         fprintf(stderr, "x11_grab: bad argument %s\n", argv[i]);
         return 1;
      }
   }
   if (argc - i != 2) {
      fprintf(stderr, "usage: x11_grab [--probe X,Y[,RRGGBB]]... [--min-colours N] "
                      "[--wait-ms MS] [--close] WINDOW|size:WxH OUT.ppm\n");
      return 1;
   }
   xcb_connection_t *c = xcb_connect(NULL, NULL);
   if (xcb_connection_has_error(c)) {
      fprintf(stderr, "x11_grab: cannot connect to the X server (DISPLAY=%s)\n", getenv("DISPLAY"));
      return 1;
   }
   struct grab g;
   int waited = 0;
   const xcb_window_t win = resolve_window(c, argv[i], wait_ms, &waited);
   if (!win) {
      xcb_disconnect(c);
      return 1;
   }
   for (;;) {
      if (grab_window(c, win, &g)) {
         xcb_disconnect(c);
         return 1;
      }
      if (waited >= wait_ms ||
          (probes_ok(&g, probes, nprobes) && grab_colours(&g) >= (unsigned)min_colours))
         break;
      free(g.rgb);
      sleep_20ms();
      waited += 20;
   }
   if (grab_write_ppm(&g, argv[i + 1])) {
      xcb_disconnect(c);
      return 1;
   }
   grab_summary(stdout, &g);
   if (waited)
      printf("waited %d\n", waited);
   for (int p = 0; p < nprobes; p++) {
      int x = probes[p][0], y = probes[p][1];
      if (x < 0 || y < 0 || (uint32_t)x >= g.w || (uint32_t)y >= g.h) {
         printf("pixel %d %d outside\n", x, y);
         continue;
      }
      const uint8_t *px = g.rgb + ((size_t)y * g.w + (size_t)x) * 3;
      printf("pixel %d %d %02x%02x%02x\n", x, y, px[0], px[1], px[2]);
   }
   if (close_it) {
      xcb_client_message_event_t ev;
      memset(&ev, 0, sizeof(ev));
      ev.response_type = XCB_CLIENT_MESSAGE;
      ev.format = 32;
      ev.window = win;
      ev.type = intern(c, "WM_PROTOCOLS");
      ev.data.data32[0] = intern(c, "WM_DELETE_WINDOW");
      xcb_send_event(c, 0, win, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
      free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL)); /* a round trip: sent */
   }
   free(g.rgb);
   xcb_disconnect(c);
   return 0;
}
