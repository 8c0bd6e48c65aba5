/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <time.h>

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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define REFUSAL_INTERVAL_NS ((uint64_t)LOG_REFUSAL_INTERVAL_MS * 1000000ull)

/* Ends the interval if it is over (or `force`): the summary of what it held. */
static void refusal_interval_end(struct rvmig_ctx *ctx, uint64_t now, bool force)
{
	struct refusal_log *r = &ctx->refusals;

	if (now - r->start_ns < REFUSAL_INTERVAL_NS && !force)
		return;
	if (r->held)
		rvmig_logf(ctx, RVMIG_LOG_WARN, "proto",
			   "%u more peers refused in the last %u s, not logged one by one "
			   "(at most %u of a kind are per %u s); the first: %s",
			   r->held, (unsigned)((now - r->start_ns + 500000000ull) / 1000000000ull),
			   LOG_REFUSAL_BURST, LOG_REFUSAL_INTERVAL_MS / 1000, r->first);
	r->start_ns = now;
	r->nkinds = r->held = 0;
}

void log_refusal(struct rvmig_ctx *ctx, const char *subsys, const char *fmt, ...)
{
	struct refusal_log *r;
	uint64_t now = now_ns();
	uint32_t k;
	va_list ap;

	if (!ctx)
		return;
	r = &ctx->refusals;
	if (!r->start_ns)
		r->start_ns = now;
	refusal_interval_end(ctx, now, false);
	for (k = 0; k < r->nkinds && r->kind[k].fmt != fmt; k++)
		;
	if (k == r->nkinds && r->nkinds < REFUSAL_KINDS) {
		r->kind[k].fmt = fmt;
		r->kind[k].logged = 0;
		r->nkinds++;
	} else if (k == r->nkinds) {
		k = REFUSAL_KINDS - 1; /* too many kinds: the last one counts the rest */
	}
	if (r->kind[k].logged < LOG_REFUSAL_BURST) {
		r->kind[k].logged++;
		if (!ctx->logger.fn || RVMIG_LOG_WARN > ctx->logger.max_level)
			return;
		va_start(ap, fmt);
		ctx->logger.fn(ctx->logger.arg, RVMIG_LOG_WARN, subsys, fmt, ap);
		va_end(ap);
		return;
	}
	if (!r->held++) {
		va_start(ap, fmt);
		vsnprintf(r->first, sizeof(r->first), fmt, ap);
		va_end(ap);
	}
}

uint64_t log_refusal_flush(struct rvmig_ctx *ctx, bool now)
{
	if (!ctx || !ctx->refusals.start_ns)
		return 0;
	refusal_interval_end(ctx, now_ns(), now && ctx->refusals.held);
	return ctx->refusals.held ? ctx->refusals.start_ns + REFUSAL_INTERVAL_NS : 0;
}
