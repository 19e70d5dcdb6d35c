/* vk_present: presents known frames to an X11 window through VK_KHR_xlib_surface and
 * VK_KHR_swapchain (tests/integration/test_present.sh runs it natively on lavapipe and
 * through venusd, on Xvfb with MESA_VK_WSI_DEBUG=sw).
 *
 *   vk_present [--frames N] [--width W] [--height H] [--hold-ms MS]
 *              [--present-mode fifo|immediate|mailbox] [--bench SECONDS]
 *
 * Frame i is a clear to a colour that depends on i, a triangle (tri.vert/tri.frag) whose
 * viewport moves with i, and three rectangles cleared with vkCmdClearAttachments whose
 * places and colours depend on i: only clears and one flat draw, so the pixels are the same
 * bit for bit natively and through Venus.  Each frame is also copied to a buffer before it
 * is presented; the program checks five pixels whose colour is certain and prints
 * "frame I fnv=HEX ok" (exit 1 on a wrong pixel).  After the last present it waits idle,
 * prints
 * "probe X Y RRGGBB" for the certain pixels of the last frame (what x11_grab must read
 * from the window), and with --hold-ms keeps the window mapped and the swapchain alive
 * ("holding window 0xID") until x11_grab --close or the timeout.
 *
 * --bench SECONDS: renders and presents (no readback, two frames in flight) for that long
 * and prints "bench frames=N seconds=S fps=F".  The default present mode there is
 * immediate, else mailbox, else fifo.
 *
 * Exit status: 0; 1 on any Vulkan or X error or wrong pixel; 77 when the instance or device
 * lacks the surface or swapchain extensions (with a SKIP line saying which). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x11_window.h"
/* After Xlib: vulkan_xlib.h needs Display/Window/VisualID. */
#define VK_USE_PLATFORM_XLIB_KHR
#include <vulkan/vulkan.h>

#include "tri_frag_spv.h"
#include "tri_vert_spv.h"

#include "smoke.h" /* CK() */
#define IN_FLIGHT 2
#define MAX_IMAGES 8
#define NPROBES 5

struct rgb {
   uint8_t r, g, b;
};

static unsigned W = 256, H = 192;

/* ---- the known content of frame i ------------------------------------------------- */

static struct rgb bg_colour(unsigned i)
{
   return (struct rgb){ (uint8_t)(i * 37 + 20), 64, (uint8_t)(255 - i * 23) };
}

static struct rgb rect_colour(unsigned i, unsigned k)
{
   return (struct rgb){ (uint8_t)((i + 1) * 50 + k * 80), (uint8_t)(k * 100 + i * 7 + 30),
                        (uint8_t)(200 - k * 60 + i) };
}

/* Rectangle k of frame i, all in the top half (the triangle stays in the bottom half). */
static VkRect2D rect_of(unsigned i, unsigned k)
{
   unsigned step = W / 16 ? W / 16 : 1;
   return (VkRect2D){ { (int32_t)(W / 16 + k * W / 4 + (i * 3) % step), (int32_t)(H / 8) },
                      { W / 6, H / 4 } };
}

static VkViewport tri_viewport(unsigned i)
{
   return (
      VkViewport){ (float)((i % 4) * W / 8), (float)(H / 2), (float)(W / 2), (float)(H / 2), 0, 1 };
}

/* The pixels whose colour is certain: the centre of each rectangle, and two background
 * corners that neither the rectangles nor the triangle reach. */
static void probes_of(unsigned i, unsigned xy[NPROBES][2], struct rgb c[NPROBES])
{
   for (unsigned k = 0; k < 3; k++) {
      VkRect2D r = rect_of(i, k);
      xy[k][0] = (unsigned)r.offset.x + r.extent.width / 2;
      xy[k][1] = (unsigned)r.offset.y + r.extent.height / 2;
      c[k] = rect_colour(i, k);
   }
   xy[3][0] = W - 3, xy[3][1] = 2, c[3] = bg_colour(i);
   xy[4][0] = 2, xy[4][1] = H / 2 - 3, c[4] = bg_colour(i);
}

static VkClearColorValue clear_value(struct rgb c)
{
   VkClearColorValue v = { .float32 = { c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f } };
   return v;
}

/* ---- Vulkan ---------------------------------------------------------------------- */

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
   for (uint32_t i = 0; i < n; i++)
      if (!strcmp(e[i].extensionName, name))
         return 1;
   return 0;
}

static VkShaderModule shader(VkDevice dev, const uint32_t *code, size_t size)
{
   VkShaderModuleCreateInfo ci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
                                   .pCode = code };
   VkShaderModule m;
   CK(vkCreateShaderModule(dev, &ci, NULL, &m));
   return m;
}

static VkPipeline make_pipeline(VkDevice dev, VkRenderPass rp, VkPipelineLayout layout)
{
   VkShaderModule vs = shader(dev, tri_vert_spv, sizeof(tri_vert_spv));
   VkShaderModule fs = shader(dev, tri_frag_spv, sizeof(tri_frag_spv));
   VkPipelineShaderStageCreateInfo stages[2] = {
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_VERTEX_BIT,
        .module = vs, .pName = "main" },
      { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
        .module = fs, .pName = "main" },
   };
   VkPipelineVertexInputStateCreateInfo vi = {
      VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO
   };
   VkPipelineInputAssemblyStateCreateInfo ia = {
      VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST
   };
   VkPipelineViewportStateCreateInfo vp = { VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
                                            .viewportCount = 1, .scissorCount = 1 };
   VkPipelineRasterizationStateCreateInfo rs = {
      VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL, .cullMode = VK_CULL_MODE_NONE, .lineWidth = 1.0f
   };
   VkPipelineMultisampleStateCreateInfo ms = {
      VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT
   };
   VkPipelineColorBlendAttachmentState cba = { .colorWriteMask = 0xf };
   VkPipelineColorBlendStateCreateInfo cb = {
      VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO, .attachmentCount = 1,
      .pAttachments = &cba
   };
   VkDynamicState dyn[2] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
   VkPipelineDynamicStateCreateInfo ds = { VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
                                           .dynamicStateCount = 2, .pDynamicStates = dyn };
   VkGraphicsPipelineCreateInfo ci = { VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
                                       .stageCount = 2,
                                       .pStages = stages,
                                       .pVertexInputState = &vi,
                                       .pInputAssemblyState = &ia,
                                       .pViewportState = &vp,
                                       .pRasterizationState = &rs,
                                       .pMultisampleState = &ms,
                                       .pColorBlendState = &cb,
                                       .pDynamicState = &ds,
                                       .layout = layout,
                                       .renderPass = rp };
   VkPipeline p;
   CK(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &ci, NULL, &p));
   vkDestroyShaderModule(dev, vs, NULL);
   vkDestroyShaderModule(dev, fs, NULL);
   return p;
}

static uint32_t memory_type(VkPhysicalDevice pd, uint32_t bits, VkMemoryPropertyFlags flags)
{
   VkPhysicalDeviceMemoryProperties mp;
   vkGetPhysicalDeviceMemoryProperties(pd, &mp);
   for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
      if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & flags) == flags)
         return i;
   printf("FAIL no memory type with flags 0x%x in 0x%x\n", flags, bits);
   exit(1);
}

static void barrier(VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
                    VkAccessFlags src_access, VkAccessFlags dst_access,
                    VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage)
{
   VkImageMemoryBarrier b = { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = src_access,
                              .dstAccessMask = dst_access,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = img,
                              .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
   vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static void usage(void)
{
   fprintf(stderr, "usage: vk_present [--frames N] [--width W] [--height H] [--hold-ms MS]\n"
                   "                  [--present-mode fifo|immediate|mailbox] [--bench SECONDS]\n");
   exit(2);
}

int main(int argc, char **argv)
{
   setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach a log file even if we crash */
   unsigned frames = 8;
   int hold_ms = 0;
   double bench = 0;
   const char *mode_name = NULL;
   for (int a = 1; a < argc; a += 2) { /* each option takes a value */
      const char *v = a + 1 < argc ? argv[a + 1] : NULL;
      if (!v)
         usage();
      if (!strcmp(argv[a], "--frames"))
         frames = (unsigned)atoi(v);
      else if (!strcmp(argv[a], "--width"))
         W = (unsigned)atoi(v);
      else if (!strcmp(argv[a], "--height"))
         H = (unsigned)atoi(v);
      else if (!strcmp(argv[a], "--hold-ms"))
         hold_ms = atoi(v);
      else if (!strcmp(argv[a], "--bench"))
         bench = atof(v);
      else if (!strcmp(argv[a], "--present-mode"))
         mode_name = v;
      else
         usage();
   }
   if (frames < 1 || W < 32 || H < 32 || W > 4096 || H > 4096)
      usage();

   /* Instance with the X11 surface extensions. */
   uint32_t n = 0;
   CK(vkEnumerateInstanceExtensionProperties(NULL, &n, NULL));
   VkExtensionProperties *iext = calloc(n ? n : 1, sizeof(*iext));
   CK(vkEnumerateInstanceExtensionProperties(NULL, &n, iext));
   const char *inst_exts[] = { VK_KHR_SURFACE_EXTENSION_NAME, VK_KHR_XLIB_SURFACE_EXTENSION_NAME };
   for (unsigned e = 0; e < 2; e++)
      if (!has_ext(iext, n, inst_exts[e])) {
         printf("SKIP the instance has no %s\n", inst_exts[e]);
         return 77;
      }
   free(iext);
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "vk_present",
                             .apiVersion = VK_API_VERSION_1_1 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                                .enabledExtensionCount = 2, .ppEnabledExtensionNames = inst_exts };
   VkInstance inst;
   CK(smoke_create_instance(&ici, &inst));
   VkPhysicalDevice pd;
   n = 1;
   VkResult r = vkEnumeratePhysicalDevices(inst, &n, &pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      return 1;
   }
   VkPhysicalDeviceProperties props;
   vkGetPhysicalDeviceProperties(pd, &props);
   printf("device %s, Vulkan %u.%u\n", props.deviceName, VK_API_VERSION_MAJOR(props.apiVersion),
          VK_API_VERSION_MINOR(props.apiVersion));
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL));
   VkExtensionProperties *dext = calloc(n ? n : 1, sizeof(*dext));
   CK(vkEnumerateDeviceExtensionProperties(pd, NULL, &n, dext));
   if (!has_ext(dext, n, VK_KHR_SWAPCHAIN_EXTENSION_NAME)) {
      printf("SKIP the device has no VK_KHR_swapchain (guest has no VK_KHR_swapchain)\n");
      return 77;
   }
   free(dext);

   struct xwin x = { 0 };
   if (xwin_open(&x, "vk_present", W, H, NULL, 0))
      return 1;

   VkXlibSurfaceCreateInfoKHR sci = { VK_STRUCTURE_TYPE_XLIB_SURFACE_CREATE_INFO_KHR, .dpy = x.dpy,
                                      .window = x.win };
   VkSurfaceKHR surf;
   CK(vkCreateXlibSurfaceKHR(inst, &sci, NULL, &surf));

   /* A queue family that draws and presents. */
   vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
   VkQueueFamilyProperties qf[16];
   if (n > 16)
      n = 16;
   vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
   uint32_t family = UINT32_MAX;
   for (uint32_t i = 0; i < n && family == UINT32_MAX; i++) {
      VkBool32 ok = VK_FALSE;
      CK(vkGetPhysicalDeviceSurfaceSupportKHR(pd, i, surf, &ok));
      if (ok && (qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
         family = i;
   }
   if (family == UINT32_MAX) {
      printf("FAIL no queue family draws and presents to the window\n");
      return 1;
   }
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = family, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   const char *dev_exts[] = { VK_KHR_SWAPCHAIN_EXTENSION_NAME };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = dev_exts };
   VkDevice dev;
   CK(smoke_create_device(pd, &dci, &dev));
   VkQueue q;
   vkGetDeviceQueue(dev, family, 0, &q);

   /* Surface: B8G8R8A8_UNORM or R8G8B8A8_UNORM (clears are exact in UNORM). */
   VkSurfaceCapabilitiesKHR caps;
   CK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(pd, surf, &caps));
   VkSurfaceFormatKHR fmts[64];
   n = 64;
   r = vkGetPhysicalDeviceSurfaceFormatsKHR(pd, surf, &n, fmts);
   if (r < 0 || !n) {
      printf("FAIL vkGetPhysicalDeviceSurfaceFormatsKHR = %d (%u formats)\n", r, n);
      return 1;
   }
   VkSurfaceFormatKHR fmt = { VK_FORMAT_UNDEFINED, 0 };
   for (uint32_t i = 0; i < n; i++)
      if (fmts[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
          fmts[i].format == VK_FORMAT_R8G8B8A8_UNORM) {
         fmt = fmts[i];
         break;
      }
   if (fmt.format == VK_FORMAT_UNDEFINED) {
      printf("FAIL the surface offers no B8G8R8A8_UNORM or R8G8B8A8_UNORM format (first: %d)\n",
             fmts[0].format);
      return 1;
   }
   int bgra = fmt.format == VK_FORMAT_B8G8R8A8_UNORM;
   VkPresentModeKHR modes[16];
   n = 16;
   r = vkGetPhysicalDeviceSurfacePresentModesKHR(pd, surf, &n, modes);
   if (r < 0) {
      printf("FAIL vkGetPhysicalDeviceSurfacePresentModesKHR = %d\n", r);
      return 1;
   }
   VkPresentModeKHR want[3] = { VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_FIFO_KHR,
                                VK_PRESENT_MODE_FIFO_KHR };
   if (mode_name && !strcmp(mode_name, "immediate"))
      want[0] = VK_PRESENT_MODE_IMMEDIATE_KHR;
   else if (mode_name && !strcmp(mode_name, "mailbox"))
      want[0] = VK_PRESENT_MODE_MAILBOX_KHR;
   else if (mode_name && strcmp(mode_name, "fifo"))
      usage();
   else if (!mode_name && bench > 0)
      want[0] = VK_PRESENT_MODE_IMMEDIATE_KHR, want[1] = VK_PRESENT_MODE_MAILBOX_KHR;
   VkPresentModeKHR mode = VK_PRESENT_MODE_FIFO_KHR;
   for (int w = 2; w >= 0; w--)
      for (uint32_t i = 0; i < n; i++)
         if (modes[i] == want[w])
            mode = want[w];
   if (mode_name && mode != want[0]) {
      printf("FAIL present mode %s is not supported\n", mode_name);
      return 1;
   }
   VkExtent2D extent = caps.currentExtent;
   if (extent.width == UINT32_MAX)
      extent = (VkExtent2D){ W, H };
   if (extent.width != W || extent.height != H) {
      printf("FAIL the surface is %ux%u, the window %ux%u\n", extent.width, extent.height, W, H);
      return 1;
   }
   VkImageUsageFlags usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
   if ((caps.supportedUsageFlags & usage) != usage) {
      printf("FAIL the surface's images cannot be colour attachments and copy sources (0x%x)\n",
             caps.supportedUsageFlags);
      return 1;
   }
   uint32_t count = caps.minImageCount + 1;
   if (caps.maxImageCount && count > caps.maxImageCount)
      count = caps.maxImageCount;
   VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
   if (!(caps.supportedCompositeAlpha & alpha))
      alpha = (VkCompositeAlphaFlagBitsKHR)(caps.supportedCompositeAlpha &
                                            -caps.supportedCompositeAlpha);
   VkSwapchainCreateInfoKHR swci = { VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
                                     .surface = surf,
                                     .minImageCount = count,
                                     .imageFormat = fmt.format,
                                     .imageColorSpace = fmt.colorSpace,
                                     .imageExtent = extent,
                                     .imageArrayLayers = 1,
                                     .imageUsage = usage,
                                     .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                     .preTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
                                     .compositeAlpha = alpha,
                                     .presentMode = mode,
                                     .clipped = VK_TRUE };
   if (!(caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR))
      swci.preTransform = caps.currentTransform;
   VkSwapchainKHR sc;
   CK(vkCreateSwapchainKHR(dev, &swci, NULL, &sc));
   uint32_t nimg = MAX_IMAGES;
   VkImage images[MAX_IMAGES];
   r = vkGetSwapchainImagesKHR(dev, sc, &nimg, images);
   if (r != VK_SUCCESS) {
      printf("FAIL vkGetSwapchainImagesKHR = %d (%u images, at most %d handled)\n", r, nimg,
             MAX_IMAGES);
      return 1;
   }

   /* Render pass: clear, draw, clear rectangles; left for a copy, then presented. */
   VkAttachmentDescription att = { .format = fmt.format,
                                   .samples = VK_SAMPLE_COUNT_1_BIT,
                                   .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
                                   .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
                                   .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
                                   .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
                                   .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                                   .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL };
   VkAttachmentReference ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   VkSubpassDescription sub = { .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
                                .colorAttachmentCount = 1,
                                .pColorAttachments = &ref };
   /* The image comes from the acquire semaphore, waited at colour output. */
   VkSubpassDependency dep = { VK_SUBPASS_EXTERNAL,
                               0,
                               VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                               VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                               0,
                               VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
                               0 };
   VkRenderPassCreateInfo rpci = { VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
                                   .attachmentCount = 1,
                                   .pAttachments = &att,
                                   .subpassCount = 1,
                                   .pSubpasses = &sub,
                                   .dependencyCount = 1,
                                   .pDependencies = &dep };
   VkRenderPass rp;
   CK(vkCreateRenderPass(dev, &rpci, NULL, &rp));
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO };
   VkPipelineLayout layout;
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &layout));
   VkPipeline pipe = make_pipeline(dev, rp, layout);

   VkImageView views[MAX_IMAGES];
   VkFramebuffer fbs[MAX_IMAGES];
   VkSemaphore rendered[MAX_IMAGES];
   for (uint32_t i = 0; i < nimg; i++) {
      VkImageViewCreateInfo vci = { VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, .image = images[i],
                                    .viewType = VK_IMAGE_VIEW_TYPE_2D, .format = fmt.format,
                                    .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 } };
      CK(vkCreateImageView(dev, &vci, NULL, &views[i]));
      VkFramebufferCreateInfo fci = { VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
                                      .renderPass = rp,
                                      .attachmentCount = 1,
                                      .pAttachments = &views[i],
                                      .width = W,
                                      .height = H,
                                      .layers = 1 };
      CK(vkCreateFramebuffer(dev, &fci, NULL, &fbs[i]));
      VkSemaphoreCreateInfo sci2 = { VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
      CK(vkCreateSemaphore(dev, &sci2, NULL, &rendered[i]));
   }

   /* Per frame in flight: command buffer, fence, acquire semaphore, readback buffer. */
   VkCommandPoolCreateInfo cpci = { VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = family };
   VkCommandPool pool;
   CK(vkCreateCommandPool(dev, &cpci, NULL, &pool));
   VkCommandBuffer cbs[IN_FLIGHT];
   VkCommandBufferAllocateInfo cbai = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                        .commandPool = pool,
                                        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                        .commandBufferCount = IN_FLIGHT };
   CK(vkAllocateCommandBuffers(dev, &cbai, cbs));
   VkFence fences[IN_FLIGHT];
   VkSemaphore acquired[IN_FLIGHT];
   VkBuffer bufs[IN_FLIGHT];
   VkDeviceMemory mems[IN_FLIGHT];
   uint8_t *maps[IN_FLIGHT];
   VkDeviceSize size = (VkDeviceSize)W * H * 4;
   for (int s = 0; s < IN_FLIGHT; s++) {
      VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
                                .flags = VK_FENCE_CREATE_SIGNALED_BIT };
      CK(vkCreateFence(dev, &fci, NULL, &fences[s]));
      VkSemaphoreCreateInfo sci2 = { VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
      CK(vkCreateSemaphore(dev, &sci2, NULL, &acquired[s]));
      VkBufferCreateInfo bci = { VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT };
      CK(vkCreateBuffer(dev, &bci, NULL, &bufs[s]));
      VkMemoryRequirements mr;
      vkGetBufferMemoryRequirements(dev, bufs[s], &mr);
      VkMemoryAllocateInfo mai = {
         VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
         .memoryTypeIndex =
            memory_type(pd, mr.memoryTypeBits,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
      };
      CK(vkAllocateMemory(dev, &mai, NULL, &mems[s]));
      CK(vkBindBufferMemory(dev, bufs[s], mems[s], 0));
      void *p;
      CK(vkMapMemory(dev, mems[s], 0, VK_WHOLE_SIZE, 0, &p));
      maps[s] = p;
   }

   int check = bench <= 0;
   double t0 = xwin_now(), t_end = t0 + bench;
   unsigned done = 0;
   for (unsigned i = 0; check ? i < frames : xwin_now() < t_end; i++) {
      int s = (int)(i % IN_FLIGHT);
      CK(vkWaitForFences(dev, 1, &fences[s], VK_TRUE, UINT64_MAX));
      uint32_t idx;
      r = vkAcquireNextImageKHR(dev, sc, UINT64_MAX, acquired[s], VK_NULL_HANDLE, &idx);
      if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) {
         printf("FAIL vkAcquireNextImageKHR = %d at frame %u\n", r, i);
         return 1;
      }
      CK(vkResetFences(dev, 1, &fences[s]));
      VkCommandBuffer cb = cbs[s];
      CK(vkResetCommandBuffer(cb, 0));
      VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
      CK(vkBeginCommandBuffer(cb, &bi));
      VkClearValue clear = { .color = clear_value(bg_colour(i)) };
      VkRenderPassBeginInfo rbi = {
         VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO, .renderPass = rp,     .framebuffer = fbs[idx],
         .renderArea = { { 0, 0 }, { W, H } },     .clearValueCount = 1, .pClearValues = &clear
      };
      vkCmdBeginRenderPass(cb, &rbi, VK_SUBPASS_CONTENTS_INLINE);
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, pipe);
      VkViewport vp = tri_viewport(i);
      VkRect2D scissor = { { 0, 0 }, { W, H } };
      vkCmdSetViewport(cb, 0, 1, &vp);
      vkCmdSetScissor(cb, 0, 1, &scissor);
      vkCmdDraw(cb, 3, 1, 0, 0);
      for (unsigned k = 0; k < 3; k++) {
         VkClearAttachment ca = { VK_IMAGE_ASPECT_COLOR_BIT,
                                  0,
                                  { .color = clear_value(rect_colour(i, k)) } };
         VkClearRect cr = { rect_of(i, k), 0, 1 };
         vkCmdClearAttachments(cb, 1, &ca, 1, &cr);
      }
      vkCmdEndRenderPass(cb);
      /* The image is in TRANSFER_SRC_OPTIMAL now (the render pass's final layout). */
      VkAccessFlags after_copy = 0;
      if (check) {
         VkBufferImageCopy copy = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
                                    .imageExtent = { W, H, 1 } };
         vkCmdCopyImageToBuffer(cb, images[idx], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, bufs[s], 1,
                                &copy);
         VkBufferMemoryBarrier bb = { VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                                      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
                                      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                                      .buffer = bufs[s],
                                      .size = VK_WHOLE_SIZE };
         vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                              NULL, 1, &bb, 0, NULL);
         after_copy = VK_ACCESS_TRANSFER_READ_BIT;
      }
      barrier(cb, images[idx], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
              VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | after_copy, 0,
              VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
              VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
      CK(vkEndCommandBuffer(cb));
      VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
      VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO,   .waitSemaphoreCount = 1,
                          .pWaitSemaphores = &acquired[s], .pWaitDstStageMask = &wait_stage,
                          .commandBufferCount = 1,         .pCommandBuffers = &cb,
                          .signalSemaphoreCount = 1,       .pSignalSemaphores = &rendered[idx] };
      CK(vkQueueSubmit(q, 1, &si, fences[s]));

      if (check) {
         /* Check the frame before it is presented. */
         CK(vkWaitForFences(dev, 1, &fences[s], VK_TRUE, UINT64_MAX));
         unsigned xy[NPROBES][2];
         struct rgb want[NPROBES];
         probes_of(i, xy, want);
         for (int p = 0; p < NPROBES; p++) {
            const uint8_t *px = maps[s] + ((size_t)xy[p][1] * W + xy[p][0]) * 4;
            struct rgb got = { bgra ? px[2] : px[0], px[1], bgra ? px[0] : px[2] };
            if (got.r != want[p].r || got.g != want[p].g || got.b != want[p].b) {
               printf("FAIL frame %u pixel %u,%u is %02x%02x%02x, expected %02x%02x%02x\n", i,
                      xy[p][0], xy[p][1], got.r, got.g, got.b, want[p].r, want[p].g, want[p].b);
               return 1;
            }
         }
         /* The checksum covers the bytes in R, G, B, A order whatever the format. */
         if (bgra)
            for (size_t k = 0; k < (size_t)W * H; k++) {
               uint8_t t = maps[s][k * 4];
               maps[s][k * 4] = maps[s][k * 4 + 2];
               maps[s][k * 4 + 2] = t;
            }
         printf("frame %u fnv=%016llx ok\n", i, (unsigned long long)fnv1a(maps[s], (size_t)size));
      }

      VkPresentInfoKHR pi = { VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
                              .waitSemaphoreCount = 1,
                              .pWaitSemaphores = &rendered[idx],
                              .swapchainCount = 1,
                              .pSwapchains = &sc,
                              .pImageIndices = &idx };
      r = vkQueuePresentKHR(q, &pi);
      if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) {
         printf("FAIL vkQueuePresentKHR = %d at frame %u\n", r, i);
         return 1;
      }
      done++;
      if (!check && xwin_close_requested(&x))
         break;
   }
   CK(vkQueueWaitIdle(q));
   double secs = xwin_now() - t0;
   XSync(x.dpy, False);
   if (check) {
      printf("presented %u frames\n", done);
      unsigned xy[NPROBES][2];
      struct rgb want[NPROBES];
      probes_of(frames - 1, xy, want);
      for (int p = 0; p < NPROBES; p++)
         printf("probe %u %u %02x%02x%02x\n", xy[p][0], xy[p][1], want[p].r, want[p].g, want[p].b);
   } else {
      printf("bench frames=%u seconds=%.3f fps=%.1f mode=%s\n", done, secs, done / secs,
             mode == VK_PRESENT_MODE_IMMEDIATE_KHR ? "immediate"
             : mode == VK_PRESENT_MODE_MAILBOX_KHR ? "mailbox"
                                                   : "fifo");
   }
   fflush(stdout);
   /* Held with the swapchain alive: a present still queued in the WSI's thread reaches the
    * window (destroying the swapchain may drop it). */
   if (hold_ms > 0)
      xwin_hold(&x, hold_ms);
   for (uint32_t i = 0; i < nimg; i++) {
      vkDestroyFramebuffer(dev, fbs[i], NULL);
      vkDestroyImageView(dev, views[i], NULL);
      vkDestroySemaphore(dev, rendered[i], NULL);
   }
   vkDestroySwapchainKHR(dev, sc, NULL);

   for (int s = 0; s < IN_FLIGHT; s++) {
      vkDestroyFence(dev, fences[s], NULL);
      vkDestroySemaphore(dev, acquired[s], NULL);
      vkUnmapMemory(dev, mems[s]);
      vkDestroyBuffer(dev, bufs[s], NULL);
      vkFreeMemory(dev, mems[s], NULL);
   }
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipe, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyRenderPass(dev, rp, NULL);
   vkDestroyDevice(dev, NULL);
   vkDestroySurfaceKHR(inst, surf, NULL);
   vkDestroyInstance(inst, NULL);
   xwin_close(&x);
   printf("OK vk_present\n");
   return 0;
}
