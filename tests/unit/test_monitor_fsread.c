/* SPDX-License-Identifier: MIT */
/*
 * The Linux monitor backend's bounded file reader
 * (librvmig/monitor/linux/fsread.c): whole files, the cap, cutting at the
 * last complete line, and a reused buffer larger than a later read's cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "monitor/linux/fsread.h"

static char path[64];

static void write_file(const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/rvmig-fsread-%d", (int)getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

Test(monitor_fsread, whole_file_cap_and_cut)
{
	struct mon_buf b = { 0 };
	char big[10000];

	memset(big, 'x', sizeof(big));
	for (size_t i = 99; i < sizeof(big); i += 100)
		big[i] = '\n';
	write_file(big, sizeof(big));
	cr_assert_eq(mon_read(&b, 1 << 20, 0, "%s", path), 10000, "grows past 4 KiB");
	cr_assert_eq(b.p[10000], '\0');
	cr_assert_eq(mon_read(&b, 9999, 0, "%s", path), -EFBIG);
	cr_assert_eq(mon_read(&b, 10000, 0, "%s", path), 10000, "exactly the cap");
	/* The buffer is now > 10 KiB; a smaller cap still holds. */
	cr_assert_eq(mon_read(&b, 250, 0, "%s", path), -EFBIG);
	cr_assert_eq(mon_read(&b, 250, MON_READ_CUT, "%s", path), 200, "cut after line 2");
	cr_assert_eq(b.p[199], '\n');
	cr_assert_eq(b.p[200], '\0');
	cr_assert_eq(mon_read(&b, 50, MON_READ_CUT, "%s", path), 0, "no complete line");
	unlink(path);
	cr_assert_eq(mon_read(&b, 100, 0, "%s", path), -ENOENT);
	cr_assert_eq(mon_read(&b, 100, 0, "/proc/%d/schedstat", 0x3ffffff0), -ENOENT);
	mon_buf_free(&b);
}

Test(monitor_fsread, proc_files)
{
	struct mon_buf b = { 0 };
	long n = mon_read(&b, 1 << 20, MON_READ_CUT, "/proc/stat");

	cr_assert_gt(n, 0);
	cr_assert_eq(strncmp(b.p, "cpu ", 4), 0);
	cr_assert_eq((size_t)n, strlen(b.p));
	mon_buf_free(&b);
}

/* MON_READ_SHORT_EOF: the whole of a small file in one read, the same text
 * as the read to EOF; a file larger than the first read still comes whole
 * (a full read is not short); relative to a directory descriptor. */
Test(monitor_fsread, short_eof_and_at)
{
	struct mon_buf a = { 0 }, b = { 0 };
	char big[10000];
	long n;
	int dfd;

	n = mon_read(&a, 4096, MON_READ_SHORT_EOF, "/proc/self/statm");
	cr_assert_gt(n, 0);
	cr_assert_eq(a.p[n - 1], '\n', "one whole line");
	n = mon_read(&b, 4096, MON_READ_SHORT_EOF, "/proc/%d/schedstat", (int)getpid());
	cr_assert_gt(n, 0);
	cr_assert_eq(n, (long)strlen(b.p));
	memset(big, 'y', sizeof(big));
	write_file(big, sizeof(big));
	cr_assert_eq(mon_read(&a, 1 << 20, MON_READ_SHORT_EOF, "%s", path), 10000);
	cr_assert_eq(mon_read(&a, 9999, MON_READ_SHORT_EOF, "%s", path), -EFBIG);
	dfd = open("/tmp", O_PATH | O_DIRECTORY);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(mon_read_at(&b, 1 << 20, 0, dfd, "%s", path + strlen("/tmp/")), 10000);
	cr_assert_eq(memcmp(a.p, b.p, 10000), 0);
	cr_assert_eq(mon_read_at(&b, 100, 0, dfd, "no-such-%d", (int)getpid()), -ENOENT);
	close(dfd);
	unlink(path);
	mon_buf_free(&a);
	mon_buf_free(&b);
}
