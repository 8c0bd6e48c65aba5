/* SPDX-License-Identifier: MIT */
/*
 * why.h - the lines of a command's stderr that say why it failed, picked
 * as they arrive (pure: no I/O; why.c).  rvmig_act_run() (exec.c) puts
 * them into its error; rvmigd (tools/tunnel/session.c, which compiles
 * why.c in) into its log line of the command's exit.
 *
 * A command such as `xl -vvv migrate` prints hundreds of debug lines
 * before the one that matters: its first stderr line is a libxl debug
 * message.  The picker skips message lines below warning level ("CONTEXT:
 * debug: ...", likewise verbose, detail, info, notice: xentoollog's
 * levels) and keeps, of the others,
 *   - lines that report a failure (holding "error", "fail", "cannot",
 *     "unable", "denied", "refused" or "timed out", any case): the first
 *     one (usually the cause) and the last ACT_WHY_LAST (the outcome);
 *   - else the first and the last of them (a plain tool's message);
 *   - else, all being debug, the last line.
 * Each line kept to ACT_WHY_LINE - 1 bytes (longer ones cut); at most
 * ACT_WHY_LAST + 2 lines in the text, so it stays bounded.
 */
#ifndef RVMIG_ACT_WHY_H
#define RVMIG_ACT_WHY_H

#include <stddef.h>

#define ACT_WHY_LINE 200 /* bytes of a line kept, NUL included */
#define ACT_WHY_LAST 3   /* failure lines kept from the end */

struct act_why {
	char part[ACT_WHY_LINE]; /* act_why_feed(): the line being read */
	size_t plen;
	char first_fail[ACT_WHY_LINE];
	char fail[ACT_WHY_LAST][ACT_WHY_LINE]; /* the last ones, a ring */
	unsigned nfail;                         /* failure lines seen */
	char first[ACT_WHY_LINE], last[ACT_WHY_LINE]; /* message lines (not debug) */
	unsigned nmsg;
	char last_any[ACT_WHY_LINE];
	unsigned nlines;
	/* set by the caller, or NULL: each line act_why_feed() splits off
	 * (cut to ACT_WHY_LINE - 1 bytes), e.g. to log it */
	void (*each)(void *arg, const char *line);
	void *each_arg;
};

/* Zeroes w (as `= { 0 }` does: no `each`). */
void act_why_init(struct act_why *w);
/* One whole line (without its end), len bytes. */
void act_why_line(struct act_why *w, const char *line, size_t len);
/* Raw bytes as read: split into lines at '\n' and '\r'. */
void act_why_feed(struct act_why *w, const void *buf, size_t len);
/* Ends a last line without its newline (EOF). */
void act_why_flush(struct act_why *w);
/* The picked lines, each escaped (rvmig_text_escape()), joined by " | ",
 * "..." where failure lines were skipped; "" when nothing was seen.  The
 * length written (cut to cap - 1). */
size_t act_why_text(const struct act_why *w, char *out, size_t cap);

#endif
