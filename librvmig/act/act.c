/* SPDX-License-Identifier: MIT */
/* act.c - what every actuator shares (act.h): targets, the backend list,
 * value bounds, read-back comparison, apply and undo. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/act.h"

static const struct act_ops *const backends[] = { &act_linux_ops, &act_xen_ops };

static int parse_id(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int act_target_parse(const char *spec, struct act_target *t, char *err, size_t errlen)
{
	char esc[96];

	memset(t, 0, sizeof(*t));
	if (!strncmp(spec, "cgroup:", 7)) {
		t->kind = ACT_TARGET_CGROUP;
		if (spec[7] != '/' || strlen(spec + 7) >= sizeof(t->path)) {
			rvmig_text_escape(esc, sizeof(esc), spec, strlen(spec));
			snprintf(err, errlen, "target %s: the cgroup must be an absolute path", esc);
			return -EINVAL;
		}
		strcpy(t->path, spec + 7);
		return 0;
	}
	if (!strncmp(spec, "pid:", 4)) {
		t->kind = ACT_TARGET_PID;
		if (parse_id(spec + 4, 4194304, &t->id) == 0 && t->id > 0)
			return 0;
	} else if (!strncmp(spec, "xen:", 4)) {
		t->kind = ACT_TARGET_XEN;
		/* DOMID_FIRST_RESERVED is 0x7ff0 */
		if (parse_id(spec + 4, 0x7fef, &t->id) == 0)
			return 0;
	}
	rvmig_text_escape(esc, sizeof(esc), spec, strlen(spec));
	snprintf(err, errlen, "target %s: not cgroup:PATH, pid:N (N > 0) or xen:DOMID (0..32751)", esc);
	return -EINVAL;
}

const char *act_target_name(const struct act_target *t, char *buf, size_t len)
{
	char esc[PATH_MAX];

	switch (t->kind) {
	case ACT_TARGET_CGROUP:
		rvmig_text_escape(esc, sizeof(esc), t->path, strlen(t->path));
		snprintf(buf, len, "cgroup:%s", esc);
		break;
	case ACT_TARGET_PID: snprintf(buf, len, "pid:%ld", t->id); break;
	case ACT_TARGET_XEN: snprintf(buf, len, "xen:%ld", t->id); break;
	default: snprintf(buf, len, "?"); break;
	}
	return buf;
}

const struct act_ops *act_backend(const struct act_target *t, enum rvmig_action_kind k)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->handles(t->kind, k))
			return backends[i];
	return NULL;
}

void act_setting_of(const struct rvmig_action *a, struct act_setting *s)
{
	memset(s, 0, sizeof(*s));
	s->value = a->value;
	if (a->arg)
		snprintf(s->arg, sizeof(s->arg), "%s", a->arg);
}

int act_cpulist_parse(const char *s, uint64_t mask[ACT_CPUS_MAX / 64], char *err, size_t errlen)
{
	const char *p = s;
	char esc[64];

	memset(mask, 0, ACT_CPUS_MAX / 8);
	while (*p) {
		char *end;
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			goto bad;
		a = b = strtoul(p, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			b = strtoul(end + 1, &end, 10);
		}
		if (a >= ACT_CPUS_MAX || b >= ACT_CPUS_MAX || b < a)
			goto bad;
		for (unsigned long c = a; c <= b; c++)
			mask[c / 64] |= 1ull << (c % 64);
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	rvmig_text_escape(esc, sizeof(esc), p, strlen(p));
	snprintf(err, errlen, "CPU list: \"%s\" is not CPU[-CPU][,...] with CPUs 0..%d ascending", esc,
		 ACT_CPUS_MAX - 1);
	return -EINVAL;
}

static int range(char *err, size_t errlen, const char *what, int64_t v, int64_t lo, int64_t hi)
{
	if (v >= lo && v <= hi)
		return 0;
	snprintf(err, errlen, "%s %" PRId64 " out of range %" PRId64 "..%" PRId64, what, v, lo, hi);
	return -ERANGE;
}

int act_check(enum rvmig_action_kind k, const struct act_setting *s, char *err, size_t errlen)
{
	uint64_t mask[ACT_CPUS_MAX / 64];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if (s->value == ACT_CPU_MAX_UNLIMITED)
			return 0;
		/* more than every CPU of the host is no cap at all */
		return range(err, errlen, "CPU quota (CPUs x 1e6)", s->value, ACT_CPU_MAX_MIN,
			     (int64_t)(ncpu > 0 ? ncpu : 1) * 1000000);
	case RVMIG_ACT_CG_CPU_WEIGHT:
		return range(err, errlen, "cgroup CPU weight", s->value, ACT_CG_WEIGHT_MIN,
			     ACT_CG_WEIGHT_MAX);
	case RVMIG_ACT_CREDIT_WEIGHT:
		return range(err, errlen, "credit weight", s->value, ACT_XEN_WEIGHT_MIN,
			     ACT_XEN_WEIGHT_MAX);
	case RVMIG_ACT_CREDIT_CAP:
		return range(err, errlen, "credit cap (% of one CPU)", s->value, 0, ACT_XEN_CAP_MAX);
	case RVMIG_ACT_VCPUS:
		/* the domain's own bound (maxvcpus, the parent's CPUs) is the
		 * backend's to check: it needs a read */
		return range(err, errlen, "vCPU count", s->value, 1, ACT_VCPUS_MAX);
	case RVMIG_ACT_PIN:
		if (!strcmp(s->arg, "all"))
			return 0;
		/* fall through */
	case RVMIG_ACT_CG_CPUSET:
		if (!s->arg[0]) {
			snprintf(err, errlen, "%s: an empty CPU list", rvmig_action_kind_name(k));
			return -EINVAL;
		}
		return act_cpulist_parse(s->arg, mask, err, errlen);
	default:
		snprintf(err, errlen, "%s: no actuator carries out this kind of action",
			 rvmig_action_kind_name(k));
		return -ENOTSUP;
	}
}

int act_same(enum rvmig_action_kind k, const struct act_setting *want, const struct act_setting *got)
{
	uint64_t a[ACT_CPUS_MAX / 64], b[ACT_CPUS_MAX / 64];
	char e[8];

	if (k == RVMIG_ACT_PIN && (!strcmp(want->arg, "all") || !strcmp(got->arg, "all")))
		return !strcmp(want->arg, got->arg);
	if (k == RVMIG_ACT_CG_CPUSET || k == RVMIG_ACT_PIN) {
		if (act_cpulist_parse(want->arg, a, e, sizeof(e)) ||
		    act_cpulist_parse(got->arg, b, e, sizeof(e)))
			return 0;
		return !memcmp(a, b, sizeof(a));
	}
	if ((k == RVMIG_ACT_CG_CPU_MAX &&
	     (want->value == ACT_CPU_MAX_UNLIMITED || got->value == ACT_CPU_MAX_UNLIMITED)) ||
	    k == RVMIG_ACT_VCPUS)
		return want->value == got->value; /* counts: exact */
	/* quota = value x period / 1e6 and v1 shares = weight x 1024 / 100
	 * round: 1 unit, or 0.1 % of the value */
	return llabs(want->value - got->value) <= (llabs(want->value) / 1000 > 1 ? llabs(want->value) / 1000 : 1);
}

const char *act_format(enum rvmig_action_kind k, const struct act_setting *s, char *buf, size_t len)
{
	char esc[ACT_ARG_MAX * 4];

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if (s->value == ACT_CPU_MAX_UNLIMITED)
			snprintf(buf, len, "max");
		else
			snprintf(buf, len, "%.3f CPU", (double)s->value / 1e6);
		break;
	case RVMIG_ACT_CG_CPU_WEIGHT:
	case RVMIG_ACT_CREDIT_WEIGHT: snprintf(buf, len, "weight %" PRId64, s->value); break;
	case RVMIG_ACT_CREDIT_CAP:
		if (s->value == 0)
			snprintf(buf, len, "cap none");
		else
			snprintf(buf, len, "cap %" PRId64 "%%", s->value);
		break;
	case RVMIG_ACT_VCPUS: snprintf(buf, len, "%" PRId64 " vCPUs", s->value); break;
	case RVMIG_ACT_CG_CPUSET:
	case RVMIG_ACT_PIN:
		rvmig_text_escape(esc, sizeof(esc), s->arg, strlen(s->arg));
		snprintf(buf, len, "%s %s", k == RVMIG_ACT_PIN ? "pcpus" : "cpus",
			 s->arg[0] ? esc : "(the parent's)");
		break;
	default: snprintf(buf, len, "%" PRId64, s->value); break;
	}
	return buf;
}

double act_share(enum rvmig_action_kind k, const struct act_setting *s, double unlimited)
{
	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		return s->value == ACT_CPU_MAX_UNLIMITED ? unlimited : (double)s->value / 1e6;
	case RVMIG_ACT_CREDIT_CAP: return s->value == 0 ? unlimited : (double)s->value / 100;
	case RVMIG_ACT_VCPUS: return (double)s->value;
	default: return NAN;
	}
}

int act_read(const struct act_target *t, enum rvmig_action_kind k, struct act_setting *out,
	     char *where, size_t wherelen, char *err, size_t errlen)
{
	const struct act_ops *ops = act_backend(t, k);
	char name[PATH_MAX + 16];

	if (!ops) {
		snprintf(err, errlen, "%s: no actuator for %s actions on it",
			 act_target_name(t, name, sizeof(name)), rvmig_action_kind_name(k));
		return -ENOTSUP;
	}
	memset(out, 0, sizeof(*out));
	return ops->get(t, k, out, where, wherelen, err, errlen);
}

/* Writes `want` and reads it back into *got. */
static int write_check(const struct act_ops *ops, const struct act_target *t,
		       enum rvmig_action_kind k, const struct act_setting *want,
		       struct act_setting *got, char *err, size_t errlen)
{
	char where[ACT_WHERE_MAX], a[ACT_ARG_MAX * 4 + 32], b[ACT_ARG_MAX * 4 + 32];
	int rc;

	if ((rc = ops->set(t, k, want, err, errlen)) < 0)
		return rc;
	memset(got, 0, sizeof(*got));
	if ((rc = ops->get(t, k, got, where, sizeof(where), err, errlen)) < 0)
		return rc;
	if (act_same(k, want, got))
		return 0;
	snprintf(err, errlen, "%s: wrote %s, read back %s", where, act_format(k, want, a, sizeof(a)),
		 act_format(k, got, b, sizeof(b)));
	return -EIO;
}

int act_apply(const struct act_target *t, const struct rvmig_action *a, struct act_undo *undo,
	      char *err, size_t errlen)
{
	struct act_setting want;
	char why[512];
	int rc;

	memset(undo, 0, sizeof(*undo));
	act_setting_of(a, &want);
	if ((rc = act_check(a->kind, &want, err, errlen)) < 0)
		return rc;
	if ((rc = act_read(t, a->kind, &undo->old, undo->where, sizeof(undo->where), err, errlen)) < 0)
		return rc;
	undo->ops = act_backend(t, a->kind);
	undo->target = *t;
	undo->kind = a->kind;
	rc = write_check(undo->ops, t, a->kind, &want, &undo->now, err, errlen);
	if (rc < 0 && undo->ops->set(t, a->kind, &undo->old, why, sizeof(why)) < 0) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "; putting the old setting back failed too: %s", why);
	}
	return rc;
}

int act_undo(const struct act_undo *undo, char *err, size_t errlen)
{
	struct act_setting back;

	if (!undo->ops) {
		snprintf(err, errlen, "nothing to undo");
		return -EINVAL;
	}
	return write_check(undo->ops, &undo->target, undo->kind, &undo->old, &back, err, errlen);
}
