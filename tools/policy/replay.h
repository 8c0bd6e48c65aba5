/* SPDX-License-Identifier: MIT */
/*
 * replay.h - a plan from each of rvmig-policy's inputs: a recorded
 * rvmig-top trace (every sample, with its own time), or a period of a
 * Prometheus server's data (range queries at a fixed step, ending at a
 * fixed time or now).  Both feed the same run (run.h).
 */
#ifndef RVMIG_TOOLS_POLICY_REPLAY_H
#define RVMIG_TOOLS_POLICY_REPLAY_H

#include "policy/config.h"
#include "policy/observe.h"
#include "policy/plan.h"
#include "policy/prom.h"

/* `host`: the name of the trace's host (NULL: the record's own, else
 * "local").  0 or a negative errno with err set. */
int pol_plan_trace(const struct pol_config *cfg, const char *path, const char *host,
		   struct pol_plan *plan, char *err, size_t errlen);
/* Several traces, one per host (hosts[i] names paths[i]'s; hosts NULL: the
 * records' own names, which must differ), replayed together: at each
 * sample time of any trace, the latest state of every trace at most 10 s
 * old.  0 or a negative errno with err set. */
int pol_plan_traces(const struct pol_config *cfg, const char *const *paths,
		    const char *const *hosts, size_t n, struct pol_plan *plan, char *err,
		    size_t errlen);

/* The states at start, start + step, ... <= end, with every promql
 * observable of cfg queried over the same range.  0 or a negative errno
 * with err set. */
int pol_plan_prometheus(const struct pol_config *cfg, prom_client *c, const char *window,
			double start, double end, double step, struct pol_plan *plan, char *err,
			size_t errlen);

/* Every promql observable of cfg at the n states' times (step 0: one
 * instant query at `end`): out[k * cfg->ndoms + i] for state k and domain
 * i, NaN where it has none (the first series with a point there).  0 or a
 * negative errno with err set. */
int pol_promql_values(const struct pol_config *cfg, prom_client *c, const struct pol_state *v,
		      size_t n, double start, double end, double step, double *out, char *err,
		      size_t errlen);

#endif
