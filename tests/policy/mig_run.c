/* SPDX-License-Identifier: MIT */
/*
 * mig_run - one save or restore by the migration executor
 * (tools/policy/act_migrate.h) from the command line, for the Xen tier
 * (xen_policy_migrate.sh):
 *   mig_run save xen:DOMID URI [KEY_FILE]
 *   mig_run restore URI PATH NAME [KEY_FILE]
 * The programs: $MIG_RUN_SAVE and $MIG_RUN_RECV, else rvmig-save and
 * rvmig-recv from PATH.  Prints the executor's log lines, then
 *   save xen:DOMID (NAME): done in S s
 *   restore NAME: done in S s, domain ID
 * Exit 0, 1 (the executor's error on stderr; SIGINT / SIGTERM stop the
 * command running, and it exits 1), 2 (usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stop.h"
#include "policy/act_migrate.h"

static void log_line(void *arg, int verbose, const char *line)
{
	(void)arg;
	if (!verbose)
		printf("%s\n", line);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct act_mig_cfg cfg = { .save = getenv("MIG_RUN_SAVE"), .recv = getenv("MIG_RUN_RECV") };
	struct act_mig_req r = { 0 };
	struct act_mig_result res;
	char err[2048];
	int save = argc >= 4 && argc <= 5 && !strcmp(argv[1], "save");
	int restore = argc >= 5 && argc <= 6 && !strcmp(argv[1], "restore");

	if (!save && !restore) {
		fprintf(stderr, "usage: mig_run save xen:DOMID URI [KEY_FILE]\n"
				"       mig_run restore URI PATH NAME [KEY_FILE]\n");
		return 2;
	}
	if (save) {
		r.op = ACT_MIG_SAVE;
		if (rvmig_act_target_parse(argv[2], &r.target, err, sizeof(err)) < 0) {
			fprintf(stderr, "mig_run: %s\n", err);
			return 2;
		}
		r.uri = argv[3];
		cfg.key_file = argc == 5 ? argv[4] : NULL;
	} else {
		r.op = ACT_MIG_RESTORE;
		r.uri = argv[2];
		r.path = argv[3];
		r.name = argv[4];
		cfg.key_file = argc == 6 ? argv[5] : NULL;
	}
	/* SIGINT / SIGTERM stop the command it runs (its own process group) */
	tool_catch_stop();
	if (act_mig_run(&cfg, &r, log_line, NULL, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "mig_run: %s\n", err);
		return 1;
	}
	if (save)
		printf("save %s (%s): done in %.1f s\n", argv[2], res.name, res.measured_s);
	else
		printf("restore %s: done in %.1f s, domain %ld\n", res.name, res.measured_s,
		       res.new_domid);
	return 0;
}
