/* SPDX-License-Identifier: MIT */
/* calib.c - measured parallel runs for the link calibration (config.h). */
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

static int number(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*v) && *v > 0 && !strpbrk(s, "xXnN");
}

int pol_calib_parse(const char *text, size_t len, const char *name, const char *transport,
		    unsigned *k, double *bytes, double *makespan, size_t max, char *err,
		    size_t errlen)
{
	static const char *const want[5] = { "n", "transport", "bytes_each", "makespan_s", "status" };
	int col[5] = { -1, -1, -1, -1, -1 }, ncols = 0;
	char buf[MAX_LINE + 1], *f[MAX_COLS];
	unsigned line = 0;
	size_t pos = 0, n = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ln = (nl ? (size_t)(nl - text) : len) - pos;
		double kv, b, m;
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
			for (int i = 0; i < nf; i++)
				for (int w = 0; w < 5; w++)
					if (!strcmp(f[i], want[w]))
						col[w] = i;
			for (int w = 0; w < 5; w++)
				if (col[w] < 0)
					return fail(err, errlen, -EINVAL, name, line,
						    "no column %s in the header", want[w]);
			continue;
		}
		if (nf != ncols)
			return fail(err, errlen, -EINVAL, name, line, "%d columns, the header has %d", nf,
				    ncols);
		if (strcmp(f[col[1]], transport) || strcmp(f[col[4]], "ok"))
			continue;
		if (!number(f[col[0]], &kv) || kv != floor(kv) || kv > 4096 ||
		    !number(f[col[2]], &b) || !number(f[col[3]], &m))
			return fail(err, errlen, -EINVAL, name, line,
				    "n, bytes_each and makespan_s must be numbers > 0 (n whole, <= 4096)");
		if (n == max)
			return fail(err, errlen, -E2BIG, name, line, "more than %zu runs", max);
		k[n] = (unsigned)kv;
		bytes[n] = b;
		makespan[n] = m;
		n++;
	}
	return (int)n;
}
