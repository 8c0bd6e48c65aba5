/* SPDX-License-Identifier: MIT */
/*
 * domains.h - the real "domains" the monitor overhead benchmark samples:
 * child processes, each in a cgroup of its own (cgroup v1 cpu controller or
 * cgroup v2, whichever this host mounts), each waking every few ms to do a
 * little work so that the scheduler has something to account.
 */
#ifndef RVMIG_BENCH_MONITOR_DOMAINS_H
#define RVMIG_BENCH_MONITOR_DOMAINS_H

#include <sys/types.h>

struct bench_domains {
	unsigned n;
	pid_t *pids;
	char **cgroups;     /* ncgroups directories made by this run */
	unsigned ncgroups;
	char *parent;       /* the parent cgroup this run made, or NULL */
	int version;        /* 1 or 2; 0 without cgroups */
};

/*
 * Starts n children.  With use_cgroups, makes a parent group
 * rvmig-bench-PID in the cpu hierarchy and one child group per process.
 * wake_us: each child's sleep between its bits of work.  Returns 0, or a
 * negative errno after printing what failed; -EPERM / -ENOENT when cgroups
 * cannot be made here (the caller may then skip).
 */
int bench_domains_start(struct bench_domains *d, unsigned n, int use_cgroups, unsigned wake_us);
/* Kills and reaps the children, removes the groups.  Idempotent. */
void bench_domains_stop(struct bench_domains *d);

#endif
