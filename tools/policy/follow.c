/* SPDX-License-Identifier: MIT */
/* follow.c - live states in, decisions carried out (follow.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/apply.h"
#include "policy/apply_mig.h"
#include "policy/apply_park.h"
#include "policy/follow.h"
#include "policy/plan.h"
#include "policy/replay.h"
#include "policy/run.h"

/* A domain's controls as its actuators are set now: what the run starts
 * from instead of the policy file's `share`, `vcpus.now`, `weight.now`. */
static int read_controls(void *ctx, const struct pol_target *tg, const struct pol_domain_cfg *c,
			 struct pol_controls *now)
{
	const enum rvmig_action_kind cap = c->cpu_max.set ? RVMIG_ACT_CG_CPU_MAX : RVMIG_ACT_CREDIT_CAP;
	const enum rvmig_action_kind w = pol_kind_xen(tg->kind) ? RVMIG_ACT_CREDIT_WEIGHT
								: RVMIG_ACT_CG_CPU_WEIGHT;
	rvmig_act *act = ctx;
	struct rvmig_act_target t;
	struct rvmig_act_setting s;
	int got = 0;

	if (pol_exec_target(tg, &t, NULL, 0) < 0)
		return 0;
	if ((c->cpu_max.set || c->credit_cap.set) &&
	    rvmig_act_read(act, &t, cap, &s, NULL, 0, NULL, 0) == 0) {
		now->cap = rvmig_act_share(cap, &s, 0); /* no cap: 0 */
		got = 1;
	}
	if (c->vcpus.set && rvmig_act_read(act, &t, RVMIG_ACT_VCPUS, &s, NULL, 0, NULL, 0) == 0) {
		now->vcpus = (double)s.value;
		got = 1;
	}
	if (c->weight.set && rvmig_act_read(act, &t, w, &s, NULL, 0, NULL, 0) == 0) {
		now->weight = (double)s.value;
		got = 1;
	}
	return got;
}

/* A due migration, through the executor of act_migrate.h (apply_mig.h);
 * it logs its own lines. */
struct mig_ctx {
	const struct pol_config *cfg;
	struct pol_apply_out out;  /* t= since the loop's start, as exec.c's */
};

static int migrate(void *ctx, const struct pol_decision *d, char *err, size_t errlen)
{
	const struct mig_ctx *m = ctx;
	struct pol_plan none = { .source = "live" };

	if (errlen)
		err[0] = '\0';
	return pol_apply_migration(&m->cfg->mig.exec, &none, d, &m->out);
}

/* A due save or restore, through the store of act_park.h (apply_park.h);
 * it logs its own lines. */
static int park(void *ctx, const struct pol_decision *d, const char *self, char *err,
		size_t errlen)
{
	const struct mig_ctx *m = ctx;

	if (errlen)
		err[0] = '\0';
	return pol_apply_park(m->cfg, d, self, &m->out);
}

static int next_state(const struct pol_config *cfg, const struct pol_follow_attr *a,
		      struct pol_state *st, double **promql, char *err, size_t errlen)
{
	int rc;

	*promql = NULL;
	if (a->mon)
		return pol_mon_state(a->mon, st, err, errlen);
	if ((rc = pol_observe(a->prom, a->window, 0, st, err, errlen)) < 0)
		return rc;
	st->t = tool_wall();
	if (!cfg->ndoms || !(*promql = calloc(cfg->ndoms, sizeof(**promql))))
		return cfg->ndoms ? -ENOMEM : 0;
	return pol_promql_values(cfg, a->prom, st, 1, st->t, st->t, 0, *promql, err, errlen);
}

int pol_follow(const struct pol_config *cfg, const struct pol_follow_attr *a, int json,
	       char *err, size_t errlen)
{
	double t0 = tool_wall();
	struct mig_ctx mc = { .cfg = cfg, .out = { .f = a->exec.out, .t0 = t0 } };
	struct pol_exec_ops ops = { .name = "act_migrate", .migrate = migrate, .park = park,
				    .ctx = &mc };
	struct pol_exec_attr ea = a->exec;
	pol_run *r = NULL;
	pol_exec *e = NULL;
	struct pol_plan plan;
	size_t seen = 0;
	FILE *out = a->exec.out;
	int rc, stop = 0;

	if ((rc = pol_run_create(cfg, &r, err, errlen)) < 0)
		return rc;
	if (!ea.ops)
		ea.ops = &ops;
	if ((rc = pol_exec_create(&ea, &e)) < 0) {
		snprintf(err, errlen, "out of memory");
		pol_run_destroy(r);
		return rc;
	}
	pol_run_set_share_reader(r, read_controls, pol_exec_act(e));
	tool_catch_stop();
	fprintf(out, "t=0.0 start %s: %s, %zu domain sections, every %.1f s\n",
		a->exec.apply ? "apply" : "dry-run", a->mon ? "monitor" : "prometheus", cfg->ndoms,
		a->interval_s);
	fflush(out);
	while (rc == 0 && !stop && !tool_stop &&
	       (a->duration_s <= 0 || tool_wall() - t0 < a->duration_s)) {
		struct pol_state st;
		const struct pol_decision *d;
		double *promql, now;
		size_t n;

		if (tool_stop_wait(a->interval_s))
			break;
		memset(&st, 0, sizeof(st));
		if ((rc = next_state(cfg, a, &st, &promql, err, errlen)) == 0 &&
		    (rc = pol_run_step(r, &st, promql, err, errlen)) == 0) {
			now = st.t - t0;
			stop = pol_exec_observe(e, r, now) > 0 && a->once;
			d = pol_run_decisions(r, &n);
			for (; seen < n && rc == 0; seen++)
				rc = pol_exec_decision(e, r, &d[seen], now);
			if (rc < 0)
				snprintf(err, errlen, "out of memory");
		}
		free(promql);
		pol_state_free(&st);
		if (fflush(out) == EOF && rc == 0) { /* SIGPIPE is ignored (stop.h) */
			snprintf(err, errlen, "the log: %s", strerror(errno));
			rc = -EIO;
		}
	}
	if (rc == 0) {
		unsigned ap, kept, undone;

		pol_exec_counts(e, &ap, &kept, &undone);
		fprintf(out, "t=%.1f stop: %u applied, %u kept, %u rolled back\n", tool_wall() - t0, ap,
			kept, undone);
		if ((rc = pol_run_plan(r, a->mon ? "monitor" : "prometheus", &plan)) < 0) {
			snprintf(err, errlen, "out of memory");
		} else {
			plan.applied = a->exec.apply;
			rc = json ? pol_plan_print_json(out, &plan) : pol_plan_print_text(out, &plan);
			pol_plan_free(&plan);
		}
	}
	fflush(out);
	pol_exec_destroy(e);
	pol_run_destroy(r);
	return rc;
}
