/* SPDX-License-Identifier: MIT */
/* fsread.c - bounded whole-file reads into a reused buffer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/linux/fsread.h"

static int grow(struct mon_buf *b, size_t want)
{
	char *p;

	if (b->size >= want)
		return 0;
	p = realloc(b->p, want);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->size = want;
	return 0;
}

/* read(), or pread() at the bytes already read when `positional`. */
static ssize_t rd(int fd, void *p, size_t n, size_t at, int positional)
{
	return positional ? pread(fd, p, n, (off_t)at) : read(fd, p, n);
}

static long read_fd(struct mon_buf *b, int fd, size_t cap, unsigned flags, int positional)
{
	size_t len = 0;
	int rc;

	if ((rc = grow(b, cap < 4096 ? cap + 1 : 4096)) < 0)
		return rc;
	for (;;) {
		size_t room;
		ssize_t n;

		if (len + 1 >= b->size && b->size < cap + 1) {
			size_t want = b->size * 2 > cap + 1 ? cap + 1 : b->size * 2;

			if ((rc = grow(b, want)) < 0)
				return rc;
		}
		if (len >= cap) {
			char more;

			n = rd(fd, &more, 1, len, positional);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
			if (!(flags & MON_READ_CUT))
				return -EFBIG;
			while (len > 0 && b->p[len - 1] != '\n')
				len--;
			break;
		}
		/* The buffer may be larger than this read's cap (it is reused). */
		room = b->size - 1 - len;
		if (room > cap - len)
			room = cap - len;
		n = rd(fd, b->p + len, room, len, positional);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if ((flags & MON_READ_SHORT_EOF) && (size_t)n < room)
			break;
	}
	b->p[len] = '\0';
	return (long)len;
}

long mon_read_fd(struct mon_buf *b, int fd, size_t cap, unsigned flags)
{
	return read_fd(b, fd, cap, flags, 0);
}

long mon_pread_fd(struct mon_buf *b, int fd, size_t cap, unsigned flags)
{
	return read_fd(b, fd, cap, flags, 1);
}

static long read_path(struct mon_buf *b, size_t cap, unsigned flags, int dirfd, const char *fmt,
		      va_list ap)
{
	char path[PATH_MAX];
	long rc;
	int fd, n;

	n = vsnprintf(path, sizeof(path), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = mon_read_fd(b, fd, cap, flags);
	close(fd);
	return rc;
}

long mon_read(struct mon_buf *b, size_t cap, unsigned flags, const char *fmt, ...)
{
	va_list ap;
	long rc;

	va_start(ap, fmt);
	rc = read_path(b, cap, flags, AT_FDCWD, fmt, ap);
	va_end(ap);
	return rc;
}

long mon_read_at(struct mon_buf *b, size_t cap, unsigned flags, int dirfd, const char *fmt, ...)
{
	va_list ap;
	long rc;

	va_start(ap, fmt);
	rc = read_path(b, cap, flags, dirfd, fmt, ap);
	va_end(ap);
	return rc;
}

void mon_buf_free(struct mon_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->size = 0;
}
