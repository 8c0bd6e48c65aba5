/* SPDX-License-Identifier: MIT */
/*
 * trace.h - Xen scheduler trace records turned into per-vCPU time in each
 * runstate, the XenMon way (internal; pure computation, no I/O: the unit
 * test and the fuzzer feed it recorded bytes).
 *
 * Facts from Xen 4.17's public/trace.h and common/sched/core.c:
 * - A record (struct t_rec) is a 32-bit header -- event in bits 0-27, the
 *   number of 32-bit data words (0-7) in bits 28-30, "a TSC follows" in bit
 *   31 -- then, with bit 31, the TSC as two 32-bit words (low, high), then
 *   the data words.  Little-endian (x86).
 * - TRC_SCHED_RUNSTATE_CHANGE (0x00021001) is traced, with the TSC, each
 *   time a vCPU changes runstate: the old state in event bits 8-9, the new
 *   one in bits 4-5 (0 running, 1 runnable, 2 blocked, 3 offline), and one
 *   data word: vCPU id in bits 0-15, domain id in bits 16-31.  The time a
 *   vCPU spent in a state is the TSC difference between two consecutive
 *   changes of that vCPU, whatever pCPU traced them: records of all pCPUs
 *   are merged by TSC first.
 * - TRC_SCHED_CONTINUE_RUNNING (0x00021002, with the TSC, the same data
 *   word) is traced when the scheduler ran and kept the running vCPU: the
 *   running time up to it is counted then (a vCPU alone on its pCPU may not
 *   change state for seconds), and a vCPU first seen there is known to run.
 * - TRC_LOST_RECORDS (0x0001f001): a pCPU's buffer was full and records
 *   were dropped; what follows for a vCPU cannot be joined to what came
 *   before.  TRC_TRACE_CPU_CHANGE (0x0001f003) is written by xentrace into
 *   its files before each pCPU's chunk (data: the pCPU, the chunk's bytes).
 * - credit2 parks a vCPU whose domain used up its cap: its runstate becomes
 *   offline and it goes from offline straight to running when unparked.
 *   That offline time is time the vCPU wanted a CPU and was held back, so
 *   it is counted as waiting (parked_ns), as the Linux backend counts time
 *   held back by a CFS quota.
 */
#ifndef RVMIG_MONITOR_XEN_TRACE_H
#define RVMIG_MONITOR_XEN_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define XT_EV_LOST_RECORDS 0x0001f001u
#define XT_EV_WRAP_BUFFER 0x0001f002u
#define XT_EV_CPU_CHANGE 0x0001f003u
#define XT_EV_RUNSTATE_CHANGE 0x00021001u
#define XT_EV_CONTINUE_RUNNING 0x00021002u
#define XT_RUNSTATE_MASK 0x330u /* the old/new state bits of a runstate change */

enum { XT_RUNNING, XT_RUNNABLE, XT_BLOCKED, XT_OFFLINE, XT_NSTATES };

/* One decoded record. */
struct xt_rec {
	uint32_t event;
	unsigned nextra;
	int has_tsc;
	uint64_t tsc;
	uint32_t extra[7];
};

/* Decodes the record at p (len bytes available).  Returns its size in
 * bytes, 0 when len is too short to hold it (wait for more). */
size_t xt_decode(const void *p, size_t len, struct xt_rec *r);

/* Per vCPU, cumulative since it was first seen. */
struct xt_vcpu {
	uint16_t dom, vcpu;
	uint8_t state;       /* the last one known */
	uint8_t known;       /* state and last_tsc hold (0 at first, after a loss) */
	uint64_t last_tsc;
	uint64_t cycles[XT_NSTATES]; /* time in each runstate, TSC cycles */
	uint64_t parked_cycles;      /* offline time that ended in running (cap) */
	uint64_t runs;               /* times it was given a CPU */
};

struct xt_state {
	struct xt_vcpu *v;   /* sorted by (dom, vcpu) */
	size_t nv, cap;
	uint64_t records;    /* runstate changes applied */
	uint64_t lost;       /* TRC_LOST_RECORDS seen */
	uint64_t backwards;  /* a vCPU's change older than its last one: skipped */
	uint64_t mismatch;   /* a change whose old state was not the one known */
	uint64_t max_tsc;    /* the latest TSC applied */
};

/* Applies one record: runstate changes, continue-running and lost
 * records; others are ignored.  Returns 0 or -ENOMEM. */
int xt_apply(struct xt_state *s, const struct xt_rec *r);
/* Sorts recs by TSC (stable: records of one pCPU keep their order) and
 * applies them. */
int xt_apply_batch(struct xt_state *s, struct xt_rec *recs, size_t n);
/* The vCPU's entry, or NULL. */
const struct xt_vcpu *xt_find(const struct xt_state *s, uint16_t dom, uint16_t vcpu);
void xt_free(struct xt_state *s);

/* Cycles to ns at cpu_khz (0 when cpu_khz is 0). */
uint64_t xt_cycles_ns(uint64_t cycles, uint32_t cpu_khz);

/*
 * A file written by xentrace: chunks of one pCPU's records, each after a
 * TRC_TRACE_CPU_CHANGE record.  Decodes the whole buffer, merges all pCPUs
 * by TSC and applies the records.  Returns the number of records decoded,
 * or -EINVAL when a chunk runs past the end (the log is not cut).
 */
long xt_apply_file(struct xt_state *s, const void *p, size_t len);

#endif
