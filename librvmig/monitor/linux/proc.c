/* SPDX-License-Identifier: MIT */
/* proc.c - threads and processes from /proc: schedstat, stat, statm. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

/* A task or process that ended while we read it: not an error. */
static int vanished(long rc)
{
	return rc == -ENOENT || rc == -ESRCH;
}

static int push_task(struct mon_dom_raw *d, const struct mon_task *t)
{
	/* Capacity doubles at powers of two: 8, 16, 32 ... */
	if (d->ntasks >= 8 && !(d->ntasks & (d->ntasks - 1))) {
		struct mon_task *p = realloc(d->tasks, 2 * d->ntasks * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->tasks = p;
	} else if (!d->tasks) {
		d->tasks = malloc(8 * sizeof(*d->tasks));
		if (!d->tasks)
			return -ENOMEM;
	}
	d->tasks[d->ntasks++] = *t;
	return 0;
}

int lx_add_task(struct mon_backend *b, struct mon_dom_raw *d, const struct mon_dom_raw *prev,
		uint64_t tid, const char *dir)
{
	struct mon_task t = { .tid = tid };
	char path[64];
	long n;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/schedstat", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	n = kept_read(&b->kept, &b->buf, LX_SMALL_MAX_BYTES, MON_READ_SHORT_EOF, path, AT_FDCWD, NULL);

	if (vanished(n))
		return 0;
	if (n < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read %s/schedstat: %s", dir, rvmig_strerror((int)n));
		return (int)n;
	}
	if ((rc = mon_parse_schedstat(b->buf.p, (size_t)n, &t)) < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot parse %s/schedstat (\"%.40s\"): %s", dir, b->buf.p,
			rvmig_strerror(rc));
		return rc;
	}
	/* Only a task new since the previous sample needs its start time
	 * (interval.h); if it cannot be read the task counts as moved in. */
	if (prev && !mon_dom_find_task(prev, tid)) {
		uint64_t start;
		char state;

		n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, 0, "%s/stat", dir);
		if (n >= 0 && mon_parse_pid_stat(b->buf.p, (size_t)n, &state, &start) == 0)
			t.start_ns = start * b->tick_ns;
	}
	return push_task(d, &t);
}

int lx_pid_identity(struct mon_backend *b, int pid, char **comm, uint64_t *start_ticks)
{
	char state;
	long n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, 0, "/proc/%d/stat", pid);
	int rc;

	if (n < 0)
		return vanished(n) ? -ESRCH : (int)n;
	if ((rc = mon_parse_pid_stat(b->buf.p, (size_t)n, &state, start_ticks)) < 0)
		return rc;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	if (!comm)
		return 0;
	n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, 0, "/proc/%d/comm", pid);
	if (n < 0)
		return vanished(n) ? -ESRCH : (int)n;
	b->buf.p[strcspn(b->buf.p, "\n")] = '\0';
	*comm = strdup(b->buf.p);
	return *comm ? 0 : -ENOMEM;
}

/* statm, not status: the same resident figure, without the kernel
 * formatting some fifty lines of status per read (on the monitor overhead
 * benchmark's 100 groups, status was the costliest file read). */
static int read_rss(struct mon_backend *b, uint64_t pid, uint64_t *rss)
{
	char path[48];
	long n;

	snprintf(path, sizeof(path), "/proc/%llu/statm", (unsigned long long)pid);
	n = kept_read(&b->kept, &b->buf, LX_SMALL_MAX_BYTES, MON_READ_SHORT_EOF, path, AT_FDCWD, NULL);

	if (n < 0)
		return (int)n;
	return mon_parse_statm_rss(b->buf.p, (size_t)n, b->page_size, rss);
}

int lx_task_rss(struct mon_backend *b, uint64_t tid, uint64_t *rss)
{
	int rc = read_rss(b, tid, rss);

	if (vanished(rc)) {
		*rss = 0;
		return 0;
	}
	return rc;
}

void lx_mark_gone(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d,
		  const char *why)
{
	if (!w->gone)
		LOG_INFO(b->ctx, "monitor", "domain %s (%llu): %s", w->name,
			 (unsigned long long)w->id, why);
	w->gone = 1;
	d->flags |= RVMIG_MONITOR_DOM_GONE;
	free(d->tasks);
	d->tasks = NULL;
	d->ntasks = 0;
	d->mem_cur = 0;
}

int lx_sample_pid(struct mon_backend *b, struct lx_watch *w, const struct mon_dom_raw *prev,
		  struct mon_dom_raw *d)
{
	char dir[64], tdir[96];
	uint64_t start = 0;
	struct dirent *e;
	DIR *td;
	int rc;

	d->mono_ns = lx_clock_ns(CLOCK_MONOTONIC);
	d->boot_ns = lx_clock_ns(CLOCK_BOOTTIME);
	if (w->gone) {
		lx_mark_gone(b, w, d, "gone");
		return 0;
	}
	rc = lx_pid_identity(b, w->pid, NULL, &start);
	if (rc == -ESRCH || (rc == 0 && start != w->start_ticks)) {
		lx_mark_gone(b, w, d, "the process exited");
		return 0;
	}
	if (rc < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read /proc/%d/stat: %s", w->pid, rvmig_strerror(rc));
		return rc;
	}
	snprintf(dir, sizeof(dir), "/proc/%d/task", w->pid);
	td = opendir(dir);
	if (!td) {
		if (vanished(-errno)) {
			lx_mark_gone(b, w, d, "the process exited");
			return 0;
		}
		rc = -errno;
		LOG_ERR(b->ctx, "monitor", "cannot list %s: %s", dir, rvmig_strerror(rc));
		return rc;
	}
	while ((e = readdir(td))) {
		char *end;
		unsigned long long tid = strtoull(e->d_name, &end, 10);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end)
			continue;
		snprintf(tdir, sizeof(tdir), "%s/%llu", dir, tid);
		if ((rc = lx_add_task(b, d, prev, tid, tdir)) < 0)
			break;
	}
	closedir(td);
	if (rc < 0)
		return rc;
	mon_dom_sort_tasks(d);
	rc = read_rss(b, (uint64_t)w->pid, &d->mem_cur);
	if (vanished(rc)) {
		lx_mark_gone(b, w, d, "the process exited");
		return 0;
	}
	if (rc < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read /proc/%d/statm: %s", w->pid,
			rvmig_strerror(rc));
		return rc;
	}
	return lx_sample_nets(b, w, d, (uint64_t)w->pid);
}

int lx_procs_rss(struct mon_backend *b, const char *dir, uint64_t *rss)
{
	long n = mon_read(&b->ids, LX_IDS_MAX_BYTES, 0, "%s/cgroup.procs", dir);
	uint64_t *pids;
	long count;
	int rc = 0;

	*rss = 0;
	if (n < 0)
		return (int)n;
	count = mon_parse_ids(b->ids.p, (size_t)n, NULL, 0);
	if (count <= 0)
		return (int)count;
	pids = malloc((size_t)count * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	mon_parse_ids(b->ids.p, (size_t)n, pids, (size_t)count);
	for (long i = 0; i < count && rc == 0; i++) {
		uint64_t one = 0;

		rc = read_rss(b, pids[i], &one);
		if (vanished(rc))
			rc = 0;
		*rss += one;
	}
	free(pids);
	return rc;
}
