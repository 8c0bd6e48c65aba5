/* SPDX-License-Identifier: MIT */
/*
 * The utility of an SLA observable (librvmig/policy/utility.c): the
 * sigmoid's shape for a response-time target and for a CPU-share floor,
 * its defaults, extremes and refusals.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

static void near(double got, double want, double tol, const char *what)
{
	cr_assert(fabs(got - want) <= tol, "%s: %.12g, want %.12g", what, got, want);
}

Test(policy_utility, response_shape)
{
	struct rvmig_sla sla = { .size = sizeof(sla), .kind = RVMIG_SLA_RESPONSE, .target = 10,
				 .alpha = 0.5 };
	double prev = 2;

	near(rvmig_utility(&sla, 10), 0.5, 1e-15, "U at the target");
	/* U = e^{a(b-R)} / (1 + e^{a(b-R)}) by hand at R = 6 and R = 14. */
	near(rvmig_utility(&sla, 6), exp(2.0) / (1 + exp(2.0)), 1e-15, "U(6)");
	near(rvmig_utility(&sla, 14), exp(-2.0) / (1 + exp(-2.0)), 1e-15, "U(14)");
	/* Symmetric about the target, decreasing in R. */
	near(rvmig_utility(&sla, 7) + rvmig_utility(&sla, 13), 1, 1e-15, "symmetry");
	for (double r = 0; r <= 40; r += 0.5) {
		double u = rvmig_utility(&sla, r);

		cr_assert(u < prev && u > 0 && u < 1, "U(%g) = %g not decreasing in (0, 1)", r, u);
		prev = u;
	}
	cr_assert_eq(rvmig_utility(&sla, INFINITY), 0);
	/* No overflow far from the target. */
	near(rvmig_utility(&sla, 1e6), 0, 1e-300, "U(1e6)");
	near(rvmig_utility(&sla, 0), 1 / (1 + exp(-5.0)), 1e-15, "U(0)");
}

Test(policy_utility, steeper_alpha_is_sharper)
{
	struct rvmig_sla soft = { .size = sizeof(soft), .target = 10, .alpha = 0.2 };
	struct rvmig_sla hard = { .size = sizeof(hard), .target = 10, .alpha = 5 };

	cr_assert_gt(rvmig_utility(&hard, 9), rvmig_utility(&soft, 9));
	cr_assert_lt(rvmig_utility(&hard, 11), rvmig_utility(&soft, 11));
	cr_assert_gt(rvmig_utility(&hard, 9), 0.99);
	cr_assert_lt(rvmig_utility(&hard, 11), 0.01);
}

Test(policy_utility, default_alpha)
{
	/* alpha 0: 4 / target, so U(0.5 b) = logistic(2) whatever the target. */
	struct rvmig_sla a = { .size = sizeof(a), .target = 10 };
	struct rvmig_sla b = { .size = sizeof(b), .target = 250 };

	near(rvmig_utility(&a, 5), 1 / (1 + exp(-2.0)), 1e-15, "U(5) at b 10");
	near(rvmig_utility(&b, 125), 1 / (1 + exp(-2.0)), 1e-15, "U(125) at b 250");
	near(rvmig_utility(&a, 15), 1 / (1 + exp(2.0)), 1e-15, "U(15) at b 10");
}

Test(policy_utility, floor_shape)
{
	struct rvmig_sla sla = { .size = sizeof(sla), .kind = RVMIG_SLA_FLOOR, .target = 0.5,
				 .alpha = 20 };

	near(rvmig_utility(&sla, 0.5), 0.5, 1e-15, "U at the floor");
	cr_assert_gt(rvmig_utility(&sla, 0.7), 0.98);
	cr_assert_lt(rvmig_utility(&sla, 0.3), 0.02);
	cr_assert_lt(rvmig_utility(&sla, 0.4), rvmig_utility(&sla, 0.45));
	cr_assert_eq(rvmig_utility(&sla, INFINITY), 1);
	cr_assert_eq(rvmig_utility(&sla, 0), 1 / (1 + exp(10.0)));
}

Test(policy_utility, refusals)
{
	struct rvmig_sla sla = { .size = sizeof(sla), .target = 10, .alpha = 1 };
	struct rvmig_sla bad[] = {
		{ .size = sizeof(sla), .target = 0 },
		{ .size = sizeof(sla), .target = -1 },
		{ .size = sizeof(sla), .target = NAN },
		{ .size = sizeof(sla), .target = INFINITY },
		{ .size = sizeof(sla), .target = 1, .alpha = -1 },
		{ .size = sizeof(sla), .target = 1, .alpha = NAN },
		{ .size = sizeof(sla), .target = 1, .kind = 7 },
		{ .size = sizeof(sla), .target = 1, .metric = 9 },
		{ .size = 0, .target = 1 },
	};

	cr_assert(isnan(rvmig_utility(&sla, NAN)));
	cr_assert(isnan(rvmig_utility(NULL, 1)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(isnan(rvmig_utility(&bad[i], 1)), "bad SLA %zu accepted", i);
}

Test(policy_utility, short_size_takes_defaults)
{
	/* A caller compiled when the struct ended at `target`: alpha takes
	 * its default even if garbage follows. */
	struct rvmig_sla sla = { .size = offsetof(struct rvmig_sla, alpha), .target = 10,
				 .alpha = -5 };

	near(rvmig_utility(&sla, 5), 1 / (1 + exp(-2.0)), 1e-15, "U(5)");
}
