/* SPDX-License-Identifier: MIT */
/*
 * observe.h - the state rvmig-policy decides on, read from a Prometheus
 * server that scrapes the rvmig-top exporters of many hosts: per host its
 * CPUs and CPU in use, per domain its CPU and run / blocked / waiting
 * shares over a window.  A host is an exporter (Prometheus's `instance`).
 */
#ifndef RVMIG_TOOLS_POLICY_OBSERVE_H
#define RVMIG_TOOLS_POLICY_OBSERVE_H

#include <stddef.h>

#include "policy/prom.h"

struct pol_dom {
	char *instance, *domain, *kind, *id; /* as the exporter labelled them */
	double cpu;                          /* CPUs in use (1 = one CPU busy) */
	double run, blocked, wait;           /* shares of the window, together 1 */
	int have_shares;                     /* run/blocked/wait series present */
	double mem;                          /* bytes; 0: not reported */
};

struct pol_host {
	char *instance;
	double cpus;     /* rvmig_host_cpus */
	double cpu_used; /* sum of its domains' cpu */
	unsigned ndoms;
};

struct pol_state {
	struct pol_host *hosts;
	size_t nhosts;
	struct pol_dom *doms;
	size_t ndoms;
	char window[16];
	double t;        /* Unix time the state is of (0: the server's now) */
};

/* A PromQL range duration rvmig-policy accepts: digits then ms, s, m or h
 * (nothing else reaches a query).  1 when valid. */
int pol_window_ok(const char *w);

/* Queries the server at `at` (0: now) over the window.  0, or a negative
 * errno with err set (the query that failed and why). */
int pol_observe(prom_client *c, const char *window, double at, struct pol_state *st, char *err,
		size_t errlen);
/* The states at start, start + step, ... <= end (range queries, one per
 * metric); step 0: one state at `end` (instant queries).  *out: *n states,
 * free with pol_states_free(). */
int pol_observe_range(prom_client *c, const char *window, double start, double end, double step,
		      struct pol_state **out, size_t *n, char *err, size_t errlen);
void pol_state_free(struct pol_state *st);
void pol_states_free(struct pol_state *v, size_t n);

/* Helpers the other state sources (a recorded trace) share: the host named
 * `instance` (added when `add` and missing; NULL on ENOMEM), a new domain
 * (NULL on ENOMEM), a series' value at t (step 0: its last point; NaN when
 * it has none there). */
struct pol_host *pol_host_of(struct pol_state *st, const char *instance, int add);
struct pol_dom *pol_dom_add(struct pol_state *st, const char *instance, const char *kind,
			    const char *id, const char *name);
double pol_value_at(const struct prom_series *s, double t, double step);
/* CPUs the domain wanted: what it used, scaled up by the time it waited
 * runnable for a CPU (cpu * (run + wait) / run). */
double pol_dom_demand(const struct pol_dom *d);

#endif
