/* SPDX-License-Identifier: MIT */
/*
 * The decider's candidates for the three CPU controls of a domain (run.c):
 * its cap, its vCPU count and its scheduler weight, each candidate with the
 * share rvmig_share_predict() expects after it.  States built here (pure,
 * deterministic), fed to a run:
 *   contended   three domains want 1 CPU each on 2 CPUs at equal weights:
 *               a cap raise predicts nothing (the others hold their part),
 *               a weight raise does: the weight is chosen;
 *   uncontended the neighbours idle: the same domain capped at 0.3 CPU gets
 *               a cap raise; a weight predicts nothing there;
 *   vcpus       a Xen domain with 1 vCPU online and no cap, wanting 1.7
 *               CPUs: no cap raise helps (share = min(cap, vCPUs)), a vCPU
 *               raise does.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/config.h"
#include "policy/observe.h"
#include "policy/run.h"

struct dom {
	const char *kind, *id, *name;
	double cpu, run, wait;
};

static void state_at(struct pol_state *st, double t, double cpus, const struct dom *d, size_t n)
{
	memset(st, 0, sizeof(*st));
	st->t = t;
	cr_assert(pol_host_of(st, "h", 1));
	st->hosts[0].cpus = cpus;
	for (size_t i = 0; i < n; i++) {
		struct pol_dom *x = pol_dom_add(st, "h", d[i].kind, d[i].id, d[i].name);

		cr_assert(x);
		x->cpu = d[i].cpu;
		x->run = d[i].run;
		x->wait = d[i].wait;
		x->blocked = 1 - d[i].run - d[i].wait;
		x->have_shares = 1;
	}
}

/* Runs 20 states a second apart; the plan's decisions. */
static void plan_of(const char *policy, double cpus, const struct dom *d, size_t n,
		    struct pol_config *cfg, struct pol_plan *p)
{
	char err[512];
	pol_run *r;

	cr_assert_eq(pol_config_parse(policy, strlen(policy), "t.policy", cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(pol_run_create(cfg, &r, err, sizeof(err)), 0, "%s", err);
	for (int k = 1; k <= 20; k++) {
		struct pol_state st;

		state_at(&st, 1000 + k, cpus, d, n);
		cr_assert_eq(pol_run_step(r, &st, NULL, err, sizeof(err)), 0, "%s", err);
		pol_state_free(&st);
	}
	cr_assert_eq(pol_run_plan(r, "test", p), 0);
	pol_run_destroy(r);
}

static struct pol_config cfg;
static struct pol_plan p;

static void teardown(void)
{
}

/* The plan's one decision, of kind k. */
static const struct pol_decision *one(const char *policy, double cpus, const struct dom *d,
				      size_t n, enum rvmig_action_kind k)
{
	plan_of(policy, cpus, d, n, &cfg, &p);
	cr_assert_eq(p.nd, 1, "%zu decisions", p.nd);
	cr_assert_eq(p.d[0].action.kind, k, "chose %s", rvmig_action_kind_name(p.d[0].action.kind));
	return &p.d[0];
}

#define DECIDER "[decider]\ndwell = 3s\ndomain_cooldown = 60s\nglobal_cooldown = 1s\n"

Test(plan_controls, contended_weight_wins, .fini = teardown)
{
	static const struct dom d[] = {
		{ "cgroup", "1", "/app", 0.667, 0.667, 0.333 },
		{ "cgroup", "2", "/n1", 0.667, 0.667, 0.333 },
		{ "cgroup", "3", "/n2", 0.667, 0.667, 0.333 },
	};
	const struct pol_decision *x =
		one(DECIDER "[domain app]\nmatch = name /app\nsla = cpu 0.9\nshare = 2\n"
			    "cpu.max = 0.1 2 0.1\nweight = 100 1000 100\n",
		    2, d, 3, RVMIG_ACT_CG_CPU_WEIGHT);

	cr_assert_gt(x->action.value, 100);
	/* 2 x w / (w + 200), the neighbours at the default 100 each */
	cr_assert_float_eq(x->action.share, 2.0 * x->action.value / (x->action.value + 200.0), 1e-9);
	cr_assert_geq(x->reason.predicted, 0.9, "predicted %g", x->reason.predicted);
}

Test(plan_controls, uncontended_cap_wins, .fini = teardown)
{
	static const struct dom d[] = {
		{ "cgroup", "1", "/app", 0.3, 0.3, 0.7 },
		{ "cgroup", "2", "/n1", 0.01, 0.01, 0 },
	};
	const struct pol_decision *x =
		one(DECIDER "[domain app]\nmatch = name /app\nsla = cpu 0.9\nshare = 0.3\n"
			    "cpu.max = 0.1 2 0.1\nweight = 100 1000 100\n",
		    2, d, 2, RVMIG_ACT_CG_CPU_MAX);

	cr_assert_float_eq(x->action.share, x->action.value / 1e6, 1e-9,
			   "uncontended: the share is the cap");
	cr_assert_geq(x->action.share, 0.9);
}

Test(plan_controls, vcpus_bound_the_cap, .fini = teardown)
{
	static const struct dom d[] = { { "domain", "5", "vm", 1.0, 0.6, 0.4 } };
	const struct pol_decision *x =
		one(DECIDER "[domain vm]\nmatch = name vm\nsla = cpu 1.5\nvcpus.now = 1\n"
			    "credit.cap = 50 400 50\nvcpus = 1 4 1\n",
		    4, d, 1, RVMIG_ACT_VCPUS);

	cr_assert_geq(x->action.value, 2);
	cr_assert_float_eq(x->action.share, (double)x->action.value, 1e-9,
			   "no cap: the share is the vCPUs");
	cr_assert_float_eq(x->share_before, 1.0, 1e-9, "min(no cap, 1 vCPU)");
}
