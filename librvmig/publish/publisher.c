/* SPDX-License-Identifier: MIT */
/* publisher.c - a process's transfers, written for the monitor (rvmig/publish.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rvmig/publish.h>

#include "core/log.h"
#include "proto/ep.h"
#include "publish/publish_int.h"
#include "publish/record.h"
#include "publish/rundir.h"

#define INTERVAL_DEFAULT_MS 200
#define INTERVAL_MIN_MS 10
#define RATE_WINDOW_NS 1000000000ull

struct rvmig_pubxfer {
	struct rvmig_publisher *pub;
	uint64_t id;
	int state;
	bool ended;
	rvmig_ep *ep;
	char transport[XREC_TRANSPORT_MAX + 1];
	char peer[XREC_PEER_MAX + 1];
	char mode[XREC_MODE_MAX + 1];
	uint64_t start_real, start_mono, end_mono;
	uint64_t cpu_start, cpu_end;
	bool total_known;
	uint64_t total, processed, pages, zero_pages;
	uint64_t wire_sent, wire_recv;
	uint64_t win_mono, win_bytes, rate; /* bytes/s over the last window */
};

struct rvmig_publisher {
	struct rvmig_ctx *ctx;
	char tool[XREC_TOOL_MAX + 1];
	int dirfd;                  /* -1: publishing nothing */
	char file[PUB_PATH_MAX + 32];
	char name[32], tmp[40];
	uint64_t pid, pid_start;
	uint64_t interval_ns, last_write;
	bool file_exists, warned;
	size_t n;
	struct rvmig_pubxfer *x[XREC_MAX_TRANSFERS];
	uint64_t next_id;
	char *buf;                  /* the text, and the records it is made of */
	size_t buf_cap;
	struct xrec_transfer *rec;
	size_t rec_cap;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void warn_once(rvmig_publisher *p, const char *what, int err)
{
	if (p->warned)
		return;
	p->warned = true;
	LOG_WARN(p->ctx, "publish", "cannot publish transfer statistics (%s %s: %s); the "
		 "transfer goes on, unseen by the monitor", what, p->file, strerror(err));
}

static void remove_file(rvmig_publisher *p)
{
	if (p->file_exists && unlinkat(p->dirfd, p->name, 0) && errno != ENOENT)
		warn_once(p, "removing", errno);
	p->file_exists = false;
}

/* Counters of x as they stand now, into r. */
static void fill(const struct rvmig_pubxfer *x, uint64_t now, uint64_t cpu,
		 struct xrec_transfer *r)
{
	uint64_t until = x->ended ? x->end_mono : now;

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
	r->remaining = x->total_known && x->total > x->processed ? x->total - x->processed : 0;
	r->processed = x->processed;
	r->bytes_per_s = x->rate;
	r->pages = x->pages;
	r->zero_pages = x->zero_pages < x->pages ? x->zero_pages : x->pages;
	r->cpu_ns = (x->ended ? x->cpu_end : cpu) - x->cpu_start;
	r->wire_sent = x->wire_sent;
	r->wire_recv = x->wire_recv;
}

/* Rate over the last window of at least a second (before the first one
 * completes: since the start; once ended: over the whole transfer). */
static void update_rate(struct rvmig_pubxfer *x, uint64_t now)
{
	if (x->ended) {
		uint64_t el = x->end_mono - x->start_mono;

		x->rate = el ? (uint64_t)((double)x->processed * 1e9 / (double)el) : 0;
		return;
	}
	if (!x->win_mono) {
		x->win_mono = now;
		x->win_bytes = x->processed;
	}
	if (now - x->win_mono >= RATE_WINDOW_NS) {
		uint64_t d = x->processed >= x->win_bytes ? x->processed - x->win_bytes : 0;

		x->rate = (uint64_t)((double)d * 1e9 / (double)(now - x->win_mono));
		x->win_mono = now;
		x->win_bytes = x->processed;
	} else if (x->rate == 0 && now > x->start_mono) {
		x->rate = (uint64_t)((double)x->processed * 1e9 / (double)(now - x->start_mono));
	}
}

static void write_file(rvmig_publisher *p)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	struct xrec_file f = { .pid = p->pid, .pid_start = p->pid_start };
	size_t len, need = 512 + p->n * XREC_BLOCK_MAX;
	int fd;

	p->last_write = now;
	if (p->dirfd < 0)
		return;
	if (!p->n) {
		remove_file(p);
		return;
	}
	if (need > p->buf_cap) {
		char *b = realloc(p->buf, need);

		if (!b) {
			warn_once(p, "out of memory for", ENOMEM);
			return;
		}
		p->buf = b;
		p->buf_cap = need;
	}
	if (p->n > p->rec_cap) {
		size_t cap = p->n * 2 < XREC_MAX_TRANSFERS ? p->n * 2 : XREC_MAX_TRANSFERS;
		struct xrec_transfer *r = realloc(p->rec, cap * sizeof(*r));

		if (!r) {
			warn_once(p, "out of memory for", ENOMEM);
			return;
		}
		p->rec = r;
		p->rec_cap = cap;
	}
	memcpy(f.tool, p->tool, sizeof(f.tool));
	f.updated_ns = clock_ns(CLOCK_REALTIME);
	for (size_t i = 0; i < p->n; i++) {
		struct rvmig_pubxfer *x = p->x[i];

		if (x->ep) {
			x->wire_sent = x->ep->stats[RVMIG_STAT_BYTES_SENT];
			x->wire_recv = x->ep->stats[RVMIG_STAT_BYTES_RECV];
		}
		update_rate(x, now);
		fill(x, now, cpu, &p->rec[i]);
	}
	len = xrec_format(p->buf, p->buf_cap, &f, p->rec, p->n);
	/* A temporary file of our own, then renamed over the record: a reader
	 * sees the old text or the new one, never a part. */
	unlinkat(p->dirfd, p->tmp, 0);
	fd = openat(p->dirfd, p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		warn_once(p, "creating a file next to", errno);
		return;
	}
	errno = 0;
	if (fchmod(fd, 0644) || write(fd, p->buf, len) != (ssize_t)len) {
		int err = errno ? errno : ENOSPC;

		close(fd);
		unlinkat(p->dirfd, p->tmp, 0);
		warn_once(p, "writing", err);
		return;
	}
	close(fd);
	if (renameat(p->dirfd, p->tmp, p->dirfd, p->name)) {
		warn_once(p, "renaming into", errno);
		unlinkat(p->dirfd, p->tmp, 0);
		return;
	}
	p->file_exists = true;
}

static void maybe_write(rvmig_publisher *p)
{
	if (clock_ns(CLOCK_MONOTONIC) - p->last_write >= p->interval_ns)
		write_file(p);
}

/* Keeps the last counters of the endpoint and forgets it. */
static void detach(struct rvmig_pubxfer *x)
{
	if (!x->ep)
		return;
	x->wire_sent = x->ep->stats[RVMIG_STAT_BYTES_SENT];
	x->wire_recv = x->ep->stats[RVMIG_STAT_BYTES_RECV];
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
	int rc;

	if (!tool || !tool[0] || !out)
		return -EINVAL;
	if (attr)
		memcpy(&a, attr, attr->size < sizeof(a) ? attr->size : sizeof(a));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
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
		LOG_DBG(ctx, "publish", "transfer statistics published in %s", p->file);
	}
	*out = p;
	return 0;
}

RVMIG_API void rvmig_publisher_close(rvmig_publisher *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		detach(p->x[i]);
		free(p->x[i]);
	}
	p->n = 0;
	if (p->dirfd >= 0) {
		remove_file(p);
		close(p->dirfd);
	}
	free(p->buf);
	free(p->rec);
	free(p);
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
	if (p->n == XREC_MAX_TRANSFERS)
		return -ENOSPC;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->pub = p;
	x->id = p->next_id++;
	x->state = RVMIG_TRANSFER_SETUP;
	x->start_real = clock_ns(CLOCK_REALTIME);
	x->start_mono = clock_ns(CLOCK_MONOTONIC);
	x->cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	p->x[p->n++] = x;
	write_file(p);
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
	x->total_known = bytes != RVMIG_PUBXFER_SIZE_UNKNOWN;
	x->total = x->total_known ? bytes : 0;
	write_file(x->pub);
}

void pubxfer_tick(struct rvmig_pubxfer *x)
{
	maybe_write(x->pub);
}

void pubxfer_ep_closed(struct rvmig_pubxfer *x)
{
	rvmig_pubxfer_set_endpoint(x, NULL);
}

RVMIG_API void rvmig_pubxfer_set_endpoint(rvmig_pubxfer *x, rvmig_ep *ep)
{
	if (!x)
		return;
	detach(x);
	if (ep && ep->pub && ep->pub != x)
		detach(ep->pub); /* an endpoint feeds one transfer */
	x->ep = ep;
	if (ep) {
		ep->pub = x;
		xrec_escape(x->transport, sizeof(x->transport), rvmig_ep_transport(ep));
		xrec_escape(x->peer, sizeof(x->peer), rvmig_ep_peer(ep));
		xrec_escape(x->mode, sizeof(x->mode),
			    rvmig_ep_mode(ep) == RVMIG_MODE_PULL ? "pull" : "push");
	}
	if (!x->ended)
		x->state = ep ? RVMIG_TRANSFER_ACTIVE : RVMIG_TRANSFER_SETUP;
	write_file(x->pub);
}

RVMIG_API void rvmig_pubxfer_progress(rvmig_pubxfer *x, uint64_t bytes, uint64_t pages,
				      uint64_t zero_pages)
{
	if (!x)
		return;
	x->processed = bytes;
	x->pages = pages;
	x->zero_pages = zero_pages;
	maybe_write(x->pub);
}

RVMIG_API void rvmig_pubxfer_end(rvmig_pubxfer *x, int status)
{
	if (!x || x->ended)
		return;
	x->ended = true;
	x->end_mono = clock_ns(CLOCK_MONOTONIC);
	x->cpu_end = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	x->state = status ? RVMIG_TRANSFER_FAILED : RVMIG_TRANSFER_COMPLETED;
	write_file(x->pub);
}

RVMIG_API void rvmig_pubxfer_free(rvmig_pubxfer *x)
{
	rvmig_publisher *p;

	if (!x)
		return;
	p = x->pub;
	detach(x);
	for (size_t i = 0; i < p->n; i++) {
		if (p->x[i] == x) {
			p->x[i] = p->x[--p->n];
			break;
		}
	}
	free(x);
	write_file(p);
}
