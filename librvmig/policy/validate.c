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

/* The floor over the selection v[0..nv), sorted by share and load: at
 * each point with more than one sample, the minority verdict's count. */
void pol_map_floor(const struct pol_sel *v, size_t nv, struct rvmig_map_error *e)
{
	for (size_t i = 0, j; i < nv; i = j) {
		size_t good = 0;

		for (j = i; j < nv && v[j].share == v[i].share && v[j].load == v[i].load; j++)
			good += v[j].good;
		if (j - i < 2)
			continue;
		e->repeated += (unsigned)(j - i);
		e->floor_misclassified += (unsigned)(good < j - i - good ? good : j - i - good);
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
	struct pol_sel *v;
	size_t nv;
	double sum = 0;
	int n;

	if (!map || !set || !out)
		return -EINVAL;
	n = pol_map_scan(&map->cfg, set, &sh, &v, &nv, NULL, 0);
	if (n < 0)
		return n;
	pol_map_judge(map, set, sh, n, NULL, &e, &sum);
	pol_map_floor(v, nv, &e);
	free(sh);
	free(v);
	return finish(&e, sum, out);
}

RVMIG_API int rvmig_map_crossval(const rvmig_samples *set, const struct rvmig_map_attr *attr,
				 unsigned k, struct rvmig_map_error *out, char *err, size_t errlen)
{
	struct rvmig_map_error e = { 0 };
	struct rvmig_map map = { 0 };
	struct pol_share *sh = NULL;
	struct pol_sel *v = NULL;
	unsigned char *keep = NULL;
	size_t nv = 0;
	double sum = 0;
	char why[192];
	int n, rc;

	if (!set || !out || k < 2)
		return pol_err(err, errlen, -EINVAL, "cross-validation needs samples and k >= 2");
	rc = pol_map_cfg(attr, &map.cfg, err, errlen);
	if (rc < 0)
		return rc;
	n = rc = pol_map_scan(&map.cfg, set, &sh, &v, &nv, err, errlen);
	if (rc < 0)
		return rc;
	if ((unsigned)n < 2) {
		free(sh);
		free(v);
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
		for (int i = 0; i < n; i++)
			keep[i] = (unsigned)i % k == f;
		rc = pol_map_model(&map, v, nv, sh, n, keep, why, sizeof(why));
		if (rc < 0) {
			pol_err(err, errlen, rc, "fold %u of %u: %s", f + 1, k, why);
			goto out;
		}
		pol_map_judge(&map, set, sh, n, keep, &e, &sum);
	}
	pol_map_floor(v, nv, &e);
	rc = finish(&e, sum, out);
out:
	free(keep);
	free(map.points);
	free(sh);
	free(v);
	return rc;
}
