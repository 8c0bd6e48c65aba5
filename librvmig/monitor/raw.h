/* SPDX-License-Identifier: MIT */
/*
 * raw.h - a raw sample: the cumulative counters a backend read at one
 * moment, before any interval is computed (internal).
 *
 * A backend fills a struct mon_raw; the core (interval.c) turns two
 * consecutive raw samples into a snapshot.  The monitor keeps only the
 * latest raw sample, so memory is bounded by the size of one sample.
 */
#ifndef RVMIG_MONITOR_RAW_H
#define RVMIG_MONITOR_RAW_H

#include <stddef.h>
#include <stdint.h>

/* One schedulable entity (Linux: a thread), cumulative counters. */
struct mon_task {
	uint64_t tid;
	uint64_t run_ns;   /* time on a CPU */
	uint64_t wait_ns;  /* time runnable, waiting for a CPU */
	uint64_t slices;   /* times it was given a CPU */
	/* When it started, CLOCK_BOOTTIME ns; read only for tasks that were
	 * not in the previous sample (0: not read / unknown). */
	uint64_t start_ns;
	uint64_t cpu_ns;   /* CPU time by another count than run_ns (Xen:
			    * libxenctrl's, run_ns the trace's); 0: run_ns */
	unsigned flags;    /* RVMIG_MONITOR_VCPU_* (Xen) */
	uint32_t pcpu;     /* where it runs or last ran (Xen) */
};

/* A network interface and a disk of a domain: cumulative counters, copied
 * into the snapshot as they are.  Names are escaped (rvmig_text_escape):
 * printable ASCII, NUL-terminated. */
#define MON_DEV_NAME_MAX 64

struct rvmig_monitor_net {
	uint32_t id;
	char name[MON_DEV_NAME_MAX];
	uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;
};

struct rvmig_monitor_disk {
	uint32_t dev;
	char name[MON_DEV_NAME_MAX];
	uint64_t rd_reqs, wr_reqs, rd_sectors, wr_sectors, oo_reqs;
	uint64_t rd_bytes, wr_bytes;
};

#define MON_NO_COUNTER UINT64_MAX

struct mon_dom_raw {
	uint64_t key;      /* the watch number: matches a domain across samples */
	uint64_t id;
	char *name;        /* owned */
	unsigned flags;    /* RVMIG_MONITOR_DOM_GONE / _THROTTLE / _PRESSURE */
	uint64_t mono_ns;  /* when its tasks were read: CLOCK_MONOTONIC */
	uint64_t boot_ns;  /* the same moment on CLOCK_BOOTTIME */
	/* Cumulative CPU time from the group's own counter, or MON_NO_COUNTER
	 * (then the core accumulates it from the tasks). */
	uint64_t group_cpu_ns;
	uint64_t throttled_ns; /* cumulative, with RVMIG_MONITOR_DOM_THROTTLE */
	uint64_t pressure_ns;  /* cumulative, with RVMIG_MONITOR_DOM_PRESSURE */
	uint64_t mem_cur, mem_max;
	size_t ntasks;
	struct mon_task *tasks; /* owned, ascending tid, unique */
	size_t nnets, ndisks;
	struct rvmig_monitor_net *nets;   /* owned */
	struct rvmig_monitor_disk *disks; /* owned */
	/* Filled by the core: cumulative CPU time counted from the tasks. */
	uint64_t task_cpu_ns;
};

/* One physical CPU, cumulative. */
struct mon_pcpu_raw {
	uint32_t id;
	uint64_t idle_ns;  /* idle + iowait */
	uint64_t total_ns; /* all states */
	uint32_t freq_khz; /* 0: not exposed */
};

struct mon_raw {
	uint64_t mono_ns, real_ns;
	uint64_t mem_total, mem_free, mem_avail;
	size_t npcpu;
	struct mon_pcpu_raw *pcpu; /* owned, ascending id */
	size_t ndom;
	struct mon_dom_raw *dom;   /* owned, in watch order */
};

void mon_raw_free(struct mon_raw *r);
/* Appends a zeroed domain to r; NULL when out of memory. */
struct mon_dom_raw *mon_raw_add_dom(struct mon_raw *r);
/* The domain of r with this key, or NULL (r may be NULL). */
const struct mon_dom_raw *mon_raw_find_dom(const struct mon_raw *r, uint64_t key);
/* The task of d with this tid, or NULL (d may be NULL); binary search. */
const struct mon_task *mon_dom_find_task(const struct mon_dom_raw *d, uint64_t tid);
/* Sorts d's tasks by tid and drops duplicate tids (keeps one of them). */
void mon_dom_sort_tasks(struct mon_dom_raw *d);

#endif
