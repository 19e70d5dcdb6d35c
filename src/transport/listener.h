/* Who holds a unix socket path: the check behind `venusd vtest`'s refusal to take over the
 * socket of a live server, shared with `venusd doctor`. */
#ifndef VD_TRANSPORT_LISTENER_H
#define VD_TRANSPORT_LISTENER_H

#include <stddef.h>
#include <sys/types.h>

/* Who listens on the unix socket at `path`: its pid (from SO_PEERCRED), -1 if someone
 * does but the pid is unknown, 0 if nobody accepts connections there (a stale file, or no
 * file). */
pid_t vd_socket_listener(const char *path);

/* The command name of process `pid` (/proc/PID/comm) into buf; "?" when unknown. */
void vd_process_name(pid_t pid, char *buf, size_t size);

#endif
