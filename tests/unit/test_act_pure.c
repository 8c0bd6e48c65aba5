/* SPDX-License-Identifier: MIT */
/*
 * The actuators' pure parts (librvmig/act/units.c, xen/xl_parse.c; no I/O):
 * value bounds checked before any write, CPU lists, the unit conversions
 * (cgroup v2 weight <-> v1 shares, CPUs <-> CFS quota), the read-back
 * comparison, settings as text and as CPU shares, targets, and the Xen
 * actuator's readers of what xl 4.17 prints.  The actuators on real
 * cgroups: tests/policy/test_act.c; on real Xen: tests/xen/xen_apply.sh.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "act/act_int.h"
#include "act/xen/xl_parse.h"

static struct rvmig_act_setting num(int64_t v)
{
	struct rvmig_act_setting s = { .value = v };

	return s;
}

static struct rvmig_act_setting list(const char *arg)
{
	struct rvmig_act_setting s = { 0 };

	snprintf(s.arg, sizeof(s.arg), "%s", arg);
	return s;
}

/* Bounds: each kind's range, the host's CPUs bounding a quota. */
Test(act_pure, bounds)
{
	struct rvmig_act_setting s;
	char err[256];

	s = num(RVMIG_ACT_CPU_MAX_UNLIMITED);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_MAX, &s, 4, err, sizeof(err)), 0);
	s = num(RVMIG_ACT_CPU_MAX_MIN);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_MAX, &s, 4, err, sizeof(err)), 0);
	s = num(RVMIG_ACT_CPU_MAX_MIN - 1);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_MAX, &s, 4, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "999") && strstr(err, "1000..4000000"), "%s", err);
	s = num(4000000);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_MAX, &s, 4, err, sizeof(err)), 0);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_MAX, &s, 3, err, sizeof(err)), -ERANGE,
		     "4 CPUs on a 3-CPU host");
	s = num(0);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_WEIGHT, &s, 4, err, sizeof(err)), -ERANGE);
	cr_assert_eq(act_check(RVMIG_ACT_CREDIT_CAP, &s, 4, err, sizeof(err)), 0, "cap 0: none");
	cr_assert_eq(act_check(RVMIG_ACT_CREDIT_WEIGHT, &s, 4, err, sizeof(err)), -ERANGE);
	cr_assert_eq(act_check(RVMIG_ACT_VCPUS, &s, 4, err, sizeof(err)), -ERANGE);
	s = num(RVMIG_ACT_CG_WEIGHT_MAX + 1);
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPU_WEIGHT, &s, 4, err, sizeof(err)), -ERANGE);
	s = num(RVMIG_ACT_XEN_WEIGHT_MAX);
	cr_assert_eq(act_check(RVMIG_ACT_CREDIT_WEIGHT, &s, 4, err, sizeof(err)), 0);
	s = num(RVMIG_ACT_XEN_CAP_MAX + 1);
	cr_assert_eq(act_check(RVMIG_ACT_CREDIT_CAP, &s, 4, err, sizeof(err)), -ERANGE);
	s = num(RVMIG_ACT_VCPUS_MAX + 1);
	cr_assert_eq(act_check(RVMIG_ACT_VCPUS, &s, 4, err, sizeof(err)), -ERANGE);
	s = list("ondemand");
	cr_assert_eq(act_check(RVMIG_ACT_CPUFREQ, &s, 4, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "no actuator"), "%s", err);
	s = list("");
	cr_assert_eq(act_check(RVMIG_ACT_CG_CPUSET, &s, 4, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "empty"), "%s", err);
}

/* CPU lists: ranges ascending, CPUs below RVMIG_ACT_CPUS_MAX; the first N. */
Test(act_pure, cpu_lists)
{
	static const char *const bad[] = { "3-1", "a", "0,,1", "0-", "1024", "0 1", "-1", "0,1\n2",
					   "1,", "0-1023x" };
	uint64_t m[ACT_CPU_WORDS];
	char err[256], out[64];

	cr_assert_eq(act_cpulist_parse("0-2,5,64-65,1023", m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(act_cpulist_count(m), 7);
	cr_assert(m[0] == 0x27 && m[1] == 3 && m[15] >> 63 == 1);
	cr_assert_eq(act_cpulist_first(m, 4, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0,1,2,5");
	cr_assert_eq(act_cpulist_first(m, 7, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0,1,2,5,64,65,1023");
	cr_assert_eq(act_cpulist_first(m, 8, out, sizeof(out)), -ERANGE);
	cr_assert_eq(act_cpulist_first(m, 0, out, sizeof(out)), -ERANGE);
	cr_assert_eq(act_cpulist_first(m, 7, out, 8), -ENAMETOOLONG);
	cr_assert_eq(act_cpulist_parse("", m, err, sizeof(err)), 0);
	cr_assert_eq(act_cpulist_count(m), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(act_cpulist_parse(bad[i], m, err, sizeof(err)), -EINVAL, "\"%s\"", bad[i]);
		cr_assert(strstr(err, "CPU list"), "%s", err);
		cr_assert_null(strchr(err, '\n'), "escaped: %s", err);
	}
}

/* v2 weight <-> v1 shares (x 1024 / 100, clamped to 2..262144); CPUs x 1e6
 * <-> CFS quota at a period, rounded to the nearest. */
Test(act_pure, unit_conversions)
{
	cr_assert_eq(act_weight_to_shares(100), 1024);
	cr_assert_eq(act_weight_to_shares(50), 512);
	cr_assert_eq(act_weight_to_shares(1), 10);
	cr_assert_eq(act_weight_to_shares(10000), 102400);
	cr_assert_eq(act_weight_to_shares(0), 2, "the kernel's minimum");
	cr_assert_eq(act_weight_to_shares(1000000), 262144, "the kernel's maximum");
	cr_assert_eq(act_shares_to_weight(1024), 100);
	cr_assert_eq(act_shares_to_weight(10240), 1000);
	cr_assert_eq(act_shares_to_weight(2), 0);
	for (int64_t w = 1; w <= 10000; w++)
		cr_assert_eq(act_shares_to_weight(act_weight_to_shares(w)), w, "weight %lld",
			     (long long)w);
	cr_assert_eq(act_quota_us(50000, 100000), 5000);
	cr_assert_eq(act_quota_us(600000, 100000), 60000);
	cr_assert_eq(act_quota_us(5000, 100000), 500);
	cr_assert_eq(act_quota_us(RVMIG_ACT_CPU_MAX_UNLIMITED, 100000), -1);
	cr_assert_eq(act_quota_us(333333, 250000), 83333);
	cr_assert_eq(act_quota_cpus(5000, 100000), 50000);
	cr_assert_eq(act_quota_cpus(-1, 100000), RVMIG_ACT_CPU_MAX_UNLIMITED);
	cr_assert_eq(act_quota_cpus(83333, 250000), 333332);
}

/* The read-back comparison: quotas and weights within the kernel's
 * rounding (1 unit or 0.1 %), counts exact, CPU lists as sets. */
Test(act_pure, read_back_comparison)
{
	struct rvmig_act_setting a = num(333333), b = num(333332), c = list("0-1,3"), d = list("3,0,1");

	cr_assert(act_same(RVMIG_ACT_CG_CPU_MAX, &a, &b));
	b = num(333000);
	cr_assert(act_same(RVMIG_ACT_CG_CPU_MAX, &a, &b));
	b = num(332000);
	cr_assert(!act_same(RVMIG_ACT_CG_CPU_MAX, &a, &b));
	b = num(RVMIG_ACT_CPU_MAX_UNLIMITED);
	cr_assert(!act_same(RVMIG_ACT_CG_CPU_MAX, &a, &b));
	a = num(2);
	b = num(3);
	cr_assert(!act_same(RVMIG_ACT_VCPUS, &a, &b));
	cr_assert(act_same(RVMIG_ACT_CG_CPU_WEIGHT, &a, &b), "1 unit of rounding");
	cr_assert(act_same(RVMIG_ACT_CG_CPUSET, &c, &d));
	d = list("0-3");
	cr_assert(!act_same(RVMIG_ACT_CG_CPUSET, &c, &d));
}

/* Settings as text and as CPU shares; targets parsed and named. */
Test(act_pure, format_share_targets)
{
	struct rvmig_act_setting s = num(200000);
	struct rvmig_act_target t;
	char buf[128], err[256];

	cr_assert_str_eq(rvmig_act_format(RVMIG_ACT_CG_CPU_MAX, &s, buf, sizeof(buf)), "0.200 CPU");
	cr_assert_float_eq(rvmig_act_share(RVMIG_ACT_CG_CPU_MAX, &s, 8), 0.2, 1e-9);
	s = num(RVMIG_ACT_CPU_MAX_UNLIMITED);
	cr_assert_str_eq(rvmig_act_format(RVMIG_ACT_CG_CPU_MAX, &s, buf, sizeof(buf)), "max");
	cr_assert_float_eq(rvmig_act_share(RVMIG_ACT_CG_CPU_MAX, &s, 8), 8, 1e-9);
	s = num(0);
	cr_assert_str_eq(rvmig_act_format(RVMIG_ACT_CREDIT_CAP, &s, buf, sizeof(buf)), "cap none");
	cr_assert_float_eq(rvmig_act_share(RVMIG_ACT_CREDIT_CAP, &s, 2), 2, 1e-9);
	s = num(150);
	cr_assert_str_eq(rvmig_act_format(RVMIG_ACT_CREDIT_CAP, &s, buf, sizeof(buf)), "cap 150%");
	cr_assert_float_eq(rvmig_act_share(RVMIG_ACT_CREDIT_CAP, &s, 2), 1.5, 1e-9);
	cr_assert(isnan(rvmig_act_share(RVMIG_ACT_CREDIT_WEIGHT, &s, 2)));
	s = list("0-1\x1b[2J");
	rvmig_act_format(RVMIG_ACT_PIN, &s, buf, sizeof(buf));
	cr_assert(!strncmp(buf, "pcpus 0-1", 9) && !strchr(buf, '\x1b'), "escaped: %s", buf);
	s = list("");
	cr_assert_str_eq(rvmig_act_format(RVMIG_ACT_CG_CPUSET, &s, buf, sizeof(buf)),
			 "cpus (the parent's)");

	cr_assert_eq(rvmig_act_target_parse("xen:7", &t, err, sizeof(err)), 0);
	cr_assert(t.kind == RVMIG_ACT_TARGET_XEN && t.id == 7);
	cr_assert_str_eq(rvmig_act_target_name(&t, buf, sizeof(buf)), "xen:7");
	cr_assert_eq(rvmig_act_target_parse("pid:42", &t, err, sizeof(err)), 0);
	cr_assert_str_eq(rvmig_act_target_name(&t, buf, sizeof(buf)), "pid:42");
	cr_assert_eq(rvmig_act_target_parse("cgroup:/sys/fs/cgroup/a\nb", &t, err, sizeof(err)), 0);
	cr_assert_str_eq(rvmig_act_target_name(&t, buf, sizeof(buf)), "cgroup:/sys/fs/cgroup/a\\nb");
	cr_assert_eq(rvmig_act_target_parse("xen:32751", &t, NULL, 0), 0);
	cr_assert_eq(rvmig_act_target_parse("xen:32752", &t, NULL, 0), -EINVAL);
	cr_assert_eq(rvmig_act_target_parse("cgroup:", &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "absolute"), "%s", err);
}

/* What xl 4.17 prints for `xl sched-credit2 -d 1` (and credit's). */
Test(act_pure, xl_sched_output)
{
	int64_t w = -1, c = -1;

	cr_assert_eq(act_xen_parse_sched("Name                                ID Weight  Cap\n"
					 "rvmig-mon-123                        1    256   20\n",
					 1, &w, &c), 0);
	cr_assert(w == 256 && c == 20);
	cr_assert_eq(act_xen_parse_sched("Name                                ID Weight  Cap\n"
					 "a guest  with spaces 7 9             12    512    0\n",
					 12, &w, &c), 0);
	cr_assert(w == 512 && c == 0);
	cr_assert_eq(act_xen_parse_sched("Name ID Weight Cap\nx 1 256 0\n", 2, &w, &c), -ESRCH);
	cr_assert_eq(act_xen_parse_sched("", 0, &w, &c), -ESRCH);
	cr_assert_eq(act_xen_parse_sched("x 1 -5 0\n", 1, &w, &c), -ESRCH);
}

/* What xl 4.17 prints for `xl vcpu-list 1`. */
Test(act_pure, xl_vcpu_list_output)
{
	static const char text[] =
		"Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)\n"
		"Domain-0                             0     0    1   r--      40.1  all / all\n"
		"a guest                              1     1    -   --p       0.0  all / all\n"
		"a guest                              1     0    0   -b-       2.5  0 / all\n";
	char hard[16];

	cr_assert_eq(act_xen_parse_affinity(text, 1, hard, sizeof(hard)), 0);
	cr_assert_str_eq(hard, "0");
	cr_assert_eq(act_xen_parse_affinity(text, 0, hard, sizeof(hard)), 0);
	cr_assert_str_eq(hard, "all");
	cr_assert_eq(act_xen_parse_affinity(text, 2, hard, sizeof(hard)), -ESRCH);
	cr_assert_eq(act_xen_parse_affinity(text, 1, hard, 1), -ENAMETOOLONG);
	cr_assert_eq(act_xen_parse_affinity("g 1 0 0 -b- 2.5 0-1 all\n", 1, hard, sizeof(hard)), -ESRCH,
		     "no \"/\" between hard and soft");
}

/* vCPUs: all listed (the maximum), online where a CPU is shown. */
Test(act_pure, xl_vcpu_count)
{
	static const char text[] =
		"Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)\n"
		"Domain-0                             0     0    1   r--      40.1  all / all\n"
		"a guest                              1     0    0   -b-       2.5  0 / all\n"
		"a guest                              1     1    -   --p       0.0  all / all\n"
		"a guest                              1     2    1   r--       0.3  all / all\n";
	unsigned on, max;

	cr_assert_eq(act_xen_parse_vcpus(text, 1, &on, &max), 0);
	cr_assert(on == 2 && max == 3, "online %u of %u", on, max);
	cr_assert_eq(act_xen_parse_vcpus(text, 0, &on, &max), 0);
	cr_assert(on == 1 && max == 1);
	cr_assert_eq(act_xen_parse_vcpus(text, 7, &on, &max), -ESRCH);
	cr_assert_eq(act_xen_parse_vcpus("junk\n", 1, &on, &max), -ESRCH);
}

/* pin: a CPU list or "all"; compared as sets, "all" only with "all". */
Test(act_pure, pin_settings)
{
	struct rvmig_act_setting a = { 0 }, b = { 0 };
	char err[256];

	snprintf(a.arg, sizeof(a.arg), "all");
	cr_assert_eq(act_check(RVMIG_ACT_PIN, &a, 2, err, sizeof(err)), 0);
	snprintf(a.arg, sizeof(a.arg), "0,1");
	snprintf(b.arg, sizeof(b.arg), "0-1");
	cr_assert_eq(act_check(RVMIG_ACT_PIN, &a, 2, err, sizeof(err)), 0);
	cr_assert(act_same(RVMIG_ACT_PIN, &a, &b));
	snprintf(b.arg, sizeof(b.arg), "all");
	cr_assert(!act_same(RVMIG_ACT_PIN, &a, &b));
	a.arg[0] = '\0';
	cr_assert_eq(act_check(RVMIG_ACT_PIN, &a, 2, err, sizeof(err)), -EINVAL);
	snprintf(a.arg, sizeof(a.arg), "alll");
	cr_assert_eq(act_check(RVMIG_ACT_PIN, &a, 2, err, sizeof(err)), -EINVAL);
}

/* What xl 4.17 prints for `xl list` (act_migrate.c's check of a migration). */
Test(act_pure, xl_list_output)
{
	const char *out = "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
			  "rvmig-pm-1                                  7   128     1     -b----       3.1\n"
			  "rvmig-pm-10                                 9   128     1     r-----       0.4\n";
	char st[16];
	long id = -1;

	cr_assert_eq(act_xen_parse_list(out, "rvmig-pm-1", &id, st, sizeof(st)), 0);
	cr_assert_eq(id, 7);
	cr_assert_str_eq(st, "-b----");
	cr_assert_eq(act_xen_parse_list(out, "rvmig-pm-10", &id, st, sizeof(st)), 0);
	cr_assert_eq(id, 9);
	cr_assert_eq(act_xen_parse_list(out, "rvmig-pm", &id, st, sizeof(st)), -ESRCH);
	cr_assert_eq(act_xen_parse_list(out, "rvmig-pm-1", &id, st, 3), -ENAMETOOLONG);
	cr_assert_eq(act_xen_parse_list("", "x", &id, st, sizeof(st)), -ESRCH);
	/* by id: the header's "ID" is no id */
	id = 9;
	cr_assert_eq(act_xen_parse_list(out, NULL, &id, st, sizeof(st)), 0);
	cr_assert_str_eq(st, "r-----");
	id = 8;
	cr_assert_eq(act_xen_parse_list(out, NULL, &id, st, sizeof(st)), -ESRCH);
}
