/* SPDX-License-Identifier: MIT */
/* Internal logging: everything goes to the caller-supplied logger. */
#ifndef RVMIG_CORE_LOG_H
#define RVMIG_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/common.h>

struct rvmig_ctx;

__attribute__((format(printf, 4, 5)))
void rvmig_logf(const struct rvmig_ctx *ctx, enum rvmig_log_level lvl, const char *subsys,
		const char *fmt, ...);

/*
 * A warning that a peer was refused or dropped before it was served (wrong
 * key, malformed hello, too slow, over a limit).  Anyone can cause these,
 * as fast as they can connect, so they are rate-limited per context as sshd
 * does: of each kind (each fmt; the first REFUSAL_KINDS kinds seen in an
 * interval, the rest share one count) the first LOG_REFUSAL_BURST of each
 * LOG_REFUSAL_INTERVAL_MS are logged; the others are counted, and one line
 * says how many there were and what the first of them was, once the
 * interval is over (at the next refusal or log_refusal_flush()).  fmt must
 * be a string literal: its address tells the kinds apart.
 */
#define LOG_REFUSAL_BURST 5
#define LOG_REFUSAL_INTERVAL_MS 10000
__attribute__((format(printf, 3, 4)))
void log_refusal(struct rvmig_ctx *ctx, const char *subsys, const char *fmt, ...);
/* Logs the summary of an interval that is over (with `now`, of the held
 * refusals whatever the time: a listener that closes).  Returns when
 * (CLOCK_MONOTONIC ns) the summary of the refusals still held is due, 0 if
 * none are; a listener wakes up for it. */
uint64_t log_refusal_flush(struct rvmig_ctx *ctx, bool now);

#define LOG_ERR(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_ERROR, (sub), __VA_ARGS__)
#define LOG_WARN(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_WARN, (sub), __VA_ARGS__)
#define LOG_INFO(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_INFO, (sub), __VA_ARGS__)
#define LOG_DBG(ctx, sub, ...) rvmig_logf((ctx), RVMIG_LOG_DEBUG, (sub), __VA_ARGS__)

#endif
