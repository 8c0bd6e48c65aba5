/* SPDX-License-Identifier: MIT */
/*
 * pane_dom.h - the live view's domain pane (screen.h): ID, NAME, STATE,
 * CPU(sec), CPU%, RUN%, BLOCKED%, WAIT%, EXEC/s, VCPUS, MEM(k), KIND; sort
 * keys I N S T C R B W E V M K; each domain's vCPUs as sub-rows.
 */
#ifndef RVMIG_TOOLS_TOP_PANE_DOM_H
#define RVMIG_TOOLS_TOP_PANE_DOM_H

#include "top/screen.h"

extern const struct top_pane top_pane_domains;

#endif
