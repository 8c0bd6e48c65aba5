/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the policy model's measurement CSV parser
 * (librvmig/policy/csv.c) and, on what it accepts, the map fit and its
 * cross-validation (map.c, validate.c).  The input is the CSV text,
 * exactly as long as the input.  Invariants: an error leaves no set and a
 * terminated message; an accepted set holds exactly the rows counted, each
 * within the documented rules; a fitted map has a capacity growing with
 * share and finite validation figures.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sample(const struct rvmig_sample *s)
{
	size_t la = strlen(s->app), ls = strlen(s->scenario);

	if (la == 0 || la > RVMIG_SAMPLES_MAX_NAME || ls == 0 || ls > RVMIG_SAMPLES_MAX_NAME ||
	    strspn(s->app, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != la)
		abort();
	if (!(s->cpu_share > 0) || !isfinite(s->cpu_share) || !(s->offered_rps >= 0) ||
	    !isfinite(s->offered_rps) || !(s->achieved_rps >= 0) || !isfinite(s->p99_ms) ||
	    !(s->p50_ms >= 0) || s->p50_ms > s->p99_ms || !(s->mean_ms >= 0) ||
	    !isfinite(s->mean_ms) || !(s->duration_s > 0) || !isfinite(s->duration_s) ||
	    s->line == 0)
		abort();
}

static void check_map(const rvmig_samples *set, const char *app)
{
	struct rvmig_map_attr a = {
		.size = sizeof(a), .app = app, .sla = { .target = 5 },
	};
	struct rvmig_map_error e = { .size = sizeof(e) };
	rvmig_map *map;
	double c0, c1;
	char err[128];

	if (rvmig_map_fit(set, &a, &map, err, sizeof(err)) == 0) {
		rvmig_map_coef(map, &c0, &c1);
		if (!(c1 > 0) || !isfinite(c0) || rvmig_map_capacity(map, 1) < 0 ||
		    rvmig_map_share_needed(map, 1000) < 0)
			abort();
		if (rvmig_map_evaluate(map, set, &e) != 0 || e.misclassified > e.samples ||
		    !(e.cap_err_mean >= 0) || !isfinite(e.cap_err_max))
			abort();
		rvmig_map_free(map);
	} else if (!memchr(err, 0, sizeof(err))) {
		abort();
	}
	if (rvmig_map_crossval(set, &a, 3, &e, err, sizeof(err)) == 0 &&
	    (e.misclassified > e.samples || !(e.misclass_rate <= 1) || !isfinite(e.cap_err_max)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rvmig_sample s = { .size = sizeof(s) };
	rvmig_samples *set = (void *)1;
	char err[256];
	int n;

	err[0] = 1;
	n = rvmig_samples_parse(data, size, &set, err, sizeof(err));
	if (n < 0) {
		if (set || !memchr(err, 0, sizeof(err)) || err[0] == 0)
			abort();
		return 0;
	}
	if (!set || rvmig_samples_count(set) != (size_t)n)
		abort();
	for (int i = 0; i < n; i++) {
		if (rvmig_samples_get(set, (size_t)i, &s) != 0)
			abort();
		check_sample(&s);
	}
	if (n > 0 && rvmig_samples_get(set, 0, &s) == 0) {
		char app[RVMIG_SAMPLES_MAX_NAME + 1];

		strcpy(app, s.app);
		check_map(set, app);
	}
	rvmig_samples_free(set);
	return 0;
}
