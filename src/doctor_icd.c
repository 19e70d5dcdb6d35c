/* The doctor's loader and ICD checks: which Vulkan loader venusd loads, which driver
 * manifests that loader would read (the loader's own search: VK_DRIVER_FILES, the legacy
 * VK_ICD_FILENAMES, VK_ADD_DRIVER_FILES, then the XDG and system directories), whether
 * each parses and whether its library loads and is a Vulkan driver. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"
#include "platform/platform.h"
#include "vk/vk_common.h"

/* Where MoltenVK's manifest usually is, for the "no driver" advice (a macOS host is where
 * a missing ICD is the classic failure). */
#define MOLTENVK_HINT                                                                        \
   "on macOS, MoltenVK's manifest is MoltenVK_icd.json in /opt/homebrew/share/vulkan/icd.d " \
   "(Homebrew, Apple Silicon), /usr/local/share/vulkan/icd.d (Homebrew on Intel, the "       \
   "LunarG SDK) or /opt/local/share/vulkan/icd.d (MacPorts): set "                           \
   "VK_DRIVER_FILES=<that directory>/MoltenVK_icd.json"
#define LINUX_HINT                                                                           \
   "on Debian, install a driver (apt-get install mesa-vulkan-drivers gives lavapipe: "       \
   "VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json) or point VK_DRIVER_FILES at your " \
   "GPU driver's manifest"

bool vd_doctor_check_loader(struct vd_doctor *d)
{
   vd_doctor_section(d, "Vulkan loader");
   PFN_vkGetInstanceProcAddr gipa = vd_loader_get_instance_proc_addr();
   if (!gipa) {
      void *lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
      const char *why = lib ? "it has no vkGetInstanceProcAddr" : dlerror();
      struct vd_doctor_check *c =
         vd_doctor_add(d, "loader", VD_DOCTOR_FAIL,
                       "install the Vulkan loader (Debian: apt-get install libvulkan1; macOS: "
                       "the LunarG SDK or Homebrew's vulkan-loader) so that libvulkan.so.1 "
                       "(libvulkan.1.dylib) is on the library path",
                       "no Vulkan loader: libvulkan.so.1: %s", why ? why : "not found");
      vd_doctor_field_bool(c, "found", false);
      return false;
   }
   char where[4096];
   const char *path = vd_platform_symbol_file((void *)gipa, where, sizeof(where)) ? where : "?";
   PFN_vkEnumerateInstanceVersion version =
      (PFN_vkEnumerateInstanceVersion)gipa(NULL, "vkEnumerateInstanceVersion");
   uint32_t v = VK_API_VERSION_1_0;
   if (version)
      version(&v);
   struct vd_doctor_check *c =
      vd_doctor_add(d, "loader", VD_DOCTOR_OK, NULL, "loader %s (Vulkan %u.%u.%u)", path,
                    VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
   vd_doctor_field_bool(c, "found", true);
   vd_doctor_field_str(c, "path", path);
   char vs[32];
   snprintf(vs, sizeof(vs), "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
            VK_API_VERSION_PATCH(v));
   vd_doctor_field_str(c, "version", vs);
   return true;
}

/* The manifests found so far (paths, to report each once). */
struct icd_scan {
   struct vd_doctor *d;
   unsigned manifests, usable;
};

/* Reads a manifest (at most 64 KiB) into a NUL-terminated buffer; NULL with errno. */
static char *read_small_file(const char *path)
{
   FILE *f = fopen(path, "r");
   if (!f)
      return NULL;
   char *buf = malloc(65537);
   size_t n = buf ? fread(buf, 1, 65536, f) : 0;
   const int err = ferror(f) ? EIO : 0;
   fclose(f);
   if (!buf || err) {
      free(buf);
      errno = err ? err : ENOMEM;
      return NULL;
   }
   buf[n] = '\0';
   return buf;
}

/* The library a manifest names, as the loader resolves it: a path with a '/' is relative
 * to the manifest's directory, a bare name goes to the dynamic linker's search. */
static void resolve_library(const char *manifest, const char *lib, char *out, size_t size)
{
   const char *slash = strrchr(manifest, '/');
   if (lib[0] == '/' || !strchr(lib, '/') || !slash)
      snprintf(out, size, "%s", lib);
   else
      snprintf(out, size, "%.*s/%s", (int)(slash - manifest), manifest, lib);
}

/* dlopen's error for a library built for another architecture (multiarch hosts list the
 * i386 drivers' manifests too; the loader skips them). */
static bool wrong_arch(const char *err)
{
   return err && (strstr(err, "wrong ELF class") || strstr(err, "incompatible architecture"));
}

static void check_library(struct icd_scan *s, const char *manifest, const char *lib,
                          const char *api)
{
   char path[4096];
   resolve_library(manifest, lib, path, sizeof(path));
   void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
   if (!h) {
      const char *err = dlerror();
      if (wrong_arch(err)) {
         vd_doctor_add(s->d, "icd", VD_DOCTOR_INFO, NULL,
                       "%s: %s is for another architecture (the loader skips it)", manifest, path);
         return;
      }
      char fix[9000];
      snprintf(fix, sizeof(fix),
               "the loader skips this driver: install the package that provides %s, or fix "
               "library_path in %s, or remove the manifest",
               path, manifest);
      struct vd_doctor_check *c =
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL, fix, "%s: its library does not load: %s",
                       manifest, err ? err : "?");
      vd_doctor_field_str(c, "manifest", manifest);
      vd_doctor_field_str(c, "library", path);
      vd_doctor_field_bool(c, "loads", false);
      return;
   }
   const bool icd_gipa = dlsym(h, "vk_icdGetInstanceProcAddr") != NULL;
   const bool plain_gipa = dlsym(h, "vkGetInstanceProcAddr") != NULL;
   dlclose(h);
   if (!icd_gipa && !plain_gipa) {
      struct vd_doctor_check *c =
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL,
                       "library_path names a library that is not a Vulkan driver: fix the "
                       "manifest or remove it",
                       "%s: %s loads but exports neither vk_icdGetInstanceProcAddr nor "
                       "vkGetInstanceProcAddr",
                       manifest, path);
      vd_doctor_field_str(c, "manifest", manifest);
      vd_doctor_field_str(c, "library", path);
      vd_doctor_field_bool(c, "loads", true);
      return;
   }
   s->usable++;
   struct vd_doctor_check *c = vd_doctor_add(
      s->d, "icd", VD_DOCTOR_OK, NULL, "%s: %s loads (Vulkan %s%s)", manifest, path,
      api[0] ? api : "?", icd_gipa ? "" : ", an old ICD without vk_icd* entry points");
   vd_doctor_field_str(c, "manifest", manifest);
   vd_doctor_field_str(c, "library", path);
   vd_doctor_field_bool(c, "loads", true);
   vd_doctor_field_str(c, "api_version", api);
}

static void check_manifest(struct icd_scan *s, const char *path, const char *origin)
{
   s->manifests++;
   char *text = read_small_file(path);
   if (!text) {
      char fix[1024];
      snprintf(fix, sizeof(fix), "%s names it: correct the path (%s)", origin,
               errno == ENOENT ? LINUX_HINT "; " MOLTENVK_HINT : "make it readable");
      struct vd_doctor_check *c =
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL, fix, "%s: %s", path, strerror(errno));
      vd_doctor_field_str(c, "manifest", path);
      vd_doctor_field_bool(c, "exists", errno != ENOENT);
      return;
   }
   char lib[1024], api[64], err[200];
   const int found =
      vd_json_find_string(text, "ICD.library_path", lib, sizeof(lib), err, sizeof(err));
   if (found < 0) {
      struct vd_doctor_check *c =
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL,
                       "the loader ignores a manifest it cannot parse: repair the JSON "
                       "(reinstall the driver package) or remove the file",
                       "%s does not parse as JSON: %s", path, err);
      vd_doctor_field_str(c, "manifest", path);
      vd_doctor_field_bool(c, "parses", false);
      free(text);
      return;
   }
   if (!found || !lib[0]) {
      struct vd_doctor_check *c =
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL,
                       "a driver manifest needs {\"ICD\": {\"library_path\": ...}}: fix or "
                       "remove the file (is it a layer manifest in a driver directory?)",
                       "%s has no ICD.library_path", path);
      vd_doctor_field_str(c, "manifest", path);
      vd_doctor_field_bool(c, "parses", true);
      free(text);
      return;
   }
   vd_json_find_string(text, "ICD.api_version", api, sizeof(api), err, sizeof(err));
   free(text);
   check_library(s, path, lib, api);
}

static int compare_names(const void *a, const void *b)
{
   return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json in dir, in name order (the loader's order does not matter here). */
static void check_dir(struct icd_scan *s, const char *dir, const char *origin, bool must_exist)
{
   DIR *dh = opendir(dir);
   if (!dh) {
      if (must_exist)
         vd_doctor_add(s->d, "icd", VD_DOCTOR_FAIL, "correct the path in that variable",
                       "%s (from %s): %s", dir, origin, strerror(errno));
      return;
   }
   char *names[256];
   unsigned n = 0;
   for (struct dirent *e; (e = readdir(dh)) && n < 256;) {
      const size_t len = strlen(e->d_name);
      if (len > 5 && !strcmp(e->d_name + len - 5, ".json"))
         names[n++] = strdup(e->d_name);
   }
   closedir(dh);
   qsort(names, n, sizeof(names[0]), compare_names);
   for (unsigned i = 0; i < n; i++) {
      char path[4096];
      if (names[i]) {
         snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
         check_manifest(s, path, origin);
      }
      free(names[i]);
   }
}

/* A list of files and directories separated by ':' (VK_DRIVER_FILES and friends). */
static void check_list(struct icd_scan *s, const char *var, const char *list)
{
   char *copy = strdup(list);
   for (char *save = NULL, *p = copy ? strtok_r(copy, ":", &save) : NULL; p;
        p = strtok_r(NULL, ":", &save)) {
      struct stat st;
      if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
         check_dir(s, p, var, true);
      else
         check_manifest(s, p, var);
   }
   free(copy);
}

/* $VAR/suffix, or DEFAULT/suffix, for each ':'-separated entry. */
static void check_xdg(struct icd_scan *s, const char *var, const char *fallback)
{
   const char *v = getenv(var);
   char *copy = strdup(v && *v ? v : fallback);
   for (char *save = NULL, *p = copy ? strtok_r(copy, ":", &save) : NULL; p;
        p = strtok_r(NULL, ":", &save)) {
      char dir[4096];
      snprintf(dir, sizeof(dir), "%s/vulkan/icd.d", p);
      check_dir(s, dir, var, false);
   }
   free(copy);
}

static void check_home_dir(struct icd_scan *s, const char *var, const char *home_suffix)
{
   const char *v = getenv(var);
   const char *home = getenv("HOME");
   char dir[4096];
   if (v && *v)
      snprintf(dir, sizeof(dir), "%s/vulkan/icd.d", v);
   else if (home && *home)
      snprintf(dir, sizeof(dir), "%s/%s/vulkan/icd.d", home, home_suffix);
   else
      return;
   check_dir(s, dir, var, false);
}

void vd_doctor_check_icds(struct vd_doctor *d)
{
   vd_doctor_section(d, "Vulkan drivers (ICD manifests)");
   struct icd_scan s = { .d = d };
   const char *driver_files = getenv("VK_DRIVER_FILES");
   const char *var = "VK_DRIVER_FILES";
   if (!driver_files || !*driver_files) {
      driver_files = getenv("VK_ICD_FILENAMES");
      var = "VK_ICD_FILENAMES";
   }
   const char *add = getenv("VK_ADD_DRIVER_FILES");
   if (driver_files && *driver_files) {
      vd_doctor_add(d, "icd-search", VD_DOCTOR_INFO, NULL,
                    "%s=%s: the loader reads only these manifests", var, driver_files);
      check_list(&s, var, driver_files);
   } else {
      if (add && *add) {
         vd_doctor_add(d, "icd-search", VD_DOCTOR_INFO, NULL,
                       "VK_ADD_DRIVER_FILES=%s: read before the standard directories", add);
         check_list(&s, "VK_ADD_DRIVER_FILES", add);
      }
      check_home_dir(&s, "XDG_CONFIG_HOME", ".config");
      check_xdg(&s, "XDG_CONFIG_DIRS", "/etc/xdg");
      check_dir(&s, "/etc/vulkan/icd.d", "the system configuration", false);
      check_home_dir(&s, "XDG_DATA_HOME", ".local/share");
      check_xdg(&s, "XDG_DATA_DIRS", "/usr/local/share:/usr/share");
#ifdef __APPLE__
      check_dir(&s, "/opt/homebrew/share/vulkan/icd.d", "Homebrew", false);
#endif
   }
   if (!s.manifests) {
      struct vd_doctor_check *c =
         vd_doctor_add(d, "icd-none", VD_DOCTOR_FAIL, LINUX_HINT "; " MOLTENVK_HINT,
                       "no Vulkan driver manifest found (searched %s)",
                       driver_files && *driver_files ? var : "the loader's standard directories");
      vd_doctor_field_int(c, "manifests", 0);
   } else if (!s.usable) {
      vd_doctor_add(d, "icd-none", VD_DOCTOR_FAIL, LINUX_HINT "; " MOLTENVK_HINT,
                    "none of the %u driver manifests found names a library that loads",
                    s.manifests);
   }
}
