/* SPDX-License-Identifier: MIT */
/*
 * calibrate.c - a link fitted to measured runs of k equal transfers started
 * together.  With the planner's model such a run takes
 *
 *   T = o + b * max(v, u * g(k)),   g(k) = k (1 + c (k - 1)),
 *
 * u = 1/B, v = 1/cap (0: none), o the overhead, c the contention.  For a
 * fixed c, and a fixed set of runs at the cap, T is linear in (o, v, u):
 * the runs at the cap are those of the smallest k (g grows with k), so the
 * candidates are the splits of the runs, sorted by k, between distinct k,
 * and each is weighted least squares (weights 1/T^2: relative errors) on
 * prefix sums, O(1) per split.  c is searched on a grid and refined by
 * golden section around the best grid point.  The runs at the cap must
 * show it by themselves: 2 or more distinct k (a plateau) or transfers of
 * 2 or more sizes (the line o + b / cap); one point of one k would only
 * absorb its own error.  A split whose solution puts
 * a run on the wrong side of the cap is not the model it claims and is
 * dropped; a negative overhead is refitted as 0.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"
#include "policy/plan.h"

#define FIT_MAX_RUNS 65536
#define C_MAX PLAN_MAX_CONTENTION
#define C_GRID 200       /* c = C_MAX (i / C_GRID)^3: fine near 0 */
#define C_REFINE 48      /* golden-section steps */
#define CAP_MIN_KS 2     /* distinct k at the cap (or one k, two sizes), and above it */
#define C_MIN_KS 3       /* distinct k to fit the contention */

struct frun {
	double k, b, y, w;
};

/* Prefix sums over the runs sorted by k: index j covers runs [0, j). */
enum { S_W, S_WY, S_WYY, S_WB, S_WBB, S_WBY, S_WQ, S_WQQ, S_WQY, S_N };

struct fit {
	double o, u, v, c, cost;
	int ok;
};

struct fitctx {
	const struct frun *r;
	size_t n;
	const size_t *split; /* candidate split points (runs at the cap: [0, split)) */
	size_t nsplit;
	double (*ps)[S_N]; /* n + 1 rows */
	int with_o;
};

static double gk(double k, double c)
{
	return k * (1 + c * (k - 1));
}

static int cmp_k(const void *a, const void *b)
{
	const struct frun *x = a, *y = b;

	return (x->k > y->k) - (x->k < y->k);
}

/* Solves the m x m system a x = r (m <= 3) by elimination with pivoting;
 * 0, or -1 when (nearly) singular. */
static int solve(double a[3][3], double r[3], int m, double x[3])
{
	double scale = 0, t;

	for (int i = 0; i < m; i++)
		scale = fmax(scale, fabs(a[i][i]));
	for (int i = 0; i < m; i++) {
		int p = i;

		for (int j = i + 1; j < m; j++)
			if (fabs(a[j][i]) > fabs(a[p][i]))
				p = j;
		if (!(fabs(a[p][i]) > 1e-13 * scale))
			return -1;
		for (int j = 0; j < m; j++) {
			t = a[i][j];
			a[i][j] = a[p][j];
			a[p][j] = t;
		}
		t = r[i];
		r[i] = r[p];
		r[p] = t;
		for (int j = 0; j < m; j++) {
			double f;

			if (j == i)
				continue;
			f = a[j][i] / a[i][i];
			for (int l = i; l < m; l++)
				a[j][l] -= f * a[i][l];
			r[j] -= f * r[i];
		}
	}
	for (int i = 0; i < m; i++)
		x[i] = r[i] / a[i][i];
	return 0;
}

/*
 * Least squares for runs [0, s) at the cap (s 0: no cap) and the rest on
 * the link, with or without the overhead: the unknowns among (o, v, u).
 */
static struct fit fit_split(const struct fitctx *f, size_t s, double c, int with_o)
{
	const double *t = f->ps[f->n], *p = f->ps[s];
	double m[3][3] = { { 0 } }, r[3], x[3], full[3][3], fr[3], v3[3] = { 0, 0, 0 }, cost;
	int idx[3], nv = 0;
	struct fit out = { .c = c };

	/* the full normal equations in (o, v, u) */
	full[0][0] = t[S_W];
	full[0][1] = full[1][0] = p[S_WB];
	full[0][2] = full[2][0] = t[S_WQ] - p[S_WQ];
	full[1][1] = p[S_WBB];
	full[1][2] = full[2][1] = 0;
	full[2][2] = t[S_WQQ] - p[S_WQQ];
	fr[0] = t[S_WY];
	fr[1] = p[S_WBY];
	fr[2] = t[S_WQY] - p[S_WQY];
	if (with_o)
		idx[nv++] = 0;
	if (s)
		idx[nv++] = 1;
	idx[nv++] = 2;
	for (int i = 0; i < nv; i++) {
		for (int j = 0; j < nv; j++)
			m[i][j] = full[idx[i]][idx[j]];
		r[i] = fr[idx[i]];
	}
	if (solve(m, r, nv, x) < 0)
		return out;
	for (int i = 0; i < nv; i++)
		v3[idx[i]] = x[i];
	out.o = v3[0];
	out.v = v3[1];
	out.u = v3[2];
	if (!(out.u > 0) || out.o < 0 || (s && !(out.v > 0)))
		return out;
	/* the split must be the model's: runs before it at the cap, after
	 * it on the link */
	if (s && (out.v < out.u * gk(f->r[s - 1].k, c) * (1 - 1e-12) ||
		  out.v > out.u * gk(f->r[s].k, c) * (1 + 1e-12)))
		return out;
	cost = t[S_WYY];
	for (int i = 0; i < 3; i++) {
		cost -= 2 * v3[i] * fr[i];
		for (int j = 0; j < 3; j++)
			cost += v3[i] * full[i][j] * v3[j];
	}
	out.cost = fmax(cost, 0);
	out.ok = 1;
	return out;
}

/* The best fit for contention c over the splits; the q sums redone. */
static struct fit fit_c(const struct fitctx *f, double c)
{
	struct fit best = { .c = c };

	for (size_t i = 0; i < f->n; i++) {
		const struct frun *x = &f->r[i];
		double q = x->b * gk(x->k, c);

		f->ps[i + 1][S_WQ] = f->ps[i][S_WQ] + x->w * q;
		f->ps[i + 1][S_WQQ] = f->ps[i][S_WQQ] + x->w * q * q;
		f->ps[i + 1][S_WQY] = f->ps[i][S_WQY] + x->w * q * x->y;
	}
	for (size_t j = 0; j < f->nsplit; j++) {
		size_t s = f->split[j];
		struct fit a = fit_split(f, s, c, f->with_o);

		if (f->with_o && !a.ok && a.o < 0)
			a = fit_split(f, s, c, 0);
		if (a.ok && (!best.ok || a.cost < best.cost))
			best = a;
	}
	/* The expanded cost above cancels to rounding noise near an exact
	 * fit: the chosen one summed run by run, so that fits for different
	 * c compare on their true error. */
	if (best.ok) {
		best.cost = 0;
		for (size_t i = 0; i < f->n; i++) {
			const struct frun *x = &f->r[i];
			double e = best.o + x->b * fmax(best.v, best.u * gk(x->k, c)) - x->y;

			best.cost += x->w * e * e;
		}
	}
	return best;
}

static struct fit better(struct fit a, struct fit b)
{
	return b.ok && (!a.ok || b.cost < a.cost) ? b : a;
}

/* Grid over c in [0, C_MAX], then golden section around the best point. */
static struct fit fit_all(const struct fitctx *f, int with_c)
{
	struct fit zero = fit_c(f, 0), best = zero;
	int at = 0;

	for (int i = 1; with_c && i <= C_GRID; i++) {
		double x = (double)i / C_GRID;
		struct fit a = fit_c(f, C_MAX * x * x * x);

		if (a.ok && (!best.ok || a.cost < best.cost)) {
			best = a;
			at = i;
		}
	}
	if (with_c && best.ok) {
		double lo = at > 0 ? (double)(at - 1) / C_GRID : 0;
		double hi = at < C_GRID ? (double)(at + 1) / C_GRID : 1;
		const double g = 0.6180339887498949;

		lo = C_MAX * lo * lo * lo;
		hi = C_MAX * hi * hi * hi;
		for (int i = 0; i < C_REFINE; i++) {
			double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
			struct fit fa = fit_c(f, a), fb = fit_c(f, b);

			best = better(better(best, fa), fb);
			if (fa.ok && (!fb.ok || fa.cost <= fb.cost))
				hi = b;
			else
				lo = a;
		}
		/* no contention unless it lowers the error beyond rounding */
		if (zero.ok && zero.cost <= best.cost * (1 + 1e-9) + 1e-20 * (double)f->n)
			best = zero;
	}
	return best;
}

static int check_runs(const unsigned *k, const double *bytes, const double *makespan_s, size_t n)
{
	if (!k || !bytes || !makespan_s || n < 2)
		return -EINVAL;
	if (n > FIT_MAX_RUNS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (k[i] == 0 || !pol_num_ok(bytes[i], 0, 1) || !pol_num_ok(makespan_s[i], 0, 1) ||
		    !isfinite((double)k[i] * bytes[i]))
			return -EINVAL;
	return 0;
}

/* The sorted runs, their prefix sums and the candidate splits in *f;
 * counts the distinct k into *nks. */
static int prepare(struct fitctx *f, struct frun *r, const unsigned *k, const double *bytes,
		   const double *makespan_s, size_t n, int with_cap, size_t *nks)
{
	size_t *split = (size_t *)f->split, ns = 0, seen = 0;
	int sizes = 0;

	for (size_t i = 0; i < n; i++)
		r[i] = (struct frun){ .k = k[i], .b = bytes[i], .y = makespan_s[i],
				      .w = 1 / (makespan_s[i] * makespan_s[i]) };
	qsort(r, n, sizeof(*r), cmp_k);
	memset(f->ps[0], 0, sizeof(f->ps[0]));
	*nks = 0;
	for (size_t i = 0; i < n; i++) {
		const struct frun *x = &r[i];
		double *p = f->ps[i + 1], *q = f->ps[i];

		p[S_W] = q[S_W] + x->w;
		p[S_WY] = q[S_WY] + x->w * x->y;
		p[S_WYY] = q[S_WYY] + x->w * x->y * x->y;
		p[S_WB] = q[S_WB] + x->w * x->b;
		p[S_WBB] = q[S_WBB] + x->w * x->b * x->b;
		p[S_WBY] = q[S_WBY] + x->w * x->b * x->y;
		*nks += i == 0 || r[i].k != r[i - 1].k;
	}
	split[ns++] = 0;
	for (size_t i = 1; with_cap && i < n; i++) {
		/* runs of two sizes show the line o + b / cap on their own */
		sizes |= fabs(r[i - 1].b - r[0].b) > 1e-9 * r[0].b;
		if (r[i].k == r[i - 1].k)
			continue;
		seen++; /* distinct k in [0, i) */
		if ((seen >= CAP_MIN_KS || sizes) && *nks - seen >= CAP_MIN_KS)
			split[ns++] = i;
	}
	f->r = r;
	f->n = n;
	f->nsplit = ns;
	return 0;
}

/* true when link->size covers the double at offset off. */
static int has(const struct rvmig_link *link, size_t off)
{
	return link->size >= off + sizeof(double);
}

RVMIG_API int rvmig_link_fit(const unsigned *k, const double *bytes, const double *makespan_s,
			     size_t n, unsigned terms, struct rvmig_link *link, double *rel_err)
{
	struct fitctx f = { 0 };
	struct frun *r;
	size_t nks;
	struct fit best;
	double worst = 0, x0 = 0;
	int rc, same = 1;

	if (!link || link->size < sizeof(size_t) || (terms & ~(unsigned)RVMIG_LINK_ALL) ||
	    !has(link, offsetof(struct rvmig_link, bandwidth)))
		return -EINVAL;
	if ((rc = check_runs(k, bytes, makespan_s, n)) < 0)
		return rc;
	if (!has(link, offsetof(struct rvmig_link, overhead_s)))
		terms &= ~(unsigned)RVMIG_LINK_OVERHEAD;
	if (!has(link, offsetof(struct rvmig_link, per_transfer_cap)))
		terms &= ~(unsigned)RVMIG_LINK_CAP;
	if (!has(link, offsetof(struct rvmig_link, contention)))
		terms &= ~(unsigned)RVMIG_LINK_CONTENTION;
	for (size_t i = 0; i < n; i++) {
		double x = (double)k[i] * bytes[i];

		same &= i == 0 || fabs(x - x0) <= 1e-12 * x0;
		x0 = i == 0 ? x : x0;
	}
	if (same && (terms & RVMIG_LINK_OVERHEAD))
		return -EDOM;
	r = malloc(n * sizeof(*r));
	f.split = malloc(n * sizeof(*f.split));
	f.ps = malloc((n + 1) * sizeof(*f.ps));
	if (!r || !f.split || !f.ps) {
		rc = -ENOMEM;
		goto out;
	}
	f.with_o = !!(terms & RVMIG_LINK_OVERHEAD);
	prepare(&f, r, k, bytes, makespan_s, n, !!(terms & RVMIG_LINK_CAP), &nks);
	best = fit_all(&f, (terms & RVMIG_LINK_CONTENTION) && nks >= C_MIN_KS);
	if (!best.ok || !isfinite(1 / best.u)) {
		rc = -EDOM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		double pred = best.o + bytes[i] * fmax(best.v, best.u * gk(k[i], best.c));

		worst = fmax(worst, fabs(pred - makespan_s[i]) / makespan_s[i]);
	}
	link->bandwidth = 1 / best.u;
	if (terms & RVMIG_LINK_OVERHEAD)
		link->overhead_s = best.o;
	if (terms & RVMIG_LINK_CAP)
		link->per_transfer_cap = best.v > 0 ? 1 / best.v : 0;
	if (terms & RVMIG_LINK_CONTENTION)
		link->contention = best.c;
	if (rel_err)
		*rel_err = worst;
	rc = 0;
out:
	free(r);
	free((void *)f.split);
	free(f.ps);
	return rc;
}

RVMIG_API int rvmig_link_calibrate(const unsigned *k, const double *bytes,
				   const double *makespan_s, size_t n,
				   struct rvmig_link *link, double *rel_err)
{
	return rvmig_link_fit(k, bytes, makespan_s, n, RVMIG_LINK_OVERHEAD | RVMIG_LINK_CONTENTION,
			      link, rel_err);
}
