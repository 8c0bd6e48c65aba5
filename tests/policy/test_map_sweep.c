/* SPDX-License-Identifier: MIT */
/*
 * The good/bad map fitted to the real nginx + wrk sweeps committed in
 * bench/policy/data (bench/policy/README.md: nginx-light under cgroup v1
 * CPU caps, wrk paced by think time, on the shared 2-core build machine).
 * SLA: p99 <= 20 ms.  Only shares up to 0.6 CPU: above that the single wrk
 * thread, not nginx, saturates.
 *
 * Per sweep, scenario and fit (one cut on the load per CPU, the default,
 * and the older line through a cut per share) it prints and checks:
 *   - leave one share out (rvmig_map_crossval(), every share a fold);
 *   - held-out repetitions: the map fitted to all repetitions but one and
 *     judged on that one, in turn (rows of the same run; the repetition of
 *     a row is the number of rows before it with the same scenario, share
 *     and offered load, plus one: sweep.sh writes repetition r after r-1);
 *   - where the held-out errors are: by the map's class of the sample
 *     (good region, boundary band, bad region) and by CPU share;
 *   - the data's own floor (rvmig_map_error.floor_misclassified): the
 *     samples that any map must misclassify because repetitions of the
 *     same point disagree.
 * The bounds are the figures measured here with a margin; data and model
 * being fixed, a change of the model that makes them worse fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

#define SLA_MS 20
/* Bounds on the cleaner sweep: measured with a margin (see its test). */
#define SWEEP5_LOSO_MAX 0.45
#define SWEEP5_HELD_MAX 0.58
#define MAX_SHARE 0.6

static rvmig_samples *load(const char *env)
{
	const char *path = getenv(env);
	rvmig_samples *set;
	char err[256], *text;
	long len;
	FILE *f;
	int n;

	cr_assert_not_null(path, "%s is not set", env);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	n = rvmig_samples_parse(text, (size_t)len, &set, err, sizeof(err));
	free(text);
	cr_assert_gt(n, 0, "%s: %s", path, err);
	return set;
}

static struct rvmig_sample get(const rvmig_samples *set, size_t i)
{
	struct rvmig_sample s = { .size = sizeof(s) };

	cr_assert_eq(rvmig_samples_get(set, i, &s), 0);
	return s;
}

/* Repetition of sample i, from 1. */
static unsigned rep_of(const rvmig_samples *set, size_t i)
{
	struct rvmig_sample s = get(set, i);
	unsigned r = 1;

	for (size_t j = 0; j < i; j++) {
		struct rvmig_sample t = get(set, j);

		r += !strcmp(t.app, s.app) && !strcmp(t.scenario, s.scenario) &&
		     t.cpu_share == s.cpu_share && t.offered_rps == s.offered_rps;
	}
	return r;
}

/* What a subset keeps: the samples of repetition `rep` (or all others,
 * with `other`), and of those, with a map, the ones it puts in class
 * `cls` (0: any), or at CPU share `share` (0: any). */
struct keep {
	const unsigned *reps;
	unsigned rep;
	int other;
	const rvmig_map *map;
	enum rvmig_map_class cls;
	double share;
};

static rvmig_samples *subset(const rvmig_samples *set, const struct keep *k)
{
	rvmig_samples *sub;
	char err[128] = "";

	cr_assert_eq(rvmig_samples_create(&sub), 0);
	for (size_t i = 0; i < rvmig_samples_count(set); i++) {
		struct rvmig_sample s = get(set, i);

		if ((k->reps[i] == k->rep) == k->other)
			continue;
		if (k->cls && (s.offered_rps == 0 ||
			       rvmig_map_classify(k->map, s.cpu_share, s.offered_rps) != k->cls))
			continue;
		if (k->share && s.cpu_share != k->share)
			continue;
		cr_assert_geq(rvmig_samples_add(sub, &s, err, sizeof(err)), 0, "%s", err);
	}
	return sub;
}

struct tally {
	unsigned samples, wrong;
};

static void add(struct tally *t, const struct rvmig_map_error *e)
{
	t->samples += e->samples;
	t->wrong += e->misclassified;
}

static double pct(struct tally t)
{
	return t.samples ? 100.0 * t.wrong / t.samples : 0;
}

struct figures {
	struct rvmig_map_error loso;  /* leave one share out */
	int loso_rc;                  /* 0, or -EDOM: a fold left no map */
	struct tally held;            /* held-out repetitions */
	unsigned unfit;               /* repetitions whose others gave no map (-EDOM) */
	struct rvmig_map_error all;   /* the map of all rows judged on them (with the floor) */
	double c1;                    /* of the map fitted to all rows */
};

#define NSHARES 16

static struct figures figures_of(const char *env, const char *app, double max_share,
				 const char *scenario, int fit, double min_achieved,
				 enum rvmig_metric metric, double sla_ms)
{
	rvmig_samples *set = load(env);
	size_t n = rvmig_samples_count(set);
	unsigned *reps = calloc(n, sizeof(*reps)), nrep = 0;
	struct rvmig_map_attr a = {
		.size = sizeof(a), .app = app, .scenario = scenario, .max_share = max_share,
		.sla = { .size = sizeof(a.sla), .kind = RVMIG_SLA_RESPONSE, .metric = metric,
			 .target = sla_ms },
		.fit = fit, .min_achieved = min_achieved,
	};
	char name[96];
	struct figures f = { .loso = { .size = sizeof(f.loso) }, .all = { .size = sizeof(f.all) } };
	struct tally cls[3] = { { 0 } }, by_share[NSHARES] = { { 0 } };
	double shares[NSHARES];
	unsigned nshares = 0;
	rvmig_map *map;
	char err[256] = "";
	double c0;

	cr_assert_not_null(reps);
	snprintf(name, sizeof(name), "%s (min_achieved %.2f), SLA %s <= %g ms",
		 fit == RVMIG_MAP_FIT_UTILISATION ? "load per CPU" : "per share",
		 min_achieved ? min_achieved : 0.60, metric == RVMIG_METRIC_P50 ? "p50" : "p99", sla_ms);
	for (size_t i = 0; i < n; i++) {
		struct rvmig_sample s = get(set, i);
		unsigned k;

		reps[i] = rep_of(set, i);
		nrep = reps[i] > nrep ? reps[i] : nrep;
		if (s.offered_rps == 0 || s.cpu_share > max_share || strcmp(s.scenario, scenario))
			continue;
		for (k = 0; k < nshares && shares[k] != s.cpu_share; k++)
			;
		if (k == nshares && nshares < NSHARES)
			shares[nshares++] = s.cpu_share;
	}
	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s: %s", scenario, err);
	rvmig_map_coef(map, &c0, &f.c1);
	cr_assert_eq(rvmig_map_evaluate(map, set, &f.all), 0);
	rvmig_map_free(map);
	f.loso_rc = rvmig_map_crossval(set, &a, NSHARES, &f.loso, err, sizeof(err));
	if (f.loso_rc == -EDOM)
		printf("%s, %s: leave one share out: %s\n", scenario, name, err);
	else
		cr_assert_eq(f.loso_rc, 0, "%s: %s", scenario, err);
	/* one repetition: nothing to hold out but shares */
	for (unsigned r = 1; nrep > 1 && r <= nrep; r++) {
		struct keep train = { reps, r, 1, NULL, 0, 0 }, test = { reps, r, 0, NULL, 0, 0 };
		rvmig_samples *tr = subset(set, &train), *te;
		struct rvmig_map_error e = { .size = sizeof(e) };
		int rc = rvmig_map_fit(tr, &a, &map, err, sizeof(err));

		if (rc == -EDOM) {
			/* Said, counted, and checked by the caller. */
			printf("%s, %s: no map without repetition %u: %s\n", scenario, name, r, err);
			f.unfit++;
			rvmig_samples_free(tr);
			continue;
		}
		cr_assert_eq(rc, 0, "%s without rep %u: %s", scenario, r, err);
		te = subset(set, &test);
		cr_assert_eq(rvmig_map_evaluate(map, te, &e), 0);
		add(&f.held, &e);
		rvmig_samples_free(te);
		test.map = map;
		for (int c = RVMIG_MAP_GOOD; c <= RVMIG_MAP_BAD; c++) {
			test.cls = (enum rvmig_map_class)c;
			te = subset(set, &test);
			cr_assert_eq(rvmig_map_evaluate(map, te, &e), 0);
			add(&cls[c - 1], &e);
			rvmig_samples_free(te);
		}
		test.cls = 0;
		for (unsigned k = 0; k < nshares; k++) {
			test.share = shares[k];
			te = subset(set, &test);
			cr_assert_eq(rvmig_map_evaluate(map, te, &e), 0);
			add(&by_share[k], &e);
			rvmig_samples_free(te);
		}
		rvmig_map_free(map);
		rvmig_samples_free(tr);
	}
	printf("%s, %s: capacity = %.0f + %.0f x share req/s (all rows); floor %u of %u samples "
	       "(%.1f %%; %u repeated)\n", scenario, name, c0, f.c1, f.all.floor_misclassified,
	       f.all.samples, 100.0 * f.all.floor_misclassified / f.all.samples, f.all.repeated);
	printf("%s, %s: leave one share out %u of %u misclassified (%.1f %%); held-out repetitions "
	       "%u of %u (%.1f %%): good region %u/%u, band %u/%u, bad region %u/%u; by share:",
	       scenario, name, f.loso.misclassified, f.loso.samples, 100 * f.loso.misclass_rate,
	       f.held.wrong, f.held.samples, pct(f.held), cls[0].wrong, cls[0].samples,
	       cls[1].wrong, cls[1].samples, cls[2].wrong, cls[2].samples);
	for (unsigned k = 0; k < nshares; k++)
		printf(" %.2f %u/%u;", shares[k], by_share[k].wrong, by_share[k].samples);
	printf("\n");
	fflush(stdout);
	free(reps);
	rvmig_samples_free(set);
	return f;
}

static struct figures figures_at(const char *env, const char *scenario, int fit, double min_achieved,
				 enum rvmig_metric metric, double sla_ms)
{
	return figures_of(env, "nginx", MAX_SHARE, scenario, fit, min_achieved, metric, sla_ms);
}

static struct figures figures(const char *env, const char *scenario, int fit, double min_achieved)
{
	return figures_at(env, scenario, fit, min_achieved, RVMIG_METRIC_P99, SLA_MS);
}

/* With the old 80 % rule 61 of the 84 samples are bad and no cut on the
 * load per CPU beats calling them all bad. */
static void no_map_at(const char *env, const char *scenario, double min_achieved, double sla_ms)
{
	rvmig_samples *set = load(env);
	struct rvmig_map_attr a = {
		.size = sizeof(a), .app = "nginx", .scenario = scenario, .max_share = MAX_SHARE,
		.sla = { .size = sizeof(a.sla), .kind = RVMIG_SLA_RESPONSE, .metric = RVMIG_METRIC_P99,
			 .target = sla_ms },
		.min_achieved = min_achieved,
	};
	rvmig_map *map;
	char err[256] = "";

	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), -EDOM);
	printf("%s, load per CPU (min_achieved %.2f, SLA %g ms): %s\n", scenario,
	       min_achieved ? min_achieved : 0.60, sla_ms, err);
	rvmig_samples_free(set);
}

/* The sweep of 2026-12-06 (3 s points, 2 repetitions, load 10). */
#define SWEEP3 "RVMIG_POLICY_SWEEP_CSV"

/* unfit: how many repetitions are expected to leave no map when held
 * out, with either fit. */
static void check3(const char *scenario, double loso_max, double held_max, unsigned unfit)
{
	struct figures u = figures(SWEEP3, scenario, RVMIG_MAP_FIT_UTILISATION, 0);
	struct figures p = figures(SWEEP3, scenario, RVMIG_MAP_FIT_PER_SHARE, 0);

	cr_assert_gt(u.c1, 0);
	cr_assert_leq(u.loso.misclass_rate, loso_max, "%s: %.3f", scenario, u.loso.misclass_rate);
	cr_assert_eq(u.unfit, unfit, "%s", scenario);
	cr_assert_leq(pct(u.held), 100 * held_max, "%s: %.1f %%", scenario, pct(u.held));
	/* The fix: pooled, fewer held-out shares go wrong than per share
	 * (or per share gives no map for some fold). */
	cr_assert_eq(u.loso_rc, 0);
	cr_assert(p.loso_rc == -EDOM || u.loso.misclassified < p.loso.misclassified, "%s", scenario);
	/* Nothing beats the floor. */
	cr_assert_geq(u.all.misclassified, u.all.floor_misclassified);
}

/* The median: p50 <= 5 ms.  A host stall sets a point's p99 but not its
 * median, so on the same samples this is the cap's own boundary. */
#define P50_MS 5

Test(map_sweep, alone_median)
{
	struct figures u = figures_at(SWEEP3, "alone", RVMIG_MAP_FIT_UTILISATION, 0,
				      RVMIG_METRIC_P50, P50_MS);

	cr_assert_eq(u.loso_rc, 0);
	cr_assert_eq(u.unfit, 0);
	/* Held out, no worse than the floor of the data plus one sample. */
	cr_assert_leq(u.loso.misclassified, u.all.floor_misclassified + 1, "%u", u.loso.misclassified);
	cr_assert_leq(pct(u.held), 8.0);
}

Test(map_sweep, alone)
{
	/* The figure the map had before (README: 34.5 %): per share, a
	 * sample bad below 80 % of the offered load achieved. */
	struct figures old = figures(SWEEP3, "alone", RVMIG_MAP_FIT_PER_SHARE, 0.80);

	cr_assert_eq(old.loso.misclassified, 29);
	cr_assert_eq(old.loso.samples, 84);
	no_map_at(SWEEP3, "alone", 0.80, SLA_MS);
	check3("alone", 0.27, 0.42, 1);
}

Test(map_sweep, disjoint_cpu)
{
	check3("disjoint-cpu", 0.24, 0.31, 0);
}

Test(map_sweep, shared_cpu)
{
	check3("shared-cpu", 0.17, 0.18, 0);
}

/* The cleaner sweep of 2026-12-06 (bench/policy/README.md: 5 s points, 3
 * repetitions, offered = 7500 ... 75 000 req/s per CPU of the cap, alone). */
#define SWEEP5 "RVMIG_POLICY_SWEEP5_CSV"

Test(map_sweep5, alone)
{
	/* Made at load 12-18 with the host's CPU pressure near 80 %: at the
	 * 20-ms SLA no map (README: host stalls at every load). */
	no_map_at(SWEEP5, "alone", 0, SLA_MS);
	/* At 50 ms: a map, but no better than the repetitions agree. */
	struct figures u = figures_at(SWEEP5, "alone", RVMIG_MAP_FIT_UTILISATION, 0,
				      RVMIG_METRIC_P99, 50);
	struct figures p = figures_at(SWEEP5, "alone", RVMIG_MAP_FIT_PER_SHARE, 0,
				      RVMIG_METRIC_P99, 50);
	struct figures m = figures_at(SWEEP5, "alone", RVMIG_MAP_FIT_UTILISATION, 0,
				      RVMIG_METRIC_P50, P50_MS);

	cr_assert_gt(u.c1, 0);
	cr_assert_eq(u.loso_rc, 0);
	/* Repetitions 1 and 2 alone: 34 good of 108, no cut beats all bad. */
	cr_assert_eq(u.unfit, 1);
	cr_assert_leq(u.loso.misclass_rate, SWEEP5_LOSO_MAX, "%.3f", u.loso.misclass_rate);
	cr_assert_leq(pct(u.held), 100 * SWEEP5_HELD_MAX, "%.1f %%", pct(u.held));
	cr_assert_geq(u.all.misclassified, u.all.floor_misclassified);
	cr_assert(p.loso_rc == 0);
	/* The median's map. */
	cr_assert_eq(m.loso_rc, 0);
	cr_assert_eq(m.unfit, 0);
	cr_assert_leq(m.loso.misclass_rate, 0.30, "%.3f", m.loso.misclass_rate);
}

/* The Xen guest's sweep of 2026-12-07 (bench/policy/README.md, "The Xen
 * guest sweep"): busybox httpd in a PV guest under credit2 caps (alone)
 * and weights against a burning guest (weight), wrk in dom0, all under
 * qemu TCG; one repetition, so held out one share at a time only.  SLA:
 * the median under XEN_P50_MS; a sample keeps up from XEN_MIN_ACHIEVED of
 * the offered rate (paced by 4-s think times with 0.4-1 s responses and
 * connects, the uncapped guest's light points achieved 0.58-0.67). */
#define SWEEPXEN "RVMIG_POLICY_XEN_CSV"
#define XEN_APP "xen-busybox-httpd"
#define XEN_P50_MS 2000
#define XEN_MIN_ACHIEVED 0.40
/* Measured 6 of 30 (20.0 %); the bound with a margin of 3 samples. */
#define XEN_ALONE_LOSO_MAX 0.30

static struct figures xen_figures(const char *scenario)
{
	return figures_of(SWEEPXEN, XEN_APP, 1.0, scenario, RVMIG_MAP_FIT_UTILISATION,
			  XEN_MIN_ACHIEVED, RVMIG_METRIC_P50, XEN_P50_MS);
}

Test(map_xen, alone)
{
	struct figures u = xen_figures("alone");

	cr_assert_gt(u.c1, 0);
	cr_assert_eq(u.loso_rc, 0);
	cr_assert_leq(u.loso.misclass_rate, XEN_ALONE_LOSO_MAX, "%.3f", u.loso.misclass_rate);
}

/* Against a burner at 256, weights 64..1024: 13 of 15 paced samples good
 * (a waking guest runs first whatever its weight), so a map of all rows
 * (1 misclassified) but none with a share held out: the other two shares
 * hold too few bad samples for any cut to beat "all good". */
Test(map_xen, weight)
{
	struct figures u = xen_figures("weight");

	cr_assert_gt(u.c1, 0);
	cr_assert_leq(u.all.misclassified, 2, "%u", u.all.misclassified);
	cr_assert_eq(u.loso_rc, -EDOM);
}
