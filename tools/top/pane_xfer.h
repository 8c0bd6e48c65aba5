/* SPDX-License-Identifier: MIT */
/*
 * pane_xfer.h - the live view's transfer pane (screen.h): the rvmig
 * transfers on the host (top_view.xfers): PID, ID, TOOL, STATE, TRANS,
 * MODE, PEER, DONE(k), TOTAL(k), RATE(MB/s), PAGES, TIME(s); sort keys
 * P I O S D Z R G E (Tab gives them the focus).
 */
#ifndef RVMIG_TOOLS_TOP_PANE_XFER_H
#define RVMIG_TOOLS_TOP_PANE_XFER_H

#include "top/screen.h"

extern const struct top_pane top_pane_transfers;

#endif
