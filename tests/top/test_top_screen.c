/* SPDX-License-Identifier: MIT */
/*
 * unit.top.screen - the live view's layout (tools/top/screen.c, the domain
 * pane of pane_dom.c) and the record writer (record.c) on made-up views:
 * sort keys and their order, escaping of hostile names on screen and in
 * the record, lines cut to the terminal's width, the cut of a short
 * terminal, vCPU rows, the help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rvmig/monitor.h>

#include "top/pane_dom.h"
#include "top/pane_xfer.h"
#include "top/record.h"
#include "top/screen.h"

static const struct top_vcpu vc_b[] = {
	{ .id = 201, .cpu_s = 3, .run_share = 0.9, .wait_share = 0.1, .execs_per_s = 5 },
	{ .id = 202, .cpu_s = 1, .run_share = 0.2, .blocked_share = 0.8, .execs_per_s = 9 },
};
static const struct top_net net_a[] = { { .name = "eth0", .rx_bytes = 5 << 20, .tx_bytes = 1 << 20 } };
static const struct top_disk disk_b[] = {
	{ .name = "vda", .rd_bytes = 2048, .wr_bytes = 3 << 20 },
	{ .name = "vdb", .wr_bytes = 1 << 20 },
};
static const struct top_dom doms[] = {
	{ .name = "beta", .kind = TOP_PROCESS, .id = 200, .nvcpus = 2, .vcpus = vc_b,
	  .cpu_s = 4, .cpu_pct = 110, .run_share = 0.55, .blocked_share = 0.4,
	  .wait_share = 0.05, .execs_per_s = 14, .mem_bytes = 1 << 20, .ndisks = 2,
	  .disks = disk_b },
	{ .name = "ev\x1b[2Jil\tx", .kind = TOP_CGROUP, .id = 7, .nvcpus = 1,
	  .flags = RVMIG_MONITOR_DOM_THROTTLE, .cpu_s = 9, .cpu_pct = 30, .run_share = 0.3,
	  .wait_share = 0.7, .mem_bytes = 2 << 20 },
	{ .name = "alpha", .kind = TOP_PROCESS, .id = 100, .nvcpus = 1, .cpu_s = 1,
	  .cpu_pct = 1, .run_share = 0.01, .blocked_share = 0.99, .mem_bytes = 3 << 20,
	  .nnets = 1, .nets = net_a },
};
static const double idle[] = { 0.25, 0.5 };
static const struct top_view view = {
	.time_s = 1000, .interval_s = 1, .ncpus = 2, .mem_total = 8ull << 30,
	.mem_free = 4ull << 30, .ndoms = 3, .doms = doms, .host = "h\x07st",
	.backend = "linux", .mem_avail = 5ull << 30, .cpu_idle = idle,
};

/* The screen as lines (a terminal of at most 40 rows). */
struct shot {
	char line[40][512];
	int rows, width;
};

static void put(void *arg, int y, enum top_line_attr attr, const char *line)
{
	struct shot *s = arg;

	(void)attr;
	cr_assert(y >= 0 && y < s->rows, "line %d outside the %d rows", y, s->rows);
	cr_assert(strlen(line) <= (size_t)s->width, "line %d longer than %d: '%s'", y,
		  s->width, line);
	for (const char *p = line; *p; p++)
		cr_assert(*p >= 0x20 && *p < 0x7f, "line %d holds byte %#x", y, (unsigned char)*p);
	snprintf(s->line[y], sizeof(s->line[y]), "%s", line);
}

static void render(struct top_screen *sc, struct shot *s, int width, int rows)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	s->width = width;
	cr_assert_eq(top_screen_render(sc, &view, width, rows, put, s), 0);
}

/* The screen line where a domain's row starts with id, -1 if none. */
static int row_of(const struct shot *s, const char *id)
{
	for (int y = 0; y < s->rows; y++) {
		char first[32];

		if (sscanf(s->line[y], "%31s", first) == 1 && !strcmp(first, id))
			return y;
	}
	return -1;
}

static struct top_screen screen(void)
{
	struct top_screen sc;

	top_screen_init(&sc, 3);
	cr_assert_eq(top_screen_add_pane(&sc, &top_pane_domains), 0);
	return sc;
}

Test(top_screen, default_order_is_cpu_pct_high_first)
{
	struct top_screen sc = screen();
	struct shot s;

	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "200") < row_of(&s, "7") && row_of(&s, "7") < row_of(&s, "100"));
	cr_assert_not_null(strstr(s.line[4], "Domains: 3, sorted by CPU% (C) high first"),
			   "'%s'", s.line[4]);
}

Test(top_screen, sort_keys)
{
	struct top_screen sc = screen();
	struct shot s;

	cr_assert_eq(top_screen_key(&sc, 'N'), TOP_KEY_REDRAW);
	render(&sc, &s, 200, 30);
	/* "alpha" < "beta" < "ev..." */
	cr_assert(row_of(&s, "100") < row_of(&s, "200") && row_of(&s, "200") < row_of(&s, "7"));
	cr_assert_eq(top_screen_key(&sc, 'r'), TOP_KEY_REDRAW);
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "7") < row_of(&s, "200") && row_of(&s, "200") < row_of(&s, "100"));
	cr_assert_eq(top_screen_key(&sc, 'W'), TOP_KEY_REDRAW); /* wait, high first */
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "7") < row_of(&s, "200") && row_of(&s, "200") < row_of(&s, "100"));
	cr_assert_eq(top_screen_key(&sc, 'B'), TOP_KEY_REDRAW); /* blocked */
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "100") < row_of(&s, "200") && row_of(&s, "200") < row_of(&s, "7"));
	cr_assert_eq(top_screen_key(&sc, 'I'), TOP_KEY_REDRAW); /* id, low first */
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "7") < row_of(&s, "100") && row_of(&s, "100") < row_of(&s, "200"));
	/* '>' from ID: NAME */
	cr_assert_eq(top_screen_key(&sc, '>'), TOP_KEY_REDRAW);
	cr_assert_eq(sc.sort[0], 1);
	cr_assert_eq(top_screen_key(&sc, '<'), TOP_KEY_REDRAW);
	cr_assert_eq(top_screen_key(&sc, '<'), TOP_KEY_REDRAW); /* wraps to the last */
	cr_assert_eq(sc.sort[0], top_pane_domains.ncols - 1);
	cr_assert_eq(top_screen_key(&sc, 'x'), TOP_KEY_NONE);
	cr_assert_eq(top_screen_key(&sc, 'q'), TOP_KEY_QUIT);
	cr_assert_eq(top_screen_key(&sc, 'd'), TOP_KEY_DELAY);
}

Test(top_screen, device_columns_sum_and_sort)
{
	struct top_screen sc = screen();
	struct shot s;
	int y;

	render(&sc, &s, 200, 30);
	cr_assert_not_null(strstr(s.line[5], "KIND     NETRX(k)  NETTX(k) DISKRD(k) DISKWR(k)"),
			   "'%s'", s.line[5]);
	y = row_of(&s, "100");
	cr_assert_not_null(strstr(s.line[y], "     5120      1024         0         0"), "'%s'",
			   s.line[y]);
	y = row_of(&s, "200");
	cr_assert_not_null(strstr(s.line[y], "        0         0         2      4096"), "'%s'",
			   s.line[y]);
	cr_assert_eq(top_screen_key(&sc, 'X'), TOP_KEY_REDRAW); /* received, high first */
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "100") < row_of(&s, "200") && row_of(&s, "100") < row_of(&s, "7"));
	cr_assert_eq(top_screen_key(&sc, 'F'), TOP_KEY_REDRAW); /* written */
	render(&sc, &s, 200, 30);
	cr_assert(row_of(&s, "200") < row_of(&s, "100") && row_of(&s, "200") < row_of(&s, "7"));
}

Test(top_screen, names_escaped_and_lines_cut)
{
	struct top_screen sc = screen();
	struct shot s;

	render(&sc, &s, 200, 30); /* put() fails on any byte outside ' '..'~' */
	cr_assert_not_null(strstr(s.line[0], "host h\\x07st"), "'%s'", s.line[0]);
	cr_assert_not_null(strstr(s.line[row_of(&s, "7")], "ev\\x1b[2Jil\\tx"));
	render(&sc, &s, 30, 30); /* put() fails on a line longer than 30 */
	cr_assert_eq(strlen(s.line[row_of(&s, "7")]), 30);
	cr_assert_eq(strncmp(s.line[row_of(&s, "7")], "      7 ev\\x1b[2Jil\\tx  ", 24), 0);
}

Test(top_screen, header_and_status)
{
	struct top_screen sc = screen();
	struct shot s;

	render(&sc, &s, 200, 30);
	cr_assert_not_null(strstr(s.line[0], "backend linux  delay 3 s  interval 1.00 s"));
	cr_assert_not_null(strstr(s.line[1], "Mem: 8192M total, 4096M free, 5120M available   CPUs: 2"),
			   "'%s'", s.line[1]);
	cr_assert_not_null(strstr(s.line[2], "pCPU idle   0: 25%   1: 50%"), "'%s'", s.line[2]);
	cr_assert_not_null(strstr(s.line[29], "q quit"));
	snprintf(sc.status, sizeof(sc.status), "hello");
	render(&sc, &s, 200, 30);
	cr_assert_str_eq(s.line[29], "hello");
}

Test(top_screen, short_terminal_says_rows_are_cut)
{
	struct top_screen sc = screen();
	struct shot s;

	render(&sc, &s, 200, 8); /* 3 header lines, blank, title, columns, 1 row, status */
	cr_assert_not_null(strstr(s.line[6], "more rows"), "'%s'", s.line[6]);
	cr_assert_not_null(strstr(s.line[7], "q quit"));
	render(&sc, &s, 200, 1); /* the status line alone */
	cr_assert_not_null(strstr(s.line[0], "q quit"));
}

Test(top_screen, vcpu_rows)
{
	struct top_screen sc = screen();
	struct shot s;

	cr_assert_eq(top_screen_key(&sc, 'v'), TOP_KEY_REDRAW);
	render(&sc, &s, 200, 30);
	int y = row_of(&s, "200");

	cr_assert(y > 0);
	cr_assert_not_null(strstr(s.line[y + 1], "201   vCPU 0"), "'%s'", s.line[y + 1]);
	cr_assert_not_null(strstr(s.line[y + 1], "90.0"), "'%s'", s.line[y + 1]);
	cr_assert_not_null(strstr(s.line[y + 2], "202   vCPU 1"), "'%s'", s.line[y + 2]);
	cr_assert_not_null(strstr(s.line[y + 2], "80.0"), "'%s'", s.line[y + 2]);
	cr_assert_not_null(strstr(s.line[4], "vCPUs shown"));
}

Test(top_screen, first_sample_shows_dashes)
{
	struct top_screen sc = screen();
	struct top_view v = view;
	char cell[TOP_CELL_MAX];

	v.interval_s = 0;
	top_pane_domains.cols[5].cell(&v, 0, -1, cell); /* RUN% */
	cr_assert_str_eq(cell, "-");
	top_pane_domains.cols[3].cell(&v, 0, -1, cell); /* CPU(sec): cumulative */
	cr_assert_str_eq(cell, "4.0");
	(void)sc;
}

Test(top_screen, help)
{
	struct top_screen sc = screen();
	struct shot s;

	cr_assert_eq(top_screen_key(&sc, 'h'), TOP_KEY_REDRAW);
	render(&sc, &s, 200, 30);
	bool found = false;

	for (int y = 0; y < 30; y++)
		found |= strstr(s.line[y], " R RUN% ") != NULL;
	cr_assert(found, "the help lists the sort keys");
	cr_assert_eq(top_screen_key(&sc, 'N'), TOP_KEY_REDRAW); /* leaves the help, sorts */
	cr_assert(!sc.help);
	cr_assert_eq(sc.sort[0], 1);
}

Test(top_record, rows_escape_names_and_match_their_columns)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	cr_assert_not_null(f);
	cr_assert_eq(top_record_write_header(f, &view, 0.5), 0);
	cr_assert_eq(top_record_write_sample(f, &view), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(strncmp(s, "#rvmig-top-record\t1\thost=h\\x07st\tbackend=linux\tcpus=2\t", 50), 0,
		     "'%.80s'", s);
	cr_assert_not_null(strstr(s, "\nH\t1000.000\t1.000\t4294967296\t5368709120\t2\t25.00\t50.00\n"));
	cr_assert_not_null(strstr(s, "\nD\t1000.000\t1.000\tcgroup\t7\tev\\x1b[2Jil\\tx\t--t-\t9.000000"
				     "\t30.00\t30.00\t0.00\t70.00\t0.00\t1\t2097152\n"));
	cr_assert_not_null(strstr(s, "\nV\t1000.000\t1.000\tprocess\t200\t202\t1.000000\t20.00\t80.00"
				     "\t0.00\t9.00\n"));
	/* every row has as many fields as its column line names */
	int ncols[128] = { 0 };
	unsigned rows = 0;

	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		int fields = 1;

		for (char *p = line; *p; p++)
			fields += *p == '\t';
		if (line[0] == '#' && line[1] != 'r')
			ncols[(unsigned char)line[1]] = fields;
		else if (line[0] != '#') {
			cr_assert_eq(fields, ncols[(unsigned char)line[0]], "'%s'", line);
			rows++;
		}
	}
	cr_assert_eq(rows, 1 + 3 + 2); /* H, 3 D, beta's 2 V (the others: no vCPU list) */
	free(s);
}

static const struct top_xfer xfers[] = {
	{ .pid = 500, .id = 1, .tool = "rvmig-send", .peer = "10.0.0.2:7471", .transport = "tcp",
	  .mode = "push", .state = "active", .processed = 10 << 20, .bytes_per_s = 5000000,
	  .elapsed_s = 2 },
	{ .pid = 400, .id = 2, .tool = "to\x1bol", .peer = "", .transport = "verbs", .mode = "pull",
	  .state = "setup", .size_known = true, .total = 1 << 20, .bytes_per_s = 9000000 },
};

Test(top_screen, transfer_pane)
{
	struct top_screen sc = screen();
	struct top_view v = view;
	struct shot s = { .rows = 30, .width = 200 };

	v.nxfers = 2;
	v.xfers = xfers;
	cr_assert_eq(top_screen_add_pane(&sc, &top_pane_transfers), 0);
	cr_assert_eq(top_screen_render(&sc, &v, 200, 30, put, &s), 0);
	int t = -1;

	for (int y = 0; y < 30; y++)
		if (strstr(s.line[y], "Transfers: 2, sorted by RATE(MB/s) (R) high first"))
			t = y;
	cr_assert(t > row_of(&s, "100"), "the transfer pane under the domains");
	/* rate high first: 400 (9 MB/s) then 500; a raw ESC shows as '?' */
	cr_assert(row_of(&s, "400") == t + 2 && row_of(&s, "500") == t + 3);
	cr_assert_not_null(strstr(s.line[t + 2], "to?ol"), "'%s'", s.line[t + 2]);
	cr_assert_not_null(strstr(s.line[t + 2], "1024"), "TOTAL(k): '%s'", s.line[t + 2]);
	cr_assert_not_null(strstr(s.line[t + 3], "10240"), "DONE(k): '%s'", s.line[t + 3]);
	/* P sorts the focused pane: the domains have no P; Tab gives the focus */
	cr_assert_eq(top_screen_key(&sc, 'P'), TOP_KEY_NONE);
	cr_assert_eq(top_screen_key(&sc, '\t'), TOP_KEY_REDRAW);
	cr_assert_eq(top_screen_key(&sc, 'E'), TOP_KEY_REDRAW); /* TIME(s), high first */
	cr_assert_eq(top_screen_render(&sc, &v, 200, 30, put, &s), 0);
	cr_assert(row_of(&s, "500") == t + 2 && row_of(&s, "400") == t + 3);
	cr_assert_not_null(strstr(s.line[t], "*Transfers: 2, sorted by TIME(s) (E) high first"),
			   "'%s'", s.line[t]);
}
