/* SPDX-License-Identifier: MIT */
/*
 * transfers.h - the monitor's reader of transfer files (internal): every
 * run directory scanned, every file checked (rvmig/monitor.h, "Transfers").
 */
#ifndef RVMIG_MONITOR_TRANSFERS_H
#define RVMIG_MONITOR_TRANSFERS_H

#include "monitor/snap.h"

struct rvmig_ctx;

#define MON_XFER_FILES_MAX 4096 /* files looked at per directory and sample */
#define MON_XFER_MAX 4096       /* transfers per snapshot */

/* Fills snap->xfer / snap->nxfer.  Returns 0 or -ENOMEM (snapshot left
 * without transfers); unreadable directories and refused files are not
 * errors. */
int mon_transfers_read(struct rvmig_ctx *ctx, struct rvmig_monitor_snap *snap);

#endif
