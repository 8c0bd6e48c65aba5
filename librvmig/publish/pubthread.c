/* SPDX-License-Identifier: MIT */
/*
 * pubthread.c - the publisher's thread (pubstate.h): it copies the
 * transfers' figures and writes the transfer file, so the threads that move
 * the data never wait for the run directory's file system.
 *
 * It writes when a state changed (at once), when counters were fed and the
 * interval has passed since its last write ended, and nothing otherwise; it
 * sleeps on a condition variable (without a deadline while the process has
 * no transfer, else until the next write may be due) and is woken by the
 * calls that change a state and by close.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish/publish_int.h"
#include "publish/pubstate.h"

/* Reads of a sequence count that meet a store in progress before taking
 * what was read (each value is one the feeder stored). */
#define SEQ_TRIES 64

static struct timespec abs_time(uint64_t mono_ns)
{
	return (struct timespec){ .tv_sec = (time_t)(mono_ns / 1000000000ull),
				  .tv_nsec = (long)(mono_ns % 1000000000ull) };
}

static void counters_get(struct rvmig_pubxfer *x, uint64_t v[PUB_NFIG])
{
	for (int tries = 0;; tries++) {
		uint64_t s0 = atomic_load_explicit(&x->c.seq, memory_order_acquire), s1;

		for (int i = 0; i < PUB_NFIG; i++)
			v[i] = atomic_load_explicit(&x->c.v[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s1 = atomic_load_explicit(&x->c.seq, memory_order_relaxed);
		if ((s0 == s1 && !(s0 & 1)) || tries == SEQ_TRIES)
			return;
		sched_yield(); /* the feeder was preempted between two stores */
	}
}

/* Rate over the last window of at least a second (before the first one
 * completes: since the start; once ended: over the whole transfer). */
#define RATE_WINDOW_NS 1000000000ull

static void update_rate(struct rvmig_pubxfer *x, uint64_t processed, uint64_t now)
{
	if (x->ended) {
		uint64_t el = x->end_mono - x->start_mono;

		x->rate = el ? (uint64_t)((double)processed * 1e9 / (double)el) : 0;
		return;
	}
	if (!x->win_mono) {
		x->win_mono = now;
		x->win_bytes = processed;
	}
	if (now - x->win_mono >= RATE_WINDOW_NS) {
		uint64_t d = processed >= x->win_bytes ? processed - x->win_bytes : 0;

		x->rate = (uint64_t)((double)d * 1e9 / (double)(now - x->win_mono));
		x->win_mono = now;
		x->win_bytes = processed;
	} else if (x->rate == 0 && now > x->start_mono) {
		x->rate = (uint64_t)((double)processed * 1e9 / (double)(now - x->start_mono));
	}
}

/* With mu held: the record of x as it stands now. */
static void fill(struct rvmig_pubxfer *x, uint64_t now, uint64_t cpu, struct xrec_transfer *r)
{
	uint64_t until = x->ended ? x->end_mono : now, v[PUB_NFIG];

	counters_get(x, v);
	update_rate(x, v[PUB_PROCESSED], now);
	memset(r, 0, sizeof(*r));
	r->id = x->id;
	r->state = x->state;
	memcpy(r->transport, x->transport, sizeof(r->transport));
	memcpy(r->peer, x->peer, sizeof(r->peer));
	memcpy(r->mode, x->mode, sizeof(r->mode));
	r->started_ns = x->start_real;
	r->elapsed_ms = (until - x->start_mono) / 1000000;
	r->total_known = x->total_known;
	r->total = x->total;
	r->processed = v[PUB_PROCESSED];
	r->remaining = x->total_known && x->total > r->processed ? x->total - r->processed : 0;
	r->bytes_per_s = x->rate;
	r->pages = v[PUB_PAGES];
	r->zero_pages = v[PUB_ZERO_PAGES] < r->pages ? v[PUB_ZERO_PAGES] : r->pages;
	r->cpu_ns = (x->ended ? x->cpu_end : cpu) - x->cpu_start;
	r->wire_sent = v[PUB_WIRE_SENT];
	r->wire_recv = v[PUB_WIRE_RECV];
}

/* With mu held: the records of all transfers into p->rec.  Returns their
 * number, or -ENOMEM. */
static long snapshot(struct rvmig_publisher *p)
{
	uint64_t now = pub_clock(CLOCK_MONOTONIC), cpu = pub_clock(CLOCK_PROCESS_CPUTIME_ID);

	if (p->n > p->rec_cap) {
		size_t cap = p->n * 2 < XREC_MAX_TRANSFERS ? p->n * 2 : XREC_MAX_TRANSFERS;
		struct xrec_transfer *r = realloc(p->rec, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		p->rec = r;
		p->rec_cap = cap;
	}
	for (size_t i = 0; i < p->n; i++) {
		fill(p->x[i], now, cpu, &p->rec[i]);
		p->x[i]->end_in_write = p->x[i]->ended;
	}
	return (long)p->n;
}

static int remove_file(struct rvmig_publisher *p)
{
	int rc = 0;

	if (p->file_exists && unlinkat(p->dirfd, p->name, 0) && errno != ENOENT)
		rc = -errno;
	p->file_exists = false;
	return rc;
}

/* The text of n records replaces the file: a temporary file of our own,
 * renamed over it, so a reader sees the old text or the new one, never a
 * part.  Returns 0, or a negative errno with *what saying what failed. */
static int replace_file(struct rvmig_publisher *p, size_t n, const char **what)
{
	struct xrec_file f = { .pid = p->pid, .pid_start = p->pid_start };
	size_t len, need = 512 + n * XREC_BLOCK_MAX;
	int fd, rc;

	if (need > p->buf_cap) {
		char *b = realloc(p->buf, need);

		*what = "out of memory for";
		if (!b)
			return -ENOMEM;
		p->buf = b;
		p->buf_cap = need;
	}
	memcpy(f.tool, p->tool, sizeof(f.tool));
	f.updated_ns = pub_clock(CLOCK_REALTIME);
	len = xrec_format(p->buf, p->buf_cap, &f, p->rec, n);
	unlinkat(p->dirfd, p->tmp, 0);
	fd = openat(p->dirfd, p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	*what = "creating a file next to";
	if (fd < 0)
		return -errno;
	errno = 0;
	*what = "writing";
	if (fchmod(fd, 0644) || write(fd, p->buf, len) != (ssize_t)len) {
		rc = errno ? -errno : -ENOSPC;
		close(fd);
		unlinkat(p->dirfd, p->tmp, 0);
		return rc;
	}
	close(fd);
	*what = "renaming into";
	if (renameat(p->dirfd, p->tmp, p->dirfd, p->name)) {
		rc = -errno;
		unlinkat(p->dirfd, p->tmp, 0);
		return rc;
	}
	p->file_exists = true;
	return 0;
}

/* With mu held: the first failure, for the caller's thread to log. */
static void note_failure(struct rvmig_publisher *p, int rc, const char *what)
{
	if (!rc || p->warned)
		return;
	p->warned = true;
	p->warn_what = what;
	p->warn_err = -rc;
	atomic_store_explicit(&p->warn_due, true, memory_order_release);
}

/* With mu held, released during the file calls: one write of everything. */
static void write_now(struct rvmig_publisher *p)
{
	uint64_t gen = p->changes;
	const char *what = "removing";
	long n;
	int rc;

	/* Cleared first: counters fed from here on ask for the next write. */
	atomic_store_explicit(&p->moved, false, memory_order_relaxed);
	n = snapshot(p);
	pthread_mutex_unlock(&p->mu);
	if (n < 0) {
		what = "out of memory for";
		rc = (int)n;
	} else {
		rc = n ? replace_file(p, (size_t)n, &what) : remove_file(p);
	}
	p->last_write = pub_clock(CLOCK_MONOTONIC);
	pthread_mutex_lock(&p->mu);
	p->written = gen;
	for (size_t i = 0; i < p->n; i++) {
		struct rvmig_pubxfer *x = p->x[i];

		if (!x->end_in_write)
			continue;
		x->end_in_write = false;
		x->end_written = true; /* once, even when the write failed */
		if (x->freed) {        /* its end is out: now it leaves the file */
			p->x[i--] = p->x[--p->n];
			free(x);
			p->changes++;
		}
	}
	note_failure(p, rc, what);
	pthread_cond_broadcast(&p->idle);
}

static bool end_pending(const struct rvmig_publisher *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->x[i]->ended && !p->x[i]->end_written)
			return true;
	return false;
}

static void *run(void *arg)
{
	struct rvmig_publisher *p = arg;
	bool orphan;
	int rc;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		uint64_t now = pub_clock(CLOCK_MONOTONIC), due = p->last_write + p->interval_ns;
		struct timespec ts;

		if (p->changes != p->written ||
		    (now >= due && atomic_load_explicit(&p->moved, memory_order_relaxed))) {
			write_now(p);
			continue;
		}
		if (!p->n) {
			pthread_cond_wait(&p->wake, &p->mu);
			continue;
		}
		ts = abs_time(now >= due ? now + p->interval_ns : due);
		pthread_cond_timedwait(&p->wake, &p->mu, &ts);
	}
	/* The end of a transfer is written once before the file is removed:
	 * the monitor sees every verdict.  Then the file goes, here too: the
	 * closing thread only waits. */
	if (end_pending(p))
		write_now(p);
	pthread_mutex_unlock(&p->mu);
	rc = remove_file(p);
	pthread_mutex_lock(&p->mu);
	note_failure(p, rc, "removing");
	p->finished = true;
	orphan = p->orphaned;
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	if (orphan)
		pub_free(p);
	return NULL;
}

void pub_changed(struct rvmig_publisher *p)
{
	p->changes++;
	if (p->thr_on)
		pthread_cond_signal(&p->wake);
}

int pub_thread_start(struct rvmig_publisher *p)
{
	sigset_t all, old;
	int rc;

	/* Signals stay with the caller's threads (their stop flags). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thr, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	pthread_setname_np(p->thr, "rvmig-publish");
	p->thr_on = true;
	return 0;
}

bool pub_thread_stop(struct rvmig_publisher *p)
{
	struct timespec ts = abs_time(pub_clock(CLOCK_MONOTONIC) + PUB_STOP_WAIT_MS * 1000000ull);
	bool done;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	while (!p->finished && pthread_cond_timedwait(&p->idle, &p->mu, &ts) != ETIMEDOUT)
		;
	done = p->finished;
	p->orphaned = !done;
	pthread_mutex_unlock(&p->mu);
	if (done)
		pthread_join(p->thr, NULL);
	else
		pthread_detach(p->thr);
	return done;
}

int pub_settle(struct rvmig_publisher *p, int timeout_ms)
{
	struct timespec ts = abs_time(pub_clock(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull);
	int rc = 0;

	if (!p || !p->thr_on)
		return 0;
	pthread_mutex_lock(&p->mu);
	while (!p->finished && (p->changes != p->written ||
				atomic_load_explicit(&p->moved, memory_order_relaxed))) {
		if (pthread_cond_timedwait(&p->idle, &p->mu, &ts) == ETIMEDOUT) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void pub_free(struct rvmig_publisher *p)
{
	if (p->dirfd >= 0) {
		remove_file(p);
		close(p->dirfd);
	}
	for (size_t i = 0; i < p->n; i++)
		free(p->x[i]);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	free(p->buf);
	free(p->rec);
	free(p);
}
