/* SPDX-License-Identifier: MIT */
/* stats.c - counters snapshot with accessors, and CPU time accounting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "proto/ep.h"

struct rvmig_stats {
	uint64_t v[RVMIG_STAT__COUNT];
};

static const char *const stat_names[RVMIG_STAT__COUNT] = {
	[RVMIG_STAT_BYTES_SENT] = "bytes_sent",
	[RVMIG_STAT_BYTES_RECV] = "bytes_recv",
	[RVMIG_STAT_OPS_WRITE] = "ops_write",
	[RVMIG_STAT_OPS_READ] = "ops_read",
	[RVMIG_STAT_BYTES_WRITTEN] = "bytes_written",
	[RVMIG_STAT_BYTES_READ] = "bytes_read",
	[RVMIG_STAT_MSGS_SENT] = "msgs_sent",
	[RVMIG_STAT_MSGS_RECV] = "msgs_recv",
	[RVMIG_STAT_REG_COUNT] = "reg_count",
	[RVMIG_STAT_REG_BYTES] = "reg_bytes",
	[RVMIG_STAT_REG_NSEC] = "reg_nsec",
	[RVMIG_STAT_DEREG_COUNT] = "dereg_count",
	[RVMIG_STAT_USER_COPY_BYTES] = "user_copy_bytes",
	[RVMIG_STAT_ERRORS] = "errors",
	[RVMIG_STAT_CPU_USER_NSEC] = "cpu_user_nsec",
	[RVMIG_STAT_CPU_SYS_NSEC] = "cpu_sys_nsec",
	[RVMIG_STAT_REQUESTS_DONE] = "requests_done",
	[RVMIG_STAT_CREDIT_STALLS] = "credit_stalls",
};

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

void stats_cpu_enter(struct cpu_mark *m)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	m->user = tv_ns(&ru.ru_utime);
	m->sys = tv_ns(&ru.ru_stime);
}

void stats_cpu_leave(struct rvmig_ep *ep, const struct cpu_mark *m)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	ep->stats[RVMIG_STAT_CPU_USER_NSEC] += tv_ns(&ru.ru_utime) - m->user;
	ep->stats[RVMIG_STAT_CPU_SYS_NSEC] += tv_ns(&ru.ru_stime) - m->sys;
}

RVMIG_API int rvmig_stats_snapshot(rvmig_ep *ep, rvmig_stats **out)
{
	struct rvmig_stats *s;

	if (!ep || !out)
		return -EINVAL;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s->v, ep->stats, sizeof(s->v));
	if (ep->tep && ep->tp->copied_bytes)
		s->v[RVMIG_STAT_USER_COPY_BYTES] += ep->tp->copied_bytes(ep->tep);
	*out = s;
	return 0;
}

RVMIG_API void rvmig_stats_free(rvmig_stats *s)
{
	free(s);
}

RVMIG_API uint64_t rvmig_stats_get(const rvmig_stats *s, enum rvmig_stat which)
{
	if (!s || (unsigned)which >= RVMIG_STAT__COUNT)
		return 0;
	return s->v[which];
}

RVMIG_API const char *rvmig_stat_name(enum rvmig_stat which)
{
	if ((unsigned)which >= RVMIG_STAT__COUNT)
		return NULL;
	return stat_names[which];
}
