/* SPDX-License-Identifier: MIT */
/* observe.c - hosts and domains from Prometheus queries (observe.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/observe.h"

int pol_window_ok(const char *w)
{
	size_t n = strspn(w, "0123456789");

	if (n == 0 || n > 6)
		return 0;
	return !strcmp(w + n, "ms") || !strcmp(w + n, "s") || !strcmp(w + n, "m") ||
	       !strcmp(w + n, "h");
}

static const char *lab(const struct prom_series *s, const char *name)
{
	const char *v = prom_label(s, name);

	return v ? v : "";
}

struct pol_host *pol_host_of(struct pol_state *st, const char *instance, int add)
{
	struct pol_host *h;

	for (size_t i = 0; i < st->nhosts; i++)
		if (!strcmp(st->hosts[i].instance, instance))
			return &st->hosts[i];
	if (!add)
		return NULL;
	h = realloc(st->hosts, (st->nhosts + 1) * sizeof(*h));
	if (!h)
		return NULL;
	st->hosts = h;
	h = &st->hosts[st->nhosts];
	memset(h, 0, sizeof(*h));
	if (!(h->instance = strdup(instance)))
		return NULL;
	st->nhosts++;
	return h;
}

struct pol_dom *pol_dom_add(struct pol_state *st, const char *instance, const char *kind,
			    const char *id, const char *name)
{
	struct pol_dom *d = realloc(st->doms, (st->ndoms + 1) * sizeof(*d));

	if (!d)
		return NULL;
	st->doms = d;
	d = &st->doms[st->ndoms];
	memset(d, 0, sizeof(*d));
	d->instance = strdup(instance);
	d->domain = strdup(name);
	d->kind = strdup(kind);
	d->id = strdup(id);
	st->ndoms++;
	if (!d->instance || !d->domain || !d->kind || !d->id)
		return NULL;
	return d;
}

static struct pol_dom *dom_of(struct pol_state *st, const struct prom_series *s, int add)
{
	const char *inst = lab(s, "instance"), *kind = lab(s, "kind"), *id = lab(s, "id");

	for (size_t i = 0; i < st->ndoms; i++) {
		struct pol_dom *d = &st->doms[i];

		if (!strcmp(d->instance, inst) && !strcmp(d->kind, kind) && !strcmp(d->id, id))
			return d;
	}
	return add ? pol_dom_add(st, inst, kind, id, lab(s, "domain")) : NULL;
}

/* The series' value at time t (a vector: its one point), or NaN. */
double pol_value_at(const struct prom_series *s, double t, double step)
{
	if (step <= 0)
		return s->npoints ? s->points[s->npoints - 1].v : NAN;
	for (size_t i = 0; i < s->npoints; i++)
		if (fabs(s->points[i].t - t) < step / 2)
			return s->points[i].v;
	return NAN;
}

static int usable(double v)
{
	return isfinite(v) && v >= 0;
}

double pol_dom_demand(const struct pol_dom *d)
{
	/* A domain that waited runnable for a CPU wanted more than it got:
	 * what it got, scaled by the time it wanted to run over the time it
	 * ran. */
	if (d->have_shares && d->run > 0.01)
		return d->cpu * (d->run + d->wait) / d->run;
	return d->cpu;
}

enum { Q_CPUS, Q_CPU, Q_RUN, Q_BLOCKED, Q_WAIT, Q_MEM, NQ };

/* One state at time t from the answers of the NQ queries. */
static int build(struct pol_state *st, struct prom_result *r, double t, double step,
		 const char *window)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->window, sizeof(st->window), "%s", window);
	st->t = t;
	for (size_t i = 0; i < r[Q_CPUS].nseries; i++) {
		double v = pol_value_at(&r[Q_CPUS].series[i], t, step);
		struct pol_host *h;

		if (!usable(v))
			continue;
		if (!(h = pol_host_of(st, lab(&r[Q_CPUS].series[i], "instance"), 1)))
			return -ENOMEM;
		h->cpus = v;
	}
	for (size_t i = 0; i < r[Q_CPU].nseries; i++) {
		const struct prom_series *s = &r[Q_CPU].series[i];
		double v = pol_value_at(s, t, step);
		struct pol_dom *d;
		struct pol_host *h;

		if (!usable(v))
			continue; /* not there (yet) at t */
		if (!(d = dom_of(st, s, 1)) || !(h = pol_host_of(st, d->instance, 1)))
			return -ENOMEM;
		d->cpu = v;
		h->cpu_used += d->cpu;
		h->ndoms++;
	}
	for (int k = Q_RUN; k < NQ; k++) {
		for (size_t i = 0; i < r[k].nseries; i++) {
			struct pol_dom *d = dom_of(st, &r[k].series[i], 0);
			double v = pol_value_at(&r[k].series[i], t, step);

			if (!d || !usable(v))
				continue; /* no CPU series for it (yet): left out */
			if (k == Q_MEM) {
				d->mem = v;
				continue;
			}
			*(k == Q_RUN ? &d->run : k == Q_BLOCKED ? &d->blocked : &d->wait) = v;
			d->have_shares = 1;
		}
	}
	for (size_t i = 0; i < st->ndoms; i++) {
		struct pol_dom *d = &st->doms[i];
		double sum = d->run + d->blocked + d->wait;

		if (sum > 0) {
			d->run /= sum;
			d->blocked /= sum;
			d->wait /= sum;
		}
	}
	return 0;
}

int pol_observe_range(prom_client *c, const char *window, double start, double end, double step,
		      struct pol_state **out, size_t *n, char *err, size_t errlen)
{
	/* gauges as they are, counters as rate(METRIC[WINDOW]) */
	static const struct { const char *metric; int rate; } q[NQ] = {
		{ "rvmig_host_cpus", 0 },
		{ "rvmig_domain_cpu_seconds_total", 1 },
		{ "rvmig_domain_run_seconds_total", 1 },
		{ "rvmig_domain_blocked_seconds_total", 1 },
		{ "rvmig_domain_wait_seconds_total", 1 },
		{ "rvmig_domain_memory_bytes", 0 },
	};
	struct prom_result r[NQ];
	size_t count = step > 0 ? (size_t)floor((end - start) / step + 1e-9) + 1 : 1;
	int rc = 0, k;

	*out = NULL;
	*n = 0;
	memset(r, 0, sizeof(r));
	if (!pol_window_ok(window)) {
		snprintf(err, errlen, "window %.32s: not a duration such as 30s, 1m or 5m", window);
		return -EINVAL;
	}
	for (k = 0; k < NQ && rc == 0; k++) {
		char promql[256];

		if (q[k].rate)
			snprintf(promql, sizeof(promql), "rate(%s[%s])", q[k].metric, window);
		else
			snprintf(promql, sizeof(promql), "%s", q[k].metric);
		rc = step > 0 ? prom_query_range(c, promql, start, end, step, &r[k], err, errlen)
			      : prom_query(c, promql, end, &r[k], err, errlen);
	}
	if (rc == 0 && !(*out = calloc(count, sizeof(**out))))
		rc = -ENOMEM;
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = build(&(*out)[i], r, step > 0 ? start + (double)i * step : end, step, window);
		*n = i + 1;
	}
	for (k = 0; k < NQ; k++)
		prom_result_free(&r[k]);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0) {
		pol_states_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int pol_observe(prom_client *c, const char *window, double at, struct pol_state *st, char *err,
		size_t errlen)
{
	struct pol_state *v;
	size_t n;
	int rc = pol_observe_range(c, window, at, at, 0, &v, &n, err, errlen);

	memset(st, 0, sizeof(*st));
	if (rc < 0)
		return rc;
	*st = v[0];
	free(v);
	return 0;
}

void pol_state_free(struct pol_state *st)
{
	for (size_t i = 0; i < st->nhosts; i++)
		free(st->hosts[i].instance);
	for (size_t i = 0; i < st->ndoms; i++) {
		free(st->doms[i].instance);
		free(st->doms[i].domain);
		free(st->doms[i].kind);
		free(st->doms[i].id);
	}
	free(st->hosts);
	free(st->doms);
	memset(st, 0, sizeof(*st));
}

void pol_states_free(struct pol_state *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		pol_state_free(&v[i]);
	free(v);
}
