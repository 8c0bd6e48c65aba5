/* SPDX-License-Identifier: MIT */
/*
 * park.c - the saves and restores a run decides (run_int.h).
 *
 * Save: a host is overloaded for the dwell, outside the global cool-down,
 * and still is after the migrations the balance found room for.  A domain that may be saved (`save = yes`)
 * is checkpointed to the [migration] store host -- one with room for its
 * checkpoint, not to run it -- when that gains the most utility minus
 * cost: the other domains on the host get their CPU back, it gets none
 * while saved, and the save costs its predicted downtime and duration
 * (the decider's prices).  It must also beat capping the domain to the
 * lowest cap its section allows, and doing nothing.
 * Restore: a saved domain goes back to the host with the most room once
 * one takes its demand within fill, its domain cool-down after the save
 * over, when its utility there beats the restore's cost.
 *
 * The shares a change predicts: the host's CPUs shared in proportion to
 * demand when demand exceeds them (equal weights), each domain its whole
 * demand otherwise.  Utilities are predicted for cpu-share SLAs; a
 * response-time domain counts as unchanged (its own utility, when it is
 * the one saved, is the decider's last).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/run_int.h"

static size_t host_of(pol_run *r, const struct tracked *t)
{
	return t->placed != SIZE_MAX ? t->placed : pol_run_host(r, t->tg.host);
}

static double share_of(double demand, double cpus, double host_demand)
{
	return host_demand > cpus && host_demand > 0 ? demand * cpus / host_demand : demand;
}

/* Domain t's utility at share s: its SLA's for a cpu SLA, else NAN. */
static double u_at(const pol_run *r, const struct tracked *t, double s)
{
	const struct rvmig_sla *sla = &r->cfg->doms[t->cfg].sla;

	return sla->kind == RVMIG_SLA_FLOOR ? rvmig_utility(sla, s) : NAN;
}

/* Domain i's utility now: predicted from its share, else the decider's. */
static double u_now(pol_run *r, size_t i, double cpus, double host_demand)
{
	struct rvmig_domain_status ds = { .size = sizeof(ds) };
	double u = u_at(r, &r->t[i], share_of(r->t[i].demand, cpus, host_demand));

	if (isfinite(u))
		return u;
	return rvmig_decider_status(r->dec, i, &ds) == 0 && isfinite(ds.utility) ? ds.utility : 0;
}

/* The other domains' utility change on host h when its demand goes from
 * d0 to d1 (skip: the domain that changes). */
static double others_gain(pol_run *r, size_t h, size_t skip, double d0, double d1)
{
	double cpus = r->h[h].cpus, g = 0;

	for (size_t i = 0; i < r->nt; i++) {
		const struct tracked *t = &r->t[i];
		double u0, u1;

		if (i == skip || !t->seen || t->saved || host_of(r, t) != h)
			continue;
		u0 = u_at(r, t, share_of(t->demand, cpus, d0));
		u1 = u_at(r, t, share_of(t->demand, cpus, d1));
		if (isfinite(u0) && isfinite(u1))
			g += u1 - u0;
	}
	return g;
}

/* A save or restore of t alone, as the planner predicts it (the
 * toolstack's measured cost of that kind included), and its price. */
static int predict_one(pol_run *r, const struct tracked *t, enum rvmig_transfer_kind kind,
		       struct pol_decision *d)
{
	const struct pol_config *cfg = r->cfg;
	const struct rvmig_xfer_model *ts = &cfg->mig.toolstack[kind];
	const struct pol_domain_cfg *c = &cfg->doms[t->cfg];
	double mem = c->memory > 0 ? c->memory : t->mem > 0 ? t->mem : cfg->mig.memory;
	struct rvmig_transfer x = { .size = sizeof(x), .kind = kind, .mem_bytes = mem,
				    .overhead_s = ts->overhead_s };
	double cost_down = cfg->dec.cost_per_downtime_s ? cfg->dec.cost_per_downtime_s : 1.0;
	double cost_dur = cfg->dec.cost_per_duration_s ? cfg->dec.cost_per_duration_s : 0.001;
	rvmig_planner *pl;
	rvmig_plan *p = NULL;
	int rc;

	if ((rc = rvmig_planner_create(&cfg->mig.link, &pl)) < 0)
		return rc;
	if ((rc = rvmig_planner_add(pl, &x)) >= 0)
		rc = rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p);
	if (rc >= 0) {
		d->pred.size = sizeof(d->pred);
		rc = rvmig_plan_entry(p, 0, &d->pred);
	}
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	d->mem_bytes = mem;
	d->action.duration_s = d->pred.end_s - d->pred.start_s;
	d->action.downtime_s = d->pred.downtime_s;
	d->action.cost = cost_down * d->action.downtime_s + cost_dur * d->action.duration_s;
	return rc < 0 ? rc : 0;
}

/* The lowest cap domain t may be given, CPUs; 0: its section has none. */
static double lowest_cap(const pol_run *r, const struct tracked *t)
{
	const struct pol_domain_cfg *c = &r->cfg->doms[t->cfg];

	return c->cpu_max.set ? c->cpu_max.min : c->credit_cap.set ? c->credit_cap.min / 100 : 0;
}

/* A new decision of `kind` for domain i to dest, with the prediction and
 * price of candidate c (predict_one()). */
static struct pol_decision *new_decision(pol_run *r, double now, enum rvmig_action_kind kind,
					 size_t i, const char *dest, const struct pol_decision *c)
{
	const struct tracked *t = &r->t[i];
	struct pol_decision *d = pol_run_decision(r);

	if (!d || pol_target_copy(&d->target, &t->tg) < 0 || !(d->dest = strdup(dest)))
		return NULL;
	r->plan.nd++;
	d->t = now;
	d->action = (struct rvmig_action){ .size = sizeof(d->action), .kind = kind, .domain = i,
					   .share = t->share };
	d->share_before = t->share;
	d->demand = t->demand;
	d->batch = SIZE_MAX;
	d->pred = c->pred;
	d->mem_bytes = c->mem_bytes;
	d->action.duration_s = c->action.duration_s;
	d->action.downtime_s = c->action.downtime_s;
	d->action.cost = c->action.cost;
	return d;
}

/* Host h is overloaded with nowhere to migrate to: the best save, if any
 * beats capping and doing nothing. */
static int save_off(pol_run *r, size_t h, double now)
{
	const struct pol_config *cfg = r->cfg;
	double cpus = r->h[h].cpus, dem = r->h[h].demand, best_gain = 0;
	struct pol_decision cand, best = { 0 };
	size_t pick = SIZE_MAX;
	int rc;

	for (size_t i = 0; i < r->nt; i++) {
		struct tracked *t = &r->t[i];
		double own, cap, gain, cap_gain = NAN;

		if (!t->seen || t->saved || host_of(r, t) != h || !cfg->doms[t->cfg].save ||
		    t->demand <= 0 || t->decided_at == now || pol_migrate_cooling(r, t, now))
			continue;
		memset(&cand, 0, sizeof(cand));
		if ((rc = predict_one(r, t, RVMIG_XFER_SAVE, &cand)) < 0)
			return rc;
		own = u_now(r, i, cpus, dem);
		cand.others_gain = others_gain(r, h, i, dem, dem - t->demand);
		cand.own_before = own;
		cand.own_after = 0;
		gain = cand.others_gain - own - cand.action.cost;
		if ((cap = lowest_cap(r, t)) > 0 && cap < t->demand) {
			double d1 = dem - t->demand + cap, u1 = u_at(r, t, share_of(cap, cpus, d1));

			cap_gain = others_gain(r, h, i, dem, d1) + (isfinite(u1) ? u1 - own : 0);
			cand.cap_to = cap;
		}
		cand.cap_gain = cap_gain;
		cand.gain = gain;
		if (gain > best_gain && !(gain <= cap_gain)) {
			best = cand;
			best_gain = gain;
			pick = i;
		}
	}
	if (pick == SIZE_MAX)
		return 0;
	{
		struct tracked *t = &r->t[pick];
		struct pol_decision *d = new_decision(r, now, RVMIG_ACT_SAVE, pick, cfg->mig.store,
						      &best);

		if (!d)
			return -ENOMEM;
		d->others_gain = best.others_gain;
		d->own_before = best.own_before;
		d->gain = best.gain;
		d->cap_gain = best.cap_gain;
		d->cap_to = best.cap_to;
		d->src_before = dem;
		d->src_after = dem - t->demand;
		d->src_cpus = cpus;
		d->overload = cfg->mig.overload;
		r->h[h].demand -= t->demand;
		t->saved = 1;
		t->saved_at = now;
		t->migrated = 1; /* the cool-downs of a move */
		t->migrated_at = now;
		r->any_mig = 1;
		r->last_mig = now;
	}
	return 0;
}

/* A saved domain back on the host with the most room for it. */
static int restore_one(pol_run *r, size_t i, double now)
{
	const struct pol_config *cfg = r->cfg;
	struct tracked *t = &r->t[i];
	struct pol_decision cand = { 0 }, *d;
	size_t h = SIZE_MAX;
	double room = 0, u;
	int rc;

	if (now - t->saved_at < POL_DCOOL(cfg) ||
	    (r->any_mig && now - r->last_mig < pol_secs(cfg->dec.global_cooldown_ns, 10000000000ull)))
		return 0;
	for (size_t k = 0; k < r->nh; k++) {
		double left = cfg->mig.fill * r->h[k].cpus - r->h[k].demand;

		if (r->h[k].seen && r->h[k].cpus > 0 && strcmp(r->h[k].name, cfg->mig.store) &&
		    left >= t->demand && (h == SIZE_MAX || left > room)) {
			h = k;
			room = left;
		}
	}
	if (h == SIZE_MAX)
		return 0;
	if ((rc = predict_one(r, t, RVMIG_XFER_RESTORE, &cand)) < 0)
		return rc;
	u = u_at(r, t, t->demand);
	if (!isfinite(u))
		u = cfg->dec.release_above ? cfg->dec.release_above : 0.7; /* met: what a release keeps */
	if (!(u - cand.action.cost > 0))
		return 0;
	if (!(d = new_decision(r, now, RVMIG_ACT_RESTORE, i, r->h[h].name, &cand)))
		return -ENOMEM;
	d->own_before = 0;
	d->own_after = u;
	d->gain = u - cand.action.cost;
	d->cap_gain = NAN;
	d->dst_before = r->h[h].demand;
	d->dst_after = r->h[h].demand + t->demand;
	d->dst_cpus = r->h[h].cpus;
	r->h[h].demand += t->demand;
	t->saved = 0;
	t->placed = h;
	t->migrated_at = now;
	r->any_mig = 1;
	r->last_mig = now;
	return 0;
}

int pol_run_parking(pol_run *r, double now, const int *may_shed)
{
	const struct pol_config *cfg = r->cfg;
	int rc = 0;

	if (!cfg->mig.store || cfg->mig.link.bandwidth <= 0)
		return 0;
	for (size_t i = 0; i < r->nt && rc == 0; i++)
		if (r->t[i].saved)
			rc = restore_one(r, i, now);
	for (size_t h = 0; h < r->nh && rc == 0; h++)
		if (may_shed[h] && r->h[h].cpus > 0 &&
		    r->h[h].demand > cfg->mig.overload * r->h[h].cpus)
			rc = save_off(r, h, now);
	return rc;
}
