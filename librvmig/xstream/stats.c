/* SPDX-License-Identifier: MIT */
/* stats.c - statistics snapshots of senders and receivers (stats.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/stats.h"

int rvmig_xstats_create(rvmig_xstats **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void rvmig_xstats_destroy(rvmig_xstats *st)
{
	free(st);
}

uint64_t rvmig_xstats_get(const rvmig_xstats *st, enum rvmig_xstat which)
{
	return st && (unsigned)which < RVMIG_XSTAT_NTYPES ? st->v[which] : 0;
}

void xstats_clear(rvmig_xstats *st)
{
	memset(st, 0, sizeof(*st));
}

void xstats_set(rvmig_xstats *st, enum rvmig_xstat which, uint64_t v)
{
	st->v[which] = v;
}
