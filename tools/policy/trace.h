/* SPDX-License-Identifier: MIT */
/*
 * trace.h - a recorded rvmig-top trace (rvmig-top --record FILE, format 1,
 * rvmig-top(1) RECORD FORMAT) read back as the states rvmig-policy decides
 * on, one per sample, with the sample's own time: a replay is
 * deterministic.  Pure: text in, states out.
 */
#ifndef RVMIG_TOOLS_POLICY_TRACE_H
#define RVMIG_TOOLS_POLICY_TRACE_H

#include <stddef.h>

#include "policy/observe.h"

#define POL_TRACE_MAX_BYTES (64u << 20)
#define POL_TRACE_MAX_SAMPLES 100000
#define POL_TRACE_MAX_DOMAINS 4096 /* per sample */

/*
 * Parses a record.  Every sample becomes one state with one host, named
 * `host` (NULL: the record's host=, or "local" when that is empty), with
 * the record's CPU count; its D rows become the domains (cpu_pct / 100 CPUs,
 * run / blocked / wait shares, memory; columns after the 15 of format 1
 * are left alone).  The first sample of each run (its
 * interval is 0: no rates yet) is left out.  Returns the number of states
 * (*out, free with pol_states_free()), or -EINVAL / -E2BIG / -ENOMEM with err
 * naming the line and field.
 */
int pol_trace_parse(const char *text, size_t len, const char *name, const char *host,
		    struct pol_state **out, size_t *n, char *err, size_t errlen);

#endif
