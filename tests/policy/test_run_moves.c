/* SPDX-License-Identifier: MIT */
/*
 * A live run's moves (run.c, park.c, exec.c): what the run believes after
 * a move it decided, fed states built here (pure, deterministic) as the
 * live loop feeds them (follow.c), each new decision handed to the
 * executor (exec.h) as --apply does.
 *   failed_save  host a holds two web domains and a batch job that may be
 *                saved, 3 CPUs of demand on 2; host b is full until 1040,
 *                idle after.  The save of the batch job decided at 1005
 *                fails (the store refuses it: a cgroup has no save), and
 *                the job goes on running on a.  The run must count it
 *                there: no RESTORE (of a checkpoint that does not exist)
 *                once b has room, and the save tried again only after
 *                its domain cool-down from the failure.
 *   cooldown_follows_the_name
 *                a Xen domain vm migrated off an overloaded host comes
 *                back in the states on its destination with a new domain
 *                id (as xl gives it); that host overloaded in turn, vm
 *                is moved on only once the cool-down of its first move is
 *                over: the new id is a new domain to the run, which keeps
 *                the move's cool-down by the name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/apply_park.h"
#include "policy/config.h"
#include "policy/exec.h"
#include "policy/observe.h"
#include "policy/run.h"

#define DCOOL 20.0

static const char park_pol[] =
	"[decider]\ndwell = 5s\ndomain_cooldown = 20s\nglobal_cooldown = 5s\n"
	"cost_per_downtime = 0.01\n"
	"[migration]\nbandwidth = 125e6\noverload = 1.1\nfill = 0.9\nstore = disk\n"
	"store_dir = /srv/rvmig-store\n"
	"[domain web]\nhost = a\nmatch = name /web*\nsla = cpu 0.9\n"
	"[domain batch]\nhost = a\nmatch = name /batch\nsla = cpu 0.9\nsave = yes\n"
	"memory = 5e8\n";

static void dom_of(struct pol_state *st, const char *host, const char *kind, const char *id,
		   const char *name, double cpu, double run)
{
	struct pol_dom *x = pol_dom_add(st, host, kind, id, name);

	cr_assert(x);
	x->cpu = cpu;
	x->run = run;
	x->wait = 1 - run;
	x->blocked = 0;
	x->have_shares = 1;
}

static void dom(struct pol_state *st, const char *host, const char *id, const char *name,
		double cpu, double run)
{
	dom_of(st, host, "cgroup", id, name, cpu, run);
}

/* Host a: /web1, /web2 and /batch, each wanting 1 CPU of 2; host b: two
 * busy domains of no section until 1040, idle after. */
static void park_state(struct pol_state *st, double t)
{
	memset(st, 0, sizeof(*st));
	st->t = t;
	cr_assert(pol_host_of(st, "a", 1));
	cr_assert(pol_host_of(st, "b", 1));
	st->hosts[0].cpus = st->hosts[1].cpus = 2;
	dom(st, "a", "1", "/web1", 2.0 / 3, 2.0 / 3);
	dom(st, "a", "2", "/web2", 2.0 / 3, 2.0 / 3);
	dom(st, "a", "3", "/batch", 2.0 / 3, 2.0 / 3);
	if (t <= 1040) {
		dom(st, "b", "4", "/other1", 0.95, 0.95);
		dom(st, "b", "5", "/other2", 0.95, 0.95);
	}
}

/* What follow.c's park() does: the store of apply_park.h, logging on the
 * executor's log. */
struct park_ctx {
	const struct pol_config *cfg;
	struct pol_apply_out out;
};

static int park(void *ctx, const struct pol_decision *d, const char *self, char *err,
		size_t errlen)
{
	const struct park_ctx *p = ctx;

	if (errlen)
		err[0] = '\0';
	return pol_apply_park(p->cfg, d, self, &p->out);
}

Test(run_moves, failed_save)
{
	struct pol_config cfg;
	struct park_ctx pc = { .cfg = &cfg };
	struct pol_exec_ops ops = { .name = "store", .park = park, .ctx = &pc };
	struct pol_exec_attr ea = { .apply = 1, .host = "a", .ops = &ops };
	const struct pol_decision *d, *save = NULL, *next = NULL;
	char err[512], *log = NULL;
	size_t len = 0, seen = 0, n;
	pol_exec *e;
	pol_run *r;

	cr_assert_eq(pol_config_parse(park_pol, strlen(park_pol), "inline", &cfg, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(pol_run_create(&cfg, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert(ea.out = pc.out.f = open_memstream(&log, &len));
	cr_assert_eq(pol_exec_create(&ea, &e), 0);
	for (int t = 1000; t <= 1080; t++) {
		struct pol_state st;

		/* the save failed: /batch still runs on a */
		park_state(&st, t);
		cr_assert_eq(pol_run_step(r, &st, NULL, err, sizeof(err)), 0, "%s", err);
		pol_state_free(&st);
		for (d = pol_run_decisions(r, &n); seen < n; seen++)
			cr_assert_eq(pol_exec_decision(e, r, &d[seen], t - 1000), 0);
	}
	fclose(ea.out);
	fprintf(stderr, "%s", log);
	d = pol_run_decisions(r, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(d[i].target.name, "/batch"))
			continue;
		cr_assert_neq(d[i].action.kind, RVMIG_ACT_RESTORE,
			      "a RESTORE of /batch at %.0f: the failed save left no checkpoint",
			      d[i].t);
		if (!save)
			save = &d[i];
		else if (!next)
			next = &d[i];
	}
	cr_assert(save, "no save decided");
	cr_assert_eq(save->action.kind, RVMIG_ACT_SAVE);
	cr_assert_float_eq(save->t, 1005, 1e-9, "overloaded from 1000, the 5 s dwell");
	cr_assert(strstr(log, "Linux has no save of a cgroup"), "%s", log);
	cr_assert(strstr(log, "save batch (cgroup /batch id 3 on a): not carried out; the run counts "
			      "it as running on a again"), "%s", log);
	/* the next decision for it: the save again, once its cool-down from
	 * the failure is over, a still overloaded with it */
	cr_assert(next, "no decision for /batch after the failed save");
	cr_assert_eq(next->action.kind, RVMIG_ACT_SAVE, "%s",
		     rvmig_action_kind_name(next->action.kind));
	cr_assert_geq(next->t, save->t + DCOOL, "saved again at %.0f, within the cool-down",
		      next->t);
	pol_exec_destroy(e);
	pol_run_destroy(r);
	pol_config_free(&cfg);
	free(log);
}

static const char move_pol[] =
	"[decider]\ndwell = 3s\ndomain_cooldown = 60s\nglobal_cooldown = 1s\n"
	"[migration]\nbandwidth = 125e6\noverload = 1.1\nfill = 0.9\n"
	"[domain vm]\nmatch = name vm\nsla = cpu 0.9\nmigrate = yes\nmemory = 5e8\n";

/* Until `moved`: vm (domain 5) and two others on a, 3 CPUs of demand on
 * 2, b idle.  After: vm on b as domain 9 beside two others wanting 2 CPUs
 * each, 5 on 4; a left with 2 on 2; c idle. */
static void move_state(struct pol_state *st, double t, double moved)
{
	memset(st, 0, sizeof(*st));
	st->t = t;
	cr_assert(pol_host_of(st, "a", 1));
	cr_assert(pol_host_of(st, "b", 1));
	st->hosts[0].cpus = 2;
	st->hosts[1].cpus = 4;
	dom_of(st, "a", "domain", "1", "other1", 2.0 / 3, 2.0 / 3);
	dom_of(st, "a", "domain", "2", "other2", 2.0 / 3, 2.0 / 3);
	if (t <= moved) {
		dom_of(st, "a", "domain", "5", "vm", 2.0 / 3, 2.0 / 3);
		return;
	}
	cr_assert(pol_host_of(st, "c", 1));
	st->hosts[2].cpus = 4;
	dom_of(st, "b", "domain", "9", "vm", 1, 1);
	dom_of(st, "b", "domain", "3", "other3", 1.75, 0.875);
	dom_of(st, "b", "domain", "4", "other4", 1.75, 0.875);
}

Test(run_moves, cooldown_follows_the_name)
{
	const struct pol_decision *d, *first, *second;
	struct pol_config cfg;
	char err[512];
	double moved = 0;
	size_t n, seen = 0;
	pol_run *r;

	cr_assert_eq(pol_config_parse(move_pol, strlen(move_pol), "inline", &cfg, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(pol_run_create(&cfg, &r, err, sizeof(err)), 0, "%s", err);
	for (int t = 1000; t <= 1100; t++) {
		struct pol_state st;

		move_state(&st, t, moved ? moved : 1e9);
		cr_assert_eq(pol_run_step(r, &st, NULL, err, sizeof(err)), 0, "%s", err);
		pol_state_free(&st);
		for (d = pol_run_decisions(r, &n); seen < n; seen++)
			if (!moved)
				moved = t; /* vm is on b from the next state on */
	}
	d = pol_run_decisions(r, &n);
	cr_assert_geq(n, 2, "%zu decisions", n);
	for (size_t i = 0; i < n; i++)
		cr_assert(d[i].action.kind == RVMIG_ACT_MIGRATE && !strcmp(d[i].target.name, "vm"),
			  "decision %zu: %s of %s", i, rvmig_action_kind_name(d[i].action.kind),
			  d[i].target.name);
	first = &d[0];
	second = &d[1];
	cr_assert_str_eq(first->target.id, "5");
	cr_assert_str_eq(first->dest, "b");
	cr_assert_str_eq(second->target.id, "9");
	cr_assert_str_eq(second->target.host, "b");
	cr_assert_str_eq(second->dest, "c");
	cr_assert_geq(second->t, first->t + 60,
		      "domain 9 moved at %.0f, within the cool-down of vm's move at %.0f",
		      second->t, first->t);
	pol_run_destroy(r);
	pol_config_free(&cfg);
}
