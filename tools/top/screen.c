/* SPDX-License-Identifier: MIT */
/*
 * screen.c - the live view's layout (screen.h): header, panes, keys.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rvmig.h>

#include "top/screen.h"

void top_cell_text(char *buf, size_t cap, const char *text)
{
	rvmig_text_escape(buf, cap, text, strlen(text));
}

void top_screen_init(struct top_screen *s, double delay_s)
{
	memset(s, 0, sizeof(*s));
	s->delay_s = delay_s;
}

int top_screen_add_pane(struct top_screen *s, const struct top_pane *p)
{
	if (s->npanes == TOP_SCREEN_MAX_PANES)
		return -1;
	s->sort[s->npanes] = p->default_sort;
	s->panes[s->npanes++] = p;
	return 0;
}

/* The next (dir 1) or previous (-1) sortable column from cur, cur if none. */
static unsigned next_sortable(const struct top_pane *p, unsigned cur, int dir)
{
	for (unsigned i = 1; i < p->ncols; i++) {
		unsigned c = (cur + p->ncols + (unsigned)(dir * (int)i)) % p->ncols;

		if (p->cols[c].cmp)
			return c;
	}
	return cur;
}

enum top_key_result top_screen_key(struct top_screen *s, int key)
{
	const struct top_pane *p = s->npanes ? s->panes[s->focus] : NULL;
	bool was_help = s->help;

	s->help = false;
	switch (key) {
	case 'q':
	case 'Q':
		return TOP_KEY_QUIT;
	case 'd':
		return TOP_KEY_DELAY;
	case 'h':
	case '?':
		s->help = !was_help;
		return TOP_KEY_REDRAW;
	case 'v':
		s->show_sub = !s->show_sub;
		return TOP_KEY_REDRAW;
	case '\t':
		if (s->npanes)
			s->focus = (s->focus + 1) % s->npanes;
		return TOP_KEY_REDRAW;
	}
	if (!p)
		return was_help ? TOP_KEY_REDRAW : TOP_KEY_NONE;
	switch (key) {
	case 'r':
		s->reverse[s->focus] = !s->reverse[s->focus];
		return TOP_KEY_REDRAW;
	case '<':
	case '>':
		s->sort[s->focus] = next_sortable(p, s->sort[s->focus], key == '>' ? 1 : -1);
		s->reverse[s->focus] = false;
		return TOP_KEY_REDRAW;
	}
	for (unsigned i = 0; i < p->ncols; i++) {
		if (p->cols[i].key && p->cols[i].key == key && p->cols[i].cmp) {
			s->sort[s->focus] = i;
			s->reverse[s->focus] = false;
			return TOP_KEY_REDRAW;
		}
	}
	return was_help ? TOP_KEY_REDRAW : TOP_KEY_NONE;
}

struct sort_ctx {
	const struct top_col *col;
	const struct top_view *v;
	int sign;
};

static int sort_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	unsigned ra = *(const unsigned *)a, rb = *(const unsigned *)b;
	int r = c->col->cmp(c->v, ra, rb) * c->sign;

	/* ties keep the view's order, whatever the direction */
	return r ? r : (ra > rb) - (ra < rb);
}

void top_screen_order(const struct top_screen *s, unsigned pane, const struct top_view *v,
		      unsigned *order)
{
	const struct top_pane *p = s->panes[pane];
	unsigned n = p->nrows(v);
	struct sort_ctx c = { &p->cols[s->sort[pane]], v, 1 };

	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	if (!c.col->cmp)
		return;
	if (c.col->descending != s->reverse[pane])
		c.sign = -1;
	qsort_r(order, n, sizeof(*order), sort_cmp, &c);
}

/* A line being built, never longer than the terminal is wide. */
struct line {
	char *buf;
	size_t len, width;
};

static void line_reset(struct line *l)
{
	l->len = 0;
	l->buf[0] = '\0';
}

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= l->width)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->width + 1 - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->width - l->len ? (size_t)n : l->width - l->len;
}

struct out {
	top_put_fn put;
	void *arg;
	int y, last; /* next line; the last line for panes (the status line is after) */
};

static bool out_line(struct out *o, enum top_line_attr attr, const struct line *l)
{
	if (o->y >= o->last)
		return false;
	o->put(o->arg, o->y++, attr, l->buf);
	return true;
}

static void fmt_mem(char *buf, size_t cap, uint64_t bytes)
{
	double m = bytes / 1048576.0;

	if (m >= 10240)
		snprintf(buf, cap, "%.1fG", m / 1024);
	else
		snprintf(buf, cap, "%.0fM", m);
}

static void render_header(const struct top_view *v, const struct top_screen *s, struct line *l,
			  struct out *o)
{
	char host[80], clock[16] = "", tot[16], fre[16], ava[16];
	time_t t = (time_t)v->time_s;
	struct tm tm;

	top_cell_text(host, sizeof(host), v->host ? v->host : "?");
	if (localtime_r(&t, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	line_reset(l);
	line_add(l, "rvmig-top - %s  host %s  backend %s  delay %g s", clock, host,
		 v->backend ? v->backend : "?", s->delay_s);
	if (v->interval_s > 0)
		line_add(l, "  interval %.2f s", v->interval_s);
	else
		line_add(l, "  (first sample: figures after one delay)");
	out_line(o, TOP_LINE_PLAIN, l);

	fmt_mem(tot, sizeof(tot), v->mem_total);
	fmt_mem(fre, sizeof(fre), v->mem_free);
	fmt_mem(ava, sizeof(ava), v->mem_avail);
	line_reset(l);
	line_add(l, "Mem: %s total, %s free, %s available   CPUs: %u", tot, fre, ava, v->ncpus);
	out_line(o, TOP_LINE_PLAIN, l);

	/* per-pCPU idle, on as many lines as it takes, at most 4 */
	if (!v->cpu_idle || !v->ncpus)
		return;
	for (unsigned i = 0, lines = 0; i < v->ncpus && lines < 4; lines++) {
		line_reset(l);
		line_add(l, lines ? "         " : "pCPU idle");
		for (; i < v->ncpus && l->len + 10 <= l->width; i++) {
			if (v->interval_s > 0)
				line_add(l, " %3u:%3.0f%%", i, 100 * v->cpu_idle[i]);
			else
				line_add(l, " %3u:   -", i);
		}
		if (lines == 3 && i < v->ncpus)
			line_add(l, " ...");
		out_line(o, TOP_LINE_PLAIN, l);
		if (l->width < 20)
			break;
	}
}

static void render_cells(const struct top_pane *p, const struct top_view *v, unsigned row,
			 int sub, struct line *l)
{
	char cell[TOP_CELL_MAX];

	line_reset(l);
	for (unsigned c = 0; c < p->ncols; c++) {
		const struct top_col *col = &p->cols[c];

		if (sub == -2)
			snprintf(cell, sizeof(cell), "%s", col->head);
		else
			col->cell(v, row, sub, cell);
		line_add(l, "%s%*s", c ? " " : "", col->width, cell);
	}
}

static int render_pane(const struct top_screen *s, unsigned pi, const struct top_view *v,
		       struct line *l, struct out *o)
{
	const struct top_pane *p = s->panes[pi];
	const struct top_col *sc = &p->cols[s->sort[pi]];
	unsigned n = p->nrows(v);
	bool cut = false;
	unsigned *order = malloc((n ? n : 1) * sizeof(*order));

	if (!order)
		return -ENOMEM;
	top_screen_order(s, pi, v, order);
	line_reset(l);
	line_add(l, "%s%s: %u, sorted by %s (%c) %s", s->npanes > 1 && s->focus == pi ? "*" : "",
		 p->title, n, sc->head, sc->key ? sc->key : '-',
		 sc->descending != s->reverse[pi] ? "high first" : "low first");
	if (p->nsub)
		line_add(l, "%s", s->show_sub ? ", vCPUs shown" : "");
	out_line(o, TOP_LINE_TITLE, l);
	render_cells(p, v, 0, -2, l);
	out_line(o, TOP_LINE_HEADER, l);
	for (unsigned i = 0; i < n; i++) {
		unsigned ns = s->show_sub && p->nsub ? p->nsub(v, order[i]) : 0;

		render_cells(p, v, order[i], -1, l);
		cut = !out_line(o, TOP_LINE_PLAIN, l);
		for (unsigned j = 0; j < ns && !cut; j++) {
			render_cells(p, v, order[i], (int)j, l);
			cut = !out_line(o, TOP_LINE_PLAIN, l);
		}
		if (cut)
			break;
	}
	free(order);
	if (cut && o->y > 0) {
		/* the last line says that some are missing */
		o->y--;
		line_reset(l);
		line_add(l, "... (more rows: a taller terminal shows them)");
		out_line(o, TOP_LINE_PLAIN, l);
	}
	return 0;
}

static void render_help(const struct top_screen *s, struct line *l, struct out *o)
{
	static const char *const keys[] = {
		"q Q      quit",
		"d        set the delay between samples (seconds)",
		"v        show or hide each domain's vCPUs (Linux: its threads)",
		"r        reverse the sort order",
		"< >      sort by the column left / right of the current one",
		"Tab      next pane (the sort keys act on it)",
		"h ?      this help (any key leaves it)",
		"",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		line_reset(l);
		line_add(l, "%s", keys[i]);
		out_line(o, TOP_LINE_PLAIN, l);
	}
	for (unsigned pi = 0; pi < s->npanes; pi++) {
		const struct top_pane *p = s->panes[pi];

		line_reset(l);
		line_add(l, "Sort keys, %s:", p->title);
		out_line(o, TOP_LINE_TITLE, l);
		line_reset(l);
		for (unsigned c = 0; c < p->ncols; c++)
			if (p->cols[c].key)
				line_add(l, " %c %s ", p->cols[c].key, p->cols[c].head);
		out_line(o, TOP_LINE_PLAIN, l);
	}
}

int top_screen_render(const struct top_screen *s, const struct top_view *v, int width,
		      int height, top_put_fn put, void *arg)
{
	struct line l = { .width = width > 0 ? (size_t)width : 0 };
	struct out o = { put, arg, 0, height - 1 };
	int rc = 0;

	if (height < 1)
		return 0;
	if (!(l.buf = malloc(l.width + 1)))
		return -ENOMEM;
	render_header(v, s, &l, &o);
	line_reset(&l);
	out_line(&o, TOP_LINE_PLAIN, &l);
	if (s->help) {
		render_help(s, &l, &o);
	} else {
		for (unsigned pi = 0; pi < s->npanes && !rc; pi++) {
			if (pi) {
				line_reset(&l);
				out_line(&o, TOP_LINE_PLAIN, &l);
			}
			rc = render_pane(s, pi, v, &l, &o);
		}
	}
	line_reset(&l);
	line_add(&l, "%s", s->status[0] ? s->status
		 : "q quit  d delay  v vCPUs  r reverse  < > sort column  h help");
	put(arg, height - 1, TOP_LINE_STATUS, l.buf);
	free(l.buf);
	return rc;
}
