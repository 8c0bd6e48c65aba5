/* SPDX-License-Identifier: MIT */
/*
 * exec.h - carrying a live run's decisions out (rvmig-policy --policy FILE
 * --apply): each decision due now is logged (what, where, old -> new,
 * why), its setting validated and written by the actuators (rvmig_act(3):
 * read, write, read back) and then, as one action in flight (flight.h, the
 * cycle the one-domain loop of apply.h shares), judged on the domain's
 * next observations (rvmig_verify(3)): the first `settle` skipped, the next
 * `verify` ones
 * compared with the state it was taken in and with the prediction; an
 * action whose effect is the opposite of predicted is rolled back (the old
 * setting written again and read back), and the run is told the share the
 * domain really has after a failure or a rollback, and where a domain is
 * after a migration, save or restore that failed or was refused: where it
 * was (pol_run_move_failed(): a save's domain still runs on its host, a
 * restore's stays in the store), the move not tried again within its
 * domain cool-down; the log names the domain and its host.  Dry run (apply 0): the
 * same log, nothing written, nothing verified.
 *
 * The run's decider keeps cool-downs, dwell and max_actions; exec adds
 * that a domain with an action under verification gets no other (the
 * decider's domain cool-down already holds it; a failed write does not
 * start one in the system, only in the decider).
 *
 * Migrations go to ops->migrate (follow.c: the executor of act_migrate.h
 * through apply_mig.h), saves and restores to ops->park (follow.c: the
 * store of act_park.h through apply_park.h); without them they are
 * refused with -ENOTSUP and said so.  A save or restore is for this host
 * (`host`): the domain's, and a restore's destination too (else
 * apply_park.h refuses it).
 */
#ifndef RVMIG_TOOLS_POLICY_EXEC_H
#define RVMIG_TOOLS_POLICY_EXEC_H

#include <stdio.h>

#include <rvmig.h>

#include "policy/run.h"

/* How migrations, saves and restores are carried out.  migrate(),
 * park(): 0, or -errno; err set to the reason, or left "" when the
 * executor logged its outcome itself.  park(): a SAVE or RESTORE, by the
 * host the run calls `self`.  NULL: refused. */
struct pol_exec_ops {
	const char *name;
	int (*migrate)(void *ctx, const struct pol_decision *d, char *err, size_t errlen);
	int (*park)(void *ctx, const struct pol_decision *d, const char *self, char *err,
		    size_t errlen);
	void *ctx;
};

/* The default: refuses every migration, save and restore with -ENOTSUP. */
extern const struct pol_exec_ops pol_exec_no_migrate;

struct pol_exec_attr {
	int apply;                    /* 0: dry run (log only) */
	const char *host;             /* decisions for other hosts are not carried out */
	unsigned verify_n;            /* observations that judge an action (default 3) */
	unsigned settle_n;            /* observations skipped after it (default 1) */
	double verify_timeout_s;      /* no verdict by then: kept, said so (default 60) */
	const struct pol_exec_ops *ops; /* NULL: pol_exec_no_migrate */
	FILE *out;                    /* the log; one line per event */
};

typedef struct pol_exec pol_exec;

/* 0 or -ENOMEM. */
int pol_exec_create(const struct pol_exec_attr *attr, pol_exec **out);
void pol_exec_destroy(pol_exec *e);

/* Carries out decision d (one of r's, made at time now), logging it.
 * 0, or a negative errno only when out of memory: an action that fails is
 * logged, and r told the share the domain kept. */
int pol_exec_decision(pol_exec *e, pol_run *r, const struct pol_decision *d, double now);
/* After each state: feeds the actions under verification their domains'
 * observables, rolls back the ones judged UNDO.  The count of verdicts
 * reached (KEEP, UNDO or timed out) at this call. */
int pol_exec_observe(pol_exec *e, pol_run *r, double now);
/* The actuators (rvmig_act(3), every backend) the decisions are carried
 * out with; valid until pol_exec_destroy(). */
rvmig_act *pol_exec_act(const pol_exec *e);
/* Actions applied, kept and rolled back so far. */
void pol_exec_counts(const pol_exec *e, unsigned *applied, unsigned *kept, unsigned *undone);

/* The actuator target of a monitored domain: a cgroup's path
 * ("cgroup" kind, name absolute), a process's pid ("process"), a Xen
 * domain's id ("domain" or "xen").  0, or -EINVAL with err set. */
int pol_exec_target(const struct pol_target *tg, struct rvmig_act_target *t, char *err, size_t errlen);

#endif
