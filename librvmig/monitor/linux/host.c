/* SPDX-License-Identifier: MIT */
/* host.c - the host's CPUs (/proc/stat, cpufreq) and memory (/proc/meminfo). */
#include <errno.h>
#include <stdlib.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

static int pcpu_cmp(const void *a, const void *b)
{
	const struct mon_pcpu_raw *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int read_cpus(struct mon_backend *b, struct mon_raw *r)
{
	/* /proc/stat starts with the cpu lines; what a huge intr line pushes
	 * past the cap is cut off. */
	long n = mon_read(&b->buf, LX_STAT_MAX_BYTES, MON_READ_CUT, "/proc/stat");
	int count;

	if (n < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read /proc/stat: %s", rvmig_strerror((int)n));
		return (int)n;
	}
	count = mon_parse_proc_stat(b->buf.p, (size_t)n, b->tick_ns, NULL, 0);
	if (count > 0) {
		r->pcpu = calloc((size_t)count, sizeof(*r->pcpu));
		if (!r->pcpu)
			return -ENOMEM;
		count = mon_parse_proc_stat(b->buf.p, (size_t)n, b->tick_ns, r->pcpu, (size_t)count);
	}
	if (count <= 0) {
		LOG_ERR(b->ctx, "monitor", "/proc/stat: %s",
			count ? rvmig_strerror(count) : "no cpuN lines");
		return count ? count : -EINVAL;
	}
	r->npcpu = (size_t)count;
	qsort(r->pcpu, r->npcpu, sizeof(*r->pcpu), pcpu_cmp);
	/* Frequency where cpufreq exposes it; 0 otherwise. */
	for (size_t i = 0; i < r->npcpu; i++) {
		uint64_t khz;

		n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, 0,
			     "/sys/devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq", r->pcpu[i].id);
		if (n >= 0 && mon_parse_u64_or_max(b->buf.p, (size_t)n, &khz) == 0 && khz <= UINT32_MAX)
			r->pcpu[i].freq_khz = (uint32_t)khz;
	}
	return 0;
}

int lx_sample_host(struct mon_backend *b, struct mon_raw *r)
{
	long n;
	int rc;

	r->mono_ns = lx_clock_ns(CLOCK_MONOTONIC);
	r->real_ns = lx_clock_ns(CLOCK_REALTIME);
	if ((rc = read_cpus(b, r)) < 0)
		return rc;
	n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, 0, "/proc/meminfo");
	if (n < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read /proc/meminfo: %s", rvmig_strerror((int)n));
		return (int)n;
	}
	rc = mon_parse_meminfo(b->buf.p, (size_t)n, &r->mem_total, &r->mem_free, &r->mem_avail);
	if (rc < 0)
		LOG_ERR(b->ctx, "monitor", "cannot parse /proc/meminfo: %s", rvmig_strerror(rc));
	return rc;
}
