/* SPDX-License-Identifier: MIT */
/*
 * rvmig-monitor-bench - what sampling costs: N real processes, each in a
 * cgroup of its own (or watched by pid), sampled through rvmig_monitor at a
 * fixed interval, every figure rvmig-top shows read from each snapshot.
 *
 * Reports the sampler's CPU time as a share of one core (the budget:
 * < 0.5 % for 100 domains at 1 s; XenMon reported 1-2 %), its ratio to
 * that budget, per-sample CPU (median, p95), and, as a baseline from the same
 * run, the CPU cost of the bare reads the figures need (each domain's task
 * list and every task's /proc/TID/schedstat, open+read+close, nothing
 * parsed): monitor / floor says what the library adds on top of the kernel's
 * work.  Memory: VmRSS after the warm-up and at the end (it must not grow
 * with the number of samples taken).
 *
 * Needs root for cgroups (-P watches processes instead).  Exit 0 when the
 * run completed and every domain was seen in every sample, 77 when cgroups
 * cannot be made here, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>
#include <rvmig/monitor.h>

#include "domains.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* Reads every figure rvmig-top shows; returns the domains seen alive. */
static unsigned read_snapshot(const rvmig_monitor_snap *s, double *sink)
{
	unsigned alive = 0, nd = rvmig_monitor_snap_ndomains(s);

	for (unsigned c = 0; c < rvmig_monitor_host_ncpus(s); c++)
		*sink += rvmig_monitor_host_cpu_idle_share(s, c);
	for (unsigned i = 0; i < nd; i++) {
		const rvmig_monitor_dom *d = rvmig_monitor_domain(s, i);

		if (!(rvmig_monitor_domain_flags(d) & RVMIG_MONITOR_DOM_GONE))
			alive++;
		*sink += rvmig_monitor_domain_cpu_pct(d) + rvmig_monitor_domain_run_share(d) +
			 rvmig_monitor_domain_blocked_share(d) + rvmig_monitor_domain_wait_share(d) +
			 rvmig_monitor_domain_execs_per_s(d) + (double)rvmig_monitor_domain_mem_cur(d) +
			 (double)rvmig_monitor_domain_cpu_ns(d) + (double)strlen(rvmig_monitor_domain_name(d));
		for (unsigned v = 0; v < rvmig_monitor_domain_nvcpus(d); v++) {
			const rvmig_monitor_vcpu *vc = rvmig_monitor_domain_vcpu(d, v);

			*sink += rvmig_monitor_vcpu_run_share(vc) + rvmig_monitor_vcpu_wait_share(vc);
		}
	}
	return alive;
}

static long read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, len);
	close(fd);
	return r;
}

/* The floor: the reads the figures need, nothing parsed beyond the task ids. */
static void floor_read(const struct bench_domains *d, int by_pid)
{
	char path[512], buf[8192], sbuf[128];
	/* path holds "/proc/TID/schedstat" or a group file; longer lines are skipped. */

	for (unsigned i = 0; i < d->n; i++) {
		if (by_pid) {
			DIR *dir;
			struct dirent *e;

			snprintf(path, sizeof(path), "/proc/%d/task", (int)d->pids[i]);
			dir = opendir(path);
			if (!dir)
				continue;
			while ((e = readdir(dir)))
				if (e->d_name[0] != '.') {
					snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
						 (int)d->pids[i], e->d_name);
					read_file(path, sbuf, sizeof(sbuf));
				}
			closedir(dir);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", d->cgroups[i],
			 d->version == 2 ? "cgroup.threads" : "tasks");
		long len = read_file(path, buf, sizeof(buf) - 1);
		if (len <= 0)
			continue;
		buf[len] = 0;
		for (char *p = buf, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = 0;
			if (nl - p > 16)
				continue;
			snprintf(path, sizeof(path), "/proc/%.16s/schedstat", p);
			read_file(path, sbuf, sizeof(sbuf));
		}
		snprintf(path, sizeof(path), "%s/cpu.stat", d->cgroups[i]);
		read_file(path, buf, sizeof(buf));
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rvmig-monitor-bench [-n DOMAINS] [-i INTERVAL_MS] [-d SECONDS] [-P] [-w WAKE_US]\n"
		"  -n  domains (real processes), default 100\n"
		"  -i  sampling interval in ms, default 1000\n"
		"  -d  measured duration in s, default 30\n"
		"  -P  watch the processes by pid instead of one cgroup each\n"
		"  -w  each process's sleep between bits of work, us, default 10000\n");
}

static long arg_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "rvmig-monitor-bench: %s %s: not a number in %ld..%ld\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned n = 100, interval_ms = 1000, duration = 30, wake_us = 10000;
	int by_pid = 0, c, rc, status = 0;
	struct bench_domains doms;
	rvmig_monitor *mon = NULL;
	rvmig_monitor_snap *snap;
	struct rusage ru0, ru1;
	struct utsname un;
	double sink = 0;

	while ((c = getopt(argc, argv, "n:i:d:Pw:h")) != -1) {
		switch (c) {
		case 'n': n = (unsigned)arg_long("-n", optarg, 1, 4000); break;
		case 'i': interval_ms = (unsigned)arg_long("-i", optarg, 10, 60000); break;
		case 'd': duration = (unsigned)arg_long("-d", optarg, 1, 86400); break;
		case 'P': by_pid = 1; break;
		case 'w': wake_us = (unsigned)arg_long("-w", optarg, 100, 10000000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rc = bench_domains_start(&doms, n, !by_pid, wake_us);
	if (rc < 0) {
		bench_domains_stop(&doms);
		return rc == -EPERM || rc == -EACCES || rc == -ENOENT || rc == -EROFS ? 77 : 1;
	}
	rc = rvmig_monitor_open(NULL, "linux", &mon);
	if (rc) {
		fprintf(stderr, "rvmig-monitor-bench: rvmig_monitor_open: %s\n", rvmig_strerror(rc));
		status = 1;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = by_pid ? rvmig_monitor_watch_pid(mon, doms.pids[i], NULL)
			    : rvmig_monitor_watch_cgroup(mon, doms.cgroups[i], NULL);
		if (rc < 0) {
			fprintf(stderr, "rvmig-monitor-bench: watching domain %u: %s\n", i, rvmig_strerror(rc));
			status = 1;
			goto out;
		}
	}

	/* Warm-up: the first sample sets the baseline of every domain. */
	if ((rc = rvmig_monitor_sample(mon, &snap)) == 0) {
		read_snapshot(snap, &sink);
		rvmig_monitor_snap_free(snap);
	}
	unsigned nsamples = duration * 1000 / interval_ms;
	if (nsamples == 0)
		nsamples = 1;
	uint64_t *mon_ns = calloc(nsamples, sizeof(*mon_ns)), *floor_ns = calloc(nsamples, sizeof(*floor_ns));
	if (!mon_ns || !floor_ns) {
		status = 1;
		goto out_free;
	}
	long rss_warm = -1, rss_end;
	unsigned done = 0, missing = 0;
	uint64_t next = ns_of(CLOCK_MONOTONIC), wall0 = next;

	getrusage(RUSAGE_SELF, &ru0);
	for (; done < nsamples && !stop; done++) {
		uint64_t t0, t1, t2;

		next += (uint64_t)interval_ms * 1000000ull;
		struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ull),
				       .tv_nsec = (long)(next % 1000000000ull) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
			;
		t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
		rc = rvmig_monitor_sample(mon, &snap);
		if (rc) {
			fprintf(stderr, "rvmig-monitor-bench: sample %u: %s\n", done, rvmig_strerror(rc));
			status = 1;
			break;
		}
		unsigned alive = read_snapshot(snap, &sink);
		rvmig_monitor_snap_free(snap);
		t1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
		floor_read(&doms, by_pid);
		t2 = ns_of(CLOCK_THREAD_CPUTIME_ID);
		mon_ns[done] = t1 - t0;
		floor_ns[done] = t2 - t1;
		if (alive != n)
			missing++;
		if (done == 9 || (nsamples < 10 && done == 0))
			rss_warm = rss_kib();
	}
	getrusage(RUSAGE_SELF, &ru1);
	uint64_t wall = ns_of(CLOCK_MONOTONIC) - wall0;
	rss_end = rss_kib();

	uint64_t mon_sum = 0, floor_sum = 0;
	for (unsigned i = 0; i < done; i++) {
		mon_sum += mon_ns[i];
		floor_sum += floor_ns[i];
	}
	uint64_t all_cpu = (uint64_t)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
				      ru0.ru_stime.tv_sec) * 1000000000ull +
			   (uint64_t)((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
				      (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) * 1000ull;
	double wall_s = (double)wall / 1e9;
	/* The sampler's share of one core: its CPU over the run's wall time,
	 * the floor's reads taken out (they are this benchmark's, not the
	 * monitor's). */
	double mon_share = wall ? (double)mon_sum / (double)wall * 100.0 : 0;
	double floor_share = wall ? (double)floor_sum / (double)wall * 100.0 : 0;
	uname(&un);

	printf("# rvmig-monitor-bench (%s), %s %s, %ld CPUs\n", rvmig_version(NULL, NULL, NULL),
	       un.sysname, un.release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("# %u domains (%s), interval %u ms, %u samples in %.1f s, each process waking every %u us\n",
	       n, by_pid ? "processes by pid" : doms.version == 2 ? "cgroup v2 groups" : "cgroup v1 cpu groups",
	       interval_ms, done, wall_s, wake_us);
	printf("%-34s %12s %12s %12s\n", "", "monitor", "floor", "monitor/floor");
	printf("%-34s %12.1f %12.1f %12.2f\n", "CPU per sample, median (us)", pct(mon_ns, done, 0.5) / 1e3,
	       pct(floor_ns, done, 0.5) / 1e3,
	       pct(floor_ns, done, 0.5) ? (double)pct(mon_ns, done, 0.5) / (double)pct(floor_ns, done, 0.5) : 0);
	printf("%-34s %12.1f %12.1f\n", "CPU per sample, p95 (us)", pct(mon_ns, done, 0.95) / 1e3,
	       pct(floor_ns, done, 0.95) / 1e3);
	printf("%-34s %12.3f %12.3f\n", "share of one core (%)", mon_share, floor_share);
	printf("%-34s %12.3f\n", "process CPU, all (% of one core)", wall ? (double)all_cpu / (double)wall * 100.0 : 0);
	printf("budget: 0.5 %% of one core; monitor/budget = %.2f (%s)\n", mon_share / 0.5,
	       mon_share < 0.5 ? "within" : "OVER");
	printf("memory: VmRSS %ld KiB after %u samples, %ld KiB after %u (growth %ld KiB)\n", rss_warm,
	       done < 10 ? 1u : 10u, rss_end, done, rss_end - rss_warm);
	if (missing) {
		fprintf(stderr, "rvmig-monitor-bench: %u samples missed a live domain\n", missing);
		status = 1;
	}
	if (sink < 0)
		puts("");
out_free:
	free(mon_ns);
	free(floor_ns);
out:
	rvmig_monitor_close(mon);
	bench_domains_stop(&doms);
	return stop ? 1 : status;
}
