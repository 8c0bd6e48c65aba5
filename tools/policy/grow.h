/* SPDX-License-Identifier: MIT */
/* grow.h - the growing arrays of rvmig-policy's plans and traces. */
#ifndef RVMIG_TOOLS_POLICY_GROW_H
#define RVMIG_TOOLS_POLICY_GROW_H

#include <stdlib.h>

/* The array v (n elements of `elem` bytes used, *cap allocated) with room
 * for one more: v itself, or a larger copy (capacity doubled from 16), or
 * NULL when out of memory (v is then left as it was). */
static inline void *pol_grow(void *v, size_t n, size_t *cap, size_t elem)
{
	size_t c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 16;
	if (!(v = realloc(v, c * elem)))
		return NULL;
	*cap = c;
	return v;
}

#endif
