/* SPDX-License-Identifier: MIT */
/*
 * plan.h - what rvmig-policy decided: a list of decisions, each with the
 * target it applies to and its reason, the migration batches with the
 * planner's prediction, and every watched domain's and host's state at the
 * end (why nothing was done for it).  Printed as text or one JSON object;
 * the input of --apply (apply.h), which applies the decisions whose time is
 * the plan's end (`due`).
 */
#ifndef RVMIG_TOOLS_POLICY_PLAN_H
#define RVMIG_TOOLS_POLICY_PLAN_H

#include <stdio.h>

#include <rvmig.h>

/* The domain an action applies to, as the monitor names it. */
struct pol_target {
	char *host;       /* Prometheus instance, or the trace's host */
	char *kind;       /* "cgroup", "process", "xen", ... (rvmig-top's kind) */
	char *id;         /* pid, cgroup inode, domid ... as text */
	char *name;       /* cgroup path, process or domain name */
	const char *policy; /* the [domain NAME] that matched it (the config's) */
};

struct pol_decision {
	double t;                     /* sample time it was decided at, Unix s */
	int due;                      /* t is the plan's end: what --apply applies */
	struct pol_target target;
	struct rvmig_action action;   /* kind, value, share after, cost, duration, downtime */
	double share_before;          /* CPUs */
	/* Decided by the decider (raise/release of a share): reason valid. */
	int by_decider;
	struct rvmig_reason reason;
	/* MIGRATE (by the host balance): where to, why, and the prediction.
	 * Why: the source host is overloaded, or (urgent) the domain violates
	 * its SLA with no room on its host for a raise. */
	char *dest;                   /* destination host */
	int urgent;
	double demand;                /* the domain's CPU demand, CPUs */
	double src_before, src_after; /* the source host's demand, CPUs */
	double dst_before, dst_after;
	double src_cpus, dst_cpus;
	double overload;              /* the ratio crossed */
	size_t batch;                 /* index in batches */
	struct rvmig_plan_entry pred; /* start, end, downtime, bytes, rounds */
	double mem_bytes, dirty_rate; /* what the prediction assumed */
	/* SAVE (to dest, the store) / RESTORE (on dest), park.c: the utility
	 * reckoning.  others_gain: the other domains' utility change on the
	 * source host; own_before / own_after: the domain's (0 while saved);
	 * gain: the utility change minus the cost; cap_gain: what capping it
	 * to cap_to CPUs instead would gain (NAN: no cap range). */
	double others_gain, own_before, own_after, gain, cap_gain, cap_to;
};

/* Migrations decided together: the planner's choice of k and order. */
struct pol_batch {
	double t;
	unsigned k;
	enum rvmig_plan_order order;
	double makespan_s, max_downtime_s;
	int meets_sla;
	size_t n;                     /* migrations in it */
};

struct pol_status {
	struct pol_target target;
	enum rvmig_domain_state state;
	enum rvmig_hold hold;
	int seen;                     /* observed at the last sample */
	double utility, observed, load, share, demand;
	const char *metric;           /* static */
};

struct pol_host_status {
	char *host;
	double cpus, demand;
	int overloaded;
	const char *note;             /* static: why no migration, or NULL */
};

struct pol_plan {
	const char *source;           /* "trace", "prometheus" or "monitor" */
	int applied;                  /* the decisions were carried out (--apply) */
	/* The migration link the planner used (bandwidth 0: none), and its
	 * calibration when it was fitted to measured runs (runs 0: given). */
	double bandwidth, overhead_s, calib_rel_err;
	unsigned calib_runs;
	double contention, per_transfer_cap; /* 0: none */
	/* the toolstack's fixed cost per kind (index: enum
	 * rvmig_transfer_kind) fitted to the runs file; runs 0: none */
	struct rvmig_xfer_model toolstack[4];
	double from, to;              /* first and last sample time */
	size_t samples;
	struct pol_decision *d;
	size_t nd;
	struct pol_batch *b;
	size_t nb;
	struct pol_status *s;
	size_t ns;
	struct pol_host_status *h;
	size_t nh;
};

void pol_plan_free(struct pol_plan *p);
/* 0 or -errno (a write failed). */
int pol_plan_print_text(FILE *f, const struct pol_plan *p);
int pol_plan_print_json(FILE *f, const struct pol_plan *p);

/* Internal to the tool: copies of a target's strings. -ENOMEM. */
int pol_target_copy(struct pol_target *dst, const struct pol_target *src);
void pol_target_free(struct pol_target *t);

#endif
