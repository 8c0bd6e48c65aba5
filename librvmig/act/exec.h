/* SPDX-License-Identifier: MIT */
/*
 * act_exec.h - one command of an actuator run to its end under a deadline:
 * an argv (no shell; tools/tunnel/child.h), stdin closed, stdout kept, each
 * stdout / stderr line handed to the caller as it arrives.  What the Xen
 * actuator's xl calls (act_xen.c) and the migration executor's xl migrate,
 * rvmig-save and rvmig-recv runs (act_migrate.c) go through.
 */
#ifndef RVMIG_TOOLS_POLICY_ACT_EXEC_H
#define RVMIG_TOOLS_POLICY_ACT_EXEC_H

#include <stddef.h>
#include <stdint.h>

#define ACT_EXEC_LINE_MAX 1024 /* bytes of a line handed on; longer ones are cut */
#define ACT_EXEC_TERM_MS 10000 /* SIGTERM at the deadline, SIGKILL this much later */

/* A line of the command's stdout (fd 1) or stderr (fd 2), raw (not
 * escaped), without its end ('\n' or '\r', as progress lines end). */
typedef void act_exec_line_fn(void *arg, int fd, const char *line);

/* The monotonic clock, ms. */
int64_t act_exec_now_ms(void);

/*
 * Runs argv for at most timeout_ms.  Its stdout goes into out (outcap
 * bytes, NUL-terminated, the rest dropped) when out is not NULL; each line
 * to on_line when that is not NULL.  Returns 0 when it exited 0; -EIO when
 * it exited otherwise (err: "CMD: exit status N: first stderr line",
 * escaped); -ETIMEDOUT when it was killed at the deadline; the spawn's
 * -errno (-ENOENT: no such program).
 */
int act_exec(char *const argv[], int64_t timeout_ms, char *out, size_t outcap,
	     act_exec_line_fn *on_line, void *arg, char *err, size_t errlen);

#endif
