/* SPDX-License-Identifier: MIT */
/*
 * The good/bad map (librvmig/policy/map.c, validate.c): fitted to
 * synthetic samples with a known boundary and to the capacities the issue
 * measured for nginx under CPU caps; classification with its band,
 * cross-validation, and the refusals.  Both fits: one cut on the load per
 * CPU over all shares (RVMIG_MAP_FIT_UTILISATION, the default) and a line
 * through a cut per share (RVMIG_MAP_FIT_PER_SHARE).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define TARGET_MS 10.0

/* Adds samples at `share` at load = f[i] * cap: good (p99 half the
 * target) at f <= 1, bad (p99 5 x the target) above. */
static void add_share(rvmig_samples *set, const char *app, double share, double cap,
		      const double *f, size_t nf)
{
	char err[128] = "";

	for (size_t i = 0; i < nf; i++) {
		double load = f[i] * cap;
		struct rvmig_sample s = {
			.size = sizeof(s), .app = app, .scenario = "alone", .cpu_share = share,
			.offered_rps = load, .achieved_rps = load, .p50_ms = 1,
			.p99_ms = f[i] <= 1 ? TARGET_MS / 2 : TARGET_MS * 5, .mean_ms = 1.5,
			.duration_s = 30,
		};

		cr_assert_geq(rvmig_samples_add(set, &s, err, sizeof(err)), 0, "%s", err);
	}
}

static const double grid[] = { 0.5, 0.7, 0.9, 0.98, 1.02, 1.1, 1.3, 1.6 };
#define NGRID (sizeof(grid) / sizeof(grid[0]))

static struct rvmig_map_attr attr(void)
{
	return (struct rvmig_map_attr){
		.size = sizeof(struct rvmig_map_attr),
		.sla = { .kind = RVMIG_SLA_RESPONSE, .metric = RVMIG_METRIC_P99, .target = TARGET_MS },
	};
}

Test(policy_map, known_boundary)
{
	const double shares[] = { 0.1, 0.2, 0.4, 0.8, 1.6 };
	struct rvmig_map_attr a = attr();
	struct rvmig_map_error e = { .size = sizeof(e) };
	rvmig_samples *set;
	rvmig_map *map;
	double c0, c1, s, c;
	char err[256] = "";

	/* Capacity with an intercept: the line through the per-share cuts. */
	a.fit = RVMIG_MAP_FIT_PER_SHARE;
	cr_assert_eq(rvmig_samples_create(&set), 0);
	for (size_t i = 0; i < 5; i++)
		add_share(set, "web", shares[i], 1000 + 40000 * shares[i], grid, NGRID);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_map_coef(map, &c0, &c1), 5);
	/* Boundary points at sqrt(0.98 * 1.02) = 0.9998 of the capacity. */
	cr_assert(fabs(c1 / 40000 - 0.9998) < 1e-4, "c1 %g", c1);
	cr_assert(fabs(c0 / 1000 - 0.9998) < 1e-3, "c0 %g", c0);
	cr_assert_eq(rvmig_map_boundary(map, 2, &s, &c), 0);
	cr_assert_eq(s, 0.4);
	cr_assert(fabs(c - 17000 * sqrt(0.98 * 1.02)) < 1e-6, "boundary %g", c);
	cr_assert_eq(rvmig_map_boundary(map, 5, &s, &c), -ERANGE);
	/* Classification with the default 10 % band. */
	cr_assert_eq(rvmig_map_classify(map, 0.4, 17000 * 0.5), RVMIG_MAP_GOOD);
	cr_assert_eq(rvmig_map_classify(map, 0.4, 17000 * 0.89), RVMIG_MAP_GOOD);
	cr_assert_eq(rvmig_map_classify(map, 0.4, 17000 * 0.95), RVMIG_MAP_BOUNDARY);
	cr_assert_eq(rvmig_map_classify(map, 0.4, 17000 * 1.05), RVMIG_MAP_BOUNDARY);
	cr_assert_eq(rvmig_map_classify(map, 0.4, 17000 * 1.2), RVMIG_MAP_BAD);
	cr_assert(fabs(rvmig_map_share_needed(map, 17000) - 0.4) < 1e-3);
	cr_assert_eq(rvmig_map_share_needed(map, 0), 0);
	/* Judged on its own samples: every one on the right side. */
	cr_assert_eq(rvmig_map_evaluate(map, set, &e), 0);
	cr_assert_eq(e.samples, 5 * NGRID);
	cr_assert_eq(e.misclassified, 0);
	cr_assert_eq(e.boundaries, 5);
	cr_assert_lt(e.cap_err_max, 1e-3);
	rvmig_map_free(map);
	/* Leave-one-share-out: the linear model predicts each held-out share,
	 * the outermost ones by extrapolation. */
	cr_assert_eq(rvmig_map_crossval(set, &a, 5, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.samples, 5 * NGRID);
	cr_assert_eq(e.misclassified, 0);
	cr_assert_eq(e.boundaries, 5);
	cr_assert_lt(e.cap_err_max, 1e-3);
	rvmig_samples_free(set);
}

/* The issue's nginx figures: req/s at a CPU quota of 5, 10, 20, 40, 80 %. */
static const double issue_share[] = { 0.05, 0.10, 0.20, 0.40, 0.80 };
static const double issue_cap[] = { 2300, 4300, 8900, 16500, 34700 };

Test(policy_map, issue_example_is_linear)
{
	static const double f[] = { 0.6, 0.8, 0.95, 1.05, 1.2, 1.5 };
	struct rvmig_map_attr a = attr();
	struct rvmig_map_error e = { .size = sizeof(e) };
	rvmig_samples *set;
	rvmig_map *map;
	double c0, c1;
	char err[256] = "";

	a.fit = RVMIG_MAP_FIT_PER_SHARE;
	cr_assert_eq(rvmig_samples_create(&set), 0);
	for (size_t i = 0; i < 5; i++)
		add_share(set, "nginx", issue_share[i], issue_cap[i], f, sizeof(f) / sizeof(f[0]));
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s", err);
	rvmig_map_coef(map, &c0, &c1);
	cr_log_info("issue example: capacity = %.0f + %.0f * share req/s", c0, c1);
	/* About 43 k req/s per CPU, an intercept small against the smallest
	 * capacity, and every measured point within 6 % of the line. */
	cr_assert(c1 > 41000 && c1 < 46000, "c1 %g", c1);
	cr_assert(fabs(c0) < 0.1 * 2300, "c0 %g", c0);
	for (size_t i = 0; i < 5; i++) {
		double rel = fabs(rvmig_map_capacity(map, issue_share[i]) - issue_cap[i]) / issue_cap[i];

		cr_log_info("  share %.2f: measured %.0f, model %.0f (%.1f %%)", issue_share[i],
			    issue_cap[i], rvmig_map_capacity(map, issue_share[i]), 100 * rel);
		cr_assert_lt(rel, 0.06, "share %g: %.3f off", issue_share[i], rel);
	}
	rvmig_map_free(map);
	cr_assert_eq(rvmig_map_crossval(set, &a, 5, &e, err, sizeof(err)), 0, "%s", err);
	cr_log_info("issue example, leave-one-share-out: misclassified %u of %u, capacity error "
		    "mean %.1f %% max %.1f %%", e.misclassified, e.samples, 100 * e.cap_err_mean,
		    100 * e.cap_err_max);
	/* Held out, the 5 % and 80 % points are extrapolated. */
	cr_assert_lt(e.cap_err_max, 0.10);
	cr_assert_lt(e.misclass_rate, 0.1);
	rvmig_samples_free(set);
}

Test(policy_map, throughput_and_errors_make_bad)
{
	const char *text =
		RVMIG_SAMPLES_HEADER "\n"
		"nginx,alone,0.5,1000,1000,1,2,1,0,10\n"
		/* fast, but it only served 55 % of what was offered */
		"nginx,alone,0.5,2000,1100,1,2,1,0,10\n"
		"nginx,alone,0.5,4000,2200,1,2,1,0,10\n"
		/* 65 %: kept up (the default min_achieved is 0.60) */
		"nginx,alone,0.5,500,325,1,2,1,0,10\n"
		"nginx,alone,1,2000,2000,1,2,1,0,10\n"
		/* fast, but 2 % errors */
		"nginx,alone,1,4000,4000,1,2,1,800,10\n"
		/* closed loop: not in the map */
		"nginx,alone,1,0,9000,1,2,1,0,10\n";
	struct rvmig_map_attr a = attr();
	rvmig_samples *set;
	rvmig_map *map;
	double s, c;
	char err[256] = "";

	struct rvmig_map_error e = { .size = sizeof(e) };

	cr_assert_eq(rvmig_samples_parse(text, strlen(text), &set, err, sizeof(err)), 7, "%s", err);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_map_coef(map, NULL, NULL), 2);
	rvmig_map_boundary(map, 0, &s, &c);
	cr_assert(s == 0.5 && fabs(c - sqrt(1000.0 * 2000)) < 1e-9, "%g %g", s, c);
	rvmig_map_boundary(map, 1, &s, &c);
	cr_assert(s == 1 && fabs(c - sqrt(2000.0 * 4000)) < 1e-9, "%g %g", s, c);
	cr_assert_eq(rvmig_map_evaluate(map, set, &e), 0);
	cr_assert_eq(e.samples, 6);
	cr_assert_eq(e.misclassified, 0);
	rvmig_map_free(map);
	rvmig_samples_free(set);
}

Test(policy_map, selection_and_refusals)
{
	static const double f[] = { 0.5, 1.5 };
	static const double only_good[] = { 0.5, 0.9 };
	struct rvmig_map_attr a = attr();
	struct rvmig_map_error e = { .size = sizeof(e) };
	rvmig_samples *set;
	rvmig_map *map = (void *)1;
	char err[256] = "";

	cr_assert_eq(rvmig_samples_create(&set), 0);
	add_share(set, "nginx", 0.1, 4000, f, 2);
	add_share(set, "redis", 0.1, 9000, f, 2);
	/* Two apps and no choice. */
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EINVAL);
	cr_assert_null(map);
	cr_assert(strstr(err, "\"nginx\" (line 0) and \"redis\" (line 0)"), "%s", err);
	/* One app, one share: proportional. */
	a.app = "redis";
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s", err);
	cr_assert(fabs(rvmig_map_capacity(map, 0.2) - 2 * 9000 * sqrt(0.5 * 1.5)) < 1e-6);
	rvmig_map_free(map);
	/* Cross-validation needs two shares. */
	cr_assert_eq(rvmig_map_crossval(set, &a, 2, &e, err, sizeof(err)), -EDOM);
	cr_assert_eq(rvmig_map_crossval(set, &a, 1, &e, err, sizeof(err)), -EINVAL);
	/* No boundary anywhere. */
	a.app = "memcached";
	add_share(set, "memcached", 0.1, 1000, only_good, 2);
	add_share(set, "memcached", 0.2, 2000, only_good, 2);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EDOM);
	cr_assert(strstr(err, "no cut on the load per CPU of the 4 samples (4 good)"), "%s", err);
	a.fit = RVMIG_MAP_FIT_PER_SHARE;
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EDOM);
	cr_assert(strstr(err, "none of the 2 CPU shares selected has a boundary"), "%s", err);
	/* Capacity falling with share: only a line through per-share cuts
	 * can (one cut on the load per CPU always grows with the share). */
	a.app = "odd";
	add_share(set, "odd", 0.1, 5000, f, 2);
	add_share(set, "odd", 0.2, 2000, f, 2);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EDOM);
	cr_assert(strstr(err, "does not grow"), "%s", err);
	/* Bad attrs. */
	a.app = "has space";
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EINVAL);
	a = attr();
	a.sla.kind = RVMIG_SLA_FLOOR;
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EINVAL);
	a = attr();
	a.fit = 7;
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "fit 7"), "%s", err);
	a = attr();
	a.band = 1.5;
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "band"), "%s", err);
	rvmig_samples_free(set);
}

Test(policy_map, noise_does_not_move_the_boundary)
{
	/* Two repetitions at share 1 (capacity 10 k): a p99 spike at the
	 * lightest load, and repetitions disagreeing at 1.1 x. */
	static const double f1[] = { 0.25, 0.5, 0.9, 1.1, 1.5 };
	static const double f2[] = { 0.5, 0.9, 1.5 };
	static const double spike[] = { 0.25 };
	static const double late[] = { 1.1 };
	struct rvmig_map_attr a = attr();
	rvmig_samples *set;
	rvmig_map *map;
	double s, c;

	cr_assert_eq(rvmig_samples_create(&set), 0);
	add_share(set, "nginx", 1, 10000, f1, 5);
	add_share(set, "nginx", 1, 10000, f2, 3);
	add_share(set, "nginx", 1, 10000 * 0.2, spike, 1);  /* bad at 2.5 k */
	add_share(set, "nginx", 1, 10000 * 1.2, late, 1);   /* good at 11 k */
	cr_assert_eq(rvmig_map_fit(set, &a, &map, NULL, 0), 0);
	cr_assert_eq(rvmig_map_boundary(map, 0, &s, &c), 0);
	cr_assert(fabs(c - sqrt(9000.0 * 11000)) < 1e-6, "boundary %g", c);
	rvmig_map_free(map);
	rvmig_samples_free(set);
}

Test(policy_map, band_is_a_parameter)
{
	static const double f[] = { 0.5, 0.99, 1.01, 1.5 };
	struct rvmig_map_attr a = attr();
	rvmig_samples *set;
	rvmig_map *map;

	a.band = 0.3;
	cr_assert_eq(rvmig_samples_create(&set), 0);
	add_share(set, "nginx", 1, 10000, f, 4);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, NULL, 0), 0);
	cr_assert_eq(rvmig_map_classify(map, 1, 6500), RVMIG_MAP_GOOD);
	cr_assert_eq(rvmig_map_classify(map, 1, 7500), RVMIG_MAP_BOUNDARY);
	cr_assert_eq(rvmig_map_classify(map, 1, 12500), RVMIG_MAP_BOUNDARY);
	cr_assert_eq(rvmig_map_classify(map, 1, 13500), RVMIG_MAP_BAD);
	rvmig_map_free(map);
	rvmig_samples_free(set);
}

/* Capacity 30 k req/s per CPU at six shares; a clean grid of loads at
 * each, plus light-load p99 spikes (a host stall) at some shares, one of
 * which has more spikes than good samples under its capacity. */
static rvmig_samples *stalled_sweep(void)
{
	static const double shares[] = { 0.05, 0.1, 0.2, 0.3, 0.4, 0.6 };
	static const double f[] = { 0.25, 0.5, 0.7, 0.85, 0.95, 1.05, 1.2, 1.5, 2 };
	/* Bad (add_share: f > 1) at 0.25 x capacity: f = 2 of capacity / 8. */
	static const double spike[] = { 2 };
	rvmig_samples *set;

	cr_assert_eq(rvmig_samples_create(&set), 0);
	for (size_t i = 0; i < 6; i++) {
		double cap = 30000 * shares[i];

		add_share(set, "nginx", shares[i], cap, f, 9);
		if (i == 1 || i == 4)
			add_share(set, "nginx", shares[i], cap / 8, spike, 1);
		if (i == 3)
			for (int k = 0; k < 4; k++)
				add_share(set, "nginx", shares[i], cap / 8, spike, 1);
	}
	return set;
}

Test(policy_map, utilisation_cut_pools_the_shares)
{
	struct rvmig_map_attr a = attr();
	struct rvmig_map_error e = { .size = sizeof(e) };
	rvmig_samples *set = stalled_sweep();
	rvmig_map *map;
	double c0, c1, s, c;
	char err[256] = "";

	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s", err);
	rvmig_map_coef(map, &c0, &c1);
	/* Between 0.95 and 1.05 of 30 k per CPU, through the origin. */
	cr_assert(c0 == 0 && fabs(c1 - 30000 * sqrt(0.95 * 1.05)) < 1e-6, "%g + %g x share", c0, c1);
	/* The per-share cuts are kept; at 0.3 CPU the 4 spikes (at 2250
	 * req/s, beside one good sample) are a minority of the samples under
	 * capacity, so its cut is the clean one too. */
	cr_assert_eq(rvmig_map_coef(map, NULL, NULL), 6);
	cr_assert_eq(rvmig_map_boundary(map, 3, &s, &c), 0);
	cr_assert(s == 0.3 && fabs(c - 9000 * sqrt(0.95 * 1.05)) < 1e-6, "share %g cut %g", s, c);
	/* Only the 6 spikes are misclassified, in sample and held out. */
	cr_assert_eq(rvmig_map_evaluate(map, set, &e), 0);
	cr_assert_eq(e.samples, 6 * 9 + 6);
	cr_assert_eq(e.misclassified, 6);
	/* The spikes repeat the 0.25 x capacity point: 1 + 1 there at 0.1
	 * and 0.4 CPU, 1 good + 4 bad at 0.3; no map can do better than
	 * 1 + 1 + 1 of those 9 (that it misclassifies 6 is the spikes
	 * being the majority at 0.3). */
	cr_assert_eq(e.repeated, 9);
	cr_assert_eq(e.floor_misclassified, 3);
	rvmig_map_free(map);
	cr_assert_eq(rvmig_map_crossval(set, &a, 6, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.misclassified, 6, "%u", e.misclassified);
	/* The line through the same (clean) cuts does as well here; on the
	 * real sweep it does not (tests/policy/test_map_sweep.c). */
	a.fit = RVMIG_MAP_FIT_PER_SHARE;
	cr_assert_eq(rvmig_map_crossval(set, &a, 6, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.misclassified, 6, "%u", e.misclassified);
	rvmig_samples_free(set);
}

Test(policy_map, huge_load_per_cpu_is_refused)
{
	/* 1e300 req/s at 1e-9 CPU is past the largest double per CPU. */
	const char *text = RVMIG_SAMPLES_HEADER "\n"
			   "x,alone,1e-9,1e200,1e200,1,2,1,0,10\n"
			   "x,alone,1e-9,1e300,1e300,1,99,1,0,10\n";
	struct rvmig_map_attr a = attr();
	rvmig_samples *set;
	rvmig_map *map;
	char err[256] = "";

	cr_assert_eq(rvmig_samples_parse(text, strlen(text), &set, err, sizeof(err)), 2, "%s", err);
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EDOM);
	cr_assert(strstr(err, "not finite"), "%s", err);
	rvmig_samples_free(set);
}
