/* Offline decoding of the command streams that --record writes (replay.c). */
#ifndef VD_CONTEXT_REPLAY_H
#define VD_CONTEXT_REPLAY_H

#include <stdio.h>

/* Prints every command of the --record file at `path` to `out`.  Returns 0 if every stream
 * decoded cleanly. */
int vd_replay_file(const char *path, FILE *out);

#endif
