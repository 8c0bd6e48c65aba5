/* SPDX-License-Identifier: MIT */
/*
 * run_int.h - what run.c (observations, share decisions, the plan) and
 * migrate.c (the host balance and the planner) share inside a pol_run.
 */
#ifndef RVMIG_TOOLS_POLICY_RUN_INT_H
#define RVMIG_TOOLS_POLICY_RUN_INT_H

#include <stdint.h>

#include "policy/run.h"

/* A domain seen in the states that a [domain] section matched; its index is
 * its id in the decider. */
struct tracked {
	struct pol_target tg;
	size_t cfg;
	double share;       /* granted now: min(cap, vCPUs); the config's, then each decision's */
	double cap;         /* its cap, CPUs; 0: none */
	double vcpus;       /* its vCPUs (cpuset CPUs); 0: unknown, no bound */
	double weight;      /* its scheduler weight (credit, or cgroup v2 units) */
	double cpu, demand, mem;
	int seen;           /* at the current state */
	int observed;       /* had an observable at the current state */
	int no_room;        /* every raise was left out for lack of room on its host */
	double decided_at;  /* time of its last share decision, or -1 */
	double obs, load;
	size_t placed;      /* host index after a planned migration; SIZE_MAX: its own */
	int migrated;
	double migrated_at;
	int saved;          /* a planned save put it on the store host, not running */
	double saved_at;
};

struct host {
	char *name;
	double cpus, demand;
	double wsum;        /* weights of its runnable domains (rvmig_share_predict()) */
	int seen, over;
	double over_since;
	const char *note;
};

struct pol_run {
	const struct pol_config *cfg;
	rvmig_decider *dec;
	struct tracked *t;
	size_t nt, cap_t;
	struct host *h;
	size_t nh, cap_h;
	int any_mig;
	double last_mig;
	struct pol_plan plan;
	size_t cap_d, cap_b;
	struct rvmig_action *cand;
	size_t cap_cand;
	struct rvmig_decision *out;
	pol_share_reader share_reader;
	void *share_ctx;
};

/* A decider setting in seconds: the file's, else the library's default. */
static inline double pol_secs(uint64_t ns, uint64_t def_ns)
{
	return (ns ? ns : def_ns) / 1e9;
}

#define POL_DCOOL(cfg) pol_secs((cfg)->dec.domain_cooldown_ns, 120000000000ull)

/* A domain migrated within its cool-down gets no share change: the move
 * is its action until the cool-down says otherwise. */
static inline int pol_migrate_cooling(const pol_run *r, const struct tracked *t, double now)
{
	return t->migrated && now - t->migrated_at < POL_DCOOL(r->cfg);
}

/* The index of host `name` (added when new), SIZE_MAX when out of memory. */
size_t pol_run_host(pol_run *r, const char *name);
/* A new, zeroed decision at the end of the plan (not yet counted), or NULL. */
struct pol_decision *pol_run_decision(pol_run *r);
/* Plans the migrations due at `now` (migrate.c).  0 or -ENOMEM. */
int pol_run_migrations(pol_run *r, double now);
/* Plans the saves and restores due at `now` (park.c), after the
 * migrations: may_shed[h], host h is overloaded long enough to act on.
 * 0 or -errno. */
int pol_run_parking(pol_run *r, double now, const int *may_shed);

#endif
