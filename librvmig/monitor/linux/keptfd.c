/* SPDX-License-Identifier: MIT */
/* keptfd.c - per-domain files kept open between samples (keptfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "monitor/linux/keptfd.h"

#define KEPT_MAX 4096

struct kept_ent {
	char *path; /* NULL: free slot */
	int fd;
	int used;   /* read since the last sweep */
};

size_t kept_default_max(void)
{
	const char *env = getenv("RVMIG_MONITOR_KEEP_FDS");
	struct rlimit rl;
	size_t max;

	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);

		if (*end == '\0')
			return v > KEPT_MAX ? KEPT_MAX : (size_t)v;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 256;
	max = (size_t)rl.rlim_cur / 4;
	return max > KEPT_MAX ? KEPT_MAX : max;
}

void kept_init(struct kept_fds *k, size_t max)
{
	memset(k, 0, sizeof(*k));
	k->max = max > KEPT_MAX ? KEPT_MAX : max;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct kept_ent *find(const struct kept_fds *k, const char *path)
{
	if (!k->cap)
		return NULL;
	for (size_t i = hash(path) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
		struct kept_ent *e = &k->ents[i];

		if (!e->path)
			return NULL;
		if (strcmp(e->path, path) == 0)
			return e;
	}
}

static void put(struct kept_fds *k, char *path, int fd, int used)
{
	size_t i = hash(path) & (k->cap - 1);

	while (k->ents[i].path)
		i = (i + 1) & (k->cap - 1);
	k->ents[i] = (struct kept_ent){ .path = path, .fd = fd, .used = used };
	k->count++;
}

/* Rebuilds the table, keeping the entries `keep` says (closing the others);
 * `clear`: the kept ones start unread (a sweep), else they stay as they were. */
static void rebuild(struct kept_fds *k, int (*keep)(const struct kept_ent *, const char *),
		    const char *arg, int clear)
{
	struct kept_ent *old = k->ents;
	size_t ocap = k->cap;

	k->ents = calloc(k->cap, sizeof(*k->ents));
	k->count = 0;
	if (!k->ents) { /* no memory: keep nothing */
		k->cap = 0;
		keep = NULL;
	}
	for (size_t i = 0; i < ocap; i++) {
		struct kept_ent *e = &old[i];

		if (!e->path)
			continue;
		if (keep && keep(e, arg)) {
			put(k, e->path, e->fd, clear ? 0 : e->used);
		} else {
			close(e->fd);
			free(e->path);
		}
	}
	free(old);
}

static int keep_used(const struct kept_ent *e, const char *arg)
{
	(void)arg;
	return e->used;
}

static int keep_other(const struct kept_ent *e, const char *path)
{
	return strcmp(e->path, path) != 0;
}

/* An error that says the task or group behind a kept descriptor is gone. */
static int gone(long n)
{
	return n == -ESRCH || n == -ENODEV || n == -ENOENT || n == -EBADF;
}

static long open_read(struct kept_fds *k, struct mon_buf *b, size_t cap, unsigned flags,
		      const char *path, int dirfd, const char *rel)
{
	int fd = openat(dirfd, rel ? rel : path, O_RDONLY | O_CLOEXEC);
	char *key;
	long n;

	if (fd < 0)
		return -errno;
	n = mon_pread_fd(b, fd, cap, flags);
	if (n < 0 || k->count >= k->max || !(key = strdup(path))) {
		close(fd);
		return n;
	}
	if (!k->cap) {
		k->cap = 16;
		while (k->cap < 2 * k->max)
			k->cap *= 2;
		k->ents = calloc(k->cap, sizeof(*k->ents));
		if (!k->ents) {
			k->cap = 0;
			free(key);
			close(fd);
			return n;
		}
	}
	put(k, key, fd, 1);
	return n;
}

long kept_read(struct kept_fds *k, struct mon_buf *b, size_t cap, unsigned flags, const char *path,
	       int dirfd, const char *rel)
{
	struct kept_ent *e = find(k, path);
	long n;

	if (!e)
		return open_read(k, b, cap, flags, path, dirfd, rel);
	n = mon_pread_fd(b, e->fd, cap, flags);
	if (!gone(n)) {
		e->used = 1;
		return n;
	}
	/* What it was opened for is gone: drop it, then go by name. */
	rebuild(k, keep_other, path, 0);
	return open_read(k, b, cap, flags, path, dirfd, rel);
}

void kept_sweep(struct kept_fds *k)
{
	size_t unused = 0;

	for (size_t i = 0; i < k->cap; i++)
		if (k->ents[i].path && !k->ents[i].used)
			unused++;
	if (unused) {
		rebuild(k, keep_used, NULL, 1);
		return;
	}
	for (size_t i = 0; i < k->cap; i++)
		k->ents[i].used = 0;
}

void kept_free(struct kept_fds *k)
{
	for (size_t i = 0; i < k->cap; i++)
		if (k->ents[i].path) {
			close(k->ents[i].fd);
			free(k->ents[i].path);
		}
	free(k->ents);
	memset(k, 0, sizeof(*k));
}
