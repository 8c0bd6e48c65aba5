/* SPDX-License-Identifier: MIT */
/*
 * calib.c - measured runs for the planner's calibration (config.h): an
 * rvmig-eval parallel.csv (the link) and rvmig-policy's own runs file (the
 * toolstack's fixed cost), both CSV read by their header's column names.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"

#define MAX_LINE 4096
#define MAX_COLS 64

__attribute__((format(printf, 6, 7)))
static int fail(char *err, size_t errlen, int rc, const char *name, unsigned line,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = pol_vfail_at(err, errlen, rc, name, line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Splits s at commas into at most MAX_COLS fields; their count, or -1. */
static int fields(char *s, char **f)
{
	int n = 0;

	for (char *c = s;; c++) {
		if (n == MAX_COLS)
			return -1;
		f[n++] = c;
		if (!(c = strchr(c, ',')))
			return n;
		*c = '\0';
	}
}

/* A finite decimal number >= lo (> lo when strict). */
static int number(const char *s, double lo, int strict, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*v) && (strict ? *v > lo : *v >= lo) &&
	       !strpbrk(s, "xXnN");
}

/* One row: f[i] is the field of want[i].  0 to take it, 1 to skip it,
 * or -errno with err set by fail(). */
typedef int row_fn(void *arg, char **f, const char *name, unsigned line, char *err,
		   size_t errlen);

/* '#' comments and empty lines anywhere, a header naming (at least) the
 * nwant columns of want[] in any order, then rows of as many fields. */
static int csv_rows(const char *text, size_t len, const char *name, const char *const *want,
		    int nwant, row_fn *row, void *arg, char *err, size_t errlen)
{
	int col[MAX_COLS], ncols = 0, rc;
	char buf[MAX_LINE + 1], *f[MAX_COLS], *g[MAX_COLS];
	unsigned line = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ln = (nl ? (size_t)(nl - text) : len) - pos;
		int nf;

		line++;
		if (ln > MAX_LINE)
			return fail(err, errlen, -E2BIG, name, line, "a line longer than %d bytes", MAX_LINE);
		memcpy(buf, text + pos, ln);
		buf[ln] = '\0';
		pos += ln + 1;
		if (ln && buf[ln - 1] == '\r')
			buf[--ln] = '\0';
		if (!ln || buf[0] == '#')
			continue;
		if ((nf = fields(buf, f)) < 0)
			return fail(err, errlen, -EINVAL, name, line, "more than %d columns", MAX_COLS);
		if (!ncols) { /* the header */
			ncols = nf;
			for (int w = 0; w < nwant; w++) {
				col[w] = -1;
				for (int i = 0; i < nf; i++)
					if (!strcmp(f[i], want[w]))
						col[w] = i;
				if (col[w] < 0)
					return fail(err, errlen, -EINVAL, name, line,
						    "no column %s in the header", want[w]);
			}
			continue;
		}
		if (nf != ncols)
			return fail(err, errlen, -EINVAL, name, line, "%d columns, the header has %d", nf,
				    ncols);
		for (int w = 0; w < nwant; w++)
			g[w] = f[col[w]];
		if ((rc = row(arg, g, name, line, err, errlen)) < 0)
			return rc;
	}
	return 0;
}

/* ---- the link: an rvmig-eval parallel.csv ---- */

struct calib_rows {
	const char *transport;
	unsigned *k;
	double *bytes, *makespan;
	size_t n, max;
};

static int calib_row(void *arg, char **f, const char *name, unsigned line, char *err,
		     size_t errlen)
{
	struct calib_rows *c = arg;
	double kv, b, m;

	if (strcmp(f[1], c->transport) || strcmp(f[4], "ok"))
		return 1;
	if (!number(f[0], 0, 1, &kv) || kv != floor(kv) || kv > 4096 || !number(f[2], 0, 1, &b) ||
	    !number(f[3], 0, 1, &m))
		return fail(err, errlen, -EINVAL, name, line,
			    "n, bytes_each and makespan_s must be numbers > 0 (n whole, <= 4096)");
	if (c->n == c->max)
		return fail(err, errlen, -E2BIG, name, line, "more than %zu runs", c->max);
	c->k[c->n] = (unsigned)kv;
	c->bytes[c->n] = b;
	c->makespan[c->n] = m;
	c->n++;
	return 0;
}

int pol_calib_parse(const char *text, size_t len, const char *name, const char *transport,
		    unsigned *k, double *bytes, double *makespan, size_t max, char *err,
		    size_t errlen)
{
	static const char *const want[] = { "n", "transport", "bytes_each", "makespan_s", "status" };
	struct calib_rows c = { .transport = transport, .k = k, .bytes = bytes,
				.makespan = makespan, .max = max };
	int rc = csv_rows(text, len, name, want, 5, calib_row, &c, err, errlen);

	return rc < 0 ? rc : (int)c.n;
}

/* ---- the toolstack: rvmig-policy's runs file ---- */

static const char *const kinds[] = { "?", "migrate", "save", "restore" };

const char *pol_run_kind_name(enum rvmig_transfer_kind kind)
{
	return kind >= RVMIG_XFER_MIGRATE && kind <= RVMIG_XFER_RESTORE ? kinds[kind] : kinds[0];
}

struct run_rows {
	const char *transport;
	struct rvmig_xfer_run *out;
	size_t n, max;
};

static int run_row(void *arg, char **f, const char *name, unsigned line, char *err,
		   size_t errlen)
{
	struct run_rows *c = arg;
	struct rvmig_xfer_run r = { .size = sizeof(r) };
	double down;

	if (strcmp(f[1], c->transport) || strcmp(f[6], "ok"))
		return 1;
	for (int i = RVMIG_XFER_MIGRATE; i <= RVMIG_XFER_RESTORE; i++)
		if (!strcmp(f[0], kinds[i]))
			r.kind = (enum rvmig_transfer_kind)i;
	if (!r.kind)
		return fail(err, errlen, -EINVAL, name, line, "kind is migrate, save or restore");
	/* downtime: -1 when it was not measured */
	if (!number(f[2], 0, 1, &r.mem_bytes) || !number(f[3], 0, 0, &r.dirty_rate) ||
	    !number(f[4], 0, 1, &r.measured_s) || !number(f[5], -1, 0, &down))
		return fail(err, errlen, -EINVAL, name, line,
			    "mem_bytes and measured_s must be numbers > 0, dirty_rate >= 0, "
			    "downtime_s >= -1");
	r.downtime_s = down;
	if (c->n == c->max)
		return fail(err, errlen, -E2BIG, name, line, "more than %zu runs", c->max);
	c->out[c->n++] = r;
	return 0;
}

int pol_runs_parse(const char *text, size_t len, const char *name, const char *transport,
		   struct rvmig_xfer_run *out, size_t max, char *err, size_t errlen)
{
	static const char *const want[] = { "kind", "transport", "mem_bytes", "dirty_rate",
					    "measured_s", "downtime_s", "status" };
	struct run_rows c = { .transport = transport, .out = out, .max = max };
	int rc = csv_rows(text, len, name, want, 7, run_row, &c, err, errlen);

	return rc < 0 ? rc : (int)c.n;
}
