/* SPDX-License-Identifier: MIT */
/*
 * verify.c - whether an applied action had the predicted effect
 * (rvmig_verify(3)): the median of the observations after it against the
 * worse of the state it was taken in and the prediction, with noise bands
 * on the observable and on its utility.  The median, so that one stalled
 * request burst (a p99 spike under a loaded host) neither rolls back a good
 * action nor keeps a bad one.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"

#define DEF_MIN_SAMPLES 3
#define DEF_NOISE 0.10
#define DEF_UTILITY_NOISE 0.05

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
	double tmp[RVMIG_VERIFY_MAX_SAMPLES];

	for (size_t i = 0; i < n; i++)
		tmp[i] = v[i];
	qsort(tmp, n, sizeof(tmp[0]), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

RVMIG_API int rvmig_verify(const struct rvmig_verify_attr *attr, const double *after, size_t n,
			   struct rvmig_verify_result *out)
{
	struct rvmig_verify_attr a;
	struct rvmig_verify_result r = { .size = sizeof(r) };
	struct rvmig_sla sla;
	int response;

	if (!attr || (n && !after) || !out || pol_in(&a, sizeof(a), attr) < 0 ||
	    pol_sla_norm(&a.sla, &sla, NULL, 0) < 0 || !pol_num_ok(a.before, 0, 0) ||
	    !(a.predicted >= 0) || !pol_num_ok(a.noise, 0, 0) || !pol_num_ok(a.utility_noise, 0, 0) ||
	    a.min_samples > RVMIG_VERIFY_MAX_SAMPLES)
		return -EINVAL;
	if (n > RVMIG_VERIFY_MAX_SAMPLES)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (!pol_num_ok(after[i], 0, 0))
			return -EINVAL;
	if (a.min_samples == 0)
		a.min_samples = DEF_MIN_SAMPLES;
	if (a.noise == 0)
		a.noise = DEF_NOISE;
	if (a.utility_noise == 0)
		a.utility_noise = DEF_UTILITY_NOISE;
	response = sla.kind == RVMIG_SLA_RESPONSE;
	r.reference = response ? fmax(a.before, a.predicted) : fmin(a.before, a.predicted);
	r.utility_before = rvmig_utility(&sla, a.before);
	r.utility_predicted = rvmig_utility(&sla, a.predicted);
	r.observed = NAN;
	r.utility_after = NAN;
	r.verdict = RVMIG_VERDICT_PENDING;
	if (n >= a.min_samples) {
		r.observed = median(after, n);
		r.utility_after = rvmig_utility(&sla, r.observed);
		r.metric_worse = response ? r.observed > r.reference * (1 + a.noise)
					  : r.observed < r.reference * (1 - a.noise);
		r.utility_fell = r.utility_after < rvmig_utility(&sla, r.reference) - a.utility_noise;
		r.verdict = r.metric_worse || r.utility_fell ? RVMIG_VERDICT_UNDO : RVMIG_VERDICT_KEEP;
	}
	return pol_out(out, &r, sizeof(r), sizeof(r));
}

RVMIG_API const char *rvmig_verdict_name(enum rvmig_verdict v)
{
	static const char *const tab[] = {
		[RVMIG_VERDICT_PENDING] = "pending",
		[RVMIG_VERDICT_KEEP] = "keep",
		[RVMIG_VERDICT_UNDO] = "undo",
	};

	return (unsigned)v < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?";
}
