/* SPDX-License-Identifier: MIT */
/*
 * screen.h - what the live view of rvmig-top shows, as lines of text: a
 * pure layout of a top_view (view.h) for a terminal of a given size, with
 * no curses and no clock, so tests drive it with made-up views.
 *
 * The screen is a host header, then panes one under the other.  A pane is a
 * table: columns that know how to print a cell and compare two rows, rows
 * taken from the view, and optionally sub-rows under each row (a domain's
 * vCPUs), shown when the user asks.  Each pane has its own sort column and
 * order; the keys act on the pane that has the focus.  The domain pane is
 * top_pane_domains (pane_dom.c); another source (rvmig transfers) becomes
 * another pane by filling a struct top_pane and adding it to the list
 * the live view is given.
 */
#ifndef RVMIG_TOOLS_TOP_SCREEN_H
#define RVMIG_TOOLS_TOP_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "top/view.h"

/* Widest cell any column prints, NUL included. */
#define TOP_CELL_MAX 64

struct top_col {
	const char *head;  /* column header ("RUN%") */
	int width;         /* > 0: right-aligned in width; < 0: left-aligned */
	char key;          /* the sort key (an upper-case letter), 0: none */
	/* Writes the cell of row `row` (sub-row `sub`, or -1 for the row
	 * itself) into buf (TOP_CELL_MAX bytes); empty for no value.  Text
	 * from outside (names) must be escaped here. */
	void (*cell)(const struct top_view *v, unsigned row, int sub, char *buf);
	/* <0, 0, >0 as row a sorts before, with, after row b (ascending). */
	int (*cmp)(const struct top_view *v, unsigned a, unsigned b);
	bool descending;   /* the natural order when first chosen (figures: high first) */
};

struct top_pane {
	const char *title;  /* shown in the help and when the pane has the focus */
	const struct top_col *cols;
	unsigned ncols;
	unsigned default_sort; /* index into cols */
	unsigned (*nrows)(const struct top_view *v);
	/* sub-rows of a row (vCPUs), NULL when the pane has none */
	unsigned (*nsub)(const struct top_view *v, unsigned row);
};

/* The user's choices, per pane and overall. */
#define TOP_SCREEN_MAX_PANES 4
struct top_screen {
	const struct top_pane *panes[TOP_SCREEN_MAX_PANES];
	unsigned npanes;
	unsigned focus;                         /* pane the keys act on */
	unsigned sort[TOP_SCREEN_MAX_PANES];    /* column index */
	bool reverse[TOP_SCREEN_MAX_PANES];     /* against the column's natural order */
	bool show_sub;                          /* sub-rows (vCPUs) shown */
	bool help;                              /* the help text instead of the panes */
	double delay_s;
	char status[160];  /* the bottom line: a prompt, a message, else the keys */
};

void top_screen_init(struct top_screen *s, double delay_s);
/* Adds a pane (its default sort column).  -1 when full. */
int top_screen_add_pane(struct top_screen *s, const struct top_pane *p);

/* What a key did. */
enum top_key_result {
	TOP_KEY_NONE,     /* not a key of the screen's */
	TOP_KEY_REDRAW,   /* the layout changed: draw again */
	TOP_KEY_QUIT,
	TOP_KEY_DELAY,    /* the caller asks for a new delay */
};
/* Applies a key: sort letters of the focused pane's columns, '<' '>' (sort
 * column left / right), 'r' (reverse), 'v' (sub-rows), Tab (next pane),
 * 'h' '?' (help), 'q' 'Q' (quit), 'd' (delay: the caller prompts). */
enum top_key_result top_screen_key(struct top_screen *s, int key);

/* Row order of pane p for view v (sorted as the screen says): fills
 * order[0..nrows-1].  order holds nrows entries. */
void top_screen_order(const struct top_screen *s, unsigned pane, const struct top_view *v,
		      unsigned *order);

/* Attributes of a line, for the caller to map onto the terminal's. */
enum top_line_attr { TOP_LINE_PLAIN, TOP_LINE_HEADER, TOP_LINE_TITLE, TOP_LINE_STATUS };

/* Lays the screen out for a terminal of `width` x `height` cells and calls
 * put() once per line, y from 0 to height-1 at most, each line cut to width
 * bytes (all of them printable ASCII).  The last line (height-1) is the
 * status line.  Returns 0, or -ENOMEM. */
typedef void (*top_put_fn)(void *arg, int y, enum top_line_attr attr, const char *line);
int top_screen_render(const struct top_screen *s, const struct top_view *v, int width,
		      int height, top_put_fn put, void *arg);

/* Escapes text from outside (a process or cgroup name) for one cell, as
 * rvmig_text_escape() does (too long: cut, ending in "..."). */
void top_cell_text(char *buf, size_t cap, const char *text);

#endif
