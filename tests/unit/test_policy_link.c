/* SPDX-License-Identifier: MIT */
/*
 * The planner's link model since RVMIG_0.13 (librvmig/policy/planner.c,
 * calibrate.c): the contention term in the queue by hand, the choice of k
 * it changes (against the downtime SLA and the concurrency cap),
 * rvmig_link_fit() recovering every term from runs the planner made, the
 * rules that keep it from fitting what the runs cannot show, callers
 * built against the older, smaller struct, and refusals.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define GiB 1073741824.0

static void near(double got, double want, double rel, const char *what)
{
	cr_assert(fabs(got - want) <= rel * fabs(want) + 1e-12, "%s: %.12g, want %.12g", what, got,
		  want);
}

static struct rvmig_link link_of(double bw, double c)
{
	return (struct rvmig_link){ .size = sizeof(struct rvmig_link), .bandwidth = bw,
				    .contention = c };
}

static rvmig_planner *saves(const struct rvmig_link *l, unsigned n, double bytes, double dirty)
{
	rvmig_planner *pl;

	cr_assert_eq(rvmig_planner_create(l, &pl), 0);
	for (unsigned i = 0; i < n; i++) {
		struct rvmig_transfer t = { .size = sizeof(t), .id = i, .mem_bytes = bytes,
					    .dirty_rate = dirty,
					    .kind = dirty > 0 ? RVMIG_XFER_MIGRATE : RVMIG_XFER_SAVE };

		cr_assert_geq(rvmig_planner_add(pl, &t), 0);
	}
	return pl;
}

static double makespan(const struct rvmig_link *l, unsigned n, double bytes, unsigned k)
{
	rvmig_planner *pl = saves(l, n, bytes, 0);
	rvmig_plan *p;
	double m;

	cr_assert_eq(rvmig_planner_simulate(pl, k, RVMIG_ORDER_GIVEN, &p), 0);
	m = rvmig_plan_makespan(p);
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	return m;
}

Test(policy_link, contention_by_hand)
{
	/* B = 100 B/s, c = 0.5: two sending share 100 / 1.5, three 100 / 2. */
	struct rvmig_link l = link_of(100, 0.5);

	near(makespan(&l, 2, 100, 1), 2, 1e-12, "two alone, one after the other");
	near(makespan(&l, 2, 100, 2), 3, 1e-12, "two at once: 33.3 B/s each");
	near(makespan(&l, 3, 100, 3), 6, 1e-12, "three at once: 16.7 B/s each");
	/* Streamed: 100 and 300 bytes at once, 3 s for the first 100 each;
	 * then the second alone at 100 B/s: 200 more bytes, 2 s. */
	{
		rvmig_planner *pl;
		rvmig_plan *p;
		struct rvmig_transfer t = { .size = sizeof(t), .kind = RVMIG_XFER_SAVE };

		cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
		t.mem_bytes = 100;
		cr_assert_eq(rvmig_planner_add(pl, &t), 0);
		t.mem_bytes = 300;
		cr_assert_eq(rvmig_planner_add(pl, &t), 1);
		cr_assert_eq(rvmig_planner_simulate(pl, 2, RVMIG_ORDER_GIVEN, &p), 0);
		near(rvmig_plan_makespan(p), 5, 1e-12, "streamed with contention");
		rvmig_plan_free(p);
		rvmig_planner_destroy(pl);
	}
	/* The per-transfer cap still bounds each share. */
	l.per_transfer_cap = 10;
	near(makespan(&l, 2, 100, 2), 10, 1e-12, "capped at 10 B/s");
}

/* The k rvmig_planner_choose() takes for pl, checked against every k and
 * order it could have taken. */
static unsigned chosen(const rvmig_planner *pl, unsigned kmax)
{
	rvmig_plan *best, *p;
	unsigned k;

	cr_assert_eq(rvmig_planner_choose(pl, &best), 0);
	for (unsigned j = 1; j <= kmax; j++)
		for (int o = RVMIG_ORDER_GIVEN; o <= RVMIG_ORDER_LONGEST; o++) {
			cr_assert_eq(rvmig_planner_simulate(pl, j, o, &p), 0);
			if (rvmig_plan_meets_sla(p) || !rvmig_plan_meets_sla(best))
				cr_assert_geq(rvmig_plan_makespan(p), rvmig_plan_makespan(best) - 1e-9,
					      "k %u order %d beats the choice", j, o);
			rvmig_plan_free(p);
		}
	k = rvmig_plan_concurrency(best);
	rvmig_plan_free(best);
	return k;
}

Test(policy_link, contention_moves_the_choice_of_k)
{
	/* Six saves of 100 bytes, 4 s of overhead each, B = 100 B/s.  Without
	 * contention all six at once is fastest (4 + 6 = 10 s); with c = 0.5,
	 * k = 1, 2, 3, 6 take 30, 21, 20, 25 s: three at a time. */
	struct rvmig_link l = link_of(100, 0);
	rvmig_planner *pl;

	l.overhead_s = 4;
	pl = saves(&l, 6, 100, 0);
	cr_assert_eq(chosen(pl, 6), 6);
	rvmig_planner_destroy(pl);
	l.contention = 0.5;
	near(makespan(&l, 6, 100, 2), 21, 1e-12, "k 2");
	near(makespan(&l, 6, 100, 3), 20, 1e-12, "k 3");
	near(makespan(&l, 6, 100, 6), 25, 1e-12, "k 6");
	pl = saves(&l, 6, 100, 0);
	cr_assert_eq(chosen(pl, 6), 3);
	rvmig_planner_destroy(pl);
	/* The concurrency cap: at most 2, so 2. */
	l.max_concurrent = 2;
	pl = saves(&l, 6, 100, 0);
	cr_assert_eq(chosen(pl, 2), 2);
	rvmig_planner_destroy(pl);
}

Test(policy_link, contention_and_the_downtime_sla)
{
	/* Four guests dirtying 0.3 GiB/s on a 1 GiB/s link, 5 s of overhead,
	 * downtime SLA 0.5 s.  Without contention two at once converge
	 * (lambda 0.6) and overlap their overheads: k = 2.  With c = 0.5 two
	 * at once get 1/3 GiB/s each (lambda 0.9): seconds of downtime, so
	 * one at a time. */
	struct rvmig_link l = link_of(GiB, 0);
	rvmig_planner *pl;

	l.overhead_s = 5;
	l.max_downtime_s = 0.5;
	pl = saves(&l, 4, GiB, 0.3 * GiB);
	cr_assert_eq(chosen(pl, 4), 2);
	rvmig_planner_destroy(pl);
	l.contention = 0.5;
	pl = saves(&l, 4, GiB, 0.3 * GiB);
	cr_assert_eq(chosen(pl, 4), 1);
	rvmig_planner_destroy(pl);
}

/* Runs made by the planner: k = 1..nk transfers of `bytes` at once,
 * `rounds` times each, the r-th round scaled by scale[r]. */
static size_t make_runs(const struct rvmig_link *truth, unsigned nk, double bytes,
			const double *scale, unsigned rounds, unsigned *k, double *b, double *m)
{
	size_t n = 0;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 1; i <= nk; i++) {
			k[n] = i;
			b[n] = bytes;
			m[n++] = makespan(truth, i, bytes, i) * scale[r];
		}
	return n;
}

Test(policy_link, fit_recovers_every_term)
{
	/* 100 MB/s, 0.3 s per transfer, c = 0.1 and one transfer at most 30
	 * MB/s: k = 1 and 2 at the cap (45 MB/s would be their share at 2),
	 * k >= 3 on the link (27.8 MB/s at 3). */
	struct rvmig_link truth = link_of(100e6, 0.1), fit = link_of(1, 0);
	unsigned k[30];
	double b[30], m[30], err, one = 1, noise[3] = { 1.04, 0.97, 1.0 };
	size_t n;

	truth.overhead_s = 0.3;
	truth.per_transfer_cap = 30e6;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_ALL, &fit, &err), 0);
	near(fit.bandwidth, 100e6, 1e-6, "bandwidth");
	near(fit.overhead_s, 0.3, 1e-6, "overhead");
	near(fit.contention, 0.1, 1e-6, "contention");
	near(fit.per_transfer_cap, 30e6, 1e-6, "cap");
	cr_assert_lt(err, 1e-6);
	/* Three rounds 4 % apart: the terms within 10 %, every run within 5 %. */
	n = make_runs(&truth, 10, 16e6, noise, 3, k, b, m);
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_ALL, &fit, &err), 0);
	near(fit.bandwidth, 100e6, 0.1, "bandwidth, rounds");
	near(fit.contention, 0.1, 0.1, "contention, rounds");
	near(fit.per_transfer_cap, 30e6, 0.1, "cap, rounds");
	cr_assert_lt(err, 0.05);
	/* Only the overhead asked for: contention and cap stay as they
	 * were, and the straight line misses the curve. */
	fit = link_of(1, 0.7);
	fit.per_transfer_cap = 5;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_OVERHEAD, &fit, &err), 0);
	cr_assert_eq(fit.contention, 0.7);
	cr_assert_eq(fit.per_transfer_cap, 5);
	cr_assert_gt(err, 0.05);
	/* rvmig_link_calibrate(): overhead and contention, the cap untouched. */
	truth.per_transfer_cap = 0;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	cr_assert_eq(rvmig_link_calibrate(k, b, m, n, &fit, &err), 0);
	near(fit.bandwidth, 100e6, 1e-6, "calibrate: bandwidth");
	near(fit.contention, 0.1, 1e-6, "calibrate: contention");
	cr_assert_eq(fit.per_transfer_cap, 5);
}

Test(policy_link, fit_only_what_the_runs_show)
{
	/* A cap that only k = 1 reaches is one point, indistinguishable from a
	 * larger overhead: no cap is fitted; the runs are still met within 10 %. */
	struct rvmig_link truth = link_of(100e6, 0.1), fit = link_of(1, 0);
	unsigned k[10];
	double b[10], m[10], err, one = 1;
	size_t n;

	truth.overhead_s = 0.3;
	truth.per_transfer_cap = 60e6;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_ALL, &fit, &err), 0);
	cr_assert_eq(fit.per_transfer_cap, 0);
	cr_log_info("cap at k = 1 only: fitted without, largest error %.1f %%", 100 * err);
	cr_assert_lt(err, 0.1);
	/* Two distinct k cannot show a curve: no contention. */
	n = make_runs(&truth, 2, 16e6, &one, 1, k, b, m);
	fit = link_of(1, 0.5);
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_ALL, &fit, NULL), 0);
	cr_assert_eq(fit.contention, 0);
	cr_assert_eq(fit.per_transfer_cap, 0);
}

Test(policy_link, cap_shown_by_single_transfers_of_two_sizes)
{
	/* The same cap only k = 1 reaches, but with single transfers of two
	 * more sizes beside the k = 1..10 runs: the line o + b / cap is seen
	 * by the single transfers alone, so the cap is fitted, and the k = 1
	 * run of the batches' size is met, which the overhead alone cannot. */
	struct rvmig_link truth = link_of(100e6, 0.1), fit = link_of(1, 0);
	unsigned k[12];
	double b[12], m[12], err, one = 1, single;
	size_t n;

	truth.overhead_s = 0.3;
	truth.per_transfer_cap = 60e6;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	for (int i = 0; i < 2; i++, n++) {
		k[n] = 1;
		b[n] = i ? 48e6 : 8e6;
		m[n] = makespan(&truth, 1, b[n], 1);
	}
	cr_assert_eq(rvmig_link_fit(k, b, m, n, RVMIG_LINK_ALL, &fit, &err), 0);
	near(fit.per_transfer_cap, 60e6, 1e-6, "cap");
	near(fit.bandwidth, 100e6, 1e-6, "bandwidth");
	near(fit.overhead_s, 0.3, 1e-6, "overhead");
	cr_assert_lt(err, 1e-6);
	/* Without the k = 1 run of the batches' size (predicted, not fitted). */
	memmove(k, k + 1, (n - 1) * sizeof(*k));
	memmove(b, b + 1, (n - 1) * sizeof(*b));
	memmove(m, m + 1, (n - 1) * sizeof(*m));
	cr_assert_eq(rvmig_link_fit(k, b, m, n - 1, RVMIG_LINK_ALL, &fit, NULL), 0);
	single = makespan(&fit, 1, 16e6, 1);
	near(single, makespan(&truth, 1, 16e6, 1), 1e-6, "k = 1 of 16 MB, predicted");
	/* One size only at k = 1 (the two extra runs of the same size): no cap. */
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	k[n] = k[n + 1] = 1;
	b[n] = b[n + 1] = 16e6;
	m[n] = m[n + 1] = m[0];
	fit = link_of(1, 0);
	cr_assert_eq(rvmig_link_fit(k, b, m, n + 2, RVMIG_LINK_ALL, &fit, NULL), 0);
	cr_assert_eq(fit.per_transfer_cap, 0);
}

Test(policy_link, older_struct)
{
	/* A caller built before RVMIG_0.13: its struct ends before
	 * contention.  The planner takes 0; calibration fits the straight
	 * line and writes nothing past the caller's size. */
	union {
		struct rvmig_link l;
		unsigned char raw[sizeof(struct rvmig_link)];
	} u;
	struct rvmig_link truth = link_of(100e6, 0.1);
	unsigned k[10];
	double b[10], m[10], one = 1;
	size_t n, old = offsetof(struct rvmig_link, contention);
	rvmig_planner *pl;

	memset(&u, 0xa5, sizeof(u));
	u.l.size = old;
	u.l.bandwidth = 100;
	u.l.per_transfer_cap = 0;
	u.l.overhead_s = 0;
	u.l.stop_overhead_s = 0;
	u.l.max_iterations = u.l.dirty_threshold = u.l.page_size = u.l.max_concurrent = 0;
	u.l.max_downtime_s = 0;
	cr_assert_eq(rvmig_planner_create(&u.l, &pl), 0);
	rvmig_planner_destroy(pl);
	near(makespan(&(struct rvmig_link){ .size = old, .bandwidth = 100 }, 2, 100, 2), 2, 1e-12,
	     "no contention");
	truth.overhead_s = 0.3;
	n = make_runs(&truth, 10, 16e6, &one, 1, k, b, m);
	cr_assert_eq(rvmig_link_calibrate(k, b, m, n, &u.l, NULL), 0);
	for (size_t i = old; i < sizeof(u.raw); i++)
		cr_assert_eq(u.raw[i], 0xa5, "byte %zu past the caller's size written", i);
}

Test(policy_link, refusals)
{
	static unsigned k[65537];
	static double b[65537], m[65537];
	struct rvmig_link l = link_of(1, 0);
	rvmig_planner *pl;

	for (size_t i = 0; i < 65537; i++) {
		k[i] = 1 + i % 3;
		b[i] = 1;
		m[i] = k[i];
	}
	cr_assert_eq(rvmig_link_fit(k, b, m, 3, 8, &l, NULL), -EINVAL);
	cr_assert_eq(rvmig_link_fit(k, b, m, 65537, RVMIG_LINK_ALL, &l, NULL), -E2BIG);
	cr_assert_eq(rvmig_link_fit(k, b, m, 65536, RVMIG_LINK_ALL, &l, NULL), 0);
	near(l.bandwidth, 1, 1e-9, "65536 runs");
	l.size = 4;
	cr_assert_eq(rvmig_link_fit(k, b, m, 3, RVMIG_LINK_ALL, &l, NULL), -EINVAL);
	l = link_of(1, -0.1);
	cr_assert_eq(rvmig_planner_create(&l, &pl), -EINVAL);
	l = link_of(1, 101);
	cr_assert_eq(rvmig_planner_create(&l, &pl), -EINVAL);
	l = link_of(1, NAN);
	cr_assert_eq(rvmig_planner_create(&l, &pl), -EINVAL);
}
