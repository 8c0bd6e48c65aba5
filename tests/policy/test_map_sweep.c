/* SPDX-License-Identifier: MIT */
/*
 * The good/bad map fitted to the real nginx + wrk sweep committed in
 * bench/policy/data (bench/policy/README.md: nginx-light under cgroup v1
 * CPU caps, wrk paced by think time, 2 repetitions of 3 s per point, one
 * run on the shared 2-core build machine).  SLA: p99 <= 20 ms.  Only shares
 * up to 0.6 CPU: above that the single wrk thread, not nginx, saturates.
 * Per scenario it prints the fitted capacity line and the leave-one-share-
 * out figures (misclassified samples, error of the held-out share's
 * capacity).  The figures are poor -- alone: 29 of 84 samples
 * misclassified, held-out capacity off by 44 % on average: 3-s points with
 * host stalls of 60-90 ms set many a p99, and the boundaries fall on the
 * sweep's doubling grid of offered rates -- so the checks are what the data
 * carries (a fit exists and grows with the share) plus the held-out figures
 * as measured today, data and model being fixed, so that a change of the
 * model that makes them worse fails here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/policy.h>

static rvmig_samples *load(void)
{
	const char *path = getenv("RVMIG_POLICY_SWEEP_CSV");
	rvmig_samples *set;
	char err[256], *text;
	long len;
	FILE *f;
	int n;

	cr_assert_not_null(path);
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

static void fit(const char *scenario, double *c1_out, struct rvmig_map_error *cv)
{
	rvmig_samples *set = load();
	struct rvmig_map_attr a = {
		.size = sizeof(a), .app = "nginx", .scenario = scenario, .max_share = 0.6,
		.sla = { .size = sizeof(a.sla), .kind = RVMIG_SLA_RESPONSE, .metric = RVMIG_METRIC_P99,
			 .target = 20 },
	};
	rvmig_map *map;
	char err[256];
	double c0, c1, share, cap;
	unsigned np;

	cr_assert_eq(rvmig_map_fit(set, &a, &map, err, sizeof(err)), 0, "%s: %s", scenario, err);
	np = rvmig_map_coef(map, &c0, &c1);
	printf("%s: capacity = %.0f + %.0f x share req/s, from %u boundary points:", scenario, c0, c1, np);
	for (unsigned i = 0; i < np; i++)
		if (rvmig_map_boundary(map, i, &share, &cap) == 0)
			printf(" %.2f CPU %.0f;", share, cap);
	printf("\n");
	memset(cv, 0, sizeof(*cv));
	cv->size = sizeof(*cv);
	if (rvmig_map_crossval(set, &a, 16, cv, err, sizeof(err)) < 0) {
		printf("%s: leave one share out: %s\n", scenario, err);
		cv->misclass_rate = -1;
	} else
	printf("%s: leave one share out: %u of %u samples misclassified (%.1f %%), held-out capacity "
	       "error mean %.1f %%, max %.1f %% over %u shares\n",
	       scenario, cv->misclassified, cv->samples, 100 * cv->misclass_rate, 100 * cv->cap_err_mean,
	       100 * cv->cap_err_max, cv->boundaries);
	fflush(stdout);
	*c1_out = c1;
	rvmig_map_free(map);
	rvmig_samples_free(set);
}

Test(map_sweep, alone)
{
	struct rvmig_map_error cv;
	double c1;

	fit("alone", &c1, &cv);
	cr_assert_gt(c1, 0, "capacity grows with the share");
	cr_assert(cv.misclass_rate >= 0 && cv.misclass_rate <= 0.36, "misclassified %.3f", cv.misclass_rate);
	cr_assert_leq(cv.cap_err_mean, 0.45);
}

Test(map_sweep, disjoint_cpu)
{
	struct rvmig_map_error cv;
	double c1;

	fit("disjoint-cpu", &c1, &cv);
	cr_assert_gt(c1, 0, "capacity grows with the share");
	cr_assert(cv.misclass_rate >= 0 && cv.misclass_rate <= 0.38, "misclassified %.3f", cv.misclass_rate);
}

Test(map_sweep, shared_cpu)
{
	struct rvmig_map_error cv;
	double c1;

	/* Too few boundaries to leave one share out (a fold has none). */
	fit("shared-cpu", &c1, &cv);
	cr_assert_gt(c1, 0, "capacity grows with the share");
}
