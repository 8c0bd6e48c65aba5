/* SPDX-License-Identifier: MIT */
/*
 * parse.h - parsers for the /proc and cgroup files the Linux backend reads
 * (internal).  Pure functions: each takes the text of a whole file as
 * (s, len), need not be NUL-terminated, reads nothing beyond s + len and
 * does no I/O, so unit tests feed them canned text and a fuzzer feeds them
 * anything (tests/fuzz/fuzz_monitor.c).  Numbers are decimal u64 with
 * overflow checked (-ERANGE); malformed text gives -EINVAL.
 */
#ifndef RVMIG_MONITOR_LINUX_PARSE_H
#define RVMIG_MONITOR_LINUX_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/raw.h"

/* /proc/TID/schedstat: "RUN_NS WAIT_NS SLICES\n" into t's run_ns, wait_ns,
 * slices (tid and start_ns untouched). */
int mon_parse_schedstat(const char *s, size_t len, struct mon_task *t);

/* /proc/PID/stat: the state letter (field 3) and starttime (field 22, clock
 * ticks after boot).  The comm field may hold spaces and parentheses: the
 * fields are counted from the last ')'. */
int mon_parse_pid_stat(const char *s, size_t len, char *state, uint64_t *start_ticks);

/* /proc/PID/statm: the resident set (its second field, in pages of
 * `page_size` bytes), the same figure as status's VmRSS at a fraction of
 * the kernel's cost.  -EINVAL without two numbers or with more resident
 * than total pages, -ERANGE on overflow. */
int mon_parse_statm_rss(const char *s, size_t len, uint64_t page_size, uint64_t *rss);

/* /proc/meminfo: MemTotal, MemFree, MemAvailable in bytes (MemAvailable
 * falls back to MemFree on kernels without it).  -EINVAL without MemTotal
 * or MemFree. */
int mon_parse_meminfo(const char *s, size_t len, uint64_t *total, uint64_t *mfree,
		      uint64_t *avail);

/* /proc/stat: the "cpuN ..." lines (not the "cpu" sum line).  idle_ns =
 * idle + iowait, total_ns = user + nice + system + idle + iowait + irq +
 * softirq + steal, in ticks times tick_ns.  Writes at most `max` entries to
 * `out` (may be NULL with max 0) in file order; returns how many cpuN lines
 * there are, or a negative errno. */
int mon_parse_proc_stat(const char *s, size_t len, uint64_t tick_ns, struct mon_pcpu_raw *out,
			size_t max);

/* "KEY VALUE" lines (cgroup cpu.stat, memory.stat): the value of `key`,
 * -ENOENT when absent. */
int mon_parse_key_u64(const char *s, size_t len, const char *key, uint64_t *v);

/* PSI files (cpu.pressure, /proc/pressure/cpu): the total= of the line
 * starting with `kind` ("some" or "full"), microseconds.  -ENOENT when
 * there is no such line. */
int mon_parse_pressure(const char *s, size_t len, const char *kind, uint64_t *total_us);

/* One number, or "max" (UINT64_MAX): memory.max, memory.current,
 * cpuacct.usage, memory.limit_in_bytes. */
int mon_parse_u64_or_max(const char *s, size_t len, uint64_t *v);

/* One id per line (cgroup tasks, cgroup.threads, cgroup.procs).  Writes at
 * most `max` to `ids` (may be NULL with max 0); returns how many there are,
 * or a negative errno. */
long mon_parse_ids(const char *s, size_t len, uint64_t *ids, size_t max);

/* Controllers the backend uses, as bits of mon_cg_mount.ctrl. */
enum {
	MON_CG_CPU = 1u << 0,
	MON_CG_CPUACCT = 1u << 1,
	MON_CG_MEMORY = 1u << 2,
	MON_CG_BLKIO = 1u << 3,
};

#define MON_CG_PATH_MAX 4096

/* A cgroup file system mount: where it is, v1 or v2, and for v1 which of
 * the controllers above it carries. */
struct mon_cg_mount {
	char dir[MON_CG_PATH_MAX]; /* mount point, octal escapes undone */
	int version;               /* 1 or 2 */
	unsigned ctrl;             /* v1: MON_CG_* bits */
};

/* /proc/self/mountinfo: the cgroup and cgroup2 mounts, in file order.
 * Writes at most `max` to `out` (may be NULL with max 0); returns how many
 * there are, or a negative errno.  Mounts whose point is longer than
 * MON_CG_PATH_MAX - 1 are left out. */
long mon_parse_mountinfo(const char *s, size_t len, struct mon_cg_mount *out, size_t max);

#endif
