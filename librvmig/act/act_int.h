/* SPDX-License-Identifier: MIT */
/*
 * act.h - actuators: the settings a policy action changes, read, written,
 * read back and undone.  One backend per system behind one ops table
 * (act_linux.c: cgroup v1/v2 files; act_xen.c: the Xen credit schedulers
 * and vCPU counts through `xl`), listed in act.c.
 *
 * RVMIG_ACT_VCPUS: a Xen domain's online vCPUs (`xl vcpu-set`, bounded by
 * its maximum, read back from `xl vcpu-list`); on Linux a cgroup's cpuset
 * of that many CPUs (the first N its parent allows: the nearest analogue,
 * its threads share the N rather than going offline).
 *
 * A target names what an action acts on:
 *   cgroup:PATH   a cgroup directory (v1 or v2; for v1 the same group is
 *                 looked up in the hierarchy of the controller a kind needs)
 *   pid:N         the cgroup process N is in (per controller on v1)
 *   xen:DOMID     a Xen domain
 *
 * act_apply() validates the new setting (bounds, CPU lists) before
 * anything is written, reads the current one, writes the new one, reads it
 * back and compares, and fills an undo record (the old setting and where it
 * lives); act_undo() writes the old setting back and reads it back too.
 * Errors are -errno with `err` naming the file or domain and why.
 */
#ifndef RVMIG_TOOLS_POLICY_ACT_H
#define RVMIG_TOOLS_POLICY_ACT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig.h>

#define ACT_ARG_MAX 256         /* bytes of a CPU list, with the NUL */
#define ACT_WHERE_MAX PATH_MAX  /* bytes of the file / domain a setting lives in */

/* Bounds of the values, checked before any write (act_check()). */
#define ACT_CPU_MAX_UNLIMITED (-1) /* RVMIG_ACT_CG_CPU_MAX: no quota ("max", -1) */
#define ACT_CPU_MAX_MIN 1000       /* 0.001 CPU, in CPUs x 1e6 */
#define ACT_CG_WEIGHT_MIN 1        /* RVMIG_ACT_CG_CPU_WEIGHT, cgroup v2 units */
#define ACT_CG_WEIGHT_MAX 10000
#define ACT_XEN_WEIGHT_MIN 1       /* RVMIG_ACT_CREDIT_WEIGHT */
#define ACT_XEN_WEIGHT_MAX 65535
#define ACT_XEN_CAP_MAX 12800      /* RVMIG_ACT_CREDIT_CAP, % of one CPU (128 vCPUs) */
#define ACT_VCPUS_MAX 1024         /* RVMIG_ACT_VCPUS; each backend checks the domain's own bound */
/* One `xl` run, start to exit: xl answers in well under a second on a host,
 * but took 2-12 s in the test VM's emulated dom0 (one run past 10 s). */
#define ACT_XL_DEADLINE_MS 30000

enum act_target_kind {
	ACT_TARGET_CGROUP = 1,
	ACT_TARGET_PID = 2,
	ACT_TARGET_XEN = 3,
};

struct act_target {
	enum act_target_kind kind;
	char path[PATH_MAX]; /* CGROUP: as given */
	long id;             /* PID: the pid; XEN: the domain id */
};

/* One setting.  value: the kinds that take a number, in the units of
 * enum rvmig_action_kind (CG_CPU_MAX: CPUs x 1e6, or
 * ACT_CPU_MAX_UNLIMITED; CG_CPU_WEIGHT: cgroup v2 cpu.weight units,
 * converted to v1 cpu.shares as weight x 1024 / 100); arg: the CPU list of
 * CG_CPUSET ("0-1,3"; "" only as an old v2 setting: the parent's) and of PIN
 * (a Xen domain's hard affinity, all its vCPUs: a list or "all"; read back
 * as xl prints vCPU 0's, where a full set may read "all"). */
struct act_setting {
	int64_t value;
	char arg[ACT_ARG_MAX];
};

struct act_ops;

/* What act_apply() changed, enough to put it back. */
struct act_undo {
	const struct act_ops *ops;
	struct act_target target;
	enum rvmig_action_kind kind;
	char where[ACT_WHERE_MAX]; /* the file or domain, for messages */
	struct act_setting old;    /* before the action */
	struct act_setting now;    /* read back after it */
};

/* A backend.  get() fills *out with the current setting and `where` with
 * the file or domain it read; set() writes one act_check() accepted.  Both
 * return 0 or -errno with err set. */
struct act_ops {
	const char *name;
	/* 1 when this backend acts on targets of kind tk with actions of kind k. */
	int (*handles)(enum act_target_kind tk, enum rvmig_action_kind k);
	int (*get)(const struct act_target *t, enum rvmig_action_kind k, struct act_setting *out,
		   char *where, size_t wherelen, char *err, size_t errlen);
	int (*set)(const struct act_target *t, enum rvmig_action_kind k, const struct act_setting *s,
		   char *err, size_t errlen);
};

extern const struct act_ops act_linux_ops, act_xen_ops;

/* "cgroup:PATH", "pid:N", "xen:DOMID".  0 or -EINVAL with err set. */
int act_target_parse(const char *spec, struct act_target *t, char *err, size_t errlen);
/* The target as it was given ("cgroup:/sys/...", "pid:42", "xen:3"), escaped. */
const char *act_target_name(const struct act_target *t, char *buf, size_t len);

/* The backend for target t and kind k, or NULL. */
const struct act_ops *act_backend(const struct act_target *t, enum rvmig_action_kind k);

/* The setting an action asks for: value and arg copied.  Then act_check(). */
void act_setting_of(const struct rvmig_action *a, struct act_setting *s);
/* Bounds and syntax of a setting of kind k.  0, -ERANGE (a value out of
 * bounds), -EINVAL (a malformed CPU list), -ENOTSUP (a kind no actuator
 * carries out); err says which value and why. */
int act_check(enum rvmig_action_kind k, const struct act_setting *s, char *err, size_t errlen);
/* 1 when the read-back setting `got` is what `want` asked for (CPU
 * quotas within the kernel's rounding, CPU lists as sets). */
int act_same(enum rvmig_action_kind k, const struct act_setting *want, const struct act_setting *got);
/* A setting as text for logs: "0.200 CPU", "max", "weight 100", "cpus 0-1". */
const char *act_format(enum rvmig_action_kind k, const struct act_setting *s, char *buf, size_t len);

/* The CPU share (CPUs) a setting of kind k grants: a CPU quota or a
 * credit cap in CPUs, a vCPU count; no quota or cap 0 (none): `unlimited`
 * (the host's CPUs, the domain's vCPUs).  NaN for the kinds whose share
 * depends on the neighbours (weights) or on nothing countable. */
double act_share(enum rvmig_action_kind k, const struct act_setting *s, double unlimited);

/* Reads the current setting of kind k on t.  0 or -errno (-ENOTSUP: no
 * backend for it). */
int act_read(const struct act_target *t, enum rvmig_action_kind k, struct act_setting *out,
	     char *where, size_t wherelen, char *err, size_t errlen);
/* Applies action a on t: check, read, write, read back (-EIO when the
 * read-back differs; the old setting is then written back).  *undo is
 * filled on success. */
int act_apply(const struct act_target *t, const struct rvmig_action *a, struct act_undo *undo,
	      char *err, size_t errlen);
/* Writes the undo record's old setting back and reads it back. */
int act_undo(const struct act_undo *undo, char *err, size_t errlen);

/* CPU lists ("0-3,5"): each CPU below ACT_CPUS_MAX, ranges ascending.
 * Parses into a bitmap of ACT_CPUS_MAX bits; 0, or -EINVAL with err
 * naming the offending piece. */
#define ACT_CPUS_MAX 1024
int act_cpulist_parse(const char *s, uint64_t mask[ACT_CPUS_MAX / 64], char *err, size_t errlen);

#endif
