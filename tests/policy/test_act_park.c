/* SPDX-License-Identifier: MIT */
/*
 * The store of saves and restores without Xen (tools/policy/act_park.h,
 * apply_park.h): the [migration] store_dir key, the checkpoint's name, a
 * plan's SAVE / RESTORE decision mapped to the store's request (path,
 * listen URI, prediction) and the refusals of what --apply does not carry
 * out (no store_dir, a store or restore on another host, a Linux target),
 * each naming the host; and the store's own refusals before anything runs
 * (a checkpoint already there is not overwritten, a restore without one);
 * a stop during the wait for the store's receiver ending the save at once;
 * the live loop handing a decided save or restore to the store.
 * The store against real Xen is xen.policy_park (tests/xen/xen_policy_park.sh).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <criterion/criterion.h>

#include "common/stop.h"
#include "gone.h"
#include "policy/apply_park.h"
#include "policy/config.h"
#include "policy/exec.h"

static const char base[] = "[migration]\nbandwidth = 1e8\nstore = disk\n";

static void parse(struct pol_config *c, const char *extra)
{
	char text[1024], err[512];

	snprintf(text, sizeof(text), "%s%s", base, extra);
	cr_assert_eq(pol_config_parse(text, strlen(text), "/etc/rvmig/p.conf", c, err, sizeof(err)),
		     0, "%s: %s", extra, err);
}

static struct pol_decision decision(enum rvmig_action_kind kind, const char *kind_name,
				    const char *dest)
{
	struct pol_decision d = { .due = 1, .dest = (char *)dest };

	d.target = (struct pol_target){ .host = "dom0", .kind = (char *)kind_name, .id = "3",
					.name = "guest-1", .policy = "guest" };
	d.action.kind = kind;
	d.pred.start_s = 1;
	d.pred.end_s = 5;
	return d;
}

Test(act_park, store_dir_key)
{
	struct pol_config c;
	char err[512];
	static const char orphan[] = "[migration]\nstore_dir = /var/lib/rvmig\n";

	parse(&c, "store_dir = store\n");
	cr_assert_str_eq(c.mig.store_dir, "/etc/rvmig/store", "relative to the policy file");
	pol_config_free(&c);
	parse(&c, "");
	cr_assert_null(c.mig.store_dir);
	pol_config_free(&c);
	cr_assert_eq(pol_config_parse(orphan, strlen(orphan), "p.conf", &c, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "store_dir without store"), "%s", err);
}

Test(act_park, checkpoint_names)
{
	char p[64];

	cr_assert_eq(act_park_path("/s", "guest-1", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/s/guest-1.ckpt");
	cr_assert_eq(act_park_path("/s/", "web 1/x;y", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/s/web_1_x_y.ckpt");
	cr_assert_eq(act_park_path("/s", "", p, sizeof(p)), -EINVAL);
	cr_assert_eq(act_park_path("/s", "..", p, sizeof(p)), -EINVAL, "not the parent directory");
	cr_assert_eq(act_park_path("/s", "a-very-long-domain-name-that-does-not-fit", p, 20),
		     -ENAMETOOLONG);
}

Test(act_park, save_request)
{
	struct pol_config c;
	struct pol_decision d = decision(RVMIG_ACT_SAVE, "xen", "disk");
	struct act_park_req r;
	char err[1024];

	parse(&c, "");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "store_dir is not set") && strstr(err, "store disk"), "%s", err);
	pol_config_free(&c);

	parse(&c, "store_dir = /srv/store\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.op, ACT_MIG_SAVE);
	cr_assert_eq(r.target.kind, RVMIG_ACT_TARGET_XEN);
	cr_assert_eq(r.target.id, 3);
	cr_assert_str_eq(r.name, "guest-1");
	cr_assert_str_eq(r.path, "/srv/store/guest-1.ckpt");
	cr_assert_str_eq(r.listen, "tcp://127.0.0.1:0", "no host line: loopback");
	cr_assert_float_eq(r.predicted_s, 4, 1e-9);
	pol_config_free(&c);

	/* the store's host line: its address is where the receiver listens */
	parse(&c, "store_dir = /srv/store\ntransport = verbs\nhost = disk 127.0.0.1\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(r.listen, "verbs://127.0.0.1:0");
	pol_config_free(&c);
	parse(&c, "store_dir = /srv/store\nhost = disk ::1\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(r.listen, "tcp://[::1]:0");
	pol_config_free(&c);

	/* a store elsewhere (TEST-NET-1, never this host's) */
	parse(&c, "store_dir = /srv/store\nhost = disk 192.0.2.1\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "store disk is at 192.0.2.1, not this host"), "%s", err);

	/* a cgroup: Linux has no save */
	d = decision(RVMIG_ACT_SAVE, "cgroup", "disk");
	d.target.name = "/batch";
	pol_config_free(&c);
	parse(&c, "store_dir = /srv/store\n");
	cr_assert_eq(pol_park_request(&c, &d, "a", &r, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "Linux has no save"), "%s", err);

	/* not a save or restore */
	d = decision(RVMIG_ACT_MIGRATE, "xen", "b");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), -EINVAL);
	pol_config_free(&c);
}

Test(act_park, restore_request)
{
	struct pol_config c;
	struct pol_decision d = decision(RVMIG_ACT_RESTORE, "xen", "dom0");
	struct act_park_req r;
	char err[1024];

	parse(&c, "store_dir = /srv/store\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.op, ACT_MIG_RESTORE);
	cr_assert_str_eq(r.path, "/srv/store/guest-1.ckpt");
	cr_assert_str_eq(r.name, "guest-1");

	/* onto another host the plan names: refused, naming it and the file */
	d.dest = "b";
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "on b: b is not this host (no [migration] host line for it)") &&
		  strstr(err, "the checkpoint stays at /srv/store/guest-1.ckpt"), "%s", err);
	pol_config_free(&c);
	parse(&c, "store_dir = /srv/store\nhost = b 192.0.2.7\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), -ENOTSUP);
	cr_assert(strstr(err, "its host line's address is not this host's"), "%s", err);
	pol_config_free(&c);
	/* ... unless its host line says it is this host */
	parse(&c, "store_dir = /srv/store\nhost = b 127.0.0.1\n");
	cr_assert_eq(pol_park_request(&c, &d, "dom0", &r, err, sizeof(err)), 0, "%s", err);
	pol_config_free(&c);
}

Test(act_park, store_refusals_before_running)
{
	char dir[] = "/tmp/rvmig-store-XXXXXX", err[1024];
	struct act_mig_cfg cfg = { 0 };
	struct act_park_req r = { .op = ACT_MIG_SAVE, .target = { .kind = RVMIG_ACT_TARGET_XEN,
								  .id = 3 },
				  .name = "guest-1", .listen = "tcp://127.0.0.1:0" };
	struct act_mig_result res;
	FILE *f;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(act_park_path(dir, r.name, r.path, sizeof(r.path)), 0);
	/* a restore without a checkpoint */
	r.op = ACT_MIG_RESTORE;
	cr_assert_eq(act_park_run(&cfg, &r, NULL, NULL, &res, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "no checkpoint of guest-1 in the store") && strstr(err, r.path), "%s",
		  err);
	/* a save onto a checkpoint already there: never overwritten */
	cr_assert(f = fopen(r.path, "w"));
	fputs("a saved domain\n", f);
	fclose(f);
	r.op = ACT_MIG_SAVE;
	cr_assert_eq(act_park_run(&cfg, &r, NULL, NULL, &res, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "already holds a checkpoint") && strstr(err, r.path), "%s", err);
	cr_assert(f = fopen(r.path, "r"), "still there");
	fclose(f);
	unlink(r.path);
	rmdir(dir);
}

/* The store's log: a SIGTERM, as from kill, once its receiver said it
 * starts (before it listens). */
static void stop_at_start(void *arg, int verbose, const char *line)
{
	int *seen = arg;

	(void)verbose;
	if (strstr(line, "| store: rvmig-recv: starting") && !(*seen)++)
		raise(SIGTERM);
}

/* A stop while the store's receiver has not said its port yet (the 60-s
 * wait) ends the save at once: -EINTR naming the stop, the receiver and
 * its child gone, rvmig-save never started, no checkpoint (xl played by
 * fake-xl/xl, a receiver that never listens by fake-xl/rvmig-recv-mute). */
Test(act_park, stop_ends_the_port_wait)
{
	const char *dir = getenv("RVMIG_FAKE_XL_DIR"), *path = getenv("PATH");
	char store[] = "/tmp/rvmig-store-XXXXXX", pids[] = "/tmp/rvmig-recv-pids-XXXXXX";
	char p[4096], recv[4096], save[4096], err[2048];
	struct act_mig_cfg cfg = { .recv = recv, .save = save };
	struct act_park_req r = { .op = ACT_MIG_SAVE, .target = { .kind = RVMIG_ACT_TARGET_XEN,
								  .id = 3 },
				  .name = "vm1", .listen = "tcp://127.0.0.1:0", .predicted_s = 5 };
	struct act_mig_result res;
	long pid = 0, child = 0;
	double t0 = tool_now();
	int fd, seen = 0;
	FILE *f;

	cr_assert(dir, "RVMIG_FAKE_XL_DIR is not set");
	snprintf(p, sizeof(p), "%s:%s", dir, path ? path : "/usr/bin:/bin");
	setenv("PATH", p, 1);
	snprintf(recv, sizeof(recv), "%s/rvmig-recv-mute", dir);
	snprintf(save, sizeof(save), "%s/rvmig-save-never-there", dir);
	cr_assert(mkdtemp(store));
	cr_assert((fd = mkstemp(pids)) >= 0);
	close(fd);
	setenv("FAKE_RECV_PIDS", pids, 1);
	cr_assert_eq(act_park_path(store, r.name, r.path, sizeof(r.path)), 0);
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	tool_catch_stop();
	cr_assert_eq(act_park_run(&cfg, &r, stop_at_start, &seen, &res, err, sizeof(err)), -EINTR,
		     "%s", err);
	cr_assert_eq(seen, 1, "the receiver did not start");
	cr_assert(strstr(err, "asked to stop (signal 15) before the store's receiver listened"),
		  "%s", err);
	cr_assert(f = fopen(pids, "r"));
	cr_assert_eq(fscanf(f, "%ld %ld", &pid, &child), 2, "the receiver wrote no pids");
	fclose(f);
	cr_assert(gone_within((pid_t)pid, 10), "the receiver (pid %ld) still runs", pid);
	cr_assert(gone_within((pid_t)child, 10), "its child (pid %ld) still runs", child);
	/* a bound that cannot flake: the port wait alone is 60 s */
	cr_assert_lt(tool_now() - t0, 50, "the stop did not end the wait");
	cr_assert(access(r.path, F_OK) < 0, "a checkpoint appeared");
	unlink(pids);
	rmdir(store);
}

/* The live loop (exec.h): a decided save or restore goes to ops->park
 * with this host's name when applying; a dry run and another host's
 * domain do not reach it; without a park op it is refused, said so. */
struct park_calls {
	int n;
	char self[32];
	enum rvmig_action_kind kind;
};

static int park_op(void *ctx, const struct pol_decision *d, const char *self, char *err,
		   size_t errlen)
{
	struct park_calls *c = ctx;

	c->n++;
	c->kind = d->action.kind;
	snprintf(c->self, sizeof(c->self), "%s", self);
	snprintf(err, errlen, "%s", "");
	return 0;
}

static char *exec_one(const struct pol_exec_ops *ops, int apply, const char *host,
		      const struct pol_decision *d)
{
	struct pol_exec_attr a = { .apply = apply, .host = host, .ops = ops };
	struct pol_config c;
	char *log = NULL, err[512];
	size_t len = 0;
	pol_exec *e;
	pol_run *r;

	/* a run that never saw the domain: one refused is told to it in
	 * vain (what the run makes of it: test_run_moves.c) */
	parse(&c, "");
	cr_assert_eq(pol_run_create(&c, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert(a.out = open_memstream(&log, &len));
	cr_assert_eq(pol_exec_create(&a, &e), 0);
	cr_assert_eq(pol_exec_decision(e, r, d, 12.5), 0);
	pol_exec_destroy(e);
	pol_run_destroy(r);
	pol_config_free(&c);
	fclose(a.out);
	return log;
}

Test(act_park, live_loop_routes_to_the_store)
{
	struct park_calls calls = { 0 };
	struct pol_exec_ops ops = { .name = "test", .park = park_op, .ctx = &calls };
	struct pol_decision d = decision(RVMIG_ACT_SAVE, "domain", "disk");
	char *log;

	log = exec_one(&ops, 0, "dom0", &d);
	cr_assert_eq(calls.n, 0, "a dry run carries nothing out");
	cr_assert(strstr(log, "decide save guest (domain guest-1 id 3 on dom0) to the store disk") &&
		  strstr(log, "(dry run: not applied)"), "%s", log);
	free(log);

	log = exec_one(&ops, 1, "dom0", &d);
	cr_assert_eq(calls.n, 1);
	cr_assert_eq(calls.kind, RVMIG_ACT_SAVE);
	cr_assert_str_eq(calls.self, "dom0");
	free(log);

	d = decision(RVMIG_ACT_RESTORE, "domain", "dom0");
	log = exec_one(&ops, 1, "dom0", &d);
	cr_assert_eq(calls.n, 2);
	cr_assert_eq(calls.kind, RVMIG_ACT_RESTORE);
	cr_assert(strstr(log, "decide restore guest (domain guest-1 id 3 on dom0) on dom0"), "%s",
		  log);
	free(log);

	log = exec_one(&ops, 1, "other", &d);
	cr_assert_eq(calls.n, 2, "another host's domain is not this one's to restore");
	cr_assert(strstr(log, "skip restore guest: host dom0 is not this one"), "%s", log);
	free(log);

	log = exec_one(NULL, 1, "dom0", &d);
	cr_assert(strstr(log, "restore guest: failed: no executor of a restore"), "%s", log);
	free(log);
}
