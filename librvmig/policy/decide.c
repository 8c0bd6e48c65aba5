/* SPDX-License-Identifier: MIT */
/*
 * decide.c - the decider: per-domain utility with hysteresis, dwell and
 * cool-downs, and the choice among candidate actions of the one with the
 * greatest predicted utility minus cost.
 *
 * Prediction.  FLOOR SLAs observe the share the domain is granted, so an
 * action predicts its own share.  RESPONSE SLAs use the capacity model
 * C(share) (the map's) as an M/M/1 queue that reaches the SLA target at
 * its capacity, taken as RHO_AT_CAPACITY of its service rate mu = C /
 * RHO_AT_CAPACITY:
 *     R(share, load) = target * (1 - RHO_AT_CAPACITY) / (1 - load / mu),
 * unbounded (utility 0) at load >= mu.  The model is scaled to this
 * domain by the ratio of the observed response time to the model's at the
 * observed share and load (bounded to [1/10, 10]; 1 when the observation
 * is past mu).  The load predicted for is the highest observed since the
 * domain entered its state, so a release decided in a lull is judged at
 * the peak it must still carry: an oscillating load does not make it
 * ping-pong.  A first-order model: the map's validation says how far its
 * capacity can be trusted, and the next observation corrects it.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"

#define DEF_ACT_BELOW 0.3
#define DEF_RELEASE_ABOVE 0.7
#define DEF_MIN_DWELL_NS (30ull * 1000000000)
#define DEF_DOMAIN_COOLDOWN_NS (120ull * 1000000000)
#define DEF_GLOBAL_COOLDOWN_NS (10ull * 1000000000)
#define DEF_COST_PER_DOWNTIME 1.0
#define DEF_COST_PER_DURATION 0.001
#define RHO_AT_CAPACITY 0.9
#define SCALE_MAX 10.0

struct dom {
	uint64_t id;
	char *name;
	struct rvmig_sla sla;
	double c0, c1;
	int observed;
	double obs, load, share, util;
	double peak;         /* highest load since `since` */
	int above;           /* utility above release_above ... */
	uint64_t above_since; /* ... without a break since then */
	enum rvmig_domain_state state;
	uint64_t since;
	int acted;
	uint64_t last_action;
	enum rvmig_hold hold;
};

struct rvmig_decider {
	struct rvmig_decider_attr a;
	struct dom *d;
	size_t n, cap;
	int any_action;
	uint64_t last_action, last_now;
};

RVMIG_API int rvmig_decider_create(const struct rvmig_decider_attr *attr, rvmig_decider **out)
{
	struct rvmig_decider_attr a;

	if (!out || pol_in(&a, sizeof(a), attr) < 0)
		return -EINVAL;
	*out = NULL;
	a.act_below = a.act_below ? a.act_below : DEF_ACT_BELOW;
	a.release_above = a.release_above ? a.release_above : DEF_RELEASE_ABOVE;
	a.min_dwell_ns = a.min_dwell_ns ? a.min_dwell_ns : DEF_MIN_DWELL_NS;
	a.domain_cooldown_ns = a.domain_cooldown_ns ? a.domain_cooldown_ns : DEF_DOMAIN_COOLDOWN_NS;
	a.global_cooldown_ns = a.global_cooldown_ns ? a.global_cooldown_ns : DEF_GLOBAL_COOLDOWN_NS;
	a.cost_per_downtime_s = a.cost_per_downtime_s ? a.cost_per_downtime_s : DEF_COST_PER_DOWNTIME;
	a.cost_per_duration_s = a.cost_per_duration_s ? a.cost_per_duration_s : DEF_COST_PER_DURATION;
	if (!pol_num_ok(a.act_below, 0, 1) || !pol_num_ok(a.release_above, a.act_below, 1) ||
	    a.release_above >= 1 || !isfinite(a.cost_per_downtime_s) ||
	    !isfinite(a.cost_per_duration_s))
		return -EINVAL;
	a.cost_per_downtime_s = fmax(0, a.cost_per_downtime_s);
	a.cost_per_duration_s = fmax(0, a.cost_per_duration_s);
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->a = a;
	return 0;
}

RVMIG_API void rvmig_decider_destroy(rvmig_decider *dec)
{
	if (!dec)
		return;
	for (size_t i = 0; i < dec->n; i++)
		free(dec->d[i].name);
	free(dec->d);
	free(dec);
}

static struct dom *find(const struct rvmig_decider *dec, uint64_t id)
{
	for (size_t i = 0; i < dec->n; i++)
		if (dec->d[i].id == id)
			return &dec->d[i];
	return NULL;
}

RVMIG_API int rvmig_decider_set_domain(rvmig_decider *dec, const struct rvmig_policy_domain *d)
{
	struct rvmig_policy_domain in;
	struct rvmig_sla sla;
	struct dom *x;
	char *name;

	if (!dec || !d || pol_in(&in, sizeof(in), d) < 0 ||
	    pol_sla_norm(&in.sla, &sla, NULL, 0) < 0 || !pol_num_ok(in.share, 0, 1) ||
	    !isfinite(in.cap_c0) || !pol_num_ok(in.cap_c1, 0, 0))
		return -EINVAL;
	name = strdup(in.name ? in.name : "");
	if (!name)
		return -ENOMEM;
	x = find(dec, in.id);
	if (!x) {
		if (dec->n == dec->cap) {
			size_t cap = dec->cap ? dec->cap * 2 : 8;
			struct dom *v = realloc(dec->d, cap * sizeof(*v));

			if (!v) {
				free(name);
				return -ENOMEM;
			}
			dec->d = v;
			dec->cap = cap;
		}
		x = &dec->d[dec->n++];
		*x = (struct dom){ .id = in.id, .util = NAN };
	}
	free(x->name);
	x->name = name;
	x->sla = sla;
	x->c0 = in.cap_c0;
	x->c1 = in.cap_c1;
	x->share = in.share;
	return 0;
}

static void set_state(struct dom *x, enum rvmig_domain_state s, uint64_t now)
{
	if (x->state != s) {
		x->state = s;
		x->since = now;
		x->peak = x->load;
	}
}

RVMIG_API int rvmig_decider_observe(rvmig_decider *dec, uint64_t now_ns, uint64_t id,
				    double observed, double load, double share)
{
	const struct rvmig_decider_attr *a;
	struct dom *x;

	if (!dec)
		return -EINVAL;
	a = &dec->a;
	x = find(dec, id);
	if (!x)
		return -ENOENT;
	if (!pol_num_ok(observed, 0, 0) || !pol_num_ok(load, 0, 0) || !pol_num_ok(share, 0, 1) ||
	    now_ns < dec->last_now)
		return -EINVAL;
	dec->last_now = now_ns;
	x->observed = 1;
	x->obs = observed;
	x->load = load;
	x->share = share;
	x->util = rvmig_utility(&x->sla, observed);
	x->peak = fmax(x->peak, load);
	if (x->util > a->release_above && !x->above) {
		x->above = 1;
		x->above_since = now_ns;
	} else if (x->util <= a->release_above) {
		x->above = 0;
	}
	if (x->util < a->act_below)
		set_state(x, RVMIG_DOM_VIOLATING, now_ns);
	else if (x->state == RVMIG_DOM_VIOLATING)
		/* Released only after min_dwell above release_above. */
		set_state(x, x->above && now_ns - x->above_since >= a->min_dwell_ns
			     ? RVMIG_DOM_SATISFIED : RVMIG_DOM_VIOLATING, now_ns);
	else
		set_state(x, x->above ? RVMIG_DOM_SATISFIED : RVMIG_DOM_HOLD, now_ns);
	return 0;
}

static double capacity(const struct dom *x, double share)
{
	return fmax(0, x->c0 + x->c1 * share);
}

/* The model's response time for domain x at share and load. */
static double model_r(const struct dom *x, double share, double load)
{
	double mu = capacity(x, share) / RHO_AT_CAPACITY;

	if (load >= mu)
		return INFINITY;
	return x->sla.target * (1 - RHO_AT_CAPACITY) / (1 - load / mu);
}

/* The metric domain x is predicted to show at `share`. */
static double predict(const struct dom *x, double share)
{
	double now, scale = 1;

	if (x->sla.kind == RVMIG_SLA_FLOOR)
		return share;
	if (x->c1 == 0)
		return x->obs;
	now = model_r(x, x->share, x->load);
	if (isfinite(now) && x->obs > 0)
		scale = fmin(SCALE_MAX, fmax(1 / SCALE_MAX, x->obs / now));
	return scale * model_r(x, share, x->peak);
}

static double total_cost(const struct rvmig_decider_attr *a, const struct rvmig_action *c)
{
	return c->cost + a->cost_per_downtime_s * c->downtime_s +
	       a->cost_per_duration_s * c->duration_s;
}

static int cand_ok(const rvmig_decider *dec, const struct rvmig_action *c)
{
	return c->size >= sizeof(*c) && find(dec, c->domain) && c->kind > RVMIG_ACT_NONE &&
	       c->kind < RVMIG_ACT_NKINDS && pol_num_ok(c->share, 0, 1) && isfinite(c->cost) &&
	       pol_num_ok(c->duration_s, 0, 0) && pol_num_ok(c->downtime_s, 0, 0);
}

/* The best candidate for domain x in its state, or NULL; *hold says why
 * none. */
static const struct rvmig_action *best_for(const rvmig_decider *dec, const struct dom *x,
					   const struct rvmig_action *cand, size_t n,
					   struct rvmig_reason *r, enum rvmig_hold *hold)
{
	const struct rvmig_action *best = NULL;
	double best_value = x->util;
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rvmig_action *c = &cand[i];
		double cost, pred, u, value;

		if (c->domain != x->id)
			continue;
		any = 1;
		cost = total_cost(&dec->a, c);
		pred = predict(x, c->share);
		u = rvmig_utility(&x->sla, pred);
		value = u - cost;
		/* A raise must predict more utility; a release frees resources
		 * and must keep the domain satisfied. */
		if (x->state == RVMIG_DOM_VIOLATING && u <= x->util)
			continue;
		if (x->state == RVMIG_DOM_SATISFIED && (cost >= 0 || u <= dec->a.release_above))
			continue;
		if (value > best_value + 1e-12) {
			best = c;
			best_value = value;
			r->predicted = pred;
			r->utility_after = u;
			r->cost = cost;
		}
	}
	*hold = best ? RVMIG_HOLD_NONE : any ? RVMIG_HOLD_NO_BENEFIT : RVMIG_HOLD_NO_CANDIDATE;
	return best;
}

RVMIG_API int rvmig_decider_decide(rvmig_decider *dec, uint64_t now_ns,
				   const struct rvmig_action *cand, size_t n,
				   struct rvmig_decision *out, size_t max)
{
	const struct rvmig_decider_attr *a;
	size_t count = 0;

	if (!dec || (n && !cand) || (max && !out) || now_ns < dec->last_now)
		return -EINVAL;
	a = &dec->a;
	for (size_t i = 0; i < n; i++)
		if (!cand_ok(dec, &cand[i]))
			return -EINVAL;
	for (size_t i = 0; i < max; i++)
		if (out[i].size < sizeof(out[i]))
			return -EINVAL;
	dec->last_now = now_ns;
	for (size_t i = 0; i < dec->n; i++) {
		struct dom *x = &dec->d[i];
		struct rvmig_reason r = { 0 };
		const struct rvmig_action *best;

		if (!x->observed) {
			x->hold = RVMIG_HOLD_NO_DATA;
			continue;
		}
		if (x->state != RVMIG_DOM_VIOLATING && x->state != RVMIG_DOM_SATISFIED) {
			x->hold = RVMIG_HOLD_IN_BAND;
			continue;
		}
		if (now_ns - x->since < a->min_dwell_ns) {
			x->hold = RVMIG_HOLD_DWELL;
			continue;
		}
		if (x->acted && now_ns - x->last_action < a->domain_cooldown_ns) {
			x->hold = RVMIG_HOLD_DOMAIN_COOLDOWN;
			continue;
		}
		if (dec->any_action && now_ns - dec->last_action < a->global_cooldown_ns) {
			x->hold = RVMIG_HOLD_GLOBAL_COOLDOWN;
			continue;
		}
		best = best_for(dec, x, cand, n, &r, &x->hold);
		if (!best)
			continue;
		if (count == max) {
			x->hold = RVMIG_HOLD_LIMIT;
			continue;
		}
		r.why = x->state == RVMIG_DOM_VIOLATING ? RVMIG_WHY_RAISE : RVMIG_WHY_RELEASE;
		r.sla_kind = x->sla.kind;
		r.metric = pol_metric_name(&x->sla);
		r.observed = x->obs;
		r.target = x->sla.target;
		r.load = x->peak;
		r.threshold = r.why == RVMIG_WHY_RAISE ? a->act_below : a->release_above;
		r.utility_before = x->util;
		r.state_since_ns = x->since;
		out[count].domain = x->id;
		out[count].action = *best;
		out[count].reason = r;
		count++;
		x->acted = 1;
		x->last_action = now_ns;
		x->share = best->share;
		dec->any_action = 1;
		dec->last_action = now_ns;
	}
	return (int)count;
}

RVMIG_API int rvmig_decider_status(const rvmig_decider *dec, uint64_t id,
				   struct rvmig_domain_status *out)
{
	struct rvmig_domain_status s = { .size = sizeof(s) };
	const struct dom *x;

	if (!dec || !out)
		return -EINVAL;
	x = find(dec, id);
	if (!x)
		return -ENOENT;
	s.state = x->state;
	s.hold = x->hold;
	s.utility = x->observed ? x->util : NAN;
	s.observed = x->obs;
	s.load = x->load;
	s.share = x->share;
	s.state_since_ns = x->since;
	s.last_action_ns = x->acted ? x->last_action : 0;
	return pol_out(out, &s, sizeof(s), offsetof(struct rvmig_domain_status, last_action_ns));
}
