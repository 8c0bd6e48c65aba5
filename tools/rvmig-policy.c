/* SPDX-License-Identifier: MIT */
/*
 * rvmig-policy - the policy module's command line: with --policy FILE, a
 * plan (dry run) from a recorded rvmig-top trace (--trace FILE) or from a
 * period of a Prometheus server's data (--prometheus URL); without it, the
 * state many hosts' exporters report; with --live / --apply, one domain's
 * loop (apply.h).  As text or --json.  See rvmig-policy(1).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/apply.h"
#include "policy/apply_mig.h"
#include "policy/apply_park.h"
#include "policy/config.h"
#include "policy/follow.h"
#include "policy/observe.h"
#include "policy/plan.h"
#include "policy/replay.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-policy --policy FILE (--trace RECORD [--host NAME])... [--json]\n"
		"       rvmig-policy --policy FILE --prometheus URL [OPTIONS]\n"
		"       rvmig-policy --prometheus URL [OPTIONS]\n"
		"       rvmig-policy --policy FILE --live|--apply (--watch SPEC... | --backend xen |\n"
		"                    --prometheus URL --host INSTANCE) [OPTIONS]\n"
		"       rvmig-policy --live|--apply --target T --sla S [OPTIONS]\n"
		"       rvmig-policy --apply --policy FILE (--trace RECORD [--host NAME])...\n"
		"With --policy: plans (dry run) what to do for the domains the policy file\n"
		"names, from a recorded rvmig-top trace or from the last --span of a\n"
		"Prometheus server's data: a reason for every decision, why nothing was done\n"
		"for the others, and migrations off overloaded hosts with their predicted\n"
		"times.  Without: each host's CPU in use and each domain's CPU and run /\n"
		"blocked / waiting shares over a window.\n"
		"\n"
		"  --policy FILE      the policy file (rvmig-policy(1), POLICY FILE)\n"
		"  --trace FILE       replay an rvmig-top --record file, sample by sample; one\n"
		"                     per host, replayed together\n"
		"  --host NAME        the host of the trace in the same place (default: the\n"
		"                     record's, else local); none or one per --trace; with\n"
		"                     --policy --live/--apply: this host's name (default local;\n"
		"                     with --prometheus its instance: only its domains are acted on)\n"
		"  --watch SPEC       with --policy --live/--apply: a cgroup:PATH or pid:N the\n"
		"                     monitor watches on this host (repeat)\n"
		"  --backend B        the monitor's backend: linux (default) or xen (all domains)\n"
		"  --prometheus URL   the server (http://HOST:PORT[/PREFIX])\n"
		"  --window DURATION  PromQL range of the rates: 30s, 1m (default), 5m ...\n"
		"  --at UNIXTIME      evaluate at that time instead of now\n"
		"  --span SECONDS     with --policy: the period replayed, ending at --at (default 300)\n"
		"  --step SECONDS     with --policy: its step (default 5)\n"
		"  --timeout MS       per query, connect included (default 10000)\n"
		"  --json             one JSON object on stdout\n"
		"  --apply            with --policy: the plan's due migrations executed through\n"
		"                     rvmig ([migration] transport, host NAME ADDRESS ...), then\n"
		"                     its saves and restores (the store on this host: store_dir)\n"
		"  -v, --verbose      with --apply: every line of xl, rvmig-save and rvmig-recv\n"
		"                     on standard error (escaped)\n"
		"  --version, -h/--help\n"
		"%s"
		"Exit status: 0, 1 when an input could not be read (or the live loop\n"
		"failed), 2 for usage errors.\n", pol_live_help);
}

/* Text from a peer, safe on one line. */
static const char *esc(char *buf, size_t cap, const char *s)
{
	rvmig_text_escape(buf, cap, s, strlen(s));
	return buf;
}

static void print_text(const struct pol_state *st)
{
	char a[96], b[96];

	printf("%-24s %5s %8s %9s %6s\n", "HOST", "CPUS", "DOMAINS", "CPU USED", "UTIL%");
	for (size_t i = 0; i < st->nhosts; i++) {
		const struct pol_host *h = &st->hosts[i];

		printf("%-24s %5.0f %8u %9.2f %6.1f\n", esc(a, sizeof(a), h->instance), h->cpus, h->ndoms,
		       h->cpu_used, h->cpus > 0 ? 100 * h->cpu_used / h->cpus : 0);
	}
	printf("\n%-24s %-20s %-8s %8s %6s %6s %8s %6s   (over %s)\n", "HOST", "DOMAIN", "KIND", "ID",
	       "CPU%", "RUN%", "BLOCKED%", "WAIT%", st->window);
	for (size_t i = 0; i < st->ndoms; i++) {
		const struct pol_dom *d = &st->doms[i];
		char c[48];

		printf("%-24s %-20s %-8s %8s %6.1f", esc(a, sizeof(a), d->instance),
		       esc(b, sizeof(b), d->domain), esc(c, 16, d->kind), esc(c + 16, 32, d->id),
		       100 * d->cpu);
		if (d->have_shares)
			printf(" %6.1f %8.1f %6.1f\n", 100 * d->run, 100 * d->blocked, 100 * d->wait);
		else
			printf(" %6s %8s %6s\n", "-", "-", "-");
	}
}

static int print_json(const struct pol_state *st)
{
	struct json_object *root = json_object_new_object(), *hosts = json_object_new_array(),
			   *doms = json_object_new_array();

	json_object_object_add(root, "window", json_object_new_string(st->window));
	for (size_t i = 0; i < st->nhosts; i++) {
		struct json_object *h = json_object_new_object();

		json_object_object_add(h, "instance", json_object_new_string(st->hosts[i].instance));
		json_object_object_add(h, "cpus", json_object_new_double(st->hosts[i].cpus));
		json_object_object_add(h, "cpu_used", json_object_new_double(st->hosts[i].cpu_used));
		json_object_object_add(h, "domains", json_object_new_int((int)st->hosts[i].ndoms));
		json_object_array_add(hosts, h);
	}
	for (size_t i = 0; i < st->ndoms; i++) {
		const struct pol_dom *d = &st->doms[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "instance", json_object_new_string(d->instance));
		json_object_object_add(o, "domain", json_object_new_string(d->domain));
		json_object_object_add(o, "kind", json_object_new_string(d->kind));
		json_object_object_add(o, "id", json_object_new_string(d->id));
		json_object_object_add(o, "cpu", json_object_new_double(d->cpu));
		if (d->have_shares) {
			json_object_object_add(o, "run_share", json_object_new_double(d->run));
			json_object_object_add(o, "blocked_share", json_object_new_double(d->blocked));
			json_object_object_add(o, "wait_share", json_object_new_double(d->wait));
		}
		json_object_array_add(doms, o);
	}
	json_object_object_add(root, "hosts", hosts);
	json_object_object_add(root, "domains", doms);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return fflush(stdout) == 0 ? 0 : -errno;
}

static int print_plan(const struct pol_plan *p, int json)
{
	int rc = json ? pol_plan_print_json(stdout, p) : pol_plan_print_text(stdout, p);

	if (fflush(stdout))
		rc = -errno;
	return rc;
}

#define MAX_TRACES 64
#define MAX_WATCH POL_MON_MAX_WATCH

struct args {
	const char *url, *window, *policy;
	const char *trace[MAX_TRACES], *host[MAX_TRACES];
	unsigned ntrace, nhost;
	const char *watch[MAX_WATCH], *backend;
	unsigned nwatch;
	double at, timeout, span, step;
	int json;
	int apply; /* --apply with --policy: the plan's due migrations, saves and restores executed */
};

static int plan_main(const struct args *a)
{
	struct pol_config cfg;
	struct pol_plan plan;
	prom_client *pc;
	char err[1024];
	int rc;

	if ((rc = pol_config_load(a->policy, &cfg, err, sizeof(err))) < 0) {
		tool_err("--policy %s", err);
		return rc == -ENOENT || rc == -EACCES ? 1 : 2;
	}
	if (a->ntrace) {
		rc = pol_plan_traces(&cfg, a->trace, a->nhost ? a->host : NULL, a->ntrace, &plan, err,
				     sizeof(err));
	} else if ((rc = prom_open(a->url, (long)a->timeout, NULL, &pc, err, sizeof(err))) == 0) {
		/* a fixed end makes the range of every query the same */
		double end = a->at > 0 ? a->at : floor((double)time(NULL) / a->step) * a->step;

		rc = pol_plan_prometheus(&cfg, pc, a->window, end - a->span, end, a->step, &plan, err,
					 sizeof(err));
		prom_close(pc);
	}
	if (rc < 0) {
		tool_err("%s", err);
		pol_config_free(&cfg);
		return rc == -EINVAL && !a->ntrace && strstr(err, "not an http") ? 2 : 1;
	}
	rc = print_plan(&plan, a->json);
	if (rc == 0 && a->apply) {
		/* the migrations, then the saves and restores; the share
		 * decisions stay planned only */
		const struct pol_apply_out out = { .f = a->json ? stderr : stdout }; /* wall clock */
		int parks = 0;

		for (size_t i = 0; i < plan.nd; i++)
			parks += plan.d[i].due && (plan.d[i].action.kind == RVMIG_ACT_SAVE ||
						   plan.d[i].action.kind == RVMIG_ACT_RESTORE);
		/* a stop request starts no further action; those running end,
		 * logged and recorded (apply_mig.h, apply_park.h) */
		tool_catch_stop();
		rc = pol_apply_plan_migrations(&cfg, &plan, &out);
		if (rc >= 0)
			fprintf(out.f, "applied %d migration%s of the plan\n", rc, rc == 1 ? "" : "s");
		if (rc >= 0 && parks && (rc = pol_apply_plan_parking(&cfg, &plan, &out)) >= 0)
			fprintf(out.f, "applied %d of the plan's saves and restores\n", rc);
		if (tool_stop) {
			tool_err("asked to stop (signal %d) during --apply: no action was started "
				 "after it", (int)tool_stop);
			rc = -EINTR;
		}
	}
	pol_plan_free(&plan);
	pol_config_free(&cfg);
	return rc < 0 ? 1 : 0;
}

/* --policy FILE --live | --apply: live states, decisions carried out. */
static int follow_main(const struct args *a, const struct pol_live *l)
{
	struct pol_follow_attr fa = {
		.window = a->window, .interval_s = l->interval_s, .duration_s = l->duration_s,
		.once = l->once,
		.exec = { .apply = l->apply, .host = a->nhost ? a->host[0] : "local",
			  .verify_n = l->verify_n, .settle_n = l->settle_n, .out = stdout },
	};
	struct pol_config cfg;
	char err[1024];
	int rc;

	if ((rc = pol_config_load(a->policy, &cfg, err, sizeof(err))) < 0) {
		tool_err("--policy %s", err);
		return rc == -ENOENT || rc == -EACCES ? 1 : 2;
	}
	if (a->url)
		rc = prom_open(a->url, (long)a->timeout, NULL, &fa.prom, err, sizeof(err));
	else
		rc = pol_mon_open(a->backend ? a->backend : "linux", fa.exec.host, a->watch,
				  a->nwatch, &fa.mon, err, sizeof(err));
	if (rc == 0)
		rc = pol_follow(&cfg, &fa, a->json, err, sizeof(err));
	if (rc < 0)
		tool_err("%s", err);
	if (fa.prom)
		prom_close(fa.prom);
	pol_mon_close(fa.mon);
	pol_config_free(&cfg);
	return rc == -EINVAL ? 2 : rc < 0 ? 1 : 0;
}

static int state_main(const struct args *a)
{
	struct pol_state st;
	prom_client *pc;
	char err[1024];
	int rc;

	if ((rc = prom_open(a->url, (long)a->timeout, NULL, &pc, err, sizeof(err))) < 0) {
		tool_err("%s", err);
		return rc == -EINVAL ? 2 : 1;
	}
	rc = pol_observe(pc, a->window, a->at, &st, err, sizeof(err));
	prom_close(pc);
	if (rc < 0) {
		tool_err("%s", err);
		return 1;
	}
	if (a->json)
		rc = print_json(&st);
	else
		print_text(&st);
	pol_state_free(&st);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { O_PROM = 0x100, O_WINDOW, O_AT, O_TIMEOUT, O_JSON, O_VERSION, O_POLICY, O_TRACE,
	       O_HOST, O_SPAN, O_STEP, O_WATCH, O_BACKEND };
	static const struct option opts[] = {
		{ "prometheus", required_argument, NULL, O_PROM },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "at", required_argument, NULL, O_AT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "trace", required_argument, NULL, O_TRACE },
		{ "host", required_argument, NULL, O_HOST },
		{ "span", required_argument, NULL, O_SPAN },
		{ "step", required_argument, NULL, O_STEP },
		{ "watch", required_argument, NULL, O_WATCH },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		POL_LIVE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .window = "1m", .timeout = 10000, .span = 300, .step = 5 };
	struct tool_opts o;
	struct pol_live live;
	int c, rc;

	tool_opts_init(&o, "rvmig-policy");
	pol_live_init(&live);

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case O_PROM: a.url = optarg; break;
		case O_WINDOW: a.window = optarg; break;
		case O_POLICY: a.policy = optarg; break;
		case O_TRACE:
		case O_HOST:
			if ((c == O_TRACE ? a.ntrace : a.nhost) == MAX_TRACES) {
				tool_err("more than %d --trace or --host", MAX_TRACES);
				return 2;
			}
			if (c == O_TRACE)
				a.trace[a.ntrace++] = optarg;
			else
				a.host[a.nhost++] = optarg;
			break;
		case O_WATCH:
			if (a.nwatch == MAX_WATCH) {
				tool_err("more than %d --watch", MAX_WATCH);
				return 2;
			}
			a.watch[a.nwatch++] = optarg;
			break;
		case O_BACKEND:
			if (strcmp(optarg, "linux") && strcmp(optarg, "xen")) {
				tool_err("--backend %.16s: linux or xen", optarg);
				return 2;
			}
			a.backend = optarg;
			break;
		case O_AT:
			if (tool_num_opt("--at", optarg, 1, 4e10, &a.at))
				return 2;
			break;
		case O_TIMEOUT:
			if (tool_num_opt("--timeout", optarg, 1, 3600000, &a.timeout))
				return 2;
			break;
		case O_SPAN:
			if (tool_num_opt("--span", optarg, 0, 86400 * 31, &a.span))
				return 2;
			break;
		case O_STEP:
			if (tool_num_opt("--step", optarg, 0.001, 86400, &a.step))
				return 2;
			break;
		case O_JSON: a.json = 1; break;
		case O_VERSION: tool_print_version(&o); return 0;
		case 'h': usage(stdout); return 0;
		case 'v': tool_opt(&o, c, optarg, usage); break; /* common: -v */
		default:
			if ((rc = pol_live_opt(&live, c, optarg)) > 0)
				break;
			if (rc == 0)
				usage(stderr);
			return 2;
		}
	}
	if (live.apply && a.policy && a.ntrace && !live.given) {
		/* --apply --policy FILE --trace RECORD: the recorded plan, then
		 * its due migrations, saves and restores */
		live.live = live.apply = 0;
		a.apply = 1;
	}
	if (live.live && a.policy) {
		if (optind != argc || a.ntrace || a.nhost > 1 || live.have_target || live.sla.target ||
		    live.samples || live.c1 > 0 || (a.url && (a.nwatch || a.backend))) {
			tool_err("%s", optind != argc ? "unexpected argument"
				       : a.ntrace ? "--live / --apply act on live states: no --trace"
				       : a.nhost > 1 ? "one --host: this host's name"
				       : a.url ? "--prometheus: no --watch or --backend"
					       : "--policy FILE sets the domains, SLAs and capacities: no "
						 "--target, --sla, --samples or --capacity");
			return 2;
		}
		if (a.url && !pol_window_ok(a.window)) {
			tool_err("--window %.32s: not a duration such as 30s, 1m or 5m", a.window);
			return 2;
		}
		return follow_main(&a, &live);
	}
	if (a.nwatch || a.backend) {
		tool_err("--watch and --backend go with --policy FILE --live or --apply");
		return 2;
	}
	if (live.live && (a.url || a.ntrace || optind != argc)) {
		tool_err("%s", optind != argc ? "unexpected argument"
			       : "--live and --apply act on one domain: no --prometheus, --policy or --trace");
		return 2;
	}
	if (live.live)
		return pol_live_run(&live, stdout);
	if (live.given) {
		tool_err("--target, --sla and the other loop options need --live or --apply");
		return 2;
	}
	if (optind != argc || (!a.url && !a.ntrace) || (a.url && a.ntrace) ||
	    (a.ntrace && !a.policy) || (a.nhost && a.nhost != a.ntrace)) {
		tool_err("%s", optind != argc ? "unexpected argument"
			       : a.url && a.ntrace ? "--trace and --prometheus: one input at a time"
			       : a.nhost && a.nhost != a.ntrace ? "one --host for each --trace"
			       : a.ntrace ? "--trace needs --policy FILE"
					  : "--prometheus URL or --policy FILE --trace RECORD is needed");
		usage(stderr);
		return 2;
	}
	if (a.url && !pol_window_ok(a.window)) {
		tool_err("--window %.32s: not a duration such as 30s, 1m or 5m", a.window);
		return 2;
	}
	if (a.span / a.step > 11000) {
		tool_err("--span / --step: more than 11000 points");
		return 2;
	}
	return a.policy ? plan_main(&a) : state_main(&a);
}
