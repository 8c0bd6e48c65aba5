/* SPDX-License-Identifier: MIT */
/* ownfile.c - opening the receiver's own files safely (see ownfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xstream/ownfile.h"

int ownfile_check(int fd, const char *shown, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int rc = -errno;

		snprintf(why, whylen, "cannot stat %s: %s", shown, strerror(errno));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "refusing %s: not a regular file", shown);
		return -EPERM;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "refusing %s: owned by uid %u, not by this user (uid %u)",
			 shown, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_nlink != 1) {
		snprintf(why, whylen, "refusing %s: it has %lu hard links, not 1", shown,
			 (unsigned long)st.st_nlink);
		return -EPERM;
	}
	return 0;
}

int ownfile_open(int dirfd, const char *name, int flags, const char *shown, char *why,
		 size_t whylen)
{
	int fd, rc;

	if (flags & O_CREAT)
		flags |= O_EXCL;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			snprintf(why, whylen, "refusing %s: it is a symbolic link", shown);
		else
			snprintf(why, whylen, "cannot %s %s: %s",
				 flags & O_CREAT ? "create" : "open", shown, strerror(errno));
		return rc;
	}
	/* A file this call created (O_EXCL, no link followed) is ours whoever
	 * the filesystem says owns it (NFS root_squash, uid= mounts). */
	if (!(flags & O_CREAT) && (rc = ownfile_check(fd, shown, why, whylen))) {
		close(fd);
		return rc;
	}
	/* A regular file: O_NONBLOCK changes nothing, but it is not kept. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		rc = -errno;
		snprintf(why, whylen, "cannot use %s: %s", shown, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}
