/* SPDX-License-Identifier: MIT */
/* stats.h - the statistics snapshot of rvmig/xstream.h, as the sender and
 * the receiver fill it. */
#ifndef RVMIG_XSTREAM_STATS_H
#define RVMIG_XSTREAM_STATS_H

#include <rvmig/xstream.h>

struct rvmig_xstats {
	uint64_t v[RVMIG_XSTAT_NTYPES];
};

void xstats_clear(rvmig_xstats *st);
void xstats_set(rvmig_xstats *st, enum rvmig_xstat which, uint64_t v);

#endif
