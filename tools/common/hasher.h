/* SPDX-License-Identifier: MIT */
/*
 * hasher.h - the end-to-end SHA-256 of rvmig-send / rvmig-recv computed in
 * a worker thread, so that hashing overlaps the transfer instead of adding
 * to it.
 *
 * Why: the tools hash every byte of the stream on both ends.  Inline, that
 * is the longest step of the pipeline whenever SHA-256 is slower than the
 * link (under qemu TCG it runs at ~70 MB/s, below the transports; on a real
 * host with SHA-NI at ~2 GB/s, below a 100 Gbit/s RNIC).  In a thread it
 * costs a second core instead of wall time.
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

struct hasher;

/* Returns 0 or -ENOMEM. */
int hasher_new(struct hasher **out);
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

/* SHA-256 of everything fed so far, without ending the hash (waits for the
 * queue to drain).  Returns 0 or -ENOMEM. */
int hasher_peek(struct hasher *h, uint8_t sha[32]);
/* SHA-256 of everything fed; afterwards only hasher_free() is allowed.
 * Returns 0 or -ENOMEM. */
int hasher_final(struct hasher *h, uint8_t sha[32]);
/* Starts again from nothing (waits for the queue to drain). */
int hasher_reset(struct hasher *h);

/* Whether a worker thread does the hashing. */
bool hasher_threaded(const struct hasher *h);

#endif
