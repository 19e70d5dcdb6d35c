/* gl_window: OpenGL through GLX on an X11 window, for zink's window path (kopper, which
 * presents through a Vulkan swapchain).  tests/integration/test_present.sh runs it with
 * GALLIUM_DRIVER=zink natively on lavapipe and through venusd, on Xvfb with
 * MESA_VK_WSI_DEBUG=sw.
 *
 *   gl_window [--frames N] [--width W] [--height H] [--hold-ms MS]
 *
 * Frame i is a clear to a colour that depends on i, a flat-coloured triangle that moves
 * with i and three scissored clears whose places and colours depend on i (exact values:
 * clears of k/255 colours and one flat draw).  Before each swap it reads the back buffer,
 * checks five pixels whose colour is certain and prints "frame I fnv=HEX ok" (exit 1 on a
 * wrong pixel).  After the last swap it finishes, prints "renderer ..." and
 * "probe X Y RRGGBB" (X11 coordinates, top row 0) for the certain pixels of the last frame,
 * and with --hold-ms keeps the X window mapped ("holding window 0xID") until
 * x11_grab --close or the timeout. */
#include <GL/gl.h>
#include <GL/glx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x11_window.h"

#define NPROBES 5

struct rgb {
   uint8_t r, g, b;
};

static unsigned W = 240, H = 160;

static struct rgb bg_colour(unsigned i)
{
   return (struct rgb){ 30, (uint8_t)(i * 41 + 10), (uint8_t)(250 - i * 19) };
}

static struct rgb rect_colour(unsigned i, unsigned k)
{
   return (struct rgb){ (uint8_t)(k * 90 + i * 11 + 5), (uint8_t)((i + 2) * 33 + k * 70),
                        (uint8_t)(180 + k * 30 - i) };
}

/* Rectangle k of frame i in X11 coordinates (x, y of the top-left corner, w, h), all in
 * the top half of the window; the triangle stays in the bottom half. */
static void rect_of(unsigned i, unsigned k, unsigned r[4])
{
   unsigned step = W / 16 ? W / 16 : 1;
   r[0] = W / 16 + k * W / 4 + (i * 5) % step;
   r[1] = H / 10 + k * 3;
   r[2] = W / 5;
   r[3] = H / 4;
}

static void probes_of(unsigned i, unsigned xy[NPROBES][2], struct rgb c[NPROBES])
{
   for (unsigned k = 0; k < 3; k++) {
      unsigned r[4];
      rect_of(i, k, r);
      xy[k][0] = r[0] + r[2] / 2;
      xy[k][1] = r[1] + r[3] / 2;
      c[k] = rect_colour(i, k);
   }
   xy[3][0] = W - 3, xy[3][1] = 2, c[3] = bg_colour(i);
   xy[4][0] = 2, xy[4][1] = H / 2 - 3, c[4] = bg_colour(i);
}

static void clear_to(struct rgb c)
{
   glClearColor(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f);
   glClear(GL_COLOR_BUFFER_BIT);
}

static void draw_frame(unsigned i)
{
   glDisable(GL_SCISSOR_TEST);
   clear_to(bg_colour(i));
   /* A triangle in the bottom half (GL's y < 0), moving right with i. */
   float dx = (float)(i % 4) * 0.1f;
   glColor3ub((uint8_t)(200 - i * 9), (uint8_t)(i * 29), 90);
   glBegin(GL_TRIANGLES);
   glVertex2f(-0.7f + dx, -0.9f);
   glVertex2f(0.3f + dx, -0.9f);
   glVertex2f(-0.2f + dx, -0.1f);
   glEnd();
   glEnable(GL_SCISSOR_TEST);
   for (unsigned k = 0; k < 3; k++) {
      unsigned r[4];
      rect_of(i, k, r);
      glScissor((GLint)r[0], (GLint)(H - r[1] - r[3]), (GLsizei)r[2], (GLsizei)r[3]);
      clear_to(rect_colour(i, k));
   }
   glDisable(GL_SCISSOR_TEST);
}

static void usage(void)
{
   fprintf(stderr, "usage: gl_window [--frames N] [--width W] [--height H] [--hold-ms MS]\n");
   exit(2);
}

int main(int argc, char **argv)
{
   setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach a log file even if we crash */
   unsigned frames = 6;
   int hold_ms = 0;
   for (int a = 1; a < argc; a += 2) {
      if (a + 1 >= argc)
         usage();
      if (!strcmp(argv[a], "--frames"))
         frames = (unsigned)atoi(argv[a + 1]);
      else if (!strcmp(argv[a], "--width"))
         W = (unsigned)atoi(argv[a + 1]);
      else if (!strcmp(argv[a], "--height"))
         H = (unsigned)atoi(argv[a + 1]);
      else if (!strcmp(argv[a], "--hold-ms"))
         hold_ms = atoi(argv[a + 1]);
      else
         usage();
   }
   if (frames < 1 || W < 32 || H < 32 || W > 4096 || H > 4096)
      usage();

   struct xwin x = { 0 };
   x.dpy = XOpenDisplay(NULL);
   if (!x.dpy) {
      printf("FAIL cannot open X display '%s'\n", XDisplayName(NULL));
      return 1;
   }
   int attrs[] = { GLX_DRAWABLE_TYPE,
                   GLX_WINDOW_BIT,
                   GLX_RENDER_TYPE,
                   GLX_RGBA_BIT,
                   GLX_DOUBLEBUFFER,
                   True,
                   GLX_RED_SIZE,
                   8,
                   GLX_GREEN_SIZE,
                   8,
                   GLX_BLUE_SIZE,
                   8,
                   GLX_X_RENDERABLE,
                   True,
                   None };
   int n = 0;
   GLXFBConfig *cfgs = glXChooseFBConfig(x.dpy, DefaultScreen(x.dpy), attrs, &n);
   if (!cfgs || n < 1) {
      printf("FAIL glXChooseFBConfig found no double-buffered RGB8 window config\n");
      return 1;
   }
   GLXFBConfig cfg = cfgs[0];
   XFree(cfgs);
   XVisualInfo *vi = glXGetVisualFromFBConfig(x.dpy, cfg);
   if (!vi) {
      printf("FAIL glXGetVisualFromFBConfig\n");
      return 1;
   }
   if (xwin_open(&x, "gl_window", W, H, vi->visual, vi->depth))
      return 1;
   XFree(vi);

   GLXWindow gw = glXCreateWindow(x.dpy, cfg, x.win, NULL);
   GLXContext ctx = glXCreateNewContext(x.dpy, cfg, GLX_RGBA_TYPE, NULL, True);
   if (!gw || !ctx || !glXMakeContextCurrent(x.dpy, gw, gw, ctx)) {
      printf("FAIL cannot create and make current a GLX context on the window\n");
      return 1;
   }
   const char *renderer = (const char *)glGetString(GL_RENDERER);
   char renderer_copy[256];
   snprintf(renderer_copy, sizeof(renderer_copy), "%s", renderer ? renderer : "(none)");
   glViewport(0, 0, (GLsizei)W, (GLsizei)H);

   uint8_t *px = malloc((size_t)W * H * 4);
   if (!px)
      return 1;
   for (unsigned i = 0; i < frames; i++) {
      draw_frame(i);
      glReadPixels(0, 0, (GLsizei)W, (GLsizei)H, GL_RGBA, GL_UNSIGNED_BYTE, px);
      GLenum err = glGetError();
      if (err != GL_NO_ERROR) {
         printf("FAIL GL error 0x%x at frame %u\n", err, i);
         return 1;
      }
      unsigned xy[NPROBES][2];
      struct rgb want[NPROBES];
      probes_of(i, xy, want);
      for (int p = 0; p < NPROBES; p++) {
         const uint8_t *q = px + ((size_t)(H - 1 - xy[p][1]) * W + xy[p][0]) * 4;
         if (q[0] != want[p].r || q[1] != want[p].g || q[2] != want[p].b) {
            printf("FAIL frame %u pixel %u,%u is %02x%02x%02x, expected %02x%02x%02x\n", i,
                   xy[p][0], xy[p][1], q[0], q[1], q[2], want[p].r, want[p].g, want[p].b);
            return 1;
         }
      }
      printf("frame %u fnv=%016llx ok\n", i, (unsigned long long)fnv1a(px, (size_t)W * H * 4));
      glXSwapBuffers(x.dpy, gw);
   }
   glFinish();
   free(px);
   XSync(x.dpy, False);
   printf("renderer %s\n", renderer_copy);
   printf("presented %u frames\n", frames);
   unsigned xy[NPROBES][2];
   struct rgb want[NPROBES];
   probes_of(frames - 1, xy, want);
   for (int p = 0; p < NPROBES; p++)
      printf("probe %u %u %02x%02x%02x\n", xy[p][0], xy[p][1], want[p].r, want[p].g, want[p].b);
   fflush(stdout);
   /* Held with zink's swapchain alive: a present still queued reaches the window. */
   if (hold_ms > 0)
      xwin_hold(&x, hold_ms);
   glXMakeContextCurrent(x.dpy, None, None, NULL);
   glXDestroyWindow(x.dpy, gw);
   glXDestroyContext(x.dpy, ctx);
   xwin_close(&x);
   printf("OK gl_window\n");
   return 0;
}
