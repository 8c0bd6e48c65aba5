/* SPDX-License-Identifier: MIT */
/* output.c - the temp-file-then-rename (or stdout) output of rvmig-recv. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

#define SYNC_STEP (32ull << 20) /* start writeback every this many bytes */

static const uint8_t zeros[64 * 1024];

int output_open(struct recv_output *o, const char *path, char *why, size_t whylen)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!strcmp(path, "-")) {
		o->path = "stdout";
		o->is_stdout = true;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	o->path = path;
	if (asprintf(&o->tmp, "%s.rvmig-partial-XXXXXX", path) < 0) {
		o->tmp = NULL;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int rc = -errno;

		snprintf(why, whylen, "cannot create %s: %s", o->tmp, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return rc;
	}
	{
		mode_t um = umask(0);

		umask(um);
		(void)fchmod(o->fd, 0666 & ~um);
	}
	return 0;
}

/* Writes at `off`, or at the current position (pipes) when off < 0. */
static int write_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

static void start_writeback(struct recv_output *o)
{
	if (o->is_stdout || o->off < o->synced + SYNC_STEP)
		return;
	/* Keeps dirty pages (and the final fsync) small. */
	(void)sync_file_range(o->fd, (off64_t)o->synced, (off64_t)(o->off - o->synced),
			      SYNC_FILE_RANGE_WRITE);
	o->synced = o->off;
}

int output_write(struct recv_output *o, const void *data, size_t len)
{
	int rc;

	rc = write_all(o->fd, data, len, o->is_stdout ? -1 : (off_t)o->off);
	if (rc)
		return rc;
	o->off += len;
	start_writeback(o);
	return 0;
}

int output_zero(struct recv_output *o, uint64_t len)
{
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		if (o->is_stdout) {
			int rc = write_all(o->fd, zeros, n, -1);

			if (rc)
				return rc;
		}
		o->off += n;
		len -= n;
	}
	return 0;
}

int output_commit(struct recv_output *o, char *why, size_t whylen)
{
	char *d;
	int dfd, rc = 0;

	if (o->is_stdout)
		return 0;
	/* A file ending in a hole needs its length set. */
	if (ftruncate(o->fd, (off_t)o->off)) {
		rc = -errno;
		snprintf(why, whylen, "cannot set the length of %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if (fsync(o->fd)) {
		rc = -errno;
		snprintf(why, whylen, "fsync %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if (rename(o->tmp, o->path)) {
		rc = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
		return rc;
	}
	o->committed = true;
	d = strdup(o->path);
	if (!d)
		return 0;
	dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		rc = -errno;
		snprintf(why, whylen, "fsync of the directory of %s: %s", o->path, strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
	free(d);
	return rc;
}

void output_discard(struct recv_output *o)
{
	if (o->tmp && !o->committed)
		unlink(o->tmp);
}

void output_close(struct recv_output *o)
{
	if (o->fd > STDERR_FILENO)
		close(o->fd);
	o->fd = -1;
	free(o->tmp);
	o->tmp = NULL;
}
