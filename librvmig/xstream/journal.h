/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the resume journal of rvmig-recv --resume: PATH.rvmig-journal
 * next to PATH.rvmig-partial says how much of the partial file is durable
 * and for which transfer.
 *
 * Format (text, version 2), one "key value" per line, in this order:
 *
 *   rvmig-recv-journal 2
 *   transfer-id <64 hex digits: the sender's id, all zero if it sent none>
 *   flags <decimal: RVMIG_XMSG_F_RAW | RVMIG_XMSG_F_SIZE | RVMIG_XMSG_F_SHA256 of its HELLO>
 *   size <decimal: input size from HELLO, 0 if unknown>
 *   offset <decimal: stream bytes [0, offset) of the partial are durable>
 *   digest <64 hex digits: the digest slot of those bytes, XXH3-128 or
 *          SHA-256 as flags say (rvmig/xstream.h)>
 *   check <64 hex digits: SHA-256 of every line above, newlines included>
 *
 * It is written only after the partial file was fsync'ed up to `offset`,
 * as PATH.rvmig-journal.tmp (created O_EXCL, 0600), fsync'ed, renamed over
 * the journal, and the directory fsync'ed: a crash leaves the old or the
 * new journal, whole.
 */
#ifndef RVMIG_XSTREAM_JOURNAL_H
#define RVMIG_XSTREAM_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/xstream.h>

#define JOURNAL_VERSION 2 /* 1: digest always SHA-256, key sha256 */

struct recv_journal {
	uint8_t xfer_id[RVMIG_XFER_ID_LEN];
	uint32_t flags;
	uint64_t size;
	uint64_t offset;
	uint8_t digest[32];
};

/* The journal's size limit: a longer file is not one. */
#define JOURNAL_MAX 1024

/* Parses a journal held in memory (no I/O: the file reader, the unit tests
 * and the fuzzer share it); `buf` need not end with a NUL.  Every field
 * is checked for its exact form before it is decoded (64 lowercase hex
 * digits, decimal numbers without sign or overflow), the lines must be
 * exactly those journal_format() writes and the check must match.
 * Returns 0, or -EBADMSG with `why` saying what is wrong, to follow the
 * file's name ("is malformed: ...", "fails its checksum (damaged)"). */
int journal_parse(const void *buf, size_t len, struct recv_journal *j, char *why,
		  size_t whylen);
/* Formats the whole journal, "check" line included, NUL-terminated.
 * Returns its length, or -EINVAL when `cap` is too small. */
int journal_format(char *buf, size_t cap, const struct recv_journal *j);

/* The file functions reach `path` (named in messages) as its last
 * component relative to `dirfd`, the directory of the output
 * (xstream/output.h), and only as a regular file of ours (xstream/ownfile.h). */

/* Reads `path`.  Returns 0, -ENOENT (no journal), -EBADMSG (not a journal,
 * another version, malformed, bad checksum) or another -errno (it cannot
 * be read, or is a symbolic link or not a file of ours), with `why`
 * filled. */
int journal_load(int dirfd, const char *path, struct recv_journal *j, char *why,
		 size_t whylen);
/* Writes `path` atomically and durably (see above).  Returns 0 or -errno
 * with `why` naming the step and file. */
int journal_store(int dirfd, const char *path, const struct recv_journal *j, char *why,
		  size_t whylen);
/* Removes the journal (and a stale temporary), then fsyncs the directory.
 * Returns 0 or -errno (ENOENT is not an error) with `why` filled. */
int journal_remove(int dirfd, const char *path, char *why, size_t whylen);

#endif
