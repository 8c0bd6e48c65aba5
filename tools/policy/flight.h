/* SPDX-License-Identifier: MIT */
/*
 * flight.h - an action rvmig-policy applied, in flight until judged: the
 * apply / settle / verify / roll-back cycle that both live loops share,
 * the policy-file runner (exec.c) and the one-domain loop (apply.c).
 *
 * pol_flight_apply() carries an action out through the library's
 * actuators (rvmig_act(3): check, read, write, read back) and logs
 *   t=T apply KIND NAME (WHERE): OLD -> NEW      (or "...: failed: WHY")
 * Then the loop feeds each observation of the domain's SLA observable to
 * pol_flight_observe(): the first `settle` are skipped (measured partly
 * before the action), the rest judged by rvmig_verify(3) until a verdict,
 * logged as
 *   t=T verify KIND NAME: VERDICT: [METRIC ]median M of N (before B,
 *       predicted P), utility U0 -> U1[, ...]
 * and an UNDO verdict writes the old setting back (rvmig_act_undo()):
 *   t=T undo KIND NAME (WHERE): NEW -> OLD       (or "...: failed: WHY")
 * No verdict by the deadline keeps the action, said so.  Dry runs do not
 * get here: nothing is applied.
 */
#ifndef RVMIG_TOOLS_POLICY_FLIGHT_H
#define RVMIG_TOOLS_POLICY_FLIGHT_H

#include <stdio.h>

#include <rvmig.h>

#define POL_FLIGHT_VERIFY_MAX 100 /* --verify's bound */
#define POL_FLIGHT_NAME_MAX (RVMIG_ACT_PATH_MAX + 16)

struct pol_flight {
	char name[POL_FLIGHT_NAME_MAX]; /* the actuator target, escaped */
	const char *metric;             /* the observable's name for the verify line; NULL: none */
	rvmig_act_change *change;       /* what was written, to put back */
	struct rvmig_verify_attr va;
	double win[POL_FLIGHT_VERIFY_MAX];
	unsigned nwin, settle_left;
	double deadline, timeout;       /* the caller's clock, seconds */
};

enum pol_flight_end {
	POL_FLIGHT_PENDING = 0, /* no verdict yet */
	POL_FLIGHT_KEPT = 1,    /* KEEP, a verify error, or no verdict in time: kept */
	POL_FLIGHT_UNDONE = 2,  /* UNDO, and the old setting written back */
	POL_FLIGHT_STUCK = 3,   /* UNDO, but writing the old setting back failed */
};

/* Applies d's action on t at time now, logging it on out; on success *f
 * (zeroed first) holds the change, and will be judged against va (its
 * min_samples the verify count) after `settle` skipped observations, until
 * now + timeout.  0, or -errno when the action failed (logged). */
int pol_flight_apply(struct pol_flight *f, rvmig_act *act, const struct rvmig_act_target *t,
		     const struct rvmig_action *a, const struct rvmig_verify_attr *va,
		     unsigned settle, double timeout, double now, FILE *out);
/* One more observation at time now: POL_FLIGHT_PENDING, or how it ended
 * (logged; the change is undone on UNDO). */
enum pol_flight_end pol_flight_observe(struct pol_flight *f, rvmig_act *act, double obs,
				       double now, FILE *out);
/* Past the deadline without a verdict: POL_FLIGHT_KEPT (logged), else
 * POL_FLIGHT_PENDING. */
enum pol_flight_end pol_flight_expire(struct pol_flight *f, double now, FILE *out);
/* The action's kind; the setting it found (and put back on UNDO). */
enum rvmig_action_kind pol_flight_kind(const struct pol_flight *f);
const struct rvmig_act_setting *pol_flight_old(const struct pol_flight *f);
void pol_flight_free(struct pol_flight *f);

#endif
