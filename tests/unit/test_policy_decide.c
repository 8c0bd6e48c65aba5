/* SPDX-License-Identifier: MIT */
/*
 * The decider (librvmig/policy/decide.c) driven by made-up observations
 * over simulated time: hysteresis under an oscillating load, dwell and
 * cool-downs, the choice of utility minus cost, reasons, determinism, and
 * the refusals.  The "plant" is an M/M/1 queue whose service rate is
 * 40 k req/s per CPU of share.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define S_ 1000000000ull
#define PER_CPU 40000.0

/* The p99 (ms) the plant shows at `load` with `share`: an M/M/1 queue,
 * p99 = ln(100) / (mu - lambda), or 10 s when overloaded. */
static double plant_p99(double load, double share)
{
	double mu = PER_CPU * share;

	return load < mu ? 1000 * log(100.0) / (mu - load) : 10000;
}

static struct rvmig_policy_domain domain(uint64_t id, double share)
{
	return (struct rvmig_policy_domain){
		.size = sizeof(struct rvmig_policy_domain), .id = id, .name = "web",
		.sla = { .kind = RVMIG_SLA_RESPONSE, .target = 10 },
		.cap_c0 = 0, .cap_c1 = PER_CPU, .share = share,
	};
}

/* Steps of 0.05, 0.1 and 0.2 CPU up (cost 0.02) and 0.05 down (a saving
 * of 0.05), as a tool offers them. */
static size_t steps(uint64_t id, double share, struct rvmig_action *c)
{
	static const double up[] = { 0.05, 0.1, 0.2 };
	size_t n = 0;

	for (size_t i = 0; i < 3; i++)
		c[n++] = (struct rvmig_action){ .size = sizeof(*c), .kind = RVMIG_ACT_CG_CPU_MAX,
						.domain = id, .share = share + up[i],
						.value = (int64_t)llround((share + up[i]) * 1e6),
						.cost = 0.02 };
	if (share > 0.06)
		c[n++] = (struct rvmig_action){ .size = sizeof(*c), .kind = RVMIG_ACT_CG_CPU_MAX,
						.domain = id, .share = share - 0.05,
						.value = (int64_t)llround((share - 0.05) * 1e6),
						.cost = -0.05 };
	return n;
}

struct trace {
	unsigned n;
	uint64_t t[256];
	double share[256];
	int why[256];
};

/* 30 minutes, an observation and a decision every 5 s, load swinging
 * between 2 k and 7 k req/s with a period of `period` s; the actuator
 * applies each decision at once. */
static void run_oscillating(unsigned period, struct trace *tr)
{
	struct rvmig_decider_attr a = { .size = sizeof(a) };
	struct rvmig_policy_domain d = domain(1, 0.1);
	struct rvmig_decision out = { .size = sizeof(out) };
	struct rvmig_action c[4];
	rvmig_decider *dec;
	double share = 0.1;

	memset(tr, 0, sizeof(*tr));
	cr_assert_eq(rvmig_decider_create(&a, &dec), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), 0);
	for (uint64_t t = 0; t <= 1800; t += 5) {
		double load = (t / (period / 2)) % 2 ? 7000 : 2000;
		int n;

		cr_assert_eq(rvmig_decider_observe(dec, t * S_, 1, plant_p99(load, share), load, share), 0);
		n = rvmig_decider_decide(dec, t * S_, c, steps(1, share, c), &out, 1);
		cr_assert_geq(n, 0);
		if (n == 1) {
			cr_assert_lt(tr->n, 256);
			share = out.action.share;
			tr->t[tr->n] = t;
			tr->share[tr->n] = share;
			tr->why[tr->n] = out.reason.why;
			tr->n++;
		}
	}
	rvmig_decider_destroy(dec);
}

Test(policy_decide, oscillating_load_no_ping_pong)
{
	static const unsigned periods[] = { 20, 60, 120, 300 };

	for (size_t p = 0; p < sizeof(periods) / sizeof(periods[0]); p++) {
		struct trace tr, again;
		unsigned releases = 0;

		run_oscillating(periods[p], &tr);
		for (unsigned i = 0; i < tr.n; i++) {
			cr_log_info("period %u s: t=%3llu s %s to %.2f CPU", periods[p],
				    (unsigned long long)tr.t[i], rvmig_why_name(tr.why[i]), tr.share[i]);
			releases += tr.why[i] == RVMIG_WHY_RELEASE;
			/* Nothing raised again after something was released. */
			cr_assert(!(tr.why[i] == RVMIG_WHY_RAISE && releases),
				  "period %u: raise at %llu s after a release", periods[p],
				  (unsigned long long)tr.t[i]);
		}
		cr_assert_geq(tr.n, 1, "period %u: never raised", periods[p]);
		cr_assert_leq(tr.n, 8, "period %u: %u decisions", periods[p], tr.n);
		/* Enough for the peak: 7 k req/s within the SLA. */
		cr_assert_gt(rvmig_utility(&(struct rvmig_sla){ .size = sizeof(struct rvmig_sla),
								  .target = 10 },
					   plant_p99(7000, tr.share[tr.n - 1])), 0.3);
		/* The same inputs, the same decisions. */
		run_oscillating(periods[p], &again);
		cr_assert_eq(memcmp(&tr, &again, sizeof(tr)), 0, "period %u: not deterministic",
			     periods[p]);
	}
}

Test(policy_decide, dwell_and_cooldowns)
{
	struct rvmig_decider_attr a = { .size = sizeof(a), .min_dwell_ns = 30 * S_,
					.domain_cooldown_ns = 120 * S_,
					.global_cooldown_ns = 10 * S_ };
	struct rvmig_policy_domain d1 = domain(1, 0.1), d2 = domain(2, 0.1);
	struct rvmig_decision out[2] = { { .size = sizeof(out[0]) }, { .size = sizeof(out[0]) } };
	struct rvmig_domain_status st = { .size = sizeof(st) };
	uint64_t last[3] = { 0 }, last_any = 0;
	unsigned seen[RVMIG_HOLD_LIMIT + 1] = { 0 }, decisions = 0;
	rvmig_decider *dec;

	cr_assert_eq(rvmig_decider_create(&a, &dec), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d1), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d2), 0);
	for (uint64_t t = 100; t <= 700; t++) {
		/* Both domains overloaded whatever they are given (the plant
		 * ignores the share): they stay VIOLATING. */
		struct rvmig_action c[2] = {
			{ .size = sizeof(c[0]), .kind = RVMIG_ACT_CREDIT_CAP, .domain = 1, .share = 1,
			  .value = 100, .cost = 0.01 },
			{ .size = sizeof(c[0]), .kind = RVMIG_ACT_CREDIT_CAP, .domain = 2, .share = 1,
			  .value = 100, .cost = 0.01 },
		};
		int n;

		cr_assert_eq(rvmig_decider_observe(dec, t * S_, 1, 50, 5000, 0.1), 0);
		cr_assert_eq(rvmig_decider_observe(dec, t * S_, 2, 50, 5000, 0.1), 0);
		n = rvmig_decider_decide(dec, t * S_, c, 2, out, 2);
		cr_assert(n == 0 || n == 1, "%d decisions at once despite the global cool-down", n);
		for (int i = 0; i < n; i++) {
			uint64_t id = out[i].domain;

			cr_assert_geq(t, 130, "acted at %llu s, before 30 s of dwell", (unsigned long long)t);
			if (last[id])
				cr_assert_geq(t - last[id], 120, "domain %llu acted again after %llu s",
					      (unsigned long long)id, (unsigned long long)(t - last[id]));
			if (last_any)
				cr_assert_geq(t - last_any, 10);
			last[id] = last_any = t;
			decisions++;
		}
		for (uint64_t id = 1; id <= 2; id++) {
			cr_assert_eq(rvmig_decider_status(dec, id, &st), 0);
			cr_assert_eq(st.state, RVMIG_DOM_VIOLATING);
			seen[st.hold]++;
		}
	}
	/* Domain 1 at 130, 250, ..., domain 2 10 s after it each time. */
	cr_assert_eq(decisions, 10);
	cr_assert_eq(last[1], 610);
	cr_assert_eq(last[2], 620);
	cr_assert_gt(seen[RVMIG_HOLD_DWELL], 0);
	cr_assert_gt(seen[RVMIG_HOLD_DOMAIN_COOLDOWN], 0);
	cr_assert_gt(seen[RVMIG_HOLD_GLOBAL_COOLDOWN], 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), -ENOENT);
	rvmig_decider_destroy(dec);
}

Test(policy_decide, utility_minus_cost_and_reason)
{
	struct rvmig_decider_attr a = { .size = sizeof(a), .min_dwell_ns = 1 };
	struct rvmig_policy_domain d = domain(7, 0.1);
	struct rvmig_decision out = { .size = sizeof(out) };
	struct rvmig_sla sla = { .size = sizeof(sla), .target = 10 };
	rvmig_decider *dec;
	/* 3.6 k req/s on 0.1 CPU (4 k req/s): p99 11.5 ms, utility 0.35...
	 * pushed to 3.9 k: over the act threshold. */
	double load = 3900, obs = plant_p99(load, 0.1);
	struct rvmig_action c[3] = {
		/* a small step: some gain, cheap */
		{ .size = sizeof(c[0]), .kind = RVMIG_ACT_CREDIT_CAP, .domain = 7, .share = 0.12,
		  .value = 12, .cost = 0.01 },
		/* migration to an idle host with 1 CPU: the most utility, but
		 * 0.9 s of downtime at 1.0 per second */
		{ .size = sizeof(c[0]), .kind = RVMIG_ACT_MIGRATE, .domain = 7, .share = 1,
		  .arg = "host-b", .cost = 0.05, .duration_s = 20, .downtime_s = 0.9 },
		/* a bigger step */
		{ .size = sizeof(c[0]), .kind = RVMIG_ACT_CREDIT_CAP, .domain = 7, .share = 0.2,
		  .value = 20, .cost = 0.02 },
	};

	cr_assert_eq(rvmig_decider_create(&a, &dec), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), 0);
	cr_assert_eq(rvmig_decider_decide(dec, 0, c, 3, &out, 1), 0);
	cr_assert_eq(rvmig_decider_observe(dec, 1 * S_, 7, obs, load, 0.1), 0);
	cr_assert_lt(rvmig_utility(&sla, obs), 0.3);
	cr_assert_eq(rvmig_decider_decide(dec, 2 * S_, c, 3, &out, 1), 1);
	cr_assert_eq(out.domain, 7);
	cr_assert_eq(out.action.kind, RVMIG_ACT_CREDIT_CAP);
	cr_assert_eq(out.action.share, 0.2);
	cr_assert_eq(out.reason.why, RVMIG_WHY_RAISE);
	cr_assert_str_eq(out.reason.metric, "p99_ms");
	cr_assert_eq(out.reason.observed, obs);
	cr_assert_eq(out.reason.target, 10);
	cr_assert_eq(out.reason.load, load);
	cr_assert_eq(out.reason.threshold, 0.3);
	cr_assert_eq(out.reason.utility_before, rvmig_utility(&sla, obs));
	/* By hand: the model R = 10 ms * 0.1 / (1 - load / mu), mu = C / 0.9,
	 * is past mu at 0.1 CPU (mu 4444 > 3900: 10 ms * 0.1 / 0.1225 =
	 * 8.16 ms there, observed 46 ms: scale 5.64), at 0.2 CPU mu 8889. */
	{
		double r_now = 1.0 / (1 - load / (4000 / 0.9));
		double want = obs / r_now * 1.0 / (1 - load / (8000 / 0.9));

		cr_assert(fabs(out.reason.predicted - want) < 1e-9 * want, "%g vs %g",
			  out.reason.predicted, want);
		cr_assert_eq(out.reason.utility_after, rvmig_utility(&sla, want));
	}
	cr_assert_eq(out.reason.cost, 0.02);
	cr_assert_eq(out.reason.state_since_ns, 1 * S_);
	rvmig_decider_destroy(dec);

	/* Free, the migration wins. */
	c[1].downtime_s = 0;
	c[1].duration_s = 0;
	c[1].cost = 0;
	cr_assert_eq(rvmig_decider_create(&a, &dec), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), 0);
	cr_assert_eq(rvmig_decider_observe(dec, 1 * S_, 7, obs, load, 0.1), 0);
	cr_assert_eq(rvmig_decider_decide(dec, 2 * S_, c, 3, &out, 1), 1);
	cr_assert_eq(out.action.kind, RVMIG_ACT_MIGRATE);
	cr_assert_str_eq(out.action.arg, "host-b");
	cr_assert_eq(out.reason.cost, 0);
	rvmig_decider_destroy(dec);
}

Test(policy_decide, holds_and_floor)
{
	struct rvmig_decider_attr a = { .size = sizeof(a), .min_dwell_ns = 1 };
	struct rvmig_policy_domain d = {
		.size = sizeof(d), .id = 3, .share = 0.2,
		.sla = { .kind = RVMIG_SLA_FLOOR, .target = 0.5, .alpha = 20 },
	};
	struct rvmig_decision out = { .size = sizeof(out) };
	struct rvmig_domain_status st = { .size = sizeof(st) };
	struct rvmig_action up = { .size = sizeof(up), .kind = RVMIG_ACT_CG_CPU_WEIGHT,
				   .domain = 3, .share = 0.6, .value = 300, .cost = 0.1 };
	struct rvmig_action tiny = up;
	rvmig_decider *dec;

	tiny.share = 0.21;
	cr_assert_eq(rvmig_decider_create(&a, &dec), 0);
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), 0);
	cr_assert_eq(rvmig_decider_decide(dec, 0, &up, 1, &out, 1), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.hold, RVMIG_HOLD_NO_DATA);
	cr_assert(isnan(st.utility));
	cr_assert_eq(rvmig_decider_observe(dec, 5, 3, 0.2, 0, 0.2), 0);
	/* A step too small to pay its cost. */
	cr_assert_eq(rvmig_decider_decide(dec, 10, &tiny, 1, &out, 1), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.state, RVMIG_DOM_VIOLATING);
	cr_assert_eq(st.hold, RVMIG_HOLD_NO_BENEFIT);
	cr_assert_eq(rvmig_decider_decide(dec, 10, NULL, 0, &out, 1), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.hold, RVMIG_HOLD_NO_CANDIDATE);
	/* max 0: due, but no room. */
	cr_assert_eq(rvmig_decider_decide(dec, 10, &up, 1, NULL, 0), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.hold, RVMIG_HOLD_LIMIT);
	cr_assert_eq(rvmig_decider_decide(dec, 10, &up, 1, &out, 1), 1);
	cr_assert_str_eq(out.reason.metric, "cpu_share");
	cr_assert_eq(out.reason.predicted, 0.6);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.share, 0.6);
	cr_assert_eq(st.last_action_ns, 10);
	/* Between the thresholds: nothing is due. */
	cr_assert_eq(rvmig_decider_observe(dec, 20, 3, 0.5, 0, 0.5), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.state, RVMIG_DOM_VIOLATING); /* not above release_above yet */
	cr_assert_eq(rvmig_decider_observe(dec, 30, 3, 0.6, 0, 0.6), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.state, RVMIG_DOM_VIOLATING); /* above, but not yet for min_dwell */
	cr_assert_eq(rvmig_decider_observe(dec, 31, 3, 0.6, 0, 0.6), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.state, RVMIG_DOM_SATISFIED);
	cr_assert_eq(rvmig_decider_observe(dec, 40, 3, 0.5, 0, 0.5), 0);
	cr_assert_eq(rvmig_decider_decide(dec, 40, &up, 1, &out, 1), 0);
	cr_assert_eq(rvmig_decider_status(dec, 3, &st), 0);
	cr_assert_eq(st.state, RVMIG_DOM_HOLD);
	cr_assert_eq(st.hold, RVMIG_HOLD_IN_BAND);
	cr_assert_str_eq(rvmig_hold_name(st.hold), "in-band");
	rvmig_decider_destroy(dec);
}

Test(policy_decide, refusals)
{
	struct rvmig_decider_attr bad = { .size = sizeof(bad), .act_below = 0.8, .release_above = 0.7 };
	struct rvmig_policy_domain d = domain(1, 0.1);
	struct rvmig_decision out = { .size = sizeof(out) };
	struct rvmig_action c = { .size = sizeof(c), .kind = RVMIG_ACT_VCPUS, .domain = 1,
				  .share = 0.2, .value = 2 };
	rvmig_decider *dec;

	cr_assert_eq(rvmig_decider_create(&bad, &dec), -EINVAL);
	cr_assert_eq(rvmig_decider_create(NULL, &dec), 0);
	d.share = 0;
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), -EINVAL);
	d.share = 0.1;
	d.sla.target = NAN;
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), -EINVAL);
	d.sla.target = 10;
	cr_assert_eq(rvmig_decider_set_domain(dec, &d), 0);
	cr_assert_eq(rvmig_decider_observe(dec, 10, 2, 1, 1, 1), -ENOENT);
	cr_assert_eq(rvmig_decider_observe(dec, 10, 1, NAN, 1, 1), -EINVAL);
	cr_assert_eq(rvmig_decider_observe(dec, 10, 1, 1, -1, 1), -EINVAL);
	cr_assert_eq(rvmig_decider_observe(dec, 10, 1, 1, 1, 0), -EINVAL);
	cr_assert_eq(rvmig_decider_observe(dec, 10, 1, 1, 1, 1), 0);
	cr_assert_eq(rvmig_decider_observe(dec, 9, 1, 1, 1, 1), -EINVAL);
	c.domain = 2;
	cr_assert_eq(rvmig_decider_decide(dec, 10, &c, 1, &out, 1), -EINVAL);
	c.domain = 1;
	c.share = INFINITY;
	cr_assert_eq(rvmig_decider_decide(dec, 10, &c, 1, &out, 1), -EINVAL);
	c.share = 0.2;
	c.kind = RVMIG_ACT_NKINDS;
	cr_assert_eq(rvmig_decider_decide(dec, 10, &c, 1, &out, 1), -EINVAL);
	c.kind = RVMIG_ACT_VCPUS;
	out.size = 8;
	cr_assert_eq(rvmig_decider_decide(dec, 10, &c, 1, &out, 1), -EINVAL);
	cr_assert_str_eq(rvmig_action_kind_name(RVMIG_ACT_CG_CPUSET), "cgroup-cpuset");
	cr_assert_str_eq(rvmig_action_kind_name(99), "?");
	rvmig_decider_destroy(dec);
}
