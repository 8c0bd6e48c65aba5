/* SPDX-License-Identifier: MIT */
/*
 * keptfd.h - descriptors of the per-domain files kept open between samples
 * (internal).  A /proc or cgroup file read again with pread() at offset 0 is
 * formatted anew by the kernel (seq_file), so the open() and close() of each
 * sample can be spared: on the build machines an open + read + close of
 * /proc/PID/schedstat cost 6.8 us of CPU, a pread on a kept descriptor 1.7 us.
 * A kept descriptor also stays with the task or group it was opened for: once
 * that is gone its reads fail (ESRCH, ENODEV) and the file is opened again by
 * name, so a reused pid or a re-created group is never read through a stale
 * descriptor.  Descriptors not read during a sample are closed at its end.
 * Only for files formatted whole by one show function (schedstat, statm,
 * cpu.stat, io.stat, ...): cgroup v1's task lists are served from a pid list
 * the kernel caches per open file for a second, so they are opened anew.
 */
#ifndef RVMIG_MONITOR_LINUX_KEPTFD_H
#define RVMIG_MONITOR_LINUX_KEPTFD_H

#include <stddef.h>

#include "monitor/linux/fsread.h"

struct kept_ent;

struct kept_fds {
	struct kept_ent *ents; /* open addressing on the path's hash */
	size_t cap;            /* slots, a power of two, 2 x max */
	size_t count;
	size_t max;            /* descriptors kept at most; 0: none */
};

/* max: descriptors kept at most (0 disables keeping). */
void kept_init(struct kept_fds *k, size_t max);
/* The budget the Linux backend uses: a quarter of the soft RLIMIT_NOFILE, at
 * most 4096; RVMIG_MONITOR_KEEP_FDS=N in the environment overrides it (0:
 * open every file each sample, as before). */
size_t kept_default_max(void);

/* Reads the file `path` (absolute; the key) like mon_read(), through a kept
 * descriptor when there is one, else opening it as openat(dirfd, rel) (rel
 * NULL: path) and keeping it while the budget allows. */
long kept_read(struct kept_fds *k, struct mon_buf *b, size_t cap, unsigned flags, const char *path,
	       int dirfd, const char *rel);

/* At the end of a sample: closes what was not read since the last sweep. */
void kept_sweep(struct kept_fds *k);
void kept_free(struct kept_fds *k);

#endif
