/* SPDX-License-Identifier: MIT */
/*
 * balance.h - which domains to move off overloaded hosts, and where: a
 * host is overloaded when its domains' CPU demand is above overload x its
 * CPUs; its movable domains, largest demand first, go to the host with the
 * most headroom below fill x CPUs that takes them whole, until the source
 * is at or below fill x CPUs.  A domain marked urgent (it violates its SLA
 * and its host has no room to raise its share) moves whether or not its
 * host is overloaded.  Pure; rvmig-policy's run (run.h) adds the dwell and
 * cool-downs and the planner's prediction.
 */
#ifndef RVMIG_TOOLS_POLICY_BALANCE_H
#define RVMIG_TOOLS_POLICY_BALANCE_H

#include <stddef.h>

struct bal_host {
	double cpus, demand;
	int may_shed; /* overloaded long enough to act on */
};

struct bal_dom {
	size_t host;   /* index in the hosts */
	double demand; /* CPUs */
	int movable;   /* migrate = yes and not cooling down */
	int urgent;    /* violating with no room for a raise: move it (if movable) */
};

struct bal_move {
	size_t dom, src, dst;
	int urgent; /* moved for its own SLA, its host not shedding */
	double src_before, src_after, dst_before, dst_after;
};

/* 1 when h is overloaded. */
int pol_host_overloaded(const struct bal_host *h, double overload);

/* Plans moves (at most `max` into out); updates the hosts' demand as they
 * are made.  Returns how many; why[i] (nh entries, static strings; why may
 * be NULL) says why overloaded host i shed nothing: "no movable domain",
 * "no host with headroom", else NULL. */
size_t pol_balance(struct bal_host *h, size_t nh, const struct bal_dom *d, size_t nd,
		   double overload, double fill, struct bal_move *out, size_t max,
		   const char **why);

#endif
