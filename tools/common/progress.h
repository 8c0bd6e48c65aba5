/* SPDX-License-Identifier: MIT */
/*
 * progress.h - a one-line progress bar on stderr (bytes, rate, ETA when the
 * size is known), drawn only when stderr is a terminal, at most 5 times a
 * second; and the one way the tools print a rate, so the bar, the summary
 * lines and --stats-json's gbit_per_s speak the same unit.
 */
#ifndef RVMIG_TOOLS_PROGRESS_H
#define RVMIG_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress {
	bool on;
	uint64_t total; /* 0: unknown */
	double start, last;
	bool drawn;
};

/* enabled=false forces it off (e.g. -q). */
void progress_init(struct progress *p, bool enabled, uint64_t total);
void progress_set_total(struct progress *p, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
/* Clears the line (a summary follows on its own line). */
void progress_end(struct progress *p);

/* "0.214 Gbit/s": bytes over seconds in Gbit/s (1e9 bit/s, the unit of the
 * benchmarks and of gbit_per_s): three decimals below 1 Gbit/s, three
 * significant digits above.  Returns buf. */
const char *progress_rate(char *buf, size_t n, double bytes, double seconds);

#endif
