/* SPDX-License-Identifier: MIT */
/* apply_mig.c - a plan's migrations executed (apply_mig.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "policy/apply_mig.h"
#include "policy/exec.h"

struct log_ctx {
	FILE *out;
};

static void log_line(void *arg, int verbose, const char *line)
{
	struct log_ctx *l = arg;

	if (verbose) {
		tool_debug("%s", line);
		return;
	}
	fprintf(l->out, "t=%.1f %s\n", tool_wall(), line);
	fflush(l->out);
}

int pol_apply_migration(const struct act_mig_cfg *cfg, const struct pol_plan *p,
			const struct pol_decision *d, FILE *out)
{
	struct log_ctx l = { .out = out };
	struct act_mig_req req = { .op = ACT_MIG_MIGRATE, .dest = d->dest,
				   .predicted_s = d->pred.end_s - d->pred.start_s,
				   .predicted_downtime_s = d->pred.downtime_s };
	struct act_mig_result res;
	const struct pol_batch *b = d->batch < p->nb ? &p->b[d->batch] : NULL;
	char err[2048], id[64];
	int rc;

	rvmig_text_escape(id, sizeof(id), d->target.id, strlen(d->target.id));
	if (d->action.kind != RVMIG_ACT_MIGRATE || !d->dest)
		return -EINVAL;
	if (pol_exec_target(&d->target, &req.target, err, sizeof(err)) < 0) {
		fprintf(out, "t=%.1f migrate %s: failed: %s\n", tool_wall(), d->target.policy, err);
		return -EINVAL;
	}
	if (b)
		fprintf(out, "t=%.1f migrate %s (xen:%s): planned in a batch of %zu at k=%u, makespan "
			"%.1f s predicted, max downtime %.3f s\n", tool_wall(), d->target.policy, id, b->n,
			b->k, b->makespan_s, b->max_downtime_s);
	rc = act_mig_run(cfg, &req, log_line, &l, &res, err, sizeof(err));
	if (rc < 0) {
		fprintf(out, "t=%.1f migrate %s: failed after %.1f s (deadline %.0f s): %s\n", tool_wall(),
			d->target.policy, res.measured_s, res.deadline_s, err);
		fflush(out);
		return rc;
	}
	fprintf(out, "t=%.1f migrate %s (xen:%ld %s) -> %s (%s): done in %.1f s (predicted %.1f s), "
		"downtime ", tool_wall(), d->target.policy, res.old_domid, res.name, d->dest, res.addr,
		res.measured_s, req.predicted_s);
	if (res.downtime_s >= 0)
		fprintf(out, "%.3f s", res.downtime_s);
	else
		fprintf(out, "not measured");
	fprintf(out, " (predicted %.3f s); ", req.predicted_downtime_s);
	if (res.local)
		fprintf(out, "running on this host as domain %ld\n", res.new_domid);
	else
		fprintf(out, "started on %s (its xl said so), gone from here\n", res.addr);
	fflush(out);
	return 0;
}

/* Due migrations by batch, then by the planner's start time in it. */
static int by_batch_start(const void *a, const void *b)
{
	const struct pol_decision *x = *(const struct pol_decision *const *)a;
	const struct pol_decision *y = *(const struct pol_decision *const *)b;

	if (x->batch != y->batch)
		return x->batch < y->batch ? -1 : 1;
	return (x->pred.start_s > y->pred.start_s) - (x->pred.start_s < y->pred.start_s);
}

int pol_apply_plan_migrations(const struct pol_config *cfg, const struct pol_plan *p, FILE *out)
{
	const struct pol_decision **v = calloc(p->nd ? p->nd : 1, sizeof(*v));
	size_t n = 0;
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nd; i++)
		if (p->d[i].action.kind == RVMIG_ACT_MIGRATE && p->d[i].due)
			v[n++] = &p->d[i];
	qsort(v, n, sizeof(*v), by_batch_start);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pol_apply_migration(&cfg->mig.exec, p, v[i], out);
	free(v);
	return rc < 0 ? rc : (int)n;
}
