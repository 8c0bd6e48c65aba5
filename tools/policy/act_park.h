/* SPDX-License-Identifier: MIT */
/*
 * act_park.h - the store: where a plan's save puts a domain's checkpoint
 * and its restore takes it back, on this host ([migration] store_dir,
 * rvmig-policy(1) SAVES).  Built on the migration executor
 * (act_migrate.h), which runs and checks each command.
 *
 *   SAVE     an rvmig-recv of the store listens at TRANSPORT://ADDR:0
 *            (ADDR: the store host's `host` line address, which must be
 *            this host's, else 127.0.0.1) and writes DIR/NAME.ckpt; once
 *            it says which port it got, rvmig-save DOMID streams the
 *            checkpoint into it (act_mig_run() ACT_MIG_SAVE).  The
 *            receiver writes a temporary file and renames it to
 *            DIR/NAME.ckpt only when the stream's digest matched the
 *            sender's; rvmig-save destroys the domain only after that
 *            verdict, so the domain exists here or in the store, never
 *            neither.  Refused before anything runs: a checkpoint of that
 *            name already in the store (it would be a saved domain lost),
 *            or domain DOMID no longer named NAME.
 *   RESTORE  xl restore DIR/NAME.ckpt (act_mig_run() ACT_MIG_RESTORE, no
 *            URI), the domain then checked running; only then is the file
 *            removed.  A failed restore leaves it and says where it is.
 *            Refused: no such file, or a domain NAME already here.
 *
 * NAME is the domain's name with characters outside [A-Za-z0-9._-] as '_'.
 * Every wait has the executor's deadline (act_mig_deadline()); the
 * receiver's --accept-timeout is that deadline too, so a rvmig-save that
 * fails before it connects leaves it to give up by itself.  A stop request
 * (tool_stop, common/stop.h) ends the wait for the receiver's port at
 * once (-EINTR, rvmig-save not started) and stops the receiver and
 * rvmig-save as every command of the executor (act_mig_exec()).
 *
 * Threads: a save runs the store's receiver in a thread of its own (its
 * act_mig_exec() blocks) while rvmig-save runs on the caller's; the log
 * function is called from both, one line per call.
 */
#ifndef RVMIG_TOOLS_POLICY_ACT_PARK_H
#define RVMIG_TOOLS_POLICY_ACT_PARK_H

#include <stddef.h>

#include "policy/act_migrate.h"

#define ACT_PARK_EXT ".ckpt"
#define ACT_PARK_PATH_MAX 4096
/* the receiver's listening line, what rvmig-recv prints (tool_announce()) */
#define ACT_PARK_LISTENING "listening on port "
/* how long the store's receiver may take to listen */
#define ACT_PARK_LISTEN_S 60.0

struct act_park_req {
	enum act_mig_op op;                  /* ACT_MIG_SAVE or ACT_MIG_RESTORE */
	struct rvmig_act_target target;      /* SAVE: xen:DOMID */
	char name[ACT_MIG_NAME_MAX];         /* the domain's name */
	char path[ACT_PARK_PATH_MAX];        /* its checkpoint in the store */
	char listen[ACT_MIG_WORD_MAX + 32];  /* SAVE: the store receiver's TRANSPORT://ADDR:0 */
	double predicted_s;                  /* the planner's time; 0: none */
};

/* DIR/NAME.ckpt for domain `name` (see above) into path.  0, -EINVAL (an
 * empty name, or one of only '.'), -ENAMETOOLONG. */
int act_park_path(const char *dir, const char *name, char *path, size_t len);

/* Runs a save or restore (see above).  0 with *res filled (measured_s:
 * the save's or restore's own time), or -errno with err saying why and,
 * for a restore, where the checkpoint stays.  -EEXIST, -ENOENT: refused
 * before anything ran. */
int act_park_run(const struct act_mig_cfg *cfg, const struct act_park_req *req, act_mig_log_fn *log,
		 void *log_arg, struct act_mig_result *res, char *err, size_t errlen);

#endif
