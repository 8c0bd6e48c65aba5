/* SPDX-License-Identifier: MIT */
/*
 * xlog.h - messages of the receiving session (rsession.c, output.c,
 * resume.c) through the logger its owner gave (struct rvmig_logger,
 * rvmig/common.h), subsystem "xrecv"; and why an endpoint failed.
 */
#ifndef RVMIG_XSTREAM_XLOG_H
#define RVMIG_XSTREAM_XLOG_H

#include <rvmig/common.h>
#include <rvmig/xfer.h>

/* Nothing happens when lg or its fn is NULL or lvl is above its level. */
void xlog(const struct rvmig_logger *lg, enum rvmig_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Why the endpoint failed, in its words if it has any (rvmig_ep_error()),
 * else rvmig_strerror(err). */
const char *xstream_ep_why(const rvmig_ep *ep, int err);

/* CLOCK_MONOTONIC in seconds. */
double xstream_now(void);

#endif
