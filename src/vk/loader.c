/* The host Vulkan loader.  venusd dlopens it so that a missing or broken loader is a clear
 * per-context error rather than a startup failure, and every host call goes through tables
 * filled with vkGetInstanceProcAddr / vkGetDeviceProcAddr. */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vk/vk_common.h"

static pthread_once_t loader_once = PTHREAD_ONCE_INIT;
static PFN_vkGetInstanceProcAddr loader_gipa;

static void loader_init(void)
{
   const char *names[] = { "libvulkan.so.1", "libvulkan.so", "libvulkan.1.dylib",
                           "libMoltenVK.dylib" };
   for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
      void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
      if (!lib)
         continue;
      loader_gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr");
      if (loader_gipa) {
         vd_dbg(VD_CAT_VK, "Vulkan loader: %s", names[i]);
         return;
      }
   }
   vd_err(VD_CAT_VK,
          "cannot load the Vulkan loader (libvulkan.so.1): %s. Install the loader "
          "(Debian: apt-get install libvulkan1) and a driver (mesa-vulkan-drivers).",
          dlerror());
}

PFN_vkGetInstanceProcAddr vd_loader_get_instance_proc_addr(void)
{
   pthread_once(&loader_once, loader_init);
   return loader_gipa;
}

static void list_dir(const char *dir)
{
   DIR *d = opendir(dir);
   if (!d)
      return;
   struct dirent *e;
   while ((e = readdir(d)))
      if (strstr(e->d_name, ".json"))
         vd_err(VD_CAT_VK, "  ICD manifest seen: %s/%s", dir, e->d_name);
   closedir(d);
}

void vd_loader_log_icds(void)
{
   const char *vars[] = { "VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES" };
   for (unsigned i = 0; i < 3; i++) {
      const char *v = getenv(vars[i]);
      if (v)
         vd_err(VD_CAT_VK, "  %s=%s", vars[i], v);
   }
   list_dir("/usr/share/vulkan/icd.d");
   list_dir("/etc/vulkan/icd.d");
   list_dir("/usr/local/share/vulkan/icd.d");
   vd_err(VD_CAT_VK, "  (venusd needs a host Vulkan driver, e.g. lavapipe: "
                     "VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json)");
}
