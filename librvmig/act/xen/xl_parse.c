/* SPDX-License-Identifier: MIT */
/* xl_parse.c - the Xen actuator's readers of xl output (xl_parse.h): pure,
 * so that they are tested without Xen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/xen/xl_parse.h"

/* The last n blank-separated fields of line (len bytes): their starts in
 * f[0..n-1], NUL-terminated in buf.  0 or -1. */
static int last_fields(const char *line, size_t len, char *buf, size_t cap, char **f, int n)
{
	char *p;

	if (len >= cap)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	p = buf + len;
	for (int k = n - 1; k >= 0; k--) {
		while (p > buf && p[-1] == ' ')
			*--p = '\0';
		while (p > buf && p[-1] != ' ')
			p--;
		if (!*p)
			return -1;
		f[k] = p;
	}
	return 0;
}

/* The line at *pos (its length, without the newline, in *n); *pos moved
 * past it.  NULL at the end of the text. */
static const char *each_line(const char **pos, size_t *n)
{
	const char *line = *pos, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	*n = nl ? (size_t)(nl - line) : strlen(line);
	*pos = nl ? nl + 1 : NULL;
	return line;
}

int act_xen_parse_sched(const char *text, long domid, int64_t *weight, int64_t *cap)
{
	size_t n;

	/* "Name   ID Weight  Cap" then one line per domain; the name may
	 * hold anything but a newline, so the last three fields are read. */
	for (const char *pos = text, *line; (line = each_line(&pos, &n));) {
		char buf[512], *f[3];
		long long id, w, c;

		if (last_fields(line, n, buf, sizeof(buf), f, 3) == 0 && sscanf(f[0], "%lld", &id) == 1 &&
		    sscanf(f[1], "%lld", &w) == 1 && sscanf(f[2], "%lld", &c) == 1 && id == domid &&
		    w >= 0 && c >= 0) {
			*weight = w;
			*cap = c;
			return 0;
		}
	}
	return -ESRCH;
}

/* Calls fn on each `xl vcpu-list` line of domain domid ("NAME ID VCPU CPU
 * STATE TIME HARD / SOFT"), its last 8 fields from the id on in f, until
 * fn returns non-zero; returns that, or 0 when it never did. */
static int vcpu_lines(const char *text, long domid, int (*fn)(char **f, void *ctx), void *ctx)
{
	size_t n;

	for (const char *pos = text, *line; (line = each_line(&pos, &n));) {
		char buf[512], *f[8], *end;
		int rc;

		if (last_fields(line, n, buf, sizeof(buf), f, 8) == 0 && strtol(f[0], &end, 10) == domid &&
		    !*end && f[0] != end && !strcmp(f[6], "/") && strtol(f[1], &end, 10) >= 0 && !*end &&
		    (rc = fn(f, ctx)) != 0)
			return rc;
	}
	return 0;
}

struct affinity_ctx {
	char *hard;
	size_t len;
};

static int affinity_of_vcpu0(char **f, void *ctx)
{
	struct affinity_ctx *a = ctx;

	if (strcmp(f[1], "0"))
		return 0;
	if (strlen(f[5]) >= a->len)
		return -ENAMETOOLONG;
	strcpy(a->hard, f[5]);
	return 1;
}

int act_xen_parse_affinity(const char *text, long domid, char *hard, size_t len)
{
	struct affinity_ctx a = { hard, len };
	int rc = vcpu_lines(text, domid, affinity_of_vcpu0, &a);

	return rc > 0 ? 0 : rc < 0 ? rc : -ESRCH;
}

struct count_ctx {
	unsigned online, max;
};

static int count_vcpu(char **f, void *ctx)
{
	struct count_ctx *c = ctx;

	c->max++;
	c->online += strcmp(f[2], "-") != 0; /* offline: CPU "-", state "--p" */
	return 0;
}

int act_xen_parse_vcpus(const char *text, long domid, unsigned *online, unsigned *max)
{
	struct count_ctx c = { 0, 0 };

	vcpu_lines(text, domid, count_vcpu, &c);
	*online = c.online;
	*max = c.max;
	return c.max ? 0 : -ESRCH;
}

int act_xen_parse_list(const char *text, const char *name, long *domid, char *state, size_t len)
{
	size_t n, nl_len = name ? strlen(name) : 0;

	for (const char *pos = text, *line; (line = each_line(&pos, &n));) {
		char buf[512], *f[5], *end;
		long id;

		/* NAME ID MEM VCPUS STATE TIME */
		if ((!name || (n > nl_len && !strncmp(line, name, nl_len) && line[nl_len] == ' ')) &&
		    last_fields(line, n, buf, sizeof(buf), f, 5) == 0 &&
		    (id = strtol(f[0], &end, 10)) >= 0 && !*end && f[0] > buf + nl_len &&
		    (name || id == *domid)) {
			if (strlen(f[3]) >= len)
				return -ENAMETOOLONG;
			strcpy(state, f[3]);
			*domid = id;
			return 0;
		}
	}
	return -ESRCH;
}
