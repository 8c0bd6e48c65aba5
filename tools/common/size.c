/* SPDX-License-Identifier: MIT */
/* size.c - the one size syntax of the tools and benchmarks (size.h). */
#include <errno.h>
#include <stdlib.h>

#include "size.h"

int tool_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift) {
		end++;
		if (end[0] == 'i' && end[1] == 'B')
			end += 2;
		else if (end[0] == 'B')
			end++;
		if (v > UINT64_MAX >> shift)
			return -EINVAL;
		v <<= shift;
	} else if (*end == 'B') {
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}
