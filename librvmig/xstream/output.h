/* SPDX-License-Identifier: MIT */
/*
 * output.h - where a receiving session (rvmig_xrsession, rsession.c) writes
 * the rebuilt stream.
 *
 * output_init() at start, before any network activity, decides what PATH
 * is:
 *  - "-": stdout, written as a stream;
 *  - an existing FIFO or device (after symbolic links): opened in place
 *    then (a FIFO waits for its reader, as a shell redirection does) and
 *    written as a stream: no temporary file, no rename, no resume, never
 *    replaced by a regular file;
 *  - otherwise a file: PATH's directory is opened once, and every file of
 *    the receiver in it is reached relative to that descriptor, never
 *    through a symbolic link, and only as a regular file of ours
 *    (xstream/ownfile.h).
 * A file is written as PATH.rvmig-partial-XXXXXX (created O_EXCL, 0600,
 * by output_open(), flock'ed while the receiver lives), fsync'ed, given its
 * final mode, renamed to PATH and the directory fsync'ed only by
 * output_commit(); output_discard() unlinks it.  Such files of receivers
 * that were killed (regular, ours, no lock held) are removed by the next
 * output_open() for the same PATH.  Zero runs become holes.
 * The final mode: an existing regular PATH's permissions (and, for root,
 * its owner and group) are kept; a new PATH gets `mode` of output_init()
 * (0600 unless --output-mode).
 * With `resume` (rvmig-recv --resume) the file is PATH.rvmig-partial instead
 * (output_open_resume()), locked (flock) against a second receiver, kept
 * on failure (output_discard() still removes it when asked to) and
 * synced on demand (output_sync()) for the journal (xstream/journal.h).
 * A stream cannot be taken back: a failure there is reported, never
 * hidden.  (The digest of what is written is kept by the caller's
 * library's receiver, rvmig_xrecv.)
 */
#ifndef RVMIG_XSTREAM_OUTPUT_H
#define RVMIG_XSTREAM_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/common.h>

struct flusher;

struct recv_output {
	const char *path;   /* as given; "stdout" for "-" */
	const struct rvmig_logger *log; /* messages (xlog.h) */
	bool is_stdout;
	bool borrowed;      /* the fd is the caller's (stdout too): never closed */
	int borrowed_fd;
	bool stream;        /* written in place, in order: stdout, FIFO, device */
	int fd;             /* -1 until opened */
	int dirfd;          /* PATH's directory (files only), else -1 */
	size_t dirlen;      /* PATH's last component starts at path + dirlen */
	unsigned mode;      /* permissions of a new PATH */
	char *tmp;          /* temporary (partial) file, NULL for streams */
	uint64_t off;       /* bytes written so far (holes included) */
	uint64_t synced;    /* writeback started up to here */
	struct flusher *flusher; /* flushes while writing (files; flusher.h) */
	bool flusher_tried;
	bool committed;
	bool resume;        /* deterministic PATH.rvmig-partial name */
	/* Streams are written without blocking: while the reader takes
	 * nothing, stall(stall_arg, ms) is called every OUTPUT_STALL_POLL_MS
	 * with how long it has taken nothing, and a negative return ends the
	 * write with that error (the caller keeps its connection alive, acts
	 * on signals, gives up after its timeout).  NULL: wait for ever. */
	int (*stall)(void *arg, uint64_t ms);
	void *stall_arg;
	bool nbsend;        /* stream: a socket, written with MSG_DONTWAIT */
};

#define OUTPUT_STALL_POLL_MS 100

#define OUTPUT_PARTIAL_SUFFIX ".rvmig-partial"
#define OUTPUT_JOURNAL_SUFFIX ".rvmig-journal"
#define OUTPUT_MODE_DEFAULT 0600

/* The usage checks of -o PATH (exit 2 before anything else is done): not
 * empty, not a directory nor a name ending in '/', not a socket; with
 * `resume`, not "-", a FIFO or a device.  Returns 0 or -EINVAL with `why`
 * filled. */
int output_check(const char *path, bool resume, char *why, size_t whylen);
/* At start (see above): opens a stream target, or PATH's directory (which
 * must be writable).  Sets fd and dirfd to -1 first, so output_close() is
 * always safe after it.  Returns 0 or -errno with `why` filled. */
int output_init(struct recv_output *o, const char *path, unsigned mode,
		const struct rvmig_logger *log, char *why, size_t whylen);
/* A caller's descriptor, written as a stream in place (see stdout above),
 * `name` in messages; fsync'ed by output_commit() when it is a regular
 * file or a block device.  Returns 0. */
int output_init_fd(struct recv_output *o, int fd, const char *name,
		   const struct rvmig_logger *log);
/* Creates the temporary file (nothing to do for a stream).  Returns 0 or
 * -errno with `why` filled. */
int output_open(struct recv_output *o, char *why, size_t whylen);
/* Resume mode (files only): opens or creates PATH.rvmig-partial as a file of
 * ours (mode 0600), locks it, and keeps its first `keep` bytes (truncating
 * the rest; -ERANGE if the file is shorter).  off is set to keep. */
int output_open_resume(struct recv_output *o, uint64_t keep, char *why, size_t whylen);
/* Cuts the file back to `len` bytes (restart from `len`). */
int output_truncate(struct recv_output *o, uint64_t len, char *why, size_t whylen);
/* Makes [0, off) durable: sets the length (trailing holes), fsync. */
int output_sync(struct recv_output *o, char *why, size_t whylen);
/* Free bytes for unprivileged writers on the output's filesystem, or
 * -errno. */
int output_free_space(struct recv_output *o, uint64_t *free_bytes);
int output_write(struct recv_output *o, const void *data, size_t len);
int output_zero(struct recv_output *o, uint64_t len);
/* Makes the file durable under its final name with its final mode (a
 * stream: flushed to a block device).  Returns 0 or -errno with `why`
 * naming the step that failed. */
int output_commit(struct recv_output *o, char *why, size_t whylen);
/* Removes the temporary file (no-op after commit and for streams). */
void output_discard(struct recv_output *o);
void output_close(struct recv_output *o);

#endif
