/* SPDX-License-Identifier: MIT */
/*
 * rebuild.h - the receiving half shared by rvmig-recv and rvmigd: bulk data
 * (RVMIG_EV_RECV_DATA) and CTRL / ZERO messages, which arrive in post order,
 * become the original byte stream in an ordered byte sink, with a digest
 * (common/hasher.h: XXH3-128 or SHA-256) of every byte delivered (zero runs
 * as zeros) and an optional verifying Xen stream parser fed alongside.  Each
 * piece must start exactly where the previous one ended; END must name that
 * length and carry the same digest.
 */
#ifndef RVMIG_TOOLS_PIPELINE_REBUILD_H
#define RVMIG_TOOLS_PIPELINE_REBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig.h>

#include "common/appmsg.h"
#include "common/hasher.h"

/* Where the bytes go.  Both return 0 or -errno.  zero may be NULL: zeros
 * are then written with write(). */
struct rebuild_sink {
	int (*write)(void *arg, const void *data, size_t len);
	int (*zero)(void *arg, uint64_t len);
	void *arg;
	const char *name; /* for messages: "PATH", "the command's stdin" */
};

struct rebuild {
	struct rebuild_sink sink;
	const char *peer;             /* for messages */
	rvmig_stream_parser *parser;  /* optional, owned by the caller */
	struct hasher *sha;           /* the digest, in a worker thread */
	/* false (default): every rebuild_*() call returns only when the bytes
	 * it was given are hashed, so the caller may release them at once.
	 * true: the caller keeps each event's buffer until rebuild_hashed()
	 * reaches the stream offset after it (see rebuild_wait_hashed()). */
	bool defer_release;
	bool started;                 /* owner saw its first message (HELLO / EXEC) */
	bool done;                    /* END matched */
	uint64_t off;                 /* next stream offset expected */
	uint64_t data_bytes, ctrl_bytes, zero_bytes;
	uint8_t digest[32];           /* valid once done (or after rebuild_digest) */
	bool digested;
	int err;
	char errtxt[1024];
};

/* Starts with an XXH3-128 digest (see rebuild_reset()). */
int rebuild_init(struct rebuild *r, const struct rebuild_sink *sink, const char *peer);
void rebuild_fini(struct rebuild *r);
void rebuild_fail(struct rebuild *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Bulk data of a RECV_DATA event at `off`. */
void rebuild_data(struct rebuild *r, uint64_t off, const void *data, size_t len);
/* A decoded CTRL, ZERO or END message at `off`; returns false (and does
 * nothing) for other tags.  END checks length and digest (-RVMIG_EINTEGRITY)
 * and sets `done`; the parser's finish is left to the owner. */
bool rebuild_msg(struct rebuild *r, const struct app_msg *m, uint64_t off);
/* Finalizes the digest into r->digest (done by a matching END); later
 * calls keep it.  Nothing may be delivered afterwards. */
void rebuild_digest(struct rebuild *r);
/* Digest of the bytes delivered so far, without ending the running one. */
int rebuild_peek_digest(struct rebuild *r, uint8_t out[HASHER_SLOT]);
enum hasher_alg rebuild_digest_alg(const struct rebuild *r);

/* Stream offset below which every delivered byte is hashed; waiting for
 * it to reach `upto` (at most what was delivered). */
uint64_t rebuild_hashed(struct rebuild *r);
void rebuild_wait_hashed(struct rebuild *r, uint64_t upto);

/* Resume: bytes [r->off, r->off + len) that are already in the sink (read
 * back from a partial file) go into the digest and the parser only. */
void rebuild_prefix(struct rebuild *r, const void *data, size_t len);
/* Back to stream offset 0 (a new digest with `alg`, counters cleared,
 * error kept); the owner replaces the parser and rewinds the sink. */
int rebuild_reset(struct rebuild *r, enum hasher_alg alg);

#endif
