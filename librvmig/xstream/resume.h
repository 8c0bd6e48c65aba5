/* SPDX-License-Identifier: MIT */
/*
 * resume.h - the resume state of a resumable receiving session
 * (RVMIG_XRSESSION_F_RESUME, rvmig-recv --resume): the partial output
 * (xstream/output.h, PATH.rvmig-partial), its journal (xstream/journal.h,
 * PATH.rvmig-journal) and the library's receiver (rvmig_xrecv) kept in
 * step, across connections of one process and across processes.
 *
 *   resume_open()        at start: picks up the journal; the partial is cut
 *                        back to the journaled offset and that prefix is
 *                        read again into the digest and the verifying
 *                        parser, and checked against the journal's digest
 *                        (any mismatch: start from 0, saying why)
 *   resume_hello()       a HELLO: same transfer id and digest -> continue at rb->off,
 *                        otherwise start from 0 (saying so)
 *   resume_checkpoint()  fsync the partial up to rb->off, then the journal
 *   resume_done()        after the commit: the journal goes
 */
#ifndef RVMIG_XSTREAM_RESUME_H
#define RVMIG_XSTREAM_RESUME_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/xstream.h>
#include "xstream/journal.h"
#include "xstream/output.h"

#define RESUME_CHECKPOINT_STEP (64ull << 20) /* journal every this many bytes */
/* ... or, once RESUME_CHECKPOINT_MIN bytes came, every RESUME_CHECKPOINT_SEC
 * seconds, so a slow transfer killed mid-way does not start again from 0. */
#define RESUME_CHECKPOINT_MIN (1ull << 20)
#define RESUME_CHECKPOINT_SEC 2.0

struct recv_resume {
	char *jpath;            /* PATH.rvmig-journal */
	int dirfd;              /* PATH's directory, the output's (xstream/output.h) */
	struct recv_journal j;  /* the transfer being received */
	uint64_t ckpt;          /* offset of the last journal written */
	double ckpt_time;       /* when (CLOCK_MONOTONIC seconds; 0: not yet) */
	bool verify_stream;     /* make a verifying parser for Xen streams */
	const struct rvmig_logger *log; /* the output's (xlog.h) */
};

/* `out` was set up by output_init() for a file.  Returns 0 or -errno with
 * `why` filled (the journal or the partial cannot be opened, is not a
 * regular file of ours, or is in use; a journal that is not a valid one is
 * reported and ignored).  Fills out (open) and rb (off, digest, parser). */
int resume_open(struct recv_resume *rs, const char *path, bool verify_stream,
		struct recv_output *out, rvmig_xrecv *rb, char *why, size_t whylen);
/* Returns 0 or -errno with `why` filled. */
int resume_hello(struct recv_resume *rs, const struct rvmig_xmsg *hello, struct recv_output *out,
		 rvmig_xrecv *rb, char *why, size_t whylen);
int resume_checkpoint(struct recv_resume *rs, struct recv_output *out, rvmig_xrecv *rb,
		      char *why, size_t whylen);
/* Checkpoint when RESUME_CHECKPOINT_STEP bytes came since the last one,
 * or RESUME_CHECKPOINT_MIN bytes and RESUME_CHECKPOINT_SEC seconds. */
int resume_maybe_checkpoint(struct recv_resume *rs, struct recv_output *out,
			    rvmig_xrecv *rb, char *why, size_t whylen);
int resume_done(struct recv_resume *rs, char *why, size_t whylen);
void resume_fini(struct recv_resume *rs);

#endif
