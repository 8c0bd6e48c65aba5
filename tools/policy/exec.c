/* SPDX-License-Identifier: MIT */
/* exec.c - a live run's decisions carried out, verified, rolled back (exec.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "policy/exec.h"
#include "policy/flight.h"
#include "policy/grow.h"

/* An action under verification, and the domain it is for. */
struct flight {
	struct pol_target tg;
	struct pol_flight fl;
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
	snprintf(err, errlen, "no executor of a %s in this build: planned, not carried out",
		 rvmig_action_kind_name(d->action.kind));
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
	if (e->a.verify_n > POL_FLIGHT_VERIFY_MAX)
		e->a.verify_n = POL_FLIGHT_VERIFY_MAX;
	if (!(e->a.verify_timeout_s > 0))
		e->a.verify_timeout_s = 60;
	*out = e;
	return 0;
}

static void flight_free(struct flight *f)
{
	pol_target_free(&f->tg);
	pol_flight_free(&f->fl);
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

	if (d->action.kind == RVMIG_ACT_SAVE || d->action.kind == RVMIG_ACT_RESTORE) {
		rvmig_text_escape(dest, sizeof(dest), d->dest, strlen(d->dest));
		fprintf(e->a.out, "t=%.1f decide %s %s %s %s: utility %+.2f after cost %.4f; "
			"predicted %.2f s%s\n", now, rvmig_action_kind_name(d->action.kind),
			who(&d->target, w, sizeof(w)),
			d->action.kind == RVMIG_ACT_SAVE ? "to the store" : "on", dest, d->gain,
			d->action.cost, d->pred.end_s - d->pred.start_s,
			e->a.apply ? "" : " (dry run: not applied)");
		return;
	}
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

/* A migration, save or restore that failed or was refused (the reason
 * logged already): the run told the domain is where it was, its cool-down
 * counted from the failure (at d->t + took, in the run's time). */
static void not_moved(pol_exec *e, pol_run *r, const struct pol_decision *d, double now,
		      double took)
{
	const int restore = d->action.kind == RVMIG_ACT_RESTORE;
	const char *where = restore ? d->dest : d->target.host;
	char w[600], h[160];

	pol_run_move_failed(r, &d->target, d->action.kind, d->t + took);
	rvmig_text_escape(h, sizeof(h), where, strlen(where));
	fprintf(e->a.out, "t=%.1f %s %s: not carried out; the run counts it as %s %s again, and "
		"moves it no more within its domain cool-down\n", now,
		rvmig_action_kind_name(d->action.kind), who(&d->target, w, sizeof(w)),
		restore ? "saved, not restored on" : "running on", h);
}

int pol_exec_decision(pol_exec *e, pol_run *r, const struct pol_decision *d, double now)
{
	const struct pol_domain_cfg *c;
	struct rvmig_verify_attr va;
	struct rvmig_act_target t;
	struct flight *f;
	char err[1024], a[96];
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
	if (d->action.kind == RVMIG_ACT_MIGRATE || d->action.kind == RVMIG_ACT_SAVE ||
	    d->action.kind == RVMIG_ACT_RESTORE) {
		const struct pol_exec_ops *o = e->a.ops;
		double t0 = tool_now();

		err[0] = '\0';
		if (d->action.kind == RVMIG_ACT_MIGRATE)
			rc = (o->migrate ? o->migrate : refuse_migrate)(o->ctx, d, err, sizeof(err));
		else if (o->park)
			rc = o->park(o->ctx, d, e->a.host ? e->a.host : "local", err, sizeof(err));
		else
			rc = refuse_migrate(o->ctx, d, err, sizeof(err));
		if (err[0]) /* else the executor logged its outcome itself */
			fprintf(e->a.out, "t=%.1f %s %s: %s%s\n", now,
				rvmig_action_kind_name(d->action.kind), d->target.policy,
				rc < 0 ? "failed: " : "done", rc < 0 ? err : "");
		if (rc == 0)
			e->applied++;
		else
			not_moved(e, r, d, now, tool_now() - t0);
		return 0;
	}
	if ((rc = pol_exec_target(&d->target, &t, err, sizeof(err))) < 0) {
		fprintf(e->a.out, "t=%.1f apply %s %s: failed: %s\n", now,
			rvmig_action_kind_name(d->action.kind), d->target.policy, err);
		return 0;
	}
	if (!(f = pol_grow(e->f, e->nf, &e->cap_f, sizeof(*f))))
		return -ENOMEM;
	e->f = f;
	f = &e->f[e->nf];
	memset(f, 0, sizeof(*f));
	c = pol_run_domain_cfg(r, &d->target);
	va = (struct rvmig_verify_attr){ .size = sizeof(va),
					 .sla = c ? c->sla : (struct rvmig_sla){ 0 },
					 .before = d->reason.observed,
					 .predicted = d->reason.predicted,
					 .min_samples = e->a.verify_n };
	if (pol_flight_apply(&f->fl, e->act, &t, &d->action, &va, e->a.settle_n,
			     e->a.verify_timeout_s, now, e->a.out) < 0) {
		resync(e, r, d, &t);
		return 0;
	}
	if (pol_target_copy(&f->tg, &d->target) < 0) {
		rvmig_act_undo(e->act, f->fl.change, err, sizeof(err));
		pol_flight_free(&f->fl);
		return -ENOMEM;
	}
	e->nf++;
	e->applied++;
	return 0;
}

int pol_exec_observe(pol_exec *e, pol_run *r, double now)
{
	int done = 0;

	for (size_t i = 0; i < e->nf;) {
		struct flight *f = &e->f[i];
		enum pol_flight_end end = POL_FLIGHT_PENDING;
		double obs;

		if (pol_run_observed(r, &f->tg, &obs))
			end = pol_flight_observe(&f->fl, e->act, obs, now, e->a.out);
		if (end == POL_FLIGHT_PENDING)
			end = pol_flight_expire(&f->fl, now, e->a.out);
		if (end == POL_FLIGHT_PENDING) {
			i++;
			continue;
		}
		if (end == POL_FLIGHT_KEPT)
			e->kept++;
		if (end == POL_FLIGHT_UNDONE) {
			e->undone++;
			pol_run_set_control(r, &f->tg, pol_flight_kind(&f->fl),
					    pol_flight_old(&f->fl)->value);
		}
		done++;
		flight_free(f);
		memmove(f, f + 1, (e->nf - i - 1) * sizeof(*f));
		e->nf--;
	}
	return done;
}
