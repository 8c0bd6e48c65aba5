/* SPDX-License-Identifier: MIT */
/*
 * unit.top.output - rvmig-top's output writers (tools/top/output.c) on
 * made-up views: label escaping, the exposition page's shape, CSV quoting
 * and JSON escaping of hostile names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rvmig/monitor.h>

#include "top/view.h"

/* Runs a writer into a heap string (freed by the caller). */
#define CAPTURE(out, call)                                                     \
	do {                                                                   \
		size_t len_;                                                   \
		FILE *f = open_memstream(&(out), &len_);                       \
		cr_assert_not_null(f);                                         \
		cr_assert_eq(call, 0);                                         \
		cr_assert_eq(fclose(f), 0);                                    \
	} while (0)

static const struct top_dom doms[] = {
	{ .name = "vm\"1\\x\ny", .kind = TOP_CGROUP, .id = 77, .flags = RVMIG_MONITOR_DOM_THROTTLE,
	  .nvcpus = 3, .cpu_s = 12.5, .run_s = 10, .blocked_s = 4.25, .wait_s = 0.5,
	  .cpu_pct = 150, .run_share = 0.5, .blocked_share = 0.25, .wait_share = 0.25,
	  .execs_per_s = 40, .mem_bytes = 1u << 20 },
	{ .name = "qemu", .kind = TOP_PROCESS, .id = 4242, .flags = RVMIG_MONITOR_DOM_NEW,
	  .nvcpus = 1, .mem_bytes = 4096 },
};
static const struct top_view view = {
	.time_s = 1000.5, .interval_s = 1, .ncpus = 8, .mem_total = 1ull << 33,
	.mem_free = 1ull << 32, .ndoms = 2, .doms = doms,
};

Test(top_output, label_value_escapes_backslash_quote_newline)
{
	char *s = NULL;

	CAPTURE(s, top_write_label_value(f, "a\\b\"c\nd\te"));
	cr_assert_str_eq(s, "a\\\\b\\\"c\\nd\te");
	free(s);
	CAPTURE(s, top_write_label_value(f, ""));
	cr_assert_str_eq(s, "");
	free(s);
}

Test(top_output, metrics_page)
{
	char *s = NULL;

	CAPTURE(s, top_write_metrics(f, &view));
	cr_assert_not_null(strstr(s, "# HELP rvmig_domain_cpu_seconds_total "));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_domain_cpu_seconds_total counter\n"));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_domain_memory_bytes gauge\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_domain_cpu_seconds_total{domain=\"vm\\\"1\\\\x\\ny\",kind=\"cgroup\",id=\"77\"} 12.5\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_domain_blocked_seconds_total{domain=\"vm\\\"1\\\\x\\ny\",kind=\"cgroup\",id=\"77\"} 4.25\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_domain_wait_seconds_total{domain=\"qemu\",kind=\"process\",id=\"4242\"} 0\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_domain_memory_bytes{domain=\"qemu\",kind=\"process\",id=\"4242\"} 4096\n"));
	cr_assert_not_null(strstr(s, "rvmig_host_cpus 8\n"));
	cr_assert_not_null(strstr(s, "rvmig_host_memory_total_bytes 8589934592\n"));
	cr_assert_not_null(strstr(s, "rvmig_host_memory_free_bytes 4294967296\n"));
	/* Every line is a comment or a sample; no raw newline inside a label
	 * (each sample line has its labels closed before the value). */
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
		cr_assert(line[0] == '#' || strncmp(line, "rvmig_", 6) == 0, "bad line '%s'", line);
	free(s);
}

Test(top_output, metrics_page_with_no_domain)
{
	struct top_view v = view;
	char *s = NULL;

	v.ndoms = 0;
	CAPTURE(s, top_write_metrics(f, &v));
	cr_assert_null(strstr(s, "{domain="));
	cr_assert_not_null(strstr(s, "rvmig_host_cpus 8\n"));
	free(s);
}

Test(top_output, table)
{
	char *s = NULL;

	CAPTURE(s, top_write_table(f, &view));
	cr_assert_not_null(strstr(s, "host: 8 CPUs"));
	cr_assert_not_null(strstr(s, "NAME"));
	cr_assert_not_null(strstr(s, "WAIT%"));
	/* the newline in the name shows as '?', the table stays one line a domain */
	cr_assert_not_null(strstr(s, "vm\"1\\x?y  cgroup  --t-       12.5   150.0   50.0   25.0   25.0"));
	cr_assert_not_null(strstr(s, "qemu process  -n--"));
	free(s);
}

Test(top_output, csv_and_json_escape_names)
{
	char *s = NULL;

	CAPTURE(s, top_write_csv(f, &view));
	cr_assert_not_null(strstr(s, ",\"vm\"\"1\\x\ny\",cgroup,77,--t-,12.500,150.00,50.00,25.00,25.00,40.00,3,1048576,,,,,,,,,,,,,0,0,0,0\n"));
	free(s);
	CAPTURE(s, top_write_json(f, &view));
	cr_assert_not_null(strstr(s, "{\"name\":\"vm\\\"1\\\\x\\u000ay\",\"kind\":\"cgroup\",\"id\":77,"));
	cr_assert_eq(strchr(s, '\n'), s + strlen(s) - 1, "one line per interval");
	free(s);
}

/* Transfers: what the monitor hands out is printable ASCII already (it
 * escapes); the writers still quote what their form needs. */
static const struct top_xfer xfers[] = {
	{ .pid = 4321, .id = 2, .tool = "a\"b\\\\c,d", .peer = "10.0.0.2:7471",
	  .transport = "tcp", .mode = "push", .state = "active", .size_known = true,
	  .total = 1000000, .processed = 250000, .remaining = 750000, .bytes_per_s = 125000,
	  .pages = 61, .zero_pages = 12, .cpu_s = 0.5, .started_s = 1000, .elapsed_s = 2 },
	{ .pid = 4400, .id = 1, .tool = "rvmig-recv", .peer = "", .transport = "", .mode = "",
	  .state = "setup" },
};

static struct top_view with_xfers(void)
{
	struct top_view v = view;

	v.nxfers = 2;
	v.xfers = xfers;
	return v;
}

Test(top_output, transfers_metrics)
{
	struct top_view v = with_xfers();
	char *s = NULL;

	CAPTURE(s, top_write_metrics(f, &v));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_transfer_bytes_total counter\n"));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_transfer_remaining_bytes gauge\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_transfer_bytes_total{tool=\"a\\\"b\\\\\\\\c,d\",pid=\"4321\",transfer=\"2\","
		"peer=\"10.0.0.2:7471\",transport=\"tcp\",mode=\"push\"} 250000\n"));
	cr_assert_not_null(strstr(s, "rvmig_transfer_remaining_bytes{tool=\"a"));
	cr_assert_not_null(strstr(s, ",mode=\"push\"} 750000\n"));
	cr_assert_not_null(strstr(s, ",mode=\"push\"} 0.5\n"), "cpu seconds");
	cr_assert_not_null(strstr(s, ",mode=\"push\",state=\"active\"} 1\n"));
	cr_assert_not_null(strstr(s, ",mode=\"push\",state=\"setup\"} 0\n"));
	cr_assert_not_null(strstr(s, "rvmig_transfer_state{tool=\"rvmig-recv\",pid=\"4400\",transfer=\"1\","
				      "peer=\"\",transport=\"\",mode=\"\",state=\"setup\"} 1\n"));
	/* size unknown: no size and no remaining series for it */
	cr_assert_null(strstr(s, "rvmig_transfer_size_bytes{tool=\"rvmig-recv\""));
	cr_assert_null(strstr(s, "rvmig_transfer_remaining_bytes{tool=\"rvmig-recv\""));
	free(s);
}

Test(top_output, transfers_table_csv_json)
{
	struct top_view v = with_xfers();
	char *s = NULL;

	CAPTURE(s, top_write_table(f, &v));
	cr_assert_not_null(strstr(s, "   4321   2 a\"b\\\\c,d     active    tcp   push 10.0.0.2:7471"));
	cr_assert_not_null(strstr(s, "     976          732        0.1"), "%s", s);
	cr_assert_not_null(strstr(s, "   4400   1 rvmig-recv   setup"));
	free(s);
	CAPTURE(s, top_write_csv(f, &v));
	cr_assert_not_null(strstr(s, ",\"a\"\"b\\\\c,d\",transfer,4321,active,0.500,,,,,,,,2,"
				      "\"10.0.0.2:7471\",\"tcp\",\"push\",1000000,250000,750000,125000,61,12,"
				      "1000.000,2.000,,,,\n"), "%s", s);
	cr_assert_not_null(strstr(s, ",\"rvmig-recv\",transfer,4400,setup,0.000,,,,,,,,1,\"\",\"\",\"\",,0,,0,0,0,"));
	free(s);
	CAPTURE(s, top_write_json(f, &v));
	cr_assert_not_null(strstr(s, ",\"transfers\":[{\"pid\":4321,\"transfer\":2,\"tool\":\"a\\\"b\\\\\\\\c,d\","
				      "\"state\":\"active\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"bytes_total\":1000000,\"bytes_remaining\":750000,"
				      "\"bytes_processed\":250000,\"rate_bytes_per_s\":125000,"));
	cr_assert_not_null(strstr(s, "\"bytes_total\":null,\"bytes_remaining\":null"));
	cr_assert_eq(strchr(s, '\n'), s + strlen(s) - 1, "one line per interval");
	free(s);
}

/* Interfaces and disks: one counter series per figure with the domain's
 * labels and the device's, the names escaped; JSON arrays per domain. */
static const struct top_net dev_nets[] = {
	{ .name = "eth\"0\\", .rx_bytes = 18446744073709551615ull, .rx_packets = 2, .rx_errors = 3,
	  .rx_drops = 4, .tx_bytes = 5, .tx_packets = 6, .tx_errors = 7, .tx_drops = 8 },
};
static const struct top_disk dev_disks[] = {
	{ .name = "vda", .rd_bytes = 4096, .wr_bytes = 8388608, .rd_reqs = 1, .wr_reqs = 8 },
	{ .name = "8:16", .rd_bytes = 1, .wr_bytes = 2, .rd_reqs = 3, .wr_reqs = 4 },
};
static const struct top_dom dev_doms[] = {
	{ .name = "vm\n1", .kind = TOP_CGROUP, .id = 9, .nvcpus = 1, .nnets = 1, .nets = dev_nets,
	  .ndisks = 2, .disks = dev_disks },
	{ .name = "bare", .kind = TOP_PROCESS, .id = 10, .nvcpus = 1 },
};

Test(top_output, device_metrics_and_json)
{
	struct top_view v = view;
	char *s = NULL;

	v.ndoms = 2;
	v.doms = dev_doms;
	CAPTURE(s, top_write_metrics(f, &v));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_domain_network_receive_bytes_total counter\n"));
	cr_assert_not_null(strstr(s, "# TYPE rvmig_domain_disk_write_requests_total counter\n"));
	cr_assert_not_null(strstr(s,
		"rvmig_domain_network_receive_bytes_total{domain=\"vm\\n1\",kind=\"cgroup\",id=\"9\","
		"interface=\"eth\\\"0\\\\\"} 18446744073709551615\n"), "%s", s);
	cr_assert_not_null(strstr(s, "rvmig_domain_network_transmit_drops_total{domain=\"vm\\n1\","
				      "kind=\"cgroup\",id=\"9\",interface=\"eth\\\"0\\\\\"} 8\n"));
	cr_assert_not_null(strstr(s, "rvmig_domain_network_receive_errors_total{domain=\"vm\\n1\","
				      "kind=\"cgroup\",id=\"9\",interface=\"eth\\\"0\\\\\"} 3\n"));
	cr_assert_not_null(strstr(s, "rvmig_domain_disk_write_bytes_total{domain=\"vm\\n1\","
				      "kind=\"cgroup\",id=\"9\",device=\"vda\"} 8388608\n"));
	cr_assert_not_null(strstr(s, "rvmig_domain_disk_read_requests_total{domain=\"vm\\n1\","
				      "kind=\"cgroup\",id=\"9\",device=\"8:16\"} 3\n"));
	cr_assert_null(strstr(s, "interface=\"\""), "no device series for a domain without");
	cr_assert_null(strstr(s, "_network_receive_bytes_total{domain=\"bare\""));
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
		cr_assert(line[0] == '#' || strncmp(line, "rvmig_", 6) == 0, "bad line '%s'", line);
	free(s);
	CAPTURE(s, top_write_json(f, &v));
	cr_assert_not_null(strstr(s, "\"nets\":[{\"name\":\"eth\\\"0\\\\\",\"rx_bytes\":18446744073709551615,"
				      "\"rx_packets\":2,\"rx_errors\":3,\"rx_drops\":4,\"tx_bytes\":5,"
				      "\"tx_packets\":6,\"tx_errors\":7,\"tx_drops\":8}],\"disks\":[{\"name\":"
				      "\"vda\",\"read_bytes\":4096,\"write_bytes\":8388608,\"read_requests\":1,"
				      "\"write_requests\":8},{\"name\":\"8:16\","), "%s", s);
	cr_assert_not_null(strstr(s, "\"mem_bytes\":0,\"nets\":[],\"disks\":[]}"), "%s", s);
	free(s);
	/* the table and CSV sum them per domain (KiB in the table) */
	CAPTURE(s, top_write_table(f, &v));
	cr_assert_not_null(strstr(s, "NETRX(k)   NETTX(k)  DISKRD(k)  DISKWR(k)\n"), "%s", s);
	cr_assert_not_null(strstr(s, " 18014398509481983          0          4       8192\n"), "%s", s);
	free(s);
	CAPTURE(s, top_write_csv(f, &v));
	cr_assert_not_null(strstr(s, ",,,,,,,,,,,,,18446744073709551615,5,4097,8388610\n"), "%s", s);
	cr_assert_not_null(strstr(s, ",\"bare\",process,10,----,0.000,0.00,0.00,0.00,0.00,0.00,1,0,"
				      ",,,,,,,,,,,,0,0,0,0\n"), "%s", s);
	free(s);
}
