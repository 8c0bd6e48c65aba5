/* SPDX-License-Identifier: MIT */
/* flight.c - an applied action settled, judged, kept or rolled back
 * (flight.h). */
#include <errno.h>
#include <string.h>

#include "policy/flight.h"

int pol_flight_apply(struct pol_flight *f, rvmig_act *act, const struct rvmig_act_target *t,
		     const struct rvmig_action *a, const struct rvmig_verify_attr *va,
		     unsigned settle, double timeout, double now, FILE *out)
{
	const char *kind = rvmig_action_kind_name(a->kind);
	char err[1024], x[96], y[96];
	int rc;

	memset(f, 0, sizeof(*f));
	rvmig_act_target_name(t, f->name, sizeof(f->name));
	if ((rc = rvmig_act_apply(act, t, a, &f->change, err, sizeof(err))) < 0) {
		fprintf(out, "t=%.1f apply %s %s: failed: %s\n", now, kind, f->name, err);
		return rc;
	}
	fprintf(out, "t=%.1f apply %s %s (%s): %s -> %s\n", now, kind, f->name,
		rvmig_act_change_where(f->change),
		rvmig_act_format(a->kind, rvmig_act_change_old(f->change), x, sizeof(x)),
		rvmig_act_format(a->kind, rvmig_act_change_now(f->change), y, sizeof(y)));
	f->va = *va;
	if (f->va.min_samples > POL_FLIGHT_VERIFY_MAX)
		f->va.min_samples = POL_FLIGHT_VERIFY_MAX;
	f->settle_left = settle;
	f->timeout = timeout;
	f->deadline = now + timeout;
	return 0;
}

enum pol_flight_end pol_flight_observe(struct pol_flight *f, rvmig_act *act, double obs,
				       double now, FILE *out)
{
	struct rvmig_verify_result v = { .size = sizeof(v) };
	enum rvmig_action_kind k = pol_flight_kind(f);
	const char *kind = rvmig_action_kind_name(k);
	char a[96], b[96], err[1024];
	int rc;

	if (f->settle_left) {
		f->settle_left--;
		return POL_FLIGHT_PENDING;
	}
	f->win[f->nwin++] = obs;
	if ((rc = rvmig_verify(&f->va, f->win, f->nwin, &v)) < 0) {
		fprintf(out, "t=%.1f verify %s %s: %s; kept\n", now, kind, f->name, rvmig_strerror(rc));
		return POL_FLIGHT_KEPT;
	}
	if (v.verdict == RVMIG_VERDICT_PENDING && f->nwin < POL_FLIGHT_VERIFY_MAX)
		return POL_FLIGHT_PENDING;
	fprintf(out,
		"t=%.1f verify %s %s: %s: %s%smedian %.3f of %u (before %.3f, predicted %.3f), "
		"utility %.3f -> %.3f%s%s\n",
		now, kind, f->name, rvmig_verdict_name(v.verdict), f->metric ? f->metric : "",
		f->metric ? " " : "", v.observed, f->nwin, f->va.before, f->va.predicted,
		v.utility_before, v.utility_after,
		v.metric_worse ? ", the metric moved the wrong way" : "",
		v.utility_fell ? ", utility fell" : "");
	if (v.verdict != RVMIG_VERDICT_UNDO)
		return POL_FLIGHT_KEPT;
	if (rvmig_act_undo(act, f->change, err, sizeof(err)) < 0) {
		fprintf(out, "t=%.1f undo %s %s: failed: %s\n", now, kind, f->name, err);
		return POL_FLIGHT_STUCK;
	}
	fprintf(out, "t=%.1f undo %s %s (%s): %s -> %s\n", now, kind, f->name,
		rvmig_act_change_where(f->change),
		rvmig_act_format(k, rvmig_act_change_now(f->change), a, sizeof(a)),
		rvmig_act_format(k, rvmig_act_change_old(f->change), b, sizeof(b)));
	return POL_FLIGHT_UNDONE;
}

enum pol_flight_end pol_flight_expire(struct pol_flight *f, double now, FILE *out)
{
	if (now <= f->deadline)
		return POL_FLIGHT_PENDING;
	fprintf(out, "t=%.1f verify %s %s: no verdict: %u of %u observations in %.0f s; kept\n", now,
		rvmig_action_kind_name(pol_flight_kind(f)), f->name, f->nwin, f->va.min_samples,
		f->timeout);
	return POL_FLIGHT_KEPT;
}

enum rvmig_action_kind pol_flight_kind(const struct pol_flight *f)
{
	return rvmig_act_change_kind(f->change);
}

const struct rvmig_act_setting *pol_flight_old(const struct pol_flight *f)
{
	return rvmig_act_change_old(f->change);
}

void pol_flight_free(struct pol_flight *f)
{
	rvmig_act_change_free(f->change);
	f->change = NULL;
}
