/* Records of the host Vulkan objects behind guest ids, shared by the handlers. */
#ifndef VD_VK_COMMON_H
#define VD_VK_COMMON_H

#include <pthread.h>
#include <vulkan/vulkan_core.h>
/* VkPhysicalDevicePortabilitySubsetFeaturesKHR: VK_KHR_portability_subset is a provisional
 * ("beta") extension; its sType values are guarded in vulkan_core.h, so venusd names them
 * itself (VD_STYPE_PORTABILITY_SUBSET_*). */
#include <vulkan/vulkan_beta.h>

#include "context/context_priv.h"
#include "util/options.h"
#include "vk/memory_backend.h"
#include "vk/vk.h"
#include "vk_dispatch.h"
#include "vn_protocol.h"

/* Every record of a dispatchable object starts with its dispatch table pointer, so the
 * generated pass-through handlers find the table from the object record. */
struct vd_vk_record {
   const struct vd_vk_dispatch *vk;
};

static inline const struct vd_vk_dispatch *vd_object_vk(const struct vd_object *obj)
{
   return ((const struct vd_vk_record *)obj->data)->vk;
}

/* bind_state.c: the pipelines bound to a command buffer (its vd_object.state) since it was
 * begun, by kind.  A graphics pipeline built from libraries counts as both vertex and mesh
 * (its stages are in the libraries). */
enum {
   VD_BOUND_VERTEX = 1u << 0, /* graphics, vertex input stages */
   VD_BOUND_MESH = 1u << 1,   /* graphics, task/mesh stages */
   VD_BOUND_COMPUTE = 1u << 2,
   VD_BOUND_RAY_TRACING = 1u << 3,
};
/* Forgets what was bound (the command buffer was begun or reset). */
void vd_bind_state_reset(struct vd_object *cb);
/* True if cb has a pipeline of one of the `need` kinds bound; else fatal, naming `what`. */
bool vd_bind_state_ok(struct vd_dispatch *disp, struct vd_object *cb, uint32_t need,
                      const char *what);
/* pipeline.c: the VD_BOUND_* kinds a pipeline may be bound as (0: a library, or NULL), and
 * its kind in words for an error. */
uint32_t vd_pipeline_bind_bits(const struct vd_object *pipeline);
const char *vd_pipeline_kind_name(const struct vd_object *pipeline);

/* The host has no entry point for the command being dispatched on this device or instance:
 * its extension `ext` (NULL: "its extension") or Vulkan version was not enabled when the
 * object was created, so a valid guest never sends it.  Makes the context fatal (device.c).
 * vd_entry_ok: true if `fn` is there, else that. */
void vd_vk_no_entry(struct vd_dispatch *disp, const char *ext);
static inline bool vd_entry_ok(struct vd_dispatch *disp, const void *fn, const char *ext)
{
   if (__builtin_expect(fn != NULL, 1))
      return true;
   vd_vk_no_entry(disp, ext);
   return false;
}

struct vd_physical_device {
   const struct vd_vk_dispatch *vk; /* the instance's table */
   VkPhysicalDevice handle;
   struct vd_instance *instance;
   uint64_t id; /* guest id once bound, else 0 */
   VkPhysicalDeviceProperties props;
   VkExtensionProperties *exts; /* what the guest is told (see emulation.c) */
   uint32_t ext_count;
   uint32_t queue_family_count;
   VkQueueFamilyProperties *queue_families;
   VkPhysicalDeviceMemoryProperties memory_props;
   uint8_t device_uuid[16], driver_uuid[16];
   bool has_external_memory_host; /* host extensions venusd itself may use */
   bool has_external_memory_fd;
   bool has_dma_buf;
   bool has_robust_buffer_access; /* features venusd turns on in every device */
   bool has_robust_image_access;
   bool has_timeline_semaphore; /* core 1.2 feature, turned on as well (device.c) */
   bool has_image_robustness_ext;
   bool has_sync_fd_semaphore;             /* host imports and exports SYNC_FD binary semaphores */
   bool has_sync_fd_fence;                 /* host exports SYNC_FD fences */
   bool has_drm_format_modifier;           /* host VK_EXT_image_drm_format_modifier */
   bool has_queue_family_foreign;          /* host VK_EXT_queue_family_foreign */
   unsigned emulated;                      /* enum vd_emulation_bits */
   uint64_t host_pointer_alignment;        /* max(driver minimum, --host-pointer-alignment) */
   const struct vd_memory_backend *memory; /* NULL: host-visible memory cannot be shared */
   VkDriverId driver_id;                   /* 0 where the host is below Vulkan 1.2 */
   bool sparse_hidden;                     /* sparse binding hidden from the guest and refused:
                                       see physical_device.c */
   /* The host lists VK_KHR_portability_subset (MoltenVK, KosmicKrisp): venusd enables it and
    * every subset feature the host has at vkCreateDevice (device.c); the guest never sees it. */
   bool has_portability_subset;
   VkPhysicalDevicePortabilitySubsetFeaturesKHR portability_subset;
   /* VK_EXT_mesh_shader: the larger of the host's task and mesh work group counts per
    * dimension, and of their totals (range_check.c checks direct mesh draws against them);
    * zeros where the host lacks the extension. */
   uint32_t mesh_group_count[3];
   uint32_t mesh_group_total;
};

struct vd_instance {
   const struct vd_vk_dispatch *vk;
   bool portability; /* created with VK_KHR_portability_enumeration (vd_instance_portability) */
   const struct vd_options *opts; /* its context's settings (ctx->params.opts) */
   struct vd_vk_dispatch table;
   VkInstance handle;
   uint32_t api_version;
   uint32_t protocol_level; /* its context's (context/protocol.h) */
   uint32_t pdev_count;
   struct vd_physical_device *pdevs;
   bool pdevs_enumerated;
   pthread_mutex_t mutex;
};

/* Shared-memory backings of freed host-pointer allocations, kept for the next allocation
 * of the same size on the same device (backing/host_pointer.c). */
#define VD_BACKING_CACHE_SLOTS 8
#define VD_BACKING_CACHE_MAX_BYTES (32ull << 20)
struct vd_backing_cache {
   pthread_mutex_t mutex;
   unsigned count;
   uint64_t bytes;
   struct {
      int fd;
      void *ptr;
      uint64_t size;
   } slots[VD_BACKING_CACHE_SLOTS];
};

/* device_address.c: the device addresses of a device's bound buffers with
 * SHADER_DEVICE_ADDRESS usage, so that an address a command passes (acceleration structure
 * builds) can be checked against a live buffer before the driver dereferences it (on
 * lavapipe a device address is a host pointer). */
struct vd_address_range {
   VkDeviceAddress addr;
   VkDeviceSize size;
   struct vd_object *buffer; /* no reference: removed by the buffer's destroy */
};
struct vd_address_map {
   pthread_mutex_t mutex;
   struct vd_address_range *ranges;
   size_t count, cap;
};

struct vd_device {
   const struct vd_vk_dispatch *vk;
   struct vd_vk_dispatch table;
   VkDevice handle;
   struct vd_physical_device *pdev;
   unsigned emulated;   /* pdev->emulated, limited to what the guest enabled */
   uint32_t group_size; /* physical devices in the device (VkDeviceGroupDeviceCreateInfo) */
   struct vd_backing_cache backings;
   struct vd_address_map addresses; /* device_address.c */
   /* VK_KHR_acceleration_structure's limits on the host (accel.c), 0 without it; valid
    * once vd_accel_limits(dev) has returned (accel_state 2) */
   _Atomic int accel_state;
   uint64_t max_geometry_count, max_instance_count, max_primitive_count;
   /* VK_KHR_ray_tracing_pipeline's (accel.c), 0 without it */
   VkPhysicalDeviceRayTracingPipelinePropertiesKHR rt;
};

struct vd_queue {
   const struct vd_vk_dispatch *vk;
   VkQueue handle;
   struct vd_device *dev;
   struct vd_context *ctx;
   uint32_t ring_idx;
   pthread_mutex_t mutex; /* host VkQueue access is externally synchronized */
   /* timeline fences (queue.c) */
   pthread_t thread;
   bool thread_started, stop;
   pthread_cond_t cond;
   struct vd_queue_fence *pending, **pending_tail;
   /* submissions whose objects are held until the host has finished them (queue.c) */
   struct vd_queue_fence *retire, **retire_tail;
   /* Host fences kept for reuse, unsignalled (queue.c): creating one costs ~300 µs on
    * NVIDIA's driver, against ~1 µs to reset one, and every timeline fence needs one. */
   VkFence fence_pool[8];
   uint32_t fence_pool_count;
   /* A host timeline semaphore that the guest's own submissions signal (queue.c
    * vd_queue_track_value): VK_NULL_HANDLE until the first tracked submission, and where
    * the device has no timeline semaphores (then an empty batch with a fence tracks). */
   VkSemaphore track_sem;
   uint64_t track_value; /* the last value submitted */
   bool track_failed;
   /* The last host submission with work on this queue signalled track_value: waiting for
    * that value then waits for everything submitted so far (vd_queue_submit_fence). */
   bool track_covers_all;
};

/* loader.c: the host Vulkan loader, loaded once per process. */
PFN_vkGetInstanceProcAddr vd_loader_get_instance_proc_addr(void);
void vd_loader_log_icds(void);

/* instance.c: asks for portability drivers (VK_KHR_portability_enumeration and
 * VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR) in *info when the loader offers them:
 * without them a loader lists no MoltenVK device.  *info must enable no other extension.
 * True if it did. */
bool vd_instance_portability(PFN_vkGetInstanceProcAddr gipa, VkInstanceCreateInfo *info);
#define VD_STYPE_PORTABILITY_SUBSET_FEATURES ((VkStructureType)1000163000)

/* emulation.c: what the guest is told the host supports. */
uint32_t vd_emulation_api_version(uint32_t host_version, uint32_t protocol_level);
/* Decides pdev->emulated from the host's capabilities and --emulate. */
void vd_emulation_choose(struct vd_physical_device *pdev);
bool vd_emulation_build_extensions(struct vd_physical_device *pdev);
bool vd_emulation_extension_exposed(const struct vd_physical_device *pdev, const char *name);
/* The emulation bit that serves extension `name` on pdev, or 0 if the host has it. */
unsigned vd_emulation_for_extension(const struct vd_physical_device *pdev, const char *name);
/* Logs, once per context and emulation, which host capability is missing and what
 * replaces it (info level). */
void vd_emulation_log_once(struct vd_context *ctx, const struct vd_physical_device *pdev,
                           unsigned bits);
/* Removes venusd/Venus-private structs (sTypes 1000384xxx) from a decoded pNext chain
 * before it reaches the host driver.  The chain lives in the decode arena. */
void vd_strip_mesa_structs(const void **pnext);

/* device.c: release waits nothing will satisfy and wait for the device(s) to go idle, so
 * that their objects can be freed in any order (context teardown, vkDestroyDevice). */
void vd_device_quiesce(struct vd_context *ctx, struct vd_object *dev_obj);
void vd_devices_quiesce(struct vd_context *ctx);

/* pNext chains.  The decoder's chains are its own arena copies, so handlers may edit them
 * (cast away the const). */
static inline void *vd_chain_find(const void *pnext, VkStructureType stype)
{
   for (const VkBaseInStructure *s = pnext; s; s = s->pNext)
      if (s->sType == stype)
         return (void *)s;
   return NULL;
}

/* Unlinks the first struct of `stype` from the chain at *pnext and returns it (or NULL). */
static inline void *vd_chain_unlink(const void **pnext, VkStructureType stype)
{
   for (const VkBaseInStructure **p = (const VkBaseInStructure **)pnext; *p;
        p = (const VkBaseInStructure **)&(*p)->pNext) {
      if ((*p)->sType == stype) {
         const VkBaseInStructure *s = *p;
         *p = s->pNext;
         return (void *)s;
      }
   }
   return NULL;
}

/* physical_device.c: whether the host driver lists device extension `name`. */
bool vd_host_has_extension(const struct vd_physical_device *pd, const char *name);

/* device_memory.c: exports the VkDeviceMemory with guest id blob_id as a blob (the
 * context's export_blob hook).  Returns 0 or -errno. */
int vd_device_memory_export_blob(struct vd_context *ctx, uint64_t blob_id, uint64_t size,
                                 uint32_t flags, struct vd_blob *out);

/* queue.c */
bool vd_queue_submit_fence(struct vd_context *ctx, struct vd_queue *queue, uint32_t ring_idx,
                           uint64_t fence_id);
void vd_queue_finish(struct vd_queue *queue);
/* With queue->mutex held, right after a submission: the references `objs` (a malloc'ed
 * array the queue takes over, each object's `pending` already counted) are dropped once
 * the host has finished everything submitted so far, seen by vd_queue_reap.  False if that
 * cannot be arranged (the caller still owns objs). */
bool vd_queue_retire_after(struct vd_queue *queue, struct vd_object **objs, uint32_t count,
                           uint64_t track_value);
/* With queue->mutex held, before a submission that holds objects: the value the
 * submission's last batch should also signal on queue->track_sem (then pass it to
 * vd_queue_retire_after, and nothing else is submitted to track it), or 0 where the queue
 * tracks with an empty batch and a fence instead (no timeline semaphores). */
uint64_t vd_queue_track_value(struct vd_queue *queue);
/* Drops the objects of the submissions the host has finished: without blocking
 * (timeout_ns 0), or waiting up to timeout_ns for each in turn (UINT64_MAX: all of them,
 * at teardown).  Takes queue->mutex. */
void vd_queue_reap(struct vd_queue *queue, uint64_t timeout_ns);

/* lifetime.c (docs/design.md, "Lifetimes") */
/* Before a submission: every command buffer it names may still be submitted (nothing it
 * recorded was freed or reset since), else the context goes fatal (false).  Collects into
 * *objs (malloc'ed) a reference on every object the command named and on every descriptor
 * set and secondary command buffer those command buffers recorded, each counted pending. */
bool vd_lifetime_submit_begin(struct vd_dispatch *disp, struct vd_object ***objs, uint32_t *count);
/* After it, with queue->mutex held: the references stay until the host has finished
 * everything submitted so far (or go now if the submission failed). */
void vd_lifetime_submit_end(struct vd_queue *queue, struct vd_object **objs, uint32_t count,
                            bool submitted, uint64_t track_value);
/* Waits until no unfinished submission uses obj (a valid guest only ever waits for the
 * moment between its own fence and venusd's); false after making the context fatal. */
bool vd_lifetime_wait_unused(struct vd_dispatch *disp, struct vd_object *obj, const char *what);
/* The host object behind obj was freed or reset: records holding it can no longer be
 * submitted, and what obj held is released. */
void vd_lifetime_invalidate(struct vd_object *obj);

/* Every memory bind of a vkQueueBindSparse lies inside its allocation (device_memory.c); false
 * after making the context fatal. */
bool vd_sparse_binds_fit(struct vd_dispatch *disp, const struct vd_device *dev,
                         const VkBindSparseInfo *infos, uint32_t count);

/* [offset, offset + size) lies inside `limit` bytes (size VK_WHOLE_SIZE: to the end);
 * otherwise the context goes fatal with "WHAT: N bytes at offset O do not fit the
 * LIMIT-byte CONTAINER" (range_check.c). */
bool vd_range_fits(struct vd_dispatch *disp, const char *what, VkDeviceSize offset,
                   VkDeviceSize size, VkDeviceSize limit, const char *container);

/* The record of a VkImage (buffer_image.c). */
struct vd_image {
   struct vd_device *dev;
   bool linear_modifier; /* created with DRM_FORMAT_MODIFIER tiling, emulated as LINEAR */
   /* What the copy checks (range_check.c) and subresource queries (modifier.c) check against. */
   VkImageType type;
   VkFormat format;
   VkExtent3D extent;
   uint32_t mip_levels, array_layers;
   VkSampleCountFlagBits samples;
};

/* range_check.c: the mip levels and the first `layers` array layers of the image hold the
 * range (VK_REMAINING_* resolved), else the context goes fatal naming `what` (false). */
bool vd_subresource_range_ok(struct vd_dispatch *disp, const char *what, const struct vd_image *img,
                             const VkImageSubresourceRange *r, uint32_t layers);
/* range_check.c: every buffer range and image subresource range of the barriers lies in
 * its object, else the context goes fatal (false). */
bool vd_barriers_ok(struct vd_dispatch *disp, uint32_t buffer_count,
                    const VkBufferMemoryBarrier *buffers, uint32_t image_count,
                    const VkImageMemoryBarrier *images);
bool vd_dependency_ok(struct vd_dispatch *disp, const VkDependencyInfo *d);

/* range_check.c: the input attachment indices of dynamic rendering local read (in
 * vkCmdSetRenderingInputAttachmentIndices, a pipeline's or an inheritance info's chain) are
 * VK_ATTACHMENT_UNUSED or below maxPerStageDescriptorInputAttachments, their count within
 * maxColorAttachments, else the context goes fatal naming `what` (false). */
bool vd_input_attachment_indices_ok(struct vd_dispatch *disp, const VkPhysicalDeviceLimits *l,
                                    const char *what,
                                    const VkRenderingInputAttachmentIndexInfo *info);

/* render_pass.c: `subpass` is a subpass of `pass` (VK_NULL_HANDLE: nothing to check), else
 * the context goes fatal naming `what` (false). */
bool vd_subpass_ok(struct vd_dispatch *disp, const char *what, VkRenderPass pass, uint32_t subpass);

/* The record of a VkQueryPool (buffer_image.c). */
struct vd_query_pool {
   struct vd_device *dev;
   VkQueryType type;
   uint32_t count;  /* queryCount */
   uint32_t values; /* result values per query, without the availability/status value */
   bool wide;       /* results are 64-bit whatever the flags (performance queries) */
};

/* buffer_image.c: queries [first, first + count) lie inside the pool, else the context goes
 * fatal with "firstQuery F + queryCount C exceed the N-query pool" (false). */
bool vd_query_range_ok(struct vd_dispatch *disp, const struct vd_query_pool *pool, uint32_t first,
                       uint32_t count);
/* The bytes that `count` results `stride` apart take with `flags`: the last result takes
 * only its own values (and availability/status value). */
uint64_t vd_query_results_span(const struct vd_query_pool *pool, uint32_t count,
                               VkDeviceSize stride, VkQueryResultFlags flags);
/* The record of the query pool a command named, or NULL after making the context fatal. */
const struct vd_query_pool *vd_query_pool_of(struct vd_dispatch *disp, VkQueryPool pool);

/* A VkDescriptorSetLayout's bindings, sorted by binding number; shared (refcounted) by the
 * layout's record and the records of the sets allocated with it, which may outlive the
 * layout.  (buffer_image.c) */
struct vd_set_layout {
   _Atomic unsigned refs;
   uint32_t binding_count;
   bool variable_last; /* the last binding has VARIABLE_DESCRIPTOR_COUNT */
   struct vd_set_binding {
      uint32_t binding;
      VkDescriptorType type;
      uint32_t count; /* descriptors, or bytes of an inline uniform block */
   } bindings[];
};
void vd_set_layout_unref(struct vd_set_layout *layout);
/* The bindings of a layout the command named, or NULL. */
struct vd_set_layout *vd_set_layout_of(struct vd_dispatch *disp, VkDescriptorSetLayout layout);

/* Each of the writes of a vkCmdPushDescriptorSetKHR names a binding of the push
 * descriptor set layout `l`, of its type, and elements it has (as vkUpdateDescriptorSets'
 * writes do a set's), else the context goes fatal (false). */
bool vd_push_descriptor_writes_ok(struct vd_dispatch *disp, const struct vd_set_layout *l,
                                  uint32_t count, const VkWriteDescriptorSet *writes);

/* The record of a VkDescriptorSet (pool.c). */
struct vd_descriptor_set {
   struct vd_set_layout *layout;
   uint32_t variable_count; /* descriptors of the last binding, if variable_last */
};

/* The record of a VkSemaphore or VkFence (external.c). */
struct vd_sync {
   struct vd_device *dev;
   VkSemaphoreType type; /* semaphores: binary or timeline */
};

/* external.c: sync_fd and dma-buf emulation.  Rewrites a VkExternalMemory{Buffer,Image}
 * CreateInfo in the (arena-owned) chain of a create info so that it names the handle type
 * the memory backend really uses; `image_ok` says whether the host can bind this image to
 * host-pointer memory. */
void vd_external_fix_memory_create_chain(struct vd_dispatch *disp, struct vd_device *dev,
                                         const void **pnext, bool image_ok);
/* For vkGetPhysicalDeviceImageFormatProperties2 (modifier.c): rewrites a guest dma-buf /
 * opaque-fd external image query in the arena-owned chain to the backend's handle type and
 * returns the guest's type (0 if nothing was rewritten); then turns the host's answer into
 * the answer for that guest type. */
VkExternalMemoryHandleTypeFlagBits vd_external_fix_image_query(const struct vd_physical_device *pd,
                                                               const void *pnext);
void vd_external_fix_image_result(void *pnext, VkExternalMemoryHandleTypeFlagBits guest);
/* modifier.c: a guest image with DRM_FORMAT_MODIFIER tiling becomes a LINEAR host image.
 * Edits *info (and its arena-owned chain); false after making the context fatal.  Sets
 * *explicit_layout to the guest's plane layout, if it gave one, to be checked once the
 * image exists. */
bool vd_modifier_fix_image_create(struct vd_dispatch *disp, struct vd_device *dev,
                                  VkImageCreateInfo *info,
                                  const VkSubresourceLayout **explicit_layout);
/* The host image honours the explicit plane layout the guest gave, else
 * VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT. */
VkResult vd_modifier_check_layout(struct vd_dispatch *disp, struct vd_device *dev, VkImage img,
                                  const VkSubresourceLayout *layout);

/* The record of a VkBuffer (buffer_image.c). */
struct vd_buffer {
   struct vd_device *dev;
   VkDeviceSize size;
   bool device_address;  /* created with SHADER_DEVICE_ADDRESS usage */
   _Atomic bool bound;   /* bound to memory (device_memory.c) */
   VkDeviceAddress addr; /* its host device address once bound, if device_address */
};

/* device_address.c (struct vd_address_map: before struct vd_device) */
/* accel.c: the host's acceleration structure and ray tracing pipeline limits into dev, at
 * the first call (every handler that reads them calls it first), and the features venusd
 * does not serve cleared in a features chain (host commands, indirect builds,
 * capture/replay). */
void vd_accel_limits(struct vd_device *dev);
void vd_accel_hide_features(void *pnext);
/* accel.c: `fn`, a host entry point of extension `ext`, exists: the device enabled `ext`
 * (the host's vkGetDeviceProcAddr gives NULL otherwise), else the context goes fatal. */
/* pipeline.c: the shader groups of a ray tracing pipeline record (with its libraries'), 0
 * for a pipeline of another kind. */
uint32_t vd_pipeline_group_count(const struct vd_object *pipeline);

void vd_address_map_init(struct vd_address_map *m);
void vd_address_map_fini(struct vd_address_map *m);
/* After a successful bind: registers the buffer's range if it has device-address usage. */
void vd_address_buffer_bound(struct vd_object *buffer);
/* From the buffer's host destroy. */
void vd_address_buffer_gone(struct vd_object *buffer);
/* [addr, addr + size) lies inside one live bound buffer of dev with device-address usage:
 * returns it with a reference taken (the caller unrefs), else NULL. */
struct vd_object *vd_address_find(struct vd_device *dev, VkDeviceAddress addr, VkDeviceSize size);
/* The same, for a command: the command buffer `cb` holds the buffer found (docs/design.md,
 * "Lifetimes"); else the context goes fatal naming `what`, the address and size (false). */
bool vd_address_range_ok(struct vd_dispatch *disp, struct vd_object *cb, const char *what,
                         VkDeviceAddress addr, VkDeviceSize size);

#endif
