/* SPDX-License-Identifier: MIT */
/*
 * rvmig-policy's runs file (tools/policy/calib.c, runs.c, config_load.c):
 * rows appended as --apply writes them, read back (bad rows named by
 * line), and the toolstack's cost fitted from them into the plan: the
 * committed three-host traces planned with and without runs, the
 * prediction, the TOOLSTACK line and the JSON link.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "policy/config.h"
#include "policy/plan.h"
#include "policy/replay.h"

static const char good[] =
	"# made by hand\n"
	"status,time,kind,transport,domain,mem_bytes,dirty_rate,predicted_s,measured_s,"
	"predicted_downtime_s,downtime_s\n"
	"ok,1.0,migrate,tcp,g1,101000000,0,3.0,179.4,0,37.953\n"
	"\n"
	"ok,2.0,migrate,verbs,g1,101000000,0,3.0,90,0,20\n"    /* another transport */
	"failed,3.0,migrate,tcp,g1,101000000,0,3.0,300,0,-1\n" /* not ok */
	"ok,4.0,save,tcp,g1,101000000,0,3.0,51.6,-1,-1\r\n";

Test(policy_runs, parse)
{
	struct rvmig_xfer_run r[4];
	char err[512];

	cr_assert_eq(pol_runs_parse(good, strlen(good), "r.csv", "tcp", r, 4, err, sizeof(err)), 2,
		     "%s", err);
	cr_assert_eq(r[0].kind, RVMIG_XFER_MIGRATE);
	cr_assert_float_eq(r[0].mem_bytes, 101e6, 1);
	cr_assert_float_eq(r[0].measured_s, 179.4, 1e-9);
	cr_assert_float_eq(r[0].downtime_s, 37.953, 1e-9);
	cr_assert_eq(r[1].kind, RVMIG_XFER_SAVE);
	cr_assert_float_eq(r[1].downtime_s, -1, 0);
	cr_assert_eq(pol_runs_parse(good, strlen(good), "r.csv", "verbs", r, 4, err, sizeof(err)), 1);
	cr_assert_eq(pol_runs_parse(good, strlen(good), "r.csv", "tcp", r, 1, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "r.csv:7: more than 1 runs"), "%s", err);
}

Test(policy_runs, bad_rows_named)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s\n", "no column status" },
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s,status\n"
		  "move,tcp,1,0,1,1,ok\n", "x.csv:2: kind is migrate, save or restore" },
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s,status\n"
		  "save,tcp,1,0,0,1,ok\n", "x.csv:2: mem_bytes and measured_s must be" },
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s,status\n"
		  "save,tcp,nan,0,3,1,ok\n", "x.csv:2: mem_bytes" },
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s,status\n"
		  "save,tcp,1,0,3,-2,ok\n", "downtime_s >= -1" },
		{ "kind,transport,mem_bytes,dirty_rate,measured_s,downtime_s,status\n"
		  "save,tcp,1,0,3\n", "x.csv:2: 5 columns, the header has 7" },
	};
	struct rvmig_xfer_run r[2];
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_lt(pol_runs_parse(bad[i].text, strlen(bad[i].text), "x.csv", "tcp", r, 2, err,
					    sizeof(err)), 0, "case %zu", i);
		cr_assert(strstr(err, bad[i].says), "case %zu: %s", i, err);
	}
}

struct tmp {
	char dir[64], runs[128], policy[128];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/rvmig-runs-XXXXXX");
	cr_assert(mkdtemp(t->dir));
	snprintf(t->runs, sizeof(t->runs), "%s/runs.csv", t->dir);
	snprintf(t->policy, sizeof(t->policy), "%s/hosts.policy", t->dir);
}

static void tmp_rm(const struct tmp *t)
{
	char link[160];

	snprintf(link, sizeof(link), "%s/link.csv", t->dir);
	unlink(link);
	unlink(t->runs);
	unlink(t->policy);
	rmdir(t->dir);
}

/* The committed hosts.policy, plus `runs = runs.csv` (relative: the file's
 * directory). */
static void write_policy(const struct tmp *t)
{
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	char src[1024], *text;
	size_t len;
	FILE *f;
	char err[512];

	cr_assert(dir);
	snprintf(src, sizeof(src), "%s/hosts.policy", dir);
	cr_assert_eq(pol_read_file(src, 1 << 20, &text, &len, err, sizeof(err)), 0, "%s", err);
	cr_assert(f = fopen(t->policy, "w"));
	fwrite(text, 1, len, f);
	fputs("\n[migration]\nruns = runs.csv\n", f);
	fclose(f);
	free(text);
}

static void plan_hosts(const struct pol_config *cfg, struct pol_plan *p)
{
	const char *dir = getenv("RVMIG_POLICY_TRACES");
	static const char *const host[] = { "a", "b", "c" };
	char tf[3][1024], err[1024];
	const char *paths[3] = { tf[0], tf[1], tf[2] };

	for (int i = 0; i < 3; i++)
		snprintf(tf[i], sizeof(tf[i]), "%s/hosts-%s.tsv", dir, host[i]);
	cr_assert_eq(pol_plan_traces(cfg, paths, host, 3, p, err, sizeof(err)), 0, "%s", err);
}

Test(policy_runs, appended_then_fitted_into_the_plan)
{
	struct tmp t;
	struct pol_config cfg;
	struct pol_plan p;
	struct pol_run_rec rec = { .t = 1796596769.2, .kind = RVMIG_XFER_MIGRATE, .transport = "tcp",
				   .domain = "rvmig pm,1", .mem_bytes = 1073741824,
				   .dirty_rate = 20e6, .predicted_s = 9.3, .measured_s = 130,
				   .predicted_downtime_s = 0.1, .downtime_s = 30, .ok = 1 };
	char err[1024], *text, buf[8192];
	double base_end, base_down;
	size_t len;
	FILE *f;

	tmp_make(&t);
	write_policy(&t);
	/* no runs file yet: nothing fitted, the plan as before */
	cr_assert_eq(pol_config_load(t.policy, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.mig.exec.runs, t.runs);
	cr_assert_eq(cfg.mig.toolstack[RVMIG_XFER_MIGRATE].runs, 0);
	plan_hosts(&cfg, &p);
	cr_assert_eq(p.nb, 1);
	base_end = p.d[0].pred.end_s;
	base_down = p.d[0].pred.downtime_s;
	cr_assert(f = fmemopen(buf, sizeof(buf), "w"));
	pol_plan_print_text(f, &p);
	fclose(f);
	cr_assert_null(strstr(buf, "TOOLSTACK"), "%s", buf);
	cr_assert(strstr(buf, "LINK 1.25e+08 bytes/s, overhead 0.000 s per transfer, contention 0, "
			      "no per-transfer cap (from the policy file)"), "%s", buf);
	pol_plan_free(&p);
	pol_config_free(&cfg);

	/* two migrations recorded (one failed: not fitted), the file made
	 * with its header */
	cr_assert_eq(pol_runs_append(t.runs, &rec, err, sizeof(err)), 0, "%s", err);
	rec.ok = 0;
	rec.measured_s = 600;
	cr_assert_eq(pol_runs_append(t.runs, &rec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pol_read_file(t.runs, 1 << 20, &text, &len, err, sizeof(err)), 0);
	cr_assert(strncmp(text, POL_RUNS_HEADER "\n", strlen(POL_RUNS_HEADER) + 1) == 0, "%s", text);
	cr_assert(strstr(text, "\n1796596769.200,migrate,tcp,rvmig_pm_1,1073741824,20000000,9.300,"
			       "130.000,0.100,30.000,ok\n"), "%s", text);
	cr_assert(strstr(text, ",600.000,0.100,30.000,failed\n"), "%s", text);
	free(text);

	cr_assert_eq(pol_config_load(t.policy, &cfg, err, sizeof(err)), 0, "%s", err);
	{
		const struct rvmig_xfer_model *m = &cfg.mig.toolstack[RVMIG_XFER_MIGRATE];

		cr_assert_eq(m->runs, 1);
		cr_assert_eq(m->downtime_runs, 1);
		/* one run: the fit meets it exactly */
		cr_assert_float_eq(m->transfer_s + m->overhead_s, 130, 1e-6);
		cr_assert_float_eq(m->transfer_s, base_end, 1e-6, "the link's part: the plan's");
		cr_assert_lt(m->rel_err, 1e-9);
		cr_assert_eq(cfg.mig.toolstack[RVMIG_XFER_SAVE].runs, 0);
	}
	plan_hosts(&cfg, &p);
	/* each migration now predicted at 130 s, its downtime at 30 s
	 * (nothing else changed: k 1, the same guests) */
	cr_assert_float_eq(p.d[0].pred.end_s - p.d[0].pred.start_s, 130, 1e-6);
	cr_assert_float_eq(p.d[0].pred.downtime_s, 30, 1e-6);
	cr_assert_gt(p.d[0].pred.downtime_s, base_down);
	cr_assert_float_eq(p.d[1].pred.start_s, 130, 1e-6, "the second when the first ends");
	cr_assert_float_eq(p.b[0].makespan_s, 260, 1e-6);
	cr_assert(f = fmemopen(buf, sizeof(buf), "w"));
	pol_plan_print_text(f, &p);
	fclose(f);
	cr_assert(strstr(buf, "TOOLSTACK migrate: +"), "%s", buf);
	cr_assert(strstr(buf, "(fitted to 1 measured run, worst error 0.0 %, downtime 0.0 % over 1)"),
		  "%s", buf);
	cr_assert(f = fmemopen(buf, sizeof(buf), "w"));
	pol_plan_print_json(f, &p);
	fclose(f);
	cr_assert(strstr(buf, "\"contention\":0"), "%s", buf);
	cr_assert(strstr(buf, "\"toolstack\":{\"migrate\":{\"runs\":1,"), "%s", buf);
	pol_plan_free(&p);
	pol_config_free(&cfg);

	/* the runs file through a symbolic link: refused */
	unlink(t.runs);
	{
		char link[160];

		snprintf(link, sizeof(link), "%s/link.csv", t.dir);
		cr_assert_eq(symlink(link, t.runs), 0);
		cr_assert_lt(pol_runs_append(t.runs, &rec, err, sizeof(err)), 0);
		cr_assert(strstr(err, "runs file"), "%s", err);
		cr_assert_neq(access(link, F_OK), 0, "nothing written through the link");
	}
	tmp_rm(&t);
}
