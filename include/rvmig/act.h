/* SPDX-License-Identifier: MIT */
/*
 * rvmig/act.h - actuators: the settings a policy action (rvmig/policy.h,
 * enum rvmig_action_kind) changes, validated, read, written, read back and
 * undone.  See rvmig_act(3).
 *
 * An actuator handle is opened on one backend, or on all of them:
 *   "linux"  a cgroup's CPU quota, weight and CPU set, on cgroup v2
 *            (cpu.max, cpu.weight, cpuset.cpus) or v1 (cpu.cfs_quota_us
 *            with the group's cpu.cfs_period_us, cpu.shares as weight x
 *            1024 / 100, cpuset.cpus in the cpuset hierarchy); a vCPU
 *            count as a cpuset of that many CPUs (the first N the parent
 *            group allows).  Targets cgroup:PATH and pid:N.  A group must
 *            resolve inside a cgroup mount of /proc/self/mounts; anything
 *            else is refused.
 *   "xen"    a Xen domain's credit2 (or credit) weight and cap, the hard
 *            affinity of its vCPUs and its online vCPU count, through the
 *            `xl` program (sched-credit2 / sched-credit, vcpu-pin,
 *            vcpu-set, vcpu-list): librvmig links no Xen library for it.
 *            Target xen:DOMID.
 *   "auto"   both: each target goes to the backend for its kind.
 *
 * Commands: the Xen backend runs xl as an argv (no shell), searched in
 * PATH, with stdin on /dev/null, in the caller's thread, each run under a
 * deadline (RVMIG_ACT_XL_DEADLINE_MS; SIGTERM at the deadline, SIGKILL
 * RVMIG_ACT_TERM_MS later).  rvmig_act_run() runs any command the same
 * way, for actuators kept outside the library (a migration executor);
 * rvmig_act_exec() too, and stops it when the caller's flag asks to.
 *
 * rvmig_act_apply() validates the new setting (bounds, CPU lists) before
 * anything is written, reads the current one, writes the new one, reads it
 * back and compares (CPU quotas and v1 shares within the kernel's
 * rounding, CPU lists as sets), and returns an undo record (opaque,
 * rvmig_act_change_*()): the old setting, the one read back and where they
 * live.  A read-back that differs is -EIO, and the old setting is written
 * back before returning.  rvmig_act_undo() writes the old setting back and
 * reads it back too.
 *
 * Conventions (rvmig/common.h): 0 or a non-negative value on success, a
 * negative errno on failure, with `err` (errlen bytes, may be NULL) naming
 * the file or domain and why, peer and file text escaped.  Library code
 * never prints: what was applied and undone, and each command run, go to
 * the logger of the context the handle was opened with (subsystem "act",
 * info and debug levels).  A handle is used by one thread at a time.
 */
#ifndef RVMIG_ACT_H
#define RVMIG_ACT_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>
#include <rvmig/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvmig_act rvmig_act;
typedef struct rvmig_act_change rvmig_act_change;

#define RVMIG_ACT_PATH_MAX 4096  /* bytes of a cgroup path and of a "where", with the NUL */
#define RVMIG_ACT_ARG_MAX 256    /* bytes of a CPU list, with the NUL */

/* Bounds checked before anything is written (values in the units of
 * enum rvmig_action_kind). */
#define RVMIG_ACT_CPU_MAX_UNLIMITED (-1) /* CG_CPU_MAX: no quota ("max", -1) */
#define RVMIG_ACT_CPU_MAX_MIN 1000       /* CG_CPU_MAX: 0.001 CPU, in CPUs x 1e6; at most the host's CPUs */
#define RVMIG_ACT_CG_WEIGHT_MIN 1        /* CG_CPU_WEIGHT, cgroup v2 units */
#define RVMIG_ACT_CG_WEIGHT_MAX 10000
#define RVMIG_ACT_XEN_WEIGHT_MIN 1       /* CREDIT_WEIGHT */
#define RVMIG_ACT_XEN_WEIGHT_MAX 65535
#define RVMIG_ACT_XEN_CAP_MAX 12800      /* CREDIT_CAP, % of one CPU (128 vCPUs); 0: no cap */
#define RVMIG_ACT_VCPUS_MAX 1024         /* VCPUS; each backend checks the domain's own bound */
#define RVMIG_ACT_CPUS_MAX 1024          /* CPUs of a CPU list are 0 .. this - 1 */
/* One xl run, start to exit: xl answers in well under a second on a host,
 * but took 2-12 s in the test VM's emulated dom0 (one run past 10 s). */
#define RVMIG_ACT_XL_DEADLINE_MS 30000
#define RVMIG_ACT_TERM_MS 10000          /* SIGTERM at a deadline, SIGKILL this much later */
#define RVMIG_ACT_LINE_MAX 1024          /* bytes of a command's line handed on; longer ones are cut */

enum rvmig_act_target_kind {
	RVMIG_ACT_TARGET_CGROUP = 1, /* cgroup:PATH, an absolute cgroup directory (v1 or v2) */
	RVMIG_ACT_TARGET_PID = 2,    /* pid:N, the cgroup process N is in (per controller on v1) */
	RVMIG_ACT_TARGET_XEN = 3,    /* xen:DOMID, a Xen domain (0 .. 32751) */
};

/* What an action acts on: a value, filled by rvmig_act_target_parse().
 * It and struct rvmig_act_setting are plain values of a fixed layout (no
 * size member): a later field would come as a new struct with new calls. */
struct rvmig_act_target {
	enum rvmig_act_target_kind kind;
	long id;                        /* PID: the pid; XEN: the domain id */
	char path[RVMIG_ACT_PATH_MAX];  /* CGROUP: the path as given */
};

/* One setting, in the units of enum rvmig_action_kind: `value` for the
 * kinds that take a number (CG_CPU_MAX: CPUs x 1e6 or
 * RVMIG_ACT_CPU_MAX_UNLIMITED; CG_CPU_WEIGHT: cgroup v2 cpu.weight units;
 * CREDIT_CAP: % of one CPU, 0 none), `arg` the CPU list of CG_CPUSET
 * ("0-1,3"; "" only as an old v2 setting: the parent's) and of PIN (all
 * the domain's vCPUs' hard affinity: a list or "all"; read back as xl
 * prints vCPU 0's). */
struct rvmig_act_setting {
	int64_t value;
	char arg[RVMIG_ACT_ARG_MAX];
};

/* Opens an actuator on backend "linux", "xen" or "auto" (both).  ctx may
 * be NULL (nothing logged).  0, -EINVAL (no backend of that name), -ENOMEM. */
RVMIG_API int rvmig_act_open(rvmig_ctx *ctx, const char *backend, rvmig_act **out);
/* NULL is ignored.  Undo records outlive the handle only to be freed. */
RVMIG_API void rvmig_act_close(rvmig_act *act);

/* Parses "cgroup:PATH", "pid:N" (N > 0) or "xen:DOMID" into *t.  Pure.
 * 0 or -EINVAL with err set (the spec escaped). */
RVMIG_API int rvmig_act_target_parse(const char *spec, struct rvmig_act_target *t, char *err,
				     size_t errlen);
/* The target as it was given ("cgroup:/sys/...", "pid:42", "xen:3"),
 * escaped, into buf; returns buf. */
RVMIG_API const char *rvmig_act_target_name(const struct rvmig_act_target *t, char *buf,
					    size_t len);

/* A setting as text for logs: "0.200 CPU", "max", "weight 100", "cap 20%",
 * "cap none", "2 vCPUs", "cpus 0-1", "pcpus all" (escaped); returns buf. */
RVMIG_API const char *rvmig_act_format(enum rvmig_action_kind k, const struct rvmig_act_setting *s,
				       char *buf, size_t len);
/* The CPU share (CPUs) a setting of kind k grants: a CPU quota or a credit
 * cap in CPUs, a vCPU count; no quota or cap: `unlimited`.  NaN for the
 * kinds whose share depends on the neighbours (weights) or on nothing
 * countable (CPU lists). */
RVMIG_API double rvmig_act_share(enum rvmig_action_kind k, const struct rvmig_act_setting *s,
				 double unlimited);

/* Reads the current setting of kind k on t into *out, and where it lives
 * (the file, or "Xen domain D (xl ...)") into where (wherelen bytes, may be
 * NULL).  0 or -errno: -ENOTSUP (no backend of this handle acts on t with
 * k), -ENOENT, -EACCES, -EPERM (a path outside the cgroup mounts), -EPROTO
 * (a file or xl output that does not parse), -ETIMEDOUT (xl's deadline). */
RVMIG_API int rvmig_act_read(rvmig_act *act, const struct rvmig_act_target *t,
			     enum rvmig_action_kind k, struct rvmig_act_setting *out, char *where,
			     size_t wherelen, char *err, size_t errlen);
/* Applies action a (its kind, value and arg) on t: check, read, write,
 * read back.  *undo (free with rvmig_act_change_free()) on success.  -ERANGE
 * (a value out of bounds, nothing written), -EINVAL (a malformed CPU
 * list), -ENOTSUP (a kind no actuator of this handle carries out), -EIO
 * (the read-back differs: the old setting was written back), the errors of
 * rvmig_act_read(). */
RVMIG_API int rvmig_act_apply(rvmig_act *act, const struct rvmig_act_target *t,
			      const struct rvmig_action *a, rvmig_act_change **undo, char *err,
			      size_t errlen);
/* Writes the undo record's old setting back and reads it back (-EIO when
 * it differs).  The record stays valid (an undo may be retried). */
RVMIG_API int rvmig_act_undo(rvmig_act *act, const rvmig_act_change *undo, char *err, size_t errlen);
/* NULL is ignored. */
RVMIG_API void rvmig_act_change_free(rvmig_act_change *undo);
/* The record's action kind, target, where the setting lives, the setting
 * before the action and the one read back after it.  Never NULL. */
RVMIG_API enum rvmig_action_kind rvmig_act_change_kind(const rvmig_act_change *undo);
RVMIG_API const struct rvmig_act_target *rvmig_act_change_target(const rvmig_act_change *undo);
RVMIG_API const char *rvmig_act_change_where(const rvmig_act_change *undo);
RVMIG_API const struct rvmig_act_setting *rvmig_act_change_old(const rvmig_act_change *undo);
RVMIG_API const struct rvmig_act_setting *rvmig_act_change_now(const rvmig_act_change *undo);

/* Finds a Xen domain in `xl list`: by name, or with name NULL by *domid;
 * its id into *domid and its state ("-b----") into state (len bytes).
 * 1 listed, 0 not, -errno (xl failed: err says how). */
RVMIG_API int rvmig_act_xen_domain(rvmig_act *act, const char *name, long *domid, char *state,
				   size_t len, char *err, size_t errlen);

/* A line of a command's stdout (fd 1) or stderr (fd 2), raw (not
 * escaped), without its end ('\n' or '\r', as progress lines end). */
typedef void rvmig_act_line_fn(void *arg, int fd, const char *line);

/*
 * Runs argv (argv[0] searched in PATH, no shell, stdin /dev/null) for at
 * most timeout_ms, in the caller's thread.  Its stdout goes into out
 * (outcap bytes, NUL-terminated, the rest dropped) when out is not NULL;
 * each line to on_line when that is not NULL.  0 when it exited 0; -EIO
 * when it exited otherwise (err: "CMD: exit status N: WHY", escaped: WHY
 * the stderr lines that report a failure, the first and the last three,
 * joined by " | " (lines below warning level, "libxl: debug: ..." and the
 * like, skipped); without such lines the first and the last other line,
 * or with none the last line);
 * -ETIMEDOUT when it was killed at the deadline (the same lines after
 * "; its stderr: "); -ENOENT (no such
 * program) and the other errors of posix_spawn.  act may be NULL.
 */
RVMIG_API int rvmig_act_run(rvmig_act *act, char *const argv[], int64_t timeout_ms, char *out,
			    size_t outcap, rvmig_act_line_fn *on_line, void *arg, char *err,
			    size_t errlen);

/* How rvmig_act_exec() runs a command.  Size-versioned: size =
 * sizeof(struct rvmig_act_exec_attr) of the caller's header; fields a
 * caller's size does not cover take their defaults (since RVMIG_0.15). */
struct rvmig_act_exec_attr {
	size_t size;
	int64_t timeout_ms;         /* start to exit, > 0 (as rvmig_act_run()'s) */
	char *out;                  /* stdout, as rvmig_act_run()'s; NULL: not kept */
	size_t outcap;
	rvmig_act_line_fn *on_line; /* each line, as rvmig_act_run()'s; NULL: none */
	void *arg;
	/* Optional: a nonzero value (a signal number) stops the command, looked
	 * at every RVMIG_ACT_STOP_POLL_MS or sooner: SIGTERM to its process
	 * group, SIGKILL term_ms later, reaped.  With it the command runs in a
	 * process group of its own (a terminal's SIGINT reaches the caller
	 * alone, which stops it through this flag), and the deadline signals
	 * that whole group too; without it, as rvmig_act_run(): the caller's
	 * process group, the command alone signalled. */
	const volatile int *stop;
	/* SIGTERM to SIGKILL, at a stop or the deadline; 0: RVMIG_ACT_TERM_MS. */
	int64_t term_ms;
};

#define RVMIG_ACT_STOP_POLL_MS 100 /* how often a running command's stop flag is looked at */

/*
 * rvmig_act_run() with a stop flag (struct rvmig_act_exec_attr): the same
 * returns, and -EINTR when a stop ended it (err: "CMD: stopped (signal N):
 * SIGTERM to its process group", ", SIGKILL after T ms" when it outlived
 * the grace, its stderr lines after "; its stderr: "), or before it
 * started (nothing run: "CMD: not started: asked to stop (signal N)").  A
 * command that exited by itself before the stop was seen returns as it
 * exited.  Every
 * wait, the reap after SIGKILL too, has a deadline: a command still there
 * RVMIG_ACT_TERM_MS after SIGKILL (a process in an uninterruptible wait) is
 * left, err says so.  -EINVAL: argv or attr NULL, a size below the first
 * two fields, timeout_ms <= 0.  act may be NULL.  (RVMIG_0.15)
 */
RVMIG_API int rvmig_act_exec(rvmig_act *act, char *const argv[],
			     const struct rvmig_act_exec_attr *attr, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
