/* Creates a device, does a little work, then sits idle for the number of seconds given
 * (default 2) before exiting: tests/integration/test_smoke.sh measures that venusd uses
 * (almost) no CPU while its client idles. */
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
   printf("idle\n");
   fflush(stdout);
   sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 2);
   vkDestroyFence(s.dev, f, NULL);
   smoke_fini(&s);
   printf("OK idle\n");
   return 0;
}
