/* SPDX-License-Identifier: MIT */
/* version.c - rvmig_version(): the version of the library actually loaded. */
#include <rvmig/common.h>

#define VERSION_STR_(x) #x
#define VERSION_STR(x) VERSION_STR_(x)

RVMIG_API const char *rvmig_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = RVMIG_VERSION_MAJOR;
	if (minor)
		*minor = RVMIG_VERSION_MINOR;
	if (patch)
		*patch = RVMIG_VERSION_PATCH;
	return VERSION_STR(RVMIG_VERSION_MAJOR) "." VERSION_STR(RVMIG_VERSION_MINOR) "."
		VERSION_STR(RVMIG_VERSION_PATCH);
}
