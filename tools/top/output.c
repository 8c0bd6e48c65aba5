/* SPDX-License-Identifier: MIT */
/*
 * output.c - rvmig-top's output forms, written from a top_view (view.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include <rvmig/monitor.h>

#include "top/view.h"

const char *top_flags_str(unsigned flags, char *buf)
{
	buf[0] = flags & RVMIG_MONITOR_DOM_GONE ? 'g' : '-';
	buf[1] = flags & RVMIG_MONITOR_DOM_NEW ? 'n' : '-';
	buf[2] = flags & RVMIG_MONITOR_DOM_THROTTLE ? 't' : '-';
	buf[3] = flags & RVMIG_MONITOR_DOM_PRESSURE ? 'p' : '-';
	buf[4] = '\0';
	return buf;
}

const char *top_kind_name(enum top_kind k)
{
	return k == TOP_CGROUP ? "cgroup" : "process";
}

static int done(FILE *f)
{
	return ferror(f) ? -1 : 0;
}

int top_write_table(FILE *f, const struct top_view *v)
{
	char fl[5];

	fprintf(f, "host: %u CPUs, memory %" PRIu64 "k total, %" PRIu64 "k free, interval %.2f s\n",
		v->ncpus, v->mem_total / 1024, v->mem_free / 1024, v->interval_s);
	fprintf(f, "%20s %7s %5s %10s %7s %6s %6s %6s %8s %4s %10s\n", "NAME", "KIND", "STATE",
		"CPU(sec)", "CPU(%)", "RUN%", "BLK%", "WAIT%", "EXECS/s", "THR", "MEM(k)");
	for (unsigned i = 0; i < v->ndoms; i++) {
		const struct top_dom *d = &v->doms[i];

		/* The name is the user's; control characters would break the
		 * table, so they show as '?'. */
		char name[64];
		size_t n = 0;

		for (const char *p = d->name; *p && n < sizeof(name) - 1; p++)
			name[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		name[n] = '\0';
		fprintf(f, "%20s %7s %5s %10.1f %7.1f %6.1f %6.1f %6.1f %8.1f %4u %10" PRIu64 "\n",
			name, top_kind_name(d->kind), top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes / 1024);
	}
	fputc('\n', f);
	return done(f);
}

int top_write_csv_header(FILE *f)
{
	fputs("time,interval_s,name,kind,id,state,cpu_s,cpu_pct,run_pct,blocked_pct,wait_pct,"
	      "execs_per_s,threads,mem_bytes\n", f);
	return done(f);
}

/* RFC 4180: a field in double quotes, a quote doubled. */
static void csv_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int top_write_csv(FILE *f, const struct top_view *v)
{
	char fl[5];

	for (unsigned i = 0; i < v->ndoms; i++) {
		const struct top_dom *d = &v->doms[i];

		fprintf(f, "%.3f,%.3f,", v->time_s, v->interval_s);
		csv_string(f, d->name);
		fprintf(f, ",%s,%" PRIu64 ",%s,%.3f,%.2f,%.2f,%.2f,%.2f,%.2f,%u,%" PRIu64 "\n",
			top_kind_name(d->kind), d->id, top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes);
	}
	return done(f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int top_write_json(FILE *f, const struct top_view *v)
{
	char fl[5];

	fprintf(f, "{\"time\":%.3f,\"interval_s\":%.3f,\"host\":{\"cpus\":%u,"
		"\"mem_total_bytes\":%" PRIu64 ",\"mem_free_bytes\":%" PRIu64 "},\"domains\":[",
		v->time_s, v->interval_s, v->ncpus, v->mem_total, v->mem_free);
	for (unsigned i = 0; i < v->ndoms; i++) {
		const struct top_dom *d = &v->doms[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_string(f, d->name);
		fprintf(f, ",\"kind\":\"%s\",\"id\":%" PRIu64 ",\"state\":\"%s\",\"cpu_s\":%.3f,"
			"\"cpu_pct\":%.2f,\"run_pct\":%.2f,\"blocked_pct\":%.2f,\"wait_pct\":%.2f,"
			"\"execs_per_s\":%.2f,\"threads\":%u,\"mem_bytes\":%" PRIu64 "}",
			top_kind_name(d->kind), d->id, top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes);
	}
	fputs("]}\n", f);
	return done(f);
}

int top_write_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	return done(f);
}

enum dom_field { F_CPU, F_RUN, F_BLOCKED, F_WAIT, F_MEM };

static const struct {
	const char *name, *type, *help;
	enum dom_field field;
} dom_metrics[] = {
	{ "rvmig_domain_cpu_seconds_total", "counter",
	  "CPU time the domain consumed, seconds.", F_CPU },
	{ "rvmig_domain_run_seconds_total", "counter",
	  "Time the domain's threads ran on a CPU while watched, seconds.", F_RUN },
	{ "rvmig_domain_blocked_seconds_total", "counter",
	  "Time the domain's threads were blocked (not runnable) while watched, seconds.",
	  F_BLOCKED },
	{ "rvmig_domain_wait_seconds_total", "counter",
	  "Time the domain's threads waited runnable for a CPU while watched, seconds.", F_WAIT },
	{ "rvmig_domain_memory_bytes", "gauge", "Memory the domain uses, bytes.", F_MEM },
};

static double dom_value(const struct top_dom *d, enum dom_field fld)
{
	switch (fld) {
	case F_CPU: return d->cpu_s;
	case F_RUN: return d->run_s;
	case F_BLOCKED: return d->blocked_s;
	case F_WAIT: return d->wait_s;
	case F_MEM: return (double)d->mem_bytes;
	}
	return 0;
}

int top_write_metrics(FILE *f, const struct top_view *v)
{
	for (size_t m = 0; m < sizeof(dom_metrics) / sizeof(dom_metrics[0]); m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", dom_metrics[m].name, dom_metrics[m].help,
			dom_metrics[m].name, dom_metrics[m].type);
		for (unsigned i = 0; i < v->ndoms; i++) {
			const struct top_dom *d = &v->doms[i];

			fprintf(f, "%s{domain=\"", dom_metrics[m].name);
			top_write_label_value(f, d->name);
			/* %.15g: exact for any value this shows; Prometheus reads any float form. */
			fprintf(f, "\",kind=\"%s\",id=\"%" PRIu64 "\"} %.15g\n", top_kind_name(d->kind),
				d->id, dom_value(d, dom_metrics[m].field));
		}
	}
	fprintf(f, "# HELP rvmig_host_cpus Physical CPUs online.\n# TYPE rvmig_host_cpus gauge\n"
		"rvmig_host_cpus %u\n", v->ncpus);
	fprintf(f, "# HELP rvmig_host_memory_total_bytes Host memory, bytes.\n"
		"# TYPE rvmig_host_memory_total_bytes gauge\n"
		"rvmig_host_memory_total_bytes %" PRIu64 "\n", v->mem_total);
	fprintf(f, "# HELP rvmig_host_memory_free_bytes Free host memory, bytes.\n"
		"# TYPE rvmig_host_memory_free_bytes gauge\n"
		"rvmig_host_memory_free_bytes %" PRIu64 "\n", v->mem_free);
	return done(f);
}
