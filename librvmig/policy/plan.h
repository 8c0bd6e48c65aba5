/* SPDX-License-Identifier: MIT */
/* The planner and its plans (planner.c: the queue simulation and the
 * choice of k and order; plan.c: the plan's accessors). */
#ifndef RVMIG_POLICY_PLAN_H
#define RVMIG_POLICY_PLAN_H

#include <rvmig/policy.h>

#define PLAN_MAX_TRANSFERS 4096
#define PLAN_MAX_CONCURRENT 256
#define PLAN_MAX_CONTENTION 100.0 /* rvmig_link's contention */

struct rvmig_planner {
	struct rvmig_link link;   /* checked, defaults filled */
	struct rvmig_transfer *t;
	size_t n, cap;
};

struct rvmig_plan {
	double makespan, max_downtime;
	unsigned k;
	enum rvmig_plan_order order;
	int meets_sla;
	size_t n;
	struct rvmig_plan_entry *e; /* in the order transfers were added */
};

#endif
