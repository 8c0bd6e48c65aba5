/* SPDX-License-Identifier: MIT */
/*
 * act_xen.c - the Xen actuator (act.h): a domain's weight and cap under the
 * credit2 scheduler (or credit, where the domain's pool runs that), through
 * `xl sched-credit2 -d DOMID [-w W | -c C]`, and the hard affinity of its
 * vCPUs (`xl vcpu-pin DOMID all CPUS`, read back from `xl vcpu-list`), its
 * online vCPU count (`xl vcpu-set DOMID N`, bounded by the vCPUs
 * `xl vcpu-list` lists, its maximum; read back as the vCPUs it shows online,
 * waited for up to VCPU_SETTLE_MS: the guest's kernel takes vCPUs down by
 * itself, but onlines one made available only where its udev or an agent
 * does), each
 * xl run with an argv (no shell), stdin closed and a deadline
 * (ACT_XL_DEADLINE_MS).
 *
 * Why xl and not libxenctrl: the monitor's loader of libxenctrl is internal
 * to the library, and the tools use only the public API; xl is what an
 * operator would run, and it validates the domain and values as well.
 * The scheduler is asked for each read: credit2 first, credit when xl
 * refuses credit2 for the domain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/act.h"
#include "policy/act_exec.h"
#include "policy/act_xen.h"

#define VCPU_SETTLE_MS 30000 /* a guest brings vCPUs up or down itself */

static int handles(enum act_target_kind tk, enum rvmig_action_kind k)
{
	return tk == ACT_TARGET_XEN &&
	       (k == RVMIG_ACT_CREDIT_WEIGHT || k == RVMIG_ACT_CREDIT_CAP || k == RVMIG_ACT_PIN ||
		k == RVMIG_ACT_VCPUS);
}

/* Runs argv; its stdout into out (XL_OUT_MAX).  0 when it exited 0 within
 * the deadline; else -errno with err holding the command, its status and
 * the first line of its stderr. */
static int run_xl(char *const argv[], char *out, char *err, size_t errlen)
{
	return act_exec(argv, ACT_XL_DEADLINE_MS, out, XL_OUT_MAX, NULL, NULL, err, errlen);
}

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

/* The scheduler xl reads this domain with (credit2, else credit), and its
 * weight and cap. */
static int sched_read(long domid, const char **sched, int64_t *w, int64_t *c, char *err,
		      size_t errlen)
{
	static const char *const scheds[] = { "sched-credit2", "sched-credit" };
	char d[24], *out = malloc(XL_OUT_MAX), why[2][512];
	int rc = -ENOMEM;

	if (!out) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	snprintf(d, sizeof(d), "%ld", domid);
	for (size_t i = 0; i < 2; i++) {
		char *argv[] = { "xl", (char *)scheds[i], "-d", d, NULL };

		rc = run_xl(argv, out, why[i], sizeof(why[i]));
		if (rc == 0 && (rc = act_xen_parse_sched(out, domid, w, c)) < 0)
			snprintf(why[i], sizeof(why[i]), "xl %s -d %ld: domain %ld not in its output",
				 scheds[i], domid, domid);
		if (rc == 0)
			*sched = scheds[i];
		/* no xl at all, or one that hangs: the other scheduler won't help */
		if (rc == 0 || rc == -ETIMEDOUT || rc == -ENOENT) {
			if (rc)
				snprintf(err, errlen, "%s", why[i]);
			free(out);
			return rc;
		}
	}
	snprintf(err, errlen, "%s; %s", why[1], why[0]);
	free(out);
	return rc;
}

/* `xl vcpu-list DOMID` into *text (malloc'd, the caller frees it, also on
 * failure).  0 or -errno with err set. */
static int vcpu_list(long domid, char **text, char *err, size_t errlen)
{
	char d[24];
	char *argv[] = { "xl", "vcpu-list", d, NULL };

	if (!(*text = malloc(XL_OUT_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(d, sizeof(d), "%ld", domid);
	return run_xl(argv, *text, err, errlen);
}

static int pin_get(const struct act_target *t, struct act_setting *out, char *where,
		   size_t wherelen, char *err, size_t errlen)
{
	char *text;
	int rc = vcpu_list(t->id, &text, err, errlen);

	snprintf(where, wherelen, "Xen domain %ld (xl vcpu-list, vCPU 0's hard affinity)", t->id);
	if (rc == 0 && (rc = act_xen_parse_affinity(text, t->id, out->arg, sizeof(out->arg))) < 0)
		snprintf(err, errlen, "xl vcpu-list %ld: no vCPU 0 of domain %ld in its output", t->id,
			 t->id);
	free(text);
	return rc;
}

static int vcpus_read(long domid, unsigned *online, unsigned *max, char *err, size_t errlen)
{
	char *text;
	int rc = vcpu_list(domid, &text, err, errlen);

	if (rc == 0 && (rc = act_xen_parse_vcpus(text, domid, online, max)) < 0)
		snprintf(err, errlen, "xl vcpu-list %ld: no vCPU of domain %ld in its output", domid,
			 domid);
	free(text);
	return rc;
}

/* xl vcpu-set, bounded by the domain's maximum, then the guest given
 * VCPU_SETTLE_MS to show that many online. */
static int vcpus_set(long domid, int64_t n, char *err, size_t errlen)
{
	char d[24], v[24], *out;
	char *argv[] = { "xl", "vcpu-set", d, v, NULL };
	unsigned online, max;
	int rc;

	if ((rc = vcpus_read(domid, &online, &max, err, errlen)) < 0)
		return rc;
	if (n > max) {
		snprintf(err, errlen, "Xen domain %ld: %" PRId64 " vCPUs asked, its maximum is %u", domid,
			 n, max);
		return -ERANGE;
	}
	if (!(out = malloc(XL_OUT_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(d, sizeof(d), "%ld", domid);
	snprintf(v, sizeof(v), "%" PRId64, n);
	rc = run_xl(argv, out, err, errlen);
	free(out);
	for (int waited = 0; rc == 0; waited += 200) {
		struct timespec ts = { 0, 200000000 };

		if ((rc = vcpus_read(domid, &online, &max, err, errlen)) < 0 || online == n)
			break;
		if (waited >= VCPU_SETTLE_MS) {
			/* xl makes vCPUs available; the guest's kernel takes them
			 * down itself, but up only where something (udev, an agent)
			 * onlines them */
			snprintf(err, errlen,
				 "Xen domain %ld: %u of %" PRId64 " vCPUs online %d s after xl vcpu-set "
				 "(the guest brings a vCPU made available online itself: its udev or agent)",
				 domid, online, n, VCPU_SETTLE_MS / 1000);
			return -EIO;
		}
		nanosleep(&ts, NULL);
	}
	return rc;
}

static int get(const struct act_target *t, enum rvmig_action_kind k, struct act_setting *out,
	       char *where, size_t wherelen, char *err, size_t errlen)
{
	const char *sched = "?";
	int64_t w, c;
	unsigned online, max;
	int rc;

	if (k == RVMIG_ACT_PIN)
		return pin_get(t, out, where, wherelen, err, errlen);
	if (k == RVMIG_ACT_VCPUS) {
		snprintf(where, wherelen, "Xen domain %ld (xl vcpu-list, vCPUs online)", t->id);
		if ((rc = vcpus_read(t->id, &online, &max, err, errlen)) == 0)
			out->value = online;
		return rc;
	}
	rc = sched_read(t->id, &sched, &w, &c, err, errlen);
	snprintf(where, wherelen, "Xen domain %ld (xl %s)", t->id, sched);
	if (rc == 0)
		out->value = k == RVMIG_ACT_CREDIT_WEIGHT ? w : c;
	return rc;
}

static int set(const struct act_target *t, enum rvmig_action_kind k, const struct act_setting *s,
	       char *err, size_t errlen)
{
	const char *sched = NULL;
	int64_t w, c;
	char d[24], v[24], *out;
	int rc;

	if (k == RVMIG_ACT_VCPUS)
		return vcpus_set(t->id, s->value, err, errlen);
	rc = k == RVMIG_ACT_PIN ? 0 : sched_read(t->id, &sched, &w, &c, err, errlen);
	if (rc < 0)
		return rc;
	if (!(out = malloc(XL_OUT_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(d, sizeof(d), "%ld", t->id);
	snprintf(v, sizeof(v), "%" PRId64, s->value);
	if (k == RVMIG_ACT_PIN) {
		/* hard affinity of every vCPU; the soft one left as it is */
		char *argv[] = { "xl", "vcpu-pin", d, "all", (char *)s->arg, NULL };

		rc = run_xl(argv, out, err, errlen);
	} else {
		char *argv[] = { "xl", (char *)sched, "-d", d,
				 k == RVMIG_ACT_CREDIT_WEIGHT ? "-w" : "-c", v, NULL };

		rc = run_xl(argv, out, err, errlen);
	}
	free(out);
	return rc;
}

const struct act_ops act_xen_ops = {
	.name = "xen-credit",
	.handles = handles,
	.get = get,
	.set = set,
};
