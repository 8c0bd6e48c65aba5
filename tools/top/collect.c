/* SPDX-License-Identifier: MIT */
/*
 * collect.c - rvmig-top's monitor side (collect.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "top/collect.h"

int top_collect_open(struct top_collect *c, rvmig_ctx *ctx)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = rvmig_monitor_open(ctx, "auto", &c->mon);
	if (rc)
		tool_err("cannot open a monitor: %s", rvmig_strerror(rc));
	return rc;
}

int top_collect_watch(struct top_collect *c, enum top_kind kind, const char *what)
{
	enum top_kind *k;
	struct top_dom *d;
	int rc;

	if (kind == TOP_PROCESS) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(what, &end, 10);
		if (errno || end == what || *end || pid <= 0 || pid > INT32_MAX) {
			tool_err("-p %s: not a process id", what);
			return -EINVAL;
		}
		rc = rvmig_monitor_watch_pid(c->mon, (int)pid, NULL);
	} else {
		rc = rvmig_monitor_watch_cgroup(c->mon, what, NULL);
	}
	if (rc < 0) {
		tool_err("cannot watch %s %s: %s", top_kind_name(kind), what, rvmig_strerror(rc));
		return rc;
	}
	k = realloc(c->kinds, (c->n + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	c->kinds = k;
	d = realloc(c->doms, (c->n + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	c->doms = d;
	memset(&d[c->n], 0, sizeof(*d));
	k[c->n++] = kind;
	return 0;
}

int top_collect_sample(struct top_collect *c)
{
	rvmig_monitor_snap *s;
	unsigned n;
	int rc = rvmig_monitor_sample(c->mon, &s);

	if (rc) {
		tool_err("sampling failed: %s", rvmig_strerror(rc));
		return rc;
	}
	n = rvmig_monitor_snap_ndomains(s);
	if (n > c->n)
		n = c->n;
	for (unsigned i = 0; i < n; i++) {
		const rvmig_monitor_dom *m = rvmig_monitor_domain(s, i);
		struct top_dom *d = &c->doms[i];

		d->name = rvmig_monitor_domain_name(m);
		d->kind = c->kinds[i];
		d->id = rvmig_monitor_domain_id(m);
		d->flags = rvmig_monitor_domain_flags(m);
		d->nvcpus = rvmig_monitor_domain_nvcpus(m);
		d->cpu_s = rvmig_monitor_domain_cpu_ns(m) / 1e9;
		d->run_s += rvmig_monitor_domain_run_ns(m) / 1e9;
		d->blocked_s += rvmig_monitor_domain_blocked_ns(m) / 1e9;
		d->wait_s += rvmig_monitor_domain_wait_ns(m) / 1e9;
		d->cpu_pct = rvmig_monitor_domain_cpu_pct(m);
		d->run_share = rvmig_monitor_domain_run_share(m);
		d->blocked_share = rvmig_monitor_domain_blocked_share(m);
		d->wait_share = rvmig_monitor_domain_wait_share(m);
		d->execs_per_s = rvmig_monitor_domain_execs_per_s(m);
		d->mem_bytes = rvmig_monitor_domain_mem_cur(m);
	}
	if (c->snap)
		rvmig_monitor_snap_free(c->snap);
	c->snap = s;
	c->view = (struct top_view){
		.time_s = rvmig_monitor_snap_time_ns(s) / 1e9,
		.interval_s = rvmig_monitor_snap_interval_ns(s) / 1e9,
		.ncpus = rvmig_monitor_host_ncpus(s),
		.mem_total = rvmig_monitor_host_mem_total(s),
		.mem_free = rvmig_monitor_host_mem_free(s),
		.ndoms = n,
		.doms = c->doms,
	};
	return 0;
}

void top_collect_close(struct top_collect *c)
{
	if (c->snap)
		rvmig_monitor_snap_free(c->snap);
	rvmig_monitor_close(c->mon);
	free(c->kinds);
	free(c->doms);
	memset(c, 0, sizeof(*c));
}
