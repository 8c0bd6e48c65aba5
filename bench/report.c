/* SPDX-License-Identifier: MIT */
/*
 * report.c - the perftest-style table (with `#` header lines carrying every
 * parameter) and the JSON report of the rvmig benchmarks.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static double sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

static const char *mode_name(enum rvmig_mode m)
{
	return m == RVMIG_MODE_PULL ? "pull" : "push";
}

/* "N" or "default" for attributes the library fills in. */
static const char *num_or_default(char *buf, size_t n, uint64_t v)
{
	if (!v)
		return "default";
	snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

void bench_print_header(FILE *f, const struct bench_opts *o, const char *role, const char *peer)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32];

	fprintf(f, "# rvmig-bench (librvmig %s): role %s, transport %s, mode %s\n",
		rvmig_version(NULL, NULL, NULL), role, o->transport, mode_name(o->mode));
	fprintf(f, "# uri: %s\n", peer);
	fprintf(f, "# qps %s, window %s, slot_size %s, slots %s, max_posted %s\n",
		num_or_default(b1, sizeof(b1), o->qps), num_or_default(b2, sizeof(b2), o->window),
		num_or_default(b3, sizeof(b3), o->slot_size),
		num_or_default(b4, sizeof(b4), o->nslots),
		num_or_default(b5, sizeof(b5), o->max_posted));
	fprintf(f, "# depth %s, pin_all %s, poll %s, warmup %" PRIu64 "\n",
		o->depth ? num_or_default(b1, sizeof(b1), o->depth) : "auto (2 x window / size)",
		o->pin_all ? "yes" : "no", o->busy_poll ? "busy" : "wait", o->warmup);
	if (!o->busy_poll)
		fprintf(f, "# wait_ms %d\n", o->wait_ms);
	if (o->total)
		fprintf(f, "# total %" PRIu64 " bytes per size", o->total);
	else
		fprintf(f, "# iters %" PRIu64 " per size", o->iters);
	fprintf(f, ", sizes");
	for (unsigned i = 0; i < o->nsizes; i++)
		fprintf(f, " %" PRIu64, o->sizes[i]);
	fprintf(f, "\n# host: %ld CPUs online, /proc/stat tick %ld ms\n",
		sysconf(_SC_NPROCESSORS_ONLN), 1000 / (sysconf(_SC_CLK_TCK) > 0 ?
						     sysconf(_SC_CLK_TCK) : 100));
	if (strcmp(role, "client"))
		return;
	fprintf(f, "# Gbit/s = 1e9 bit/s; latency = post -> SEND_DONE per request; cpu_cli/cpu_srv"
		   " = user+sys s of each process;\n"
		   "# host_busy/host_kern = all CPUs' busy / kernel (sys+irq+softirq) s from"
		   " /proc/stat on the client host; ucopy = client user_copy_bytes\n");
	fprintf(f, "#%9s %8s %9s %9s %10s %9s %9s %9s %8s %8s %9s %9s %9s\n", "bytes", "iters",
		"seconds", "Gbit/s", "msg/s", "p50[us]", "p99[us]", "max[us]", "cpu_cli",
		"cpu_srv", "host_busy", "host_kern", "ucopy");
}

void bench_print_row(FILE *f, const struct bench_result *r)
{
	fprintf(f, " %9" PRIu64 " %8" PRIu64 " %9.4f %9.3f %10.1f %9.1f %9.1f %9.1f %8.3f %8.3f %9.3f"
		   " %9.3f %9" PRIu64 "\n",
		r->size, r->iters, r->seconds, r->gbit_s, r->msg_s, r->lat_p50_us, r->lat_p99_us,
		r->lat_max_us, sec(r->cpu_client.user_ns + r->cpu_client.sys_ns),
		r->have_server ? sec(r->server.cpu.user_ns + r->server.cpu.sys_ns) : 0.0,
		sec(r->cpu_client.host_busy_ns), sec(r->cpu_client.host_kernel_ns),
		r->stats_client.v[RVMIG_STAT_USER_COPY_BYTES]);
}

void bench_print_server_row(FILE *f, uint64_t size, uint64_t iters, const struct bench_report *r)
{
	double s = sec(r->cpu.wall_ns);

	fprintf(f, "# server: size %" PRIu64 " iters %" PRIu64 ": received %" PRIu64 " bytes in %"
		   PRIu64 " chunks, %.4f s (%.3f Gbit/s at the receiver), cpu user %.3f sys %.3f s,"
		   " host busy %.3f kernel %.3f s, user_copy_bytes %" PRIu64 "%s\n",
		size, iters, r->bytes, r->msgs, s, s > 0 ? (double)r->bytes * 8 / s / 1e9 : 0.0,
		sec(r->cpu.user_ns), sec(r->cpu.sys_ns), sec(r->cpu.host_busy_ns),
		sec(r->cpu.host_kernel_ns), r->stats.v[RVMIG_STAT_USER_COPY_BYTES],
		r->status ? " (status: error)" : "");
}

static void print_stats_line(FILE *f, const char *who, const struct bench_result *res,
			     unsigned n, bool server)
{
	fprintf(f, "# %s library stats (timed phases, all sizes):", who);
	for (int k = 0; k < RVMIG_STAT__COUNT; k++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < n; i++)
			sum += server ? res[i].server.stats.v[k] : res[i].stats_client.v[k];
		fprintf(f, " %s=%" PRIu64, rvmig_stat_name((enum rvmig_stat)k), sum);
	}
	fputc('\n', f);
}

void bench_print_footer(FILE *f, const struct bench_result *res, unsigned n)
{
	if (!n)
		return;
	print_stats_line(f, "client", res, n, false);
	print_stats_line(f, "server", res, n, true);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "# size %" PRIu64 ": client cpu user %.3f sys %.3f s; server cpu user %.3f"
			   " sys %.3f s; host busy/kernel s: client side %.3f/%.3f, server side"
			   " %.3f/%.3f; rvmig_progress calls (without events): client %" PRIu64
			   " (%" PRIu64 "), server %" PRIu64 " (%" PRIu64 ")\n",
			res[i].size, sec(res[i].cpu_client.user_ns), sec(res[i].cpu_client.sys_ns),
			sec(res[i].server.cpu.user_ns), sec(res[i].server.cpu.sys_ns),
			sec(res[i].cpu_client.host_busy_ns), sec(res[i].cpu_client.host_kernel_ns),
			sec(res[i].server.cpu.host_busy_ns), sec(res[i].server.cpu.host_kernel_ns),
			res[i].progress_calls, res[i].progress_empty, res[i].server.progress_calls,
			res[i].server.progress_empty);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_cpu(FILE *f, const struct bench_cpu *c)
{
	fprintf(f, "{\"wall_s\": %.6f, \"user_s\": %.6f, \"sys_s\": %.6f, \"host_busy_s\": %.6f, "
		   "\"host_kernel_s\": %.6f, \"host_total_s\": %.6f}",
		sec(c->wall_ns), sec(c->user_ns), sec(c->sys_ns), sec(c->host_busy_ns),
		sec(c->host_kernel_ns), sec(c->host_total_ns));
}

static void json_stats(FILE *f, const struct bench_libstats *s)
{
	fputc('{', f);
	for (int k = 0; k < RVMIG_STAT__COUNT; k++)
		fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", rvmig_stat_name((enum rvmig_stat)k),
			s->v[k]);
	fputc('}', f);
}

void bench_print_json(FILE *f, const struct bench_opts *o, const char *peer,
		      const struct bench_result *res, unsigned n)
{
	fprintf(f, "{\n  \"bench\": \"rvmig-bench\",\n  \"version\": \"%s\",\n",
		rvmig_version(NULL, NULL, NULL));
	fprintf(f, "  \"params\": {\"transport\": ");
	json_str(f, o->transport);
	fprintf(f, ", \"mode\": \"%s\", \"uri\": ", mode_name(o->mode));
	json_str(f, peer);
	fprintf(f, ", \"qps\": %u, \"window\": %" PRIu64 ", \"slot_size\": %u, \"slots\": %u, "
		   "\"max_posted\": %u, \"depth\": %u, \"iters\": %" PRIu64 ", \"total\": %" PRIu64
		   ", \"warmup\": %" PRIu64 ", \"pin_all\": %s, \"busy_poll\": %s, \"wait_ms\": %d,"
		   " \"host_cpus\": %ld},"
		   "\n",
		o->qps, o->window, o->slot_size, o->nslots, o->max_posted, o->depth,
		o->total ? 0 : o->iters, o->total, o->warmup, o->pin_all ? "true" : "false",
		o->busy_poll ? "true" : "false", o->wait_ms, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  \"results\": [");
	for (unsigned i = 0; i < n; i++) {
		const struct bench_result *r = &res[i];

		fprintf(f, "%s\n    {\"bytes\": %" PRIu64 ", \"iters\": %" PRIu64 ", \"total_bytes\": %"
			   PRIu64 ", \"seconds\": %.6f, \"gbit_s\": %.6f, \"msg_s\": %.3f, "
			   "\"lat_p50_us\": %.3f, \"lat_p99_us\": %.3f, \"lat_max_us\": %.3f,\n"
			   "     \"client\": {\"cpu\": ",
			i ? "," : "", r->size, r->iters, r->bytes, r->seconds, r->gbit_s, r->msg_s,
			r->lat_p50_us, r->lat_p99_us, r->lat_max_us);
		json_cpu(f, &r->cpu_client);
		fprintf(f, ", \"progress_calls\": %" PRIu64 ", \"progress_empty\": %" PRIu64
			   ",\n       \"stats\": ", r->progress_calls, r->progress_empty);
		json_stats(f, &r->stats_client);
		fprintf(f, "},\n     \"server\": {\"bytes\": %" PRIu64 ", \"chunks\": %" PRIu64
			   ", \"cpu\": ", r->server.bytes, r->server.msgs);
		json_cpu(f, &r->server.cpu);
		fprintf(f, ", \"progress_calls\": %" PRIu64 ", \"progress_empty\": %" PRIu64
			   ",\n       \"stats\": ", r->server.progress_calls, r->server.progress_empty);
		json_stats(f, &r->server.stats);
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ],\n  \"complete\": %s\n}\n", n == o->nsizes ? "true" : "false");
}
