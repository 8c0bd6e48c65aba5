/* SPDX-License-Identifier: MIT */
/*
 * share.c - the CPU share a domain can expect from its cap, vCPUs and
 * weight (rvmig_share_predict(3)).  Proportional share with work
 * conservation, the domain against the others taken together: each side is
 * entitled to its weighted part of the pool; a side that wants less than
 * its part leaves the rest to the other.
 */
#include <math.h>

#include "policy/common.h"

static int ok(double v)
{
	return isfinite(v) && v >= 0;
}

int rvmig_share_predict(const struct rvmig_share_attr *a, double *share)
{
	double bound, mine, theirs, left;

	if (!a || !share || a->size < sizeof(*a) || !ok(a->cpus) || a->cpus <= 0 || !ok(a->cap) ||
	    !ok(a->vcpus) || !ok(a->weight) || a->weight <= 0 || !ok(a->demand) ||
	    !ok(a->others_weight) || !ok(a->others_demand))
		return -EINVAL;
	bound = a->cpus;
	if (a->cap > 0 && a->cap < bound)
		bound = a->cap;
	if (a->vcpus > 0 && a->vcpus < bound)
		bound = a->vcpus;
	/* the others cannot use more than the pool either */
	theirs = fmin(a->others_demand, a->cpus);
	if (a->others_weight <= 0 || fmin(a->demand, bound) + theirs <= a->cpus) {
		*share = bound; /* no contention: the weight does not matter */
		return 0;
	}
	mine = a->cpus * a->weight / (a->weight + a->others_weight);
	/* what the others leave of their part */
	left = a->cpus - mine - theirs;
	if (left > 0)
		mine += left;
	*share = fmin(bound, mine);
	return 0;
}
