/* What the rest of venusd sees of the Vulkan layer: the probe at startup and the hooks that
 * contexts call it through (context/context.h says why they are hooks). */
#ifndef VD_VK_VK_H
#define VD_VK_VK_H

#include <stdbool.h>

#include "context/context.h"

/* probe.c: true if a host Vulkan instance with a physical device can be made (checked in
 * a child process); otherwise logs why and what to do. */
bool vd_vulkan_probe(void);

/* preload.c: loads the Vulkan loader and every host driver library (from the drivers'
 * manifests, as the loader finds them) without calling into any driver, so that process
 * workers forked afterwards share their relocated pages.  Logs what it loaded. */
void vd_vulkan_preload(void);

/* context_hooks.c: fence submission, blob export and teardown, for struct
 * vd_context_params.hooks. */
extern const struct vd_context_hooks vd_vk_context_hooks;

#endif
