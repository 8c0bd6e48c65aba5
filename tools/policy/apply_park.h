/* SPDX-License-Identifier: MIT */
/*
 * apply_park.h - a plan's saves and restores carried out: each SAVE or
 * RESTORE decision turned into a request for the store (act_park.h) with
 * the planner's predicted time, run, logged as measured against predicted
 * and appended to the runs file.  What rvmig-policy --apply --policy FILE
 * (a plan's due ones) and the live loop (exec.h) do with them.
 *
 * Only this host's store is carried out ([migration] store_dir): a save
 * goes into it, a restore comes out of it onto this host.  A plan whose
 * store, or whose restore's host, is another host is refused naming it.
 */
#ifndef RVMIG_TOOLS_POLICY_APPLY_PARK_H
#define RVMIG_TOOLS_POLICY_APPLY_PARK_H

#include <stdio.h>

#include "policy/act_park.h"
#include "policy/apply_mig.h"
#include "policy/config.h"
#include "policy/plan.h"

/*
 * The store's request for decision d (SAVE or RESTORE of a Xen domain),
 * carried out by the host the plan calls `self`: the checkpoint's path
 * in store_dir, the store receiver's listen URI (transport, and the
 * address of the store host's `host` line, else 127.0.0.1), the
 * prediction.  A restore must be onto self, or onto a host whose `host`
 * line address is this host's.  0, or -EINVAL (not a save or restore, no
 * domain name), -ENOTSUP (no store_dir, the store or the restore's host
 * elsewhere, not a Xen domain) with err naming the host or domain.  Pure
 * but for resolving the addresses of `host` lines.
 */
int pol_park_request(const struct pol_config *cfg, const struct pol_decision *d, const char *self,
		     struct act_park_req *req, char *err, size_t errlen);

/* Carries out decision d (see above): log lines on out ("t=... save ...",
 * apply_mig.h), the commands' own at debug level; the run appended to the
 * runs file.  0, or -errno with the failure logged on out. */
int pol_apply_park(const struct pol_config *cfg, const struct pol_decision *d, const char *self,
		   const struct pol_apply_out *out);

/* The plan's due saves and restores, one at a time in the plan's order,
 * each by the host it was decided for (its domain's host); a failure
 * stops the rest, and so does a stop request (tool_stop, common/stop.h):
 * a "stop" line says how many ran and how many were not started.  How
 * many ran, or the first failure's -errno (-EINTR: stopped). */
int pol_apply_plan_parking(const struct pol_config *cfg, const struct pol_plan *p,
			   const struct pol_apply_out *out);

#endif
