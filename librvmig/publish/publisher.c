/* SPDX-License-Identifier: MIT */
/* publisher.c - a process's transfers, written for the monitor (rvmig/publish.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig/publish.h>

#include "core/log.h"
#include "proto/ep.h"
#include "publish/publish_int.h"
#include "publish/pubstate.h"

#define INTERVAL_DEFAULT_MS 200
#define INTERVAL_MIN_MS 10

/* A failed write of the publisher's thread, logged once from a caller's
 * thread (the logger is called from the caller's threads only). */
static void report(rvmig_publisher *p)
{
	const char *what;
	int err;

	if (!atomic_load_explicit(&p->warn_due, memory_order_acquire))
		return;
	pthread_mutex_lock(&p->mu);
	what = p->warn_what;
	err = p->warn_err;
	atomic_store_explicit(&p->warn_due, false, memory_order_relaxed);
	pthread_mutex_unlock(&p->mu);
	LOG_WARN(p->ctx, "publish", "cannot publish transfer statistics (%s %s: %s); the "
		 "transfer goes on, unseen by the monitor", what, p->file, strerror(err));
}

/* The endpoint's payload counters into x's (the feeding thread). */
static bool take_wire(struct rvmig_pubxfer *x)
{
	uint64_t sent = x->ep->stats[RVMIG_STAT_BYTES_SENT];
	uint64_t recv = x->ep->stats[RVMIG_STAT_BYTES_RECV];

	if (sent == x->fed[PUB_WIRE_SENT] && recv == x->fed[PUB_WIRE_RECV])
		return false;
	x->fed[PUB_WIRE_SENT] = sent;
	x->fed[PUB_WIRE_RECV] = recv;
	return true;
}

/* Keeps the last counters of the endpoint and forgets it.  Once the
 * transfer ended its record no longer changes. */
static void detach(struct rvmig_pubxfer *x)
{
	if (!x->ep)
		return;
	if (!x->ended && take_wire(x))
		pub_counters_put(x);
	x->ep->pub = NULL;
	x->ep = NULL;
}

RVMIG_API int rvmig_publisher_open(rvmig_ctx *ctx, const char *tool,
				   const struct rvmig_publisher_attr *attr, rvmig_publisher **out)
{
	struct rvmig_publisher_attr a = { 0 };
	const char *off = getenv("RVMIG_PUBLISH");
	struct rvmig_publisher *p;
	char dir[PUB_PATH_MAX], why[PUB_PATH_MAX + 128];
	pthread_condattr_t ca;
	int rc;

	if (!tool || !tool[0] || !out)
		return -EINVAL;
	if (attr)
		memcpy(&a, attr, attr->size < sizeof(a) ? attr->size : sizeof(a));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_cond_init(&p->idle, &ca);
	pthread_condattr_destroy(&ca);
	p->ctx = ctx;
	p->dirfd = -1;
	p->next_id = 1;
	p->interval_ns = (uint64_t)(a.interval_ms ? a.interval_ms : INTERVAL_DEFAULT_MS) * 1000000;
	if (p->interval_ns < INTERVAL_MIN_MS * 1000000ull)
		p->interval_ns = INTERVAL_MIN_MS * 1000000ull;
	xrec_escape(p->tool, sizeof(p->tool), tool);
	p->pid = (uint64_t)getpid();
	snprintf(p->name, sizeof(p->name), "%llu.xfer", (unsigned long long)p->pid);
	snprintf(p->tmp, sizeof(p->tmp), ".%llu.xfer.tmp", (unsigned long long)p->pid);
	if (off && !strcmp(off, "0")) {
		LOG_DBG(ctx, "publish", "transfer statistics not published (RVMIG_PUBLISH=0)");
	} else if ((rc = pub_pid_start(0, &p->pid_start)) < 0) {
		LOG_DBG(ctx, "publish", "transfer statistics not published: /proc/self/stat: %s",
			strerror(-rc));
	} else if ((rc = pub_rundir_open(a.dir, dir, sizeof(dir), why, sizeof(why))) < 0) {
		LOG_DBG(ctx, "publish", "transfer statistics not published: %s", why);
	} else {
		p->dirfd = rc;
		snprintf(p->file, sizeof(p->file), "%s/%s", dir, p->name);
		if ((rc = pub_thread_start(p)) < 0) {
			LOG_WARN(ctx, "publish", "cannot publish transfer statistics (starting "
				 "the thread that writes %s: %s); the transfer goes on, unseen "
				 "by the monitor", p->file, strerror(-rc));
			close(p->dirfd);
			p->dirfd = -1;
		} else {
			LOG_DBG(ctx, "publish", "transfer statistics published in %s", p->file);
		}
	}
	*out = p;
	return 0;
}

RVMIG_API void rvmig_publisher_close(rvmig_publisher *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu); /* the thread may be dropping a freed transfer */
	for (size_t i = 0; i < p->n; i++)
		detach(p->x[i]); /* the caller's thread: the endpoints are its */
	pthread_mutex_unlock(&p->mu);
	if (p->thr_on && !pub_thread_stop(p))
		return; /* still in a file call: it frees p when that returns */
	report(p);
	pub_free(p);
}

RVMIG_API const char *rvmig_publisher_file(const rvmig_publisher *p)
{
	return p && p->dirfd >= 0 ? p->file : NULL;
}

RVMIG_API int rvmig_pubxfer_begin(rvmig_publisher *p, rvmig_pubxfer **out)
{
	struct rvmig_pubxfer *x;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!p)
		return -EINVAL;
	report(p);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->pub = p;
	x->state = RVMIG_TRANSFER_SETUP;
	x->start_real = pub_clock(CLOCK_REALTIME);
	x->start_mono = pub_clock(CLOCK_MONOTONIC);
	x->cpu_start = pub_clock(CLOCK_PROCESS_CPUTIME_ID);
	pthread_mutex_lock(&p->mu);
	if (p->n == XREC_MAX_TRANSFERS) {
		pthread_mutex_unlock(&p->mu);
		free(x);
		return -ENOSPC;
	}
	x->id = p->next_id++;
	p->x[p->n++] = x;
	pub_changed(p);
	pthread_mutex_unlock(&p->mu);
	*out = x;
	return 0;
}

RVMIG_API uint64_t rvmig_pubxfer_id(const rvmig_pubxfer *x)
{
	return x ? x->id : 0;
}

RVMIG_API void rvmig_pubxfer_set_total(rvmig_pubxfer *x, uint64_t bytes)
{
	if (!x)
		return;
	report(x->pub);
	pthread_mutex_lock(&x->pub->mu);
	x->total_known = bytes != RVMIG_PUBXFER_SIZE_UNKNOWN;
	x->total = x->total_known ? bytes : 0;
	pub_changed(x->pub);
	pthread_mutex_unlock(&x->pub->mu);
}

void pubxfer_tick(struct rvmig_pubxfer *x)
{
	if (x->ended)
		return;
	if (take_wire(x))
		pub_counters_put(x);
	atomic_store_explicit(&x->pub->moved, true, memory_order_relaxed);
	report(x->pub);
}

void pubxfer_ep_closed(struct rvmig_pubxfer *x)
{
	rvmig_pubxfer_set_endpoint(x, NULL);
}

RVMIG_API void rvmig_pubxfer_set_endpoint(rvmig_pubxfer *x, rvmig_ep *ep)
{
	if (!x)
		return;
	report(x->pub);
	detach(x);
	if (ep && ep->pub && ep->pub != x)
		detach(ep->pub); /* an endpoint feeds one transfer */
	x->ep = ep;
	if (ep)
		ep->pub = x;
	pthread_mutex_lock(&x->pub->mu);
	if (ep) {
		xrec_escape(x->transport, sizeof(x->transport), rvmig_ep_transport(ep));
		xrec_escape(x->peer, sizeof(x->peer), rvmig_ep_peer(ep));
		xrec_escape(x->mode, sizeof(x->mode),
			    rvmig_ep_mode(ep) == RVMIG_MODE_PULL ? "pull" : "push");
	}
	/* An ended transfer's record stays as its end wrote it: closing its
	 * endpoint writes nothing more. */
	if (!x->ended) {
		x->state = ep ? RVMIG_TRANSFER_ACTIVE : RVMIG_TRANSFER_SETUP;
		pub_changed(x->pub);
	}
	pthread_mutex_unlock(&x->pub->mu);
}

RVMIG_API void rvmig_pubxfer_progress(rvmig_pubxfer *x, uint64_t bytes, uint64_t pages,
				      uint64_t zero_pages)
{
	if (!x || x->ended)
		return;
	x->fed[PUB_PROCESSED] = bytes;
	x->fed[PUB_PAGES] = pages;
	x->fed[PUB_ZERO_PAGES] = zero_pages;
	if (x->ep)
		take_wire(x);
	pub_counters_put(x);
	atomic_store_explicit(&x->pub->moved, true, memory_order_relaxed);
	report(x->pub);
}

RVMIG_API void rvmig_pubxfer_end(rvmig_pubxfer *x, int status)
{
	if (!x || x->ended)
		return;
	if (x->ep && take_wire(x))
		pub_counters_put(x);
	pthread_mutex_lock(&x->pub->mu);
	x->ended = true;
	x->end_mono = pub_clock(CLOCK_MONOTONIC);
	x->cpu_end = pub_clock(CLOCK_PROCESS_CPUTIME_ID);
	x->state = status ? RVMIG_TRANSFER_FAILED : RVMIG_TRANSFER_COMPLETED;
	pub_changed(x->pub);
	pthread_mutex_unlock(&x->pub->mu);
	report(x->pub);
}

RVMIG_API void rvmig_pubxfer_free(rvmig_pubxfer *x)
{
	rvmig_publisher *p;

	if (!x)
		return;
	p = x->pub;
	report(p);
	detach(x);
	pthread_mutex_lock(&p->mu);
	/* An end not written yet keeps the record until the thread has
	 * written it once (pubthread.c drops it then). */
	x->freed = true;
	if (!x->ended || x->end_written || !p->thr_on) {
		for (size_t i = 0; i < p->n; i++) {
			if (p->x[i] == x) {
				p->x[i] = p->x[--p->n];
				break;
			}
		}
		free(x);
	}
	pub_changed(p);
	pthread_mutex_unlock(&p->mu);
}
