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
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/linux/linux.h"

#define MAJ(dev) (((dev) >> 8) & 0xfffu)
#define MIN(dev) (((dev) & 0xffu) | (((dev) >> 12) & 0xfff00u))

void lx_netns_init(struct mon_backend *b)
{
	struct stat st;

	b->own_netns = stat("/proc/self/ns/net", &st) == 0;
	if (!b->own_netns) {
		LOG_INFO(b->ctx, "monitor",
			 "cannot stat /proc/self/ns/net (%s): no domain is given interfaces",
			 rvmig_strerror(-errno));
		return;
	}
	b->netns_dev = st.st_dev;
	b->netns_ino = st.st_ino;
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

static void tell_once(struct mon_backend *b, struct lx_watch *w, unsigned what, const char *msg,
		      const char *file)
{
	if (w->told & what)
		return;
	w->told |= what;
	LOG_WARN(b->ctx, "monitor", "domain %s: %s: %s", w->name, file, msg);
}

int lx_sample_nets(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d,
		   uint64_t tid)
{
	struct mon_devlist l = { .max = LX_NETS_MAX };
	char path[64];
	struct stat st;
	long n;
	int rc;

	if (!b->own_netns)
		return 0;
	snprintf(path, sizeof(path), "/proc/%llu/ns/net", (unsigned long long)tid);
	if (stat(path, &st) < 0) {
		rc = -errno;
		if (rc != -ENOENT && rc != -ESRCH && !(w->told & LX_TOLD_NETNS)) {
			w->told |= LX_TOLD_NETNS;
			LOG_INFO(b->ctx, "monitor", "domain %s: cannot stat %s (%s): no interfaces",
				 w->name, path, rvmig_strerror(rc));
		}
		return 0;
	}
	if (st.st_dev == b->netns_dev && st.st_ino == b->netns_ino)
		return 0; /* the monitor's own namespace: the host's interfaces */
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
	d->nets = malloc(l.n * sizeof(*d->nets));
	if (!d->nets)
		return -ENOMEM;
	memcpy(d->nets, b->nets, l.n * sizeof(*d->nets));
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
	d->disks = malloc(l.n * sizeof(*d->disks));
	if (!d->disks)
		return -ENOMEM;
	memcpy(d->disks, b->disks, l.n * sizeof(*d->disks));
	d->ndisks = l.n;
	return 0;
}
