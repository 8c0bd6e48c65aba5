/* SPDX-License-Identifier: MIT */
/*
 * stop.h - how every tool is stopped: SIGINT and SIGTERM set a flag that
 * the library's loops look at (the .stop of rvmig_xsend_opts,
 * rvmig_xrsession_attr, ...), and SIGPIPE is ignored (a reader that went
 * away is EPIPE, not death).
 */
#ifndef RVMIG_TOOLS_STOP_H
#define RVMIG_TOOLS_STOP_H

#include <signal.h>

/* 0, or the number of the signal that asked to stop (once tool_catch_stop()
 * ran). */
extern volatile sig_atomic_t tool_stop;

/* SIGINT / SIGTERM set tool_stop (no SA_RESTART: a blocking call returns
 * EINTR); SIGPIPE is ignored. */
void tool_catch_stop(void);

#endif
