/* SPDX-License-Identifier: MIT */
/* io.h - the one write loop of the rvmig tools. */
#ifndef RVMIG_TOOLS_IO_H
#define RVMIG_TOOLS_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all of [p, p + len) to fd at `off` (pwrite), or at its current
 * position when off < 0 (pipes, terminals), retrying short writes and
 * EINTR.  0 or -errno. */
int tool_write_all(int fd, const void *p, size_t len, off_t off);

#endif
