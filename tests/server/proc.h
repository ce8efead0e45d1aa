/* proc.h - starting and stopping a dn-canvas process for the server tests:
 * every wait is bounded. */
#ifndef TEST_PROC_H
#define TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct server_proc {
    pid_t pid;
    int port;
} server_proc;

/* Runs argv (argv[0] the executable, with "--port 0"), waits up to 60 s for
 * "listening on http://127.0.0.1:PORT/" on its stdout and fills in *s.
 * False when it did not start; s->pid is then > 0 if a process needs
 * killing (proc_kill). stderr stays the caller's. */
bool proc_start(server_proc *s, char *const argv[]);

/* Starts a server in a child of this process: serve(arg) runs there and its
 * return value is the child's exit status; it must print the "listening"
 * line like dn-canvas. Call before creating any thread. */
bool proc_fork(server_proc *s, int (*serve)(void *arg), void *arg);

/* SIGTERM, then up to `patience` seconds for an exit; SIGKILL after that.
 * True when it exited by itself with status 0. */
bool proc_stop(server_proc *s, double patience, int *exit_status);

/* SIGKILL and reap. */
void proc_kill(server_proc *s);

#endif
