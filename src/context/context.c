/* Context lifetime, resources (blobs), the virtqueue, fences and the object table. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vulkan/vulkan_core.h>

#include "context/context_priv.h"
#include "util/log.h"
#include "util/options.h"
#include "util/shm.h"

struct vd_context *vd_context_create(const struct vd_context_params *params)
{
   struct vd_context *ctx = calloc(1, sizeof(*ctx));
   if (!ctx)
      return NULL;
   static const struct vd_options defaults = VD_OPTIONS_DEFAULT;
   ctx->params = *params;
   if (!ctx->params.opts)
      ctx->params.opts = &defaults;
   snprintf(ctx->name, sizeof(ctx->name), "%s", params->name ? params->name : "guest");
   ctx->params.name = ctx->name;
   ctx->objects = vd_objtable_create();
   ctx->resources = vd_objtable_create();
   if (!ctx->objects || !ctx->resources) {
      vd_err(VD_CAT_CONTEXT, "context %u: out of memory creating object tables", params->id);
      if (ctx->objects)
         vd_objtable_destroy(ctx->objects);
      if (ctx->resources)
         vd_objtable_destroy(ctx->resources);
      free(ctx);
      return NULL;
   }
   pthread_mutex_init(&ctx->ring_mutex, NULL);
   /* Timed waits on these compute deadlines on CLOCK_MONOTONIC (ring.c); with the default
    * CLOCK_REALTIME every such deadline would lie in the past and the waits would spin. */
   pthread_condattr_t attr;
   pthread_condattr_init(&attr);
   pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
   pthread_cond_init(&ctx->ring_cond, &attr);
   pthread_cond_init(&ctx->monitor_cond, &attr);
   pthread_condattr_destroy(&attr);
   pthread_mutex_init(&ctx->timeline_mutex, NULL);
   vd_dispatch_init(&ctx->vq, ctx, NULL, "virtqueue");
   vd_info(VD_CAT_CONTEXT, "context %u (%s) created", params->id, ctx->name);
   return ctx;
}

void vd_context_destroy(struct vd_context *ctx)
{
   if (!ctx)
      return;
   /* Stop the rings first: they are the only other threads touching objects. */
   vd_rings_destroy_all(ctx);
   vd_dispatch_fini(&ctx->vq);
   /* The guest may have left work in flight, some of it waiting for what it will now
    * never signal: every device goes idle before any object is freed. */
   if (ctx->params.hooks)
      ctx->params.hooks->quiesce(ctx);
   /* Command buffers may hold each other (nested secondaries): drop what every command
    * buffer and descriptor set holds, so that no cycle keeps a host object alive. */
   vd_holds_release_all(ctx);
   /* Children hold references to their parents, so host objects are destroyed leaves
    * first whatever order the guest left them in. */
   vd_objtable_destroy(ctx->objects);
   vd_objtable_destroy(ctx->resources);
   pthread_mutex_destroy(&ctx->ring_mutex);
   pthread_cond_destroy(&ctx->ring_cond);
   pthread_cond_destroy(&ctx->monitor_cond);
   pthread_mutex_destroy(&ctx->timeline_mutex);
   vd_info(VD_CAT_CONTEXT, "context %u (%s) destroyed", ctx->params.id, ctx->name);
   free(ctx);
}

bool vd_context_is_fatal(const struct vd_context *ctx)
{
   return atomic_load(&((struct vd_context *)ctx)->fatal);
}

void vd_context_set_fatal(struct vd_context *ctx)
{
   if (atomic_exchange(&ctx->fatal, true))
      return;
   vd_rings_set_fatal(ctx);
}

/* -- resources ------------------------------------------------------------------------ */

/* Charges a new resource to the context's limits: one blob, `bytes` shared-memory bytes
 * and one fd if it keeps one.  Returns 0 or a negative errno (the limit is logged). */
static int resource_charge(struct vd_context *ctx, bool fd, uint64_t bytes)
{
   if (!vd_limit_charge(ctx, VD_LIMIT_BLOBS, 1))
      return -ENOMEM;
   if (bytes && !vd_limit_charge(ctx, VD_LIMIT_BLOB_BYTES, bytes)) {
      vd_limit_release(ctx, VD_LIMIT_BLOBS, 1);
      return -ENOMEM;
   }
   if (fd && !vd_limit_charge(ctx, VD_LIMIT_FDS, 1)) {
      vd_limit_release(ctx, VD_LIMIT_BLOB_BYTES, bytes);
      vd_limit_release(ctx, VD_LIMIT_BLOBS, 1);
      return -EMFILE;
   }
   return 0;
}

static void resource_uncharge(struct vd_context *ctx, bool fd, uint64_t bytes)
{
   if (fd)
      vd_limit_release(ctx, VD_LIMIT_FDS, 1);
   vd_limit_release(ctx, VD_LIMIT_BLOB_BYTES, bytes);
   vd_limit_release(ctx, VD_LIMIT_BLOBS, 1);
}

static void resource_destroy(struct vd_object *obj)
{
   struct vd_resource *res = (struct vd_resource *)obj;
   if (res->ptr)
      munmap(res->ptr, res->size);
   if (res->fd >= 0)
      close(res->fd);
   resource_uncharge(res->ctx, res->fd >= 0, res->blob_bytes);
   free(res);
}

void vd_resource_unref(struct vd_resource *res)
{
   vd_object_unref(&res->obj);
}

struct vd_resource *vd_context_get_resource(struct vd_context *ctx, uint32_t res_id)
{
   return (struct vd_resource *)vd_objtable_get(ctx->resources, res_id);
}

/* Adds a resource charged with resource_charge(ctx, fd >= 0, blob_bytes); on failure the
 * charge is released, and the caller still owns fd and ptr. */
static int add_resource(struct vd_context *ctx, uint32_t res_id, int fd, enum vd_fd_type type,
                        uint8_t *ptr, uint64_t size, uint64_t blob_bytes)
{
   struct vd_resource *res = calloc(1, sizeof(*res));
   if (!res) {
      resource_uncharge(ctx, fd >= 0, blob_bytes);
      return -ENOMEM;
   }
   res->ctx = ctx;
   res->blob_bytes = blob_bytes;
   res->obj.id = res_id;
   res->obj.type = VD_OBJECT_TYPE_RESOURCE;
   res->obj.data = res;
   res->obj.destroy = resource_destroy;
   atomic_init(&res->obj.refs, 1);
   res->fd = fd;
   res->fd_type = type;
   res->ptr = ptr;
   res->size = size;
   if (!vd_objtable_insert(ctx->resources, &res->obj)) {
      vd_warn(VD_CAT_CONTEXT, "context %u: resource id %u already exists", ctx->params.id, res_id);
      resource_uncharge(ctx, fd >= 0, blob_bytes);
      free(res);
      return -EEXIST;
   }
   return 0;
}

int vd_context_create_blob(struct vd_context *ctx, uint32_t res_id, uint64_t blob_id, uint64_t size,
                           uint32_t flags, struct vd_blob *out)
{
   if (atomic_load(&ctx->fatal))
      return -EINVAL;
   if (blob_id == 0) {
      if (flags != VD_BLOB_FLAG_MAPPABLE || !size || size > (1ull << 32)) {
         vd_warn(VD_CAT_MEMORY,
                 "context %u: shmem blob with flags 0x%x size %" PRIu64
                 " refused (need flags MAPPABLE and 0 < size <= 4 GiB)",
                 ctx->params.id, flags, size);
         return -EINVAL;
      }
      int ret = resource_charge(ctx, true, size);
      if (ret)
         return ret;
      int fd = vd_shm_create("venusd-shmem", size);
      if (fd < 0) {
         vd_err(VD_CAT_MEMORY, "context %u: cannot create %" PRIu64 "-byte shared memory: %s",
                ctx->params.id, size, strerror(-fd));
         resource_uncharge(ctx, true, size);
         return fd;
      }
      void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (ptr == MAP_FAILED) {
         int err = -errno;
         close(fd);
         resource_uncharge(ctx, true, size);
         return err;
      }
      ret = add_resource(ctx, res_id, fd, VD_FD_TYPE_SHM, ptr, size, size);
      if (ret) {
         munmap(ptr, size);
         close(fd);
         return ret;
      }
      memset(out, 0, sizeof(*out));
      out->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
      out->fd_type = VD_FD_TYPE_SHM;
      out->map_info = 1; /* cached */
      out->size = size;
      if (out->fd < 0) {
         vd_context_destroy_resource(ctx, res_id);
         return -errno;
      }
      return 0;
   }
   /* A VkDeviceMemory blob: the memory backend exports it. */
   if (!ctx->params.hooks) {
      vd_warn(VD_CAT_MEMORY,
              "context %u: blob of device memory %" PRIu64 " refused: this "
              "context has no Vulkan layer",
              ctx->params.id, blob_id);
      return -EINVAL;
   }
   int fd = -1;
   int ret = resource_charge(ctx, true, 0);
   if (ret)
      return ret;
   ret = ctx->params.hooks->export_blob(ctx, blob_id, size, flags, out);
   if (ret) {
      resource_uncharge(ctx, true, 0);
      return ret;
   }
   fd = fcntl(out->fd, F_DUPFD_CLOEXEC, 0);
   if (fd < 0) {
      int err = -errno;
      close(out->fd);
      resource_uncharge(ctx, true, 0);
      return err;
   }
   ret = add_resource(ctx, res_id, fd, out->fd_type, NULL, out->size, 0);
   if (ret) {
      close(fd);
      close(out->fd);
      return ret;
   }
   return 0;
}

int vd_context_import_resource(struct vd_context *ctx, uint32_t res_id, int fd,
                               enum vd_fd_type fd_type, uint64_t size)
{
   int ret = resource_charge(ctx, true, 0);
   if (ret)
      return ret;
   int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
   if (dup_fd < 0) {
      ret = -errno;
      resource_uncharge(ctx, true, 0);
      return ret;
   }
   uint8_t *ptr = NULL;
   if (fd_type == VD_FD_TYPE_SHM && size) {
      /* Never map past the file's end: touching those pages would raise SIGBUS here. */
      struct stat st;
      if (fstat(dup_fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size) {
         vd_warn(VD_CAT_CONTEXT,
                 "context %u: imported shared memory for resource %u is not a "
                 "file of at least %" PRIu64 " bytes",
                 ctx->params.id, res_id, size);
         close(dup_fd);
         resource_uncharge(ctx, true, 0);
         return -EINVAL;
      }
      void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dup_fd, 0);
      if (p != MAP_FAILED)
         ptr = p;
   }
   ret = add_resource(ctx, res_id, dup_fd, fd_type, ptr, size, 0);
   if (ret) {
      if (ptr)
         munmap(ptr, size);
      close(dup_fd);
   }
   return ret;
}

void vd_context_destroy_resource(struct vd_context *ctx, uint32_t res_id)
{
   if (!vd_objtable_remove(ctx->resources, res_id))
      vd_dbg(VD_CAT_CONTEXT, "context %u: unref of unknown resource %u", ctx->params.id, res_id);
}

/* -- virtqueue and fences -------------------------------------------------------------- */

bool vd_context_submit_cmd(struct vd_context *ctx, const void *data, size_t size)
{
   if (atomic_load(&ctx->fatal))
      return false;
   if (size % 4) {
      vd_dispatch_fatal(&ctx->vq, "command stream size %zu is not a multiple of 4", size);
      return false;
   }
   return vd_dispatch_run(&ctx->vq, data, size, NULL, NULL);
}

bool vd_context_submit_fence(struct vd_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
   if (ring_idx >= VD_MAX_TIMELINES) {
      vd_err(VD_CAT_CONTEXT, "context %u: fence on timeline %u (max %u)", ctx->params.id, ring_idx,
             VD_MAX_TIMELINES - 1);
      return false;
   }
   /* The timeline mutex is held through the submission: the queue may otherwise be
    * destroyed meanwhile by a ring (queue_destroy takes it first). */
   pthread_mutex_lock(&ctx->timeline_mutex);
   struct vd_queue *queue = ring_idx ? ctx->timeline_queue[ring_idx] : NULL;
   if (!queue) {
      pthread_mutex_unlock(&ctx->timeline_mutex);
      /* Timeline 0, or one without a queue: everything before it has been processed. */
      if (ctx->params.fence_retired)
         ctx->params.fence_retired(ctx->params.cookie, ring_idx, fence_id);
      return true;
   }
   /* A queue is bound to a timeline only by vk/, so hooks are set. */
   assert(ctx->params.hooks);
   const bool ok = ctx->params.hooks->submit_fence(ctx, queue, ring_idx, fence_id);
   pthread_mutex_unlock(&ctx->timeline_mutex);
   return ok;
}

/* -- objects --------------------------------------------------------------------------- */

struct vd_obj_rec {
   struct vd_object obj;
   vd_object_destroy_fn host_destroy;
   struct vd_context *ctx; /* charged one VD_LIMIT_OBJECTS */
};

static void obj_rec_destroy(struct vd_object *obj)
{
   struct vd_obj_rec *rec = (struct vd_obj_rec *)obj;
   if (rec->host_destroy)
      rec->host_destroy(obj);
   /* What it held (the image of a view, the memory of a buffer, what a command buffer
    * recorded) may go only after the host object that used it. */
   vd_object_release_holds(obj);
   if (obj->parent)
      vd_object_unref(obj->parent);
   vd_limit_release(rec->ctx, VD_LIMIT_OBJECTS, 1);
   free(rec);
}

/* Whether a new object with this parent holds dep, one of the objects its command named:
 * not the device-level objects every child already reaches through its parent. */
static bool holds_created_from(const struct vd_object *parent, const struct vd_object *dep)
{
   return dep != parent && dep->type != VK_OBJECT_TYPE_DEVICE &&
          dep->type != VK_OBJECT_TYPE_QUEUE && dep->type != VK_OBJECT_TYPE_INSTANCE &&
          dep->type != VK_OBJECT_TYPE_PHYSICAL_DEVICE;
}

/* obj holds each of the command's named objects that holds_created_from() picks; returns
 * how many it picked, or -1 when out of memory. */
static int64_t hold_named(struct vd_dispatch *d, struct vd_object *obj,
                          const struct vd_object *parent)
{
   struct vd_object *batch[32];
   uint32_t n = 0;
   int64_t picked = 0;
   for (uint32_t i = 0; i < d->looked_count; i++) {
      if (d->looked[i] == obj || !holds_created_from(parent, d->looked[i]))
         continue;
      picked++;
      batch[n++] = d->looked[i];
      if (n == sizeof(batch) / sizeof(batch[0])) {
         if (!vd_object_hold_many(obj, batch, n))
            return -1;
         n = 0;
      }
   }
   return !n || vd_object_hold_many(obj, batch, n) ? picked : -1;
}

static void bundle_destroy(struct vd_object *obj)
{
   vd_object_release_holds(obj);
   free(obj);
}

/* A new object holds the objects its create command named (the image of a view, the
 * buffer of a buffer view, the views of a framebuffer, a pipeline's layout and modules):
 * the host object may point at them until it is destroyed.  Not memory, which may name a
 * dedicated image that will hold it once bound (a cycle).  A command that creates many
 * objects (vkAllocateDescriptorSets, vkCreate*Pipelines) names many: its second and later
 * objects hold one bundle that holds them, so n objects from a command naming m cost
 * n + m holds, not n * m (a guest's batch of 10k sets would otherwise take 10^8). */
static void hold_created_from(struct vd_dispatch *d, struct vd_object *obj)
{
   if (obj->type == VK_OBJECT_TYPE_DEVICE_MEMORY || obj->type == VK_OBJECT_TYPE_DEVICE ||
       obj->type == VK_OBJECT_TYPE_INSTANCE || obj->type == VK_OBJECT_TYPE_PHYSICAL_DEVICE)
      return;
   bool ok = true;
   if (d->created++ == 0) {
      const int64_t picked = hold_named(d, obj, obj->parent);
      ok = picked >= 0;
      d->created_named = picked > 0; /* later objects need a bundle */
   } else if (d->created_named) {
      if (!d->create_bundle) {
         struct vd_object *b = calloc(1, sizeof(*b));
         if (b) {
            b->type = VK_OBJECT_TYPE_UNKNOWN;
            b->destroy = bundle_destroy;
            atomic_init(&b->refs, 1);
            if (hold_named(d, b, obj->parent) < 0) {
               vd_object_unref(b);
               b = NULL;
            }
         }
         d->create_bundle = b; /* dropped when the command ends (dispatch.c) */
      }
      ok = d->create_bundle && vd_object_hold(obj, d->create_bundle);
   }
   if (!ok)
      vd_dispatch_fatal(
         d, "out of memory holding the objects named by the command for object %" PRIu64, obj->id);
}

struct vd_object *vd_object_add(struct vd_dispatch *d, uint64_t id, uint32_t type, uint64_t handle,
                                struct vd_object *parent, void *data, vd_object_destroy_fn destroy)
{
   /* Fatal rather than VK_ERROR_TOO_MANY_OBJECTS: Mesa creates most objects without
    * waiting for the reply (the guest already chose the id), so an error result would go
    * unseen and the guest would go on using an object that does not exist. */
   if (!vd_limit_charge(d->ctx, VD_LIMIT_OBJECTS, 1)) {
      vd_dispatch_fatal(d,
                        "object %" PRIu64 " not created: the context holds %" PRIu64
                        " objects, the most allowed (--max-objects %" PRIu64 ")",
                        id, vd_limit_used(d->ctx, VD_LIMIT_OBJECTS),
                        vd_limit_max(d->ctx->params.opts, VD_LIMIT_OBJECTS));
      return NULL;
   }
   struct vd_obj_rec *rec = calloc(1, sizeof(*rec));
   if (!rec) {
      vd_limit_release(d->ctx, VD_LIMIT_OBJECTS, 1);
      vd_dispatch_fatal(d, "out of memory adding object %" PRIu64, id);
      return NULL;
   }
   rec->ctx = d->ctx;
   rec->obj.id = id;
   rec->obj.type = type;
   rec->obj.handle = handle;
   rec->obj.parent = parent;
   rec->obj.data = data;
   rec->obj.destroy = obj_rec_destroy;
   rec->host_destroy = destroy;
   atomic_init(&rec->obj.refs, 1);
   rec->obj.domain = type == VK_OBJECT_TYPE_DEVICE || type == VK_OBJECT_TYPE_INSTANCE ? &rec->obj
                     : parent ? parent->domain
                              : NULL;
   if (parent)
      vd_object_ref(parent);
   if (!vd_objtable_insert(d->ctx->objects, &rec->obj)) {
      vd_dispatch_fatal(d, "object id %" PRIu64 " is 0 or already in use", id);
      if (parent)
         vd_object_unref(parent);
      vd_limit_release(d->ctx, VD_LIMIT_OBJECTS, 1);
      free(rec);
      return NULL;
   }
   hold_created_from(d, &rec->obj);
   return &rec->obj;
}

bool vd_object_remove(struct vd_dispatch *d, uint64_t id)
{
   return vd_objtable_remove(d->ctx->objects, id);
}
