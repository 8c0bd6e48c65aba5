/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "core/ctx.h"
#include "core/log.h"

void rvmig_logf(const struct rvmig_ctx *ctx, enum rvmig_log_level lvl, const char *subsys,
		const char *fmt, ...)
{
	va_list ap;

	if (!ctx || !ctx->logger.fn || lvl > ctx->logger.max_level)
		return;
	va_start(ap, fmt);
	ctx->logger.fn(ctx->logger.arg, lvl, subsys, fmt, ap);
	va_end(ap);
}

RVMIG_API void rvmig_log_stderr(void *arg, enum rvmig_log_level level, const char *subsys,
				const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];

	(void)arg;
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "rvmig[%s] %s: %s\n", subsys,
		(unsigned)level < 4 ? names[level] : "?", line);
}
