/* VK_LAYER_VENUSD_moltenvk_shape: a Vulkan layer that makes the driver under it (lavapipe in
 * the tests) look like MoltenVK on an Apple M1, so that venusd's macOS-shaped paths run on
 * Linux (tests/integration/test_moltenvk_shape.sh).  Load it with
 *
 *   VK_ADD_LAYER_PATH=<build>/tests/layers VK_INSTANCE_LAYERS=VK_LAYER_VENUSD_moltenvk_shape
 *
 * What it does, each as MoltenVK or the loader does it for a portability driver:
 *   - physical devices are listed only to an instance created with
 *     VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR and VK_KHR_portability_enumeration
 *     (the loader hides portability drivers otherwise; here: 0 devices);
 *   - VK_KHR_portability_subset is listed, must be enabled at vkCreateDevice, and reports the
 *     M1's VkPhysicalDevicePortabilitySubsetFeaturesKHR / PropertiesKHR;
 *   - minImportedHostPointerAlignment is 16384 (Apple Silicon's page), and a
 *     VkImportMemoryHostPointerInfoEXT whose pointer or size is not 16 KiB aligned is refused
 *     with VK_ERROR_INVALID_EXTERNAL_HANDLE;
 *   - no fd-based external memory, semaphores or fences, dma-bufs, DRM format modifiers or
 *     the foreign queue family: those extensions are not listed, and the external-handle
 *     queries report no support for fd handle types;
 *   - the features the M1 lacks are off, and a device created with one of them fails with
 *     VK_ERROR_FEATURE_NOT_PRESENT; limits where the M1 is more restrictive take its value;
 *     formats the M1 does not have at all report no features; no SPARSE_BINDING queue.
 *
 * The values are facts from the gpuinfo.org report of MoltenVK 0.2.2209 on an Apple M1
 * (macOS 26.5.1) in KhronosGroup/Vulkan-Profiles (profiles/LunarG/
 * VP_LUNARG_desktop_baseline_2026/vp_gpuinfo_apple_m1_0_2_2209_macos_26_5_1.json).  Not
 * modelled: the other extensions lavapipe has beyond MoltenVK's list (graphics pipeline
 * libraries, transform feedback, custom border colours, ...) stay listed, and per-format
 * feature bits are lavapipe's except for the missing formats.
 *
 * The layer prints one line to stderr for everything it refuses, starting "moltenvk_shape:". */
#define VK_ENABLE_BETA_EXTENSIONS
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include "layer_link.h"

#define LAYER_NAME "VK_LAYER_VENUSD_moltenvk_shape"
#define HOST_POINTER_ALIGNMENT 16384
#define MAX_OBJECTS 256
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EXPORT __attribute__((visibility("default")))

/* ---- what the M1 lacks ------------------------------------------------------------------ */

/* Device extensions lavapipe lists and MoltenVK does not, hidden here: the external-handle
 * families named in the file comment, and those that exist only for a feature the M1 lacks
 * (indirect count, 64-bit atomics, min/max filtering, ray tracing, mesh shaders, ...). */
static const char *const hidden_extensions[] = {
   "VK_KHR_external_memory_fd",
   "VK_EXT_external_memory_dma_buf",
   "VK_EXT_image_drm_format_modifier",
   "VK_KHR_external_semaphore_fd",
   "VK_KHR_external_fence_fd",
   "VK_EXT_queue_family_foreign",
   "VK_ANDROID_external_memory_android_hardware_buffer",
   "VK_KHR_draw_indirect_count",
   "VK_KHR_shader_atomic_int64",
   "VK_EXT_sampler_filter_minmax",
   "VK_KHR_acceleration_structure",
   "VK_KHR_ray_query",
   "VK_KHR_ray_tracing_pipeline",
   "VK_KHR_ray_tracing_maintenance1",
   "VK_KHR_ray_tracing_position_fetch",
   "VK_EXT_mesh_shader",
   "VK_EXT_descriptor_buffer",
   "VK_EXT_device_generated_commands",
   "VK_AMDX_shader_enqueue",
};

/* A feature the M1 reports off: where it lives in which struct. */
struct off_feature {
   VkStructureType stype;
   size_t offset;
   const char *name;
};

#define CORE(m)                                              \
   {                                                         \
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,          \
         offsetof(VkPhysicalDeviceFeatures2, features.m), #m \
   }
#define FEAT(st, type, m)                                           \
   {                                                                \
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_##st, offsetof(type, m), #m \
   }

static const struct off_feature off_features[] = {
   CORE(depthBounds),
   CORE(geometryShader),
   CORE(logicOp),
   CORE(pipelineStatisticsQuery),
   CORE(shaderCullDistance),
   CORE(shaderFloat64),
   CORE(shaderResourceResidency),
   CORE(shaderStorageImageMultisample),
   CORE(sparseBinding),
   CORE(sparseResidencyBuffer),
   CORE(sparseResidencyImage2D),
   CORE(sparseResidencyImage3D),
   CORE(sparseResidency2Samples),
   CORE(sparseResidency4Samples),
   CORE(sparseResidency8Samples),
   CORE(sparseResidency16Samples),
   CORE(sparseResidencyAliased),
   CORE(variableMultisampleRate),
   CORE(wideLines),
   FEAT(VULKAN_1_1_FEATURES, VkPhysicalDeviceVulkan11Features, multiviewGeometryShader),
   FEAT(VULKAN_1_1_FEATURES, VkPhysicalDeviceVulkan11Features, multiviewTessellationShader),
   FEAT(VULKAN_1_1_FEATURES, VkPhysicalDeviceVulkan11Features, protectedMemory),
   FEAT(MULTIVIEW_FEATURES, VkPhysicalDeviceMultiviewFeatures, multiviewGeometryShader),
   FEAT(MULTIVIEW_FEATURES, VkPhysicalDeviceMultiviewFeatures, multiviewTessellationShader),
   FEAT(PROTECTED_MEMORY_FEATURES, VkPhysicalDeviceProtectedMemoryFeatures, protectedMemory),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, drawIndirectCount),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, shaderBufferInt64Atomics),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, shaderSharedInt64Atomics),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, samplerFilterMinmax),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, bufferDeviceAddressCaptureReplay),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features, bufferDeviceAddressMultiDevice),
   FEAT(VULKAN_1_2_FEATURES, VkPhysicalDeviceVulkan12Features,
        vulkanMemoryModelAvailabilityVisibilityChains),
   FEAT(SHADER_ATOMIC_INT64_FEATURES, VkPhysicalDeviceShaderAtomicInt64Features,
        shaderBufferInt64Atomics),
   FEAT(SHADER_ATOMIC_INT64_FEATURES, VkPhysicalDeviceShaderAtomicInt64Features,
        shaderSharedInt64Atomics),
   FEAT(BUFFER_DEVICE_ADDRESS_FEATURES, VkPhysicalDeviceBufferDeviceAddressFeatures,
        bufferDeviceAddressCaptureReplay),
   FEAT(BUFFER_DEVICE_ADDRESS_FEATURES, VkPhysicalDeviceBufferDeviceAddressFeatures,
        bufferDeviceAddressMultiDevice),
   FEAT(VULKAN_MEMORY_MODEL_FEATURES, VkPhysicalDeviceVulkanMemoryModelFeatures,
        vulkanMemoryModelAvailabilityVisibilityChains),
   FEAT(VULKAN_1_4_FEATURES, VkPhysicalDeviceVulkan14Features, rectangularLines),
   FEAT(VULKAN_1_4_FEATURES, VkPhysicalDeviceVulkan14Features, smoothLines),
   FEAT(VULKAN_1_4_FEATURES, VkPhysicalDeviceVulkan14Features, stippledRectangularLines),
   FEAT(VULKAN_1_4_FEATURES, VkPhysicalDeviceVulkan14Features, stippledBresenhamLines),
   FEAT(VULKAN_1_4_FEATURES, VkPhysicalDeviceVulkan14Features, stippledSmoothLines),
   FEAT(LINE_RASTERIZATION_FEATURES, VkPhysicalDeviceLineRasterizationFeatures, rectangularLines),
   FEAT(LINE_RASTERIZATION_FEATURES, VkPhysicalDeviceLineRasterizationFeatures, smoothLines),
   FEAT(LINE_RASTERIZATION_FEATURES, VkPhysicalDeviceLineRasterizationFeatures,
        stippledRectangularLines),
   FEAT(LINE_RASTERIZATION_FEATURES, VkPhysicalDeviceLineRasterizationFeatures,
        stippledBresenhamLines),
   FEAT(LINE_RASTERIZATION_FEATURES, VkPhysicalDeviceLineRasterizationFeatures,
        stippledSmoothLines),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderBufferFloat64Atomics),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderBufferFloat64AtomicAdd),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderSharedFloat64Atomics),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderSharedFloat64AtomicAdd),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderImageFloat32Atomics),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        shaderImageFloat32AtomicAdd),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        sparseImageFloat32Atomics),
   FEAT(SHADER_ATOMIC_FLOAT_FEATURES_EXT, VkPhysicalDeviceShaderAtomicFloatFeaturesEXT,
        sparseImageFloat32AtomicAdd),
   FEAT(ROBUSTNESS_2_FEATURES_EXT, VkPhysicalDeviceRobustness2FeaturesEXT, robustBufferAccess2),
   FEAT(ROBUSTNESS_2_FEATURES_EXT, VkPhysicalDeviceRobustness2FeaturesEXT, nullDescriptor),
   FEAT(EXTENDED_DYNAMIC_STATE_2_FEATURES_EXT, VkPhysicalDeviceExtendedDynamicState2FeaturesEXT,
        extendedDynamicState2LogicOp),
#define EDS3(m)                                                                                  \
   FEAT(EXTENDED_DYNAMIC_STATE_3_FEATURES_EXT, VkPhysicalDeviceExtendedDynamicState3FeaturesEXT, \
        extendedDynamicState3##m)
   EDS3(TessellationDomainOrigin),
   EDS3(RasterizationSamples),
   EDS3(SampleMask),
   EDS3(AlphaToCoverageEnable),
   EDS3(AlphaToOneEnable),
   EDS3(LogicOpEnable),
   EDS3(ColorBlendEnable),
   EDS3(ColorBlendEquation),
   EDS3(ColorWriteMask),
   EDS3(ProvokingVertexMode),
   EDS3(LineStippleEnable),
   EDS3(DepthClipNegativeOneToOne),
};

/* The M1's portability subset (MoltenVK 0.2.2209). */
static const VkPhysicalDevicePortabilitySubsetFeaturesKHR m1_subset = {
   .constantAlphaColorBlendFactors = VK_TRUE,
   .events = VK_TRUE,
   .imageViewFormatReinterpretation = VK_TRUE,
   .imageViewFormatSwizzle = VK_TRUE,
   .imageView2DOn3DImage = VK_TRUE,
   .multisampleArrayImage = VK_TRUE,
   .mutableComparisonSamplers = VK_TRUE,
   .pointPolygons = VK_FALSE,
   .samplerMipLodBias = VK_FALSE,
   .separateStencilMaskRef = VK_TRUE,
   .shaderSampleRateInterpolationFunctions = VK_TRUE,
   .tessellationIsolines = VK_FALSE,
   .tessellationPointMode = VK_FALSE,
   .triangleFans = VK_TRUE,
   .vertexAttributeAccessBeyondStride = VK_TRUE,
};
#define M1_MIN_VERTEX_INPUT_BINDING_STRIDE_ALIGNMENT 1

/* Formats lavapipe has and the M1 has not at all (no 24-bit depth, no packed 3-byte BGR, no
 * 64-bit integer texels, some 10-bit packings). */
static const VkFormat missing_formats[] = {
   VK_FORMAT_B8G8R8_UNORM,
   VK_FORMAT_B8G8R8_SNORM,
   VK_FORMAT_B8G8R8_USCALED,
   VK_FORMAT_B8G8R8_SSCALED,
   VK_FORMAT_B8G8R8_UINT,
   VK_FORMAT_B8G8R8_SINT,
   VK_FORMAT_B8G8R8_SRGB,
   VK_FORMAT_B8G8R8A8_USCALED,
   VK_FORMAT_B8G8R8A8_SSCALED,
   VK_FORMAT_A2R10G10B10_SNORM_PACK32,
   VK_FORMAT_A2R10G10B10_USCALED_PACK32,
   VK_FORMAT_A2R10G10B10_SSCALED_PACK32,
   VK_FORMAT_A2R10G10B10_UINT_PACK32,
   VK_FORMAT_A2B10G10R10_USCALED_PACK32,
   VK_FORMAT_A2B10G10R10_SSCALED_PACK32,
   VK_FORMAT_R64_UINT,
   VK_FORMAT_R64_SINT,
   VK_FORMAT_R64G64_UINT,
   VK_FORMAT_R64G64_SINT,
   VK_FORMAT_R64G64B64_UINT,
   VK_FORMAT_R64G64B64_SINT,
   VK_FORMAT_R64G64B64A64_UINT,
   VK_FORMAT_R64G64B64A64_SINT,
   VK_FORMAT_X8_D24_UNORM_PACK32,
   VK_FORMAT_D24_UNORM_S8_UINT,
   VK_FORMAT_G16_B16_R16_3PLANE_444_UNORM,
};

static bool format_missing(VkFormat f)
{
   for (size_t i = 0; i < ARRAY_LEN(missing_formats); i++)
      if (missing_formats[i] == f)
         return true;
   return false;
}

#define LOWER(field, value) l->field = l->field < (value) ? l->field : (value)
#define RAISE(field, value) l->field = l->field > (value) ? l->field : (value)

/* The limits where the M1 is more restrictive than the driver below. */
static void lower_limits(VkPhysicalDeviceLimits *l)
{
   LOWER(maxImageDimension3D, 2048);
   LOWER(maxImageDimensionCube, 16384);
   LOWER(maxTexelBufferElements, 67108864);
   LOWER(maxMemoryAllocationCount, 1073741824);
   LOWER(maxSamplerAllocationCount, 1024);
   LOWER(maxPerStageDescriptorSamplers, 16);
   LOWER(maxPerStageDescriptorUniformBuffers, 31);
   LOWER(maxPerStageDescriptorStorageBuffers, 31);
   LOWER(maxPerStageDescriptorSampledImages, 256);
   LOWER(maxPerStageDescriptorStorageImages, 256);
   LOWER(maxPerStageDescriptorInputAttachments, 256);
   LOWER(maxPerStageResources, 287);
   LOWER(maxDescriptorSetSamplers, 80);
   LOWER(maxDescriptorSetUniformBuffers, 155);
   LOWER(maxDescriptorSetUniformBuffersDynamic, 155);
   LOWER(maxDescriptorSetStorageBuffers, 155);
   LOWER(maxDescriptorSetStorageBuffersDynamic, 155);
   LOWER(maxDescriptorSetSampledImages, 1280);
   LOWER(maxDescriptorSetStorageImages, 1280);
   LOWER(maxDescriptorSetInputAttachments, 1280);
   LOWER(maxVertexInputAttributes, 31);
   LOWER(maxVertexInputBindings, 31);
   LOWER(maxVertexOutputComponents, 124);
   LOWER(maxTessellationControlPerVertexInputComponents, 124);
   LOWER(maxTessellationControlPerVertexOutputComponents, 124);
   LOWER(maxTessellationControlPerPatchOutputComponents, 120);
   LOWER(maxTessellationControlTotalOutputComponents, 4088);
   LOWER(maxTessellationEvaluationInputComponents, 124);
   LOWER(maxTessellationEvaluationOutputComponents, 124);
   l->maxGeometryShaderInvocations = 0;
   l->maxGeometryInputComponents = 0;
   l->maxGeometryOutputComponents = 0;
   l->maxGeometryOutputVertices = 0;
   l->maxGeometryTotalOutputComponents = 0;
   LOWER(maxFragmentInputComponents, 124);
   LOWER(maxFragmentDualSrcAttachments, 1);
   LOWER(maxDrawIndirectCount, 1073741824);
   LOWER(maxSamplerLodBias, 15.999f);
   LOWER(maxTexelOffset, 7);
   LOWER(maxTexelGatherOffset, 7);
   RAISE(minTexelOffset, -8);
   RAISE(minTexelGatherOffset, -8);
   LOWER(maxInterpolationOffset, 0.5f);
   RAISE(minInterpolationOffset, -0.5f);
   LOWER(subPixelInterpolationOffsetBits, 4);
   l->maxCullDistances = 0;
   l->sparseAddressSpaceSize = 0;
   l->storageImageSampleCounts &= VK_SAMPLE_COUNT_1_BIT;
   const VkSampleCountFlags m1_samples =
      VK_SAMPLE_COUNT_1_BIT | VK_SAMPLE_COUNT_2_BIT | VK_SAMPLE_COUNT_4_BIT;
   l->framebufferColorSampleCounts &= m1_samples;
   l->framebufferDepthSampleCounts &= m1_samples;
   l->framebufferStencilSampleCounts &= m1_samples;
   l->framebufferNoAttachmentsSampleCounts &= m1_samples;
   l->sampledImageColorSampleCounts &= m1_samples;
   l->sampledImageIntegerSampleCounts &= m1_samples;
   l->sampledImageDepthSampleCounts &= m1_samples;
   l->sampledImageStencilSampleCounts &= m1_samples;
   RAISE(pointSizeRange[0], 1.0f);
   LOWER(viewportBoundsRange[1], 32767.0f);
   l->lineWidthRange[0] = 1.0f; /* no wideLines */
   l->lineWidthRange[1] = 1.0f;
   l->strictLines = VK_FALSE;
}

/* ---- dispatch state ------------------------------------------------------------------ */

struct instance_data {
   void *key;
   VkInstance handle;
   bool portability;
   PFN_vkGetInstanceProcAddr gipa;
   PFN_vkDestroyInstance DestroyInstance;
   PFN_vkEnumeratePhysicalDevices EnumeratePhysicalDevices;
   PFN_vkEnumeratePhysicalDeviceGroups EnumeratePhysicalDeviceGroups;
   PFN_vkEnumerateDeviceExtensionProperties EnumerateDeviceExtensionProperties;
   PFN_vkGetPhysicalDeviceFeatures GetPhysicalDeviceFeatures;
   PFN_vkGetPhysicalDeviceFeatures2 GetPhysicalDeviceFeatures2;
   PFN_vkGetPhysicalDeviceProperties GetPhysicalDeviceProperties;
   PFN_vkGetPhysicalDeviceProperties2 GetPhysicalDeviceProperties2;
   PFN_vkGetPhysicalDeviceQueueFamilyProperties GetPhysicalDeviceQueueFamilyProperties;
   PFN_vkGetPhysicalDeviceQueueFamilyProperties2 GetPhysicalDeviceQueueFamilyProperties2;
   PFN_vkGetPhysicalDeviceFormatProperties GetPhysicalDeviceFormatProperties;
   PFN_vkGetPhysicalDeviceFormatProperties2 GetPhysicalDeviceFormatProperties2;
   PFN_vkGetPhysicalDeviceImageFormatProperties GetPhysicalDeviceImageFormatProperties;
   PFN_vkGetPhysicalDeviceImageFormatProperties2 GetPhysicalDeviceImageFormatProperties2;
   PFN_vkGetPhysicalDeviceExternalBufferProperties GetPhysicalDeviceExternalBufferProperties;
   PFN_vkGetPhysicalDeviceExternalSemaphoreProperties GetPhysicalDeviceExternalSemaphoreProperties;
   PFN_vkGetPhysicalDeviceExternalFenceProperties GetPhysicalDeviceExternalFenceProperties;
};

struct device_data {
   void *key;
   PFN_vkGetDeviceProcAddr gdpa;
   PFN_vkDestroyDevice DestroyDevice;
   PFN_vkAllocateMemory AllocateMemory;
};

static pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct instance_data *instances[MAX_OBJECTS];
static struct device_data *devices[MAX_OBJECTS];

/* The loader's dispatch table pointer: shared by an instance and its physical devices, and
 * by a device and its queues and command buffers. */
static void *dispatch_key(const void *handle)
{
   return *(void *const *)handle;
}

static void *table_find(void **table, void *key)
{
   void *found = NULL;
   pthread_mutex_lock(&table_mutex);
   for (int i = 0; i < MAX_OBJECTS && !found; i++)
      if (table[i] && *(void **)table[i] == key)
         found = table[i];
   pthread_mutex_unlock(&table_mutex);
   return found;
}

static bool table_add(void **table, void *data)
{
   bool added = false;
   pthread_mutex_lock(&table_mutex);
   for (int i = 0; i < MAX_OBJECTS && !added; i++)
      if (!table[i])
         table[i] = data, added = true;
   pthread_mutex_unlock(&table_mutex);
   return added;
}

static void *table_remove(void **table, void *key)
{
   void *found = NULL;
   pthread_mutex_lock(&table_mutex);
   for (int i = 0; i < MAX_OBJECTS && !found; i++)
      if (table[i] && *(void **)table[i] == key)
         found = table[i], table[i] = NULL;
   pthread_mutex_unlock(&table_mutex);
   return found;
}

static struct instance_data *inst_of(const void *handle)
{
   return table_find((void **)instances, dispatch_key(handle));
}

static struct device_data *dev_of(const void *handle)
{
   return table_find((void **)devices, dispatch_key(handle));
}

static bool has_name(uint32_t count, const char *const *names, const char *name)
{
   for (uint32_t i = 0; i < count; i++)
      if (!strcmp(names[i], name))
         return true;
   return false;
}

static bool extension_hidden(const char *name)
{
   return has_name(ARRAY_LEN(hidden_extensions), hidden_extensions, name);
}

/* ---- instance ------------------------------------------------------------------------ */

static VKAPI_ATTR VkResult VKAPI_CALL layer_CreateInstance(const VkInstanceCreateInfo *ci,
                                                           const VkAllocationCallbacks *alloc,
                                                           VkInstance *out)
{
   VkLayerInstanceCreateInfo *link = layer_instance_link(ci);
   if (!link)
      return VK_ERROR_INITIALIZATION_FAILED;
   PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
   link->u.pLayerInfo = link->u.pLayerInfo->pNext;
   PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
   struct instance_data *d = calloc(1, sizeof(*d));
   if (!d)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   VkResult r = create(ci, alloc, out);
   if (r != VK_SUCCESS) {
      free(d);
      return r;
   }
   d->key = dispatch_key(*out);
   d->handle = *out;
   d->gipa = gipa;
   d->portability = (ci->flags & VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR) &&
                    has_name(ci->enabledExtensionCount, ci->ppEnabledExtensionNames,
                             VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
#define LOAD(name) d->name = (PFN_vk##name)gipa(*out, "vk" #name)
   LOAD(DestroyInstance);
   LOAD(EnumeratePhysicalDevices);
   LOAD(EnumeratePhysicalDeviceGroups);
   LOAD(EnumerateDeviceExtensionProperties);
   LOAD(GetPhysicalDeviceFeatures);
   LOAD(GetPhysicalDeviceFeatures2);
   LOAD(GetPhysicalDeviceProperties);
   LOAD(GetPhysicalDeviceProperties2);
   LOAD(GetPhysicalDeviceQueueFamilyProperties);
   LOAD(GetPhysicalDeviceQueueFamilyProperties2);
   LOAD(GetPhysicalDeviceFormatProperties);
   LOAD(GetPhysicalDeviceFormatProperties2);
   LOAD(GetPhysicalDeviceImageFormatProperties);
   LOAD(GetPhysicalDeviceImageFormatProperties2);
   LOAD(GetPhysicalDeviceExternalBufferProperties);
   LOAD(GetPhysicalDeviceExternalSemaphoreProperties);
   LOAD(GetPhysicalDeviceExternalFenceProperties);
#undef LOAD
   if (!table_add((void **)instances, d)) {
      d->DestroyInstance(*out, alloc);
      free(d);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   if (!d->portability)
      fprintf(stderr,
              "moltenvk_shape: instance created without VK_KHR_portability_enumeration and "
              "VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR: it lists no physical devices "
              "(as the loader does for a portability driver such as MoltenVK)\n");
   return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL layer_DestroyInstance(VkInstance inst,
                                                        const VkAllocationCallbacks *alloc)
{
   if (!inst)
      return;
   struct instance_data *d = table_remove((void **)instances, dispatch_key(inst));
   if (d) {
      d->DestroyInstance(inst, alloc);
      free(d);
   }
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_EnumeratePhysicalDevices(VkInstance inst,
                                                                     uint32_t *count,
                                                                     VkPhysicalDevice *out)
{
   struct instance_data *d = inst_of(inst);
   if (!d->portability) {
      *count = 0;
      return VK_SUCCESS;
   }
   return d->EnumeratePhysicalDevices(inst, count, out);
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_EnumeratePhysicalDeviceGroups(
   VkInstance inst, uint32_t *count, VkPhysicalDeviceGroupProperties *out)
{
   struct instance_data *d = inst_of(inst);
   if (!d->portability) {
      *count = 0;
      return VK_SUCCESS;
   }
   return d->EnumeratePhysicalDeviceGroups(inst, count, out);
}

/* ---- physical device queries ---------------------------------------------------------- */

static VKAPI_ATTR VkResult VKAPI_CALL layer_EnumerateDeviceExtensionProperties(
   VkPhysicalDevice pd, const char *layer, uint32_t *count, VkExtensionProperties *out)
{
   const VkExtensionProperties subset = { VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME,
                                          VK_KHR_PORTABILITY_SUBSET_SPEC_VERSION };
   if (layer && !strcmp(layer, LAYER_NAME)) {
      if (out && *count < 1)
         return VK_INCOMPLETE;
      if (out)
         out[0] = subset;
      *count = 1;
      return VK_SUCCESS;
   }
   struct instance_data *d = inst_of(pd);
   if (layer)
      return d->EnumerateDeviceExtensionProperties(pd, layer, count, out);
   uint32_t n = 0;
   VkResult r = d->EnumerateDeviceExtensionProperties(pd, NULL, &n, NULL);
   VkExtensionProperties *all = calloc(n + 1, sizeof(*all));
   if (r < 0 || !all) {
      free(all);
      return r < 0 ? r : VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   r = d->EnumerateDeviceExtensionProperties(pd, NULL, &n, all);
   uint32_t kept = 0;
   for (uint32_t i = 0; i < n; i++)
      if (!extension_hidden(all[i].extensionName))
         all[kept++] = all[i];
   all[kept++] = subset;
   if (!out) {
      *count = kept;
   } else {
      r = *count < kept ? VK_INCOMPLETE : VK_SUCCESS;
      if (*count > kept)
         *count = kept;
      memcpy(out, all, *count * sizeof(*out));
   }
   free(all);
   return r;
}

/* Clears, in a features chain, every feature the M1 lacks. */
static void features_off(VkPhysicalDeviceFeatures2 *f2)
{
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)f2; s; s = s->pNext) {
      for (size_t i = 0; i < ARRAY_LEN(off_features); i++)
         if (off_features[i].stype == s->sType)
            *(VkBool32 *)((char *)s + off_features[i].offset) = VK_FALSE;
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR) {
         VkPhysicalDevicePortabilitySubsetFeaturesKHR *p = (void *)s;
         void *next = p->pNext;
         *p = m1_subset;
         p->sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR;
         p->pNext = next;
      }
   }
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFeatures(VkPhysicalDevice pd,
                                                                  VkPhysicalDeviceFeatures *f)
{
   VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 };
   inst_of(pd)->GetPhysicalDeviceFeatures(pd, &f2.features);
   features_off(&f2);
   *f = f2.features;
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFeatures2(VkPhysicalDevice pd,
                                                                   VkPhysicalDeviceFeatures2 *f)
{
   inst_of(pd)->GetPhysicalDeviceFeatures2(pd, f);
   features_off(f);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceProperties(VkPhysicalDevice pd,
                                                                    VkPhysicalDeviceProperties *p)
{
   inst_of(pd)->GetPhysicalDeviceProperties(pd, p);
   lower_limits(&p->limits);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceProperties2(VkPhysicalDevice pd,
                                                                     VkPhysicalDeviceProperties2 *p)
{
   inst_of(pd)->GetPhysicalDeviceProperties2(pd, p);
   lower_limits(&p->properties.limits);
   for (VkBaseOutStructure *s = p->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT)
         ((VkPhysicalDeviceExternalMemoryHostPropertiesEXT *)s)->minImportedHostPointerAlignment =
            HOST_POINTER_ALIGNMENT;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_PROPERTIES_KHR)
         ((VkPhysicalDevicePortabilitySubsetPropertiesKHR *)s)
            ->minVertexInputBindingStrideAlignment = M1_MIN_VERTEX_INPUT_BINDING_STRIDE_ALIGNMENT;
   }
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceQueueFamilyProperties(
   VkPhysicalDevice pd, uint32_t *count, VkQueueFamilyProperties *out)
{
   inst_of(pd)->GetPhysicalDeviceQueueFamilyProperties(pd, count, out);
   for (uint32_t i = 0; out && i < *count; i++)
      out[i].queueFlags &= ~VK_QUEUE_SPARSE_BINDING_BIT;
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceQueueFamilyProperties2(
   VkPhysicalDevice pd, uint32_t *count, VkQueueFamilyProperties2 *out)
{
   inst_of(pd)->GetPhysicalDeviceQueueFamilyProperties2(pd, count, out);
   for (uint32_t i = 0; out && i < *count; i++)
      out[i].queueFamilyProperties.queueFlags &= ~VK_QUEUE_SPARSE_BINDING_BIT;
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFormatProperties(VkPhysicalDevice pd,
                                                                          VkFormat format,
                                                                          VkFormatProperties *p)
{
   inst_of(pd)->GetPhysicalDeviceFormatProperties(pd, format, p);
   if (format_missing(format))
      *p = (VkFormatProperties){ 0 };
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceFormatProperties2(VkPhysicalDevice pd,
                                                                           VkFormat format,
                                                                           VkFormatProperties2 *p)
{
   inst_of(pd)->GetPhysicalDeviceFormatProperties2(pd, format, p);
   const bool missing = format_missing(format);
   if (missing)
      p->formatProperties = (VkFormatProperties){ 0 };
   for (VkBaseOutStructure *s = p->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT)
         ((VkDrmFormatModifierPropertiesListEXT *)s)->drmFormatModifierCount = 0;
      else if (s->sType == VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT)
         ((VkDrmFormatModifierPropertiesList2EXT *)s)->drmFormatModifierCount = 0;
      else if (missing && s->sType == VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3) {
         VkFormatProperties3 *p3 = (VkFormatProperties3 *)s;
         p3->linearTilingFeatures = p3->optimalTilingFeatures = p3->bufferFeatures = 0;
      }
   }
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_GetPhysicalDeviceImageFormatProperties(
   VkPhysicalDevice pd, VkFormat format, VkImageType type, VkImageTiling tiling,
   VkImageUsageFlags usage, VkImageCreateFlags flags, VkImageFormatProperties *p)
{
   if (format_missing(format) || (flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT))
      return VK_ERROR_FORMAT_NOT_SUPPORTED;
   return inst_of(pd)->GetPhysicalDeviceImageFormatProperties(pd, format, type, tiling, usage,
                                                              flags, p);
}

static bool fd_memory_handle(VkExternalMemoryHandleTypeFlagBits t)
{
   return t == VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT ||
          t == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_GetPhysicalDeviceImageFormatProperties2(
   VkPhysicalDevice pd, const VkPhysicalDeviceImageFormatInfo2 *info, VkImageFormatProperties2 *p)
{
   if (format_missing(info->format) || info->tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT ||
       (info->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT))
      return VK_ERROR_FORMAT_NOT_SUPPORTED;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO &&
          fd_memory_handle(((const VkPhysicalDeviceExternalImageFormatInfo *)s)->handleType))
         return VK_ERROR_FORMAT_NOT_SUPPORTED;
   return inst_of(pd)->GetPhysicalDeviceImageFormatProperties2(pd, info, p);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceExternalBufferProperties(
   VkPhysicalDevice pd, const VkPhysicalDeviceExternalBufferInfo *info,
   VkExternalBufferProperties *p)
{
   if (fd_memory_handle(info->handleType)) {
      p->externalMemoryProperties = (VkExternalMemoryProperties){ 0 };
      return;
   }
   inst_of(pd)->GetPhysicalDeviceExternalBufferProperties(pd, info, p);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceExternalSemaphoreProperties(
   VkPhysicalDevice pd, const VkPhysicalDeviceExternalSemaphoreInfo *info,
   VkExternalSemaphoreProperties *p)
{
   if (info->handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT ||
       info->handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT) {
      p->exportFromImportedHandleTypes = p->compatibleHandleTypes = 0;
      p->externalSemaphoreFeatures = 0;
      return;
   }
   inst_of(pd)->GetPhysicalDeviceExternalSemaphoreProperties(pd, info, p);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceExternalFenceProperties(
   VkPhysicalDevice pd, const VkPhysicalDeviceExternalFenceInfo *info, VkExternalFenceProperties *p)
{
   if (info->handleType == VK_EXTERNAL_FENCE_HANDLE_TYPE_OPAQUE_FD_BIT ||
       info->handleType == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT) {
      p->exportFromImportedHandleTypes = p->compatibleHandleTypes = 0;
      p->externalFenceFeatures = 0;
      return;
   }
   inst_of(pd)->GetPhysicalDeviceExternalFenceProperties(pd, info, p);
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceSparseImageFormatProperties(
   VkPhysicalDevice pd, VkFormat format, VkImageType type, VkSampleCountFlagBits samples,
   VkImageUsageFlags usage, VkImageTiling tiling, uint32_t *count,
   VkSparseImageFormatProperties *out)
{
   *count = 0; /* no sparse residency */
}

static VKAPI_ATTR void VKAPI_CALL layer_GetPhysicalDeviceSparseImageFormatProperties2(
   VkPhysicalDevice pd, const VkPhysicalDeviceSparseImageFormatInfo2 *info, uint32_t *count,
   VkSparseImageFormatProperties2 *out)
{
   *count = 0;
}

/* ---- device --------------------------------------------------------------------------- */

/* The first feature of the chain (or of pEnabledFeatures) that the M1 lacks, or NULL. */
static const char *enabled_off_feature(const VkDeviceCreateInfo *ci)
{
   const size_t core = offsetof(VkPhysicalDeviceFeatures2, features);
   for (size_t i = 0; i < ARRAY_LEN(off_features); i++) {
      const struct off_feature *o = &off_features[i];
      if (ci->pEnabledFeatures && o->stype == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 &&
          *(const VkBool32 *)((const char *)ci->pEnabledFeatures + o->offset - core))
         return o->name;
      for (const VkBaseInStructure *s = ci->pNext; s; s = s->pNext)
         if (s->sType == o->stype && *(const VkBool32 *)((const char *)s + o->offset))
            return o->name;
   }
   for (const VkBaseInStructure *s = ci->pNext; s; s = s->pNext) {
      if (s->sType != VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR)
         continue;
      const VkPhysicalDevicePortabilitySubsetFeaturesKHR *p = (const void *)s;
      if (p->pointPolygons)
         return "pointPolygons";
      if (p->samplerMipLodBias)
         return "samplerMipLodBias";
      if (p->tessellationIsolines)
         return "tessellationIsolines";
      if (p->tessellationPointMode)
         return "tessellationPointMode";
   }
   return NULL;
}

static VkResult check_device_info(const VkDeviceCreateInfo *ci)
{
   if (!has_name(ci->enabledExtensionCount, ci->ppEnabledExtensionNames,
                 VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME)) {
      fprintf(stderr, "moltenvk_shape: vkCreateDevice without VK_KHR_portability_subset, which a "
                      "portability-subset device requires (VUID-VkDeviceCreateInfo-pProperties-"
                      "04451): refused with VK_ERROR_INITIALIZATION_FAILED\n");
      return VK_ERROR_INITIALIZATION_FAILED;
   }
   for (uint32_t i = 0; i < ci->enabledExtensionCount; i++) {
      if (extension_hidden(ci->ppEnabledExtensionNames[i])) {
         fprintf(stderr,
                 "moltenvk_shape: vkCreateDevice enables %s, which MoltenVK does not have: "
                 "VK_ERROR_EXTENSION_NOT_PRESENT\n",
                 ci->ppEnabledExtensionNames[i]);
         return VK_ERROR_EXTENSION_NOT_PRESENT;
      }
   }
   const char *off = enabled_off_feature(ci);
   if (off) {
      fprintf(stderr,
              "moltenvk_shape: vkCreateDevice enables the feature %s, which the M1 lacks: "
              "VK_ERROR_FEATURE_NOT_PRESENT\n",
              off);
      return VK_ERROR_FEATURE_NOT_PRESENT;
   }
   return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_CreateDevice(VkPhysicalDevice pd,
                                                         const VkDeviceCreateInfo *ci,
                                                         const VkAllocationCallbacks *alloc,
                                                         VkDevice *out)
{
   VkResult r = check_device_info(ci);
   if (r != VK_SUCCESS)
      return r;
   VkLayerDeviceCreateInfo *link = layer_device_link(ci);
   if (!link)
      return VK_ERROR_INITIALIZATION_FAILED;
   PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
   PFN_vkGetDeviceProcAddr gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
   link->u.pLayerInfo = link->u.pLayerInfo->pNext;
   PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(inst_of(pd)->handle, "vkCreateDevice");

   /* The driver below does not know VK_KHR_portability_subset: drop it (its features struct
    * may stay in the chain: drivers skip structs they do not know). */
   const char **exts = calloc(ci->enabledExtensionCount + 1, sizeof(*exts));
   struct device_data *d = calloc(1, sizeof(*d));
   if (!exts || !d) {
      free(exts);
      free(d);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   VkDeviceCreateInfo info = *ci;
   info.enabledExtensionCount = 0;
   for (uint32_t i = 0; i < ci->enabledExtensionCount; i++)
      if (strcmp(ci->ppEnabledExtensionNames[i], VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME))
         exts[info.enabledExtensionCount++] = ci->ppEnabledExtensionNames[i];
   info.ppEnabledExtensionNames = exts;
   r = create(pd, &info, alloc, out);
   free(exts);
   if (r != VK_SUCCESS) {
      free(d);
      return r;
   }
   d->key = dispatch_key(*out);
   d->gdpa = gdpa;
   d->DestroyDevice = (PFN_vkDestroyDevice)gdpa(*out, "vkDestroyDevice");
   d->AllocateMemory = (PFN_vkAllocateMemory)gdpa(*out, "vkAllocateMemory");
   if (!table_add((void **)devices, d)) {
      d->DestroyDevice(*out, alloc);
      free(d);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL layer_DestroyDevice(VkDevice dev,
                                                      const VkAllocationCallbacks *alloc)
{
   if (!dev)
      return;
   struct device_data *d = table_remove((void **)devices, dispatch_key(dev));
   if (d) {
      d->DestroyDevice(dev, alloc);
      free(d);
   }
}

static VKAPI_ATTR VkResult VKAPI_CALL layer_AllocateMemory(VkDevice dev,
                                                           const VkMemoryAllocateInfo *info,
                                                           const VkAllocationCallbacks *alloc,
                                                           VkDeviceMemory *out)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT) {
         const VkImportMemoryHostPointerInfoEXT *h = (const void *)s;
         if ((uintptr_t)h->pHostPointer % HOST_POINTER_ALIGNMENT ||
             info->allocationSize % HOST_POINTER_ALIGNMENT) {
            fprintf(stderr,
                    "moltenvk_shape: host-pointer import of %llu bytes at %p is not aligned to "
                    "minImportedHostPointerAlignment %d: VK_ERROR_INVALID_EXTERNAL_HANDLE\n",
                    (unsigned long long)info->allocationSize, h->pHostPointer,
                    HOST_POINTER_ALIGNMENT);
            return VK_ERROR_INVALID_EXTERNAL_HANDLE;
         }
      } else if (s->sType == VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR ||
                 (s->sType == VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO &&
                  (((const VkExportMemoryAllocateInfo *)s)->handleTypes &
                   (VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
                    VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT)))) {
         fprintf(stderr, "moltenvk_shape: fd memory import or export: MoltenVK has none: "
                         "VK_ERROR_INVALID_EXTERNAL_HANDLE\n");
         return VK_ERROR_INVALID_EXTERNAL_HANDLE;
      }
   }
   return dev_of(dev)->AllocateMemory(dev, info, alloc, out);
}

/* ---- entry points --------------------------------------------------------------------- */

struct entry {
   const char *name;
   PFN_vkVoidFunction fn;
};

#define ENTRY(name)                                \
   {                                               \
      "vk" #name, (PFN_vkVoidFunction)layer_##name \
   }
#define ENTRY_KHR(name)                                  \
   {                                                     \
      "vk" #name "KHR", (PFN_vkVoidFunction)layer_##name \
   }

static const struct entry device_entries[] = {
   ENTRY(DestroyDevice),
   ENTRY(AllocateMemory),
};

static const struct entry instance_entries[] = {
   ENTRY(CreateInstance),
   ENTRY(DestroyInstance),
   ENTRY(EnumeratePhysicalDevices),
   ENTRY(EnumeratePhysicalDeviceGroups),
   ENTRY_KHR(EnumeratePhysicalDeviceGroups),
   ENTRY(EnumerateDeviceExtensionProperties),
   ENTRY(GetPhysicalDeviceFeatures),
   ENTRY(GetPhysicalDeviceFeatures2),
   ENTRY_KHR(GetPhysicalDeviceFeatures2),
   ENTRY(GetPhysicalDeviceProperties),
   ENTRY(GetPhysicalDeviceProperties2),
   ENTRY_KHR(GetPhysicalDeviceProperties2),
   ENTRY(GetPhysicalDeviceQueueFamilyProperties),
   ENTRY(GetPhysicalDeviceQueueFamilyProperties2),
   ENTRY_KHR(GetPhysicalDeviceQueueFamilyProperties2),
   ENTRY(GetPhysicalDeviceFormatProperties),
   ENTRY(GetPhysicalDeviceFormatProperties2),
   ENTRY_KHR(GetPhysicalDeviceFormatProperties2),
   ENTRY(GetPhysicalDeviceImageFormatProperties),
   ENTRY(GetPhysicalDeviceImageFormatProperties2),
   ENTRY_KHR(GetPhysicalDeviceImageFormatProperties2),
   ENTRY(GetPhysicalDeviceExternalBufferProperties),
   ENTRY_KHR(GetPhysicalDeviceExternalBufferProperties),
   ENTRY(GetPhysicalDeviceExternalSemaphoreProperties),
   ENTRY_KHR(GetPhysicalDeviceExternalSemaphoreProperties),
   ENTRY(GetPhysicalDeviceExternalFenceProperties),
   ENTRY_KHR(GetPhysicalDeviceExternalFenceProperties),
   ENTRY(GetPhysicalDeviceSparseImageFormatProperties),
   ENTRY(GetPhysicalDeviceSparseImageFormatProperties2),
   ENTRY_KHR(GetPhysicalDeviceSparseImageFormatProperties2),
   ENTRY(CreateDevice),
};

static PFN_vkVoidFunction lookup(const struct entry *table, size_t n, const char *name)
{
   for (size_t i = 0; i < n; i++)
      if (!strcmp(table[i].name, name))
         return table[i].fn;
   return NULL;
}

/* The loader reaches the layer through these two (negotiated below); the exported
 * vkGetInstanceProcAddr / vkGetDeviceProcAddr only forward, so that no lookup of the layer's
 * own entry points can bind to the loader's symbols of the same names. */
static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetDeviceProcAddr(VkDevice dev,
                                                                        const char *name)
{
   if (!strcmp(name, "vkGetDeviceProcAddr"))
      return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
   PFN_vkVoidFunction fn = lookup(device_entries, ARRAY_LEN(device_entries), name);
   if (fn)
      return fn;
   struct device_data *d = dev ? dev_of(dev) : NULL;
   return d ? d->gdpa(dev, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL layer_GetInstanceProcAddr(VkInstance inst,
                                                                          const char *name)
{
   if (!strcmp(name, "vkGetInstanceProcAddr"))
      return (PFN_vkVoidFunction)layer_GetInstanceProcAddr;
   if (!strcmp(name, "vkGetDeviceProcAddr"))
      return (PFN_vkVoidFunction)layer_GetDeviceProcAddr;
   PFN_vkVoidFunction fn = lookup(instance_entries, ARRAY_LEN(instance_entries), name);
   if (!fn)
      fn = lookup(device_entries, ARRAY_LEN(device_entries), name);
   if (fn)
      return fn;
   struct instance_data *d = inst ? inst_of(inst) : NULL;
   return d ? d->gipa(inst, name) : NULL;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice dev, const char *name)
{
   return layer_GetDeviceProcAddr(dev, name);
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance inst,
                                                                      const char *name)
{
   return layer_GetInstanceProcAddr(inst, name);
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v)
{
   if (v->loaderLayerInterfaceVersion > 2)
      v->loaderLayerInterfaceVersion = 2;
   v->pfnGetInstanceProcAddr = layer_GetInstanceProcAddr;
   v->pfnGetDeviceProcAddr = layer_GetDeviceProcAddr;
   v->pfnGetPhysicalDeviceProcAddr = NULL;
   return VK_SUCCESS;
}
