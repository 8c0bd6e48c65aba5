/* SPDX-License-Identifier: MIT */
/*
 * act_migrate.h - the executor of a plan's migration, save and restore
 * actions (RVMIG_ACT_MIGRATE, RVMIG_ACT_SAVE, RVMIG_ACT_RESTORE), through
 * rvmig.  Apart from the CPU actuators (rvmig/act.h, in librvmig): these
 * move a whole domain, take minutes rather than one xl call, and have no
 * undo.  It stays with the tools because what it runs is the tools
 * themselves (rvmig-tunnel, rvmig-save, rvmig-recv, found in PATH or where
 * the policy file says) and xl migrate; it runs them through the library's
 * rvmig_act_exec() and checks the outcome with rvmig_act_xen_domain().
 *
 *   MIGRATE  xl -vvv migrate -s "TUNNEL -v --uri-template T://%h:PORT
 *            [--key-file K]" DOMID ADDR: the stream goes through
 *            rvmig-tunnel to the rvmigd on the destination host (ADDR, the
 *            address the policy file maps the plan's destination host to);
 *   SAVE     rvmig-save [-v] DOMID URI [--key-file K]: the domain's
 *            checkpoint streamed to an rvmig-recv listening at URI; the
 *            domain is destroyed here only once the receiver verified it;
 *   RESTORE  rvmig-recv --listen URI -o PATH [--key-file K], then
 *            xl restore PATH: a checkpoint pushed to this host by
 *            rvmig-send (or rvmig-save) is received and the domain started;
 *            with no URI, PATH is already here (the store, act_park.h):
 *            xl restore PATH only.
 *
 * No shell runs on this side: every command is an argv (rvmig_act_exec()),
 * stdin /dev/null.  xl itself hands the -s string to `sh -c` on its
 * side, so each word of it (programs, key file, transport, address) is
 * checked to hold only [A-Za-z0-9._/:%+=,@-] before anything runs.
 *
 * A migration is tried again, up to `tries` times in all (default 2),
 * after ACT_MIG_RETRY_WAIT_S, when xl migrate exited non-zero and left the
 * source as it was: the domain still listed here under its name and old
 * id, not paused, suspended, crashed or dying, and no NAME--incoming copy
 * on this host.  That is what xl leaves when the guest did not suspend in
 * time (libxl waits 60 s for it to acknowledge the request and 60 s for it
 * to suspend; a busy guest under TCG Xen missed that) or the destination
 * refused before the guest was suspended; a deadline, a domain gone,
 * renamed, crashed or left paused, or a copy here is never tried again.
 * Each try is logged with the reason it failed, and runs under its own
 * deadline.  A stop request (SIGINT / SIGTERM once the tool called
 * tool_catch_stop(), common/stop.h) ends the wait between tries at once,
 * and no further try is made: the failure is returned, err saying so.
 *
 * A stop request also ends the command running (act_mig_exec(): xl
 * migrate with its tunnel, rvmig-save, rvmig-recv, xl restore): SIGTERM to
 * its process group, SIGKILL RVMIG_ACT_TERM_MS later, -EINTR; none starts
 * after it.  A stopped migration's error then says where the domain is
 * (still running here unchanged, or what xl list showed instead).
 *
 * Every run has a deadline: the planner's predicted time x margin, within
 * [min_s, max_s] (max_s when nothing was predicted); at the deadline the
 * command is killed (SIGTERM: xl migrate then resumes the domain on the
 * source) and -ETIMEDOUT returned.  Progress is logged line by line through
 * the caller's log function, as "migrate xen:3 -> host2 (10.0.0.2): ...",
 * with the command's own lines (escaped) at the verbose level.
 *
 * The result is verified (once the command exited 0, a progress line
 * says so, with its time: the check takes its own, see exited_t):
 *   MIGRATE  xl exits 0 and the destination's xl reported "Domain started";
 *            when the destination is this very host (its address is a
 *            loopback one or one of this host's interfaces), the domain
 *            must be listed here with a new id and not paused, shut down,
 *            crashed or dying; otherwise it must be gone from here.  Downtime is measured from the source
 *            libxl's "guest has suspended" to the destination's "Domain
 *            started", as the lines arrive here (an upper bound: pipe and
 *            tunnel latency included); -1 when xl printed neither.
 *   SAVE     rvmig-save exits 0 and the domain is gone from this host.
 *   RESTORE  the domain `name` runs here (a domain id, not paused).
 * A Linux target (cgroup:, pid:) is refused with -ENOTSUP: there is no
 * migration of a cgroup or process.
 *
 * Errors: -errno with err naming the command or domain and why (the
 * command's stderr lines that report the failure, escaped: rvmig_act_exec()
 * picks them; for xl migrate they include the destination's, which
 * rvmig-tunnel passes on).
 */
#ifndef RVMIG_TOOLS_POLICY_ACT_MIGRATE_H
#define RVMIG_TOOLS_POLICY_ACT_MIGRATE_H

#include <stdarg.h>
#include <stddef.h>

#include <rvmig.h>

#define ACT_MIG_HOSTS_MAX 256      /* host NAME ADDRESS entries in a policy file */
#define ACT_MIG_WORD_MAX 1024      /* bytes of a program path, key file or address */
#define ACT_MIG_PORT_DEFAULT 7471  /* rvmigd's (TUNNEL_PORT_DEFAULT) */
#define ACT_MIG_MARGIN_DEFAULT 3.0 /* deadline = predicted x 3 ... */
#define ACT_MIG_MIN_S_DEFAULT 120.0  /* ... at least 2 min (xl's own start-up is seconds) */
#define ACT_MIG_MAX_S_DEFAULT 3600.0 /* ... at most 1 h, and 1 h when nothing was predicted */
#define ACT_MIG_TRIES_DEFAULT 2    /* a migration that left the source intact: tried again once */
#define ACT_MIG_TRIES_MAX 10
#define ACT_MIG_RETRY_WAIT_S 5.0   /* between tries */

enum act_mig_op {
	ACT_MIG_MIGRATE = 1,
	ACT_MIG_SAVE = 2,
	ACT_MIG_RESTORE = 3,
};

/* A plan's host name and the address its rvmigd listens on. */
struct act_mig_host {
	char *name;
	char *addr; /* IPv4, IPv6 literal (no brackets) or DNS name */
};

/* The executor's settings: the policy file's [migration] keys (rvmig-policy(1),
 * POLICY FILE).  NULL / 0 fields take the defaults named. */
struct act_mig_cfg {
	char *transport;        /* "tcp" (default) or "verbs" */
	unsigned port;          /* rvmigd's port on every host; 0: ACT_MIG_PORT_DEFAULT */
	char *tunnel;           /* rvmig-tunnel program; NULL: "rvmig-tunnel" from PATH */
	char *save;             /* rvmig-save program; NULL: "rvmig-save" from PATH */
	char *recv;             /* rvmig-recv program; NULL: "rvmig-recv" from PATH */
	char *key_file;         /* the pre-shared key; NULL: the tools' own default */
	/* runs = PATH: where rvmig-policy appends each action it carried out,
	 * measured against predicted (config.h, POL_RUNS_HEADER), and reads
	 * them back to calibrate the toolstack's cost; NULL: nowhere */
	char *runs;
	double margin;          /* 0: ACT_MIG_MARGIN_DEFAULT */
	double min_s, max_s;    /* 0: ACT_MIG_MIN_S_DEFAULT, ACT_MIG_MAX_S_DEFAULT */
	unsigned tries;         /* MIGRATE: tries in all (see above); 0: ACT_MIG_TRIES_DEFAULT */
	struct act_mig_host *hosts;
	size_t nhosts;
};

struct act_mig_req {
	enum act_mig_op op;
	struct rvmig_act_target target;    /* MIGRATE, SAVE: xen:DOMID */
	const char *dest;            /* MIGRATE: the plan's destination host (a cfg host NAME) */
	const char *uri;             /* SAVE: the receiver's URI; RESTORE: the URI to listen
				      * on, NULL: the checkpoint is at path already */
	const char *path;            /* RESTORE: the checkpoint file to write and restore */
	const char *name;            /* RESTORE: the domain's name, to verify it runs */
	double predicted_s;          /* the planner's time for it; 0: not predicted */
	double predicted_downtime_s; /* MIGRATE: the planner's downtime; 0: not predicted */
};

#define ACT_MIG_NAME_MAX 128

struct act_mig_result {
	char name[ACT_MIG_NAME_MAX]; /* the domain's name (escaped) */
	long old_domid;              /* MIGRATE, SAVE: its id before */
	long new_domid;              /* MIGRATE, RESTORE: its id after; -1: not on this host */
	char addr[ACT_MIG_WORD_MAX]; /* MIGRATE: the destination's address */
	double deadline_s;           /* the deadline it ran under */
	double measured_s;           /* start to exit of the command(s); MIGRATE: of the last try */
	/* tool_now() when the command(s) exited 0, before the outcome's check
	 * (xl list: seconds in an emulated dom0); 0: they did not */
	double exited_t;
	unsigned tries;              /* MIGRATE: tries made (1: the first did it or failed alone) */
	double downtime_s;           /* MIGRATE: measured, see above; -1: not measured */
	int local;                   /* MIGRATE: the destination is this host and was checked */
};

/* Where progress goes: one line, no newline, already escaped.  verbose: a
 * line of the command's own output (a caller may leave those out). */
typedef void act_mig_log_fn(void *arg, int verbose, const char *line);

/* Formats one progress line "WHAT: +T.Ts MSG" (T: seconds since t0, a
 * tool_now() time) and hands it to log; nothing when log is NULL.  MSG is
 * cut at 5 KiB.  The executors' one logger (migrate, save, restore, store). */
void act_mig_vsay(act_mig_log_fn *log, void *arg, const char *what, double t0, int verbose,
		  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* Checks the settings: transport, port, programs, key file and each host's
 * name and address (shell-safe words, no duplicate names), margin >= 1,
 * 0 < min_s <= max_s.  0 or -EINVAL with err naming the key. */
int act_mig_cfg_check(const struct act_mig_cfg *cfg, char *err, size_t errlen);

/* The deadline for a predicted time: predicted x margin within [min_s,
 * max_s]; max_s when predicted_s <= 0.  Seconds. */
double act_mig_deadline(const struct act_mig_cfg *cfg, double predicted_s);

/* The -s command xl runs for `dest`, and the address it is mapped to.
 * 0, -ENOENT (dest is no host of cfg: err says which are), -ENAMETOOLONG. */
int act_mig_tunnel_cmd(const struct act_mig_cfg *cfg, const char *dest, char *cmd, size_t cmdlen,
		       const char **addr, char *err, size_t errlen);

/* The address (resolved) is a loopback one or one of this host's
 * interfaces: this very host. */
int act_mig_is_local(const char *addr);

/* rvmig_act_exec() of argv under timeout_ms with the tool's stop flag
 * (tool_stop, common/stop.h): a SIGINT / SIGTERM of the tool stops the
 * command and its process group (-EINTR), and starts none after it.  out,
 * on_line as rvmig_act_run()'s.  Every command of the executors runs so. */
int act_mig_exec(rvmig_act *act, char *const argv[], int64_t timeout_ms, char *out, size_t outcap,
		 rvmig_act_line_fn *on_line, void *arg, char *err, size_t errlen);

/* Runs one action (see above).  0 with *res filled, or -errno with err set
 * (res then holds what was measured up to the failure).  -ENOTSUP for a
 * Linux target or an op without an executor; -EINVAL for a request
 * missing what its op needs. */
int act_mig_run(const struct act_mig_cfg *cfg, const struct act_mig_req *req, act_mig_log_fn *log,
		void *log_arg, struct act_mig_result *res, char *err, size_t errlen);

/* Frees the strings of cfg (as the policy file's parser allocated them). */
void act_mig_cfg_free(struct act_mig_cfg *cfg);

#endif
