/* The start-up check that a usable host Vulkan driver exists, so that a server without
 * one says so at once instead of "listening" and failing every client later.  It runs in
 * a child process: the server process itself never creates a Vulkan instance (it may have
 * loaded the libraries, vk/preload.c, but driver state must not be shared with the process
 * workers it forks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* In the child: 0 if an instance can be made and has a physical device. */
static int probe_here(void)
{
   PFN_vkGetInstanceProcAddr gipa = vd_loader_get_instance_proc_addr();
   if (!gipa)
      return 1; /* the loader logged why and what to install */
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
   const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                                   .pApplicationName = "venusd driver check",
                                   .apiVersion = VK_API_VERSION_1_1 };
   VkInstanceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pApplicationInfo = &app };
   vd_instance_portability(gipa, &ci); /* as the contexts' instances: MoltenVK needs it */
   VkInstance inst = VK_NULL_HANDLE;
   VkResult r = create ? create(&ci, NULL, &inst) : VK_ERROR_INITIALIZATION_FAILED;
   if (r != VK_SUCCESS) {
      vd_err(VD_CAT_VK, "no usable Vulkan driver: vkCreateInstance failed (VkResult %d)%s", r,
             r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": the loader found no driver (ICD)" : "");
      vd_loader_log_icds();
      return 1;
   }
   PFN_vkEnumeratePhysicalDevices enumerate =
      (PFN_vkEnumeratePhysicalDevices)gipa(inst, "vkEnumeratePhysicalDevices");
   PFN_vkGetPhysicalDeviceProperties props =
      (PFN_vkGetPhysicalDeviceProperties)gipa(inst, "vkGetPhysicalDeviceProperties");
   PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)gipa(inst, "vkDestroyInstance");
   uint32_t count = 0;
   r = enumerate(inst, &count, NULL);
   VkPhysicalDevice devs[8];
   uint32_t n = count < 8 ? count : 8;
   if (r >= 0 && n)
      r = enumerate(inst, &n, devs);
   if (r < 0 || !count) {
      vd_err(VD_CAT_VK,
             "no usable Vulkan driver: the loader's drivers report no physical "
             "device (vkEnumeratePhysicalDevices: VkResult %d, %u devices)",
             r, count);
      vd_loader_log_icds();
      destroy(inst, NULL);
      return 1;
   }
   for (uint32_t i = 0; i < n; i++) {
      VkPhysicalDeviceProperties p;
      props(devs[i], &p);
      vd_info(VD_CAT_VK, "host Vulkan device %u: %s (API %u.%u)", i, p.deviceName,
              VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion));
   }
   destroy(inst, NULL);
   return 0;
}

bool vd_vulkan_probe(void)
{
   fflush(NULL);
   const pid_t pid = fork();
   if (pid < 0) {
      vd_warn(VD_CAT_MAIN, "cannot fork the Vulkan driver check (%s); going on without it",
              strerror(errno));
      return true;
   }
   if (pid == 0)
      _exit(probe_here());
   int status = 0;
   while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
   if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      return true;
   if (WIFSIGNALED(status))
      vd_err(VD_CAT_VK,
             "the Vulkan driver check crashed (signal %d) while loading the host "
             "driver",
             WTERMSIG(status));
   return false;
}
