/* SPDX-License-Identifier: MIT */
#ifndef RVMIG_CORE_CTX_H
#define RVMIG_CORE_CTX_H

#include <rvmig/common.h>

#include <stdint.h>

/* Refused peers, logged at a bounded rate (core/log.h: log_refusal()). */
#define REFUSAL_KINDS 8
struct refusal_log {
	uint64_t start_ns;  /* CLOCK_MONOTONIC start of the current interval */
	struct {
		const char *fmt; /* the kind of refusal: its message's format */
		uint32_t logged; /* refusals of this kind logged one by one */
	} kind[REFUSAL_KINDS];
	uint32_t nkinds;
	uint32_t held;      /* refusals past those: counted, summarised later */
	char first[192];    /* the first of the held ones */
};

struct rvmig_ctx {
	struct rvmig_logger logger;
	struct refusal_log refusals;
};

#endif
