/* SPDX-License-Identifier: MIT */
/*
 * The Linux monitor backend against real processes with known behaviour.
 *
 * Each check starts child processes, samples, lets them run for WINDOW_S
 * seconds and samples again.  The CI machines are loaded 2-core hosts
 * (other jobs run beside this one), so the bounds are wide and stated with
 * each check; every check prints what it measured.  A check of a busy
 * child ends its window on events, not after a time (measure_busy()): once
 * the child has had MIN_RUN_MS on a CPU and has just run, so that on a host
 * where it waits long for a CPU neither its share of the window nor the
 * wait it is in at the end (which the kernel counts only when the wait
 * ends) decides the check.  The cgroup checks need
 * root and a cgroup hierarchy that accepts new groups (CI runs as root):
 * where none can be made they fail saying so, they are never skipped.
 *
 * Registered as unit.monitor.linux with --jobs 1 and RUN_SERIAL, so no other
 * check's burners share the CPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "monitor/linux/parse.h"

#define WINDOW_S 2
#define MIN_RUN_MS 200    /* a busy child's CPU time in its window */
#define POLL_MS 20        /* how often measure_busy() looks */
#define DEADLINE_S 60     /* ... and for how long at most */

/* ---- children with known behaviour ---- */

enum behaviour {
	SLEEPER,  /* blocked all the time */
	WAKER,    /* wakes every 10 ms, does nothing */
	BURNER,   /* never blocks */
	PINNED,   /* burner on CPU 0 */
	HOLDER,   /* touches 64 MiB, then sleeps */
	THREADS,  /* a sleeper with two more sleeping threads */
};

#define HOLD_BYTES (64u << 20)

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void burn(void)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
}

static void behave(enum behaviour b)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pthread_t t;
	cpu_set_t one;
	char *p;

	switch (b) {
	case SLEEPER:
		sleep_forever(NULL);
		break;
	case WAKER:
		for (;;)
			nanosleep(&tick, NULL);
	case BURNER:
		burn();
		break;
	case PINNED:
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			_exit(3);
		burn();
		break;
	case HOLDER:
		p = mmap(NULL, HOLD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		memset(p, 1, HOLD_BYTES);
		break;
	case THREADS:
		pthread_create(&t, NULL, sleep_forever, NULL);
		pthread_create(&t, NULL, sleep_forever, NULL);
		break;
	}
}

struct child {
	pid_t pid;
	int go;    /* write a byte: start behaving */
	int ready; /* a byte arrives once it behaves (after set-up) */
};

/* Forks a child that waits for go(), then behaves.  It dies with the test
 * process (PR_SET_PDEATHSIG), so a failed assertion leaves no burner. */
static struct child spawn(enum behaviour b)
{
	int go[2], ready[2];
	struct child c;
	char x;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	c.pid = fork();
	cr_assert_geq(c.pid, 0, "fork: %s", strerror(errno));
	if (c.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &x, 1) != 1)
			_exit(2);
		if (b == HOLDER || b == THREADS) {
			behave(b);
			if (write(ready[1], "r", 1) != 1)
				_exit(2);
			sleep_forever(NULL);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		behave(b);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	c.go = go[1];
	c.ready = ready[0];
	return c;
}

static void start(struct child *c)
{
	char x;

	cr_assert_eq(write(c->go, "g", 1), 1);
	cr_assert_eq(read(c->ready, &x, 1), 1, "child %d did not start", c->pid);
}

static void reap(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->go);
	close(c->ready);
}

/* ---- monitor helpers ---- */

static rvmig_monitor *open_linux(void)
{
	rvmig_monitor *mon;
	int rc = rvmig_monitor_open(NULL, "linux", &mon);

	cr_assert_eq(rc, 0, "rvmig_monitor_open(linux): %s", rvmig_strerror(rc));
	return mon;
}

static rvmig_monitor_snap *sample(rvmig_monitor *mon)
{
	rvmig_monitor_snap *s;
	int rc = rvmig_monitor_sample(mon, &s);

	cr_assert_eq(rc, 0, "rvmig_monitor_sample: %s", rvmig_strerror(rc));
	return s;
}

/* Samples, waits WINDOW_S seconds, and returns the second snapshot. */
static rvmig_monitor_snap *measure(rvmig_monitor *mon)
{
	rvmig_monitor_snap_free(sample(mon));
	sleep(WINDOW_S);
	return sample(mon);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A process's time on a CPU so far (ns), from the kernel's own counter
 * (/proc/PID/schedstat: the file the monitor reads for its threads). */
static uint64_t ran_ns(pid_t pid)
{
	char path[64];
	unsigned long long run;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fscanf(f, "%llu", &run);
	fclose(f);
	cr_assert_eq(n, 1, "%s: no run time in it", path);
	return run;
}

/*
 * measure() for busy children: samples, then waits until at least WINDOW_S
 * passed, each of the `n` processes has run `min_run_ms` since and ran
 * within the last POLL_MS; then samples again at once.  A runnable task's
 * current wait reaches its counters only when it gets a CPU, so a window
 * ending in a long wait would show that wait as blocked time; ending it
 * just after the task ran bounds that by about POLL_MS.  Fails after
 * DEADLINE_S, saying how much the processes ran.  The first snapshot goes
 * to *start_snap if that is not NULL.
 */
static rvmig_monitor_snap *measure_busy(rvmig_monitor *mon, const pid_t *pids, unsigned n,
					unsigned min_run_ms, rvmig_monitor_snap **start_snap)
{
	const struct timespec poll = { 0, POLL_MS * 1000000L };
	uint64_t t0, first[4], last[4], el;
	rvmig_monitor_snap *s0;
	bool done = false;

	cr_assert_leq(n, 4);
	s0 = sample(mon);
	if (start_snap)
		*start_snap = s0;
	else
		rvmig_monitor_snap_free(s0);
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		first[i] = last[i] = ran_ns(pids[i]);
	while (!done) {
		nanosleep(&poll, NULL);
		el = now_ns() - t0;
		done = el >= WINDOW_S * 1000000000ull;
		for (unsigned i = 0; i < n; i++) {
			uint64_t r = ran_ns(pids[i]);

			done = done && r > last[i] && r - first[i] >= min_run_ms * 1000000ull;
			last[i] = r;
		}
		if (!done && el >= DEADLINE_S * 1000000000ull)
			for (unsigned i = 0; i < n; i++)
				cr_assert_fail("process %d ran %.1f ms in %d s (want %u ms, and a run in "
					       "the last %d ms): the host is too busy to measure it",
					       (int)pids[i], (last[i] - first[i]) / 1e6, DEADLINE_S,
					       min_run_ms, POLL_MS);
	}
	fprintf(stderr, "monitor: window %.2f s\n", el / 1e9);
	return sample(mon);
}

static void show(const char *what, const rvmig_monitor_dom *d)
{
	fprintf(stderr,
		"monitor: %-22s run %5.1f%%  blocked %5.1f%%  wait %5.1f%%  cpu %6.1f%%  "
		"execs %6.1f/s  throttled %4llu ms  vcpus %u\n",
		what, 100 * rvmig_monitor_domain_run_share(d),
		100 * rvmig_monitor_domain_blocked_share(d), 100 * rvmig_monitor_domain_wait_share(d),
		rvmig_monitor_domain_cpu_pct(d), rvmig_monitor_domain_execs_per_s(d),
		(unsigned long long)rvmig_monitor_domain_throttled_ns(d) / 1000000,
		rvmig_monitor_domain_nvcpus(d));
}

/* ---- processes ---- */

Test(monitor_linux, backends_and_errors)
{
	const char *const *names = rvmig_monitor_backends();
	rvmig_monitor *mon;
	int has_linux = 0;

	/* xen comes first where it is built (auto tries it first), linux last. */
	for (unsigned i = 0; names[i]; i++)
		has_linux |= !strcmp(names[i], "linux");
	cr_assert(has_linux, "the linux backend is built in");
	cr_assert_eq(rvmig_monitor_open(NULL, "nosuch", &mon), -ENOENT);
	cr_assert_eq(rvmig_monitor_open(NULL, NULL, &mon), 0);
	cr_assert_str_eq(rvmig_monitor_backend(mon), "linux", "auto picks linux here");
	cr_assert_eq(rvmig_monitor_watch_pid(mon, 0, NULL), -EINVAL);
	cr_assert_eq(rvmig_monitor_watch_pid(mon, 0x3ffffff0, NULL), -ESRCH);
	cr_assert_eq(rvmig_monitor_watch_cgroup(mon, "/nonexistent/cgroup", NULL), -ENOENT);
	cr_assert_eq(rvmig_monitor_watch_cgroup(mon, "/proc", NULL), -EINVAL, "not a cgroup");
	cr_assert_eq(rvmig_monitor_unwatch(mon, 7), -ENOENT);
	rvmig_monitor_close(mon);
}

Test(monitor_linux, host_figures)
{
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s = measure(mon);
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	cr_assert_eq(rvmig_monitor_host_ncpus(s), (unsigned)online);
	cr_assert_gt(rvmig_monitor_host_mem_total(s), 0);
	cr_assert_leq(rvmig_monitor_host_mem_free(s), rvmig_monitor_host_mem_total(s));
	cr_assert_leq(rvmig_monitor_host_mem_avail(s), rvmig_monitor_host_mem_total(s));
	cr_assert_gt(rvmig_monitor_snap_interval_ns(s), (WINDOW_S - 0.5) * 1e9);
	for (unsigned i = 0; i < rvmig_monitor_host_ncpus(s); i++) {
		double idle = rvmig_monitor_host_cpu_idle_share(s, i);

		cr_assert(idle >= 0 && idle <= 1, "cpu%u idle share %f", rvmig_monitor_host_cpu_id(s, i), idle);
		fprintf(stderr, "monitor: cpu%u idle %.1f%% freq %u kHz\n", rvmig_monitor_host_cpu_id(s, i),
			100 * idle, rvmig_monitor_host_cpu_freq_khz(s, i));
	}
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
}

/* A sleeper: run share < 5 %, blocked > 90 %. */
Test(monitor_linux, sleeper_is_blocked)
{
	struct child c = spawn(SLEEPER);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	double run, blocked;
	int w;

	start(&c);
	w = rvmig_monitor_watch_pid(mon, c.pid, "sleeper");
	cr_assert_geq(w, 0, "watch: %s", rvmig_strerror(w));
	s = measure(mon);
	d = rvmig_monitor_domain(s, 0);
	show("sleeper", d);
	run = rvmig_monitor_domain_run_share(d);
	blocked = rvmig_monitor_domain_blocked_share(d);
	cr_assert_str_eq(rvmig_monitor_domain_name(d), "sleeper");
	cr_assert_eq(rvmig_monitor_domain_id(d), (uint64_t)c.pid);
	cr_assert_eq(rvmig_monitor_domain_flags(d), 0);
	cr_assert_lt(run, 0.05, "sleeper run share %.3f, want < 0.05", run);
	cr_assert_gt(blocked, 0.90, "sleeper blocked share %.3f, want > 0.90", blocked);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&c);
}

/* Woken every 10 ms: about 100 executions/s (20..150 allowed: timer slack
 * and a loaded host delay wake-ups), still mostly blocked (> 50 %). */
Test(monitor_linux, waker_execs_per_second)
{
	struct child c = spawn(WAKER);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	double execs;

	start(&c);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, c.pid, NULL), 0);
	s = measure_busy(mon, &c.pid, 1, 0, NULL);
	d = rvmig_monitor_domain(s, 0);
	show("waker (10 ms)", d);
	execs = rvmig_monitor_domain_execs_per_s(d);
	cr_assert(execs > 20 && execs < 150, "waker: %.1f executions/s, want 20..150", execs);
	cr_assert_gt(rvmig_monitor_domain_blocked_share(d), 0.5);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&c);
}

/* A busy loop is always runnable: it runs or waits for a CPU (run + wait >
 * 85 %, blocked < 10 %); the monitor saw at least the MIN_RUN_MS it ran by
 * the kernel's count (at load 10 on the 2-core build machine it ran 25 % of
 * the time and waited 75 %; how much it gets depends on the host's load,
 * so that share is not bounded), and run time and CPU % agree (same
 * counter for a process: within 1 %). */
Test(monitor_linux, burner_runs)
{
	struct child c = spawn(BURNER);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	double run, pct_from_run;

	start(&c);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, c.pid, "burner"), 0);
	s = measure_busy(mon, &c.pid, 1, MIN_RUN_MS, NULL);
	d = rvmig_monitor_domain(s, 0);
	show("burner", d);
	run = rvmig_monitor_domain_run_share(d);
	cr_assert_geq(rvmig_monitor_domain_run_ns(d), MIN_RUN_MS * 1000000ull,
		      "burner ran %.1f ms by the monitor, at least %d ms by the kernel",
		      rvmig_monitor_domain_run_ns(d) / 1e6, MIN_RUN_MS);
	cr_assert_gt(run + rvmig_monitor_domain_wait_share(d), 0.85, "burner run + wait %.3f, want > 0.85",
		     run + rvmig_monitor_domain_wait_share(d));
	cr_assert_lt(rvmig_monitor_domain_blocked_share(d), 0.10, "a burner never blocks");
	pct_from_run = rvmig_monitor_domain_run_ns(d) * 100.0 / rvmig_monitor_snap_interval_ns(s);
	cr_assert_lt(fabs(pct_from_run - rvmig_monitor_domain_cpu_pct(d)), 1.0);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&c);
}

/* Two burners on CPU 0: each gets at most about half of it and waits the
 * rest.  Each: run share < 65 %, wait share > 25 %; together at most one
 * CPU (CPU % sum < 105). */
Test(monitor_linux, two_burners_on_one_cpu_wait)
{
	struct child a = spawn(PINNED), b = spawn(PINNED);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	double sum = 0;

	pid_t both[2] = { a.pid, b.pid };

	start(&a);
	start(&b);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, a.pid, "pinned-a"), 0);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, b.pid, "pinned-b"), 0);
	s = measure_busy(mon, both, 2, MIN_RUN_MS, NULL);
	for (unsigned i = 0; i < 2; i++) {
		const rvmig_monitor_dom *d = rvmig_monitor_domain(s, i);
		double run = rvmig_monitor_domain_run_share(d), wait = rvmig_monitor_domain_wait_share(d);

		show(rvmig_monitor_domain_name(d), d);
		cr_assert_lt(run, 0.65, "%s run share %.3f, want < 0.65", rvmig_monitor_domain_name(d), run);
		cr_assert_gt(wait, 0.25, "%s wait share %.3f, want > 0.25", rvmig_monitor_domain_name(d), wait);
		sum += rvmig_monitor_domain_cpu_pct(d);
	}
	cr_assert_lt(sum, 105, "two burners on one CPU used %.1f %% together", sum);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&a);
	reap(&b);
}

/* Resident memory: the 64 MiB it touched, plus the program (up to 256 MiB
 * more: an ASan build's shadow memory counts too). */
Test(monitor_linux, memory_and_threads)
{
	struct child h = spawn(HOLDER), t = spawn(THREADS);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	uint64_t cur;

	start(&h);
	start(&t);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, h.pid, NULL), 0);
	cr_assert_geq(rvmig_monitor_watch_pid(mon, t.pid, NULL), 0);
	s = sample(mon);
	d = rvmig_monitor_domain(s, 0);
	cur = rvmig_monitor_domain_mem_cur(d);
	fprintf(stderr, "monitor: holder of 64 MiB: resident %llu MiB\n", (unsigned long long)cur >> 20);
	cr_assert_geq(cur, HOLD_BYTES);
	cr_assert_lt(cur, HOLD_BYTES + (256u << 20));
	cr_assert_eq(rvmig_monitor_domain_mem_max(d), UINT64_MAX, "a process has no limit");
	cr_assert_eq(rvmig_monitor_domain_flags(d), RVMIG_MONITOR_DOM_NEW);
	d = rvmig_monitor_domain(s, 1);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(d), 3, "main thread and two more");
	cr_assert_eq(rvmig_monitor_vcpu_id(rvmig_monitor_domain_vcpu(d, 0)), (uint64_t)t.pid,
		     "threads in TID order: the main thread first");
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&h);
	reap(&t);
}

/* A process that exits is GONE (already as a zombie), not an error, and
 * stays GONE; unwatching removes it. */
Test(monitor_linux, exited_process_is_gone)
{
	struct child c = spawn(SLEEPER);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	int w;

	start(&c);
	w = rvmig_monitor_watch_pid(mon, c.pid, NULL);
	cr_assert_geq(w, 0);
	rvmig_monitor_snap_free(sample(mon));
	kill(c.pid, SIGKILL);
	/* Wait until it is a zombie, without reaping it: waitid WNOWAIT. */
	{
		siginfo_t si;

		cr_assert_eq(waitid(P_PID, (id_t)c.pid, &si, WEXITED | WNOWAIT), 0);
	}
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)), RVMIG_MONITOR_DOM_GONE);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(rvmig_monitor_domain(s, 0)), 0);
	rvmig_monitor_snap_free(s);
	reap(&c);
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)), RVMIG_MONITOR_DOM_GONE);
	rvmig_monitor_snap_free(s);
	cr_assert_eq(rvmig_monitor_unwatch(mon, w), 0);
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_snap_ndomains(s), 0);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
}

/* ---- cgroups ---- */

/* The cgroup mounts of this host, from the backend's own parser. */
static long cg_mounts(struct mon_cg_mount **out)
{
	static char text[1 << 16];
	int fd = open("/proc/self/mountinfo", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text)) : -1;
	long count;

	if (fd >= 0)
		close(fd);
	cr_assert_gt(n, 0, "cannot read /proc/self/mountinfo");
	count = mon_parse_mountinfo(text, (size_t)n, NULL, 0);
	*out = calloc(count > 0 ? (size_t)count : 1, sizeof(**out));
	cr_assert_not_null(*out);
	return mon_parse_mountinfo(text, (size_t)n, *out, (size_t)count);
}

/* Writes `text` to dir/file: 0 or -errno. */
static int put(const char *dir, const char *file, const char *text)
{
	char path[4200];
	size_t n = strlen(text);
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	rc = write(fd, text, n) == (ssize_t)n ? 0 : -errno;
	close(fd);
	return rc;
}

static int put_pid(const char *dir, pid_t pid)
{
	char text[32];

	snprintf(text, sizeof(text), "%d", (int)pid);
	return put(dir, "cgroup.procs", text);
}

/* Creates `name` in the mount `m`; fails the test saying why if it cannot. */
static void make_group(const struct mon_cg_mount *m, const char *name, char *dir, size_t size)
{
	snprintf(dir, size, "%s/%s", m->dir, name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		cr_assert_fail("cannot create the cgroup %s: %s (the monitor's cgroup checks need root and a "
			"writable cgroup hierarchy)", dir, strerror(errno));
}

/* A burner in a group capped at 30 % of one CPU (v1 cpu.cfs_quota_us, or
 * v2 cpu.max where the v2 hierarchy has the cpu controller): run share
 * and CPU % below 45 %, at least the MIN_RUN_MS it ran by the kernel's
 * count seen, and a large wait signal: wait share > 30 % (a throttled task
 * stays queued on this kernel, so throttled time is run-queue wait) with
 * the group's throttled time measured.  How much of the wait is throttling
 * depends on the load: on a quiet host 54 % of the interval, at load 10 on
 * 2 cores 13 % (the contention alone held the burner near its cap), so only
 * the wait share is bounded; how far below its cap the host's load holds
 * it too (on a quiet host it ran 30 %), so its share has no lower bound. */
Test(monitor_linux, burner_capped_at_30_percent_waits)
{
	struct mon_cg_mount *m;
	long nm = cg_mounts(&m);
	const struct mon_cg_mount *cpu = NULL, *acct = NULL;
	char name[64], dir[4200], acct_dir[4200] = "";
	struct child c = spawn(BURNER);
	rvmig_monitor *mon;
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;
	double run, wait, pct, thr, run_ms;
	char want_name[80], got_name[80];
	unsigned flags, nvcpus;
	int rc;

	for (long i = 0; i < nm; i++) {
		if (m[i].version == 1 && (m[i].ctrl & MON_CG_CPU) && !cpu)
			cpu = &m[i];
		if (m[i].version == 1 && (m[i].ctrl & MON_CG_CPUACCT) && !acct)
			acct = &m[i];
	}
	snprintf(name, sizeof(name), "rvmig-test-monitor-%d", (int)getpid());
	if (cpu) {
		make_group(cpu, name, dir, sizeof(dir));
		rc = put(dir, "cpu.cfs_period_us", "100000");
		if (rc == 0)
			rc = put(dir, "cpu.cfs_quota_us", "30000");
		if (acct && acct != cpu)
			make_group(acct, name, acct_dir, sizeof(acct_dir));
	} else {
		const struct mon_cg_mount *v2 = NULL;

		for (long i = 0; i < nm && !v2; i++)
			if (m[i].version == 2)
				v2 = &m[i];
		if (!v2)
			cr_assert_fail("no cgroup v1 cpu hierarchy and no cgroup v2 mount: cannot cap a burner");
		put(v2->dir, "cgroup.subtree_control", "+cpu");
		make_group(v2, name, dir, sizeof(dir));
		rc = put(dir, "cpu.max", "30000 100000");
		if (rc < 0)
			cr_assert_fail("cannot set cpu.max in %s: %s (cgroup v2 without the cpu controller?)",
				dir, strerror(-rc));
	}
	cr_assert_eq(rc, 0, "cannot set the CPU quota of %s: %s", dir, strerror(-rc));
	rc = put_pid(dir, c.pid);
	if (rc == 0 && acct_dir[0])
		rc = put_pid(acct_dir, c.pid);
	cr_assert_eq(rc, 0, "cannot move the burner into %s: %s", dir, strerror(-rc));

	mon = open_linux();
	start(&c);
	rc = rvmig_monitor_watch_cgroup(mon, dir, NULL);
	cr_assert_geq(rc, 0, "watch %s: %s", dir, rvmig_strerror(rc));
	s = measure_busy(mon, &c.pid, 1, MIN_RUN_MS, NULL);
	d = rvmig_monitor_domain(s, 0);
	show("burner capped at 30%", d);
	run = rvmig_monitor_domain_run_share(d);
	run_ms = rvmig_monitor_domain_run_ns(d) / 1e6;
	wait = rvmig_monitor_domain_wait_share(d);
	pct = rvmig_monitor_domain_cpu_pct(d);
	thr = rvmig_monitor_domain_throttled_ns(d) / (double)rvmig_monitor_snap_interval_ns(s);
	fprintf(stderr, "monitor: capped burner: throttled %.1f%% of the interval, CPU time %s\n",
		100 * thr, acct_dir[0] ? "from cpuacct.usage" : "from its threads");
	snprintf(want_name, sizeof(want_name), "/%s", name);
	snprintf(got_name, sizeof(got_name), "%s", rvmig_monitor_domain_name(d));
	flags = rvmig_monitor_domain_flags(d);
	nvcpus = rvmig_monitor_domain_nvcpus(d);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&c);
	rmdir(dir);
	if (acct_dir[0])
		rmdir(acct_dir);
	free(m);

	cr_assert_str_eq(got_name, want_name, "default name: the path in its hierarchy");
	cr_assert_eq(nvcpus, 1);
	cr_assert(flags & RVMIG_MONITOR_DOM_THROTTLE, "flags %#x: no throttling measured", flags);
	cr_assert_geq(run_ms, MIN_RUN_MS, "capped burner ran %.1f ms by the monitor, at least %d ms by "
		      "the kernel", run_ms, MIN_RUN_MS);
	cr_assert_lt(run, 0.45, "capped burner run share %.3f, want < 0.45", run);
	cr_assert_lt(pct, 45, "capped burner CPU %.1f %%, want < 45", pct);
	cr_assert_gt(wait, 0.30, "capped burner wait share %.3f, want > 0.30", wait);
	cr_assert(thr >= 0 && thr <= 1.05, "throttled %.3f of the interval", thr);
}

/* A burner in a cgroup v2 group (here the controller-less v2 hierarchy
 * beside v1: cpu.stat's usage_usec and cgroup.threads are always there):
 * the group's CPU counter and the threads' schedstat run time agree within
 * 10 % (plus 20 ms) over a window in which it ran at least MIN_RUN_MS (a
 * share of 4 % in 2 s at load 13 was too little to compare); PSI pressure
 * is reported where the group has cpu.pressure. */
Test(monitor_linux, cgroup_v2_group_counter_agrees_with_threads)
{
	struct mon_cg_mount *m;
	long nm = cg_mounts(&m);
	const struct mon_cg_mount *v2 = NULL;
	struct child c = spawn(BURNER);
	char name[64], dir[4200], psi[4300];
	rvmig_monitor *mon;
	rvmig_monitor_snap *s0, *s;
	const rvmig_monitor_dom *d;
	double run, cpu_run_ms, cpu_group_ms;
	int rc, has_psi;
	unsigned flags;

	for (long i = 0; i < nm && !v2; i++)
		if (m[i].version == 2)
			v2 = &m[i];
	if (!v2)
		cr_assert_fail("no cgroup v2 mount on this host (mount -t cgroup2 none /sys/fs/cgroup/unified)");
	snprintf(name, sizeof(name), "rvmig-test-monitor-%d", (int)getpid());
	make_group(v2, name, dir, sizeof(dir));
	rc = put_pid(dir, c.pid);
	cr_assert_eq(rc, 0, "cannot move the burner into %s: %s", dir, strerror(-rc));
	snprintf(psi, sizeof(psi), "%s/cpu.pressure", dir);
	has_psi = access(psi, R_OK) == 0;

	mon = open_linux();
	start(&c);
	cr_assert_geq(rvmig_monitor_watch_cgroup(mon, dir, "v2-burner"), 0);
	s = measure_busy(mon, &c.pid, 1, MIN_RUN_MS, &s0);
	d = rvmig_monitor_domain(s, 0);
	show("burner in a v2 group", d);
	run = rvmig_monitor_domain_run_share(d);
	flags = rvmig_monitor_domain_flags(d);
	cpu_run_ms = rvmig_monitor_domain_run_ns(d) / 1e6;
	cpu_group_ms = (rvmig_monitor_domain_cpu_ns(d) -
			rvmig_monitor_domain_cpu_ns(rvmig_monitor_domain(s0, 0))) / 1e6;
	fprintf(stderr, "monitor: v2 group: usage_usec grew %.1f ms, threads ran %.1f ms, pressure %llu ms\n",
		cpu_group_ms, cpu_run_ms,
		(unsigned long long)rvmig_monitor_domain_pressure_ns(d) / 1000000);
	rvmig_monitor_snap_free(s0);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	reap(&c);
	rmdir(dir);
	free(m);

	cr_assert_gt(run, 0, "v2 burner run share %.3f", run);
	cr_assert_geq(cpu_run_ms, MIN_RUN_MS, "v2 burner ran %.1f ms by the monitor, at least %d ms by "
		      "the kernel", cpu_run_ms, MIN_RUN_MS);
	cr_assert_lt(fabs(cpu_group_ms - cpu_run_ms), 0.10 * cpu_run_ms + 20,
		     "group counter %.1f ms vs threads %.1f ms", cpu_group_ms, cpu_run_ms);
	cr_assert_eq(!!(flags & RVMIG_MONITOR_DOM_PRESSURE), has_psi);
}

/* A removed group is GONE, not an error. */
Test(monitor_linux, removed_cgroup_is_gone)
{
	struct mon_cg_mount *m;
	long nm = cg_mounts(&m);
	char name[64], dir[4200];
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;

	cr_assert_gt(nm, 0, "no cgroup mount on this host");
	snprintf(name, sizeof(name), "rvmig-test-monitor-gone-%d", (int)getpid());
	make_group(&m[0], name, dir, sizeof(dir));
	cr_assert_geq(rvmig_monitor_watch_cgroup(mon, dir, NULL), 0);
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)) & RVMIG_MONITOR_DOM_GONE, 0);
	rvmig_monitor_snap_free(s);
	cr_assert_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	s = sample(mon);
	cr_assert(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)) & RVMIG_MONITOR_DOM_GONE);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	free(m);
}

/* A group removed and made again under the same name between two samples
 * is another group: the watched one is GONE (the monitor reads a group
 * through a descriptor of its directory, which keeps naming the old one). */
Test(monitor_linux, recreated_cgroup_is_gone)
{
	struct mon_cg_mount *m;
	long nm = cg_mounts(&m);
	char name[64], dir[4200];
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;

	cr_assert_gt(nm, 0, "no cgroup mount on this host");
	snprintf(name, sizeof(name), "rvmig-test-monitor-again-%d", (int)getpid());
	make_group(&m[0], name, dir, sizeof(dir));
	cr_assert_geq(rvmig_monitor_watch_cgroup(mon, dir, NULL), 0);
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)) & RVMIG_MONITOR_DOM_GONE, 0);
	rvmig_monitor_snap_free(s);
	cr_assert_eq(rmdir(dir), 0, "rmdir %s: %s", dir, strerror(errno));
	make_group(&m[0], name, dir, sizeof(dir));
	s = sample(mon);
	cr_assert(rvmig_monitor_domain_flags(rvmig_monitor_domain(s, 0)) & RVMIG_MONITOR_DOM_GONE,
		  "a group made again under the watched name is not the watched group");
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	rmdir(dir);
	free(m);
}

/* A group's threads include those of its child groups, and a child group
 * made after the watch started is found (the monitor skips listing a group
 * whose directory has no subdirectories). */
Test(monitor_linux, child_groups_counted)
{
	struct mon_cg_mount *m;
	long nm = cg_mounts(&m);
	char name[64], dir[4200], sub[4300];
	struct child c = spawn(HOLDER);
	rvmig_monitor *mon = open_linux();
	rvmig_monitor_snap *s;
	const rvmig_monitor_dom *d;

	cr_assert_gt(nm, 0, "no cgroup mount on this host");
	snprintf(name, sizeof(name), "rvmig-test-monitor-nest-%d", (int)getpid());
	make_group(&m[0], name, dir, sizeof(dir));
	cr_assert_geq(rvmig_monitor_watch_cgroup(mon, dir, NULL), 0);
	s = sample(mon);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(rvmig_monitor_domain(s, 0)), 0, "a new group is empty");
	rvmig_monitor_snap_free(s);

	snprintf(sub, sizeof(sub), "%s/inner", dir);
	cr_assert(mkdir(sub, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", sub, strerror(errno));
	start(&c);
	cr_assert_eq(put_pid(sub, c.pid), 0, "cannot move %d into %s", (int)c.pid, sub);
	s = sample(mon);
	d = rvmig_monitor_domain(s, 0);
	cr_assert_eq(rvmig_monitor_domain_flags(d) & RVMIG_MONITOR_DOM_GONE, 0);
	cr_assert_eq(rvmig_monitor_domain_nvcpus(d), 1, "the child group's thread counts");
	cr_assert_eq(rvmig_monitor_vcpu_id(rvmig_monitor_domain_vcpu(d, 0)), (uint64_t)c.pid);
	rvmig_monitor_snap_free(s);

	reap(&c);
	rvmig_monitor_close(mon);
	for (int i = 0; i < 100 && rmdir(sub) < 0 && errno == EBUSY; i++)
		usleep(10000);
	rmdir(dir);
	free(m);
}
