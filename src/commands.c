/* 'venusd commands': prints how each command of the Venus protocol is served (the table
 * gen/venus_gen.py writes into vn_command_table.c at build time). */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
   "Usage: venusd commands\n"
   "\n"
   "Prints how this venusd serves each command of the Venus protocol, one line per name in\n"
   "protocol/venus_command_types.tsv, sorted by command type value (a command before its\n"
   "aliases): TYPE NAME HOW WHERE [(alias of NAME)].  HOW is one of\n"
   "  hand-written          a VD_HANDLER; WHERE is its file:line in the source tree\n"
   "  transport             a hand-written MESA transport command (WHERE as above)\n"
   "  generated create      generated: calls the host, records the new objects' ids\n"
   "  generated destroy     generated: drops the object's record\n"
   "  pass-through          generated: calls the host with the handles translated\n"
   "  refused (not served)  no handler: the command makes the context fatal; WHERE says why\n"
   "  refused (not decodable)  the protocol cannot carry it to a renderer; WHERE says why\n"
   "The table is written at build time by gen/venus_gen.py (see docs/design.md).\n";

int vd_cmd_commands(int argc, char **argv)
{
   for (int i = 0; i < argc; i++) {
      if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
         fputs(usage, stdout);
         return 0;
      }
      fprintf(stderr,
              "venusd commands: unexpected argument '%s'\n"
              "Try 'venusd commands --help' for more information.\n",
              argv[i]);
      return 2;
   }
   for (size_t i = 0; i < vd_command_serving_count; i++) {
      const struct vd_command_serving *c = &vd_command_servings[i];
      printf("%3u  %-50s %-24s %s", (unsigned)c->type, c->name, c->how, c->where);
      if (c->alias_of)
         printf("  (alias of %s)", c->alias_of);
      putchar('\n');
   }
   return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
