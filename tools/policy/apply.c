/* SPDX-License-Identifier: MIT */
/*
 * apply.c - rvmig-policy's live loop (apply.h): observe, decide, apply,
 * verify, roll back.
 *
 * The actuator: CPU quota (cgroup-cpu-max) for cgroups and processes, the
 * credit cap (credit-cap) for Xen domains.  Candidates each round: the
 * current share times 0.5, 1.5, 2, 4 and 8, within 0.01 CPU and the host's
 * CPUs (a Xen domain's vCPUs), each costing 0.02 utility per CPU it adds
 * (a saving per CPU it frees), so that of two raises predicted to meet the
 * SLA the smaller wins.  An action goes through the same cycle as the
 * policy-file runner's (flight.h): applied by the library's actuators, the
 * first --settle observations skipped (measured partly before it), the
 * next --verify ones judged by rvmig_verify(), rolled back on an UNDO
 * verdict; no verdict within 10 intervals per needed observation leaves
 * the action kept and says so.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/apply.h"
#include "policy/apply_src.h"
#include "policy/flight.h"

#define DOM_ID 1
#define COST_PER_CPU 0.02
#define MIN_SHARE 0.01
#define MAX_OBS 64

const char pol_live_help[] =
	"Live loop (one domain; dry run unless --apply):\n"
	"  --live               observe, decide and print the decisions (dry run)\n"
	"  --apply              the same, and carry the decisions out, verify, roll back\n"
	"  --target T           cgroup:PATH | pid:N | xen:DOMID\n"
	"  --sla S              p99:MS | p50:MS | mean:MS (needs --samples) | floor:CPUS\n"
	"  --samples FILE       CSV rows (" RVMIG_SAMPLES_HEADER ")\n"
	"                       appended by the load generator; without it the monitor's CPU\n"
	"  --capacity C0,C1     capacity model, req/s = C0 + C1 x CPUs (response SLAs)\n"
	"  --interval S         seconds between polls (default 1)\n"
	"  --duration S         stop after S seconds (default: at SIGINT/SIGTERM)\n"
	"  --dwell S            the decider's minimum dwell (default 3)\n"
	"  --cooldown S         per-domain cool-down after an action (default 30)\n"
	"  --verify N           observations that judge an action (default 3)\n"
	"  --settle N           observations skipped after an action (default 1)\n"
	"  --once               stop once the first action is kept or rolled back\n";

void pol_live_init(struct pol_live *l)
{
	memset(l, 0, sizeof(*l));
	l->interval_s = 1;
	l->dwell_s = 3;
	l->cooldown_s = 30;
	l->verify_n = 3;
	l->settle_n = 1;
}

static int parse_sla(struct rvmig_sla *sla, const char *s)
{
	static const struct {
		const char *name;
		enum rvmig_sla_kind kind;
		enum rvmig_metric metric;
	} k[] = {
		{ "p99:", RVMIG_SLA_RESPONSE, RVMIG_METRIC_P99 },
		{ "p50:", RVMIG_SLA_RESPONSE, RVMIG_METRIC_P50 },
		{ "mean:", RVMIG_SLA_RESPONSE, RVMIG_METRIC_MEAN },
		{ "floor:", RVMIG_SLA_FLOOR, RVMIG_METRIC_P99 },
	};

	memset(sla, 0, sizeof(*sla));
	sla->size = sizeof(*sla);
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strncmp(s, k[i].name, strlen(k[i].name))) {
			sla->kind = k[i].kind;
			sla->metric = k[i].metric;
			return tool_num_opt("--sla", s + strlen(k[i].name), 1e-6, 1e9, &sla->target);
		}
	tool_err("--sla %.40s: not p99:MS, p50:MS, mean:MS or floor:CPUS", s);
	return -EINVAL;
}

int pol_live_opt(struct pol_live *l, int opt, const char *arg)
{
	char err[512], *comma;
	double v;

	if (opt > POL_OPT_APPLY && opt <= POL_OPT_ONCE)
		l->given++;
	switch (opt) {
	case POL_OPT_APPLY: l->apply = 1; /* fall through */
	case POL_OPT_LIVE: l->live = 1; return 1;
	case POL_OPT_TARGET:
		if (rvmig_act_target_parse(arg, &l->target, err, sizeof(err)) < 0) {
			tool_err("--target: %s", err);
			return -EINVAL;
		}
		l->have_target = 1;
		return 1;
	case POL_OPT_SLA: return parse_sla(&l->sla, arg) < 0 ? -EINVAL : 1;
	case POL_OPT_SAMPLES: l->samples = arg; return 1;
	case POL_OPT_CAPACITY:
		comma = strchr(arg, ',');
		if (comma) {
			char c0[64];

			snprintf(c0, sizeof(c0), "%.*s", (int)(comma - arg), arg);
			if (tool_num_opt("--capacity", c0, -1e9, 1e9, &l->c0) == 0 &&
			    tool_num_opt("--capacity", comma + 1, 1e-6, 1e9, &l->c1) == 0)
				return 1;
			return -EINVAL;
		}
		tool_err("--capacity %.40s: not C0,C1", arg);
		return -EINVAL;
	case POL_OPT_INTERVAL: return tool_num_opt("--interval", arg, 0.05, 3600, &l->interval_s) < 0 ? -EINVAL : 1;
	case POL_OPT_DURATION: return tool_num_opt("--duration", arg, 0.1, 1e7, &l->duration_s) < 0 ? -EINVAL : 1;
	case POL_OPT_DWELL: return tool_num_opt("--dwell", arg, 0, 86400, &l->dwell_s) < 0 ? -EINVAL : 1;
	case POL_OPT_COOLDOWN: return tool_num_opt("--cooldown", arg, 0, 86400, &l->cooldown_s) < 0 ? -EINVAL : 1;
	case POL_OPT_VERIFY:
		if (tool_num_opt("--verify", arg, 1, 100, &v) < 0 || v != floor(v))
			return -EINVAL;
		l->verify_n = (unsigned)v;
		return 1;
	case POL_OPT_ONCE: l->once = 1; return 1;
	case POL_OPT_SETTLE:
		if (tool_num_opt("--settle", arg, 0, 100, &v) < 0 || v != floor(v))
			return -EINVAL;
		l->settle_n = (unsigned)v;
		return 1;
	default: return 0;
	}
}

/* ---- the loop ---- */

struct loop {
	const struct pol_live *l;
	FILE *out;
	char name[RVMIG_ACT_PATH_MAX + 16];  /* the target, escaped */
	enum rvmig_action_kind kind;
	double share;              /* granted now, CPUs */
	double max_share;
	uint64_t t0;
	rvmig_decider *dec;
	rvmig_act *act;
	live_src *src;
	struct pol_flight fl;      /* the action being verified */
	int verifying;
	int done;                  /* --once and an action judged */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double t_rel(const struct loop *lp)
{
	return (double)(now_ns() - lp->t0) / 1e9;
}

/* The share a setting grants, CPUs. */
static double share_of(const struct loop *lp, const struct rvmig_act_setting *s)
{
	return rvmig_act_share(lp->kind, s, lp->max_share);
}

static int64_t value_of(const struct loop *lp, double share)
{
	return lp->kind == RVMIG_ACT_CREDIT_CAP ? (int64_t)llround(share * 100)
						: (int64_t)llround(share * 1e6);
}

static int read_share(struct loop *lp)
{
	struct rvmig_act_setting s;
	char err[1024];
	int rc = rvmig_act_read(lp->act, &lp->l->target, lp->kind, &s, NULL, 0, err, sizeof(err));

	if (rc < 0) {
		tool_err("%s", err);
		return rc;
	}
	lp->share = share_of(lp, &s);
	return 0;
}

static int set_domain(struct loop *lp)
{
	struct rvmig_policy_domain d = {
		.size = sizeof(d), .id = DOM_ID, .name = lp->name, .sla = lp->l->sla,
		.cap_c0 = lp->l->c0, .cap_c1 = lp->l->c1, .share = lp->share,
	};

	return rvmig_decider_set_domain(lp->dec, &d);
}

static const char *metric(const struct loop *lp)
{
	static const char *const names[] = { "p99_ms", "p50_ms", "mean_ms" };

	return lp->l->sla.kind == RVMIG_SLA_FLOOR ? "cpu_share" : names[lp->l->sla.metric];
}

/* The action in flight judged on one more observation. */
static void verify_one(struct loop *lp, double observed)
{
	enum pol_flight_end end = pol_flight_observe(&lp->fl, lp->act, observed, t_rel(lp), lp->out);

	if (end == POL_FLIGHT_PENDING)
		return;
	lp->verifying = 0;
	lp->done = lp->l->once;
	if (end != POL_FLIGHT_UNDONE)
		return;
	lp->share = share_of(lp, pol_flight_old(&lp->fl));
	set_domain(lp);
}

static int decide(struct loop *lp)
{
	static const double factors[] = { 0.5, 1.5, 2, 4, 8 };
	struct rvmig_action cand[sizeof(factors) / sizeof(factors[0])];
	struct rvmig_decision d = { .size = sizeof(d) };
	struct rvmig_act_setting want, cur;
	struct rvmig_verify_attr va;
	size_t n = 0;
	char a[96], b[96];
	int rc;

	for (size_t i = 0; i < sizeof(factors) / sizeof(factors[0]); i++) {
		double s = fmin(lp->max_share, fmax(MIN_SHARE, lp->share * factors[i]));

		if (fabs(s - lp->share) < 1e-6)
			continue;
		cand[n] = (struct rvmig_action){ .size = sizeof(cand[0]), .kind = lp->kind,
						 .domain = DOM_ID, .share = s,
						 .value = value_of(lp, s),
						 .cost = COST_PER_CPU * (s - lp->share) };
		n++;
	}
	rc = rvmig_decider_decide(lp->dec, now_ns(), cand, n, &d, 1);
	if (rc <= 0)
		return rc;
	memset(&want, 0, sizeof(want));
	want.value = d.action.value;
	memset(&cur, 0, sizeof(cur));
	cur.value = value_of(lp, lp->share);
	fprintf(lp->out,
		"t=%.1f decide %s %s %s: %s -> %s; %s %.3f (target %.3f, load %.0f), utility %.3f -> "
		"%.3f predicted (%s %.3f), cost %.4f%s\n",
		t_rel(lp), rvmig_why_name(d.reason.why), rvmig_action_kind_name(d.action.kind), lp->name,
		rvmig_act_format(lp->kind, &cur, a, sizeof(a)), rvmig_act_format(lp->kind, &want, b, sizeof(b)),
		d.reason.metric, d.reason.observed, d.reason.target, d.reason.load,
		d.reason.utility_before, d.reason.utility_after, d.reason.metric, d.reason.predicted,
		d.reason.cost, lp->l->apply ? "" : " (dry run: not applied)");
	if (!lp->l->apply)
		return 0;
	pol_flight_free(&lp->fl);
	va = (struct rvmig_verify_attr){ .size = sizeof(va), .sla = lp->l->sla,
					 .before = d.reason.observed, .predicted = d.reason.predicted,
					 .min_samples = lp->l->verify_n };
	if (pol_flight_apply(&lp->fl, lp->act, &lp->l->target, &d.action, &va, lp->l->settle_n,
			     10 * lp->l->interval_s * (lp->l->verify_n + lp->l->settle_n), t_rel(lp),
			     lp->out) < 0) {
		read_share(lp);
		set_domain(lp);
		return 0;
	}
	lp->fl.metric = metric(lp);
	lp->share = share_of(lp, rvmig_act_change_now(lp->fl.change));
	lp->verifying = 1;
	return 0;
}

static int round_once(struct loop *lp)
{
	struct live_obs obs[MAX_OBS];
	struct rvmig_domain_status st = { .size = sizeof(st) };
	char err[1024];
	int n = live_src_poll(lp->src, obs, MAX_OBS, err, sizeof(err));

	if (n < 0) {
		tool_err("%s", err);
		return n;
	}
	if (lp->l->target.kind == RVMIG_ACT_TARGET_XEN && live_src_nvcpus(lp->src))
		lp->max_share = live_src_nvcpus(lp->src);
	for (int i = 0; i < n; i++) {
		int rc = rvmig_decider_observe(lp->dec, now_ns(), DOM_ID, obs[i].observed, obs[i].load,
					       lp->share);

		if (rc < 0) {
			tool_err("observation %.3f: %s", obs[i].observed, rvmig_strerror(rc));
			return rc;
		}
		rvmig_decider_status(lp->dec, DOM_ID, &st);
		fprintf(lp->out, "t=%.1f observe %s=%.3f load=%.0f share=%.3f utility=%.3f state=%s%s\n",
			t_rel(lp), metric(lp), obs[i].observed, obs[i].load, lp->share, st.utility,
			rvmig_domain_state_name(st.state),
			lp->verifying && lp->fl.settle_left ? " (settling)" : "");
		if (lp->verifying)
			verify_one(lp, obs[i].observed);
	}
	if (lp->verifying && pol_flight_expire(&lp->fl, t_rel(lp), lp->out) != POL_FLIGHT_PENDING) {
		lp->verifying = 0;
		lp->done = lp->l->once;
	}
	if (!lp->verifying && !lp->done)
		return decide(lp);
	return 0;
}

int pol_live_run(const struct pol_live *l, FILE *out)
{
	struct rvmig_decider_attr da = {
		.size = sizeof(da),
		.min_dwell_ns = l->dwell_s > 0 ? (uint64_t)(l->dwell_s * 1e9) : 1,
		.domain_cooldown_ns = l->cooldown_s > 0 ? (uint64_t)(l->cooldown_s * 1e9) : 1,
		.global_cooldown_ns = 1,
	};
	struct loop lp = { .l = l, .out = out };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char err[1024];
	int rc;

	if (!l->have_target || !l->sla.target) {
		tool_err("%s", l->have_target ? "--sla is needed" : "--target is needed");
		return 2;
	}
	if (l->sla.kind == RVMIG_SLA_RESPONSE && (!l->samples || l->c1 <= 0)) {
		tool_err("a response-time SLA needs --samples FILE and --capacity C0,C1");
		return 2;
	}
	if (l->sla.kind == RVMIG_SLA_FLOOR && l->samples) {
		tool_err("a floor SLA is observed by the monitor: no --samples");
		return 2;
	}
	rvmig_act_target_name(&l->target, lp.name, sizeof(lp.name));
	lp.kind = l->target.kind == RVMIG_ACT_TARGET_XEN ? RVMIG_ACT_CREDIT_CAP : RVMIG_ACT_CG_CPU_MAX;
	lp.max_share = l->target.kind == RVMIG_ACT_TARGET_XEN ? 1 : (double)(ncpu > 0 ? ncpu : 1);
	if ((rc = rvmig_decider_create(&da, &lp.dec)) < 0) {
		tool_err("decider: %s", rvmig_strerror(rc));
		return 1;
	}
	if ((rc = rvmig_act_open(NULL, l->target.kind == RVMIG_ACT_TARGET_XEN ? "xen" : "linux",
				 &lp.act)) < 0) {
		tool_err("actuators: %s", rvmig_strerror(rc));
		rvmig_decider_destroy(lp.dec);
		return 1;
	}
	if ((rc = live_src_open(l, &lp.src, err, sizeof(err))) < 0) {
		tool_err("%s", err);
		rvmig_act_close(lp.act);
		rvmig_decider_destroy(lp.dec);
		return 1;
	}
	rc = read_share(&lp);
	if (rc == 0 && (rc = set_domain(&lp)) < 0)
		tool_err("domain: %s", rvmig_strerror(rc));
	tool_catch_stop();
	lp.t0 = now_ns();
	fprintf(out, "t=0.0 start %s %s: %s, %s %s %.3f, share %.3f\n", l->apply ? "apply" : "dry-run",
		lp.name, rvmig_action_kind_name(lp.kind), metric(&lp),
		l->sla.kind == RVMIG_SLA_FLOOR ? ">=" : "<=", l->sla.target, lp.share);
	fflush(out);
	while (rc == 0 && !tool_stop && !lp.done && (l->duration_s <= 0 || t_rel(&lp) < l->duration_s)) {
		rc = round_once(&lp);
		if (fflush(out) == EOF && rc == 0) { /* SIGPIPE is ignored (stop.h) */
			tool_err("the log: %s", strerror(errno));
			rc = -EIO;
		}
		if (rc == 0)
			tool_stop_wait(l->interval_s);
	}
	fprintf(out, "t=%.1f stop\n", t_rel(&lp));
	fflush(out);
	live_src_close(lp.src);
	pol_flight_free(&lp.fl);
	rvmig_act_close(lp.act);
	rvmig_decider_destroy(lp.dec);
	return rc < 0 ? 1 : 0;
}
