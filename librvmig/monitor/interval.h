/* SPDX-License-Identifier: MIT */
/*
 * interval.h - turns two consecutive raw samples into a snapshot: interval
 * math only, no I/O (internal; unit-tested with made-up samples).
 *
 * Per task (thread) over the interval between the previous and this
 * sample of its domain:
 *   run, wait  the growth of its cumulative counters;
 *   wall       the interval, or for a task born during it (not in the
 *              previous sample, started after it) the time since it started;
 *   blocked    wall - run - wait (0 when the counters ran ahead of the
 *              clock, which a task's current slice can make them do, or
 *              a wait that began in an earlier interval: the kernel adds
 *              a wait to run_delay when it ends, so a task waiting at a
 *              sample shows that wait as blocked until the next one).
 * A task not in the previous sample that started before it (moved into
 * the group) contributes nothing this time: its counters become the
 * baseline.  A task that left contributes nothing for its last interval.
 * Domain figures are the sums over its tasks; shares are each time over
 * run + blocked + wait.
 */
#ifndef RVMIG_MONITOR_INTERVAL_H
#define RVMIG_MONITOR_INTERVAL_H

#include "monitor/raw.h"
#include "monitor/snap.h"

/* A task not seen before counts as born in the interval when it started at
 * most this long before the previous sample (start times have clock-tick
 * resolution: 10 ms with USER_HZ 100). */
#define MON_START_SLACK_NS 20000000ull

/* Adds one task's interval to `t` (run, wait, blocked, slices).  `p` is the
 * task in the previous sample or NULL; prev_boot_ns / cur_boot_ns are the
 * CLOCK_BOOTTIME moments its domain was read at. */
void mon_task_interval(const struct mon_task *p, const struct mon_task *c, uint64_t prev_boot_ns,
		       uint64_t cur_boot_ns, uint64_t interval_ns, struct mon_times *t);

/* Fills the shares and executions per second of `t` from its times. */
void mon_times_finish(struct mon_times *t, uint64_t interval_ns);

/* Builds the snapshot of `cur` against `prev` (NULL for a first sample) and
 * fills cur's task_cpu_ns.  Returns 0 or -ENOMEM (nothing allocated). */
int mon_snap_build(const struct mon_raw *prev, struct mon_raw *cur, rvmig_monitor_snap **out);

#endif
