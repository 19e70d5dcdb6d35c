/* Image transfer commands across formats.  For each color format (R8G8B8A8_UNORM,
 * B8G8R8A8_UNORM, R8_UNORM, R16G16B16A16_SFLOAT, R32_SFLOAT, R32G32B32A32_UINT,
 * A2B10G10R10_UNORM_PACK32) and depth/stencil format (D16_UNORM, D32_SFLOAT,
 * D32_SFLOAT_S8_UINT, D24_UNORM_S8_UINT) whose optimal tiling supports transfers, on
 * 32x16 images with 2 mip levels and 2 array layers:
 * - vkCmdClearColorImage / vkCmdClearDepthStencilImage (a different value per layer);
 * - vkCmdCopyBufferToImage (mip 0 layer 0) and vkCmdCopyBufferToImage2 (mip 1 layer 1, at an
 *   offset, with bufferRowLength/bufferImageHeight) of a pattern, per aspect;
 * - vkCmdCopyImage and vkCmdCopyImage2 between two images of the format: sub-regions with
 *   offsets, mip 1 layer 1 -> mip 1 layer 1, mip 0 -> mip 1, layer 0 -> layer 1;
 * - where the format has BLIT_SRC and BLIT_DST (and no stencil): vkCmdBlitImage NEAREST 2x
 *   downscale (each texel must be one of its 4 source texels), and vkCmdBlitImage plus a
 *   flipped vkCmdBlitImage2 with LINEAR where SAMPLED_IMAGE_FILTER_LINEAR is supported
 *   (color only), else NEAREST: FNV-1a checksum of the result, untouched texels checked;
 * - read back with vkCmdCopyImageToBuffer and vkCmdCopyImageToBuffer2; every texel of every
 *   subresource of both images is compared with a CPU model (the undefined top byte of
 *   D24 depth texels is ignored).  The blit decisions are printed. */
#include <string.h>

#include "smoke.h"

#define W 32
#define H 16
#define RBSIZE (128 * 1024)

static const struct fmt {
   VkFormat f;
   const char *name;
} fmts[] = {
   { VK_FORMAT_R8G8B8A8_UNORM, "R8G8B8A8_UNORM" },
   { VK_FORMAT_B8G8R8A8_UNORM, "B8G8R8A8_UNORM" },
   { VK_FORMAT_R8_UNORM, "R8_UNORM" },
   { VK_FORMAT_R16G16B16A16_SFLOAT, "R16G16B16A16_SFLOAT" },
   { VK_FORMAT_R32_SFLOAT, "R32_SFLOAT" },
   { VK_FORMAT_R32G32B32A32_UINT, "R32G32B32A32_UINT" },
   { VK_FORMAT_A2B10G10R10_UNORM_PACK32, "A2B10G10R10_UNORM_PACK32" },
   { VK_FORMAT_D16_UNORM, "D16_UNORM" },
   { VK_FORMAT_D32_SFLOAT, "D32_SFLOAT" },
   { VK_FORMAT_D32_SFLOAT_S8_UINT, "D32_SFLOAT_S8_UINT" },
   { VK_FORMAT_D24_UNORM_S8_UINT, "D24_UNORM_S8_UINT" },
};

/* The format under test: its aspects, texel size per aspect, and clear values. */
static VkFormat F;
static const char *NAME;
static uint32_t NA, TS[2], CMP[2];
static VkImageAspectFlags ASP[2], ALL;
static VkClearValue CV[2];
static uint8_t EXP[2][2][16];

struct img {
   VkImage im;
   VkDeviceMemory mem;
   uint32_t w, h, mips, layers;
   uint8_t *m[2][2][2];
};

static uint32_t hash(uint32_t x)
{
   x *= 0x9E3779B1u;
   x ^= x >> 15;
   x *= 0x2C1B3C6Du;
   x ^= x >> 12;
   return x;
}
static uint16_t f2h(float f) /* exactly representable normal values and 0 only */
{
   uint32_t b;
   memcpy(&b, &f, 4);
   if (!(b & 0x7fffffff))
      return (uint16_t)(b >> 16);
   return (uint16_t)(((b >> 16) & 0x8000) | ((((b >> 23) & 0xff) - 112) << 10) |
                     ((b >> 13) & 0x3ff));
}
static uint32_t unorm(float v, uint32_t max)
{
   return (uint32_t)(v * (float)max + 0.5f);
}
static VkDeviceSize up(VkDeviceSize v)
{
   return (v + 15) & ~(VkDeviceSize)15;
}
static uint32_t fnv(const uint8_t *p, size_t n, uint32_t h)
{
   for (size_t i = 0; i < n; i++)
      h = (h ^ p[i]) * 16777619u;
   return h;
}

/* A valid texel of aspect k for pattern index n. */
static void gen(uint32_t k, uint32_t n, uint8_t *o)
{
   uint32_t h = hash(n * 7 + k), v;
   float fv;
   if (ASP[k] == VK_IMAGE_ASPECT_STENCIL_BIT) {
      o[0] = (uint8_t)h;
      return;
   }
   switch (F) {
   case VK_FORMAT_R16G16B16A16_SFLOAT:
      for (int c = 0; c < 4; c++) {
         uint16_t x = f2h((float)(hash(n * 4 + c) % 64) * 0.25f);
         memcpy(o + 2 * c, &x, 2);
      }
      return;
   case VK_FORMAT_R32_SFLOAT:
      fv = (float)(h % 1000) * 0.125f - 50.0f;
      memcpy(o, &fv, 4);
      return;
   case VK_FORMAT_D32_SFLOAT:
   case VK_FORMAT_D32_SFLOAT_S8_UINT:
      fv = (float)(h % 257) / 256.0f;
      memcpy(o, &fv, 4);
      return;
   case VK_FORMAT_D24_UNORM_S8_UINT:
      v = h & 0xffffff;
      memcpy(o, &v, 4);
      return;
   default:
      for (uint32_t i = 0; i < TS[k]; i++)
         o[i] = (uint8_t)hash(n * 16 + i);
      return;
   }
}

/* Sets F, NA, ASP, TS, CMP, CV and EXP (the texel bytes each clear value must give). */
static void setup(VkFormat f)
{
   static const float uc[2][4] = { { 0.2f, 0.6f, 1.0f, 0.0f }, { 1.0f, 0.0f, 0.4f, 1.0f } };
   static const float ac[2][4] = { { 341 / 1023.f, 682 / 1023.f, 1.0f, 1 / 3.f },
                                   { 1.0f, 0.0f, 100 / 1023.f, 2 / 3.f } };
   static const float hc[2][4] = { { 0.25f, -2.0f, 1.5f, 1024.0f }, { 1.0f, 0.5f, 0.0f, -0.25f } };
   static const uint32_t ic[2][4] = { { 1, 0xdeadbeef, 7, 0xffffffff }, { 0x12345678, 0, 42, 99 } };
   F = f;
   NA = 1;
   ASP[0] = VK_IMAGE_ASPECT_COLOR_BIT;
   memset(EXP, 0, sizeof(EXP));
   memset(CV, 0, sizeof(CV));
   for (int i = 0; i < 2; i++) {
      uint8_t *e = EXP[i][0];
      uint32_t v;
      switch (f) {
      case VK_FORMAT_R8G8B8A8_UNORM:
      case VK_FORMAT_B8G8R8A8_UNORM:
      case VK_FORMAT_R8_UNORM:
         memcpy(CV[i].color.float32, uc[i], 16);
         TS[0] = f == VK_FORMAT_R8_UNORM ? 1 : 4;
         for (int c = 0; c < 4; c++)
            e[f == VK_FORMAT_B8G8R8A8_UNORM && c != 3 ? 2 - c : c] = (uint8_t)unorm(uc[i][c], 255);
         break;
      case VK_FORMAT_A2B10G10R10_UNORM_PACK32:
         memcpy(CV[i].color.float32, ac[i], 16);
         TS[0] = 4;
         v = unorm(ac[i][0], 1023) | unorm(ac[i][1], 1023) << 10 | unorm(ac[i][2], 1023) << 20 |
             unorm(ac[i][3], 3) << 30;
         memcpy(e, &v, 4);
         break;
      case VK_FORMAT_R16G16B16A16_SFLOAT:
         memcpy(CV[i].color.float32, hc[i], 16);
         TS[0] = 8;
         for (int c = 0; c < 4; c++) {
            uint16_t x = f2h(hc[i][c]);
            memcpy(e + 2 * c, &x, 2);
         }
         break;
      case VK_FORMAT_R32_SFLOAT:
         CV[i].color.float32[0] = i ? -0.5f : 3.25f;
         TS[0] = 4;
         memcpy(e, CV[i].color.float32, 4);
         break;
      case VK_FORMAT_R32G32B32A32_UINT:
         memcpy(CV[i].color.uint32, ic[i], 16);
         TS[0] = 16;
         memcpy(e, ic[i], 16);
         break;
      default: /* depth (and stencil) */
         ASP[0] = VK_IMAGE_ASPECT_DEPTH_BIT;
         NA = f == VK_FORMAT_D16_UNORM || f == VK_FORMAT_D32_SFLOAT ? 1 : 2;
         TS[0] = f == VK_FORMAT_D16_UNORM ? 2 : 4;
         if (f == VK_FORMAT_D32_SFLOAT || f == VK_FORMAT_D32_SFLOAT_S8_UINT) {
            CV[i].depthStencil.depth = i ? 0.75f : 0.375f;
            memcpy(e, &CV[i].depthStencil.depth, 4);
         } else {
            CV[i].depthStencil.depth = i ? 0.0f : 1.0f; /* exact in every unorm depth format */
            v = i ? 0 : f == VK_FORMAT_D16_UNORM ? 0xffff : 0xffffff;
            memcpy(e, &v, 4);
         }
         CV[i].depthStencil.stencil = i ? 0xa5 : 0x5a;
         EXP[i][1][0] = (uint8_t)CV[i].depthStencil.stencil;
         ASP[1] = VK_IMAGE_ASPECT_STENCIL_BIT;
         TS[1] = 1;
      }
   }
   ALL = NA == 2 ? ASP[0] | ASP[1] : ASP[0];
   for (uint32_t k = 0; k < NA; k++)
      CMP[k] = F == VK_FORMAT_D24_UNORM_S8_UINT && k == 0 ? 3 : TS[k];
}

static uint8_t *tp(struct img *m, uint32_t mip, uint32_t layer, uint32_t k, uint32_t x, uint32_t y)
{
   return m->m[mip][layer][k] + (y * (m->w >> mip) + x) * TS[k];
}

static void mk(struct smoke *s, struct img *m, uint32_t w, uint32_t h, uint32_t mips,
               uint32_t layers)
{
   *m = (struct img){ .w = w, .h = h, .mips = mips, .layers = layers };
   VkImageCreateInfo ci = { VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                            .imageType = VK_IMAGE_TYPE_2D,
                            .format = F,
                            .extent = { w, h, 1 },
                            .mipLevels = mips,
                            .arrayLayers = layers,
                            .samples = VK_SAMPLE_COUNT_1_BIT,
                            .tiling = VK_IMAGE_TILING_OPTIMAL,
                            .usage =
                               VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT };
   CK(vkCreateImage(s->dev, &ci, NULL, &m->im));
   VkMemoryRequirements mr;
   vkGetImageMemoryRequirements(s->dev, m->im, &mr);
   VkMemoryAllocateInfo ai = { VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                               .memoryTypeIndex = smoke_memory_type(
                                  s, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) };
   CK(vkAllocateMemory(s->dev, &ai, NULL, &m->mem));
   CK(vkBindImageMemory(s->dev, m->im, m->mem, 0));
   for (uint32_t l = 0; l < mips; l++)
      for (uint32_t a = 0; a < layers; a++)
         for (uint32_t k = 0; k < NA; k++)
            m->m[l][a][k] = calloc((w >> l) * (h >> l), TS[k]);
}

static void rm(struct smoke *s, struct img *m)
{
   vkDestroyImage(s->dev, m->im, NULL);
   vkFreeMemory(s->dev, m->mem, NULL);
   for (uint32_t l = 0; l < m->mips; l++)
      for (uint32_t a = 0; a < m->layers; a++)
         for (uint32_t k = 0; k < NA; k++)
            free(m->m[l][a][k]);
}

/* Clears layer `a` (all mips) of the image and of its model to clear value i. */
static void clear(VkCommandBuffer cb, struct img *m, uint32_t a, int i)
{
   VkImageSubresourceRange r = { ALL, 0, VK_REMAINING_MIP_LEVELS, a, 1 };
   if (ASP[0] == VK_IMAGE_ASPECT_COLOR_BIT)
      vkCmdClearColorImage(cb, m->im, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &CV[i].color, 1, &r);
   else
      vkCmdClearDepthStencilImage(cb, m->im, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                  &CV[i].depthStencil, 1, &r);
   for (uint32_t l = 0; l < m->mips; l++)
      for (uint32_t k = 0; k < NA; k++)
         for (uint32_t t = 0; t < (m->w >> l) * (m->h >> l); t++)
            memcpy(m->m[l][a][k] + t * TS[k], EXP[i][k], TS[k]);
}

static void bar(VkCommandBuffer cb, struct img *m, VkImageLayout from, VkImageLayout to,
                VkAccessFlags src, VkAccessFlags dst)
{
   VkImageMemoryBarrier b = { VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = src,
                              .dstAccessMask = dst,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = m->im,
                              .subresourceRange = { ALL, 0, VK_REMAINING_MIP_LEVELS, 0,
                                                    VK_REMAINING_ARRAY_LAYERS } };
   vkCmdPipelineBarrier(cb,
                        src ? VK_PIPELINE_STAGE_TRANSFER_BIT : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                        VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL, 1, &b);
}

/* Image copy on the GPU (region r) and in the model. */
static void mcopy(struct img *s, struct img *d, const VkImageCopy *r)
{
   for (uint32_t k = 0; k < NA; k++)
      for (uint32_t y = 0; y < r->extent.height; y++)
         memcpy(tp(d, r->dstSubresource.mipLevel, r->dstSubresource.baseArrayLayer, k,
                   r->dstOffset.x, r->dstOffset.y + y),
                tp(s, r->srcSubresource.mipLevel, r->srcSubresource.baseArrayLayer, k,
                   r->srcOffset.x, r->srcOffset.y + y),
                r->extent.width * TS[k]);
}

/* Read-back regions of every subresource and aspect of m, from *off on. */
static uint32_t rb_regions(struct img *m, VkBufferImageCopy *r, VkDeviceSize *off)
{
   uint32_t n = 0;
   for (uint32_t l = 0; l < m->mips; l++)
      for (uint32_t a = 0; a < m->layers; a++)
         for (uint32_t k = 0; k < NA; k++) {
            r[n++] = (VkBufferImageCopy){ .bufferOffset = *off,
                                          .imageSubresource = { ASP[k], l, a, 1 },
                                          .imageExtent = { m->w >> l, m->h >> l, 1 } };
            *off = up(*off + (m->w >> l) * (m->h >> l) * TS[k]);
         }
   return n;
}

static void verify(struct img *m, const char *what, const uint8_t *rb, VkDeviceSize *off)
{
   for (uint32_t l = 0; l < m->mips; l++)
      for (uint32_t a = 0; a < m->layers; a++)
         for (uint32_t k = 0; k < NA; k++) {
            for (uint32_t y = 0; y < m->h >> l; y++)
               for (uint32_t x = 0; x < m->w >> l; x++)
                  if (memcmp(rb + *off + (y * (m->w >> l) + x) * TS[k], tp(m, l, a, k, x, y),
                             CMP[k])) {
                     printf("FAIL %s %s: mip %u layer %u aspect 0x%x texel (%u,%u) differs\n", NAME,
                            what, l, a, ASP[k], x, y);
                     exit(1);
                  }
            *off = up(*off + (m->w >> l) * (m->h >> l) * TS[k]);
         }
   printf("OK %s %s\n", NAME, what);
}

static void run_format(struct smoke *s, VkCommandBuffer cb, VkFence fence, VkBuffer upb,
                       uint8_t *upp, VkBuffer rbb, uint8_t *rbp)
{
   VkFormatProperties fp;
   vkGetPhysicalDeviceFormatProperties(s->pd, F, &fp);
   VkFormatFeatureFlags ff = fp.optimalTilingFeatures;
   if ((ff & (VK_FORMAT_FEATURE_TRANSFER_SRC_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT)) !=
       (VK_FORMAT_FEATURE_TRANSFER_SRC_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT)) {
      printf("%s: no transfer support, skipped\n", NAME);
      return;
   }
   const int blit =
      (ff & VK_FORMAT_FEATURE_BLIT_SRC_BIT) && (ff & VK_FORMAT_FEATURE_BLIT_DST_BIT) && NA == 1;
   const int linear = blit && ASP[0] == VK_IMAGE_ASPECT_COLOR_BIT &&
                      (ff & VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT);
   const VkFilter filt = linear ? VK_FILTER_LINEAR : VK_FILTER_NEAREST;
   printf("%s: blit %s\n", NAME,
          NA == 2  ? "skipped (format has stencil)"
          : !blit  ? "skipped (no BLIT_SRC/BLIT_DST)"
          : linear ? "NEAREST and LINEAR"
                   : "NEAREST only");
   struct img A, B, S1, S2;
   mk(s, &A, W, H, 2, 2);
   mk(s, &B, W, H, 2, 2);
   if (blit) {
      mk(s, &S1, W / 2, H / 2, 1, 1);
      mk(s, &S2, W / 2, H / 2, 1, 1);
   }

   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
   CK(vkBeginCommandBuffer(cb, &bi));
   const VkAccessFlags TW = VK_ACCESS_TRANSFER_WRITE_BIT, TR = VK_ACCESS_TRANSFER_READ_BIT;
   const VkImageLayout UN = VK_IMAGE_LAYOUT_UNDEFINED, DST = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                       SRC = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
   struct img *all[4] = { &A, &B, &S1, &S2 };
   const int nimg = blit ? 4 : 2;
   for (int i = 0; i < nimg; i++)
      bar(cb, all[i], UN, DST, 0, TW);
   clear(cb, &A, 0, 0);
   clear(cb, &A, 1, 1);
   clear(cb, &B, 0, 1);
   clear(cb, &B, 1, 1);
   if (blit) {
      clear(cb, &S1, 0, 1);
      clear(cb, &S2, 0, 1);
   }
   for (int i = 0; i < nimg; i++)
      bar(cb, all[i], DST, DST, TW, TW);

   /* Upload: mip 0 layer 0 whole, mip 1 layer 1 at (1,1) 13x6 from rows of 17 texels. */
   VkBufferImageCopy ra[2];
   VkBufferImageCopy2 rb[2];
   VkDeviceSize off = 0;
   for (uint32_t k = 0; k < NA; k++) {
      ra[k] = (VkBufferImageCopy){ .bufferOffset = off,
                                   .imageSubresource = { ASP[k], 0, 0, 1 },
                                   .imageExtent = { W, H, 1 } };
      for (uint32_t t = 0; t < W * H; t++) {
         gen(k, t, upp + off + t * TS[k]);
         memcpy(A.m[0][0][k] + t * TS[k], upp + off + t * TS[k], TS[k]);
      }
      off = up(off + W * H * TS[k]);
      rb[k] = (VkBufferImageCopy2){ VK_STRUCTURE_TYPE_BUFFER_IMAGE_COPY_2,
                                    .bufferOffset = off,
                                    .bufferRowLength = 17,
                                    .bufferImageHeight = 9,
                                    .imageSubresource = { ASP[k], 1, 1, 1 },
                                    .imageOffset = { 1, 1, 0 },
                                    .imageExtent = { 13, 6, 1 } };
      for (uint32_t y = 0; y < 6; y++)
         for (uint32_t x = 0; x < 13; x++) {
            uint8_t *p = upp + off + (y * 17 + x) * TS[k];
            gen(k, 1000 + y * 17 + x, p);
            memcpy(tp(&A, 1, 1, k, x + 1, y + 1), p, TS[k]);
         }
      off = up(off + 17 * 9 * TS[k]);
   }
   vkCmdCopyBufferToImage(cb, upb, A.im, DST, NA, ra);
   VkCopyBufferToImageInfo2 bti = { VK_STRUCTURE_TYPE_COPY_BUFFER_TO_IMAGE_INFO_2,
                                    .srcBuffer = upb,
                                    .dstImage = A.im,
                                    .dstImageLayout = DST,
                                    .regionCount = NA,
                                    .pRegions = rb };
   vkCmdCopyBufferToImage2(cb, &bti);
   bar(cb, &A, DST, SRC, TW, TR);

   /* Copies A -> B. */
   VkImageCopy c1[2] = {
      { { ALL, 0, 0, 1 }, { 3, 2, 0 }, { ALL, 0, 0, 1 }, { 15, 6, 0 }, { 10, 7, 1 } },
      { { ALL, 1, 1, 1 }, { 2, 1, 0 }, { ALL, 1, 1, 1 }, { 5, 3, 0 }, { 8, 5, 1 } }
   };
   vkCmdCopyImage(cb, A.im, SRC, B.im, DST, 2, c1);
   VkImageCopy2 c2[2] = { { VK_STRUCTURE_TYPE_IMAGE_COPY_2, .srcSubresource = { ALL, 0, 0, 1 },
                            .srcOffset = { 0, 0, 0 }, .dstSubresource = { ALL, 1, 0, 1 },
                            .dstOffset = { 12, 4, 0 }, .extent = { 4, 4, 1 } },
                          { VK_STRUCTURE_TYPE_IMAGE_COPY_2, .srcSubresource = { ALL, 0, 0, 1 },
                            .srcOffset = { 28, 12, 0 }, .dstSubresource = { ALL, 0, 1, 1 },
                            .dstOffset = { 0, 0, 0 }, .extent = { 4, 4, 1 } } };
   VkCopyImageInfo2 cii = { VK_STRUCTURE_TYPE_COPY_IMAGE_INFO_2,
                            .srcImage = A.im,
                            .srcImageLayout = SRC,
                            .dstImage = B.im,
                            .dstImageLayout = DST,
                            .regionCount = 2,
                            .pRegions = c2 };
   vkCmdCopyImage2(cb, &cii);
   for (int i = 0; i < 2; i++) {
      mcopy(&A, &B, &c1[i]);
      VkImageCopy c = { c2[i].srcSubresource, c2[i].srcOffset, c2[i].dstSubresource,
                        c2[i].dstOffset, c2[i].extent };
      mcopy(&A, &B, &c);
   }

   /* Blits A -> S1 (NEAREST 2x down) and A -> S2 (scaled; flipped from mip 1 layer 1). */
   if (blit) {
      VkImageBlit b1 = { { ASP[0], 0, 0, 1 },
                         { { 0, 0, 0 }, { W, H, 1 } },
                         { ASP[0], 0, 0, 1 },
                         { { 0, 0, 0 }, { W / 2, H / 2, 1 } } };
      vkCmdBlitImage(cb, A.im, SRC, S1.im, DST, 1, &b1, VK_FILTER_NEAREST);
      VkImageBlit b2 = { { ASP[0], 0, 0, 1 },
                         { { 0, 0, 0 }, { W, H, 1 } },
                         { ASP[0], 0, 0, 1 },
                         { { 0, 0, 0 }, { 10, 5, 1 } } };
      vkCmdBlitImage(cb, A.im, SRC, S2.im, DST, 1, &b2, filt);
      VkImageBlit2 b3 = { VK_STRUCTURE_TYPE_IMAGE_BLIT_2, .srcSubresource = { ASP[0], 1, 1, 1 },
                          .srcOffsets = { { 0, 0, 0 }, { W / 2, H / 2, 1 } },
                          .dstSubresource = { ASP[0], 0, 0, 1 },
                          .dstOffsets = { { W / 2, H / 2, 0 }, { 10, 3, 1 } } };
      VkBlitImageInfo2 bli = { VK_STRUCTURE_TYPE_BLIT_IMAGE_INFO_2,
                               .srcImage = A.im,
                               .srcImageLayout = SRC,
                               .dstImage = S2.im,
                               .dstImageLayout = DST,
                               .regionCount = 1,
                               .pRegions = &b3,
                               .filter = filt };
      vkCmdBlitImage2(cb, &bli);
   }

   /* Read back everything. */
   for (int i = 1; i < nimg; i++)
      bar(cb, all[i], DST, SRC, TW, TR);
   VkBufferImageCopy rr[8];
   VkBufferImageCopy2 rr2[8];
   off = 0;
   uint32_t n = rb_regions(&A, rr, &off);
   vkCmdCopyImageToBuffer(cb, A.im, SRC, rbb, n, rr);
   n = rb_regions(&B, rr, &off);
   for (uint32_t i = 0; i < n; i++)
      rr2[i] = (VkBufferImageCopy2){ VK_STRUCTURE_TYPE_BUFFER_IMAGE_COPY_2,
                                     .bufferOffset = rr[i].bufferOffset,
                                     .imageSubresource = rr[i].imageSubresource,
                                     .imageExtent = rr[i].imageExtent };
   VkCopyImageToBufferInfo2 itb = { VK_STRUCTURE_TYPE_COPY_IMAGE_TO_BUFFER_INFO_2,
                                    .srcImage = B.im,
                                    .srcImageLayout = SRC,
                                    .dstBuffer = rbb,
                                    .regionCount = n,
                                    .pRegions = rr2 };
   vkCmdCopyImageToBuffer2(cb, &itb);
   VkDeviceSize offS = off;
   for (int i = 2; i < nimg; i++) {
      n = rb_regions(all[i], rr, &off);
      vkCmdCopyImageToBuffer(cb, all[i]->im, SRC, rbb, n, rr);
   }
   VkMemoryBarrier mb = { VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = TW,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
   vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb,
                        0, NULL, 0, NULL);
   CK(vkEndCommandBuffer(cb));
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s->q, 1, &si, fence));
   CK(vkWaitForFences(s->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   CK(vkResetFences(s->dev, 1, &fence));

   off = 0;
   verify(&A, "clears + buffer-to-image copies (image A, 2 mips x 2 layers)", rbp, &off);
   verify(&B, "clear + image copies (image B, 2 mips x 2 layers)", rbp, &off);
   if (blit) {
      const uint32_t sw = W / 2, sh = H / 2, ts = TS[0];
      const uint8_t *p1 = rbp + offS, *p2 = rbp + up(offS + sw * sh * ts);
      for (uint32_t y = 0; y < sh; y++)
         for (uint32_t x = 0; x < sw; x++) {
            int ok = 0;
            for (uint32_t j = 0; j < 4; j++)
               ok |= !memcmp(p1 + (y * sw + x) * ts,
                             tp(&A, 0, 0, 0, 2 * x + (j & 1), 2 * y + j / 2), ts);
            if (!ok) {
               printf("FAIL %s blit NEAREST 2x: texel (%u,%u) is none of its 4 source texels\n",
                      NAME, x, y);
               exit(1);
            }
            /* Texels of S2 outside both blit regions keep the clear value. */
            if (((x < 10 && y >= 5) || (x >= 10 && y < 3)) &&
                memcmp(p2 + (y * sw + x) * ts, EXP[1][0], ts)) {
               printf("FAIL %s blit: texel (%u,%u) outside the blit regions changed\n", NAME, x, y);
               exit(1);
            }
         }
      printf("OK %s blit NEAREST 2x downscale, fnv %08x\n", NAME,
             fnv(p1, sw * sh * ts, 2166136261u));
      printf("OK %s blit %s scaled + flipped (BlitImage2), fnv %08x\n", NAME,
             linear ? "LINEAR" : "NEAREST", fnv(p2, sw * sh * ts, 2166136261u));
   }
   for (int i = 0; i < nimg; i++)
      rm(s, all[i]);
}

int main(void)
{
   struct smoke s;
   smoke_init(&s);
   VkDeviceMemory upm, rbm;
   VkBuffer upb = smoke_host_buffer(&s, 64 * 1024, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &upm);
   VkBuffer rbb = smoke_host_buffer(&s, RBSIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &rbm);
   uint8_t *upp, *rbp;
   CK(vkMapMemory(s.dev, upm, 0, VK_WHOLE_SIZE, 0, (void **)&upp));
   CK(vkMapMemory(s.dev, rbm, 0, VK_WHOLE_SIZE, 0, (void **)&rbp));
   VkCommandPool pool;
   VkCommandBuffer cb =
      smoke_command_buffer(&s, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, &pool);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   CK(vkCreateFence(s.dev, &fci, NULL, &fence));
   for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
      NAME = fmts[i].name;
      setup(fmts[i].f);
      run_format(&s, cb, fence, upb, upp, rbb, rbp);
   }
   vkDestroyFence(s.dev, fence, NULL);
   vkDestroyCommandPool(s.dev, pool, NULL);
   vkUnmapMemory(s.dev, upm);
   vkUnmapMemory(s.dev, rbm);
   vkDestroyBuffer(s.dev, upb, NULL);
   vkDestroyBuffer(s.dev, rbb, NULL);
   vkFreeMemory(s.dev, upm, NULL);
   vkFreeMemory(s.dev, rbm, NULL);
   smoke_fini(&s);
   printf("OK image formats\n");
   return 0;
}
