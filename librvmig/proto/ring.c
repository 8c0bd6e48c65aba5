/* SPDX-License-Identifier: MIT */
/* ring.c - the receiver's ring memory, faulted in before it is needed. */
#include <stdlib.h>
#include <sys/mman.h>

#include "proto/ep.h"

uint8_t *ring_alloc(size_t bytes)
{
	uint8_t *p = aligned_alloc(4096, bytes);

#ifdef MADV_POPULATE_WRITE
	/* A transfer larger than the ring writes all of it: one call faults
	 * it in for about half the CPU of a fault per page on first touch
	 * (16 MiB on the build machine: 26-35 against 55-74 ms; a 256 MiB raw
	 * receive 0.21-0.24 against 0.23-0.26 s, 4 MiB no dearer; bench/README.md,
	 * issue 19, h2).  Best effort (kernels before 5.14: EINVAL). */
	if (p)
		(void)madvise(p, bytes, MADV_POPULATE_WRITE);
#endif
	return p;
}
