/* SPDX-License-Identifier: MIT */
/*
 * act_run - one actuator call (rvmig/act.h, rvmig_act(3)) from the command line,
 * for the tests that drive the actuators on real systems (the Xen tier's
 * xen_apply.sh):
 *   act_run TARGET KIND SETTING [--undo]
 * KIND as rvmig_action_kind_name() spells it (credit-cap, credit-weight,
 * pin, cgroup-cpu-max, ...); SETTING a number, or a CPU list for pin and
 * cgroup-cpuset.  Applies it (check, read, write, read back) and prints
 *   apply KIND TARGET (WHERE): OLD -> NEW
 * then, with --undo, waits for a line on stdin (the caller checks the
 * system meanwhile), writes the old setting back and prints
 *   undo KIND TARGET (WHERE): NEW -> OLD
 * Exit 0, 1 (the actuator's error on stderr), 2 (usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig.h>

int main(int argc, char **argv)
{
	struct rvmig_action a = { .size = sizeof(a), .share = 1 };
	struct rvmig_act_target t;
	rvmig_act_change *u;
	rvmig_act *act;
	char err[1024], name[RVMIG_ACT_PATH_MAX + 16], x[RVMIG_ACT_ARG_MAX * 4 + 32],
		y[RVMIG_ACT_ARG_MAX * 4 + 32];
	int undo = argc == 5 && !strcmp(argv[4], "--undo"), rc;

	if (argc != 4 && !undo) {
		fprintf(stderr, "usage: act_run TARGET KIND SETTING [--undo]\n");
		return 2;
	}
	if (rvmig_act_target_parse(argv[1], &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "act_run: %s\n", err);
		return 2;
	}
	for (int k = 1; k < RVMIG_ACT_NKINDS; k++)
		if (!strcmp(argv[2], rvmig_action_kind_name((enum rvmig_action_kind)k)))
			a.kind = (enum rvmig_action_kind)k;
	if (!a.kind) {
		fprintf(stderr, "act_run: unknown kind %s\n", argv[2]);
		return 2;
	}
	if (a.kind == RVMIG_ACT_PIN || a.kind == RVMIG_ACT_CG_CPUSET)
		a.arg = argv[3];
	else
		a.value = strtoll(argv[3], NULL, 10);
	rvmig_act_target_name(&t, name, sizeof(name));
	if ((rc = rvmig_act_open(NULL, "auto", &act)) < 0) {
		fprintf(stderr, "act_run: %s\n", rvmig_strerror(rc));
		return 1;
	}
	if (rvmig_act_apply(act, &t, &a, &u, err, sizeof(err)) < 0) {
		fprintf(stderr, "act_run: %s %s: %s\n", argv[2], name, err);
		rvmig_act_close(act);
		return 1;
	}
	printf("apply %s %s (%s): %s -> %s\n", argv[2], name, rvmig_act_change_where(u),
	       rvmig_act_format(a.kind, rvmig_act_change_old(u), x, sizeof(x)),
	       rvmig_act_format(a.kind, rvmig_act_change_now(u), y, sizeof(y)));
	fflush(stdout);
	rc = 0;
	if (undo) {
		if (!fgets(x, sizeof(x), stdin))
			fprintf(stderr, "act_run: stdin closed: undoing now\n");
		rvmig_act_format(a.kind, rvmig_act_change_old(u), x, sizeof(x));
		if (rvmig_act_undo(act, u, err, sizeof(err)) < 0) {
			fprintf(stderr, "act_run: undo %s %s: %s\n", argv[2], name, err);
			rc = 1;
		} else {
			printf("undo %s %s (%s): %s -> %s\n", argv[2], name, rvmig_act_change_where(u), y, x);
		}
	}
	rvmig_act_change_free(u);
	rvmig_act_close(act);
	return rc;
}
