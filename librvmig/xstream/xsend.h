/* SPDX-License-Identifier: MIT */
/* xsend.h - what the sender session (xsender.c) needs of rvmig_xsend beyond
 * rvmig/xstream.h. */
#ifndef RVMIG_XSTREAM_XSEND_H
#define RVMIG_XSTREAM_XSEND_H

#include <rvmig/xstream.h>

/* rvmig_xsend_create() for an open fd, which stays the caller's (never
 * closed, read from its current position: a regular file at offset 0 is
 * read by position, anything else as a pipe).  `name` (copied) names the
 * input in messages and goes into rvmig_xsend_xfer_id() where the path
 * would.  -EBADF for fd < 0, else as rvmig_xsend_create(). */
int xsend_create_fd(int fd, const char *name, const struct rvmig_xsend_attr *attr,
		    rvmig_xsend **out);

/* Adds RVMIG_XSTREAM_F_* flags before the next rvmig_xsend_attach() (a
 * remote command's input: RVMIG_XSTREAM_F_PLAIN_FALLBACK). */
void xsend_add_flags(rvmig_xsend *s, uint32_t flags);

#endif
