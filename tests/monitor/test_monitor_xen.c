/* SPDX-License-Identifier: MIT */
/*
 * The Xen monitor backend on a host that is not a Xen dom0 (the build
 * machines): asked for by name it refuses with -RVMIG_ENOXEN and a log line
 * saying why; "auto" falls back to the linux backend.  (In dom0 the Xen
 * tier's xen.monitor checks the backend itself.)  Skipped where
 * /sys/hypervisor/type says xen.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "../unit/logkeep.h"

static int on_xen(void)
{
	char buf[8] = "";
	FILE *f = fopen("/sys/hypervisor/type", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return !strncmp(buf, "xen", 3);
}

static rvmig_ctx *ctx_with_log(void)
{
	struct rvmig_ctx_attr a = {
		.size = sizeof(a),
		.logger = { .fn = log_keep, .max_level = RVMIG_LOG_DEBUG },
	};
	rvmig_ctx *ctx;

	logged[0] = 0;
	cr_assert_eq(rvmig_ctx_create(&a, &ctx), 0);
	return ctx;
}

Test(monitor_xen, listed)
{
	const char *const *b = rvmig_monitor_backends();
	int xen = 0, linux = 0;

	for (; *b; b++) {
		xen |= !strcmp(*b, "xen");
		linux |= !strcmp(*b, "linux");
	}
	cr_expect(xen && linux, "backends: xen %d, linux %d", xen, linux);
}

Test(monitor_xen, refused_without_xen)
{
	rvmig_monitor *mon = NULL;
	rvmig_ctx *ctx;

	if (on_xen())
		cr_skip_test("this host is a Xen domain");
	ctx = ctx_with_log();
	cr_assert_eq(rvmig_monitor_open(ctx, "xen", &mon), -RVMIG_ENOXEN, "log:\n%s", logged);
	cr_expect_null(mon);
	cr_expect(strstr(logged, "no Xen hypervisor here"), "log:\n%s", logged);
	cr_expect(strstr(logged, "monitor backend xen cannot work on this host"), "log:\n%s",
		  logged);
	rvmig_ctx_destroy(ctx);
}

Test(monitor_xen, auto_falls_back_to_linux)
{
	rvmig_monitor *mon = NULL;
	rvmig_ctx *ctx;

	if (on_xen())
		cr_skip_test("this host is a Xen domain");
	ctx = ctx_with_log();
	cr_assert_eq(rvmig_monitor_open(ctx, "auto", &mon), 0, "log:\n%s", logged);
	cr_expect_str_eq(rvmig_monitor_backend(mon), "linux");
	rvmig_monitor_close(mon);
	rvmig_ctx_destroy(ctx);
}
