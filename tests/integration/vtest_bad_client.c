/* vtest_bad_client: a vtest client that does the Venus handshake the way Mesa 25.0.7 does
 * and then sends one chosen malformed input, for tests/integration/test_malformed_client.sh.
 *
 *   vtest_bad_client --socket PATH --mode MODE [--name NAME] [--seed N]
 *                    [--timeout-ms N] [--linger-ms N] [--expect-close]
 *                    [--count N] [--size N]
 *
 * Handshake (docs/protocol.md): CREATE_RENDERER(name),
 * PING_PROTOCOL_VERSION + RESOURCE_BUSY_WAIT probe, PROTOCOL_VERSION 3, GET_PARAM
 * MAX_TIMELINE_COUNT, GET_CAPSET(VENUS), CONTEXT_INIT(VENUS).  The answers are checked the
 * way Mesa checks them (protocol version >= 3, timelines != 0, capset valid, wire format 1,
 * extension mask bit 0 set, blob_id 0 supported).
 *
 * Modes (what is sent after the handshake):
 *   handshake-only     nothing; disconnects cleanly (control case: no error expected)
 *   garbage-header     a vtest header with an unknown command id and a huge length, then
 *                      random bytes: the server cannot resynchronise and must drop us
 *   truncated-submit   SUBMIT_CMD2 whose batch says the command stream is longer than the
 *                      message that carries it
 *   unknown-command    well-framed SUBMIT_CMD2 carrying a Venus command of type 9999
 *   mesa-spec3         vkCopyMemoryToImageMESA (venus_protocol spec 3) as the first command
 *                      (run it against a venusd offering Mesa 25.0.7's spec 2: fatal,
 *                      naming the command and both specs)
 *   vkxml-1-4          vkCmdSetSampleLocationsEXT (type 283, first of the vk.xml 1.4 types)
 *                      as the first command (against Mesa 25.0.7's protocol: fatal)
 *   bad-ring           well-framed vkCreateRingMESA naming a resource that does not exist
 *   good-ring          control for bad-ring: creates a real shmem blob (RESOURCE_CREATE_BLOB,
 *                      as Mesa does for its instance ring), creates a ring on it with the
 *                      same encoding, destroys the ring and unrefs the blob (no error expected)
 *   no-create-renderer no handshake at all: the first message is a SUBMIT_CMD2
 *   many-rings         a real shmem blob and 9 rings on it (run it against a venusd with
 *                      --max-rings 8: the ninth must make the context fatal)
 *   fast-monitor       a ring whose monitor period is 1 us (venusd raises it to its minimum)
 *   high-priority      a ring asking for priority -20 (venusd clamps it to its own)
 *   sync-binary        control for the sync modes: creates an instance, a device with one
 *                      queue (timeline 1) and a binary semaphore in raw protocol, then
 *                      vkImportSemaphoreResourceMESA (resource 0: signal it) and
 *                      vkWaitSemaphoreResourceMESA (consume it), as Mesa's WSI does
 *   sync-import-timeline  the same set-up with a timeline semaphore, then an import into it
 *   sync-wait-timeline    ... then vkWaitSemaphoreResourceMESA on it
 *   sync-import-resource  a binary semaphore, then an import naming resource 0x7777
 *   blob-flood         --count N shmem blobs of --size bytes (default 4096), one after the
 *                      other, until the server drops us; the blobs are kept (for
 *                      tests/integration/test_limits.sh: --max-blobs, --max-fds, ...)
 *   wait-flood         one sync, then --count N SYNC_WAITs on a value it never reaches, each
 *                      kept pending by the server (--max-waits)
 *
 * Output: one line per step on stdout ("vtest_bad_client pid N ...", "handshake ok ...",
 * "sent ...", and finally "server closed the connection after N ms" or "connection still
 * open after N ms").
 * Exit status: 0 done; 1 I/O error or the server misbehaved in the handshake; 2 usage;
 * 3 --expect-close given but the server kept the connection open. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* vtest command ids (mesa src/virtio/vtest/vtest_protocol.h) */
enum {
   VCMD_RESOURCE_BUSY_WAIT = 7,
   VCMD_CREATE_RENDERER = 8,
   VCMD_PING_PROTOCOL_VERSION = 10,
   VCMD_PROTOCOL_VERSION = 11,
   VCMD_GET_PARAM = 15,
   VCMD_GET_CAPSET = 16,
   VCMD_CONTEXT_INIT = 17,
   VCMD_RESOURCE_UNREF = 3,
   VCMD_RESOURCE_CREATE_BLOB = 18,
   VCMD_SYNC_CREATE = 19,
   VCMD_SYNC_WAIT = 23,
   VCMD_SUBMIT_CMD2 = 24,
};
#define VCMD_BLOB_TYPE_HOST3D 2u
#define VCMD_BLOB_FLAG_MAPPABLE 1u
#define VCMD_PARAM_MAX_TIMELINE_COUNT 1u
#define VIRGL_RENDERER_CAPSET_VENUS 4u
#define VENUS_CAPSET_DWORDS 40u /* struct virgl_renderer_capset_venus: 160 bytes */

/* Venus command types (protocol/venus_command_types.tsv) and structure types */
#define VK_COMMAND_TYPE_vkCreateInstance 0
#define VK_COMMAND_TYPE_vkEnumeratePhysicalDevices 2
#define VK_COMMAND_TYPE_vkCreateDevice 11
#define VK_COMMAND_TYPE_vkCreateSemaphore 40
#define VK_COMMAND_TYPE_vkGetDeviceQueue2 155
#define VK_COMMAND_TYPE_vkWaitSemaphoreResourceMESA 245
#define VK_COMMAND_TYPE_vkImportSemaphoreResourceMESA 246
#define VK_COMMAND_TYPE_vkCreateRingMESA 188
#define VK_COMMAND_TYPE_vkDestroyRingMESA 189
#define VN_UNKNOWN_COMMAND_TYPE 9999
#define VK_COMMAND_TYPE_vkCmdSetSampleLocationsEXT 283
#define VK_COMMAND_TYPE_vkGetCalibratedTimestampsEXT 236
#define VK_COMMAND_TYPE_vkCopyMemoryToImageMESA 298
#define VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA 1000384000
#define VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA 1000384006
#define VK_STRUCTURE_TYPE_RING_PRIORITY_INFO_MESA 1000384007

static int g_timeout_ms = 10000;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   fputs("vtest_bad_client: ", stderr);
   vfprintf(stderr, fmt, ap);
   fputc('\n', stderr);
   va_end(ap);
   exit(1);
}

static int64_t now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- socket I/O ------------------------------------------------------------------- */

/* Returns false if the peer closed or reset the connection (EPIPE/ECONNRESET). */
static bool send_all(int fd, const void *buf, size_t len)
{
   const uint8_t *p = buf;
   while (len) {
      ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         if (errno == EPIPE || errno == ECONNRESET)
            return false;
         die("send: %s", strerror(errno));
      }
      p += n;
      len -= (size_t)n;
   }
   return true;
}

static void recv_all(int fd, void *buf, size_t len, const char *what)
{
   uint8_t *p = buf;
   while (len) {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      int r = poll(&pfd, 1, g_timeout_ms);
      if (r < 0 && errno == EINTR)
         continue;
      if (r < 0)
         die("poll: %s", strerror(errno));
      if (r == 0)
         die("no reply to %s within %d ms", what, g_timeout_ms);
      ssize_t n = recv(fd, p, len, 0);
      if (n < 0 && errno == EINTR)
         continue;
      if (n < 0)
         die("recv (%s): %s", what, strerror(errno));
      if (n == 0)
         die("server closed the connection while we waited for the reply to %s", what);
      p += n;
      len -= (size_t)n;
   }
}

static bool send_cmd(int fd, uint32_t cmd, const uint32_t *payload, uint32_t dwords)
{
   uint32_t hdr[2] = { dwords, cmd };
   if (!send_all(fd, hdr, sizeof(hdr)))
      return false;
   return dwords == 0 || send_all(fd, payload, (size_t)dwords * 4);
}

/* Reads a reply header, checks its command id, and reads exactly `dwords` payload dwords
 * (the header's length must be at least that; extra dwords are drained). */
static uint32_t recv_reply(int fd, uint32_t cmd, uint32_t *payload, uint32_t dwords,
                           const char *what)
{
   uint32_t hdr[2];
   recv_all(fd, hdr, sizeof(hdr), what);
   if (hdr[1] != cmd)
      die("reply to %s has command id %u, expected %u", what, hdr[1], cmd);
   if (hdr[0] < dwords)
      die("reply to %s has %u dwords, expected at least %u", what, hdr[0], dwords);
   if (dwords)
      recv_all(fd, payload, (size_t)dwords * 4, what);
   for (uint32_t i = dwords; i < hdr[0]; i++) {
      uint32_t drop;
      recv_all(fd, &drop, 4, what);
   }
   return hdr[0];
}

/* Receives the one SCM_RIGHTS fd the server sends after a reply (1 data byte). */
static int recv_fd(int fd, const char *what)
{
   struct pollfd pfd = { .fd = fd, .events = POLLIN };
   if (poll(&pfd, 1, g_timeout_ms) <= 0)
      die("no fd for %s within %d ms", what, g_timeout_ms);
   char byte;
   struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } u;
   struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
   };
   ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
   if (n != 1)
      die("recvmsg (%s): %s", what, n < 0 ? strerror(errno) : "no data byte");
   struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
   if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
       c->cmsg_len != CMSG_LEN(sizeof(int)))
      die("%s: no SCM_RIGHTS fd", what);
   int out;
   memcpy(&out, CMSG_DATA(c), sizeof(out));
   return out;
}

/* True once the server has closed the connection (waits up to the timeout for data). */
static bool server_closed(int fd)
{
   struct pollfd pfd = { .fd = fd, .events = POLLIN };
   if (poll(&pfd, 1, g_timeout_ms) <= 0)
      return false;
   char byte;
   return recv(fd, &byte, 1, MSG_PEEK) == 0;
}

/* blob-flood: up to count shmem blobs of size bytes; returns how many were made and sets
 * *closed when the server dropped us.  The fds we get are closed (the server keeps its
 * own). */
static int blob_flood(int fd, int count, uint64_t size, bool *closed)
{
   for (int i = 0; i < count; i++) {
      uint32_t blob[6] = { VCMD_BLOB_TYPE_HOST3D,
                           VCMD_BLOB_FLAG_MAPPABLE,
                           (uint32_t)size,
                           (uint32_t)(size >> 32),
                           0,
                           0 };
      if (!send_cmd(fd, VCMD_RESOURCE_CREATE_BLOB, blob, 6) || server_closed(fd)) {
         *closed = true;
         return i;
      }
      uint32_t res_id;
      recv_reply(fd, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1, "RESOURCE_CREATE_BLOB");
      close(recv_fd(fd, "RESOURCE_CREATE_BLOB"));
   }
   return count;
}

/* wait-flood: one sync at 0, then up to count SYNC_WAITs for value 1 without a timeout. */
static int wait_flood(int fd, int count, bool *closed)
{
   const uint32_t create[2] = { 0, 0 };
   uint32_t sync_id;
   if (!send_cmd(fd, VCMD_SYNC_CREATE, create, 2))
      die("server closed the connection at SYNC_CREATE");
   recv_reply(fd, VCMD_SYNC_CREATE, &sync_id, 1, "SYNC_CREATE");
   for (int i = 0; i < count; i++) {
      const uint32_t wait[5] = { 0, UINT32_MAX, sync_id, 1, 0 };
      if (!send_cmd(fd, VCMD_SYNC_WAIT, wait, 5) || server_closed(fd)) {
         *closed = true;
         return i;
      }
      recv_reply(fd, VCMD_SYNC_WAIT, NULL, 0, "SYNC_WAIT");
      close(recv_fd(fd, "SYNC_WAIT"));
   }
   return count;
}

/* ---- handshake -------------------------------------------------------------------- */

static void handshake(int fd, const char *name)
{
   /* CREATE_RENDERER: the only command whose length is in bytes, no padding. */
   uint32_t name_len = (uint32_t)strlen(name) + 1;
   uint32_t hdr[2] = { name_len, VCMD_CREATE_RENDERER };
   if (!send_all(fd, hdr, sizeof(hdr)) || !send_all(fd, name, name_len))
      die("server closed the connection during CREATE_RENDERER");

   /* Protocol probe, as Mesa does it: PING then a busy-wait on handle 0. */
   uint32_t busy_wait[2] = { 0, 0 };
   if (!send_cmd(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0) ||
       !send_cmd(fd, VCMD_RESOURCE_BUSY_WAIT, busy_wait, 2))
      die("server closed the connection during the protocol probe");
   uint32_t rhdr[2];
   recv_all(fd, rhdr, sizeof(rhdr), "PING_PROTOCOL_VERSION");
   if (rhdr[1] != VCMD_PING_PROTOCOL_VERSION || rhdr[0] != 0)
      die("PING_PROTOCOL_VERSION not answered (got len %u id %u); Mesa needs protocol >= 3",
          rhdr[0], rhdr[1]);
   uint32_t busy;
   recv_reply(fd, VCMD_RESOURCE_BUSY_WAIT, &busy, 1, "RESOURCE_BUSY_WAIT");

   uint32_t version = 3;
   if (!send_cmd(fd, VCMD_PROTOCOL_VERSION, &version, 1))
      die("server closed the connection at PROTOCOL_VERSION");
   recv_reply(fd, VCMD_PROTOCOL_VERSION, &version, 1, "PROTOCOL_VERSION");
   if (version < 3)
      die("server negotiated vtest protocol %u; Mesa requires 3", version);

   uint32_t param = VCMD_PARAM_MAX_TIMELINE_COUNT, pr[2];
   if (!send_cmd(fd, VCMD_GET_PARAM, &param, 1))
      die("server closed the connection at GET_PARAM");
   recv_reply(fd, VCMD_GET_PARAM, pr, 2, "GET_PARAM(MAX_TIMELINE_COUNT)");
   if (!pr[0] || !pr[1])
      die("GET_PARAM(MAX_TIMELINE_COUNT) answered valid=%u value=%u; Mesa needs a value", pr[0],
          pr[1]);

   uint32_t capreq[2] = { VIRGL_RENDERER_CAPSET_VENUS, 0 };
   if (!send_cmd(fd, VCMD_GET_CAPSET, capreq, 2))
      die("server closed the connection at GET_CAPSET");
   /* Reply: {len 1+N, id 16, valid, N capset dwords}; keep the first 40, drain the rest. */
   uint32_t caps[1 + VENUS_CAPSET_DWORDS] = { 0 };
   uint32_t chdr[2];
   recv_all(fd, chdr, sizeof(chdr), "GET_CAPSET");
   if (chdr[1] != VCMD_GET_CAPSET || chdr[0] < 1)
      die("reply to GET_CAPSET: len %u id %u", chdr[0], chdr[1]);
   uint32_t capsz = chdr[0];
   for (uint32_t i = 0; i < capsz; i++) {
      uint32_t v;
      recv_all(fd, &v, 4, "GET_CAPSET payload");
      if (i < 1 + VENUS_CAPSET_DWORDS)
         caps[i] = v;
   }
   if (!caps[0])
      die("GET_CAPSET(VENUS) answered valid=0");
   if (capsz < 1 + 8)
      die("Venus capset too short: %u dwords", capsz - 1);
   /* capset dwords: 0 wire_format_version, 4 supports_blob_id_0, 5.. extension mask */
   if (caps[1 + 0] != 1)
      die("capset wire_format_version %u, Mesa 25.0.7 needs 1", caps[1]);
   if (caps[1 + 4] != 1)
      die("capset supports_blob_id_0 is %u, Mesa needs 1", caps[1 + 4]);
   if (!(caps[1 + 5] & 1))
      die("capset extension mask bit 0 is clear (mask would be ignored by Mesa)");

   uint32_t capset_id = VIRGL_RENDERER_CAPSET_VENUS;
   if (!send_cmd(fd, VCMD_CONTEXT_INIT, &capset_id, 1))
      die("server closed the connection at CONTEXT_INIT");

   printf("handshake ok: vtest protocol %u, %u timelines, capset %u dwords, xml version "
          "%u.%u.%u\n",
          version, pr[1], capsz - 1, caps[1 + 1] >> 22, (caps[1 + 1] >> 12) & 0x3ff,
          caps[1 + 1] & 0xfff);
   fflush(stdout);
}

/* ---- Venus command encoding ------------------------------------------------------- */

struct cs {
   uint32_t d[1024];
   uint32_t n;
};

static void cs_u32(struct cs *cs, uint32_t v)
{
   if (cs->n >= sizeof(cs->d) / sizeof(cs->d[0]))
      die("internal: command buffer full");
   cs->d[cs->n++] = v;
}

static void cs_u64(struct cs *cs, uint64_t v)
{
   cs_u32(cs, (uint32_t)v);
   cs_u32(cs, (uint32_t)(v >> 32));
}

/* vkCreateRingMESA(ring, pCreateInfo) with Mesa 25.0.7's instance-ring layout and monitor
 * chain (period `period_us`, and a VkRingPriorityInfoMESA if `with_priority`), naming
 * resource `res_id`. */
static void encode_create_ring_ex(struct cs *cs, uint64_t ring_id, uint32_t res_id,
                                  uint32_t period_us, bool with_priority, int32_t priority)
{
   const uint64_t buf_size = 128 * 1024, buf_off = 192;
   cs_u32(cs, VK_COMMAND_TYPE_vkCreateRingMESA);
   cs_u32(cs, 0);       /* command flags: no reply */
   cs_u64(cs, ring_id); /* uint64_t ring */
   cs_u64(cs, 1);       /* pCreateInfo: one struct follows */
   cs_u32(cs, VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA);
   cs_u64(cs, 1); /* pNext: VkRingMonitorInfoMESA follows */
   cs_u32(cs, VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA);
   if (with_priority) {
      cs_u64(cs, 1); /* pNext: VkRingPriorityInfoMESA follows */
      cs_u32(cs, VK_STRUCTURE_TYPE_RING_PRIORITY_INFO_MESA);
      cs_u64(cs, 0); /* end of chain */
      cs_u32(cs, (uint32_t)priority);
   } else {
      cs_u64(cs, 0); /* end of chain */
   }
   cs_u32(cs, period_us);              /* maxReportingPeriodMicroseconds */
   cs_u32(cs, 0);                      /* flags */
   cs_u32(cs, res_id);                 /* resourceId */
   cs_u64(cs, 0);                      /* offset */
   cs_u64(cs, buf_off + buf_size + 4); /* size */
   cs_u64(cs, 1000000);                /* idleTimeout (ns) */
   cs_u64(cs, 0);                      /* headOffset */
   cs_u64(cs, 64);                     /* tailOffset */
   cs_u64(cs, 128);                    /* statusOffset */
   cs_u64(cs, buf_off);                /* bufferOffset */
   cs_u64(cs, buf_size);               /* bufferSize */
   cs_u64(cs, buf_off + buf_size);     /* extraOffset */
   cs_u64(cs, 4);                      /* extraSize */
}

static void encode_create_ring(struct cs *cs, uint64_t ring_id, uint32_t res_id)
{
   encode_create_ring_ex(cs, ring_id, res_id, 3000000, false, 0);
}

/* A mappable shmem blob the size of Mesa's instance ring (131268 bytes), as Mesa makes
 * one; returns its resource id and, in *mfd, its fd. */
#define RING_BLOB_SIZE (192 + 128 * 1024 + 4)
static uint32_t create_ring_blob(int fd, int *mfd)
{
   const uint64_t size = RING_BLOB_SIZE;
   uint32_t blob[6] = {
      VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE, (uint32_t)size, (uint32_t)(size >> 32), 0, 0
   };
   if (!send_cmd(fd, VCMD_RESOURCE_CREATE_BLOB, blob, 6))
      die("server closed the connection at RESOURCE_CREATE_BLOB");
   uint32_t res_id;
   recv_reply(fd, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1, "RESOURCE_CREATE_BLOB");
   *mfd = recv_fd(fd, "RESOURCE_CREATE_BLOB");
   return res_id;
}

/* Instance, physical device, device with queue family 0 x1 bound to timeline 1, and one
 * semaphore (timeline if asked), in Venus's encoding: ids 0x100.. are ours. */
#define ID_INSTANCE 0x100
#define ID_PDEV 0x101
#define ID_DEVICE 0x102
#define ID_QUEUE 0x103
#define ID_SEMAPHORE 0x104
static void encode_sync_setup(struct cs *cs, bool timeline)
{
   cs_u32(cs, VK_COMMAND_TYPE_vkCreateInstance);
   cs_u32(cs, 0);
   cs_u64(cs, 1);                       /* pCreateInfo */
   cs_u32(cs, 1);                       /* VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO */
   cs_u64(cs, 0);                       /* pNext */
   cs_u32(cs, 0);                       /* flags */
   cs_u64(cs, 1);                       /* pApplicationInfo */
   cs_u32(cs, 0);                       /* VK_STRUCTURE_TYPE_APPLICATION_INFO */
   cs_u64(cs, 0);                       /* pNext */
   cs_u64(cs, 0);                       /* pApplicationName */
   cs_u32(cs, 0);                       /* applicationVersion */
   cs_u64(cs, 0);                       /* pEngineName */
   cs_u32(cs, 0);                       /* engineVersion */
   cs_u32(cs, (1u << 22) | (3u << 12)); /* apiVersion 1.3 */
   cs_u32(cs, 0);                       /* enabledLayerCount */
   cs_u64(cs, 0);                       /* ppEnabledLayerNames */
   cs_u32(cs, 0);                       /* enabledExtensionCount */
   cs_u64(cs, 0);                       /* ppEnabledExtensionNames */
   cs_u64(cs, 0);                       /* pAllocator */
   cs_u64(cs, 1);                       /* pInstance */
   cs_u64(cs, ID_INSTANCE);

   cs_u32(cs, VK_COMMAND_TYPE_vkEnumeratePhysicalDevices);
   cs_u32(cs, 0);
   cs_u64(cs, ID_INSTANCE);
   cs_u64(cs, 1); /* pPhysicalDeviceCount */
   cs_u32(cs, 1);
   cs_u64(cs, 1); /* pPhysicalDevices: 1 id */
   cs_u64(cs, ID_PDEV);

   cs_u32(cs, VK_COMMAND_TYPE_vkCreateDevice);
   cs_u32(cs, 0);
   cs_u64(cs, ID_PDEV);
   cs_u64(cs, 1);           /* pCreateInfo */
   cs_u32(cs, 3);           /* VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO */
   cs_u64(cs, 0);           /* pNext */
   cs_u32(cs, 0);           /* flags */
   cs_u32(cs, 1);           /* queueCreateInfoCount */
   cs_u64(cs, 1);           /* pQueueCreateInfos: 1 */
   cs_u32(cs, 2);           /* VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO */
   cs_u64(cs, 0);           /* pNext */
   cs_u32(cs, 0);           /* flags */
   cs_u32(cs, 0);           /* queueFamilyIndex */
   cs_u32(cs, 1);           /* queueCount */
   cs_u64(cs, 1);           /* pQueuePriorities: 1 */
   cs_u32(cs, 0x3f800000u); /* 1.0f */
   cs_u32(cs, 0);           /* enabledLayerCount */
   cs_u64(cs, 0);
   cs_u32(cs, 0); /* enabledExtensionCount */
   cs_u64(cs, 0);
   cs_u64(cs, 0); /* pEnabledFeatures */
   cs_u64(cs, 0); /* pAllocator */
   cs_u64(cs, 1); /* pDevice */
   cs_u64(cs, ID_DEVICE);

   cs_u32(cs, VK_COMMAND_TYPE_vkGetDeviceQueue2);
   cs_u32(cs, 0);
   cs_u64(cs, ID_DEVICE);
   cs_u64(cs, 1);          /* pQueueInfo */
   cs_u32(cs, 1000145003); /* VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2 */
   cs_u64(cs, 1);          /* pNext: VkDeviceQueueTimelineInfoMESA */
   cs_u32(cs, 1000384005);
   cs_u64(cs, 0);
   cs_u32(cs, 1); /* ringIdx */
   cs_u32(cs, 0); /* flags */
   cs_u32(cs, 0); /* queueFamilyIndex */
   cs_u32(cs, 0); /* queueIndex */
   cs_u64(cs, 1); /* pQueue */
   cs_u64(cs, ID_QUEUE);

   cs_u32(cs, VK_COMMAND_TYPE_vkCreateSemaphore);
   cs_u32(cs, 0);
   cs_u64(cs, ID_DEVICE);
   cs_u64(cs, 1); /* pCreateInfo */
   cs_u32(cs, 9); /* VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO */
   if (timeline) {
      cs_u64(cs, 1); /* pNext: VkSemaphoreTypeCreateInfo */
      cs_u32(cs, 1000207002);
      cs_u64(cs, 0);
      cs_u32(cs, 1); /* VK_SEMAPHORE_TYPE_TIMELINE */
      cs_u64(cs, 0); /* initialValue */
   } else {
      cs_u64(cs, 0);
   }
   cs_u32(cs, 0); /* flags */
   cs_u64(cs, 0); /* pAllocator */
   cs_u64(cs, 1); /* pSemaphore */
   cs_u64(cs, ID_SEMAPHORE);
}

static void encode_import_semaphore(struct cs *cs, uint32_t res_id)
{
   cs_u32(cs, VK_COMMAND_TYPE_vkImportSemaphoreResourceMESA);
   cs_u32(cs, 0);
   cs_u64(cs, ID_DEVICE);
   cs_u64(cs, 1);          /* pImportSemaphoreResourceInfo */
   cs_u32(cs, 1000384004); /* VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_MESA */
   cs_u64(cs, 0);
   cs_u64(cs, ID_SEMAPHORE);
   cs_u32(cs, res_id);
}

static void encode_wait_semaphore(struct cs *cs)
{
   cs_u32(cs, VK_COMMAND_TYPE_vkWaitSemaphoreResourceMESA);
   cs_u32(cs, 0);
   cs_u64(cs, ID_DEVICE);
   cs_u64(cs, ID_SEMAPHORE);
}

/* SUBMIT_CMD2 with one batch: {batch_count, flags, cmd_offset, cmd_size, sync_offset,
 * sync_count, ring_idx} then the stream.  `claimed_dwords` is what the batch says the
 * stream size is; the message carries only cs->n dwords. */
static bool send_submit_cmd2(int fd, const struct cs *cs, uint32_t claimed_dwords)
{
   uint32_t msg[7 + 1024];
   uint32_t n = 0;
   msg[n++] = 1;                  /* batch_count */
   msg[n++] = 0;                  /* flags */
   msg[n++] = 7;                  /* cmd_offset (dwords from payload start) */
   msg[n++] = claimed_dwords;     /* cmd_size */
   msg[n++] = 7 + claimed_dwords; /* sync_offset */
   msg[n++] = 0;                  /* sync_count */
   msg[n++] = 0;                  /* ring_idx */
   memcpy(msg + n, cs->d, (size_t)cs->n * 4);
   n += cs->n;
   return send_cmd(fd, VCMD_SUBMIT_CMD2, msg, n);
}

/* ---- main ------------------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rng_next(void)
{
   /* xorshift64* */
   rng_state ^= rng_state >> 12;
   rng_state ^= rng_state << 25;
   rng_state ^= rng_state >> 27;
   return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void usage(FILE *f)
{
   fputs("usage: vtest_bad_client --socket PATH --mode MODE [--name NAME] [--seed N]\n"
         "                        [--timeout-ms N] [--linger-ms N] [--expect-close]\n"
         "modes: handshake-only garbage-header truncated-submit unknown-command bad-ring\n"
         "       good-ring no-create-renderer sync-binary sync-import-timeline\n"
         "       sync-wait-timeline sync-import-resource many-rings fast-monitor\n"
         "       high-priority blob-flood wait-flood mesa-spec3 vkxml-1-4\n"
         "blob-flood, wait-flood: [--count N] [--size N]\n",
         f);
}

int main(int argc, char **argv)
{
   const char *sock_path = NULL, *mode = NULL, *name = NULL;
   unsigned long long seed = 1;
   int linger_ms = 3000;
   bool expect_close = false;
   int count = 1;
   uint64_t size = 4096;

   for (int i = 1; i < argc; i++) {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
         usage(stdout);
         return 0;
      } else if (!strcmp(a, "--expect-close")) {
         expect_close = true;
         continue;
      }
      if (!v) {
         usage(stderr);
         return 2;
      }
      if (!strcmp(a, "--socket"))
         sock_path = v;
      else if (!strcmp(a, "--mode"))
         mode = v;
      else if (!strcmp(a, "--name"))
         name = v;
      else if (!strcmp(a, "--seed"))
         seed = strtoull(v, NULL, 0);
      else if (!strcmp(a, "--timeout-ms"))
         g_timeout_ms = atoi(v);
      else if (!strcmp(a, "--linger-ms"))
         linger_ms = atoi(v);
      else if (!strcmp(a, "--count"))
         count = atoi(v);
      else if (!strcmp(a, "--size"))
         size = strtoull(v, NULL, 0);
      else {
         fprintf(stderr, "vtest_bad_client: unknown option %s\n", a);
         usage(stderr);
         return 2;
      }
      i++;
   }
   if (!sock_path || !mode) {
      usage(stderr);
      return 2;
   }
   static const char *const modes[] = { "many-rings",
                                        "fast-monitor",
                                        "high-priority",
                                        "sync-binary",
                                        "sync-import-timeline",
                                        "sync-wait-timeline",
                                        "sync-import-resource",
                                        "handshake-only",
                                        "garbage-header",
                                        "truncated-submit",
                                        "unknown-command",
                                        "mesa-spec3",
                                        "vkxml-1-4",
                                        "no-entry-point",
                                        "bad-ring",
                                        "good-ring",
                                        "no-create-renderer",
                                        "blob-flood",
                                        "wait-flood" };
   bool known = false;
   for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
      known |= !strcmp(mode, modes[i]);
   if (!known) {
      fprintf(stderr, "vtest_bad_client: unknown mode %s\n", mode);
      usage(stderr);
      return 2;
   }
   char default_name[64];
   if (!name) {
      snprintf(default_name, sizeof(default_name), "badclient-%s", mode);
      name = default_name;
   }
   rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;

   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   if (strlen(sock_path) >= sizeof(addr.sun_path))
      die("socket path too long: %s", sock_path);
   strcpy(addr.sun_path, sock_path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      die("socket: %s", strerror(errno));
   if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
      die("connect %s: %s", sock_path, strerror(errno));

   printf("vtest_bad_client pid %ld, name %s, mode %s\n", (long)getpid(), name, mode);
   fflush(stdout);
   if (strcmp(mode, "no-create-renderer") != 0)
      handshake(fd, name);

   bool sent = true, closed = false;
   static struct cs cs = { .n = 0 };
   if (!strcmp(mode, "handshake-only")) {
      printf("sent nothing after the handshake\n");
      fflush(stdout);
      close(fd);
      return 0;
   } else if (!strcmp(mode, "garbage-header")) {
      uint32_t junk[16];
      junk[0] = 0xfffffff0u; /* length: ~16 GiB of dwords */
      junk[1] = 0xbadc0de5u; /* no such vtest command */
      for (int i = 2; i < 16; i++)
         junk[i] = rng_next();
      sent = send_all(fd, junk, sizeof(junk));
      printf("sent a header {len 0x%08x, cmd 0x%08x} and %d random dwords (seed %llu)\n", junk[0],
             junk[1], 14, seed);
   } else if (!strcmp(mode, "truncated-submit")) {
      /* a valid vkCreateRingMESA prefix, but the batch claims 1000 dwords */
      encode_create_ring(&cs, 0x1000, 1);
      cs.n = 6;
      sent = send_submit_cmd2(fd, &cs, 1000);
      printf("sent SUBMIT_CMD2 whose batch claims 1000 dwords of commands in a 13-dword "
             "message\n");
   } else if (!strcmp(mode, "unknown-command") || !strcmp(mode, "no-create-renderer")) {
      cs_u32(&cs, VN_UNKNOWN_COMMAND_TYPE);
      cs_u32(&cs, 0);
      cs_u64(&cs, 0); /* a few plausible-looking parameter bytes */
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("sent SUBMIT_CMD2 with Venus command type %d%s\n", VN_UNKNOWN_COMMAND_TYPE,
             strcmp(mode, "no-create-renderer") ? "" : " as the first message");
   } else if (!strcmp(mode, "mesa-spec3") || !strcmp(mode, "vkxml-1-4")) {
      const bool spec3 = !strcmp(mode, "mesa-spec3");
      cs_u32(&cs, spec3 ? VK_COMMAND_TYPE_vkCopyMemoryToImageMESA
                        : VK_COMMAND_TYPE_vkCmdSetSampleLocationsEXT);
      cs_u32(&cs, 0);
      cs_u64(&cs, 1); /* a device / command buffer id that was never created */
      cs_u64(&cs, 0);
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("sent SUBMIT_CMD2 with %s\n",
             spec3 ? "vkCopyMemoryToImageMESA (spec 3)" : "vkCmdSetSampleLocationsEXT (type 283)");
   } else if (!strcmp(mode, "no-entry-point")) {
      /* A device created with no extension, then a command of VK_EXT_calibrated_timestamps:
       * the host's loader has no entry point for it on that device. */
      encode_sync_setup(&cs, false);
      cs_u32(&cs, VK_COMMAND_TYPE_vkGetCalibratedTimestampsEXT);
      cs_u32(&cs, 0);
      cs_u64(&cs, ID_DEVICE);
      cs_u32(&cs, 1);          /* timestampCount */
      cs_u64(&cs, 1);          /* pTimestampInfos: 1 */
      cs_u32(&cs, 1000184000); /* VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_KHR */
      cs_u64(&cs, 0);          /* pNext */
      cs_u32(&cs, 0);          /* VK_TIME_DOMAIN_DEVICE_KHR */
      cs_u64(&cs, 1);          /* pTimestamps: room for 1 */
      cs_u64(&cs, 1);          /* pMaxDeviation */
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("sent instance, device (no extensions) and vkGetCalibratedTimestampsEXT\n");
   } else if (!strncmp(mode, "sync-", 5)) {
      const bool timeline = strstr(mode, "timeline") != NULL;
      encode_sync_setup(&cs, timeline);
      if (!strcmp(mode, "sync-wait-timeline")) {
         encode_wait_semaphore(&cs);
      } else {
         encode_import_semaphore(&cs, !strcmp(mode, "sync-import-resource") ? 0x7777 : 0);
         if (!strcmp(mode, "sync-binary"))
            encode_wait_semaphore(&cs);
      }
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("sent instance, device, %s semaphore and %s\n", timeline ? "timeline" : "binary",
             !strcmp(mode, "sync-binary")            ? "a SYNC_FD import (signal) and wait"
             : !strcmp(mode, "sync-wait-timeline")   ? "a SYNC_FD wait on it"
             : !strcmp(mode, "sync-import-resource") ? "an import naming resource 0x7777"
                                                     : "a SYNC_FD import into it");
   } else if (!strcmp(mode, "blob-flood")) {
      const int made = blob_flood(fd, count, size, &closed);
      printf("created %d of %d blobs of %llu bytes%s\n", made, count, (unsigned long long)size,
             closed ? "; the server closed the connection" : "");
   } else if (!strcmp(mode, "wait-flood")) {
      const int made = wait_flood(fd, count, &closed);
      printf("%d of %d SYNC_WAITs pending%s\n", made, count,
             closed ? "; the server closed the connection" : "");
   } else if (!strcmp(mode, "bad-ring")) {
      encode_create_ring(&cs, 0x1000, 0xdead);
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("sent vkCreateRingMESA naming resource 0xdead, which does not exist\n");
   } else if (!strcmp(mode, "many-rings") || !strcmp(mode, "fast-monitor") ||
              !strcmp(mode, "high-priority")) {
      int mfd;
      const uint32_t res_id = create_ring_blob(fd, &mfd);
      close(mfd);
      const int rings = !strcmp(mode, "many-rings") ? 9 : 1;
      for (int i = 0; i < rings; i++)
         encode_create_ring_ex(&cs, 0x1000 + (uint64_t)i, res_id,
                               !strcmp(mode, "fast-monitor") ? 1 : 3000000,
                               !strcmp(mode, "high-priority"), -20);
      sent = send_submit_cmd2(fd, &cs, cs.n);
      printf("created %d ring(s) on shmem resource %u (%s)\n", rings, res_id, mode);
   } else if (!strcmp(mode, "good-ring")) {
      const uint64_t size = RING_BLOB_SIZE;
      int mfd;
      const uint32_t res_id = create_ring_blob(fd, &mfd);
      void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
      if (map == MAP_FAILED)
         die("mmap of the shmem blob (%llu bytes): %s", (unsigned long long)size, strerror(errno));
      memset(map, 0, size);
      close(mfd);
      encode_create_ring(&cs, 0x1000, res_id);
      sent = send_submit_cmd2(fd, &cs, cs.n);
      /* let the ring thread start, then tear down in Mesa's order */
      struct timespec ts = { 0, 200 * 1000000 };
      nanosleep(&ts, NULL);
      struct cs d = { .n = 0 };
      cs_u32(&d, VK_COMMAND_TYPE_vkDestroyRingMESA);
      cs_u32(&d, 0);
      cs_u64(&d, 0x1000);
      sent = sent && send_submit_cmd2(fd, &d, d.n);
      sent = sent && send_cmd(fd, VCMD_RESOURCE_UNREF, &res_id, 1);
      uint32_t status;
      memcpy(&status, (const uint8_t *)map + 128, 4);
      munmap(map, size);
      printf("created a ring on shmem resource %u, destroyed it, unref'd the resource "
             "(ring status 0x%x)\n",
             res_id, status);
      if (sent) {
         fflush(stdout);
         close(fd);
         return 0;
      }
   }
   if (!sent)
      printf("the server closed the connection while we were sending\n");
   fflush(stdout);

   /* Wait for the server to drop us (or not), discarding anything it sends. */
   int64_t start = now_ms();
   closed = closed || !sent;
   while (!closed) {
      int64_t left = linger_ms - (now_ms() - start);
      if (left <= 0)
         break;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      int r = poll(&pfd, 1, (int)left);
      if (r < 0 && errno == EINTR)
         continue;
      if (r <= 0)
         break;
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         closed = true;
   }
   if (closed)
      printf("server closed the connection after %lld ms\n", (long long)(now_ms() - start));
   else
      printf("connection still open after %d ms\n", linger_ms);
   close(fd);
   return expect_close && !closed ? 3 : 0;
}
