/* SPDX-License-Identifier: MIT */
/* output.c - the temp-file-then-rename (or stream) output of a receiving session. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/fdio.h"
#include "xstream/flusher.h"
#include "xstream/output.h"
#include "xstream/xlog.h"
#include "xstream/ownfile.h"

#define SYNC_STEP (32ull << 20) /* start writeback every this many bytes */
/*
 * A regular file is written at most this much per pwrite.  The page cache
 * gives a write folios as large as the write (ext4 has large folios), and
 * folios above 32 KiB (order 3, the largest the per-CPU page lists keep)
 * come from the buddy allocator's high-order blocks.  In a VM whose balloon
 * reports free memory to the host (virtio-balloon REPORTING, as on the build
 * machine) those blocks are handed back about a second after they were
 * freed, and the first copy into them is several times dearer.  Measured
 * (bench/README.md, issue 19, h2), one 256 MiB raw receive on a host idle
 * for 5 s: 0.52-0.63 s of receiver CPU in 1 MiB writes, 0.21-0.23 s in
 * 32 KiB writes; right after another 1 MiB writer freed its file 0.19-0.42
 * and 0.21-0.22 s.  The price is 40 instead of 10 syscalls per MiB.
 */
#define FILE_PIECE (32u << 10)

static const uint8_t zeros[64 * 1024];

static const char *type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return S_ISDIR(m) ? "a directory" : "a special file";
}

int output_check(const char *path, bool resume, char *why, size_t whylen)
{
	size_t len = strlen(path);
	struct stat st;

	if (!len) {
		snprintf(why, whylen, "-o needs a path (or - for stdout), not ''");
		return -EINVAL;
	}
	if (!strcmp(path, "-"))
		return 0;
	if (path[len - 1] == '/') {
		snprintf(why, whylen, "-o %s ends in '/': name the file to write", path);
		return -EINVAL;
	}
	if (stat(path, &st))
		return 0; /* a new file; output_init() reports what else is wrong */
	if (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen, "-o %s is %s: name the file to write%s", path,
			 type_name(st.st_mode), S_ISDIR(st.st_mode) ? " in it" : "");
		return -EINVAL;
	}
	if (resume && !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "--resume needs a regular file: -o %s is %s, written in place "
			 "as a stream that cannot be taken back", path, type_name(st.st_mode));
		return -EINVAL;
	}
	return 0;
}

/*
 * A stream is written without blocking (stream_write() polls it), so that a
 * reader that takes nothing cannot hold the receiver inside write(), deaf
 * to signals and to its timeout: our own descriptor of a FIFO or device is
 * made O_NONBLOCK; stdout or a caller's descriptor, whose open file
 * description others may share, is reopened (/proc/self/fd/N) as one of our
 * own, or, a socket, written
 * with MSG_DONTWAIT.  Files and block devices never wait for a reader.
 */
static void stream_nonblocking(struct recv_output *o)
{
	struct stat st;
	int fd, fl;

	if (fstat(o->fd, &st) || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		o->nbsend = true;
	} else if (!o->borrowed) {
		fl = fcntl(o->fd, F_GETFL);
		if (fl >= 0)
			fcntl(o->fd, F_SETFL, fl | O_NONBLOCK);
	} else {
		/* (A pipe without a reader now: ENXIO; it stays blocking, and
		 * writing to it fails with EPIPE anyway.) */
		char self[40];

		snprintf(self, sizeof(self), "/proc/self/fd/%d", o->fd);
		fd = open(self, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			o->fd = fd;
	}
}

int output_init_fd(struct recv_output *o, int fd, const char *name,
		   const struct rvmig_logger *log)
{
	memset(o, 0, sizeof(*o));
	o->log = log;
	o->dirfd = -1;
	o->path = name;
	o->borrowed = o->stream = true;
	o->fd = o->borrowed_fd = fd;
	stream_nonblocking(o);
	return 0;
}

int output_init(struct recv_output *o, const char *path, unsigned mode,
		const struct rvmig_logger *log, char *why, size_t whylen)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int rc;

	if (!strcmp(path, "-")) {
		output_init_fd(o, STDOUT_FILENO, "stdout", log);
		o->is_stdout = true;
		return 0;
	}
	memset(o, 0, sizeof(*o));
	o->log = log;
	o->fd = o->dirfd = -1;
	o->mode = mode;
	o->path = path;
	if (!stat(path, &st) &&
	    (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
		/* Written in place: a FIFO waits here for its reader. */
		o->stream = true;
		o->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (o->fd < 0) {
			rc = -errno;
			snprintf(why, whylen, "cannot open %s (%s): %s", path, type_name(st.st_mode),
				 errno == EINTR ? "interrupted by a signal" : strerror(errno));
			return rc;
		}
		if (isatty(o->fd)) {
			snprintf(why, whylen, "refusing to write a binary stream to the terminal %s",
				 path);
			return -ENOTTY;
		}
		if (fstat(o->fd, &st) || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
			snprintf(why, whylen, "%s changed while it was opened: not a FIFO or device "
				 "any more", path);
			return -EAGAIN;
		}
		stream_nonblocking(o);
		return 0;
	}
	o->dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0 || faccessat(o->dirfd, ".", W_OK | X_OK, AT_EACCESS)) {
		rc = -errno;
		snprintf(why, whylen, "cannot write into the directory of %s: %s", path,
			 strerror(errno));
		free(dir);
		return rc;
	}
	free(dir);
	return 0;
}

/*
 * Temporary files of receivers that were killed (SIGKILL, a crash, power
 * loss) stay behind as PATH.rvmig-partial-XXXXXX.  Every receiver holds an
 * flock on its own; one that can be locked has no owner any more and is
 * removed, saying so.  One that is locked belongs to a running receiver and
 * is left alone.  Only regular files of ours are considered: a symbolic
 * link, FIFO, device or another user's file of that name is never opened
 * through, nor removed.
 */
static void remove_stale(const struct recv_output *o)
{
	const char *base = o->path + o->dirlen, *own = o->tmp + o->dirlen;
	char *prefix = NULL, why[256];
	struct dirent *e;
	DIR *d = NULL;
	size_t pl;
	int dfd;

	if (asprintf(&prefix, "%s" OUTPUT_PARTIAL_SUFFIX "-", base) < 0) {
		prefix = NULL;
		goto out;
	}
	dfd = openat(o->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto out;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		goto out;
	}
	pl = strlen(prefix);
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (strncmp(e->d_name, prefix, pl) || strlen(e->d_name) != pl + 6 ||
		    !strcmp(e->d_name, own))
			continue;
		/* Looked at without opening first: opening a device can act. */
		if (fstatat(o->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		fd = ownfile_open(o->dirfd, e->d_name, O_RDONLY, e->d_name, why, sizeof(why));
		if (fd < 0)
			continue;
		if (!flock(fd, LOCK_EX | LOCK_NB) && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
		    !unlinkat(o->dirfd, e->d_name, 0))
			xlog(o->log, RVMIG_LOG_INFO, "removed %.*s%s (%llu bytes) left behind by a receiver that was "
				  "killed", (int)o->dirlen, o->path, e->d_name,
				  (unsigned long long)st.st_size);
		close(fd);
	}
out:
	if (d)
		closedir(d);
	free(prefix);
}

/* The XXXXXX of a temporary name. */
static int random_suffix(char *x)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	for (int i = 0; i < 6; i++)
		x[i] = set[r[i] % (sizeof(set) - 1)];
	return 0;
}

int output_open(struct recv_output *o, char *why, size_t whylen)
{
	struct stat st;
	int rc = -EEXIST;

	if (o->stream)
		return 0;
	if (asprintf(&o->tmp, "%s" OUTPUT_PARTIAL_SUFFIX "-XXXXXX", o->path) < 0) {
		o->tmp = NULL;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (int tries = 0; tries < 100; tries++) {
		if ((rc = random_suffix(o->tmp + strlen(o->tmp) - 6))) {
			snprintf(why, whylen, "cannot name a temporary file: %s", strerror(-rc));
			break;
		}
		o->fd = ownfile_open(o->dirfd, o->tmp + o->dirlen, O_RDWR | O_CREAT, o->tmp, why,
				     whylen);
		if (o->fd == -EEXIST) {
			rc = o->fd;
			continue;
		}
		if (o->fd < 0) {
			rc = o->fd;
			break;
		}
		/* Ours while we live (see remove_stale()); another receiver's
		 * sweep may have removed it between its creation and flock. */
		if (!flock(o->fd, LOCK_EX | LOCK_NB) && !fstat(o->fd, &st) && st.st_nlink) {
			remove_stale(o);
			return 0;
		}
		close(o->fd);
		rc = -EAGAIN;
	}
	if (rc == -EEXIST || rc == -EAGAIN)
		snprintf(why, whylen, "cannot create a temporary file %s: %s", o->tmp, strerror(-rc));
	o->fd = -1;
	free(o->tmp);
	o->tmp = NULL;
	return rc;
}

int output_open_resume(struct recv_output *o, uint64_t keep, char *why, size_t whylen)
{
	const char *name;
	struct stat st;
	int rc;

	o->resume = true;
	if (asprintf(&o->tmp, "%s" OUTPUT_PARTIAL_SUFFIX, o->path) < 0) {
		o->tmp = NULL;
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	name = o->tmp + o->dirlen;
	/* An existing partial must be a regular file of ours; else a new one
	 * (O_EXCL: a name that appears meanwhile is looked at again). */
	for (int tries = 0; tries < 3; tries++) {
		o->fd = ownfile_open(o->dirfd, name, O_RDWR, o->tmp, why, whylen);
		if (o->fd != -ENOENT)
			break;
		o->fd = ownfile_open(o->dirfd, name, O_RDWR | O_CREAT, o->tmp, why, whylen);
		if (o->fd != -EEXIST)
			break;
	}
	if (o->fd < 0) {
		rc = o->fd;
		o->fd = -1;
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
	/* Guest memory: readable by us only while it is being written (an
	 * older receiver made its partials 0644). */
	if (fchmod(o->fd, 0600) || fstat(o->fd, &st)) {
		rc = -errno;
		snprintf(why, whylen, "cannot set the mode of %s: %s", o->tmp, strerror(errno));
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
	int rc;

	if (o->stream)
		return 0;
	/* A flush that failed while writing told only the flusher. */
	rc = o->flusher ? flusher_error(o->flusher) : 0;
	if (!rc && (fstat(o->fd, &st) ||
		    ((uint64_t)st.st_size < o->off && ftruncate(o->fd, (off_t)o->off)) ||
		    fsync(o->fd)))
		rc = -errno;
	if (rc) {
		snprintf(why, whylen, "cannot make %llu bytes of %s durable: %s",
			 (unsigned long long)o->off, o->tmp, strerror(-rc));
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes to a stream, waiting in poll() while its reader takes nothing and
 * asking o->stall every OUTPUT_STALL_POLL_MS whether to go on waiting. */
static int stream_write(struct recv_output *o, const uint8_t *p, size_t len)
{
	uint64_t since = 0;

	while (len) {
		ssize_t n = o->nbsend ? send(o->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL)
				      : write(o->fd, p, len);
		struct pollfd pf = { .fd = o->fd, .events = POLLOUT };
		int rc;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			since = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (!since)
			since = now_ms();
		rc = poll(&pf, 1, OUTPUT_STALL_POLL_MS);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (o->stall && (rc != 1 || now_ms() - since >= OUTPUT_STALL_POLL_MS) &&
		    (rc = o->stall(o->stall_arg, now_ms() - since)) < 0)
			return rc;
	}
	return 0;
}

static void start_writeback(struct recv_output *o)
{
	if (o->stream || o->off < o->synced + SYNC_STEP)
		return;
	/* Keeps dirty pages small; and the final fsync: a flush of what is
	 * written so far, in the flusher's thread (flusher.h). */
	(void)sync_file_range(o->fd, (off64_t)o->synced, (off64_t)(o->off - o->synced),
			      SYNC_FILE_RANGE_WRITE);
	o->synced = o->off;
	if (!o->flusher_tried) {
		o->flusher_tried = true;
		o->flusher = flusher_start(o->fd);
	}
	if (o->flusher)
		flusher_kick(o->flusher);
}

/* Writes [p, p + len) at o->off of a regular file, FILE_PIECE at a time. */
static int file_write(struct recv_output *o, const uint8_t *p, size_t len)
{
	for (size_t done = 0, n; done < len; done += n) {
		int rc;

		n = len - done < FILE_PIECE ? len - done : FILE_PIECE;
		rc = fd_write_all(o->fd, p + done, n, (off_t)(o->off + done));
		if (rc)
			return rc;
	}
	return 0;
}

int output_write(struct recv_output *o, const void *data, size_t len)
{
	int rc;

	rc = o->stream ? stream_write(o, data, len) : file_write(o, data, len);
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

		if (o->stream) {
			int rc = stream_write(o, zeros, n);

			if (rc)
				return rc;
		}
		o->off += n;
		len -= n;
	}
	return 0;
}

/*
 * The mode PATH gets: an existing regular PATH's permission bits (never
 * set-id bits) and, for root, its owner and group; otherwise o->mode.  A
 * group that cannot be kept (not root, not one of ours) does not get the
 * group permissions: they were meant for another group.
 */
static int final_mode(struct recv_output *o, char *why, size_t whylen)
{
	unsigned mode = o->mode;
	struct stat st, mine;
	int err;

	if (!fstatat(o->dirfd, o->path + o->dirlen, &st, AT_SYMLINK_NOFOLLOW) &&
	    S_ISREG(st.st_mode)) {
		mode = st.st_mode & 0777;
		if (fstat(o->fd, &mine))
			goto fail;
		if (!geteuid()) {
			if ((mine.st_uid != st.st_uid || mine.st_gid != st.st_gid) &&
			    fchown(o->fd, st.st_uid, st.st_gid))
				goto fail;
		} else if (mine.st_gid != st.st_gid && (mode & 070) &&
			   fchown(o->fd, (uid_t)-1, st.st_gid)) {
			xlog(o->log, RVMIG_LOG_INFO, "%s: its group (gid %u) cannot be kept, the new file has no group "
				  "permissions", o->path, (unsigned)st.st_gid);
			mode &= ~070u;
		}
	}
	if (fchmod(o->fd, mode))
		goto fail;
	return 0;
fail:
	err = errno;
	snprintf(why, whylen, "cannot set the mode and owner of %s: %s", o->tmp, strerror(err));
	return -err;
}

int output_commit(struct recv_output *o, char *why, size_t whylen)
{
	struct stat st;
	int rc = 0;

	if (o->stream) {
		/* A block device holds the data: flush it, and a caller's
		 * regular file (a FIFO, a character device or stdout have
		 * nothing to make durable). */
		if (!o->is_stdout && !fstat(o->fd, &st) &&
		    (S_ISBLK(st.st_mode) || (o->borrowed && S_ISREG(st.st_mode))) && fsync(o->fd)) {
			rc = -errno;
			snprintf(why, whylen, "fsync %s: %s", o->path, strerror(errno));
		}
		return rc;
	}
	/* A flush that failed while writing told only the flusher. */
	rc = flusher_stop(o->flusher);
	o->flusher = NULL;
	if (rc) {
		snprintf(why, whylen, "fsync %s: %s", o->tmp, strerror(-rc));
		return rc;
	}
	/* A file ending in a hole needs its length set. */
	if (ftruncate(o->fd, (off_t)o->off)) {
		rc = -errno;
		snprintf(why, whylen, "cannot set the length of %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if ((rc = final_mode(o, why, whylen)))
		return rc;
	if (fsync(o->fd)) {
		rc = -errno;
		snprintf(why, whylen, "fsync %s: %s", o->tmp, strerror(errno));
		return rc;
	}
	if (renameat(o->dirfd, o->tmp + o->dirlen, o->dirfd, o->path + o->dirlen)) {
		rc = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
		return rc;
	}
	o->committed = true;
	if (fsync(o->dirfd)) {
		rc = -errno;
		snprintf(why, whylen, "fsync of the directory of %s: %s", o->path, strerror(errno));
	}
	return rc;
}

void output_discard(struct recv_output *o)
{
	if (o->tmp && !o->committed && o->dirfd >= 0)
		unlinkat(o->dirfd, o->tmp + o->dirlen, 0);
}

void output_close(struct recv_output *o)
{
	flusher_stop(o->flusher); /* before its descriptor goes */
	o->flusher = NULL;
	if (o->fd >= 0 && (!o->borrowed || o->fd != o->borrowed_fd)) /* ours: reopened */
		close(o->fd);
	o->fd = -1;
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->dirfd = -1;
	free(o->tmp);
	o->tmp = NULL;
}
