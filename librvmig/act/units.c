/* SPDX-License-Identifier: MIT */
/* units.c - the actuators' pure parts (act_int.h): value bounds, CPU
 * lists, unit conversions, read-back comparison, settings as text and as
 * CPU shares.  No I/O. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/act_int.h"

#define V1_SHARES_MIN 2
#define V1_SHARES_MAX 262144

void act_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int act_cpulist_parse(const char *s, uint64_t mask[ACT_CPU_WORDS], char *err, size_t errlen)
{
	const char *p = s;
	char esc[64];

	memset(mask, 0, ACT_CPU_WORDS * sizeof(mask[0]));
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
		if (a >= RVMIG_ACT_CPUS_MAX || b >= RVMIG_ACT_CPUS_MAX || b < a)
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
	act_err(err, errlen, "CPU list: \"%s\" is not CPU[-CPU][,...] with CPUs 0..%d ascending", esc,
		RVMIG_ACT_CPUS_MAX - 1);
	return -EINVAL;
}

int act_cpulist_count(const uint64_t mask[ACT_CPU_WORDS])
{
	int n = 0;

	for (unsigned i = 0; i < ACT_CPU_WORDS; i++)
		n += __builtin_popcountll(mask[i]);
	return n;
}

int act_cpulist_first(const uint64_t mask[ACT_CPU_WORDS], int64_t n, char *list, size_t len)
{
	size_t used = 0;
	int rc;

	if (n < 1 || n > act_cpulist_count(mask))
		return -ERANGE;
	list[0] = '\0';
	for (int c = 0; c < RVMIG_ACT_CPUS_MAX && n > 0; c++) {
		if (!(mask[c / 64] >> (c % 64) & 1))
			continue;
		rc = snprintf(list + used, len - used, "%s%d", used ? "," : "", c);
		if (rc < 0 || (size_t)rc >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)rc;
		n--;
	}
	return 0;
}

int64_t act_weight_to_shares(int64_t weight)
{
	int64_t v = (weight * 1024 + 50) / 100;

	return v < V1_SHARES_MIN ? V1_SHARES_MIN : v > V1_SHARES_MAX ? V1_SHARES_MAX : v;
}

int64_t act_shares_to_weight(int64_t shares)
{
	return (shares * 100 + 512) / 1024;
}

int64_t act_quota_us(int64_t cpus_e6, int64_t period_us)
{
	return cpus_e6 == RVMIG_ACT_CPU_MAX_UNLIMITED ? -1 : (cpus_e6 * period_us + 500000) / 1000000;
}

int64_t act_quota_cpus(int64_t quota_us, int64_t period_us)
{
	return quota_us < 0 ? RVMIG_ACT_CPU_MAX_UNLIMITED : (quota_us * 1000000 + period_us / 2) / period_us;
}

static int range(char *err, size_t errlen, const char *what, int64_t v, int64_t lo, int64_t hi)
{
	if (v >= lo && v <= hi)
		return 0;
	act_err(err, errlen, "%s %" PRId64 " out of range %" PRId64 "..%" PRId64, what, v, lo, hi);
	return -ERANGE;
}

int act_check(enum rvmig_action_kind k, const struct rvmig_act_setting *s, long ncpus, char *err,
	      size_t errlen)
{
	uint64_t mask[ACT_CPU_WORDS];

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if (s->value == RVMIG_ACT_CPU_MAX_UNLIMITED)
			return 0;
		/* more than every CPU of the host is no cap at all */
		return range(err, errlen, "CPU quota (CPUs x 1e6)", s->value, RVMIG_ACT_CPU_MAX_MIN,
			     (int64_t)(ncpus > 0 ? ncpus : 1) * 1000000);
	case RVMIG_ACT_CG_CPU_WEIGHT:
		return range(err, errlen, "cgroup CPU weight", s->value, RVMIG_ACT_CG_WEIGHT_MIN,
			     RVMIG_ACT_CG_WEIGHT_MAX);
	case RVMIG_ACT_CREDIT_WEIGHT:
		return range(err, errlen, "credit weight", s->value, RVMIG_ACT_XEN_WEIGHT_MIN,
			     RVMIG_ACT_XEN_WEIGHT_MAX);
	case RVMIG_ACT_CREDIT_CAP:
		return range(err, errlen, "credit cap (% of one CPU)", s->value, 0, RVMIG_ACT_XEN_CAP_MAX);
	case RVMIG_ACT_VCPUS:
		/* the domain's own bound (maxvcpus, the parent's CPUs) is the
		 * backend's to check: it needs a read */
		return range(err, errlen, "vCPU count", s->value, 1, RVMIG_ACT_VCPUS_MAX);
	case RVMIG_ACT_PIN:
		if (!strcmp(s->arg, "all"))
			return 0;
		/* fall through */
	case RVMIG_ACT_CG_CPUSET:
		if (!s->arg[0]) {
			act_err(err, errlen, "%s: an empty CPU list", rvmig_action_kind_name(k));
			return -EINVAL;
		}
		return act_cpulist_parse(s->arg, mask, err, errlen);
	default:
		act_err(err, errlen, "%s: no actuator carries out this kind of action",
			rvmig_action_kind_name(k));
		return -ENOTSUP;
	}
}

int act_same(enum rvmig_action_kind k, const struct rvmig_act_setting *want,
	     const struct rvmig_act_setting *got)
{
	uint64_t a[ACT_CPU_WORDS], b[ACT_CPU_WORDS];

	if (k == RVMIG_ACT_PIN && (!strcmp(want->arg, "all") || !strcmp(got->arg, "all")))
		return !strcmp(want->arg, got->arg);
	if (k == RVMIG_ACT_CG_CPUSET || k == RVMIG_ACT_PIN) {
		if (act_cpulist_parse(want->arg, a, NULL, 0) || act_cpulist_parse(got->arg, b, NULL, 0))
			return 0;
		return !memcmp(a, b, sizeof(a));
	}
	if ((k == RVMIG_ACT_CG_CPU_MAX && (want->value == RVMIG_ACT_CPU_MAX_UNLIMITED ||
					   got->value == RVMIG_ACT_CPU_MAX_UNLIMITED)) ||
	    k == RVMIG_ACT_VCPUS)
		return want->value == got->value; /* counts: exact */
	/* quota = value x period / 1e6 and v1 shares = weight x 1024 / 100
	 * round: 1 unit, or 0.1 % of the value */
	return llabs(want->value - got->value) <=
	       (llabs(want->value) / 1000 > 1 ? llabs(want->value) / 1000 : 1);
}

RVMIG_API const char *rvmig_act_format(enum rvmig_action_kind k, const struct rvmig_act_setting *s,
				       char *buf, size_t len)
{
	char esc[RVMIG_ACT_ARG_MAX * 4];

	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		if (s->value == RVMIG_ACT_CPU_MAX_UNLIMITED)
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
		rvmig_text_escape(esc, sizeof(esc), s->arg, strnlen(s->arg, sizeof(s->arg)));
		snprintf(buf, len, "%s %s", k == RVMIG_ACT_PIN ? "pcpus" : "cpus",
			 s->arg[0] ? esc : "(the parent's)");
		break;
	default: snprintf(buf, len, "%" PRId64, s->value); break;
	}
	return buf;
}

RVMIG_API double rvmig_act_share(enum rvmig_action_kind k, const struct rvmig_act_setting *s,
				 double unlimited)
{
	switch (k) {
	case RVMIG_ACT_CG_CPU_MAX:
		return s->value == RVMIG_ACT_CPU_MAX_UNLIMITED ? unlimited : (double)s->value / 1e6;
	case RVMIG_ACT_CREDIT_CAP: return s->value == 0 ? unlimited : (double)s->value / 100;
	case RVMIG_ACT_VCPUS: return (double)s->value;
	default: return NAN;
	}
}
