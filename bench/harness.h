/* SPDX-License-Identifier: MIT */
/*
 * harness.h - the shared pieces of the rvmig benchmarks: options, size
 * sweeps, clocks and CPU accounting, percentiles, the client/server transfer
 * loops and the perftest-style / JSON report.
 *
 * A benchmark main only parses its options with bench_parse_args() and calls
 * bench_main(); everything it measures goes through here, so every benchmark
 * reports the same columns, `#` header lines and JSON keys.
 *
 * Roles follow rvmig/xfer.h: the *client* (--connect) is the source host; it
 * registers a buffer and posts requests.  The *server* (--listen) is the
 * receiver; it releases every slot as soon as it arrives.  The mode (push:
 * the client WRITEs, pull: the server READs) is carried by the client.
 *
 * Measurement protocol (in-band, ordered with the data):
 *   client                                  server
 *   warm-up requests, drained
 *   BEGIN{size, iters}  ------------------> marks clock, rusage, /proc/stat,
 *   timed requests      ------------------> counts bytes
 *   END                 ------------------> takes the deltas
 *                       <------------------ REPORT (rvmig_reply_msg)
 *   ... next size ...
 *   rvmig_ep_close()    ------------------> PEER_CLOSED, close, exit
 */
#ifndef RVMIG_BENCH_HARNESS_H
#define RVMIG_BENCH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rvmig.h>

#define BENCH_MAX_SIZES 64

struct bench_opts {
	const char *transport;   /* "tcp" or "verbs" */
	enum rvmig_mode mode;
	uint64_t sizes[BENCH_MAX_SIZES];
	unsigned nsizes;
	uint32_t qps;            /* ep attr nlinks (0: library default) */
	uint64_t window;         /* ep attr window (0: library default) */
	uint32_t slot_size;      /* server: ep attr slot_size (0: default) */
	uint32_t nslots;         /* server: ep attr nslots (0: default) */
	uint32_t max_posted;     /* client: ep attr max_posted (0: default) */
	uint64_t iters;          /* timed requests per size */
	uint64_t total;          /* or: bytes per size (iters = total / size) */
	uint64_t warmup;         /* untimed requests per size */
	uint32_t depth;          /* client: most requests outstanding (0: auto) */
	uint64_t buf_size;       /* client: source buffer bytes (0: auto) */
	bool pin_all;            /* RVMIG_EP_PIN_ALL */
	bool busy_poll;          /* rvmig_progress(ep, 0) instead of blocking */
	int wait_ms;             /* rvmig_progress() timeout when waiting (1000) */
	bool json;
	bool loopback;           /* fork server + client on this host */
	const char *listen_uri;  /* server */
	const char *connect_uri; /* client */
	const char *ready_file;  /* server: write "PORT\n" here once listening */
	uint32_t timeout_ms;     /* ep attr timeout_ms (0: default) */
	int accept_timeout_ms;   /* server: wait for the client (-1: forever) */
	int log_level;           /* RVMIG_LOG_* for the library's logger */
};

/* Parses argv into `o` (defaults first).  Returns 0, 1 when --help or --version
 * was printed, or -EINVAL after printing what was wrong to stderr. */
int bench_parse_args(int argc, char **argv, struct bench_opts *o);
void bench_usage(FILE *f, const char *prog);

/* Runs what the options ask for (server, client or --loopback) and prints
 * the report on stdout.  Returns the process exit status. */
int bench_main(const struct bench_opts *o);

/* ---- sizes ---- */

/* "4096", "4K", "1M", "4K:4M" (doubling), "4K:4M:4" (factor 4).  Binary
 * suffixes K, M, G.  Returns 0 or -EINVAL. */
int bench_parse_sizes(const char *s, uint64_t *out, unsigned max, unsigned *n);

/* ---- clocks and CPU ---- */

uint64_t bench_now_ns(void);

/* A point in time for CPU accounting: this process (getrusage) and the whole
 * host (/proc/stat, where rxe's and TCP's kernel work shows up). */
struct bench_cpu_mark {
	uint64_t wall_ns;
	uint64_t user_ns, sys_ns;           /* this process */
	uint64_t host_busy_ns;              /* all CPUs: everything but idle/iowait */
	uint64_t host_kernel_ns;            /* all CPUs: system + irq + softirq */
	uint64_t host_total_ns;             /* all CPUs: every state */
};
void bench_cpu_mark(struct bench_cpu_mark *m);

/* Differences between two marks, all in nanoseconds. */
struct bench_cpu {
	uint64_t wall_ns;
	uint64_t user_ns, sys_ns;
	uint64_t host_busy_ns, host_kernel_ns, host_total_ns;
};
void bench_cpu_delta(const struct bench_cpu_mark *a, const struct bench_cpu_mark *b,
		     struct bench_cpu *d);

/* ---- statistics ---- */

/* The p-th percentile (0..100, nearest rank) of v[0..n); sorts v. */
uint64_t bench_percentile(uint64_t *v, uint64_t n, double p);

/* Library counters as plain numbers, deltas between two snapshots. */
struct bench_libstats {
	uint64_t v[RVMIG_STAT__COUNT];
};
int bench_libstats_take(rvmig_ep *ep, struct bench_libstats *s);
void bench_libstats_delta(const struct bench_libstats *a, const struct bench_libstats *b,
			  struct bench_libstats *d);

/* ---- in-band control (client <-> server), see the top of this file ---- */

#define BENCH_MAGIC 0x52564d42u /* "RVMB" */
#define BENCH_WIRE_VERSION 1

enum bench_ctl_type { BENCH_CTL_BEGIN = 1, BENCH_CTL_END = 2 };

struct bench_ctl {
	uint32_t magic, version;
	uint32_t type, pad;
	uint64_t size, iters;
};

/* What the server measured between BEGIN and END. */
struct bench_report {
	uint32_t magic, version;
	int32_t status;            /* 0, or why the server's numbers are void */
	uint32_t nstats;           /* RVMIG_STAT__COUNT of the server's build */
	uint64_t bytes, msgs;      /* bulk data delivered in the timed phase */
	uint64_t progress_calls;   /* rvmig_progress() calls in the timed phase */
	uint64_t progress_empty;   /* ... of which produced no event */
	struct bench_cpu cpu;
	struct bench_libstats stats;
};

/* ---- one row of results ---- */

struct bench_result {
	uint64_t size, iters, bytes;
	double seconds;
	double gbit_s, msg_s;
	double lat_p50_us, lat_p99_us, lat_max_us;
	struct bench_cpu cpu_client;
	struct bench_libstats stats_client;
	uint64_t progress_calls, progress_empty; /* client, timed phase */
	bool have_server;
	struct bench_report server;
};

/* Run loops (run.c). */
int bench_client(const struct bench_opts *o, const char *uri, struct bench_result *res,
		 unsigned *nres);
/* Serves one client; `port_fd` >= 0 receives the bound port (an int) once
 * listening, for --loopback.  `quiet` suppresses the server's report. */
int bench_server(const struct bench_opts *o, const char *uri, int port_fd, bool quiet);

/* Reporting (report.c). */
void bench_print_header(FILE *f, const struct bench_opts *o, const char *role,
			const char *peer);
void bench_print_row(FILE *f, const struct bench_result *r);
void bench_print_server_row(FILE *f, uint64_t size, uint64_t iters,
			    const struct bench_report *r);
void bench_print_footer(FILE *f, const struct bench_result *res, unsigned n);
void bench_print_json(FILE *f, const struct bench_opts *o, const char *peer,
		      const struct bench_result *res, unsigned n);

#endif /* RVMIG_BENCH_HARNESS_H */
