/* SPDX-License-Identifier: MIT */
/* size.h - the one size syntax of the rvmig tools and benchmarks
 * (documented in their man pages, "SIZES"). */
#ifndef RVMIG_TOOLS_SIZE_H
#define RVMIG_TOOLS_SIZE_H

#include <stdint.h>

/* The one size syntax of the tools and benchmarks: decimal digits, then
 * optionally K, M, G or T (x 2^10, 2^20, 2^30, 2^40; either case), each
 * optionally followed by "iB" or "B" (4096, 4K, 4KiB, 4KB and 4096B are
 * the same); nothing else, no sign, no hex, no overflow.  0 or -EINVAL. */
int tool_parse_u64(const char *s, uint64_t *out);

#endif
