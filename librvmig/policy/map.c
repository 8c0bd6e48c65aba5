/* SPDX-License-Identifier: MIT */
/*
 * map.c - the good/bad map over (CPU share, offered load): which samples
 * are good, the boundary point of each share, the linear capacity model
 * fitted to them, and classification with a boundary band.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"
#include "policy/map.h"

/* Paced by think time (wrk delay()), a connection offers one request per
 * think + response time + timer slack, so achieved = offered * think /
 * (think + R + slack) before saturation: 0.72-0.94 in bench/policy's
 * sweep at loads under half the capacity that met the SLA (10 ms of think
 * time; a third of those points under 0.80). */
#define DEF_MIN_ACHIEVED 0.60
#define DEF_MAX_ERROR_SHARE 0.01
#define DEF_BAND 0.10

static int copy_name(char *dst, const char *src, const char *what, char *err, size_t errlen)
{
	size_t n;

	dst[0] = 0;
	if (!src)
		return 0;
	n = strnlen(src, RVMIG_SAMPLES_MAX_NAME + 1);
	if (!pol_name_ok(src, n))
		return pol_err(err, errlen, -EINVAL, "map %s: not 1..%d characters of [A-Za-z0-9._-]",
			       what, RVMIG_SAMPLES_MAX_NAME);
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

int pol_map_cfg(const struct rvmig_map_attr *attr, struct pol_map_cfg *cfg, char *err,
		size_t errlen)
{
	struct rvmig_map_attr a;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!attr || pol_in(&a, sizeof(a), attr) < 0)
		return pol_err(err, errlen, -EINVAL, "no map attr, or its size is not set");
	rc = pol_sla_norm(&a.sla, &cfg->sla, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->sla.kind != RVMIG_SLA_RESPONSE)
		return pol_err(err, errlen, -EINVAL, "a map is fitted to a response-time SLA");
	cfg->min_achieved = a.min_achieved ? a.min_achieved : DEF_MIN_ACHIEVED;
	cfg->max_error_share = a.max_error_share ? a.max_error_share : DEF_MAX_ERROR_SHARE;
	cfg->band = a.band ? a.band : DEF_BAND;
	if (!pol_num_ok(cfg->min_achieved, 0, 1) || cfg->min_achieved > 1)
		return pol_err(err, errlen, -EINVAL, "min_achieved %g is not in (0, 1]", a.min_achieved);
	if (!pol_num_ok(cfg->max_error_share, 0, 1) || cfg->max_error_share > 1)
		return pol_err(err, errlen, -EINVAL, "max_error_share %g is not in (0, 1]",
			       a.max_error_share);
	if (!pol_num_ok(cfg->band, 0, 1) || cfg->band >= 1)
		return pol_err(err, errlen, -EINVAL, "band %g is not in (0, 1)", a.band);
	cfg->max_share = a.max_share;
	cfg->fit = a.fit;
	if (cfg->fit != RVMIG_MAP_FIT_UTILISATION && cfg->fit != RVMIG_MAP_FIT_PER_SHARE)
		return pol_err(err, errlen, -EINVAL, "fit %d is not a rvmig_map_fit_kind", a.fit);
	if (!isfinite(cfg->max_share) || cfg->max_share < 0)
		return pol_err(err, errlen, -EINVAL, "max_share %g is not a share >= 0", a.max_share);
	rc = copy_name(cfg->app, a.app, "app", err, errlen);
	return rc < 0 ? rc : copy_name(cfg->scenario, a.scenario, "scenario", err, errlen);
}

int pol_map_selects(const struct pol_map_cfg *cfg, const struct pol_sample *s)
{
	/* A closed-loop run says nothing about a load it was not offered. */
	return s->offered_rps > 0 && (!cfg->max_share || s->cpu_share <= cfg->max_share) &&
	       (!cfg->app[0] || !strcmp(cfg->app, s->app)) &&
	       (!cfg->scenario[0] || !strcmp(cfg->scenario, s->scenario));
}

int pol_map_good(const struct pol_map_cfg *cfg, const struct pol_sample *s)
{
	const double lat[] = { s->p99_ms, s->p50_ms, s->mean_ms };
	double done = s->achieved_rps * s->duration_s;

	if (lat[cfg->sla.metric] > cfg->sla.target)
		return 0;
	if (s->achieved_rps < cfg->min_achieved * s->offered_rps)
		return 0;
	return (double)s->errors <= cfg->max_error_share * done;
}

static int cmp_sel(const void *a, const void *b)
{
	const struct pol_sel *x = a, *y = b;

	if (x->share != y->share)
		return x->share > y->share ? 1 : -1;
	return (x->load > y->load) - (x->load < y->load);
}

/*
 * The best cut of g[0..n), sorted by load: the one between two consecutive
 * distinct loads that misclassifies the fewest samples (good at or below
 * it, bad above it), the lowest such cut on a tie; none when no cut does
 * better than calling every sample good or every sample bad.  It lies at
 * the geometric mean of the loads on either side.  On clean data this is
 * the largest good load below the first bad one; on noisy data (a p99
 * spike at a light load, repetitions that disagree) one stray sample does
 * not move it.  Returns 1 and *cut, or 0.
 */
static int best_cut(const struct pol_sel *g, size_t n, double *cut)
{
	size_t good = 0, bad_below = 0, good_below = 0, best_err;
	int found = 0;

	for (size_t i = 0; i < n; i++)
		good += g[i].good;
	/* Cutting below every sample or above all of them. */
	best_err = good < n - good ? good : n - good;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t err;

		bad_below += !g[i].good;
		good_below += g[i].good;
		if (g[i + 1].load == g[i].load)
			continue;
		err = bad_below + (good - good_below);
		if (err < best_err) {
			best_err = err;
			found = 1;
			/* not sqrt(a * b): that overflows from 1.3e154 */
			*cut = sqrt(g[i].load) * sqrt(g[i + 1].load);
		}
	}
	return found;
}

int pol_map_scan(const struct pol_map_cfg *cfg, const struct rvmig_samples *set,
		 struct pol_share **out, struct pol_sel **sel, size_t *nsel, char *err,
		 size_t errlen)
{
	const struct pol_sample *first = NULL;
	struct pol_share *sh;
	struct pol_sel *v;
	size_t n = 0, u = 0;

	*out = NULL;
	v = malloc((set->n ? set->n : 1) * sizeof(*v));
	sh = malloc((set->n ? set->n : 1) * sizeof(*sh));
	if (!v || !sh) {
		free(v);
		free(sh);
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct pol_sample *s = &set->v[i];

		if (!pol_map_selects(cfg, s))
			continue;
		if (first && strcmp(first->app, s->app)) {
			free(v);
			free(sh);
			return pol_err(err, errlen, -EINVAL,
				       "the selection holds apps \"%s\" (line %u) and \"%s\" (line %u): "
				       "name one", first->app, first->line, s->app, s->line);
		}
		first = first ? first : s;
		v[n].share = s->cpu_share;
		v[n].load = s->offered_rps;
		v[n].good = pol_map_good(cfg, s);
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_sel);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j].share == v[i].share; j++)
			;
		sh[u].share = v[i].share;
		sh[u].has_boundary = best_cut(v + i, j - i, &sh[u].cap);
		u++;
	}
	if (sel) {
		*sel = v;
		*nsel = n;
	} else {
		free(v);
	}
	*out = sh;
	return (int)u;
}

int pol_map_share_index(const struct pol_share *sh, int n, double share)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (sh[mid].share == share)
			return mid;
		if (sh[mid].share < share)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int fit_points(const struct pol_point *p, unsigned n, double *c0, double *c1)
{
	double sw = 0, sws = 0, swss = 0, swc = 0, swsc = 0, det;

	if (n == 0)
		return -EDOM;
	/* Weights 1/C^2: the squared error of C_i relative to C_i. */
	for (unsigned i = 0; i < n; i++) {
		double w = 1.0 / (p[i].cap * p[i].cap);

		sw += w;
		sws += w * p[i].share;
		swss += w * p[i].share * p[i].share;
		swc += w * p[i].cap;
		swsc += w * p[i].share * p[i].cap;
	}
	det = sw * swss - sws * sws;
	if (n >= 2 && det > 1e-12 * sw * swss) {
		*c1 = (sw * swsc - sws * swc) / det;
		*c0 = (swc - *c1 * sws) / sw;
	} else {
		/* One share: capacity proportional to it. */
		*c0 = 0;
		*c1 = swsc / swss;
	}
	return *c1 > 0 && isfinite(*c0) && isfinite(*c1) ? 0 : -EDOM;
}

/* RVMIG_MAP_FIT_UTILISATION: the best cut on load / share over the
 * samples of v whose share is not held out. */
static int fit_pooled(struct rvmig_map *m, const struct pol_sel *v, size_t nv,
		      const struct pol_share *sh, int nsh, const unsigned char *hold, char *err,
		      size_t errlen)
{
	struct pol_sel *x = malloc((nv ? nv : 1) * sizeof(*x));
	size_t n = 0, good = 0;
	int found;

	if (!x)
		return -ENOMEM;
	for (size_t i = 0; i < nv; i++) {
		if (hold && hold[pol_map_share_index(sh, nsh, v[i].share)])
			continue;
		x[n] = (struct pol_sel){ 0, v[i].load / v[i].share, v[i].good };
		good += v[i].good;
		n++;
	}
	qsort(x, n, sizeof(*x), cmp_sel);
	found = best_cut(x, n, &m->c1);
	free(x);
	m->c0 = 0;
	if (!found)
		return pol_err(err, errlen, -EDOM,
			       "no cut on the load per CPU of the %zu samples (%zu good) does better "
			       "than calling them all good or all bad: nothing to fit", n, good);
	if (!isfinite(m->c1))
		return pol_err(err, errlen, -EDOM, "the cut on the load per CPU is not finite "
			       "(a load too large for its share)");
	return 0;
}

int pol_map_model(struct rvmig_map *m, const struct pol_sel *v, size_t nv,
		  const struct pol_share *sh, int nsh, const unsigned char *hold, char *err,
		  size_t errlen)
{
	int rc, kept = 0;

	m->npoints = 0;
	for (int i = 0; i < nsh; i++) {
		if (hold && hold[i])
			continue;
		kept++;
		if (sh[i].has_boundary)
			m->points[m->npoints++] = (struct pol_point){ sh[i].share, sh[i].cap };
	}
	if (m->cfg.fit == RVMIG_MAP_FIT_UTILISATION)
		return fit_pooled(m, v, nv, sh, nsh, hold, err, errlen);
	rc = fit_points(m->points, m->npoints, &m->c0, &m->c1);
	if (rc < 0 && m->npoints == 0)
		return pol_err(err, errlen, rc,
			       "none of the %d CPU shares selected has a boundary (a load that separates good "
			       "samples below from bad ones above): nothing to fit", kept);
	if (rc < 0)
		return pol_err(err, errlen, rc, "capacity does not grow with CPU share "
			       "(c1 = %g req/s per CPU over %u boundary points)", m->c1, m->npoints);
	return 0;
}

RVMIG_API int rvmig_map_fit(const rvmig_samples *set, const struct rvmig_map_attr *attr,
			    rvmig_map **out, char *err, size_t errlen)
{
	struct rvmig_map *m;
	struct pol_share *sh;
	struct pol_sel *v = NULL;
	size_t nv = 0;
	int n, rc;

	if (!set || !out)
		return pol_err(err, errlen, -EINVAL, "no samples or no place for the map");
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = pol_map_cfg(attr, &m->cfg, err, errlen);
	if (rc < 0)
		goto fail;
	n = rc = pol_map_scan(&m->cfg, set, &sh, &v, &nv, err, errlen);
	if (rc < 0)
		goto fail;
	m->points = calloc(n ? (size_t)n : 1, sizeof(*m->points));
	rc = m->points ? pol_map_model(m, v, nv, sh, n, NULL, err, errlen) : -ENOMEM;
	free(sh);
	free(v);
	if (rc < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	rvmig_map_free(m);
	return rc;
}

RVMIG_API void rvmig_map_free(rvmig_map *map)
{
	if (!map)
		return;
	free(map->points);
	free(map);
}

RVMIG_API double rvmig_map_capacity(const rvmig_map *map, double share)
{
	double c = map->c0 + map->c1 * share;

	return c > 0 ? c : 0;
}

RVMIG_API double rvmig_map_share_needed(const rvmig_map *map, double load)
{
	double s = (load - map->c0) / map->c1;

	return s > 0 ? s : 0;
}

RVMIG_API enum rvmig_map_class rvmig_map_classify(const rvmig_map *map, double share, double load)
{
	double c = rvmig_map_capacity(map, share);

	if (c <= 0 || load > c * (1 + map->cfg.band))
		return RVMIG_MAP_BAD;
	return load <= c * (1 - map->cfg.band) ? RVMIG_MAP_GOOD : RVMIG_MAP_BOUNDARY;
}

RVMIG_API unsigned rvmig_map_coef(const rvmig_map *map, double *c0, double *c1)
{
	if (c0)
		*c0 = map->c0;
	if (c1)
		*c1 = map->c1;
	return map->npoints;
}

RVMIG_API int rvmig_map_boundary(const rvmig_map *map, unsigned i, double *share, double *capacity)
{
	if (i >= map->npoints)
		return -ERANGE;
	if (share)
		*share = map->points[i].share;
	if (capacity)
		*capacity = map->points[i].cap;
	return 0;
}
