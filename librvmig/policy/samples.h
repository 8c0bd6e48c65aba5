/* SPDX-License-Identifier: MIT */
/* The sample set behind rvmig_samples (samples.c, csv.c). */
#ifndef RVMIG_POLICY_SAMPLES_H
#define RVMIG_POLICY_SAMPLES_H

#include <rvmig/policy.h>

struct pol_sample {
	char app[RVMIG_SAMPLES_MAX_NAME + 1];
	char scenario[RVMIG_SAMPLES_MAX_NAME + 1];
	double cpu_share, offered_rps, achieved_rps, p50_ms, p99_ms, mean_ms;
	uint64_t errors;
	double duration_s;
	unsigned line;
};

struct rvmig_samples {
	struct pol_sample *v;
	size_t n, cap;
};

/* Checks a sample's values (the rules of struct rvmig_sample); err gets
 * "FIELD: why" with no position.  -EINVAL. */
int pol_sample_check(const struct pol_sample *s, char *err, size_t errlen);
/* Appends a checked sample.  -E2BIG, -ENOMEM. */
int pol_samples_push(struct rvmig_samples *set, const struct pol_sample *s);
/* true for a valid app / scenario name of n bytes. */
int pol_name_ok(const char *s, size_t n);

#endif
