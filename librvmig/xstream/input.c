/* SPDX-License-Identifier: MIT */
/* input.c - a sender's input: a file or pipe read into a ring of buffers. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/ep.h"
#include "xstream/digest.h"
#include "xstream/input.h"

/* A regular file is read in pieces of this size: each is parsed and
 * hashed right after its read, while it is still in the CPU's cache. */
#define READ_CHUNK (1u << 20)
#define HUGE_ALIGN (2u << 20)

static void why(struct send_input *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct send_input *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->why, sizeof(in->why), fmt, ap);
	va_end(ap);
}

static int open_ring(struct send_input *in, unsigned nbufs, size_t bufsize)
{
	in->nbufs = nbufs;
	in->bufs = calloc(nbufs, sizeof(*in->bufs));
	if (!in->bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < nbufs; i++) {
		void *p = mmap(NULL, bufsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			why(in, "cannot allocate %zu-byte input buffers: %s", bufsize,
				 strerror(errno));
			return -ENOMEM;
		}
		/* First touch of a 4 KiB page costs microseconds on some hosts
		 * (paravirtualised guests); a transparent huge page is touched
		 * once per 2 MiB.  Advice only. */
		if (!(bufsize % HUGE_ALIGN))
			(void)madvise(p, bufsize, MADV_HUGEPAGE);
		in->bufs[i].base = p;
		in->bufs[i].cap = bufsize;
	}
	return 0;
}

/* What the input is: a regular file at offset 0 is read by position, a directory
 * refused, anything else read as a pipe. */
static int input_setup(struct send_input *in, unsigned nbufs, size_t bufsize)
{
	struct stat st;
	int rc;

	if (fstat(in->fd, &st)) {
		rc = -errno;
		why(in, "cannot stat %s: %s", in->name, strerror(errno));
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		why(in, "%s is a directory", in->name);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && lseek(in->fd, 0, SEEK_CUR) == 0) {
		in->file = true;
		in->size_known = true;
		in->size = (uint64_t)st.st_size;
	} else {
		/* Larger pipe: fewer wake-ups.  Not fatal if refused. */
		(void)fcntl(in->fd, F_SETPIPE_SZ, 1 << 20);
	}
	return open_ring(in, nbufs, bufsize);
}

int input_open(struct send_input *in, const char *path, unsigned nbufs, size_t bufsize)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if (!strcmp(path, "-")) {
		in->name = "stdin";
		in->fd = STDIN_FILENO;
	} else {
		in->name = path;
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			rc = -errno;
			why(in, "cannot open %s: %s", path, strerror(errno));
			return rc;
		}
		in->own_fd = true;
	}
	return input_setup(in, nbufs, bufsize);
}

int input_open_fd(struct send_input *in, int fd, const char *name, unsigned nbufs,
		  size_t bufsize)
{
	memset(in, 0, sizeof(*in));
	in->name = name;
	in->fd = fd;
	return input_setup(in, nbufs, bufsize);
}

int input_open_fed(struct send_input *in, const char *name)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->name = name;
	in->fed = true;
	in->nbufs = 2;
	in->bufs = calloc(in->nbufs, sizeof(*in->bufs));
	return in->bufs ? 0 : -ENOMEM;
}

int input_feed(struct send_input *in, rvmig_ep *ep, rvmig_mr *mr, uint64_t off, size_t len)
{
	struct in_buf *b;

	if (mr->ep != ep) {
		why(in, "the memory region handed over is registered with another endpoint");
		return -EINVAL;
	}
	if (off > mr->len || len > mr->len - off) {
		why(in, "bytes [%llu, %llu) lie outside the %zu-byte memory region handed over",
		    (unsigned long long)off, (unsigned long long)(off + len), mr->len);
		return -ERANGE;
	}
	in->cur = (in->cur + 1) % in->nbufs;
	b = &in->bufs[in->cur];
	*b = (struct in_buf){ .base = mr->addr + off, .cap = len, .filled = len,
			      .stream_base = in->read_total, .mr = mr, .mr_off = off };
	in->read_total += len;
	return 0;
}

void input_rewind(struct send_input *in)
{
	if (in->fed) {
		memset(in->bufs, 0, in->nbufs * sizeof(*in->bufs));
		in->cur = 0;
		in->read_total = 0;
		return;
	}
	if (!in->file)
		return;
	for (unsigned i = 0; i < in->nbufs; i++)
		in->bufs[i].filled = in->bufs[i].fed = in->bufs[i].stream_base = 0;
	in->cur = 0;
	in->read_total = 0;
	in->eof = false;
}

int input_register(struct send_input *in, rvmig_ep *ep, unsigned access)
{
	if (in->fed)
		return 0; /* the caller registered it */
	for (unsigned i = 0; i < in->nbufs; i++) {
		int rc;

		if (!in->bufs[i].cap)
			continue;
		rc = rvmig_mr_reg(ep, in->bufs[i].base, in->bufs[i].cap, access, &in->bufs[i].mr);
		if (rc) {
			why(in, "cannot register %zu bytes of %s: %s", in->bufs[i].cap, in->name,
				 rvmig_strerror(rc));
			return rc;
		}
	}
	return 0;
}

int input_locate(const struct send_input *in, uint64_t off, size_t len, struct in_seg seg[2])
{
	int n = 0;

	/* The range lies in the current buffer or straddles the previous one. */
	for (unsigned k = 0; k < 2 && len; k++) {
		unsigned i = (in->cur + in->nbufs - 1 + k) % in->nbufs;
		const struct in_buf *b = &in->bufs[i];

		if (in->nbufs == 1 && k == 0)
			continue;
		if (off >= b->stream_base && off < b->stream_base + b->filled) {
			size_t o = (size_t)(off - b->stream_base);
			size_t l = b->filled - o < len ? b->filled - o : len;

			seg[n++] = (struct in_seg){ .buf = i, .off = o, .len = l };
			off += l;
			len -= l;
		}
	}
	return len ? 0 : n;
}

/* A regular file: the next piece of at most READ_CHUNK bytes, read by
 * position up to the size it had when opened. */
static ssize_t read_file(struct send_input *in, struct in_buf *b)
{
	uint64_t left = in->size - in->read_total;
	size_t want = b->cap - b->filled;
	ssize_t n;

	if (want > READ_CHUNK)
		want = READ_CHUNK;
	if (want > left)
		want = (size_t)left;
	if (!want) {
		in->eof = true;
		return 0;
	}
	do
		n = pread(in->fd, b->base + b->filled, want, (off_t)in->read_total);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		why(in, "%s shrank to %llu bytes while being read (it had %llu)", in->name,
		    (unsigned long long)in->read_total, (unsigned long long)in->size);
		return -ENODATA;
	}
	return n;
}

ssize_t input_read(struct send_input *in)
{
	struct in_buf *b = &in->bufs[in->cur];
	ssize_t n;

	if (in->eof)
		return 0;
	if (b->filled == b->cap)
		return -ENOBUFS;
	if (in->file) {
		n = read_file(in, b);
	} else {
		do
			n = read(in->fd, b->base + b->filled, b->cap - b->filled);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		else if (n == 0)
			in->eof = true;
		if (n < 0 && n != -EAGAIN)
			why(in, "cannot read %s: %s", in->name, strerror((int)-n));
	}
	if (n <= 0)
		return n;
	b->filled += (size_t)n;
	in->read_total += (uint64_t)n;
	return n;
}

bool input_next_buf(struct send_input *in, uint64_t acked)
{
	unsigned next = (in->cur + 1) % in->nbufs;
	struct in_buf *b = &in->bufs[next];

	if (acked < b->stream_base + b->filled)
		return false;
	in->cur = next;
	b->stream_base = in->read_total;
	b->filled = b->fed = 0;
	return true;
}

uint64_t input_next_need(const struct send_input *in)
{
	const struct in_buf *b = &in->bufs[(in->cur + 1) % in->nbufs];

	return b->stream_base + b->filled;
}

int input_digest_prefix(const struct send_input *in, enum rvmig_digest_alg alg, uint64_t off,
			uint8_t out[RVMIG_DIGEST_LEN])
{
	struct hasher *h = NULL;
	uint8_t *buf = NULL;
	int rc = 0;

	if (!in->file)
		return -ENOTSUP;
	if (off > in->size)
		return -ERANGE;
	if (!(buf = malloc(READ_CHUNK)) || hasher_new(&h, alg, false)) {
		free(buf);
		return -ENOMEM;
	}
	for (uint64_t at = 0; at < off;) {
		size_t want = off - at < READ_CHUNK ? (size_t)(off - at) : READ_CHUNK;
		ssize_t n = pread(in->fd, buf, want, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -ERANGE; /* shorter than it was */
			break;
		}
		hasher_feed(h, buf, (size_t)n);
		at += (uint64_t)n;
	}
	if (!rc)
		rc = hasher_final(h, out);
	hasher_free(h);
	free(buf);
	return rc;
}

void input_unregister(struct send_input *in, rvmig_ep *ep)
{
	/* Nothing queued is to go any more (messages, an ABORT, still do). */
	if (ep)
		client_cancel_bulk(ep, NULL);
	if (in->fed) {
		memset(in->bufs, 0, in->nbufs * sizeof(*in->bufs)); /* the caller's */
		return;
	}
	for (unsigned i = 0; in->bufs && i < in->nbufs; i++) {
		if (in->bufs[i].mr)
			mr_disown(in->bufs[i].mr);
		in->bufs[i].mr = NULL;
	}
}

void input_close(struct send_input *in)
{
	for (unsigned i = 0; in->bufs && i < in->nbufs; i++) {
		struct in_buf *b = &in->bufs[i];

		if (b->base && !in->fed)
			munmap(b->base, b->cap);
	}
	free(in->bufs);
	if (in->own_fd)
		close(in->fd);
	memset(in, 0, sizeof(*in));
}
