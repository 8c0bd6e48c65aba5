/* SPDX-License-Identifier: MIT */
/*
 * The migration executor's parts that need no Xen (tools/policy/
 * act_migrate.h): its settings checked before anything runs (xl hands the
 * tunnel command to sh -c), the deadline from the planner's prediction,
 * the tunnel command and the host's address, the refusal of Linux targets,
 * the policy file's [migration] keys, and the library's command runner it
 * uses (rvmig_act_run()) running real processes: lines handed on as they
 * arrive, the exit status and the stderr lines that say why in the error
 * (which lines: tests/unit/test_act_why.c), a command killed at its
 * deadline, or stopped with its process group (rvmig_act_exec()); a stop
 * request (SIGTERM) during the wait between two tries of a migration ends
 * it, with no further try, and during a plan's migration stops xl (xl
 * played by fake-xl/xl).
 * The executor against real Xen is the Xen tier's
 * xen.policy_migrate (tests/xen/xen_policy_migrate.sh); the parser of
 * `xl list` is tested with the library's (tests/unit/test_act_pure.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <criterion/criterion.h>

#include "common/cli.h"
#include "common/stop.h"
#include "gone.h"
#include "policy/act_migrate.h"
#include "policy/apply_mig.h"
#include "policy/config.h"

static struct act_mig_host hosts[] = {
	{ "dom0-a", "10.0.0.1" },
	{ "idle", "127.0.0.1" },
};

static struct act_mig_cfg cfg_ok(void)
{
	return (struct act_mig_cfg){ .transport = "tcp", .port = 7600,
				     .tunnel = "/usr/local/bin/rvmig-tunnel",
				     .key_file = "/etc/rvmig/k.key", .hosts = hosts, .nhosts = 2 };
}

Test(act_migrate, settings_checked)
{
	struct act_mig_host bad_addr[] = { { "b", "10.0.0.1;reboot" } };
	struct act_mig_host twice[] = { { "a", "h1" }, { "a", "h2" } };
	struct act_mig_cfg c = cfg_ok();
	char err[512];

	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), 0, "%s", err);
	c.transport = "udp";
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "transport"), "%s", err);
	c = cfg_ok();
	c.tunnel = "rvmig-tunnel $(reboot)";
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "tunnel") && strstr(err, "sh -c"), "%s", err);
	c = cfg_ok();
	c.key_file = "-k";
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL, "%s", err);
	c = cfg_ok();
	c.hosts = bad_addr;
	c.nhosts = 1;
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "host b") && strstr(err, "not an address"), "%s", err);
	c.hosts = twice;
	c.nhosts = 2;
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "given twice"), "%s", err);
	c = cfg_ok();
	c.margin = 0.5;
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL);
	c = cfg_ok();
	c.min_s = 100;
	c.max_s = 10;
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL, "%s", err);
	c = cfg_ok();
	c.tries = ACT_MIG_TRIES_MAX + 1;
	cr_assert_eq(act_mig_cfg_check(&c, err, sizeof(err)), -EINVAL, "%s", err);
	cr_assert(strstr(err, "tries"), "%s", err);
}

Test(act_migrate, deadline_from_prediction)
{
	struct act_mig_cfg c = cfg_ok();

	cr_assert_float_eq(act_mig_deadline(&c, 10), ACT_MIG_MIN_S_DEFAULT, 1e-9);
	cr_assert_float_eq(act_mig_deadline(&c, 100), 300, 1e-9);
	cr_assert_float_eq(act_mig_deadline(&c, 0), ACT_MIG_MAX_S_DEFAULT, 1e-9);
	cr_assert_float_eq(act_mig_deadline(&c, 1e6), ACT_MIG_MAX_S_DEFAULT, 1e-9);
	c.margin = 2;
	c.min_s = 5;
	c.max_s = 50;
	cr_assert_float_eq(act_mig_deadline(&c, 10), 20, 1e-9);
	cr_assert_float_eq(act_mig_deadline(&c, 1), 5, 1e-9);
	cr_assert_float_eq(act_mig_deadline(&c, -1), 50, 1e-9);
}

Test(act_migrate, tunnel_command_and_address)
{
	struct act_mig_cfg c = cfg_ok();
	const char *addr = NULL;
	char cmd[512], err[512];

	cr_assert_eq(act_mig_tunnel_cmd(&c, "idle", cmd, sizeof(cmd), &addr, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(cmd, "/usr/local/bin/rvmig-tunnel -v --uri-template tcp://%h:7600 "
			      "--key-file /etc/rvmig/k.key");
	cr_assert_str_eq(addr, "127.0.0.1");
	c = (struct act_mig_cfg){ .hosts = hosts, .nhosts = 2 };
	cr_assert_eq(act_mig_tunnel_cmd(&c, "dom0-a", cmd, sizeof(cmd), &addr, err, sizeof(err)), 0);
	cr_assert_str_eq(cmd, "rvmig-tunnel -v --uri-template tcp://%h:7471");
	cr_assert_str_eq(addr, "10.0.0.1");
	cr_assert_eq(act_mig_tunnel_cmd(&c, "elsewhere", cmd, sizeof(cmd), &addr, err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "\"elsewhere\" has no address") && strstr(err, "dom0-a, idle"), "%s",
		  err);
	cr_assert_eq(act_mig_tunnel_cmd(&c, "idle", cmd, 20, &addr, err, sizeof(err)), -ENAMETOOLONG);
}

Test(act_migrate, linux_targets_refused)
{
	struct act_mig_cfg c = cfg_ok();
	struct act_mig_req r = { .op = ACT_MIG_MIGRATE, .dest = "idle", .predicted_s = 5 };
	struct act_mig_result res;
	char err[512];

	cr_assert_eq(rvmig_act_target_parse("cgroup:/sys/fs/cgroup/web", &r.target, err, sizeof(err)), 0);
	cr_assert_eq(act_mig_run(&c, &r, NULL, NULL, &res, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "Linux has no migrate") && strstr(err, "cgroup:/sys/fs/cgroup/web"),
		  "%s", err);
	r.op = ACT_MIG_SAVE;
	cr_assert_eq(rvmig_act_target_parse("pid:42", &r.target, err, sizeof(err)), 0);
	cr_assert_eq(act_mig_run(&c, &r, NULL, NULL, &res, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "pid:42"), "%s", err);
	r.op = 9;
	cr_assert_eq(act_mig_run(&c, &r, NULL, NULL, &res, err, sizeof(err)), -ENOTSUP);
	/* a restore without its URI, path and name */
	r = (struct act_mig_req){ .op = ACT_MIG_RESTORE };
	cr_assert_eq(act_mig_run(&c, &r, NULL, NULL, &res, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "restore: needs"), "%s", err);
	/* a bad setting is refused before anything runs */
	c.transport = "udp";
	r = (struct act_mig_req){ .op = ACT_MIG_MIGRATE, .dest = "idle" };
	rvmig_act_target_parse("xen:3", &r.target, err, sizeof(err));
	cr_assert_eq(act_mig_run(&c, &r, NULL, NULL, &res, err, sizeof(err)), -EINVAL);
}

Test(act_migrate, policy_file_keys)
{
	static const char good[] = "[migration]\nbandwidth = 1e9\ntransport = verbs\nport = 7500\n"
				   "tunnel = bin/rvmig-tunnel\nrvmig_save = rvmig-save\n"
				   "key_file = /etc/rvmig/t.key\nhost idle = 127.0.0.1\n"
				   "host = idle 127.0.0.1\nhost = dom0 10.1.2.3\n"
				   "deadline_margin = 2\ndeadline_min = 30s\ndeadline_max = 10m\n"
				   "tries = 3\n";
	struct pol_config c;
	char err[512];

	/* "host idle = ..." is not KEY = VALUE of a known key */
	cr_assert_lt(pol_config_parse(good, sizeof(good) - 1, "/etc/p.conf", &c, err, sizeof(err)), 0);
	cr_assert(strstr(err, "p.conf:8:"), "%s", err);
	{
		char fixed[sizeof(good)];
		char *l;

		memcpy(fixed, good, sizeof(good));
		l = strstr(fixed, "host idle = 127.0.0.1\n");
		memset(l, '#', 1); /* a comment now */
		cr_assert_eq(pol_config_parse(fixed, strlen(fixed), "/etc/p.conf", &c, err,
					      sizeof(err)), 0, "%s", err);
	}
	cr_assert_str_eq(c.mig.exec.transport, "verbs");
	cr_assert_eq(c.mig.exec.port, 7500);
	cr_assert_str_eq(c.mig.exec.tunnel, "/etc/bin/rvmig-tunnel");
	cr_assert_str_eq(c.mig.exec.save, "rvmig-save");
	cr_assert_eq(c.mig.exec.nhosts, 2);
	cr_assert_str_eq(c.mig.exec.hosts[1].name, "dom0");
	cr_assert_str_eq(c.mig.exec.hosts[1].addr, "10.1.2.3");
	cr_assert_float_eq(c.mig.exec.margin, 2, 1e-9);
	cr_assert_float_eq(c.mig.exec.min_s, 30, 1e-9);
	cr_assert_float_eq(c.mig.exec.max_s, 600, 1e-9);
	cr_assert_eq(c.mig.exec.tries, 3);
	pol_config_free(&c);

	static const char *const bad[] = {
		"[migration]\ntransport = udp\n",
		"[migration]\nhost = a\n",
		"[migration]\nhost = a 1.2.3.4;x\n",
		"[migration]\nhost = a 1.2.3.4\nhost = a 1.2.3.5\n",
		"[migration]\nport = 70000\n",
		"[migration]\ndeadline_margin = 0.5\n",
		"[migration]\ntries = 0\n",
		"[migration]\ntries = 1.5\n",
		"[migration]\ntries = 11\n",
		"[migration]\nnonsense = 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_lt(pol_config_parse(bad[i], strlen(bad[i]), "p.conf", &c, err, sizeof(err)),
			     0, "accepted: %s", bad[i]);
		cr_assert(strstr(err, "p.conf"), "%s", err);
	}
}

struct lines {
	char got[8][64];
	int fd[8];
	int n;
};

static void collect(void *arg, int fd, const char *line)
{
	struct lines *l = arg;

	if (l->n < 8) {
		snprintf(l->got[l->n], sizeof(l->got[0]), "%s", line);
		l->fd[l->n++] = fd;
	}
}

Test(act_migrate, exec_lines_status_deadline)
{
	char *fail[] = { "sh", "-c", "echo one; printf 'p1\\rp2\\n'; echo oops >&2; exit 3", NULL };
	char *ok[] = { "sh", "-c", "echo hello", NULL };
	char *slow[] = { "sleep", "30", NULL };
	char *none[] = { "/nonexistent/rvmig-no-such-program", NULL };
	static const char *const want_out[] = { "one", "p1", "p2" };
	struct lines l = { .n = 0 };
	char out[64], err[512];
	double t0;

	cr_assert_eq(rvmig_act_run(NULL, fail, 60000, out, sizeof(out), collect, &l, err, sizeof(err)), -EIO);
	cr_assert(strstr(err, "exit status 3: oops"), "%s", err);
	cr_assert_eq(l.n, 4);
	/* stdout's lines in order ('\r' ends a progress line), stderr's apart */
	for (int i = 0, k = 0; i < l.n; i++) {
		if (l.fd[i] == 1) {
			cr_assert_lt(k, 3);
			cr_assert_str_eq(l.got[i], want_out[k]);
			k++;
		} else {
			cr_assert_str_eq(l.got[i], "oops");
		}
	}
	cr_assert_str_eq(out, "one\np1\rp2\n");
	cr_assert_eq(rvmig_act_run(NULL, ok, 60000, out, sizeof(out), NULL, NULL, err, sizeof(err)), 0);
	cr_assert_str_eq(out, "hello\n");
	t0 = tool_now();
	cr_assert_eq(rvmig_act_run(NULL, slow, 300, NULL, 0, NULL, NULL, err, sizeof(err)), -ETIMEDOUT);
	cr_assert(strstr(err, "no exit within 300 ms"), "%s", err);
	cr_assert_lt(tool_now() - t0, 29, "sleep 30 was not killed at its deadline");
	cr_assert_eq(rvmig_act_run(NULL, none, 1000, NULL, 0, NULL, NULL, err, sizeof(err)), -ENOENT, "%s", err);
}

/* A command's first line "PID CHILD": both kept, and the stop flag set. */
struct stop_at_pids {
	volatile int *stop;
	long pid, child;
};

static void stop_at_pids(void *arg, int fd, const char *line)
{
	struct stop_at_pids *s = arg;

	if (fd == 1 && !s->pid && sscanf(line, "%ld %ld", &s->pid, &s->child) == 2)
		*s->stop = SIGTERM;
}

/* rvmig_act_exec(): a stop flag set while the command runs ends it and
 * what it started (its process group) long before its 60 s, with -EINTR;
 * one that ignores SIGTERM gets SIGKILL after term_ms; a stop already set
 * starts nothing; a bad attr is refused. */
Test(act_migrate, exec_stop_ends_the_group)
{
	char *waits[] = { "sh", "-c", "sleep 60 & echo $$ $!; wait", NULL };
	char *deaf[] = { "sh", "-c", "trap '' TERM; sleep 60 & echo $$ $!; wait", NULL };
	volatile int stop = 0;
	struct stop_at_pids s = { .stop = &stop };
	struct rvmig_act_exec_attr a = { .size = sizeof(a), .timeout_ms = 120000,
					 .on_line = stop_at_pids, .arg = &s, .stop = &stop };
	char err[1024];
	double t0 = tool_now();

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(rvmig_act_exec(NULL, waits, &a, err, sizeof(err)), -EINTR, "%s", err);
	cr_assert(strstr(err, "stopped (signal 15): SIGTERM to its process group"), "%s", err);
	cr_assert_null(strstr(err, "SIGKILL"), "%s", err);
	cr_assert(s.pid > 0 && s.child > 0, "no pids from the command");
	cr_assert(gone_within((pid_t)s.pid, 10), "the command (pid %ld) still runs", s.pid);
	cr_assert(gone_within((pid_t)s.child, 10), "its child sleep 60 (pid %ld) still runs",
		  s.child);
	/* a bound that cannot flake: its sleep alone is 60 s */
	cr_assert_lt(tool_now() - t0, 50, "the stop did not end the command");

	/* the flag still set: nothing started */
	cr_assert_eq(rvmig_act_exec(NULL, waits, &a, err, sizeof(err)), -EINTR);
	cr_assert(strstr(err, "not started: asked to stop (signal 15)"), "%s", err);

	/* SIGTERM ignored (by the shell and, inherited, its sleep): SIGKILL */
	stop = 0;
	s = (struct stop_at_pids){ .stop = &stop };
	a.term_ms = 300;
	cr_assert_eq(rvmig_act_exec(NULL, deaf, &a, err, sizeof(err)), -EINTR, "%s", err);
	cr_assert(strstr(err, "SIGTERM to its process group, SIGKILL after the grace"), "%s", err);
	cr_assert(gone_within((pid_t)s.pid, 10), "the command (pid %ld) still runs", s.pid);
	cr_assert(gone_within((pid_t)s.child, 10), "its child (pid %ld) still runs", s.child);

	/* an attr without its timeout, or with none */
	a.size = sizeof(size_t);
	cr_assert_eq(rvmig_act_exec(NULL, waits, &a, err, sizeof(err)), -EINVAL);
	a.size = sizeof(a);
	a.timeout_ms = 0;
	cr_assert_eq(rvmig_act_exec(NULL, waits, &a, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "timeout_ms 0"), "%s", err);
}

/* The executor's log: a SIGTERM, as from kill, once the wait before the
 * next try is announced. */
static void stop_at_retry(void *arg, int verbose, const char *line)
{
	int *waits = arg;

	(void)verbose;
	if (strstr(line, "trying again in")) {
		(*waits)++;
		raise(SIGTERM);
	}
}

/* PATH with tests/policy/fake-xl first (RVMIG_FAKE_XL_DIR), for the
 * executor's xl and rvmig-* commands. */
static void use_fake_xl(void)
{
	const char *dir = getenv("RVMIG_FAKE_XL_DIR"), *path = getenv("PATH");
	char p[4096];

	cr_assert(dir, "RVMIG_FAKE_XL_DIR is not set");
	snprintf(p, sizeof(p), "%s:%s", dir, path ? path : "/usr/bin:/bin");
	setenv("PATH", p, 1);
}

/* An empty file made from the mkstemp template `tmpl`; its name in the
 * environment variable `env` when not NULL (the fake xl's side files). */
static void fake_xl_file(char *tmpl, const char *env)
{
	int fd;

	cr_assert((fd = mkstemp(tmpl)) >= 0, "mkstemp %s: %s", tmpl, strerror(errno));
	close(fd);
	if (env)
		setenv(env, tmpl, 1);
}

Test(act_migrate, stop_ends_the_retry_wait)
{
	struct act_mig_cfg c = cfg_ok();
	struct act_mig_req r = { .op = ACT_MIG_MIGRATE, .dest = "idle", .predicted_s = 5 };
	struct act_mig_result res;
	char tries[] = "/tmp/rvmig-xl-tries-XXXXXX", err[2048], line[512];
	int waits = 0, n = 0;
	FILE *f;

	use_fake_xl();
	fake_xl_file(tries, "FAKE_XL_TRIES");
	tool_catch_stop();
	c.tries = 3;
	cr_assert_eq(rvmig_act_target_parse("xen:3", &r.target, err, sizeof(err)), 0);
	cr_assert_eq(act_mig_run(&c, &r, stop_at_retry, &waits, &res, err, sizeof(err)), -EIO,
		     "%s", err);
	cr_assert_eq(tool_stop, SIGTERM);
	cr_assert_eq(waits, 1, "waited %d times for a next try after the stop", waits);
	cr_assert_eq(res.tries, 1, "tried %u times", res.tries);
	cr_assert(strstr(err, "not tried again: asked to stop (signal 15)"), "%s", err);
	cr_assert(f = fopen(tries, "r"));
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	unlink(tries);
	cr_assert_eq(n, 1, "xl migrate ran %d times", n);
}

/* The lines of a file. */
static int lines_of(const char *path)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	cr_assert(f, "%s", path);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* rvmig-policy --apply --policy FILE --trace ...: a plan of two due
 * migrations, one at a time; a SIGTERM while the first runs (xl sends it,
 * then waits 60 s for a child) stops it: xl and its child gone long before
 * that, the failure logged with where the domain is and recorded in the
 * runs file; no second one is started, and a stop line says so. */
Test(act_migrate, stop_during_a_plan_starts_no_more)
{
	static struct act_mig_host far[] = { { "far", "192.0.2.7" } };
	char tries[] = "/tmp/rvmig-xl-tries-XXXXXX", gone[] = "/tmp/rvmig-xl-gone-XXXXXX";
	char runs[] = "/tmp/rvmig-runs-XXXXXX", pids[] = "/tmp/rvmig-xl-pids-XXXXXX";
	char *log = NULL;
	long xl = 0, child = 0;
	struct pol_config cfg = { .mig.exec = cfg_ok() };
	struct pol_decision d[2] = {
		{ .due = 1, .target = { "a", "xen", "3", "vm1", "web" }, .dest = "far" },
		{ .due = 1, .target = { "a", "xen", "4", "vm2", "db" }, .dest = "far" },
	};
	struct pol_plan plan = { .source = "trace", .d = d, .nd = 2 };
	struct pol_apply_out out = { 0 };
	size_t len = 0;
	double t0 = tool_now();
	FILE *f;

	use_fake_xl();
	fake_xl_file(tries, "FAKE_XL_TRIES");
	fake_xl_file(gone, "FAKE_XL_GONE");
	fake_xl_file(runs, NULL);
	fake_xl_file(pids, "FAKE_XL_STOP");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cfg.mig.exec.hosts = far;
	cfg.mig.exec.nhosts = 1;
	cfg.mig.exec.runs = runs;
	for (int i = 0; i < 2; i++) {
		d[i].action = (struct rvmig_action){ .size = sizeof(d[i].action),
						     .kind = RVMIG_ACT_MIGRATE };
		d[i].pred.position = (unsigned)i;
		d[i].pred.end_s = 5;
	}
	tool_catch_stop();
	cr_assert(out.f = open_memstream(&log, &len));
	cr_assert_eq(pol_apply_plan_migrations(&cfg, &plan, &out), -EINTR);
	fclose(out.f);
	cr_assert_eq(tool_stop, SIGTERM);
	cr_assert_eq(lines_of(tries), 1, "xl migrate ran %d times:\n%s", lines_of(tries), log);
	cr_assert(f = fopen(pids, "r"));
	cr_assert_eq(fscanf(f, "%ld %ld", &xl, &child), 2, "fake xl wrote no pids");
	fclose(f);
	cr_assert(gone_within((pid_t)xl, 10), "xl (pid %ld) still runs", xl);
	cr_assert(gone_within((pid_t)child, 10), "xl's child (pid %ld) still runs", child);
	/* a bound that cannot flake: xl waits 60 s for its child */
	cr_assert_lt(tool_now() - t0, 50, "the stop did not end xl:\n%s", log);
	cr_assert(strstr(log, "migrate web: failed after") &&
		  strstr(log, "stopped (signal 15): SIGTERM to its process group") &&
		  strstr(log, "after the stop: domain vm1 still runs here as domain 3, no copy left"),
		  "%s", log);
	cr_assert_null(strstr(log, "done in"), "%s", log);
	cr_assert(strstr(log, "stop (signal 15): 1 of the plan's 2 due migrations started, 0 done; "
			      "the other 1 not started"), "%s", log);
	cr_assert_null(strstr(log, "db"), "%s", log);
	cr_assert_eq(lines_of(runs), 2, "the runs file: a header and the one migration");
	free(log);
	unlink(tries);
	unlink(gone);
	unlink(runs);
	unlink(pids);
}

/* The done line of a migration says when its outcome was checked: the
 * executor says at once that xl migrate exited, and the done line how long
 * the check (xl list, 1 s here) took after that. */
Test(act_migrate, done_line_says_when_checked)
{
	static struct act_mig_host far[] = { { "far", "192.0.2.7" } };
	char tries[] = "/tmp/rvmig-xl-tries-XXXXXX", gone[] = "/tmp/rvmig-xl-gone-XXXXXX";
	char *log = NULL, *exited, *done;
	struct act_mig_cfg cfg = cfg_ok();
	struct pol_decision d = { .due = 1, .target = { "a", "xen", "3", "vm1", "web" },
				  .dest = "far" };
	struct pol_plan plan = { .source = "trace", .d = &d, .nd = 1 };
	struct pol_apply_out out = { 0 };
	double checked = -1;
	size_t len = 0;

	use_fake_xl();
	fake_xl_file(tries, "FAKE_XL_TRIES");
	fake_xl_file(gone, "FAKE_XL_GONE");
	setenv("FAKE_XL_LIST_DELAY", "1", 1);
	cfg.hosts = far;
	cfg.nhosts = 1;
	d.action = (struct rvmig_action){ .size = sizeof(d.action), .kind = RVMIG_ACT_MIGRATE };
	d.pred.end_s = 5;
	cr_assert(out.f = open_memstream(&log, &len));
	cr_assert_eq(pol_apply_migration(&cfg, &plan, &d, &out), 0);
	fclose(out.f);
	exited = strstr(log, "migrate xen:3 (vm1) -> far (192.0.2.7): +");
	exited = exited ? strstr(exited, "xl migrate exited 0; checking the outcome") : NULL;
	done = strstr(log, "migrate web (xen:3 vm1) -> far (192.0.2.7): done in ");
	cr_assert(exited && done && exited < done, "no line when xl exited, before the done line:\n%s",
		  log);
	cr_assert(done = strstr(done, ": checked "), "%s", log);
	cr_assert_eq(sscanf(done, ": checked %lf s after xl migrate exited", &checked), 1, "%s", log);
	/* the check's xl list sleeps 1 s: a lower bound */
	cr_assert_geq(checked, 0.95, "%s", log);
	free(log);
	unlink(tries);
	unlink(gone);
}
