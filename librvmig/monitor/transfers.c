/* SPDX-License-Identifier: MIT */
/* transfers.c - the monitor's reader of transfer files (transfers.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "monitor/linux/fsread.h"
#include "monitor/transfers.h"
#include "publish/rundir.h"

struct reader {
	struct rvmig_ctx *ctx;
	struct rvmig_monitor_snap *snap;
	size_t cap;
	struct mon_buf buf; /* a file's text, reused */
};

/* Whether the process pid is alive with this start time; its uid in *uid. */
static int alive(int pid, uint64_t start, uid_t *uid)
{
	char path[32];
	struct stat st;
	uint64_t ticks;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &st))
		return 0;
	*uid = st.st_uid;
	rc = pub_pid_start(pid, &ticks);
	return rc == 0 && ticks == start;
}

static int add(struct reader *r, const struct xrec_file *f)
{
	struct rvmig_monitor_snap *s = r->snap;

	for (size_t i = 0; i < f->n && s->nxfer < MON_XFER_MAX; i++) {
		struct rvmig_monitor_xfer *t;

		if (s->nxfer == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8;

			t = realloc(s->xfer, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			s->xfer = t;
			r->cap = cap;
		}
		t = &s->xfer[s->nxfer++];
		t->pid = f->pid;
		memcpy(t->tool, f->tool, sizeof(t->tool));
		t->updated_ns = f->updated_ns;
		t->r = f->x[i];
	}
	return 0;
}

static int read_file(struct reader *r, const char *dir, int dfd, const char *name, int pid)
{
	struct stat st, now;
	struct xrec_file f;
	const char *why;
	unsigned line;
	uid_t uid = 0;
	long len;
	int fd, rc = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone meanwhile, a link, not ours to read */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > XREC_FILE_MAX) {
		LOG_DBG(r->ctx, "monitor", "%s/%s: not a regular file within %u bytes: ignored", dir,
			name, XREC_FILE_MAX);
		goto out;
	}
	len = mon_read_fd(&r->buf, fd, XREC_FILE_MAX, 0);
	if (len == -ENOMEM) {
		rc = -ENOMEM;
		goto out;
	}
	if (len < 0) {
		LOG_DBG(r->ctx, "monitor", "%s/%s: %s: ignored", dir, name, strerror((int)-len));
		goto out;
	}
	rc = xrec_parse(r->buf.p, (size_t)len, &f, &why, &line);
	if (rc == -ENOMEM)
		goto out;
	if (rc) {
		LOG_DBG(r->ctx, "monitor", "%s/%s: line %u: %s: ignored", dir, name, line, why);
		rc = 0;
		goto out;
	}
	if (f.pid != (uint64_t)pid) {
		LOG_DBG(r->ctx, "monitor", "%s/%s: names pid %llu: ignored", dir, name,
			(unsigned long long)f.pid);
	} else if (!alive(pid, f.pid_start, &uid)) {
		/* The process is gone (or the pid is another's now): the file is
		 * stale.  Removed if it is still the one read. */
		if (!fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) && now.st_ino == st.st_ino &&
		    now.st_dev == st.st_dev && !unlinkat(dfd, name, 0))
			LOG_DBG(r->ctx, "monitor", "%s/%s: process gone: removed", dir, name);
	} else if (st.st_uid != 0 && st.st_uid != uid) {
		LOG_DBG(r->ctx, "monitor", "%s/%s: owned by uid %u, process %d by uid %u: ignored",
			dir, name, (unsigned)st.st_uid, pid, (unsigned)uid);
	} else {
		rc = add(r, &f);
	}
	xrec_file_free(&f);
out:
	close(fd);
	return rc;
}

static int cmp_xfer(const void *a, const void *b)
{
	const struct rvmig_monitor_xfer *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->r.id < y->r.id ? -1 : x->r.id > y->r.id;
}

int mon_transfers_read(struct rvmig_ctx *ctx, struct rvmig_monitor_snap *snap)
{
	char dirs[PUB_RUN_DIRS_MAX][PUB_PATH_MAX];
	unsigned nd = pub_rundirs(dirs);
	struct reader r = { .ctx = ctx, .snap = snap };
	int rc = 0;

	for (unsigned d = 0; d < nd && !rc; d++) {
		unsigned files = 0;
		struct dirent *e;
		DIR *dp;
		int dfd = open(dirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0)
			continue;
		dp = fdopendir(dfd);
		if (!dp) {
			close(dfd);
			continue;
		}
		while (!rc && (e = readdir(dp)) && files < MON_XFER_FILES_MAX) {
			int pid = pub_name_pid(e->d_name);

			if (!pid)
				continue;
			files++;
			rc = read_file(&r, dirs[d], dfd, e->d_name, pid);
		}
		closedir(dp);
	}
	mon_buf_free(&r.buf);
	if (rc) {
		free(snap->xfer);
		snap->xfer = NULL;
		snap->nxfer = 0;
		return rc;
	}
	if (snap->nxfer > 1)
		qsort(snap->xfer, snap->nxfer, sizeof(*snap->xfer), cmp_xfer);
	return 0;
}
