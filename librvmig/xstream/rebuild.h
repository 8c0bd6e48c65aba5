/* SPDX-License-Identifier: MIT */
/*
 * rebuild.h - the receiving half (rvmig_xrecv, rvmig/xstream.h): bulk data
 * (RVMIG_EV_RECV_DATA) and CTRL / ZERO messages, which arrive in post order,
 * become the original byte stream in an ordered byte sink, with a digest
 * (common/hasher.h: XXH3-128 or SHA-256) of every byte delivered (zero runs
 * as zeros) and an optional verifying Xen stream parser fed alongside.  Each
 * piece must start exactly where the previous one ended; END must name that
 * length and carry the same digest.
 *
 * Counts from the wire are checked before any work: no piece may go past
 * the stream size the sender announced (`limit`), and a ZERO may not ask
 * for more than RVMIG_XMSG_ZERO_MAX zeros; either is a protocol error naming the
 * message, the stream offset and the peer.  A zero run is delivered in
 * steps of at most REBUILD_ZERO_STEP bytes (rebuild_step()), so that the
 * owner's event loop, signals and timeouts run in between: while
 * rebuild_busy(), the owner calls rebuild_step() instead of handing on the
 * next event.
 */
#ifndef RVMIG_XSTREAM_REBUILD_H
#define RVMIG_XSTREAM_REBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/xstream.h>

#include "xstream/msg.h"
#include "xstream/digest.h"

/* Where the bytes go.  Both return 0 or -errno.  zero may be NULL: zeros
 * are then written with write(). */
struct rebuild_sink {
	int (*write)(void *arg, const void *data, size_t len);
	int (*zero)(void *arg, uint64_t len);
	void *arg;
	const char *name; /* for messages: "PATH", "the command's stdin" */
};

#define REBUILD_NO_LIMIT RVMIG_XRECV_NO_LIMIT
#define REBUILD_ZERO_STEP RVMIG_XRECV_ZERO_STEP /* zeros delivered per rebuild_step() */
#define REBUILD_HASH_LAG (32u << 20)  /* bytes the digest may lag behind a step */

struct rebuild {
	struct rebuild_sink sink;
	const char *peer;             /* for messages */
	rvmig_stream_parser *parser;  /* optional, owned by the caller */
	struct hasher *sha;           /* the digest */
	bool thread;                  /* ... in a worker thread */
	/* false (default): every rebuild_*() call returns only when the bytes
	 * it was given are hashed, so the caller may release them at once.
	 * true: the caller keeps each event's buffer until rebuild_hashed()
	 * reaches the stream offset after it (see rebuild_wait_hashed()). */
	bool defer_release;
	bool started;                 /* owner saw its first message (HELLO / EXEC) */
	bool done;                    /* END matched */
	uint64_t off;                 /* next stream offset expected */
	/* the stream's length as announced (rvmig-recv: a HELLO with
	 * RVMIG_XMSG_F_SIZE), or REBUILD_NO_LIMIT (the default; kept by
	 * rebuild_reset()) */
	uint64_t limit;
	bool announced;               /* limit given since init, the last reset or
				       * a new connection (rvmig_xrecv_attach) */
	uint64_t zero_left;           /* zeros of the current ZERO still to deliver */
	uint64_t data_bytes, ctrl_bytes, zero_bytes;
	/* Optional (owner's, kept by rebuild_reset()): fed the stream offset,
	 * pages and zero pages as they are delivered (rvmig/publish.h).  Bulk
	 * data and zero runs are page payloads unless `raw` is set. */
	rvmig_pubxfer *pub;
	bool raw;
	uint8_t digest[32];           /* valid once done (or after rebuild_digest) */
	bool digested;
	int err;
	char errtxt[1024];
};

/* Starts with an XXH3-128 digest (see rebuild_reset()). */
/* With `thread`, the digest runs in a worker thread (digest.h). */
int rebuild_init(struct rebuild *r, const struct rebuild_sink *sink, const char *peer,
		 bool thread);
void rebuild_fini(struct rebuild *r);
void rebuild_fail(struct rebuild *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Bulk data of a RECV_DATA event at `off`. */
void rebuild_data(struct rebuild *r, uint64_t off, const void *data, size_t len);
/* A decoded CTRL, ZERO or END message at `off`; returns false (and does
 * nothing) for other tags.  END checks length and digest (-RVMIG_EINTEGRITY)
 * and sets `done`; the parser's finish is left to the owner.  A ZERO
 * delivers its first step; the rest is left to rebuild_step(). */
bool rebuild_msg(struct rebuild *r, const struct rvmig_xmsg *m, uint64_t off);
/* Whether a zero run is still being delivered: the owner must then call
 * rebuild_step() (between turns of its event loop) and hand on nothing
 * else until it is done. */
bool rebuild_busy(const struct rebuild *r);
/* Delivers the next REBUILD_ZERO_STEP bytes (at most) of the zero run,
 * first waiting, if need be, for the digest to come within
 * REBUILD_HASH_LAG of them: each call takes a bounded time. */
void rebuild_step(struct rebuild *r);
/* Finalizes the digest into r->digest (done by a matching END); later
 * calls keep it.  Nothing may be delivered afterwards. */
void rebuild_digest(struct rebuild *r);
/* Digest of the bytes delivered so far, without ending the running one. */
int rebuild_peek_digest(struct rebuild *r, uint8_t out[RVMIG_DIGEST_LEN]);
enum rvmig_digest_alg rebuild_digest_alg(const struct rebuild *r);

/* Stream offset below which every delivered byte is hashed; waiting for
 * it to reach `upto` (at most what was delivered). */
uint64_t rebuild_hashed(struct rebuild *r);
void rebuild_wait_hashed(struct rebuild *r, uint64_t upto);

/* Resume: bytes [r->off, r->off + len) that are already in the sink (read
 * back from a partial file) go into the digest and the parser only; past
 * r->limit they fail the rebuild (-ERANGE) instead. */
void rebuild_prefix(struct rebuild *r, const void *data, size_t len);
/* Creates r->parser (its owner's to destroy): a verifying parser for a Xen
 * stream that starts at any of its three layers (xl header, libxl, libxc;
 * told apart by its first octets, as rvmig-send does), followed by nothing
 * or by xl migrate's go message.  0 or -errno. */
int rebuild_parser_create(struct rebuild *r);
/* Back to stream offset 0 (a new digest with `alg`, counters cleared,
 * error kept); the owner replaces the parser and rewinds the sink. */
int rebuild_reset(struct rebuild *r, enum rvmig_digest_alg alg);

#endif
