/* SPDX-License-Identifier: MIT */
/*
 * rvmig-planner-check - the parallel-migration planner (rvmig_planner(3))
 * against the evaluation's measured parallel transfers: the issue-17 check.
 *
 *   rvmig-planner-check [--linear] [--bound FRAC] [--calibration CAL.csv] FILE.csv
 *
 * FILE is rvmig-eval's parallel.csv (one row per N and transport) or, with
 * --par-rounds, raw/parallel-summary-single.csv (one row per round): the
 * columns n, transport, bytes_each, makespan_s and status are read, rows
 * whose status is not "ok" are left out.  Per transport the link is fitted
 * (rvmig_link_fit(), every term; --linear: the overhead only, the model
 * before RVMIG_0.13) to every run of the odd N and predicts the even N by
 * simulating N transfers started together, then the other way round, so
 * that every N has a prediction from runs it was not part of.  A
 * prediction is judged against the median of that N's rounds: it passes
 * within FRAC (default 0.15) of it, or inside the range the rounds spanned
 * (the measurement's own spread, which no model can undercut); the
 * transport passes when every N does and the median error is within FRAC.
 *
 * --calibration CAL.csv (rvmig-eval's raw/parallel-calibration-summary-*.csv,
 * same columns): single transfers of other sizes measured in the same
 * rounds, added to both halves' fits and never judged.  Runs of one size
 * cannot tell the fixed time of a transfer from its bytes' time (the fit
 * trades the overhead against the bandwidth and the contention), nor show
 * a single transfer's own rate limit; the half of even N has no single
 * transfer at all and extrapolates N = 1 from N >= 2.  Transfers of two
 * more sizes separate the two, and N = 1 of the measured size is then
 * predicted like every other N, from runs it was not part of.
 * Prints a Markdown table per transport and a verdict line; exit 0 when
 * every transport passes, 1 when one does not, 2 on bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig.h>

#define MAX_LINE 4096
#define MAX_COLS 64
#define MAX_RUNS 4096
#define MAX_TRANSPORTS 8
#define MAX_N 256 /* the planner's concurrency bound */

struct run {
	unsigned n;
	int tp; /* index into transports */
	double bytes, makespan;
};

struct runs {
	struct run r[MAX_RUNS];
	size_t count, skipped;
	char tp[MAX_TRANSPORTS][32];
	int ntp;
};

/* Per N of one transport. */
struct point {
	unsigned n, rounds;
	double bytes, median, min, max, pred, err;
	int pass;
};

static int fail_line(const char *path, unsigned line, const char *what)
{
	char esc[256];

	rvmig_text_escape(esc, sizeof(esc), path, strlen(path));
	fprintf(stderr, "rvmig-planner-check: %s:%u: %s\n", esc, line, what);
	return -EINVAL;
}

static int number(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*v) && *v > 0;
}

/* The transport's index; names are kept escaped (rvmig_text_escape()). */
static int transport_index(struct runs *rs, const char *raw)
{
	char name[160];

	if (rvmig_text_escape(name, sizeof(name), raw, strlen(raw)) >= sizeof(rs->tp[0]))
		return -1;
	for (int i = 0; i < rs->ntp; i++)
		if (!strcmp(rs->tp[i], name))
			return i;
	if (rs->ntp == MAX_TRANSPORTS)
		return -1;
	strcpy(rs->tp[rs->ntp], name);
	return rs->ntp++;
}

/* Reads the runs of every transport from a CSV with a header line. */
static int load(const char *path, struct runs *rs)
{
	static const char *const want[5] = { "n", "transport", "bytes_each", "makespan_s", "status" };
	char line[MAX_LINE + 2], *f[MAX_COLS];
	int col[5] = { -1, -1, -1, -1, -1 }, ncols = 0, rc = 0;
	unsigned ln = 0;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		rc = -errno;
		fail_line(path, 0, strerror(-rc));
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		size_t len = strcspn(line, "\r\n");
		int nf = 0;
		double n, b, m;

		ln++;
		if (len > MAX_LINE) {
			rc = fail_line(path, ln, "a line longer than 4096 bytes");
			break;
		}
		line[len] = '\0';
		if (!len || line[0] == '#')
			continue;
		for (char *c = line; c; nf++) {
			if (nf == MAX_COLS) {
				rc = fail_line(path, ln, "more than 64 columns");
				break;
			}
			f[nf] = c;
			if ((c = strchr(c, ',')))
				*c++ = '\0';
		}
		if (rc < 0)
			break;
		if (!ncols) {
			ncols = nf;
			for (int i = 0; i < nf; i++)
				for (int w = 0; w < 5; w++)
					col[w] = strcmp(f[i], want[w]) ? col[w] : i;
			for (int w = 0; w < 5 && rc == 0; w++)
				if (col[w] < 0)
					rc = fail_line(path, ln, "the header lacks one of the columns n, "
						       "transport, bytes_each, makespan_s, status");
			continue;
		}
		if (nf != ncols) {
			rc = fail_line(path, ln, "not as many columns as the header");
		} else if (strcmp(f[col[4]], "ok")) {
			rs->skipped++;
		} else if (!number(f[col[0]], &n) || n != floor(n) || n > MAX_N ||
			   !number(f[col[2]], &b) || !number(f[col[3]], &m)) {
			rc = fail_line(path, ln, "n (whole, 1..256), bytes_each and makespan_s must be "
				       "numbers > 0");
		} else if (rs->count == MAX_RUNS) {
			rc = fail_line(path, ln, "more than 4096 runs");
		} else {
			struct run *r = &rs->r[rs->count++];

			r->n = (unsigned)n;
			r->bytes = b;
			r->makespan = m;
			if ((r->tp = transport_index(rs, f[col[1]])) < 0)
				rc = fail_line(path, ln, "more than 8 transports, or a name of 32 bytes or more");
		}
	}
	if (rc == 0 && ferror(fp))
		rc = fail_line(path, ln, "read error");
	if (rc == 0 && !ncols)
		rc = fail_line(path, ln, "no header line");
	fclose(fp);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The distinct N of transport tp with their rounds' median, min and max. */
static size_t points(const struct runs *rs, int tp, struct point *p)
{
	static double v[MAX_RUNS];
	size_t np = 0;

	for (unsigned n = 1; n <= MAX_N; n++) {
		size_t nv = 0;
		double b = 0;

		for (size_t i = 0; i < rs->count; i++)
			if (rs->r[i].tp == tp && rs->r[i].n == n) {
				v[nv++] = rs->r[i].makespan;
				b = rs->r[i].bytes;
			}
		if (!nv)
			continue;
		p[np] = (struct point){ .n = n, .rounds = (unsigned)nv, .bytes = b };
		p[np].median = median(v, nv);
		p[np].min = v[0];
		p[np].max = v[nv - 1];
		np++;
	}
	return np;
}

/* The makespan of n transfers of `bytes` started together on the link. */
static int predict(const struct rvmig_link *link, unsigned n, double bytes, double *out)
{
	rvmig_planner *pl;
	rvmig_plan *plan;
	int rc = rvmig_planner_create(link, &pl);

	for (unsigned j = 0; rc >= 0 && j < n; j++) {
		struct rvmig_transfer t = { .size = sizeof(t), .kind = RVMIG_XFER_SAVE, .id = j,
					    .mem_bytes = bytes };

		rc = rvmig_planner_add(pl, &t);
	}
	if (rc >= 0 && (rc = rvmig_planner_simulate(pl, n, RVMIG_ORDER_GIVEN, &plan)) == 0) {
		*out = rvmig_plan_makespan(plan);
		rvmig_plan_free(plan);
	}
	rvmig_planner_destroy(pl);
	return rc < 0 ? rc : 0;
}

/* Appends to k, b, m from index `at` the runs of `from` over the transport
 * named `tp` whose N has parity `odd` (-1: any); returns how many. */
static size_t take(const struct runs *from, const char *tp, int odd, unsigned *k, double *b,
		   double *m, size_t at)
{
	size_t n = 0;

	for (size_t i = 0; i < from->count; i++) {
		const struct run *r = &from->r[i];

		if (strcmp(from->tp[r->tp], tp) || (odd >= 0 && (int)(r->n % 2) != odd))
			continue;
		k[at + n] = r->n;
		b[at + n] = r->bytes;
		m[at + n++] = r->makespan;
	}
	return n;
}

/* Fits the link to the runs of transport tp whose N has parity `odd` and
 * predicts the points of the other parity. */
static int fold(const struct runs *rs, const struct runs *cal, int tp, int odd, unsigned terms,
		struct point *p, size_t np)
{
	static unsigned k[2 * MAX_RUNS];
	static double b[2 * MAX_RUNS], m[2 * MAX_RUNS];
	struct rvmig_link link = { .size = sizeof(link), .bandwidth = 1, .max_concurrent = MAX_N };
	size_t n = take(rs, rs->tp[tp], odd, k, b, m, 0), nc = take(cal, rs->tp[tp], -1, k, b, m, n);
	double fit_err;
	int rc;

	if ((rc = rvmig_link_fit(k, b, m, n + nc, terms, &link, &fit_err)) < 0) {
		fprintf(stderr, "rvmig-planner-check: %s, %s N: %s\n", rs->tp[tp], odd ? "odd" : "even",
			rvmig_strerror(rc));
		return rc;
	}
	printf("- fitted on the %zu runs of %s N", n, odd ? "odd" : "even");
	if (nc)
		printf(" and %zu calibration runs", nc);
	printf(": %.2f MB/s, per-transfer cap %s, overhead %.3f s, contention %.4f (largest fit "
	       "error %.1f %%)\n", link.bandwidth / 1e6, link.per_transfer_cap > 0 ? "set" : "none",
	       link.overhead_s, link.contention, 100 * fit_err);
	if (link.per_transfer_cap > 0)
		printf("  (cap %.2f MB/s)\n", link.per_transfer_cap / 1e6);
	for (size_t i = 0; i < np; i++) {
		if ((int)(p[i].n % 2) == odd)
			continue;
		if ((rc = predict(&link, p[i].n, p[i].bytes, &p[i].pred)) < 0)
			return rc;
	}
	return 0;
}

/* Checks one transport; 1 when it passes, 0 when not, < 0 on error. */
static int check(const struct runs *rs, const struct runs *cal, int tp, unsigned terms,
		 double bound)
{
	static struct point p[MAX_N];
	static double e[MAX_N];
	size_t np = points(rs, tp, p), strict = 0, ok = 0, worst = 0;
	double med;
	int rc;

	printf("\n#### %s\n\n", rs->tp[tp]);
	if (np < 4) {
		printf("%zu distinct N: the check needs 2 or more odd and even N.\n", np);
		return 0;
	}
	if ((rc = fold(rs, cal, tp, 1, terms, p, np)) < 0 ||
	    (rc = fold(rs, cal, tp, 0, terms, p, np)) < 0)
		return rc;
	printf("\n| N | rounds | measured s (median) | rounds' range s | spread | predicted s | error | |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < np; i++) {
		struct point *x = &p[i];
		int in_range = x->rounds > 1 && x->pred >= x->min && x->pred <= x->max;

		x->err = (x->pred - x->median) / x->median;
		e[i] = fabs(x->err);
		strict += e[i] <= bound;
		x->pass = e[i] <= bound || in_range;
		ok += x->pass;
		worst = e[i] > e[worst] ? i : worst;
		printf("| %u | %u | %.3f | %.3f-%.3f | %.0f %% | %.3f | %+.1f %% | %s |\n", x->n,
		       x->rounds, x->median, x->min, x->max, 100 * (x->max - x->min) / x->median,
		       x->pred, 100 * x->err,
		       e[i] <= bound ? "ok" : in_range ? "in the rounds' range" : "MISSED");
	}
	med = median(e, np);
	printf("\n%s: held-out error median %.1f %%, worst %.1f %% (N = %u); within %.0f %%: %zu of "
	       "%zu N, within it or the rounds' range: %zu of %zu: %s\n", rs->tp[tp], 100 * med,
	       100 * fabs(p[worst].err), p[worst].n, 100 * bound, strict, np, ok, np,
	       ok == np && med <= bound ? "MET" : "MISSED");
	return ok == np && med <= bound;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rvmig-planner-check [--linear] [--bound FRAC] [--calibration CAL.csv] "
		   "FILE.csv\n"
		   "  the planner's held-out check on rvmig-eval's parallel.csv or\n"
		   "  raw/parallel-summary-single.csv; CAL.csv: the single calibration transfers,\n"
		   "  raw/parallel-calibration-summary-single.csv (bench/eval/README.md)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "linear", no_argument, NULL, 'l' },
		{ "bound", required_argument, NULL, 'b' },
		{ "calibration", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct runs rs, cal;
	const char *cal_path = NULL;
	unsigned terms = RVMIG_LINK_ALL;
	double bound = 0.15;
	int c, all = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			terms = RVMIG_LINK_OVERHEAD;
			break;
		case 'b':
			if (!number(optarg, &bound) || bound >= 1) {
				fprintf(stderr, "rvmig-planner-check: --bound: a fraction in (0, 1)\n");
				return 2;
			}
			break;
		case 'c':
			cal_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (load(argv[optind], &rs) < 0 || (cal_path && load(cal_path, &cal) < 0))
		return 2;
	for (size_t i = 0; i < cal.count; i++)
		if (cal.r[i].n != 1) {
			fprintf(stderr, "rvmig-planner-check: the calibration runs are single transfers "
					"(n = 1); one has n = %u\n", cal.r[i].n);
			return 2;
		}
	printf("Model: %s; each N predicted from the runs of the other parity%s; bound %.0f %% of the "
	       "median of its rounds, or inside their range. %zu runs, %zu not ok left out.\n",
	       terms == RVMIG_LINK_ALL ? "rvmig_link_fit(), every term (bandwidth, overhead, "
					 "per-transfer cap, contention)"
				       : "--linear: bandwidth and overhead only",
	       cal.count ? " and the single calibration transfers" : "", 100 * bound, rs.count,
	       rs.skipped);
	if (cal.count)
		printf("Calibration: %zu single transfers of other sizes (%zu not ok left out), in both "
		       "halves' fits, never judged.\n", cal.count, cal.skipped);
	for (int tp = 0; tp < rs.ntp; tp++) {
		int rc = check(&rs, &cal, tp, terms, bound);

		if (rc < 0)
			return 2;
		all &= rc;
	}
	return all ? 0 : 1;
}
