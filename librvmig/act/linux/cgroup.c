/* SPDX-License-Identifier: MIT */
/*
 * cgroup.c - the Linux actuator (rvmig/act.h, backend "linux"): a cgroup's CPU quota, weight
 * and CPU set, on cgroup v2 (cpu.max, cpu.weight, cpuset.cpus) or v1
 * (cpu.cfs_quota_us with the group's cpu.cfs_period_us, cpu.shares,
 * cpuset.cpus in the cpuset hierarchy).
 *
 * Where: the cgroup mounts come from /proc/self/mounts.  A cgroup:PATH
 * target must resolve (realpath) inside one; on v1 the same relative group
 * is taken in the hierarchy that carries the controller the action needs.
 * A pid:N target is the group /proc/N/cgroup names for that controller (v1)
 * or its unified group (v2).  The directory finally written must still lie
 * inside the controller's mount after resolving links; anything else is
 * refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "act/act_int.h"

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define V1_MOUNTS_MAX 32
#define FILE_MAX 4096            /* bytes read of a cgroup file */
#define CFS_QUOTA_MIN_US 1000    /* the kernel refuses less */

struct cg_mounts {
	char v2[PATH_MAX];       /* "" when there is none */
	unsigned nv1;
	struct {
		char dir[PATH_MAX];
		char opts[512];
	} v1[V1_MOUNTS_MAX];
};

/* The directory a setting lives in. */
struct cg_dir {
	int version;
	char dir[PATH_MAX];
};

static int handles(enum rvmig_act_target_kind tk, enum rvmig_action_kind k)
{
	return (tk == RVMIG_ACT_TARGET_CGROUP || tk == RVMIG_ACT_TARGET_PID) &&
	       (k == RVMIG_ACT_CG_CPU_MAX || k == RVMIG_ACT_CG_CPU_WEIGHT || k == RVMIG_ACT_CG_CPUSET ||
		k == RVMIG_ACT_VCPUS);
}

static const char *ctrl_of(enum rvmig_action_kind k)
{
	return k == RVMIG_ACT_CG_CPUSET || k == RVMIG_ACT_VCPUS ? "cpuset" : "cpu";
}

/* 1 when the comma-separated list `list` holds `word`. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static int load_mounts(struct cg_mounts *m, char *err, size_t errlen)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent ent;
	char buf[4096];

	memset(m, 0, sizeof(*m));
	if (!f) {
		snprintf(err, errlen, "cannot read /proc/self/mounts: %s", strerror(errno));
		return -errno;
	}
	while (getmntent_r(f, &ent, buf, sizeof(buf))) {
		if (!strcmp(ent.mnt_type, "cgroup2") && !m->v2[0])
			snprintf(m->v2, sizeof(m->v2), "%s", ent.mnt_dir);
		else if (!strcmp(ent.mnt_type, "cgroup") && m->nv1 < V1_MOUNTS_MAX) {
			snprintf(m->v1[m->nv1].dir, sizeof(m->v1[0].dir), "%s", ent.mnt_dir);
			snprintf(m->v1[m->nv1].opts, sizeof(m->v1[0].opts), "%s", ent.mnt_opts);
			m->nv1++;
		}
	}
	endmntent(f);
	return 0;
}

static const char *v1_mount(const struct cg_mounts *m, const char *ctrl)
{
	for (unsigned i = 0; i < m->nv1; i++)
		if (has_word(m->v1[i].opts, ctrl))
			return m->v1[i].dir;
	return NULL;
}

/* Length of `top` when `dir` is top or below it, else 0. */
static size_t under(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return 1;
	if (strncmp(dir, top, n) || (dir[n] != '/' && dir[n] != '\0'))
		return 0;
	return n;
}

static void esc(char *out, size_t cap, const char *s)
{
	rvmig_text_escape(out, cap, s, strlen(s));
}

/* mount + rel, resolved, checked to be a directory inside mount. */
static int join_checked(const char *mount, const char *rel, struct cg_dir *d, char *err,
			size_t errlen)
{
	char path[PATH_MAX], e[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s%s", mount, strcmp(rel, "/") ? rel : "") >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "cgroup path too long below %s", mount);
		return -ENAMETOOLONG;
	}
	if (!realpath(path, d->dir) || stat(d->dir, &st) < 0) {
		int rc = -errno;

		esc(e, sizeof(e), path);
		snprintf(err, errlen, "cgroup %s: %s", e, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode) || !under(d->dir, mount)) {
		esc(e, sizeof(e), path);
		snprintf(err, errlen, "cgroup %s: resolves outside the cgroup mount %s", e, mount);
		return -EPERM;
	}
	return 0;
}

static int resolve_path(const struct cg_mounts *m, const char *given, const char *ctrl,
			struct cg_dir *d, char *err, size_t errlen)
{
	char real[PATH_MAX], e[PATH_MAX];
	const char *mount = NULL, *cm;
	struct statfs sfs;
	size_t best = 0, u;

	esc(e, sizeof(e), given);
	if (!realpath(given, real)) {
		int rc = -errno;

		snprintf(err, errlen, "cgroup %s: %s", e, strerror(-rc));
		return rc;
	}
	if (statfs(real, &sfs) < 0 ||
	    (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)) {
		snprintf(err, errlen, "%s is not inside a cgroup file system: refused", e);
		return -EPERM;
	}
	d->version = sfs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
	if (d->version == 2 && m->v2[0] && (u = under(real, m->v2)) > best) {
		best = u;
		mount = m->v2;
	}
	for (unsigned i = 0; d->version == 1 && i < m->nv1; i++)
		if ((u = under(real, m->v1[i].dir)) > best) {
			best = u;
			mount = m->v1[i].dir;
		}
	if (!mount) {
		snprintf(err, errlen, "%s: no cgroup v%d mount in /proc/self/mounts holds it: refused", e,
			 d->version);
		return -EPERM;
	}
	cm = mount;
	if (d->version == 1 && !(cm = v1_mount(m, ctrl))) {
		snprintf(err, errlen, "%s: no cgroup v1 hierarchy carries the %s controller", e, ctrl);
		return -ENOTSUP;
	}
	return join_checked(cm, real[strlen(mount)] ? real + strlen(mount) : "/", d, err, errlen);
}

static int resolve_pid(const struct cg_mounts *m, long pid, const char *ctrl, struct cg_dir *d,
		       char *err, size_t errlen)
{
	char path[64], line[PATH_MAX + 256];
	const char *v1 = v1_mount(m, ctrl);
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
	if (!(f = fopen(path, "re"))) {
		rc = -errno;
		snprintf(err, errlen, "pid %ld: cannot read %s: %s", pid, path, strerror(-rc));
		return rc;
	}
	/* hierarchy-ID:controller-list:path, e.g. "4:cpu,cpuacct:/a" or "0::/a" */
	while (rc == -ENOENT && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t n;

		if (!c2 || c2[1] != '/')
			continue;
		*c2 = '\0';
		n = strlen(c2 + 1);
		if (n && c2[n] == '\n')
			c2[n] = '\0';
		if (v1 && has_word(c1 + 1, ctrl)) {
			d->version = 1;
			rc = join_checked(v1, c2 + 1, d, err, errlen);
		} else if (!v1 && m->v2[0] && !strcmp(line, "0") && c1[1] == '\0') {
			d->version = 2;
			rc = join_checked(m->v2, c2 + 1, d, err, errlen);
		}
	}
	fclose(f);
	if (rc == -ENOENT && !err[0])
		snprintf(err, errlen, "pid %ld: %s names no group with the %s controller", pid, path,
			 ctrl);
	return rc;
}

static int resolve(const struct rvmig_act_target *t, enum rvmig_action_kind k, struct cg_dir *d,
		   char *err, size_t errlen)
{
	struct cg_mounts *m = malloc(sizeof(*m));
	int rc;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	err[0] = '\0';
	rc = load_mounts(m, err, errlen);
	if (rc == 0)
		rc = t->kind == RVMIG_ACT_TARGET_PID ? resolve_pid(m, t->id, ctrl_of(k), d, err, errlen)
					       : resolve_path(m, t->path, ctrl_of(k), d, err, errlen);
	free(m);
	return rc;
}

/* ---- files ---- */

static int file_path(const struct cg_dir *d, const char *file, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", d->dir, file) < (int)len ? 0 : -ENAMETOOLONG;
}

/* The whole of a small cgroup file, NUL-terminated, trailing newline cut. */
static int read_text(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		goto fail;
	while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got == cap - 1) {
		snprintf(err, errlen, "%s: longer than %zu bytes", path, cap - 1);
		return -EFBIG;
	}
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	return 0;
fail:
	snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	return -errno;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(text);
	ssize_t n;
	char e[128];

	if (fd < 0)
		goto fail;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		goto fail;
	}
	close(fd);
	if ((size_t)n == len)
		return 0;
	errno = EIO;
fail:
	esc(e, sizeof(e), text);
	snprintf(err, errlen, "cannot write \"%s\" to %s: %s", e, path, strerror(errno));
	return -errno;
}

/* A decimal integer (optionally negative), the whole text. */
static int parse_i64(const char *path, const char *s, int64_t *v, char *err, size_t errlen)
{
	char *end, e[64];

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (!errno && end != s && (*end == '\0' || *end == ' '))
		return 0;
	esc(e, sizeof(e), s);
	snprintf(err, errlen, "%s: \"%s\" is not a number", path, e);
	return -EPROTO;
}

static int read_i64(const struct cg_dir *d, const char *file, int64_t *v, char *where,
		    size_t wherelen, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[128];
	int rc;

	if (file_path(d, file, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	snprintf(where, wherelen, "%s", path);
	if ((rc = read_text(path, buf, sizeof(buf), err, errlen)) < 0)
		return rc;
	return parse_i64(path, buf, v, err, errlen);
}

/* ---- the settings ---- */

/* The group's period and quota, microseconds; quota < 0: none. */
static int read_bw(const struct cg_dir *d, int64_t *quota, int64_t *period, char *where,
		   size_t wherelen, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[128], *sp;
	char w[PATH_MAX];
	int rc;

	if (d->version == 1) {
		if ((rc = read_i64(d, "cpu.cfs_period_us", period, w, sizeof(w), err, errlen)) < 0)
			return rc;
		return read_i64(d, "cpu.cfs_quota_us", quota, where, wherelen, err, errlen);
	}
	if (file_path(d, "cpu.max", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	snprintf(where, wherelen, "%s", path);
	if ((rc = read_text(path, buf, sizeof(buf), err, errlen)) < 0)
		return rc;
	/* "max 100000" or "20000 100000" */
	if (!(sp = strchr(buf, ' ')) || parse_i64(path, sp + 1, period, err, errlen) < 0)
		goto bad;
	*sp = '\0';
	if (!strcmp(buf, "max")) {
		*quota = -1;
		return 0;
	}
	if (parse_i64(path, buf, quota, err, errlen) == 0)
		return 0;
bad:
	snprintf(err, errlen, "%s: not \"QUOTA PERIOD\"", path);
	return -EPROTO;
}

static int period_ok(const char *where, int64_t period, char *err, size_t errlen)
{
	if (period > 0)
		return 0;
	snprintf(err, errlen, "%s: a CPU period of %" PRId64 " us", where, period);
	return -EPROTO;
}

/* The group's period (> 0) and quota, microseconds; quota < 0: none. */
static int cpu_bw(const struct cg_dir *d, int64_t *quota, int64_t *period, char *where,
		  size_t wherelen, char *err, size_t errlen)
{
	int rc = read_bw(d, quota, period, where, wherelen, err, errlen);

	return rc < 0 ? rc : period_ok(where, *period, err, errlen);
}


/* ---- a vCPU count as a cpuset of that many CPUs ----
 * The honest Linux analogue of a Xen vCPU count: a group's threads may run
 * on N CPUs at once at most, so it can use N CPUs at most.  Its threads
 * are not removed: they share the N.  The CPUs are the first N its parent
 * allows. */

/* The CPUs of group dir's cpuset (v2: its effective list when its own is
 * empty) into mask; their count, or -errno. */
static int cpus_of(const char *dir, int version, uint64_t mask[ACT_CPU_WORDS], char *where,
		   size_t wherelen, char *err, size_t errlen)
{
	char path[PATH_MAX], list[RVMIG_ACT_ARG_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/cpuset.cpus", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((rc = read_text(path, list, sizeof(list), err, errlen)) < 0)
		return rc;
	if (!list[0] && version == 2) {
		snprintf(path, sizeof(path), "%s/cpuset.cpus.effective", dir);
		if ((rc = read_text(path, list, sizeof(list), err, errlen)) < 0)
			return rc;
	}
	snprintf(where, wherelen, "%s", path);
	if ((rc = act_cpulist_parse(list, mask, err, errlen)) < 0)
		return rc;
	return act_cpulist_count(mask);
}

/* The first n CPUs of the parent's cpuset as a list ("0,1,4"). */
static int first_cpus(const struct cg_dir *d, int64_t n, char *list, size_t len, char *err,
		      size_t errlen)
{
	uint64_t mask[ACT_CPU_WORDS];
	char parent[PATH_MAX], where[PATH_MAX], *slash;
	int have, rc;

	snprintf(parent, sizeof(parent), "%s", d->dir);
	if (!(slash = strrchr(parent, '/')) || slash == parent) {
		snprintf(err, errlen, "%s: no parent group", d->dir);
		return -EINVAL;
	}
	*slash = '\0';
	if ((have = cpus_of(parent, d->version, mask, where, sizeof(where), err, errlen)) < 0)
		return have;
	if ((rc = act_cpulist_first(mask, n, list, len)) == -ERANGE)
		snprintf(err, errlen, "%s: %" PRId64 " CPUs asked, the parent group allows %d", d->dir,
			 n, have);
	return rc;
}

/* The setting of kind k in group d. */
static int get_in(const struct cg_dir *d, enum rvmig_action_kind k, struct rvmig_act_setting *out,
		  char *where, size_t wherelen, char *err, size_t errlen)
{
	uint64_t mask[ACT_CPU_WORDS];
	int64_t q, p, v;
	char path[PATH_MAX];
	int rc;

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if ((rc = cpu_bw(d, &q, &p, where, wherelen, err, errlen)) < 0)
			return rc;
		out->value = act_quota_cpus(q, p);
		return 0;
	case RVMIG_ACT_CG_CPU_WEIGHT:
		if ((rc = read_i64(d, d->version == 1 ? "cpu.shares" : "cpu.weight", &v, where,
				   wherelen, err, errlen)) < 0)
			return rc;
		out->value = d->version == 1 ? act_shares_to_weight(v) : v;
		return 0;
	case RVMIG_ACT_CG_CPUSET:
		if (file_path(d, "cpuset.cpus", path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		snprintf(where, wherelen, "%s", path);
		return read_text(path, out->arg, sizeof(out->arg), err, errlen);
	case RVMIG_ACT_VCPUS:
		if ((rc = cpus_of(d->dir, d->version, mask, where, wherelen, err, errlen)) < 0)
			return rc;
		out->value = rc;
		return 0;
	default: return -ENOTSUP;
	}
}

/* Writes setting s of kind k in group d. */
static int set_in(const struct cg_dir *d, enum rvmig_action_kind k,
		  const struct rvmig_act_setting *s, char *err, size_t errlen)
{
	char path[PATH_MAX], text[RVMIG_ACT_ARG_MAX + 64], where[PATH_MAX];
	int64_t q, p, v;
	int rc;

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if ((rc = cpu_bw(d, &q, &p, where, sizeof(where), err, errlen)) < 0)
			return rc;
		q = act_quota_us(s->value, p);
		if (q >= 0 && q < CFS_QUOTA_MIN_US) {
			snprintf(err, errlen,
				 "%s: %.4f CPU is a quota of %" PRId64 " us at a period of %" PRId64
				 " us, below the kernel's %d us",
				 where, (double)s->value / 1e6, q, p, CFS_QUOTA_MIN_US);
			return -ERANGE;
		}
		if (d->version == 1) {
			snprintf(text, sizeof(text), "%" PRId64, q);
			return write_text(where, text, err, errlen);
		}
		if (q < 0)
			snprintf(text, sizeof(text), "max %" PRId64, p);
		else
			snprintf(text, sizeof(text), "%" PRId64 " %" PRId64, q, p);
		return write_text(where, text, err, errlen);
	case RVMIG_ACT_CG_CPU_WEIGHT:
		v = d->version == 1 ? act_weight_to_shares(s->value) : s->value;
		if (file_path(d, d->version == 1 ? "cpu.shares" : "cpu.weight", path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		snprintf(text, sizeof(text), "%" PRId64, v);
		return write_text(path, text, err, errlen);
	case RVMIG_ACT_CG_CPUSET:
		if (file_path(d, "cpuset.cpus", path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		/* "" (a v2 group's own list cleared) is written as a newline */
		snprintf(text, sizeof(text), "%s", s->arg[0] ? s->arg : "\n");
		return write_text(path, text, err, errlen);
	case RVMIG_ACT_VCPUS:
		if (file_path(d, "cpuset.cpus", path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		if ((rc = first_cpus(d, s->value, text, sizeof(text), err, errlen)) < 0)
			return rc;
		return write_text(path, text, err, errlen);
	default: return -ENOTSUP;
	}
}

static int get(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
	       struct rvmig_act_setting *out, char *where, size_t wherelen, char *err, size_t errlen)
{
	struct cg_dir d;
	int rc = resolve(t, k, &d, err, errlen);

	(void)act;
	return rc < 0 ? rc : get_in(&d, k, out, where, wherelen, err, errlen);
}

static int set(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
	       const struct rvmig_act_setting *s, char *err, size_t errlen)
{
	struct cg_dir d;
	int rc = resolve(t, k, &d, err, errlen);

	(void)act;
	return rc < 0 ? rc : set_in(&d, k, s, err, errlen);
}

const struct act_ops act_linux_ops = {
	.name = "linux-cgroup",
	.handles = handles,
	.get = get,
	.set = set,
};
