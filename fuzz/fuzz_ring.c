/* libFuzzer target: the ring reader (src/context/ring.c) fed by a fuzzed guest.
 *
 * Each input makes a context with a 128 KiB shared-memory resource (1) and a 64 KiB one for
 * reply streams (2, as Mesa's first two blobs), creates one ring in the first
 * with vkCreateRingMESA on the virtqueue, then plays the guest: it writes command bytes
 * into the ring buffer through its own mapping of the blob's fd, moves the tail (also to
 * positions no valid guest would choose), sends virtqueue commands, and after each step
 * waits until the ring thread has consumed everything (head == tail), the ring went fatal
 * or STEP_TIMEOUT_NS passed (a command may wait for something the input never sends, e.g.
 * a virtqueue seqno); after a step that ended so with the head stuck, the next steps wait
 * only STALL_TIMEOUT_NS for it to move (one of them may be what the ring waits for), so
 * that a stuck ring does not cost 10 ms a step.  The harness sleeps while it waits rather
 * than yield-polling, so that on a busy core the ring thread gets the time.  No host
 * driver (fuzz_init): the target is the ring reader, not the Vulkan handlers.  Input:
 *
 *    u8 buffer;      buffer size 1 << (4 + buffer % 13): 16 B .. 64 KiB
 *    u8 extra;       extra region of (extra % 64) * 4 bytes
 *    u8 flags;       bit 0: VkRingMonitorInfoMESA in the chain, bit 1: VkRingPriorityInfoMESA
 *    u8 idle;        idleTimeout in ms (idle % 8; 0 goes idle at once)
 *    u32 start;      initial head = tail (wrap-around of the free-running counters)
 *    then steps      { u8 kind; u16 size; u8 bytes[size] } (size cut to what is left):
 *       kind % 4 == 0: write the bytes at the tail (wrapping), advance the tail by size
 *       kind % 4 == 1: advance the tail by the u32 in the bytes, writing nothing
 *       kind % 4 == 2: the bytes (size rounded down to 4) on the virtqueue
 *       kind % 4 == 3: the bytes into the ring's extra region
 *
 * all little-endian.  The guest notifies the ring (vkNotifyRingMESA's effect) after every
 * tail move, as Mesa does when it sees the ring idle.
 *
 * Seeds: fuzz/seeds.sh (the ring streams of real Mesa sessions in tests/unit/data).
 * Build and run: fuzz/README.md. */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "context/context_priv.h"
#include "fuzz_common.h"
#include "util/options.h"
#include "vn_protocol.h"

static const struct vd_options fuzz_opts = VD_OPTIONS_DEFAULT;

#define RES_ID 1
#define REPLY_RES_ID 2 /* Mesa's reply-stream blob, 64 KiB (its streams name it) */
#define RING_ID 0x52494e47ull
#define RES_SIZE (128u << 10)
#define HEAD_OFF 0u
#define TAIL_OFF 64u
#define STATUS_OFF 128u
#define EXTRA_OFF 256u
#define BUFFER_OFF (64u << 10)
#define STEP_TIMEOUT_NS (10u * 1000000u)
#define STALL_TIMEOUT_NS (200u * 1000u)
#define POLL_NS 20000u

struct guest {
   struct vd_context *ctx;
   uint8_t *map;
   uint32_t buffer_size, extra_size;
   uint32_t tail;
   bool stalled; /* the last wait timed out with the head short of the tail */
};

static uint32_t get_le(const uint8_t *p, unsigned bytes)
{
   uint32_t v = 0;
   for (unsigned i = 0; i < bytes; i++)
      v |= (uint32_t)p[i] << (8 * i);
   return v;
}

static _Atomic uint32_t *ring_u32(struct guest *g, uint32_t off)
{
   return (_Atomic uint32_t *)(g->map + off);
}

struct stream {
   uint8_t buf[256];
   size_t len;
};

static void put32(struct stream *s, uint32_t v)
{
   memcpy(s->buf + s->len, &v, 4);
   s->len += 4;
}

static void put64(struct stream *s, uint64_t v)
{
   memcpy(s->buf + s->len, &v, 8);
   s->len += 8;
}

/* vkCreateRingMESA in the Venus wire format (see tests/unit/test_decoder.c). */
static bool create_ring(struct guest *g, uint8_t flags, uint64_t idle_ns)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkCreateRingMESA);
   put32(&s, 0);
   put64(&s, RING_ID);
   put64(&s, 1); /* pCreateInfo */
   put32(&s, VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA);
   /* The chain: each link's sType, its own pNext, then its members (innermost first). */
   if (flags & 1) {
      put64(&s, 1);
      put32(&s, VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA);
   }
   if (flags & 2) {
      put64(&s, 1);
      put32(&s, VK_STRUCTURE_TYPE_RING_PRIORITY_INFO_MESA);
   }
   put64(&s, 0); /* end of chain */
   if (flags & 2)
      put32(&s, 5); /* priority */
   if (flags & 1)
      put32(&s, 3000000); /* maxReportingPeriodMicroseconds */
   put32(&s, 0);          /* flags */
   put32(&s, RES_ID);
   put64(&s, 0);
   put64(&s, RES_SIZE);
   put64(&s, idle_ns);
   put64(&s, HEAD_OFF);
   put64(&s, TAIL_OFF);
   put64(&s, STATUS_OFF);
   put64(&s, BUFFER_OFF);
   put64(&s, g->buffer_size);
   put64(&s, EXTRA_OFF);
   put64(&s, g->extra_size);
   return vd_context_submit_cmd(g->ctx, s.buf, s.len);
}

static uint64_t now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Publishes the tail, notifies, and waits for the ring.  False once the ring is fatal. */
static bool move_tail(struct guest *g, uint32_t tail)
{
   g->tail = tail;
   atomic_store_explicit(ring_u32(g, TAIL_OFF), tail, memory_order_release);
   vd_ring_notify(g->ctx, RING_ID);
   const uint32_t head = atomic_load_explicit(ring_u32(g, HEAD_OFF), memory_order_acquire);
   const uint64_t deadline = now_ns() + (g->stalled ? STALL_TIMEOUT_NS : STEP_TIMEOUT_NS);
   for (;;) {
      if (atomic_load(ring_u32(g, STATUS_OFF)) & VK_RING_STATUS_FATAL_BIT_MESA)
         return false;
      if (vd_context_is_fatal(g->ctx))
         return false;
      const uint32_t now = atomic_load_explicit(ring_u32(g, HEAD_OFF), memory_order_acquire);
      if (now == tail) {
         g->stalled = false;
         return true;
      }
      if (now_ns() > deadline) {
         g->stalled = now == head;
         return true;
      }
      const struct timespec nap = { 0, POLL_NS };
      nanosleep(&nap, NULL);
   }
}

static bool write_ring(struct guest *g, const uint8_t *p, size_t len)
{
   if (len > g->buffer_size)
      len = g->buffer_size;
   for (size_t i = 0; i < len; i++)
      g->map[BUFFER_OFF + ((g->tail + i) & (g->buffer_size - 1))] = p[i];
   return move_tail(g, g->tail + (uint32_t)len);
}

static bool run_step(struct guest *g, uint8_t kind, const uint8_t *p, size_t len)
{
   switch (kind % 4) {
   case 0: return write_ring(g, p, len);
   case 1: return move_tail(g, g->tail + (len >= 4 ? get_le(p, 4) : 0));
   case 2: return vd_context_submit_cmd(g->ctx, p, len & ~(size_t)3);
   default: memcpy(g->map + EXTRA_OFF, p, len < g->extra_size ? len : g->extra_size); return true;
   }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
   fuzz_pin_cpu(*argc, *argv);
   fuzz_init(false);
   prctl(PR_SET_TIMERSLACK, 1000ul); /* POLL_NS naps, not the default 50 us slack */
   return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   if (size < 8)
      return 0;
   struct guest g = {
      .buffer_size = 1u << (4 + data[0] % 13),
      .extra_size = (data[1] % 64u) * 4,
      .tail = get_le(data + 4, 4),
   };
   const uint8_t flags = data[2];
   const uint64_t idle_ns = (uint64_t)(data[3] % 8) * 1000000u;
   data += 8;
   size -= 8;

   struct vd_context_params params = { .id = 1, .name = "fuzz", .opts = &fuzz_opts };
   g.ctx = vd_context_create(&params);
   if (!g.ctx)
      abort();
   struct vd_blob blob;
   if (vd_context_create_blob(g.ctx, RES_ID, 0, RES_SIZE, VD_BLOB_FLAG_MAPPABLE, &blob))
      abort();
   g.map = mmap(NULL, RES_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, blob.fd, 0);
   close(blob.fd);
   if (g.map == MAP_FAILED)
      abort();
   if (vd_context_create_blob(g.ctx, REPLY_RES_ID, 0, 65536, VD_BLOB_FLAG_MAPPABLE, &blob))
      abort();
   close(blob.fd);
   atomic_store(ring_u32(&g, HEAD_OFF), g.tail);
   atomic_store(ring_u32(&g, TAIL_OFF), g.tail);

   bool ok = create_ring(&g, flags, idle_ns);
   while (ok && size >= 3) {
      const uint8_t kind = data[0];
      size_t len = get_le(data + 1, 2);
      data += 3;
      size -= 3;
      if (len > size)
         len = size;
      ok = run_step(&g, kind, data, len);
      data += len;
      size -= len;
   }
   vd_context_destroy(g.ctx);
   munmap(g.map, RES_SIZE);
   return 0;
}
