/* SPDX-License-Identifier: MIT */
/*
 * domains.c - child processes in cgroups of their own (domains.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "domains.h"

/* The cpu hierarchy: cgroup v1's cpu controller, else the v2 root. */
static int cpu_hierarchy(const char **root)
{
	struct stat st;

	if (stat("/sys/fs/cgroup/cpu/tasks", &st) == 0) {
		*root = "/sys/fs/cgroup/cpu";
		return 1;
	}
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
		*root = "/sys/fs/cgroup";
		return 2;
	}
	return -ENOENT;
}

static int write_pid(const char *dir, int version, pid_t pid)
{
	char path[512], buf[32];
	int fd, len, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, version == 2 ? "cgroup.procs" : "tasks");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

static void child_loop(unsigned wake_us)
{
	struct timespec ts = { .tv_sec = wake_us / 1000000, .tv_nsec = (long)(wake_us % 1000000) * 1000 };
	volatile unsigned long x = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		for (unsigned i = 0; i < 2000; i++)
			x += i;
		nanosleep(&ts, NULL);
	}
}

int bench_domains_start(struct bench_domains *d, unsigned n, int use_cgroups, unsigned wake_us)
{
	const char *root = NULL;
	char path[512];
	int rc;

	memset(d, 0, sizeof(*d));
	d->pids = calloc(n, sizeof(*d->pids));
	d->cgroups = calloc(n, sizeof(*d->cgroups));
	if (!d->pids || !d->cgroups)
		return -ENOMEM;
	if (use_cgroups) {
		rc = cpu_hierarchy(&root);
		if (rc < 0) {
			fprintf(stderr, "no cgroup v1 cpu hierarchy nor cgroup v2 mounted\n");
			return rc;
		}
		d->version = rc;
		snprintf(path, sizeof(path), "%s/rvmig-bench-%d", root, (int)getpid());
		if (mkdir(path, 0755)) {
			rc = -errno;
			fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
			return rc;
		}
		d->parent = strdup(path);
		if (!d->parent)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		pid_t pid;

		if (use_cgroups) {
			snprintf(path, sizeof(path), "%s/d%03u", d->parent, i);
			if (mkdir(path, 0755)) {
				rc = -errno;
				fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
				return rc;
			}
			d->cgroups[i] = strdup(path);
			if (!d->cgroups[i]) {
				rmdir(path);
				return -ENOMEM;
			}
			d->ncgroups++;
		}
		pid = fork();
		if (pid < 0) {
			rc = -errno;
			fprintf(stderr, "fork: %s\n", strerror(errno));
			return rc;
		}
		if (pid == 0)
			child_loop(wake_us);
		d->pids[d->n++] = pid;
		if (use_cgroups && (rc = write_pid(d->cgroups[i], d->version, pid)) < 0) {
			fprintf(stderr, "moving %d into %s: %s\n", (int)pid, d->cgroups[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void bench_domains_stop(struct bench_domains *d)
{
	for (unsigned i = 0; i < d->n; i++)
		kill(d->pids[i], SIGKILL);
	for (unsigned i = 0; i < d->n; i++)
		waitpid(d->pids[i], NULL, 0);
	d->n = 0;
	for (unsigned i = 0; i < d->ncgroups; i++) {
		/* A group empties once its killed task is reaped. */
		for (int tries = 0; rmdir(d->cgroups[i]) && errno == EBUSY && tries < 100; tries++)
			usleep(10000);
		free(d->cgroups[i]);
	}
	if (d->parent)
		rmdir(d->parent);
	free(d->cgroups);
	free(d->pids);
	free(d->parent);
	memset(d, 0, sizeof(*d));
}
