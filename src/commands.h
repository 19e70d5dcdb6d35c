/* 'venusd commands': how venusd serves each command of the Venus protocol. */
#ifndef VD_COMMANDS_H
#define VD_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

/* One row per name in protocol/venus_command_types.tsv, sorted by command type value (a
 * command before its aliases).  Written by gen/venus_gen.py into vn_command_table.c. */
struct vd_command_serving {
   uint32_t type; /* the Venus command type value */
   const char *name;
   const char *how;      /* "hand-written", "transport" (a hand-written MESA command),
                           * "generated create", "generated destroy", "pass-through",
                           * "refused (not served)", "refused (not decodable)" */
   const char *where;    /* "src/FILE.c:LINE" of the VD_HANDLER, why it is refused, or "-" */
   const char *alias_of; /* the command this name is an alias of, or NULL */
};

extern const struct vd_command_serving vd_command_servings[];
extern const size_t vd_command_serving_count;

/* venusd commands [--help]: prints the table, one line per command; returns the exit status. */
int vd_cmd_commands(int argc, char **argv);

#endif
