/* SPDX-License-Identifier: MIT */
/* migrate.c - a run's migrations: hosts overloaded for the dwell, or
 * domains violating with no room, balanced (balance.h) and planned
 * (rvmig_planner(3)) (run_int.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/balance.h"
#include "policy/grow.h"
#include "policy/run_int.h"

static double mem_of(const pol_run *r, const struct tracked *t)
{
	const struct pol_domain_cfg *c = &r->cfg->doms[t->cfg];

	return c->memory > 0 ? c->memory : t->mem > 0 ? t->mem : r->cfg->mig.memory;
}

/* The planner's k, order and per-VM prediction for the last n migrations. */
static int predict(pol_run *r, size_t first, size_t n, double now)
{
	const struct pol_config *cfg = r->cfg;
	/* the library's defaults where the file gives none */
	double cost_downtime = cfg->dec.cost_per_downtime_s ? cfg->dec.cost_per_downtime_s : 1.0;
	double cost_duration = cfg->dec.cost_per_duration_s ? cfg->dec.cost_per_duration_s : 0.001;
	rvmig_planner *pl;
	rvmig_plan *plan;
	struct pol_batch *b;
	int rc;

	if ((rc = rvmig_planner_create(&cfg->mig.link, &pl)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		struct pol_decision *d = &r->plan.d[first + i];
		/* the toolstack's own cost, as measured here (runs = PATH) */
		const struct rvmig_xfer_model *ts = &cfg->mig.toolstack[RVMIG_XFER_MIGRATE];
		struct rvmig_transfer x = { .size = sizeof(x), .kind = RVMIG_XFER_MIGRATE, .id = i,
					    .mem_bytes = d->mem_bytes, .dirty_rate = d->dirty_rate,
					    .overhead_s = ts->overhead_s,
					    .stop_overhead_s = ts->stop_overhead_s };

		rc = rvmig_planner_add(pl, &x);
	}
	if (rc >= 0)
		rc = rvmig_planner_choose(pl, &plan);
	rvmig_planner_destroy(pl);
	if (rc < 0)
		return rc;
	if (!(b = pol_grow(r->plan.b, r->plan.nb, &r->cap_b, sizeof(*b)))) {
		rvmig_plan_free(plan);
		return -ENOMEM;
	}
	r->plan.b = b;
	b = &r->plan.b[r->plan.nb];
	*b = (struct pol_batch){ .t = now, .k = rvmig_plan_concurrency(plan),
				 .order = rvmig_plan_order(plan),
				 .makespan_s = rvmig_plan_makespan(plan),
				 .max_downtime_s = rvmig_plan_max_downtime(plan),
				 .meets_sla = rvmig_plan_meets_sla(plan), .n = n };
	for (size_t i = 0; i < n; i++) {
		struct pol_decision *d = &r->plan.d[first + i];

		d->batch = r->plan.nb;
		d->pred.size = sizeof(d->pred);
		rvmig_plan_entry(plan, i, &d->pred);
		d->action.duration_s = d->pred.end_s - d->pred.start_s;
		d->action.downtime_s = d->pred.downtime_s;
		/* in utility units, as the decider prices an action */
		d->action.cost = cost_downtime * d->action.downtime_s +
				 cost_duration * d->action.duration_s;
	}
	r->plan.nb++;
	rvmig_plan_free(plan);
	return 0;
}

/* Migrations off hosts overloaded for the dwell, outside the cool-downs. */
int pol_run_migrations(pol_run *r, double now)
{
	const struct pol_config *cfg = r->cfg;
	const struct rvmig_decider_attr *a = &cfg->dec;
	double dwell = pol_secs(a->min_dwell_ns, 30000000000ull);
	double gcool = pol_secs(a->global_cooldown_ns, 10000000000ull);
	struct bal_host *bh = calloc(r->nh ? r->nh : 1, sizeof(*bh));
	struct bal_dom *bd = calloc(r->nt ? r->nt : 1, sizeof(*bd));
	struct bal_move *mv = calloc(r->nt ? r->nt : 1, sizeof(*mv));
	const char **why = calloc(r->nh ? r->nh : 1, sizeof(*why));
	size_t n = 0, first = r->plan.nd;
	int *may_shed = NULL, rc = -ENOMEM;

	if (!bh || !bd || !mv || !why)
		goto out;
	for (size_t i = 0; i < r->nh; i++) {
		struct host *h = &r->h[i];
		int over;

		bh[i] = (struct bal_host){ .cpus = h->seen ? h->cpus : 0, .demand = h->demand };
		over = h->seen && pol_host_overloaded(&bh[i], cfg->mig.overload);
		if (over && !h->over)
			h->over_since = now;
		h->over = over;
		h->note = !over ? NULL
			  : cfg->mig.link.bandwidth <= 0 ? "no [migration] bandwidth: no migration planned"
			  : now - h->over_since < dwell ? "within the dwell"
			  : r->any_mig && now - r->last_mig < gcool ? "global cool-down"
								     : NULL;
		bh[i].may_shed = over && !h->note;
	}
	for (size_t i = 0; i < r->nt; i++) {
		const struct tracked *t = &r->t[i];
		struct rvmig_domain_status ds = { .size = sizeof(ds) };

		bd[i] = (struct bal_dom){
			.host = t->placed != SIZE_MAX ? t->placed : pol_run_host(r, t->tg.host),
			.demand = t->seen ? t->demand : 0,
			.movable = t->seen && !t->saved && cfg->doms[t->cfg].migrate &&
				   t->decided_at != now && !pol_migrate_cooling(r, t, now),
		};
		/* violating for the dwell, and its host had no room for a raise:
		 * a migration is its remedy, outside the global cool-down */
		bd[i].urgent = bd[i].movable && t->no_room && cfg->mig.link.bandwidth > 0 &&
			       !(r->any_mig && now - r->last_mig < gcool) &&
			       rvmig_decider_status(r->dec, i, &ds) == 0 &&
			       ds.state == RVMIG_DOM_VIOLATING &&
			       now - ds.state_since_ns / 1e9 >= dwell;
	}
	n = pol_balance(bh, r->nh, bd, r->nt, cfg->mig.overload, cfg->mig.fill, mv, r->nt, why);
	for (size_t i = 0; i < r->nh; i++)
		if (why[i])
			r->h[i].note = why[i];
	for (size_t i = 0; i < n; i++) {
		struct tracked *t = &r->t[mv[i].dom];
		struct pol_decision *d = pol_run_decision(r);
		const struct pol_domain_cfg *c = &cfg->doms[t->cfg];

		if (!d || pol_target_copy(&d->target, &t->tg) < 0 ||
		    !(d->dest = strdup(r->h[mv[i].dst].name)))
			goto out;
		r->plan.nd++;
		d->t = now;
		d->action = (struct rvmig_action){ .size = sizeof(d->action),
						   .kind = RVMIG_ACT_MIGRATE, .domain = mv[i].dom,
						   .share = t->share };
		d->share_before = t->share;
		d->demand = t->demand;
		d->src_before = mv[i].src_before;
		d->src_after = mv[i].src_after;
		d->dst_before = mv[i].dst_before;
		d->dst_after = mv[i].dst_after;
		d->urgent = mv[i].urgent;
		d->src_cpus = r->h[mv[i].src].cpus;
		d->dst_cpus = r->h[mv[i].dst].cpus;
		d->overload = cfg->mig.overload;
		d->mem_bytes = mem_of(r, t);
		d->dirty_rate = c->dirty_rate > 0 ? c->dirty_rate : cfg->mig.dirty_rate;
		t->placed = mv[i].dst;
		t->migrated = 1;
		t->migrated_at = now;
		r->h[mv[i].src].demand = mv[i].src_after;
		r->h[mv[i].dst].demand = mv[i].dst_after;
	}
	if (n) {
		r->any_mig = 1;
		r->last_mig = now;
		if ((rc = predict(r, first, n, now)) < 0)
			goto out;
	}
	/* a save only where no migration was found this time */
	if (!(may_shed = calloc(r->nh ? r->nh : 1, sizeof(*may_shed)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nh; i++)
		may_shed[i] = bh[i].may_shed && n == 0;
	if ((rc = pol_run_parking(r, now, may_shed)) < 0)
		goto out;
	for (size_t i = 0; i < r->nh; i++)
		if (!pol_host_overloaded(&(struct bal_host){ .cpus = r->h[i].cpus,
							     .demand = r->h[i].demand },
					 cfg->mig.overload))
			r->h[i].over = 0;
	rc = 0;
out:
	free(bh);
	free(bd);
	free(mv);
	free(why);
	free(may_shed);
	return rc;
}
