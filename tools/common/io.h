/* SPDX-License-Identifier: MIT */
/* io.h - the one write loop of the rvmig tools: the library's own
 * (librvmig/core/fdio.c, compiled into the tools' common library since it
 * is not exported), under the tools' name. */
#ifndef RVMIG_TOOLS_IO_H
#define RVMIG_TOOLS_IO_H

#include "fdio.h"

/* Writes all of [p, p + len) to fd at `off` (pwrite), or at its current
 * position when off < 0 (pipes, terminals), retrying short writes and
 * EINTR.  0 or -errno. */
static inline int tool_write_all(int fd, const void *p, size_t len, off_t off)
{
	return fd_write_all(fd, p, len, off);
}

#endif
