/* SPDX-License-Identifier: MIT */
/* monitor.c - the monitor handle: backend choice, watches, sampling. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/monitor.h>

#include "core/log.h"
#include "monitor/backend.h"
#include "monitor/interval.h"
#include "monitor/transfers.h"

struct rvmig_monitor {
	struct rvmig_ctx *ctx;
	const struct mon_backend_ops *ops;
	struct mon_backend *be;
	int next_watch;
	int have_prev;
	struct mon_raw prev; /* the only sample kept */
};

static int open_backend(rvmig_ctx *ctx, const struct mon_backend_ops *ops, rvmig_monitor *mon)
{
	int rc = ops->open(ctx, &mon->be);

	if (rc < 0)
		return rc;
	mon->ops = ops;
	LOG_INFO(ctx, "monitor", "backend %s opened", ops->name);
	return 0;
}

/* Whether the backend can work on this host (0) or not (a negative errno).
 * Why not is logged with the backend's name: as an error when it was asked
 * for by name, at info level when "auto" passes over it. */
static int probe(rvmig_ctx *ctx, const struct mon_backend_ops *ops, bool named)
{
	char why[256] = "";
	int rc;

	rc = ops->probe_why(ctx, why, sizeof(why));
	if (rc < 0)
		rvmig_logf(ctx, named ? RVMIG_LOG_ERROR : RVMIG_LOG_INFO, "monitor",
			   "monitor backend %s cannot work on this host: %s", ops->name,
			   why[0] ? why : rvmig_strerror(rc));
	return rc;
}

RVMIG_API int rvmig_monitor_open(rvmig_ctx *ctx, const char *backend, rvmig_monitor **out)
{
	struct rvmig_monitor *mon;
	int rc = -ENOTSUP;

	if (!out)
		return -EINVAL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	mon->ctx = ctx;
	if (backend && strcmp(backend, "auto")) {
		const struct mon_backend_ops *ops = mon_backend_find(backend);

		if (!ops) {
			LOG_ERR(ctx, "monitor", "no monitor backend called \"%s\" in this build",
				backend);
			rc = -ENOENT;
		} else {
			rc = probe(ctx, ops, true);
			if (rc == 0)
				rc = open_backend(ctx, ops, mon);
		}
	} else {
		for (size_t i = 0; mon_backend_table[i]; i++) {
			const struct mon_backend_ops *ops = mon_backend_table[i];

			if (probe(ctx, ops, false) < 0)
				continue;
			rc = open_backend(ctx, ops, mon);
			break;
		}
		if (rc < 0)
			LOG_ERR(ctx, "monitor", "no monitor backend works on this host");
	}
	if (rc < 0) {
		free(mon);
		return rc;
	}
	*out = mon;
	return 0;
}

RVMIG_API void rvmig_monitor_close(rvmig_monitor *mon)
{
	if (!mon)
		return;
	mon->ops->close(mon->be);
	mon_raw_free(&mon->prev);
	free(mon);
}

RVMIG_API const char *rvmig_monitor_backend(const rvmig_monitor *mon)
{
	return mon ? mon->ops->name : NULL;
}

static int next_watch(rvmig_monitor *mon)
{
	return mon->next_watch == INT_MAX ? -ENOSPC : mon->next_watch;
}

RVMIG_API int rvmig_monitor_watch_pid(rvmig_monitor *mon, int pid, const char *name)
{
	int w, rc;

	if (!mon || pid <= 0)
		return -EINVAL;
	if (!mon->ops->watch_pid)
		return -EOPNOTSUPP;
	w = next_watch(mon);
	if (w < 0)
		return w;
	rc = mon->ops->watch_pid(mon->be, (uint64_t)w, pid, name);
	if (rc < 0)
		return rc;
	mon->next_watch++;
	return w;
}

RVMIG_API int rvmig_monitor_watch_cgroup(rvmig_monitor *mon, const char *path, const char *name)
{
	int w, rc;

	if (!mon || !path)
		return -EINVAL;
	if (!mon->ops->watch_cgroup)
		return -EOPNOTSUPP;
	w = next_watch(mon);
	if (w < 0)
		return w;
	rc = mon->ops->watch_cgroup(mon->be, (uint64_t)w, path, name);
	if (rc < 0)
		return rc;
	mon->next_watch++;
	return w;
}

RVMIG_API int rvmig_monitor_unwatch(rvmig_monitor *mon, int watch)
{
	if (!mon || watch < 0)
		return -EINVAL;
	if (!mon->ops->unwatch)
		return -EOPNOTSUPP;
	return mon->ops->unwatch(mon->be, (uint64_t)watch);
}

RVMIG_API int rvmig_monitor_sample(rvmig_monitor *mon, rvmig_monitor_snap **out)
{
	struct mon_raw cur = { 0 };
	const struct mon_raw *prev;
	int rc;

	if (!mon || !out)
		return -EINVAL;
	prev = mon->have_prev ? &mon->prev : NULL;
	rc = mon->ops->sample(mon->be, prev, &cur);
	if (rc == 0)
		rc = mon_snap_build(prev, &cur, out);
	if (rc < 0) {
		LOG_ERR(mon->ctx, "monitor", "sample failed: %s", rvmig_strerror(rc));
		mon_raw_free(&cur);
		return rc;
	}
	mon_raw_free(&mon->prev);
	mon->prev = cur;
	mon->have_prev = 1;
	/* Transfers are the host's, whatever the backend; without memory for
	 * them the snapshot still has everything else. */
	if ((rc = mon_transfers_read(mon->ctx, *out)) < 0)
		LOG_ERR(mon->ctx, "monitor", "reading the published transfers: %s",
			rvmig_strerror(rc));
	return 0;
}
