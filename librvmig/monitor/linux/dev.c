/* SPDX-License-Identifier: MIT */
/*
 * dev.c - a Linux domain's network interfaces (its network namespace's
 * /proc/PID/net/dev, when that namespace is not the monitor's own) and a
 * watched cgroup's disks (v2 io.stat, v1 blkio.throttle.*), with the block
 * devices' names from /sys/dev/block.  See rvmig_monitor(3) for the rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

#define MAJ(dev) (((dev) >> 8) & 0xfffu)
#define MIN(dev) (((dev) & 0xffu) | (((dev) >> 12) & 0xfff00u))

/* The link /proc/.../ns/net reads as "net:[INODE]": comparing links is
 * cheaper than stat(), which makes the kernel set up the namespace's nsfs
 * inode for each call (on the overhead benchmark, a tenth of a sample). */
static int netns_link(const char *path, char *out, size_t cap)
{
	ssize_t n = readlink(path, out, cap - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= cap - 1)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

void lx_netns_init(struct mon_backend *b)
{
	int rc = netns_link("/proc/self/ns/net", b->netns, sizeof(b->netns));

	b->own_netns = rc == 0;
	if (rc < 0)
		LOG_INFO(b->ctx, "monitor",
			 "cannot read /proc/self/ns/net (%s): no domain is given interfaces",
			 rvmig_strerror(rc));
}

/* Line `no` (1-based) of the text, escaped, for an error message. */
static const char *line_of(const char *s, size_t len, unsigned no, char *out, size_t cap)
{
	const char *end = s + len, *nl;

	while (--no > 0 && (nl = memchr(s, '\n', (size_t)(end - s))))
		s = nl + 1;
	nl = memchr(s, '\n', (size_t)(end - s));
	rvmig_text_escape(out, cap, s, (size_t)((nl ? nl : end) - s));
	return out;
}

static int parse_failed(struct mon_backend *b, const char *file, const struct mon_devlist *l,
			long len, int rc)
{
	char line[96];

	LOG_ERR(b->ctx, "monitor", "cannot parse %s line %u (\"%s\"): %s", file, l->bad_line,
		line_of(b->buf.p, (size_t)len, l->bad_line, line, sizeof(line)), rvmig_strerror(rc));
	return rc;
}

/* A heap copy of n elements of `size` bytes (n > 0); NULL without memory. */
static void *copy_of(const void *src, size_t n, size_t size)
{
	void *p = malloc(n * size);

	if (p)
		memcpy(p, src, n * size);
	return p;
}

static void tell_once(struct mon_backend *b, struct lx_watch *w, unsigned what, const char *msg,
		      const char *file)
{
	if (w->told & what)
		return;
	w->told |= what;
	LOG_WARN(b->ctx, "monitor", "domain %s: %s: %s", w->name, file, msg);
}

/* Whether task `tid`'s network namespace is the monitor's own (or cannot
 * be read) or another.  Looked up again when the domain's first task
 * changed and every LX_NETNS_RECHECK samples: processes rarely change
 * namespace, and the look-up costs more than the rest of a process's
 * sample together (a path walk through /proc/TID/ns). */
static int netns_of(struct mon_backend *b, struct lx_watch *w, uint64_t tid)
{
	char path[64], ns[sizeof(b->netns)];
	int rc;

	if (w->netns_state != LX_NETNS_UNKNOWN && w->netns_tid == tid &&
	    ++w->netns_age < LX_NETNS_RECHECK)
		return w->netns_state;
	w->netns_tid = tid;
	w->netns_age = 0;
	snprintf(path, sizeof(path), "/proc/%llu/ns/net", (unsigned long long)tid);
	if ((rc = netns_link(path, ns, sizeof(ns))) < 0) {
		if (rc != -ENOENT && rc != -ESRCH && !(w->told & LX_TOLD_NETNS)) {
			w->told |= LX_TOLD_NETNS;
			LOG_INFO(b->ctx, "monitor", "domain %s: cannot read %s (%s): no interfaces",
				 w->name, path, rvmig_strerror(rc));
		}
		w->netns_state = rc == -ENOENT || rc == -ESRCH ? LX_NETNS_UNKNOWN : LX_NETNS_HOST;
		return w->netns_state;
	}
	/* the monitor's own namespace holds the host's interfaces */
	w->netns_state = strcmp(ns, b->netns) ? LX_NETNS_OWN : LX_NETNS_HOST;
	return w->netns_state;
}

int lx_sample_nets(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d,
		   uint64_t tid)
{
	struct mon_devlist l = { .max = LX_NETS_MAX };
	char path[64];
	long n;
	int rc;

	if (!b->own_netns || netns_of(b, w, tid) != LX_NETNS_OWN)
		return 0;
	snprintf(path, sizeof(path), "/proc/%llu/net/dev", (unsigned long long)tid);
	n = mon_read(&b->buf, LX_SMALL_MAX_BYTES, MON_READ_CUT, "%s", path);
	if (n == -ENOENT || n == -ESRCH)
		return 0; /* the task ended meanwhile */
	if (n < 0) {
		LOG_ERR(b->ctx, "monitor", "cannot read %s: %s", path, rvmig_strerror((int)n));
		return (int)n;
	}
	if ((rc = mon_parse_net_dev(b->buf.p, (size_t)n, b->nets, &l)) < 0)
		return parse_failed(b, path, &l, n, rc);
	if (l.more)
		tell_once(b, w, LX_TOLD_NETS_MORE, "more than 64 interfaces, the rest left out",
			  path);
	if (!l.n)
		return 0;
	if (!(d->nets = copy_of(b->nets, l.n, sizeof(*d->nets))))
		return -ENOMEM;
	d->nnets = l.n;
	return 0;
}

/* The kernel's name of block device `dev`: the last component of the
 * /sys/dev/block/MAJ:MIN link (remembered), else "MAJ:MIN". */
static void disk_name(struct mon_backend *b, struct rvmig_monitor_disk *k)
{
	char path[64], target[PATH_MAX];
	struct lx_devname *e;
	const char *base;
	ssize_t n;

	for (size_t i = 0; i < b->nnames; i++)
		if (b->names[i].dev == k->dev) {
			memcpy(k->name, b->names[i].name, sizeof(k->name));
			return;
		}
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", MAJ(k->dev), MIN(k->dev));
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		/* not remembered: the device may appear later */
		snprintf(k->name, sizeof(k->name), "%u:%u", MAJ(k->dev), MIN(k->dev));
		return;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	rvmig_text_escape(k->name, sizeof(k->name), base, strlen(base));
	if (b->nnames == LX_DEVNAMES_MAX)
		b->nnames = 0; /* forget them all: device names rarely change */
	e = &b->names[b->nnames++];
	e->dev = k->dev;
	memcpy(e->name, k->name, sizeof(e->name));
}

/* Reads a v1 blkio file, the _recursive one (the group's subtree, as the
 * domain is) where the kernel has it, into l. */
static int read_blkio(struct mon_backend *b, struct lx_watch *w, const char *file, int ios,
		      struct mon_devlist *l)
{
	char name[80], path[PATH_MAX];
	long n;
	int rc;

	snprintf(name, sizeof(name), "%s_recursive", file);
	n = lx_cg_read_opt(b, &w->cg, w->cg.blkio_dir, name, MON_READ_CUT);
	if (n == -ENOENT)
		n = lx_cg_read_opt(b, &w->cg, w->cg.blkio_dir, file, MON_READ_CUT);
	else
		file = name;
	if (n < 0)
		return n == -ENOENT ? 0 : (int)n;
	if ((rc = mon_parse_blkio(b->buf.p, (size_t)n, ios, b->disks, l)) < 0) {
		snprintf(path, sizeof(path), "%s/%s", w->cg.blkio_dir, file);
		return parse_failed(b, path, l, n, rc);
	}
	return 0;
}

int lx_sample_disks(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d)
{
	struct mon_devlist l = { .max = LX_DISKS_MAX };
	char path[PATH_MAX];
	long n;
	int rc;

	if (w->cg.version == 2) {
		n = lx_cg_read_opt(b, &w->cg, w->cg.dir, "io.stat", MON_READ_CUT);
		if (n == -ENOENT)
			return 0; /* the io controller is not enabled for the group */
		if (n < 0)
			return (int)n;
		if ((rc = mon_parse_io_stat(b->buf.p, (size_t)n, b->disks, &l)) < 0) {
			snprintf(path, sizeof(path), "%s/io.stat", w->cg.dir);
			return parse_failed(b, path, &l, n, rc);
		}
	} else if (w->cg.blkio_dir) {
		if ((rc = read_blkio(b, w, "blkio.throttle.io_service_bytes", 0, &l)) < 0 ||
		    (rc = read_blkio(b, w, "blkio.throttle.io_serviced", 1, &l)) < 0)
			return rc;
	}
	if (l.more)
		tell_once(b, w, LX_TOLD_DISKS_MORE, "more than 64 disks, the rest left out",
			  w->cg.version == 2 ? "io.stat" : "blkio.throttle");
	if (!l.n)
		return 0;
	for (size_t i = 0; i < l.n; i++)
		disk_name(b, &b->disks[i]);
	if (!(d->disks = copy_of(b->disks, l.n, sizeof(*d->disks))))
		return -ENOMEM;
	d->ndisks = l.n;
	return 0;
}
