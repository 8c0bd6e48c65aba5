/* SPDX-License-Identifier: MIT */
/*
 * The Linux monitor backend's device parsers (librvmig/monitor/linux/
 * parse_dev.c) on committed text: /proc/PID/net/dev as kernels write it,
 * cgroup v2 io.stat (the kernel's documented format, Documentation/
 * admin-guide/cgroup-v2.rst, with keys the 6.1 kernel of the soft-RoCE VM
 * writes; the real file is read in monitor.linux.cgroup2_vm), v1
 * blkio.throttle files as this host's 6.18
 * kernel wrote them; and malformed or oversized text, refused with the line
 * at fault or cut at the cap.  Inputs are heap copies without a NUL, so
 * ASan catches a read past the text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <criterion/criterion.h>

#include "monitor/linux/parse_dev.h"

static struct rvmig_monitor_net nets[80];
static struct rvmig_monitor_disk disks[80];

/* A heap copy of `text` without its NUL, so ASan catches a read past it. */
static char *exact(const char *text, size_t *len)
{
	char *p;

	*len = strlen(text);
	p = malloc(*len ? *len : 1);
	cr_assert_not_null(p);
	memcpy(p, text, *len);
	return p;
}

/* Each parser on such a copy. */
static int net_dev(const char *text, struct mon_devlist *l)
{
	size_t len;
	char *p = exact(text, &len);
	int rc = mon_parse_net_dev(p, len, nets, l);

	free(p);
	return rc;
}

static int io_stat(const char *text, struct mon_devlist *l)
{
	size_t len;
	char *p = exact(text, &len);
	int rc = mon_parse_io_stat(p, len, disks, l);

	free(p);
	return rc;
}

static int blkio(const char *text, int ios, struct mon_devlist *l)
{
	size_t len;
	char *p = exact(text, &len);
	int rc = mon_parse_blkio(p, len, ios, disks, l);

	free(p);
	return rc;
}

/* Bytes file of v1 blkio, as a parser of the same shape as the others. */
static int blkio_bytes_file(const char *text, struct mon_devlist *l)
{
	return blkio(text, 0, l);
}

/* A malformed text, the line it must be refused at, and how. */
struct bad_case {
	const char *text;
	unsigned line;
	int rc;
};

static void expect_refused(int (*parse)(const char *, struct mon_devlist *),
			   const struct bad_case *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mon_devlist l = { .max = 8 };

		cr_assert_eq(parse(bad[i].text, &l), bad[i].rc, "case %zu", i);
		cr_assert_eq(l.bad_line, bad[i].line, "case %zu: line %u", i, l.bad_line);
	}
}

#define NET_HEADER                                                                                 \
	"Inter-|   Receive                                                |  Transmit\n"            \
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs " \
	"drop fifo colls carrier compressed\n"

Test(monitor_parse_dev, net_dev_as_the_kernel_writes_it)
{
	struct mon_devlist l = { .max = 8 };
	const char *text =
		NET_HEADER
		"    lo: 499266641459 59998887    0    0    0     0          0         0 499266641459 "
		"59998887    0    0    0     0       0          0\n"
		"  eth0: 266538569    7204    1    2    0     0          0         0   233636    3274 "
		"   3    4    0     0       0          0\n"
		/* older kernels wrote big counters right after the colon */
		"veth-a:18446744073709551615 5 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n";

	cr_assert_eq(net_dev(text, &l), 0);
	cr_assert_eq(l.n, 2, "lo left out");
	cr_assert_eq(l.more, 0);
	cr_assert_str_eq(nets[0].name, "eth0");
	cr_assert_eq(nets[0].id, 1, "its position, lo counted");
	cr_assert_eq(nets[0].rx_bytes, 266538569ull);
	cr_assert_eq(nets[0].rx_packets, 7204);
	cr_assert_eq(nets[0].rx_errors, 1);
	cr_assert_eq(nets[0].rx_drops, 2);
	cr_assert_eq(nets[0].tx_bytes, 233636);
	cr_assert_eq(nets[0].tx_packets, 3274);
	cr_assert_eq(nets[0].tx_errors, 3);
	cr_assert_eq(nets[0].tx_drops, 4);
	cr_assert_str_eq(nets[1].name, "veth-a");
	cr_assert_eq(nets[1].rx_bytes, UINT64_MAX);
	cr_assert_eq(nets[1].tx_bytes, 7);
	cr_assert_eq(nets[1].tx_packets, 8);
	/* only the header: no interface */
	l = (struct mon_devlist){ .max = 8 };
	cr_assert_eq(net_dev(NET_HEADER, &l), 0);
	cr_assert_eq(l.n, 0);
}

Test(monitor_parse_dev, net_dev_escapes_names)
{
	struct mon_devlist l = { .max = 8 };

	cr_assert_eq(net_dev(NET_HEADER "a\"\\\x1b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", &l), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(nets[0].name, "a\"\\\\\\x1b");
}

/* Each malformed text and the line it must be refused at. */
Test(monitor_parse_dev, net_dev_refuses_malformed_naming_the_line)
{
	static const struct bad_case bad[] = {
		{ "", 1, -EINVAL },
		{ "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 1, -EINVAL },
		{ "Inter-|\nno bar here\n", 2, -EINVAL },
		{ "Inter-|\n", 2, -EINVAL },
		{ NET_HEADER "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
		{ NET_HEADER "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", 3, -EINVAL },
		{ NET_HEADER "  lo: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
			     "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n", 4, -EINVAL },
		{ NET_HEADER "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n", 3,
		  -ERANGE },
		{ NET_HEADER "eth0: 1 2 3 4 5 6 7 8x 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
		{ NET_HEADER "0123456789abcdef: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
		{ NET_HEADER "a/b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
		{ NET_HEADER "a b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
		{ NET_HEADER "   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 3, -EINVAL },
	};

	expect_refused(net_dev, bad, sizeof(bad) / sizeof(bad[0]));
	/* 15 bytes is the longest name Linux allows: accepted */
	struct mon_devlist l = { .max = 8 };

	cr_assert_eq(net_dev(NET_HEADER "0123456789abcde: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
			     &l), 0, "more than 16 counters are ignored");
	cr_assert_str_eq(nets[0].name, "0123456789abcde");
}

Test(monitor_parse_dev, net_dev_keeps_at_most_max)
{
	size_t cap = 1 << 16, len;
	char *text = malloc(cap);
	struct mon_devlist l = { .max = 64 };

	cr_assert_not_null(text);
	len = (size_t)snprintf(text, cap, "%s", NET_HEADER);
	for (int i = 0; i < 70; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"v%d: %d 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", i, i);
	cr_assert_eq(net_dev(text, &l), 0);
	cr_assert_eq(l.n, 64);
	cr_assert_eq(l.more, 1);
	cr_assert_str_eq(nets[63].name, "v63");
	cr_assert_eq(nets[63].rx_bytes, 63);
	free(text);
}

Test(monitor_parse_dev, io_stat)
{
	struct mon_devlist l = { .max = 8 };

	cr_assert_eq(io_stat("8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
			     "259:1048575 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 "
			     "dbytes=50331648 dios=3021 cost.vrate=100.00\n"
			     "\n"
			     "254:0 wbytes=4096\n", &l), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(major(disks[0].dev), 8);
	cr_assert_eq(minor(disks[0].dev), 16);
	cr_assert_eq(disks[0].rd_bytes, 1459200);
	cr_assert_eq(disks[0].wr_bytes, 314773504);
	cr_assert_eq(disks[0].rd_sectors, 1459200 / 512);
	cr_assert_eq(disks[0].wr_sectors, 314773504 / 512);
	cr_assert_eq(disks[0].rd_reqs, 192);
	cr_assert_eq(disks[0].wr_reqs, 353);
	cr_assert_eq(disks[0].name[0], '\0', "the caller names it");
	cr_assert_eq(major(disks[1].dev), 259, "major() and minor() take the number apart");
	cr_assert_eq(minor(disks[1].dev), 1048575);
	cr_assert_eq(disks[1].rd_reqs, 8950);
	cr_assert_eq(disks[2].rd_bytes, 0, "a missing key counts 0");
	cr_assert_eq(disks[2].wr_bytes, 4096);
	cr_assert_eq(disks[2].wr_sectors, 8);
}

Test(monitor_parse_dev, io_stat_refuses_malformed_naming_the_line)
{
	static const struct bad_case bad[] = {
		{ "8 rbytes=1\n", 1, -EINVAL },
		{ "8:0 rbytes=1\n8:x rbytes=1\n", 2, -EINVAL },
		{ "8:0 rbytes=1\n8:0: rbytes=1\n", 2, -EINVAL },
		{ "8:0 rbytes\n", 1, -EINVAL },
		{ "8:0 =5\n", 1, -EINVAL },
		{ "8:0 rbytes=-1\n", 1, -EINVAL },
		{ "8:0 rbytes=12x\n", 1, -EINVAL },
		{ "8:0 wios=99999999999999999999\n", 1, -ERANGE },
		{ "4096:0 rbytes=1\n", 1, -ERANGE },
		{ "8:1048576 rbytes=1\n", 1, -ERANGE },
	};

	expect_refused(io_stat, bad, sizeof(bad) / sizeof(bad[0]));
	/* an unknown key's value is not looked at */
	struct mon_devlist l = { .max = 8 };

	cr_assert_eq(io_stat("8:0 cost.usage=1.5 rbytes=7\n", &l), 0);
	cr_assert_eq(disks[0].rd_bytes, 7);
}

Test(monitor_parse_dev, io_stat_keeps_at_most_max)
{
	struct mon_devlist l = { .max = 2 };

	cr_assert_eq(io_stat("8:0 rbytes=1\n8:16 rbytes=2\n8:32 rbytes=3\n", &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.more, 1);
}

/* As this host's kernel (6.18) wrote them for a group with a write limit
 * on vda, after 8 MiB of O_DIRECT writes and one 4 KiB read. */
static const char blkio_bytes[] = "254:0 Read 4096\n254:0 Write 8388608\n254:0 Sync 8392704\n"
				  "254:0 Async 0\n254:0 Discard 0\n254:0 Total 8392704\n"
				  "8:0 Read 512\n8:0 Write 0\n8:0 Sync 0\n8:0 Async 0\n"
				  "8:0 Discard 0\n8:0 Total 512\nTotal 8393216\n";
static const char blkio_ios[] = "254:0 Read 1\n254:0 Write 8\n254:0 Sync 9\n254:0 Async 0\n"
				"254:0 Discard 0\n254:0 Total 9\nTotal 9\n";

Test(monitor_parse_dev, blkio_files_merge_into_one_list)
{
	struct mon_devlist l = { .max = 8 };

	cr_assert_eq(blkio(blkio_bytes, 0, &l), 0);
	cr_assert_eq(blkio(blkio_ios, 1, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(major(disks[0].dev), 254);
	cr_assert_eq(minor(disks[0].dev), 0);
	cr_assert_eq(disks[0].rd_bytes, 4096);
	cr_assert_eq(disks[0].wr_bytes, 8388608);
	cr_assert_eq(disks[0].wr_sectors, 16384);
	cr_assert_eq(disks[0].rd_reqs, 1);
	cr_assert_eq(disks[0].wr_reqs, 8);
	cr_assert_eq(major(disks[1].dev), 8);
	cr_assert_eq(disks[1].rd_bytes, 512);
	cr_assert_eq(disks[1].rd_reqs, 0, "not in io_serviced");
	/* a group with nothing counted */
	l = (struct mon_devlist){ .max = 8 };
	cr_assert_eq(blkio("Total 0\n", 0, &l), 0);
	cr_assert_eq(l.n, 0);
}

Test(monitor_parse_dev, blkio_refuses_malformed_naming_the_line)
{
	static const struct bad_case bad[] = {
		{ "254:0 Read 1\n254:0 Frobnicate 2\n", 2, -EINVAL },
		{ "254:0 Read\n", 1, -EINVAL },
		{ "254:0 Read 1 2\n", 1, -EINVAL },
		{ "254:0 Read -1\n", 1, -EINVAL },
		{ "Read 1\n", 1, -EINVAL },
		{ "254:0 Read 1\nTotal\n", 2, -EINVAL },
		{ "254:0 Read 1\nTotal 1 1\n", 2, -EINVAL },
		{ "254:0 Write 18446744073709551616\n", 1, -ERANGE },
	};

	expect_refused(blkio_bytes_file, bad, sizeof(bad) / sizeof(bad[0]));
	struct mon_devlist l = { .max = 1 };

	cr_assert_eq(blkio(blkio_bytes, 0, &l), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.more, 1, "8:0 did not fit");
}
