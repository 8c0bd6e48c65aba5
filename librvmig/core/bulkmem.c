/* SPDX-License-Identifier: MIT */
/* bulkmem.c - bulk data memory, huge-page advised (bulkmem.h). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/bulkmem.h"

#define HUGE_2M ((size_t)2 << 20)

void *bulkmem_alloc(size_t len)
{
	void *p;

	if (len < HUGE_2M || len > SIZE_MAX - HUGE_2M)
		return aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
	len = (len + HUGE_2M - 1) & ~(HUGE_2M - 1);
	p = aligned_alloc(HUGE_2M, len);
#ifdef MADV_HUGEPAGE
	if (p)
		(void)madvise(p, len, MADV_HUGEPAGE); /* advice only: small pages else */
#endif
	return p;
}
