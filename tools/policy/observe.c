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

static struct pol_host *host_of(struct pol_state *st, const char *instance, int add)
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

static struct pol_dom *dom_of(struct pol_state *st, const struct prom_series *s, int add)
{
	const char *inst = lab(s, "instance"), *kind = lab(s, "kind"), *id = lab(s, "id");
	struct pol_dom *d;

	for (size_t i = 0; i < st->ndoms; i++) {
		d = &st->doms[i];
		if (!strcmp(d->instance, inst) && !strcmp(d->kind, kind) && !strcmp(d->id, id))
			return d;
	}
	if (!add)
		return NULL;
	d = realloc(st->doms, (st->ndoms + 1) * sizeof(*d));
	if (!d)
		return NULL;
	st->doms = d;
	d = &st->doms[st->ndoms];
	memset(d, 0, sizeof(*d));
	d->instance = strdup(inst);
	d->domain = strdup(lab(s, "domain"));
	d->kind = strdup(kind);
	d->id = strdup(id);
	st->ndoms++;
	if (!d->instance || !d->domain || !d->kind || !d->id)
		return NULL;
	return d;
}

static double value(const struct prom_series *s)
{
	double v = s->npoints ? s->points[s->npoints - 1].v : NAN;

	return isfinite(v) && v >= 0 ? v : 0;
}

/* rate(METRIC[WINDOW]) */
static int query(prom_client *c, const char *metric, const char *window, double at,
		 struct prom_result *r, char *err, size_t errlen)
{
	char q[256];

	snprintf(q, sizeof(q), "rate(%s[%s])", metric, window);
	return prom_query(c, q, at, r, err, errlen);
}

int pol_observe(prom_client *c, const char *window, double at, struct pol_state *st, char *err,
		size_t errlen)
{
	static const char *const share_q[3] = {
		"rvmig_domain_run_seconds_total",
		"rvmig_domain_blocked_seconds_total",
		"rvmig_domain_wait_seconds_total",
	};
	struct prom_result r;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!pol_window_ok(window)) {
		snprintf(err, errlen, "window %.32s: not a duration such as 30s, 1m or 5m", window);
		return -EINVAL;
	}
	snprintf(st->window, sizeof(st->window), "%s", window);
	if ((rc = prom_query(c, "rvmig_host_cpus", at, &r, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < r.nseries && rc == 0; i++) {
		struct pol_host *h = host_of(st, lab(&r.series[i], "instance"), 1);

		if (!h)
			rc = -ENOMEM;
		else
			h->cpus = value(&r.series[i]);
	}
	prom_result_free(&r);
	if (rc < 0)
		goto nomem;
	if ((rc = query(c, "rvmig_domain_cpu_seconds_total", window, at, &r, err, errlen)) < 0)
		goto fail;
	for (size_t i = 0; i < r.nseries && rc == 0; i++) {
		struct pol_dom *d = dom_of(st, &r.series[i], 1);
		struct pol_host *h = d ? host_of(st, d->instance, 1) : NULL;

		if (!d || !h) {
			rc = -ENOMEM;
			break;
		}
		d->cpu = value(&r.series[i]);
		h->cpu_used += d->cpu;
		h->ndoms++;
	}
	prom_result_free(&r);
	if (rc < 0)
		goto nomem;
	for (int k = 0; k < 3; k++) {
		if ((rc = query(c, share_q[k], window, at, &r, err, errlen)) < 0)
			goto fail;
		for (size_t i = 0; i < r.nseries; i++) {
			struct pol_dom *d = dom_of(st, &r.series[i], 0);

			if (!d)
				continue; /* no CPU series for it (yet): left out */
			*(k == 0 ? &d->run : k == 1 ? &d->blocked : &d->wait) = value(&r.series[i]);
			d->have_shares = 1;
		}
		prom_result_free(&r);
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
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
fail:
	pol_state_free(st);
	return rc;
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
