/* SPDX-License-Identifier: MIT */
/*
 * live.h - rvmig-top's live view: the screen (screen.h) on a terminal with
 * ncurses, keys read between samples.
 *
 * While the view is up, the process's standard error (the tool's and the
 * library's messages) goes to a pipe the view drains: the latest message
 * is shown on the status line, and the last ones are written to the real
 * standard error once the terminal is restored, so nothing scribbles over
 * the screen and nothing is lost on an error exit.
 */
#ifndef RVMIG_TOOLS_TOP_LIVE_H
#define RVMIG_TOOLS_TOP_LIVE_H

#include <signal.h>
#include <time.h>

#include "top/screen.h"

struct top_live;

/* Takes the terminal (stdin / stdout) and fills its screen with the panes
 * given.  Returns 0, or -1 after saying why (no terminal, unknown TERM). */
int top_live_start(const struct top_pane *const *panes, unsigned npanes, double delay_s,
		   struct top_live **out);
/* Draws the view (kept for redraws until the next call; it must stay valid
 * until then).  Returns 0 or -ENOMEM. */
int top_live_draw(struct top_live *l, const struct top_view *v);
/* Handles keys until the CLOCK_MONOTONIC *deadline, *stop, or the user
 * quits.  'd' changes *delay_s and moves *deadline to now + the new delay.
 * Returns 1 to sample again, 0 to quit (key q, or *stop set by a signal). */
int top_live_wait(struct top_live *l, struct timespec *deadline, double *delay_s,
		  volatile sig_atomic_t *stop);
/* Restores the terminal and standard error, then writes the messages
 * captured (the last ones) there.  NULL is allowed. */
void top_live_stop(struct top_live *l);

#endif
