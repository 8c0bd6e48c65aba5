/* SPDX-License-Identifier: MIT */
/* config.c - the policy file (config.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config.h"

#define MAX_TOKENS 8

struct parser {
	const char *path;
	char *dir; /* of path, with a trailing '/', or "" */
	unsigned line;
	char *err;
	size_t errlen;
	struct pol_config *c;
	enum { SEC_NONE, SEC_DECIDER, SEC_MIGRATION, SEC_DOMAIN } sec;
};

int pol_vfail_at(char *err, size_t errlen, int rc, const char *file, unsigned line,
		 const char *fmt, va_list ap)
{
	char msg[512], esc[300];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	rvmig_text_escape(esc, sizeof(esc), file, strlen(file));
	if (line)
		snprintf(err, errlen, "%s:%u: %s", esc, line, msg);
	else
		snprintf(err, errlen, "%s: %s", esc, msg);
	return rc;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = pol_vfail_at(p->err, p->errlen, rc, p->path, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

/* `s` shown in a message: escaped, at most 64 bytes of it. */
static const char *shown(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s);

	rvmig_text_escape(buf, cap, s, n > 64 ? 64 : n);
	return buf;
}

static int num(struct parser *p, const char *key, const char *s, double lo, double hi, double *v)
{
	char *end, b[300];

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*v) || strpbrk(s, "xXnN")) {
		return fail(p, -EINVAL, "%s: \"%s\" is not a number", key, shown(b, sizeof(b), s));
	}
	if (!(*v >= lo && *v <= hi))
		return fail(p, -EINVAL, "%s: %s is out of range %g..%g", key, shown(b, sizeof(b), s),
			    lo, hi);
	return 0;
}

/* A duration: a number with ms, s (default), m or h; seconds into *v. */
static int duration(struct parser *p, const char *key, const char *s, double hi, double *v)
{
	static const struct { const char *suf; double mul; } u[] = {
		{ "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
	};
	size_t n = strlen(s);
	char num_s[64];

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		size_t sl = strlen(u[i].suf);

		if (n > sl && n - sl < sizeof(num_s) && !strcmp(s + n - sl, u[i].suf) &&
		    (s[n - sl - 1] >= '0' && s[n - sl - 1] <= '9')) {
			memcpy(num_s, s, n - sl);
			num_s[n - sl] = '\0';
			if (num(p, key, num_s, 0, hi / u[i].mul, v))
				return -EINVAL;
			*v *= u[i].mul;
			return 0;
		}
	}
	return num(p, key, s, 0, hi, v);
}

static int yesno(struct parser *p, const char *key, const char *s, int *v)
{
	char b[300];

	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
		*v = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
		*v = 0;
	else
		return fail(p, -EINVAL, "%s: \"%s\" is not yes or no", key, shown(b, sizeof(b), s));
	return 0;
}

/* Printable ASCII without spaces: what names, hosts and paths may hold. */
static int word_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

static char *dup_word(struct parser *p, const char *key, const char *s, size_t max)
{
	char b[300], *d;

	if (!*s || strlen(s) > max || !word_ok(s)) {
		fail(p, -EINVAL, "%s: \"%s\" is not 1..%zu printable characters without spaces", key,
		     shown(b, sizeof(b), s), max);
		return NULL;
	}
	if (!(d = strdup(s)))
		fail(p, -ENOMEM, "out of memory");
	return d;
}

/* A path from the file, relative to the file's directory. */
static char *dup_path(struct parser *p, const char *key, const char *s)
{
	char *d;
	size_t n;

	if (!*s || strlen(s) > 1024 || !word_ok(s)) {
		fail(p, -EINVAL, "%s: a path of 1..1024 printable characters without spaces", key);
		return NULL;
	}
	n = (s[0] == '/' ? 0 : strlen(p->dir)) + strlen(s) + 1;
	if (!(d = malloc(n))) {
		fail(p, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(d, n, "%s%s", s[0] == '/' ? "" : p->dir, s);
	return d;
}

static int split(char *s, char **tok, int max)
{
	int n = 0;

	for (char *t = strtok(s, " \t"); t; t = strtok(NULL, " \t")) {
		if (n == max)
			return max + 1;
		tok[n++] = t;
	}
	return n;
}

static int range(struct parser *p, const char *key, char *val, double hi, struct pol_range *r)
{
	char *t[MAX_TOKENS];
	int n = split(val, t, MAX_TOKENS);

	if (n != 3)
		return fail(p, -EINVAL, "%s: expected MIN MAX STEP", key);
	if (num(p, key, t[0], 0, hi, &r->min) || num(p, key, t[1], 0, hi, &r->max) ||
	    num(p, key, t[2], 0, hi, &r->step))
		return -EINVAL;
	if (r->min <= 0 || r->step <= 0 || r->max < r->min)
		return fail(p, -EINVAL, "%s: needs 0 < MIN <= MAX and STEP > 0", key);
	if ((r->max - r->min) / r->step > POL_GRID_MAX)
		return fail(p, -E2BIG, "%s: more than %d steps from MIN to MAX", key, POL_GRID_MAX);
	r->set = 1;
	return 0;
}

static int decider_key(struct parser *p, const char *key, const char *val)
{
	struct pol_config *c = p->c;
	double v;

	if (!strcmp(key, "act_below"))
		return num(p, key, val, 0, 1, &c->dec.act_below);
	if (!strcmp(key, "release_above"))
		return num(p, key, val, 0, 1, &c->dec.release_above);
	if (!strcmp(key, "dwell") || !strcmp(key, "domain_cooldown") ||
	    !strcmp(key, "global_cooldown")) {
		uint64_t *dst = key[0] == 'd' && key[1] == 'w' ? &c->dec.min_dwell_ns
				: key[0] == 'd'                 ? &c->dec.domain_cooldown_ns
								: &c->dec.global_cooldown_ns;

		if (duration(p, key, val, 86400 * 365, &v))
			return -EINVAL;
		/* 0 would mean the library's default: 1 ns is "none" */
		*dst = v > 0 ? (uint64_t)llround(v * 1e9) : 1;
		return 0;
	}
	if (!strcmp(key, "cost_per_downtime"))
		return num(p, key, val, 0, 1e6, &c->dec.cost_per_downtime_s);
	if (!strcmp(key, "cost_per_duration"))
		return num(p, key, val, 0, 1e6, &c->dec.cost_per_duration_s);
	if (!strcmp(key, "cpu_price"))
		return num(p, key, val, 0, 1e6, &c->cpu_price);
	if (!strcmp(key, "max_actions")) {
		if (num(p, key, val, 1, 1024, &v) || v != floor(v))
			return fail(p, -EINVAL, "max_actions: a whole number 1..1024");
		c->max_actions = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "samples_max_age"))
		return duration(p, key, val, 86400, &c->samples_max_age);
	return fail(p, -EINVAL, "unknown key \"%s\" in [decider]", key);
}

/* A program: a name without '/' is looked up in PATH when it runs, a path
 * is taken relative to the file's directory. */
static char *dup_prog(struct parser *p, const char *key, const char *s)
{
	return strchr(s, '/') ? dup_path(p, key, s) : dup_word(p, key, s, 255);
}

/* The executor's keys (act_migrate.h), checked as a whole at the end. */
static int exec_key(struct parser *p, const char *key, const char *val)
{
	struct act_mig_cfg *e = &p->c->mig.exec;
	struct act_mig_host *h;
	char *t[MAX_TOKENS], *copy;
	double v;
	int n, rc = 0;

	if (!strcmp(key, "transport")) {
		free(e->transport);
		return (e->transport = dup_word(p, key, val, 16)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "port")) {
		if (num(p, key, val, 1, 65535, &v) || v != floor(v))
			return fail(p, -EINVAL, "port: a whole number 1..65535");
		e->port = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "tunnel") || !strcmp(key, "rvmig_save") || !strcmp(key, "rvmig_recv") ||
	    !strcmp(key, "key_file")) {
		char **dst = key[0] == 't' ? &e->tunnel : key[0] == 'k' ? &e->key_file
			     : key[6] == 's'                         ? &e->save
								     : &e->recv;

		free(*dst);
		*dst = key[0] == 'k' ? dup_path(p, key, val) : dup_prog(p, key, val);
		return *dst ? 0 : -EINVAL;
	}
	if (!strcmp(key, "runs")) {
		free(e->runs);
		return (e->runs = dup_path(p, key, val)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "tries")) {
		if (num(p, key, val, 1, ACT_MIG_TRIES_MAX, &v) || v != floor(v))
			return fail(p, -EINVAL, "tries: a whole number 1..%d", ACT_MIG_TRIES_MAX);
		e->tries = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "deadline_margin"))
		return num(p, key, val, 1, 1000, &e->margin);
	if (!strcmp(key, "deadline_min") || !strcmp(key, "deadline_max"))
		return duration(p, key, val, 86400, !strcmp(key, "deadline_min") ? &e->min_s : &e->max_s);
	if (strcmp(key, "host"))
		return fail(p, -EINVAL, "unknown key \"%s\" in [migration]", key);
	if (e->nhosts == ACT_MIG_HOSTS_MAX)
		return fail(p, -E2BIG, "host: more than %d hosts", ACT_MIG_HOSTS_MAX);
	if (!(copy = strdup(val)) || !(h = realloc(e->hosts, (e->nhosts + 1) * sizeof(*h)))) {
		free(copy);
		return fail(p, -ENOMEM, "out of memory");
	}
	e->hosts = h;
	h = &e->hosts[e->nhosts];
	memset(h, 0, sizeof(*h));
	if ((n = split(copy, t, MAX_TOKENS)) != 2)
		rc = fail(p, -EINVAL, "host: expected NAME ADDRESS (the plan's host and where its "
			  "rvmigd listens)");
	else if (!(h->name = dup_word(p, "host NAME", t[0], 255)) ||
		 !(h->addr = dup_word(p, "host ADDRESS", t[1], 255)))
		rc = -EINVAL;
	free(copy);
	e->nhosts++; /* freed with the rest even when half filled */
	return rc;
}

static int migration_key(struct parser *p, const char *key, const char *val)
{
	struct pol_migration_cfg *m = &p->c->mig;
	double v;

	if (!strcmp(key, "overload"))
		return num(p, key, val, 0.01, 100, &m->overload);
	if (!strcmp(key, "fill"))
		return num(p, key, val, 0.01, 100, &m->fill);
	if (!strcmp(key, "bandwidth"))
		return num(p, key, val, 1, 1e13, &m->link.bandwidth);
	if (!strcmp(key, "calibrate")) {
		char *t[MAX_TOKENS], *copy = strdup(val);
		int n = copy ? split(copy, t, MAX_TOKENS) : -1, rc = 0;

		if (n != 2)
			rc = fail(p, n < 0 ? -ENOMEM : -EINVAL, "calibrate: expected PATH TRANSPORT");
		else if (!(m->calib_path = dup_path(p, "calibrate", t[0])) ||
			 !(m->calib_transport = dup_word(p, "calibrate TRANSPORT", t[1], 32)))
			rc = -EINVAL;
		free(copy);
		return rc;
	}
	if (!strcmp(key, "per_transfer_cap"))
		return num(p, key, val, 0, 1e13, &m->link.per_transfer_cap);
	if (!strcmp(key, "overhead"))
		return duration(p, key, val, 86400, &m->link.overhead_s);
	if (!strcmp(key, "stop_overhead"))
		return duration(p, key, val, 86400, &m->link.stop_overhead_s);
	if (!strcmp(key, "max_downtime"))
		return duration(p, key, val, 86400, &m->link.max_downtime_s);
	if (!strcmp(key, "max_concurrent")) {
		if (num(p, key, val, 1, 256, &v) || v != floor(v))
			return fail(p, -EINVAL, "max_concurrent: a whole number 1..256");
		m->link.max_concurrent = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "memory"))
		return num(p, key, val, 1, 1e15, &m->memory);
	if (!strcmp(key, "store")) {
		free(m->store);
		return (m->store = dup_word(p, key, val, 255)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "store_dir")) {
		free(m->store_dir);
		return (m->store_dir = dup_path(p, key, val)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "dirty_rate"))
		return num(p, key, val, 0, 1e13, &m->dirty_rate);
	return exec_key(p, key, val);
}

static int sla_key(struct parser *p, char *val, struct pol_domain_cfg *d)
{
	char *t[MAX_TOKENS], b[300];
	int n = split(val, t, MAX_TOKENS);

	if (n != 2)
		return fail(p, -EINVAL, "sla: expected p99 MS, p50 MS, mean MS or cpu CPUS");
	d->sla.size = sizeof(d->sla);
	if (!strcmp(t[0], "cpu")) {
		d->sla.kind = RVMIG_SLA_FLOOR;
		return num(p, "sla cpu", t[1], 1e-6, 4096, &d->sla.target);
	}
	d->sla.kind = RVMIG_SLA_RESPONSE;
	if (!strcmp(t[0], "p99"))
		d->sla.metric = RVMIG_METRIC_P99;
	else if (!strcmp(t[0], "p50"))
		d->sla.metric = RVMIG_METRIC_P50;
	else if (!strcmp(t[0], "mean"))
		d->sla.metric = RVMIG_METRIC_MEAN;
	else
		return fail(p, -EINVAL, "sla: \"%s\" is not p99, p50, mean or cpu",
			    shown(b, sizeof(b), t[0]));
	return num(p, "sla", t[1], 1e-6, 1e9, &d->sla.target);
}

static int observe_key(struct parser *p, char *val, struct pol_domain_cfg *d)
{
	char *t[MAX_TOKENS], b[300];
	int n;

	if (!strncmp(val, "promql", 6) && (val[6] == ' ' || val[6] == '\t')) {
		const char *e = val + 7 + strspn(val + 7, " \t");

		for (const char *q = e; *q; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return fail(p, -EINVAL, "observe promql: a control character");
		if (!*e || strlen(e) > 2048)
			return fail(p, -EINVAL, "observe promql: an expression of 1..2048 bytes");
		d->obs = POL_OBS_PROMQL;
		return (d->promql = strdup(e)) ? 0 : fail(p, -ENOMEM, "out of memory");
	}
	n = split(val, t, MAX_TOKENS);
	if (n == 1 && !strcmp(t[0], "monitor")) {
		d->obs = POL_OBS_MONITOR;
		return 0;
	}
	if (n == 3 && !strcmp(t[0], "samples")) {
		d->obs = POL_OBS_SAMPLES;
		if (!(d->obs_path = dup_path(p, "observe samples", t[1])) ||
		    !(d->obs_app = dup_word(p, "observe samples APP", t[2], RVMIG_SAMPLES_MAX_NAME)))
			return -EINVAL;
		return 0;
	}
	return fail(p, -EINVAL, "observe: \"%s\" is not monitor, samples PATH APP or promql EXPR",
		    shown(b, sizeof(b), n > 0 ? t[0] : ""));
}

static int capacity_key(struct parser *p, char *val, struct pol_domain_cfg *d)
{
	char *t[MAX_TOKENS];
	int n = split(val, t, MAX_TOKENS);

	if (n >= 3 && n <= 5 && !strcmp(t[0], "fit")) {
		d->cap_fit = 1;
		if (!(d->fit_path = dup_path(p, "capacity fit", t[1])) ||
		    !(d->fit_app = dup_word(p, "capacity fit APP", t[2], RVMIG_SAMPLES_MAX_NAME)))
			return -EINVAL;
		if (n >= 4 && strcmp(t[3], "-") &&
		    !(d->fit_scenario = dup_word(p, "capacity fit SCENARIO", t[3], RVMIG_SAMPLES_MAX_NAME)))
			return -EINVAL;
		return n == 5 ? num(p, "capacity fit MAX_SHARE", t[4], 0, 4096, &d->fit_max_share) : 0;
	}
	if (n == 2) {
		d->cap_fit = 0;
		if (num(p, "capacity C0", t[0], -1e12, 1e12, &d->c0) ||
		    num(p, "capacity C1", t[1], 0, 1e12, &d->c1))
			return -EINVAL;
		return d->c1 > 0 ? 0 : fail(p, -EINVAL, "capacity: C1 must be > 0");
	}
	return fail(p, -EINVAL, "capacity: expected C0 C1 or fit PATH APP [SCENARIO|-] [MAX_SHARE]");
}

static int domain_key(struct parser *p, const char *key, char *val)
{
	struct pol_domain_cfg *d = &p->c->doms[p->c->ndoms - 1];
	char *t[MAX_TOKENS];

	if (!strcmp(key, "host")) {
		free(d->host);
		return (d->host = dup_word(p, key, val, 255)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "match")) {
		if (split(val, t, MAX_TOKENS) != 2 || (strcmp(t[0], "name") && strcmp(t[0], "id")))
			return fail(p, -EINVAL, "match: expected name PATTERN or id ID");
		d->match_id = t[0][0] == 'i';
		free(d->match);
		return (d->match = dup_word(p, key, t[1], 1024)) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "sla"))
		return sla_key(p, val, d);
	if (!strcmp(key, "alpha"))
		return num(p, key, val, 0, 1e9, &d->sla.alpha);
	if (!strcmp(key, "observe"))
		return observe_key(p, val, d);
	if (!strcmp(key, "share"))
		return num(p, key, val, 1e-6, 4096, &d->share);
	if (!strcmp(key, "capacity"))
		return capacity_key(p, val, d);
	if (!strcmp(key, "cpu.max"))
		return range(p, key, val, 4096, &d->cpu_max);
	if (!strcmp(key, "credit.cap"))
		return range(p, key, val, 409600, &d->credit_cap);
	if (!strcmp(key, "vcpus")) {
		if (range(p, key, val, 1024, &d->vcpus))
			return -EINVAL;
		return d->vcpus.min == floor(d->vcpus.min) && d->vcpus.step == floor(d->vcpus.step)
			       ? 0 : fail(p, -EINVAL, "vcpus: MIN and STEP must be whole numbers");
	}
	if (!strcmp(key, "weight"))
		return range(p, key, val, 65535, &d->weight);
	if (!strcmp(key, "vcpus.now"))
		return num(p, key, val, 1, 1024, &d->vcpus_now);
	if (!strcmp(key, "weight.now"))
		return num(p, key, val, 1, 65535, &d->weight_now);
	if (!strcmp(key, "migrate"))
		return yesno(p, key, val, &d->migrate);
	if (!strcmp(key, "save"))
		return yesno(p, key, val, &d->save);
	if (!strcmp(key, "memory"))
		return num(p, key, val, 1, 1e15, &d->memory);
	if (!strcmp(key, "dirty_rate"))
		return num(p, key, val, 0, 1e13, &d->dirty_rate);
	return fail(p, -EINVAL, "unknown key \"%s\" in [domain %s]", key, d->name);
}

/* What a finished [domain] section must hold. */
static int domain_done(struct parser *p)
{
	struct pol_domain_cfg *d = &p->c->doms[p->c->ndoms - 1];
	unsigned line = p->line;
	int rc = 0;

	p->line = d->line;
	if (!d->match)
		rc = fail(p, -EINVAL, "[domain %s]: no match = name PATTERN or id ID", d->name);
	else if (!d->sla.kind)
		rc = fail(p, -EINVAL, "[domain %s]: no sla", d->name);
	else if (!d->obs)
		d->obs = POL_OBS_MONITOR;
	if (!rc && d->sla.kind == RVMIG_SLA_RESPONSE && d->obs == POL_OBS_MONITOR)
		rc = fail(p, -EINVAL, "[domain %s]: a response-time SLA needs observe = samples or "
			  "promql (the monitor sees no response times)", d->name);
	if (!rc && d->sla.kind == RVMIG_SLA_FLOOR && d->obs != POL_OBS_MONITOR)
		rc = fail(p, -EINVAL, "[domain %s]: a cpu SLA is observed by the monitor", d->name);
	if (!rc && d->cpu_max.set && d->credit_cap.set)
		rc = fail(p, -EINVAL, "[domain %s]: cpu.max and credit.cap both given: one actuator "
			  "sets a domain's share", d->name);
	p->line = line;
	return rc;
}

static int section(struct parser *p, char *s)
{
	struct pol_config *c = p->c;
	struct pol_domain_cfg *d;
	char *end = strchr(s, ']'), b[300];
	const char *name;

	if (!end || end[1])
		return fail(p, -EINVAL, "a section header is [decider], [migration] or [domain NAME]");
	*end = '\0';
	s++;
	if (p->sec == SEC_DOMAIN && domain_done(p))
		return -EINVAL;
	if (!strcmp(s, "decider")) {
		p->sec = SEC_DECIDER;
		return 0;
	}
	if (!strcmp(s, "migration")) {
		p->sec = SEC_MIGRATION;
		return 0;
	}
	if (strncmp(s, "domain ", 7))
		return fail(p, -EINVAL, "unknown section [%s]", shown(b, sizeof(b), s));
	name = s + 7 + strspn(s + 7, " ");
	if (!*name || strlen(name) > POL_CONFIG_MAX_NAME ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    strlen(name))
		return fail(p, -EINVAL, "[domain NAME]: NAME is 1..%d of [A-Za-z0-9._-]",
			    POL_CONFIG_MAX_NAME);
	for (size_t i = 0; i < c->ndoms; i++)
		if (!strcmp(c->doms[i].name, name))
			return fail(p, -EINVAL, "[domain %s] again (first at line %u)", name,
				    c->doms[i].line);
	if (c->ndoms == POL_CONFIG_MAX_DOMAINS)
		return fail(p, -E2BIG, "more than %d domains", POL_CONFIG_MAX_DOMAINS);
	d = realloc(c->doms, (c->ndoms + 1) * sizeof(*d));
	if (!d)
		return fail(p, -ENOMEM, "out of memory");
	c->doms = d;
	d = &c->doms[c->ndoms++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->line = p->line;
	p->sec = SEC_DOMAIN;
	return 0;
}

static int line(struct parser *p, char *s)
{
	char *eq, *key, *val, *e;

	s += strspn(s, " \t");
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	if (!*s || *s == '#')
		return 0;
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return fail(p, -EINVAL, "a control character (byte 0x%02x)", (unsigned char)*q);
	if (*s == '[')
		return section(p, s);
	if (!(eq = strchr(s, '=')))
		return fail(p, -EINVAL, "expected KEY = VALUE or a [section]");
	*eq = '\0';
	key = s;
	for (e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	val = eq + 1 + strspn(eq + 1, " \t");
	if (!*key || !word_ok(key))
		return fail(p, -EINVAL, "expected KEY = VALUE");
	if (!*val)
		return fail(p, -EINVAL, "%s: no value", key);
	switch (p->sec) {
	case SEC_DECIDER: return decider_key(p, key, val);
	case SEC_MIGRATION: return migration_key(p, key, val);
	case SEC_DOMAIN: return domain_key(p, key, val);
	default: return fail(p, -EINVAL, "\"%s\" before any [section]", key);
	}
}

int pol_config_parse(const char *text, size_t len, const char *path, struct pol_config *out,
		     char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen, .c = out };
	const char *slash = strrchr(path, '/');
	char buf[POL_CONFIG_MAX_LINE + 2];
	size_t pos = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->max_actions = 1;
	out->cpu_price = 0.05;
	out->samples_max_age = 60;
	out->mig.overload = 1.0;
	out->mig.fill = 0.9;
	out->mig.memory = 1024.0 * 1024 * 1024;
	out->mig.link.size = sizeof(out->mig.link);
	out->mig.link.max_concurrent = 1; /* one migration at a time, as Nova */
	out->dec.size = sizeof(out->dec);
	if (len > POL_CONFIG_MAX_BYTES)
		return fail(&p, -E2BIG, "larger than %u bytes", POL_CONFIG_MAX_BYTES);
	if (!(out->path = strdup(path)) ||
	    !(p.dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0))) {
		pol_config_free(out);
		return fail(&p, -ENOMEM, "out of memory");
	}
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;

		p.line++;
		if (n > POL_CONFIG_MAX_LINE) {
			rc = fail(&p, -E2BIG, "a line longer than %d bytes", POL_CONFIG_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = fail(&p, -EINVAL, "a NUL byte");
			break;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (n && buf[n - 1] == '\r')
			buf[n - 1] = '\0';
		rc = line(&p, buf);
		pos += n + 1;
	}
	if (!rc && p.sec == SEC_DOMAIN)
		rc = domain_done(&p);
	if (!rc && out->dec.act_below && out->dec.release_above &&
	    out->dec.act_below >= out->dec.release_above) {
		p.line = 0;
		rc = fail(&p, -EINVAL, "[decider] act_below must be below release_above");
	}
	if (!rc && out->mig.calib_path && out->mig.link.bandwidth > 0) {
		p.line = 0;
		rc = fail(&p, -EINVAL, "[migration] bandwidth and calibrate both given: one says "
			  "what the link does");
	}
	if (!rc && (rc = act_mig_cfg_check(&out->mig.exec, err, errlen)) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", err);
		p.line = 0;
		rc = fail(&p, rc, "[migration] %s", msg);
	}
	if (!rc && out->mig.store_dir && !out->mig.store) {
		p.line = 0;
		rc = fail(&p, -EINVAL, "[migration] store_dir without store = NAME: which host "
			  "holds it?");
	}
	if (!rc && out->mig.fill > out->mig.overload) {
		p.line = 0;
		rc = fail(&p, -EINVAL, "[migration] fill must not be above overload");
	}
	free(p.dir);
	if (rc)
		pol_config_free(out);
	return rc;
}

void pol_config_free(struct pol_config *c)
{
	for (size_t i = 0; i < c->ndoms; i++) {
		struct pol_domain_cfg *d = &c->doms[i];

		free(d->host);
		free(d->match);
		free(d->obs_path);
		free(d->obs_app);
		free(d->promql);
		free(d->fit_path);
		free(d->fit_app);
		free(d->fit_scenario);
		rvmig_samples_free(d->obs_set);
	}
	free(c->doms);
	free(c->path);
	free(c->mig.calib_path);
	free(c->mig.calib_transport);
	free(c->mig.store);
	free(c->mig.store_dir);
	act_mig_cfg_free(&c->mig.exec);
	memset(c, 0, sizeof(*c));
}
