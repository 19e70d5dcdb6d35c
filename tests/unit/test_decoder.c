/* Decoder and dispatcher behaviour on malformed guest input: every case makes the context
 * fatal with a reason naming the command and the field, and nothing reads past the
 * stream.  Streams are built by hand, byte by byte, in the Venus wire format. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context/context_priv.h"
#include "unit.h"
#include "vn_protocol.h"

/* -- a tiny stream builder -------------------------------------------------------------- */
struct stream {
   uint8_t buf[4096];
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

static void put_bytes(struct stream *s, const void *p, size_t n)
{
   memcpy(s->buf + s->len, p, n);
   s->len += n;
   while (s->len % 4)
      s->buf[s->len++] = 0;
}

static struct vd_context *new_context(void)
{
   struct vd_context_params p = { .id = 1, .name = "unit" };
   return vd_context_create(&p);
}

/* Runs the stream on a fresh context's virtqueue; returns the context (caller destroys). */
static struct vd_context *run(const struct stream *s)
{
   struct vd_context *ctx = new_context();
   vd_context_submit_cmd(ctx, s->buf, s->len);
   return ctx;
}

static bool reason_has(struct vd_context *ctx, const char *a, const char *b)
{
   return strstr(ctx->fatal_reason, a) && (!b || strstr(ctx->fatal_reason, b));
}

/* A shmem resource id 7 of 4096 bytes. */
static void add_shmem(struct vd_context *ctx)
{
   struct vd_blob blob;
   if (vd_context_create_blob(ctx, 7, 0, 4096, VD_BLOB_FLAG_MAPPABLE, &blob) == 0)
      close(blob.fd);
}

static void put_ring_create_info(struct stream *s, uint32_t res, bool with_pnext,
                                 int32_t pnext_stype)
{
   put32(s, VN_CMD_vkCreateRingMESA);
   put32(s, 0);
   put64(s, 0x1234); /* ring */
   put64(s, 1);      /* pCreateInfo present */
   put32(s, VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA);
   if (with_pnext) {
      put64(s, 1);
      put32(s, (uint32_t)pnext_stype);
      put64(s, 0); /* end of chain */
      put32(s, 3000000);
   } else {
      put64(s, 0);
   }
   put32(s, 0);       /* flags */
   put32(s, res);     /* resourceId */
   put64(s, 0);       /* offset */
   put64(s, 4096);    /* size */
   put64(s, 1000000); /* idleTimeout */
   put64(s, 0);       /* head */
   put64(s, 64);      /* tail */
   put64(s, 128);     /* status */
   put64(s, 1024);    /* buffer */
   put64(s, 1024);    /* bufferSize */
   put64(s, 2048);    /* extra */
   put64(s, 4);       /* extraSize */
}

UNIT_TEST(valid_ring_create_and_destroy_keeps_context_alive)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   put_ring_create_info(&s, 7, true, VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA);
   put32(&s, VN_CMD_vkDestroyRingMESA);
   put32(&s, 0);
   put64(&s, 0x1234);
   UNIT_CHECK(vd_context_submit_cmd(ctx, s.buf, s.len));
   UNIT_CHECK(!vd_context_is_fatal(ctx));
   vd_context_destroy(ctx);
}

UNIT_TEST(truncated_stream_is_fatal_and_names_the_field)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   put_ring_create_info(&s, 7, false, 0);
   s.len -= 12; /* cut extraOffset/extraSize */
   UNIT_CHECK(!vd_context_submit_cmd(ctx, s.buf, s.len));
   UNIT_CHECK(vd_context_is_fatal(ctx));
   UNIT_CHECK(reason_has(ctx, "vkCreateRingMESA", "VkRingCreateInfoMESA.extra"));
   UNIT_CHECK(reason_has(ctx, "truncated", NULL));
   vd_context_destroy(ctx);
}

UNIT_TEST(count_that_does_not_fit_remaining_bytes_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkExecuteCommandStreamsMESA);
   put32(&s, 0);
   put32(&s, 1000000); /* streamCount */
   put64(&s, 1000000); /* pStreams array size */
   put32(&s, 7);       /* one element only */
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(vd_context_is_fatal(ctx));
   UNIT_CHECK(reason_has(ctx, "vkExecuteCommandStreamsMESA", "does not fit"));
   UNIT_CHECK(reason_has(ctx, "pStreams", NULL));
   vd_context_destroy(ctx);
}

UNIT_TEST(second_count_disagreeing_with_the_first_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkExecuteCommandStreamsMESA);
   put32(&s, 0);
   put32(&s, 2); /* streamCount */
   put64(&s, 3); /* but 3 elements */
   for (int i = 0; i < 3; i++) {
      put32(&s, 7);
      put64(&s, 0);
      put64(&s, 16);
   }
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(vd_context_is_fatal(ctx));
   UNIT_CHECK(reason_has(ctx, "pStreams", "disagrees with its count"));
   vd_context_destroy(ctx);
}

UNIT_TEST(string_without_nul_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkCreateInstance);
   put32(&s, 1);
   put64(&s, 1); /* pCreateInfo */
   put32(&s, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   put64(&s, 0); /* pNext */
   put32(&s, 0); /* flags */
   put64(&s, 1); /* pApplicationInfo */
   put32(&s, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   put64(&s, 0);
   put64(&s, 4); /* pApplicationName: 4 bytes, no NUL */
   put_bytes(&s, "abcd", 4);
   put32(&s, 0);
   put64(&s, 0);
   put32(&s, 0);
   put32(&s, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(vd_context_is_fatal(ctx));
   UNIT_CHECK(reason_has(ctx, "vkCreateInstance", "VkApplicationInfo.pApplicationName"));
   UNIT_CHECK(reason_has(ctx, "without its NUL", NULL));
   vd_context_destroy(ctx);
}

UNIT_TEST(unknown_stype_in_chain_is_fatal)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   put_ring_create_info(&s, 7, true, 12345);
   UNIT_CHECK(!vd_context_submit_cmd(ctx, s.buf, s.len));
   UNIT_CHECK(reason_has(ctx, "VkRingCreateInfoMESA.pNext", "unknown or unexpected sType 12345"));
   vd_context_destroy(ctx);
}

UNIT_TEST(struct_of_another_chain_is_rejected)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   /* VkDeviceQueueTimelineInfoMESA belongs to VkDeviceQueueInfo2, not to ring creation. */
   put_ring_create_info(&s, 7, true, VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA);
   UNIT_CHECK(!vd_context_submit_cmd(ctx, s.buf, s.len));
   UNIT_CHECK(reason_has(ctx, "VkRingCreateInfoMESA.pNext", "unexpected sType"));
   vd_context_destroy(ctx);
}

UNIT_TEST(unknown_command_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, 9999);
   put32(&s, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "unknown command type 9999", NULL));
   vd_context_destroy(ctx);
}

UNIT_TEST(command_not_served_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkMapMemory);
   put32(&s, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "vkMapMemory", "not served"));
   vd_context_destroy(ctx);
}

static void noop_destroy(struct vd_object *o)
{
   free(o);
}

UNIT_TEST(handle_of_wrong_type_is_fatal)
{
   struct vd_context *ctx = new_context();
   struct vd_object *o = calloc(1, sizeof(*o));
   o->id = 5;
   o->type = VK_OBJECT_TYPE_DEVICE;
   o->destroy = noop_destroy;
   atomic_init(&o->refs, 1);
   UNIT_CHECK(vd_objtable_insert(ctx->objects, o));
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkEnumeratePhysicalDevices);
   put32(&s, 1);
   put64(&s, 5); /* a VkDevice where a VkInstance is required */
   put64(&s, 1);
   put32(&s, 0);
   put64(&s, 0);
   vd_context_submit_cmd(ctx, s.buf, s.len);
   UNIT_CHECK(reason_has(ctx, "vkEnumeratePhysicalDevices", "is a VkDevice"));
   UNIT_CHECK(reason_has(ctx, "not a VkInstance", NULL));
   vd_context_destroy(ctx);
}

/* The names come from vk.xml through the generator (vn_object_type_name), for every handle
 * type of the protocol, not only the few dispatch.c once listed by hand. */
UNIT_TEST(handle_of_wrong_type_names_both_types)
{
   struct vd_context *ctx = new_context();
   struct vd_object *o = calloc(1, sizeof(*o));
   o->id = 7;
   o->type = VK_OBJECT_TYPE_SAMPLER;
   o->destroy = noop_destroy;
   atomic_init(&o->refs, 1);
   UNIT_CHECK(vd_objtable_insert(ctx->objects, o));
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkEnumeratePhysicalDevices);
   put32(&s, 1);
   put64(&s, 7); /* a VkSampler where a VkInstance is required */
   put64(&s, 1);
   put32(&s, 0);
   put64(&s, 0);
   vd_context_submit_cmd(ctx, s.buf, s.len);
   UNIT_CHECK(reason_has(ctx, "is a VkSampler (type 21)", "not a VkInstance (type 1)"));
   UNIT_CHECK(strcmp(vn_object_type_name(VK_OBJECT_TYPE_PRIVATE_DATA_SLOT), "VkPrivateDataSlot") ==
              0);
   UNIT_CHECK(strcmp(vn_object_type_name(0x7fff0001u), "object") == 0);
   vd_context_destroy(ctx);
}

UNIT_TEST(handle_id_zero_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkDestroyInstance);
   put32(&s, 0);
   put64(&s, 0);
   put64(&s, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "vkDestroyInstance", "object id 0"));
   vd_context_destroy(ctx);
}

UNIT_TEST(unknown_handle_id_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkDestroyInstance);
   put32(&s, 0);
   put64(&s, 77);
   put64(&s, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "vkDestroyInstance", "unknown object id 77"));
   vd_context_destroy(ctx);
}

UNIT_TEST(allocator_must_be_null)
{
   struct vd_context *ctx = new_context();
   struct vd_object *o = calloc(1, sizeof(*o));
   o->id = 5;
   o->type = VK_OBJECT_TYPE_INSTANCE;
   o->destroy = noop_destroy;
   atomic_init(&o->refs, 1);
   UNIT_CHECK(vd_objtable_insert(ctx->objects, o));
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkDestroyInstance);
   put32(&s, 0);
   put64(&s, 5);
   put64(&s, 1); /* a pAllocator */
   vd_context_submit_cmd(ctx, s.buf, s.len);
   UNIT_CHECK(reason_has(ctx, "vkDestroyInstance.pAllocator", "must be NULL"));
   vd_context_destroy(ctx);
}

UNIT_TEST(reply_without_reply_stream_is_fatal)
{
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkEnumerateInstanceExtensionProperties);
   put32(&s, VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   put64(&s, 0); /* pLayerName */
   put64(&s, 1); /* pPropertyCount */
   put32(&s, 0);
   put64(&s, 0); /* pProperties */
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "no reply stream", NULL));
   vd_context_destroy(ctx);
}

UNIT_TEST(reply_is_written_into_the_reply_stream)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   put32(&s, VN_CMD_vkSetReplyCommandStreamMESA);
   put32(&s, 0);
   put64(&s, 1);
   put32(&s, 7);
   put64(&s, 256);
   put64(&s, 512);
   put32(&s, VN_CMD_vkEnumerateInstanceExtensionProperties);
   put32(&s, VK_COMMAND_GENERATE_REPLY_BIT_EXT);
   put64(&s, 0);
   put64(&s, 1);
   put32(&s, 0);
   put64(&s, 0);
   UNIT_CHECK(vd_context_submit_cmd(ctx, s.buf, s.len));
   struct vd_resource *res = vd_context_get_resource(ctx, 7);
   UNIT_CHECK(res != NULL);
   if (res) {
      uint32_t reply[4];
      memcpy(reply, res->ptr + 256, sizeof(reply));
      UNIT_CHECK_EQ(reply[0], (uint32_t)VN_CMD_vkEnumerateInstanceExtensionProperties);
      UNIT_CHECK_EQ(reply[1], (uint32_t)VK_SUCCESS);
      UNIT_CHECK_EQ(reply[2], 1u); /* pPropertyCount present */
      UNIT_CHECK_EQ(reply[4 - 1], 0u);
      uint32_t count;
      memcpy(&count, res->ptr + 256 + 16, 4);
      UNIT_CHECK_EQ(count, 2u); /* the two Venus extensions */
      vd_resource_unref(res);
   }
   vd_context_destroy(ctx);
}

UNIT_TEST(ring_layout_outside_resource_is_fatal)
{
   struct vd_context *ctx = new_context();
   add_shmem(ctx);
   struct stream s = { .len = 0 };
   put_ring_create_info(&s, 7, false, 0);
   /* bufferSize (8 bytes before extraOffset/extraSize) := 1 MiB */
   uint64_t big = 1u << 20;
   memcpy(s.buf + s.len - 24, &big, 8);
   UNIT_CHECK(!vd_context_submit_cmd(ctx, s.buf, s.len));
   UNIT_CHECK(reason_has(ctx, "vkCreateRingMESA", "buffer region"));
   vd_context_destroy(ctx);
}

UNIT_TEST(ring_on_missing_resource_is_fatal)
{
   struct stream s = { .len = 0 };
   put_ring_create_info(&s, 99, false, 0);
   struct vd_context *ctx = run(&s);
   UNIT_CHECK(reason_has(ctx, "ring resource 99", "does not exist"));
   vd_context_destroy(ctx);
}

/* An output array has only its size on the wire (Mesa encodes vkGetPipelineCacheData.pData
 * as "4096 bytes wanted", no contents); the decoder must not ask for the contents, and the
 * memory it hands the driver is zeroed (the arena's promise) so unwritten bytes carry no old
 * host memory. */
UNIT_TEST(output_blob_has_only_its_size_on_the_wire_and_is_zeroed)
{
   struct vd_arena arena;
   vd_arena_init(&arena, 1u << 20);
   /* Dirty the arena first, as earlier commands would. */
   memset(vd_arena_alloc(&arena, 8192), 0xab, 8192);
   vd_arena_reset(&arena);
   struct stream s = { .len = 0 };
   put64(&s, 1);    /* device */
   put64(&s, 2);    /* pipelineCache */
   put64(&s, 1);    /* pDataSize present */
   put64(&s, 4096); /* *pDataSize */
   put64(&s, 4096); /* pData: array size only */
   struct vd_decoder dec = { .cur = s.buf, .end = s.buf + s.len, .arena = &arena };
   struct vn_args_vkGetPipelineCacheData args;
   vn_commands[VN_CMD_vkGetPipelineCacheData].decode(&dec, &args);
   UNIT_CHECK(!dec.failed);
   UNIT_CHECK(dec.cur == dec.end);
   UNIT_CHECK(args.pDataSize && *args.pDataSize == 4096);
   UNIT_CHECK(args.pData != NULL);
   bool zero = true;
   for (size_t i = 0; args.pData && i < 4096; i++)
      zero &= ((const uint8_t *)args.pData)[i] == 0;
   UNIT_CHECK(zero);
   vd_arena_fini(&arena);
}

/* vkGetPhysicalDeviceFeatures2 whose output chain holds VkPhysicalDeviceVulkan14Features (a
 * partial struct: sType and pNext only), decoded for a context that negotiated Mesa 25.0.7's
 * protocol (refused, naming the struct and both versions) and for the newest (decoded). */
static bool decode_features2_with_14(bool mesa25_only, char *error, size_t n)
{
   struct vd_arena arena;
   vd_arena_init(&arena, 1u << 20);
   struct stream s = { .len = 0 };
   put64(&s, 1); /* physicalDevice */
   put64(&s, 1); /* pFeatures present */
   put32(&s, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
   put64(&s, 1); /* pNext present */
   put32(&s, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_FEATURES);
   put64(&s, 0); /* end of chain */
   struct vd_decoder dec = {
      .cur = s.buf, .end = s.buf + s.len, .arena = &arena, .mesa25_only = mesa25_only
   };
   struct vn_args_vkGetPhysicalDeviceFeatures2 args;
   vn_commands[VN_CMD_vkGetPhysicalDeviceFeatures2].decode(&dec, &args);
   snprintf(error, n, "%s", dec.failed ? dec.error : "");
   const bool ok = !dec.failed && dec.cur == dec.end;
   vd_arena_fini(&arena);
   return ok;
}

UNIT_TEST(newer_pnext_struct_is_refused_below_its_protocol)
{
   char error[320];
   UNIT_CHECK(decode_features2_with_14(false, error, sizeof(error)));
   UNIT_CHECK(!decode_features2_with_14(true, error, sizeof(error)));
   printf("    %s\n", error);
   UNIT_CHECK(strstr(error, "VkPhysicalDeviceVulkan14Features") && strstr(error, "1.3.269") &&
              strstr(error, "1.4.343"));
}

UNIT_MAIN()
