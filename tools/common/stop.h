/* SPDX-License-Identifier: MIT */
/*
 * stop.h - how every tool is stopped: SIGINT and SIGTERM set a flag that
 * the library's loops look at (the .stop of rvmig_xsend_opts,
 * rvmig_xrsession_attr, ...), and SIGPIPE is ignored (a reader that went
 * away is EPIPE, not death).  A tool's own waits between steps go through
 * tool_stop_wait(), which a stop request ends at once.
 */
#ifndef RVMIG_TOOLS_STOP_H
#define RVMIG_TOOLS_STOP_H

#include <signal.h>

/* 0, or the number of the signal that asked to stop (once tool_catch_stop()
 * ran). */
extern volatile sig_atomic_t tool_stop;

/* SIGINT / SIGTERM set tool_stop (no SA_RESTART: a blocking call returns
 * EINTR) and make tool_stop_wait() return, whichever thread the signal is
 * delivered to; SIGPIPE is ignored. */
void tool_catch_stop(void);

/* Waits s seconds, or less: 1 as soon as a stop was asked (before the call
 * or during the wait, on any thread), 0 once s seconds passed without.
 * Without tool_catch_stop() a plain sleep of s seconds. */
int tool_stop_wait(double s);

#endif
