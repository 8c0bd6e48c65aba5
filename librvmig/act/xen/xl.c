/* SPDX-License-Identifier: MIT */
/*
 * xl.c - the Xen actuator (rvmig/act.h, backend "xen"): a domain's weight
 * and cap under the credit2 scheduler (or credit, where the domain's pool runs that), through
 * `xl sched-credit2 -d DOMID [-w W | -c C]`, and the hard affinity of its
 * vCPUs (`xl vcpu-pin DOMID all CPUS`, read back from `xl vcpu-list`), its
 * online vCPU count (`xl vcpu-set DOMID N`, bounded by the vCPUs
 * `xl vcpu-list` lists, its maximum; read back as the vCPUs it shows online,
 * waited for up to VCPU_SETTLE_MS: the guest's kernel takes vCPUs down by
 * itself, but onlines one made available only where its udev or an agent
 * does), each
 * xl run with an argv (no shell), stdin closed and a deadline
 * (RVMIG_ACT_XL_DEADLINE_MS).
 *
 * Why xl and not libxenctrl / libxl: librvmig links no Xen library (it
 * must load on hosts without Xen; the monitor dlopens libxenctrl for what
 * only it gives), xl is what an operator would run, and it validates the
 * domain and values as well.  rvmig_act_xen_domain() reads `xl list`.
 * The scheduler is asked for each read: credit2 first, credit when xl
 * refuses credit2 for the domain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act/act_int.h"
#include "act/xen/xl_parse.h"

#define VCPU_SETTLE_MS 30000 /* a guest brings vCPUs up or down itself */

static int handles(enum rvmig_act_target_kind tk, enum rvmig_action_kind k)
{
	return tk == RVMIG_ACT_TARGET_XEN &&
	       (k == RVMIG_ACT_CREDIT_WEIGHT || k == RVMIG_ACT_CREDIT_CAP || k == RVMIG_ACT_PIN ||
		k == RVMIG_ACT_VCPUS);
}

/* Runs argv; its stdout into out (XL_OUT_MAX).  0 when it exited 0 within
 * the deadline; else -errno with err holding the command, its status and
 * the first line of its stderr. */
static int run_xl(rvmig_act *act, char *const argv[], char *out, char *err, size_t errlen)
{
	return rvmig_act_run(act, argv, RVMIG_ACT_XL_DEADLINE_MS, out, XL_OUT_MAX, NULL, NULL, err,
			     errlen);
}

/* The scheduler xl reads this domain with (credit2, else credit), and its
 * weight and cap. */
static int sched_read(rvmig_act *act, long domid, const char **sched, int64_t *w, int64_t *c,
		      char *err, size_t errlen)
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

		rc = run_xl(act, argv, out, why[i], sizeof(why[i]));
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
static int vcpu_list(rvmig_act *act, long domid, char **text, char *err, size_t errlen)
{
	char d[24];
	char *argv[] = { "xl", "vcpu-list", d, NULL };

	if (!(*text = malloc(XL_OUT_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(d, sizeof(d), "%ld", domid);
	return run_xl(act, argv, *text, err, errlen);
}

static int pin_get(rvmig_act *act, const struct rvmig_act_target *t, struct rvmig_act_setting *out,
		   char *where, size_t wherelen, char *err, size_t errlen)
{
	char *text;
	int rc = vcpu_list(act, t->id, &text, err, errlen);

	snprintf(where, wherelen, "Xen domain %ld (xl vcpu-list, vCPU 0's hard affinity)", t->id);
	if (rc == 0 && (rc = act_xen_parse_affinity(text, t->id, out->arg, sizeof(out->arg))) < 0)
		snprintf(err, errlen, "xl vcpu-list %ld: no vCPU 0 of domain %ld in its output", t->id,
			 t->id);
	free(text);
	return rc;
}

static int vcpus_read(rvmig_act *act, long domid, unsigned *online, unsigned *max, char *err,
		      size_t errlen)
{
	char *text;
	int rc = vcpu_list(act, domid, &text, err, errlen);

	if (rc == 0 && (rc = act_xen_parse_vcpus(text, domid, online, max)) < 0)
		snprintf(err, errlen, "xl vcpu-list %ld: no vCPU of domain %ld in its output", domid,
			 domid);
	free(text);
	return rc;
}

/* xl vcpu-set, bounded by the domain's maximum, then the guest given
 * VCPU_SETTLE_MS to show that many online. */
static int vcpus_set(rvmig_act *act, long domid, int64_t n, char *err, size_t errlen)
{
	char d[24], v[24], *out;
	char *argv[] = { "xl", "vcpu-set", d, v, NULL };
	unsigned online, max;
	int rc;

	if ((rc = vcpus_read(act, domid, &online, &max, err, errlen)) < 0)
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
	rc = run_xl(act, argv, out, err, errlen);
	free(out);
	for (int waited = 0; rc == 0; waited += 200) {
		struct timespec ts = { 0, 200000000 };

		if ((rc = vcpus_read(act, domid, &online, &max, err, errlen)) < 0 || online == n)
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

static int get(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
	       struct rvmig_act_setting *out, char *where, size_t wherelen, char *err, size_t errlen)
{
	const char *sched = "?";
	int64_t w, c;
	unsigned online, max;
	int rc;

	if (k == RVMIG_ACT_PIN)
		return pin_get(act, t, out, where, wherelen, err, errlen);
	if (k == RVMIG_ACT_VCPUS) {
		snprintf(where, wherelen, "Xen domain %ld (xl vcpu-list, vCPUs online)", t->id);
		if ((rc = vcpus_read(act, t->id, &online, &max, err, errlen)) == 0)
			out->value = online;
		return rc;
	}
	rc = sched_read(act, t->id, &sched, &w, &c, err, errlen);
	snprintf(where, wherelen, "Xen domain %ld (xl %s)", t->id, sched);
	if (rc == 0)
		out->value = k == RVMIG_ACT_CREDIT_WEIGHT ? w : c;
	return rc;
}

static int set(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
	       const struct rvmig_act_setting *s, char *err, size_t errlen)
{
	const char *sched = NULL;
	int64_t w, c;
	char d[24], v[24], *out;
	int rc;

	if (k == RVMIG_ACT_VCPUS)
		return vcpus_set(act, t->id, s->value, err, errlen);
	rc = k == RVMIG_ACT_PIN ? 0 : sched_read(act, t->id, &sched, &w, &c, err, errlen);
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

		rc = run_xl(act, argv, out, err, errlen);
	} else {
		char *argv[] = { "xl", (char *)sched, "-d", d,
				 k == RVMIG_ACT_CREDIT_WEIGHT ? "-w" : "-c", v, NULL };

		rc = run_xl(act, argv, out, err, errlen);
	}
	free(out);
	return rc;
}

RVMIG_API int rvmig_act_xen_domain(rvmig_act *act, const char *name, long *domid, char *state,
				   size_t len, char *err, size_t errlen)
{
	char *argv[] = { "xl", "list", NULL }, *out, e[512];
	int rc;

	if (!act || !domid || !state || !len)
		return -EINVAL;
	if (!err || !errlen) {
		err = e;
		errlen = sizeof(e);
	}
	if (!(out = malloc(XL_OUT_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = run_xl(act, argv, out, err, errlen);
	if (rc == 0) {
		rc = act_xen_parse_list(out, name, domid, state, len);
		rc = rc == 0 ? 1 : rc == -ESRCH ? 0 : rc;
		if (rc < 0)
			snprintf(err, errlen, "xl list: a state longer than %zu bytes", len - 1);
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
