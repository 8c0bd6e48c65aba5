/* SPDX-License-Identifier: MIT */
/*
 * apply.h - rvmig-policy's live loop: one domain (a cgroup, a process or a
 * Xen domain) observed as it runs, the decider (rvmig_decider(3)) asked
 * after each observation, its decisions printed (dry run, the default) or
 * carried out by the actuators (rvmig_act(3), --apply), and each action verified
 * on the observations after it (rvmig_verify(3)) and rolled back when its
 * effect is the opposite of predicted.
 *
 * The SLA observable comes from
 *   --samples FILE  a response-time SLA: rows of RVMIG_SAMPLES_HEADER CSV
 *                   appended to FILE by whatever measures the application
 *                   (a load generator), read as they arrive; or
 *   the monitor     a CPU-share floor: the domain's CPU (rvmig_monitor(3),
 *                   linux backend for cgroups and processes, xen for
 *                   domains) over each interval.
 *
 * The options below go into the tool's getopt table (POL_LIVE_LONGOPTS);
 * pol_live_opt() takes them.
 */
#ifndef RVMIG_TOOLS_POLICY_APPLY_H
#define RVMIG_TOOLS_POLICY_APPLY_H

#include <getopt.h>
#include <stdio.h>

#include <rvmig.h>


enum {
	POL_OPT_LIVE = 0x300,
	POL_OPT_APPLY,
	POL_OPT_TARGET,
	POL_OPT_SLA,
	POL_OPT_SAMPLES,
	POL_OPT_CAPACITY,
	POL_OPT_INTERVAL,
	POL_OPT_DURATION,
	POL_OPT_DWELL,
	POL_OPT_COOLDOWN,
	POL_OPT_VERIFY,
	POL_OPT_SETTLE,
	POL_OPT_ONCE,
};

#define POL_LIVE_LONGOPTS                                                      \
	{ "live", no_argument, NULL, POL_OPT_LIVE },                           \
	{ "apply", no_argument, NULL, POL_OPT_APPLY },                         \
	{ "target", required_argument, NULL, POL_OPT_TARGET },                 \
	{ "sla", required_argument, NULL, POL_OPT_SLA },                       \
	{ "samples", required_argument, NULL, POL_OPT_SAMPLES },               \
	{ "capacity", required_argument, NULL, POL_OPT_CAPACITY },             \
	{ "interval", required_argument, NULL, POL_OPT_INTERVAL },             \
	{ "duration", required_argument, NULL, POL_OPT_DURATION },             \
	{ "dwell", required_argument, NULL, POL_OPT_DWELL },                   \
	{ "cooldown", required_argument, NULL, POL_OPT_COOLDOWN },             \
	{ "verify", required_argument, NULL, POL_OPT_VERIFY },                 \
	{ "settle", required_argument, NULL, POL_OPT_SETTLE },                 \
	{ "once", no_argument, NULL, POL_OPT_ONCE }

extern const char pol_live_help[];

struct pol_live {
	int live;                  /* --live or --apply given */
	int apply;                 /* --apply: carry the decisions out */
	int given;                 /* loop options other than --live / --apply seen */
	struct rvmig_act_target target;  /* --target */
	int have_target;
	struct rvmig_sla sla;      /* --sla p99:MS | p50:MS | mean:MS | floor:CPUS */
	const char *samples;       /* --samples FILE */
	double c0, c1;             /* --capacity C0,C1 (req/s = c0 + c1 x share) */
	double interval_s;         /* --interval, default 1 */
	double duration_s;         /* --duration, default 0: until SIGINT / SIGTERM */
	double dwell_s;            /* --dwell, default 3 */
	double cooldown_s;         /* --cooldown, default 30 */
	unsigned verify_n;         /* --verify N observations, default 3 */
	unsigned settle_n;         /* --settle N observations skipped after an action, default 1 */
	int once;                  /* --once: stop after the first action's verdict */
};

void pol_live_init(struct pol_live *l);
/* One option of POL_LIVE_LONGOPTS: 1 taken, 0 not one of them, -EINVAL
 * (a message printed: a usage error). */
int pol_live_opt(struct pol_live *l, int opt, const char *arg);
/* Runs the loop; log lines on `out`.  Returns the exit status: 0, 1 (a
 * failure at run time: the message printed), 2 (usage). */
int pol_live_run(const struct pol_live *l, FILE *out);

#endif
