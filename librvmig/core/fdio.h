/* SPDX-License-Identifier: MIT */
/*
 * fdio.h - the one write loop of the library and the tools: the receiving
 * session's output (xstream/output.c) and the tools (tools/common/io.h,
 * which compile fdio.c in: it is not exported).
 */
#ifndef RVMIG_CORE_FDIO_H
#define RVMIG_CORE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all of [p, p + len) to fd at `off` (pwrite), or at its current
 * position when off < 0 (pipes, terminals), retrying short writes and
 * EINTR.  0 or -errno. */
int fd_write_all(int fd, const void *p, size_t len, off_t off);

#endif
