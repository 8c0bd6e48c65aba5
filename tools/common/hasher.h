/* SPDX-License-Identifier: MIT */
/*
 * hasher.h - the end-to-end digest of rvmig-send / rvmig-recv (and the
 * tunnel) computed in a worker thread, so that hashing overlaps the transfer
 * instead of adding to it.
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
 *   - With RVMIG_HASH_THREAD=0 in the environment (or when the thread
 *     cannot be started) everything is hashed inline inside hasher_feed*();
 *     the result is the same.
 */
#ifndef RVMIG_TOOLS_HASHER_H
#define RVMIG_TOOLS_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASHER_QUEUE 512
#define HASHER_SLOT 32 /* octets of a digest on the wire and in journals */

enum hasher_alg {
	HASHER_XXH128 = 0,
	HASHER_SHA256 = 1,
};

struct hasher;

/* "xxh128" / "sha256". */
const char *hasher_alg_name(enum hasher_alg alg);
/* Parses a name as above; returns 0 or -EINVAL. */
int hasher_alg_parse(const char *name, enum hasher_alg *alg);
/* Octets of the slot the digest fills (16 or 32). */
size_t hasher_alg_len(enum hasher_alg alg);
/* One-shot digest of a buffer into a zero-padded slot; 0 or -ENOMEM. */
int hasher_digest_buf(enum hasher_alg alg, const void *data, size_t len,
		      uint8_t out[HASHER_SLOT]);

/* Returns 0 or -ENOMEM. */
int hasher_new(struct hasher **out, enum hasher_alg alg);
enum hasher_alg hasher_get_alg(const struct hasher *h);
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
int hasher_peek(struct hasher *h, uint8_t out[HASHER_SLOT]);
/* Digest of everything fed; afterwards only hasher_free() is allowed.
 * Returns 0 or -ENOMEM. */
int hasher_final(struct hasher *h, uint8_t out[HASHER_SLOT]);
/* Starts again from nothing with `alg` (waits for the queue to drain). */
int hasher_reset(struct hasher *h, enum hasher_alg alg);

/* Whether a worker thread does the hashing. */
bool hasher_threaded(const struct hasher *h);

#endif
