/* SPDX-License-Identifier: MIT */
/* apply_mig.c - a plan's migrations executed (apply_mig.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/apply_mig.h"
#include "policy/exec.h"
#include "policy/mig_queue.h"

double pol_apply_t(const struct pol_apply_out *o)
{
	return tool_wall() - o->t0;
}

double pol_apply_checked(const struct act_mig_result *res)
{
	return res->exited_t > 0 ? tool_now() - res->exited_t : 0;
}

void pol_apply_log(void *arg, int verbose, const char *line)
{
	const struct pol_apply_out *out = arg;

	if (verbose) {
		tool_debug("%s", line);
		return;
	}
	fprintf(out->f, "t=%.1f %s\n", pol_apply_t(out), line);
	fflush(out->f);
}

void pol_apply_record(const struct act_mig_cfg *cfg, enum rvmig_transfer_kind kind,
		      const struct pol_decision *d, double predicted_s, double predicted_downtime_s,
		      const struct act_mig_result *res, int ok, const struct pol_apply_out *out)
{
	struct pol_run_rec r = {
		.t = tool_wall(), .kind = kind,
		.transport = cfg->transport ? cfg->transport : "tcp", .domain = res->name,
		.mem_bytes = d->mem_bytes, .dirty_rate = d->dirty_rate,
		.predicted_s = predicted_s, .measured_s = res->measured_s,
		.predicted_downtime_s = predicted_downtime_s, .downtime_s = res->downtime_s,
		.ok = ok,
	};
	char err[512];

	if (pol_runs_append(cfg->runs, &r, err, sizeof(err)) < 0)
		fprintf(out->f, "t=%.1f %s %s: not recorded: %s\n", pol_apply_t(out), pol_run_kind_name(kind),
			d->target.policy, err);
}

int pol_apply_migration(const struct act_mig_cfg *cfg, const struct pol_plan *p,
			const struct pol_decision *d, const struct pol_apply_out *out)
{
	struct act_mig_req req = { .op = ACT_MIG_MIGRATE, .dest = d->dest,
				   .predicted_s = d->pred.end_s - d->pred.start_s,
				   .predicted_downtime_s = d->pred.downtime_s };
	struct act_mig_result res;
	struct pol_apply_out o = *out; /* the executor's log */
	const struct pol_batch *b = d->batch < p->nb ? &p->b[d->batch] : NULL;
	char err[2048], id[64], down[32], where[ACT_MIG_WORD_MAX + 64], tries[32] = "";
	int rc;

	rvmig_text_escape(id, sizeof(id), d->target.id, strlen(d->target.id));
	if (d->action.kind != RVMIG_ACT_MIGRATE || !d->dest)
		return -EINVAL;
	if (pol_exec_target(&d->target, &req.target, err, sizeof(err)) < 0) {
		fprintf(out->f, "t=%.1f migrate %s: failed: %s\n", pol_apply_t(out), d->target.policy, err);
		return -EINVAL;
	}
	if (b)
		fprintf(out->f, "t=%.1f migrate %s (xen:%s): planned in a batch of %zu at k=%u, makespan "
			"%.1f s predicted, max downtime %.3f s\n", pol_apply_t(out), d->target.policy, id, b->n,
			b->k, b->makespan_s, b->max_downtime_s);
	rc = act_mig_run(cfg, &req, pol_apply_log, &o, &res, err, sizeof(err));
	if (cfg->runs && res.measured_s > 0)
		pol_apply_record(cfg, RVMIG_XFER_MIGRATE, d, req.predicted_s,
				 req.predicted_downtime_s, &res, rc == 0, out);
	if (rc < 0) {
		fprintf(out->f, "t=%.1f migrate %s: failed after %.1f s (deadline %.0f s): %s\n", pol_apply_t(out),
			d->target.policy, res.measured_s, res.deadline_s, err);
		fflush(out->f);
		return rc;
	}
	/* one fprintf per line: other migrations of the batch log beside it */
	if (res.downtime_s >= 0)
		snprintf(down, sizeof(down), "%.3f s", res.downtime_s);
	else
		snprintf(down, sizeof(down), "not measured");
	if (res.local)
		snprintf(where, sizeof(where), "running on this host as domain %ld", res.new_domid);
	else
		snprintf(where, sizeof(where), "started on %s (its xl said so), gone from here",
			 res.addr);
	/* a retried migration (act_migrate.h): the figures are its last try's */
	if (res.tries > 1)
		snprintf(tries, sizeof(tries), " at try %u", res.tries);
	fprintf(out->f, "t=%.1f migrate %s (xen:%ld %s) -> %s (%s): done in %.1f s (predicted %.1f s), "
		"downtime %s (predicted %.3f s)%s; %s: checked %.1f s after xl migrate exited\n",
		pol_apply_t(out), d->target.policy, res.old_domid, res.name, d->dest, res.addr,
		res.measured_s, req.predicted_s, down, req.predicted_downtime_s, tries, where,
		pol_apply_checked(&res));
	fflush(out->f);
	return 0;
}

/* Due migrations by batch, then by the planner's queue position in it
 * (its start order: a transfer starts when the one before it has). */
static int by_batch_start(const void *a, const void *b)
{
	const struct pol_decision *x = *(const struct pol_decision *const *)a;
	const struct pol_decision *y = *(const struct pol_decision *const *)b;

	if (x->batch != y->batch)
		return x->batch < y->batch ? -1 : 1;
	return (x->pred.position > y->pred.position) - (x->pred.position < y->pred.position);
}

/* One batch's due migrations, run as a queue at the planner's k. */
struct batch_run {
	const struct act_mig_cfg *cfg;
	const struct pol_plan *p;
	const struct pol_decision **v; /* this batch's, in the planner's order */
	size_t batch;
	unsigned k;
	const struct pol_apply_out *out;
	size_t *started, *done;        /* of the plan's, so far */
};

static int batch_job(void *arg, size_t i)
{
	const struct batch_run *b = arg;

	return pol_apply_migration(b->cfg, b->p, b->v[i], b->out);
}

static void batch_event(void *arg, enum mq_event ev, size_t i, unsigned running, int rc)
{
	const struct batch_run *b = arg;

	*b->started += ev == MQ_START;
	*b->done += ev == MQ_END && rc >= 0;
	fprintf(b->out->f, "t=%.1f queue: batch %zu, %s %s (position %u): %u of k=%u running%s\n",
		pol_apply_t(b->out), b->batch + 1, ev == MQ_START ? "started" : "ended",
		b->v[i]->target.policy, b->v[i]->pred.position, running, b->k,
		ev == MQ_END && rc < 0 ? " (failed: no more started)" : "");
	fflush(b->out->f);
}

int pol_apply_plan_migrations(const struct pol_config *cfg, const struct pol_plan *p,
			      const struct pol_apply_out *out)
{
	const struct pol_decision **v = calloc(p->nd ? p->nd : 1, sizeof(*v));
	size_t n = 0, done = 0, started = 0;
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nd; i++) {
		const struct pol_decision *d = &p->d[i];

		if (d->action.kind == RVMIG_ACT_MIGRATE && d->due)
			v[n++] = d;
	}
	qsort(v, n, sizeof(*v), by_batch_start);
	for (size_t i = 0; i < n && rc >= 0;) {
		size_t j = i;
		struct batch_run b = { .cfg = &cfg->mig.exec, .p = p, .v = v + i,
				       .batch = v[i]->batch, .k = 1, .out = out,
				       .started = &started, .done = &done };

		while (j < n && v[j]->batch == v[i]->batch)
			j++;
		if (b.batch < p->nb && p->b[b.batch].k)
			b.k = p->b[b.batch].k;
		rc = mq_run(j - i, b.k, &tool_stop, batch_job, &b, batch_event, &b);
		i = j;
	}
	if (rc == -EINTR && tool_stop) {
		fprintf(out->f, "t=%.1f stop (signal %d): %zu of the plan's %zu due migrations started, "
			"%zu done; the other %zu not started\n", pol_apply_t(out), (int)tool_stop,
			started, n, done, n - started);
		fflush(out->f);
	}
	free(v);
	return rc < 0 ? rc : (int)done;
}
