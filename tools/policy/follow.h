/* SPDX-License-Identifier: MIT */
/*
 * follow.h - rvmig-policy --policy FILE --live | --apply: the run (run.h)
 * fed live states, one every interval, from this host's monitor
 * (mon_state.h) or from a Prometheus server (instant queries, many
 * hosts); the decisions due at each state handed to the executor (exec.h),
 * which logs them (--live) or carries them out, verifies and rolls back
 * (--apply).  The same run, decider and candidates as a plan from a trace:
 * only the source of the states and what happens to the decisions differ.
 */
#ifndef RVMIG_TOOLS_POLICY_FOLLOW_H
#define RVMIG_TOOLS_POLICY_FOLLOW_H

#include <stdio.h>

#include "policy/config.h"
#include "policy/exec.h"
#include "policy/mon_state.h"
#include "policy/prom.h"

struct pol_follow_attr {
	pol_mon *mon;             /* the states: this host's monitor, or */
	prom_client *prom;        /* a Prometheus server */
	const char *window;       /* its rates' range */
	double interval_s;        /* between states (> 0) */
	double duration_s;        /* 0: until SIGINT / SIGTERM */
	int once;                 /* stop after the first verdict (keep or undo) */
	struct pol_exec_attr exec;
};

/* Runs until the duration, a signal or --once; at the end prints the
 * domains' and hosts' states (the plan's text or JSON form, `json`).
 * Returns 0 or a negative errno with err set (a state that could not be
 * read, out of memory). */
int pol_follow(const struct pol_config *cfg, const struct pol_follow_attr *a, int json,
	       char *err, size_t errlen);

#endif
