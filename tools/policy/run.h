/* SPDX-License-Identifier: MIT */
/*
 * run.h - rvmig-policy's evaluation: states (from a trace or from
 * Prometheus) fed one by one, in time order, to the decider
 * (rvmig_decider(3)) with each watched domain's candidate actions, and to
 * the host balance that plans migrations off overloaded hosts (balance.h);
 * the decisions are collected into a plan (plan.h).  Pure: no I/O, the
 * time comes from the states, so a replay is deterministic.
 */
#ifndef RVMIG_TOOLS_POLICY_RUN_H
#define RVMIG_TOOLS_POLICY_RUN_H

#include "policy/config.h"
#include "policy/observe.h"
#include "policy/plan.h"

typedef struct pol_run pol_run;

/* A run for `cfg` (kept by pointer: it must outlive the run).  -ENOMEM,
 * -EINVAL (decider settings the library refuses) with err set. */
int pol_run_create(const struct pol_config *cfg, pol_run **out, char *err, size_t errlen);
void pol_run_destroy(pol_run *r);

/*
 * One state at time st->t (after the previous one's).  `promql`: per
 * config domain, the value its promql expression had at st->t (NaN: none),
 * or NULL when no domain has one.  0 or a negative errno with err set.
 */
int pol_run_step(pol_run *r, const struct pol_state *st, const double *promql, char *err,
		 size_t errlen);

/* Moves what the run decided into *plan (the statuses those of the last
 * state) and leaves the run empty.  -ENOMEM. */
int pol_run_plan(pol_run *r, const char *source, struct pol_plan *plan);

/* The observable of a response-time SLA from a samples set at time t: the
 * newest row of `app` whose time (scenario "tUNIXTIME") is at or before t
 * and at most max_age seconds old; its metric per the SLA and its load
 * (offered_rps, else achieved_rps).  1 found, 0 none. */
int pol_samples_at(const rvmig_samples *set, const char *app, const struct rvmig_sla *sla,
		   double t, double max_age, double *observed, double *load);

#endif
