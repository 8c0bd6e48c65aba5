/* SPDX-License-Identifier: MIT */
/*
 * linux.c - the Linux monitor backend: processes and cgroups as domains.
 * Its ops table, the watch list and one sample over all watches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

uint64_t lx_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The files every sample reads: the scheduler statistics (CONFIG_SCHED_INFO)
 * and the host's CPU and memory counters. */
static int lx_probe_why(struct rvmig_ctx *ctx, char *why, size_t len)
{
	static const char *const need[] = { "/proc/self/schedstat", "/proc/stat", "/proc/meminfo" };

	(void)ctx;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], R_OK) < 0) {
			int err = errno;

			snprintf(why, len, "linux backend: %s: %s%s", need[i], strerror(err),
				 i == 0 && err == ENOENT ? " (a kernel without CONFIG_SCHED_INFO?)" : "");
			return -ENOTSUP;
		}
	return 0;
}

static int lx_open(struct rvmig_ctx *ctx, struct mon_backend **out)
{
	struct mon_backend *b = calloc(1, sizeof(*b));
	long hz = sysconf(_SC_CLK_TCK);

	if (!b)
		return -ENOMEM;
	b->ctx = ctx;
	b->tick_ns = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
	b->page_size = sysconf(_SC_PAGESIZE) > 0 ? (uint64_t)sysconf(_SC_PAGESIZE) : 4096;
	lx_netns_init(b);
	kept_init(&b->kept, kept_default_max());
	*out = b;
	return 0;
}

static void watch_clear(struct lx_watch *w)
{
	free(w->name);
	lx_cgroup_clear(&w->cg);
}

static void lx_close(struct mon_backend *b)
{
	for (size_t i = 0; i < b->nw; i++)
		watch_clear(&b->w[i]);
	free(b->w);
	mon_buf_free(&b->buf);
	mon_buf_free(&b->ids);
	kept_free(&b->kept);
	free(b);
}

static int add_watch(struct mon_backend *b, const struct lx_watch *w)
{
	struct lx_watch *p = realloc(b->w, (b->nw + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	b->w = p;
	b->w[b->nw++] = *w;
	return 0;
}

static int lx_watch_pid(struct mon_backend *b, uint64_t key, int pid, const char *name)
{
	struct lx_watch w = { .key = key, .kind = LX_PID, .pid = pid, .id = (uint64_t)pid };
	char *comm = NULL;
	int rc = lx_pid_identity(b, pid, &comm, &w.start_ticks);

	if (rc < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot watch process %d: %s", pid, rvmig_strerror(rc));
		return rc;
	}
	if (name) {
		free(comm);
		comm = strdup(name);
	}
	w.name = comm;
	if (!w.name || (rc = add_watch(b, &w)) < 0) {
		free(w.name);
		return -ENOMEM;
	}
	return 0;
}

static int lx_watch_cgroup(struct mon_backend *b, uint64_t key, const char *path, const char *name)
{
	struct lx_watch w = { .key = key, .kind = LX_CGROUP };
	char *rel = NULL;
	int rc = lx_cgroup_resolve(b, path, &w.cg, &rel);

	if (rc < 0)
		return rc;
	w.id = (uint64_t)w.cg.ino;
	if (name) {
		free(rel);
		rel = strdup(name);
	}
	w.name = rel;
	if (!w.name || (rc = add_watch(b, &w)) < 0) {
		watch_clear(&w);
		return -ENOMEM;
	}
	return 0;
}

static int lx_unwatch(struct mon_backend *b, uint64_t key)
{
	for (size_t i = 0; i < b->nw; i++) {
		if (b->w[i].key != key)
			continue;
		watch_clear(&b->w[i]);
		memmove(&b->w[i], &b->w[i + 1], (b->nw - i - 1) * sizeof(b->w[0]));
		b->nw--;
		return 0;
	}
	return -ENOENT;
}

static int lx_sample(struct mon_backend *b, const struct mon_raw *prev, struct mon_raw *cur)
{
	int rc = lx_sample_host(b, cur);

	for (size_t i = 0; rc == 0 && i < b->nw; i++) {
		struct lx_watch *w = &b->w[i];
		const struct mon_dom_raw *pd = mon_raw_find_dom(prev, w->key);
		struct mon_dom_raw *d = mon_raw_add_dom(cur);

		if (!d || !(d->name = strdup(w->name)))
			return -ENOMEM;
		d->key = w->key;
		d->id = w->id;
		d->mem_max = UINT64_MAX;
		rc = w->kind == LX_PID ? lx_sample_pid(b, w, pd, d) : lx_sample_cgroup(b, w, pd, d);
	}
	kept_sweep(&b->kept);
	return rc;
}

const struct mon_backend_ops mon_backend_linux = {
	.name = "linux",
	.probe_why = lx_probe_why,
	.open = lx_open,
	.close = lx_close,
	.watch_pid = lx_watch_pid,
	.watch_cgroup = lx_watch_cgroup,
	.unwatch = lx_unwatch,
	.sample = lx_sample,
};
