/* SPDX-License-Identifier: MIT */
/* errbuf.c - error text into the caller's buffer (the policy model does
 * no I/O and keeps no logger). */
#include <stdarg.h>
#include <stdio.h>

#include "policy/common.h"

int pol_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
