/* SPDX-License-Identifier: MIT */
/*
 * utility.c - the utility of an SLA observable (Menasce & Bennani,
 * "Autonomic Virtualized Environments", ICAS 2006): for a response time R
 * and target b,
 *     U(R) = e^{a(b-R)} / (1 + e^{a(b-R)}),
 * the logistic function of a(b-R): 0.5 at the target, rising towards 1 as R
 * falls below it and towards 0 as R grows past it, a setting how sharply.
 * For a floor (a CPU share that must stay at or above b) the sign flips:
 * U(x) = logistic(a(x-b)).  Computed as 1/(1+e^{-z}) (or e^z/(1+e^z) for
 * z < 0) so that no exponential overflows.
 */
#include <math.h>

#include "policy/common.h"

static double logistic(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	return exp(z) / (1.0 + exp(z));
}

int pol_sla_norm(const struct rvmig_sla *in, struct rvmig_sla *out, char *err, size_t errlen)
{
	*out = *in;
	out->size = sizeof(*out);
	if (out->kind == 0)
		out->kind = RVMIG_SLA_RESPONSE;
	if (out->kind != RVMIG_SLA_RESPONSE && out->kind != RVMIG_SLA_FLOOR)
		return pol_err(err, errlen, -EINVAL, "SLA kind %d is neither response (1) nor floor (2)",
			       (int)out->kind);
	if ((unsigned)out->metric > RVMIG_METRIC_MEAN)
		return pol_err(err, errlen, -EINVAL, "SLA metric %d is not p99 (0), p50 (1) or mean (2)",
			       (int)out->metric);
	if (!pol_num_ok(out->target, 0, 1))
		return pol_err(err, errlen, -EINVAL, "SLA target %g is not a finite number > 0",
			       out->target);
	if (!pol_num_ok(out->alpha, 0, 0))
		return pol_err(err, errlen, -EINVAL, "SLA alpha %g is not a finite number >= 0",
			       out->alpha);
	if (out->alpha == 0)
		out->alpha = 4.0 / out->target;
	return 0;
}

const char *pol_metric_name(const struct rvmig_sla *sla)
{
	static const char *const names[] = { "p99_ms", "p50_ms", "mean_ms" };

	if (sla->kind == RVMIG_SLA_FLOOR)
		return "cpu_share";
	return (unsigned)sla->metric <= RVMIG_METRIC_MEAN ? names[sla->metric] : "?";
}

RVMIG_API double rvmig_utility(const struct rvmig_sla *sla, double x)
{
	struct rvmig_sla in, s;

	if (!sla || pol_in(&in, sizeof(in), sla) < 0 || pol_sla_norm(&in, &s, NULL, 0) < 0 || x != x)
		return NAN;
	if (s.kind == RVMIG_SLA_RESPONSE)
		return isinf(x) ? (x > 0 ? 0.0 : 1.0) : logistic(s.alpha * (s.target - x));
	return isinf(x) ? (x > 0 ? 1.0 : 0.0) : logistic(s.alpha * (x - s.target));
}
