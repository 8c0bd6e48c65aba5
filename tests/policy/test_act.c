/* SPDX-License-Identifier: MIT */
/*
 * The actuators (rvmig/act.h, rvmig_act(3): the library's, which
 * rvmig-policy --apply uses) on this host's real cgroups.  Their pure parts
 * and the Xen actuator's readers of xl output: tests/unit/test_act_pure.c.
 *
 * A CPU burner runs in a fresh cpu group (v1 here: cpu.cfs_quota_us; v2
 * cpu.max where the unified hierarchy has the cpu controller); its quota is
 * lowered and raised through rvmig_act_apply(), each read back from the file by
 * the test itself, and the monitor (rvmig_monitor(3), linux backend) shows
 * the burner's CPU follow: at most the cap plus 0.03 CPU under a
 * 0.05-CPU cap (CFS enforces the quota per 100 ms period, so the bound
 * holds under any load), and more than twice that share once raised to 0.6
 * CPU (its group has 10 times the default weight: a 2-core host at load 20
 * still gives it far more than 0.1 CPU).  The undo records put 0.05 and then "no quota" back.  Bad values
 * and targets outside the cgroup mounts are refused before anything is
 * written.  The groups are removed and the burner killed by the suite's
 * fini, which Criterion runs after a failed assertion too; the burner also
 * dies with the test process (PR_SET_PDEATHSIG).
 *
 * Registered as unit.policy.act with --jobs 1 and RUN_SERIAL (it measures
 * CPU shares).  Needs root and a writable cpu cgroup hierarchy: it fails
 * saying so where there is none (CI runs as root).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>


#define WINDOW_S 2

static char cpu_dir[512], cpuset_dir[512];
static int cg_version;
static pid_t burner = -1;
static rvmig_act *act;

static int put(const char *dir, const char *file, const char *text)
{
	char path[600];
	size_t n = strlen(text);
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY)) < 0)
		return -errno;
	rc = write(fd, text, n) == (ssize_t)n ? 0 : -errno;
	close(fd);
	return rc;
}

/* dir/file's first line, as the test reads it (not through the actuators). */
static const char *get(const char *dir, const char *file)
{
	static char buf[256];
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot read %s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* The mount of a v1 controller or of v2 ("" when none), from /proc/mounts. */
static int find_mount(const char *type, const char *opt, char *out, size_t len)
{
	char dev[256], dir[256], fstype[64], opts[512];
	FILE *f = fopen("/proc/mounts", "r");
	int found = 0;

	cr_assert_not_null(f);
	while (!found && fscanf(f, "%255s %255s %63s %511s %*d %*d", dev, dir, fstype, opts) == 4) {
		char *tok, *save;

		if (strcmp(fstype, type))
			continue;
		if (!opt)
			found = 1;
		for (tok = strtok_r(opts, ",", &save); tok && !found; tok = strtok_r(NULL, ",", &save))
			found = !strcmp(tok, opt);
		if (found)
			snprintf(out, len, "%s", dir);
	}
	fclose(f);
	return found;
}

static void setup(void)
{
	char root[256], name[64];

	cr_assert_eq(rvmig_act_open(NULL, "linux", &act), 0);
	snprintf(name, sizeof(name), "rvmig-test-act-%d", (int)getpid());
	if (find_mount("cgroup", "cpu", root, sizeof(root))) {
		cg_version = 1;
	} else if (find_mount("cgroup2", NULL, root, sizeof(root))) {
		cg_version = 2;
		put(root, "cgroup.subtree_control", "+cpu +cpuset");
	} else {
		cr_assert_fail("no cgroup v1 cpu hierarchy and no cgroup v2 mount");
	}
	snprintf(cpu_dir, sizeof(cpu_dir), "%s/%s", root, name);
	if (mkdir(cpu_dir, 0755) < 0)
		cr_assert_fail("cannot create the cgroup %s: %s (needs root and a writable cgroup "
			       "hierarchy)", cpu_dir, strerror(errno));
	if (cg_version == 1 && find_mount("cgroup", "cpuset", root, sizeof(root))) {
		snprintf(cpuset_dir, sizeof(cpuset_dir), "%s/%s", root, name);
		if (mkdir(cpuset_dir, 0755) < 0)
			cpuset_dir[0] = '\0';
	} else if (cg_version == 2) {
		snprintf(cpuset_dir, sizeof(cpuset_dir), "%s", cpu_dir);
	}
}

static void teardown(void)
{
	if (burner > 0) {
		kill(burner, SIGKILL);
		waitpid(burner, NULL, 0);
		burner = -1;
	}
	if (cpuset_dir[0] && strcmp(cpuset_dir, cpu_dir))
		rmdir(cpuset_dir);
	if (cpu_dir[0] && rmdir(cpu_dir) < 0)
		fprintf(stderr, "test_act: cannot remove %s: %s\n", cpu_dir, strerror(errno));
	rvmig_act_close(act);
}

TestSuite(act, .init = setup, .fini = teardown);

/* A burner in the cpu group, dying with the test. */
static void start_burner(void)
{
	char pid[32];
	int rc;

	burner = fork();
	cr_assert_geq(burner, 0);
	if (burner == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (volatile unsigned long i = 0;; i++)
			;
	}
	snprintf(pid, sizeof(pid), "%d", (int)burner);
	rc = put(cpu_dir, "cgroup.procs", pid);
	cr_assert_eq(rc, 0, "cannot move the burner into %s: %s", cpu_dir, strerror(-rc));
}

static struct rvmig_action action(enum rvmig_action_kind kind, int64_t value, const char *arg)
{
	struct rvmig_action a = { .size = sizeof(a), .kind = kind, .share = 1, .value = value, .arg = arg };

	return a;
}

/* The burner's CPU over WINDOW_S, CPUs, as the monitor sees its group. */
static double cpu_of_group(void)
{
	rvmig_monitor *mon;
	rvmig_monitor_snap *s;
	double cpu;
	int rc = rvmig_monitor_open(NULL, "linux", &mon);

	cr_assert_eq(rc, 0, "rvmig_monitor_open: %s", rvmig_strerror(rc));
	rc = rvmig_monitor_watch_cgroup(mon, cpu_dir, "burner");
	cr_assert_geq(rc, 0, "watch %s: %s", cpu_dir, rvmig_strerror(rc));
	cr_assert_eq(rvmig_monitor_sample(mon, &s), 0);
	rvmig_monitor_snap_free(s);
	sleep(WINDOW_S);
	cr_assert_eq(rvmig_monitor_sample(mon, &s), 0);
	cpu = rvmig_monitor_domain_cpu_pct(rvmig_monitor_domain(s, 0)) / 100;
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	return cpu;
}

static const char *quota_text(void)
{
	return cg_version == 1 ? get(cpu_dir, "cpu.cfs_quota_us") : get(cpu_dir, "cpu.max");
}

Test(act, cpu_quota_applied_followed_and_undone)
{
	struct rvmig_act_target t;
	rvmig_act_change *low, *high;
	struct rvmig_action a;
	char err[1024], spec[600];
	double free_cpu, capped, raised;
	int rc;

	snprintf(spec, sizeof(spec), "cgroup:%s", cpu_dir);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0, "%s", err);
	if (cg_version == 1)
		cr_assert_eq(put(cpu_dir, "cpu.cfs_period_us", "100000"), 0);
	/* 10 times the default weight, so that on a loaded host the burner
	 * still gets well over 0.1 CPU when its quota allows */
	cr_assert_eq(put(cpu_dir, cg_version == 1 ? "cpu.shares" : "cpu.weight",
			 cg_version == 1 ? "10240" : "1000"), 0);
	start_burner();
	free_cpu = cpu_of_group();

	a = action(RVMIG_ACT_CG_CPU_MAX, 50000, NULL); /* 0.05 CPU */
	rc = rvmig_act_apply(act, &t, &a, &low, err, sizeof(err));
	cr_assert_eq(rc, 0, "apply 0.05 CPU: %s", err);
	cr_assert_eq(rvmig_act_change_old(low)->value, RVMIG_ACT_CPU_MAX_UNLIMITED, "a new group has no quota");
	cr_assert_eq(rvmig_act_change_now(low)->value, 50000);
	cr_assert_str_eq(quota_text(), cg_version == 1 ? "5000" : "5000 100000");
	capped = cpu_of_group();

	a = action(RVMIG_ACT_CG_CPU_MAX, 600000, NULL); /* 0.6 CPU */
	rc = rvmig_act_apply(act, &t, &a, &high, err, sizeof(err));
	cr_assert_eq(rc, 0, "apply 0.6 CPU: %s", err);
	cr_assert_eq(rvmig_act_change_old(high)->value, 50000);
	cr_assert_str_eq(quota_text(), cg_version == 1 ? "60000" : "60000 100000");
	raised = cpu_of_group();
	fprintf(stderr, "test_act: burner CPU uncapped %.3f, capped at 0.05 %.3f, at 0.6 %.3f (load %s)\n",
		free_cpu, capped, raised, get("/proc", "loadavg"));
	cr_assert_leq(capped, 0.05 + 0.03, "capped at 0.05 CPU the burner used %.3f", capped);
	cr_assert_gt(raised, 2 * capped, "raised to 0.6 CPU the burner used %.3f, capped %.3f", raised,
		     capped);
	cr_assert_leq(raised, 0.6 + 0.05, "raised to 0.6 CPU the burner used %.3f", raised);

	cr_assert_eq(rvmig_act_undo(act, high, err, sizeof(err)), 0, "undo: %s", err);
	cr_assert_str_eq(quota_text(), cg_version == 1 ? "5000" : "5000 100000");
	cr_assert_eq(rvmig_act_undo(act, low, err, sizeof(err)), 0, "undo: %s", err);
	cr_assert_str_eq(quota_text(), cg_version == 1 ? "-1" : "max 100000");
	rvmig_act_change_free(high);
	rvmig_act_change_free(low);
}

/* pid:N is the group the process is in (for the controller's hierarchy). */
Test(act, pid_target_is_its_group)
{
	struct rvmig_act_target t;
	struct rvmig_act_setting s;
	char err[1024], spec[64], where[RVMIG_ACT_PATH_MAX], want[600];
	int rc;

	start_burner();
	snprintf(spec, sizeof(spec), "pid:%d", (int)burner);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0, "%s", err);
	rc = rvmig_act_read(act, &t, RVMIG_ACT_CG_CPU_MAX, &s, where, sizeof(where), err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	snprintf(want, sizeof(want), "%s/%s", cpu_dir, cg_version == 1 ? "cpu.cfs_quota_us" : "cpu.max");
	cr_assert_str_eq(where, want);
	cr_assert_eq(s.value, RVMIG_ACT_CPU_MAX_UNLIMITED);
}

Test(act, weight_and_cpuset)
{
	struct rvmig_act_target t;
	rvmig_act_change *u = NULL;
	struct rvmig_action a;
	char err[1024], spec[600];
	int rc;

	snprintf(spec, sizeof(spec), "cgroup:%s", cpu_dir);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0, "%s", err);
	a = action(RVMIG_ACT_CG_CPU_WEIGHT, 50, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_act_change_old(u)->value, 100, "the default weight");
	cr_assert_str_eq(get(cpu_dir, cg_version == 1 ? "cpu.shares" : "cpu.weight"),
			 cg_version == 1 ? "512" : "50");
	cr_assert_eq(rvmig_act_undo(act, u, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(get(cpu_dir, cg_version == 1 ? "cpu.shares" : "cpu.weight"),
			 cg_version == 1 ? "1024" : "100");
	rvmig_act_change_free(u);

	cr_assert(cpuset_dir[0], "no cpuset hierarchy to test cpuset.cpus in");
	/* the v1 cpuset group given by its path in the cpu hierarchy */
	a = action(RVMIG_ACT_CG_CPUSET, 0, "0");
	rc = rvmig_act_apply(act, &t, &a, &u, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(get(cpuset_dir, "cpuset.cpus"), "0");
	cr_assert_eq(rvmig_act_undo(act, u, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(get(cpuset_dir, "cpuset.cpus"), rvmig_act_change_old(u)->arg);
	rvmig_act_change_free(u);
}

/* vCPUS on Linux: a cpuset of the first N CPUs the parent allows; more than
 * the parent has refused before writing. */
Test(act, vcpus_as_cpuset)
{
	struct rvmig_act_target t;
	rvmig_act_change *u = NULL;
	struct rvmig_action a;
	char err[1024], spec[600];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	cr_assert(cpuset_dir[0], "no cpuset hierarchy to test a vCPU count in");
	snprintf(spec, sizeof(spec), "cgroup:%s", cpu_dir);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0, "%s", err);
	if (cg_version == 1) /* a v1 cpuset group starts empty: give it the parent's */
		put(cpuset_dir, "cpuset.cpus", ncpu > 1 ? "0-1" : "0");
	a = action(RVMIG_ACT_VCPUS, 1, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_act_change_now(u)->value, 1);
	cr_assert_str_eq(get(cpuset_dir, "cpuset.cpus"), "0");
	cr_assert_eq(rvmig_act_undo(act, u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rvmig_act_change_old(u)->value, ncpu > 1 ? 2 : 1);
	rvmig_act_change_free(u);
	a = action(RVMIG_ACT_VCPUS, 4096, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE);
	a = action(RVMIG_ACT_VCPUS, 1000, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE, "more than the parent has");
	cr_assert(strstr(err, "the parent group allows"), "%s", err);
}

Test(act, bad_values_refused_before_writing)
{
	struct rvmig_act_target t;
	rvmig_act_change *u = NULL;
	struct rvmig_action a;
	char err[1024], spec[600];

	snprintf(spec, sizeof(spec), "cgroup:%s", cpu_dir);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0, "%s", err);
	a = action(RVMIG_ACT_CG_CPU_MAX, 999, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "999"), "%s", err);
	a = action(RVMIG_ACT_CG_CPU_MAX, 1000000LL * 100000, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE, "%s", err);
	/* 0.005 CPU passes the generic bound but is a 500 us quota at the
	 * 100 ms period: the kernel's minimum is 1000 us */
	if (cg_version == 1)
		cr_assert_eq(put(cpu_dir, "cpu.cfs_period_us", "100000"), 0);
	a = action(RVMIG_ACT_CG_CPU_MAX, 5000, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE, "%s", err);
	cr_assert(strstr(err, cpu_dir) && strstr(err, "500 us"), "%s", err);
	cr_assert_str_eq(quota_text(), cg_version == 1 ? "-1" : "max 100000", "nothing written");
	a = action(RVMIG_ACT_CG_CPU_WEIGHT, 0, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE);
	a = action(RVMIG_ACT_CG_CPU_WEIGHT, 10001, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(get(cpu_dir, cg_version == 1 ? "cpu.shares" : "cpu.weight"),
			 cg_version == 1 ? "1024" : "100");
	static const char *const lists[] = { "", "3-1", "a", "0,,1", "0-", "1024", "0 1", "-1", "0,1\n2" };
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		a = action(RVMIG_ACT_CG_CPUSET, 0, lists[i]);
		cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -EINVAL, "cpu list \"%s\"", lists[i]);
	}
	a = action(RVMIG_ACT_CPUFREQ, 0, "ondemand");
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ENOTSUP, "%s", err);
	a = action(RVMIG_ACT_CREDIT_CAP, 20, NULL);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ENOTSUP, "a Xen action on a cgroup");
	cr_assert(strstr(err, "no actuator"), "%s", err);
}

Test(act, foreign_targets_refused)
{
	static const char *const paths[] = { "/tmp", "/proc/self", "/sys/fs/cgroup/../../../tmp" };
	struct rvmig_act_target t;
	rvmig_act_change *u = NULL;
	struct rvmig_action a = action(RVMIG_ACT_CG_CPU_MAX, 500000, NULL);
	char err[1024], spec[600];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(spec, sizeof(spec), "cgroup:%s", paths[i]);
		cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0);
		cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -EPERM, "%s", paths[i]);
		cr_assert(strstr(err, "refused"), "%s", err);
	}
	snprintf(spec, sizeof(spec), "cgroup:%s/no-such-group", cpu_dir);
	cr_assert_eq(rvmig_act_target_parse(spec, &t, err, sizeof(err)), 0);
	cr_assert_eq(rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "no-such-group"), "%s", err);
	cr_assert_eq(rvmig_act_target_parse("pid:2147483647", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("pid:0", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("xen:32752", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("xen:1x", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("cgroup:relative", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("vm:\x1b[2J", &t, err, sizeof(err)), -EINVAL);
	cr_assert_null(strchr(err, '\x1b'), "the target is escaped in: %s", err);
}
