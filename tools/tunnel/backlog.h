/* SPDX-License-Identifier: MIT */
/*
 * backlog.h - the command's stdin in rvmigd, written without ever blocking
 * the daemon: what the pipe cannot take now waits here (the bytes of at
 * most one event, then zeros) and rvmigd takes no further event of that
 * session until it drained (rvmig_xrecv_attr.ready).  A command that no
 * longer reads (EPIPE) gets nothing more: what comes is dropped.
 */
#ifndef RVMIG_TOOLS_TUNNEL_BACKLOG_H
#define RVMIG_TOOLS_TUNNEL_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backlog {
	const int *fd;      /* the pipe (-1 once closed), the session's */
	bool gone;          /* the reader went away (EPIPE) */
	uint8_t *buf;
	size_t len, off, cap;
	uint64_t zeros;     /* after the bytes */
};

bool backlog_empty(const struct backlog *b);
/* Something waits and the pipe could take it: poll fd for POLLOUT. */
bool backlog_waits(const struct backlog *b);
/* Moves as much of the backlog into the pipe as it takes: 0 or -errno. */
int backlog_flush(struct backlog *b);
/* The receiver's sink (rvmig_xrecv_sink): writes what the pipe takes now,
 * keeps the rest.  0 or -errno. */
int backlog_write(void *b, const void *data, size_t len);
int backlog_zero(void *b, uint64_t len);
/* Forgets what waits (the session failed). */
void backlog_clear(struct backlog *b);
void backlog_free(struct backlog *b);

#endif
