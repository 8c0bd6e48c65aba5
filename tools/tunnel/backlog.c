/* SPDX-License-Identifier: MIT */
/* backlog.c - the non-blocking stdin of rvmigd's commands (backlog.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/backlog.h"

static const uint8_t zero_page[65536];

/* Writes what the pipe takes now; returns the bytes written (all of them
 * once the reader is gone or the pipe closed) or -errno. */
static ssize_t put(struct backlog *b, const void *p, size_t len)
{
	size_t done = 0;

	while (done < len && !b->gone && *b->fd >= 0) {
		ssize_t n = write(*b->fd, (const uint8_t *)p + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			b->gone = true;
			break;
		}
		if (n < 0 && errno == EAGAIN)
			break;
		return -errno;
	}
	return b->gone || *b->fd < 0 ? (ssize_t)len : (ssize_t)done;
}

bool backlog_empty(const struct backlog *b)
{
	return b->off == b->len && !b->zeros;
}

bool backlog_waits(const struct backlog *b)
{
	return !backlog_empty(b) && !b->gone && *b->fd >= 0;
}

int backlog_flush(struct backlog *b)
{
	ssize_t n;

	if (b->off < b->len) {
		n = put(b, b->buf + b->off, b->len - b->off);
		if (n < 0)
			return (int)n;
		b->off += (size_t)n;
		if (b->off < b->len)
			return 0;
	}
	b->off = b->len = 0;
	while (b->zeros) {
		size_t want = b->zeros < sizeof(zero_page) ? (size_t)b->zeros : sizeof(zero_page);

		n = put(b, zero_page, want);
		if (n <= 0)
			return (int)n;
		b->zeros -= (uint64_t)n;
	}
	return 0;
}

static int add(struct backlog *b, const void *p, size_t len)
{
	if (b->zeros) /* never within one event (one sink call each); keep the order */
		return -EPROTO;
	if (b->len + len > b->cap) {
		size_t cap = b->len + len;
		uint8_t *nb = realloc(b->buf, cap);

		if (!nb)
			return -ENOMEM;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	return 0;
}

int backlog_write(void *arg, const void *data, size_t len)
{
	struct backlog *b = arg;
	ssize_t n = 0;

	if (backlog_empty(b)) {
		n = put(b, data, len);
		if (n < 0)
			return (int)n;
	}
	return (size_t)n < len ? add(b, (const uint8_t *)data + n, len - (size_t)n) : 0;
}

int backlog_zero(void *arg, uint64_t len)
{
	struct backlog *b = arg;

	if (backlog_empty(b)) {
		while (len) {
			size_t want = len < sizeof(zero_page) ? (size_t)len : sizeof(zero_page);
			ssize_t n = put(b, zero_page, want);

			if (n < 0)
				return (int)n;
			if (!n)
				break;
			len -= (uint64_t)n;
		}
	}
	b->zeros += len;
	return 0;
}

void backlog_clear(struct backlog *b)
{
	b->off = b->len = 0;
	b->zeros = 0;
}

void backlog_free(struct backlog *b)
{
	free(b->buf);
	b->buf = NULL;
}
