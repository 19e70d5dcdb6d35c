/* Buffers, images, query pools, descriptor set layouts and descriptor updates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_common.h"

/* The spec requires a buffer or image bound to imported memory to have been created with
 * that handle type.  We cannot know at creation time what memory it will be bound to, so
 * with a host-pointer backend every buffer (and every image the driver allows) declares
 * HOST_ALLOCATION. */

static void buffer_destroy(struct vd_object *obj)
{
   struct vd_buffer *b = obj->data;
   vd_address_buffer_gone(obj);
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
       !vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO)) {
      ext.pNext = info.pNext;
      info.pNext = &ext;
   }
   /* The size is kept so that commands naming the buffer can be checked (range_check.c). */
   struct vd_buffer *b = calloc(1, sizeof(*b));
   if (!b) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   b->dev = dev;
   b->size = info.size;
   /* Its device addresses may be named by commands (device_address.c). */
   const VkBufferUsageFlags2CreateInfo *u2 =
      vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO);
   b->device_address =
      ((u2 ? u2->usage : info.usage) & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) != 0;
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
   VkExternalImageFormatProperties ep = { .sType =
                                             VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES };
   VkImageFormatProperties2 props = { .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
                                      .pNext = &ep };
   if (dev->vk->GetPhysicalDeviceImageFormatProperties2(dev->pdev->handle, &fi, &props) !=
       VK_SUCCESS)
      return false;
   return ep.externalMemoryProperties.externalMemoryFeatures &
          VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
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
       !vd_chain_find(info.pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO) &&
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
   rec->type = info.imageType;
   rec->format = info.format;
   rec->extent = info.extent;
   rec->mip_levels = info.mipLevels;
   rec->array_layers = info.arrayLayers;
   rec->samples = info.samples;
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
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT: return w->pImageInfo != NULL;
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC: return w->pBufferInfo != NULL;
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER: return w->pTexelBufferView != NULL;
   case VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK:
      return vd_chain_find(w->pNext, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK);
   case VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR: {
      /* the driver reads descriptorCount handles from it */
      const VkWriteDescriptorSetAccelerationStructureKHR *as =
         vd_chain_find(w->pNext, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_ACCELERATION_STRUCTURE_KHR);
      return as && as->accelerationStructureCount == w->descriptorCount &&
             as->pAccelerationStructures;
   }
   default: return false;
   }
}

/* -- query pools ------------------------------------------------------------------------ */

static void query_pool_destroy(struct vd_object *obj)
{
   struct vd_query_pool *p = obj->data;
   p->dev->vk->DestroyQueryPool(p->dev->handle, (VkQueryPool)(uintptr_t)obj->handle, NULL);
   free(p);
}

static unsigned popcount32(uint32_t v)
{
   return (unsigned)__builtin_popcount(v);
}

/* The result values of one query (the spec's "Query Operation" section), without the
 * availability or status value. */
static void query_values(struct vd_query_pool *p, const VkQueryPoolCreateInfo *info)
{
   p->values = 1;
   p->wide = false;
   switch (info->queryType) {
   case VK_QUERY_TYPE_PIPELINE_STATISTICS: p->values = popcount32(info->pipelineStatistics); break;
   case VK_QUERY_TYPE_TRANSFORM_FEEDBACK_STREAM_EXT: p->values = 2; break;
   case VK_QUERY_TYPE_RESULT_STATUS_ONLY_KHR: p->values = 0; break;
   case VK_QUERY_TYPE_PERFORMANCE_QUERY_KHR:
      for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
         if (s->sType == VK_STRUCTURE_TYPE_QUERY_POOL_PERFORMANCE_CREATE_INFO_KHR)
            p->values = ((const VkQueryPoolPerformanceCreateInfoKHR *)s)->counterIndexCount;
      p->wide = true; /* VkPerformanceCounterResultKHR: 8 bytes */
      break;
   case VK_QUERY_TYPE_VIDEO_ENCODE_FEEDBACK_KHR:
      for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
         if (s->sType == VK_STRUCTURE_TYPE_QUERY_POOL_VIDEO_ENCODE_FEEDBACK_CREATE_INFO_KHR)
            p->values = popcount32(
               ((const VkQueryPoolVideoEncodeFeedbackCreateInfoKHR *)s)->encodeFeedbackFlags);
      break;
   default: break;
   }
}

VD_HANDLER(vkCreateQueryPool)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pQueryPool;
   VkQueryPoolCreateInfo info = *a->pCreateInfo;
   vd_strip_mesa_structs(&info.pNext);
   /* The query count and result size are kept so that commands naming the pool can be
    * checked (range_check.c, vkGetQueryPoolResults). */
   struct vd_query_pool *p = malloc(sizeof(*p));
   if (!p) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   p->dev = dev;
   p->type = info.queryType;
   p->count = info.queryCount;
   query_values(p, &info);
   VkQueryPool pool;
   a->ret = dev->vk->CreateQueryPool(a->device, &info, NULL, &pool);
   if (a->ret != VK_SUCCESS) {
      free(p);
      return;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_QUERY_POOL, (uint64_t)(uintptr_t)pool, a->obj, p,
                      query_pool_destroy)) {
      dev->vk->DestroyQueryPool(a->device, pool, NULL);
      free(p);
   }
}

const struct vd_query_pool *vd_query_pool_of(struct vd_dispatch *disp, VkQueryPool pool)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_QUERY_POOL, (uint64_t)(uintptr_t)pool);
   if (!o) {
      vd_dispatch_fatal(disp, "queryPool: not found among the command's objects");
      return NULL;
   }
   return o->data;
}

bool vd_query_range_ok(struct vd_dispatch *disp, const struct vd_query_pool *pool, uint32_t first,
                       uint32_t count)
{
   if (first > pool->count || count > pool->count - first) {
      vd_dispatch_fatal(disp, "firstQuery %u + queryCount %u exceed the %u-query pool", first,
                        count, pool->count);
      return false;
   }
   return true;
}

uint64_t vd_query_results_span(const struct vd_query_pool *pool, uint32_t count,
                               VkDeviceSize stride, VkQueryResultFlags flags)
{
   if (!count)
      return 0;
   const uint64_t values =
      (uint64_t)pool->values + ((flags & (VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                                          VK_QUERY_RESULT_WITH_STATUS_BIT_KHR)) != 0);
   const uint64_t one = values * (pool->wide || (flags & VK_QUERY_RESULT_64_BIT) ? 8 : 4);
   uint64_t span;
   if (__builtin_mul_overflow((uint64_t)(count - 1), stride, &span) ||
       __builtin_add_overflow(span, one, &span) || span == UINT64_MAX)
      return UINT64_MAX - 1; /* fits nothing (UINT64_MAX would mean VK_WHOLE_SIZE) */
   return span;
}

VD_HANDLER(vkResetQueryPool)
{
   const struct vd_query_pool *p = vd_query_pool_of(disp, a->queryPool);
   if (p && vd_query_range_ok(disp, p, a->firstQuery, a->queryCount))
      vd_object_vk(a->obj)->ResetQueryPool(a->device, a->queryPool, a->firstQuery, a->queryCount);
}

/* -- descriptor set layouts ------------------------------------------------------------- */

void vd_set_layout_unref(struct vd_set_layout *layout)
{
   if (layout && atomic_fetch_sub(&layout->refs, 1) == 1)
      free(layout);
}

struct set_layout_record {
   struct vd_device *dev;
   struct vd_set_layout *layout;
};

static void set_layout_destroy(struct vd_object *obj)
{
   struct set_layout_record *r = obj->data;
   r->dev->vk->DestroyDescriptorSetLayout(r->dev->handle,
                                          (VkDescriptorSetLayout)(uintptr_t)obj->handle, NULL);
   vd_set_layout_unref(r->layout);
   free(r);
}

/* The most descriptors one binding, and one set layout, may hold: the largest per-set
 * descriptor limit the host reports (maxPerSetDescriptors, maxDescriptorSet*, and their
 * update-after-bind forms, which bindless layouts rely on), at least 2^20.  No valid layout
 * needs more in one binding; drivers size their set layouts with 32-bit arithmetic, which
 * a guest's 2^31 descriptors would overflow. */
static uint64_t max_set_descriptors(const struct vd_device *dev)
{
   const struct vd_physical_device *pd = dev->pdev;
   VkPhysicalDeviceVulkan12Properties p12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES
   };
   VkPhysicalDeviceMaintenance3Properties m3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &m3 };
   if (pd->props.apiVersion >= VK_API_VERSION_1_2 &&
       pd->instance->api_version >= VK_API_VERSION_1_2)
      m3.pNext = &p12;
   pd->vk->GetPhysicalDeviceProperties2(pd->handle, &props);
   const VkPhysicalDeviceLimits *l = &props.properties.limits;
   const uint32_t limits[] = {
      m3.maxPerSetDescriptors,
      l->maxDescriptorSetSamplers,
      l->maxDescriptorSetUniformBuffers,
      l->maxDescriptorSetStorageBuffers,
      l->maxDescriptorSetSampledImages,
      l->maxDescriptorSetStorageImages,
      l->maxDescriptorSetInputAttachments,
      p12.maxDescriptorSetUpdateAfterBindSamplers,
      p12.maxDescriptorSetUpdateAfterBindUniformBuffers,
      p12.maxDescriptorSetUpdateAfterBindStorageBuffers,
      p12.maxDescriptorSetUpdateAfterBindSampledImages,
      p12.maxDescriptorSetUpdateAfterBindStorageImages,
      p12.maxDescriptorSetUpdateAfterBindInputAttachments,
   };
   uint64_t max = 1u << 20;
   for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
      max = limits[i] > max ? limits[i] : max;
   return max;
}

static int binding_cmp(const void *x, const void *y)
{
   const struct vd_set_binding *a = x, *b = y;
   return a->binding < b->binding ? -1 : a->binding > b->binding;
}

VD_HANDLER(vkCreateDescriptorSetLayout)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pSetLayout;
   VkDescriptorSetLayoutCreateInfo info = *a->pCreateInfo;
   vd_strip_mesa_structs(&info.pNext);
   const uint32_t n = info.pBindings ? info.bindingCount : 0;
   /* Each binding's count, and the layout's total, must stay within a limit no valid
    * layout exceeds (see max_set_descriptors); sums are 64-bit, counts 32-bit. */
   const uint64_t max = max_set_descriptors(dev);
   uint64_t total = 0;
   for (uint32_t i = 0; i < n; i++) {
      const VkDescriptorSetLayoutBinding *b = &info.pBindings[i];
      total += b->descriptorCount;
      if (b->descriptorCount > max || total > 8 * max) {
         vd_dispatch_fatal(disp,
                           "pCreateInfo->pBindings[%u].descriptorCount %u: more than the "
                           "%" PRIu64 " descriptors a binding may hold (%" PRIu64 " in a layout)",
                           i, b->descriptorCount, max, 8 * max);
         return;
      }
   }
   const VkDescriptorSetLayoutBindingFlagsCreateInfo *flags = NULL;
   for (const VkBaseInStructure *s = info.pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_BINDING_FLAGS_CREATE_INFO)
         flags = (const void *)s;
   struct set_layout_record *rec = malloc(sizeof(*rec));
   struct vd_set_layout *l = malloc(sizeof(*l) + (size_t)n * sizeof(l->bindings[0]));
   if (!rec || !l) {
      free(rec);
      free(l);
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   atomic_init(&l->refs, 1);
   l->binding_count = n;
   l->variable_last = false;
   uint32_t last = 0, variable = UINT32_MAX;
   for (uint32_t i = 0; i < n; i++) {
      const VkDescriptorSetLayoutBinding *b = &info.pBindings[i];
      l->bindings[i] = (struct vd_set_binding){ b->binding, b->descriptorType, b->descriptorCount };
      last = b->binding > last ? b->binding : last;
      if (flags && flags->pBindingFlags && i < flags->bindingCount &&
          (flags->pBindingFlags[i] & VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT))
         variable = b->binding;
   }
   qsort(l->bindings, n, sizeof(l->bindings[0]), binding_cmp);
   /* Only the highest binding may have a variable count (the driver sizes each set by it). */
   l->variable_last = n && variable == last;
   rec->dev = dev;
   rec->layout = l;
   VkDescriptorSetLayout layout;
   a->ret = dev->vk->CreateDescriptorSetLayout(a->device, &info, NULL, &layout);
   if (a->ret != VK_SUCCESS) {
      free(l);
      free(rec);
      return;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, (uint64_t)(uintptr_t)layout,
                      a->obj, rec, set_layout_destroy)) {
      dev->vk->DestroyDescriptorSetLayout(a->device, layout, NULL);
      free(l);
      free(rec);
   }
}

struct vd_set_layout *vd_set_layout_of(struct vd_dispatch *disp, VkDescriptorSetLayout layout)
{
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, (uint64_t)(uintptr_t)layout);
   return o ? ((const struct set_layout_record *)o->data)->layout : NULL;
}

/* -- descriptor updates ----------------------------------------------------------------- */

/* The descriptors (bytes of an inline uniform block) that `binding` of the set holds. */
static uint32_t binding_count(const struct vd_set_layout *l, uint32_t variable_count, uint32_t i)
{
   if (l->variable_last && i == l->binding_count - 1)
      return variable_count;
   return l->bindings[i].count;
}

/* Descriptors [elem, elem + count) from `binding` of the set exist: they lie in that
 * binding and, past its end, in the following bindings of the same type (the spec's
 * consecutive binding updates; bindings with no descriptors are skipped, inline uniform
 * blocks do not continue into the next binding).  `type`, if not NULL, must be the
 * binding's type (or the binding is MUTABLE).  `what` names the struct, `side` "dst" or
 * "src". */
static bool layout_range_ok(struct vd_dispatch *disp, const char *what, const char *side,
                            const struct vd_set_layout *l, uint32_t variable_count,
                            uint32_t binding, uint32_t elem, uint32_t count,
                            const VkDescriptorType *type)
{
   uint32_t i = 0;
   while (i < l->binding_count && l->bindings[i].binding != binding)
      i++;
   if (i == l->binding_count) {
      vd_dispatch_fatal(disp, "%s.%sBinding %u is not a binding of the set's layout", what, side,
                        binding);
      return false;
   }
   const VkDescriptorType t = l->bindings[i].type;
   if (type && *type != t && t != VK_DESCRIPTOR_TYPE_MUTABLE_EXT) {
      vd_dispatch_fatal(disp, "%s.descriptorType %d is not the type %d of dstBinding %u", what,
                        *type, t, binding);
      return false;
   }
   uint64_t avail = binding_count(l, variable_count, i);
   if (t != VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
      for (uint32_t j = i + 1; j < l->binding_count && l->bindings[j].type == t; j++)
         avail += binding_count(l, variable_count, j);
   if ((uint64_t)elem + count > avail) {
      vd_dispatch_fatal(disp,
                        "%s: %sArrayElement %u + descriptorCount %u exceed the %" PRIu64
                        " descriptors from %sBinding %u on",
                        what, side, elem, count, avail, side, binding);
      return false;
   }
   return true;
}

static bool set_range_ok(struct vd_dispatch *disp, const char *what, const char *side,
                         const struct vd_object *set_obj, uint32_t binding, uint32_t elem,
                         uint32_t count, const VkDescriptorType *type)
{
   const struct vd_descriptor_set *set = set_obj ? set_obj->data : NULL;
   if (!set || !set->layout) {
      vd_dispatch_fatal(disp, "%s.%sSet: not found among the command's objects", what, side);
      return false;
   }
   return layout_range_ok(disp, what, side, set->layout, set->variable_count, binding, elem, count,
                          type);
}

static const struct vd_object *set_object(struct vd_dispatch *disp, VkDescriptorSet set)
{
   return vd_dispatch_looked(disp, VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)set);
}

/* An inline uniform block write carries exactly descriptorCount bytes. */
static bool inline_data_ok(struct vd_dispatch *disp, const char *what,
                           const VkWriteDescriptorSet *w)
{
   if (w->descriptorType != VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
      return true;
   for (const VkBaseInStructure *s = w->pNext; s; s = s->pNext) {
      if (s->sType != VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK)
         continue;
      const VkWriteDescriptorSetInlineUniformBlock *b = (const void *)s;
      if (b->dataSize == w->descriptorCount && (b->pData || !b->dataSize))
         return true;
      vd_dispatch_fatal(disp,
                        "%s: VkWriteDescriptorSetInlineUniformBlock.dataSize %u is not "
                        "descriptorCount %u",
                        what, b->dataSize, w->descriptorCount);
      return false;
   }
   return true; /* write_has_payload found none */
}

static bool layout_write_quick_ok(const struct vd_set_layout *l, uint32_t variable_count,
                                  const VkWriteDescriptorSet *w);

bool vd_push_descriptor_writes_ok(struct vd_dispatch *disp, const struct vd_set_layout *l,
                                  uint32_t count, const VkWriteDescriptorSet *writes)
{
   char what[48];
   for (uint32_t i = 0; i < count; i++) {
      const VkWriteDescriptorSet *w = &writes[i];
      if (!write_has_payload(w)) {
         vd_dispatch_fatal(disp, "pDescriptorWrites[%u]: no data for descriptor type %d", i,
                           w->descriptorType);
         return false;
      }
      if (layout_write_quick_ok(l, 0, w))
         continue;
      snprintf(what, sizeof(what), "pDescriptorWrites[%u]", i);
      if (!inline_data_ok(disp, what, w) ||
          !layout_range_ok(disp, what, "dst", l, 0, w->dstBinding, w->dstArrayElement,
                           w->descriptorCount, &w->descriptorType))
         return false;
   }
   return true;
}

/* Holds of one descriptor set, taken in batches under its lock. */
struct hold_batch {
   struct vd_dispatch *disp;
   struct vd_object *dst;
   struct vd_object *v[32];
   uint32_t n, named; /* named: objects added so far (with repeats) */
   bool ok;
};

static void batch_flush(struct hold_batch *b)
{
   if (b->n && b->ok && b->dst)
      b->ok = vd_object_hold_many(b->dst, b->v, b->n);
   b->n = 0;
}

static void batch_push(struct hold_batch *b, struct vd_object *o)
{
   b->v[b->n++] = o;
   if (b->n == sizeof(b->v) / sizeof(b->v[0]))
      batch_flush(b);
}

static void batch_add(struct hold_batch *b, uint32_t type, uint64_t handle)
{
   struct vd_object *o = handle ? vd_dispatch_looked(b->disp, type, handle) : NULL;
   if (o) {
      b->named++;
      batch_push(b, o);
   }
}

/* Adds what write w names: the fields of VkWriteDescriptorSet and its pNext chain that the
 * generated decoder looks up (samplers, image views, buffers, buffer views, acceleration
 * structures), not its dstSet. */
static void batch_add_write(struct hold_batch *b, const VkWriteDescriptorSet *w)
{
   for (uint32_t j = 0; j < w->descriptorCount; j++) {
      if (w->pImageInfo) {
         batch_add(b, VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)w->pImageInfo[j].sampler);
         batch_add(b, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)w->pImageInfo[j].imageView);
      }
      if (w->pBufferInfo)
         batch_add(b, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)w->pBufferInfo[j].buffer);
      if (w->pTexelBufferView)
         batch_add(b, VK_OBJECT_TYPE_BUFFER_VIEW, (uint64_t)(uintptr_t)w->pTexelBufferView[j]);
   }
   const VkWriteDescriptorSetAccelerationStructureKHR *as =
      vd_chain_find(w->pNext, VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_ACCELERATION_STRUCTURE_KHR);
   for (uint32_t j = 0; as && as->pAccelerationStructures && j < as->accelerationStructureCount;
        j++)
      batch_add(b, VK_OBJECT_TYPE_ACCELERATION_STRUCTURE_KHR,
                (uint64_t)(uintptr_t)as->pAccelerationStructures[j]);
}

/* A descriptor set holds what is written into it (docs/design.md, "Lifetimes"): each
 * write's objects, held by its destination set, and what a copy's source set holds.  An
 * overwritten descriptor's object stays held until the set is freed or its pool reset: a
 * submission may still be reading it.  Each set holds only what its own writes named, so a
 * batch of n writes costs O(n) holds, not O(n^2). */
static void hold_descriptors(struct vd_dispatch *disp,
                             const struct vn_args_vkUpdateDescriptorSets *a)
{
   bool ok = true;
   uint32_t named = 0, expected = 0;
   for (uint32_t i = 0; i < disp->looked_count; i++)
      if (disp->looked[i]->type != VK_OBJECT_TYPE_DESCRIPTOR_SET &&
          disp->looked[i]->type != VK_OBJECT_TYPE_DEVICE)
         expected++;
   for (uint32_t i = 0; ok && i < a->descriptorWriteCount; i++) {
      struct vd_object *dst = (struct vd_object *)set_object(disp, a->pDescriptorWrites[i].dstSet);
      struct hold_batch b = { disp, dst, .ok = true };
      batch_add_write(&b, &a->pDescriptorWrites[i]);
      batch_flush(&b);
      ok = b.ok;
      named += b.named;
   }
   /* Every object the command looked up (but its sets) was found in some write's fields:
    * otherwise the decoder looked up a field batch_add_write does not know, and each
    * destination set holds every object the command named, as is always safe. */
   if (ok && named != expected) {
      vd_dbg(VD_CAT_VK,
             "vkUpdateDescriptorSets: %u of %u named objects found in the writes; "
             "every set holds them all",
             named, expected);
      for (uint32_t i = 0; ok && i < a->descriptorWriteCount; i++) {
         struct vd_object *dst =
            (struct vd_object *)set_object(disp, a->pDescriptorWrites[i].dstSet);
         struct hold_batch b = { disp, dst, .ok = true };
         for (uint32_t k = 0; dst && k < disp->looked_count; k++) {
            struct vd_object *o = disp->looked[k];
            if (o->type != VK_OBJECT_TYPE_DESCRIPTOR_SET && o->type != VK_OBJECT_TYPE_DEVICE)
               batch_push(&b, o);
         }
         batch_flush(&b);
         ok = b.ok;
      }
   }
   for (uint32_t i = 0; ok && i < a->descriptorCopyCount; i++) {
      struct vd_object *src = (struct vd_object *)set_object(disp, a->pDescriptorCopies[i].srcSet);
      struct vd_object *dst = (struct vd_object *)set_object(disp, a->pDescriptorCopies[i].dstSet);
      if (!src || !dst || src == dst)
         continue;
      const uint32_t count = vd_object_holds_copy(src, NULL, 0);
      struct vd_hold *h = count ? vd_arena_alloc_array(&disp->arena, sizeof(*h), count) : NULL;
      const uint32_t got = h ? vd_object_holds_copy(src, h, count) : 0;
      ok = !count || h;
      for (uint32_t j = 0; j < got && j < count; j++) {
         ok = ok && vd_object_hold(dst, h[j].obj);
         vd_object_unref(h[j].obj);
      }
   }
   if (!ok)
      vd_dispatch_fatal(disp, "out of memory holding the objects written into descriptor sets");
}

/* The common write, checked without naming it: a binding of the layout of the write's type
 * that has all the elements written.  Anything else (an error, a write that continues into
 * the next bindings, an inline uniform block, a mutable binding) takes the full checks,
 * which name the write when they fail. */
static bool layout_write_quick_ok(const struct vd_set_layout *l, uint32_t variable_count,
                                  const VkWriteDescriptorSet *w)
{
   if (w->descriptorType == VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
      return false;
   for (uint32_t i = 0; i < l->binding_count; i++)
      if (l->bindings[i].binding == w->dstBinding)
         return l->bindings[i].type == w->descriptorType &&
                (uint64_t)w->dstArrayElement + w->descriptorCount <=
                   binding_count(l, variable_count, i);
   return false;
}

static bool write_quick_ok(const struct vd_object *set_obj, const VkWriteDescriptorSet *w)
{
   const struct vd_descriptor_set *set = set_obj ? set_obj->data : NULL;
   return set && set->layout && layout_write_quick_ok(set->layout, set->variable_count, w);
}

VD_HANDLER(vkUpdateDescriptorSets)
{
   char what[48];
   for (uint32_t i = 0; i < a->descriptorWriteCount; i++) {
      const VkWriteDescriptorSet *w = &a->pDescriptorWrites[i];
      if (!w->dstSet || !write_has_payload(w)) {
         vd_dispatch_fatal(disp,
                           "pDescriptorWrites[%u]: no dstSet, or no data for descriptor "
                           "type %d",
                           i, w->descriptorType);
         return;
      }
      const struct vd_object *set = set_object(disp, w->dstSet);
      if (write_quick_ok(set, w))
         continue;
      snprintf(what, sizeof(what), "pDescriptorWrites[%u]", i);
      if (!inline_data_ok(disp, what, w) ||
          !set_range_ok(disp, what, "dst", set, w->dstBinding, w->dstArrayElement,
                        w->descriptorCount, &w->descriptorType))
         return;
   }
   for (uint32_t i = 0; i < a->descriptorCopyCount; i++) {
      const VkCopyDescriptorSet *c = &a->pDescriptorCopies[i];
      snprintf(what, sizeof(what), "pDescriptorCopies[%u]", i);
      if (!set_range_ok(disp, what, "src", set_object(disp, c->srcSet), c->srcBinding,
                        c->srcArrayElement, c->descriptorCount, NULL) ||
          !set_range_ok(disp, what, "dst", set_object(disp, c->dstSet), c->dstBinding,
                        c->dstArrayElement, c->descriptorCount, NULL))
         return;
   }
   vd_object_vk(a->obj)->UpdateDescriptorSets(a->device, a->descriptorWriteCount,
                                              a->pDescriptorWrites, a->descriptorCopyCount,
                                              a->pDescriptorCopies);
   hold_descriptors(disp, a);
}

/* -- image views -------------------------------------------------------------------------- */

static void image_view_destroy(struct vd_object *obj)
{
   const struct vd_device *dev = obj->data;
   dev->vk->DestroyImageView(dev->handle, (VkImageView)(uintptr_t)obj->handle, NULL);
}

/* The layers a view of the image may take from: its array layers, or, for a 2D (array) view
 * of a 3D image, the depth slices of the view's mip level. */
static uint32_t view_layers(const struct vd_image *img, const VkImageViewCreateInfo *info)
{
   if (img->type != VK_IMAGE_TYPE_3D ||
       (info->viewType != VK_IMAGE_VIEW_TYPE_2D && info->viewType != VK_IMAGE_VIEW_TYPE_2D_ARRAY))
      return img->array_layers;
   const uint32_t level = info->subresourceRange.baseMipLevel;
   const uint32_t d = level >= 32 ? 0 : img->extent.depth >> level;
   return d ? d : 1;
}

/* A 3D view's slices (VK_EXT_image_sliced_view_of_3d) lie in the depth of its mip level
 * (VUID-VkImageViewSlicedCreateInfoEXT-sliceOffset-07867, -sliceCount-07868): Mesa's common
 * image view code only asserts it, and lavapipe makes the slices the storage view's layers. */
static bool slices_ok(struct vd_dispatch *disp, const struct vd_image *img,
                      const VkImageViewCreateInfo *info)
{
   const VkImageViewSlicedCreateInfoEXT *sl =
      vd_chain_find(info->pNext, VK_STRUCTURE_TYPE_IMAGE_VIEW_SLICED_CREATE_INFO_EXT);
   if (!sl || info->viewType != VK_IMAGE_VIEW_TYPE_3D)
      return true;
   const uint32_t level = info->subresourceRange.baseMipLevel;
   uint32_t depth = level >= 32 ? 0 : img->extent.depth >> level;
   depth = depth ? depth : 1;
   if (sl->sliceOffset < depth && (sl->sliceCount == VK_REMAINING_3D_SLICES_EXT ||
                                   (sl->sliceCount && sl->sliceCount <= depth - sl->sliceOffset)))
      return true;
   vd_dispatch_fatal(disp,
                     "pCreateInfo->pNext<VkImageViewSlicedCreateInfoEXT>: sliceOffset %u, "
                     "sliceCount %u are not in the %u slices of mip level %u",
                     sl->sliceOffset, sl->sliceCount, depth, level);
   return false;
}

/* lavapipe computes a view's addresses from its base mip level and layer: the range must
 * lie in the image (the spec's rule). */
VD_HANDLER(vkCreateImageView)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pView;
   VkImageViewCreateInfo info = *a->pCreateInfo;
   const struct vd_object *o =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)info.image);
   if (!o) {
      vd_dispatch_fatal(disp, "pCreateInfo->image: not found among the command's objects");
      return;
   }
   const struct vd_image *img = o->data;
   if (!vd_subresource_range_ok(disp, "pCreateInfo->subresourceRange", img, &info.subresourceRange,
                                view_layers(img, &info)) ||
       !slices_ok(disp, img, &info))
      return;
   vd_strip_mesa_structs(&info.pNext);
   VkImageView view;
   a->ret = dev->vk->CreateImageView(a->device, &info, NULL, &view);
   if (a->ret != VK_SUCCESS)
      return;
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)view, a->obj, dev,
                      image_view_destroy))
      dev->vk->DestroyImageView(a->device, view, NULL);
}
