/* SPDX-License-Identifier: MIT */
/*
 * map_fit: the policy's good/bad map (rvmig_policy(3)) fitted to a
 * bench/policy sweep CSV, from the command line, with its held-out error.
 *
 *   map_fit CSV APP SCENARIO p99|p50 SLA_MS [MAX_SHARE [MIN_ACHIEVED]]
 *
 * MAX_SHARE: only samples at shares up to it (0: all); MIN_ACHIEVED: the
 * share of the offered rate a sample must achieve to be good (the map's
 * default 0.60 when not given; rvmig_map_attr).
 *
 * Prints the fitted boundary (rvmig_map_fit(), one cut on the load per CPU:
 * capacity = c1 x share), the map judged on its own samples with the data's
 * floor (rvmig_map_evaluate()), and the error held out one share at a time
 * (rvmig_map_crossval(), every share a fold), as "key=value" lines.
 * Exit 0 with a map, 3 when the samples have no boundary (-EDOM: no cut
 * beats calling them all good or all bad; the reason on stderr), 1 on a
 * bad file, 2 on bad arguments.  Used by the Xen tier's
 * xen.policy_guest_map and to report a sweep's map (bench/policy/README.md).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig.h>
#include <rvmig/policy.h>

/* RVMIG_SAMPLES_MAX_ROWS lines of at most RVMIG_SAMPLES_MAX_LINE bytes
 * would be 400 MB; a sweep is a few hundred rows.  64 MiB is plenty. */
#define MAX_FILE (64u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: map_fit CSV APP SCENARIO p99|p50 SLA_MS [MAX_SHARE [MIN_ACHIEVED]]\n");
	return 2;
}

static int number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*out) && *out >= 0 ? 0 : -EINVAL;
}

static int load(const char *path, rvmig_samples **set)
{
	char err[512], *text = NULL;
	size_t len = 0, n;
	FILE *f = fopen(path, "r");
	int rc = -ENOMEM;

	if (!f) {
		fprintf(stderr, "map_fit: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (!(text = malloc(MAX_FILE)))
		goto out;
	while ((n = fread(text + len, 1, MAX_FILE - len, f)) > 0 && len + n < MAX_FILE)
		len += n;
	if (ferror(f) || n) {
		fprintf(stderr, "map_fit: %s: %s\n", path, ferror(f) ? "read error" : "larger than 64 MiB");
		rc = -EIO;
		goto out;
	}
	rc = rvmig_samples_parse(text, len, set, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "map_fit: %s: %s\n", path, err);
out:
	free(text);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	struct rvmig_map_attr a = { .size = sizeof(a) };
	struct rvmig_map_error own = { .size = sizeof(own) }, held = { .size = sizeof(held) };
	rvmig_samples *set;
	rvmig_map *map;
	char err[512] = "";
	double c0, c1, share, cap;
	unsigned nb;
	int rc;

	if (argc < 6 || argc > 8)
		return usage();
	a.app = argv[2];
	a.scenario = argv[3];
	a.sla.size = sizeof(a.sla);
	a.sla.kind = RVMIG_SLA_RESPONSE;
	if (!strcmp(argv[4], "p99"))
		a.sla.metric = RVMIG_METRIC_P99;
	else if (!strcmp(argv[4], "p50"))
		a.sla.metric = RVMIG_METRIC_P50;
	else
		return usage();
	if (number(argv[5], &a.sla.target) || (argc >= 7 && number(argv[6], &a.max_share)) ||
	    (argc == 8 && number(argv[7], &a.min_achieved)))
		return usage();
	if (load(argv[1], &set) < 0)
		return 1;
	rc = rvmig_map_fit(set, &a, &map, err, sizeof(err));
	if (rc == -EDOM) {
		fprintf(stderr, "map_fit: no boundary: %s\n", err);
		rvmig_samples_free(set);
		return 3;
	}
	if (rc < 0) {
		fprintf(stderr, "map_fit: %s (%s)\n", err, rvmig_strerror(rc));
		rvmig_samples_free(set);
		return 1;
	}
	nb = rvmig_map_coef(map, &c0, &c1);
	printf("capacity_c0=%.3f\ncapacity_c1=%.3f\n", c0, c1);
	for (unsigned i = 0; i < nb; i++)
		if (!rvmig_map_boundary(map, i, &share, &cap))
			printf("boundary_point=%.4g,%.3f\n", share, cap);
	rc = rvmig_map_evaluate(map, set, &own);
	rvmig_map_free(map);
	if (rc < 0) {
		fprintf(stderr, "map_fit: rvmig_map_evaluate: %s\n", rvmig_strerror(rc));
		rvmig_samples_free(set);
		return 1;
	}
	printf("samples=%u\nmisclassified_own=%u\nrepeated=%u\nfloor=%u\n", own.samples,
	       own.misclassified, own.repeated, own.floor_misclassified);
	/* k larger than the number of shares: every share its own fold. */
	rc = rvmig_map_crossval(set, &a, 1000, &held, err, sizeof(err));
	rvmig_samples_free(set);
	if (rc == -EDOM) {
		printf("held_out=none (%s)\n", err);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "map_fit: rvmig_map_crossval: %s (%s)\n", err, rvmig_strerror(rc));
		return 1;
	}
	printf("held_out_samples=%u\nheld_out_misclassified=%u\nheld_out_rate=%.4f\n"
	       "held_out_floor=%u\n", held.samples, held.misclassified, held.misclass_rate,
	       held.floor_misclassified);
	return 0;
}
