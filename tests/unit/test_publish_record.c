/* SPDX-License-Identifier: MIT */
/*
 * Transfer files (librvmig/publish/record.c): what the publisher writes
 * parses back to the same figures; hostile text (bad escapes, control
 * bytes, huge numbers, duplicate keys, too many transfers, truncation) is
 * refused with a reason and a line, reading nothing past the text; and a
 * real publisher's file, read back by a real monitor, round-trips, with a
 * planted file of a dead process removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rvmig.h>

#include "publish/publish_int.h"
#include "publish/record.h"

#define S(lit) lit, sizeof(lit) - 1
/* How long the publisher's thread may take to write (a readiness deadline
 * on a loaded host, not a timing assertion). */
#define SETTLE_MS 30000

/* A heap copy without a NUL, so ASan catches any read past len. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	memcpy(p, s, len);
	return p;
}

/* Parses the text; returns the error (0: ok, f filled). */
static int parse(const char *s, size_t len, struct xrec_file *f, unsigned *line)
{
	char *p = exact(s, len);
	const char *why;
	int rc = xrec_parse(p, len, f, &why, line);

	if (rc)
		cr_assert(why && why[0], "an error without a reason");
	free(p);
	return rc;
}

#define HEAD "rvmig-transfers 1\npid 42\npid_start 7\ntool rvmig-send\n"

Test(publish_record, format_parse_round_trip)
{
	struct xrec_file f = { .pid = 4242, .pid_start = 99, .updated_ns = 5 }, g;
	struct xrec_transfer x[2] = {
		{ .id = 1, .state = RVMIG_TRANSFER_ACTIVE, .transport = "tcp",
		  .peer = "10.0.0.2:7471", .mode = "push", .started_ns = 1000, .elapsed_ms = 250,
		  .total_known = true, .total = 100, .processed = 60, .remaining = 40,
		  .bytes_per_s = 12345, .pages = 9, .zero_pages = 3, .cpu_ns = 777,
		  .wire_sent = 50, .wire_recv = 2 },
		{ .id = 2, .state = RVMIG_TRANSFER_SETUP },
	};
	char buf[4096], small[40];
	unsigned line;
	size_t len;

	xrec_escape(f.tool, sizeof(f.tool), "rvmig\"x\\y\n\x1b");
	cr_assert_str_eq(f.tool, "rvmig\"x\\\\y\\n\\x1b");
	len = xrec_format(buf, sizeof(buf), &f, x, 2);
	cr_assert_gt(len, 0);
	cr_assert_eq(xrec_format(small, sizeof(small), &f, x, 2), 0, "a buffer too small is refused");
	cr_assert_eq(parse(buf, len, &g, &line), 0, "%.*s", (int)len, buf);
	cr_assert_eq(g.pid, 4242);
	cr_assert_eq(g.pid_start, 99);
	cr_assert_str_eq(g.tool, f.tool, "strings are kept escaped");
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.x[0].state, RVMIG_TRANSFER_ACTIVE);
	cr_assert_str_eq(g.x[0].peer, "10.0.0.2:7471");
	cr_assert_str_eq(g.x[0].mode, "push");
	cr_assert(g.x[0].total_known);
	cr_assert_eq(g.x[0].total, 100);
	cr_assert_eq(g.x[0].remaining, 40);
	cr_assert_eq(g.x[0].processed, 60);
	cr_assert_eq(g.x[0].bytes_per_s, 12345);
	cr_assert_eq(g.x[0].zero_pages, 3);
	cr_assert_eq(g.x[0].cpu_ns, 777);
	cr_assert_eq(g.x[0].elapsed_ms, 250);
	cr_assert_eq(g.x[1].id, 2);
	cr_assert_not(g.x[1].total_known, "no data_total: size unknown");
	cr_assert_str_eq(g.x[1].peer, "");
	xrec_file_free(&g);
}

Test(publish_record, unknown_keys_skipped_and_no_transfer_is_fine)
{
	struct xrec_file f;
	unsigned line;

	cr_assert_eq(parse(S(HEAD "later_key whatever it says\ntransfer 3\nstate failed\n"
				  "new_counter 12\nend\n"), &f, &line), 0);
	cr_assert_eq(f.n, 1);
	cr_assert_eq(f.x[0].state, RVMIG_TRANSFER_FAILED);
	xrec_file_free(&f);
	cr_assert_eq(parse(S(HEAD "end\n"), &f, &line), 0);
	cr_assert_eq(f.n, 0);
	xrec_file_free(&f);
}

/* Each of these must be refused, at the line given (0: not about a line). */
static const struct {
	const char *text;
	unsigned line;
} hostile[] = {
	{ "", 0 + 1 },
	{ "rvmig-transfers 2\npid 1\npid_start 1\ntool t\nend\n", 1 },
	{ "rvmig-transfers 1", 1 },
	{ HEAD "transfer 1\nstate active\n", 0 },              /* no end */
	{ HEAD "transfer 1\nstate active\nend", 7 },           /* last line not ended */
	{ HEAD "end\nmore 1\n", 6 },                            /* text after end */
	{ HEAD "transfer 1\nstate dancing\nend\n", 6 },
	{ HEAD "transfer 1\nend\n", 0 },                        /* no state */
	{ HEAD "transfer 1\nstate setup\ntransfer 2\nend\n", 0 },
	{ HEAD "transfer 1\ntransfer 2\nstate setup\nend\n", 6 },
	{ HEAD "transfer 1\nstate setup\nstate active\nend\n", 7 },
	{ HEAD "pid 43\nend\n", 5 },                            /* pid twice */
	{ HEAD "transfer 1\nstate setup\npid 3\nend\n", 7 },    /* process key in a block */
	{ "rvmig-transfers 1\npid 42\ntransfer 1\nstate setup\nend\n", 3 },
	{ "rvmig-transfers 1\nstate setup\nend\n", 2 },
	{ "rvmig-transfers 1\npid 1\nend\n", 0 },               /* pid_start, tool missing */
	{ HEAD "transfer 1\nstate setup\ndata_processed 18446744073709551616\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\ndata_processed -1\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\ndata_processed 0x10\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\ndata_processed \nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\npeer a\\qb\nend\n", 7 },       /* unknown escape */
	{ HEAD "transfer 1\nstate setup\npeer ab\\\nend\n", 7 },        /* cut escape */
	{ HEAD "transfer 1\nstate setup\npeer a\\x4\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\npeer a\\xZZ\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\npeer a\x1b[31m\nend\n", 7 },   /* raw ESC */
	{ HEAD "transfer 1\nstate setup\npeer a\tb\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\npeer caf\xc3\xa9\nend\n", 7 },  /* not ASCII */
	{ HEAD "transfer 1\nstate setup\nmode pushpushp\nend\n", 7 },    /* over 8 */
	{ HEAD "transfer 1\nstate setup\nTransport tcp\nend\n", 7 },     /* key case */
	{ HEAD "transfer 1\nstate setup\nnospace\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\n key 1\nend\n", 7 },
	{ HEAD "transfer 1\nstate setup\ndata_total 5\ndata_remaining 6\nend\n", 0 },
	{ HEAD "transfer 1\nstate setup\ndata_remaining 6\nend\n", 0 },
	{ HEAD "transfer 1\nstate setup\npages 1\nzero_pages 2\nend\n", 0 },
	{ HEAD "transfer x\nstate setup\nend\n", 5 },
	{ "rvmig-transfers 1\npid 1\npid_start 1\ntool aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nend\n", 4 },
};

Test(publish_record, hostile_text_refused)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct xrec_file f;
		unsigned line = 99;
		int rc = parse(hostile[i].text, strlen(hostile[i].text), &f, &line);

		cr_assert_lt(rc, 0, "case %zu accepted: %s", i, hostile[i].text);
		cr_assert_eq(line, hostile[i].line, "case %zu: line %u, expected %u", i, line,
			     hostile[i].line);
		cr_assert_null(f.x, "case %zu: nothing left allocated", i);
	}
}

Test(publish_record, bounds)
{
	size_t cap = 64 + (XREC_MAX_TRANSFERS + 1) * 32;
	char *big = malloc(XREC_FILE_MAX + 2), *many = malloc(cap);
	struct xrec_file f;
	unsigned line;
	size_t n = 0;

	cr_assert_not_null(big);
	cr_assert_not_null(many);
	memset(big, 'a', XREC_FILE_MAX + 1);
	cr_assert_eq(parse(big, XREC_FILE_MAX + 1, &f, &line), -EFBIG);
	n = (size_t)snprintf(many, cap, HEAD);
	for (unsigned i = 0; i <= XREC_MAX_TRANSFERS; i++)
		n += (size_t)snprintf(many + n, cap - n, "transfer %u\nstate setup\n", i);
	n += (size_t)snprintf(many + n, cap - n, "end\n");
	cr_assert_eq(parse(many, n, &f, &line), -EFBIG, "more than %d transfers",
		     XREC_MAX_TRANSFERS);
	free(big);
	free(many);
}

/* A real publisher in a temporary run directory, read back by a monitor. */
Test(publish_record, publisher_to_monitor)
{
	char dir[] = "/tmp/rvmig-pub-XXXXXX", path[256], dead[256];
	struct rvmig_publisher_attr a = { .size = sizeof(a), .interval_ms = 10 };
	rvmig_publisher *pub;
	rvmig_pubxfer *x, *y;
	rvmig_monitor *mon;
	rvmig_monitor_snap *s;
	const rvmig_monitor_xfer *t;
	struct stat st;
	FILE *fp;
	pid_t child;
	int status;

	cr_assert_not_null(mkdtemp(dir));
	setenv("RVMIG_RUN_DIR", dir, 1);
	a.dir = dir;
	cr_assert_eq(rvmig_publisher_open(NULL, "rvmig-test\n", &a, &pub), 0);
	cr_assert_not_null(rvmig_publisher_file(pub));
	cr_assert_neq(stat(rvmig_publisher_file(pub), &st), 0,
		      "no file before a transfer");
	cr_assert_eq(rvmig_pubxfer_begin(pub, &x), 0);
	cr_assert_eq(rvmig_pubxfer_begin(pub, &y), 0);
	cr_assert_eq(pub_settle(pub, SETTLE_MS), 0, "the publisher's thread did not write");
	cr_assert_eq(stat(rvmig_publisher_file(pub), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	rvmig_pubxfer_set_total(x, 1000);
	/* Fed once and never again: the thread writes it when due. */
	rvmig_pubxfer_progress(x, 400, 3, 1);
	cr_assert_eq(pub_settle(pub, SETTLE_MS), 0);

	/* A file of a process that is gone (the pid of a reaped child):
	 * removed by the reader. */
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);
	snprintf(dead, sizeof(dead), "%s/%d.xfer", dir, (int)child);
	fp = fopen(dead, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "rvmig-transfers 1\npid %d\npid_start 1\ntool ghost\ntransfer 1\nstate "
		"active\nend\n", (int)child);
	fclose(fp);
	/* Garbage under a transfer file's name: skipped. */
	snprintf(path, sizeof(path), "%s/1.xfer", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("\x1b]0;pwned\x07 not a record\n", fp);
	fclose(fp);

	cr_assert_eq(rvmig_monitor_open(NULL, "auto", &mon), 0);
	cr_assert_eq(rvmig_monitor_sample(mon, &s), 0);
	cr_assert_eq(rvmig_monitor_snap_ntransfers(s), 2);
	t = rvmig_monitor_transfer(s, 0);
	cr_assert_eq(rvmig_monitor_transfer_pid(t), (uint64_t)getpid());
	cr_assert_eq(rvmig_monitor_transfer_id(t), rvmig_pubxfer_id(x));
	cr_assert_str_eq(rvmig_monitor_transfer_tool(t), "rvmig-test\\n");
	cr_assert_eq(rvmig_monitor_transfer_state(t), RVMIG_TRANSFER_SETUP);
	cr_assert_eq(rvmig_monitor_transfer_flags(t), RVMIG_MONITOR_TRANSFER_SIZE_KNOWN);
	cr_assert_eq(rvmig_monitor_transfer_total_bytes(t), 1000);
	cr_assert_eq(rvmig_monitor_transfer_processed_bytes(t), 400);
	cr_assert_eq(rvmig_monitor_transfer_remaining_bytes(t), 600);
	cr_assert_eq(rvmig_monitor_transfer_pages(t), 3);
	cr_assert_eq(rvmig_monitor_transfer_zero_pages(t), 1);
	cr_assert_null(rvmig_monitor_transfer(s, 2));
	cr_assert_eq(rvmig_monitor_transfer_flags(rvmig_monitor_transfer(s, 1)), 0);
	cr_assert_neq(stat(dead, &st), 0, "the dead process's file was not removed");
	cr_assert_eq(stat(path, &st), 0, "garbage is left alone");
	rvmig_monitor_snap_free(s);

	rvmig_pubxfer_end(x, 0);
	rvmig_pubxfer_free(y);
	cr_assert_eq(pub_settle(pub, SETTLE_MS), 0);
	cr_assert_eq(rvmig_monitor_sample(mon, &s), 0);
	cr_assert_eq(rvmig_monitor_snap_ntransfers(s), 1);
	cr_assert_eq(rvmig_monitor_transfer_state(rvmig_monitor_transfer(s, 0)),
		     RVMIG_TRANSFER_COMPLETED);
	rvmig_monitor_snap_free(s);
	rvmig_pubxfer_free(x);
	cr_assert_eq(pub_settle(pub, SETTLE_MS), 0);
	cr_assert_neq(stat(rvmig_publisher_file(pub), &st), 0, "no transfer left: no file");
	rvmig_publisher_close(pub);
	cr_assert_eq(rvmig_monitor_sample(mon, &s), 0);
	cr_assert_eq(rvmig_monitor_snap_ntransfers(s), 0);
	rvmig_monitor_snap_free(s);
	rvmig_monitor_close(mon);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "something left in the run directory");
	unsetenv("RVMIG_RUN_DIR");
}

Test(publish_record, off_by_environment)
{
	rvmig_publisher *pub;
	rvmig_pubxfer *x;

	setenv("RVMIG_PUBLISH", "0", 1);
	cr_assert_eq(rvmig_publisher_open(NULL, "t", NULL, &pub), 0);
	cr_assert_null(rvmig_publisher_file(pub));
	cr_assert_eq(rvmig_pubxfer_begin(pub, &x), 0);
	rvmig_pubxfer_progress(x, 1, 0, 0);
	rvmig_pubxfer_end(x, -EIO);
	rvmig_publisher_close(pub); /* frees x */
	unsetenv("RVMIG_PUBLISH");
	/* NULL handles are accepted everywhere */
	rvmig_pubxfer_progress(NULL, 1, 0, 0);
	rvmig_pubxfer_set_endpoint(NULL, NULL);
	rvmig_pubxfer_end(NULL, 0);
	rvmig_pubxfer_free(NULL);
	rvmig_publisher_close(NULL);
	cr_assert_str_eq(rvmig_transfer_state_name(7), "?");
}
