/* SPDX-License-Identifier: MIT */
/* rundir.c - where transfer files live (rundir.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/linux/parse.h"
#include "publish/rundir.h"

static int try_dir(const char *path, char *why, size_t why_cap)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0755) && errno != EEXIST) {
		int rc = -errno;

		snprintf(why, why_cap, "cannot create %s: %s", path, strerror(errno));
		return rc;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;

		snprintf(why, why_cap, "cannot open %s: %s", path,
			 errno == ELOOP ? "a symbolic link" : strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, why_cap, "%s is not safe to use (owned by uid %u, mode %04o: it must "
			 "belong to root or to this user and not be writable by others)",
			 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	if (faccessat(fd, ".", W_OK, AT_EACCESS)) {
		int rc = -errno;

		snprintf(why, why_cap, "cannot write in %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static bool xdg_dir(char *out, size_t cap)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	return x && x[0] == '/' && (size_t)snprintf(out, cap, "%s/rvmig", x) < cap;
}

int pub_rundir_open(const char *dir, char *out, size_t cap, char *why, size_t why_cap)
{
	const char *env = getenv("RVMIG_RUN_DIR");
	char xdg[PUB_PATH_MAX];
	const char *cand[2];
	unsigned n = 0;
	int rc = -ENOENT;

	snprintf(why, why_cap, "no run directory");
	if (dir)
		cand[n++] = dir;
	else if (env && env[0])
		cand[n++] = env;
	else {
		cand[n++] = PUB_RUN_DIR;
		if (xdg_dir(xdg, sizeof(xdg)))
			cand[n++] = xdg;
	}
	for (unsigned i = 0; i < n; i++) {
		if (strlen(cand[i]) >= cap) {
			snprintf(why, why_cap, "run directory path too long");
			rc = -ENAMETOOLONG;
			continue;
		}
		rc = try_dir(cand[i], why, why_cap);
		if (rc >= 0) {
			strcpy(out, cand[i]);
			return rc;
		}
	}
	return rc;
}

unsigned pub_rundirs(char out[PUB_RUN_DIRS_MAX][PUB_PATH_MAX])
{
	const char *env = getenv("RVMIG_RUN_DIR");
	unsigned n = 0;

	if (env && env[0]) {
		if (strlen(env) < PUB_PATH_MAX)
			strcpy(out[n++], env);
		return n;
	}
	strcpy(out[n++], PUB_RUN_DIR);
	if (xdg_dir(out[n], PUB_PATH_MAX) && strcmp(out[n], PUB_RUN_DIR))
		n++;
	return n;
}

int pub_pid_start(int pid, uint64_t *ticks)
{
	char path[64], buf[1024], state;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	return mon_parse_pid_stat(buf, (size_t)n, &state, ticks);
}

int pub_name_pid(const char *name)
{
	long pid = 0;
	size_t i = 0;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	for (; name[i] >= '0' && name[i] <= '9'; i++) {
		pid = pid * 10 + (name[i] - '0');
		if (pid > 0x7fffffff)
			return 0;
	}
	return strcmp(name + i, ".xfer") ? 0 : (int)pid;
}
