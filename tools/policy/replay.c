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

int pol_plan_trace(const struct pol_config *cfg, const char *path, const char *host,
		   struct pol_plan *plan, char *err, size_t errlen)
{
	struct pol_state *v;
	char *text;
	size_t len, n;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if ((rc = pol_read_file(path, POL_TRACE_MAX_BYTES, &text, &len, err, errlen)) < 0)
		return rc;
	rc = pol_trace_parse(text, len, path, host, &v, &n, err, errlen);
	free(text);
	if (rc < 0)
		return rc;
	rc = run_all(cfg, v, n, NULL, "trace", plan, err, errlen);
	pol_states_free(v, n);
	return rc;
}

/* Domain i's promql values at the states' times (NaN where it has none):
 * the first series with a point there. */
static int promql_values(const struct pol_config *cfg, prom_client *c, const struct pol_state *v,
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
		rc = promql_values(cfg, c, v, n, start, end, step, promql, err, errlen);
	if (rc == 0)
		rc = run_all(cfg, v, n, promql, "prometheus", plan, err, errlen);
	free(promql);
	pol_states_free(v, n);
	return rc;
}
