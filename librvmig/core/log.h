/* SPDX-License-Identifier: MIT */
/* Internal logging: everything goes to the caller-supplied logger. */
#ifndef RVMIG_CORE_LOG_H
#define RVMIG_CORE_LOG_H

#include <rvmig/common.h>

struct rvmig_ctx;

__attribute__((format(printf, 4, 5)))
void rvmig_logf(const struct rvmig_ctx *ctx, enum rvmig_log_level lvl, const char *subsys,
		const char *fmt, ...);

#define LOG_ERR(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_ERROR, (sub), __VA_ARGS__)
#define LOG_WARN(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_WARN, (sub), __VA_ARGS__)
#define LOG_INFO(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_INFO, (sub), __VA_ARGS__)
#define LOG_DBG(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_DEBUG, (sub), __VA_ARGS__)

#endif
