/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Linux monitor backend's /proc and cgroup parsers
 * (librvmig/monitor/linux/parse.c).  The first byte picks the parser, the
 * rest is the file text, exactly as long as the input (so ASan sees any
 * read past it).  Invariants: counting and filling passes agree, what is
 * filled is terminated and within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/linux/parse.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct mon_task t = { 0 };
	uint64_t a, b, c;
	char state;

	if (size == 0)
		return 0;
	switch (data[0] % 8) {
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
	default:
		check_lists(s, n);
		break;
	}
	return 0;
}
