/* Creates a device, does a little work, then sits idle for the number of seconds given
 * (default 2) before exiting: tests/integration/test_apps.sh measures that venusd uses
 * (almost) no CPU while its client idles.
 *
 * vk_idle --wait-forever: prints "waiting" and waits without a timeout on a fence that is
 * never submitted (with VN_PERF=no_fence_feedback the wait runs in venusd), for tests that
 * kill a client blocked in the host. */
#include <string.h>
#include <unistd.h>

#include "smoke.h"

int main(int argc, char **argv)
{
   struct smoke s;
   smoke_init(&s);
   VkFenceCreateInfo fci = { VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence f;
   CK(vkCreateFence(s.dev, &fci, NULL, &f));
   CK(vkQueueSubmit(s.q, 0, NULL, f));
   CK(vkWaitForFences(s.dev, 1, &f, VK_TRUE, UINT64_MAX));
   if (argc > 1 && !strcmp(argv[1], "--wait-forever")) {
      VkFence never;
      CK(vkCreateFence(s.dev, &fci, NULL, &never));
      printf("waiting\n");
      fflush(stdout);
      VkResult r = vkWaitForFences(s.dev, 1, &never, VK_TRUE, UINT64_MAX);
      printf("FAIL the wait returned %d\n", r);
      return 1;
   }
   printf("idle\n");
   fflush(stdout);
   sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 2);
   vkDestroyFence(s.dev, f, NULL);
   smoke_fini(&s);
   printf("OK idle\n");
   return 0;
}
