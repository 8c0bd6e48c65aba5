/* SPDX-License-Identifier: MIT */
/*
 * devname.h - names for a Xen domain's devices as the Xen backend reports
 * them (internal).  Pure, no Xen header: built on every host, so the unit
 * tier tests them (tests/unit/test_monitor_xen_devname.c).
 */
#ifndef RVMIG_MONITOR_XEN_DEVNAME_H
#define RVMIG_MONITOR_XEN_DEVNAME_H

#include <stddef.h>
#include <stdint.h>

/* "vifDOMID.ID": dom0's name for the vif. */
void xen_vif_name(uint64_t domid, uint32_t id, char *out, size_t cap);

/* The guest's name for a VBD from its xenstore virtual-device number
 * (Xen's VBD interface, docs/misc/vbd-interface): 202 << 8 | disk << 4 |
 * partition for disks 0-15, 1 << 28 | disk << 8 | partition beyond; disk 0
 * is "xvda", 26 "xvdaa"; partition 0 is the whole disk, N > 0 appends N.
 * Other numbers (hd*, sd* forms) are written in decimal. */
void xen_vbd_name(uint32_t dev, char *out, size_t cap);

#endif
