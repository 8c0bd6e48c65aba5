/* SPDX-License-Identifier: MIT */
/*
 * digest.h - the end-to-end digest of a stream (rvmig/xstream.h), computed
 * inline or, when the caller opts in, in a worker thread, so that hashing
 * overlaps the transfer instead of adding to it.
 *
 * Algorithms: XXH3-128 (libxxhash; the default) or SHA-256 (OpenSSL).  The
 * digest detects corruption and tool bugs end to end; it is not a defence
 * against an attacker on the path (who could rewrite the END message as
 * well), so a cryptographic hash buys nothing there and costs a lot: under
 * qemu TCG SHA-256 runs at ~50-70 MB/s against ~0.8-3.7 GB/s for the xxHash
 * family, and on a real host with SHA-NI at ~2 GB/s per core, below a
 * 100 Gbit/s RNIC.  SHA-256 stays available for operators who compare with
 * sha256sum.  Digests travel in a 32-octet slot: XXH3-128 fills the first
 * 16 (canonical, big-endian: what `xxhsum -H2` prints), the rest is zero.
 *
 * Rules:
 *   - One producer (the tool's thread) calls hasher_feed*(); the bytes are
 *     hashed in the order fed.  Data passed to hasher_feed() must stay
 *     valid and unchanged until hasher_done() has reached the running total
 *     after that call (hasher_wait() waits for it).
 *   - Feeding blocks only when HASHER_QUEUE entries are queued; adjacent
 *     data runs are merged into one entry.
 *   - Without a thread (the default: see hasher_new()) everything is
 *     hashed inline inside hasher_feed*(); the result is the same.
 */
#ifndef RVMIG_XSTREAM_DIGEST_H
#define RVMIG_XSTREAM_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/xstream.h>

#define HASHER_QUEUE 512


struct hasher;

/* With `thread`, hashing runs in a worker thread (unless RVMIG_HASH_THREAD=0
 * in the environment, or the thread cannot be started); without, inline in
 * hasher_feed*().  Returns 0 or -ENOMEM. */
int hasher_new(struct hasher **out, enum rvmig_digest_alg alg, bool thread);
enum rvmig_digest_alg hasher_get_alg(const struct hasher *h);
/* Stops the thread and frees everything; what is still queued is dropped,
 * so memory fed earlier may be unmapped once this returns (and not
 * before). */
void hasher_free(struct hasher *h);

/* Queues `len` bytes at `data`.  Returns the running total after them. */
uint64_t hasher_feed(struct hasher *h, const void *data, size_t len);
/* Queues `len` zero bytes (no memory to keep valid). */
uint64_t hasher_feed_zero(struct hasher *h, uint64_t len);

/* Bytes fed so far / bytes hashed so far. */
uint64_t hasher_fed(const struct hasher *h);
uint64_t hasher_done(struct hasher *h);
/* Waits until at least `upto` bytes are hashed. */
void hasher_wait(struct hasher *h, uint64_t upto);

/* Digest of everything fed so far, without ending the hash (waits for the
 * queue to drain).  Returns 0 or -ENOMEM. */
int hasher_peek(struct hasher *h, uint8_t out[RVMIG_DIGEST_LEN]);
/* Digest of everything fed; afterwards only hasher_free() is allowed.
 * Returns 0 or -ENOMEM. */
int hasher_final(struct hasher *h, uint8_t out[RVMIG_DIGEST_LEN]);
/* Starts again from nothing with `alg` (waits for the queue to drain). */
int hasher_reset(struct hasher *h, enum rvmig_digest_alg alg);

/* Whether a worker thread does the hashing. */
bool hasher_threaded(const struct hasher *h);

#endif
