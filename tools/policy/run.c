/* SPDX-License-Identifier: MIT */
/* run.c - states in, decisions out (run.h). */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/balance.h"
#include "policy/run.h"

/* A domain seen in the states that a [domain] section matched; its index is
 * its id in the decider. */
struct tracked {
	struct pol_target tg;
	size_t cfg;
	double share;       /* granted now: the config's, then each decision's */
	double cpu, demand, mem;
	int seen;           /* at the current state */
	int observed;       /* had an observable at the current state */
	int no_room;        /* every raise was left out for lack of room on its host */
	double decided_at;  /* time of its last share decision, or -1 */
	double obs, load;
	size_t placed;      /* host index after a planned migration; SIZE_MAX: its own */
	int migrated;
	double migrated_at;
};

struct host {
	char *name;
	double cpus, demand;
	int seen, over;
	double over_since;
	const char *note;
};

struct pol_run {
	const struct pol_config *cfg;
	rvmig_decider *dec;
	struct tracked *t;
	size_t nt;
	struct host *h;
	size_t nh;
	int any_mig;
	double last_mig;
	struct pol_plan plan;
	size_t cap_d, cap_b;
	struct rvmig_action *cand;
	size_t cap_cand;
	struct rvmig_decision *out;
};

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

static size_t host_index(pol_run *r, const char *name)
{
	struct host *h;

	for (size_t i = 0; i < r->nh; i++)
		if (!strcmp(r->h[i].name, name))
			return i;
	if (!(h = realloc(r->h, (r->nh + 1) * sizeof(*h))))
		return SIZE_MAX;
	r->h = h;
	h = &r->h[r->nh];
	memset(h, 0, sizeof(*h));
	if (!(h->name = strdup(name)))
		return SIZE_MAX;
	return r->nh++;
}

static struct tracked *track(pol_run *r, const struct pol_dom *d, size_t ci, double host_cpus)
{
	const struct pol_domain_cfg *c = &r->cfg->doms[ci];
	struct rvmig_policy_domain pd = { .size = sizeof(pd) };
	struct pol_target tg = { .host = d->instance, .kind = d->kind, .id = d->id,
				 .name = d->domain, .policy = c->name };
	struct tracked *t;

	for (size_t i = 0; i < r->nt; i++) {
		t = &r->t[i];
		if (!strcmp(t->tg.host, d->instance) && !strcmp(t->tg.kind, d->kind) &&
		    !strcmp(t->tg.id, d->id))
			return t;
	}
	if (!(t = realloc(r->t, (r->nt + 1) * sizeof(*t))))
		return NULL;
	r->t = t;
	t = &r->t[r->nt];
	memset(t, 0, sizeof(*t));
	t->cfg = ci;
	t->placed = SIZE_MAX;
	t->decided_at = -1;
	t->share = c->share > 0 ? c->share : host_cpus > 0 ? host_cpus : 1;
	if (pol_target_copy(&t->tg, &tg) < 0)
		return NULL;
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

static int add_cand(pol_run *r, size_t *n, const struct rvmig_action *a)
{
	if (*n == r->cap_cand) {
		size_t cap = r->cap_cand ? r->cap_cand * 2 : 64;
		struct rvmig_action *v = realloc(r->cand, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->cand = v;
		r->cap_cand = cap;
	}
	r->cand[(*n)++] = *a;
	return 0;
}

/* The steps of domain i's actuator: every value of its range but the one
 * it has, raises only within its host's room. */
static int candidates(pol_run *r, size_t i, size_t *n)
{
	const struct tracked *t = &r->t[i];
	const struct pol_domain_cfg *c = &r->cfg->doms[t->cfg];
	const struct pol_range *rg = c->cpu_max.set ? &c->cpu_max : &c->credit_cap;
	double unit = c->cpu_max.set ? 1 : 100; /* range units per CPU */
	const struct host *h = &r->h[t->placed != SIZE_MAX ? t->placed : host_index(r, t->tg.host)];
	double others = h->demand - t->demand;
	unsigned raises = 0, blocked = 0;

	if (!rg->set)
		return 0;
	for (unsigned k = 0; k <= POL_GRID_MAX; k++) {
		double v = rg->min + k * rg->step, share = v / unit;
		struct rvmig_action a = { .size = sizeof(a), .domain = i, .share = share };

		if (v > rg->max * (1 + 1e-9))
			break;
		if (fabs(share - t->share) < 1e-9)
			continue;
		if (share > t->share && others + share > r->cfg->mig.overload * h->cpus) {
			blocked++;
			continue; /* no room on the host: a migration's job */
		}
		raises += share > t->share;
		a.kind = c->cpu_max.set ? RVMIG_ACT_CG_CPU_MAX : RVMIG_ACT_CREDIT_CAP;
		a.value = c->cpu_max.set ? llround(share * 1e6) : llround(v);
		a.cost = (share - t->share) * r->cfg->cpu_price;
		if (add_cand(r, n, &a) < 0)
			return -ENOMEM;
	}
	r->t[i].no_room = blocked && !raises;
	return 0;
}

static struct pol_decision *new_decision(pol_run *r)
{
	struct pol_decision *d;

	if (r->plan.nd == r->cap_d) {
		size_t cap = r->cap_d ? r->cap_d * 2 : 16;

		if (!(d = realloc(r->plan.d, cap * sizeof(*d))))
			return NULL;
		r->plan.d = d;
		r->cap_d = cap;
	}
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
	}
	for (size_t i = 0; i < st->nhosts; i++) {
		size_t k = host_index(r, st->hosts[i].instance);

		if (k == SIZE_MAX)
			return -ENOMEM;
		r->h[k].cpus = st->hosts[i].cpus;
		r->h[k].seen = 1;
	}
	for (size_t i = 0; i < st->ndoms; i++) {
		size_t k = host_index(r, st->doms[i].instance);

		if (k == SIZE_MAX)
			return -ENOMEM;
		r->h[k].demand += pol_dom_demand(&st->doms[i]);
	}
	for (size_t i = 0; i < r->nt; i++) {
		struct tracked *t = &r->t[i];

		if (t->seen && t->placed != SIZE_MAX) {
			r->h[host_index(r, t->tg.host)].demand -= t->demand;
			r->h[t->placed].demand += t->demand;
		}
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

/* A decider setting in seconds: the file's, else the library's default. */
static double secs(uint64_t ns, uint64_t def_ns)
{
	return (ns ? ns : def_ns) / 1e9;
}

#define DCOOL(cfg) secs((cfg)->dec.domain_cooldown_ns, 120000000000ull)

/* A domain migrated within its cool-down gets no share change: the move
 * is its action until the cool-down says otherwise. */
static int migrate_cooling(const pol_run *r, const struct tracked *t, double now)
{
	return t->migrated && now - t->migrated_at < DCOOL(r->cfg);
}

static int decide(pol_run *r, double now, uint64_t ns)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < r->nt; i++)
		if (r->t[i].observed && !migrate_cooling(r, &r->t[i], now) &&
		    (rc = candidates(r, i, &n)) < 0)
			return rc;
	rc = rvmig_decider_decide(r->dec, ns, r->cand, n, r->out, r->cfg->max_actions);
	for (int k = 0; k < rc; k++) {
		const struct rvmig_decision *x = &r->out[k];
		struct tracked *t = &r->t[x->domain];
		struct pol_decision *d = new_decision(r);

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
		t->share = x->action.share;
		t->decided_at = now;
	}
	return rc < 0 ? rc : 0;
}

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
		struct rvmig_transfer x = { .size = sizeof(x), .kind = RVMIG_XFER_MIGRATE, .id = i,
					    .mem_bytes = d->mem_bytes, .dirty_rate = d->dirty_rate };

		rc = rvmig_planner_add(pl, &x);
	}
	if (rc >= 0)
		rc = rvmig_planner_choose(pl, &plan);
	rvmig_planner_destroy(pl);
	if (rc < 0)
		return rc;
	if (r->plan.nb == r->cap_b) {
		size_t cap = r->cap_b ? r->cap_b * 2 : 8;

		if (!(b = realloc(r->plan.b, cap * sizeof(*b)))) {
			rvmig_plan_free(plan);
			return -ENOMEM;
		}
		r->plan.b = b;
		r->cap_b = cap;
	}
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
static int balance(pol_run *r, double now)
{
	const struct pol_config *cfg = r->cfg;
	const struct rvmig_decider_attr *a = &cfg->dec;
	double dwell = secs(a->min_dwell_ns, 30000000000ull);
	double gcool = secs(a->global_cooldown_ns, 10000000000ull);
	struct bal_host *bh = calloc(r->nh ? r->nh : 1, sizeof(*bh));
	struct bal_dom *bd = calloc(r->nt ? r->nt : 1, sizeof(*bd));
	struct bal_move *mv = calloc(r->nt ? r->nt : 1, sizeof(*mv));
	const char **why = calloc(r->nh ? r->nh : 1, sizeof(*why));
	size_t n = 0, first = r->plan.nd;
	int rc = -ENOMEM;

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
			.host = t->placed != SIZE_MAX ? t->placed : host_index(r, t->tg.host),
			.demand = t->seen ? t->demand : 0,
			.movable = t->seen && cfg->doms[t->cfg].migrate && t->decided_at != now &&
				   !migrate_cooling(r, t, now),
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
		struct pol_decision *d = new_decision(r);
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
	return rc;
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
		rc = balance(r, st->t);
	if (rc < 0)
		snprintf(err, errlen, "state at %.3f: %s", st->t, rvmig_strerror(rc));
	return rc;
}

int pol_run_plan(pol_run *r, const char *source, struct pol_plan *plan)
{
	struct pol_plan *p = &r->plan;

	p->source = source;
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
			  : migrate_cooling(r, t, p->to) && ds.hold == RVMIG_HOLD_NO_CANDIDATE
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
