/* The doctor's Vulkan checks: an instance (with portability enumeration where only that
 * shows devices), every physical device, the memory backend venusd would choose for it and
 * why (the same decision as vk/physical_device.c's, through vd_memory_decide), and a live
 * host-pointer import at the driver's alignment and at 16 KiB: allocate, map, write
 * through the driver's mapping, read back through a second mapping of the shared-memory
 * file (what the guest maps), and the other way round. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "doctor.h"
#include "platform/platform.h"
#include "util/options.h"
#include "util/shm.h"
#include "vk/vk_common.h"

#define PAGE_16K 16384u

struct vk_run {
   struct vd_doctor *d;
   const struct vd_doctor_config *cfg;
   PFN_vkGetInstanceProcAddr gipa;
   struct vd_instance inst; /* only the fields vd_memory_decide reads, and the table */
};

static const char *result_name(VkResult r)
{
   switch (r) {
   case VK_SUCCESS: return "VK_SUCCESS";
   case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
   case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
   case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
   case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
   case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
   case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
   case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
   case VK_ERROR_INVALID_EXTERNAL_HANDLE: return "VK_ERROR_INVALID_EXTERNAL_HANDLE";
   case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
   case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
   default: return "VkResult";
   }
}

static bool instance_has_extension(PFN_vkGetInstanceProcAddr gipa, const char *name)
{
   PFN_vkEnumerateInstanceExtensionProperties fn = (PFN_vkEnumerateInstanceExtensionProperties)gipa(
      NULL, "vkEnumerateInstanceExtensionProperties");
   uint32_t n = 0;
   if (!fn || fn(NULL, &n, NULL) < 0)
      return false;
   VkExtensionProperties *e = calloc(n ? n : 1, sizeof(*e));
   bool found = false;
   if (e && fn(NULL, &n, e) >= 0)
      for (uint32_t i = 0; i < n && !found; i++)
         found = !strcmp(e[i].extensionName, name);
   free(e);
   return found;
}

static VkResult create_instance(struct vk_run *v, bool portability)
{
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)v->gipa(NULL, "vkCreateInstance");
   const VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                                   .pApplicationName = "venusd doctor",
                                   .apiVersion = VK_API_VERSION_1_1 };
   const char *ext = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
   const VkInstanceCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .flags = portability ? VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR : 0,
      .pApplicationInfo = &app,
      .enabledExtensionCount = portability ? 1 : 0,
      .ppEnabledExtensionNames = &ext,
   };
   if (!create)
      return VK_ERROR_INITIALIZATION_FAILED;
   const VkResult r = create(&ci, NULL, &v->inst.handle);
   if (r == VK_SUCCESS)
      vd_vk_dispatch_load_instance(&v->inst.table, v->gipa, v->inst.handle);
   return r;
}

static uint32_t count_devices(struct vk_run *v)
{
   uint32_t n = 0;
   if (v->inst.table.EnumeratePhysicalDevices(v->inst.handle, &n, NULL) < 0)
      return 0;
   return n;
}

/* An instance with at least one device if there is any way to get one: without
 * portability enumeration first (what every driver but a portability one needs), then
 * with it. */
static bool make_instance(struct vk_run *v)
{
   const bool has_portability =
      instance_has_extension(v->gipa, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
   VkResult r = create_instance(v, false);
   bool portability = false;
   if (r == VK_SUCCESS && !count_devices(v) && has_portability) {
      v->inst.table.DestroyInstance(v->inst.handle, NULL);
      r = create_instance(v, true);
      portability = r == VK_SUCCESS && count_devices(v);
   }
   if (r != VK_SUCCESS) {
      struct vd_doctor_check *c = vd_doctor_add(
         v->d, "instance", VD_DOCTOR_FAIL,
         "see the driver checks above: the loader needs a driver manifest whose library "
         "loads (VK_LOADER_DEBUG=error,warn,driver shows what the loader tried)",
         "vkCreateInstance (Vulkan 1.1) failed: %s (%d)%s", result_name(r), r,
         r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": the loader found no usable driver" : "");
      vd_doctor_field_int(c, "result", r);
      return false;
   }
   struct vd_doctor_check *c =
      vd_doctor_add(v->d, "instance", VD_DOCTOR_OK, NULL, "instance created (Vulkan 1.1%s)",
                    portability ? ", with portability enumeration: this driver lists its "
                                  "devices only to instances that enable it (MoltenVK does)"
                                : "");
   vd_doctor_field_bool(c, "portability_enumeration", portability);
   vd_doctor_field_bool(c, "portability_enumeration_available", has_portability);
   return true;
}

static const char *device_type_name(VkPhysicalDeviceType t)
{
   static const char *const names[] = { "other", "integrated GPU", "discrete GPU", "virtual GPU",
                                        "CPU" };
   return (unsigned)t < 5 ? names[t] : "?";
}

/* The host extensions and the alignment venusd's own setup reads (physical_device.c). */
static void probe_device(struct vk_run *v, struct vd_physical_device *pd, uint64_t *driver_align,
                         VkPhysicalDeviceDriverProperties *driver)
{
   pd->vk = &v->inst.table;
   pd->instance = &v->inst;
   v->inst.table.GetPhysicalDeviceProperties(pd->handle, &pd->props);
   v->inst.table.GetPhysicalDeviceMemoryProperties(pd->handle, &pd->memory_props);
   pd->has_external_memory_host = vd_host_has_extension(pd, "VK_EXT_external_memory_host");
   pd->has_external_memory_fd = vd_host_has_extension(pd, "VK_KHR_external_memory_fd");
   pd->has_dma_buf = vd_host_has_extension(pd, "VK_EXT_external_memory_dma_buf");
   VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
   };
   *driver = (VkPhysicalDeviceDriverProperties){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2 };
   if (pd->has_external_memory_host)
      props.pNext = &host;
   if (pd->props.apiVersion >= VK_API_VERSION_1_2) {
      driver->pNext = props.pNext;
      props.pNext = driver;
   }
   if (v->inst.table.GetPhysicalDeviceProperties2)
      v->inst.table.GetPhysicalDeviceProperties2(pd->handle, &props);
   *driver_align = host.minImportedHostPointerAlignment;
   uint64_t align = *driver_align ? *driver_align : 4096;
   if (v->cfg->opts->host_pointer_alignment > align)
      align = v->cfg->opts->host_pointer_alignment;
   pd->host_pointer_alignment = align;
}

/* A device with VK_EXT_external_memory_host (and the portability subset where listed). */
static VkDevice create_device(struct vk_run *v, struct vd_physical_device *pd,
                              struct vd_vk_dispatch *table, VkResult *r)
{
   const float priority = 1.0f;
   const VkDeviceQueueCreateInfo queue = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                           .queueCount = 1,
                                           .pQueuePriorities = &priority };
   const char *exts[2] = { "VK_EXT_external_memory_host" };
   uint32_t n = 1;
   if (vd_host_has_extension(pd, "VK_KHR_portability_subset"))
      exts[n++] = "VK_KHR_portability_subset"; /* required where listed */
   const VkDeviceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                   .queueCreateInfoCount = 1,
                                   .pQueueCreateInfos = &queue,
                                   .enabledExtensionCount = n,
                                   .ppEnabledExtensionNames = exts };
   VkDevice dev = VK_NULL_HANDLE;
   *r = v->inst.table.CreateDevice(pd->handle, &ci, NULL, &dev);
   if (*r != VK_SUCCESS)
      return VK_NULL_HANDLE;
   *table = v->inst.table;
   PFN_vkGetDeviceProcAddr gdpa =
      (PFN_vkGetDeviceProcAddr)v->gipa(v->inst.handle, "vkGetDeviceProcAddr");
   vd_vk_dispatch_load_device(table, gdpa, dev);
   return dev;
}

/* Maps fd at an address aligned to exactly `align` (to align, not to 2 * align), so that
 * a driver that really needs more than it claims is caught. */
static void *map_exactly_aligned(int fd, uint64_t size, uint64_t align)
{
   const uint64_t span = size + 3 * align;
   uint8_t *res = vd_platform_map_reserve(span);
   if (res == MAP_FAILED)
      return MAP_FAILED;
   const uintptr_t two = (uintptr_t)(2 * align);
   uint8_t *at = (uint8_t *)(((uintptr_t)res + two - 1) / two * two + (uintptr_t)align);
   void *p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
   if (p == MAP_FAILED) {
      munmap(res, span);
      return MAP_FAILED;
   }
   if (at > res)
      munmap(res, (size_t)(at - res));
   if (at + size < res + span)
      munmap(at + size, (size_t)(res + span - (at + size)));
   return p;
}

struct import_test {
   struct vd_vk_dispatch *vk;
   VkDevice dev;
   const VkPhysicalDeviceMemoryProperties *mem_props;
   uint64_t align, size;
   int fd;
   void *ptr, *guest; /* the imported mapping; the second mapping, as the guest's */
   VkDeviceMemory mem;
   char why[300];
};

static uint32_t pick_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits)
{
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
      if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want)
         return i;
   return UINT32_MAX;
}

/* Writes a pattern through `to` and checks it through `from`. */
static bool round_trip(uint32_t *to, const uint32_t *from, uint64_t size, uint32_t seed)
{
   const uint64_t n = size / sizeof(uint32_t);
   for (uint64_t i = 0; i < n; i++)
      to[i] = (uint32_t)(i * 2654435761u) ^ seed;
   for (uint64_t i = 0; i < n; i++)
      if (from[i] != ((uint32_t)(i * 2654435761u) ^ seed))
         return false;
   return true;
}

static bool import_run(struct import_test *t)
{
   t->fd = vd_shm_create("venusd-doctor", t->size);
   if (t->fd < 0) {
      snprintf(t->why, sizeof(t->why), "cannot create a %" PRIu64 "-byte shared-memory file: %s",
               t->size, strerror(-t->fd));
      return false;
   }
   t->ptr = map_exactly_aligned(t->fd, t->size, t->align);
   t->guest = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
   if (t->ptr == MAP_FAILED || t->guest == MAP_FAILED) {
      snprintf(t->why, sizeof(t->why), "cannot map the shared-memory file");
      return false;
   }
   VkMemoryHostPointerPropertiesEXT hp = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT
   };
   VkResult r = t->vk->GetMemoryHostPointerPropertiesEXT(
      t->dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, t->ptr, &hp);
   const uint32_t type = r == VK_SUCCESS ? pick_type(t->mem_props, hp.memoryTypeBits) : UINT32_MAX;
   if (type == UINT32_MAX) {
      snprintf(t->why, sizeof(t->why),
               "vkGetMemoryHostPointerPropertiesEXT: %s (%d), memory types 0x%x: no host-visible "
               "coherent type can import this pointer",
               result_name(r), r, hp.memoryTypeBits);
      return false;
   }
   const VkImportMemoryHostPointerInfoEXT import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
      .pHostPointer = t->ptr,
   };
   const VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                     .pNext = &import,
                                     .allocationSize = t->size,
                                     .memoryTypeIndex = type };
   r = t->vk->AllocateMemory(t->dev, &ai, NULL, &t->mem);
   if (r != VK_SUCCESS) {
      t->mem = VK_NULL_HANDLE;
      snprintf(t->why, sizeof(t->why), "vkAllocateMemory importing the pointer (type %u): %s (%d)",
               type, result_name(r), r);
      return false;
   }
   void *mapped = NULL;
   r = t->vk->MapMemory(t->dev, t->mem, 0, VK_WHOLE_SIZE, 0, &mapped);
   if (r != VK_SUCCESS) {
      snprintf(t->why, sizeof(t->why), "vkMapMemory: %s (%d)", result_name(r), r);
      return false;
   }
   bool ok = round_trip(mapped, t->guest, t->size, 0x5a5a0000u);
   if (!ok)
      snprintf(t->why, sizeof(t->why),
               "what was written through vkMapMemory is not what the shared-memory file holds");
   if (ok && !(ok = round_trip(t->guest, mapped, t->size, 0xa5a50000u)))
      snprintf(t->why, sizeof(t->why),
               "what was written into the shared-memory file is not what vkMapMemory shows");
   t->vk->UnmapMemory(t->dev, t->mem);
   return ok;
}

static void import_fini(struct import_test *t)
{
   if (t->mem)
      t->vk->FreeMemory(t->dev, t->mem, NULL);
   if (t->ptr && t->ptr != MAP_FAILED)
      munmap(t->ptr, t->size);
   if (t->guest && t->guest != MAP_FAILED)
      munmap(t->guest, t->size);
   if (t->fd >= 0)
      close(t->fd);
}

/* One import at `align`; `used`: venusd's chosen backend imports at this alignment. */
static void check_import(struct vk_run *v, struct vd_vk_dispatch *vk, VkDevice dev,
                         const struct vd_physical_device *pd, uint64_t align, const char *label,
                         bool used)
{
   struct import_test t = { .vk = vk,
                            .dev = dev,
                            .mem_props = &pd->memory_props,
                            .align = align,
                            .size = align > 65536 ? align : 65536,
                            .fd = -1 };
   const bool ok = import_run(&t);
   import_fini(&t);
   struct vd_doctor_check *c;
   if (ok) {
      c = vd_doctor_add(v->d, "host-pointer-import", VD_DOCTOR_OK, NULL,
                        "host-pointer import at %" PRIu64 " bytes (%s): allocate, map, write, "
                        "read back through the guest's mapping",
                        align, label);
   } else {
      char fix[400];
      snprintf(fix, sizeof(fix),
               "%sthe driver lists VK_EXT_external_memory_host but refuses this import: use "
               "--memory export where the driver exports mappable dma-bufs, try "
               "--host-pointer-alignment with a larger power of two, and report it to the "
               "driver",
               used ? "venusd's host-pointer backend would fail every mappable allocation; " : "");
      c = vd_doctor_add(v->d, "host-pointer-import", used ? VD_DOCTOR_FAIL : VD_DOCTOR_WARN, fix,
                        "host-pointer import at %" PRIu64 " bytes (%s) failed: %s", align, label,
                        t.why);
      vd_doctor_field_str(c, "error", t.why);
   }
   vd_doctor_field_str(c, "device", pd->props.deviceName);
   vd_doctor_field_int(c, "alignment", (int64_t)align);
   vd_doctor_field_bool(c, "ok", ok);
}

static void check_imports(struct vk_run *v, struct vd_physical_device *pd, uint64_t driver_align)
{
   const bool used = pd->memory == &vd_memory_host_pointer;
   struct vd_vk_dispatch table;
   VkResult r;
   VkDevice dev = create_device(v, pd, &table, &r);
   if (!dev) {
      struct vd_doctor_check *c = vd_doctor_add(
         v->d, "host-pointer-import", used ? VD_DOCTOR_FAIL : VD_DOCTOR_WARN,
         "venusd creates its devices the same way: check the driver (vulkaninfo) and its log",
         "vkCreateDevice with VK_EXT_external_memory_host failed: %s (%d)", result_name(r), r);
      vd_doctor_field_str(c, "device", pd->props.deviceName);
      return;
   }
   const uint64_t base = driver_align ? driver_align : 4096;
   check_import(v, &table, dev, pd, base, "the driver's minImportedHostPointerAlignment", used);
   if (PAGE_16K > base)
      check_import(v, &table, dev, pd, PAGE_16K, "16 KiB pages, as on Apple Silicon", used);
   else if (PAGE_16K < base)
      vd_doctor_add(v->d, "host-pointer-import", VD_DOCTOR_INFO, NULL,
                    "16 KiB is below the driver's alignment (%" PRIu64 "): venusd rounds up", base);
   const uint64_t opt = v->cfg->opts->host_pointer_alignment;
   if (opt > base && opt != PAGE_16K)
      check_import(v, &table, dev, pd, opt, "--host-pointer-alignment", used);
   table.DestroyDevice(dev, NULL);
}

static void check_device(struct vk_run *v, VkPhysicalDevice handle, uint32_t index)
{
   struct vd_physical_device pd = { .handle = handle };
   uint64_t driver_align = 0;
   VkPhysicalDeviceDriverProperties driver;
   probe_device(v, &pd, &driver_align, &driver);
   const uint32_t api = pd.props.apiVersion;
   const bool too_old = api < VK_API_VERSION_1_1;
   struct vd_doctor_check *c = vd_doctor_add(
      v->d, "device", too_old ? VD_DOCTOR_FAIL : VD_DOCTOR_OK,
      too_old ? "Venus needs a Vulkan 1.1 host driver: update the driver" : NULL,
      "device %u: %s (%s; driver %s %s; Vulkan %u.%u.%u)", index, pd.props.deviceName,
      device_type_name(pd.props.deviceType), driver.driverName[0] ? driver.driverName : "?",
      driver.driverInfo, VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api),
      VK_API_VERSION_PATCH(api));
   char version[32];
   snprintf(version, sizeof(version), "%u.%u.%u", VK_API_VERSION_MAJOR(api),
            VK_API_VERSION_MINOR(api), VK_API_VERSION_PATCH(api));
   vd_doctor_field_int(c, "index", index);
   vd_doctor_field_str(c, "name", pd.props.deviceName);
   vd_doctor_field_str(c, "type", device_type_name(pd.props.deviceType));
   vd_doctor_field_str(c, "driver", driver.driverName);
   vd_doctor_field_str(c, "driver_info", driver.driverInfo);
   vd_doctor_field_str(c, "api_version", version);
   vd_doctor_field_bool(c, "portability_subset",
                        vd_host_has_extension(&pd, "VK_KHR_portability_subset"));

   char why[400];
   pd.memory = vd_memory_decide(&pd, why, sizeof(why));
   if (pd.memory)
      c = vd_doctor_add(v->d, "memory-backend", VD_DOCTOR_OK, NULL, "memory backend %s: %s",
                        pd.memory->name, why);
   else
      c = vd_doctor_add(v->d, "memory-backend", VD_DOCTOR_FAIL,
                        "guests could not map any memory on this device: use a driver with "
                        "VK_EXT_external_memory_host (or mappable dma-buf export), or drop a "
                        "--memory choice it cannot serve",
                        "no memory backend: %s", why);
   vd_doctor_field_str(c, "device", pd.props.deviceName);
   vd_doctor_field_str(c, "backend", pd.memory ? pd.memory->name : "none");
   vd_doctor_field_str(c, "why", why);
   vd_doctor_field_int(c, "min_imported_host_pointer_alignment", (int64_t)driver_align);
   vd_doctor_field_bool(c, "external_memory_host", pd.has_external_memory_host);
   vd_doctor_field_bool(c, "external_memory_fd", pd.has_external_memory_fd);
   vd_doctor_field_bool(c, "dma_buf", pd.has_dma_buf);
   if (pd.has_external_memory_host && !too_old)
      check_imports(v, &pd, driver_align);
   else
      vd_doctor_add(v->d, "host-pointer-import", VD_DOCTOR_INFO, NULL,
                    "no host-pointer import tried: the driver lacks VK_EXT_external_memory_host");
}

void vd_doctor_check_vulkan(struct vd_doctor *d, const struct vd_doctor_config *cfg)
{
   vd_doctor_section(d, "Vulkan instance and devices");
   struct vk_run v = { .d = d, .cfg = cfg, .gipa = vd_loader_get_instance_proc_addr() };
   v.inst.opts = cfg->opts;
   v.inst.vk = &v.inst.table;
   if (!v.gipa) {
      vd_doctor_add(d, "instance", VD_DOCTOR_FAIL, "install the Vulkan loader (see above)",
                    "no instance: there is no Vulkan loader");
      return;
   }
   if (!make_instance(&v))
      return;
   uint32_t n = count_devices(&v);
   VkPhysicalDevice *devs = calloc(n ? n : 1, sizeof(*devs));
   if (devs && n && v.inst.table.EnumeratePhysicalDevices(v.inst.handle, &n, devs) < 0)
      n = 0;
   if (!n)
      vd_doctor_add(d, "devices", VD_DOCTOR_FAIL,
                    "the drivers the loader found see no device: check the ICD checks above, "
                    "the GPU's kernel driver and permissions (/dev/dri), or use lavapipe",
                    "the instance has no physical device");
   for (uint32_t i = 0; i < n && devs; i++)
      check_device(&v, devs[i], i);
   free(devs);
   v.inst.table.DestroyInstance(v.inst.handle, NULL);
}
