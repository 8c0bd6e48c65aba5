/* SPDX-License-Identifier: MIT */
/*
 * Plans from recorded traces (tests/policy/traces/, made by record.sh with
 * real processes under real cgroup caps): the replay takes its time from
 * the trace, so the decisions are exact.  Besides the expected list, the
 * properties that hold for any trace, for share changes and for migrations
 * each: no two decisions within the global cool-down, at most max_actions
 * share changes at once, none for a domain within its cool-down, no raise
 * followed by a release (or the reverse) of the same domain within its
 * cool-down.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/stop.h"
#include "policy/apply_park.h"
#include "policy/config.h"
#include "policy/replay.h"
#include "policy/trace.h"

struct want {
	double t_rel;
	const char *policy;
	enum rvmig_decision_why why;
	double share_after;
};

static void plan_of(const char *name, struct pol_config *cfg, struct pol_plan *plan)
{
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	char pf[1024], tf[1024], err[1024];

	cr_assert(dir, "RVMIG_POLICY_TRACES is not set");
	snprintf(pf, sizeof(pf), "%s/%s.policy", dir, name);
	snprintf(tf, sizeof(tf), "%s/%s.tsv", dir, name);
	cr_assert_eq(pol_config_load(pf, cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pol_plan_trace(cfg, tf, NULL, plan, err, sizeof(err)), 0, "%s", err);
	pol_plan_print_text(stderr, plan);
}

static void check_rules(const struct pol_config *cfg, const struct pol_plan *p)
{
	double gcool = cfg->dec.global_cooldown_ns / 1e9, dcool = cfg->dec.domain_cooldown_ns / 1e9;

	for (size_t i = 0; i < p->nd; i++) {
		const struct pol_decision *a = &p->d[i];
		size_t same_time = 0;

		for (size_t j = 0; j < p->nd; j++)
			same_time += p->d[j].t == a->t && p->d[j].by_decider;
		cr_assert_leq(same_time, cfg->max_actions, "more than max_actions at %.3f", a->t);
		for (size_t j = i + 1; j < p->nd; j++) {
			const struct pol_decision *b = &p->d[j];

			/* share changes and migrations keep their own cool-downs */
			if (a->by_decider != b->by_decider)
				continue;

			cr_assert(b->t == a->t || b->t - a->t >= gcool - 1e-6,
				  "decisions %.3f and %.3f within the global cool-down", a->t, b->t);
			if (strcmp(a->target.id, b->target.id))
				continue;
			cr_assert_geq(b->t - a->t, dcool - 1e-6,
				      "%s acted at +%.1f and +%.1f, within its cool-down",
				      a->target.policy, a->t - p->from, b->t - p->from);
			cr_assert(!(a->by_decider && b->by_decider && a->reason.why != b->reason.why &&
				    b->t - a->t < 2 * dcool),
				  "%s: ping-pong", a->target.policy);
		}
	}
}

static void check(const char *name, const struct want *w, size_t n)
{
	struct pol_config cfg;
	struct pol_plan p;

	plan_of(name, &cfg, &p);
	check_rules(&cfg, &p);
	cr_assert_eq(p.nd, n, "%s: %zu decisions, expected %zu", name, p.nd, n);
	for (size_t i = 0; i < n; i++) {
		const struct pol_decision *d = &p.d[i];

		cr_assert_float_eq(d->t - p.from, w[i].t_rel, 1e-3, "%s decision %zu at +%.3f", name, i,
				   d->t - p.from);
		cr_assert_str_eq(d->target.policy, w[i].policy);
		cr_assert_eq(d->action.kind, RVMIG_ACT_CG_CPU_MAX);
		cr_assert_eq(d->reason.why, w[i].why);
		cr_assert_float_eq(d->action.share, w[i].share_after, 1e-9, "%s decision %zu: %.2f",
				   name, i, d->action.share);
		cr_assert_eq(d->action.value, llround(w[i].share_after * 1e6));
		/* the reason is complete and consistent */
		cr_assert_str_eq(d->reason.metric, "cpu_share");
		cr_assert(d->reason.why == RVMIG_WHY_RAISE ? d->reason.utility_before < d->reason.threshold
							   : d->reason.utility_before > d->reason.threshold);
		cr_assert_gt(d->reason.utility_after,
			     d->reason.why == RVMIG_WHY_RAISE ? d->reason.utility_before
							      : d->reason.threshold);
		cr_assert_geq(d->t - d->reason.state_since_ns / 1e9, cfg.dec.min_dwell_ns / 1e9 - 1e-6,
			      "acted within the dwell");
	}
	pol_plan_free(&p);
	pol_config_free(&cfg);
}

static void final_hold(const char *name, const char *policy, enum rvmig_domain_state state,
		       enum rvmig_hold hold)
{
	struct pol_config cfg;
	struct pol_plan p;
	size_t i;

	plan_of(name, &cfg, &p);
	for (i = 0; i < p.ns && strcmp(p.s[i].target.policy, policy); i++)
		;
	cr_assert_lt(i, p.ns, "%s: no status of %s", name, policy);
	cr_assert_eq(p.s[i].state, state, "%s: %s is %s", name, policy,
		     rvmig_domain_state_name(p.s[i].state));
	cr_assert_eq(p.s[i].hold, hold, "%s: %s holds for %s", name, policy,
		     rvmig_hold_name(p.s[i].hold));
	pol_plan_free(&p);
	pol_config_free(&cfg);
}

/* Two busy loops capped at 0.2 CPU, promised 0.5: both raised to 1.0 (the
 * most the host's 2 CPUs leave each), after the 10 s dwell, the second one
 * global cool-down (5 s) later; then both in their domain cool-down. */
Test(plan_trace, overload)
{
	static const struct want w[] = {
		{ 10.004, "w1", RVMIG_WHY_RAISE, 1.0 },
		{ 16.000, "w2", RVMIG_WHY_RAISE, 1.0 },
	};

	check("overload", w, 2);
	final_hold("overload", "w2", RVMIG_DOM_VIOLATING, RVMIG_HOLD_DOMAIN_COOLDOWN);
}

/* A sleeper granted 1.5 CPUs, promised 0.3: released to 0.7 after the
 * dwell. */
Test(plan_trace, underload)
{
	static const struct want w[] = { { 10.987, "idle", RVMIG_WHY_RELEASE, 0.7 } };

	check("underload", w, 1);
	final_hold("underload", "idle", RVMIG_DOM_SATISFIED, RVMIG_HOLD_DOMAIN_COOLDOWN);
}

/* The cap flips between 0.15 and 1.0 every 4 s: one raise, then nothing
 * (the rules in check_rules() forbid the ping-pong). */
Test(plan_trace, oscillating)
{
	static const struct want w[] = { { 10.024, "osc", RVMIG_WHY_RAISE, 1.1 } };
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	char path[1024], err[512], *text;
	struct pol_state *v;
	size_t len, n, low = 0, high = 0, flips = 0;
	int was_low = -1;

	/* the trace really oscillates: phases below and above the 0.5 floor */
	snprintf(path, sizeof(path), "%s/oscillating.tsv", dir ? dir : ".");
	cr_assert_eq(pol_read_file(path, POL_TRACE_MAX_BYTES, &text, &len, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_gt(pol_trace_parse(text, len, path, NULL, &v, &n, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < n; i++) {
		int is_low;

		if (v[i].ndoms != 1)
			continue;
		is_low = v[i].doms[0].cpu < 0.3;
		low += is_low;
		high += v[i].doms[0].cpu > 0.5;
		flips += was_low >= 0 && is_low != was_low;
		was_low = is_low;
	}
	cr_assert_geq(low, 10);
	cr_assert_geq(high, 10);
	cr_assert_geq(flips, 6, "only %zu flips", flips);
	pol_states_free(v, n);
	free(text);
	check("oscillating", w, 1);
	final_hold("oscillating", "osc", RVMIG_DOM_VIOLATING, RVMIG_HOLD_DOMAIN_COOLDOWN);
}

/* The same trace with no dwell and no cool-downs shows what they prevent:
 * many decisions. */
Test(plan_trace, oscillating_without_hysteresis)
{
	static const char pol[] = "[decider]\ndwell = 0\ndomain_cooldown = 0\nglobal_cooldown = 0\n"
				  "[domain osc]\nmatch = name /rvmig-trace-osc\nsla = cpu 0.5\n"
				  "share = 1.0\ncpu.max = 0.1 1.5 0.1\n";
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	struct pol_config cfg;
	struct pol_plan p;
	char path[1024], err[512];

	snprintf(path, sizeof(path), "%s/oscillating.tsv", dir ? dir : ".");
	cr_assert_eq(pol_config_parse(pol, strlen(pol), "inline", &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pol_plan_trace(&cfg, path, NULL, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(p.nd, 4, "%zu decisions", p.nd);
	pol_plan_free(&p);
	pol_config_free(&cfg);
}

/* A made-up record: host `host`, samples 1000..last, each with the D rows
 * in `rows` (printf format taking the time twice per row). */
static void write_record(const char *path, const char *host, int last, const char *rows, int nrows)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fprintf(f, "#rvmig-top-record\t1\thost=%s\tbackend=linux\tcpus=2\tmem_total=1\tdelay_s=1"
		   "\tstart=1000\trvmig=x\n", host);
	for (int t = 1000; t <= last; t++) {
		fprintf(f, "H\t%d.000\t1.000\t1\t1\t2\t0\t0\n", t);
		for (int i = 0; i < nrows; i++)
			fprintf(f, "D\t%d.000\t1.000\t%s\n", t, rows + i * 128);
	}
	fclose(f);
}

/* An nginx cgroup at 0.1 CPU, samples 1000..last, host web1. */
static void write_trace(const char *path, int last)
{
	static const char rows[1][128] = {
		"cgroup\t9\t/nginx\t--t-\t1\t10.00\t10.00\t40.00\t50.00\t1\t1\t0",
	};

	write_record(path, "web1", last, rows[0], 1);
}

/* A response-time SLA observed in a samples file a probe appends to (rows
 * timed by scenario tUNIXTIME), with a capacity model: the plumbing, on
 * made-up numbers (the capacity per CPU is the issue's nginx figure).  A
 * capped nginx at 80 ms p99 against a 20 ms target gets a raise whose
 * predicted p99 is lower; before the first row it has no data. */
Test(plan_trace, response_sla_from_samples)
{
	char dir[] = "/tmp/rvmig-plan-XXXXXX", path[256], err[512];
	struct pol_config cfg;
	struct pol_plan p;
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/probe.csv", dir);
	f = fopen(path, "w");
	fprintf(f, "# appended by a probe: one row per 1 s measurement\n%s\n", RVMIG_SAMPLES_HEADER);
	for (int t = 1005; t <= 1030; t++)
		fprintf(f, "nginx,t%d,0.1,4000,3900,20,80,30,0,1\n", t);
	fclose(f);
	snprintf(path, sizeof(path), "%s/t.tsv", dir);
	write_trace(path, 1030);
	snprintf(path, sizeof(path), "%s/p.policy", dir);
	f = fopen(path, "w");
	fprintf(f, "[decider]\ndwell = 5s\n[domain web]\nhost = web1\nmatch = name /nginx\n"
		   "sla = p99 20\nobserve = samples probe.csv nginx\ncapacity = 0 45000\nshare = 0.1\n"
		   "cpu.max = 0.1 2 0.1\n");
	fclose(f);
	cr_assert_eq(pol_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/t.tsv", dir);
	cr_assert_eq(pol_plan_trace(&cfg, path, NULL, &p, err, sizeof(err)), 0, "%s", err);
	pol_plan_print_text(stderr, &p);
	cr_assert_eq(p.nd, 1);
	cr_assert_float_eq(p.d[0].t, 1010, 1e-9, "first row at 1005, then the 5 s dwell");
	cr_assert_str_eq(p.d[0].reason.metric, "p99_ms");
	cr_assert_float_eq(p.d[0].reason.observed, 80, 1e-9);
	cr_assert_float_eq(p.d[0].reason.load, 4000, 1e-9);
	cr_assert_eq(p.d[0].reason.why, RVMIG_WHY_RAISE);
	cr_assert_gt(p.d[0].action.share, 0.1);
	cr_assert_lt(p.d[0].reason.predicted, 80);
	cr_assert_gt(p.d[0].reason.utility_after, p.d[0].reason.utility_before);
	pol_plan_free(&p);
	/* a trace that ends before the probe's first row: no data */
	write_trace(path, 1004);
	cr_assert_eq(pol_plan_trace(&cfg, path, NULL, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nd, 0);
	cr_assert_eq(p.ns, 1);
	cr_assert_eq(p.s[0].hold, RVMIG_HOLD_NO_DATA);
	pol_plan_free(&p);
	pol_config_free(&cfg);
	for (const char *n = "probe.csv\0t.tsv\0p.policy\0"; *n; n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
}

/* Three hosts (three rvmig-top records made at once): three busy loops on
 * a, sleepers on b and c.  After the 5 s dwell one loop goes to b and one
 * to c, in one batch; with max_concurrent = 1 they run one after the
 * other.  When one transfer can use only half the link, two at once halve
 * the makespan: the planner takes k = 2 when the cap allows it, k = 1 when
 * it does not. */
static void hosts_plan(unsigned max_concurrent, double per_transfer_cap, double dirty,
		       struct pol_config *cfg, struct pol_plan *p)
{
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	static const char *const host[] = { "a", "b", "c" };
	char pf[1024], tf[3][1024], err[1024];
	const char *paths[3] = { tf[0], tf[1], tf[2] };

	cr_assert(dir);
	snprintf(pf, sizeof(pf), "%s/hosts.policy", dir);
	for (int i = 0; i < 3; i++)
		snprintf(tf[i], sizeof(tf[i]), "%s/hosts-%s.tsv", dir, host[i]);
	cr_assert_eq(pol_config_load(pf, cfg, err, sizeof(err)), 0, "%s", err);
	if (max_concurrent)
		cfg->mig.link.max_concurrent = max_concurrent;
	cfg->mig.link.per_transfer_cap = per_transfer_cap;
	cfg->mig.dirty_rate = dirty;
	cr_assert_eq(pol_plan_traces(cfg, paths, host, 3, p, err, sizeof(err)), 0, "%s", err);
	pol_plan_print_text(stderr, p);
}

Test(plan_trace, hosts)
{
	struct pol_config cfg;
	struct pol_plan p;

	hosts_plan(0, 0, 20e6, &cfg, &p);
	check_rules(&cfg, &p);
	cr_assert_eq(p.nd, 2);
	cr_assert_eq(p.nb, 1);
	for (size_t i = 0; i < 2; i++) {
		const struct pol_decision *d = &p.d[i];

		cr_assert_eq(d->action.kind, RVMIG_ACT_MIGRATE);
		cr_assert_float_eq(d->t - p.from, 5.154, 1e-3, "+%.3f", d->t - p.from);
		cr_assert_str_eq(d->target.host, "a");
		cr_assert_str_eq(d->target.policy, "burners");
		cr_assert_str_eq(d->dest, i == 0 ? "b" : "c");
		/* the first because the host is overloaded, the next while it is
		 * still above fill */
		cr_assert_gt(d->src_before, (i == 0 ? d->overload : 0.9) * d->src_cpus);
		cr_assert_leq(d->dst_after, 0.9 * d->dst_cpus);
		cr_assert_float_eq(d->mem_bytes, 1073741824, 1e-3, "the domain's memory = ");
		cr_assert_eq(d->pred.position, i);
	}
	cr_assert_str_eq(p.d[0].target.name, "/rvmig-trace-a1");
	cr_assert_str_eq(p.d[1].target.name, "/rvmig-trace-a3");
	cr_assert_eq(p.b[0].k, 1, "max_concurrent = 1");
	cr_assert_float_eq(p.bandwidth, 125e6, 1e-3, "the link the plan says it used");
	cr_assert_eq(p.calib_runs, 0);
	cr_assert_float_eq(p.d[1].pred.start_s, p.d[0].pred.end_s, 1e-9, "one after the other");
	cr_assert_float_eq(p.b[0].makespan_s, p.d[1].pred.end_s, 1e-9);
	/* a 1 GiB guest dirtying 20 MB/s over 125 MB/s: more than its memory sent */
	cr_assert_gt(p.d[0].pred.bytes, 1073741824);
	cr_assert_gt(p.d[0].pred.rounds, 1);
	pol_plan_free(&p);
	pol_config_free(&cfg);

	/* half the link per transfer, nothing dirtied: k = 2 when allowed */
	hosts_plan(4, 62.5e6, 0, &cfg, &p);
	cr_assert_eq(p.nb, 1);
	cr_assert_eq(p.b[0].k, 2);
	cr_assert_float_eq(p.d[0].pred.start_s, 0, 1e-9);
	cr_assert_float_eq(p.d[1].pred.start_s, 0, 1e-9, "together");
	cr_assert_float_eq(p.b[0].makespan_s, 1073741824 / 62.5e6, 1e-6);
	pol_plan_free(&p);
	pol_config_free(&cfg);
	hosts_plan(1, 62.5e6, 0, &cfg, &p);
	cr_assert_eq(p.b[0].k, 1, "the cap holds");
	cr_assert_float_eq(p.b[0].makespan_s, 2 * 1073741824.0 / 62.5e6, 1e-6);
	pol_plan_free(&p);
	pol_config_free(&cfg);
}

/* No room: host a is not overloaded (1.0 + 1.0 + 0.16 = 2.16 of demand,
 * overload at 1.1 x 2 = 2.2) but its small domain, capped at 0.15 and
 * promised 0.3, cannot be raised to 0.25 or more there (the others want
 * 2.0): after the dwell it is migrated to the idle host b instead
 * ("no-room").  Made-up records: the plumbing, not a measurement. */
Test(plan_trace, no_room_migrates)
{
	static const char rows_a[3][128] = {
		"cgroup\t1\t/big1\t----\t1\t100.00\t100.00\t0.00\t0.00\t1\t1\t0",
		"cgroup\t2\t/big2\t----\t1\t100.00\t100.00\t0.00\t0.00\t1\t1\t0",
		"cgroup\t3\t/small\t--t-\t1\t15.00\t15.00\t84.00\t1.00\t1\t1\t0",
	};
	static const char rows_b[1][128] = {
		"cgroup\t4\t/idle\t----\t1\t1.00\t1.00\t99.00\t0.00\t1\t1\t0",
	};
	static const char pol[] =
		"[decider]\ndwell = 5s\n[migration]\nbandwidth = 125e6\noverload = 1.1\nfill = 0.9\n"
		"[domain small]\nhost = a\nmatch = name /small\nsla = cpu 0.3\nshare = 0.15\n"
		"cpu.max = 0.05 1 0.1\nmigrate = yes\nmemory = 5e8\n";
	char dir[] = "/tmp/rvmig-noroom-XXXXXX", pa[256], pb[256], err[512];
	const char *paths[2] = { pa, pb }, *hosts[2] = { "a", "b" };
	struct pol_config cfg;
	struct pol_plan p;

	cr_assert(mkdtemp(dir));
	snprintf(pa, sizeof(pa), "%s/a.tsv", dir);
	snprintf(pb, sizeof(pb), "%s/b.tsv", dir);
	write_record(pa, "", 1020, rows_a[0], 3);
	write_record(pb, "", 1020, rows_b[0], 1);
	cr_assert_eq(pol_config_parse(pol, strlen(pol), "inline", &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pol_plan_traces(&cfg, paths, hosts, 2, &p, err, sizeof(err)), 0, "%s", err);
	pol_plan_print_text(stderr, &p);
	cr_assert_eq(p.nd, 1);
	cr_assert_eq(p.d[0].action.kind, RVMIG_ACT_MIGRATE);
	cr_assert_eq(p.d[0].urgent, 1);
	cr_assert_str_eq(p.d[0].target.name, "/small");
	cr_assert_str_eq(p.d[0].dest, "b");
	cr_assert_float_eq(p.d[0].t, 1005, 1e-9, "violating from 1000, the 5 s dwell");
	cr_assert_leq(p.d[0].src_before, 1.1 * 2, "a is not overloaded");
	cr_assert_float_eq(p.d[0].demand, 0.15 * (15.0 + 1.0) / 15.0, 1e-9);
	cr_assert_eq(p.s[0].hold, RVMIG_HOLD_DOMAIN_COOLDOWN, "no share change after the move: %s",
		     rvmig_hold_name(p.s[0].hold));
	/* without migrate, it holds for lack of a benefit it can get here */
	pol_plan_free(&p);
	cfg.doms[0].migrate = 0;
	cr_assert_eq(pol_plan_traces(&cfg, paths, hosts, 2, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.nd, 0);
	cr_assert_eq(p.s[0].state, RVMIG_DOM_VIOLATING);
	cr_assert_eq(p.s[0].hold, RVMIG_HOLD_NO_BENEFIT, "%s", rvmig_hold_name(p.s[0].hold));
	pol_plan_free(&p);
	pol_config_free(&cfg);
	unlink(pa);
	unlink(pb);
	rmdir(dir);
}

/* Save and restore (park.c): host a holds two web domains and a batch job
 * on 2 CPUs, 3 CPUs of demand; no domain may migrate and host b is full
 * (1.9 of 2 CPUs) until 1040, idle after.  After the 5 s dwell the batch
 * job, which may be saved, goes to the store: the webs' utility rises
 * from 0.26 to 0.61 each (cpu 0.9 SLAs at 0.67 -> 1.0 CPU), the job's own
 * 0.26 is lost while saved, and the save (4 s of downtime at 0.01 per
 * second) costs 0.044.  Once b has room and the cool-down is over it is
 * restored there.  At the default price of downtime (1 per second) the
 * save does not pay.  Made-up records: the plumbing, not a measurement. */
/* Host a: three busy cgroups on 2 CPUs, /batch may be saved; host b: two
 * busy ones until 1040, idle from 1041 (up to `last`). */
static const char park_rows_a[3][128] = {
	"cgroup\t1\t/web1\t--t-\t1\t66.67\t66.67\t0.00\t33.33\t1\t1\t0",
	"cgroup\t2\t/web2\t--t-\t1\t66.67\t66.67\t0.00\t33.33\t1\t1\t0",
	"cgroup\t3\t/batch\t--t-\t1\t66.67\t66.67\t0.00\t33.33\t1\t1\t0",
};
static const char park_pol[] =
	"[decider]\ndwell = 5s\ndomain_cooldown = 20s\nglobal_cooldown = 5s\n"
	"cost_per_downtime = 0.01\n"
	"[migration]\nbandwidth = 125e6\noverload = 1.1\nfill = 0.9\nstore = disk\n"
	"[domain web]\nhost = a\nmatch = name /web*\nsla = cpu 0.9\n"
	"[domain batch]\nhost = a\nmatch = name /batch\nsla = cpu 0.9\nsave = yes\n"
	"memory = 5e8\n";

static void write_park_traces(const char *pa, const char *pb, int last)
{
	static const char rows_b[2][128] = {
		"cgroup\t4\t/other1\t----\t1\t95.00\t95.00\t5.00\t0.00\t1\t1\t0",
		"cgroup\t5\t/other2\t----\t1\t95.00\t95.00\t5.00\t0.00\t1\t1\t0",
	};
	FILE *f;

	write_record(pa, "", last, park_rows_a[0], 3);
	write_record(pb, "", last < 1040 ? last : 1040, rows_b[0], 2);
	cr_assert(f = fopen(pb, "a"));
	for (int t = 1041; t <= last; t++) /* b's domains gone: an idle host */
		fprintf(f, "H\t%d.000\t1.000\t1\t1\t2\t0\t0\n", t);
	fclose(f);
}

/* Plans policy `pol` (text) on the park traces ending at `last`, written
 * into a temporary directory that is gone again on return. */
static void park_plan(const char *pol, int last, struct pol_config *cfg, struct pol_plan *p)
{
	char dir[] = "/tmp/rvmig-park-XXXXXX", pa[256], pb[256], err[512];
	const char *paths[2] = { pa, pb }, *hosts[2] = { "a", "b" };

	cr_assert(mkdtemp(dir));
	snprintf(pa, sizeof(pa), "%s/a.tsv", dir);
	snprintf(pb, sizeof(pb), "%s/b.tsv", dir);
	write_park_traces(pa, pb, last);
	cr_assert_eq(pol_config_parse(pol, strlen(pol), "inline", cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pol_plan_traces(cfg, paths, hosts, 2, p, err, sizeof(err)), 0, "%s", err);
	unlink(pa);
	unlink(pb);
	rmdir(dir);
}

Test(plan_trace, save_then_restore)
{
	struct pol_config cfg;
	struct pol_plan p;
	double u0 = 1 / (1 + exp(4 / 0.9 * (0.9 - 2.0 / 3))), u1 = 1 / (1 + exp(4 / 0.9 * (0.9 - 1)));

	park_plan(park_pol, 1080, &cfg, &p);
	pol_plan_print_text(stderr, &p);
	cr_assert_eq(p.nd, 2);
	cr_assert_eq(p.d[0].action.kind, RVMIG_ACT_SAVE);
	cr_assert_str_eq(p.d[0].target.name, "/batch");
	cr_assert_str_eq(p.d[0].dest, "disk");
	cr_assert_float_eq(p.d[0].t, 1005, 1e-9, "overloaded from 1000, the 5 s dwell");
	cr_assert_float_eq(p.d[0].others_gain, 2 * (u1 - u0), 1e-3);
	cr_assert_float_eq(p.d[0].own_before, u0, 1e-3);
	cr_assert_float_eq(p.d[0].action.downtime_s, 4, 1e-9, "5e8 bytes at 125e6 bytes/s");
	cr_assert_float_eq(p.d[0].action.cost, 0.01 * 4 + 0.001 * 4, 1e-9);
	cr_assert_float_eq(p.d[0].gain, 2 * (u1 - u0) - u0 - 0.044, 1e-3);
	cr_assert(!isfinite(p.d[0].cap_gain), "no cap range: no capping to weigh");
	cr_assert_eq(p.d[1].action.kind, RVMIG_ACT_RESTORE);
	cr_assert_str_eq(p.d[1].dest, "b");
	cr_assert_float_eq(p.d[1].t, 1041, 1e-9, "b idle from 1041, the cool-down over at 1025");
	cr_assert_float_eq(p.d[1].own_after, u1, 1e-3);
	pol_plan_free(&p);

	/* a cap range: capping it to 0.1 CPU is weighed and gains less */
	pol_config_free(&cfg);
	{
		char pol2[1024];

		snprintf(pol2, sizeof(pol2), "%scpu.max = 0.1 2 0.1\n", park_pol);
		park_plan(pol2, 1080, &cfg, &p);
	}
	cr_assert_geq(p.nd, 1);
	cr_assert_eq(p.d[0].action.kind, RVMIG_ACT_SAVE);
	cr_assert(isfinite(p.d[0].cap_gain));
	cr_assert_float_eq(p.d[0].cap_to, 0.1, 1e-9);
	cr_assert_lt(p.d[0].cap_gain, p.d[0].gain);
	pol_plan_free(&p);
	pol_config_free(&cfg);

	/* the default price of downtime: a 4 s save costs 4, nothing pays */
	{
		char pol3[1024], *c;

		snprintf(pol3, sizeof(pol3), "%s", park_pol);
		c = strstr(pol3, "cost_per_downtime = 0.01");
		memcpy(c, "#", 1);
		park_plan(pol3, 1080, &cfg, &p);
	}
	cr_assert_eq(p.nd, 0);
	pol_plan_free(&p);
	pol_config_free(&cfg);
}

/* --apply on such a plan: the due save (the traces cut where it is
 * decided) and the due restore go to the store, which refuses them here
 * (no store_dir; then a cgroup, which Linux cannot save), saying why. */
Test(plan_trace, due_save_and_restore_to_the_store)
{
	static const struct { int last; const char *extra, *want; } cases[] = {
		{ 1005, "", "save batch: refused: save batch (/batch): [migration] store_dir is not set" },
		{ 1005, "store_dir = /srv/store\n", "save batch: refused: save batch (/batch): Linux has "
						    "no save of a cgroup or process" },
		{ 1041, "store_dir = /srv/store\n", "restore batch: refused: restore batch (/batch): "
						    "Linux has no restore" },
	};
	char pol[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pol_config cfg;
		struct pol_plan p;
		char *log = NULL;
		size_t len = 0;
		struct pol_apply_out out = { 0 };
		const char *m = strstr(park_pol, "[domain web]");

		/* the extra [migration] key before the domain sections */
		snprintf(pol, sizeof(pol), "%.*s%s%s", (int)(m - park_pol), park_pol, cases[i].extra, m);
		park_plan(pol, cases[i].last, &cfg, &p);
		cr_assert_eq(p.d[p.nd - 1].action.kind,
			     cases[i].last == 1005 ? RVMIG_ACT_SAVE : RVMIG_ACT_RESTORE);
		cr_assert(p.d[p.nd - 1].due, "decided at the traces' end");
		cr_assert(out.f = open_memstream(&log, &len));
		cr_assert_eq(pol_apply_plan_parking(&cfg, &p, &out), -ENOTSUP);
		fclose(out.f);
		cr_assert(strstr(log, cases[i].want), "case %zu: %s", i, log);
		free(log);
		pol_plan_free(&p);
		pol_config_free(&cfg);
	}
}

/* rvmig-policy --apply: a stop request (SIGTERM) before the plan's due
 * save starts it not (no refusal either), and says so. */
Test(plan_trace, stop_starts_no_save)
{
	char *log = NULL;
	struct pol_apply_out out = { 0 };
	struct pol_config cfg;
	struct pol_plan p;
	size_t len = 0;

	park_plan(park_pol, 1005, &cfg, &p);
	cr_assert(p.d[p.nd - 1].due && p.d[p.nd - 1].action.kind == RVMIG_ACT_SAVE);
	tool_catch_stop();
	raise(SIGTERM);
	cr_assert(out.f = open_memstream(&log, &len));
	cr_assert_eq(pol_apply_plan_parking(&cfg, &p, &out), -EINTR);
	fclose(out.f);
	cr_assert(strstr(log, "stop (signal 15): 0 of the plan's saves and restores done; the other "
			      "1 not started"), "%s", log);
	cr_assert_null(strstr(log, "refused"), "%s", log);
	free(log);
	pol_plan_free(&p);
	pol_config_free(&cfg);
}
