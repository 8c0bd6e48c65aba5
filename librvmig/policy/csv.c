/* SPDX-License-Identifier: MIT */
/*
 * csv.c - rvmig_samples_parse(): the measurement CSV (RVMIG_SAMPLES_HEADER)
 * from a memory buffer.  Strict: exactly the header, exactly ten fields per
 * row, plain decimal numbers, every refusal naming line, column and field,
 * with the offending text escaped and cut.
 */
#include <stdio.h>
#include <stdlib.h>

#include "policy/common.h"
#include "policy/samples.h"

#define NCOLS 10
#define MAX_NUM 40 /* bytes of a number field */

static const char *const col_name[NCOLS] = {
	"app", "scenario", "cpu_share", "offered_rps", "achieved_rps",
	"p50_ms", "p99_ms", "mean_ms", "errors", "duration_s",
};

struct field {
	const char *s;
	size_t n;
};

/* Error about field `col` (0-based) of line `line`: its text escaped. */
static int field_err(char *err, size_t errlen, int rc, unsigned line, unsigned col,
		     const struct field *f, const char *why)
{
	char esc[64];

	rvmig_text_escape(esc, sizeof(esc), f->s, f->n);
	return pol_err(err, errlen, rc, "line %u, column %u (%s): \"%s\" %s", line, col + 1,
		       col_name[col], esc, why);
}

/* Plain decimal: digits with an optional fraction and exponent, no sign,
 * no spaces, no nan/inf/hex.  Returns 0 and *out, or a text for why not. */
static const char *parse_num(const struct field *f, double *out)
{
	char buf[MAX_NUM + 1], *end;
	size_t i = 0, digits = 0;

	if (f->n == 0)
		return "is empty";
	if (f->s[0] == '-')
		return "is negative";
	if (f->n > MAX_NUM)
		return "is too long for a number";
	while (i < f->n && f->s[i] >= '0' && f->s[i] <= '9')
		i++, digits++;
	if (i < f->n && f->s[i] == '.')
		for (i++; i < f->n && f->s[i] >= '0' && f->s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return "is not a decimal number";
	if (i < f->n && (f->s[i] == 'e' || f->s[i] == 'E')) {
		size_t e0;

		i++;
		if (i < f->n && (f->s[i] == '+' || f->s[i] == '-'))
			i++;
		for (e0 = i; i < f->n && f->s[i] >= '0' && f->s[i] <= '9'; i++)
			;
		if (i == e0)
			return "is not a decimal number";
	}
	if (i != f->n)
		return "is not a decimal number";
	memcpy(buf, f->s, f->n);
	buf[f->n] = 0;
	*out = strtod(buf, &end);
	if (*end || !pol_num_ok(*out, 0, 0))
		return "is not a finite number";
	return NULL;
}

static const char *parse_count(const struct field *f, uint64_t *out)
{
	uint64_t v = 0;

	if (f->n == 0)
		return "is empty";
	if (f->s[0] == '-')
		return "is negative";
	for (size_t i = 0; i < f->n; i++) {
		unsigned d = (unsigned char)f->s[i] - '0';

		if (d > 9)
			return "is not a whole number";
		if (v > (UINT64_MAX - d) / 10)
			return "is too large";
		v = v * 10 + d;
	}
	*out = v;
	return NULL;
}

static int parse_row(const char *s, size_t n, unsigned line, struct pol_sample *p, char *err,
		     size_t errlen)
{
	struct field f[NCOLS];
	double *num[NCOLS] = {
		NULL, NULL, &p->cpu_share, &p->offered_rps, &p->achieved_rps,
		&p->p50_ms, &p->p99_ms, &p->mean_ms, NULL, &p->duration_s,
	};
	unsigned nf = 0;
	size_t start = 0;
	char why[160];
	int rc;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ',')
			continue;
		if (nf == NCOLS)
			return pol_err(err, errlen, -EINVAL, "line %u: more than %d columns", line, NCOLS);
		f[nf].s = s + start;
		f[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	if (nf < NCOLS)
		return pol_err(err, errlen, -EINVAL, "line %u: %u columns, the header has %d", line,
			       nf, NCOLS);
	memset(p, 0, sizeof(*p));
	for (unsigned c = 0; c < NCOLS; c++) {
		const char *bad = NULL;

		if (c <= 1) {
			if (!pol_name_ok(f[c].s, f[c].n))
				bad = "is not 1..64 characters of [A-Za-z0-9._-]";
			else
				memcpy(c == 0 ? p->app : p->scenario, f[c].s, f[c].n);
		} else if (num[c]) {
			bad = parse_num(&f[c], num[c]);
		} else {
			bad = parse_count(&f[c], &p->errors);
		}
		if (bad)
			return field_err(err, errlen, -EINVAL, line, c, &f[c], bad);
	}
	p->line = line;
	rc = pol_sample_check(p, why, sizeof(why));
	if (rc < 0)
		return pol_err(err, errlen, rc, "line %u: %s", line, why);
	return 0;
}

RVMIG_API int rvmig_samples_parse(const void *text, size_t len, rvmig_samples **out, char *err,
				  size_t errlen)
{
	const char *s = text;
	struct rvmig_samples *set;
	unsigned line = 0;
	int header = 0, rc = 0;
	size_t pos = 0;

	if (!out || (!text && len))
		return pol_err(err, errlen, -EINVAL, "no text or no place for the result");
	*out = NULL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - s) : len) - pos;
		const char *l = s + pos, *nul;
		struct pol_sample p;

		pos += n + (nl != NULL);
		line++;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n > RVMIG_SAMPLES_MAX_LINE) {
			rc = pol_err(err, errlen, -E2BIG, "line %u: longer than %d bytes", line,
				     RVMIG_SAMPLES_MAX_LINE);
			break;
		}
		nul = memchr(l, 0, n);
		if (nul || memchr(l, '\r', n)) {
			rc = pol_err(err, errlen, -EINVAL, "line %u, byte %zu: a %s in the text", line,
				     (size_t)((nul ? nul : (const char *)memchr(l, '\r', n)) - l) + 1,
				     nul ? "NUL byte" : "carriage return");
			break;
		}
		if (n == 0 || l[0] == '#')
			continue;
		if (!header) {
			char esc[64];

			if (n == strlen(RVMIG_SAMPLES_HEADER) && !memcmp(l, RVMIG_SAMPLES_HEADER, n)) {
				header = 1;
				continue;
			}
			rvmig_text_escape(esc, sizeof(esc), l, n);
			rc = pol_err(err, errlen, -EINVAL, "line %u: \"%s\" is not the header \"%s\"",
				     line, esc, RVMIG_SAMPLES_HEADER);
			break;
		}
		rc = parse_row(l, n, line, &p, err, errlen);
		if (rc < 0)
			break;
		rc = pol_samples_push(set, &p);
		if (rc < 0) {
			if (rc == -E2BIG)
				pol_err(err, errlen, rc, "line %u: more than %d rows", line,
					RVMIG_SAMPLES_MAX_ROWS);
			break;
		}
	}
	if (rc >= 0 && !header)
		rc = pol_err(err, errlen, -EINVAL, "no header line \"%s\"", RVMIG_SAMPLES_HEADER);
	if (rc < 0) {
		rvmig_samples_free(set);
		return rc;
	}
	*out = set;
	return (int)set->n;
}
