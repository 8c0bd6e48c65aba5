/* SPDX-License-Identifier: MIT */
/*
 * rvmig_share_predict() (librvmig/policy/share.c): the share a domain can
 * expect from its cap, vCPUs and weight on a pool it shares.
 */
#include <errno.h>
#include <math.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

static double predict(double cpus, double cap, double vcpus, double w, double demand, double ow,
		      double od)
{
	struct rvmig_share_attr a = { .size = sizeof(a), .cpus = cpus, .cap = cap, .vcpus = vcpus,
				      .weight = w, .demand = demand, .others_weight = ow,
				      .others_demand = od };
	double s = -1;

	cr_assert_eq(rvmig_share_predict(&a, &s), 0);
	return s;
}

/* share = min(cap, vcpus, CPUs) when nothing contends */
Test(share, bounds_without_contention)
{
	cr_assert_float_eq(predict(4, 0, 0, 256, 1, 0, 0), 4, 1e-12);
	cr_assert_float_eq(predict(4, 1.5, 0, 256, 1, 0, 0), 1.5, 1e-12);
	cr_assert_float_eq(predict(4, 1.5, 1, 256, 1, 0, 0), 1, 1e-12);
	cr_assert_float_eq(predict(4, 3, 2, 256, 4, 256, 1), 2, 1e-12, "2 + 1 fit in 4 CPUs");
}

/* work-conserving: without contention the weight changes nothing */
Test(share, weight_matters_only_under_contention)
{
	cr_assert_float_eq(predict(2, 0, 2, 256, 1, 256, 0.5), predict(2, 0, 2, 1024, 1, 256, 0.5),
			   1e-12);
	/* 2 CPUs, both sides want 2: split by weight */
	cr_assert_float_eq(predict(2, 0, 2, 256, 2, 256, 2), 1.0, 1e-12);
	cr_assert_float_eq(predict(2, 0, 2, 768, 2, 256, 2), 1.5, 1e-12);
	cr_assert_float_eq(predict(2, 0, 2, 256, 2, 768, 2), 0.5, 1e-12);
}

/* the others' unused part goes to the domain; its own bounds still hold */
Test(share, water_filling_and_bounds)
{
	/* others weigh 3x but want only 1 of 2 CPUs: the domain gets the other 1 */
	cr_assert_float_eq(predict(2, 0, 2, 256, 2, 768, 1), 1.0, 1e-12);
	/* others want 1.2 of their 1.5: the domain gets 0.5 + 0.3 */
	cr_assert_float_eq(predict(2, 0, 2, 256, 2, 768, 1.2), 0.8, 1e-12);
	/* a cap below the weighted part wins; so does the vCPU count */
	cr_assert_float_eq(predict(2, 0.6, 2, 768, 2, 256, 2), 0.6, 1e-12);
	cr_assert_float_eq(predict(4, 0, 1, 768, 4, 256, 4), 1.0, 1e-12);
}

Test(share, bad_input)
{
	struct rvmig_share_attr a = { .size = sizeof(a), .cpus = 2, .weight = 256 };
	double s;

	cr_assert_eq(rvmig_share_predict(&a, &s), 0);
	a.weight = 0;
	cr_assert_eq(rvmig_share_predict(&a, &s), -EINVAL);
	a.weight = 256;
	a.cap = NAN;
	cr_assert_eq(rvmig_share_predict(&a, &s), -EINVAL);
	a.cap = 0;
	a.others_demand = -1;
	cr_assert_eq(rvmig_share_predict(&a, &s), -EINVAL);
	a.others_demand = 0;
	a.cpus = 0;
	cr_assert_eq(rvmig_share_predict(&a, &s), -EINVAL);
	a.cpus = 2;
	a.size = 8;
	cr_assert_eq(rvmig_share_predict(&a, &s), -EINVAL);
	cr_assert_eq(rvmig_share_predict(NULL, &s), -EINVAL);
}
