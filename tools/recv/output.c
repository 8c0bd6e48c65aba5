/* SPDX-License-Identifier: MIT */
/* output.c - the temp-file-then-rename (or stdout) output of rvmig-recv. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cli.h"
#include "output.h"

#define SYNC_STEP (32ull << 20) /* start writeback every this many bytes */

static const uint8_t zeros[64 * 1024];

static void set_mode(int fd)
{
	mode_t um = umask(0);

	umask(um);
	(void)fchmod(fd, 0666 & ~um);
}

/*
 * Temporary files of receivers that were killed (SIGKILL, a crash, power
 * loss) stay behind as PATH.rvmig-partial-XXXXXX.  Every receiver holds an
 * flock on its own; one that can be locked has no owner any more and is
 * removed, saying so.  One that is locked belongs to a running receiver and
 * is left alone.
 */
static void remove_stale(const struct recv_output *o)
{
	char *dcopy = strdup(o->path), *bcopy = strdup(o->path), *dir, *base, *prefix = NULL;
	const char *own = strrchr(o->tmp, '/') ? strrchr(o->tmp, '/') + 1 : o->tmp;
	struct dirent *e;
	DIR *d = NULL;
	size_t pl;
	int dfd;

	if (!dcopy || !bcopy)
		goto out;
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (asprintf(&prefix, "%s.rvmig-partial-", base) < 0) {
		prefix = NULL;
		goto out;
	}
	d = opendir(dir);
	if (!d)
		goto out;
	dfd = dirfd(d);
	pl = strlen(prefix);
	while ((e = readdir(d))) {
		int fd;

		if (strncmp(e->d_name, prefix, pl) || strlen(e->d_name) != pl + 6 ||
		    !strcmp(e->d_name, own))
			continue;
		fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			struct stat st;

			if (!fstat(fd, &st) && S_ISREG(st.st_mode) && !unlinkat(dfd, e->d_name, 0))
				tool_info("removed %s/%s (%llu bytes) left behind by a receiver that was "
					  "killed", dir, e->d_name, (unsigned long long)st.st_size);
		}
		close(fd);
	}
out:
	if (d)
		closedir(d);
	free(prefix);
	free(dcopy);
	free(bcopy);
}

int output_open(struct recv_output *o, const char *path, char *why, size_t whylen)
{
	struct stat st;

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
	for (;;) {
		strcpy(o->tmp + strlen(o->tmp) - 6, "XXXXXX");
		o->fd = mkostemp(o->tmp, O_CLOEXEC);
		if (o->fd < 0) {
			int rc = -errno;

			snprintf(why, whylen, "cannot create %s: %s", o->tmp, strerror(errno));
			free(o->tmp);
			o->tmp = NULL;
			return rc;
		}
		/* Ours while we live (see remove_stale()); another receiver's
		 * sweep may have removed it between mkostemp and flock. */
		if (!flock(o->fd, LOCK_EX | LOCK_NB) && !fstat(o->fd, &st) && st.st_nlink)
			break;
		close(o->fd);
	}
	set_mode(o->fd);
	remove_stale(o);
	return 0;
}

int output_open_resume(struct recv_output *o, const char *path, uint64_t keep, char *why,
		       size_t whylen)
{
	struct stat st;
	int rc;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->path = path;
	o->resume = true;
	if (asprintf(&o->tmp, "%s" OUTPUT_PARTIAL_SUFFIX, path) < 0) {
		o->tmp = NULL;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	o->fd = open(o->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (o->fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot open %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if (flock(o->fd, LOCK_EX | LOCK_NB)) {
		rc = -errno;
		snprintf(why, whylen, "%s is in use (another rvmig-recv --resume?): %s", o->tmp,
			 strerror(errno));
		close(o->fd);
		o->fd = -1;
		return rc;
	}
	set_mode(o->fd);
	if (fstat(o->fd, &st)) {
		rc = -errno;
		snprintf(why, whylen, "cannot stat %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if ((uint64_t)st.st_size < keep) {
		snprintf(why, whylen, "%s holds %llu bytes, the journal says %llu are durable", o->tmp,
			 (unsigned long long)st.st_size, (unsigned long long)keep);
		return -ERANGE;
	}
	return output_truncate(o, keep, why, whylen);
}

int output_truncate(struct recv_output *o, uint64_t len, char *why, size_t whylen)
{
	if (ftruncate(o->fd, (off_t)len)) {
		int rc = -errno;

		snprintf(why, whylen, "cannot truncate %s to %llu bytes: %s", o->tmp,
			 (unsigned long long)len, strerror(errno));
		return rc;
	}
	o->off = o->synced = len;
	return 0;
}

int output_sync(struct recv_output *o, char *why, size_t whylen)
{
	struct stat st;

	if (o->is_stdout)
		return 0;
	if (fstat(o->fd, &st) || ((uint64_t)st.st_size < o->off && ftruncate(o->fd, (off_t)o->off)) ||
	    fsync(o->fd)) {
		int rc = -errno;

		snprintf(why, whylen, "cannot make %llu bytes of %s durable: %s",
			 (unsigned long long)o->off, o->tmp, strerror(errno));
		return rc;
	}
	o->synced = o->off;
	return 0;
}

int output_free_space(struct recv_output *o, uint64_t *free_bytes)
{
	struct statvfs sv;

	if (fstatvfs(o->fd, &sv))
		return -errno;
	*free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
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
