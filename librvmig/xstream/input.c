/* SPDX-License-Identifier: MIT */
/* input.c - the input of rvmig-send: an mmap'ed file or a ring of buffers. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xstream/input.h"

#define DROP_STEP (16u << 20) /* drop mapped pages in steps of this size */

static void why(struct send_input *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct send_input *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->why, sizeof(in->why), fmt, ap);
	va_end(ap);
}

static int open_mapped(struct send_input *in, const struct stat *st)
{
	in->mapped = true;
	in->size_known = true;
	in->size = (uint64_t)st->st_size;
	in->nbufs = 1;
	in->bufs = calloc(1, sizeof(*in->bufs));
	if (!in->bufs)
		return -ENOMEM;
	in->eof = true;
	in->read_total = in->size;
	if (!in->size)
		return 0;
	/* MAP_PRIVATE: before Linux 6.2, ib_umem_get() pins even read-only
	 * regions with FOLL_WRITE|FOLL_FORCE, which a shared read-only file
	 * mapping refuses (EFAULT) and a private one satisfies by breaking
	 * copy-on-write: each page is copied once, in the sender's kernel, at
	 * registration (seen as wp_page_copy in a profile under 6.1).  TCP
	 * registers nothing and reads the page cache's pages as they are. */
	in->bufs[0].base = mmap(NULL, in->size, PROT_READ, MAP_PRIVATE, in->fd, 0);
	if (in->bufs[0].base == MAP_FAILED) {
		int rc = -errno;

		in->bufs[0].base = NULL;
		why(in, "cannot map %s: %s", in->name, strerror(-rc));
		return rc;
	}
	madvise(in->bufs[0].base, in->size, MADV_SEQUENTIAL);
	in->bufs[0].cap = in->bufs[0].filled = in->size;
	return 0;
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
		in->bufs[i].base = p;
		in->bufs[i].cap = bufsize;
	}
	/* Larger pipe: fewer wake-ups.  Not fatal if refused. */
	(void)fcntl(in->fd, F_SETPIPE_SZ, 1 << 20);
	return 0;
}

/* What the input is: a regular file at offset 0 is mapped, a directory
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
	if (S_ISREG(st.st_mode) && lseek(in->fd, 0, SEEK_CUR) == 0)
		rc = open_mapped(in, &st);
	else if (S_ISDIR(st.st_mode)) {
		why(in, "%s is a directory", in->name);
		rc = -EISDIR;
	} else
		rc = open_ring(in, nbufs, bufsize);
	return rc;
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

int input_register(struct send_input *in, rvmig_ep *ep, unsigned access)
{
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

ssize_t input_read(struct send_input *in)
{
	struct in_buf *b = &in->bufs[in->cur];
	ssize_t n;

	if (in->eof)
		return 0;
	if (b->filled == b->cap)
		return -ENOBUFS;
	do
		n = read(in->fd, b->base + b->filled, b->cap - b->filled);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		in->eof = true;
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

void input_release(struct send_input *in, uint64_t acked)
{
	uint64_t upto = acked & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);

	if (!in->mapped || upto < in->dropped + DROP_STEP)
		return;
	madvise(in->bufs[0].base + in->dropped, upto - in->dropped, MADV_DONTNEED);
	in->dropped = upto;
}

void input_unregister(struct send_input *in)
{
	for (unsigned i = 0; in->bufs && i < in->nbufs; i++) {
		if (in->bufs[i].mr)
			rvmig_mr_dereg(in->bufs[i].mr);
		in->bufs[i].mr = NULL;
	}
}

void input_close(struct send_input *in)
{
	for (unsigned i = 0; in->bufs && i < in->nbufs; i++) {
		struct in_buf *b = &in->bufs[i];

		if (b->base)
			munmap(b->base, b->cap);
	}
	free(in->bufs);
	if (in->own_fd)
		close(in->fd);
	memset(in, 0, sizeof(*in));
}
