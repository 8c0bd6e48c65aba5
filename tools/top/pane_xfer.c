/* SPDX-License-Identifier: MIT */
/*
 * pane_xfer.c - the live view's transfer pane (pane_xfer.h).  The monitor
 * hands the strings already escaped (printable ASCII); a byte outside that
 * still shows as '?'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "top/pane_xfer.h"

#define X(v, r) (&(v)->xfers[r])

static int cmp_u(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_d(double a, double b)
{
	return (a > b) - (a < b);
}

/* An escaped string cut to the cell (width w). */
static void text(char *buf, const char *s, size_t w)
{
	size_t n = 0;

	for (; s && *s && n < w && n < TOP_CELL_MAX - 1; s++)
		buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	buf[n] = '\0';
}

static void c_pid(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%" PRIu64, X(v, r)->pid);
}

static int k_pid(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->pid, X(v, b)->pid);
}

static void c_id(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%" PRIu64, X(v, r)->id);
}

static int k_id(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->id, X(v, b)->id);
}

#define STR_COL(fn, field, w)                                                  \
	static void c_##fn(const struct top_view *v, unsigned r, int sub, char *buf) \
	{                                                                      \
		text(buf, X(v, r)->field, w);                                  \
	}                                                                      \
	static int k_##fn(const struct top_view *v, unsigned a, unsigned b)    \
	{                                                                      \
		return strcmp(X(v, a)->field ? X(v, a)->field : "",            \
			      X(v, b)->field ? X(v, b)->field : "");          \
	}
STR_COL(tool, tool, 12)
STR_COL(state, state, 9)
STR_COL(trans, transport, 5)
STR_COL(mode, mode, 4)
STR_COL(peer, peer, 24)

static void c_done(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%" PRIu64, X(v, r)->processed / 1024);
}

static int k_done(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->processed, X(v, b)->processed);
}

static void c_total(const struct top_view *v, unsigned r, int sub, char *buf)
{
	if (X(v, r)->size_known)
		snprintf(buf, TOP_CELL_MAX, "%" PRIu64, X(v, r)->total / 1024);
	else
		snprintf(buf, TOP_CELL_MAX, "-");
}

static int k_total(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->size_known ? X(v, a)->total : 0,
		     X(v, b)->size_known ? X(v, b)->total : 0);
}

static void c_rate(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%.1f", X(v, r)->bytes_per_s / 1e6);
}

static int k_rate(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->bytes_per_s, X(v, b)->bytes_per_s);
}

static void c_pages(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%" PRIu64, X(v, r)->pages);
}

static int k_pages(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(X(v, a)->pages, X(v, b)->pages);
}

static void c_time(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%.1f", X(v, r)->elapsed_s);
}

static int k_time(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_d(X(v, a)->elapsed_s, X(v, b)->elapsed_s);
}

static const struct top_col xfer_cols[] = {
	{ "PID", 7, 'P', c_pid, k_pid, false },
	{ "ID", 3, 'I', c_id, k_id, false },
	{ "TOOL", -12, 'O', c_tool, k_tool, false },
	{ "STATE", -9, 'S', c_state, k_state, false },
	{ "TRANS", -5, 0, c_trans, k_trans, false },
	{ "MODE", -4, 0, c_mode, k_mode, false },
	{ "PEER", -24, 0, c_peer, k_peer, false },
	{ "DONE(k)", 10, 'D', c_done, k_done, true },
	{ "TOTAL(k)", 10, 'Z', c_total, k_total, true },
	{ "RATE(MB/s)", 10, 'R', c_rate, k_rate, true },
	{ "PAGES", 9, 'G', c_pages, k_pages, true },
	{ "TIME(s)", 8, 'E', c_time, k_time, true },
};

static unsigned xfer_rows(const struct top_view *v)
{
	return v->xfers ? v->nxfers : 0;
}

const struct top_pane top_pane_transfers = {
	.title = "Transfers",
	.cols = xfer_cols,
	.ncols = sizeof(xfer_cols) / sizeof(xfer_cols[0]),
	.default_sort = 9, /* RATE */
	.nrows = xfer_rows,
	.nsub = NULL,
};
