/* SPDX-License-Identifier: MIT */
/*
 * rvmig-policy - the policy module's command line.  This step: the state it
 * decides on, read from a Prometheus server that scrapes the rvmig-top
 * exporters of many hosts (--prometheus URL), as a table or --json.
 * See rvmig-policy(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <rvmig.h>

#include "common/cli.h"
#include "policy/apply.h"
#include "policy/observe.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-policy --prometheus URL [OPTIONS]\n"
		"       rvmig-policy --live|--apply --target T --sla S [OPTIONS]\n"
		"Reads what many hosts' rvmig-top exporters report, through the Prometheus\n"
		"server that scrapes them, and prints each host's CPU in use and each\n"
		"domain's CPU and run / blocked / waiting shares over a window.\n"
		"\n"
		"  --prometheus URL   the server (http://HOST:PORT[/PREFIX])\n"
		"  --window DURATION  PromQL range of the rates: 30s, 1m (default), 5m ...\n"
		"  --at UNIXTIME      evaluate at that time instead of now\n"
		"  --timeout MS       per query, connect included (default 10000)\n"
		"  --json             one JSON object on stdout\n"
		"  --version, -h/--help\n"
		"%s"
		"Exit status: 0, 1 when the server could not be queried (or the live loop\n"
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

int main(int argc, char **argv)
{
	enum { O_PROM = 0x100, O_WINDOW, O_AT, O_TIMEOUT, O_JSON, O_VERSION };
	static const struct option opts[] = {
		{ "prometheus", required_argument, NULL, O_PROM },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "at", required_argument, NULL, O_AT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		POL_LIVE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *window = "1m";
	double at = 0, timeout = 10000;
	int json = 0, c, rc;
	struct pol_state st;
	prom_client *pc;
	struct tool_opts o;
	struct pol_live live;
	char err[1024];

	tool_opts_init(&o, "rvmig-policy");
	pol_live_init(&live);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_PROM: url = optarg; break;
		case O_WINDOW: window = optarg; break;
		case O_AT:
			if (tool_num_opt("--at", optarg, 1, 4e10, &at))
				return 2;
			break;
		case O_TIMEOUT:
			if (tool_num_opt("--timeout", optarg, 1, 3600000, &timeout))
				return 2;
			break;
		case O_JSON: json = 1; break;
		case O_VERSION: tool_print_version(&o); return 0;
		case 'h': usage(stdout); return 0;
		default:
			if ((rc = pol_live_opt(&live, c, optarg)) > 0)
				break;
			if (rc == 0)
				usage(stderr);
			return 2;
		}
	}
	if (live.live && !url && optind == argc)
		return pol_live_run(&live, stdout);
	if (optind != argc || !url) {
		tool_err("%s", url ? "unexpected argument" : "--prometheus URL is needed");
		usage(stderr);
		return 2;
	}
	if (!pol_window_ok(window)) {
		tool_err("--window %.32s: not a duration such as 30s, 1m or 5m", window);
		return 2;
	}
	if ((rc = prom_open(url, (long)timeout, NULL, &pc, err, sizeof(err))) < 0) {
		tool_err("%s", err);
		return rc == -EINVAL ? 2 : 1;
	}
	rc = pol_observe(pc, window, at, &st, err, sizeof(err));
	prom_close(pc);
	if (rc < 0) {
		tool_err("%s", err);
		return 1;
	}
	if (json)
		rc = print_json(&st);
	else
		print_text(&st);
	pol_state_free(&st);
	return rc < 0 ? 1 : 0;
}
