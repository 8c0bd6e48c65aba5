/* SPDX-License-Identifier: MIT */
/*
 * xferfit.c - the fixed cost of a kind of transfer (the toolstack's work
 * around the bytes: the receiving domain built, devices set up, suspend
 * and resume) fitted to measured runs (rvmig_xfer_fit(3)).
 *
 * Each run alone on the link, as the planner predicts it (k = 1, the
 * link's own overheads included), is what the link accounts for; what
 * remains is the fixed cost.  One unknown, so least squares on relative
 * errors is a weighted mean: minimising sum ((a_i + o - y_i) / y_i)^2
 * gives o = sum w_i (y_i - a_i) / sum w_i with w_i = 1 / y_i^2.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"

#define FIT_MAX_RUNS 65536

/* The planner's prediction of transfer t alone on the link. */
static int solo(const struct rvmig_link *link, const struct rvmig_transfer *t,
		struct rvmig_plan_entry *e)
{
	rvmig_planner *pl;
	rvmig_plan *p = NULL;
	int rc;

	if ((rc = rvmig_planner_create(link, &pl)) < 0)
		return rc;
	if ((rc = rvmig_planner_add(pl, t)) >= 0)
		rc = rvmig_planner_simulate(pl, 1, RVMIG_ORDER_GIVEN, &p);
	if (rc >= 0) {
		e->size = sizeof(*e);
		rc = rvmig_plan_entry(p, 0, e);
	}
	rvmig_plan_free(p);
	rvmig_planner_destroy(pl);
	return rc;
}

/* Weighted sums of one fit: sum w, sum w (y - a). */
struct acc {
	double w, wr;
};

static void acc_add(struct acc *a, double y, double pred)
{
	double w = 1 / (y * y);

	a->w += w;
	a->wr += w * (y - pred);
}

static double acc_fit(const struct acc *a)
{
	return a->w > 0 ? fmax(0, a->wr / a->w) : 0;
}

static int run_ok(const struct rvmig_xfer_run *r)
{
	return r->kind >= RVMIG_XFER_MIGRATE && r->kind <= RVMIG_XFER_RESTORE &&
	       pol_num_ok(r->mem_bytes, 0, 1) && pol_num_ok(r->dirty_rate, 0, 0) &&
	       pol_num_ok(r->measured_s, 0, 1) && isfinite(r->downtime_s);
}

RVMIG_API int rvmig_xfer_fit(const struct rvmig_link *link, enum rvmig_transfer_kind kind,
			     const struct rvmig_xfer_run *runs, size_t n,
			     struct rvmig_xfer_model *out)
{
	struct rvmig_xfer_model m = { .size = sizeof(m) };
	struct rvmig_plan_entry *e;
	struct rvmig_xfer_run *r;
	struct acc t = { 0 }, d = { 0 };
	rvmig_planner *check;
	int rc = 0;

	if (!link || !out || (n && !runs) || kind < RVMIG_XFER_MIGRATE || kind > RVMIG_XFER_RESTORE)
		return -EINVAL;
	if (n > FIT_MAX_RUNS)
		return -E2BIG;
	if ((rc = rvmig_planner_create(link, &check)) < 0) /* the link checked */
		return rc;
	rvmig_planner_destroy(check);
	r = malloc((n ? n : 1) * sizeof(*r));
	e = malloc((n ? n : 1) * sizeof(*e));
	if (!r || !e) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct rvmig_transfer x = { .size = sizeof(x) };

		if ((rc = pol_in(&r[i], sizeof(r[i]), &runs[i])) < 0 || !run_ok(&r[i])) {
			rc = -EINVAL;
			goto out;
		}
		if (r[i].kind != kind)
			continue;
		x.kind = kind;
		x.mem_bytes = r[i].mem_bytes;
		x.dirty_rate = r[i].dirty_rate;
		if ((rc = solo(link, &x, &e[i])) < 0)
			goto out;
		acc_add(&t, r[i].measured_s, e[i].end_s);
		m.transfer_s += e[i].end_s;
		m.runs++;
		if (kind == RVMIG_XFER_MIGRATE && r[i].downtime_s > 0) {
			acc_add(&d, r[i].downtime_s, e[i].downtime_s);
			m.downtime_runs++;
		}
	}
	if (m.runs) {
		m.transfer_s /= m.runs;
		m.overhead_s = acc_fit(&t);
		m.stop_overhead_s = acc_fit(&d);
	}
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind != kind)
			continue;
		m.rel_err = fmax(m.rel_err, fabs(e[i].end_s + m.overhead_s - r[i].measured_s) /
						    r[i].measured_s);
		if (kind == RVMIG_XFER_MIGRATE && r[i].downtime_s > 0)
			m.downtime_rel_err =
				fmax(m.downtime_rel_err,
				     fabs(e[i].downtime_s + m.stop_overhead_s - r[i].downtime_s) /
					     r[i].downtime_s);
	}
	rc = pol_out(out, &m, sizeof(m), sizeof(size_t));
	if (rc == 0)
		rc = (int)m.runs;
out:
	free(r);
	free(e);
	return rc;
}
