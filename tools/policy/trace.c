/* SPDX-License-Identifier: MIT */
/* trace.c - a recorded rvmig-top trace as states (trace.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig.h>

#include "policy/config.h"
#include "policy/grow.h"
#include "policy/trace.h"

#define MAX_LINE 65536
#define MAX_FIELDS 32
#define MAGIC "#rvmig-top-record"

struct tp {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	char host[256];
	double cpus;
	struct pol_state *v;
	size_t n, cap;
	struct pol_state *cur; /* the sample D rows go to; NULL: skipped */
	double last_t;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct tp *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = pol_vfail_at(p->err, p->errlen, rc, p->name, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

static int field_num(struct tp *p, const char *col, const char *s, double *v)
{
	char *end, esc[100];

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*v) || *v < 0 || strpbrk(s, "xXnN")) {
		rvmig_text_escape(esc, sizeof(esc), s, strnlen(s, 32));
		return fail(p, -EINVAL, "%s: \"%s\" is not a number >= 0", col, esc);
	}
	return 0;
}

/* "#rvmig-top-record\t1\thost=...\tcpus=N..." */
static int header(struct tp *p, char **f, int n, const char *host)
{
	double cpus = 0;

	if (n < 2 || strcmp(f[1], "1"))
		return fail(p, -EINVAL, "a record of format %s; this rvmig-policy reads format 1",
			    n < 2 ? "(none)" : f[1]);
	for (int i = 2; i < n; i++) {
		if (!strncmp(f[i], "host=", 5) && !host)
			snprintf(p->host, sizeof(p->host), "%s", f[i][5] ? f[i] + 5 : "local");
		else if (!strncmp(f[i], "cpus=", 5) && field_num(p, "cpus", f[i] + 5, &cpus))
			return -EINVAL;
	}
	if (!(cpus >= 1 && cpus <= 65536))
		return fail(p, -EINVAL, "the header has no cpus=N");
	if (p->n && p->cpus != cpus)
		return fail(p, -EINVAL, "a run with %g CPUs after one with %g", cpus, p->cpus);
	p->cpus = cpus;
	p->cur = NULL;
	return 0;
}

/* H time interval_s ... */
static int sample(struct tp *p, char **f, int n)
{
	double t, iv;
	struct pol_state *st;

	if (n < 6)
		return fail(p, -EINVAL, "an H row of %d fields", n);
	if (!p->cpus)
		return fail(p, -EINVAL, "a sample before the record's header");
	if (field_num(p, "time", f[1], &t) || field_num(p, "interval_s", f[2], &iv))
		return -EINVAL;
	if (p->n && t <= p->last_t)
		return fail(p, -EINVAL, "time %.3f is not after the previous sample's %.3f", t,
			    p->last_t);
	p->last_t = t;
	p->cur = NULL;
	if (iv == 0)
		return 0; /* a run's first sample: no rates */
	if (p->n == POL_TRACE_MAX_SAMPLES)
		return fail(p, -E2BIG, "more than %d samples", POL_TRACE_MAX_SAMPLES);
	if (!(st = pol_grow(p->v, p->n, &p->cap, sizeof(*st))))
		return fail(p, -ENOMEM, "out of memory");
	p->v = st;
	st = &p->v[p->n++];
	memset(st, 0, sizeof(*st));
	st->t = t;
	snprintf(st->window, sizeof(st->window), "%.0fms", iv * 1000);
	if (!pol_host_of(st, p->host, 1))
		return fail(p, -ENOMEM, "out of memory");
	st->hosts[0].cpus = p->cpus;
	p->cur = st;
	return 0;
}

/* D time interval_s kind id name state cpu_s cpu_pct run_pct blocked_pct
 * wait_pct execs_per_s vcpus mem_bytes */
static int domain(struct tp *p, char **f, int n)
{
	double t, cpu, run, blk, wait, mem;
	struct pol_dom *d;

	if (n < 15) /* columns added after these are not read */
		return fail(p, -EINVAL, "a D row of %d fields, fewer than 15", n);
	if (!p->cpus)
		return fail(p, -EINVAL, "a D row before the record's header");
	if (field_num(p, "time", f[1], &t))
		return -EINVAL;
	if (t != p->last_t)
		return fail(p, -EINVAL, "a D row of time %.3f in the sample of %.3f", t, p->last_t);
	if (!p->cur)
		return 0;
	if (p->cur->ndoms == POL_TRACE_MAX_DOMAINS)
		return fail(p, -E2BIG, "more than %d domains in a sample", POL_TRACE_MAX_DOMAINS);
	if (field_num(p, "cpu_pct", f[8], &cpu) || field_num(p, "run_pct", f[9], &run) ||
	    field_num(p, "blocked_pct", f[10], &blk) || field_num(p, "wait_pct", f[11], &wait) ||
	    field_num(p, "mem_bytes", f[14], &mem))
		return -EINVAL;
	if (!(d = pol_dom_add(p->cur, p->host, f[3], f[4], f[5])))
		return fail(p, -ENOMEM, "out of memory");
	d->cpu = cpu / 100;
	d->mem = mem;
	if (run + blk + wait > 0) {
		d->run = run / (run + blk + wait);
		d->blocked = blk / (run + blk + wait);
		d->wait = wait / (run + blk + wait);
		d->have_shares = 1;
	}
	p->cur->hosts[0].cpu_used += d->cpu;
	p->cur->hosts[0].ndoms++;
	return 0;
}

int pol_trace_parse(const char *text, size_t len, const char *name, const char *host,
		    struct pol_state **out, size_t *n, char *err, size_t errlen)
{
	struct tp p = { .name = name, .err = err, .errlen = errlen };
	char *buf = malloc(MAX_LINE + 1), *f[MAX_FIELDS];
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	snprintf(p.host, sizeof(p.host), "%s", host ? host : "local");
	if (!buf)
		return fail(&p, -ENOMEM, "out of memory");
	if (len > POL_TRACE_MAX_BYTES)
		rc = fail(&p, -E2BIG, "larger than %u bytes", POL_TRACE_MAX_BYTES);
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ln = (nl ? (size_t)(nl - text) : len) - pos;
		int nf = 0;

		p.line++;
		if (ln > MAX_LINE) {
			rc = fail(&p, -E2BIG, "a line longer than %d bytes", MAX_LINE);
			break;
		}
		memcpy(buf, text + pos, ln);
		buf[ln] = '\0';
		pos += ln + 1;
		if (strlen(buf) != ln) {
			rc = fail(&p, -EINVAL, "a NUL byte");
			break;
		}
		if (!ln)
			continue;
		for (char *s = buf, *tab;; s = tab + 1) {
			if (nf == MAX_FIELDS) {
				rc = fail(&p, -EINVAL, "more than %d fields", MAX_FIELDS);
				break;
			}
			f[nf++] = s;
			if (!(tab = strchr(s, '\t')))
				break;
			*tab = '\0';
		}
		if (rc)
			break;
		if (!strcmp(f[0], MAGIC))
			rc = header(&p, f, nf, host);
		else if (f[0][0] == '#' || !strcmp(f[0], "V") || !strcmp(f[0], "T"))
			continue; /* column names, vCPUs, transfers */
		else if (!strcmp(f[0], "H"))
			rc = sample(&p, f, nf);
		else if (!strcmp(f[0], "D"))
			rc = domain(&p, f, nf);
		else
			rc = fail(&p, -EINVAL, "not a record line (H, D, V, T or #)");
	}
	free(buf);
	if (!rc && !p.n)
		rc = fail(&p, -EINVAL, "no sample with rates (a record needs two samples)");
	if (rc) {
		pol_states_free(p.v, p.n);
		return rc;
	}
	*out = p.v;
	*n = p.n;
	return (int)p.n;
}
