/* SPDX-License-Identifier: MIT */
/* why.c - the stderr lines that say why a command failed (why.h).  No I/O. */
#include <ctype.h>
#include <string.h>

#include <rvmig/common.h>

#include "act/why.h"

/* xentoollog's levels below warning, as its stdio logger prints them
 * after the context ("libxl: debug: ..."). */
static const char *const quiet_levels[] = { "debug", "verbose", "detail", "info", "notice" };
static const char *const fail_words[] = { "error", "fail", "cannot", "unable", "denied", "refused",
					  "timed out" };

void act_why_init(struct act_why *w)
{
	memset(w, 0, sizeof(*w));
}

/* "CONTEXT: LEVEL:" with LEVEL one of quiet_levels. */
static int quiet(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 32 && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
		i++;
	if (!i || i + 2 > len || s[i] != ':' || s[i + 1] != ' ')
		return 0;
	s += i + 2;
	len -= i + 2;
	for (size_t k = 0; k < sizeof(quiet_levels) / sizeof(quiet_levels[0]); k++) {
		size_t n = strlen(quiet_levels[k]);

		if (len > n && !memcmp(s, quiet_levels[k], n) && s[n] == ':')
			return 1;
	}
	return 0;
}

static int reports_failure(const char *s)
{
	char low[ACT_WHY_LINE];
	size_t i;

	for (i = 0; s[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	for (size_t k = 0; k < sizeof(fail_words) / sizeof(fail_words[0]); k++)
		if (strstr(low, fail_words[k]))
			return 1;
	return 0;
}

static void keep(char dst[ACT_WHY_LINE], const char *s, size_t len)
{
	if (len > ACT_WHY_LINE - 1)
		len = ACT_WHY_LINE - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

void act_why_line(struct act_why *w, const char *line, size_t len)
{
	char l[ACT_WHY_LINE];

	if (!len)
		return;
	keep(l, line, len);
	w->nlines++;
	memcpy(w->last_any, l, sizeof(l));
	if (quiet(line, len))
		return;
	if (!w->nmsg++)
		memcpy(w->first, l, sizeof(l));
	memcpy(w->last, l, sizeof(l));
	if (!reports_failure(l))
		return;
	if (!w->nfail)
		memcpy(w->first_fail, l, sizeof(l));
	memcpy(w->fail[w->nfail % ACT_WHY_LAST], l, sizeof(l));
	w->nfail++;
}

void act_why_flush(struct act_why *w)
{
	if (w->plen) {
		w->part[w->plen] = '\0';
		if (w->each)
			w->each(w->each_arg, w->part);
		act_why_line(w, w->part, w->plen);
	}
	w->plen = 0;
}

void act_why_feed(struct act_why *w, const void *buf, size_t len)
{
	const char *p = buf;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			act_why_flush(w);
		else if (w->plen < sizeof(w->part) - 1)
			w->part[w->plen++] = p[i]; /* the rest of a long line is dropped */
	}
}

/* Appends s (escaped, or as is), preceded by " | " unless first. */
static void put(char *out, size_t cap, size_t *n, const char *s, int escape)
{
	if (*n + 1 >= cap)
		return;
	if (*n) {
		size_t k = strlen(" | ") < cap - 1 - *n ? strlen(" | ") : cap - 1 - *n;

		memcpy(out + *n, " | ", k);
		*n += k;
		out[*n] = '\0';
	}
	if (escape) {
		*n += rvmig_text_escape(out + *n, cap - *n, s, strlen(s));
	} else {
		size_t k = strlen(s) < cap - 1 - *n ? strlen(s) : cap - 1 - *n;

		memcpy(out + *n, s, k);
		*n += k;
		out[*n] = '\0';
	}
}

size_t act_why_text(const struct act_why *w, char *out, size_t cap)
{
	size_t n = 0;

	if (!out || !cap)
		return 0;
	out[0] = '\0';
	if (w->nfail) {
		unsigned tail = w->nfail - 1 < ACT_WHY_LAST ? w->nfail - 1 : ACT_WHY_LAST;

		put(out, cap, &n, w->first_fail, 1);
		if (w->nfail - 1 > tail)
			put(out, cap, &n, "...", 0);
		for (unsigned i = w->nfail - tail; i < w->nfail; i++)
			put(out, cap, &n, w->fail[i % ACT_WHY_LAST], 1);
	} else if (w->nmsg) {
		put(out, cap, &n, w->first, 1);
		if (w->nmsg > 2)
			put(out, cap, &n, "...", 0);
		if (w->nmsg > 1)
			put(out, cap, &n, w->last, 1);
	} else if (w->nlines) {
		put(out, cap, &n, w->last_any, 1);
	}
	return n;
}
