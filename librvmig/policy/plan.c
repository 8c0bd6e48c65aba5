/* SPDX-License-Identifier: MIT */
/* plan.c - reading a plan the planner made. */
#include <stdlib.h>

#include "policy/common.h"
#include "policy/plan.h"

RVMIG_API void rvmig_plan_free(rvmig_plan *plan)
{
	if (!plan)
		return;
	free(plan->e);
	free(plan);
}

RVMIG_API double rvmig_plan_makespan(const rvmig_plan *plan)
{
	return plan->makespan;
}

RVMIG_API double rvmig_plan_max_downtime(const rvmig_plan *plan)
{
	return plan->max_downtime;
}

RVMIG_API unsigned rvmig_plan_concurrency(const rvmig_plan *plan)
{
	return plan->k;
}

RVMIG_API enum rvmig_plan_order rvmig_plan_order(const rvmig_plan *plan)
{
	return plan->order;
}

RVMIG_API int rvmig_plan_meets_sla(const rvmig_plan *plan)
{
	return plan->meets_sla;
}

RVMIG_API size_t rvmig_plan_count(const rvmig_plan *plan)
{
	return plan->n;
}

RVMIG_API int rvmig_plan_entry(const rvmig_plan *plan, size_t i, struct rvmig_plan_entry *out)
{
	if (!plan || !out)
		return -EINVAL;
	if (i >= plan->n)
		return -ERANGE;
	return pol_out(out, &plan->e[i], sizeof(plan->e[i]), sizeof(*out));
}
