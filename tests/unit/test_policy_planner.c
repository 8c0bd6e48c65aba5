/* SPDX-License-Identifier: MIT */
/*
 * The parallel-migration planner (librvmig/policy/planner.c,
 * calibrate.c): the pre-copy model against hand-computed cases (lambda =
 * 0, 1/4, >= 1, the dirty-page stop), link sharing in a streamed queue,
 * monotonicity, the choice of k and order under a downtime SLA, and
 * calibration recovering known parameters.
 */
#include <errno.h>
#include <math.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define GiB 1073741824.0

static void near(double got, double want, double rel, const char *what)
{
	cr_assert(fabs(got - want) <= rel * fabs(want) + 1e-12, "%s: %.12g, want %.12g", what, got,
		  want);
}

static struct rvmig_link link_of(double bw)
{
	return (struct rvmig_link){ .size = sizeof(struct rvmig_link), .bandwidth = bw };
}

static void add(rvmig_planner *pl, enum rvmig_transfer_kind kind, uint64_t id, double mem,
		double dirty)
{
	struct rvmig_transfer t = { .size = sizeof(t), .kind = kind, .id = id, .mem_bytes = mem,
				    .dirty_rate = dirty };

	cr_assert_geq(rvmig_planner_add(pl, &t), 0);
}

/* One transfer alone: its entry. */
static struct rvmig_plan_entry solo(const struct rvmig_link *l, enum rvmig_transfer_kind kind,
				    double mem, double dirty)
{
	struct rvmig_plan_entry e = { .size = sizeof(e) };
	rvmig_planner *pl;
	rvmig_plan *p;

	cr_assert_eq(rvmig_planner_create(l, &pl), 0);
	add(pl, kind, 1, mem, dirty);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	cr_assert_eq(rvmig_plan_entry(p, 0, &e), 0);
	near(rvmig_plan_makespan(p), e.end_s, 0, "makespan of one");
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	return e;
}

Test(policy_planner, precopy_quarter)
{
	/* lambda = 1/4: 5 live rounds (Xen's limit) and the stop-and-copy,
	 * sum_{i=0..5} 4^-i seconds; the last round is 4^-5 s of downtime. */
	struct rvmig_link l = link_of(GiB);
	struct rvmig_plan_entry e = solo(&l, RVMIG_XFER_MIGRATE, GiB, GiB / 4);
	double sum = (1 - pow(0.25, 6)) / 0.75;

	near(e.end_s, sum, 1e-12, "time");
	near(e.bytes, GiB * sum, 1e-12, "bytes");
	near(e.downtime_s, pow(0.25, 5), 1e-9, "downtime");
	cr_assert_eq(e.rounds, 6);
	/* The stop overhead adds to the downtime only. */
	l.stop_overhead_s = 0.2;
	e = solo(&l, RVMIG_XFER_MIGRATE, GiB, GiB / 4);
	near(e.end_s, sum, 1e-12, "time");
	near(e.downtime_s, pow(0.25, 5) + 0.2, 1e-9, "downtime");
	/* max_iterations 2: rounds 0 and 1 live, then stop with M / 16. */
	l.max_iterations = 2;
	e = solo(&l, RVMIG_XFER_MIGRATE, GiB, GiB / 4);
	near(e.end_s, 1 + 0.25 + 0.0625, 1e-12, "time, 2 iterations");
	cr_assert_eq(e.rounds, 3);
}

Test(policy_planner, precopy_not_converging)
{
	/* lambda = 2: every round is all of memory; the 5-round rule stops it:
	 * 5 live rounds and a full stop-and-copy. */
	struct rvmig_link l = link_of(GiB);
	struct rvmig_plan_entry e = solo(&l, RVMIG_XFER_MIGRATE, GiB, 2 * GiB);

	near(e.end_s, 6, 1e-12, "time");
	near(e.bytes, 6 * GiB, 1e-12, "bytes");
	near(e.downtime_s, 1, 1e-12, "downtime");
	cr_assert_eq(e.rounds, 6);
	/* lambda = 1 exactly: the same. */
	e = solo(&l, RVMIG_XFER_MIGRATE, GiB, GiB);
	near(e.end_s, 6, 1e-12, "time, lambda 1");
}

Test(policy_planner, precopy_idle_and_dirty_stop)
{
	struct rvmig_link l = link_of(GiB);
	struct rvmig_plan_entry e = solo(&l, RVMIG_XFER_MIGRATE, GiB, 0);
	double d = 100 * 1024.0, r1;

	/* lambda = 0: M / B, no downtime. */
	near(e.end_s, 1, 1e-12, "time, idle");
	near(e.downtime_s, 0, 0, "downtime, idle");
	near(e.bytes, GiB, 1e-12, "bytes, idle");
	/* 100 KiB/s dirtied: 25 pages after round 0, under Xen's 50: sent in
	 * one more live round, then the few bytes dirtied meanwhile. */
	e = solo(&l, RVMIG_XFER_MIGRATE, GiB, d);
	r1 = d / GiB;
	cr_assert_eq(e.rounds, 3);
	near(e.end_s, 1 + r1 + d * r1 / GiB, 1e-12, "time");
	near(e.downtime_s, d * r1 / GiB, 1e-9, "downtime");
	/* 300 KiB/s: 75 pages, over the threshold: more rounds. */
	e = solo(&l, RVMIG_XFER_MIGRATE, GiB, 3 * d);
	cr_assert_eq(e.rounds, 4);
	/* Save and restore: M once, stopped throughout. */
	l.overhead_s = 0.5;
	e = solo(&l, RVMIG_XFER_SAVE, GiB, 5 * GiB);
	near(e.end_s, 1.5, 1e-12, "save");
	near(e.downtime_s, 1.5, 1e-12, "save downtime");
	cr_assert_eq(e.rounds, 1);
	e = solo(&l, RVMIG_XFER_RESTORE, 2 * GiB, 0);
	near(e.end_s, 2.5, 1e-12, "restore");
}

Test(policy_planner, streamed_queue_by_hand)
{
	/* B = 1 byte/s, k = 2, saves of 3, 1, 1, 1: A and B share until B
	 * ends at 2 (A has 2 left); C starts at once and ends at 4; D ends at
	 * 6 with A.  No waves: the link is never idle. */
	struct rvmig_link l = link_of(1);
	static const double want[4][2] = { { 0, 6 }, { 0, 2 }, { 2, 4 }, { 4, 6 } };
	rvmig_planner *pl;
	rvmig_plan *p;

	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	add(pl, RVMIG_XFER_SAVE, 10, 3, 0);
	for (int i = 0; i < 3; i++)
		add(pl, RVMIG_XFER_SAVE, 11 + i, 1, 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 2, RVMIG_ORDER_GIVEN, &p), 0);
	near(rvmig_plan_makespan(p), 6, 1e-12, "makespan");
	for (size_t i = 0; i < 4; i++) {
		struct rvmig_plan_entry e = { .size = sizeof(e) };

		cr_assert_eq(rvmig_plan_entry(p, i, &e), 0);
		cr_assert_eq(e.id, 10 + i);
		cr_assert_eq(e.position, i);
		near(e.start_s, want[i][0], 1e-12, "start");
		near(e.end_s, want[i][1], 1e-12, "end");
	}
	rvmig_plan_free(p);
	/* Longest first, k = 2, a per-transfer cap of 0.5: A alone at 0.5,
	 * B then C then D beside it, each 2 s: A ends at 6, D at 6. */
	l.per_transfer_cap = 0.5;
	rvmig_planner_destroy(pl);
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	add(pl, RVMIG_XFER_SAVE, 11, 1, 0);
	add(pl, RVMIG_XFER_SAVE, 10, 3, 0);
	add(pl, RVMIG_XFER_SAVE, 12, 1, 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 2, RVMIG_ORDER_LONGEST, &p), 0);
	near(rvmig_plan_makespan(p), 6, 1e-12, "makespan capped");
	{
		struct rvmig_plan_entry e = { .size = sizeof(e) };

		cr_assert_eq(rvmig_plan_entry(p, 1, &e), 0);
		cr_assert_eq(e.position, 0);
		cr_assert_eq(rvmig_plan_entry(p, 2, &e), 0);
		near(e.start_s, 2, 1e-12, "third starts when the first short one ends");
	}
	cr_assert_eq(rvmig_plan_order(p), RVMIG_ORDER_LONGEST);
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
}

/* A mixed set: saves, restores and migrations of different sizes. */
static rvmig_planner *mixed(const struct rvmig_link *l, unsigned n)
{
	rvmig_planner *pl;

	cr_assert_eq(rvmig_planner_create(l, &pl), 0);
	for (unsigned i = 0; i < n; i++)
		add(pl, (enum rvmig_transfer_kind)(1 + i % 3), i, (0.25 + 0.5 * (i % 4)) * GiB,
		    (i % 3) == 0 ? 0.05 * GiB * (1 + i % 2) : 0);
	return pl;
}

Test(policy_planner, k1_is_the_sum)
{
	struct rvmig_link l = link_of(GiB);
	rvmig_planner *pl;
	rvmig_plan *p;
	double sum = 0;

	l.overhead_s = 0.3;
	pl = mixed(&l, 9);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	for (unsigned i = 0; i < 9; i++) {
		struct rvmig_plan_entry e = solo(&l, (enum rvmig_transfer_kind)(1 + i % 3),
						 (0.25 + 0.5 * (i % 4)) * GiB,
						 (i % 3) == 0 ? 0.05 * GiB * (1 + i % 2) : 0);

		sum += e.end_s;
	}
	near(rvmig_plan_makespan(p), sum, 1e-12, "k = 1");
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
}

Test(policy_planner, monotone)
{
	struct rvmig_link l = link_of(GiB);
	double prev = INFINITY;
	rvmig_planner *pl;
	rvmig_plan *p;

	/* Ten equal saves with an overhead: more concurrency overlaps the
	 * overheads and never lengthens the makespan; with k = n it is
	 * overhead + n M / B. */
	l.overhead_s = 0.5;
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	for (int i = 0; i < 10; i++)
		add(pl, RVMIG_XFER_SAVE, i, GiB, 0);
	for (unsigned k = 1; k <= 10; k++) {
		cr_assert_eq(rvmig_planner_simulate(pl, k, RVMIG_ORDER_GIVEN, &p), 0);
		cr_assert_leq(rvmig_plan_makespan(p), prev + 1e-9, "k %u", k);
		prev = rvmig_plan_makespan(p);
		rvmig_plan_free(p);
	}
	near(prev, 10.5, 1e-12, "k = 10");
	rvmig_planner_destroy(pl);
	/* More bandwidth never hurts; one more transfer never helps. */
	for (unsigned k = 1; k <= 4; k++) {
		double last = INFINITY;

		for (double bw = 0.25; bw <= 4; bw *= 2) {
			struct rvmig_link lb = link_of(bw * GiB);
			double m6, m7;

			pl = mixed(&lb, 6);
			cr_assert_eq(rvmig_planner_simulate(pl, k, RVMIG_ORDER_GIVEN, &p), 0);
			m6 = rvmig_plan_makespan(p);
			rvmig_plan_free(p);
			rvmig_planner_destroy(pl);
			pl = mixed(&lb, 7);
			cr_assert_eq(rvmig_planner_simulate(pl, k, RVMIG_ORDER_GIVEN, &p), 0);
			m7 = rvmig_plan_makespan(p);
			rvmig_plan_free(p);
			rvmig_planner_destroy(pl);
			cr_assert_leq(m6, last, "k %u bandwidth %g", k, bw);
			cr_assert_geq(m7, m6, "k %u bandwidth %g", k, bw);
			last = m6;
		}
	}
}

Test(policy_planner, choose_under_downtime_sla)
{
	/* Four busy guests (0.3 GiB/s dirtied) on a 1 GiB/s link with 5 s of
	 * overhead each: alone each converges (lambda 0.3), two at once too
	 * (0.6, and the overheads overlap), three or four do not (0.9 and 1.2:
	 * seconds of downtime). */
	struct rvmig_link l = link_of(GiB);
	rvmig_planner *pl;
	rvmig_plan *best, *p;

	l.overhead_s = 5;
	l.max_downtime_s = 0.5;
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	for (int i = 0; i < 4; i++)
		add(pl, RVMIG_XFER_MIGRATE, i, GiB, 0.3 * GiB);
	cr_assert_eq(rvmig_planner_simulate(pl, 4, RVMIG_ORDER_GIVEN, &p), 0);
	cr_assert_gt(rvmig_plan_max_downtime(p), 0.5);
	cr_assert_eq(rvmig_plan_meets_sla(p), 0);
	rvmig_plan_free(p);
	cr_assert_eq(rvmig_planner_choose(pl, &best), 0);
	cr_assert_eq(rvmig_plan_meets_sla(best), 1);
	cr_assert_leq(rvmig_plan_max_downtime(best), 0.5);
	cr_log_info("4 migrations, SLA 0.5 s: k %u, %s, makespan %.3f s, worst downtime %.3f s",
		    rvmig_plan_concurrency(best), rvmig_plan_order_name(rvmig_plan_order(best)),
		    rvmig_plan_makespan(best), rvmig_plan_max_downtime(best));
	/* No choice within the SLA is faster. */
	for (unsigned k = 1; k <= 4; k++)
		for (int o = RVMIG_ORDER_GIVEN; o <= RVMIG_ORDER_LONGEST; o++) {
			cr_assert_eq(rvmig_planner_simulate(pl, k, o, &p), 0);
			if (rvmig_plan_meets_sla(p))
				cr_assert_geq(rvmig_plan_makespan(p), rvmig_plan_makespan(best) - 1e-9);
			rvmig_plan_free(p);
		}
	cr_assert_eq(rvmig_plan_concurrency(best), 2);
	rvmig_plan_free(best);
	rvmig_planner_destroy(pl);
	/* An SLA nothing meets: the least worst downtime, said so. */
	l.max_downtime_s = 1e-9;
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	for (int i = 0; i < 4; i++)
		add(pl, RVMIG_XFER_MIGRATE, i, GiB, 0.3 * GiB);
	cr_assert_eq(rvmig_planner_choose(pl, &best), 0);
	cr_assert_eq(rvmig_plan_meets_sla(best), 0);
	cr_assert_eq(rvmig_plan_concurrency(best), 1);
	rvmig_plan_free(best);
	rvmig_planner_destroy(pl);
}

Test(policy_planner, choose_without_sla_is_the_fastest)
{
	struct rvmig_link l = link_of(GiB);
	rvmig_planner *pl;
	rvmig_plan *best, *p;

	l.overhead_s = 0.2;
	l.max_concurrent = 6;
	l.per_transfer_cap = 0.3 * GiB;
	pl = mixed(&l, 12);
	cr_assert_eq(rvmig_planner_choose(pl, &best), 0);
	cr_assert_leq(rvmig_plan_concurrency(best), 6);
	for (unsigned k = 1; k <= 6; k++)
		for (int o = RVMIG_ORDER_GIVEN; o <= RVMIG_ORDER_LONGEST; o++) {
			cr_assert_eq(rvmig_planner_simulate(pl, k, o, &p), 0);
			cr_assert_geq(rvmig_plan_makespan(p), rvmig_plan_makespan(best) - 1e-9);
			rvmig_plan_free(p);
		}
	rvmig_plan_free(best);
	rvmig_planner_destroy(pl);
}

Test(policy_planner, calibration_recovers)
{
	/* Runs made by the planner itself with a 1 GbE-like link (117.5 MB/s,
	 * 0.35 s per transfer): k = 1..10 checkpoints of 512 MiB at once. */
	struct rvmig_link truth = link_of(117.5e6), fit = link_of(1);
	unsigned k[10];
	double bytes[10], ms[10], err;

	truth.overhead_s = 0.35;
	for (unsigned i = 0; i < 10; i++) {
		rvmig_planner *pl;
		rvmig_plan *p;

		k[i] = i + 1;
		bytes[i] = 512 * 1048576.0;
		cr_assert_eq(rvmig_planner_create(&truth, &pl), 0);
		for (unsigned j = 0; j < k[i]; j++)
			add(pl, RVMIG_XFER_SAVE, j, bytes[i], 0);
		cr_assert_eq(rvmig_planner_simulate(pl, k[i], RVMIG_ORDER_GIVEN, &p), 0);
		ms[i] = rvmig_plan_makespan(p);
		rvmig_plan_free(p);
		rvmig_planner_destroy(pl);
	}
	cr_assert_eq(rvmig_link_calibrate(k, bytes, ms, 10, &fit, &err), 0);
	near(fit.bandwidth, 117.5e6, 1e-9, "bandwidth");
	near(fit.overhead_s, 0.35, 1e-9, "overhead");
	cr_assert_lt(err, 1e-9);
	/* +-3 % alternating noise: within 5 %, and the fit says how far off. */
	for (unsigned i = 0; i < 10; i++)
		ms[i] *= i % 2 ? 1.03 : 0.97;
	cr_assert_eq(rvmig_link_calibrate(k, bytes, ms, 10, &fit, &err), 0);
	near(fit.bandwidth, 117.5e6, 0.05, "bandwidth, noisy");
	cr_assert(err > 0.01 && err < 0.08, "largest error %g", err);
	/* A negative intercept is refitted through the origin, by least
	 * squares of the relative errors: u = 1/B minimises
	 * ((100u - 0.5) / 0.5)^2 + ((200u - 1.5) / 1.5)^2, u = 333.3 / 57777.8. */
	{
		unsigned k2[2] = { 1, 2 };
		double b2[2] = { 100, 100 }, m2[2] = { 0.5, 1.5 };

		cr_assert_eq(rvmig_link_calibrate(k2, b2, m2, 2, &fit, NULL), 0);
		cr_assert_eq(fit.overhead_s, 0);
		near(fit.bandwidth, (40000 + 40000 / 2.25) / (200 + 200 / 1.5), 1e-12,
		     "through the origin");
	}
}

Test(policy_planner, refusals)
{
	struct rvmig_link l = link_of(GiB), bad = link_of(0);
	struct rvmig_transfer t = { .size = sizeof(t), .kind = RVMIG_XFER_MIGRATE, .mem_bytes = GiB };
	struct rvmig_plan_entry e = { .size = sizeof(e) };
	unsigned k[2] = { 1, 1 };
	double b[2] = { 1, 1 }, m[2] = { 1, 2 };
	rvmig_planner *pl;
	rvmig_plan *p;

	cr_assert_eq(rvmig_planner_create(&bad, &pl), -EINVAL);
	bad = link_of(NAN);
	cr_assert_eq(rvmig_planner_create(&bad, &pl), -EINVAL);
	bad = link_of(1);
	bad.max_concurrent = 100000;
	cr_assert_eq(rvmig_planner_create(&bad, &pl), -EINVAL);
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), -EINVAL);
	cr_assert_eq(rvmig_planner_choose(pl, &p), -EINVAL);
	t.dirty_rate = -1;
	cr_assert_eq(rvmig_planner_add(pl, &t), -EINVAL);
	t.dirty_rate = 0;
	t.mem_bytes = 0;
	cr_assert_eq(rvmig_planner_add(pl, &t), -EINVAL);
	t.mem_bytes = GiB;
	t.kind = 9;
	cr_assert_eq(rvmig_planner_add(pl, &t), -EINVAL);
	t.kind = RVMIG_XFER_SAVE;
	cr_assert_eq(rvmig_planner_add(pl, &t), 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 0, RVMIG_ORDER_GIVEN, &p), -EINVAL);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, 7, &p), -EINVAL);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	cr_assert_eq(rvmig_plan_count(p), 1);
	cr_assert_eq(rvmig_plan_entry(p, 1, &e), -ERANGE);
	e.size = 4;
	cr_assert_eq(rvmig_plan_entry(p, 0, &e), -EINVAL);
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	/* Calibration: one distinct k * bytes, bad values, too few runs. */
	cr_assert_eq(rvmig_link_calibrate(k, b, m, 2, &l, NULL), -EDOM);
	m[0] = 0;
	cr_assert_eq(rvmig_link_calibrate(k, b, m, 2, &l, NULL), -EINVAL);
	cr_assert_eq(rvmig_link_calibrate(k, b, m, 1, &l, NULL), -EINVAL);
	/* Falling makespan with more data: no positive bandwidth. */
	k[1] = 2;
	m[0] = 2;
	m[1] = 1;
	cr_assert_eq(rvmig_link_calibrate(k, b, m, 2, &l, NULL), -EDOM);
	cr_assert_str_eq(rvmig_plan_order_name(RVMIG_ORDER_SHORTEST), "shortest-first");
}
