/* SPDX-License-Identifier: MIT */
/*
 * view.h - what rvmig-top shows, as plain data, and the writers of its
 * output forms: the xentop-like table, CSV, JSON lines and the Prometheus
 * text exposition format (version 0.0.4).  The writers are pure functions of
 * a top_view (no library calls, no clock), so tests feed them made-up views.
 */
#ifndef RVMIG_TOOLS_TOP_VIEW_H
#define RVMIG_TOOLS_TOP_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Linux: watched processes and cgroups; backends that list their domains
 * themselves (xen): TOP_DOMAIN. */
enum top_kind { TOP_PROCESS, TOP_CGROUP, TOP_DOMAIN };

/* One vCPU of a domain (Linux: one thread), over the last interval. */
struct top_vcpu {
	uint64_t id;         /* Linux: the thread's TID */
	double cpu_s;        /* cumulative CPU time, seconds */
	double run_share, blocked_share, wait_share, execs_per_s;
};

/* A network interface and a disk of a domain: cumulative counters as the
 * monitor gave them; names printable ASCII (the monitor escapes them). */
struct top_net {
	const char *name;
	uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;
};

struct top_disk {
	const char *name;
	uint64_t rd_bytes, wr_bytes, rd_reqs, wr_reqs;
};

struct top_dom {
	const char *name;    /* any bytes but NUL (escaped where the form needs it) */
	enum top_kind kind;
	uint64_t id;         /* pid, or the cgroup directory's inode */
	unsigned flags;      /* RVMIG_MONITOR_DOM_* */
	unsigned nvcpus;     /* threads */
	/* cumulative, seconds: CPU time (the monitor's counter), and run /
	 * blocked / wait time summed over the intervals rvmig-top sampled */
	double cpu_s, run_s, blocked_s, wait_s;
	/* over the last interval */
	double cpu_pct, run_share, blocked_share, wait_share, execs_per_s;
	uint64_t mem_bytes;
	const struct top_vcpu *vcpus; /* nvcpus of them; NULL when not collected */
	unsigned nnets, ndisks;
	const struct top_net *nets;   /* nnets of them */
	const struct top_disk *disks; /* ndisks of them */
};

/* One rvmig transfer running on the host (rvmig/publish.h), as the monitor
 * read it: strings already escaped (printable ASCII). */
struct top_xfer {
	uint64_t pid, id;          /* the publishing process, the transfer's number in it */
	const char *tool, *peer, *transport, *mode; /* "" when not known */
	const char *state;         /* "setup", "active", "completed", "failed" */
	bool size_known;           /* total and remaining are set */
	uint64_t total, processed, remaining; /* stream bytes */
	uint64_t bytes_per_s;      /* over the publisher's last second */
	uint64_t pages, zero_pages;
	double cpu_s;              /* the process's CPU time since the transfer began */
	double started_s;          /* CLOCK_REALTIME, s since the epoch */
	double elapsed_s;
};

struct top_view {
	double time_s;       /* CLOCK_REALTIME of the sample, s since the epoch */
	double interval_s;   /* 0 for the first sample */
	unsigned ncpus;
	uint64_t mem_total, mem_free;
	unsigned ndoms;
	const struct top_dom *doms;
	unsigned nxfers;     /* the host's rvmig transfers, by pid and number */
	const struct top_xfer *xfers;
	/* Where the figures come from, and the host's other figures: NULL /
	 * 0 when not known.  cpu_idle: ncpus shares (0..1) of the interval
	 * each physical CPU was idle. */
	const char *host;    /* the host's name (uname) */
	const char *backend; /* the monitor backend ("linux") */
	uint64_t mem_avail;
	const double *cpu_idle;
};

/* The state flags as xentop-like letters, "----" when none: g(one),
 * n(ew), t(hrottle measured), p(ressure measured).  buf holds >= 5 bytes. */
const char *top_flags_str(unsigned flags, char *buf);
const char *top_kind_name(enum top_kind k); /* "process" / "cgroup" / "domain" */

/* A domain's interfaces and disks summed: bytes received, sent, read and
 * written, cumulative. */
struct top_dev_sums {
	uint64_t rx, tx, rd, wr;
};
struct top_dev_sums top_dev_sums(const struct top_dom *d);

/* The table of one iteration: a host line, a header, one line a domain. */
int top_write_table(FILE *f, const struct top_view *v);
/* CSV: the header line (once), then one line a domain per iteration. */
int top_write_csv_header(FILE *f);
int top_write_csv(FILE *f, const struct top_view *v);
/* One JSON object on one line per iteration (domains with their
 * interfaces and disks). */
int top_write_json(FILE *f, const struct top_view *v);

/* A label value as the exposition format wants it: \ " and newline
 * escaped as \\ \" \n, every other byte as is. */
int top_write_label_value(FILE *f, const char *s);
/* The whole /metrics page: HELP and TYPE lines, then every series. */
int top_write_metrics(FILE *f, const struct top_view *v);

#endif
