/* SPDX-License-Identifier: MIT */
/*
 * rvmig-policy's pure parts: the policy file (tools/policy/config.c), a
 * recorded trace read back (trace.c), the response-time observable from a
 * samples file (run.c) and the host balance (balance.c).  Bad input is
 * refused with file:line and what was wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "policy/balance.h"
#include "policy/config.h"
#include "policy/run.h"
#include "policy/trace.h"

static int parse(const char *text, struct pol_config *c, char *err)
{
	err[0] = '\0';
	return pol_config_parse(text, strlen(text), "/etc/p/x.policy", c, err, 512);
}

Test(policy_config, full)
{
	struct pol_config c;
	char err[512];

	cr_assert_eq(parse("# a comment\n"
			   "[decider]\n act_below = 0.2\nrelease_above=0.8\n"
			   "dwell = 500ms\ndomain_cooldown = 2m\nglobal_cooldown = 0\n"
			   "cpu_price = 0.1\nmax_actions = 3\n"
			   "[migration]\nbandwidth = 1.25e9\nmax_concurrent = 2\noverhead = 1s\n"
			   "overload = 1.2\nfill = 0.8\nmemory = 2e9\n"
			   "[domain web]\nhost = 10.0.0.1:9100\nmatch = name /nginx*\n"
			   "sla = p99 20\nobserve = samples ../wrk.csv nginx\n"
			   "capacity = 100 45000\ncpu.max = 0.1 2 0.1\nshare = 0.4\nmigrate = yes\r\n"
			   "[domain vm]\nmatch = id 7\nsla = cpu 0.5\ncredit.cap = 10 200 10\n"
			   "[domain q]\nmatch = name q\nsla = mean 5\n"
			   "observe = promql histogram_quantile(0.5, rate(x[1m])) * 1e3\n",
			   &c, err),
		     0, "%s", err);
	cr_assert_float_eq(c.dec.act_below, 0.2, 1e-12);
	cr_assert_eq(c.dec.min_dwell_ns, 500000000ull);
	cr_assert_eq(c.dec.domain_cooldown_ns, 120000000000ull);
	cr_assert_eq(c.dec.global_cooldown_ns, 1ull, "0 s means none, not the default");
	cr_assert_eq(c.max_actions, 3);
	cr_assert_float_eq(c.mig.link.bandwidth, 1.25e9, 1);
	cr_assert_eq(c.mig.link.max_concurrent, 2);
	cr_assert_eq(c.ndoms, 3);
	cr_assert_str_eq(c.doms[0].name, "web");
	cr_assert_str_eq(c.doms[0].host, "10.0.0.1:9100");
	cr_assert_str_eq(c.doms[0].match, "/nginx*");
	cr_assert_eq(c.doms[0].sla.kind, RVMIG_SLA_RESPONSE);
	cr_assert_eq(c.doms[0].sla.metric, RVMIG_METRIC_P99);
	cr_assert_str_eq(c.doms[0].obs_path, "/etc/p/../wrk.csv", "relative to the file");
	cr_assert_str_eq(c.doms[0].obs_app, "nginx");
	cr_assert_float_eq(c.doms[0].c1, 45000, 1e-9);
	cr_assert(c.doms[0].cpu_max.set && c.doms[0].migrate);
	cr_assert_eq(c.doms[1].match_id, 1);
	cr_assert_eq(c.doms[1].sla.kind, RVMIG_SLA_FLOOR);
	cr_assert_eq(c.doms[1].obs, POL_OBS_MONITOR);
	cr_assert_float_eq(c.doms[1].credit_cap.max, 200, 1e-9);
	cr_assert_str_eq(c.doms[2].promql, "histogram_quantile(0.5, rate(x[1m])) * 1e3");
	cr_assert_eq(c.doms[2].sla.metric, RVMIG_METRIC_MEAN);
	pol_config_free(&c);
}

/* Each bad file is refused naming the file, the line and the problem. */
Test(policy_config, refusals)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "dwell = 1\n", "x.policy:1: \"dwell\" before any [section]" },
		{ "[decider]\ndwell = 1y\n", "x.policy:2: dwell: \"1y\" is not a number" },
		{ "[decider]\nact_below = nan\n", "x.policy:2: act_below: \"nan\" is not a number" },
		{ "[decider]\nact_below = 0x1p-2\n", "is not a number" },
		{ "[decider]\nact_below = 1.5\n", "x.policy:2: act_below: 1.5 is out of range 0..1" },
		{ "[decider]\nact_below = 0.8\nrelease_above = 0.7\n", "act_below must be below" },
		{ "[decider]\nbogus = 1\n", "x.policy:2: unknown key \"bogus\" in [decider]" },
		{ "[domain a]\nsla = cpu 1\n", "x.policy:1: [domain a]: no match" },
		{ "[domain a]\nmatch = name a\n", "x.policy:1: [domain a]: no sla" },
		{ "[domain a]\nmatch = name a\nsla = p99 20\n", "needs observe = samples or promql" },
		{ "[domain a]\nmatch = name a\nsla = cpu 1\nobserve = samples f.csv x\n",
		  "a cpu SLA is observed by the monitor" },
		{ "[domain a]\nmatch = name a\nsla = p98 20\n", "x.policy:3: sla: \"p98\"" },
		{ "[domain a]\nmatch = name a\nsla = cpu 1\n[domain a]\n", "[domain a] again (first at line 1)" },
		{ "[domain a b]\n", "x.policy:1: [domain NAME]: NAME is" },
		{ "[domain a]\ncpu.max = 0.1 2000 0.001\n", "x.policy:2: cpu.max: more than 1000 steps" },
		{ "[domain a]\ncpu.max = 2 1 0.1\n", "needs 0 < MIN <= MAX" },
		{ "[domain a]\nmigrate = maybe\n", "migrate: \"maybe\" is not yes or no" },
		{ "[domain a]\nmatch = name a\x1b\n", "x.policy:2: a control character (byte 0x1b)" },
		{ "[domain a]\nobserve = promql \n", "x.policy:2: observe: \"promql\" is not" },
		{ "[migration]\nfill = 1.5\n", "fill must not be above overload" },
		{ "[oops]\n", "x.policy:1: unknown section [oops]" },
		{ "[decider]\nx\n", "x.policy:2: expected KEY = VALUE" },
	};
	struct pol_config c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].text, &c, err);

		cr_assert(rc < 0, "accepted: %s", bad[i].text);
		cr_assert(strstr(err, bad[i].msg), "%s -> \"%s\", expected \"%s\"", bad[i].text, err,
			  bad[i].msg);
		cr_assert(!strchr(err, '\x1b'));
		cr_assert_eq(c.ndoms, 0);
	}
}

Test(policy_config, bounds)
{
	struct pol_config c;
	char err[512], *big;
	size_t n = POL_CONFIG_MAX_LINE + 16;

	big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	cr_assert_eq(parse(big, &c, err), -E2BIG);
	cr_assert(strstr(err, "x.policy:1: a line longer than 4096 bytes"), "%s", err);
	free(big);
	/* POL_CONFIG_MAX_DOMAINS sections, then one more */
	n = (POL_CONFIG_MAX_DOMAINS + 1) * 48;
	big = calloc(n, 1);
	for (int i = 0; i <= POL_CONFIG_MAX_DOMAINS; i++)
		sprintf(big + strlen(big), "[domain d%d]\nmatch = id %d\nsla = cpu 1\n", i, i);
	cr_assert_eq(parse(big, &c, err), -E2BIG);
	cr_assert(strstr(err, "more than 256 domains"), "%s", err);
	free(big);
}

static const char trace[] =
	"#rvmig-top-record\t1\thost=\tbackend=linux\tcpus=2\tmem_total=1\tdelay_s=1\tstart=10\trvmig=x\n"
	"#H\ttime\tinterval_s\n"
	"H\t10.000\t0.000\t1\t1\t2\t0\t0\n"
	"D\t10.000\t0.000\tcgroup\t5\t/a\t----\t0.1\t0\t0\t0\t0\t0\t1\t100\n"
	"H\t11.000\t1.000\t1\t1\t2\t0\t0\n"
	"D\t11.000\t1.000\tcgroup\t5\t/a\t--t-\t0.3\t20.00\t20.00\t0.00\t80.00\t1\t1\t4096\n"
	"V\t11.000\t1.000\tcgroup\t5\t1\t0.3\t20\t0\t80\t1\n"
	"H\t12.000\t1.000\t1\t1\t2\t0\t0\n";

Test(policy_trace, parse)
{
	struct pol_state *v;
	size_t n;
	char err[512];

	cr_assert_eq(pol_trace_parse(trace, strlen(trace), "t.tsv", NULL, &v, &n, err, sizeof(err)), 2,
		     "%s", err);
	cr_assert_eq(n, 2, "the first sample (no rates) is left out");
	cr_assert_float_eq(v[0].t, 11, 1e-9);
	cr_assert_str_eq(v[0].hosts[0].instance, "local");
	cr_assert_float_eq(v[0].hosts[0].cpus, 2, 1e-9);
	cr_assert_eq(v[0].ndoms, 1);
	cr_assert_str_eq(v[0].doms[0].domain, "/a");
	cr_assert_float_eq(v[0].doms[0].cpu, 0.2, 1e-9);
	cr_assert_float_eq(pol_dom_demand(&v[0].doms[0]), 1.0, 1e-9, "throttled 80 %% of the time");
	cr_assert_float_eq(v[0].doms[0].mem, 4096, 1e-9);
	cr_assert_eq(v[1].ndoms, 0);
	pol_states_free(v, n);
}

Test(policy_trace, refusals)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "H\t1\t1\t1\t1\t2\n", "t.tsv:1: a sample before the record's header" },
		{ "#rvmig-top-record\t2\n", "t.tsv:1: a record of format 2" },
		{ "#rvmig-top-record\t1\thost=h\n", "t.tsv:1: the header has no cpus=N" },
		{ "#rvmig-top-record\t1\tcpus=2\nH\t5\t1\t1\t1\t2\nH\t4\t1\t1\t1\t2\n",
		  "t.tsv:3: time 4.000 is not after the previous sample's 5.000" },
		{ "#rvmig-top-record\t1\tcpus=2\nH\t5\t1\t1\t1\t2\nD\t5\t1\tc\t1\tn\n",
		  "t.tsv:3: a D row of 6 fields, fewer than 15" },
		{ "#rvmig-top-record\t1\tcpus=2\nH\t5\t1\t1\t1\t2\n"
		  "D\t5\t1\tc\t1\tn\t-\t0\tinf\t0\t0\t0\t0\t1\t0\n",
		  "t.tsv:3: cpu_pct: \"inf\" is not a number >= 0" },
		{ "#rvmig-top-record\t1\tcpus=2\nH\t5\t1\t1\t1\t2\n"
		  "D\t6\t1\tc\t1\tn\t-\t0\t1\t0\t0\t0\t0\t1\t0\n",
		  "t.tsv:3: a D row of time 6.000 in the sample of 5.000" },
		{ "#rvmig-top-record\t1\tcpus=2\nX\n", "t.tsv:2: not a record line" },
		{ "#rvmig-top-record\t1\tcpus=2\nH\t5\t0\t1\t1\t2\n", "no sample with rates" },
	};
	struct pol_state *v;
	size_t n;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(pol_trace_parse(bad[i].text, strlen(bad[i].text), "t.tsv", NULL, &v, &n, err,
					  sizeof(err)) < 0, "accepted %s", bad[i].text);
		cr_assert(strstr(err, bad[i].msg), "\"%s\", expected \"%s\"", err, bad[i].msg);
		cr_assert_eq(n, 0);
	}
}

Test(policy_samples, timed_rows)
{
	static const char csv[] = RVMIG_SAMPLES_HEADER "\n"
		"nginx,t100,0.2,1000,990,1,30,2,0,5\n"
		"nginx,t105,0.2,2000,1990,1,50,2,0,5\n"
		"other,t106,0.2,9000,1990,1,90,2,0,5\n"
		"nginx,untimed,0.2,3000,1990,1,70,2,0,5\n";
	struct rvmig_sla sla = { .size = sizeof(sla), .kind = RVMIG_SLA_RESPONSE, .target = 40 };
	rvmig_samples *set;
	double obs, load;
	char err[256];

	cr_assert_eq(rvmig_samples_parse(csv, strlen(csv), &set, err, sizeof(err)), 4, "%s", err);
	cr_assert_eq(pol_samples_at(set, "nginx", &sla, 99, 60, &obs, &load), 0, "nothing before 100");
	cr_assert_eq(pol_samples_at(set, "nginx", &sla, 104, 60, &obs, &load), 1);
	cr_assert_float_eq(obs, 30, 1e-9);
	cr_assert_float_eq(load, 1000, 1e-9);
	cr_assert_eq(pol_samples_at(set, "nginx", &sla, 200, 100, &obs, &load), 1);
	cr_assert_float_eq(obs, 50, 1e-9, "the newest timed row of the app");
	cr_assert_eq(pol_samples_at(set, "nginx", &sla, 166, 60, &obs, &load), 0, "too old");
	sla.metric = RVMIG_METRIC_P50;
	cr_assert_eq(pol_samples_at(set, "nginx", &sla, 105, 60, &obs, &load), 1);
	cr_assert_float_eq(obs, 1, 1e-9);
	rvmig_samples_free(set);
}

Test(policy_balance, moves_to_the_roomiest)
{
	/* host 0: 2 CPUs, demand 3.2 (three domains); host 1: 2 CPUs, 0.1;
	 * host 2: 4 CPUs, 3.5 */
	struct bal_host h[3] = { { 2, 3.2, 1 }, { 2, 0.1, 1 }, { 4, 3.5, 1 } };
	struct bal_dom d[4] = { { 0, 1.0, 1, 0 }, { 0, 1.2, 0, 0 }, { 0, 1.0, 1, 0 }, { 1, 0.1, 1, 0 } };
	struct bal_move m[4];
	const char *why[3];
	size_t n = pol_balance(h, 3, d, 4, 1.0, 0.9, m, 4, why);

	/* 3.2 > 2: move until <= 1.8; domain 1 may not move; 0 and 2 go to
	 * host 1 while it has room under 1.8 */
	cr_assert_eq(n, 1, "host 1 takes one 1.0 domain (0.1 + 1.0 <= 1.8), not two");
	cr_assert_eq(m[0].dom, 0);
	cr_assert_eq(m[0].src, 0);
	cr_assert_eq(m[0].dst, 1);
	cr_assert_float_eq(m[0].src_before, 3.2, 1e-9);
	cr_assert_float_eq(m[0].src_after, 2.2, 1e-9);
	cr_assert_float_eq(m[0].dst_after, 1.1, 1e-9);
	cr_assert_null(why[0]);
	/* nothing movable */
	struct bal_host h2[2] = { { 2, 3, 1 }, { 2, 0, 1 } };
	struct bal_dom d2[1] = { { 0, 3, 0, 0 } };

	cr_assert_eq(pol_balance(h2, 2, d2, 1, 1.0, 0.9, m, 4, why), 0);
	cr_assert_str_eq(why[0], "no movable domain");
	d2[0].movable = 1;
	cr_assert_eq(pol_balance(h2, 2, d2, 1, 1.0, 0.9, m, 4, why), 0);
	cr_assert_str_eq(why[0], "no host with headroom");
	/* not overloaded long enough */
	h2[0].may_shed = 0;
	d2[0].demand = 1;
	cr_assert_eq(pol_balance(h2, 2, d2, 1, 1.0, 0.9, m, 4, why), 0);
}

/* A host that is not overloaded moves only its urgent domains (violating,
 * no room for a raise); one that is overloaded moves any. */
Test(policy_balance, urgent)
{
	struct bal_host h[2] = { { 2, 1.9, 1 }, { 2, 0.2, 1 } };
	struct bal_dom d[3] = { { 0, 1.5, 1, 0 }, { 0, 0.3, 1, 1 }, { 0, 0.1, 1, 0 } };
	struct bal_move m[3];
	const char *why[2];

	cr_assert_eq(pol_balance(h, 2, d, 3, 1.0, 0.9, m, 3, why), 1);
	cr_assert_eq(m[0].dom, 1, "the urgent one, though not the largest");
	cr_assert_eq(m[0].dst, 1);
	cr_assert_eq(m[0].urgent, 1);
	cr_assert_float_eq(h[0].demand, 1.6, 1e-9);
	cr_assert_float_eq(h[1].demand, 0.5, 1e-9);
	/* no host takes it: said why */
	h[0].demand = 1.9;
	h[1].demand = 1.7;
	cr_assert_eq(pol_balance(h, 2, d, 3, 1.0, 0.9, m, 3, why), 0);
	cr_assert_str_eq(why[0], "no host with headroom");
}

/* An rvmig-eval parallel.csv: the rows of one transport with status ok. */
Test(policy_calib, parse)
{
	static const char csv[] =
		"n,transport,bytes_each,makespan_s,aggregate_gbit_s,status\n"
		"1,verbs,1000000,0.51,1,ok\n"
		"1,tcp,1000000,9,1,ok\n"
		"2,verbs,1000000,0.52,1,ok\n"
		"4,verbs,1000000,0.54,1,timeout\n"
		"8,verbs,1000000,0.58,1,ok\r\n";
	unsigned k[4];
	double b[4], m[4];
	char err[256];
	struct rvmig_link link = { .size = sizeof(link) };
	double rel;

	cr_assert_eq(pol_calib_parse(csv, strlen(csv), "p.csv", "verbs", k, b, m, 4, err, sizeof(err)),
		     3, "%s", err);
	cr_assert_eq(k[2], 8);
	cr_assert_float_eq(m[2], 0.58, 1e-12);
	/* makespan = 0.5 s + k x 1 MB / 100 MB/s */
	cr_assert_eq(rvmig_link_calibrate(k, b, m, 3, &link, &rel), 0);
	cr_assert_float_eq(link.bandwidth, 1e8, 1e-3);
	cr_assert_float_eq(link.overhead_s, 0.5, 1e-9);
	cr_assert_eq(pol_calib_parse(csv, strlen(csv), "p.csv", "verbs", k, b, m, 2, err, sizeof(err)),
		     -E2BIG);
	cr_assert(strstr(err, "p.csv:6: more than 2 runs"), "%s", err);
	cr_assert_eq(pol_calib_parse("n,transport\n", 12, "p.csv", "tcp", k, b, m, 4, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "p.csv:1: no column bytes_each in the header"), "%s", err);
	static const char bad[] = "n,transport,bytes_each,makespan_s,status\n2,tcp,1e6,nan,ok\n";
	cr_assert_eq(pol_calib_parse(bad, strlen(bad), "p.csv", "tcp", k, b, m, 4, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "p.csv:2: n, bytes_each and makespan_s must be numbers"), "%s", err);
}

/* calibrate = PATH TRANSPORT on the project's evaluation run. */
Test(policy_calib, load_eval_run)
{
	const char *eval = getenv("RVMIG_EVAL_PARALLEL_CSV");
	char dir[] = "/tmp/rvmig-calib-XXXXXX", path[300], err[512];
	struct pol_config c;
	FILE *f;

	cr_assert(eval, "RVMIG_EVAL_PARALLEL_CSV is not set");
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.policy", dir);
	f = fopen(path, "w");
	fprintf(f, "[migration]\ncalibrate = %s verbs\n", eval);
	fclose(f);
	cr_assert_eq(pol_config_load(path, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.mig.calib_runs, 10, "N = 1..10");
	cr_assert_gt(c.mig.link.bandwidth, 1e6);
	cr_assert_lt(c.mig.link.bandwidth, 1e10);
	cr_assert_lt(c.mig.calib_rel_err, 1);
	pol_config_free(&c);
	f = fopen(path, "w");
	fprintf(f, "[migration]\ncalibrate = %s rdma\n", eval);
	fclose(f);
	cr_assert_eq(pol_config_load(path, &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "0 runs of transport rdma"), "%s", err);
	f = fopen(path, "w");
	fprintf(f, "[migration]\ncalibrate = %s tcp\nbandwidth = 1e9\n", eval);
	fclose(f);
	cr_assert_eq(pol_config_load(path, &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "bandwidth and calibrate both given"), "%s", err);
	unlink(path);
	rmdir(dir);
}
