/* SPDX-License-Identifier: MIT */
/*
 * calibrate.c - a link's bandwidth and per-transfer overhead from measured
 * runs of k equal transfers started together: with the planner's model
 * (equal shares of the link, the overhead spent in parallel) such a run
 * takes overhead + k * bytes / bandwidth, linear in x = k * bytes, so
 * ordinary least squares on (x, makespan) gives 1/bandwidth as the slope
 * and the overhead as the intercept.
 */
#include <math.h>

#include "policy/common.h"

RVMIG_API int rvmig_link_calibrate(const unsigned *k, const double *bytes,
				   const double *makespan_s, size_t n,
				   struct rvmig_link *link, double *rel_err)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, den, w, o, worst = 0;

	if (!k || !bytes || !makespan_s || !link || n < 2 || link->size < sizeof(size_t))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		double x = (double)k[i] * bytes[i];

		if (k[i] == 0 || !pol_num_ok(bytes[i], 0, 1) || !pol_num_ok(makespan_s[i], 0, 1) ||
		    !isfinite(x))
			return -EINVAL;
		sx += x;
		sy += makespan_s[i];
		sxx += x * x;
		sxy += x * makespan_s[i];
	}
	den = (double)n * sxx - sx * sx;
	if (!(den > 1e-12 * (double)n * sxx))
		return -EDOM;
	w = ((double)n * sxy - sx * sy) / den;
	o = (sy - w * sx) / (double)n;
	if (o < 0) {
		o = 0;
		w = sxy / sxx;
	}
	if (!(w > 0) || !isfinite(w))
		return -EDOM;
	for (size_t i = 0; i < n; i++) {
		double pred = o + w * (double)k[i] * bytes[i];
		double rel = fabs(pred - makespan_s[i]) / makespan_s[i];

		worst = rel > worst ? rel : worst;
	}
	if (link->size >= offsetof(struct rvmig_link, bandwidth) + sizeof(double))
		link->bandwidth = 1.0 / w;
	if (link->size >= offsetof(struct rvmig_link, overhead_s) + sizeof(double))
		link->overhead_s = o;
	if (rel_err)
		*rel_err = worst;
	return 0;
}
