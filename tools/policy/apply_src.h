/* SPDX-License-Identifier: MIT */
/*
 * apply_src.h - where rvmig-policy's live loop gets its domain's SLA
 * observable: rows appended to a samples CSV file (a response-time SLA), or
 * the monitor's CPU of the domain (a CPU-share floor).  See apply.h.
 */
#ifndef RVMIG_TOOLS_POLICY_APPLY_SRC_H
#define RVMIG_TOOLS_POLICY_APPLY_SRC_H

#include <stddef.h>

#include "policy/apply.h"

struct live_obs {
	double observed; /* the SLA observable: ms (response) or CPUs (floor) */
	double load;     /* req/s: the row's offered rate, else its achieved one; 0 unknown */
	unsigned line;   /* the row's line in the samples file; 0 from the monitor */
};

typedef struct live_src live_src;

/* 0 or -errno with err set. */
int live_src_open(const struct pol_live *l, live_src **out, char *err, size_t errlen);
/* The observations that arrived since the last call, at most max: their
 * count, or -errno with err set (a malformed row: its line and why). */
int live_src_poll(live_src *s, struct live_obs *out, size_t max, char *err, size_t errlen);
/* The domain's vCPUs as the monitor last saw them (0: unknown). */
unsigned live_src_nvcpus(const live_src *s);
void live_src_close(live_src *s);

#endif
