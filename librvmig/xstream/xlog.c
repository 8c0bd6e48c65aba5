/* SPDX-License-Identifier: MIT */
/* xlog.c - the receiving session's messages and clock (xlog.h). */
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "xstream/xlog.h"

void xlog(const struct rvmig_logger *lg, enum rvmig_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!lg || !lg->fn || lvl > lg->max_level)
		return;
	va_start(ap, fmt);
	lg->fn(lg->arg, lvl, "xrecv", fmt, ap);
	va_end(ap);
}

const char *xstream_ep_why(const rvmig_ep *ep, int err)
{
	const char *why = ep ? rvmig_ep_error(ep) : NULL;

	return why && *why ? why : rvmig_strerror(err);
}

double xstream_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
