/* SPDX-License-Identifier: MIT */
/* exec.c - a live run's decisions carried out, verified, rolled back (exec.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/exec.h"
#include "policy/grow.h"

#define VERIFY_MAX 100 /* --verify's bound */

/* An action under verification. */
struct flight {
	struct pol_target tg;
	char name[RVMIG_ACT_PATH_MAX + 16]; /* the actuator target, escaped */
	rvmig_act_change *undo;
	struct rvmig_verify_attr va;
	double win[VERIFY_MAX];
	unsigned nwin, settle_left;
	double deadline;
};

struct pol_exec {
	struct pol_exec_attr a;
	rvmig_act *act;
	struct flight *f;
	size_t nf, cap_f;
	unsigned applied, kept, undone;
};

static int refuse_migrate(void *ctx, const struct pol_decision *d, char *err, size_t errlen)
{
	(void)ctx;
	(void)d;
	snprintf(err, errlen, "no migration executor in this build: the migration is planned, "
			      "not carried out");
	return -ENOTSUP;
}

const struct pol_exec_ops pol_exec_no_migrate = { .name = "none", .migrate = refuse_migrate };

int pol_exec_create(const struct pol_exec_attr *attr, pol_exec **out)
{
	pol_exec *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	if ((rc = rvmig_act_open(NULL, "auto", &e->act)) < 0) {
		free(e);
		return rc;
	}
	e->a = *attr;
	if (!e->a.ops)
		e->a.ops = &pol_exec_no_migrate;
	if (!e->a.verify_n)
		e->a.verify_n = 3;
	if (e->a.verify_n > VERIFY_MAX)
		e->a.verify_n = VERIFY_MAX;
	if (!(e->a.verify_timeout_s > 0))
		e->a.verify_timeout_s = 60;
	*out = e;
	return 0;
}

static void flight_free(struct flight *f)
{
	pol_target_free(&f->tg);
	rvmig_act_change_free(f->undo);
}

void pol_exec_destroy(pol_exec *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nf; i++)
		flight_free(&e->f[i]);
	free(e->f);
	rvmig_act_close(e->act);
	free(e);
}

rvmig_act *pol_exec_act(const pol_exec *e)
{
	return e->act;
}

void pol_exec_counts(const pol_exec *e, unsigned *applied, unsigned *kept, unsigned *undone)
{
	*applied = e->applied;
	*kept = e->kept;
	*undone = e->undone;
}

int pol_exec_target(const struct pol_target *tg, struct rvmig_act_target *t, char *err, size_t errlen)
{
	char spec[RVMIG_ACT_PATH_MAX + 16], esc[160];

	if (!strcmp(tg->kind, "cgroup"))
		snprintf(spec, sizeof(spec), "cgroup:%s", tg->name);
	else if (!strcmp(tg->kind, "process"))
		snprintf(spec, sizeof(spec), "pid:%s", tg->id);
	else if (!strcmp(tg->kind, "domain") || !strcmp(tg->kind, "xen"))
		snprintf(spec, sizeof(spec), "xen:%s", tg->id);
	else {
		rvmig_text_escape(esc, sizeof(esc), tg->kind, strlen(tg->kind));
		snprintf(err, errlen, "no actuator for domains of kind %s", esc);
		return -EINVAL;
	}
	return rvmig_act_target_parse(spec, t, err, errlen);
}

/* "POLICY (KIND NAME id ID on HOST)", escaped. */
static const char *who(const struct pol_target *tg, char *buf, size_t len)
{
	char k[40], n[160], i[40], h[160];

	rvmig_text_escape(k, sizeof(k), tg->kind, strlen(tg->kind));
	rvmig_text_escape(n, sizeof(n), tg->name, strlen(tg->name));
	rvmig_text_escape(i, sizeof(i), tg->id, strlen(tg->id));
	rvmig_text_escape(h, sizeof(h), tg->host, strlen(tg->host));
	snprintf(buf, len, "%s (%s %s id %s on %s)", tg->policy, k, n, i, h);
	return buf;
}

static void log_decision(pol_exec *e, const struct pol_decision *d, double now)
{
	const struct rvmig_reason *r = &d->reason;
	char w[600], dest[160];

	if (d->action.kind == RVMIG_ACT_MIGRATE) {
		rvmig_text_escape(dest, sizeof(dest), d->dest, strlen(d->dest));
		fprintf(e->a.out,
			"t=%.1f decide migrate %s to %s: %s; host demand %.2f of %.0f CPUs; "
			"predicted %.2f s, downtime %.3f s%s\n",
			now, who(&d->target, w, sizeof(w)), dest, d->urgent ? "no-room" : "host-overload",
			d->src_before, d->src_cpus, d->pred.end_s - d->pred.start_s, d->pred.downtime_s,
			e->a.apply ? "" : " (dry run: not applied)");
		return;
	}
	fprintf(e->a.out,
		"t=%.1f decide %s %s %s: share %.3f -> %.3f CPUs (value %lld); %s %.3f (target %s %.3f, "
		"load %.0f), utility %.3f -> %.3f predicted (%s %.3f), cost %.4f%s\n",
		now, rvmig_why_name(r->why), rvmig_action_kind_name(d->action.kind),
		who(&d->target, w, sizeof(w)), d->share_before, d->action.share,
		(long long)d->action.value, r->metric, r->observed,
		r->sla_kind == RVMIG_SLA_FLOOR ? ">=" : "<=", r->target, r->load, r->utility_before,
		r->utility_after, r->metric, r->predicted, r->cost,
		e->a.apply ? "" : " (dry run: not applied)");
}

/* After a failed write: the run told the setting the domain has, as read. */
static void resync(pol_exec *e, pol_run *r, const struct pol_decision *d,
		   const struct rvmig_act_target *t)
{
	struct rvmig_act_setting cur;

	if (rvmig_act_read(e->act, t, d->action.kind, &cur, NULL, 0, NULL, 0) == 0)
		pol_run_set_control(r, &d->target, d->action.kind, cur.value);
}

int pol_exec_decision(pol_exec *e, pol_run *r, const struct pol_decision *d, double now)
{
	const struct pol_domain_cfg *c;
	struct rvmig_act_target t;
	struct flight *f;
	char err[1024], name[RVMIG_ACT_PATH_MAX + 16], a[96], b[96];
	int rc;

	log_decision(e, d, now);
	if (!e->a.apply)
		return 0;
	if (e->a.host && strcmp(e->a.host, d->target.host)) {
		rvmig_text_escape(a, sizeof(a), d->target.host, strlen(d->target.host));
		fprintf(e->a.out, "t=%.1f skip %s %s: host %s is not this one\n", now,
			rvmig_action_kind_name(d->action.kind), d->target.policy, a);
		return 0;
	}
	if (d->action.kind == RVMIG_ACT_MIGRATE) {
		err[0] = '\0';
		rc = e->a.ops->migrate(e->a.ops->ctx, d, err, sizeof(err));
		if (err[0]) /* else the executor logged its outcome itself */
			fprintf(e->a.out, "t=%.1f migrate %s: %s%s\n", now, d->target.policy,
				rc < 0 ? "failed: " : "done", rc < 0 ? err : "");
		if (rc == 0)
			e->applied++;
		return 0;
	}
	if ((rc = pol_exec_target(&d->target, &t, err, sizeof(err))) < 0) {
		fprintf(e->a.out, "t=%.1f apply %s %s: failed: %s\n", now,
			rvmig_action_kind_name(d->action.kind), d->target.policy, err);
		return 0;
	}
	rvmig_act_target_name(&t, name, sizeof(name));
	if (!(f = pol_grow(e->f, e->nf, &e->cap_f, sizeof(*f))))
		return -ENOMEM;
	e->f = f;
	f = &e->f[e->nf];
	memset(f, 0, sizeof(*f));
	if ((rc = rvmig_act_apply(e->act, &t, &d->action, &f->undo, err, sizeof(err))) < 0) {
		fprintf(e->a.out, "t=%.1f apply %s %s: failed: %s\n", now,
			rvmig_action_kind_name(d->action.kind), name, err);
		resync(e, r, d, &t);
		return 0;
	}
	if (pol_target_copy(&f->tg, &d->target) < 0) {
		rvmig_act_undo(e->act, f->undo, err, sizeof(err));
		rvmig_act_change_free(f->undo);
		return -ENOMEM;
	}
	e->nf++;
	e->applied++;
	snprintf(f->name, sizeof(f->name), "%s", name);
	fprintf(e->a.out, "t=%.1f apply %s %s (%s): %s -> %s\n", now,
		rvmig_action_kind_name(d->action.kind), name, rvmig_act_change_where(f->undo),
		rvmig_act_format(d->action.kind, rvmig_act_change_old(f->undo), a, sizeof(a)),
		rvmig_act_format(d->action.kind, rvmig_act_change_now(f->undo), b, sizeof(b)));
	f->settle_left = e->a.settle_n;
	f->deadline = now + e->a.verify_timeout_s;
	c = pol_run_domain_cfg(r, &d->target);
	f->va = (struct rvmig_verify_attr){ .size = sizeof(f->va),
					    .sla = c ? c->sla : (struct rvmig_sla){ 0 },
					    .before = d->reason.observed,
					    .predicted = d->reason.predicted,
					    .min_samples = e->a.verify_n };
	return 0;
}

/* Judges flight f on one more observation: 1 a verdict reached, 0 not yet. */
static int judge(pol_exec *e, pol_run *r, struct flight *f, double obs, double now)
{
	struct rvmig_verify_result v = { .size = sizeof(v) };
	enum rvmig_action_kind k = rvmig_act_change_kind(f->undo);
	char a[96], b[96], err[1024];
	int rc;

	if (f->settle_left) {
		f->settle_left--;
		return 0;
	}
	f->win[f->nwin++] = obs;
	if ((rc = rvmig_verify(&f->va, f->win, f->nwin, &v)) < 0) {
		fprintf(e->a.out, "t=%.1f verify %s %s: %s; kept\n", now, rvmig_action_kind_name(k),
			f->name, rvmig_strerror(rc));
		return 1;
	}
	if (v.verdict == RVMIG_VERDICT_PENDING && f->nwin < VERIFY_MAX)
		return 0;
	fprintf(e->a.out,
		"t=%.1f verify %s %s: %s: median %.3f of %u (before %.3f, predicted %.3f), "
		"utility %.3f -> %.3f%s%s\n",
		now, rvmig_action_kind_name(k), f->name, rvmig_verdict_name(v.verdict),
		v.observed, f->nwin, f->va.before, f->va.predicted, v.utility_before, v.utility_after,
		v.metric_worse ? ", the metric moved the wrong way" : "",
		v.utility_fell ? ", utility fell" : "");
	if (v.verdict != RVMIG_VERDICT_UNDO) {
		e->kept++;
		return 1;
	}
	if (rvmig_act_undo(e->act, f->undo, err, sizeof(err)) < 0) {
		fprintf(e->a.out, "t=%.1f undo %s %s: failed: %s\n", now, rvmig_action_kind_name(k),
			f->name, err);
		return 1;
	}
	e->undone++;
	fprintf(e->a.out, "t=%.1f undo %s %s (%s): %s -> %s\n", now, rvmig_action_kind_name(k),
		f->name, rvmig_act_change_where(f->undo),
		rvmig_act_format(k, rvmig_act_change_now(f->undo), a, sizeof(a)),
		rvmig_act_format(k, rvmig_act_change_old(f->undo), b, sizeof(b)));
	pol_run_set_control(r, &f->tg, k, rvmig_act_change_old(f->undo)->value);
	return 1;
}

int pol_exec_observe(pol_exec *e, pol_run *r, double now)
{
	int done = 0;

	for (size_t i = 0; i < e->nf;) {
		struct flight *f = &e->f[i];
		double obs;
		int over = 0;

		if (pol_run_observed(r, &f->tg, &obs))
			over = judge(e, r, f, obs, now);
		if (!over && now > f->deadline) {
			fprintf(e->a.out, "t=%.1f verify %s %s: no verdict: %u of %u observations "
					  "in %.0f s; kept\n",
				now, rvmig_action_kind_name(rvmig_act_change_kind(f->undo)), f->name,
				f->nwin, e->a.verify_n, e->a.verify_timeout_s);
			e->kept++;
			over = 1;
		}
		if (!over) {
			i++;
			continue;
		}
		done++;
		flight_free(f);
		memmove(f, f + 1, (e->nf - i - 1) * sizeof(*f));
		e->nf--;
	}
	return done;
}
