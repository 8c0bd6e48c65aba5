/* SPDX-License-Identifier: MIT */
/*
 * rvmig_version(): the numbers and the string agree with the RVMIG_VERSION_*
 * macros this library was built with, and every out pointer may be NULL.
 * (The installed shared library is checked by tests/install.)
 */
#include <stdio.h>

#include <criterion/criterion.h>

#include <rvmig.h>

Test(version, numbers_and_string_match_the_header)
{
	int major = -1, minor = -1, patch = -1;
	char want[32];
	const char *s = rvmig_version(&major, &minor, &patch);

	cr_assert_eq(major, RVMIG_VERSION_MAJOR);
	cr_assert_eq(minor, RVMIG_VERSION_MINOR);
	cr_assert_eq(patch, RVMIG_VERSION_PATCH);
	snprintf(want, sizeof(want), "%d.%d.%d", RVMIG_VERSION_MAJOR, RVMIG_VERSION_MINOR,
		 RVMIG_VERSION_PATCH);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
}

Test(version, null_pointers_are_allowed)
{
	int minor = -1;
	const char *s = rvmig_version(NULL, NULL, NULL);

	cr_assert_not_null(s);
	cr_assert_str_eq(rvmig_version(NULL, &minor, NULL), s, "same string on every call");
	cr_assert_eq(minor, RVMIG_VERSION_MINOR);
}
