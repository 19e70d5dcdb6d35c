/* Instance handlers. */
#include <stdlib.h>
#include <string.h>

#include "context/protocol.h"
#include "util/options.h"
#include "util/log.h"
#include "vk/vk_common.h"

static void instance_destroy(struct vd_object *obj)
{
   struct vd_instance *inst = obj->data;
   if (inst->handle)
      inst->table.DestroyInstance(inst->handle, NULL);
   for (uint32_t i = 0; i < inst->pdev_count; i++) {
      free(inst->pdevs[i].exts);
      free(inst->pdevs[i].queue_families);
   }
   free(inst->pdevs);
   pthread_mutex_destroy(&inst->mutex);
   free(inst);
}

VD_HANDLER(vkEnumerateInstanceVersion)
{
   PFN_vkGetInstanceProcAddr gipa = vd_loader_get_instance_proc_addr();
   PFN_vkEnumerateInstanceVersion fn =
      gipa ? (PFN_vkEnumerateInstanceVersion)gipa(NULL, "vkEnumerateInstanceVersion") : NULL;
   uint32_t version = VK_API_VERSION_1_0;
   if (!gipa) {
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }
   a->ret = fn ? fn(&version) : VK_SUCCESS;
   if (a->pApiVersion)
      *a->pApiVersion = vd_emulation_api_version(version, disp->ctx->params.protocol_level);
}

/* The renderer's own instance extensions: the two Venus protocol extensions. */
VD_HANDLER(vkEnumerateInstanceExtensionProperties)
{
   static const char *const names[] = { "VK_EXT_command_serialization", "VK_MESA_venus_protocol" };
   const uint32_t total = 2;
   if (a->pLayerName) {
      a->ret = VK_ERROR_LAYER_NOT_PRESENT;
      return;
   }
   if (!a->pProperties) {
      *a->pPropertyCount = total;
      a->ret = VK_SUCCESS;
      return;
   }
   uint32_t n = *a->pPropertyCount < total ? *a->pPropertyCount : total;
   for (uint32_t i = 0; i < n; i++) {
      memset(&a->pProperties[i], 0, sizeof(a->pProperties[i]));
      snprintf(a->pProperties[i].extensionName, sizeof(a->pProperties[i].extensionName), "%s",
               names[i]);
      for (uint32_t j = 0; j < VN_PROTOCOL_EXTENSION_COUNT; j++)
         if (!strcmp(vn_protocol_extensions[j].name, names[i]))
            a->pProperties[i].specVersion = vn_protocol_extensions[j].spec_version;
      if (!strcmp(names[i], "VK_MESA_venus_protocol")) /* the context's spec */
         a->pProperties[i].specVersion =
            vd_protocol_get(disp->ctx->params.protocol_level)->mesa_spec;
   }
   *a->pPropertyCount = n;
   a->ret = n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

bool vd_instance_portability(PFN_vkGetInstanceProcAddr gipa, VkInstanceCreateInfo *info)
{
   static const char *const name = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
   PFN_vkEnumerateInstanceExtensionProperties enumerate =
      (PFN_vkEnumerateInstanceExtensionProperties)gipa(NULL,
                                                       "vkEnumerateInstanceExtensionProperties");
   uint32_t count = 0;
   if (!enumerate || enumerate(NULL, &count, NULL) < 0)
      return false;
   VkExtensionProperties *exts = calloc(count ? count : 1, sizeof(*exts));
   bool found = false;
   if (exts && enumerate(NULL, &count, exts) >= 0)
      for (uint32_t i = 0; i < count && !found; i++)
         found = !strcmp(exts[i].extensionName, name);
   free(exts);
   if (found) {
      info->flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
      info->enabledExtensionCount = 1;
      info->ppEnabledExtensionNames = &name;
   }
   return found;
}

VD_HANDLER(vkCreateInstance)
{
   const uint64_t id = (uint64_t)(uintptr_t)*a->pInstance;
   PFN_vkGetInstanceProcAddr gipa = vd_loader_get_instance_proc_addr();
   if (!gipa) {
      vd_err(VD_CAT_VK, "context %u: vkCreateInstance: no Vulkan loader (see above)",
             disp->ctx->params.id);
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }
   /* The guest's layers and instance extensions are its own business: the host instance
    * gets the application info (apiVersion raised to at least 1.1, which the protocol
    * needs) and only what venusd itself needs: portability enumeration where the loader
    * offers it, so that portability drivers (MoltenVK) are listed at all. */
   VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO };
   if (a->pCreateInfo->pApplicationInfo)
      app = *a->pCreateInfo->pApplicationInfo;
   app.pNext = NULL;
   if (app.apiVersion < VK_API_VERSION_1_1)
      app.apiVersion = VK_API_VERSION_1_1;
   const uint32_t level = disp->ctx->params.protocol_level;
   const uint32_t cap = level == VD_PROTOCOL_MESA25 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_4;
   if (app.apiVersion > cap)
      app.apiVersion = cap;
   const char *layers[1];
   uint32_t layer_count = 0;
   if (disp->ctx->params.opts->validate)
      layers[layer_count++] = "VK_LAYER_KHRONOS_validation";
   VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledLayerCount = layer_count,
      .ppEnabledLayerNames = layers,
   };
   struct vd_instance *inst = calloc(1, sizeof(*inst));
   if (!inst) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   inst->portability = vd_instance_portability(gipa, &info);
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
   a->ret = create ? create(&info, NULL, &inst->handle) : VK_ERROR_INITIALIZATION_FAILED;
   if (a->ret != VK_SUCCESS) {
      vd_err(VD_CAT_VK, "context %u: host vkCreateInstance failed: VkResult %d%s",
             disp->ctx->params.id, a->ret,
             a->ret == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no usable Vulkan driver found)"
             : a->ret == VK_ERROR_LAYER_NOT_PRESENT
                ? " (--validate needs the Khronos validation layer: apt-get install "
                  "vulkan-validationlayers)"
                : "");
      if (a->ret == VK_ERROR_INCOMPATIBLE_DRIVER || a->ret == VK_ERROR_INITIALIZATION_FAILED)
         vd_loader_log_icds();
      free(inst);
      return;
   }
   pthread_mutex_init(&inst->mutex, NULL);
   inst->api_version = app.apiVersion;
   inst->protocol_level = level;
   vd_vk_dispatch_load_instance(&inst->table, gipa, inst->handle);
   inst->vk = &inst->table;
   inst->opts = disp->ctx->params.opts;
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_INSTANCE, (uint64_t)(uintptr_t)inst->handle, NULL,
                      inst, instance_destroy)) {
      inst->table.DestroyInstance(inst->handle, NULL);
      pthread_mutex_destroy(&inst->mutex);
      free(inst);
      a->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }
   vd_dbg(VD_CAT_VK, "context %u: instance %llu created (API %u.%u%s)", disp->ctx->params.id,
          (unsigned long long)id, VK_API_VERSION_MAJOR(app.apiVersion),
          VK_API_VERSION_MINOR(app.apiVersion),
          inst->portability ? ", with portability enumeration" : "");
}

VD_HANDLER(vkDestroyInstance)
{
   /* The host instance is destroyed once its last child record is gone; physical devices
    * have no destroy command, so they go with their instance. */
   struct vd_instance *inst = a->obj->data;
   for (uint32_t i = 0; i < inst->pdev_count; i++)
      if (inst->pdevs[i].id)
         vd_object_remove(disp, inst->pdevs[i].id);
   vd_object_remove(disp, a->obj->id);
}
