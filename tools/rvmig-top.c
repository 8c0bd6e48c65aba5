/* SPDX-License-Identifier: MIT */
/*
 * rvmig-top - per-domain run / blocked / wait accounting from the monitor
 * API (rvmig/monitor.h), in the manner of xentop: on a terminal, a live
 * view (ncurses, top/live.h) refreshed every -d seconds; batch mode (-b)
 * prints a table (or CSV / JSON lines) every -d seconds, -i times; --listen
 * serves the same figures to Prometheus on /metrics, sampled on the same
 * timer and served from a cache; --record appends every sample to a file
 * (top/record.h) that rvmig-top-plot draws.  Not yet: rvmig transfers.
 *
 * The first sample only primes the interval figures: the first table is
 * printed after -d seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/stop.h"
#include "top/collect.h"
#include "top/record.h"
#include "top/view.h"
#ifdef RVMIG_TOP_EXPORTER
#include "top/exporter.h"
#endif
#ifdef RVMIG_TOP_LIVE
#include <unistd.h>

#include "top/live.h"
#include "top/pane_dom.h"
#include "top/pane_xfer.h"
#endif

enum {
	OPT_CSV = OPT_TOOL_FIRST,
	OPT_JSON,
	OPT_LISTEN,
	OPT_RECORD,
	OPT_BACKEND,
};

enum out_form { OUT_TABLE, OUT_CSV, OUT_JSON };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rvmig-top [-d SECONDS] [-i ITERATIONS] [--record FILE] [-p PID]... [-g CGROUP]...\n"
		"       rvmig-top -b [-d SECONDS] [-i ITERATIONS] [--csv|--json] [--record FILE] [-p PID]... [-g CGROUP]...\n"
		"       rvmig-top --listen ADDR:PORT [-d SECONDS] [-i ITERATIONS] [--record FILE] [-p PID]... [-g CGROUP]...\n"
		"Per-domain CPU, run / blocked / wait shares and memory (Linux backend: processes\n"
		"and cgroups; Xen backend: every domain).  On a terminal without -b: the live view\n"
		"(keys: h).\n"
		"      --backend NAME     monitor backend: auto (default: xen on a Xen dom0, else\n"
		"                         linux), linux or xen\n"
		"  -p, --pid PID          watch a process with all its threads (repeatable)\n"
		"  -g, --cgroup PATH      watch a cgroup directory, v1 cpu or v2 (repeatable)\n"
#ifdef RVMIG_TOP_LIVE
		"  -b, --batch            print to stdout every interval instead of the live view\n"
#else
		"  -b, --batch            print to stdout every interval (the live view is not built:\n"
		"                         curses was not found)\n"
#endif
		"  -d, --delay SECONDS    interval between samples (default 3, as xentop)\n"
		"  -i, --iterations N     stop after N intervals (default: until SIGINT/SIGTERM)\n"
		"      --csv              batch output as CSV, one line per domain and interval\n"
		"      --json             batch output as one JSON object per interval\n"
		"      --record FILE      append every sample to FILE (tab-separated, format 1;\n"
		"                         rvmig-top-plot FILE -o PNG draws it)\n"
#ifdef RVMIG_TOP_EXPORTER
		"      --listen ADDR:PORT serve /metrics (Prometheus text format 0.0.4)\n"
#else
		"      --listen ADDR:PORT (not built: libmicrohttpd was not found)\n"
#endif
		"  -h, --help, -v, -q, --version\n");
}

/* Sleeps until the monotonic deadline; false when a signal asked to stop. */
static bool sleep_until(const struct timespec *deadline)
{
	while (!tool_stop) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL);

		if (rc == 0)
			return !tool_stop;
		if (rc != EINTR)
			return false;
	}
	return false;
}

static int write_batch(enum out_form form, const struct top_view *v)
{
	int rc;

	switch (form) {
	case OUT_CSV: rc = top_write_csv(stdout, v); break;
	case OUT_JSON: rc = top_write_json(stdout, v); break;
	default: rc = top_write_table(stdout, v); break;
	}
	if (rc == 0 && fflush(stdout) != 0)
		rc = -1;
	if (rc)
		tool_err("cannot write the output: %s", strerror(errno));
	return rc;
}

#ifdef RVMIG_TOP_EXPORTER
static int publish(struct top_exporter *e, const struct top_view *v)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	int rc;

	if (!f)
		return -errno;
	rc = top_write_metrics(f, v);
	if (fclose(f) != 0 || rc) {
		free(page);
		return -ENOMEM;
	}
	rc = top_exporter_publish(e, page, len);
	free(page);
	return rc;
}
#endif

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "batch", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts o;
	struct top_collect col;
	rvmig_ctx *ctx = NULL;
	const char *listen_at = NULL, *record_path = NULL, *backend = "auto";
	struct top_record *rec = NULL;
	bool batch = false, live = false;
	enum out_form form = OUT_TABLE;
	double delay = 3;
	long iterations = -1;
	int c, rc, status = 1;
	struct {
		enum top_kind kind;
		const char *what;
	} *watches = NULL;
	unsigned nwatch = 0;
#ifdef RVMIG_TOP_EXPORTER
	struct top_exporter *exp = NULL;
#endif
#ifdef RVMIG_TOP_LIVE
	struct top_live *lv = NULL;
#endif

	tool_opts_init(&o, "rvmig-top");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "p:g:bd:i:", longopts,
				NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p':
		case 'g': {
			void *w = realloc(watches, (nwatch + 1) * sizeof(*watches));

			if (!w)
				return 1;
			watches = w;
			watches[nwatch].kind = c == 'p' ? TOP_PROCESS : TOP_CGROUP;
			watches[nwatch++].what = optarg;
			break;
		}
		case 'b': batch = true; break;
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(delay >= 0.1 && delay <= 86400)) {
				tool_err("-d %s: not a delay in seconds (0.1 .. 86400)", optarg);
				return 2;
			}
			break;
		case 'i':
			errno = 0;
			iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || iterations < 1) {
				tool_err("-i %s: not a positive number of iterations", optarg);
				return 2;
			}
			break;
		case OPT_CSV: form = OUT_CSV; break;
		case OPT_JSON: form = OUT_JSON; break;
		case OPT_LISTEN: listen_at = optarg; break;
		case OPT_RECORD: record_path = optarg; break;
		case OPT_BACKEND: backend = optarg; break;
		default:
			if ((rc = tool_opt(&o, c, optarg, usage)) == TOOL_OPT_TAKEN)
				break;
			if (rc == TOOL_OPT_MINE) {
				usage(stderr);
				rc = 2;
			}
			return rc;
		}
	}
	if (optind < argc) {
		tool_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	/* the live view: without -b, on a terminal (with --listen too) */
#ifdef RVMIG_TOP_LIVE
	live = !batch && isatty(STDOUT_FILENO);
#endif
	if (!batch && !listen_at && !live) {
#ifdef RVMIG_TOP_LIVE
		tool_err("standard output is not a terminal: use -b (batch) or --listen");
#else
		tool_err("this rvmig-top was built without curses (no live view): "
			 "use -b (batch) or --listen");
#endif
		return 2;
	}
	if (record_path && !*record_path) {
		tool_err("--record: an empty file name");
		return 2;
	}
#ifndef RVMIG_TOP_EXPORTER
	if (listen_at) {
		tool_err("--listen: this rvmig-top was built without libmicrohttpd");
		return 2;
	}
#endif
	tool_opts_done(&o);

	tool_catch_stop();

	if (tool_ctx_create(&o, &ctx))
		return 1;
	if (top_collect_open(&col, ctx, backend)) {
		rvmig_ctx_destroy(ctx);
		return 1;
	}
	if (col.listed && nwatch) {
		tool_err("-p/-g: the %s backend lists every domain itself (they are for the linux backend)",
			 rvmig_monitor_backend(col.mon));
		status = 2;
		goto out;
	}
	for (unsigned i = 0; i < nwatch; i++)
		if (top_collect_watch(&col, watches[i].kind, watches[i].what))
			goto out;
	if (nwatch == 0 && !col.listed)
		tool_info("no domain watched (-p PID, -g CGROUP): host figures only");
#ifdef RVMIG_TOP_EXPORTER
	if (listen_at) {
		if (top_exporter_start(listen_at, &exp))
			goto out;
		tool_info("serving /metrics on %s every %g s", listen_at, delay);
	}
#endif
	if (record_path && top_record_open(record_path, delay, &rec)) {
		status = 2;
		goto out;
	}
	if (batch && form == OUT_CSV && top_write_csv_header(stdout))
		goto out;
#ifdef RVMIG_TOP_LIVE
	if (live) {
		const struct top_pane *panes[] = { &top_pane_domains, &top_pane_transfers };

		if (top_live_start(panes, 2, delay, &lv))
			goto out;
	}
#endif

	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long n = 0;; n++) {
		if (top_collect_sample(&col))
			goto out;
#ifdef RVMIG_TOP_EXPORTER
		if (exp && (rc = publish(exp, &col.view))) {
			tool_err("cannot make the /metrics page: %s", strerror(-rc));
			goto out;
		}
#endif
		if (rec && top_record_append(rec, &col.view))
			goto out;
		if (n > 0 && batch && write_batch(form, &col.view))
			goto out;
#ifdef RVMIG_TOP_LIVE
		if (lv && (rc = top_live_draw(lv, &col.view))) {
			tool_err("cannot draw: %s", strerror(-rc));
			goto out;
		}
#endif
		if (iterations > 0 && n >= iterations)
			break;
		double whole;
		double frac = modf(delay, &whole);

		next.tv_sec += (time_t)whole;
		next.tv_nsec += (long)(frac * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
#ifdef RVMIG_TOP_LIVE
		if (lv) {
			if (!top_live_wait(lv, &next, &delay, &tool_stop))
				break;
			continue;
		}
#endif
		if (!sleep_until(&next))
			break;
	}
	status = 0;
out:
#ifdef RVMIG_TOP_LIVE
	top_live_stop(lv);
#endif
	if (top_record_close(rec))
		status = 1;
#ifdef RVMIG_TOP_EXPORTER
	top_exporter_stop(exp);
#endif
	top_collect_close(&col);
	rvmig_ctx_destroy(ctx);
	free(watches);
	return status;
}
