/* SPDX-License-Identifier: MIT */
/*
 * A transfer's own fixed cost in the planner (rvmig_transfer.overhead_s,
 * stop_overhead_s, RVMIG_0.14) and its fit to measured runs
 * (rvmig_xfer_fit(), librvmig/policy/xferfit.c): hand-computed plans, the
 * fit recovering known costs, noisy runs, other kinds skipped, a caller's
 * older structs, refusals.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define MB 1e6

static void near(double got, double want, double tol, const char *what)
{
	cr_assert(fabs(got - want) <= tol, "%s: %.12g, want %.12g", what, got, want);
}

static struct rvmig_link link_of(double bw)
{
	return (struct rvmig_link){ .size = sizeof(struct rvmig_link), .bandwidth = bw };
}

static struct rvmig_transfer xfer(enum rvmig_transfer_kind kind, uint64_t id, double mem,
				  double dirty, double over, double stop)
{
	return (struct rvmig_transfer){ .size = sizeof(struct rvmig_transfer), .kind = kind,
					.id = id, .mem_bytes = mem, .dirty_rate = dirty,
					.overhead_s = over, .stop_overhead_s = stop };
}

static struct rvmig_plan_entry entry(const rvmig_plan *p, size_t i)
{
	struct rvmig_plan_entry e = { .size = sizeof(e) };

	cr_assert_eq(rvmig_plan_entry(p, i, &e), 0);
	return e;
}

Test(policy_xferfit, transfer_overhead_in_the_queue)
{
	/* B = 1 MB/s, link overhead 1 s.  Migration A: 10 MB idle, its own
	 * 30 s overhead and 5 s stop overhead; save B: 4 MB, none of its own.
	 * k = 2: B sends alone from 1 s to 5 s; A sends from 31 s to 41 s,
	 * then its empty stop-and-copy: downtime 0 + 5 s.  k = 1 (A first):
	 * A ends at 41, B starts then, ends at 41 + 1 + 4 = 46. */
	struct rvmig_link l = link_of(MB);
	struct rvmig_transfer a = xfer(RVMIG_XFER_MIGRATE, 1, 10 * MB, 0, 30, 5);
	struct rvmig_transfer b = xfer(RVMIG_XFER_SAVE, 2, 4 * MB, 0, 0, 0);
	rvmig_planner *pl;
	rvmig_plan *p;

	l.overhead_s = 1;
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	cr_assert_eq(rvmig_planner_add(pl, &a), 0);
	cr_assert_eq(rvmig_planner_add(pl, &b), 1);
	cr_assert_eq(rvmig_planner_simulate(pl, 2, RVMIG_ORDER_GIVEN, &p), 0);
	near(entry(p, 0).end_s, 41, 1e-9, "A's end at k=2");
	near(entry(p, 0).downtime_s, 5, 1e-9, "A's downtime: its stop overhead");
	near(entry(p, 1).end_s, 5, 1e-9, "B's end at k=2");
	near(rvmig_plan_makespan(p), 41, 1e-9, "makespan k=2");
	rvmig_plan_free(p);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	near(entry(p, 1).start_s, 41, 1e-9, "B starts when A's slot frees");
	near(rvmig_plan_makespan(p), 46, 1e-9, "makespan k=1");
	rvmig_plan_free(p);
	/* shortest first: the save (5 s alone) before the migration (41 s) */
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_SHORTEST, &p), 0);
	cr_assert_eq(entry(p, 1).position, 0);
	near(rvmig_plan_makespan(p), 46, 1e-9, "makespan shortest first");
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
}

Test(policy_xferfit, older_transfer_struct_has_no_overhead)
{
	/* A caller built before RVMIG_0.14: its struct ends at dirty_rate;
	 * whatever lies beyond (here 1e9) is not read. */
	struct {
		struct rvmig_transfer t;
	} buf;
	struct rvmig_link l = link_of(MB);
	rvmig_planner *pl;
	rvmig_plan *p;

	buf.t = xfer(RVMIG_XFER_SAVE, 1, 2 * MB, 0, 1e9, 1e9);
	buf.t.size = offsetof(struct rvmig_transfer, overhead_s);
	cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
	cr_assert_eq(rvmig_planner_add(pl, &buf.t), 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	near(rvmig_plan_makespan(p), 2, 1e-9, "2 MB at 1 MB/s, no overhead");
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
}

/* A run as the planner would predict it with the given fixed costs. */
static struct rvmig_xfer_run run_of(const struct rvmig_link *l, enum rvmig_transfer_kind kind,
				    double mem, double dirty, double over, double stop)
{
	struct rvmig_transfer t = xfer(kind, 0, mem, dirty, over, stop);
	struct rvmig_xfer_run r = { .size = sizeof(r), .kind = kind, .mem_bytes = mem,
				    .dirty_rate = dirty };
	rvmig_planner *pl;
	rvmig_plan *p;
	struct rvmig_plan_entry e;

	cr_assert_eq(rvmig_planner_create(l, &pl), 0);
	cr_assert_eq(rvmig_planner_add(pl, &t), 0);
	cr_assert_eq(rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p), 0);
	e = entry(p, 0);
	r.measured_s = e.end_s;
	r.downtime_s = kind == RVMIG_XFER_MIGRATE ? e.downtime_s : 0;
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	return r;
}

Test(policy_xferfit, recovers_known_costs)
{
	/* Runs made by the model itself with overhead 160 s and stop overhead
	 * 38 s (the Xen VM's migration) on a 38 MB/s link with 0.3 s of its
	 * own overhead and a dirtying guest: both come back, error 0. */
	struct rvmig_link l = link_of(38 * MB);
	struct rvmig_xfer_run r[4];
	struct rvmig_xfer_model m = { .size = sizeof(m) };

	l.overhead_s = 0.3;
	l.stop_overhead_s = 0.01;
	r[0] = run_of(&l, RVMIG_XFER_MIGRATE, 101 * MB, 2 * MB, 160, 38);
	r[1] = run_of(&l, RVMIG_XFER_MIGRATE, 300 * MB, 0, 160, 38);
	r[2] = run_of(&l, RVMIG_XFER_SAVE, 101 * MB, 0, 20, 0);  /* another kind */
	r[3] = run_of(&l, RVMIG_XFER_MIGRATE, 50 * MB, 10 * MB, 160, 38);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_MIGRATE, r, 4, &m), 3);
	cr_assert_eq(m.runs, 3);
	cr_assert_eq(m.downtime_runs, 3);
	near(m.overhead_s, 160, 1e-6, "overhead");
	near(m.stop_overhead_s, 38, 1e-6, "stop overhead");
	cr_assert_lt(m.rel_err, 1e-9);
	cr_assert_lt(m.downtime_rel_err, 1e-9);
	cr_assert_gt(m.transfer_s, 0.3);
	cr_assert_lt(m.transfer_s, 10);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, r, 4, &m), 1);
	near(m.overhead_s, 20, 1e-6, "save overhead");
	cr_assert_eq(m.downtime_runs, 0);
	near(m.stop_overhead_s, 0, 0, "no downtime fitted for a save");
	/* none of the kind: 0 runs, all 0 */
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_RESTORE, r, 4, &m), 0);
	cr_assert_eq(m.runs, 0);
	near(m.overhead_s, 0, 0, "restore overhead");
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_RESTORE, NULL, 0, &m), 0);
}

Test(policy_xferfit, noisy_runs_weighted_relative)
{
	/* Measured 165.2 and 179.4 s on a link that accounts for ~3 s: the
	 * fit minimises relative error, so it lies nearer the shorter run
	 * than the plain mean would, and both are within 5 %. */
	struct rvmig_link l = link_of(38 * MB);
	struct rvmig_xfer_run r[2] = {
		{ .size = sizeof(r[0]), .kind = RVMIG_XFER_MIGRATE, .mem_bytes = 101 * MB,
		  .measured_s = 165.2, .downtime_s = 38.0 },
		{ .size = sizeof(r[0]), .kind = RVMIG_XFER_MIGRATE, .mem_bytes = 101 * MB,
		  .measured_s = 179.4, .downtime_s = -1 },
	};
	struct rvmig_xfer_model m = { .size = sizeof(m) };
	double a = 101.0 / 38, want = (165.2 - a) / (165.2 * 165.2) + (179.4 - a) / (179.4 * 179.4);

	want /= 1 / (165.2 * 165.2) + 1 / (179.4 * 179.4);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_MIGRATE, r, 2, &m), 2);
	near(m.transfer_s, a, 1e-9, "what the link accounts for");
	near(m.overhead_s, want, 1e-9, "weighted overhead");
	cr_assert_lt(m.overhead_s, (165.2 + 179.4) / 2 - a);
	cr_assert_lt(m.rel_err, 0.05);
	cr_assert_eq(m.downtime_runs, 1, "a downtime <= 0 is not measured");
	near(m.stop_overhead_s, 38.0 - 0, 1e-9, "idle guest: the downtime is all stop overhead");
	/* a link faster than measured: never a negative overhead */
	r[0].measured_s = r[1].measured_s = 1;
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_MIGRATE, r, 2, &m), 2);
	near(m.overhead_s, 0, 0, "clamped at 0");
	near(m.rel_err, a - 1, 1e-9, "and the error says so");
}

Test(policy_xferfit, refusals)
{
	struct rvmig_link l = link_of(MB), bad = link_of(0);
	struct rvmig_xfer_run r = { .size = sizeof(r), .kind = RVMIG_XFER_SAVE, .mem_bytes = MB,
				    .measured_s = 3 };
	struct rvmig_xfer_model m = { .size = sizeof(m) }, small = { .size = 2 };

	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), 1);
	near(m.overhead_s, 2, 1e-9, "3 s measured, 1 s of bytes");
	cr_assert_eq(rvmig_xfer_fit(&bad, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	cr_assert_eq(rvmig_xfer_fit(&l, 0, &r, 1, &m), -EINVAL);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, NULL, 1, &m), -EINVAL);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, NULL), -EINVAL);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &small), -EINVAL);
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 65537, &m), -E2BIG);
	r.measured_s = 0;
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	r.measured_s = NAN;
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	r.measured_s = 3;
	r.mem_bytes = -1;
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	r.mem_bytes = MB;
	r.kind = 7; /* a run of unknown kind is refused, not skipped */
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	r.kind = RVMIG_XFER_SAVE;
	r.downtime_s = INFINITY;
	cr_assert_eq(rvmig_xfer_fit(&l, RVMIG_XFER_SAVE, &r, 1, &m), -EINVAL);
	/* a transfer with a negative or infinite overhead */
	{
		struct rvmig_transfer t = xfer(RVMIG_XFER_SAVE, 1, MB, 0, -1, 0);
		rvmig_planner *pl;

		cr_assert_eq(rvmig_planner_create(&l, &pl), 0);
		cr_assert_eq(rvmig_planner_add(pl, &t), -EINVAL);
		t.overhead_s = 0;
		t.stop_overhead_s = INFINITY;
		cr_assert_eq(rvmig_planner_add(pl, &t), -EINVAL);
		rvmig_planner_destroy(pl);
	}
}
