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

/* ---- for a live run that carries its decisions out (follow.h) ---- */

/* A domain's CPU controls: cap (CPUs, 0 none), vCPUs (0 unknown) and
 * scheduler weight.  What the policy file says (`share`, `vcpus.now`,
 * `weight.now`), or read from the system by a live run. */
struct pol_controls {
	double cap, vcpus, weight;
};
/* Reads a newly matched domain's controls from the system in place of the
 * policy file's; leaves those it cannot read as they are.  1 read, 0 or a
 * negative errno (the file's values stand). */
typedef int (*pol_share_reader)(void *ctx, const struct pol_target *tg,
				const struct pol_domain_cfg *c, struct pol_controls *now);
void pol_run_set_share_reader(pol_run *r, pol_share_reader fn, void *ctx);
/* The decisions made so far, in order (*n of them; valid until the next
 * pol_run_step()). */
const struct pol_decision *pol_run_decisions(const pol_run *r, size_t *n);
/* The observable of domain tg (host, kind, id) at the last state: 1 with
 * *obs set, 0 when it had none there. */
int pol_run_observed(const pol_run *r, const struct pol_target *tg, double *obs);
/* The [domain] section domain tg matched (it must be one of the run's). */
const struct pol_domain_cfg *pol_run_domain_cfg(const pol_run *r, const struct pol_target *tg);
/* Sets domain tg's control of kind k to a setting's value, in the units of
 * enum rvmig_action_kind (an action failed or was rolled back); its granted
 * share follows.  0, -ENOENT (no such domain), -EINVAL (not a CPU control). */
int pol_run_set_control(pol_run *r, const struct pol_target *tg, enum rvmig_action_kind k,
			int64_t value);
/* A move the run decided -- k: RVMIG_ACT_MIGRATE, _SAVE or _RESTORE of
 * domain tg -- that was not carried out (it failed or was refused) at time
 * t, in the run's time (its states').  The run takes back what it assumed:
 * after a failed migration or save the domain runs where it was (so no
 * RESTORE is planned of a checkpoint that does not exist, and the domain is
 * watched and counted on its host), after a failed restore it stays saved.
 * Its domain cool-down counts from t, so that the move is not tried again
 * at every state.  0, -ENOENT (no such domain), -EINVAL (not a move). */
int pol_run_move_failed(pol_run *r, const struct pol_target *tg, enum rvmig_action_kind k,
			double t);
/* The weight a domain of this kind has when nobody set one: credit's 256
 * for Xen domains, cpu.weight's 100 for cgroups and processes. */
double pol_default_weight(const char *kind);
/* 1 when the kind names a Xen domain ("domain" from the monitor and
 * rvmig-top, "xen"). */
int pol_kind_xen(const char *kind);

/* The observable of a response-time SLA from a samples set at time t: the
 * newest row of `app` whose time (scenario "tUNIXTIME") is at or before t
 * and at most max_age seconds old; its metric per the SLA and its load
 * (offered_rps, else achieved_rps).  1 found, 0 none. */
int pol_samples_at(const rvmig_samples *set, const char *app, const struct rvmig_sla *sla,
		   double t, double max_age, double *observed, double *load);

#endif
