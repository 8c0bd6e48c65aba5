/* SPDX-License-Identifier: MIT */
/* names.c - the policy model's enum values as text (plans, logs, JSON). */
#include "policy/common.h"

#define NAME(tab, v) ((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) && tab[v] ? tab[v] : "?")

RVMIG_API const char *rvmig_action_kind_name(enum rvmig_action_kind kind)
{
	static const char *const tab[] = {
		[RVMIG_ACT_NONE] = "none",
		[RVMIG_ACT_CREDIT_WEIGHT] = "credit-weight",
		[RVMIG_ACT_CREDIT_CAP] = "credit-cap",
		[RVMIG_ACT_VCPUS] = "vcpus",
		[RVMIG_ACT_PIN] = "pin",
		[RVMIG_ACT_CPUFREQ] = "cpufreq",
		[RVMIG_ACT_SAVE] = "save",
		[RVMIG_ACT_RESTORE] = "restore",
		[RVMIG_ACT_MIGRATE] = "migrate",
		[RVMIG_ACT_CG_CPU_MAX] = "cgroup-cpu-max",
		[RVMIG_ACT_CG_CPU_WEIGHT] = "cgroup-cpu-weight",
		[RVMIG_ACT_CG_CPUSET] = "cgroup-cpuset",
	};

	return NAME(tab, kind);
}

RVMIG_API const char *rvmig_hold_name(enum rvmig_hold hold)
{
	static const char *const tab[] = {
		[RVMIG_HOLD_NONE] = "none",
		[RVMIG_HOLD_NO_DATA] = "no-data",
		[RVMIG_HOLD_IN_BAND] = "in-band",
		[RVMIG_HOLD_DWELL] = "dwell",
		[RVMIG_HOLD_DOMAIN_COOLDOWN] = "domain-cooldown",
		[RVMIG_HOLD_GLOBAL_COOLDOWN] = "global-cooldown",
		[RVMIG_HOLD_NO_BENEFIT] = "no-benefit",
		[RVMIG_HOLD_NO_CANDIDATE] = "no-candidate",
		[RVMIG_HOLD_LIMIT] = "limit",
	};

	return NAME(tab, hold);
}

RVMIG_API const char *rvmig_domain_state_name(enum rvmig_domain_state state)
{
	static const char *const tab[] = {
		[RVMIG_DOM_UNKNOWN] = "unknown",
		[RVMIG_DOM_VIOLATING] = "violating",
		[RVMIG_DOM_HOLD] = "hold",
		[RVMIG_DOM_SATISFIED] = "satisfied",
	};

	return NAME(tab, state);
}

RVMIG_API const char *rvmig_why_name(enum rvmig_decision_why why)
{
	static const char *const tab[] = {
		[RVMIG_WHY_RAISE] = "raise",
		[RVMIG_WHY_RELEASE] = "release",
	};

	return NAME(tab, why);
}

RVMIG_API const char *rvmig_plan_order_name(enum rvmig_plan_order order)
{
	static const char *const tab[] = {
		[RVMIG_ORDER_GIVEN] = "given",
		[RVMIG_ORDER_SHORTEST] = "shortest-first",
		[RVMIG_ORDER_LONGEST] = "longest-first",
	};

	return NAME(tab, order);
}
