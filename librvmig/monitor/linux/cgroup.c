/* SPDX-License-Identifier: MIT */
/*
 * cgroup.c - cgroups as domains: resolving a watched directory (v1 or v2,
 * and for v1 the same group in the cpu, cpuacct and memory hierarchies),
 * and sampling the threads of its subtree plus the group's own counters.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

/* v1 limits at or above this mean "unlimited" (PAGE_COUNTER_MAX pages). */
#define V1_UNLIMITED (1ull << 62)

void lx_cgroup_clear(struct lx_cgroup *cg)
{
	if (cg->has_dfd)
		close(cg->dfd);
	free(cg->dir);
	free(cg->cpu_dir);
	free(cg->cpuacct_dir);
	free(cg->mem_dir);
	free(cg->blkio_dir);
	memset(cg, 0, sizeof(*cg));
}

/* `dir` is `top` or below it (at a path component boundary). */
static size_t under(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (n == 1 && top[0] == '/')
		return 1;
	if (strncmp(dir, top, n) || (dir[n] != '/' && dir[n] != '\0'))
		return 0;
	return n + 1; /* + 1: a match of "" never wins over a real one */
}

static int read_mounts(struct mon_backend *b, struct mon_cg_mount **out)
{
	long n = mon_read(&b->buf, LX_IDS_MAX_BYTES, 0, "/proc/self/mountinfo"), count;

	if (n < 0)
		return (int)n;
	count = mon_parse_mountinfo(b->buf.p, (size_t)n, NULL, 0);
	if (count <= 0)
		return (int)count;
	*out = calloc((size_t)count, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	return (int)mon_parse_mountinfo(b->buf.p, (size_t)n, *out, (size_t)count);
}

/* The v1 group at `rel` in the hierarchy that carries `ctrl`: the watched
 * one if it does, else another mount's, if that directory exists. */
static int v1_sibling(const struct mon_cg_mount *m, int nm, const struct mon_cg_mount *own,
		      const char *dir, const char *rel, unsigned ctrl, char **out)
{
	char path[PATH_MAX];
	struct stat st;

	if (own->ctrl & ctrl) {
		*out = strdup(dir);
		return *out ? 0 : -ENOMEM;
	}
	for (int i = 0; i < nm; i++) {
		if (m[i].version != 1 || !(m[i].ctrl & ctrl))
			continue;
		if (snprintf(path, sizeof(path), "%s%s", m[i].dir, strcmp(rel, "/") ? rel : "") >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			*out = strdup(path);
			return *out ? 0 : -ENOMEM;
		}
	}
	return 0;
}

int lx_cgroup_resolve(struct mon_backend *b, const char *path, struct lx_cgroup *cg, char **rel)
{
	struct mon_cg_mount *m = NULL;
	const struct mon_cg_mount *own = NULL;
	char real[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	size_t best = 0;
	int nm, rc;

	if (!realpath(path, real) || stat(real, &st) < 0) {
		rc = -errno;
		LOG_ERR(b->ctx, "monitor", "cgroup %s: %s", path, rvmig_strerror(rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode) || statfs(real, &sfs) < 0 ||
	    (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)) {
		LOG_ERR(b->ctx, "monitor", "%s is not a cgroup directory", path);
		return -EINVAL;
	}
	cg->version = sfs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
	cg->dev = st.st_dev;
	cg->ino = st.st_ino;
	nm = read_mounts(b, &m);
	if (nm < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read /proc/self/mountinfo: %s", rvmig_strerror(nm));
		return nm;
	}
	for (int i = 0; i < nm; i++) {
		size_t u = m[i].version == cg->version ? under(real, m[i].dir) : 0;

		if (u > best) {
			best = u;
			own = &m[i];
		}
	}
	if (!own) {
		LOG_ERR(b->ctx, "monitor", "%s: no cgroup v%d mount holds it in /proc/self/mountinfo",
			path, cg->version);
		free(m);
		return -EINVAL;
	}
	*rel = strdup(strcmp(own->dir, "/") ? real + strlen(own->dir) : real);
	cg->dir = strdup(real);
	rc = *rel && cg->dir ? 0 : -ENOMEM;
	if (rc == 0 && !**rel) {
		free(*rel);
		*rel = strdup("/");
		rc = *rel ? 0 : -ENOMEM;
	}
	if (rc == 0 && cg->version == 1) {
		rc = v1_sibling(m, nm, own, real, *rel, MON_CG_CPU, &cg->cpu_dir);
		if (rc == 0)
			rc = v1_sibling(m, nm, own, real, *rel, MON_CG_CPUACCT, &cg->cpuacct_dir);
		if (rc == 0)
			rc = v1_sibling(m, nm, own, real, *rel, MON_CG_MEMORY, &cg->mem_dir);
		if (rc == 0)
			rc = v1_sibling(m, nm, own, real, *rel, MON_CG_BLKIO, &cg->blkio_dir);
	}
	free(m);
	if (rc < 0) {
		free(*rel);
		*rel = NULL;
		lx_cgroup_clear(cg);
		return rc;
	}
	cg->dfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cg->has_dfd = cg->dfd >= 0;
	if (!cg->has_dfd)
		LOG_INFO(b->ctx, "monitor", "cgroup %s: no descriptor for it (%s), read by path",
			 real, rvmig_strerror(-errno));
	if (cg->version == 1)
		LOG_INFO(b->ctx, "monitor",
			 "cgroup %s: v1 group %s; bandwidth from %s, CPU time from %s, memory from %s, "
			 "disks from %s",
			 real, *rel, cg->cpu_dir ? cg->cpu_dir : "(none)",
			 cg->cpuacct_dir ? cg->cpuacct_dir : "its threads",
			 cg->mem_dir ? cg->mem_dir : "its processes' RSS",
			 cg->blkio_dir ? cg->blkio_dir : "(none)");
	else
		LOG_INFO(b->ctx, "monitor", "cgroup %s: v2 group %s", real, *rel);
	return 0;
}

/* ---- sampling ---- */

struct walk {
	struct mon_backend *b;
	struct mon_dom_raw *d;
	const struct mon_dom_raw *prev;
	int version;
	unsigned groups;
};

/* The threads of one group (not its children); `dfd`: the group's
 * directory descriptor, or AT_FDCWD to go by `dir`. */
static int group_tasks(struct walk *wk, int dfd, const char *dir)
{
	/* Opened anew each sample, not kept (keptfd.h): a v1 task list read
	 * again through the same descriptor may come from the kernel's cached
	 * pid list of up to a second before. */
	const char *list = wk->version == 2 ? "cgroup.threads" : "tasks";
	long n = dfd == AT_FDCWD ? mon_read(&wk->b->ids, LX_IDS_MAX_BYTES, 0, "%s/%s", dir, list)
				 : mon_read_at(&wk->b->ids, LX_IDS_MAX_BYTES, 0, dfd, "%s", list),
	     count;
	uint64_t *tids;
	char tdir[48];
	int rc = 0;

	if (n < 0) {
		if (n != -ENOENT && n != -ENODEV)
			LOG_ERR(wk->b->ctx, "monitor", "cannot read %s/%s: %s", dir, list,
				rvmig_strerror((int)n));
		return (int)n;
	}
	count = mon_parse_ids(wk->b->ids.p, (size_t)n, NULL, 0);
	if (count < 0) {
		LOG_ERR(wk->b->ctx, "monitor", "cannot parse %s/%s: %s", dir, list,
			rvmig_strerror((int)count));
		return (int)count;
	}
	if (count == 0)
		return 0;
	tids = malloc((size_t)count * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	mon_parse_ids(wk->b->ids.p, (size_t)n, tids, (size_t)count);
	for (long i = 0; i < count && rc == 0; i++) {
		snprintf(tdir, sizeof(tdir), "/proc/%llu", (unsigned long long)tids[i]);
		rc = lx_add_task(wk->b, wk->d, wk->prev, tids[i], tdir);
	}
	free(tids);
	return rc;
}

/* The group at `dir` and the groups below it, depth first.  `nlink`: the
 * directory's link count; cgroup file systems (kernfs) keep it at 2 + the
 * number of child groups, so a group without children is not listed (a
 * directory listing of a cgroup costs more than all its counters). */
static int walk_group(struct walk *wk, int dfd, const char *dir, int depth, nlink_t nlink)
{
	char sub[PATH_MAX];
	struct dirent *e;
	DIR *dh;
	int rc;

	if (++wk->groups > LX_CG_GROUPS_MAX) {
		if (wk->groups == LX_CG_GROUPS_MAX + 1)
			LOG_WARN(wk->b->ctx, "monitor",
				 "%s: more than %u groups below it; the rest are left out", dir,
				 LX_CG_GROUPS_MAX);
		return 0;
	}
	if ((rc = group_tasks(wk, dfd, dir)) < 0)
		return rc;
	if (depth >= LX_CG_DEPTH_MAX || nlink == 2)
		return 0;
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	while (rc == 0 && (e = readdir(dh))) {
		struct stat st;

		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub))
			continue;
		rc = walk_group(wk, AT_FDCWD, sub, depth + 1, st.st_nlink);
		if (rc == -ENOENT || rc == -ENODEV)
			rc = 0; /* a child group removed meanwhile */
	}
	closedir(dh);
	return rc;
}

/* An optional file: absent (-ENOENT), or present but switched off
 * (-EOPNOTSUPP: PSI disabled) means "not measured"; both come back as
 * -ENOENT, quietly. */
static long read_opt(struct mon_backend *b, const struct lx_cgroup *cg, const char *dir,
		     const char *file)
{
	return lx_cg_read_opt(b, cg, dir, file, MON_READ_SHORT_EOF);
}

long lx_cg_read_opt(struct mon_backend *b, const struct lx_cgroup *cg, const char *dir,
		    const char *file, unsigned flags)
{
	int rel = cg->has_dfd && strcmp(dir, cg->dir) == 0;
	char path[PATH_MAX];
	long n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	n = kept_read(&b->kept, &b->buf, LX_SMALL_MAX_BYTES, flags, path, rel ? cg->dfd : AT_FDCWD,
		      rel ? file : NULL);

	if (n == -EOPNOTSUPP)
		return -ENOENT;
	if (n < 0 && n != -ENOENT)
		LOG_ERR(b->ctx, "monitor", "cannot read %s/%s: %s", dir, file, rvmig_strerror((int)n));
	return n;
}

static int parse_fail(struct mon_backend *b, const char *dir, const char *file, int rc)
{
	LOG_ERR(b->ctx, "monitor", "cannot parse %s/%s: %s", dir, file, rvmig_strerror(rc));
	return rc;
}

/* Resident memory of a group without a memory controller: the sum over its
 * processes.  A lone task (the common case: a single-threaded process per
 * group) is its process, so cgroup.procs need not be read. */
static int group_rss(struct mon_backend *b, const struct lx_cgroup *cg, struct mon_dom_raw *d,
		     unsigned groups)
{
	if (groups == 1 && d->ntasks == 1)
		return lx_task_rss(b, d->tasks[0].tid, &d->mem_cur);
	if (groups == 1 && d->ntasks == 0) {
		d->mem_cur = 0;
		return 0;
	}
	return lx_procs_rss(b, cg->dir, &d->mem_cur);
}

static int v2_counters(struct mon_backend *b, const struct lx_cgroup *cg, struct mon_dom_raw *d,
		       unsigned groups)
{
	uint64_t v;
	long n;
	int rc;

	if ((n = read_opt(b, cg, cg->dir, "cpu.stat")) >= 0) {
		if ((rc = mon_parse_key_u64(b->buf.p, (size_t)n, "usage_usec", &v)) == 0)
			d->group_cpu_ns = v * 1000;
		else if (rc != -ENOENT)
			return parse_fail(b, cg->dir, "cpu.stat", rc);
		if ((rc = mon_parse_key_u64(b->buf.p, (size_t)n, "throttled_usec", &v)) == 0) {
			d->throttled_ns = v * 1000;
			d->flags |= RVMIG_MONITOR_DOM_THROTTLE;
		} else if (rc != -ENOENT) {
			return parse_fail(b, cg->dir, "cpu.stat", rc);
		}
	} else if (n != -ENOENT) {
		return (int)n;
	}
	if ((n = read_opt(b, cg, cg->dir, "cpu.pressure")) >= 0) {
		if ((rc = mon_parse_pressure(b->buf.p, (size_t)n, "some", &v)) < 0)
			return parse_fail(b, cg->dir, "cpu.pressure", rc);
		d->pressure_ns = v * 1000;
		d->flags |= RVMIG_MONITOR_DOM_PRESSURE;
	} else if (n != -ENOENT) {
		return (int)n;
	}
	if ((n = read_opt(b, cg, cg->dir, "memory.current")) >= 0) {
		if ((rc = mon_parse_u64_or_max(b->buf.p, (size_t)n, &d->mem_cur)) < 0)
			return parse_fail(b, cg->dir, "memory.current", rc);
		if ((n = read_opt(b, cg, cg->dir, "memory.max")) >= 0 &&
		    (rc = mon_parse_u64_or_max(b->buf.p, (size_t)n, &d->mem_max)) < 0)
			return parse_fail(b, cg->dir, "memory.max", rc);
		return 0; /* the root group has no memory.max: unlimited */
	}
	if (n != -ENOENT)
		return (int)n;
	return group_rss(b, cg, d, groups);
}

static int v1_counters(struct mon_backend *b, const struct lx_cgroup *cg, struct mon_dom_raw *d,
		       unsigned groups)
{
	uint64_t v;
	long n;
	int rc;

	if (cg->cpu_dir && (n = read_opt(b, cg, cg->cpu_dir, "cpu.stat")) != -ENOENT) {
		if (n < 0)
			return (int)n;
		rc = mon_parse_key_u64(b->buf.p, (size_t)n, "throttled_time", &v);
		if (rc == 0) {
			d->throttled_ns = v;
			d->flags |= RVMIG_MONITOR_DOM_THROTTLE;
		} else if (rc != -ENOENT) {
			return parse_fail(b, cg->cpu_dir, "cpu.stat", rc);
		}
	}
	if (cg->cpuacct_dir && (n = read_opt(b, cg, cg->cpuacct_dir, "cpuacct.usage")) != -ENOENT) {
		if (n < 0)
			return (int)n;
		if ((rc = mon_parse_u64_or_max(b->buf.p, (size_t)n, &d->group_cpu_ns)) < 0)
			return parse_fail(b, cg->cpuacct_dir, "cpuacct.usage", rc);
	}
	if (!cg->mem_dir || (n = read_opt(b, cg, cg->mem_dir, "memory.usage_in_bytes")) == -ENOENT)
		return group_rss(b, cg, d, groups);
	if (n < 0)
		return (int)n;
	if ((rc = mon_parse_u64_or_max(b->buf.p, (size_t)n, &d->mem_cur)) < 0)
		return parse_fail(b, cg->mem_dir, "memory.usage_in_bytes", rc);
	if ((n = read_opt(b, cg, cg->mem_dir, "memory.limit_in_bytes")) == -ENOENT)
		return 0;
	if (n < 0)
		return (int)n;
	if ((rc = mon_parse_u64_or_max(b->buf.p, (size_t)n, &v)) < 0)
		return parse_fail(b, cg->mem_dir, "memory.limit_in_bytes", rc);
	d->mem_max = v >= V1_UNLIMITED ? UINT64_MAX : v;
	return 0;
}

static void cg_gone(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d)
{
	char why[MON_CG_PATH_MAX + 40];

	snprintf(why, sizeof(why), "the cgroup %s was removed", w->cg.dir);
	lx_mark_gone(b, w, d, why);
	free(d->nets);
	free(d->disks);
	d->nets = NULL;
	d->disks = NULL;
	d->nnets = d->ndisks = 0;
	d->group_cpu_ns = MON_NO_COUNTER;
	d->flags &= ~(unsigned)(RVMIG_MONITOR_DOM_THROTTLE | RVMIG_MONITOR_DOM_PRESSURE);
}

int lx_sample_cgroup(struct mon_backend *b, struct lx_watch *w, const struct mon_dom_raw *prev,
		     struct mon_dom_raw *d)
{
	struct walk wk = { b, d, prev, w->cg.version, 0 };
	struct stat st;
	int rc;

	d->mono_ns = lx_clock_ns(CLOCK_MONOTONIC);
	d->boot_ns = lx_clock_ns(CLOCK_BOOTTIME);
	/* With a descriptor, a removed group shows as its files gone
	 * (-ENOENT/-ENODEV) and the path is looked at only then. */
	if (w->gone || (w->cg.has_dfd ? fstat(w->cg.dfd, &st) : stat(w->cg.dir, &st)) < 0 ||
	    st.st_ino != w->cg.ino || st.st_dev != w->cg.dev) {
		cg_gone(b, w, d);
		return 0;
	}
	rc = walk_group(&wk, w->cg.has_dfd ? w->cg.dfd : AT_FDCWD, w->cg.dir, 0, st.st_nlink);
	if (rc == 0)
		rc = w->cg.version == 2 ? v2_counters(b, &w->cg, d, wk.groups)
					: v1_counters(b, &w->cg, d, wk.groups);
	if (rc == 0)
		rc = lx_sample_disks(b, w, d);
	if (rc == 0 && d->ntasks)
		rc = lx_sample_nets(b, w, d, d->tasks[0].tid);
	if ((rc == -ENOENT || rc == -ENODEV) &&
	    (stat(w->cg.dir, &st) < 0 || st.st_ino != w->cg.ino || st.st_dev != w->cg.dev)) {
		cg_gone(b, w, d); /* removed (and maybe made again) while we read it */
		return 0;
	}
	if (rc < 0)
		LOG_ERR(b->ctx, "monitor", "cgroup %s: %s", w->cg.dir, rvmig_strerror(rc));
	mon_dom_sort_tasks(d);
	return rc;
}
