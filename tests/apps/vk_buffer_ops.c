/* Buffer transfer commands, every byte checked against a CPU model of each buffer:
 * - vkCmdFillBuffer of a whole buffer whose size is not a multiple of 4 (VK_WHOLE_SIZE rounds
 *   down, the last 2 bytes stay), of a sub-range at an offset, and from an offset to the end;
 * - vkCmdUpdateBuffer: three 65536-byte updates (two at non-zero offsets) and a 4-byte one,
 *   all recorded from the same host array, rewritten between the calls;
 * - vkCmdCopyBuffer with several (unaligned) regions from a host-visible buffer to a device
 *   buffer (a DEVICE_LOCAL type without HOST_VISIBLE if there is one) and back, and
 *   vkCmdCopyBuffer2;
 * - buffer memory barriers between the steps (vkCmdPipelineBarrier and, on sub-ranges,
 *   vkCmdPipelineBarrier2 with synchronization2);
 * - host writes to a mapped buffer made visible with vkFlushMappedMemoryRanges and GPU writes
 *   read after vkInvalidateMappedMemoryRanges (on a non-coherent type if there is one);
 * - three buffers bound to one VkDeviceMemory at aligned offsets with gaps (the gaps must
 *   stay untouched), and vkMapMemory of sub-ranges at non-zero offsets. */
#include <string.h>

#include "smoke.h"

#define SA (3 * 65536 + 6)
#define SB (4 * 65536)
#define SC (4 * 65536)
#define SD (4 * 65536)
#define SH (4 * 65536)
#define GAP 0xEE

static uint8_t mA[SA], mB[SB], mC[SC], mD[SD], mH[SH], upd[65536];

static uint8_t pat(uint32_t i, uint32_t seed)
{
   uint32_t x = i * 0x9E3779B1u + seed * 0x85EBCA77u;
   x ^= x >> 15;
   x *= 0x2C1B3C6Du;
   x ^= x >> 12;
   return (uint8_t)x;
}

/* The model of vkCmdFillBuffer: `size` bytes (a multiple of 4) of the little-endian word v. */
static void mfill(uint8_t *m, VkDeviceSize off, VkDeviceSize size, uint32_t v)
{
   for (VkDeviceSize i = 0; i < size; i++)
      m[off + i] = (uint8_t)(v >> (8 * (i % 4)));
}

static void mcopy(uint8_t *dst, const uint8_t *src, const VkBufferCopy *r, uint32_t n)
{
   for (uint32_t i = 0; i < n; i++)
      memcpy(dst + r[i].dstOffset, src + r[i].srcOffset, r[i].size);
}

static void check(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
   for (size_t i = 0; i < n; i++)
      if (got[i] != want[i]) {
         printf("FAIL %s: byte %zu is 0x%02x, want 0x%02x\n", what, i, got[i], want[i]);
         exit(1);
      }
   printf("OK %s (%zu bytes)\n", what, n);
}

static void check_gap(const char *what, const uint8_t *p, size_t n)
{
   for (size_t i = 0; i < n; i++)
      if (p[i] != GAP) {
         printf("FAIL %s: byte %zu is 0x%02x, want 0x%02x\n", what, i, p[i], GAP);
         exit(1);
      }
   printf("OK %s untouched\n", what);
}

static void bar(VkCommandBuffer cb, VkBuffer b, VkAccessFlags src, VkAccessFlags dst)
{
   VkBufferMemoryBarrier bb = { VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                .srcAccessMask = src,
                                .dstAccessMask = dst,
                                .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                .buffer = b,
                                .offset = 0,
                                .size = VK_WHOLE_SIZE };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                        NULL, 1, &bb, 0, NULL);
}

/* synchronization2 barrier on two sub-ranges of one buffer. */
static void bar2(VkCommandBuffer cb, VkBuffer b, VkDeviceSize o0, VkDeviceSize s0, VkDeviceSize o1,
                 VkDeviceSize s1, VkAccessFlags2 src, VkAccessFlags2 dst)
{
   VkBufferMemoryBarrier2 bb[2];
   for (int i = 0; i < 2; i++)
      bb[i] = (VkBufferMemoryBarrier2){ VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER_2,
                                        .srcStageMask = VK_PIPELINE_STAGE_2_COPY_BIT |
                                                        VK_PIPELINE_STAGE_2_CLEAR_BIT,
                                        .srcAccessMask = src,
                                        .dstStageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
                                        .dstAccessMask = dst,
                                        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                        .buffer = b,
                                        .offset = i ? o1 : o0,
                                        .size = i ? s1 : s0 };
   VkDependencyInfo di = { VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .bufferMemoryBarrierCount = 2,
                           .pBufferMemoryBarriers = bb };
   vkCmdPipelineBarrier2(cb, &di);
}

/* smoke_init with synchronization2 enabled as well. */
static void init(struct smoke *s)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s->inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s->inst, &n, &s->pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan13Features f13 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .synchronization2 = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f13,
                              .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
   CK(smoke_create_device(s->pd, &dci, &s->dev));
   vkGetDeviceQueue(s->dev, 0, 0, &s->q);
   vkGetPhysicalDeviceMemoryProperties(s->pd, &s->mp);
}

/* The first type in `bits` with all of `want` and none of `avoid`, or -1. */
static int find_type(const struct smoke *s, uint32_t bits, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid)
{
   for (uint32_t i = 0; i < s->mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (s->mp.memoryTypes[i].propertyFlags & (want | avoid)) == want)
         return (int)i;
   return -1;
}

static VkDeviceSize up(VkDeviceSize v, VkDeviceSize a)
{
   return (v + a - 1) / a * a;
}

static VkBuffer mkbuf(VkDevice dev, VkDeviceSize size, VkMemoryRequirements *mr)
{
   VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_DST_BIT };
   VkBuffer b;
   CK(vkCreateBuffer(dev, &bci, NULL, &b));
   vkGetBufferMemoryRequirements(dev, b, mr);
   return b;
}

static VkDeviceMemory alloc(VkDevice dev, VkDeviceSize size, int type)
{
   VkMemoryAllocateInfo mai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                                .memoryTypeIndex = (uint32_t)type };
   VkDeviceMemory m;
   CK(vkAllocateMemory(dev, &mai, NULL, &m));
   return m;
}

int main(void)
{
   struct smoke s;
   init(&s);
   VkDevice dev = s.dev;
   VkPhysicalDeviceProperties props;
   vkGetPhysicalDeviceProperties(s.pd, &props);
   const VkDeviceSize atom = props.limits.nonCoherentAtomSize;
   const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                               HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

   /* A, B and C share one host-visible, coherent allocation, with gaps between them. */
   VkMemoryRequirements ra, rb, rc, rd, rh, rr;
   VkBuffer A = mkbuf(dev, SA, &ra), B = mkbuf(dev, SB, &rb), C = mkbuf(dev, SC, &rc);
   VkDeviceSize al = ra.alignment > rb.alignment ? ra.alignment : rb.alignment;
   al = al > rc.alignment ? al : rc.alignment;
   const VkDeviceSize offB = up(ra.size + 1000, al), offC = up(offB + rb.size + 12345, al),
                      total = offC + rc.size;
   int t = find_type(&s, ra.memoryTypeBits & rb.memoryTypeBits & rc.memoryTypeBits, HV | HC, 0);
   if (t < 0) {
      printf("FAIL no host-visible coherent type for A, B and C\n");
      return 1;
   }
   VkDeviceMemory shared = alloc(dev, total, t);
   CK(vkBindBufferMemory(dev, A, shared, 0));
   CK(vkBindBufferMemory(dev, B, shared, offB));
   CK(vkBindBufferMemory(dev, C, shared, offC));

   /* D: device memory, DEVICE_LOCAL and not host-visible if possible. */
   VkBuffer D = mkbuf(dev, SD, &rd);
   t = find_type(&s, rd.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, HV);
   printf("device buffer D: %s\n",
          t >= 0 ? "DEVICE_LOCAL-only type" : "no DEVICE_LOCAL-only type, using another");
   if (t < 0)
      t = find_type(&s, rd.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
   if (t < 0)
      t = find_type(&s, rd.memoryTypeBits, 0, 0);
   VkDeviceMemory dmem = alloc(dev, rd.size, t);
   CK(vkBindBufferMemory(dev, D, dmem, 0));

   /* H (upload) and R (readback) in one host-visible allocation, non-coherent if possible. */
   VkBuffer H = mkbuf(dev, SH, &rh), R = mkbuf(dev, SD, &rr);
   int nc = find_type(&s, rh.memoryTypeBits & rr.memoryTypeBits, HV, HC);
   t = nc >= 0 ? nc : find_type(&s, rh.memoryTypeBits & rr.memoryTypeBits, HV, 0);
   const VkDeviceSize offR = up(rh.size + 4096, rr.alignment > atom ? rr.alignment : atom);
   VkDeviceMemory hmem = alloc(dev, offR + rr.size, t);
   CK(vkBindBufferMemory(dev, H, hmem, 0));
   CK(vkBindBufferMemory(dev, R, hmem, offR));

   /* Host writes: A and B regions (and gaps) to GAP through a map at 0, C through a map of a
    * sub-range at offC, H through a persistent map, flushed in two ranges. */
   uint8_t *p;
   CK(vkMapMemory(dev, shared, 0, offC, 0, (void **)&p));
   memset(p, GAP, offC);
   vkUnmapMemory(dev, shared);
   memset(mA, GAP, SA);
   memset(mB, GAP, SB);
   for (uint32_t i = 0; i < SC; i++)
      mC[i] = pat(i, 2);
   CK(vkMapMemory(dev, shared, offC, VK_WHOLE_SIZE, 0, (void **)&p));
   memcpy(p, mC, SC);
   vkUnmapMemory(dev, shared);
   uint8_t *hp;
   CK(vkMapMemory(dev, hmem, 0, VK_WHOLE_SIZE, 0, (void **)&hp));
   for (uint32_t i = 0; i < SH; i++)
      mH[i] = pat(i, 1);
   memcpy(hp, mH, SH);
   const VkDeviceSize half = up(SH / 2, atom);
   VkMappedMemoryRange fl[2] = { { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = hmem,
                                   .offset = 0, .size = half },
                                 { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = hmem,
                                   .offset = half, .size = up(SH, atom) - half } };
   CK(vkFlushMappedMemoryRanges(dev, 2, fl));

   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(cb, &bi));
   const VkAccessFlags TW = VK_ACCESS_TRANSFER_WRITE_BIT, TR = VK_ACCESS_TRANSFER_READ_BIT;

   /* Fills. */
   vkCmdFillBuffer(cb, A, 0, VK_WHOLE_SIZE, 0x11223344);
   mfill(mA, 0, SA & ~3u, 0x11223344);
   vkCmdFillBuffer(cb, D, 0, SD, 0x5a5a5a5a);
   mfill(mD, 0, SD, 0x5a5a5a5a);
   bar(cb, A, TW, TW);
   vkCmdFillBuffer(cb, A, 4096, 8192, 0xa5a5a5a5);
   mfill(mA, 4096, 8192, 0xa5a5a5a5);
   vkCmdFillBuffer(cb, A, 131076, VK_WHOLE_SIZE, 0x01020304);
   mfill(mA, 131076, (SA - 131076) & ~3u, 0x01020304);

   /* Updates, all from the same array (the data is copied when recorded). */
   const struct {
      VkDeviceSize off, size;
   } ups[] = { { 0, 65536 }, { 66560, 65536 }, { 196600, 4 }, { 196608, 65536 } };
   for (uint32_t u = 0; u < 4; u++) {
      for (uint32_t i = 0; i < ups[u].size; i++)
         upd[i] = pat(i, 10 + u);
      vkCmdUpdateBuffer(cb, B, ups[u].off, ups[u].size, upd);
      memcpy(mB + ups[u].off, upd, ups[u].size);
   }
   memset(upd, 0, sizeof(upd));

   /* H -> D (host-visible to device), after the fill of D. */
   bar2(cb, D, 0, 100001, 100001, VK_WHOLE_SIZE, VK_ACCESS_2_TRANSFER_WRITE_BIT,
        VK_ACCESS_2_TRANSFER_WRITE_BIT);
   VkBufferCopy hd[] = { { 0, 0, 65536 }, { 70003, 100001, 77777 }, { 250000, 200000, 12144 } };
   vkCmdCopyBuffer(cb, H, D, 3, hd);
   mcopy(mD, mH, hd, 3);
   bar(cb, D, TW, TR);

   /* D -> C (device to host-visible). */
   VkBufferCopy dc[] = { { 0, 131072, 65536 }, { 100001, 7, 50000 }, { 199999, 250000, 12144 } };
   vkCmdCopyBuffer(cb, D, C, 3, dc);
   mcopy(mC, mD, dc, 3);
   bar(cb, C, TW, TW);
   bar(cb, B, TW, TR);
   bar(cb, A, TW, TR);
   bar(cb, D, TR, TW);

   /* vkCmdCopyBuffer2: B -> C and A -> D. */
   VkBufferCopy2 bc[] = {
      { VK_STRUCTURE_TYPE_BUFFER_COPY_2, .srcOffset = 66560, .dstOffset = 60000, .size = 65536 },
      { VK_STRUCTURE_TYPE_BUFFER_COPY_2, .srcOffset = 196600, .dstOffset = 200000, .size = 8 }
   };
   VkCopyBufferInfo2 ci = { VK_STRUCTURE_TYPE_COPY_BUFFER_INFO_2, .srcBuffer = B, .dstBuffer = C,
                            .regionCount = 2, .pRegions = bc };
   vkCmdCopyBuffer2(cb, &ci);
   VkBufferCopy2 ad[] = {
      { VK_STRUCTURE_TYPE_BUFFER_COPY_2, .srcOffset = 0, .dstOffset = 220000, .size = 16384 },
      { VK_STRUCTURE_TYPE_BUFFER_COPY_2, .srcOffset = 196610, .dstOffset = 240001, .size = 4 }
   };
   VkCopyBufferInfo2 ci2 = { VK_STRUCTURE_TYPE_COPY_BUFFER_INFO_2, .srcBuffer = A, .dstBuffer = D,
                             .regionCount = 2, .pRegions = ad };
   vkCmdCopyBuffer2(cb, &ci2);
   for (uint32_t i = 0; i < 2; i++) {
      memcpy(mC + bc[i].dstOffset, mB + bc[i].srcOffset, bc[i].size);
      memcpy(mD + ad[i].dstOffset, mA + ad[i].srcOffset, ad[i].size);
   }

   /* D -> R for reading, then everything to the host. */
   bar2(cb, D, 0, 220000, 220000, VK_WHOLE_SIZE, VK_ACCESS_2_TRANSFER_WRITE_BIT,
        VK_ACCESS_2_TRANSFER_READ_BIT);
   VkBufferCopy dr = { 0, 0, SD };
   vkCmdCopyBuffer(cb, D, R, 1, &dr);
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = TW,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb,
                        0, NULL, 0, NULL);
   CK(vkEndCommandBuffer(cb));

   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(dev, &fci, NULL, &f));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, f));
   CK(vkWaitForFences(dev, 1, &f, VK_TRUE, UINT64_MAX));

   /* Read back: R and H through the persistent map after invalidating. */
   VkMappedMemoryRange iv[2] = { { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = hmem,
                                   .offset = offR, .size = VK_WHOLE_SIZE },
                                 { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, .memory = hmem,
                                   .offset = 0, .size = up(SH, atom) } };
   CK(vkInvalidateMappedMemoryRanges(dev, 2, iv));
   check("device buffer D (copied to R)", hp + offR, mD, SD);
   check("upload buffer H", hp, mH, SH);
   vkUnmapMemory(dev, hmem);
   printf("OK flush/invalidate%s\n",
          nc >= 0 ? " on non-coherent memory" : " (no non-coherent type)");

   /* B and C through a map at offB, A and the first gap through a map of A's range. */
   CK(vkMapMemory(dev, shared, offB, VK_WHOLE_SIZE, 0, (void **)&p));
   check("buffer B (updates)", p, mB, SB);
   check_gap("gap B..C", p + SB, offC - offB - SB);
   check("buffer C (copies)", p + (offC - offB), mC, SC);
   vkUnmapMemory(dev, shared);
   CK(vkMapMemory(dev, shared, 0, offB, 0, (void **)&p));
   check("buffer A (fills)", p, mA, SA);
   check_gap("gap A..B", p + SA, offB - SA);
   vkUnmapMemory(dev, shared);

   vkDestroyFence(dev, f, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   VkBuffer bufs[] = { A, B, C, D, H, R };
   for (int i = 0; i < 6; i++)
      vkDestroyBuffer(dev, bufs[i], NULL);
   vkFreeMemory(dev, shared, NULL);
   vkFreeMemory(dev, dmem, NULL);
   vkFreeMemory(dev, hmem, NULL);
   smoke_fini(&s);
   printf("OK buffer ops\n");
   return 0;
}
