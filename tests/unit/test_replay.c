/* Real command streams recorded from Mesa 25.0.7 and 26.2.6 (venusd --record) decode
 * cleanly offline, and contain the commands the recorded programs are known to send.  Regenerate the data
 * with: venusd vtest --record DIR, then run the client (see tests/unit/data/README). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context/context_priv.h"
#include "context/replay.h"
#include "unit.h"

/* Replays `name` and returns its printed listing (caller frees), or NULL on failure. */
static char *replay(const char *name, int *ret)
{
   char path[512];
   snprintf(path, sizeof(path), "%s/%s", VD_TEST_DATA_DIR, name);
   char *text = NULL;
   size_t len = 0;
   FILE *out = open_memstream(&text, &len);
   *ret = vd_replay_file(path, out);
   fclose(out);
   return text;
}

static void check_stream(const char *name, const char *const *expected, unsigned n_expected)
{
   int ret = -1;
   char *text = replay(name, &ret);
   UNIT_CHECK_EQ(ret, 0);
   UNIT_CHECK(text != NULL && strstr(text, "error") == NULL);
   for (unsigned i = 0; text && i < n_expected; i++) {
      if (!strstr(text, expected[i]))
         fprintf(stderr, "%s: missing %s\n", name, expected[i]);
      UNIT_CHECK(strstr(text, expected[i]) != NULL);
   }
   free(text);
}

UNIT_TEST(mesa_vulkaninfo_streams_decode)
{
   static const char *const ring[] = {
      "vkCreateInstance [reply]",
      "vkEnumeratePhysicalDevices [reply]",
      "vkGetPhysicalDeviceProperties2 [reply]",
      "vkGetPhysicalDeviceFeatures2 [reply]",
      "vkEnumerateDeviceExtensionProperties [reply]",
      "vkSetReplyCommandStreamMESA",
   };
   static const char *const vq[] = { "vkCreateRingMESA", "vkDestroyRingMESA" };
   check_stream("mesa-vulkaninfo-ring.vnr", ring, 6);
   check_stream("mesa-vulkaninfo-virtqueue.vnr", vq, 2);
}

UNIT_TEST(mesa_fill_buffer_streams_decode)
{
   static const char *const ring[] = {
      "vkCreateDevice",           "vkGetDeviceQueue2", "vkAllocateMemory", "vkCreateCommandPool",
      "vkAllocateCommandBuffers", "vkCmdFillBuffer",   "vkQueueSubmit",    "vkDestroyDevice",
   };
   static const char *const vq[] = { "vkCreateRingMESA", "vkWaitRingSeqnoMESA" };
   check_stream("mesa-fill-ring.vnr", ring, 8);
   check_stream("mesa-fill-virtqueue.vnr", vq, 2);
}

/* Mesa 26.2.6 (sid) under the newest protocol: its feature and property queries chain the
 * structs of vk.xml 1.4 and the newer extensions (sType 1000252000, 1000451001, ...), which
 * Mesa 25.0.7's decoders refused ("not in the Venus protocol"). */
UNIT_TEST(mesa26_streams_decode)
{
   static const char *const info[] = {
      "vkCreateInstance [reply]",
      "vkGetPhysicalDeviceFeatures2 [reply]",
      "vkGetPhysicalDeviceProperties2 [reply]",
      "vkEnumerateDeviceExtensionProperties [reply]",
   };
   static const char *const fill[] = { "vkCreateDevice", "vkAllocateMemory", "vkCmdFillBuffer",
                                       "vkQueueSubmit", "vkDestroyDevice" };
   static const char *const vq[] = { "vkCreateRingMESA" };
   check_stream("mesa26-vulkaninfo-ring.vnr", info, 4);
   check_stream("mesa26-vulkaninfo-virtqueue.vnr", vq, 1);
   check_stream("mesa26-fill-ring.vnr", fill, 5);
   check_stream("mesa26-fill-virtqueue.vnr", vq, 1);
}

/* Mesa 26.2.6 building acceleration structures (tests/apps/vk_ray_query): the pointer-to-pointer
 * arrays (ppGeometries, ppBuildRangeInfos) and the address unions decode. */
UNIT_TEST(mesa26_ray_query_stream_decodes)
{
   static const char *const cmds[] = {
      "vkGetAccelerationStructureBuildSizesKHR [reply]",
      "vkCreateAccelerationStructureKHR",
      "vkGetAccelerationStructureDeviceAddressKHR [reply]",
      "vkCmdBuildAccelerationStructuresKHR (224 bytes)",
      "vkCmdWriteAccelerationStructuresPropertiesKHR",
      "vkCmdBuildAccelerationStructuresKHR (192 bytes)",
      "vkDestroyAccelerationStructureKHR",
   };
   check_stream("mesa26-ray-query-ring.vnr", cmds, 7);
}

/* ... and a ray tracing pipeline (tests/apps/vk_ray_pipeline): its groups, handles and a trace. */
UNIT_TEST(mesa26_ray_pipeline_stream_decodes)
{
   static const char *const cmds[] = {
      "vkCreateRayTracingPipelinesKHR",
      "vkGetRayTracingShaderGroupHandlesKHR [reply]",
      "vkCmdTraceRaysKHR",
      "vkCmdBuildAccelerationStructuresKHR",
   };
   check_stream("mesa26-ray-pipeline-ring.vnr", cmds, 4);
}

/* Mesa 26.2.6 drawing with task and mesh shaders (tests/apps/vk_mesh, VK_EXT_mesh_shader:
 * command types 332-334, in the newest protocol only). */
UNIT_TEST(mesa26_mesh_stream_decodes)
{
   static const char *const cmds[] = {
      "vkCreateGraphicsPipelines",
      "vkCmdDrawMeshTasksEXT (28 bytes)",
      "vkCmdDrawMeshTasksIndirectEXT (40 bytes)",
      "vkCmdDrawMeshTasksIndirectCountEXT (56 bytes)",
      "vkQueueSubmit",
   };
   check_stream("mesa26-mesh-ring.vnr", cmds, 5);
}

/* The venus_protocol spec-3 host image copies, encoded by hand (tests/unit/data/README). */
UNIT_TEST(spec3_host_copies_decode)
{
   static const char *const cmds[] = { "vkCopyMemoryToImageMESA [reply] (204 bytes)",
                                       "vkCopyImageToMemoryMESA [reply] (116 bytes)" };
   check_stream("spec3-host-copy-ring.vnr", cmds, 2);
}

UNIT_TEST(truncated_recording_is_reported)
{
   char path[512];
   snprintf(path, sizeof(path), "%s/%s", VD_TEST_DATA_DIR, "mesa-fill-ring.vnr");
   FILE *f = fopen(path, "rb");
   UNIT_CHECK(f != NULL);
   if (!f)
      return;
   uint8_t buf[4096 + 512];
   size_t n = fread(buf, 1, sizeof(buf), f);
   fclose(f);
   /* Keep the first chunk but cut its command stream in half. */
   uint32_t size;
   memcpy(&size, buf, 4);
   UNIT_CHECK(size + 4 <= n);
   uint32_t half = size / 2 & ~3u;
   memcpy(buf, &half, 4);
   char tmp[] = "/tmp/venusd-replay-XXXXXX";
   int fd = mkstemp(tmp);
   UNIT_CHECK(fd >= 0);
   FILE *w = fdopen(fd, "wb");
   fwrite(buf, 1, 4 + half, w);
   fclose(w);
   char *text = NULL;
   size_t len = 0;
   FILE *out = open_memstream(&text, &len);
   int ret = vd_replay_file(tmp, out);
   fclose(out);
   unlink(tmp);
   UNIT_CHECK(ret != 0);
   UNIT_CHECK(text && strstr(text, "truncated"));
   free(text);
}

UNIT_MAIN()
