/* Buffers, images and descriptor updates. */
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* The spec requires a buffer or image bound to imported memory to have been created with
 * that handle type.  We cannot know at creation time what memory it will be bound to, so
 * with a host-pointer backend every buffer (and every image the driver allows) declares
 * HOST_ALLOCATION. */
static bool chain_has(const void *pnext, VkStructureType stype)
{
   for (const VkBaseInStructure *s = pnext; s; s = s->pNext)
      if (s->sType == stype)
         return true;
   return false;
}

static void buffer_destroy(struct vd_object *obj)
{
   struct vd_buffer *b = obj->data;
   b->dev->vk->DestroyBuffer(b->dev->handle, (VkBuffer)(uintptr_t)obj->handle, NULL);
   free(b);
}

static void image_destroy(struct vd_object *obj)
{
   struct vd_image *img = obj->data;
   img->dev->vk->DestroyImage(img->dev->handle, (VkImage)(uintptr_t)obj->handle, NULL);
   free(img);
}

VD_HANDLER(vkCreateBuffer)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pBuffer;
   VkBufferCreateInfo info = *a->pCreateInfo;
   vd_external_fix_memory_create_chain(disp, dev, &info.pNext, true);
   VkExternalMemoryBufferCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   if (dev->pdev->memory == &vd_memory_host_pointer &&
       !chain_has(info.pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO)) {
      ext.pNext = info.pNext;
      info.pNext = &ext;
   }
   /* The size is kept so that commands naming the buffer can be checked (command.c). */
   struct vd_buffer *b = malloc(sizeof(*b));
   if (!b) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   b->dev = dev;
   b->size = info.size;
   VkBuffer buf;
   a->ret = dev->vk->CreateBuffer(a->device, &info, NULL, &buf);
   if (a->ret != VK_SUCCESS) {
      free(b);
      return;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buf, a->obj, b,
                      buffer_destroy)) {
      dev->vk->DestroyBuffer(a->device, buf, NULL);
      free(b);
   }
}


static bool image_can_be_host_memory(struct vd_device *dev, const VkImageCreateInfo *info)
{
   VkPhysicalDeviceExternalImageFormatInfo ext = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   VkPhysicalDeviceImageFormatInfo2 fi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = &ext,
      .format = info->format,
      .type = info->imageType,
      .tiling = info->tiling,
      .usage = info->usage,
      .flags = info->flags,
   };
   VkExternalImageFormatProperties ep = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES };
   VkImageFormatProperties2 props = { .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2, .pNext = &ep };
   if (dev->vk->GetPhysicalDeviceImageFormatProperties2(dev->pdev->handle, &fi, &props) != VK_SUCCESS)
      return false;
   return ep.externalMemoryProperties.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

VD_HANDLER(vkCreateImage)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pImage;
   VkImageCreateInfo info = *a->pCreateInfo;
   const bool modifier = info.tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT;
   const VkSubresourceLayout *layout = NULL;
   if (!vd_modifier_fix_image_create(disp, dev, &info, &layout))
      return;
   const bool host_memory_ok =
      dev->pdev->memory != &vd_memory_host_pointer || image_can_be_host_memory(dev, &info);
   vd_external_fix_memory_create_chain(disp, dev, &info.pNext, host_memory_ok);
   VkExternalMemoryImageCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   if (dev->pdev->memory == &vd_memory_host_pointer &&
       !chain_has(info.pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO) &&
       host_memory_ok) {
      ext.pNext = info.pNext;
      info.pNext = &ext;
   }
   struct vd_image *rec = calloc(1, sizeof(*rec));
   if (!rec) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   rec->dev = dev;
   rec->linear_modifier = modifier && info.tiling == VK_IMAGE_TILING_LINEAR;
   VkImage img;
   a->ret = dev->vk->CreateImage(a->device, &info, NULL, &img);
   if (a->ret == VK_SUCCESS && layout) {
      a->ret = vd_modifier_check_layout(disp, dev, img, layout);
      if (a->ret != VK_SUCCESS)
         dev->vk->DestroyImage(a->device, img, NULL);
   }
   if (a->ret != VK_SUCCESS) {
      free(rec);
      return;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)img, a->obj, rec,
                      image_destroy)) {
      dev->vk->DestroyImage(a->device, img, NULL);
      free(rec);
   }
}

/* The driver reads pImageInfo, pBufferInfo or pTexelBufferView according to
 * descriptorType; the guest sends the irrelevant ones as NULL.  A NULL relevant one would
 * make the host driver read through NULL, so it is a guest error. */
static bool write_has_payload(const VkWriteDescriptorSet *w)
{
   if (!w->descriptorCount)
      return true;
   switch (w->descriptorType) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
      return w->pImageInfo != NULL;
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
      return w->pBufferInfo != NULL;
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
      return w->pTexelBufferView != NULL;
   case VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK:
      return chain_has(w->pNext, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK);
   default:
      return false;
   }
}

VD_HANDLER(vkUpdateDescriptorSets)
{
   for (uint32_t i = 0; i < a->descriptorWriteCount; i++) {
      if (!a->pDescriptorWrites[i].dstSet || !write_has_payload(&a->pDescriptorWrites[i])) {
         vd_dispatch_fatal(disp, "pDescriptorWrites[%u]: no dstSet, or no data for descriptor "
                           "type %d", i, a->pDescriptorWrites[i].descriptorType);
         return;
      }
   }
   vd_object_vk(a->obj)->UpdateDescriptorSets(a->device, a->descriptorWriteCount,
                                              a->pDescriptorWrites, a->descriptorCopyCount,
                                              a->pDescriptorCopies);
}
