/* `venusd doctor` (doctor.h): the order of the checks, the protocol served, and the advice
 * about the guest's VN_PERF=no_fence_feedback.  The checks themselves are in doctor_icd.c
 * (loader, manifests), doctor_vulkan.c (instance, devices, memory) and doctor_sockets.c
 * (vtest socket, render-server self-test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "context/protocol.h"
#include "transport/capset.h"
#include "vn_protocol.h"

/* Venus protocol levels seen in the wild, to say which releases speak the one served
 * (docs/protocol.md §2; issue 10).  0 in spec: not known, not compared. */
static const struct {
   uint32_t xml; /* VK_MAKE_API_VERSION(0, ...) */
   unsigned spec, extensions;
   const char *who;
} protocol_levels[] = {
   { VK_MAKE_API_VERSION(0, 1, 3, 269), 2, 118, "Mesa 25.0.x and virglrenderer 1.1.0" },
   { VK_MAKE_API_VERSION(0, 1, 4, 307), 3, 178, "virglrenderer 1.2.0" },
   { VK_MAKE_API_VERSION(0, 1, 4, 334), 0, 185, "virglrenderer 1.3.0" },
   { VK_MAKE_API_VERSION(0, 1, 4, 343), 4, 187, "Mesa 26.1/26.2 and virglrenderer main" },
};

/* One protocol level as the capset offers it (transport/capset.c). */
static void check_protocol_level(struct vd_doctor *d, uint32_t level, const char *offered_by)
{
   uint32_t caps[VD_VENUS_CAPSET_DWORDS];
   vd_venus_capset_fill(caps, level);
   const uint32_t xml = caps[VD_CAPSET_VK_XML_VERSION];
   const unsigned spec = caps[VD_CAPSET_VK_MESA_VENUS_PROTOCOL_SPEC_VERSION];
   unsigned exts = 0;
   for (unsigned i = 0; i < VD_CAPSET_VK_EXTENSION_MASK1_DWORDS; i++)
      exts += (unsigned)__builtin_popcount(caps[VD_CAPSET_VK_EXTENSION_MASK1 + i]);
   exts -= caps[VD_CAPSET_VK_EXTENSION_MASK1] & 1u; /* bit 0: "the mask is valid" */
   const char *who = "no Mesa or virglrenderer release known to venusd";
   for (size_t i = 0; i < sizeof(protocol_levels) / sizeof(protocol_levels[0]); i++)
      if (protocol_levels[i].xml == xml && protocol_levels[i].extensions == exts &&
          (!protocol_levels[i].spec || protocol_levels[i].spec == spec))
         who = protocol_levels[i].who;
   if (level == VD_PROTOCOL_NEWEST && xml == VK_MAKE_API_VERSION(0, 1, 4, 343))
      who = "Mesa 26.1/26.2's vk.xml (their spec 4 and the extensions venusd does not serve "
            "negotiate down)";
   char version[32];
   snprintf(version, sizeof(version), "%u.%u.%u", VK_API_VERSION_MAJOR(xml),
            VK_API_VERSION_MINOR(xml), VK_API_VERSION_PATCH(xml));
   struct vd_doctor_check *c = vd_doctor_add(
      d, "protocol", VD_DOCTOR_INFO, NULL,
      "Venus protocol offered %s: vk.xml %s, %u extensions, VK_MESA_venus_protocol spec %u, "
      "wire format %u (vtest protocol 3): that of %s; a newer guest negotiates down to it",
      offered_by, version, exts, spec, caps[VD_CAPSET_WIRE_FORMAT_VERSION], who);
   vd_doctor_field_str(c, "level", level == VD_PROTOCOL_NEWEST ? "newest" : "mesa25");
   vd_doctor_field_str(c, "vk_xml_version", version);
   vd_doctor_field_int(c, "extensions", exts);
   vd_doctor_field_int(c, "table_extensions", VN_PROTOCOL_EXTENSION_COUNT);
   vd_doctor_field_int(c, "venus_protocol_spec", spec);
   vd_doctor_field_int(c, "wire_format", caps[VD_CAPSET_WIRE_FORMAT_VERSION]);
   vd_doctor_field_str(c, "matches", who);
}

static void check_protocol(struct vd_doctor *d)
{
   vd_doctor_section(d, "protocol");
   check_protocol_level(d, VD_PROTOCOL_NEWEST, "by vtest (--venus-protocol newest)");
   check_protocol_level(d, VD_PROTOCOL_MESA25,
                        "by the render server by default (--venus-protocol mesa25)");
   vd_doctor_add(d, "protocol-vmm", VD_DOCTOR_INFO, NULL,
                 "behind a VMM (render-server) the guest's capset comes from the VMM's "
                 "libvirglrenderer, not from venusd: with libvirglrenderer 1.1.0 (Mesa 25.0.7's "
                 "protocol) keep the default; with a newer one, --venus-protocol newest");
}

/* The guest-side switch that matters most for latency (bench/README.md has the runs). */
static void advise_fence_feedback(struct vd_doctor *d)
{
   vd_doctor_section(d, "advice");
   struct vd_doctor_check *c = vd_doctor_add(
      d, "vn-perf-no-fence-feedback", VD_DOCTOR_INFO, NULL,
      "guest setting VN_PERF=no_fence_feedback: by default Mesa's Venus driver polls a fence "
      "feedback slot in shared memory that the host GPU writes; its first polls (yields) are "
      "over long before a short GPU job is, and then it sleeps at least 160 us between polls.  "
      "With this setting each poll asks venusd for the fence's status (vkGetFenceStatus, a "
      "round trip of about 1.4 us on an NVIDIA H200), so the polls before the sleeps last long "
      "enough to see the job finish.  Measured (bench/README.md, bench/results/): on the H200, "
      "submit + wait of an empty batch 226.5 us by default, 11.9 us with it (native 31.4 us); "
      "llama.cpp token generation 0.40x native by default, 0.76x with it (prompt processing "
      "0.34x, 0.35x); on lavapipe a present loop 0.47x, 0.68x.  Use it for work that waits on the "
      "CPU "
      "for short GPU jobs: LLM token generation, compute loops, frame pacing.  Its cost: every "
      "fence status check is a round trip instead of a memory read, so an application that "
      "polls fences in a tight loop keeps venusd busier.  Set it in the guest application's "
      "environment: VN_PERF=no_fence_feedback.  It is for Mesa 25 guests: Mesa 26's Venus "
      "driver waits for fences through renderer syncs whatever the setting (H200: submit + "
      "wait 35 us, native 34 us; llama.cpp token generation 0.87-0.91x native without "
      "host-visible VRAM, which a Venus guest does not get)");
   vd_doctor_field_str(c, "setting", "VN_PERF=no_fence_feedback");
   vd_doctor_field_str(c, "h200_submit_fence_us", "226.5 default, 11.9 with it, 31.4 native");
   vd_doctor_field_str(c, "h200_llama_tg_ratio", "0.40 default, 0.76 with it");
   vd_doctor_field_str(c, "lavapipe_present_ratio", "0.47 default, 0.68 with it");
}

int vd_doctor_run(const struct vd_doctor_config *cfg)
{
   struct vd_doctor *d = vd_doctor_create(cfg->json);
   if (!d) {
      fprintf(stderr, "venusd doctor: out of memory\n");
      return 1;
   }
   if (!cfg->json)
      printf("venusd doctor: what venusd needs on this host, check by check\n");
   check_protocol(d);
   const bool loader = vd_doctor_check_loader(d);
   vd_doctor_check_icds(d);
   if (loader)
      vd_doctor_check_vulkan(d, cfg);
   vd_doctor_check_socket(d, cfg->socket_path);
   vd_doctor_check_render_server(d, cfg);
   advise_fence_feedback(d);
   vd_doctor_finish(d);
   const int rc = vd_doctor_failures(d) ? 1 : 0;
   vd_doctor_destroy(d);
   return rc;
}
