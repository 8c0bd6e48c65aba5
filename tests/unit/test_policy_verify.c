/* SPDX-License-Identifier: MIT */
/*
 * rvmig_verify() (librvmig/policy/verify.c): keep or undo an applied action
 * from the observations after it.  Response-time SLA of 20 ms p99 (alpha
 * 0.2 per ms by default) and a CPU-share floor of 0.5 CPU.
 */
#include <errno.h>
#include <math.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

static struct rvmig_verify_attr resp(double before, double predicted)
{
	struct rvmig_verify_attr a = { .size = sizeof(a), .before = before, .predicted = predicted };

	a.sla.kind = RVMIG_SLA_RESPONSE;
	a.sla.target = 20;
	return a;
}

static enum rvmig_verdict judge(const struct rvmig_verify_attr *a, const double *v, size_t n)
{
	struct rvmig_verify_result r = { .size = sizeof(r) };
	int rc = rvmig_verify(a, v, n, &r);

	cr_assert_eq(rc, 0, "rvmig_verify: %d", rc);
	return r.verdict;
}

/* A raise (p99 80 ms -> predicted 5 ms). */
Test(policy_verify, raise_that_helps_is_kept)
{
	struct rvmig_verify_attr a = resp(80, 5);
	struct rvmig_verify_result r = { .size = sizeof(r) };
	const double after[] = { 6, 4.5, 400, 5 }; /* one stalled burst */

	cr_assert_eq(judge(&a, after, 2), RVMIG_VERDICT_PENDING, "3 samples by default");
	cr_assert_eq(rvmig_verify(&a, after, 4, &r), 0);
	cr_assert_eq(r.verdict, RVMIG_VERDICT_KEEP);
	cr_assert_float_eq(r.observed, 5.5, 1e-9, "median of 4: %g", r.observed);
	cr_assert_float_eq(r.reference, 80, 1e-9);
	cr_assert(r.utility_after > 0.9 && r.utility_before < 0.01);
	cr_assert(!r.metric_worse && !r.utility_fell);
}

/* Helped less than predicted, but not worse than before: kept (the next
 * decision raises again). */
Test(policy_verify, raise_that_helps_less_is_kept)
{
	struct rvmig_verify_attr a = resp(80, 5);
	const double after[] = { 60, 70, 75 };

	cr_assert_eq(judge(&a, after, 3), RVMIG_VERDICT_KEEP);
}

/* The opposite of predicted: worse than before beyond the 10 % noise. */
Test(policy_verify, raise_that_hurts_is_undone)
{
	struct rvmig_verify_attr a = resp(22, 10);
	struct rvmig_verify_result r = { .size = sizeof(r) };
	const double noisy[] = { 24, 23.5, 24.5 }; /* within 10 % of 22 */
	const double worse[] = { 40, 45, 50 };

	cr_assert_eq(rvmig_verify(&a, noisy, 3, &r), 0);
	cr_assert_eq(r.verdict, RVMIG_VERDICT_UNDO, "U(24) %.3f vs U(22) %.3f: utility fell > 0.05",
		     r.utility_after, r.utility_before);
	cr_assert(r.utility_fell && !r.metric_worse);
	a.utility_noise = 0.2; /* a wider utility band: within noise */
	cr_assert_eq(judge(&a, noisy, 3), RVMIG_VERDICT_KEEP);
	cr_assert_eq(rvmig_verify(&a, worse, 3, &r), 0);
	cr_assert_eq(r.verdict, RVMIG_VERDICT_UNDO);
	cr_assert(r.metric_worse);
}

/* Far past the target utility is flat (0): the metric test still sees it. */
Test(policy_verify, worse_where_utility_is_flat)
{
	struct rvmig_verify_attr a = resp(200, 10);
	struct rvmig_verify_result r = { .size = sizeof(r) };
	const double after[] = { 300, 310, 290 };

	cr_assert_eq(rvmig_verify(&a, after, 3, &r), 0);
	cr_assert_eq(r.verdict, RVMIG_VERDICT_UNDO);
	cr_assert(r.metric_worse && !r.utility_fell);
}

/* A release (share lowered, p99 predicted 5 -> 8 ms) is judged against
 * the prediction. */
Test(policy_verify, release_judged_against_prediction)
{
	struct rvmig_verify_attr a = resp(5, 8);
	const double as_said[] = { 7, 8.5, 8 }, much_worse[] = { 25, 30, 28 };

	cr_assert_eq(judge(&a, as_said, 3), RVMIG_VERDICT_KEEP);
	cr_assert_eq(judge(&a, much_worse, 3), RVMIG_VERDICT_UNDO);
}

Test(policy_verify, floor_sla)
{
	struct rvmig_verify_attr a = { .size = sizeof(a), .before = 0.2, .predicted = 0.6 };
	const double up[] = { 0.55, 0.6, 0.58 }, down[] = { 0.1, 0.12, 0.15 };

	a.sla.kind = RVMIG_SLA_FLOOR;
	a.sla.target = 0.5;
	cr_assert_eq(judge(&a, up, 3), RVMIG_VERDICT_KEEP);
	cr_assert_eq(judge(&a, down, 3), RVMIG_VERDICT_UNDO);
	a.min_samples = 4;
	cr_assert_eq(judge(&a, up, 3), RVMIG_VERDICT_PENDING);
}

Test(policy_verify, refusals)
{
	struct rvmig_verify_attr a = resp(30, 10);
	struct rvmig_verify_result r = { .size = sizeof(r) };
	const double bad[] = { 1, NAN, 2 }, neg[] = { -1, 1, 1 }, inf[] = { INFINITY, 1, 1 };
	static double many[RVMIG_VERIFY_MAX_SAMPLES + 1];

	cr_assert_eq(rvmig_verify(&a, bad, 3, &r), -EINVAL);
	cr_assert_eq(rvmig_verify(&a, neg, 3, &r), -EINVAL);
	cr_assert_eq(rvmig_verify(&a, inf, 3, &r), -EINVAL);
	cr_assert_eq(rvmig_verify(&a, many, RVMIG_VERIFY_MAX_SAMPLES + 1, &r), -E2BIG);
	cr_assert_eq(rvmig_verify(&a, many, RVMIG_VERIFY_MAX_SAMPLES, &r), 0);
	cr_assert_eq(rvmig_verify(&a, NULL, 3, &r), -EINVAL);
	cr_assert_eq(rvmig_verify(NULL, many, 3, &r), -EINVAL);
	a.predicted = INFINITY; /* past capacity: allowed */
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), 0);
	a.predicted = NAN;
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), -EINVAL);
	a = resp(-1, 3);
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), -EINVAL);
	a = resp(30, 10);
	a.sla.target = 0;
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), -EINVAL);
	a = resp(30, 10);
	a.noise = -0.1;
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), -EINVAL);
	a = resp(30, 10);
	r.size = 8;
	cr_assert_eq(rvmig_verify(&a, many, 3, &r), -EINVAL, "out too small");
	cr_assert_str_eq(rvmig_verdict_name(RVMIG_VERDICT_UNDO), "undo");
	cr_assert_str_eq(rvmig_verdict_name((enum rvmig_verdict)9), "?");
}
