/* SPDX-License-Identifier: MIT */
/* replay.c - plans from a trace or from Prometheus (replay.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/observe.h"
#include "policy/replay.h"
#include "policy/run.h"
#include "policy/trace.h"

/* Feeds n states (promql: n x cfg->ndoms values, or NULL) to a new run. */
static int run_all(const struct pol_config *cfg, const struct pol_state *v, size_t n,
		   const double *promql, const char *source, struct pol_plan *plan, char *err,
		   size_t errlen)
{
	pol_run *r;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if ((rc = pol_run_create(cfg, &r, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pol_run_step(r, &v[i], promql ? promql + i * cfg->ndoms : NULL, err, errlen);
	if (rc == 0 && (rc = pol_run_plan(r, source, plan)) < 0)
		snprintf(err, errlen, "out of memory");
	pol_run_destroy(r);
	return rc;
}

#define TRACE_STALE_S 10.0 /* a trace's last state stands for this long */

/* The state of every trace at time t: each one's latest state at or before
 * t, if at most TRACE_STALE_S old.  Shallow: the strings are the traces'. */
static int merge(struct pol_state *const *v, const size_t *cur, size_t ntr, double t,
		 struct pol_state *out)
{
	size_t nh = 0, nd = 0;

	memset(out, 0, sizeof(*out));
	out->t = t;
	for (size_t i = 0; i < ntr; i++) {
		const struct pol_state *s;

		if (cur[i] == 0 || (s = &v[i][cur[i] - 1], t - s->t > TRACE_STALE_S))
			continue;
		nh += s->nhosts;
		nd += s->ndoms;
	}
	out->hosts = calloc(nh ? nh : 1, sizeof(*out->hosts));
	out->doms = calloc(nd ? nd : 1, sizeof(*out->doms));
	if (!out->hosts || !out->doms)
		return -ENOMEM;
	for (size_t i = 0; i < ntr; i++) {
		const struct pol_state *s;

		if (cur[i] == 0 || (s = &v[i][cur[i] - 1], t - s->t > TRACE_STALE_S))
			continue;
		/* a state may hold no domains (an idle host): doms NULL */
		if (s->nhosts)
			memcpy(out->hosts + out->nhosts, s->hosts, s->nhosts * sizeof(*s->hosts));
		if (s->ndoms)
			memcpy(out->doms + out->ndoms, s->doms, s->ndoms * sizeof(*s->doms));
		out->nhosts += s->nhosts;
		out->ndoms += s->ndoms;
		snprintf(out->window, sizeof(out->window), "%s", s->window);
	}
	return 0;
}

/* Feeds the traces' states to a run in time order, merged. */
static int run_traces(const struct pol_config *cfg, struct pol_state *const *v, const size_t *n,
		      size_t ntr, struct pol_plan *plan, char *err, size_t errlen)
{
	size_t *cur = calloc(ntr, sizeof(*cur));
	pol_run *r = NULL;
	int rc = cur ? 0 : -ENOMEM;

	if (rc == 0)
		rc = pol_run_create(cfg, &r, err, errlen);
	while (rc == 0) {
		struct pol_state st;
		double t = INFINITY;

		for (size_t i = 0; i < ntr; i++)
			if (cur[i] < n[i] && v[i][cur[i]].t < t)
				t = v[i][cur[i]].t;
		if (t == INFINITY)
			break;
		for (size_t i = 0; i < ntr; i++)
			while (cur[i] < n[i] && v[i][cur[i]].t <= t)
				cur[i]++;
		if ((rc = merge(v, cur, ntr, t, &st)) == 0)
			rc = pol_run_step(r, &st, NULL, err, errlen);
		free(st.hosts);
		free(st.doms);
	}
	if (rc == 0 && (rc = pol_run_plan(r, "trace", plan)) < 0)
		snprintf(err, errlen, "out of memory");
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	pol_run_destroy(r);
	free(cur);
	return rc;
}

int pol_plan_traces(const struct pol_config *cfg, const char *const *paths,
		    const char *const *hosts, size_t ntr, struct pol_plan *plan, char *err,
		    size_t errlen)
{
	struct pol_state **v = calloc(ntr ? ntr : 1, sizeof(*v));
	size_t *n = calloc(ntr ? ntr : 1, sizeof(*n));
	int rc = v && n ? 0 : -ENOMEM;

	memset(plan, 0, sizeof(*plan));
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; i < ntr && rc == 0; i++) {
		char *text;
		size_t len;

		if ((rc = pol_read_file(paths[i], POL_TRACE_MAX_BYTES, &text, &len, err, errlen)) < 0)
			break;
		rc = pol_trace_parse(text, len, paths[i], hosts ? hosts[i] : NULL, &v[i], &n[i], err,
				     errlen);
		free(text);
		if (rc > 0)
			rc = 0;
	}
	for (size_t i = 0; i < ntr && rc == 0; i++)
		for (size_t j = 0; j < i && rc == 0; j++)
			if (!strcmp(v[i][0].hosts[0].instance, v[j][0].hosts[0].instance)) {
				char esc[300];

				rvmig_text_escape(esc, sizeof(esc), v[i][0].hosts[0].instance,
						  strlen(v[i][0].hosts[0].instance));
				snprintf(err, errlen, "two traces of host %s: name them with --host", esc);
				rc = -EINVAL;
			}
	if (rc == 0)
		rc = run_traces(cfg, v, n, ntr, plan, err, errlen);
	for (size_t i = 0; v && n && i < ntr; i++)
		pol_states_free(v[i], n[i]);
	free(v);
	free(n);
	return rc;
}

int pol_plan_trace(const struct pol_config *cfg, const char *path, const char *host,
		   struct pol_plan *plan, char *err, size_t errlen)
{
	return pol_plan_traces(cfg, &path, host ? &host : NULL, 1, plan, err, errlen);
}

int pol_promql_values(const struct pol_config *cfg, prom_client *c, const struct pol_state *v,
			 size_t n, double start, double end, double step, double *out, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < cfg->ndoms; i++) {
		struct prom_result r;
		int rc;

		for (size_t k = 0; k < n; k++)
			out[k * cfg->ndoms + i] = NAN;
		if (cfg->doms[i].obs != POL_OBS_PROMQL)
			continue;
		rc = step > 0 ? prom_query_range(c, cfg->doms[i].promql, start, end, step, &r, err, errlen)
			      : prom_query(c, cfg->doms[i].promql, end, &r, err, errlen);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < n; k++)
			for (size_t s = 0; s < r.nseries && isnan(out[k * cfg->ndoms + i]); s++)
				out[k * cfg->ndoms + i] = pol_value_at(&r.series[s], v[k].t, step);
		prom_result_free(&r);
	}
	return 0;
}

int pol_plan_prometheus(const struct pol_config *cfg, prom_client *c, const char *window,
			double start, double end, double step, struct pol_plan *plan, char *err,
			size_t errlen)
{
	struct pol_state *v;
	double *promql = NULL;
	size_t n;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if ((rc = pol_observe_range(c, window, start, end, step, &v, &n, err, errlen)) < 0)
		return rc;
	if (cfg->ndoms && !(promql = calloc(n * cfg->ndoms, sizeof(*promql)))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = pol_promql_values(cfg, c, v, n, start, end, step, promql, err, errlen);
	if (rc == 0)
		rc = run_all(cfg, v, n, promql, "prometheus", plan, err, errlen);
	free(promql);
	pol_states_free(v, n);
	return rc;
}
