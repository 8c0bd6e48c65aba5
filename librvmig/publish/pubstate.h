/* SPDX-License-Identifier: MIT */
/*
 * pubstate.h - a publisher and its transfers (internal): what the calls of
 * rvmig/publish.h change (publisher.c) and what the publisher's thread
 * writes to the transfer file (pubthread.c).
 *
 * Who touches what:
 * - a transfer's counters (struct pub_counters): written by the thread that
 *   feeds the transfer (rvmig_pubxfer_progress(), rvmig_progress() of its
 *   endpoint), read by the publisher's thread through a sequence count, so
 *   the data path never takes a lock and never waits for the file;
 * - x->ep and x->fed: the feeding thread's alone;
 * - the list of transfers and every other field of a transfer: under `mu`,
 *   taken by the calls that change a state (begin, total, endpoint, end,
 *   free) and by the publisher's thread while it copies them, never across
 *   its file I/O.  x->ended is written only by the feeding thread (under
 *   `mu`), which may read it without;
 * - `moved` and `warn_due`: flags in both directions, atomics;
 * - the text, the records, the rate windows and the file's state: the
 *   publisher's thread's, then (once it has finished) close()'s.
 */
#ifndef RVMIG_PUBLISH_PUBSTATE_H
#define RVMIG_PUBLISH_PUBSTATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rvmig/publish.h>

#include "publish/record.h"
#include "publish/rundir.h"

/* The counters a feeding thread publishes, by index. */
enum { PUB_PROCESSED, PUB_PAGES, PUB_ZERO_PAGES, PUB_WIRE_SENT, PUB_WIRE_RECV, PUB_NFIG };

struct pub_counters {
	_Atomic uint64_t seq;  /* odd while the feeding thread stores */
	_Atomic uint64_t v[PUB_NFIG];
};

struct rvmig_pubxfer {
	struct rvmig_publisher *pub;
	/* the feeding thread's */
	rvmig_ep *ep;
	uint64_t fed[PUB_NFIG];       /* what it last stored in c */
	struct pub_counters c;
	/* under pub->mu */
	uint64_t id;
	int state;
	bool ended;
	bool freed;                   /* rvmig_pubxfer_free() ran: dropped once its end is out */
	bool end_in_write;            /* the write under way carries the end */
	bool end_written;             /* the end was written (or its write failed) */
	char transport[XREC_TRANSPORT_MAX + 1];
	char peer[XREC_PEER_MAX + 1];
	char mode[XREC_MODE_MAX + 1];
	uint64_t start_real, start_mono, end_mono;
	uint64_t cpu_start, cpu_end;
	bool total_known;
	uint64_t total;
	/* the publisher thread's: rate over the last window */
	uint64_t win_mono, win_bytes, rate;
};

struct rvmig_publisher {
	/* set by open, then read only */
	struct rvmig_ctx *ctx;        /* logged to from the caller's threads only */
	char tool[XREC_TOOL_MAX + 1];
	int dirfd;                    /* -1: publishing nothing (and no thread) */
	char file[PUB_PATH_MAX + 32];
	char name[32], tmp[40];
	uint64_t pid, pid_start;
	uint64_t interval_ns;
	pthread_t thr;
	bool thr_on;

	pthread_mutex_t mu;
	pthread_cond_t wake;          /* to the thread: a change, stop (CLOCK_MONOTONIC) */
	pthread_cond_t idle;          /* from the thread: a write done, finished */
	/* under mu */
	size_t n;
	struct rvmig_pubxfer *x[XREC_MAX_TRANSFERS];
	uint64_t next_id;
	uint64_t changes, written;    /* states changed / written (counts) */
	bool stop, finished, orphaned;
	const char *warn_what;        /* the thread's failure, for the caller to log */
	int warn_err;

	_Atomic bool moved;           /* counters fed since the last write */
	_Atomic bool warn_due;        /* warn_what is set and not logged yet */

	/* the thread's */
	bool file_exists, warned;
	uint64_t last_write;          /* CLOCK_MONOTONIC when the last write ended */
	char *buf;
	size_t buf_cap;
	struct xrec_transfer *rec;
	size_t rec_cap;
};

static inline uint64_t pub_clock(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The feeding thread stores x->fed[] for the publisher's thread (a seqlock
 * write: no lock, no wait). */
static inline void pub_counters_put(struct rvmig_pubxfer *x)
{
	uint64_t s = atomic_load_explicit(&x->c.seq, memory_order_relaxed);

	atomic_store_explicit(&x->c.seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (int i = 0; i < PUB_NFIG; i++)
		atomic_store_explicit(&x->c.v[i], x->fed[i], memory_order_relaxed);
	atomic_store_explicit(&x->c.seq, s + 2, memory_order_release);
}

/* With p->mu held: a state changed, wake the thread to write it. */
void pub_changed(struct rvmig_publisher *p);
/* Starts the publisher's thread (p->dirfd open): 0 or a negative errno. */
int pub_thread_start(struct rvmig_publisher *p);
/* Stops it: it writes an end not written yet and finishes.  Returns true
 * when it finished within PUB_STOP_WAIT_MS (joined; p is the caller's to
 * free), false when it is still in a file call (detached: it frees p
 * itself when that returns). */
bool pub_thread_stop(struct rvmig_publisher *p);
/* Removes the file, closes the directory, frees the transfers left and p. */
void pub_free(struct rvmig_publisher *p);

#define PUB_STOP_WAIT_MS 1000

#endif
