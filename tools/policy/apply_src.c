/* SPDX-License-Identifier: MIT */
/*
 * apply_src.c - the live loop's observations (apply_src.h).  A samples file
 * is followed as it grows: complete lines only, each at most
 * RVMIG_SAMPLES_MAX_LINE bytes, each row validated by the library's own
 * parser (rvmig_samples_parse() on the header and that row).  The monitor is
 * sampled once per poll, the CPU of the interval since the previous one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/apply_src.h"

#define HDR RVMIG_SAMPLES_HEADER "\n"

struct live_src {
	const struct pol_live *l;
	/* samples file */
	int fd;
	unsigned line;               /* lines consumed */
	size_t len;                  /* bytes held in buf */
	char buf[sizeof(HDR) + RVMIG_SAMPLES_MAX_LINE + 2];
	/* monitor */
	rvmig_monitor *mon;
	unsigned nvcpus;
};

static int open_monitor(live_src *s, char *err, size_t errlen)
{
	const struct rvmig_act_target *t = &s->l->target;
	rvmig_monitor_snap *snap;
	int rc = rvmig_monitor_open(NULL, t->kind == RVMIG_ACT_TARGET_XEN ? "xen" : "linux", &s->mon);

	if (rc < 0) {
		snprintf(err, errlen, "monitor (%s backend): %s", t->kind == RVMIG_ACT_TARGET_XEN ? "xen" : "linux",
			 rvmig_strerror(rc));
		return rc;
	}
	if (t->kind == RVMIG_ACT_TARGET_CGROUP)
		rc = rvmig_monitor_watch_cgroup(s->mon, t->path, NULL);
	else if (t->kind == RVMIG_ACT_TARGET_PID)
		rc = rvmig_monitor_watch_pid(s->mon, (int)t->id, NULL);
	if (rc >= 0)
		rc = rvmig_monitor_sample(s->mon, &snap);
	if (rc < 0) {
		char name[RVMIG_ACT_PATH_MAX + 16];

		snprintf(err, errlen, "monitor: %s: %s", rvmig_act_target_name(t, name, sizeof(name)),
			 rvmig_strerror(rc));
		return rc;
	}
	rvmig_monitor_snap_free(snap);
	return 0;
}

int live_src_open(const struct pol_live *l, live_src **out, char *err, size_t errlen)
{
	live_src *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->l = l;
	s->fd = -1;
	if (l->samples) {
		/* a file not there yet is waited for (the generator makes it) */
		s->fd = open(l->samples, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "cannot open %s: %s", l->samples, strerror(errno));
		}
	} else {
		rc = open_monitor(s, err, errlen);
	}
	if (rc < 0) {
		live_src_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static double metric_of(const struct rvmig_sla *sla, const struct rvmig_sample *r)
{
	return sla->metric == RVMIG_METRIC_P50 ? r->p50_ms
	       : sla->metric == RVMIG_METRIC_MEAN ? r->mean_ms : r->p99_ms;
}

/* One complete line (NUL-terminated, no newline): 1 with *o set for a
 * row, 0 for a comment, blank or header line, -errno. */
static int row(live_src *s, char *text, struct live_obs *o, char *err, size_t errlen)
{
	char buf[sizeof(HDR) + RVMIG_SAMPLES_MAX_LINE + 2], why[512];
	struct rvmig_sample r = { .size = sizeof(r) };
	rvmig_samples *set;
	size_t n = strlen(text);
	int rc;

	if (n && text[n - 1] == '\r')
		text[--n] = '\0';
	if (!n || text[0] == '#' || !strcmp(text, RVMIG_SAMPLES_HEADER))
		return 0;
	memcpy(buf, HDR, sizeof(HDR) - 1);
	memcpy(buf + sizeof(HDR) - 1, text, n);
	rc = rvmig_samples_parse(buf, sizeof(HDR) - 1 + n, &set, why, sizeof(why));
	if (rc < 0) {
		/* the parser counts the header as line 1: its "line 2" is ours */
		char *col = strstr(why, ", column");

		snprintf(err, errlen, "%s line %u%s", s->l->samples, s->line, col ? col : why);
		return rc;
	}
	rvmig_samples_get(set, 0, &r);
	o->observed = metric_of(&s->l->sla, &r);
	o->load = r.offered_rps > 0 ? r.offered_rps : r.achieved_rps;
	o->line = s->line;
	rvmig_samples_free(set);
	return 1;
}

static int poll_file(live_src *s, struct live_obs *out, size_t max, char *err, size_t errlen)
{
	size_t got = 0, cap = RVMIG_SAMPLES_MAX_LINE + 1;
	int rc;

	if (s->fd < 0 && (s->fd = open(s->l->samples, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", s->l->samples, strerror(errno));
		return -errno;
	}
	while (got < max) {
		char *nl = memchr(s->buf, '\n', s->len);
		ssize_t n;

		if (nl) {
			size_t used = (size_t)(nl - s->buf) + 1;

			*nl = '\0';
			s->line++;
			rc = row(s, s->buf, &out[got], err, errlen);
			memmove(s->buf, s->buf + used, s->len - used);
			s->len -= used;
			if (rc < 0)
				return rc;
			got += (size_t)rc;
			continue;
		}
		if (s->len >= cap) {
			snprintf(err, errlen, "%s line %u: longer than %d bytes", s->l->samples,
				 s->line + 1, RVMIG_SAMPLES_MAX_LINE);
			return -E2BIG;
		}
		n = read(s->fd, s->buf + s->len, cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read %s: %s", s->l->samples, strerror(errno));
			return -errno;
		}
		if (n == 0)
			break; /* a partial line waits for its end */
		s->len += (size_t)n;
	}
	return (int)got;
}

static int poll_monitor(live_src *s, struct live_obs *out, char *err, size_t errlen)
{
	const struct rvmig_act_target *t = &s->l->target;
	const rvmig_monitor_dom *d = NULL;
	rvmig_monitor_snap *snap;
	int rc = rvmig_monitor_sample(s->mon, &snap);

	if (rc < 0) {
		snprintf(err, errlen, "monitor: %s", rvmig_strerror(rc));
		return rc;
	}
	for (unsigned i = 0; i < rvmig_monitor_snap_ndomains(snap); i++) {
		const rvmig_monitor_dom *x = rvmig_monitor_domain(snap, i);

		if (t->kind != RVMIG_ACT_TARGET_XEN || rvmig_monitor_domain_id(x) == (uint64_t)t->id) {
			d = x;
			break;
		}
	}
	if (!d || (rvmig_monitor_domain_flags(d) & RVMIG_MONITOR_DOM_GONE)) {
		rvmig_monitor_snap_free(snap);
		snprintf(err, errlen, "monitor: the domain is gone");
		return -ESRCH;
	}
	out->observed = rvmig_monitor_domain_cpu_pct(d) / 100;
	out->load = 0;
	out->line = 0;
	s->nvcpus = rvmig_monitor_domain_nvcpus(d);
	rvmig_monitor_snap_free(snap);
	return out->observed >= 0 ? 1 : 0;
}

int live_src_poll(live_src *s, struct live_obs *out, size_t max, char *err, size_t errlen)
{
	if (max == 0)
		return 0;
	return s->l->samples ? poll_file(s, out, max, err, errlen) : poll_monitor(s, out, err, errlen);
}

unsigned live_src_nvcpus(const live_src *s)
{
	return s->nvcpus;
}

void live_src_close(live_src *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->mon)
		rvmig_monitor_close(s->mon);
	free(s);
}
