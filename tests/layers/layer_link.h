/* The loader's link info in a layer's vkCreateInstance / vkCreateDevice chain, shared by the
 * project's test and benchmark layers (tests/layers/moltenvk_shape.c,
 * tests/integration/refuse_host_pointer_layer.c, bench/hide_ext_layer.c).  NULL if the
 * chain has none (the layer then fails the call with VK_ERROR_INITIALIZATION_FAILED). */
#ifndef VD_LAYER_LINK_H
#define VD_LAYER_LINK_H

#include <vulkan/vk_layer.h>

static inline VkLayerInstanceCreateInfo *layer_instance_link(const VkInstanceCreateInfo *ci)
{
   VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)ci->pNext;
   while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO &&
                    link->function == VK_LAYER_LINK_INFO))
      link = (VkLayerInstanceCreateInfo *)link->pNext;
   return link;
}

static inline VkLayerDeviceCreateInfo *layer_device_link(const VkDeviceCreateInfo *ci)
{
   VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)ci->pNext;
   while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO &&
                    link->function == VK_LAYER_LINK_INFO))
      link = (VkLayerDeviceCreateInfo *)link->pNext;
   return link;
}

#endif
