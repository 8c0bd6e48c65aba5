/* SPDX-License-Identifier: MIT */
/*
 * textcur.h - a bounded read position in file text and the small steps the
 * Linux backend's parsers take with it (internal): lines, blank-separated
 * words, decimal u64 with overflow checked.  Nothing reads beyond `end`.
 */
#ifndef RVMIG_MONITOR_LINUX_TEXTCUR_H
#define RVMIG_MONITOR_LINUX_TEXTCUR_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* A read position in the text: never beyond end. */
struct cur {
	const char *p, *end;
};

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline int is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\r';
}

static inline void skip_blank(struct cur *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
}

/* Blanks, then a decimal number. */
static inline int get_u64(struct cur *c, uint64_t *v)
{
	uint64_t n = 0;

	skip_blank(c);
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return -EINVAL;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
		c->p++;
	}
	*v = n;
	return 0;
}

/* A number must end at a space, a newline or the end of the text. */
static inline int get_u64_word(struct cur *c, uint64_t *v)
{
	int rc = get_u64(c, v);

	if (rc == 0 && c->p < c->end && !is_space(*c->p))
		return -EINVAL;
	return rc;
}

/* The next line of `c` (without its '\n') into `line`; 0 at the end. */
static inline int next_line(struct cur *c, struct cur *line)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	line->p = c->p;
	line->end = nl ? nl : c->end;
	c->p = nl ? nl + 1 : c->end;
	return 1;
}

/* The next word (run of non-blanks) of a line into `w`; 0 when none. */
static inline int next_word(struct cur *line, struct cur *w)
{
	skip_blank(line);
	if (line->p >= line->end)
		return 0;
	w->p = line->p;
	while (line->p < line->end && !is_blank(*line->p))
		line->p++;
	w->end = line->p;
	return 1;
}

static inline int word_is(const struct cur *w, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(w->end - w->p) == n && !memcmp(w->p, s, n);
}

/* Only blanks (and a '\r' or '\n') left. */
static inline int at_end(struct cur *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
	return c->p == c->end;
}

static inline int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b && a > UINT64_MAX / b)
		return -ERANGE;
	*out = a * b;
	return 0;
}

#endif
