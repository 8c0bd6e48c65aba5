/* SPDX-License-Identifier: MIT */
/*
 * The Xen backend's device names (librvmig/monitor/xen/devname.c): vifs as
 * dom0 names them, VBDs from their virtual-device numbers as Xen's VBD
 * interface defines them (xl's "xvda" is 51712 = 202 << 8; "xvdb1" 51729;
 * the extended form 1 << 28 | disk << 8 | partition for disks past xvdp).
 */
#include <criterion/criterion.h>

#include "monitor/xen/devname.h"

static const char *vbd(uint32_t dev)
{
	static char buf[32];

	xen_vbd_name(dev, buf, sizeof(buf));
	return buf;
}

Test(monitor_xen_devname, vif)
{
	char buf[32];

	xen_vif_name(3, 0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "vif3.0");
	xen_vif_name(32767, 12, buf, sizeof(buf));
	cr_assert_str_eq(buf, "vif32767.12");
}

Test(monitor_xen_devname, vbd_numbers)
{
	cr_assert_str_eq(vbd(51712), "xvda");
	cr_assert_str_eq(vbd(51713), "xvda1");
	cr_assert_str_eq(vbd(51729), "xvdb1");
	cr_assert_str_eq(vbd(202 << 8 | 15 << 4 | 15), "xvdp15");
	cr_assert_str_eq(vbd(1u << 28 | 16 << 8), "xvdq");
	cr_assert_str_eq(vbd(1u << 28 | 25 << 8 | 3), "xvdz3");
	cr_assert_str_eq(vbd(1u << 28 | 26 << 8), "xvdaa");
	cr_assert_str_eq(vbd(1u << 28 | 701 << 8), "xvdzz");
	cr_assert_str_eq(vbd(1u << 28 | 702 << 8 | 255), "xvdaaa255");
	cr_assert_str_eq(vbd(1u << 28 | 0xfffffu << 8), "xvdbgqcv");
	/* hd* and sd* forms: the number */
	cr_assert_str_eq(vbd(3 << 8), "768");
	cr_assert_str_eq(vbd(8 << 8 | 16), "2064");
}

Test(monitor_xen_devname, cut_to_the_buffer)
{
	char buf[5];

	xen_vbd_name(1u << 28 | 702 << 8 | 255, buf, sizeof(buf));
	cr_assert_str_eq(buf, "xvda");
}
