/* SPDX-License-Identifier: MIT */
/*
 * apply_mig.h - a plan's migrations carried out: each RVMIG_ACT_MIGRATE
 * decision turned into a request for the executor (act_migrate.h) with the
 * planner's predicted time and downtime, run, and its outcome logged as
 * measured against predicted.  What rvmig-policy --apply --policy FILE
 * does with a plan's due migrations.
 */
#ifndef RVMIG_TOOLS_POLICY_APPLY_MIG_H
#define RVMIG_TOOLS_POLICY_APPLY_MIG_H

#include <stdio.h>

#include "policy/act_migrate.h"
#include "policy/config.h"
#include "policy/plan.h"

/* Where the actions of a plan or a live run log: lines "t=T ..." on f, T
 * in seconds since t0: the live loop's start (tool_wall() then), as its
 * other lines (exec.h); 0 for a plan's --apply (the wall clock). */
struct pol_apply_out {
	FILE *f;
	double t0;
};

/* The T of a line logged now: tool_wall() - o->t0. */
double pol_apply_t(const struct pol_apply_out *o);

/*
 * Executes one MIGRATE decision of plan p (its target a Xen domain: kind
 * "xen", id the domain id; anything else is refused, -ENOTSUP).  Log lines
 * on out ("t=... migrate ..."), the commands' own lines at debug level
 * (RVMIG_LOG=debug).  0, or -errno with the failure logged on out.
 */
int pol_apply_migration(const struct act_mig_cfg *cfg, const struct pol_plan *p,
			const struct pol_decision *d, const struct pol_apply_out *out);

/* Seconds since the executed command exited 0 (res->exited_t): how long
 * the outcome's check took when its done line is printed; 0 when it did not
 * exit 0.  The done lines say "done in MEASURED s ...: checked C s after
 * CMD exited": the log's t= of that line is the check's end. */
double pol_apply_checked(const struct act_mig_result *res);

/* The executor's log function (act_mig_log_fn), arg a struct pol_apply_out:
 * a line "t=T LINE", the commands' own lines at debug level
 * (RVMIG_LOG=debug). */
void pol_apply_log(void *arg, int verbose, const char *line);

/* Appends the run of decision d (kind, as predicted, as measured: res)
 * to the runs file of cfg; a failure to write it is logged on out, not
 * fatal (the action is done). */
void pol_apply_record(const struct act_mig_cfg *cfg, enum rvmig_transfer_kind kind,
		      const struct pol_decision *d, double predicted_s, double predicted_downtime_s,
		      const struct act_mig_result *res, int ok, const struct pol_apply_out *out);

/* Executes the plan's due MIGRATE decisions batch by batch, each batch as
 * a streamed queue (mig_queue.h) in the planner's order with at most the
 * planner's k at once, the next started the moment one ends; each logged
 * with its predicted against measured time ("queue:" lines say when each
 * starts and ends and how many run).  A failure starts no more.  Other
 * decisions are left alone (saves and restores: apply_park.h).  With
 * [migration] runs = PATH each run is appended there (config.h).  A stop
 * request (tool_stop, common/stop.h) starts no more and stops those
 * running (act_migrate.h): logged and recorded as failed, and a "stop"
 * line says how many ran and how many were not started.  Returns how many ran, or the first failure's -errno
 * (-EINTR: stopped before all started). */
int pol_apply_plan_migrations(const struct pol_config *cfg, const struct pol_plan *p,
			      const struct pol_apply_out *out);

#endif
