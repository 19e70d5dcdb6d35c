/* Acceleration structures (VK_KHR_acceleration_structure, for VK_KHR_ray_query).
 *
 * Served at the newest protocol level only.  What the driver trusts is checked first:
 * - an acceleration structure lives in [offset, offset + size) of a buffer bound to
 *   memory (the driver takes the buffer's address at creation);
 * - a build's geometry data, instance data and scratch memory are device addresses, which
 *   on lavapipe are host pointers: each must lie, with the bytes the build reads or
 *   writes there, in one bound buffer with SHADER_DEVICE_ADDRESS usage (device_address.c),
 *   which the command buffer then holds;
 * - counts are within the host's maxGeometryCount / maxPrimitiveCount / maxInstanceCount,
 *   and each geometry is given by exactly one of pGeometries and ppGeometries.
 * What the GPU itself reads from memory at execution is not checked: the acceleration
 * structure references inside a TLAS's instances (64-bit addresses in the instance data)
 * and the instance pointers of an arrayOfPointers build.  These are the same class as
 * buffer device addresses that shaders dereference (docs/design.md, "Not covered yet").
 *
 * VK_KHR_ray_tracing_maintenance1 is served without rayTracingPipelineTraceRaysIndirect2
 * (its vkCmdTraceRaysIndirect2KHR is refused: the shader binding tables are in GPU memory).
 * The host commands (vkBuildAccelerationStructuresKHR and the other CPU-side copies and
 * queries) are not served: Mesa's Venus driver leaves them unimplemented and venusd reports
 * accelerationStructureHostCommands off; indirect builds, whose ranges are in GPU memory,
 * and capture/replay addresses are reported off as well. */
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "vk/format.h"
#include "vk/vk_common.h"

/* The record of a VkAccelerationStructureKHR: its size, which a build must not exceed. */
struct vd_accel {
   struct vd_device *dev;
   VkDeviceSize size;
};

static void accel_query(struct vd_device *dev)
{
   if (!vd_host_has_extension(dev->pdev, VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME) ||
       !dev->vk->GetPhysicalDeviceProperties2)
      return;
   VkPhysicalDeviceAccelerationStructurePropertiesKHR as = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_PROPERTIES_KHR,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &as,
   };
   dev->vk->GetPhysicalDeviceProperties2(dev->pdev->handle, &props);
   dev->max_geometry_count = as.maxGeometryCount;
   dev->max_instance_count = as.maxInstanceCount;
   dev->max_primitive_count = as.maxPrimitiveCount;
   if (!vd_host_has_extension(dev->pdev, VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME))
      return;
   dev->rt = (VkPhysicalDeviceRayTracingPipelinePropertiesKHR){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_PROPERTIES_KHR,
   };
   props.pNext = &dev->rt;
   dev->vk->GetPhysicalDeviceProperties2(dev->pdev->handle, &props);
   dev->rt.pNext = NULL;
}

/* Asked for at the first command that needs them, not at vkCreateDevice: the first query
 * of these properties costs lavapipe about 1.4 MB per device (bench/README.md, "Cost per
 * context"), which every guest paid, ray tracing or not.  States: 0 not asked, 1 being
 * asked (by another ring: wait), 2 in dev. */
void vd_accel_limits(struct vd_device *dev)
{
   if (atomic_load_explicit(&dev->accel_state, memory_order_acquire) == 2)
      return;
   int expected = 0;
   if (atomic_compare_exchange_strong_explicit(&dev->accel_state, &expected, 1,
                                               memory_order_acquire, memory_order_acquire)) {
      accel_query(dev);
      atomic_store_explicit(&dev->accel_state, 2, memory_order_release);
      return;
   }
   while (atomic_load_explicit(&dev->accel_state, memory_order_acquire) != 2)
      sched_yield();
}

void vd_accel_hide_features(void *pnext)
{
   VkPhysicalDeviceAccelerationStructureFeaturesKHR *f =
      vd_chain_find(pnext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR);
   if (!f)
      return;
   f->accelerationStructureHostCommands = VK_FALSE;
   f->accelerationStructureIndirectBuild = VK_FALSE;
   f->accelerationStructureCaptureReplay = VK_FALSE;
   VkPhysicalDeviceRayTracingPipelineFeaturesKHR *rt =
      vd_chain_find(pnext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR);
   if (rt) {
      rt->rayTracingPipelineShaderGroupHandleCaptureReplay = VK_FALSE;
      rt->rayTracingPipelineShaderGroupHandleCaptureReplayMixed = VK_FALSE;
   }
   /* vkCmdTraceRaysIndirect2KHR reads its shader binding tables from GPU memory, which
    * cannot be checked when it is recorded: reported off and refused */
   VkPhysicalDeviceRayTracingMaintenance1FeaturesKHR *m1 = vd_chain_find(
      pnext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_MAINTENANCE_1_FEATURES_KHR);
   if (m1)
      m1->rayTracingPipelineTraceRaysIndirect2 = VK_FALSE;
}

#define AS_EXT VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME
#define RT_EXT VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME

static void accel_destroy(struct vd_object *obj)
{
   struct vd_accel *as = obj->data;
   as->dev->vk->DestroyAccelerationStructureKHR(
      as->dev->handle, (VkAccelerationStructureKHR)(uintptr_t)obj->handle, NULL);
   free(as);
}

static bool create_info_ok(struct vd_dispatch *disp, const VkAccelerationStructureCreateInfoKHR *c)
{
   struct vd_object *bo =
      vd_dispatch_looked(disp, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)c->buffer);
   const struct vd_buffer *b = bo ? bo->data : NULL;
   if (!b)
      return false; /* the decoder required the handle */
   if (!atomic_load(&b->bound)) {
      vd_dispatch_fatal(disp, "pCreateInfo.buffer has no memory bound (VkBuffer %" PRIu64 ")",
                        bo->id);
      return false;
   }
   if (c->size == 0 || (c->offset & 255)) {
      vd_dispatch_fatal(
         disp, "pCreateInfo: size %" PRIu64 " is 0 or offset %" PRIu64 " is not a multiple of 256",
         (uint64_t)c->size, (uint64_t)c->offset);
      return false;
   }
   if (c->deviceAddress ||
       (c->createFlags & VK_ACCELERATION_STRUCTURE_CREATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT_KHR)) {
      vd_dispatch_fatal(disp,
                        "pCreateInfo: deviceAddress 0x%" PRIx64 " / createFlags 0x%x: "
                        "accelerationStructureCaptureReplay is off",
                        (uint64_t)c->deviceAddress, c->createFlags);
      return false;
   }
   return vd_range_fits(disp, "pCreateInfo.buffer", c->offset, c->size, b->size, "buffer");
}

VD_HANDLER(vkCreateAccelerationStructureKHR)
{
   struct vd_device *dev = a->obj->data;
   const uint64_t id = (uint64_t)(uintptr_t)*a->pAccelerationStructure;
   if (!vd_entry_ok(disp, (const void *)dev->vk->CreateAccelerationStructureKHR, AS_EXT) ||
       !create_info_ok(disp, a->pCreateInfo))
      return;
   VkAccelerationStructureCreateInfoKHR info = *a->pCreateInfo;
   vd_strip_mesa_structs(&info.pNext);
   struct vd_accel *rec = malloc(sizeof(*rec));
   if (!rec) {
      a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   *rec = (struct vd_accel){ dev, info.size };
   VkAccelerationStructureKHR as = VK_NULL_HANDLE;
   a->ret = dev->vk->CreateAccelerationStructureKHR(a->device, &info, NULL, &as);
   if (a->ret != VK_SUCCESS) {
      free(rec);
      return;
   }
   if (!vd_object_add(disp, id, VK_OBJECT_TYPE_ACCELERATION_STRUCTURE_KHR, (uint64_t)(uintptr_t)as,
                      a->obj, rec, accel_destroy)) {
      dev->vk->DestroyAccelerationStructureKHR(a->device, as, NULL);
      free(rec);
   }
}

/* -- builds ----------------------------------------------------------------------------- */

struct build_check {
   struct vd_dispatch *disp;
   struct vd_object *cb;
   char what[96];
};

/* The address `a` with `size` bytes at it; a zero address is allowed where `optional`
 * (index data of non-indexed triangles, no transform). */
static bool addr_ok(struct build_check *c, const char *field, VkDeviceAddress a, VkDeviceSize size,
                    bool optional)
{
   if (!a && optional)
      return true;
   char what[160];
   snprintf(what, sizeof(what), "%s.%s", c->what, field);
   return vd_address_range_ok(c->disp, c->cb, what, a, size);
}

static uint32_t index_size(VkIndexType t)
{
   switch (t) {
   case VK_INDEX_TYPE_UINT16: return 2;
   case VK_INDEX_TYPE_UINT32: return 4;
   case VK_INDEX_TYPE_UINT8: return 1;
   default: return 0;
   }
}

/* The bytes a triangle geometry's build reads: indices (or vertices) of primitiveCount
 * triangles from primitiveOffset, vertices up to maxVertex from firstVertex, and one
 * transform matrix at transformOffset. */
static bool triangles_ok(struct build_check *c,
                         const VkAccelerationStructureGeometryTrianglesDataKHR *t,
                         const VkAccelerationStructureBuildRangeInfoKHR *r)
{
   const uint64_t stride = t->vertexStride;
   const struct vd_format_info *fi = vd_format_info(t->vertexFormat);
   if (!fi || !fi->block_size || stride > UINT32_MAX) {
      vd_dispatch_fatal(c->disp, "%s: vertexFormat %d / vertexStride %" PRIu64 " not served",
                        c->what, t->vertexFormat, stride);
      return false;
   }
   const uint64_t vsize = fi->block_size;
   if (t->indexType == VK_INDEX_TYPE_NONE_KHR) {
      const uint64_t verts = (uint64_t)r->primitiveCount * 3;
      const uint64_t off = r->primitiveOffset + (uint64_t)r->firstVertex * stride;
      if (verts && !addr_ok(c, "vertexData", t->vertexData.deviceAddress + off,
                            (verts - 1) * stride + vsize, false))
         return false;
   } else {
      /* The index values themselves are read from memory at execution: one above
       * maxVertex is not seen here (see the top of the file). */
      const uint32_t isz = index_size(t->indexType);
      if (!isz) {
         vd_dispatch_fatal(c->disp, "%s: indexType %d is not a VkIndexType", c->what, t->indexType);
         return false;
      }
      if (r->primitiveCount &&
          (!addr_ok(c, "indexData", t->indexData.deviceAddress + r->primitiveOffset,
                    (uint64_t)r->primitiveCount * 3 * isz, false) ||
           !addr_ok(c, "vertexData",
                    t->vertexData.deviceAddress + (uint64_t)r->firstVertex * stride,
                    (uint64_t)t->maxVertex * stride + vsize, false)))
         return false;
   }
   return addr_ok(c, "transformData", t->transformData.deviceAddress + r->transformOffset,
                  sizeof(VkTransformMatrixKHR), true);
}

static bool geometry_ok(struct build_check *c,
                        const VkAccelerationStructureBuildGeometryInfoKHR *info,
                        const VkAccelerationStructureGeometryKHR *g,
                        const VkAccelerationStructureBuildRangeInfoKHR *r,
                        const struct vd_device *dev)
{
   const bool top = info->type == VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR;
   const uint64_t max = top ? dev->max_instance_count : dev->max_primitive_count;
   if (r->primitiveCount > max) {
      vd_dispatch_fatal(c->disp, "%s: primitiveCount %u is above the host's %s %" PRIu64, c->what,
                        r->primitiveCount, top ? "maxInstanceCount" : "maxPrimitiveCount", max);
      return false;
   }
   if ((g->geometryType == VK_GEOMETRY_TYPE_INSTANCES_KHR) != top) {
      vd_dispatch_fatal(c->disp, "%s: geometryType %d in a %s-level build", c->what,
                        g->geometryType, top ? "top" : "bottom");
      return false;
   }
   switch (g->geometryType) {
   case VK_GEOMETRY_TYPE_TRIANGLES_KHR: return triangles_ok(c, &g->geometry.triangles, r);
   case VK_GEOMETRY_TYPE_AABBS_KHR:
      return !r->primitiveCount ||
             addr_ok(c, "aabbs.data", g->geometry.aabbs.data.deviceAddress + r->primitiveOffset,
                     (uint64_t)(r->primitiveCount - 1) * g->geometry.aabbs.stride +
                        sizeof(VkAabbPositionsKHR),
                     false);
   case VK_GEOMETRY_TYPE_INSTANCES_KHR: {
      /* Only the instance array (or the array of pointers) is checked: the
       * accelerationStructureReference inside each instance, and each pointer of an
       * arrayOfPointers build, is read by the build from memory (see the top). */
      const uint64_t each = g->geometry.instances.arrayOfPointers
                               ? sizeof(VkDeviceAddress)
                               : sizeof(VkAccelerationStructureInstanceKHR);
      return !r->primitiveCount ||
             addr_ok(c, "instances.data",
                     g->geometry.instances.data.deviceAddress + r->primitiveOffset,
                     r->primitiveCount * each, false);
   }
   default:
      vd_dispatch_fatal(c->disp, "%s: geometryType %d is not served", c->what, g->geometryType);
      return false;
   }
}

/* pGeometries or ppGeometries, exactly one (the driver reads whichever is not NULL). */
static bool geometries_given(struct vd_dispatch *disp, const char *what,
                             const VkAccelerationStructureBuildGeometryInfoKHR *info,
                             const struct vd_device *dev)
{
   if (info->geometryCount > dev->max_geometry_count) {
      vd_dispatch_fatal(disp, "%s: geometryCount %u is above the host's maxGeometryCount %" PRIu64,
                        what, info->geometryCount, dev->max_geometry_count);
      return false;
   }
   if (info->geometryCount && !info->pGeometries == !info->ppGeometries) {
      vd_dispatch_fatal(disp, "%s: pGeometries and ppGeometries are both %s", what,
                        info->pGeometries ? "given" : "NULL");
      return false;
   }
   return true;
}

static const VkAccelerationStructureGeometryKHR *geometry_at(
   const VkAccelerationStructureBuildGeometryInfoKHR *info, uint32_t j)
{
   return info->pGeometries ? &info->pGeometries[j] : info->ppGeometries[j];
}

/* The scratch memory of the build or update: the host's size for these counts. */
static bool scratch_ok(struct build_check *c, const struct vd_device *dev,
                       const VkAccelerationStructureBuildGeometryInfoKHR *info,
                       const VkAccelerationStructureBuildRangeInfoKHR *ranges)
{
   uint32_t *counts = vd_arena_alloc_array(&c->disp->arena, sizeof(*counts),
                                           info->geometryCount ? info->geometryCount : 1);
   if (!counts) {
      vd_dispatch_fatal(c->disp, "%s: out of memory", c->what);
      return false;
   }
   for (uint32_t j = 0; j < info->geometryCount; j++)
      counts[j] = ranges[j].primitiveCount;
   VkAccelerationStructureBuildSizesInfoKHR sizes = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR,
   };
   dev->vk->GetAccelerationStructureBuildSizesKHR(
      dev->handle, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, info, counts, &sizes);
   const VkDeviceSize need = info->mode == VK_BUILD_ACCELERATION_STRUCTURE_MODE_UPDATE_KHR
                                ? sizes.updateScratchSize
                                : sizes.buildScratchSize;
   /* The build writes sizes.accelerationStructureSize bytes into the destination. */
   struct vd_object *dst = vd_dispatch_looked(c->disp, VK_OBJECT_TYPE_ACCELERATION_STRUCTURE_KHR,
                                              (uint64_t)(uintptr_t)info->dstAccelerationStructure);
   const struct vd_accel *as = dst ? dst->data : NULL;
   if (!as || as->size < sizes.accelerationStructureSize) {
      vd_dispatch_fatal(
         c->disp, "%s: dstAccelerationStructure of %" PRIu64 " bytes, the build needs %" PRIu64,
         c->what, as ? (uint64_t)as->size : 0, (uint64_t)sizes.accelerationStructureSize);
      return false;
   }
   return !need || addr_ok(c, "scratchData", info->scratchData.deviceAddress, need, false);
}

VD_HANDLER(vkCmdBuildAccelerationStructuresKHR)
{
   struct vd_device *dev = a->obj->domain->data;
   vd_accel_limits(dev);
   struct build_check c = { .disp = disp, .cb = a->obj };
   if (!vd_entry_ok(disp, (const void *)dev->vk->CmdBuildAccelerationStructuresKHR, AS_EXT))
      return;
   for (uint32_t i = 0; i < a->infoCount; i++) {
      const VkAccelerationStructureBuildGeometryInfoKHR *info = &a->pInfos[i];
      snprintf(c.what, sizeof(c.what), "pInfos[%u]", i);
      if (!info->dstAccelerationStructure ||
          (info->mode == VK_BUILD_ACCELERATION_STRUCTURE_MODE_UPDATE_KHR &&
           !info->srcAccelerationStructure)) {
         vd_dispatch_fatal(disp,
                           "%s: no dstAccelerationStructure, or an update without "
                           "srcAccelerationStructure",
                           c.what);
         return;
      }
      if (!geometries_given(disp, c.what, info, dev))
         return;
      for (uint32_t j = 0; j < info->geometryCount; j++) {
         snprintf(c.what, sizeof(c.what), "pInfos[%u] geometry %u (ppBuildRangeInfos[%u][%u])", i,
                  j, i, j);
         if (!geometry_ok(&c, info, geometry_at(info, j), &a->ppBuildRangeInfos[i][j], dev))
            return;
      }
      snprintf(c.what, sizeof(c.what), "pInfos[%u]", i);
      if (!scratch_ok(&c, dev, info, a->ppBuildRangeInfos[i]))
         return;
   }
   dev->vk->CmdBuildAccelerationStructuresKHR(a->commandBuffer, a->infoCount, a->pInfos,
                                              a->ppBuildRangeInfos);
}

VD_HANDLER(vkGetAccelerationStructureBuildSizesKHR)
{
   struct vd_device *dev = a->obj->data;
   vd_accel_limits(dev);
   if (!vd_entry_ok(disp, (const void *)dev->vk->GetAccelerationStructureBuildSizesKHR, AS_EXT) ||
       !geometries_given(disp, "pBuildInfo", a->pBuildInfo, dev))
      return;
   for (uint32_t j = 0; j < a->pBuildInfo->geometryCount; j++) {
      const VkGeometryTypeKHR t = geometry_at(a->pBuildInfo, j)->geometryType;
      if (t != VK_GEOMETRY_TYPE_TRIANGLES_KHR && t != VK_GEOMETRY_TYPE_AABBS_KHR &&
          t != VK_GEOMETRY_TYPE_INSTANCES_KHR) {
         vd_dispatch_fatal(disp, "pBuildInfo geometry %u: geometryType %d is not served", j, t);
         return;
      }
   }
   dev->vk->GetAccelerationStructureBuildSizesKHR(a->device, a->buildType, a->pBuildInfo,
                                                  a->pMaxPrimitiveCounts, a->pSizeInfo);
}

VD_HANDLER(vkCmdWriteAccelerationStructuresPropertiesKHR)
{
   const struct vd_query_pool *p = vd_query_pool_of(disp, a->queryPool);
   if (!vd_entry_ok(disp,
                    (const void *)vd_object_vk(a->obj)->CmdWriteAccelerationStructuresPropertiesKHR,
                    AS_EXT) ||
       !p || !vd_query_range_ok(disp, p, a->firstQuery, a->accelerationStructureCount))
      return;
   if (p->type != a->queryType) {
      vd_dispatch_fatal(disp, "queryType %d is not the pool's type %d", a->queryType, p->type);
      return;
   }
   vd_object_vk(a->obj)->CmdWriteAccelerationStructuresPropertiesKHR(
      a->commandBuffer, a->accelerationStructureCount, a->pAccelerationStructures, a->queryType,
      a->queryPool, a->firstQuery);
}

/* -- ray tracing ------------------------------------------------------------------------ */

/* A shader binding table region: empty (size 0: nothing is read), or `size` bytes at its
 * address inside one device-address buffer, its address aligned to shaderGroupBaseAlignment,
 * its stride a multiple of shaderGroupHandleAlignment within maxShaderGroupStride (the
 * raygen region: one record, stride == size).  Which record of the miss, hit and callable
 * regions a ray reads is computed on the GPU (the shader's missIndex, the instance's SBT
 * offset in the TLAS, the geometry index): not checkable here (docs/design.md). */
static bool sbt_ok(struct vd_dispatch *disp, struct vd_object *cb, const char *what,
                   const VkStridedDeviceAddressRegionKHR *r, bool raygen)
{
   const struct vd_device *dev = cb->domain->data;
   const VkPhysicalDeviceRayTracingPipelinePropertiesKHR *p = &dev->rt;
   if (!r->size)
      return true;
   const uint32_t align = p->shaderGroupHandleAlignment ? p->shaderGroupHandleAlignment : 1;
   const uint32_t base = p->shaderGroupBaseAlignment ? p->shaderGroupBaseAlignment : 1;
   if ((raygen && r->stride != r->size) || r->stride % align ||
       r->stride > p->maxShaderGroupStride || r->deviceAddress % base ||
       r->size < p->shaderGroupHandleSize) {
      vd_dispatch_fatal(disp,
                        "%s: deviceAddress 0x%" PRIx64 ", stride %" PRIu64 ", size %" PRIu64
                        ": the stride must be a multiple of %u up to %u (the raygen region's: "
                        "its size), the address a multiple of %u, the size at least a handle "
                        "(%u bytes)",
                        what, (uint64_t)r->deviceAddress, (uint64_t)r->stride, (uint64_t)r->size,
                        align, p->maxShaderGroupStride, base, p->shaderGroupHandleSize);
      return false;
   }
   return vd_address_range_ok(disp, cb, what, r->deviceAddress, r->size);
}

static bool sbts_ok(struct vd_dispatch *disp, struct vd_object *cb,
                    const VkStridedDeviceAddressRegionKHR *raygen,
                    const VkStridedDeviceAddressRegionKHR *miss,
                    const VkStridedDeviceAddressRegionKHR *hit,
                    const VkStridedDeviceAddressRegionKHR *callable)
{
   return sbt_ok(disp, cb, "pRaygenShaderBindingTable", raygen, true) &&
          sbt_ok(disp, cb, "pMissShaderBindingTable", miss, false) &&
          sbt_ok(disp, cb, "pHitShaderBindingTable", hit, false) &&
          sbt_ok(disp, cb, "pCallableShaderBindingTable", callable, false);
}

VD_HANDLER(vkCmdTraceRaysKHR)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_RAY_TRACING, "ray tracing pipeline"))
      return;
   const struct vd_device *dev = a->obj->domain->data;
   const VkPhysicalDeviceLimits *l = &dev->pdev->props.limits;
   const uint64_t n = (uint64_t)a->width * a->height * a->depth;
   if (!vd_entry_ok(disp, (const void *)dev->vk->CmdTraceRaysKHR, RT_EXT) ||
       !sbts_ok(disp, a->obj, a->pRaygenShaderBindingTable, a->pMissShaderBindingTable,
                a->pHitShaderBindingTable, a->pCallableShaderBindingTable))
      return;
   if (n > dev->rt.maxRayDispatchInvocationCount ||
       (uint64_t)a->width >
          (uint64_t)l->maxComputeWorkGroupCount[0] * l->maxComputeWorkGroupSize[0] ||
       (uint64_t)a->height >
          (uint64_t)l->maxComputeWorkGroupCount[1] * l->maxComputeWorkGroupSize[1] ||
       (uint64_t)a->depth >
          (uint64_t)l->maxComputeWorkGroupCount[2] * l->maxComputeWorkGroupSize[2]) {
      vd_dispatch_fatal(disp,
                        "width %u x height %u x depth %u exceed the device's "
                        "maxRayDispatchInvocationCount %u or its compute dispatch limits",
                        a->width, a->height, a->depth, dev->rt.maxRayDispatchInvocationCount);
      return;
   }
   dev->vk->CmdTraceRaysKHR(a->commandBuffer, a->pRaygenShaderBindingTable,
                            a->pMissShaderBindingTable, a->pHitShaderBindingTable,
                            a->pCallableShaderBindingTable, a->width, a->height, a->depth);
}

/* The indirect form reads width, height and depth from memory at execution (not checked:
 * the GPU wrote them; the spec bounds them by the limits above). */
VD_HANDLER(vkCmdTraceRaysIndirectKHR)
{
   if (!vd_bind_state_ok(disp, a->obj, VD_BOUND_RAY_TRACING, "ray tracing pipeline"))
      return;
   const struct vd_device *dev = a->obj->domain->data;
   if (!vd_entry_ok(disp, (const void *)dev->vk->CmdTraceRaysIndirectKHR, RT_EXT) ||
       !sbts_ok(disp, a->obj, a->pRaygenShaderBindingTable, a->pMissShaderBindingTable,
                a->pHitShaderBindingTable, a->pCallableShaderBindingTable) ||
       !vd_address_range_ok(disp, a->obj, "indirectDeviceAddress", a->indirectDeviceAddress,
                            sizeof(VkTraceRaysIndirectCommandKHR)))
      return;
   dev->vk->CmdTraceRaysIndirectKHR(a->commandBuffer, a->pRaygenShaderBindingTable,
                                    a->pMissShaderBindingTable, a->pHitShaderBindingTable,
                                    a->pCallableShaderBindingTable, a->indirectDeviceAddress);
}
