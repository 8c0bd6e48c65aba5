/* SPDX-License-Identifier: MIT */
/*
 * input.h - where a sender's input bytes live, as registered memory
 * (rvmig_xsend, rvmig/xstream.h).
 *
 * A regular file (also as stdin) is mmap'ed whole and registered as one
 * region (on-demand registration unless the endpoint pins all); pages that
 * every request has finished with are dropped from the process again
 * (MADV_DONTNEED) so the resident set stays small for any file size.
 *
 * A pipe is read into a ring of large registered buffers.  A buffer is
 * refilled only after every request that points into it has completed
 * (the caller tracks that as the "acknowledged" stream offset).
 *
 * Stream offsets map to (buffer, offset) pairs; a range may straddle two
 * consecutive ring buffers (input_locate() splits it).
 */
#ifndef RVMIG_XSTREAM_INPUT_H
#define RVMIG_XSTREAM_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/xfer.h>

struct in_buf {
	uint8_t *base;
	size_t cap;
	size_t filled;        /* bytes read into it */
	size_t fed;           /* bytes handed on (parser / requests) */
	uint64_t stream_base; /* stream offset of base[0] */
	rvmig_mr *mr;
};

struct send_input {
	const char *name;     /* for messages: path or "stdin" */
	int fd;
	bool own_fd;          /* opened here (closed by input_close()) */
	bool mapped;          /* regular file, mmap'ed */
	uint64_t size;        /* mapped (or unmapped file): file size */
	bool size_known;
	struct in_buf *bufs;
	unsigned nbufs, cur;
	uint64_t read_total;  /* stream bytes read so far */
	bool eof;
	uint64_t dropped;     /* mapped: bytes already MADV_DONTNEED'ed */
	char why[512];        /* what the last failed call could not do */
};

struct in_seg {
	unsigned buf;
	size_t off;
	size_t len;
};

/* Opens `path` ("-": stdin).  nbufs x bufsize is the pipe ring.  Returns 0
 * or -errno with `why` filled. */
int input_open(struct send_input *in, const char *path, unsigned nbufs, size_t bufsize);
/* The same for an open fd, which stays the caller's (never closed here);
 * `name` (kept, not copied) names it in messages. */
int input_open_fd(struct send_input *in, int fd, const char *name, unsigned nbufs,
		  size_t bufsize);
/* Registers every buffer with the endpoint.  Returns 0 or a librvmig error
 * with `why` filled. */
int input_register(struct send_input *in, rvmig_ep *ep, unsigned access);
/* Splits [off, off + len) into at most two buffer segments.  Returns the
 * number of segments, or 0 if the range is not (or no longer) in memory. */
int input_locate(const struct send_input *in, uint64_t off, size_t len, struct in_seg seg[2]);
/* Reads once into the current ring buffer (pipe).  Returns bytes read, 0 at
 * end of input, -EAGAIN if it would block, -ENOBUFS if the buffer is full,
 * -errno on failure. */
ssize_t input_read(struct send_input *in);
/* Moves to the next ring buffer if it is free, i.e. every request into it
 * completed (acked >= its end).  Returns true if it moved. */
bool input_next_buf(struct send_input *in, uint64_t acked);
/* The stream offset `acked` must reach before input_next_buf() succeeds. */
uint64_t input_next_need(const struct send_input *in);
/* Mapped input: drops the pages of [0, acked) from the process. */
void input_release(struct send_input *in, uint64_t acked);
/* Deregisters the buffers; call before closing the endpoint (a region
 * still busy is freed with the endpoint). */
void input_unregister(struct send_input *in);
/* Unmaps, frees. */
void input_close(struct send_input *in);

#endif
