/* SPDX-License-Identifier: MIT */
/*
 * output.c - rvmig-top's output forms, written from a top_view (view.h).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
	return k == TOP_CGROUP ? "cgroup" : k == TOP_DOMAIN ? "domain" : "process";
}

static int done(FILE *f)
{
	return ferror(f) ? -1 : 0;
}

/* A size in KiB, "-" when not known. */
static const char *kib(char *buf, size_t n, bool known, uint64_t bytes)
{
	if (known)
		snprintf(buf, n, "%" PRIu64, bytes / 1024);
	else
		snprintf(buf, n, "-");
	return buf;
}

/* The transfers under the domains, when there are any.  Their strings are
 * printable ASCII already (the monitor escapes them); the peer is cut to
 * its column. */
static void write_xfer_table(FILE *f, const struct top_view *v)
{
	char tot[24], rem[24];

	if (!v->nxfers)
		return;
	fprintf(f, "%7s %3s %-12s %-9s %-5s %-4s %-24s %12s %12s %12s %10s %8s %8s %8s %8s\n",
		"PID", "ID", "TOOL", "STATE", "TRANS", "MODE", "PEER", "DONE(k)", "TOTAL(k)",
		"LEFT(k)", "RATE(MB/s)", "PAGES", "ZERO", "CPU(sec)", "TIME(s)");
	for (unsigned i = 0; i < v->nxfers; i++) {
		const struct top_xfer *x = &v->xfers[i];

		fprintf(f, "%7" PRIu64 " %3" PRIu64 " %-12.12s %-9s %-5.5s %-4.4s %-24.24s %12" PRIu64
			" %12s %12s %10.1f %8" PRIu64 " %8" PRIu64 " %8.1f %8.1f\n",
			x->pid, x->id, x->tool, x->state, x->transport, x->mode, x->peer,
			x->processed / 1024, kib(tot, sizeof(tot), x->size_known, x->total),
			kib(rem, sizeof(rem), x->size_known, x->remaining), x->bytes_per_s / 1e6,
			x->pages, x->zero_pages, x->cpu_s, x->elapsed_s);
	}
}

struct top_dev_sums top_dev_sums(const struct top_dom *d)
{
	struct top_dev_sums t = { 0 };

	for (unsigned j = 0; j < d->nnets; j++) {
		t.rx += d->nets[j].rx_bytes;
		t.tx += d->nets[j].tx_bytes;
	}
	for (unsigned j = 0; j < d->ndisks; j++) {
		t.rd += d->disks[j].rd_bytes;
		t.wr += d->disks[j].wr_bytes;
	}
	return t;
}

int top_write_table(FILE *f, const struct top_view *v)
{
	char fl[5];

	fprintf(f, "host: %u CPUs, memory %" PRIu64 "k total, %" PRIu64 "k free, interval %.2f s\n",
		v->ncpus, v->mem_total / 1024, v->mem_free / 1024, v->interval_s);
	fprintf(f, "%20s %7s %5s %10s %7s %6s %6s %6s %8s %4s %10s %10s %10s %10s %10s\n", "NAME",
		"KIND", "STATE", "CPU(sec)", "CPU(%)", "RUN%", "BLK%", "WAIT%", "EXECS/s", "THR",
		"MEM(k)", "NETRX(k)", "NETTX(k)", "DISKRD(k)", "DISKWR(k)");
	for (unsigned i = 0; i < v->ndoms; i++) {
		const struct top_dom *d = &v->doms[i];
		struct top_dev_sums t = top_dev_sums(d);

		/* The name is the user's; control characters would break the
		 * table, so they show as '?'. */
		char name[64];
		size_t n = 0;

		for (const char *p = d->name; *p && n < sizeof(name) - 1; p++)
			name[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		name[n] = '\0';
		fprintf(f, "%20s %7s %5s %10.1f %7.1f %6.1f %6.1f %6.1f %8.1f %4u %10" PRIu64
			" %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			name, top_kind_name(d->kind), top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes / 1024,
			t.rx / 1024, t.tx / 1024, t.rd / 1024, t.wr / 1024);
	}
	write_xfer_table(f, v);
	fputc('\n', f);
	return done(f);
}

int top_write_csv_header(FILE *f)
{
	fputs("time,interval_s,name,kind,id,state,cpu_s,cpu_pct,run_pct,blocked_pct,wait_pct,"
	      "execs_per_s,threads,mem_bytes,transfer,peer,transport,mode,bytes_total,"
	      "bytes_processed,bytes_remaining,rate_bytes_per_s,pages,zero_pages,started,"
	      "elapsed_s,net_rx_bytes,net_tx_bytes,disk_read_bytes,disk_write_bytes\n", f);
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
		struct top_dev_sums t = top_dev_sums(d);

		fprintf(f, "%.3f,%.3f,", v->time_s, v->interval_s);
		csv_string(f, d->name);
		/* the transfer columns empty, then the devices summed */
		fprintf(f, ",%s,%" PRIu64 ",%s,%.3f,%.2f,%.2f,%.2f,%.2f,%.2f,%u,%" PRIu64
			",,,,,,,,,,,,,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
			top_kind_name(d->kind), d->id, top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes, t.rx, t.tx,
			t.rd, t.wr);
	}
	/* A transfer: kind "transfer", name its tool, id its pid, state its
	 * state; the domain columns empty, the transfer columns after them. */
	for (unsigned i = 0; i < v->nxfers; i++) {
		const struct top_xfer *x = &v->xfers[i];

		fprintf(f, "%.3f,%.3f,", v->time_s, v->interval_s);
		csv_string(f, x->tool);
		fprintf(f, ",transfer,%" PRIu64 ",%s,%.3f,,,,,,,,%" PRIu64 ",", x->pid, x->state,
			x->cpu_s, x->id);
		csv_string(f, x->peer);
		fputc(',', f);
		csv_string(f, x->transport);
		fputc(',', f);
		csv_string(f, x->mode);
		fputc(',', f);
		if (x->size_known)
			fprintf(f, "%" PRIu64, x->total);
		fprintf(f, ",%" PRIu64 ",", x->processed);
		if (x->size_known)
			fprintf(f, "%" PRIu64, x->remaining);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,,,,\n", x->bytes_per_s,
			x->pages, x->zero_pages, x->started_s, x->elapsed_s);
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

/* A domain's "nets" and "disks" arrays, cumulative counters. */
static void json_devices(FILE *f, const struct top_dom *d)
{
	fputs(",\"nets\":[", f);
	for (unsigned j = 0; j < d->nnets; j++) {
		const struct top_net *n = &d->nets[j];

		fputs(j ? ",{\"name\":" : "{\"name\":", f);
		json_string(f, n->name);
		fprintf(f, ",\"rx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"rx_errors\":%" PRIu64
			",\"rx_drops\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64
			",\"tx_errors\":%" PRIu64 ",\"tx_drops\":%" PRIu64 "}",
			n->rx_bytes, n->rx_packets, n->rx_errors, n->rx_drops, n->tx_bytes,
			n->tx_packets, n->tx_errors, n->tx_drops);
	}
	fputs("],\"disks\":[", f);
	for (unsigned j = 0; j < d->ndisks; j++) {
		const struct top_disk *k = &d->disks[j];

		fputs(j ? ",{\"name\":" : "{\"name\":", f);
		json_string(f, k->name);
		fprintf(f, ",\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64
			",\"read_requests\":%" PRIu64 ",\"write_requests\":%" PRIu64 "}",
			k->rd_bytes, k->wr_bytes, k->rd_reqs, k->wr_reqs);
	}
	fputc(']', f);
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
			"\"execs_per_s\":%.2f,\"threads\":%u,\"mem_bytes\":%" PRIu64,
			top_kind_name(d->kind), d->id, top_flags_str(d->flags, fl), d->cpu_s,
			d->cpu_pct, 100 * d->run_share, 100 * d->blocked_share,
			100 * d->wait_share, d->execs_per_s, d->nvcpus, d->mem_bytes);
		json_devices(f, d);
		fputc('}', f);
	}
	fputs("],\"transfers\":[", f);
	for (unsigned i = 0; i < v->nxfers; i++) {
		const struct top_xfer *x = &v->xfers[i];

		fprintf(f, "%s{\"pid\":%" PRIu64 ",\"transfer\":%" PRIu64 ",\"tool\":", i ? "," : "",
			x->pid, x->id);
		json_string(f, x->tool);
		fprintf(f, ",\"state\":\"%s\",\"transport\":", x->state);
		json_string(f, x->transport);
		fputs(",\"peer\":", f);
		json_string(f, x->peer);
		fputs(",\"mode\":", f);
		json_string(f, x->mode);
		if (x->size_known)
			fprintf(f, ",\"bytes_total\":%" PRIu64 ",\"bytes_remaining\":%" PRIu64, x->total,
				x->remaining);
		else
			fputs(",\"bytes_total\":null,\"bytes_remaining\":null", f);
		fprintf(f, ",\"bytes_processed\":%" PRIu64 ",\"rate_bytes_per_s\":%" PRIu64
			",\"pages\":%" PRIu64 ",\"zero_pages\":%" PRIu64 ",\"cpu_s\":%.3f,"
			"\"started\":%.3f,\"elapsed_s\":%.3f}",
			x->processed, x->bytes_per_s, x->pages, x->zero_pages, x->cpu_s, x->started_s,
			x->elapsed_s);
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

/*
 * Transfers: counters for what only grows (PromQL's rate() gives the rate
 * between scrapes), gauges for the size, what is left, the rate the
 * transfer itself measured over its last second (a transfer shorter than
 * two scrapes has no rate() but has this) and its start time; the state
 * as a state set, one series per state with value 1 for the current one.
 * Size and remaining are left out when the size is not known.
 */
enum xfer_field { X_BYTES, X_SIZE, X_LEFT, X_RATE, X_PAGES, X_ZERO, X_CPU, X_START };

static const struct {
	const char *name, *type, *help;
	enum xfer_field field;
} xfer_metrics[] = {
	{ "rvmig_transfer_bytes_total", "counter",
	  "Stream bytes the transfer processed (sent and acknowledged, or received).", X_BYTES },
	{ "rvmig_transfer_size_bytes", "gauge", "Size of the whole transfer, bytes, when known.",
	  X_SIZE },
	{ "rvmig_transfer_remaining_bytes", "gauge",
	  "Bytes the transfer has still to process, when its size is known.", X_LEFT },
	{ "rvmig_transfer_rate_bytes_per_second", "gauge",
	  "Bytes per second the transfer processed over its last second (over all of it once "
	  "ended).", X_RATE },
	{ "rvmig_transfer_pages_total", "counter", "Page payloads the transfer processed.",
	  X_PAGES },
	{ "rvmig_transfer_zero_pages_total", "counter",
	  "All-zero pages among them, elided on the wire.", X_ZERO },
	{ "rvmig_transfer_cpu_seconds_total", "counter",
	  "CPU time of the process running the transfer since it began, seconds.", X_CPU },
	{ "rvmig_transfer_start_time_seconds", "gauge",
	  "When the transfer began, seconds since the epoch.", X_START },
};

static bool xfer_value(const struct top_xfer *x, enum xfer_field fld, double *val)
{
	switch (fld) {
	case X_BYTES: *val = (double)x->processed; return true;
	case X_SIZE: *val = (double)x->total; return x->size_known;
	case X_LEFT: *val = (double)x->remaining; return x->size_known;
	case X_RATE: *val = (double)x->bytes_per_s; return true;
	case X_PAGES: *val = (double)x->pages; return true;
	case X_ZERO: *val = (double)x->zero_pages; return true;
	case X_CPU: *val = x->cpu_s; return true;
	case X_START: *val = x->started_s; return true;
	}
	return false;
}

static void xfer_labels(FILE *f, const struct top_xfer *x)
{
	fputs("{tool=\"", f);
	top_write_label_value(f, x->tool);
	fprintf(f, "\",pid=\"%" PRIu64 "\",transfer=\"%" PRIu64 "\",peer=\"", x->pid, x->id);
	top_write_label_value(f, x->peer);
	fputs("\",transport=\"", f);
	top_write_label_value(f, x->transport);
	fputs("\",mode=\"", f);
	top_write_label_value(f, x->mode);
	fputc('"', f);
}

static void write_xfer_metrics(FILE *f, const struct top_view *v)
{
	static const char *const states[] = { "setup", "active", "completed", "failed" };
	double val;

	for (size_t m = 0; m < sizeof(xfer_metrics) / sizeof(xfer_metrics[0]); m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", xfer_metrics[m].name,
			xfer_metrics[m].help, xfer_metrics[m].name, xfer_metrics[m].type);
		for (unsigned i = 0; i < v->nxfers; i++) {
			if (!xfer_value(&v->xfers[i], xfer_metrics[m].field, &val))
				continue;
			fputs(xfer_metrics[m].name, f);
			xfer_labels(f, &v->xfers[i]);
			fprintf(f, "} %.15g\n", val);
		}
	}
	fputs("# HELP rvmig_transfer_state The transfer's state: 1 for the current one.\n"
	      "# TYPE rvmig_transfer_state gauge\n", f);
	for (unsigned i = 0; i < v->nxfers; i++) {
		for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
			fputs("rvmig_transfer_state", f);
			xfer_labels(f, &v->xfers[i]);
			fprintf(f, ",state=\"%s\"} %d\n", states[k],
				!strcmp(states[k], v->xfers[i].state));
		}
	}
}

/* A domain's labels, after the series name: {domain="..",kind="..",id=".." */
static void dom_labels(FILE *f, const char *series, const struct top_dom *d)
{
	fprintf(f, "%s{domain=\"", series);
	top_write_label_value(f, d->name);
	fprintf(f, "\",kind=\"%s\",id=\"%" PRIu64 "\"", top_kind_name(d->kind), d->id);
}

/*
 * Interfaces and disks: one counter per figure, labelled with the domain's
 * labels and the device's name, named as node_exporter's node_network_*
 * and the libvirt exporter's block series are.  `off`: where the figure
 * (a uint64_t) sits in struct top_net or struct top_disk.
 */
static const struct dev_metric {
	const char *name, *help;
	size_t off;
} net_metrics[] = {
	{ "rvmig_domain_network_receive_bytes_total", "Bytes the domain received on the interface.",
	  offsetof(struct top_net, rx_bytes) },
	{ "rvmig_domain_network_receive_packets_total",
	  "Packets the domain received on the interface.", offsetof(struct top_net, rx_packets) },
	{ "rvmig_domain_network_receive_errors_total", "Receive errors on the interface.",
	  offsetof(struct top_net, rx_errors) },
	{ "rvmig_domain_network_receive_drops_total", "Received packets dropped on the interface.",
	  offsetof(struct top_net, rx_drops) },
	{ "rvmig_domain_network_transmit_bytes_total",
	  "Bytes the domain transmitted on the interface.", offsetof(struct top_net, tx_bytes) },
	{ "rvmig_domain_network_transmit_packets_total",
	  "Packets the domain transmitted on the interface.", offsetof(struct top_net, tx_packets) },
	{ "rvmig_domain_network_transmit_errors_total", "Transmit errors on the interface.",
	  offsetof(struct top_net, tx_errors) },
	{ "rvmig_domain_network_transmit_drops_total",
	  "Packets to transmit dropped on the interface.", offsetof(struct top_net, tx_drops) },
}, disk_metrics[] = {
	{ "rvmig_domain_disk_read_bytes_total", "Bytes the domain read from the disk.",
	  offsetof(struct top_disk, rd_bytes) },
	{ "rvmig_domain_disk_write_bytes_total", "Bytes the domain wrote to the disk.",
	  offsetof(struct top_disk, wr_bytes) },
	{ "rvmig_domain_disk_read_requests_total", "Read requests the domain made of the disk.",
	  offsetof(struct top_disk, rd_reqs) },
	{ "rvmig_domain_disk_write_requests_total", "Write requests the domain made of the disk.",
	  offsetof(struct top_disk, wr_reqs) },
};

static void write_dev_metrics(FILE *f, const struct top_view *v, bool disk)
{
	const struct dev_metric *tab = disk ? disk_metrics : net_metrics;
	size_t ntab = disk ? sizeof(disk_metrics) / sizeof(disk_metrics[0])
			   : sizeof(net_metrics) / sizeof(net_metrics[0]);

	for (size_t m = 0; m < ntab; m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", tab[m].name, tab[m].help,
			tab[m].name);
		for (unsigned i = 0; i < v->ndoms; i++) {
			const struct top_dom *d = &v->doms[i];
			unsigned n = disk ? d->ndisks : d->nnets;

			for (unsigned j = 0; j < n; j++) {
				const void *dev = disk ? (const void *)&d->disks[j]
						       : (const void *)&d->nets[j];
				uint64_t val;

				memcpy(&val, (const char *)dev + tab[m].off, sizeof(val));
				dom_labels(f, tab[m].name, d);
				fputs(disk ? ",device=\"" : ",interface=\"", f);
				top_write_label_value(f, disk ? d->disks[j].name : d->nets[j].name);
				fprintf(f, "\"} %" PRIu64 "\n", val);
			}
		}
	}
}

int top_write_metrics(FILE *f, const struct top_view *v)
{
	for (size_t m = 0; m < sizeof(dom_metrics) / sizeof(dom_metrics[0]); m++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", dom_metrics[m].name, dom_metrics[m].help,
			dom_metrics[m].name, dom_metrics[m].type);
		for (unsigned i = 0; i < v->ndoms; i++) {
			dom_labels(f, dom_metrics[m].name, &v->doms[i]);
			/* %.15g: exact for any value this shows; Prometheus reads any float form. */
			fprintf(f, "} %.15g\n", dom_value(&v->doms[i], dom_metrics[m].field));
		}
	}
	write_dev_metrics(f, v, false);
	write_dev_metrics(f, v, true);
	fprintf(f, "# HELP rvmig_host_cpus Physical CPUs online.\n# TYPE rvmig_host_cpus gauge\n"
		"rvmig_host_cpus %u\n", v->ncpus);
	fprintf(f, "# HELP rvmig_host_memory_total_bytes Host memory, bytes.\n"
		"# TYPE rvmig_host_memory_total_bytes gauge\n"
		"rvmig_host_memory_total_bytes %" PRIu64 "\n", v->mem_total);
	fprintf(f, "# HELP rvmig_host_memory_free_bytes Free host memory, bytes.\n"
		"# TYPE rvmig_host_memory_free_bytes gauge\n"
		"rvmig_host_memory_free_bytes %" PRIu64 "\n", v->mem_free);
	write_xfer_metrics(f, v);
	return done(f);
}
