/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"

RVMIG_API int rvmig_ctx_create(const struct rvmig_ctx_attr *attr, rvmig_ctx **out)
{
	struct rvmig_ctx *ctx;

	if (!out)
		return -EINVAL;
	if (attr && attr->size < offsetof(struct rvmig_ctx_attr, logger))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	if (attr && attr->size >= offsetof(struct rvmig_ctx_attr, logger) + sizeof(attr->logger))
		ctx->logger = attr->logger;
	*out = ctx;
	return 0;
}

RVMIG_API void rvmig_ctx_destroy(rvmig_ctx *ctx)
{
	free(ctx);
}
