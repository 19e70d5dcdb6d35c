/* The hooks through which a context (context/, a lower layer) reaches the Vulkan layer. */
#include "vk/vk.h"
#include "vk/vk_common.h"

const struct vd_context_hooks vd_vk_context_hooks = {
   .submit_fence = vd_queue_submit_fence,
   .export_blob = vd_device_memory_export_blob,
   .quiesce = vd_devices_quiesce,
};
