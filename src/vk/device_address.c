/* Device addresses of buffers, checked before the driver dereferences them.
 *
 * Acceleration structure builds name their geometry, instance and scratch memory by device
 * address, not by buffer handle.  On lavapipe a device address is a host pointer, so an
 * address the guest made up would be dereferenced by the worker.  Each device keeps the
 * ranges of its bound buffers with SHADER_DEVICE_ADDRESS usage (the host's own addresses,
 * asked once at bind time); a command's address and size must lie inside one of them.
 *
 * A range stays registered while the host buffer exists, i.e. until the last record that
 * holds the buffer lets it go (docs/design.md, "Lifetimes"): its memory is mapped until
 * then, so an address into it cannot reach freed memory.  Addresses that only the GPU reads
 * (pointers a shader dereferences, the acceleration structure references inside a TLAS's
 * instance data) cannot be checked here: see docs/design.md, "Not covered yet". */
#include <inttypes.h>
#include <stdlib.h>

#include "vk/vk_common.h"

void vd_address_map_init(struct vd_address_map *m)
{
   pthread_mutex_init(&m->mutex, NULL);
   m->ranges = NULL;
   m->count = m->cap = 0;
}

void vd_address_map_fini(struct vd_address_map *m)
{
   free(m->ranges);
   pthread_mutex_destroy(&m->mutex);
}

void vd_address_buffer_bound(struct vd_object *buffer)
{
   struct vd_buffer *b = buffer->data;
   atomic_store(&b->bound, true);
   if (!b->device_address || b->addr || !b->dev->vk->GetBufferDeviceAddress)
      return;
   const VkBufferDeviceAddressInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
      .buffer = (VkBuffer)(uintptr_t)buffer->handle,
   };
   const VkDeviceAddress addr = b->dev->vk->GetBufferDeviceAddress(b->dev->handle, &info);
   if (!addr)
      return;
   struct vd_address_map *m = &b->dev->addresses;
   pthread_mutex_lock(&m->mutex);
   if (m->count == m->cap) {
      const size_t cap = m->cap ? m->cap * 2 : 16;
      struct vd_address_range *r = realloc(m->ranges, cap * sizeof(*r));
      if (!r) {
         /* not registered: commands naming its addresses are refused, nothing worse */
         pthread_mutex_unlock(&m->mutex);
         return;
      }
      m->ranges = r;
      m->cap = cap;
   }
   m->ranges[m->count++] = (struct vd_address_range){ addr, b->size, buffer };
   b->addr = addr;
   pthread_mutex_unlock(&m->mutex);
}

void vd_address_buffer_gone(struct vd_object *buffer)
{
   struct vd_buffer *b = buffer->data;
   if (!b->addr)
      return;
   struct vd_address_map *m = &b->dev->addresses;
   pthread_mutex_lock(&m->mutex);
   for (size_t i = 0; i < m->count; i++) {
      if (m->ranges[i].buffer == buffer) {
         m->ranges[i] = m->ranges[--m->count];
         break;
      }
   }
   pthread_mutex_unlock(&m->mutex);
}

/* A reference on a record whose count may have reached 0 (its destroy then waits for the
 * map's mutex, which the caller holds): false if it has. */
static bool try_ref(struct vd_object *obj)
{
   int refs = atomic_load(&obj->refs);
   while (refs > 0 && !atomic_compare_exchange_weak(&obj->refs, &refs, refs + 1))
      ;
   return refs > 0;
}

struct vd_object *vd_address_find(struct vd_device *dev, VkDeviceAddress addr, VkDeviceSize size)
{
   struct vd_address_map *m = &dev->addresses;
   struct vd_object *found = NULL;
   pthread_mutex_lock(&m->mutex);
   for (size_t i = 0; i < m->count && !found; i++) {
      const struct vd_address_range *r = &m->ranges[i];
      if (addr >= r->addr && addr - r->addr <= r->size && size <= r->size - (addr - r->addr) &&
          try_ref(r->buffer))
         found = r->buffer;
   }
   pthread_mutex_unlock(&m->mutex);
   return found;
}

bool vd_address_range_ok(struct vd_dispatch *disp, struct vd_object *cb, const char *what,
                         VkDeviceAddress addr, VkDeviceSize size)
{
   struct vd_device *dev = cb->domain->data;
   struct vd_object *buf = vd_address_find(dev, addr, size);
   if (!buf) {
      vd_dispatch_fatal(disp,
                        "%s: %" PRIu64 " bytes at device address 0x%" PRIx64
                        " are not inside one bound buffer of the device created with "
                        "SHADER_DEVICE_ADDRESS usage",
                        what, (uint64_t)size, (uint64_t)addr);
      return false;
   }
   const bool held = vd_object_hold(cb, buf);
   vd_object_unref(buf);
   if (!held)
      vd_dispatch_fatal(disp, "%s: out of memory holding the buffer at 0x%" PRIx64, what,
                        (uint64_t)addr);
   return held;
}
