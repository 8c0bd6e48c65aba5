/* SPDX-License-Identifier: MIT */
/*
 * validate.c - how wrong a good/bad map is on samples it was not fitted
 * to: misclassification (predicted good, load <= capacity, against the
 * SLA's verdict) and the error of predicted capacity at measured boundary
 * points; k-fold cross-validation over CPU shares.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"
#include "policy/map.h"

void pol_map_judge(const struct rvmig_map *map, const struct rvmig_samples *set,
		   const struct pol_share *sh, int n, const unsigned char *keep,
		   struct rvmig_map_error *e, double *cap_err_sum)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct pol_sample *s = &set->v[i];
		int k;

		if (!pol_map_selects(&map->cfg, s))
			continue;
		k = pol_map_share_index(sh, n, s->cpu_share);
		if (k < 0 || (keep && !keep[k]))
			continue;
		e->samples++;
		if ((s->offered_rps <= rvmig_map_capacity(map, s->cpu_share)) !=
		    pol_map_good(&map->cfg, s))
			e->misclassified++;
	}
	for (int k = 0; k < n; k++) {
		double rel;

		if (!sh[k].has_boundary || (keep && !keep[k]))
			continue;
		rel = fabs(rvmig_map_capacity(map, sh[k].share) - sh[k].cap) / sh[k].cap;
		e->boundaries++;
		*cap_err_sum += rel;
		if (rel > e->cap_err_max)
			e->cap_err_max = rel;
	}
}

static int finish(struct rvmig_map_error *e, double cap_err_sum, struct rvmig_map_error *out)
{
	e->size = sizeof(*e);
	e->misclass_rate = e->samples ? (double)e->misclassified / e->samples : 0;
	e->cap_err_mean = e->boundaries ? cap_err_sum / e->boundaries : 0;
	return pol_out(out, e, sizeof(*e), offsetof(struct rvmig_map_error, cap_err_max));
}

RVMIG_API int rvmig_map_evaluate(const rvmig_map *map, const rvmig_samples *set,
				 struct rvmig_map_error *out)
{
	struct rvmig_map_error e = { 0 };
	struct pol_share *sh;
	double sum = 0;
	int n;

	if (!map || !set || !out)
		return -EINVAL;
	n = pol_map_scan(&map->cfg, set, &sh, NULL, 0);
	if (n < 0)
		return n;
	pol_map_judge(map, set, sh, n, NULL, &e, &sum);
	free(sh);
	return finish(&e, sum, out);
}

RVMIG_API int rvmig_map_crossval(const rvmig_samples *set, const struct rvmig_map_attr *attr,
				 unsigned k, struct rvmig_map_error *out, char *err, size_t errlen)
{
	struct rvmig_map_error e = { 0 };
	struct rvmig_map map = { 0 };
	struct pol_share *sh = NULL;
	unsigned char *keep = NULL;
	double sum = 0;
	int n, rc;

	if (!set || !out || k < 2)
		return pol_err(err, errlen, -EINVAL, "cross-validation needs samples and k >= 2");
	rc = pol_map_cfg(attr, &map.cfg, err, errlen);
	if (rc < 0)
		return rc;
	n = rc = pol_map_scan(&map.cfg, set, &sh, err, errlen);
	if (rc < 0)
		return rc;
	if ((unsigned)n < 2) {
		free(sh);
		return pol_err(err, errlen, -EDOM, "%d CPU share(s) selected: nothing to hold out", n);
	}
	if (k > (unsigned)n)
		k = (unsigned)n;
	keep = malloc((size_t)n);
	map.points = malloc((size_t)n * sizeof(*map.points));
	if (!keep || !map.points) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned f = 0; f < k; f++) {
		map.npoints = 0;
		for (int i = 0; i < n; i++) {
			keep[i] = (unsigned)i % k == f;
			if (!keep[i] && sh[i].has_boundary)
				map.points[map.npoints++] = (struct pol_point){ sh[i].share, sh[i].cap };
		}
		rc = pol_map_fit_points(map.points, map.npoints, &map.c0, &map.c1);
		if (rc < 0) {
			pol_err(err, errlen, rc, "fold %u of %u: %u boundary point(s) outside it, "
				"no capacity growing with share to fit", f + 1, k, map.npoints);
			goto out;
		}
		pol_map_judge(&map, set, sh, n, keep, &e, &sum);
	}
	rc = finish(&e, sum, out);
out:
	free(keep);
	free(map.points);
	free(sh);
	return rc;
}
