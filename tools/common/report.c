/* SPDX-License-Identifier: MIT */
/* report.c - the --stats-json writer of the rvmig tools. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "report.h"

void report_hex(const uint8_t sha[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

double report_gbps(const struct tool_report *r)
{
	return r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e9 : 0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int report_write_json(const char *path, const struct tool_report *r)
{
	bool to_stdout = !strcmp(path, "-");
	const char *name = path;
	struct rusage ru;
	double ucpu, scpu;
	char hex[65];
	FILE *f;
	int rc;

	getrusage(RUSAGE_SELF, &ru);
	ucpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	scpu = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (to_stdout) {
		f = stdout;
		name = "standard output";
	} else if (!(f = fopen(path, "w"))) {
		rc = -errno;
		tool_err("cannot write statistics to %s: %s", path, strerror(errno));
		return rc;
	}
	fprintf(f, "{\n  \"tool\": ");
	json_str(f, r->tool);
	/* the library that ran, not the headers the tool was built with */
	fprintf(f, ",\n  \"version\": \"%s\",\n  \"status\": ", rvmig_version(NULL, NULL, NULL));
	json_str(f, r->status ? rvmig_strerror(r->status) : "ok");
	fprintf(f, ",\n  \"ok\": %s,\n  \"transport\": ", r->status ? "false" : "true");
	json_str(f, r->transport ? r->transport : "");
	fprintf(f, ",\n  \"peer\": ");
	json_str(f, r->peer ? r->peer : "");
	fprintf(f, ",\n  \"mode\": \"%s\",\n  \"links\": %u,\n  \"raw\": %s,\n", tool_mode_name(r->mode),
		r->links, r->raw ? "true" : "false");
	fprintf(f, "  \"bytes\": %llu,\n  \"pages\": %llu,\n  \"zero_pages_elided\": %llu,\n"
		   "  \"bytes_saved\": %llu,\n  \"control_bytes\": %llu,\n  \"data_bytes\": %llu,\n"
		   "  \"records\": %llu,\n",
		(unsigned long long)r->bytes, (unsigned long long)r->pages,
		(unsigned long long)r->zero_pages,
		(unsigned long long)r->zero_pages * RVMIG_STREAM_PAGE_SIZE,
		(unsigned long long)r->control_bytes, (unsigned long long)r->data_bytes,
		(unsigned long long)r->records);
	fprintf(f, "  \"seconds\": %.6f,\n  \"gbit_per_s\": %.4f,\n  \"cpu_seconds\": %.6f,\n"
		   "  \"cpu_user_seconds\": %.6f,\n  \"cpu_sys_seconds\": %.6f,\n"
		   "  \"max_rss_kib\": %ld,\n",
		r->seconds, report_gbps(r), ucpu + scpu, ucpu, scpu, ru.ru_maxrss);
	if (r->digest_valid)
		rvmig_digest_hex(r->digest_alg, r->digest, hex);
	else
		hex[0] = 0;
	fprintf(f, "  \"digest_algorithm\": \"%s\",\n  \"digest\": \"%s\",\n  \"library\": {",
		rvmig_digest_name(r->digest_alg), hex);
	if (r->lib) {
		for (int i = 0; i < RVMIG_STAT__COUNT; i++)
			fprintf(f, "%s\n    \"%s\": %llu", i ? "," : "", rvmig_stat_name(i),
				(unsigned long long)rvmig_stats_get(r->lib, i));
		fprintf(f, "\n  ");
	}
	fprintf(f, "}\n}\n");
	if (to_stdout ? fflush(f) || ferror(f) : fclose(f)) {
		rc = errno ? -errno : -EIO;
		tool_err("cannot write statistics to %s: %s", name, strerror(-rc));
		return rc;
	}
	return 0;
}

int report_stream_counts(const rvmig_stream_parser *p, uint64_t *records, uint64_t *pages)
{
	rvmig_stream_snap *snap;

	if (rvmig_stream_snap_create(&snap))
		return -ENOMEM;
	rvmig_stream_snapshot(p, snap);
	if (records)
		*records = rvmig_stream_snap_get(snap, RVMIG_STREAM_STAT_RECORDS);
	if (pages)
		*pages = rvmig_stream_snap_get(snap, RVMIG_STREAM_STAT_PAGES);
	rvmig_stream_snap_destroy(snap);
	return 0;
}

void report_from_sender(struct tool_report *rep, const rvmig_xsender *xs,
			const struct rvmig_xresult *res)
{
	rvmig_xsend *x = xs ? rvmig_xsender_xsend(xs) : NULL;
	rvmig_stats *lst = NULL;
	rvmig_xstats *st;

	rep->status = res->status;
	rep->peer = res->peer;
	rep->transport = res->transport[0] ? res->transport : NULL;
	rep->mode = res->mode;
	rep->bytes = res->bytes;
	rep->digest_alg = res->digest_alg;
	rep->digest_valid = !res->status;
	if (rep->digest_valid)
		memcpy(rep->digest, res->digest, sizeof(rep->digest));
	if (x && !rvmig_xstats_create(&st)) {
		rvmig_xsend_stats(x, st);
		rep->pages = rvmig_xstats_get(st, RVMIG_XSTAT_PAGES);
		rep->zero_pages = rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES);
		rep->control_bytes = rvmig_xstats_get(st, RVMIG_XSTAT_CONTROL_BYTES);
		rep->data_bytes = rvmig_xstats_get(st, RVMIG_XSTAT_DATA_BYTES);
		rvmig_xstats_destroy(st);
	}
	if (x && rvmig_xsend_parser(x))
		report_stream_counts(rvmig_xsend_parser(x), &rep->records, NULL);
	if (xs && rvmig_xsender_ep(xs))
		rvmig_stats_snapshot(rvmig_xsender_ep(xs), &lst);
	rep->lib = lst;
}

void report_free_lib(struct tool_report *rep)
{
	rvmig_stats_free((rvmig_stats *)rep->lib);
	rep->lib = NULL;
}
