/* SPDX-License-Identifier: MIT */
/*
 * act_int.h - inside the actuators (rvmig/act.h): one backend per system
 * behind one ops table (linux/cgroup.c: cgroup v1/v2 files; xen/xl.c: the
 * Xen credit schedulers, pinning and vCPU counts through `xl`), listed in
 * act.c; the pure parts (units.c: bounds, CPU lists, unit conversions,
 * read-back comparison, text) apart from any I/O so that they are tested
 * alone.
 */
#ifndef RVMIG_ACT_INT_H
#define RVMIG_ACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/act.h>

#define ACT_CPU_WORDS (RVMIG_ACT_CPUS_MAX / 64)

/* A backend.  get() fills *out with the current setting and `where` with
 * the file or domain it read; set() writes one act_check() accepted.  Both
 * return 0 or -errno with err set. */
struct act_ops {
	const char *name;
	/* 1 when this backend acts on targets of kind tk with actions of kind k. */
	int (*handles)(enum rvmig_act_target_kind tk, enum rvmig_action_kind k);
	int (*get)(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
		   struct rvmig_act_setting *out, char *where, size_t wherelen, char *err,
		   size_t errlen);
	int (*set)(rvmig_act *act, const struct rvmig_act_target *t, enum rvmig_action_kind k,
		   const struct rvmig_act_setting *s, char *err, size_t errlen);
};

extern const struct act_ops act_linux_ops, act_xen_ops;

struct rvmig_act {
	rvmig_ctx *ctx;
	const struct act_ops *ops[2]; /* the backends opened; NULL where none */
	long ncpus;                   /* the host's CPUs (the bound of a CPU quota) */
};

/* A public call's err NULL or errlen 0: the backends write into `local`
 * (a char array) instead. */
#define ACT_ERRBUF(err, errlen, local)           \
	do {                                     \
		if (!(err) || !(errlen)) {       \
			(err) = (local);         \
			(errlen) = sizeof(local); \
		}                                \
	} while (0)

/* Formats into err (errlen bytes; nothing when err is NULL or errlen 0). */
__attribute__((format(printf, 3, 4)))
void act_err(char *err, size_t errlen, const char *fmt, ...);

/* ---- pure (units.c) ---- */

/* Bounds and syntax of a setting of kind k on a host of ncpus CPUs.  0,
 * -ERANGE (a value out of bounds), -EINVAL (a malformed CPU list),
 * -ENOTSUP (a kind no actuator carries out); err says which value and
 * why. */
int act_check(enum rvmig_action_kind k, const struct rvmig_act_setting *s, long ncpus, char *err,
	      size_t errlen);
/* 1 when the read-back setting `got` is what `want` asked for (CPU
 * quotas within the kernel's rounding, CPU lists as sets). */
int act_same(enum rvmig_action_kind k, const struct rvmig_act_setting *want,
	     const struct rvmig_act_setting *got);
/* CPU lists ("0-3,5"): each CPU below RVMIG_ACT_CPUS_MAX, ranges
 * ascending, into a bitmap.  0, or -EINVAL with err naming the offending
 * piece. */
int act_cpulist_parse(const char *s, uint64_t mask[ACT_CPU_WORDS], char *err, size_t errlen);
/* The CPUs of a bitmap. */
int act_cpulist_count(const uint64_t mask[ACT_CPU_WORDS]);
/* The first n CPUs of mask as a list ("0-1,4" written "0,1,4") into list
 * (len bytes).  0, -ERANGE (mask has fewer), -ENAMETOOLONG. */
int act_cpulist_first(const uint64_t mask[ACT_CPU_WORDS], int64_t n, char *list, size_t len);

/* cgroup v2 cpu.weight (1..10000) <-> v1 cpu.shares (weight x 1024 / 100,
 * rounded, clamped to the kernel's 2..262144). */
int64_t act_weight_to_shares(int64_t weight);
int64_t act_shares_to_weight(int64_t shares);
/* A CPU quota in CPUs x 1e6 (RVMIG_ACT_CPU_MAX_UNLIMITED: -1) <-> CFS
 * quota microseconds at a period of period_us (> 0; quota -1: none). */
int64_t act_quota_us(int64_t cpus_e6, int64_t period_us);
int64_t act_quota_cpus(int64_t quota_us, int64_t period_us);

#endif
