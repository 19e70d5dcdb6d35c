/* An Xlib window for the presenting programs (vk_present, gl_window): created, named,
 * mapped (waits for MapNotify), and held open after the last frame until a
 * WM_DELETE_WINDOW client message arrives (x11_grab --close sends one) or a timeout. */
#ifndef X11_WINDOW_H
#define X11_WINDOW_H

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct xwin {
   Display *dpy;
   Window win;
   Atom wm_protocols, wm_delete;
};

/* FNV-1a of a frame's bytes: the checksum both presenting programs print per frame. */
static inline uint64_t fnv1a(const uint8_t *p, size_t n)
{
   uint64_t h = 0xcbf29ce484222325ull;
   for (size_t i = 0; i < n; i++) {
      h ^= p[i];
      h *= 0x100000001b3ull;
   }
   return h;
}

static inline double xwin_now(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Opens the display (unless x->dpy is already open) and maps a w x h window with
 * `visual`/`depth` (NULL/0: the default).  Returns 0, or -1 with a FAIL line printed. */
static inline int xwin_open(struct xwin *x, const char *name, unsigned w, unsigned h,
                            Visual *visual, int depth)
{
   if (!x->dpy)
      x->dpy = XOpenDisplay(NULL);
   if (!x->dpy) {
      printf("FAIL cannot open X display '%s'\n", XDisplayName(NULL));
      return -1;
   }
   int scr = DefaultScreen(x->dpy);
   Window root = RootWindow(x->dpy, scr);
   XSetWindowAttributes swa = { 0 };
   swa.background_pixel = 0;
   swa.border_pixel = 0;
   swa.event_mask = StructureNotifyMask | ExposureMask;
   unsigned long mask = CWBackPixel | CWBorderPixel | CWEventMask;
   if (visual) {
      swa.colormap = XCreateColormap(x->dpy, root, visual, AllocNone);
      mask |= CWColormap;
   } else {
      visual = DefaultVisual(x->dpy, scr);
      depth = DefaultDepth(x->dpy, scr);
   }
   x->win = XCreateWindow(x->dpy, root, 0, 0, w, h, 0, depth, InputOutput, visual, mask, &swa);
   XStoreName(x->dpy, x->win, name);
   /* A fixed size: no window manager runs on the test's Xvfb, but say so anyway. */
   XSizeHints *hints = XAllocSizeHints();
   if (hints) {
      hints->flags = PMinSize | PMaxSize;
      hints->min_width = hints->max_width = (int)w;
      hints->min_height = hints->max_height = (int)h;
      XSetWMNormalHints(x->dpy, x->win, hints);
      XFree(hints);
   }
   x->wm_protocols = XInternAtom(x->dpy, "WM_PROTOCOLS", False);
   x->wm_delete = XInternAtom(x->dpy, "WM_DELETE_WINDOW", False);
   XSetWMProtocols(x->dpy, x->win, &x->wm_delete, 1);
   XMapWindow(x->dpy, x->win);
   for (;;) {
      XEvent ev;
      XNextEvent(x->dpy, &ev);
      if (ev.type == MapNotify && ev.xmap.window == x->win)
         break;
   }
   return 0;
}

/* True if a WM_DELETE_WINDOW message is among the pending events (they are consumed). */
static inline int xwin_close_requested(struct xwin *x)
{
   int closed = 0;
   while (XPending(x->dpy)) {
      XEvent ev;
      XNextEvent(x->dpy, &ev);
      if (ev.type == ClientMessage && ev.xclient.message_type == x->wm_protocols &&
          (Atom)ev.xclient.data.l[0] == x->wm_delete)
         closed = 1;
   }
   return closed;
}

/* Prints "holding window 0xID" and keeps the window mapped until a WM_DELETE_WINDOW
 * message arrives or `ms` milliseconds pass.  Returns 1 if it was asked to close. */
static inline int xwin_hold(struct xwin *x, int ms)
{
   XSync(x->dpy, False);
   printf("holding window 0x%lx\n", (unsigned long)x->win);
   fflush(stdout);
   double end = xwin_now() + ms / 1000.0;
   for (;;) {
      if (xwin_close_requested(x))
         return 1;
      double left = end - xwin_now();
      if (left <= 0)
         return 0;
      struct pollfd pfd = { ConnectionNumber(x->dpy), POLLIN, 0 };
      poll(&pfd, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1);
   }
}

static inline void xwin_close(struct xwin *x)
{
   XDestroyWindow(x->dpy, x->win);
   XCloseDisplay(x->dpy);
}

#endif
