/* SPDX-License-Identifier: MIT */
/*
 * The monitor core's interval math (librvmig/monitor/interval.c) on
 * made-up raw samples: run / blocked / wait per task and per domain, shares,
 * executions per second, tasks born, moved in and gone, group counters,
 * pCPU idle shares, and the snapshot accessors.  No I/O.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "monitor/interval.h"

#define MS 1000000ull
#define S_ 1000000000ull

static void near(double got, double want, const char *what)
{
	cr_assert(fabs(got - want) < 1e-9, "%s: %.12f, want %.12f", what, got, want);
}

Test(monitor_interval, task_seen_twice)
{
	struct mon_task p = { .tid = 1, .run_ns = 100 * MS, .wait_ns = 50 * MS, .slices = 10 };
	struct mon_task c = { .tid = 1, .run_ns = 400 * MS, .wait_ns = 250 * MS, .slices = 110 };
	struct mon_times t = { 0 };

	mon_task_interval(&p, &c, 10 * S_, 11 * S_, 1 * S_, &t);
	mon_times_finish(&t, 1 * S_);
	cr_assert_eq(t.run_ns, 300 * MS);
	cr_assert_eq(t.wait_ns, 200 * MS);
	cr_assert_eq(t.blocked_ns, 500 * MS);
	near(t.run_share, 0.3, "run");
	near(t.wait_share, 0.2, "wait");
	near(t.blocked_share, 0.5, "blocked");
	near(t.execs_per_s, 100, "execs");
}

Test(monitor_interval, counters_ahead_of_the_clock_give_no_negative_blocked)
{
	/* A task's current slice can show up in its counters late: run + wait
	 * may exceed the wall interval.  Blocked is then 0 and the shares still
	 * add up to 1. */
	struct mon_task p = { .tid = 1 };
	struct mon_task c = { .tid = 1, .run_ns = 700 * MS, .wait_ns = 400 * MS, .slices = 1 };
	struct mon_times t = { 0 };

	mon_task_interval(&p, &c, 0, S_, S_, &t);
	mon_times_finish(&t, S_);
	cr_assert_eq(t.blocked_ns, 0);
	near(t.run_share + t.wait_share + t.blocked_share, 1.0, "sum");
	near(t.run_share, 700.0 / 1100, "run");
}

Test(monitor_interval, counters_going_backwards_count_as_zero)
{
	struct mon_task p = { .tid = 1, .run_ns = 500, .wait_ns = 500, .slices = 5 };
	struct mon_task c = { .tid = 1, .run_ns = 100, .wait_ns = 100, .slices = 1 };
	struct mon_times t = { 0 };

	mon_task_interval(&p, &c, 0, S_, S_, &t);
	cr_assert_eq(t.run_ns, 0);
	cr_assert_eq(t.wait_ns, 0);
	cr_assert_eq(t.slices, 0);
	cr_assert_eq(t.blocked_ns, S_);
}

Test(monitor_interval, task_born_in_the_interval)
{
	/* Previous sample at boot time 10 s, this one at 11 s; the task started
	 * at 10.6 s and ran 100 ms: 300 ms blocked, not 900. */
	struct mon_task c = { .tid = 9, .run_ns = 100 * MS, .slices = 3, .start_ns = 10600 * MS };
	struct mon_times t = { 0 };

	mon_task_interval(NULL, &c, 10 * S_, 11 * S_, S_, &t);
	cr_assert_eq(t.run_ns, 100 * MS);
	cr_assert_eq(t.blocked_ns, 300 * MS);
	cr_assert_eq(t.slices, 3);
}

Test(monitor_interval, task_started_just_before_the_previous_sample_within_slack)
{
	/* Start times have tick resolution: 10 ms before the previous sample
	 * still counts as born in the interval (wall clamped to the interval). */
	struct mon_task c = { .tid = 9, .run_ns = 5 * MS, .start_ns = 10 * S_ - 10 * MS };
	struct mon_times t = { 0 };

	mon_task_interval(NULL, &c, 10 * S_, 11 * S_, S_, &t);
	cr_assert_eq(t.run_ns, 5 * MS);
	cr_assert_eq(t.blocked_ns, S_ - 5 * MS);
}

Test(monitor_interval, task_moved_in_is_a_baseline)
{
	/* Not in the previous sample but started long before it (moved into
	 * the cgroup), or start unknown: its history is not this interval's. */
	struct mon_task old = { .tid = 9, .run_ns = 50 * S_, .start_ns = 1 * S_ };
	struct mon_task unknown = { .tid = 10, .run_ns = 50 * S_ };
	struct mon_times t = { 0 };

	mon_task_interval(NULL, &old, 10 * S_, 11 * S_, S_, &t);
	mon_task_interval(NULL, &unknown, 10 * S_, 11 * S_, S_, &t);
	cr_assert_eq(t.run_ns + t.wait_ns + t.blocked_ns + t.slices, 0);
}

Test(monitor_interval, finish_with_nothing_is_all_zero)
{
	struct mon_times t = { 0 };

	mon_times_finish(&t, 0);
	cr_assert_eq(t.run_share, 0);
	cr_assert_eq(t.blocked_share, 0);
	cr_assert_eq(t.wait_share, 0);
	cr_assert_eq(t.execs_per_s, 0);
}

/* ---- whole snapshots ---- */

static struct mon_dom_raw *dom(struct mon_raw *r, uint64_t key, const char *name, uint64_t t_ns,
			       size_t ntasks)
{
	struct mon_dom_raw *d = mon_raw_add_dom(r);

	cr_assert_not_null(d);
	d->key = key;
	d->id = 1000 + key;
	d->name = strdup(name);
	d->mono_ns = t_ns;
	d->boot_ns = t_ns + 5 * S_; /* boot time runs ahead of monotonic */
	d->mem_max = UINT64_MAX;
	d->ntasks = ntasks;
	d->tasks = ntasks ? calloc(ntasks, sizeof(*d->tasks)) : NULL;
	return d;
}

static void host(struct mon_raw *r, uint64_t t_ns, uint64_t idle0, uint64_t total0)
{
	r->mono_ns = t_ns;
	r->real_ns = 1700000000ull * S_ + t_ns;
	r->mem_total = 8ull << 30;
	r->mem_free = 3ull << 30;
	r->mem_avail = 5ull << 30;
	r->npcpu = 2;
	r->pcpu = calloc(2, sizeof(*r->pcpu));
	r->pcpu[0] = (struct mon_pcpu_raw){ .id = 0, .idle_ns = idle0, .total_ns = total0, .freq_khz = 2400000 };
	r->pcpu[1] = (struct mon_pcpu_raw){ .id = 1, .idle_ns = total0, .total_ns = total0 };
}

Test(monitor_interval, first_sample_has_counters_and_no_interval)
{
	struct mon_raw cur = { 0 };
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	struct mon_dom_raw *r;

	host(&cur, 100 * S_, 10 * S_, 40 * S_);
	r = dom(&cur, 0, "web", 100 * S_, 2);
	r->tasks[0] = (struct mon_task){ .tid = 5, .run_ns = 3 * S_ };
	r->tasks[1] = (struct mon_task){ .tid = 6, .run_ns = 1 * S_ };
	cr_assert_eq(mon_snap_build(NULL, &cur, &s), 0);
	cr_assert_eq(rvmig_monitor_snap_interval_ns(s), 0);
	cr_assert_eq(rvmig_monitor_snap_time_ns(s), cur.real_ns);
	cr_assert_eq(rvmig_monitor_snap_ndomains(s), 1);
	d = rvmig_monitor_domain(s, 0);
	cr_assert_str_eq(rvmig_monitor_domain_name(d), "web");
	cr_assert_eq(rvmig_monitor_domain_id(d), 1000);
	cr_assert_eq(rvmig_monitor_domain_flags(d), RVMIG_MONITOR_DOM_NEW);
	cr_assert_eq(rvmig_monitor_domain_cpu_ns(d), 4 * S_, "cumulative from the tasks");
	cr_assert_eq(rvmig_monitor_domain_cpu_pct(d), 0);
	cr_assert_eq(rvmig_monitor_domain_run_ns(d), 0);
	cr_assert_eq(rvmig_monitor_domain_run_share(d), 0);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(d), 2);
	cr_assert_eq(rvmig_monitor_vcpu_id(rvmig_monitor_domain_vcpu(d, 1)), 6);
	cr_assert_eq(rvmig_monitor_vcpu_cpu_ns(rvmig_monitor_domain_vcpu(d, 0)), 3 * S_);
	cr_assert_eq(rvmig_monitor_host_ncpus(s), 2);
	cr_assert_eq(rvmig_monitor_host_mem_total(s), 8ull << 30);
	cr_assert_eq(rvmig_monitor_host_mem_free(s), 3ull << 30);
	cr_assert_eq(rvmig_monitor_host_mem_avail(s), 5ull << 30);
	cr_assert_eq(rvmig_monitor_host_cpu_freq_khz(s, 0), 2400000);
	cr_assert_eq(rvmig_monitor_host_cpu_idle_share(s, 0), 0, "no interval yet");
	rvmig_monitor_snap_free(s);
	mon_raw_free(&cur);
}

Test(monitor_interval, two_samples_of_a_process_with_threads_coming_and_going)
{
	struct mon_raw prev = { 0 }, cur = { 0 };
	rvmig_monitor_snap *s0, *s;
	const rvmig_monitor_dom *d;
	const rvmig_monitor_vcpu *v;
	struct mon_dom_raw *r;

	/* t = 100 s: threads 5 (busy) and 6 (leaves before the next sample). */
	host(&prev, 100 * S_, 10 * S_, 40 * S_);
	r = dom(&prev, 0, "app", 100 * S_, 2);
	r->tasks[0] = (struct mon_task){ .tid = 5, .run_ns = 3 * S_, .wait_ns = S_, .slices = 100 };
	r->tasks[1] = (struct mon_task){ .tid = 6, .run_ns = 1 * S_, .wait_ns = 0, .slices = 10 };
	cr_assert_eq(mon_snap_build(NULL, &prev, &s0), 0);
	rvmig_monitor_snap_free(s0);

	/* t = 102 s: thread 5 ran 1.5 s and waited 0.3 s; thread 7 was born
	 * 0.5 s ago and ran 0.1 s. */
	host(&cur, 102 * S_, 11 * S_, 44 * S_);
	r = dom(&cur, 0, "app", 102 * S_, 2);
	r->tasks[0] = (struct mon_task){ .tid = 5, .run_ns = 4500 * MS, .wait_ns = 1300 * MS, .slices = 300 };
	r->tasks[1] = (struct mon_task){ .tid = 7, .run_ns = 100 * MS, .slices = 20,
					 .start_ns = 102 * S_ + 5 * S_ - 500 * MS };
	cr_assert_eq(mon_snap_build(&prev, &cur, &s), 0);
	cr_assert_eq(rvmig_monitor_snap_interval_ns(s), 2 * S_);
	d = rvmig_monitor_domain(s, 0);
	cr_assert_eq(rvmig_monitor_domain_flags(d), 0);
	cr_assert_eq(rvmig_monitor_domain_run_ns(d), 1600 * MS);
	cr_assert_eq(rvmig_monitor_domain_wait_ns(d), 300 * MS);
	cr_assert_eq(rvmig_monitor_domain_blocked_ns(d), (2000 - 1500 - 300 + 500 - 100) * MS);
	near(rvmig_monitor_domain_run_share(d), 1600.0 / 2500, "run share");
	near(rvmig_monitor_domain_wait_share(d), 300.0 / 2500, "wait share");
	near(rvmig_monitor_domain_blocked_share(d), 600.0 / 2500, "blocked share");
	near(rvmig_monitor_domain_execs_per_s(d), (200 + 20) / 2.0, "execs/s");
	near(rvmig_monitor_domain_cpu_pct(d), 80.0, "cpu %");
	cr_assert_eq(rvmig_monitor_domain_cpu_ns(d), 4 * S_ + 1600 * MS,
		     "counted on from the first sample; thread 6's last interval is lost");
	v = rvmig_monitor_domain_vcpu(d, 0);
	cr_assert_eq(rvmig_monitor_vcpu_run_ns(v), 1500 * MS);
	cr_assert_eq(rvmig_monitor_vcpu_wait_ns(v), 300 * MS);
	cr_assert_eq(rvmig_monitor_vcpu_blocked_ns(v), 200 * MS);
	near(rvmig_monitor_vcpu_run_share(v), 0.75, "vcpu run");
	near(rvmig_monitor_vcpu_wait_share(v), 0.15, "vcpu wait");
	near(rvmig_monitor_vcpu_blocked_share(v), 0.10, "vcpu blocked");
	near(rvmig_monitor_vcpu_execs_per_s(v), 100, "vcpu execs");
	cr_assert_eq(rvmig_monitor_vcpu_id(rvmig_monitor_domain_vcpu(d, 1)), 7);
	cr_assert_null(rvmig_monitor_domain_vcpu(d, 2));
	/* pCPU 0: 1 s idle of 4 s; pCPU 1 fully idle */
	near(rvmig_monitor_host_cpu_idle_share(s, 0), 0.25, "pcpu0 idle");
	near(rvmig_monitor_host_cpu_idle_share(s, 1), 1.0, "pcpu1 idle");
	cr_assert_eq(rvmig_monitor_host_cpu_idle_ns(s, 0), 11 * S_);
	rvmig_monitor_snap_free(s);
	mon_raw_free(&prev);
	mon_raw_free(&cur);
}

Test(monitor_interval, group_counters_throttle_pressure_and_gone)
{
	struct mon_raw r0 = { 0 }, r1 = { 0 }, r2 = { 0 };
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	struct mon_dom_raw *r;

	host(&r0, 10 * S_, 0, 0);
	r = dom(&r0, 3, "grp", 10 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 40, .run_ns = S_ };
	r->group_cpu_ns = 7 * S_;
	r->throttled_ns = 2 * S_;
	r->pressure_ns = 1 * S_;
	r->flags = RVMIG_MONITOR_DOM_THROTTLE | RVMIG_MONITOR_DOM_PRESSURE;
	cr_assert_eq(mon_snap_build(NULL, &r0, &s), 0);
	rvmig_monitor_snap_free(s);

	/* 1 s later: the group's counter says 0.3 s (a task that exited in
	 * the interval included); the live task ran 0.25 s. */
	host(&r1, 11 * S_, 0, 0);
	r = dom(&r1, 3, "grp", 11 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 40, .run_ns = S_ + 250 * MS, .wait_ns = 700 * MS };
	r->group_cpu_ns = 7 * S_ + 300 * MS;
	r->throttled_ns = 2 * S_ + 650 * MS;
	r->pressure_ns = 1 * S_ + 600 * MS;
	r->flags = RVMIG_MONITOR_DOM_THROTTLE | RVMIG_MONITOR_DOM_PRESSURE;
	r->mem_cur = 1 << 20;
	r->mem_max = 64 << 20;
	cr_assert_eq(mon_snap_build(&r0, &r1, &s), 0);
	d = rvmig_monitor_domain(s, 0);
	cr_assert_eq(rvmig_monitor_domain_cpu_ns(d), 7 * S_ + 300 * MS, "the group's own counter");
	near(rvmig_monitor_domain_cpu_pct(d), 30.0, "cpu % from the group counter");
	cr_assert_eq(rvmig_monitor_domain_run_ns(d), 250 * MS);
	cr_assert_eq(rvmig_monitor_domain_wait_ns(d), 700 * MS);
	cr_assert_eq(rvmig_monitor_domain_blocked_ns(d), 50 * MS);
	cr_assert_eq(rvmig_monitor_domain_throttled_ns(d), 650 * MS);
	cr_assert_eq(rvmig_monitor_domain_pressure_ns(d), 600 * MS);
	cr_assert_eq(rvmig_monitor_domain_mem_cur(d), 1 << 20);
	cr_assert_eq(rvmig_monitor_domain_mem_max(d), 64 << 20);
	rvmig_monitor_snap_free(s);

	/* Then the group is removed: no tasks, zero interval figures, the
	 * last cumulative counters stay. */
	host(&r2, 12 * S_, 0, 0);
	r = dom(&r2, 3, "grp", 12 * S_, 0);
	r->flags = RVMIG_MONITOR_DOM_GONE;
	cr_assert_eq(mon_snap_build(&r1, &r2, &s), 0);
	d = rvmig_monitor_domain(s, 0);
	cr_assert_eq(rvmig_monitor_domain_flags(d) & RVMIG_MONITOR_DOM_GONE, RVMIG_MONITOR_DOM_GONE);
	cr_assert_eq(rvmig_monitor_domain_cpu_ns(d), 7 * S_ + 300 * MS);
	cr_assert_eq(rvmig_monitor_domain_cpu_pct(d), 0);
	cr_assert_eq(rvmig_monitor_domain_run_ns(d) + rvmig_monitor_domain_blocked_ns(d), 0);
	cr_assert_eq(rvmig_monitor_domain_throttled_ns(d), 0);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(d), 0);
	rvmig_monitor_snap_free(s);
	mon_raw_free(&r0);
	mon_raw_free(&r1);
	mon_raw_free(&r2);
}

Test(monitor_interval, domains_match_by_key_not_position)
{
	struct mon_raw prev = { 0 }, cur = { 0 };
	rvmig_monitor_snap *s;
	struct mon_dom_raw *r;

	host(&prev, 10 * S_, 0, 0);
	r = dom(&prev, 1, "a", 10 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 1, .run_ns = 0 };
	r = dom(&prev, 2, "b", 10 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 2, .run_ns = 0 };
	/* "a" unwatched; "c" new; "b" now first. */
	host(&cur, 11 * S_, 0, 0);
	r = dom(&cur, 2, "b", 11 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 2, .run_ns = 500 * MS };
	r = dom(&cur, 3, "c", 11 * S_, 1);
	r->tasks[0] = (struct mon_task){ .tid = 3, .run_ns = 900 * MS };
	cr_assert_eq(mon_snap_build(&prev, &cur, &s), 0);
	cr_assert_eq(rvmig_monitor_domain_run_ns(rvmig_monitor_domain(s, 0)), 500 * MS);
	cr_assert_eq(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 1)), RVMIG_MONITOR_DOM_NEW);
	cr_assert_eq(rvmig_monitor_domain_run_ns(rvmig_monitor_domain(s, 1)), 0);
	cr_assert_null(rvmig_monitor_domain(s, 2));
	rvmig_monitor_snap_free(s);
	mon_raw_free(&prev);
	mon_raw_free(&cur);
}

Test(monitor_interval, accessors_take_null_and_out_of_range)
{
	cr_assert_eq(rvmig_monitor_snap_ndomains(NULL), 0);
	cr_assert_null(rvmig_monitor_domain(NULL, 0));
	cr_assert_null(rvmig_monitor_domain_name(NULL));
	cr_assert_eq(rvmig_monitor_domain_run_share(NULL), 0);
	cr_assert_null(rvmig_monitor_domain_vcpu(NULL, 0));
	cr_assert_eq(rvmig_monitor_vcpu_run_ns(NULL), 0);
	cr_assert_eq(rvmig_monitor_host_cpu_idle_ns(NULL, 0), 0);
	rvmig_monitor_snap_free(NULL);
}

Test(monitor_interval, raw_task_sort_drops_duplicates)
{
	struct mon_dom_raw d = { 0 };
	struct mon_task t[] = { { .tid = 9 }, { .tid = 3 }, { .tid = 9 }, { .tid = 1 } };

	d.tasks = t;
	d.ntasks = 4;
	mon_dom_sort_tasks(&d);
	cr_assert_eq(d.ntasks, 3);
	cr_assert_eq(d.tasks[0].tid, 1);
	cr_assert_eq(d.tasks[2].tid, 9);
	cr_assert_not_null(mon_dom_find_task(&d, 3));
	cr_assert_null(mon_dom_find_task(&d, 4));
	cr_assert_null(mon_dom_find_task(NULL, 4));
}
