/* SPDX-License-Identifier: MIT */
/* run.c - states in, decisions out (run.h). */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/grow.h"
#include "policy/run_int.h"

#define RUNNABLE_CPUS 0.05 /* a domain demanding less does not contend */

int pol_kind_xen(const char *kind)
{
	return !strcmp(kind, "domain") || !strcmp(kind, "xen");
}

double pol_default_weight(const char *kind)
{
	return pol_kind_xen(kind) ? 256 : 100;
}

/* The share a domain's cap and vCPUs grant on a host of `cpus`. */
static double granted(const struct tracked *t, double cpus)
{
	double s = t->cap > 0 ? t->cap : cpus > 0 ? cpus : 1;

	return t->vcpus > 0 && t->vcpus < s ? t->vcpus : s;
}

/* A setting of kind k (enum rvmig_action_kind units) into t's controls.
 * 0 or -EINVAL (not a CPU control). */
static int set_control(struct tracked *t, enum rvmig_action_kind k, int64_t v)
{
	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX: t->cap = v < 0 ? 0 : (double)v / 1e6; return 0;
	case RVMIG_ACT_CREDIT_CAP: t->cap = (double)v / 100; return 0;
	case RVMIG_ACT_VCPUS: t->vcpus = (double)v; return 0;
	case RVMIG_ACT_CG_CPU_WEIGHT:
	case RVMIG_ACT_CREDIT_WEIGHT: t->weight = (double)v; return 0;
	default: return -EINVAL;
	}
}


int pol_run_create(const struct pol_config *cfg, pol_run **out, char *err, size_t errlen)
{
	pol_run *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r || !(r->out = calloc(cfg->max_actions, sizeof(*r->out)))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->max_actions; i++)
		r->out[i].size = sizeof(r->out[i]);
	if ((rc = rvmig_decider_create(&cfg->dec, &r->dec)) < 0) {
		snprintf(err, errlen, "[decider]: %s", rvmig_strerror(rc));
		pol_run_destroy(r);
		return rc;
	}
	r->cfg = cfg;
	*out = r;
	return 0;
}

void pol_run_destroy(pol_run *r)
{
	if (!r)
		return;
	rvmig_decider_destroy(r->dec);
	for (size_t i = 0; i < r->nt; i++)
		pol_target_free(&r->t[i].tg);
	for (size_t i = 0; i < r->nh; i++)
		free(r->h[i].name);
	free(r->t);
	free(r->h);
	free(r->cand);
	free(r->out);
	pol_plan_free(&r->plan);
	free(r);
}

int pol_samples_at(const rvmig_samples *set, const char *app, const struct rvmig_sla *sla,
		   double t, double max_age, double *observed, double *load)
{
	double best_t = -1;
	size_t n = set ? rvmig_samples_count(set) : 0;

	for (size_t i = 0; i < n; i++) {
		struct rvmig_sample s = { .size = sizeof(s) };
		char *end;
		double st;

		if (rvmig_samples_get(set, i, &s) < 0 || strcmp(s.app, app) || s.scenario[0] != 't')
			continue;
		st = strtod(s.scenario + 1, &end);
		if (*end || !(st <= t) || t - st > max_age || st < best_t)
			continue;
		best_t = st;
		*observed = sla->metric == RVMIG_METRIC_P50    ? s.p50_ms
			    : sla->metric == RVMIG_METRIC_MEAN ? s.mean_ms
							       : s.p99_ms;
		*load = s.offered_rps > 0 ? s.offered_rps : s.achieved_rps;
	}
	return best_t >= 0;
}

static int matches(const struct pol_domain_cfg *c, const struct pol_dom *d)
{
	if (c->host && strcmp(c->host, d->instance))
		return 0;
	return c->match_id ? !strcmp(c->match, d->id) : !fnmatch(c->match, d->domain, 0);
}

size_t pol_run_host(pol_run *r, const char *name)
{
	struct host *h;

	for (size_t i = 0; i < r->nh; i++)
		if (!strcmp(r->h[i].name, name))
			return i;
	if (!(h = pol_grow(r->h, r->nh, &r->cap_h, sizeof(*h))))
		return SIZE_MAX;
	r->h = h;
	h = &r->h[r->nh];
	memset(h, 0, sizeof(*h));
	if (!(h->name = strdup(name)))
		return SIZE_MAX;
	return r->nh++;
}

static struct tracked *find(const pol_run *r, const struct pol_target *tg)
{
	for (size_t i = 0; i < r->nt; i++)
		if (!strcmp(r->t[i].tg.host, tg->host) && !strcmp(r->t[i].tg.kind, tg->kind) &&
		    !strcmp(r->t[i].tg.id, tg->id))
			return &r->t[i];
	return NULL;
}

/* The time of the last move (migration, save, restore) of a domain that
 * section ci tracked under this name and kind before, or -1: a domain
 * restored or migrated in comes back with a new id, and keeps that
 * move's cool-down, so that it is not moved (saved) again at once. */
static double moved_at(const pol_run *r, const struct pol_target *tg, size_t ci)
{
	double at = -1;

	for (size_t i = 0; i < r->nt; i++) {
		const struct tracked *o = &r->t[i];

		if (o->cfg == ci && o->migrated && !o->seen && !strcmp(o->tg.kind, tg->kind) &&
		    !strcmp(o->tg.name, tg->name) && o->migrated_at > at)
			at = o->migrated_at;
	}
	return at;
}

static struct tracked *track(pol_run *r, const struct pol_dom *d, size_t ci, double host_cpus)
{
	const struct pol_domain_cfg *c = &r->cfg->doms[ci];
	struct rvmig_policy_domain pd = { .size = sizeof(pd) };
	struct pol_target tg = { .host = d->instance, .kind = d->kind, .id = d->id,
				 .name = d->domain, .policy = c->name };
	struct tracked *t = find(r, &tg);
	double moved;

	if (t)
		return t;
	moved = moved_at(r, &tg, ci);
	if (!(t = pol_grow(r->t, r->nt, &r->cap_t, sizeof(*t))))
		return NULL;
	r->t = t;
	t = &r->t[r->nt];
	memset(t, 0, sizeof(*t));
	t->cfg = ci;
	t->placed = SIZE_MAX;
	t->decided_at = -1;
	t->migrated = moved >= 0;
	t->migrated_at = moved;
	t->cap = c->share > 0 ? c->share : 0;
	t->vcpus = c->vcpus_now;
	t->weight = c->weight_now > 0 ? c->weight_now : pol_default_weight(d->kind);
	if (pol_target_copy(&t->tg, &tg) < 0)
		return NULL;
	if (r->share_reader) {
		struct pol_controls now = { t->cap, t->vcpus, t->weight };

		if (r->share_reader(r->share_ctx, &t->tg, c, &now) > 0) {
			t->cap = now.cap;
			t->vcpus = now.vcpus;
			t->weight = now.weight;
		}
	}
	t->share = granted(t, host_cpus);
	pd.id = r->nt;
	pd.name = c->name;
	pd.sla = c->sla;
	pd.cap_c0 = c->c0;
	pd.cap_c1 = c->c1;
	pd.share = t->share;
	if (rvmig_decider_set_domain(r->dec, &pd) < 0) {
		pol_target_free(&t->tg);
		return NULL;
	}
	r->nt++;
	return t;
}

void pol_run_set_share_reader(pol_run *r, pol_share_reader fn, void *ctx)
{
	r->share_reader = fn;
	r->share_ctx = ctx;
}

const struct pol_decision *pol_run_decisions(const pol_run *r, size_t *n)
{
	*n = r->plan.nd;
	return r->plan.d;
}

int pol_run_observed(const pol_run *r, const struct pol_target *tg, double *obs)
{
	const struct tracked *t = find(r, tg);

	if (!t || !t->seen || !t->observed)
		return 0;
	*obs = t->obs;
	return 1;
}

const struct pol_domain_cfg *pol_run_domain_cfg(const pol_run *r, const struct pol_target *tg)
{
	const struct tracked *t = find(r, tg);

	return t ? &r->cfg->doms[t->cfg] : NULL;
}

int pol_run_set_control(pol_run *r, const struct pol_target *tg, enum rvmig_action_kind k,
			int64_t value)
{
	struct tracked *t = find(r, tg);
	size_t h;

	if (!t)
		return -ENOENT;
	if (set_control(t, k, value) < 0)
		return -EINVAL;
	h = t->placed != SIZE_MAX ? t->placed : pol_run_host(r, t->tg.host);
	t->share = granted(t, h != SIZE_MAX ? r->h[h].cpus : 0);
	return 0;
}

int pol_run_move_failed(pol_run *r, const struct pol_target *tg, enum rvmig_action_kind k,
			double t)
{
	struct tracked *x = find(r, tg);
	size_t own;

	if (!x)
		return -ENOENT;
	if (k != RVMIG_ACT_MIGRATE && k != RVMIG_ACT_SAVE && k != RVMIG_ACT_RESTORE)
		return -EINVAL;
	if ((own = pol_run_host(r, x->tg.host)) == SIZE_MAX)
		return -ENOMEM;
	/* the hosts' demand as it is until the next state counts it anew */
	if (k == RVMIG_ACT_SAVE && x->saved) {
		r->h[x->placed != SIZE_MAX ? x->placed : own].demand += x->demand;
		x->saved = 0;
	} else if (k == RVMIG_ACT_MIGRATE && x->placed != SIZE_MAX && !x->saved) {
		r->h[x->placed].demand -= x->demand;
		r->h[own].demand += x->demand;
		x->placed = SIZE_MAX;
	} else if (k == RVMIG_ACT_RESTORE && !x->saved) {
		if (x->placed != SIZE_MAX)
			r->h[x->placed].demand -= x->demand;
		x->placed = SIZE_MAX;
		x->saved = 1;
		x->saved_at = t;
	}
	x->migrated = 1;
	x->migrated_at = t;
	return 0;
}

static int add_cand(pol_run *r, size_t *n, const struct rvmig_action *a)
{
	struct rvmig_action *v = pol_grow(r->cand, *n, &r->cap_cand, sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->cand = v;
	r->cand[(*n)++] = *a;
	return 0;
}

/* The share domain t can expect on host h with these controls. */
static double expect(const struct tracked *t, const struct host *h, double cap, double vcpus,
		     double weight)
{
	struct rvmig_share_attr a = {
		.size = sizeof(a), .cpus = h->cpus > 0 ? h->cpus : 1, .cap = cap, .vcpus = vcpus,
		.weight = weight, .demand = t->demand,
		.others_weight = fmax(0, h->wsum - (t->demand >= RUNNABLE_CPUS ? t->weight : 0)),
		.others_demand = fmax(0, h->demand - t->demand),
	};
	double s;

	return rvmig_share_predict(&a, &s) == 0 ? s : 0;
}

/* One actuator's steps for domain i: every value of its range but the one
 * it has, each with the share predicted after it (rvmig_share_predict():
 * cap, vCPUs and weight together, against the host's other runnable
 * domains) and a cost of cpu_price per CPU of predicted share; raises of a
 * bound (cap, vCPUs) only within the host's room. */
static int steps(pol_run *r, size_t i, enum rvmig_action_kind kind, const struct pol_range *rg,
		 double unit, size_t *n, unsigned *raises, unsigned *blocked)
{
	const struct tracked *t = &r->t[i];
	const struct host *h = &r->h[t->placed != SIZE_MAX ? t->placed : pol_run_host(r, t->tg.host)];
	double others = h->demand - t->demand;
	double now = expect(t, h, t->cap, t->vcpus, t->weight);

	for (unsigned k = 0; rg->set && k <= POL_GRID_MAX; k++) {
		double v = rg->min + k * rg->step, cap = t->cap, vcpus = t->vcpus, weight = t->weight;
		double share, bound;
		struct rvmig_action a = { .size = sizeof(a), .domain = i, .kind = kind };

		if (v > rg->max * (1 + 1e-9))
			break;
		if (kind == RVMIG_ACT_CG_CPU_MAX || kind == RVMIG_ACT_CREDIT_CAP) {
			cap = v / unit;
			a.value = kind == RVMIG_ACT_CG_CPU_MAX ? llround(cap * 1e6) : llround(v);
			bound = cap;
		} else if (kind == RVMIG_ACT_VCPUS) {
			vcpus = v;
			a.value = llround(v);
			bound = fmin(cap > 0 ? cap : h->cpus, vcpus);
		} else {
			weight = v;
			a.value = llround(v);
			bound = 0; /* a weight takes from the others, not from the room */
		}
		if (cap == t->cap && vcpus == t->vcpus && weight == t->weight)
			continue;
		share = expect(t, h, cap, vcpus, weight);
		if (fabs(share - now) < 1e-9)
			continue; /* no predicted effect (a weight without contention) */
		if (share > now && bound > 0 && others + bound > r->cfg->mig.overload * h->cpus) {
			(*blocked)++;
			continue; /* no room on the host: a migration's job */
		}
		*raises += share > now;
		a.share = share;
		a.cost = (share - now) * r->cfg->cpu_price;
		if (add_cand(r, n, &a) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The candidates of domain i: the steps of each actuator its section has. */
static int candidates(pol_run *r, size_t i, size_t *n)
{
	const struct tracked *t = &r->t[i];
	const struct pol_domain_cfg *c = &r->cfg->doms[t->cfg];
	unsigned raises = 0, blocked = 0;
	int rc;

	if (c->cpu_max.set)
		rc = steps(r, i, RVMIG_ACT_CG_CPU_MAX, &c->cpu_max, 1, n, &raises, &blocked);
	else
		rc = steps(r, i, RVMIG_ACT_CREDIT_CAP, &c->credit_cap, 100, n, &raises, &blocked);
	if (rc == 0)
		rc = steps(r, i, RVMIG_ACT_VCPUS, &c->vcpus, 1, n, &raises, &blocked);
	if (rc == 0)
		rc = steps(r, i, pol_kind_xen(t->tg.kind) ? RVMIG_ACT_CREDIT_WEIGHT
							 : RVMIG_ACT_CG_CPU_WEIGHT,
			   &c->weight, 1, n, &raises, &blocked);
	r->t[i].no_room = blocked && !raises;
	return rc;
}

struct pol_decision *pol_run_decision(pol_run *r)
{
	struct pol_decision *d = pol_grow(r->plan.d, r->plan.nd, &r->cap_d, sizeof(*d));

	if (!d)
		return NULL;
	r->plan.d = d;
	d = &r->plan.d[r->plan.nd];
	memset(d, 0, sizeof(*d));
	return d;
}

/* Hosts' CPUs and demand at this state; migrated domains count where the
 * plan put them. */
static int hosts_update(pol_run *r, const struct pol_state *st)
{
	for (size_t i = 0; i < r->nh; i++) {
		r->h[i].seen = 0;
		r->h[i].demand = 0;
		r->h[i].wsum = 0;
	}
	for (size_t i = 0; i < st->nhosts; i++) {
		size_t k = pol_run_host(r, st->hosts[i].instance);

		if (k == SIZE_MAX)
			return -ENOMEM;
		r->h[k].cpus = st->hosts[i].cpus;
		r->h[k].seen = 1;
	}
	for (size_t i = 0; i < st->ndoms; i++) {
		const struct pol_dom *d = &st->doms[i];
		struct pol_target tg = { .host = d->instance, .kind = d->kind, .id = d->id };
		const struct tracked *t = find(r, &tg);
		size_t k = pol_run_host(r, d->instance);
		double demand = pol_dom_demand(d);

		if (k == SIZE_MAX)
			return -ENOMEM;
		r->h[k].demand += demand;
		if (demand >= RUNNABLE_CPUS)
			r->h[k].wsum += t ? t->weight : pol_default_weight(d->kind);
	}
	for (size_t i = 0; i < r->nt; i++) {
		struct tracked *t = &r->t[i];

		if (t->seen && (t->saved || t->placed != SIZE_MAX))
			r->h[pol_run_host(r, t->tg.host)].demand -= t->demand;
		if (t->seen && !t->saved && t->placed != SIZE_MAX)
			r->h[t->placed].demand += t->demand;
	}
	return 0;
}

static int observe(pol_run *r, const struct pol_state *st, const double *promql, uint64_t ns)
{
	const struct pol_config *cfg = r->cfg;

	for (size_t i = 0; i < r->nt; i++)
		r->t[i].seen = r->t[i].observed = r->t[i].no_room = 0;
	for (size_t i = 0; i < st->ndoms; i++) {
		const struct pol_dom *d = &st->doms[i];
		const struct pol_host *h = pol_host_of((struct pol_state *)st, d->instance, 0);

		for (size_t ci = 0; ci < cfg->ndoms; ci++) {
			struct tracked *t;

			if (!matches(&cfg->doms[ci], d))
				continue;
			if (!(t = track(r, d, ci, h ? h->cpus : 0)))
				return -ENOMEM;
			t->seen = 1;
			t->cpu = d->cpu;
			t->demand = pol_dom_demand(d);
			t->mem = d->mem;
			/* cpu SLA, "at least target CPUs when it wants them": when it
			 * wanted that much, what it got; else the share it may use.
			 * A domain blocked most of the window did not want the CPU:
			 * its waits are wake-up latency on a busy host. */
			t->obs = t->demand >= cfg->doms[ci].sla.target && d->blocked < 0.5 ? d->cpu
											    : t->share;
			t->load = 0;
			t->observed = cfg->doms[ci].sla.kind == RVMIG_SLA_FLOOR;
			break;
		}
	}
	if (hosts_update(r, st) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < r->nt; i++) {
		struct tracked *t = &r->t[i];
		const struct pol_domain_cfg *c = &cfg->doms[t->cfg];
		int rc;

		if (!t->seen)
			continue;
		if (c->obs == POL_OBS_SAMPLES)
			t->observed = pol_samples_at(c->obs_set, c->obs_app, &c->sla, st->t,
						     cfg->samples_max_age, &t->obs, &t->load);
		else if (c->obs == POL_OBS_PROMQL && promql && isfinite(promql[t->cfg]) &&
			 promql[t->cfg] >= 0) {
			t->obs = promql[t->cfg];
			t->observed = 1;
		}
		if (t->observed &&
		    (rc = rvmig_decider_observe(r->dec, ns, i, t->obs, t->load, t->share)) < 0)
			return rc;
	}
	return 0;
}


static int decide(pol_run *r, double now, uint64_t ns)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < r->nt; i++)
		if (r->t[i].observed && !r->t[i].saved && !pol_migrate_cooling(r, &r->t[i], now) &&
		    (rc = candidates(r, i, &n)) < 0)
			return rc;
	rc = rvmig_decider_decide(r->dec, ns, r->cand, n, r->out, r->cfg->max_actions);
	for (int k = 0; k < rc; k++) {
		const struct rvmig_decision *x = &r->out[k];
		struct tracked *t = &r->t[x->domain];
		struct pol_decision *d = pol_run_decision(r);

		if (!d || pol_target_copy(&d->target, &t->tg) < 0)
			return -ENOMEM;
		r->plan.nd++;
		d->t = now;
		d->action = x->action;
		d->action.arg = NULL;
		d->share_before = t->share;
		d->by_decider = 1;
		d->reason = x->reason;
		d->demand = t->demand;
		set_control(t, x->action.kind, x->action.value);
		t->share = granted(t, r->h[t->placed != SIZE_MAX ? t->placed
							   : pol_run_host(r, t->tg.host)].cpus);
		t->decided_at = now;
	}
	return rc < 0 ? rc : 0;
}


int pol_run_step(pol_run *r, const struct pol_state *st, const double *promql, char *err,
		 size_t errlen)
{
	uint64_t ns = (uint64_t)llround(st->t * 1e9);
	int rc;

	if (!(st->t > 0) || (r->plan.samples && st->t <= r->plan.to)) {
		snprintf(err, errlen, "state at %.3f: not after the previous one (%.3f)", st->t,
			 r->plan.to);
		return -EINVAL;
	}
	if (!r->plan.samples)
		r->plan.from = st->t;
	r->plan.to = st->t;
	r->plan.samples++;
	if ((rc = observe(r, st, promql, ns)) == 0 && (rc = decide(r, st->t, ns)) == 0)
		rc = pol_run_migrations(r, st->t);
	if (rc < 0)
		snprintf(err, errlen, "state at %.3f: %s", st->t, rvmig_strerror(rc));
	return rc;
}

int pol_run_plan(pol_run *r, const char *source, struct pol_plan *plan)
{
	struct pol_plan *p = &r->plan;

	p->source = source;
	p->bandwidth = r->cfg->mig.link.bandwidth;
	p->overhead_s = r->cfg->mig.link.overhead_s;
	p->calib_runs = r->cfg->mig.calib_runs;
	p->calib_rel_err = r->cfg->mig.calib_rel_err;
	p->contention = r->cfg->mig.link.contention;
	p->per_transfer_cap = r->cfg->mig.link.per_transfer_cap;
	memcpy(p->toolstack, r->cfg->mig.toolstack, sizeof(p->toolstack));
	if (r->nt && !(p->s = calloc(r->nt, sizeof(*p->s))))
		return -ENOMEM;
	for (size_t i = 0; i < r->nt; i++) {
		const struct tracked *t = &r->t[i];
		struct pol_status *s = &p->s[p->ns];
		struct rvmig_domain_status ds = { .size = sizeof(ds) };

		if (pol_target_copy(&s->target, &t->tg) < 0)
			return -ENOMEM;
		p->ns++;
		rvmig_decider_status(r->dec, i, &ds);
		s->state = ds.state;
		s->hold = !t->seen ? RVMIG_HOLD_NO_DATA
			  : pol_migrate_cooling(r, t, p->to) && ds.hold == RVMIG_HOLD_NO_CANDIDATE
			  ? RVMIG_HOLD_DOMAIN_COOLDOWN : ds.hold;
		s->seen = t->seen;
		s->utility = ds.utility;
		s->observed = t->obs;
		s->load = t->load;
		s->share = t->share;
		s->demand = t->demand;
		s->metric = r->cfg->doms[t->cfg].sla.kind == RVMIG_SLA_FLOOR ? "cpu_share"
			    : r->cfg->doms[t->cfg].sla.metric == RVMIG_METRIC_P50 ? "p50_ms"
			    : r->cfg->doms[t->cfg].sla.metric == RVMIG_METRIC_MEAN ? "mean_ms"
										 : "p99_ms";
	}
	if (r->nh && !(p->h = calloc(r->nh, sizeof(*p->h))))
		return -ENOMEM;
	for (size_t i = 0; i < r->nh; i++) {
		struct pol_host_status *h = &p->h[p->nh];

		if (!(h->host = strdup(r->h[i].name)))
			return -ENOMEM;
		p->nh++;
		h->cpus = r->h[i].cpus;
		h->demand = r->h[i].demand;
		h->overloaded = r->h[i].over;
		h->note = r->h[i].note;
	}
	for (size_t i = 0; i < p->nd; i++)
		p->d[i].due = p->d[i].t == p->to;
	*plan = *p;
	memset(p, 0, sizeof(*p));
	r->cap_d = r->cap_b = 0;
	return 0;
}
