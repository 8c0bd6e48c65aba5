/* SPDX-License-Identifier: MIT */
/*
 * input.h - where a sender's input bytes live, as registered memory
 * (rvmig_xsend, rvmig/xstream.h).
 *
 * The input (a regular file, or a pipe) is read into a ring of large
 * registered buffers: a regular file by position (pread) in pieces of
 * 1 MiB, each handed on while it is still in the CPU's cache, a pipe as its
 * bytes come.  A buffer is refilled only after every request that points
 * into it has completed and its bytes are hashed (the caller tracks that
 * as the "reusable" stream offset), so the resident set is the ring's,
 * whatever the input's size.  (An mmap'ed file, as before, cost a page
 * fault per first touch of each 4 KiB page: ~6.7 us each on a
 * paravirtualised host, 0.13-0.16 s per 256 MiB against 0.035 s for
 * pread into one reused buffer.)
 *
 * Or the caller hands over its own registered memory (input_feed): each
 * piece becomes the current buffer, without a copy.
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
#include <rvmig/xstream.h>

struct in_buf {
	uint8_t *base;
	size_t cap;
	size_t filled;        /* bytes read into it */
	size_t fed;           /* bytes handed on (parser / requests) */
	uint64_t stream_base; /* stream offset of base[0] */
	rvmig_mr *mr;
	uint64_t mr_off;      /* offset of base[0] in mr */
};

struct send_input {
	const char *name;     /* for messages: path or "stdin" */
	int fd;
	bool own_fd;          /* opened here (closed by input_close()) */
	bool file;            /* regular file read by position: it can be
			       * read again from offset 0 (input_rewind) */
	bool fed;             /* the caller's registered memory, handed over
			       * piece by piece (input_feed) */
	uint64_t size;        /* file: its size when opened */
	bool size_known;
	struct in_buf *bufs;
	unsigned nbufs, cur;
	uint64_t read_total;  /* stream bytes read so far */
	bool eof;
	char why[512];        /* what the last failed call could not do */
};

struct in_seg {
	unsigned buf;
	size_t off;
	size_t len;
};

/* Opens `path` ("-": stdin) with a ring of nbufs x bufsize.  Returns 0
 * or -errno with `why` filled. */
int input_open(struct send_input *in, const char *path, unsigned nbufs, size_t bufsize);
/* The same for an open fd, which stays the caller's (never closed here);
 * `name` (kept, not copied) names it in messages. */
int input_open_fd(struct send_input *in, int fd, const char *name, unsigned nbufs,
		  size_t bufsize);
/* Input the caller hands over as registered memory (input_feed()); `name`
 * (kept, not copied) is for messages.  0 or -ENOMEM. */
int input_open_fed(struct send_input *in, const char *name);
/* The next input bytes: [off, off + len) of the caller's region `mr`,
 * which becomes the current "buffer" (the previous feed stays locatable,
 * for an item straddling the two).  0, or -EINVAL (mr registered with
 * another endpoint than `ep`) / -ERANGE (outside mr) with `why` filled. */
int input_feed(struct send_input *in, rvmig_ep *ep, rvmig_mr *mr, uint64_t off, size_t len);
/* Registers every buffer with the endpoint (fed input: nothing to do).
 * Returns 0 or a librvmig error with `why` filled. */
int input_register(struct send_input *in, rvmig_ep *ep, unsigned access);
/* Splits [off, off + len) into at most two buffer segments.  Returns the
 * number of segments, or 0 if the range is not (or no longer) in memory. */
int input_locate(const struct send_input *in, uint64_t off, size_t len, struct in_seg seg[2]);
/* A file: back to stream offset 0 with an empty ring (a new connection
 * sends it again); fed input: back to offset 0, nothing fed.  A pipe
 * cannot go back: nothing changes. */
void input_rewind(struct send_input *in);
/* Reads once into the current ring buffer (a file: at most 1 MiB, up to
 * its size when opened).  Returns bytes read, 0 at end of input, -EAGAIN
 * if it would block, -ENOBUFS if the buffer is full, -errno on failure
 * (with `why` filled; -ENODATA: a file shrank). */
ssize_t input_read(struct send_input *in);
/* Moves to the next ring buffer if it is free, i.e. every request into it
 * completed (acked >= its end).  Returns true if it moved. */
bool input_next_buf(struct send_input *in, uint64_t acked);
/* The stream offset `acked` must reach before input_next_buf() succeeds. */
uint64_t input_next_need(const struct send_input *in);
/* A file: the digest of its first `off` bytes, read again by position.
 * 0, -ENOTSUP (no file), -ERANGE (shorter than off), -ENOMEM, -errno. */
int input_digest_prefix(const struct send_input *in, enum rvmig_digest_alg alg, uint64_t off,
			uint8_t out[RVMIG_DIGEST_LEN]);
/* Leaves endpoint `ep` (NULL: not attached): the bulk requests still
 * queued there are cancelled and the buffers deregistered, a region with
 * chunks in flight by the endpoint once they end (or when it closes), so
 * the buffers must stay mapped until the endpoint is closed. */
void input_unregister(struct send_input *in, rvmig_ep *ep);
/* Frees the ring, closes the input. */
void input_close(struct send_input *in);

#endif
