/* SPDX-License-Identifier: MIT */
/*
 * logkeep.h - a test's logger that keeps every message in `logged`, a
 * line each, so that assertions can look for what the library said.  Clear
 * it with logged[0] = 0; messages past 4 KiB are dropped.  Header-only: each
 * test program gets its own copy.
 */
#ifndef RVMIG_TEST_LOGKEEP_H
#define RVMIG_TEST_LOGKEEP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rvmig.h>

static char logged[4096];

static void log_keep(void *arg, enum rvmig_log_level level, const char *subsys, const char *fmt,
		     va_list ap)
{
	size_t n = strlen(logged);

	(void)arg;
	(void)level;
	(void)subsys;
	if (n + 2 < sizeof(logged)) {
		vsnprintf(logged + n, sizeof(logged) - n - 1, fmt, ap);
		strcat(logged, "\n");
	}
}

#endif
