/* SPDX-License-Identifier: MIT */
/*
 * ownfile.h - the receiver's own files (partials, journals) in an output
 * directory that others may be able to write into.
 *
 * Every such file is reached by its last name component relative to a
 * descriptor of the directory (openat), never through a symbolic link
 * (O_NOFOLLOW), and without blocking on a FIFO (O_NONBLOCK, cleared once
 * the file is known to be regular).  A file that exists is used only if
 * fstat() shows a regular file with a single link owned by the effective
 * user: otherwise a planted symlink, hard link, FIFO, device or another
 * user's file could make the receiver truncate, chmod or write a file it
 * was never asked to touch.  New files are created O_EXCL, mode 0600.
 */
#ifndef RVMIG_XSTREAM_OWNFILE_H
#define RVMIG_XSTREAM_OWNFILE_H

#include <stddef.h>

/* Opens `name` in `dirfd` with `flags` (O_RDONLY, O_WRONLY or O_RDWR, plus
 * O_CREAT to create a new file, which adds O_EXCL).  `shown` names the file
 * in `why`.  Returns the descriptor (O_CLOEXEC), or -errno with `why`
 * filled: -ENOENT when it does not exist (without O_CREAT), -EEXIST when
 * it does (with O_CREAT), -ELOOP for a symbolic link, -EPERM for an
 * existing file that is not a regular one of ours with one link. */
int ownfile_open(int dirfd, const char *name, int flags, const char *shown, char *why,
		 size_t whylen);

/* Checks an open descriptor as above.  Returns 0 or -EPERM with `why`. */
int ownfile_check(int fd, const char *shown, char *why, size_t whylen);

#endif
