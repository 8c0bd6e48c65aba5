/* SPDX-License-Identifier: MIT */
/*
 * collect.c - rvmig-top's monitor side (collect.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/cli.h"
#include "top/collect.h"

int top_collect_open(struct top_collect *c, rvmig_ctx *ctx, const char *backend)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = rvmig_monitor_open(ctx, backend, &c->mon);
	if (rc) {
		tool_err("cannot open the %s monitor backend: %s", backend, rvmig_strerror(rc));
		return rc;
	}
	/* Only the Linux backend is given its domains; the others list them. */
	c->listed = strcmp(rvmig_monitor_backend(c->mon), "linux") != 0;
	return 0;
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

/* Makes room for `want` elements of `size` bytes in the array whose
 * pointer is at `pp` (capacity *cap), which never shrinks.  The pointer is
 * copied in and out with memcpy, so any element type can be passed. */
static int reserve(void *pp, size_t *cap, size_t want, size_t size)
{
	void *p, *q;

	if (want <= *cap)
		return 0;
	memcpy(&p, pp, sizeof(p));
	q = realloc(p, want * size);
	if (!q)
		return -ENOMEM;
	memcpy(pp, &q, sizeof(q));
	*cap = want;
	return 0;
}

/* The interfaces and disks of domain m into c's arrays from *kn / *kd on. */
static void collect_devices(struct top_collect *c, const rvmig_monitor_dom *m, struct top_dom *d,
			    size_t *kn, size_t *kd)
{
	d->nnets = rvmig_monitor_domain_nnets(m);
	d->nets = d->nnets ? &c->nets[*kn] : NULL;
	for (unsigned j = 0; j < d->nnets; j++) {
		const rvmig_monitor_net *n = rvmig_monitor_domain_net(m, j);

		c->nets[(*kn)++] = (struct top_net){
			.name = rvmig_monitor_net_name(n),
			.rx_bytes = rvmig_monitor_net_rx_bytes(n),
			.rx_packets = rvmig_monitor_net_rx_packets(n),
			.rx_errors = rvmig_monitor_net_rx_errors(n),
			.rx_drops = rvmig_monitor_net_rx_drops(n),
			.tx_bytes = rvmig_monitor_net_tx_bytes(n),
			.tx_packets = rvmig_monitor_net_tx_packets(n),
			.tx_errors = rvmig_monitor_net_tx_errors(n),
			.tx_drops = rvmig_monitor_net_tx_drops(n),
		};
	}
	d->ndisks = rvmig_monitor_domain_ndisks(m);
	d->disks = d->ndisks ? &c->disks[*kd] : NULL;
	for (unsigned j = 0; j < d->ndisks; j++) {
		const rvmig_monitor_disk *k = rvmig_monitor_domain_disk(m, j);

		c->disks[(*kd)++] = (struct top_disk){
			.name = rvmig_monitor_disk_name(k),
			.rd_bytes = rvmig_monitor_disk_rd_bytes(k),
			.wr_bytes = rvmig_monitor_disk_wr_bytes(k),
			.rd_reqs = rvmig_monitor_disk_rd_reqs(k),
			.wr_reqs = rvmig_monitor_disk_wr_reqs(k),
		};
	}
}

/* Copies the snapshot's vCPUs, interfaces, disks and pCPU idle shares into
 * c's arrays (grown as needed) and points the view's domains at them. */
static int collect_detail(struct top_collect *c, const rvmig_monitor_snap *s, unsigned n)
{
	unsigned ncpus = rvmig_monitor_host_ncpus(s);
	size_t total = 0, nets = 0, disks = 0, k = 0, kn = 0, kd = 0;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		const rvmig_monitor_dom *m = rvmig_monitor_domain(s, i);

		total += rvmig_monitor_domain_nvcpus(m);
		nets += rvmig_monitor_domain_nnets(m);
		disks += rvmig_monitor_domain_ndisks(m);
	}
	if ((rc = reserve(&c->vcpus, &c->vcpus_cap, total, sizeof(*c->vcpus))) < 0 ||
	    (rc = reserve(&c->nets, &c->nets_cap, nets, sizeof(*c->nets))) < 0 ||
	    (rc = reserve(&c->disks, &c->disks_cap, disks, sizeof(*c->disks))) < 0 ||
	    (rc = reserve(&c->cpu_idle, &c->cpu_idle_cap, ncpus, sizeof(*c->cpu_idle))) < 0)
		return rc;
	for (unsigned i = 0; i < ncpus; i++)
		c->cpu_idle[i] = rvmig_monitor_host_cpu_idle_share(s, i);
	for (unsigned i = 0; i < n; i++) {
		const rvmig_monitor_dom *m = rvmig_monitor_domain(s, i);
		unsigned nv = rvmig_monitor_domain_nvcpus(m);

		collect_devices(c, m, &c->doms[i], &kn, &kd);
		c->doms[i].vcpus = nv ? &c->vcpus[k] : NULL;
		c->doms[i].nvcpus = nv;
		for (unsigned j = 0; j < nv; j++, k++) {
			const rvmig_monitor_vcpu *mv = rvmig_monitor_domain_vcpu(m, j);

			c->vcpus[k] = (struct top_vcpu){
				.id = rvmig_monitor_vcpu_id(mv),
				.cpu_s = rvmig_monitor_vcpu_cpu_ns(mv) / 1e9,
				.run_share = rvmig_monitor_vcpu_run_share(mv),
				.blocked_share = rvmig_monitor_vcpu_blocked_share(mv),
				.wait_share = rvmig_monitor_vcpu_wait_share(mv),
				.execs_per_s = rvmig_monitor_vcpu_execs_per_s(mv),
			};
		}
	}
	return 0;
}

/* The snapshot's transfers into c->xfers (grown as needed; the strings
 * point into the snapshot). */
static int collect_xfers(struct top_collect *c, const rvmig_monitor_snap *s)
{
	unsigned n = rvmig_monitor_snap_ntransfers(s);
	int rc = reserve(&c->xfers, &c->xfers_cap, n, sizeof(*c->xfers));

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		const rvmig_monitor_xfer *t = rvmig_monitor_transfer(s, i);

		c->xfers[i] = (struct top_xfer){
			.pid = rvmig_monitor_transfer_pid(t),
			.id = rvmig_monitor_transfer_id(t),
			.tool = rvmig_monitor_transfer_tool(t),
			.peer = rvmig_monitor_transfer_peer(t),
			.transport = rvmig_monitor_transfer_transport(t),
			.mode = rvmig_monitor_transfer_mode(t),
			.state = rvmig_transfer_state_name(rvmig_monitor_transfer_state(t)),
			.size_known = rvmig_monitor_transfer_flags(t) & RVMIG_MONITOR_TRANSFER_SIZE_KNOWN,
			.total = rvmig_monitor_transfer_total_bytes(t),
			.processed = rvmig_monitor_transfer_processed_bytes(t),
			.remaining = rvmig_monitor_transfer_remaining_bytes(t),
			.bytes_per_s = rvmig_monitor_transfer_bytes_per_s(t),
			.pages = rvmig_monitor_transfer_pages(t),
			.zero_pages = rvmig_monitor_transfer_zero_pages(t),
			.cpu_s = rvmig_monitor_transfer_cpu_ns(t) / 1e9,
			.started_s = rvmig_monitor_transfer_started_ns(t) / 1e9,
			.elapsed_s = rvmig_monitor_transfer_elapsed_ns(t) / 1e9,
		};
	}
	return (int)n;
}

/* A backend that lists its domains: c's domains become the snapshot's, in
 * its order, each keeping the sums it had under its id. */
static int sync_listed(struct top_collect *c, const rvmig_monitor_snap *s)
{
	unsigned n = rvmig_monitor_snap_ndomains(s);
	struct top_dom *d = calloc(n ? n : 1, sizeof(*d));
	enum top_kind *k = calloc(n ? n : 1, sizeof(*k));

	if (!d || !k) {
		free(d);
		free(k);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t id = rvmig_monitor_domain_id(rvmig_monitor_domain(s, i));

		k[i] = TOP_DOMAIN;
		for (unsigned j = 0; j < c->n; j++)
			if (c->doms[j].id == id) {
				d[i] = c->doms[j];
				break;
			}
	}
	free(c->doms);
	free(c->kinds);
	c->doms = d;
	c->kinds = k;
	c->n = n;
	return 0;
}

int top_collect_sample(struct top_collect *c)
{
	rvmig_monitor_snap *s;
	unsigned n, nx;
	int rc = rvmig_monitor_sample(c->mon, &s);

	if (rc) {
		tool_err("sampling failed: %s", rvmig_strerror(rc));
		return rc;
	}
	if (c->listed && (rc = sync_listed(c, s)) < 0) {
		tool_err("sampling failed: %s", rvmig_strerror(rc));
		rvmig_monitor_snap_free(s);
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
	if ((rc = collect_detail(c, s, n))) {
		tool_err("sampling failed: %s", rvmig_strerror(rc));
		rvmig_monitor_snap_free(s);
		return rc;
	}
	if ((rc = collect_xfers(c, s)) < 0) {
		tool_err("sampling failed: %s", rvmig_strerror(rc));
		rvmig_monitor_snap_free(s);
		return rc;
	}
	nx = (unsigned)rc;
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
		.nxfers = nx,
		.xfers = c->xfers,
		.host = c->host[0] ? c->host : NULL,
		.backend = rvmig_monitor_backend(c->mon),
		.mem_avail = rvmig_monitor_host_mem_avail(s),
		.cpu_idle = c->cpu_idle,
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
	free(c->xfers);
	free(c->vcpus);
	free(c->nets);
	free(c->disks);
	free(c->cpu_idle);
	memset(c, 0, sizeof(*c));
}
