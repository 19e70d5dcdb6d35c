/* x11_grab_preload.so: LD_PRELOAD'ed into a program we cannot change (vkcube), it grabs
 * what the X server shows for a window just before the program destroys it, i.e. after
 * its last frame: vkcube --c N tears down its swapchain (which finishes every queued
 * present) and then calls xcb_destroy_window.  The grab is a GetImage on the program's own
 * connection, so it is what the server shows, as x11_grab would read it.
 *
 *   X11_GRAB_PPM=OUT.ppm LD_PRELOAD=.../x11_grab_preload.so vkcube --c 60
 *
 * writes OUT.ppm and "grab WxH fnv=HEX colours=N" to OUT.ppm.txt (the first destroyed
 * window only).  Without X11_GRAB_PPM it does nothing. */
#include <dlfcn.h>

#include "x11_grab.h"

xcb_void_cookie_t xcb_destroy_window(xcb_connection_t *c, xcb_window_t window);

xcb_void_cookie_t xcb_destroy_window(xcb_connection_t *c, xcb_window_t window)
{
   static int done;
   const char *out = getenv("X11_GRAB_PPM");
   if (out && *out && !done) {
      done = 1;
      char txt[4096];
      snprintf(txt, sizeof(txt), "%s.txt", out);
      FILE *f = fopen(txt, "w");
      struct grab g;
      if (grab_window(c, window, &g) == 0) {
         if (grab_write_ppm(&g, out) == 0 && f)
            grab_summary(f, &g);
         free(g.rgb);
      } else if (f) {
         fprintf(f, "grab failed\n");
      }
      if (f)
         fclose(f);
   }
   xcb_void_cookie_t (*real)(xcb_connection_t *, xcb_window_t) =
      (xcb_void_cookie_t(*)(xcb_connection_t *, xcb_window_t))dlsym(RTLD_NEXT,
                                                                    "xcb_destroy_window");
   return real(c, window);
}
