/* SPDX-License-Identifier: MIT */
/* snap.h - the layout behind the opaque snapshot handles (internal). */
#ifndef RVMIG_MONITOR_SNAP_H
#define RVMIG_MONITOR_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/monitor.h>

#include "monitor/raw.h"

#include "publish/record.h"

/* Run / blocked / wait times over an interval, and what is derived. */
struct mon_times {
	uint64_t run_ns, blocked_ns, wait_ns;
	uint64_t slices;
	double run_share, blocked_share, wait_share;
	double execs_per_s;
};

struct rvmig_monitor_vcpu {
	uint64_t id;
	uint64_t cpu_ns;
	unsigned flags;
	uint32_t pcpu;
	struct mon_times t;
};

struct rvmig_monitor_dom {
	uint64_t id;
	char *name;
	unsigned flags;
	uint64_t cpu_ns;
	double cpu_pct;
	struct mon_times t;
	uint64_t throttled_ns, pressure_ns;
	uint64_t mem_cur, mem_max;
	size_t nvcpu;
	struct rvmig_monitor_vcpu *vcpu;
	size_t nnets, ndisks;
	struct rvmig_monitor_net *nets;
	struct rvmig_monitor_disk *disks;
};

struct mon_pcpu {
	uint32_t id;
	uint64_t idle_ns;
	double idle_share;
	uint32_t freq_khz;
};

/* A transfer read from a transfer file (publish/record.h). */
struct rvmig_monitor_xfer {
	uint64_t pid;
	char tool[XREC_TOOL_MAX + 1];
	uint64_t updated_ns;
	struct xrec_transfer r;
};

struct rvmig_monitor_snap {
	uint64_t real_ns, interval_ns;
	size_t nxfer;
	struct rvmig_monitor_xfer *xfer;
	uint64_t mem_total, mem_free, mem_avail;
	size_t npcpu;
	struct mon_pcpu *pcpu;
	size_t ndom;
	struct rvmig_monitor_dom *dom;
};

#endif
