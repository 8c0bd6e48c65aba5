/* SPDX-License-Identifier: MIT */
/* xl_parse.h - the Xen actuator's readers of xl output (xl_parse.c),
 * apart from running xl (xl.c) so that they are tested without Xen. */
#ifndef RVMIG_ACT_XEN_XL_PARSE_H
#define RVMIG_ACT_XEN_XL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of xl output read back (xl.c): xl list or
 * vcpu-list of a host with a few hundred domains fits. */
#define XL_OUT_MAX 65536

/* Finds domain `domid`'s line ("NAME ID WEIGHT CAP", the name anything
 * without a newline) in NUL-terminated xl output and reads its weight and
 * cap.  0, or -ESRCH when no line has that id. */
int act_xen_parse_sched(const char *text, long domid, int64_t *weight, int64_t *cap);

/* Finds vCPU 0 of domain `domid` in `xl vcpu-list` output ("NAME ID VCPU
 * CPU STATE TIME HARD / SOFT") and copies its hard affinity ("0-1", "all")
 * into hard (len bytes).  0, -ESRCH (no such line), -ENAMETOOLONG. */
int act_xen_parse_affinity(const char *text, long domid, char *hard, size_t len);

/* Counts domain `domid`'s vCPUs in `xl vcpu-list` output: all it lists
 * (its maximum) and those online (a CPU number rather than "-").  0, or
 * -ESRCH when it has none there. */
int act_xen_parse_vcpus(const char *text, long domid, unsigned *online, unsigned *max);

/* Finds domain `name`'s line in `xl list` output ("NAME ID MEM VCPUS
 * STATE TIME", the name up to the first blank), or with name NULL the line
 * of id *domid, and reads its id and state ("-b----").  0, -ESRCH (no such
 * line), -ENAMETOOLONG (state longer than len - 1). */
int act_xen_parse_list(const char *text, const char *name, long *domid, char *state, size_t len);

#endif
