/* Push constants and descriptor indexing: a compute shader indexes a runtime-sized array of
 * storage buffers with nonuniformEXT(k), k computed per invocation from a selector buffer
 * and push constants.  Checks exactly:
 *  - a set layout binding with PARTIALLY_BOUND | VARIABLE_DESCRIPTOR_COUNT | UPDATE_AFTER_BIND
 *    (pool with UPDATE_AFTER_BIND, VkDescriptorSetVariableDescriptorCountAllocateInfo, some
 *    elements never written), vkGetDescriptorSetLayoutSupport's variable count,
 *  - descriptors written after the set was bound in the recorded command buffer, and
 *    rewritten before the same command buffer is submitted again,
 *  - push constants pushed in two pieces (offsets 0 and 8), the first kept across dispatches,
 *  - the other set written with vkUpdateDescriptorSetWithTemplate,
 *  - if the device has VK_KHR_push_descriptor (the decision is printed):
 *    vkCmdPushDescriptorSetKHR and vkCmdPushDescriptorSetWithTemplateKHR. */
#include <string.h>

#include "smoke.h"
#include "pc_index_comp_spv.h"

#define N 256      /* invocations per dispatch */
#define NBUF 8     /* data buffers */
#define MAXDESC 16 /* the array binding's descriptorCount: upper bound of the variable count */
#define VARCOUNT 8 /* variable count allocated */
#define NDISP 3

struct pc {
   uint32_t base, count, mul, out_off;
};
/* Dispatch 1 pushes both pieces, dispatch 2 only the second (base and count stay), 3 both. */
static const struct pc disp[NDISP] = { { 0, 6, 3, 0 }, { 0, 6, 5, N }, { 2, 4, 7, 2 * N } };

static struct smoke s;
static int has_push;
static uint32_t *sel;

static void init_device(void)
{
   VkApplicationInfo app = { VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_3 };
   VkInstanceCreateInfo ici = { VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
   CK(smoke_create_instance(&ici, &s.inst));
   uint32_t n = 1;
   VkResult r = vkEnumeratePhysicalDevices(s.inst, &n, &s.pd);
   if (r < 0 || !n) {
      printf("FAIL no physical device (%d)\n", r);
      exit(1);
   }
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &n, NULL));
   VkExtensionProperties *ext = malloc(n * sizeof(*ext));
   CK(vkEnumerateDeviceExtensionProperties(s.pd, NULL, &n, ext));
   for (uint32_t i = 0; i < n; i++)
      has_push |= !strcmp(ext[i].extensionName, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
   free(ext);
   printf("OK VK_KHR_push_descriptor %s\n",
          has_push ? "available: push descriptors tested" : "missing: skipped");
   const char *names[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME };
   float prio = 1;
   VkDeviceQueueCreateInfo qci = { VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                   .pQueuePriorities = &prio };
   VkPhysicalDeviceVulkan12Features f12 = { VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .shaderStorageBufferArrayNonUniformIndexing = VK_TRUE,
                                            .descriptorBindingStorageBufferUpdateAfterBind =
                                               VK_TRUE,
                                            .descriptorBindingPartiallyBound = VK_TRUE,
                                            .descriptorBindingVariableDescriptorCount = VK_TRUE,
                                            .runtimeDescriptorArray = VK_TRUE };
   VkDeviceCreateInfo dci = { VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f12,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = has_push ? 1 : 0,
                              .ppEnabledExtensionNames = names };
   CK(smoke_create_device(s.pd, &dci, &s.dev));
   vkGetDeviceQueue(s.dev, 0, 0, &s.q);
   vkGetPhysicalDeviceMemoryProperties(s.pd, &s.mp);
}

/* data[b][i]: distinct in every buffer and word. */
static uint32_t data_word(int b, uint32_t i)
{
   return (uint32_t)b * 0x10000u + i * 3u;
}

/* Checks out[p.out_off + i] for one dispatch given which buffer each array slot holds. */
static void check(const char *what, const uint32_t *out, const struct pc *p, const int *slot_buf)
{
   uint32_t h = 2166136261u;
   for (uint32_t i = 0; i < N; i++) {
      const uint32_t k = p->base + sel[i] % p->count;
      const uint32_t want = data_word(slot_buf[k], i) * p->mul + k, got = out[p->out_off + i];
      if (got != want) {
         printf("FAIL %s: invocation %u (slot %u) = 0x%x, want 0x%x\n", what, i, k, got, want);
         exit(1);
      }
      h = (h ^ got) * 16777619u;
   }
   printf("OK %s: %u invocations, checksum 0x%08x\n", what, N, h);
}

static void push(VkCommandBuffer cb, VkPipelineLayout pl, const struct pc *p, int both)
{
   if (both)
      vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, 8, &p->base);
   vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, 8, 8, &p->mul);
}

static void write_slot(VkDescriptorSet set, uint32_t first, uint32_t count,
                       const VkDescriptorBufferInfo *bi)
{
   VkWriteDescriptorSet w = { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstSet = set,
                              .dstBinding = 0,
                              .dstArrayElement = first,
                              .descriptorCount = count,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = bi };
   vkUpdateDescriptorSets(s.dev, 1, &w, 0, NULL);
}

static void submit(VkCommandBuffer cb)
{
   VkSubmitInfo si = { VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &cb };
   CK(vkQueueSubmit(s.q, 1, &si, VK_NULL_HANDLE));
   CK(vkQueueWaitIdle(s.q));
}

int main(void)
{
   init_device();
   VkDevice dev = s.dev;

   /* Buffers: selector, results (one region per dispatch), results of the push-descriptor
    * path, and NBUF data buffers. */
   VkDeviceMemory sel_mem, out_mem, outp_mem, data_mem[NBUF];
   VkBuffer sel_buf = smoke_host_buffer(&s, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &sel_mem);
   VkBuffer out_buf =
      smoke_host_buffer(&s, NDISP * N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &out_mem);
   VkBuffer outp_buf =
      smoke_host_buffer(&s, 2 * N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &outp_mem);
   VkBuffer data_buf[NBUF];
   uint32_t *out, *outp;
   CK(vkMapMemory(dev, sel_mem, 0, VK_WHOLE_SIZE, 0, (void **)&sel));
   CK(vkMapMemory(dev, out_mem, 0, VK_WHOLE_SIZE, 0, (void **)&out));
   CK(vkMapMemory(dev, outp_mem, 0, VK_WHOLE_SIZE, 0, (void **)&outp));
   for (uint32_t i = 0; i < N; i++)
      sel[i] = (i * 2654435761u) >> 7;
   for (int b = 0; b < NBUF; b++) {
      data_buf[b] = smoke_host_buffer(&s, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &data_mem[b]);
      uint32_t *p;
      CK(vkMapMemory(dev, data_mem[b], 0, VK_WHOLE_SIZE, 0, (void **)&p));
      for (uint32_t i = 0; i < N; i++)
         p[i] = data_word(b, i);
      vkUnmapMemory(dev, data_mem[b]);
   }

   /* Set 0: selector and results.  Set 1: the bindless array. */
   VkDescriptorSetLayoutBinding b0[2] = {
      { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT }
   };
   VkDescriptorSetLayoutCreateInfo dslci = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                             .bindingCount = 2, .pBindings = b0 };
   VkDescriptorSetLayout dsl0, dsl_push = VK_NULL_HANDLE, dsl1;
   CK(vkCreateDescriptorSetLayout(dev, &dslci, NULL, &dsl0));
   if (has_push) {
      dslci.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
      CK(vkCreateDescriptorSetLayout(dev, &dslci, NULL, &dsl_push));
   }
   VkDescriptorBindingFlags bf = VK_DESCRIPTOR_BINDING_PARTIALLY_BOUND_BIT |
                                 VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT |
                                 VK_DESCRIPTOR_BINDING_UPDATE_AFTER_BIND_BIT;
   VkDescriptorSetLayoutBindingFlagsCreateInfo bfci = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_BINDING_FLAGS_CREATE_INFO, .bindingCount = 1,
      .pBindingFlags = &bf
   };
   VkDescriptorSetLayoutBinding b1 = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, MAXDESC,
                                       VK_SHADER_STAGE_COMPUTE_BIT };
   VkDescriptorSetLayoutCreateInfo dslci1 = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .pNext = &bfci,
      .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_UPDATE_AFTER_BIND_POOL_BIT, .bindingCount = 1,
      .pBindings = &b1
   };
   VkDescriptorSetVariableDescriptorCountLayoutSupport vsup = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_LAYOUT_SUPPORT
   };
   VkDescriptorSetLayoutSupport sup = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_SUPPORT,
                                        .pNext = &vsup };
   vkGetDescriptorSetLayoutSupport(dev, &dslci1, &sup);
   if (!sup.supported || vsup.maxVariableDescriptorCount < MAXDESC) {
      printf("FAIL layout support: supported %u, maxVariableDescriptorCount %u\n", sup.supported,
             vsup.maxVariableDescriptorCount);
      return 1;
   }
   printf("OK layout support: variable count up to at least %u\n", MAXDESC);
   CK(vkCreateDescriptorSetLayout(dev, &dslci1, NULL, &dsl1));

   VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(struct pc) };
   VkDescriptorSetLayout layouts[2] = { dsl0, dsl1 };
   VkPipelineLayoutCreateInfo plci = { VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 2, .pSetLayouts = layouts,
                                       .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
   VkPipelineLayout pl, pl_push = VK_NULL_HANDLE;
   CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
   VkShaderModuleCreateInfo smci = { VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof(pc_index_comp_spv),
                                     .pCode = pc_index_comp_spv };
   VkShaderModule sm;
   CK(vkCreateShaderModule(dev, &smci, NULL, &sm));
   VkComputePipelineCreateInfo cpci = {
      VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = { VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                 .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = sm, .pName = "main" },
      .layout = pl
   };
   VkPipeline pipe, pipe_push = VK_NULL_HANDLE;
   CK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, NULL, &pipe));
   if (has_push) {
      layouts[0] = dsl_push;
      CK(vkCreatePipelineLayout(dev, &plci, NULL, &pl_push));
      cpci.layout = pl_push;
      CK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, NULL, &pipe_push));
   }

   VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 + MAXDESC };
   VkDescriptorPoolCreateInfo dpci = { VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .flags = VK_DESCRIPTOR_POOL_CREATE_UPDATE_AFTER_BIND_BIT,
                                       .maxSets = 2, .poolSizeCount = 1, .pPoolSizes = &ps };
   VkDescriptorPool dp;
   CK(vkCreateDescriptorPool(dev, &dpci, NULL, &dp));
   const uint32_t zero = 0, varcount = VARCOUNT;
   VkDescriptorSetVariableDescriptorCountAllocateInfo vai = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_ALLOCATE_INFO,
      .descriptorSetCount = 1, .pDescriptorCounts = &zero
   };
   VkDescriptorSetAllocateInfo dsai = { VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .pNext = &vai, .descriptorPool = dp,
                                        .descriptorSetCount = 1, .pSetLayouts = &dsl0 };
   VkDescriptorSet set0, set1;
   CK(vkAllocateDescriptorSets(dev, &dsai, &set0));
   vai.pDescriptorCounts = &varcount;
   dsai.pSetLayouts = &dsl1;
   CK(vkAllocateDescriptorSets(dev, &dsai, &set1));

   /* Set 0 through a descriptor update template. */
   VkDescriptorUpdateTemplateEntry te[2] = {
      { 0, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 0, sizeof(VkDescriptorBufferInfo) },
      { 1, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sizeof(VkDescriptorBufferInfo),
        sizeof(VkDescriptorBufferInfo) },
   };
   VkDescriptorUpdateTemplateCreateInfo tci = {
      VK_STRUCTURE_TYPE_DESCRIPTOR_UPDATE_TEMPLATE_CREATE_INFO, .descriptorUpdateEntryCount = 2,
      .pDescriptorUpdateEntries = te,
      .templateType = VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_DESCRIPTOR_SET, .descriptorSetLayout = dsl0
   };
   VkDescriptorUpdateTemplate tmpl, tmpl_push = VK_NULL_HANDLE;
   CK(vkCreateDescriptorUpdateTemplate(dev, &tci, NULL, &tmpl));
   const VkDescriptorBufferInfo set0_info[2] = { { sel_buf, 0, VK_WHOLE_SIZE },
                                                 { out_buf, 0, VK_WHOLE_SIZE } };
   vkUpdateDescriptorSetWithTemplate(dev, set0, tmpl, set0_info);

   /* Record first, bind set 1 while it is still empty. */
   VkCommandPool pool;
   VkCommandBuffer cb = smoke_command_buffer(&s, 0, &pool);
   VkCommandBufferBeginInfo bi = { VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   CK(vkBeginCommandBuffer(cb, &bi));
   vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
   VkDescriptorSet sets[2] = { set0, set1 };
   vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 2, sets, 0, NULL);
   for (int d = 0; d < NDISP; d++) {
      push(cb, pl, &disp[d], d != 1);
      vkCmdDispatch(cb, N / 64, 1, 1);
   }
   CK(vkEndCommandBuffer(cb));

   /* Round 1: slots 0..5 hold buffers 0..5 (one write), slots 6 and 7 stay unwritten. */
   int slot_buf[VARCOUNT];
   VkDescriptorBufferInfo dbi[VARCOUNT];
   for (int j = 0; j < 6; j++) {
      slot_buf[j] = j;
      dbi[j] = (VkDescriptorBufferInfo){ data_buf[j], 0, VK_WHOLE_SIZE };
   }
   write_slot(set1, 0, 6, dbi);
   submit(cb);
   char what[64];
   for (int d = 0; d < NDISP; d++) {
      snprintf(what, sizeof(what), "round1 dispatch %d", d);
      check(what, out, &disp[d], slot_buf);
   }

   /* Round 2: rewrite slots 0..6 one by one (slot j holds buffer 7 - j), submit the same
    * command buffer again. */
   memset(out, 0, NDISP * N * 4);
   for (int j = 0; j < 7; j++) {
      slot_buf[j] = 7 - j;
      dbi[0] = (VkDescriptorBufferInfo){ data_buf[7 - j], 0, VK_WHOLE_SIZE };
      write_slot(set1, j, 1, dbi);
   }
   submit(cb);
   for (int d = 0; d < NDISP; d++) {
      snprintf(what, sizeof(what), "round2 dispatch %d", d);
      check(what, out, &disp[d], slot_buf);
   }

   if (has_push) {
      PFN_vkCmdPushDescriptorSetKHR push_set =
         (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(dev, "vkCmdPushDescriptorSetKHR");
      PFN_vkCmdPushDescriptorSetWithTemplateKHR push_tmpl =
         (PFN_vkCmdPushDescriptorSetWithTemplateKHR)vkGetDeviceProcAddr(
            dev, "vkCmdPushDescriptorSetWithTemplateKHR");
      if (!push_set || !push_tmpl) {
         printf("FAIL VK_KHR_push_descriptor commands missing\n");
         return 1;
      }
      tci.templateType = VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_PUSH_DESCRIPTORS_KHR;
      tci.descriptorSetLayout = VK_NULL_HANDLE;
      tci.pipelineBindPoint = VK_PIPELINE_BIND_POINT_COMPUTE;
      tci.pipelineLayout = pl_push;
      tci.set = 0;
      CK(vkCreateDescriptorUpdateTemplate(dev, &tci, NULL, &tmpl_push));
      CK(vkResetCommandPool(dev, pool, 0));
      CK(vkBeginCommandBuffer(cb, &bi));
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe_push);
      vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl_push, 1, 1, &set1, 0, NULL);
      /* First half of outp with vkCmdPushDescriptorSetKHR, second half (a descriptor at
       * offset N * 4) with the template; out_off is 0 for both. */
      const struct pc p[2] = { { 1, 5, 11, 0 }, { 0, 7, 13, 0 } };
      VkDescriptorBufferInfo pinfo[2] = { { sel_buf, 0, VK_WHOLE_SIZE }, { outp_buf, 0, N * 4 } };
      VkWriteDescriptorSet w[2] = {
         { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = 0, .descriptorCount = 1,
           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &pinfo[0] },
         { VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = 1, .descriptorCount = 1,
           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &pinfo[1] },
      };
      push_set(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl_push, 0, 2, w);
      push(cb, pl_push, &p[0], 1);
      vkCmdDispatch(cb, N / 64, 1, 1);
      pinfo[1].offset = N * 4;
      push_tmpl(cb, tmpl_push, pl_push, 0, pinfo);
      push(cb, pl_push, &p[1], 1);
      vkCmdDispatch(cb, N / 64, 1, 1);
      CK(vkEndCommandBuffer(cb));
      submit(cb);
      check("push descriptor set", outp, &p[0], slot_buf);
      check("push descriptor set with template", outp + N, &p[1], slot_buf);
   }

   vkUnmapMemory(dev, sel_mem);
   vkUnmapMemory(dev, out_mem);
   vkUnmapMemory(dev, outp_mem);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyDescriptorUpdateTemplate(dev, tmpl, NULL);
   vkDestroyDescriptorUpdateTemplate(dev, tmpl_push, NULL);
   vkDestroyDescriptorPool(dev, dp, NULL);
   vkDestroyPipeline(dev, pipe, NULL);
   vkDestroyPipeline(dev, pipe_push, NULL);
   vkDestroyShaderModule(dev, sm, NULL);
   vkDestroyPipelineLayout(dev, pl, NULL);
   vkDestroyPipelineLayout(dev, pl_push, NULL);
   vkDestroyDescriptorSetLayout(dev, dsl0, NULL);
   vkDestroyDescriptorSetLayout(dev, dsl_push, NULL);
   vkDestroyDescriptorSetLayout(dev, dsl1, NULL);
   VkBuffer bufs[3] = { sel_buf, out_buf, outp_buf };
   VkDeviceMemory mems[3] = { sel_mem, out_mem, outp_mem };
   for (int i = 0; i < 3; i++) {
      vkDestroyBuffer(dev, bufs[i], NULL);
      vkFreeMemory(dev, mems[i], NULL);
   }
   for (int b = 0; b < NBUF; b++) {
      vkDestroyBuffer(dev, data_buf[b], NULL);
      vkFreeMemory(dev, data_mem[b], NULL);
   }
   smoke_fini(&s);
   printf("OK push_indexing\n");
   return 0;
}
