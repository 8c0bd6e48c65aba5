/* SPDX-License-Identifier: MIT */
/*
 * child.h - the command rvmigd runs for one tunnel: started with
 * posix_spawn (no fork of a process holding registered memory), its stdin,
 * stdout and stderr on pipes whose daemon ends are non-blocking.
 */
#ifndef RVMIG_TOOLS_TUNNEL_CHILD_H
#define RVMIG_TOOLS_TUNNEL_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t pid;
	int in;  /* write end of the command's stdin, -1 once closed */
	int out; /* read end of its stdout, -1 at EOF */
	int err; /* read end of its stderr, -1 at EOF */
};

/* Starts argv (searched in PATH).  Returns 0 or -errno with `why` set. */
int child_spawn(struct child *c, char *const argv[], char *why, size_t whylen);
void child_close_stdin(struct child *c);
/* Non-blocking wait: 1 with *status set once it exited (0..255 exit
 * status, 256 + N killed by signal N), 0 while running, -errno. */
int child_reap(struct child *c, int *status);
/* Closes all pipes, sends SIGTERM if still running and waits for it. */
void child_kill(struct child *c);

#endif
