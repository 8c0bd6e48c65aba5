/* SPDX-License-Identifier: MIT */
/* mon_state.c - this host's monitor as policy states (mon_state.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig.h>

#include "common/cli.h"
#include "policy/mon_state.h"

struct pol_mon {
	rvmig_monitor *mon;
	char *host;
	int xen;
	size_t n;
	int pid[POL_MON_MAX_WATCH]; /* 1: the watch is a process */
};

void pol_mon_close(pol_mon *m)
{
	if (!m)
		return;
	if (m->mon)
		rvmig_monitor_close(m->mon);
	free(m->host);
	free(m);
}

int pol_mon_open(const char *backend, const char *host, const char *const *watch, size_t n,
		 pol_mon **out, char *err, size_t errlen)
{
	pol_mon *m = calloc(1, sizeof(*m));
	rvmig_monitor_snap *snap;
	int rc;

	*out = NULL;
	if (!m || !(m->host = strdup(host))) {
		pol_mon_close(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->xen = !strcmp(backend, "xen");
	if (n > POL_MON_MAX_WATCH || (m->xen && n) || (!m->xen && !n)) {
		snprintf(err, errlen, "%s", n > POL_MON_MAX_WATCH ? "too many --watch"
					    : m->xen ? "the xen backend lists its domains: no --watch"
						     : "the linux backend needs --watch cgroup:PATH or pid:N");
		pol_mon_close(m);
		return -EINVAL;
	}
	if ((rc = rvmig_monitor_open(NULL, backend, &m->mon)) < 0) {
		snprintf(err, errlen, "monitor (%.16s backend): %s", backend, rvmig_strerror(rc));
		pol_mon_close(m);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct rvmig_act_target t;
		char name[RVMIG_ACT_PATH_MAX + 16];

		if ((rc = rvmig_act_target_parse(watch[i], &t, err, errlen)) < 0 ||
		    t.kind == RVMIG_ACT_TARGET_XEN) {
			if (rc == 0)
				snprintf(err, errlen, "--watch: xen:DOMID needs no watch (--backend xen)");
			pol_mon_close(m);
			return -EINVAL;
		}
		m->pid[m->n++] = t.kind == RVMIG_ACT_TARGET_PID;
		rc = t.kind == RVMIG_ACT_TARGET_PID ? rvmig_monitor_watch_pid(m->mon, (int)t.id, NULL)
					      : rvmig_monitor_watch_cgroup(m->mon, t.path, t.path);
		if (rc < 0) {
			snprintf(err, errlen, "--watch %s: %s", rvmig_act_target_name(&t, name, sizeof(name)),
				 rvmig_strerror(rc));
			pol_mon_close(m);
			return rc;
		}
	}
	if ((rc = rvmig_monitor_sample(m->mon, &snap)) < 0) {
		snprintf(err, errlen, "monitor: %s", rvmig_strerror(rc));
		pol_mon_close(m);
		return rc;
	}
	rvmig_monitor_snap_free(snap);
	*out = m;
	return 0;
}

int pol_mon_state(pol_mon *m, struct pol_state *st, char *err, size_t errlen)
{
	rvmig_monitor_snap *snap;
	struct pol_host *h;
	int rc = rvmig_monitor_sample(m->mon, &snap);

	memset(st, 0, sizeof(*st));
	if (rc < 0) {
		snprintf(err, errlen, "monitor: %s", rvmig_strerror(rc));
		return rc;
	}
	st->t = tool_wall();
	snprintf(st->window, sizeof(st->window), "%.0fms",
		 rvmig_monitor_snap_interval_ns(snap) / 1e6);
	if (!(h = pol_host_of(st, m->host, 1))) {
		rc = -ENOMEM;
		goto out;
	}
	h->cpus = rvmig_monitor_host_ncpus(snap);
	for (unsigned i = 0; i < rvmig_monitor_snap_ndomains(snap); i++) {
		const rvmig_monitor_dom *x = rvmig_monitor_domain(snap, i);
		struct pol_dom *d;
		char id[24];

		if (rvmig_monitor_domain_flags(x) & RVMIG_MONITOR_DOM_GONE)
			continue;
		snprintf(id, sizeof(id), "%" PRIu64, rvmig_monitor_domain_id(x));
		d = pol_dom_add(st, m->host,
				m->xen ? "domain" : i < m->n && m->pid[i] ? "process" : "cgroup", id,
				rvmig_monitor_domain_name(x));
		if (!d) {
			rc = -ENOMEM;
			goto out;
		}
		d->cpu = rvmig_monitor_domain_cpu_pct(x) / 100;
		d->run = rvmig_monitor_domain_run_share(x);
		d->blocked = rvmig_monitor_domain_blocked_share(x);
		d->wait = rvmig_monitor_domain_wait_share(x);
		d->have_shares = d->run + d->blocked + d->wait > 0;
		d->mem = (double)rvmig_monitor_domain_mem_cur(x);
		h->cpu_used += d->cpu;
		h->ndoms++;
	}
out:
	rvmig_monitor_snap_free(snap);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		pol_state_free(st);
	}
	return rc;
}
