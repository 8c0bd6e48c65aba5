/* SPDX-License-Identifier: MIT */
/* plan.c - a plan printed as text or JSON (plan.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/config.h"
#include "policy/plan.h"

int pol_target_copy(struct pol_target *dst, const struct pol_target *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->policy = src->policy;
	if (!(dst->host = strdup(src->host)) || !(dst->kind = strdup(src->kind)) ||
	    !(dst->id = strdup(src->id)) || !(dst->name = strdup(src->name))) {
		pol_target_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void pol_target_free(struct pol_target *t)
{
	free(t->host);
	free(t->kind);
	free(t->id);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void pol_plan_free(struct pol_plan *p)
{
	for (size_t i = 0; i < p->nd; i++) {
		pol_target_free(&p->d[i].target);
		free(p->d[i].dest);
	}
	for (size_t i = 0; i < p->ns; i++)
		pol_target_free(&p->s[i].target);
	for (size_t i = 0; i < p->nh; i++)
		free(p->h[i].host);
	free(p->d);
	free(p->b);
	free(p->s);
	free(p->h);
	memset(p, 0, sizeof(*p));
}

/* ---- text ---- */

/* Outside text, escaped, for one line. */
static const char *esc(char *buf, size_t cap, const char *s)
{
	rvmig_text_escape(buf, cap, s, strlen(s));
	return buf;
}

static void target_text(FILE *f, const struct pol_target *t)
{
	char a[160], b[160], c[80];

	fprintf(f, "%s (%s %s", t->policy, esc(c, sizeof(c), t->kind), esc(a, sizeof(a), t->name));
	fprintf(f, " id %s on %s)", esc(c, sizeof(c), t->id), esc(b, sizeof(b), t->host));
}

/* An action's value in its units. */
static void value_text(FILE *f, const struct rvmig_action *a)
{
	switch (a->kind) {
	case RVMIG_ACT_CG_CPU_MAX: fprintf(f, "%.2f CPUs", a->value / 1e6); break;
	case RVMIG_ACT_CREDIT_CAP: fprintf(f, "%lld %%", (long long)a->value); break;
	case RVMIG_ACT_VCPUS: fprintf(f, "%lld vCPUs", (long long)a->value); break;
	case RVMIG_ACT_CG_CPU_WEIGHT:
	case RVMIG_ACT_CREDIT_WEIGHT: fprintf(f, "weight %lld", (long long)a->value); break;
	default: fprintf(f, "%lld", (long long)a->value); break;
	}
}

/* A save (park.c) and its reckoning, or a restore. */
static void park_text(FILE *f, const struct pol_decision *d)
{
	char b[160], c[160];

	if (d->action.kind == RVMIG_ACT_SAVE) {
		fprintf(f, ": save to %s\n", esc(b, sizeof(b), d->dest));
		fprintf(f, "      host %s demand %.2f CPUs > %.2f x %.0f CPUs and no migration "
			   "found; after: %.2f there\n",
			esc(c, sizeof(c), d->target.host), d->src_before, d->overload, d->src_cpus,
			d->src_after);
		fprintf(f, "      utility: others %+.2f, its own %.2f -> 0 while saved, cost %.3f: "
			   "%+.2f", d->others_gain, d->own_before, d->action.cost, d->gain);
		if (isfinite(d->cap_gain))
			fprintf(f, "; capping it to %.2f CPUs instead: %+.2f", d->cap_to, d->cap_gain);
		fputc('\n', f);
	} else {
		fprintf(f, ": restore on %s\n", esc(b, sizeof(b), d->dest));
		fprintf(f, "      host %s has room: demand %.2f -> %.2f of %.0f CPUs; utility 0 -> "
			   "%.2f, cost %.3f: %+.2f\n", esc(c, sizeof(c), d->dest), d->dst_before,
			d->dst_after, d->dst_cpus, d->own_after, d->action.cost, d->gain);
	}
	fprintf(f, "      predicted: %.2f s, downtime %.2f s, %.0f MB (memory %.0f MB)\n",
		d->action.duration_s, d->action.downtime_s, d->pred.bytes / 1e6, d->mem_bytes / 1e6);
}

static void decision_text(FILE *f, const struct pol_plan *p, const struct pol_decision *d)
{
	const struct rvmig_reason *r = &d->reason;
	char b[160], c[160];

	fprintf(f, "  +%.1fs%s  ", d->t - p->from, d->due ? " (due)" : "");
	target_text(f, &d->target);
	if (d->action.kind == RVMIG_ACT_MIGRATE) {
		const struct pol_batch *bt = &p->b[d->batch];

		fprintf(f, ": migrate to %s\n", esc(b, sizeof(b), d->dest));
		if (d->urgent)
			fprintf(f, "      violating with no room for a raise: host %s demand %.2f of "
				   "%.0f CPUs (overload at %.2f x); domain demand %.2f; ",
				esc(b, sizeof(b), d->target.host), d->src_before, d->src_cpus, d->overload,
				d->demand);
		else
			fprintf(f, "      host %s demand %.2f CPUs > %.2f x %.0f CPUs; domain demand %.2f; ",
				esc(b, sizeof(b), d->target.host), d->src_before, d->overload,
				d->src_cpus, d->demand);
		fprintf(f, "after: %.2f there, %.2f of %.0f on %s\n", d->src_after, d->dst_after,
			d->dst_cpus, esc(c, sizeof(c), d->dest));
		fprintf(f, "      predicted: start %.2f s, end %.2f s, downtime %.3f s, %.0f MB in %u "
			   "rounds (memory %.0f MB, dirty %.1f MB/s), cost %.3f; batch %zu: k=%u %s, "
			   "makespan %.2f s\n",
			d->pred.start_s, d->pred.end_s, d->pred.downtime_s, d->pred.bytes / 1e6,
			d->pred.rounds, d->mem_bytes / 1e6, d->dirty_rate / 1e6, d->action.cost,
			d->batch + 1, bt->k, rvmig_plan_order_name(bt->order), bt->makespan_s);
		return;
	}
	if (d->action.kind == RVMIG_ACT_SAVE || d->action.kind == RVMIG_ACT_RESTORE) {
		park_text(f, d);
		return;
	}
	fprintf(f, ": %s ", rvmig_action_kind_name(d->action.kind));
	if (d->action.kind == RVMIG_ACT_CG_CPU_MAX)
		fprintf(f, "%.2f -> ", d->share_before);
	value_text(f, &d->action);
	fprintf(f, " (share %.2f CPUs)\n", d->action.share);
	fprintf(f, "      %s: %s %.3g vs target %s %.3g", rvmig_why_name(r->why), r->metric,
		r->observed, r->sla_kind == RVMIG_SLA_FLOOR ? ">=" : "<=", r->target);
	if (r->load > 0)
		fprintf(f, " at %.0f req/s", r->load);
	fprintf(f, "; utility %.2f %s %.2f (%s since +%.1fs)\n", r->utility_before,
		r->why == RVMIG_WHY_RAISE ? "<" : ">", r->threshold,
		r->why == RVMIG_WHY_RAISE ? "violating" : "satisfied", r->state_since_ns / 1e9 - p->from);
	fprintf(f, "      predicted %s %.3g, utility %.2f -> %.2f, cost %.3f\n", r->metric,
		r->predicted, r->utility_before, r->utility_after, r->cost);
}

/* The link model the planner used, and the toolstack's measured cost. */
static void link_text(FILE *f, const struct pol_plan *p)
{
	fprintf(f, "LINK %.4g bytes/s, overhead %.3f s per transfer, contention %.4g, ",
		p->bandwidth, p->overhead_s, p->contention);
	if (p->per_transfer_cap > 0 && p->per_transfer_cap < p->bandwidth)
		fprintf(f, "cap %.4g bytes/s per transfer", p->per_transfer_cap);
	else
		fprintf(f, "no per-transfer cap");
	if (p->calib_runs)
		fprintf(f, " (calibrated on %u measured runs, worst fit error %.1f %%)\n",
			p->calib_runs, 100 * p->calib_rel_err);
	else
		fprintf(f, " (from the policy file)\n");
	for (int k = RVMIG_XFER_MIGRATE; k <= RVMIG_XFER_RESTORE; k++) {
		const struct rvmig_xfer_model *m = &p->toolstack[k];

		if (!m->runs)
			continue;
		fprintf(f, "TOOLSTACK %s: +%.1f s fixed besides the link's %.1f s",
			pol_run_kind_name((enum rvmig_transfer_kind)k), m->overhead_s, m->transfer_s);
		if (m->downtime_runs)
			fprintf(f, ", +%.3f s of downtime", m->stop_overhead_s);
		fprintf(f, " (fitted to %u measured run%s, worst error %.1f %%", m->runs,
			m->runs == 1 ? "" : "s", 100 * m->rel_err);
		if (m->downtime_runs)
			fprintf(f, ", downtime %.1f %% over %u", 100 * m->downtime_rel_err,
				m->downtime_runs);
		fprintf(f, ")\n");
	}
}

int pol_plan_print_text(FILE *f, const struct pol_plan *p)
{
	char b[160];

	fprintf(f, "rvmig-policy plan (%s): %s, %zu samples over %.1f s, %zu decisions\n",
		p->applied ? "applied" : "dry run", p->source, p->samples, p->to - p->from, p->nd);
	if (p->nd)
		fputs("DECISIONS (time from the first sample)\n", f);
	for (size_t i = 0; i < p->nd; i++)
		decision_text(f, p, &p->d[i]);
	if (p->nb)
		link_text(f, p);
	for (size_t i = 0; i < p->nb; i++)
		fprintf(f, "MIGRATION BATCH %zu at +%.1fs: %zu migrations, k=%u, %s, makespan %.2f s, "
			   "longest downtime %.3f s%s\n",
			i + 1, p->b[i].t - p->from, p->b[i].n, p->b[i].k,
			rvmig_plan_order_name(p->b[i].order), p->b[i].makespan_s,
			p->b[i].max_downtime_s, p->b[i].meets_sla ? "" : " (over max_downtime)");
	fputs("DOMAINS (at the last sample)\n", f);
	for (size_t i = 0; i < p->ns; i++) {
		const struct pol_status *s = &p->s[i];

		fputs("  ", f);
		target_text(f, &s->target);
		fprintf(f, ": %s, %s; %s %.3g, utility %.2f, share %.2f CPUs, demand %.2f CPUs\n",
			rvmig_domain_state_name(s->state),
			s->hold == RVMIG_HOLD_NONE ? "acted" : rvmig_hold_name(s->hold), s->metric,
			s->observed, isfinite(s->utility) ? s->utility : 0, s->share, s->demand);
	}
	fputs("HOSTS (at the last sample)\n", f);
	for (size_t i = 0; i < p->nh; i++) {
		const struct pol_host_status *h = &p->h[i];

		fprintf(f, "  %s: %.0f CPUs, demand %.2f CPUs%s%s%s\n", esc(b, sizeof(b), h->host),
			h->cpus, h->demand, h->overloaded ? ", overloaded" : "", h->note ? ": " : "",
			h->note ? h->note : "");
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

static struct json_object *num(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void target_json(struct json_object *o, const struct pol_target *t)
{
	add(o, "policy", json_object_new_string(t->policy));
	add(o, "host", json_object_new_string(t->host));
	add(o, "kind", json_object_new_string(t->kind));
	add(o, "id", json_object_new_string(t->id));
	add(o, "name", json_object_new_string(t->name));
}

static struct json_object *decision_json(const struct pol_plan *p, const struct pol_decision *d)
{
	struct json_object *o = json_object_new_object();
	const struct rvmig_reason *r = &d->reason;

	add(o, "t", num(d->t));
	add(o, "t_rel", num(d->t - p->from));
	add(o, "due", json_object_new_boolean(d->due));
	target_json(o, &d->target);
	add(o, "action", json_object_new_string(rvmig_action_kind_name(d->action.kind)));
	add(o, "value", json_object_new_int64(d->action.value));
	add(o, "share_before", num(d->share_before));
	add(o, "share_after", num(d->action.share));
	if (d->by_decider) {
		add(o, "why", json_object_new_string(rvmig_why_name(r->why)));
		add(o, "metric", json_object_new_string(r->metric));
		add(o, "observed", num(r->observed));
		add(o, "target", num(r->target));
		add(o, "load", num(r->load));
		add(o, "threshold", num(r->threshold));
		add(o, "utility_before", num(r->utility_before));
		add(o, "predicted", num(r->predicted));
		add(o, "utility_after", num(r->utility_after));
		add(o, "cost", num(r->cost));
		add(o, "state_since", num(r->state_since_ns / 1e9));
	}
	if (d->action.kind == RVMIG_ACT_SAVE || d->action.kind == RVMIG_ACT_RESTORE) {
		add(o, "dest", json_object_new_string(d->dest));
		add(o, "demand", num(d->demand));
		add(o, "others_gain", num(d->others_gain));
		add(o, "own_utility_before", num(d->own_before));
		add(o, "own_utility_after", num(d->own_after));
		add(o, "cost", num(d->action.cost));
		add(o, "gain", num(d->gain));
		add(o, "cap_gain", num(d->cap_gain));
		add(o, "cap_to", isfinite(d->cap_gain) ? num(d->cap_to) : NULL);
		add(o, "mem_bytes", num(d->mem_bytes));
		add(o, "duration_s", num(d->action.duration_s));
		add(o, "downtime_s", num(d->action.downtime_s));
	}
	if (d->action.kind == RVMIG_ACT_MIGRATE) {
		struct json_object *pr = json_object_new_object();

		add(o, "why", json_object_new_string(d->urgent ? "no-room" : "host-overload"));
		add(o, "dest", json_object_new_string(d->dest));
		add(o, "demand", num(d->demand));
		add(o, "source_cpus", num(d->src_cpus));
		add(o, "source_demand_before", num(d->src_before));
		add(o, "source_demand_after", num(d->src_after));
		add(o, "dest_cpus", num(d->dst_cpus));
		add(o, "dest_demand_before", num(d->dst_before));
		add(o, "dest_demand_after", num(d->dst_after));
		add(o, "overload", num(d->overload));
		add(o, "mem_bytes", num(d->mem_bytes));
		add(o, "dirty_rate", num(d->dirty_rate));
		add(o, "batch", json_object_new_int64((int64_t)d->batch));
		add(o, "cost", num(d->action.cost));
		add(pr, "position", json_object_new_int64(d->pred.position));
		add(pr, "start_s", num(d->pred.start_s));
		add(pr, "end_s", num(d->pred.end_s));
		add(pr, "downtime_s", num(d->pred.downtime_s));
		add(pr, "bytes", num(d->pred.bytes));
		add(pr, "rounds", json_object_new_int64(d->pred.rounds));
		add(o, "prediction", pr);
	}
	return o;
}

/* {"migrate": {...}, ...}: the kinds with measured runs. */
static struct json_object *toolstack_json(const struct pol_plan *p)
{
	struct json_object *o = json_object_new_object();

	for (int k = RVMIG_XFER_MIGRATE; k <= RVMIG_XFER_RESTORE; k++) {
		const struct rvmig_xfer_model *m = &p->toolstack[k];
		struct json_object *t;

		if (!m->runs)
			continue;
		t = json_object_new_object();
		add(t, "runs", json_object_new_int64(m->runs));
		add(t, "overhead_s", num(m->overhead_s));
		add(t, "link_s", num(m->transfer_s));
		add(t, "max_rel_err", num(m->rel_err));
		add(t, "downtime_runs", json_object_new_int64(m->downtime_runs));
		if (m->downtime_runs) {
			add(t, "stop_overhead_s", num(m->stop_overhead_s));
			add(t, "downtime_max_rel_err", num(m->downtime_rel_err));
		}
		add(o, pol_run_kind_name((enum rvmig_transfer_kind)k), t);
	}
	return o;
}

int pol_plan_print_json(FILE *f, const struct pol_plan *p)
{
	struct json_object *root = json_object_new_object(), *a;

	add(root, "dry_run", json_object_new_boolean(!p->applied));
	add(root, "source", json_object_new_string(p->source));
	add(root, "from", num(p->from));
	add(root, "to", num(p->to));
	add(root, "samples", json_object_new_int64((int64_t)p->samples));
	if (p->bandwidth > 0) {
		struct json_object *l = json_object_new_object();

		add(l, "bandwidth", num(p->bandwidth));
		add(l, "overhead_s", num(p->overhead_s));
		add(l, "contention", num(p->contention));
		add(l, "per_transfer_cap", num(p->per_transfer_cap < p->bandwidth
					       ? p->per_transfer_cap : 0));
		add(l, "calibration_runs", json_object_new_int64(p->calib_runs));
		if (p->calib_runs)
			add(l, "calibration_max_rel_err", num(p->calib_rel_err));
		add(l, "toolstack", toolstack_json(p));
		add(root, "link", l);
	}
	a = json_object_new_array();
	for (size_t i = 0; i < p->nd; i++)
		json_object_array_add(a, decision_json(p, &p->d[i]));
	add(root, "decisions", a);
	a = json_object_new_array();
	for (size_t i = 0; i < p->nb; i++) {
		struct json_object *o = json_object_new_object();

		add(o, "t", num(p->b[i].t));
		add(o, "migrations", json_object_new_int64((int64_t)p->b[i].n));
		add(o, "k", json_object_new_int64(p->b[i].k));
		add(o, "order", json_object_new_string(rvmig_plan_order_name(p->b[i].order)));
		add(o, "makespan_s", num(p->b[i].makespan_s));
		add(o, "max_downtime_s", num(p->b[i].max_downtime_s));
		add(o, "meets_sla", json_object_new_boolean(p->b[i].meets_sla));
		json_object_array_add(a, o);
	}
	add(root, "batches", a);
	a = json_object_new_array();
	for (size_t i = 0; i < p->ns; i++) {
		const struct pol_status *s = &p->s[i];
		struct json_object *o = json_object_new_object();

		target_json(o, &s->target);
		add(o, "state", json_object_new_string(rvmig_domain_state_name(s->state)));
		add(o, "hold", json_object_new_string(s->hold == RVMIG_HOLD_NONE
						      ? "acted" : rvmig_hold_name(s->hold)));
		add(o, "seen", json_object_new_boolean(s->seen));
		add(o, "metric", json_object_new_string(s->metric));
		add(o, "observed", num(s->observed));
		add(o, "utility", num(s->utility));
		add(o, "load", num(s->load));
		add(o, "share", num(s->share));
		add(o, "demand", num(s->demand));
		json_object_array_add(a, o);
	}
	add(root, "domains", a);
	a = json_object_new_array();
	for (size_t i = 0; i < p->nh; i++) {
		struct json_object *o = json_object_new_object();

		add(o, "host", json_object_new_string(p->h[i].host));
		add(o, "cpus", num(p->h[i].cpus));
		add(o, "demand", num(p->h[i].demand));
		add(o, "overloaded", json_object_new_boolean(p->h[i].overloaded));
		if (p->h[i].note)
			add(o, "note", json_object_new_string(p->h[i].note));
		json_object_array_add(a, o);
	}
	add(root, "hosts", a);
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	json_object_put(root);
	return ferror(f) ? -EIO : 0;
}
