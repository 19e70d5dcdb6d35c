/* Loading the Vulkan loader and the host drivers' libraries into the server before it forks
 * process workers, so that every worker shares their relocated pages (copy-on-write pages
 * the dynamic linker wrote once, in the server) instead of relocating its own copy: for
 * lavapipe that is libLLVM's ~8 MB of RELRO data and lavapipe's own ~2 MB per context.
 *
 * Only libraries are loaded, with RTLD_NOW so that no lazy binding writes into a worker's
 * copy later.  No Vulkan function is called: no instance, no physical device and no driver
 * state exist in the server, so each worker still makes its own instance and device after
 * the fork, as before.
 *
 * The driver libraries are found as the loader finds them (VK_DRIVER_FILES or
 * VK_ICD_FILENAMES, else the XDG and /etc search paths, plus VK_ADD_DRIVER_FILES), reading
 * "library_path" from each JSON manifest.  This is an optimisation only: a library this
 * misses is loaded by the loader in each worker as before, and one it loads that the loader
 * would filter out (VK_LOADER_DRIVERS_SELECT/DISABLE) costs the server memory and nothing
 * else. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "vk/vk.h"
#include "vk/vk_common.h"

#define PRELOAD_MANIFEST_MAX (256 * 1024) /* bytes of a manifest read; Mesa's are < 1 KiB */

struct preload {
   unsigned libraries; /* driver libraries loaded */
   unsigned failed;    /* manifests or libraries that could not be loaded */
   char names[256];    /* their file names, for the log line */
};

/* The threads of this process (from /proc/self/status), or 0 if that cannot be read. */
static unsigned preload_threads(void)
{
   FILE *f = fopen("/proc/self/status", "re");
   if (!f)
      return 0;
   char line[256];
   unsigned n = 0;
   while (fgets(line, sizeof(line), f))
      if (sscanf(line, "Threads: %u", &n) == 1)
         break;
   fclose(f);
   return n;
}

static void preload_note_name(struct preload *p, const char *path)
{
   const char *base = strrchr(path, '/');
   base = base ? base + 1 : path;
   const size_t used = strlen(p->names);
   if (used + strlen(base) + 3 < sizeof(p->names))
      snprintf(p->names + used, sizeof(p->names) - used, "%s%s", used ? ", " : "", base);
}

static void preload_library(struct preload *p, const char *manifest, const char *lib)
{
   char path[4096];
   const char *slash = strrchr(manifest, '/');
   int n;
   if (lib[0] != '/' && strchr(lib, '/') && slash) /* relative to the manifest's directory */
      n = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - manifest), manifest, lib);
   else
      n = snprintf(path, sizeof(path), "%s", lib);
   if (n < 0 || (size_t)n >= sizeof(path)) {
      p->failed++;
      return;
   }
   if (!dlopen(path, RTLD_NOW | RTLD_LOCAL)) {
      /* Not an error: e.g. a 32-bit driver's manifest next to the 64-bit one. */
      vd_dbg(VD_CAT_VK, "preload: %s (from %s) not loaded: %s", path, manifest, dlerror());
      p->failed++;
      return;
   }
   p->libraries++;
   preload_note_name(p, path);
}

/* Copies the JSON string starting after the opening quote at *s into out; false if it is
 * not terminated or too long. */
static bool preload_json_string(const char *s, char *out, size_t size)
{
   size_t n = 0;
   for (; *s && *s != '"'; s++) {
      if (*s == '\\' && s[1])
         s++; /* \" \\ \/: the next character itself (paths need no other escapes) */
      if (n + 1 >= size)
         return false;
      out[n++] = *s;
   }
   out[n] = '\0';
   return *s == '"';
}

/* Loads the library of each "library_path" in the manifest at `path` (a manifest may name
 * one driver, "ICD", or several, "ICDs"). */
static void preload_manifest(struct preload *p, const char *path)
{
   FILE *f = fopen(path, "re");
   if (!f) {
      vd_dbg(VD_CAT_VK, "preload: cannot open driver manifest %s: %s", path, strerror(errno));
      p->failed++;
      return;
   }
   char *text = malloc(PRELOAD_MANIFEST_MAX + 1);
   const size_t len = text ? fread(text, 1, PRELOAD_MANIFEST_MAX, f) : 0;
   fclose(f);
   if (!text)
      return;
   text[len] = '\0';
   for (const char *s = strstr(text, "\"library_path\""); s;
        s = strstr(s + 1, "\"library_path\"")) {
      const char *v = s + strlen("\"library_path\"");
      v += strspn(v, " \t\r\n");
      if (*v++ != ':')
         continue;
      v += strspn(v, " \t\r\n");
      char lib[4096];
      if (*v == '"' && preload_json_string(v + 1, lib, sizeof(lib)) && lib[0])
         preload_library(p, path, lib);
   }
   free(text);
}

/* Every *.json manifest in `dir`, in name order (as the loader reads them). */
static void preload_dir(struct preload *p, const char *dir)
{
   struct dirent **entries;
   const int n = scandir(dir, &entries, NULL, alphasort);
   if (n < 0)
      return;
   for (int i = 0; i < n; i++) {
      const char *name = entries[i]->d_name;
      const size_t len = strlen(name);
      if (len > 5 && !strcmp(name + len - 5, ".json")) {
         char path[4096];
         const int w = snprintf(path, sizeof(path), "%s/%s", dir, name);
         if (w > 0 && (size_t)w < sizeof(path))
            preload_manifest(p, path);
      }
      free(entries[i]);
   }
   free(entries);
}

/* A colon-separated list of manifests and directories of manifests (VK_DRIVER_FILES). */
static void preload_list(struct preload *p, const char *list)
{
   char *copy = strdup(list);
   if (!copy)
      return;
   for (char *save = NULL, *item = strtok_r(copy, ":", &save); item;
        item = strtok_r(NULL, ":", &save)) {
      DIR *d = opendir(item);
      if (d) {
         closedir(d);
         preload_dir(p, item);
      } else {
         preload_manifest(p, item);
      }
   }
   free(copy);
}

/* `var`'s colon-separated directories (or `fallback`), each with /vulkan/icd.d. */
static void preload_search(struct preload *p, const char *var, const char *fallback)
{
   const char *v = getenv(var);
   char *copy = strdup(v && *v ? v : fallback);
   if (!copy)
      return;
   for (char *save = NULL, *item = strtok_r(copy, ":", &save); item;
        item = strtok_r(NULL, ":", &save)) {
      char dir[4096];
      const int w = snprintf(dir, sizeof(dir), "%s/vulkan/icd.d", item);
      if (w > 0 && (size_t)w < sizeof(dir))
         preload_dir(p, dir);
   }
   free(copy);
}

/* The per-user directory $var or $HOME/home_rel, with /vulkan/icd.d. */
static void preload_user_dir(struct preload *p, const char *var, const char *home_rel)
{
   const char *v = getenv(var);
   const char *home = getenv("HOME");
   char dir[4096];
   int w = -1;
   if (v && *v)
      w = snprintf(dir, sizeof(dir), "%s/vulkan/icd.d", v);
   else if (home && *home)
      w = snprintf(dir, sizeof(dir), "%s/%s/vulkan/icd.d", home, home_rel);
   if (w > 0 && (size_t)w < sizeof(dir))
      preload_dir(p, dir);
}

void vd_vulkan_preload(void)
{
   const uint64_t t0 = vd_now_ns();
   const unsigned threads_before = preload_threads();
   if (!vd_loader_get_instance_proc_addr())
      return; /* the loader said why and what to install; the driver check fails next */
   struct preload p = { 0 };
   const char *files = getenv("VK_DRIVER_FILES");
   if (!files || !*files)
      files = getenv("VK_ICD_FILENAMES");
   if (files && *files) {
      preload_list(&p, files);
   } else {
      preload_user_dir(&p, "XDG_CONFIG_HOME", ".config");
      preload_search(&p, "XDG_CONFIG_DIRS", "/etc/xdg");
      preload_dir(&p, "/etc/vulkan/icd.d");
      preload_user_dir(&p, "XDG_DATA_HOME", ".local/share");
      preload_search(&p, "XDG_DATA_DIRS", "/usr/local/share:/usr/share");
   }
   const char *add = getenv("VK_ADD_DRIVER_FILES");
   if (add && *add)
      preload_list(&p, add);
   const unsigned threads_after = preload_threads();
   vd_info(VD_CAT_VK,
           "preloaded the Vulkan loader and %u driver librar%s (%s) for the workers to share, "
           "in %.0f ms%s",
           p.libraries, p.libraries == 1 ? "y" : "ies", p.libraries ? p.names : "none",
           (double)(vd_now_ns() - t0) / 1e6,
           p.failed ? " (some manifests or libraries were skipped: --log vk=debug says which)"
                    : "");
   if (threads_after > threads_before)
      vd_warn(VD_CAT_VK,
              "loading the driver libraries started %u thread(s) in the server; forking "
              "workers from a multi-threaded process is unsafe: if workers hang or crash at "
              "start, run venusd with --no-preload",
              threads_after - threads_before);
}
