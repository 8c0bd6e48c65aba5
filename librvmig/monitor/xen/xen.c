/* SPDX-License-Identifier: MIT */
/*
 * xen.c - the Xen monitor backend: every domain of the host and its vCPUs
 * from libxenctrl, the host's CPUs and memory; its ops table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/xen/xen.h"

#define XEN_PAGE 4096ull
#define XEN_DOMS_CHUNK 256u

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The first line of a small file (empty if none), or a negative errno. */
static int first_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return -errno;
	if (!fgets(buf, (int)n, f))
		buf[0] = 0;
	fclose(f);
	return 0;
}

/* Is this dom0 (or a control domain) of a Xen host?  Why not in `why`:
 * -RVMIG_ENOXEN when there is no Xen hypervisor at all, -ENOTSUP when this
 * is a Xen domain that cannot control the others. */
static int xen_here(char *why, size_t len)
{
	char buf[64];
	int rc = first_line("/sys/hypervisor/type", buf, sizeof(buf));

	if (rc < 0 || strncmp(buf, "xen", 3)) {
		snprintf(why, len, "no Xen hypervisor here (/sys/hypervisor/type: %s)",
			 rc < 0 ? strerror(-rc) : "not xen");
		return -RVMIG_ENOXEN;
	}
	rc = first_line("/proc/xen/capabilities", buf, sizeof(buf));
	if (rc < 0 || !strstr(buf, "control_d")) {
		snprintf(why, len, "this is not a control domain (/proc/xen/capabilities: %s%s)",
			 rc < 0 ? strerror(-rc) : "no control_d",
			 rc == -ENOENT ? "; xenfs not mounted?" : "");
		return -ENOTSUP;
	}
	return 0;
}

static void xen_close(struct mon_backend *b)
{
	if (!b)
		return;
	xen_tbuf_close(b);
	if (b->xsh)
		b->lib.xenstat_uninit(b->xsh);
	if (b->xch)
		b->lib.xc_interface_close(b->xch);
	xen_lib_unload(&b->lib);
	free(b->info);
	free(b->cpuinfo);
	free(b);
}

/* Opens the libraries and libxenctrl; why it cannot in `why`. */
static int xen_open_libs(struct rvmig_ctx *ctx, struct mon_backend **out, char *why, size_t len)
{
	struct mon_backend *b;
	xc_physinfo_t pi = { 0 };
	int rc = xen_here(why, len);

	if (rc < 0)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ctx = ctx;
	if ((rc = xen_lib_load(&b->lib, why, len)) < 0) {
		free(b);
		return rc;
	}
	xen_logger_init(&b->log, ctx);
	b->xch = b->lib.xc_interface_open(&b->log.vtable, &b->log.vtable, 0);
	if (!b->xch) {
		snprintf(why, len,
			 "xc_interface_open failed: %s (it needs root and the privcmd device,"
			 " /dev/xen/privcmd: modprobe xen-privcmd)", strerror(errno));
		xen_close(b);
		return -ENOTSUP;
	}
	if (b->lib.xc_physinfo(b->xch, &pi) < 0) {
		snprintf(why, len, "xc_physinfo failed: %s", strerror(errno));
		xen_close(b);
		return -ENOTSUP;
	}
	b->cpu_khz = pi.cpu_khz;
	/* libxenstat reads xenstore (names) and dom0's /proc/net/dev and sysfs
	 * (vifs, VBDs); without it domains are named domN and have no devices. */
	b->xsh = b->lib.xenstat_init();
	if (!b->xsh)
		LOG_WARN(ctx, "monitor", "xen backend: xenstat_init failed (%s): no names, vifs or VBDs",
			 strerror(errno));
	*out = b;
	return 0;
}

/* Runs after a probe that passed: a failure here is the host changing in
 * between, logged as such. */
static int xen_open(struct rvmig_ctx *ctx, struct mon_backend **out)
{
	char why[256] = "";
	int rc = xen_open_libs(ctx, out, why, sizeof(why));

	if (rc == 0)
		xen_tbuf_open(*out);
	else
		LOG_ERR(ctx, "monitor", "xen backend: %s", why[0] ? why : rvmig_strerror(rc));
	return rc;
}

/* The probe loads the libraries and opens libxenctrl; it leaves the trace
 * alone. */
static int xen_probe_why(struct rvmig_ctx *ctx, char *why, size_t len)
{
	struct mon_backend *b;
	int rc = xen_open_libs(ctx, &b, why, len);

	if (rc == 0)
		xen_close(b);
	return rc;
}

static int sample_host(struct mon_backend *b, struct mon_raw *r)
{
	xc_physinfo_t pi = { 0 };
	int n = 0;

	if (b->lib.xc_physinfo(b->xch, &pi) < 0) {
		LOG_ERR(b->ctx, "monitor", "xc_physinfo: %s", strerror(errno));
		return -errno;
	}
	r->mem_total = pi.total_pages * XEN_PAGE;
	r->mem_free = pi.free_pages * XEN_PAGE;
	r->mem_avail = pi.free_pages * XEN_PAGE; /* what a new domain can get */
	if (b->cpuinfo_cap < (size_t)pi.max_cpu_id + 1) {
		void *p = realloc(b->cpuinfo, ((size_t)pi.max_cpu_id + 1) * sizeof(*b->cpuinfo));

		if (!p)
			return -ENOMEM;
		b->cpuinfo = p;
		b->cpuinfo_cap = (size_t)pi.max_cpu_id + 1;
	}
	if (b->lib.xc_getcpuinfo(b->xch, (int)b->cpuinfo_cap, b->cpuinfo, &n) < 0 || n < 0) {
		LOG_ERR(b->ctx, "monitor", "xc_getcpuinfo: %s", strerror(errno));
		return -errno;
	}
	r->pcpu = calloc(n ? (size_t)n : 1, sizeof(*r->pcpu));
	if (!r->pcpu)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		/* Idle time is the idle vCPU's running time; every pCPU's total
		 * is the wall clock. */
		r->pcpu[i].id = (uint32_t)i;
		r->pcpu[i].idle_ns = b->cpuinfo[i].idletime;
		r->pcpu[i].total_ns = r->mono_ns;
		r->pcpu[i].freq_khz = pi.cpu_khz;
	}
	r->npcpu = (size_t)n;
	return 0;
}

static int read_domains(struct mon_backend *b, size_t *count)
{
	uint32_t first = 0;
	size_t n = 0;

	for (;;) {
		int got;

		if (b->info_cap < n + XEN_DOMS_CHUNK) {
			void *p = realloc(b->info, (n + XEN_DOMS_CHUNK) * sizeof(*b->info));

			if (!p)
				return -ENOMEM;
			b->info = p;
			b->info_cap = n + XEN_DOMS_CHUNK;
		}
		got = b->lib.xc_domain_getinfolist(b->xch, first, XEN_DOMS_CHUNK, b->info + n);
		if (got < 0) {
			LOG_ERR(b->ctx, "monitor", "xc_domain_getinfolist from domain %u: %s", first,
				strerror(errno));
			return -errno;
		}
		n += (size_t)got;
		if (got < (int)XEN_DOMS_CHUNK)
			break;
		first = (uint32_t)b->info[n - 1].domain + 1;
	}
	*count = n;
	return 0;
}

static unsigned dom_flags(const struct mon_backend *b, uint32_t xf, int lost)
{
	unsigned f = 0;

	if (xf & XEN_DOMINF_paused)
		f |= RVMIG_MONITOR_DOM_PAUSED;
	if (xf & (XEN_DOMINF_shutdown | XEN_DOMINF_dying))
		f |= RVMIG_MONITOR_DOM_SHUTDOWN;
	if (!b->tb.on)
		f |= RVMIG_MONITOR_DOM_NOWAIT;
	else if (lost)
		f |= RVMIG_MONITOR_DOM_INEXACT;
	return f;
}

/* A vCPU's run and wait time from the trace: the closed periods plus the
 * one still open, up to the latest record of any pCPU.  Waiting is
 * runnable time plus time credit2 kept it parked (trace.h). */
static void trace_times(const struct mon_backend *b, uint16_t dom, uint16_t vcpu,
			struct mon_task *t)
{
	const struct xt_state *st = &b->tb.st;
	const struct xt_vcpu *v = xt_find(st, dom, vcpu);
	uint64_t run, wait, open;

	t->run_ns = 0;
	if (!v)
		return; /* no record yet: it has not run since the trace began */
	open = v->known && st->max_tsc > v->last_tsc ? st->max_tsc - v->last_tsc : 0;
	run = v->cycles[XT_RUNNING] + (v->known && v->state == XT_RUNNING ? open : 0);
	wait = v->cycles[XT_RUNNABLE] + v->parked_cycles +
	       (v->known && v->state == XT_RUNNABLE ? open : 0);
	t->run_ns = xt_cycles_ns(run, b->cpu_khz);
	t->wait_ns = xt_cycles_ns(wait, b->cpu_khz);
	t->slices = v->runs;
}

static int sample_vcpus(struct mon_backend *b, const xc_domaininfo_t *di, struct mon_dom_raw *d)
{
	size_t nv = (size_t)di->max_vcpu_id + 1;

	d->tasks = calloc(nv, sizeof(*d->tasks));
	if (!d->tasks)
		return -ENOMEM;
	for (uint32_t v = 0; v <= di->max_vcpu_id; v++) {
		xc_vcpuinfo_t vi = { 0 };
		struct mon_task *t;

		/* A vCPU id the domain never allocated: ESRCH, not an error. */
		if (b->lib.xc_vcpu_getinfo(b->xch, di->domain, v, &vi) < 0)
			continue;
		t = &d->tasks[d->ntasks++];
		t->tid = v;
		t->cpu_ns = vi.cpu_time;
		t->run_ns = vi.cpu_time;
		if (b->tb.on)
			trace_times(b, (uint16_t)di->domain, (uint16_t)v, t);
		t->pcpu = vi.cpu;
		t->flags = (vi.online ? RVMIG_MONITOR_VCPU_ONLINE : 0) |
			   (vi.running ? RVMIG_MONITOR_VCPU_RUNNING : 0) |
			   (vi.blocked ? RVMIG_MONITOR_VCPU_BLOCKED : 0);
	}
	return 0;
}

static int xen_sample(struct mon_backend *b, const struct mon_raw *prev, struct mon_raw *cur)
{
	size_t n = 0;
	int rc;

	cur->mono_ns = clock_ns(CLOCK_MONOTONIC);
	cur->real_ns = clock_ns(CLOCK_REALTIME);
	int lost;

	if ((rc = sample_host(b, cur)) < 0 || (rc = read_domains(b, &n)) < 0)
		return rc;
	if ((lost = xen_tbuf_consume(b)) < 0)
		return lost;
	if (lost)
		LOG_WARN(b->ctx, "monitor", "xen: scheduler trace records were lost (%llu times"
			 " so far): this interval's times are partial",
			 (unsigned long long)b->tb.st.lost);
	for (size_t i = 0; i < n; i++) {
		const xc_domaininfo_t *di = &b->info[i];
		struct mon_dom_raw *d = mon_raw_add_dom(cur);
		char name[32];

		if (!d)
			return -ENOMEM;
		snprintf(name, sizeof(name), "dom%u", (unsigned)di->domain);
		if (!(d->name = strdup(name)))
			return -ENOMEM;
		d->key = di->domain;
		d->id = di->domain;
		d->flags = dom_flags(b, di->flags, lost);
		d->mono_ns = clock_ns(CLOCK_MONOTONIC);
		d->boot_ns = clock_ns(CLOCK_BOOTTIME);
		d->group_cpu_ns = di->cpu_time;
		d->mem_cur = di->tot_pages * XEN_PAGE;
		d->mem_max = di->max_pages * XEN_PAGE;
		if ((rc = sample_vcpus(b, di, d)) < 0)
			return rc;
	}
	return xen_sample_stat(b, cur);
}

const struct mon_backend_ops mon_backend_xen = {
	.name = "xen",
	.probe_why = xen_probe_why,
	.open = xen_open,
	.close = xen_close,
	.sample = xen_sample,
};
