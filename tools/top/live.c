/* SPDX-License-Identifier: MIT */
/*
 * live.c - rvmig-top's live view on ncurses (live.h).
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "top/live.h"

/* Messages kept from standard error while the view is up. */
#define MSG_LINES 16
#define MSG_LEN 240

struct top_live {
	SCREEN *scr;
	struct top_screen screen;
	const struct top_view *view;
	int err_saved;  /* the real standard error */
	int err_pipe;   /* read end of the pipe standard error now goes to */
	char msg[MSG_LINES][MSG_LEN];
	unsigned nmsg, msg_dropped;
	char partial[MSG_LEN];
	size_t partial_len;
	bool msg_fresh; /* the latest message is on the status line */
};

static void msg_add(struct top_live *l, const char *text, size_t len)
{
	char *m;

	if (l->nmsg == MSG_LINES) {
		memmove(l->msg[0], l->msg[1], sizeof(l->msg[0]) * (MSG_LINES - 1));
		l->nmsg--;
		l->msg_dropped++;
	}
	m = l->msg[l->nmsg++];
	/* kept as written (the tools escape what they print); cut to a line */
	snprintf(m, MSG_LEN, "%.*s", (int)(len < MSG_LEN - 1 ? len : MSG_LEN - 1), text);
	l->msg_fresh = true;
}

/* Reads what standard error received; whole lines become messages. */
static void msg_drain(struct top_live *l)
{
	char buf[1024];
	ssize_t n;

	if (l->err_pipe < 0)
		return;
	while ((n = read(l->err_pipe, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				msg_add(l, l->partial, l->partial_len);
				l->partial_len = 0;
			} else if (l->partial_len < sizeof(l->partial) - 1) {
				l->partial[l->partial_len++] = buf[i];
			}
		}
	}
}

static int capture_stderr(struct top_live *l)
{
	int p[2];

	fflush(stderr);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	l->err_saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (l->err_saved < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		int rc = -errno;

		if (l->err_saved >= 0)
			close(l->err_saved);
		l->err_saved = -1;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	close(p[1]);
	l->err_pipe = p[0];
	return 0;
}

static void release_stderr(struct top_live *l)
{
	if (l->err_saved < 0)
		return;
	fflush(stderr);
	msg_drain(l);
	if (l->partial_len)
		msg_add(l, l->partial, l->partial_len);
	dup2(l->err_saved, STDERR_FILENO);
	close(l->err_saved);
	close(l->err_pipe);
	l->err_saved = l->err_pipe = -1;
	if (l->msg_dropped)
		fprintf(stderr, "(%u earlier messages not kept)\n", l->msg_dropped);
	for (unsigned i = 0; i < l->nmsg; i++)
		fprintf(stderr, "%s\n", l->msg[i]);
}

int top_live_start(const struct top_pane *const *panes, unsigned npanes, double delay_s,
		   struct top_live **out)
{
	struct top_live *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return -1;
	l->err_saved = l->err_pipe = -1;
	top_screen_init(&l->screen, delay_s);
	for (unsigned i = 0; i < npanes; i++)
		top_screen_add_pane(&l->screen, panes[i]);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		tool_err("the live view needs a terminal on standard input and output (-b: batch mode)");
		free(l);
		return -1;
	}
	/* newterm, not initscr: a bad TERM is an error here, not an exit */
	l->scr = newterm(NULL, stdout, stdin);
	if (!l->scr) {
		tool_err("cannot use the terminal (TERM=%s) for the live view (-b: batch mode)",
			 getenv("TERM") ? getenv("TERM") : "");
		free(l);
		return -1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	if ((rc = capture_stderr(l)))
		tool_err("standard error stays on the terminal: %s", strerror(-rc));
	*out = l;
	return 0;
}

static void put_line(void *arg, int y, enum top_line_attr attr, const char *line)
{
	int a = attr == TOP_LINE_HEADER || attr == TOP_LINE_STATUS ? A_REVERSE
		: attr == TOP_LINE_TITLE ? A_BOLD : A_NORMAL;

	(void)arg;
	attrset(a);
	mvaddstr(y, 0, line);
	if (attr == TOP_LINE_HEADER || attr == TOP_LINE_STATUS)
		for (int x = (int)strlen(line); x < COLS; x++)
			addch(' ');
	attrset(A_NORMAL);
}

static int redraw(struct top_live *l)
{
	int rc;

	if (!l->view)
		return 0;
	if (l->msg_fresh && l->nmsg && !l->screen.status[0])
		rvmig_text_escape(l->screen.status, sizeof(l->screen.status), l->msg[l->nmsg - 1],
				  strlen(l->msg[l->nmsg - 1]));
	l->msg_fresh = false;
	erase();
	rc = top_screen_render(&l->screen, l->view, COLS, LINES, put_line, NULL);
	refresh();
	return rc;
}

int top_live_draw(struct top_live *l, const struct top_view *v)
{
	l->view = v;
	msg_drain(l);
	l->screen.status[0] = '\0'; /* a message lasts until the next sample */
	return redraw(l);
}

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void set_deadline(struct timespec *d, double at)
{
	d->tv_sec = (time_t)at;
	d->tv_nsec = (long)((at - (double)d->tv_sec) * 1e9);
	if (d->tv_nsec >= 1000000000L) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000L;
	}
}

/* Reads a new delay on the status line.  Returns 1 with *out set, 0 when
 * cancelled or invalid (the status line says why), -1 on *stop. */
static int prompt_delay(struct top_live *l, double *out, volatile sig_atomic_t *stop)
{
	char in[16] = "";
	size_t n = 0;

	for (;;) {
		snprintf(l->screen.status, sizeof(l->screen.status),
			 "Delay in seconds (0.1 .. 86400, now %g; Enter: set, Esc: cancel): %s",
			 l->screen.delay_s, in);
		redraw(l);
		timeout(250);
		int ch = getch();

		msg_drain(l);
		if (*stop)
			return -1;
		if (ch == ERR || ch == KEY_RESIZE)
			continue;
		if (ch == 27) {
			l->screen.status[0] = '\0';
			return 0;
		}
		if (ch == '\r' || ch == '\n' || ch == KEY_ENTER)
			break;
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
			in[--n] = '\0';
		else if (((ch >= '0' && ch <= '9') || ch == '.') && n < sizeof(in) - 1)
			in[n++] = (char)ch, in[n] = '\0';
	}
	char *end;
	double d;

	errno = 0;
	d = strtod(in, &end);
	if (errno || end == in || *end || !(d >= 0.1 && d <= 86400)) {
		snprintf(l->screen.status, sizeof(l->screen.status),
			 "'%s': not a delay in seconds (0.1 .. 86400); kept %g s", in,
			 l->screen.delay_s);
		return 0;
	}
	l->screen.status[0] = '\0';
	*out = d;
	return 1;
}

int top_live_wait(struct top_live *l, struct timespec *deadline, double *delay_s,
		  volatile sig_atomic_t *stop)
{
	for (;;) {
		double left = (double)deadline->tv_sec + deadline->tv_nsec / 1e9 - mono_now();
		int ch, rc;

		if (*stop)
			return 0;
		/* short waits: a signal is seen within 250 ms whatever curses
		 * does with EINTR; past the deadline (a sample slower than the
		 * delay) the keys typed meanwhile are still read, without waiting */
		timeout(left <= 0 ? 0 : left > 0.25 ? 250 : (int)(left * 1000) + 1);
		ch = getch();
		msg_drain(l);
		if (l->msg_fresh)
			redraw(l);
		if (ch == ERR && left <= 0)
			return 1;
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			redraw(l);
			continue;
		}
		if (ch == 12) { /* ^L */
			clearok(curscr, TRUE);
			redraw(l);
			continue;
		}
		switch (top_screen_key(&l->screen, ch)) {
		case TOP_KEY_QUIT:
			return 0;
		case TOP_KEY_REDRAW:
			l->screen.status[0] = '\0';
			redraw(l);
			break;
		case TOP_KEY_DELAY: {
			double d;

			rc = prompt_delay(l, &d, stop);
			if (rc < 0)
				return 0;
			if (rc > 0) {
				*delay_s = l->screen.delay_s = d;
				set_deadline(deadline, mono_now() + d);
			}
			redraw(l);
			break;
		}
		case TOP_KEY_NONE:
			break;
		}
	}
}

void top_live_stop(struct top_live *l)
{
	if (!l)
		return;
	if (l->scr) {
		endwin();
		delscreen(l->scr);
	}
	release_stderr(l);
	free(l);
}
