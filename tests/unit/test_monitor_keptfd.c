/* SPDX-License-Identifier: MIT */
/*
 * The Linux monitor backend's kept descriptors (librvmig/monitor/linux/
 * keptfd.c): a kept /proc file read again shows the kernel's current
 * figures, a task that is gone is not read through its old descriptor,
 * descriptors not read during a sample are closed at the sweep, and the
 * budget bounds how many stay open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "monitor/linux/keptfd.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the listing's own */
}

static pid_t burner(void)
{
	pid_t p = fork();

	cr_assert_geq(p, 0);
	if (p == 0) {
		alarm(60); /* never outlives a failed test by long */
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	return p;
}

static uint64_t run_ns(const char *text)
{
	uint64_t run = 0;

	cr_assert_eq(sscanf(text, "%" SCNu64, &run), 1, "schedstat: %s", text);
	return run;
}

Test(monitor_keptfd, reread_is_current_and_one_descriptor)
{
	struct kept_fds k;
	struct mon_buf b = { 0 };
	pid_t p = burner();
	char path[64];
	uint64_t first, later = 0;
	int base = open_fds();

	kept_init(&k, 8);
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)p);
	cr_assert_gt(kept_read(&k, &b, 4096, MON_READ_SHORT_EOF, path, AT_FDCWD, NULL), 0);
	first = run_ns(b.p);
	cr_assert_eq(open_fds(), base + 1, "one descriptor kept");
	/* The burner runs on: its run time read through the same descriptor
	 * grows (up to 5 s for a loaded host to give it some CPU). */
	for (int i = 0; i < 100 && later <= first; i++) {
		usleep(50000);
		cr_assert_gt(kept_read(&k, &b, 4096, MON_READ_SHORT_EOF, path, AT_FDCWD, NULL), 0);
		later = run_ns(b.p);
		kept_sweep(&k);
	}
	cr_assert_gt(later, first, "re-read shows the current run time (%" PRIu64 " then %" PRIu64 ")",
		     first, later);
	cr_assert_eq(open_fds(), base + 1, "still the one descriptor");
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	/* Gone: no figures from the old descriptor, the name no longer opens. */
	cr_assert_eq(kept_read(&k, &b, 4096, MON_READ_SHORT_EOF, path, AT_FDCWD, NULL), -ENOENT);
	cr_assert_eq(open_fds(), base, "the dead task's descriptor was closed");
	kept_free(&k);
	mon_buf_free(&b);
}

Test(monitor_keptfd, sweep_closes_unread_and_budget_bounds)
{
	struct kept_fds k;
	struct mon_buf b = { 0 };
	const char *files[] = { "/proc/self/statm", "/proc/self/schedstat", "/proc/self/stat",
				"/proc/self/comm" };
	int base = open_fds();

	kept_init(&k, 2);
	for (int i = 0; i < 4; i++)
		cr_assert_gt(kept_read(&k, &b, 4096, 0, files[i], AT_FDCWD, NULL), 0, "%s", files[i]);
	cr_assert_eq(open_fds(), base + 2, "the budget of 2 kept, the others read and closed");
	kept_sweep(&k);
	cr_assert_eq(open_fds(), base + 2, "both read during the sample: kept");
	cr_assert_gt(kept_read(&k, &b, 4096, 0, files[0], AT_FDCWD, NULL), 0);
	kept_sweep(&k);
	cr_assert_eq(open_fds(), base + 1, "the one not read since the last sweep closed");
	kept_sweep(&k);
	cr_assert_eq(open_fds(), base, "and then the other");
	kept_free(&k);

	kept_init(&k, 0);
	cr_assert_gt(kept_read(&k, &b, 4096, 0, files[0], AT_FDCWD, NULL), 0);
	cr_assert_eq(open_fds(), base, "budget 0: nothing kept");
	kept_free(&k);
	mon_buf_free(&b);
}

Test(monitor_keptfd, relative_open_and_missing)
{
	struct kept_fds k;
	struct mon_buf b = { 0 };
	int dfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(dfd, 0);
	kept_init(&k, 4);
	cr_assert_gt(kept_read(&k, &b, 4096, 0, "/proc/self/statm", dfd, "statm"), 0);
	cr_assert_eq(kept_read(&k, &b, 4096, 0, "/proc/self/no-such", dfd, "no-such"), -ENOENT);
	cr_assert_eq(k.count, 1, "a missing file is not kept");
	kept_free(&k);
	close(dfd);
	mon_buf_free(&b);
}
