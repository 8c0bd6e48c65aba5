/* SPDX-License-Identifier: MIT */
/*
 * output.h - where rvmig-recv writes the rebuilt stream.
 *
 * A file is written as PATH.rvmig-partial-XXXXXX (created O_EXCL in PATH's
 * directory), fsync'ed, renamed to PATH and the directory fsync'ed only by
 * output_commit(); output_discard() unlinks it.  Zero runs become holes.
 * "-" writes to stdout, which cannot be taken back: a failure there is
 * reported, never hidden.  (The SHA-256 of what is written is kept by the
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
};

/* Returns 0 or -errno with `why` filled. */
int output_open(struct recv_output *o, const char *path, char *why, size_t whylen);
int output_write(struct recv_output *o, const void *data, size_t len);
int output_zero(struct recv_output *o, uint64_t len);
/* Makes the file durable under its final name.  Returns 0 or -errno with
 * `why` naming the step that failed. */
int output_commit(struct recv_output *o, char *why, size_t whylen);
/* Removes the temporary file (no-op after commit and for stdout). */
void output_discard(struct recv_output *o);
void output_close(struct recv_output *o);

#endif
