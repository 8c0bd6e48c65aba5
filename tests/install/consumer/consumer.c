/* A tiny program built against an installed librvmig. */
#include <stdio.h>
#include <string.h>

#include <rvmig.h>

int main(void)
{
	rvmig_ctx *ctx;
	const char *const *t;
	char want[32];
	int major = -1, minor = -1, patch = -1;
	const char *version = rvmig_version(&major, &minor, &patch);
	int rc;

	/* The library found at run time must be the one these headers describe. */
	snprintf(want, sizeof(want), "%d.%d.%d", RVMIG_VERSION_MAJOR, RVMIG_VERSION_MINOR,
		 RVMIG_VERSION_PATCH);
	printf("librvmig %s (headers %s)\n", version, want);
	if (strcmp(version, want) || major != RVMIG_VERSION_MAJOR ||
	    minor != RVMIG_VERSION_MINOR || patch != RVMIG_VERSION_PATCH) {
		fprintf(stderr, "rvmig_version: %s (%d.%d.%d), headers say %s\n", version, major,
			minor, patch, want);
		return 1;
	}

	rc = rvmig_ctx_create(NULL, &ctx);
	if (rc) {
		fprintf(stderr, "rvmig_ctx_create: %s\n", rvmig_strerror(rc));
		return 1;
	}
	for (t = rvmig_transports(); *t; t++)
		printf("transport %s\n", *t);
	rvmig_ctx_destroy(ctx);
	return strcmp(rvmig_strerror(-RVMIG_EPROTO_VERSION), "") ? 0 : 1;
}
