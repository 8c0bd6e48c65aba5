/* SPDX-License-Identifier: MIT */
/*
 * collect.h - rvmig-top's monitor side: the watched domains, one sample
 * turned into a top_view, and the run / blocked / wait counters it sums
 * over the intervals (the monitor reports those per interval).
 */
#ifndef RVMIG_TOOLS_TOP_COLLECT_H
#define RVMIG_TOOLS_TOP_COLLECT_H

#include <rvmig.h>

#include "top/view.h"

struct top_collect {
	rvmig_monitor *mon;
	int listed;              /* the backend lists its domains (xen): no watches */
	unsigned n;              /* domains watched, in watch order */
	enum top_kind *kinds;
	struct top_dom *doms;    /* the counters live here between samples */
	rvmig_monitor_snap *snap; /* the last sample: the names point into it */
	struct top_view view;
	struct top_xfer *xfers;  /* the last sample's transfers (strings in snap) */
	size_t xfers_cap;
	/* the last sample's vCPUs, interfaces and disks (all domains, in
	 * domain order) and pCPU idle shares: grown to the most seen, never
	 * shrunk */
	struct top_vcpu *vcpus;
	size_t vcpus_cap;
	struct top_net *nets;
	size_t nets_cap;
	struct top_disk *disks;
	size_t disks_cap;
	double *cpu_idle;
	size_t cpu_idle_cap;
	char host[65];           /* uname's nodename */
};

/* Opens monitor backend `backend` ("auto", "linux", "xen") on ctx.
 * Returns 0 or -errno (printed). */
int top_collect_open(struct top_collect *c, rvmig_ctx *ctx, const char *backend);
/* Watches a process or a cgroup.  Returns 0 or -errno (printed). */
int top_collect_watch(struct top_collect *c, enum top_kind kind, const char *what);
/* Samples once and updates c->view.  Returns 0 or -errno (printed). */
int top_collect_sample(struct top_collect *c);
void top_collect_close(struct top_collect *c);

#endif
