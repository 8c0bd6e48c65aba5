/* SPDX-License-Identifier: MIT */
/*
 * output.h - where rvmig-recv writes the rebuilt stream.
 *
 * A file is written as PATH.rvmig-partial-XXXXXX (created O_EXCL in PATH's
 * directory, flock'ed while the receiver lives), fsync'ed, renamed to PATH
 * and the directory fsync'ed only by output_commit(); output_discard()
 * unlinks it.  Such files of receivers that were killed (no lock held) are
 * removed by the next output_open() for the same PATH.  Zero runs become
 * holes.
 * With `resume` (rvmig-recv --resume) the file is PATH.rvmig-partial instead,
 * opened without O_EXCL and locked (flock) against a second receiver, kept
 * on failure (output_discard() still removes it when asked to) and
 * synced on demand (output_sync()) for the journal (recv/journal.h).
 * "-" writes to stdout, which cannot be taken back: a failure there is
 * reported, never hidden.  (The digest of what is written is kept by the
 * caller's pipeline/rebuild.h.)
 */
#ifndef RVMIG_TOOLS_RECV_OUTPUT_H
#define RVMIG_TOOLS_RECV_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

struct recv_output {
	const char *path;   /* as given; "stdout" for "-" */
	bool is_stdout;
	int fd;
	char *tmp;          /* temporary name, NULL for stdout */
	uint64_t off;       /* bytes written so far (holes included) */
	uint64_t synced;    /* writeback started up to here */
	bool committed;
	bool resume;        /* deterministic PATH.rvmig-partial name */
};

#define OUTPUT_PARTIAL_SUFFIX ".rvmig-partial"
#define OUTPUT_JOURNAL_SUFFIX ".rvmig-journal"


/* Returns 0 or -errno with `why` filled. */
int output_open(struct recv_output *o, const char *path, char *why, size_t whylen);
/* Resume mode: opens (creates) PATH.rvmig-partial, locks it, and keeps
 * its first `keep` bytes (truncating the rest; -ERANGE if the file is
 * shorter).  off is set to keep. */
int output_open_resume(struct recv_output *o, const char *path, uint64_t keep, char *why,
		       size_t whylen);
/* Cuts the file back to `len` bytes (restart from `len`). */
int output_truncate(struct recv_output *o, uint64_t len, char *why, size_t whylen);
/* Makes [0, off) durable: sets the length (trailing holes), fsync. */
int output_sync(struct recv_output *o, char *why, size_t whylen);
/* Free bytes for unprivileged writers on the output's filesystem, or
 * -errno. */
int output_free_space(struct recv_output *o, uint64_t *free_bytes);
int output_write(struct recv_output *o, const void *data, size_t len);
int output_zero(struct recv_output *o, uint64_t len);
/* Makes the file durable under its final name.  Returns 0 or -errno with
 * `why` naming the step that failed. */
int output_commit(struct recv_output *o, char *why, size_t whylen);
/* Removes the temporary file (no-op after commit and for stdout). */
void output_discard(struct recv_output *o);
void output_close(struct recv_output *o);

#endif
