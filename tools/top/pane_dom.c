/* SPDX-License-Identifier: MIT */
/*
 * pane_dom.c - the live view's domain pane: one row per domain, its vCPUs
 * as sub-rows (screen.h).  Interval figures show '-' before the first
 * interval; names are escaped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "top/pane_dom.h"

#define D(v, r) (&(v)->doms[r])

static const struct top_vcpu *vc(const struct top_view *v, unsigned r, int sub)
{
	const struct top_dom *d = D(v, r);

	return d->vcpus && sub >= 0 && (unsigned)sub < d->nvcpus ? &d->vcpus[sub] : NULL;
}

static int cmp_d(double a, double b)
{
	return (a > b) - (a < b);
}

static int cmp_u(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* An interval figure: '-' before the first interval. */
static void pct(const struct top_view *v, double share, char *buf)
{
	if (v->interval_s > 0)
		snprintf(buf, TOP_CELL_MAX, "%.1f", 100 * share);
	else
		snprintf(buf, TOP_CELL_MAX, "-");
}

static void c_id(const struct top_view *v, unsigned r, int sub, char *buf)
{
	const struct top_vcpu *x = vc(v, r, sub);

	snprintf(buf, TOP_CELL_MAX, "%" PRIu64, sub < 0 ? D(v, r)->id : x ? x->id : 0);
}

static int k_id(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(D(v, a)->id, D(v, b)->id);
}

static void c_name(const struct top_view *v, unsigned r, int sub, char *buf)
{
	if (sub >= 0)
		snprintf(buf, TOP_CELL_MAX, "  vCPU %d", sub);
	else
		top_cell_text(buf, 21, D(v, r)->name);
}

static int k_name(const struct top_view *v, unsigned a, unsigned b)
{
	return strcmp(D(v, a)->name, D(v, b)->name);
}

static void c_state(const struct top_view *v, unsigned r, int sub, char *buf)
{
	char fl[16];

	if (sub >= 0)
		buf[0] = '\0';
	else
		snprintf(buf, TOP_CELL_MAX, "%s", top_flags_str(D(v, r)->flags, fl));
}

static int k_state(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(D(v, a)->flags, D(v, b)->flags);
}

static void c_cpus(const struct top_view *v, unsigned r, int sub, char *buf)
{
	const struct top_vcpu *x = vc(v, r, sub);

	snprintf(buf, TOP_CELL_MAX, "%.1f", sub < 0 ? D(v, r)->cpu_s : x ? x->cpu_s : 0);
}

static int k_cpus(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_d(D(v, a)->cpu_s, D(v, b)->cpu_s);
}

static void c_cpup(const struct top_view *v, unsigned r, int sub, char *buf)
{
	if (sub >= 0)
		buf[0] = '\0';
	else if (v->interval_s > 0)
		snprintf(buf, TOP_CELL_MAX, "%.1f", D(v, r)->cpu_pct);
	else
		snprintf(buf, TOP_CELL_MAX, "-");
}

static int k_cpup(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_d(D(v, a)->cpu_pct, D(v, b)->cpu_pct);
}

/* RUN% BLOCKED% WAIT% EXEC/s: the domain's, or the vCPU's */
#define SHARE_COL(fn, field)                                                   \
	static void c_##fn(const struct top_view *v, unsigned r, int sub, char *buf) \
	{                                                                      \
		const struct top_vcpu *x = vc(v, r, sub);                      \
		pct(v, sub < 0 ? D(v, r)->field : x ? x->field : 0, buf);      \
	}                                                                      \
	static int k_##fn(const struct top_view *v, unsigned a, unsigned b)    \
	{                                                                      \
		return cmp_d(D(v, a)->field, D(v, b)->field);                  \
	}
SHARE_COL(run, run_share)
SHARE_COL(blk, blocked_share)
SHARE_COL(wait, wait_share)

static void c_exec(const struct top_view *v, unsigned r, int sub, char *buf)
{
	const struct top_vcpu *x = vc(v, r, sub);

	if (v->interval_s > 0)
		snprintf(buf, TOP_CELL_MAX, "%.1f",
			 sub < 0 ? D(v, r)->execs_per_s : x ? x->execs_per_s : 0);
	else
		snprintf(buf, TOP_CELL_MAX, "-");
}

static int k_exec(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_d(D(v, a)->execs_per_s, D(v, b)->execs_per_s);
}

static void c_nvcpu(const struct top_view *v, unsigned r, int sub, char *buf)
{
	if (sub >= 0)
		buf[0] = '\0';
	else
		snprintf(buf, TOP_CELL_MAX, "%u", D(v, r)->nvcpus);
}

static int k_nvcpu(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(D(v, a)->nvcpus, D(v, b)->nvcpus);
}

static void c_mem(const struct top_view *v, unsigned r, int sub, char *buf)
{
	if (sub >= 0)
		buf[0] = '\0';
	else
		snprintf(buf, TOP_CELL_MAX, "%" PRIu64, D(v, r)->mem_bytes / 1024);
}

static int k_mem(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(D(v, a)->mem_bytes, D(v, b)->mem_bytes);
}

static void c_kind(const struct top_view *v, unsigned r, int sub, char *buf)
{
	snprintf(buf, TOP_CELL_MAX, "%s", sub >= 0 ? "" : top_kind_name(D(v, r)->kind));
}

static int k_kind(const struct top_view *v, unsigned a, unsigned b)
{
	return cmp_u(D(v, a)->kind, D(v, b)->kind);
}

/* NETRX(k) NETTX(k) DISKRD(k) DISKWR(k): the domain's devices summed */
#define DEV_COL(fn, field)                                                     \
	static void c_##fn(const struct top_view *v, unsigned r, int sub, char *buf) \
	{                                                                      \
		if (sub >= 0)                                                  \
			buf[0] = '\0';                                        \
		else                                                           \
			snprintf(buf, TOP_CELL_MAX, "%" PRIu64,                \
				 top_dev_sums(D(v, r)).field / 1024);          \
	}                                                                      \
	static int k_##fn(const struct top_view *v, unsigned a, unsigned b)    \
	{                                                                      \
		return cmp_u(top_dev_sums(D(v, a)).field, top_dev_sums(D(v, b)).field); \
	}
DEV_COL(netrx, rx)
DEV_COL(nettx, tx)
DEV_COL(diskrd, rd)
DEV_COL(diskwr, wr)

static const struct top_col dom_cols[] = {
	{ "ID", 7, 'I', c_id, k_id, false },
	{ "NAME", -20, 'N', c_name, k_name, false },
	{ "STATE", 5, 'S', c_state, k_state, true },
	{ "CPU(sec)", 9, 'T', c_cpus, k_cpus, true },
	{ "CPU%", 6, 'C', c_cpup, k_cpup, true },
	{ "RUN%", 6, 'R', c_run, k_run, true },
	{ "BLOCKED%", 8, 'B', c_blk, k_blk, true },
	{ "WAIT%", 6, 'W', c_wait, k_wait, true },
	{ "EXEC/s", 8, 'E', c_exec, k_exec, true },
	{ "VCPUS", 5, 'V', c_nvcpu, k_nvcpu, true },
	{ "MEM(k)", 10, 'M', c_mem, k_mem, true },
	{ "KIND", -7, 'K', c_kind, k_kind, false },
	/* last: the first cut on a narrow terminal */
	{ "NETRX(k)", 9, 'X', c_netrx, k_netrx, true },
	{ "NETTX(k)", 9, 'O', c_nettx, k_nettx, true },
	{ "DISKRD(k)", 9, 'D', c_diskrd, k_diskrd, true },
	{ "DISKWR(k)", 9, 'F', c_diskwr, k_diskwr, true },
};

static unsigned dom_rows(const struct top_view *v)
{
	return v->ndoms;
}

static unsigned dom_sub(const struct top_view *v, unsigned r)
{
	return D(v, r)->vcpus ? D(v, r)->nvcpus : 0;
}

const struct top_pane top_pane_domains = {
	.title = "Domains",
	.cols = dom_cols,
	.ncols = sizeof(dom_cols) / sizeof(dom_cols[0]),
	.default_sort = 4, /* CPU%, as top */
	.nrows = dom_rows,
	.nsub = dom_sub,
};
