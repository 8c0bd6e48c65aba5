/* SPDX-License-Identifier: MIT */
/*
 * backend.h - the interface every monitor backend implements (internal),
 * listed in one table (backends.c) as the transports are.
 *
 * A backend reads counters and nothing else: it fills a raw sample
 * (raw.h).  Intervals, shares and the snapshot are the core's
 * (interval.c), the same for every backend.
 */
#ifndef RVMIG_MONITOR_BACKEND_H
#define RVMIG_MONITOR_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/raw.h"

struct rvmig_ctx;
struct mon_backend; /* a backend's own state */

struct mon_backend_ops {
	const char *name;
	/* 0 when the backend can work on this host, else a negative errno;
	 * "auto" opens the first backend of the table whose probe passes.
	 * probe_why writes why not to `why` (one line: what failed, on which
	 * file or library, the errno text) and the core logs it, as an error
	 * when the backend was asked for by name (the user must see why it
	 * failed) and at info level when "auto" passes over it. */
	int (*probe_why)(struct rvmig_ctx *ctx, char *why, size_t len);
	int (*open)(struct rvmig_ctx *ctx, struct mon_backend **out);
	void (*close)(struct mon_backend *b);
	/* Optional (NULL: -EOPNOTSUPP): add a domain under `key` (unique,
	 * chosen by the core).  `name` may be NULL. */
	int (*watch_pid)(struct mon_backend *b, uint64_t key, int pid, const char *name);
	int (*watch_cgroup)(struct mon_backend *b, uint64_t key, const char *path,
			    const char *name);
	/* Optional: forget the domain added under `key` (-ENOENT if none). */
	int (*unwatch)(struct mon_backend *b, uint64_t key);
	/* Reads the host and every domain into `cur` (zeroed by the caller):
	 * each domain with its key, tasks sorted by tid, and mono_ns/boot_ns
	 * taken when its tasks were read; host pCPUs sorted by id.  `prev` is
	 * the previous raw sample or NULL; a backend may use it to read a
	 * task's start time only when the task is new. */
	int (*sample)(struct mon_backend *b, const struct mon_raw *prev, struct mon_raw *cur);
};

/* The backends built into this library, NULL-terminated, in one place. */
extern const struct mon_backend_ops *const mon_backend_table[];
extern const struct mon_backend_ops mon_backend_linux;
#ifdef RVMIG_HAVE_XENMON
extern const struct mon_backend_ops mon_backend_xen;
#endif

/* The backend called `name`, or NULL. */
const struct mon_backend_ops *mon_backend_find(const char *name);

#endif
