/* SPDX-License-Identifier: MIT */
/*
 * The Linux monitor backend's parsers (librvmig/monitor/linux/parse.c) on
 * canned /proc and cgroup text: what real kernels write, and what they must
 * refuse without reading past the text (each input is given without a
 * terminating NUL where that matters).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "monitor/linux/parse.h"

#define S(lit) lit, sizeof(lit) - 1

/* A heap copy without a NUL, so ASan catches any read past len. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	memcpy(p, s, len);
	return p;
}

Test(monitor_parse, schedstat)
{
	struct mon_task t = { .tid = 7 };
	char *p = exact(S("777314110 1850356931 480\n"));

	cr_assert_eq(mon_parse_schedstat(p, 25, &t), 0);
	cr_assert_eq(t.run_ns, 777314110ull);
	cr_assert_eq(t.wait_ns, 1850356931ull);
	cr_assert_eq(t.slices, 480);
	cr_assert_eq(t.tid, 7, "tid untouched");
	free(p);
	/* no newline, extra fields of a later kernel */
	cr_assert_eq(mon_parse_schedstat(S("1 2 3"), &t), 0);
	cr_assert_eq(mon_parse_schedstat(S("1 2 3 4 5\n"), &t), 0);
	cr_assert_eq(t.slices, 3);
}

Test(monitor_parse, schedstat_refuses_malformed)
{
	struct mon_task t;

	cr_assert_eq(mon_parse_schedstat(S(""), &t), -EINVAL);
	cr_assert_eq(mon_parse_schedstat(S("1 2\n"), &t), -EINVAL);
	cr_assert_eq(mon_parse_schedstat(S("1 2x 3\n"), &t), -EINVAL);
	cr_assert_eq(mon_parse_schedstat(S("-1 2 3\n"), &t), -EINVAL);
	cr_assert_eq(mon_parse_schedstat(S("18446744073709551615 0 0\n"), &t), 0);
	cr_assert_eq(t.run_ns, UINT64_MAX);
	cr_assert_eq(mon_parse_schedstat(S("18446744073709551616 0 0\n"), &t), -ERANGE);
	cr_assert_eq(mon_parse_schedstat(S("99999999999999999999999 0 0\n"), &t), -ERANGE);
}

Test(monitor_parse, pid_stat_counts_fields_from_the_last_parenthesis)
{
	/* A comm with spaces and parentheses (comm is at most 15 bytes in
	 * reality; the parser does not rely on it). */
	static const char text[] =
		"4242 (a) b (c) d) S 1 4242 4242 0 -1 4194560 96 0 0 0 3 1 0 0 20 0 1 0 "
		"123456 2506752 135 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	char *p = exact(text, sizeof(text) - 1);
	uint64_t start = 0;
	char state = 0;

	cr_assert_eq(mon_parse_pid_stat(p, sizeof(text) - 1, &state, &start), 0);
	cr_assert_eq(state, 'S');
	cr_assert_eq(start, 123456);
	free(p);
	cr_assert_eq(mon_parse_pid_stat(S("1 (x) Z 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99"), &state,
					 &start), 0, "the last field may end the text");
	cr_assert_eq(state, 'Z');
	cr_assert_eq(start, 99);
}

Test(monitor_parse, pid_stat_refuses_malformed)
{
	uint64_t start;
	char state;

	cr_assert_eq(mon_parse_pid_stat(S(""), &state, &start), -EINVAL);
	cr_assert_eq(mon_parse_pid_stat(S("1 (x S 1 2"), &state, &start), -EINVAL, "no ')'");
	cr_assert_eq(mon_parse_pid_stat(S("1 (x) S 1 2 3\n"), &state, &start), -EINVAL, "too few");
	cr_assert_eq(mon_parse_pid_stat(S("1 (x) SS 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99"), &state,
					 &start), -EINVAL, "state is one letter");
	cr_assert_eq(mon_parse_pid_stat(S("1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5"), &state,
					 &start), -EINVAL, "negative start time");
	/* found by fuzz_monitor: a newline right after ')' posed as the state */
	cr_assert_eq(mon_parse_pid_stat(S("1 (x)\n 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 7"), &state,
					 &start), -EINVAL, "state is a letter");
}

Test(monitor_parse, statm_rss)
{
	static const char text[] = "2139 444 387 5 0 112 0\n";
	char *p = exact(text, sizeof(text) - 1);
	uint64_t rss = 1;

	cr_assert_eq(mon_parse_statm_rss(p, sizeof(text) - 1, 4096, &rss), 0);
	cr_assert_eq(rss, 444ull * 4096);
	free(p);
	cr_assert_eq(mon_parse_statm_rss(S("0 0 0 0 0 0 0\n"), 4096, &rss), 0);
	cr_assert_eq(rss, 0, "a kernel thread has no pages");
	cr_assert_eq(mon_parse_statm_rss(S("12"), 4096, &rss), -EINVAL, "one field");
	cr_assert_eq(mon_parse_statm_rss(S(""), 4096, &rss), -EINVAL);
	cr_assert_eq(mon_parse_statm_rss(S("10 x 3"), 4096, &rss), -EINVAL);
	cr_assert_eq(mon_parse_statm_rss(S("10 20 3"), 4096, &rss), -EINVAL, "resident > size");
	cr_assert_eq(mon_parse_statm_rss(S("18014398509481984 18014398509481984 0"), 4096, &rss),
		     -ERANGE);
	cr_assert_eq(mon_parse_statm_rss(S("99999999999999999999 1 0"), 4096, &rss), -ERANGE);
}

Test(monitor_parse, meminfo)
{
	static const char text[] = "MemTotal:       24683736 kB\nMemFree:        22207676 kB\n"
				   "MemAvailable:   23281424 kB\nBuffers:            7764 kB\n";
	uint64_t total, mfree, avail;

	cr_assert_eq(mon_parse_meminfo(S(text), &total, &mfree, &avail), 0);
	cr_assert_eq(total, 24683736ull * 1024);
	cr_assert_eq(mfree, 22207676ull * 1024);
	cr_assert_eq(avail, 23281424ull * 1024);
	cr_assert_eq(mon_parse_meminfo(S("MemTotal: 10 kB\nMemFree: 4 kB\n"), &total, &mfree, &avail), 0);
	cr_assert_eq(avail, 4096, "without MemAvailable: MemFree");
	cr_assert_eq(mon_parse_meminfo(S("MemTotal: 10 kB\n"), &total, &mfree, &avail), -EINVAL);
	cr_assert_eq(mon_parse_meminfo(S("MemTotal: x kB\nMemFree: 4 kB\n"), &total, &mfree, &avail),
		     -EINVAL);
	/* "MemTotalX:" is another key, not MemTotal */
	cr_assert_eq(mon_parse_meminfo(S("MemTotalX: 1 kB\nMemFree: 4 kB\n"), &total, &mfree, &avail),
		     -EINVAL);
}

Test(monitor_parse, proc_stat_cpu_lines)
{
	static const char text[] = "cpu  209020 2564 107902 101162 1273 0 1516 0 0 0\n"
				   "cpu0 104648 1215 52073 52930 241 0 700 0 0 0\n"
				   "cpu3 104371 1348 55828 48232 1032 0 816 7 0 0\n"
				   "intr 1826033 0 0 0\nctxt 4064335\ncpufoo 1 2 3 4\n";
	struct mon_pcpu_raw c[4];
	char *p = exact(text, sizeof(text) - 1);

	cr_assert_eq(mon_parse_proc_stat(p, sizeof(text) - 1, 10000000, NULL, 0), 2);
	cr_assert_eq(mon_parse_proc_stat(p, sizeof(text) - 1, 10000000, c, 4), 2);
	cr_assert_eq(c[0].id, 0);
	cr_assert_eq(c[0].idle_ns, (52930ull + 241) * 10000000);
	cr_assert_eq(c[0].total_ns, (104648ull + 1215 + 52073 + 52930 + 241 + 0 + 700 + 0) * 10000000);
	cr_assert_eq(c[1].id, 3, "offline CPUs leave gaps");
	cr_assert_eq(c[1].total_ns, (104371ull + 1348 + 55828 + 48232 + 1032 + 816 + 7) * 10000000,
		     "steal counts, guest (already in user) does not");
	cr_assert_eq(mon_parse_proc_stat(p, sizeof(text) - 1, 10000000, c, 1), 2, "count beyond max");
	free(p);
	/* An old kernel's four fields */
	cr_assert_eq(mon_parse_proc_stat(S("cpu0 1 2 3 4\n"), 1, c, 1), 1);
	cr_assert_eq(c[0].idle_ns, 4);
	cr_assert_eq(c[0].total_ns, 10);
}

Test(monitor_parse, proc_stat_refuses_malformed)
{
	struct mon_pcpu_raw c[1];

	cr_assert_eq(mon_parse_proc_stat(S("cpu0 1 2 3\n"), 1, c, 1), -EINVAL, "fewer than four");
	cr_assert_eq(mon_parse_proc_stat(S("cpu0 1 2 x 4\n"), 1, c, 1), -EINVAL);
	cr_assert_eq(mon_parse_proc_stat(S("cpu4294967296 1 2 3 4\n"), 1, c, 1), -ERANGE);
	cr_assert_eq(mon_parse_proc_stat(S("cpu0 18446744073709551615 1 0 0\n"), 1, c, 1), -ERANGE);
	cr_assert_eq(mon_parse_proc_stat(S("cpu0 1844674407370955162 0 0 0\n"), 10, c, 1), -ERANGE,
		     "ticks x tick_ns overflow");
	cr_assert_eq(mon_parse_proc_stat(S("cpu0 1844674407370955162 0 0 0\n"), 10, NULL, 0), -ERANGE,
		     "the counting pass checks it too (found by fuzz_monitor)");
	cr_assert_eq(mon_parse_proc_stat(S(""), 1, c, 1), 0);
}

Test(monitor_parse, cgroup_cpu_stat_keys)
{
	static const char v1[] = "nr_periods 26\nnr_throttled 22\nthrottled_time 875817176\n"
				 "nr_bursts 0\nburst_time 0\n";
	static const char v2[] = "usage_usec 3209684000\nuser_usec 2115648000\nsystem_usec 1094036000\n"
				 "nice_usec 25644000";
	uint64_t v = 0;

	cr_assert_eq(mon_parse_key_u64(S(v1), "throttled_time", &v), 0);
	cr_assert_eq(v, 875817176);
	cr_assert_eq(mon_parse_key_u64(S(v1), "nr_throttled", &v), 0);
	cr_assert_eq(v, 22);
	cr_assert_eq(mon_parse_key_u64(S(v2), "usage_usec", &v), 0);
	cr_assert_eq(v, 3209684000ull);
	cr_assert_eq(mon_parse_key_u64(S(v2), "nice_usec", &v), 0, "last line without newline");
	cr_assert_eq(v, 25644000);
	cr_assert_eq(mon_parse_key_u64(S(v2), "throttled_usec", &v), -ENOENT);
	cr_assert_eq(mon_parse_key_u64(S(v2), "usage", &v), -ENOENT, "whole keys only");
	cr_assert_eq(mon_parse_key_u64(S("usage_usec\n"), "usage_usec", &v), -EINVAL);
}

Test(monitor_parse, pressure)
{
	static const char text[] = "some avg10=38.25 avg60=21.30 avg300=20.95 total=905385932\n"
				   "full avg10=0.00 avg60=0.00 avg300=0.00 total=17\n";
	uint64_t t = 0;

	cr_assert_eq(mon_parse_pressure(S(text), "some", &t), 0);
	cr_assert_eq(t, 905385932);
	cr_assert_eq(mon_parse_pressure(S(text), "full", &t), 0);
	cr_assert_eq(t, 17);
	cr_assert_eq(mon_parse_pressure(S("full avg10=0.00 total=3\n"), "some", &t), -ENOENT);
	cr_assert_eq(mon_parse_pressure(S("some avg10=0.00\n"), "some", &t), -EINVAL);
	cr_assert_eq(mon_parse_pressure(S("some total=\n"), "some", &t), -EINVAL);
	cr_assert_eq(mon_parse_pressure(S("some total=12x\n"), "some", &t), -EINVAL);
}

Test(monitor_parse, single_values_and_max)
{
	uint64_t v = 0;

	cr_assert_eq(mon_parse_u64_or_max(S("12345\n"), &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(mon_parse_u64_or_max(S("max\n"), &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(mon_parse_u64_or_max(S("9223372036854771712\n"), &v), 0);
	cr_assert_eq(mon_parse_u64_or_max(S("maxi\n"), &v), -EINVAL);
	cr_assert_eq(mon_parse_u64_or_max(S("12 13\n"), &v), -EINVAL);
	cr_assert_eq(mon_parse_u64_or_max(S(""), &v), -EINVAL);
	cr_assert_eq(mon_parse_u64_or_max(S("ma"), &v), -EINVAL);
}

Test(monitor_parse, id_lists)
{
	uint64_t ids[3];

	cr_assert_eq(mon_parse_ids(S("7328\n7330\n12\n"), NULL, 0), 3);
	cr_assert_eq(mon_parse_ids(S("7328\n7330\n12\n"), ids, 2), 3, "the count, even past max");
	cr_assert_eq(ids[0], 7328);
	cr_assert_eq(ids[1], 7330);
	cr_assert_eq(mon_parse_ids(S(""), ids, 3), 0, "an empty group");
	cr_assert_eq(mon_parse_ids(S("5"), ids, 3), 1);
	cr_assert_eq(mon_parse_ids(S("5\n\n6\n"), ids, 3), 2, "blank lines skipped");
	cr_assert_eq(mon_parse_ids(S("5 6\n"), ids, 3), -EINVAL);
	cr_assert_eq(mon_parse_ids(S("5\nx\n"), ids, 3), -EINVAL);
}

/* This build machine's mounts (cgroup v1 hybrid) plus escapes and a v2. */
static const char mountinfo[] =
	"22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	"30 22 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu\n"
	"32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"34 30 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	"36 30 0:32 / /mnt/cg\\040v1 rw master:1 shared:2 - cgroup none rw,cpu,cpuacct,memory\n"
	"37 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
	"garbage\n";

Test(monitor_parse, mountinfo_cgroup_mounts)
{
	struct mon_cg_mount *m = calloc(8, sizeof(*m));
	char *p = exact(mountinfo, sizeof(mountinfo) - 1);

	cr_assert_not_null(m);
	cr_assert_eq(mon_parse_mountinfo(p, sizeof(mountinfo) - 1, NULL, 0), 6);
	cr_assert_eq(mon_parse_mountinfo(p, sizeof(mountinfo) - 1, m, 8), 6);
	cr_assert_str_eq(m[0].dir, "/sys/fs/cgroup/cpu");
	cr_assert_eq(m[0].version, 1);
	cr_assert_eq(m[0].ctrl, MON_CG_CPU);
	cr_assert_eq(m[1].ctrl, MON_CG_CPUACCT);
	cr_assert_eq(m[2].ctrl, MON_CG_MEMORY);
	cr_assert_eq(m[3].ctrl, 0, "name=systemd carries no controller");
	cr_assert_str_eq(m[4].dir, "/sys/fs/cgroup/unified");
	cr_assert_eq(m[4].version, 2);
	cr_assert_str_eq(m[5].dir, "/mnt/cg v1", "octal escape undone");
	cr_assert_eq(m[5].ctrl, MON_CG_CPU | MON_CG_CPUACCT | MON_CG_MEMORY);
	cr_assert_eq(mon_parse_mountinfo(p, sizeof(mountinfo) - 1, m, 2), 6, "count past max");
	free(p);
	free(m);
}

Test(monitor_parse, mountinfo_too_long_or_cut)
{
	size_t n = MON_CG_PATH_MAX + 100;
	char *line = malloc(n + 64);
	struct mon_cg_mount *m = calloc(1, sizeof(*m));
	size_t len;

	cr_assert(line && m);
	len = (size_t)sprintf(line, "1 1 0:1 / /");
	memset(line + len, 'a', MON_CG_PATH_MAX);
	len += MON_CG_PATH_MAX;
	len += (size_t)sprintf(line + len, " rw - cgroup2 cgroup2 rw\n");
	cr_assert_eq(mon_parse_mountinfo(line, len, m, 1), 0, "a mount point too long is left out");
	/* Cut anywhere: never more than the whole, never a crash. */
	for (size_t cut = 0; cut < sizeof(mountinfo) - 1; cut++) {
		char *p = exact(mountinfo, cut);

		cr_assert_leq(mon_parse_mountinfo(p, cut, NULL, 0), 6);
		free(p);
	}
	free(line);
	free(m);
}
