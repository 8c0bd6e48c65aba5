/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Linux monitor backend's /proc and cgroup parsers
 * (librvmig/monitor/linux/parse.c, parse_dev.c).  The first byte picks the
 * parser, the rest is the file text, exactly as long as the input (so ASan
 * sees any read past it).  Invariants: counting and filling passes agree,
 * what is filled is terminated and within bounds, an error names a line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/linux/parse.h"
#include "monitor/linux/parse_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lists(const char *s, size_t n)
{
	uint64_t ids[16];
	struct mon_pcpu_raw cpus[8];
	struct mon_cg_mount *m;
	long count = mon_parse_ids(s, n, NULL, 0);

	if (count >= 0 && mon_parse_ids(s, n, ids, 16) != count)
		abort();
	count = mon_parse_proc_stat(s, n, 10000000, NULL, 0);
	if (count >= 0 && mon_parse_proc_stat(s, n, 10000000, cpus, 8) != count)
		abort();
	count = mon_parse_mountinfo(s, n, NULL, 0);
	if (count < 0)
		return;
	m = calloc(4, sizeof(*m));
	if (!m)
		return;
	if (mon_parse_mountinfo(s, n, m, 4) != count)
		abort();
	for (long i = 0; i < count && i < 4; i++)
		if (strnlen(m[i].dir, sizeof(m[i].dir)) >= sizeof(m[i].dir) ||
		    (m[i].version != 1 && m[i].version != 2) || (m[i].version == 2 && m[i].ctrl))
			abort();
	free(m);
}

/* The device parsers (selector 8: /proc/PID/net/dev, 9: io.stat, 10:
 * both blkio files into one list). */
static void check_devices(int which, const char *s, size_t n)
{
	struct rvmig_monitor_net nets[4];
	struct rvmig_monitor_disk disks[4];
	struct mon_devlist l = { .max = 4 };
	int rc;

	if (which == 8)
		rc = mon_parse_net_dev(s, n, nets, &l);
	else if (which == 9)
		rc = mon_parse_io_stat(s, n, disks, &l);
	else if ((rc = mon_parse_blkio(s, n, 0, disks, &l)) == 0)
		rc = mon_parse_blkio(s, n, 1, disks, &l);
	if (rc < 0 && l.bad_line == 0)
		abort();
	if (l.n > l.max)
		abort();
	for (size_t i = 0; i < l.n; i++) {
		const char *name = which == 8 ? nets[i].name : disks[i].name;

		if (strnlen(name, MON_DEV_NAME_MAX) >= MON_DEV_NAME_MAX ||
		    (which == 8 && (!name[0] || !strcmp(name, "lo"))))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct mon_task t = { 0 };
	uint64_t a, b, c;
	char state;

	if (size == 0)
		return 0;
	switch (data[0] % 11) {
	case 0:
		mon_parse_schedstat(s, n, &t);
		break;
	case 1:
		if (mon_parse_pid_stat(s, n, &state, &a) == 0 && (state == ' ' || state == '\n'))
			abort();
		break;
	case 2:
		mon_parse_statm_rss(s, n, 4096, &a);
		break;
	case 3:
		mon_parse_meminfo(s, n, &a, &b, &c);
		break;
	case 4:
		mon_parse_key_u64(s, n, "usage_usec", &a);
		mon_parse_key_u64(s, n, "throttled_time", &a);
		break;
	case 5:
		mon_parse_pressure(s, n, "some", &a);
		break;
	case 6:
		mon_parse_u64_or_max(s, n, &a);
		break;
	case 7:
		check_lists(s, n);
		break;
	default:
		check_devices(data[0] % 11, s, n);
		break;
	}
	return 0;
}
