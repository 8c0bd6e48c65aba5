/* A tiny program built against an installed librvmig. */
#include <stdio.h>
#include <string.h>

#include <rvmig.h>

int main(void)
{
	rvmig_ctx *ctx;
	const char *const *t;
	int rc = rvmig_ctx_create(NULL, &ctx);

	if (rc) {
		fprintf(stderr, "rvmig_ctx_create: %s\n", rvmig_strerror(rc));
		return 1;
	}
	for (t = rvmig_transports(); *t; t++)
		printf("transport %s\n", *t);
	rvmig_ctx_destroy(ctx);
	return strcmp(rvmig_strerror(-RVMIG_EPROTO_VERSION), "") ? 0 : 1;
}
