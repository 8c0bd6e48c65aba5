/* SPDX-License-Identifier: MIT */
#ifndef RVMIG_CORE_CTX_H
#define RVMIG_CORE_CTX_H

#include <rvmig/common.h>

struct rvmig_ctx {
	struct rvmig_logger logger;
};

#endif
