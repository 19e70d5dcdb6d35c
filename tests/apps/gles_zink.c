/* An offscreen OpenGL ES 3 program on EGL's surfaceless platform, for zink over Vulkan
 * (tests/integration/test_zink.sh runs it with GALLIUM_DRIVER=zink natively on lavapipe and
 * through venusd).  It draws a clear, a blended triangle and a depth-tested quad into a
 * framebuffer object, reads the pixels back and prints GL_RENDERER, an FNV-1a checksum of
 * the pixels and a few pixels whose values are certain.  Exits 1 on any error. */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define W 96
#define H 64

static int fail(const char *what)
{
   printf("FAIL %s (EGL 0x%x, GL 0x%x)\n", what, eglGetError(), glGetError());
   return 1;
}

static GLuint shader(GLenum type, const char *src)
{
   GLuint s = glCreateShader(type);
   glShaderSource(s, 1, &src, NULL);
   glCompileShader(s);
   GLint ok = 0;
   glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
   if (!ok) {
      char log[512] = "";
      glGetShaderInfoLog(s, sizeof(log), NULL, log);
      printf("FAIL shader compile: %s\n", log);
      return 0;
   }
   return s;
}

static const char *vs_src = "#version 300 es\n"
                            "layout(location = 0) in vec3 pos;\n"
                            "layout(location = 1) in vec4 col;\n"
                            "out vec4 v_col;\n"
                            "void main() { v_col = col; gl_Position = vec4(pos, 1.0); }\n";
static const char *fs_src = "#version 300 es\n"
                            "precision mediump float;\n"
                            "in vec4 v_col;\n"
                            "out vec4 o;\n"
                            "void main() { o = v_col; }\n";

/* x, y, z, r, g, b, a: a far opaque red quad over the left half, a near half-transparent
 * green triangle, and a far blue quad over the right third that the triangle occludes. */
static const float verts[] = {
   -1.0f, -1.0f, 0.5f,  1, 0, 0, 1,    0.0f,  -1.0f, 0.5f,  1, 0, 0, 1,
   -1.0f, 1.0f,  0.5f,  1, 0, 0, 1,    0.0f,  -1.0f, 0.5f,  1, 0, 0, 1,
   0.0f,  1.0f,  0.5f,  1, 0, 0, 1,    -1.0f, 1.0f,  0.5f,  1, 0, 0, 1,
   -0.5f, -0.5f, -0.5f, 0, 1, 0, 0.5f, 0.9f,  -0.5f, -0.5f, 0, 1, 0, 0.5f,
   0.2f,  0.9f,  -0.5f, 0, 1, 0, 0.5f, 0.34f, -1.0f, 0.9f,  0, 0, 1, 1,
   1.0f,  -1.0f, 0.9f,  0, 0, 1, 1,    0.34f, 1.0f,  0.9f,  0, 0, 1, 1,
   1.0f,  -1.0f, 0.9f,  0, 0, 1, 1,    1.0f,  1.0f,  0.9f,  0, 0, 1, 1,
   0.34f, 1.0f,  0.9f,  0, 0, 1, 1,
};

int main(void)
{
   PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
      (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
   if (!get_display)
      return fail("eglGetPlatformDisplayEXT missing");
   EGLDisplay dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
   EGLint major, minor;
   if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor))
      return fail("eglInitialize (surfaceless)");
   static const EGLint cfg_attr[] = { EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE, 0,
                                      EGL_NONE };
   EGLConfig cfg;
   EGLint n = 0;
   if (!eglChooseConfig(dpy, cfg_attr, &cfg, 1, &n) || n < 1)
      return fail("eglChooseConfig");
   if (!eglBindAPI(EGL_OPENGL_ES_API))
      return fail("eglBindAPI");
   static const EGLint ctx_attr[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE };
   EGLContext ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
   if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
      return fail("eglCreateContext/eglMakeCurrent");
   printf("renderer %s\n", (const char *)glGetString(GL_RENDERER));

   GLuint rb[2], fbo;
   glGenRenderbuffers(2, rb);
   glBindRenderbuffer(GL_RENDERBUFFER, rb[0]);
   glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, W, H);
   glBindRenderbuffer(GL_RENDERBUFFER, rb[1]);
   glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, W, H);
   glGenFramebuffers(1, &fbo);
   glBindFramebuffer(GL_FRAMEBUFFER, fbo);
   glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[0]);
   glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, rb[1]);
   if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      return fail("framebuffer incomplete");

   GLuint vs = shader(GL_VERTEX_SHADER, vs_src), fs = shader(GL_FRAGMENT_SHADER, fs_src);
   if (!vs || !fs)
      return 1;
   GLuint prog = glCreateProgram();
   glAttachShader(prog, vs);
   glAttachShader(prog, fs);
   glLinkProgram(prog);
   GLint linked = 0;
   glGetProgramiv(prog, GL_LINK_STATUS, &linked);
   if (!linked)
      return fail("program link");

   GLuint vbo;
   glGenBuffers(1, &vbo);
   glBindBuffer(GL_ARRAY_BUFFER, vbo);
   glBufferData(GL_ARRAY_BUFFER, sizeof(verts), verts, GL_STATIC_DRAW);
   glVertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, 7 * sizeof(float), (void *)0);
   glVertexAttribPointer(1, 4, GL_FLOAT, GL_FALSE, 7 * sizeof(float), (void *)(3 * sizeof(float)));
   glEnableVertexAttribArray(0);
   glEnableVertexAttribArray(1);

   glViewport(0, 0, W, H);
   glClearColor(0.25f, 0.25f, 0.25f, 1.0f);
   glClearDepthf(1.0f);
   glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
   glEnable(GL_DEPTH_TEST);
   glDepthFunc(GL_LESS);
   glEnable(GL_BLEND);
   glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
   glUseProgram(prog);
   glDrawArrays(GL_TRIANGLES, 0, 6); /* red, far */
   glDrawArrays(GL_TRIANGLES, 6, 3); /* green, near, blended over red and the clear color */
   glDrawArrays(GL_TRIANGLES, 9, 6); /* blue, farther: loses the depth test under the triangle */

   static uint8_t px[W * H * 4];
   glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, px);
   if (glGetError() != GL_NO_ERROR)
      return fail("glReadPixels");

   uint32_t h = 2166136261u;
   for (size_t i = 0; i < sizeof(px); i++)
      h = (h ^ px[i]) * 16777619u;
   printf("checksum %08x\n", h);

   /* Pixels whose values are certain (bottom-left origin). */
   struct {
      int x, y;
      uint8_t rgba[4];
      const char *what;
   } want[] = {
      { 2, 60, { 255, 0, 0, 255 }, "red quad" },
      { 94, 2, { 0, 0, 255, 255 }, "blue quad" },
      { 55, 63, { 64, 64, 64, 255 }, "clear color" },
   };
   for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
      const uint8_t *p = &px[(want[i].y * W + want[i].x) * 4];
      if (memcmp(p, want[i].rgba, 4) != 0) {
         printf("FAIL pixel %s at (%d,%d) = %u,%u,%u,%u\n", want[i].what, want[i].x, want[i].y,
                p[0], p[1], p[2], p[3]);
         return 1;
      }
      printf("OK pixel %s\n", want[i].what);
   }

   glDeleteBuffers(1, &vbo);
   glDeleteProgram(prog);
   glDeleteShader(vs);
   glDeleteShader(fs);
   glDeleteFramebuffers(1, &fbo);
   glDeleteRenderbuffers(2, rb);
   eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
   eglDestroyContext(dpy, ctx);
   eglTerminate(dpy);
   printf("OK zink gles\n");
   return 0;
}
