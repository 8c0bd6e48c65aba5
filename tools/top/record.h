/* SPDX-License-Identifier: MIT */
/*
 * record.h - rvmig-top --record FILE: every sample appended to a
 * line-oriented, tab-separated file (format 1, described in rvmig-top(1),
 * RECORD FORMAT), read back by rvmig-top-plot and meant for replay.
 *
 *   #rvmig-top-record  1  host=NAME  backend=linux  cpus=N  mem_total=BYTES
 *                          delay_s=S  start=EPOCH  rvmig=VERSION
 *   #H  time interval_s mem_free mem_avail ncpus idle_pct_0 ... (column names)
 *   #D  time interval_s kind id name state cpu_s cpu_pct run_pct ...
 *   #V  time interval_s kind id vcpu cpu_s run_pct blocked_pct ...
 *   #T  time interval_s pid id name tool peer ... bytes_per_s ...
 *   H ... / D ... / V ... / T ...   one H, D and V rows, then a T row per
 *                                   rvmig transfer on the host
 *
 * A run appends one such header (the "#rvmig-top-record" line and the
 * column lines) before its samples, so a file may hold several runs.
 * Names are escaped as rvmig_text_escape() does: no tab, newline or
 * control byte ever reaches the file.  The writers are pure functions of a
 * top_view, so tests read back what they write.
 */
#ifndef RVMIG_TOOLS_TOP_RECORD_H
#define RVMIG_TOOLS_TOP_RECORD_H

#include <stdio.h>

#include "top/view.h"

#define TOP_RECORD_MAGIC "#rvmig-top-record"
#define TOP_RECORD_VERSION 1

/* The header of a run: the magic line (host, backend, CPUs and memory from
 * v, delay_s, start = v->time_s) and the column lines. */
int top_record_write_header(FILE *f, const struct top_view *v, double delay_s);
/* One sample: an H row, a D row per domain and a V row per vCPU, a T row
 * per transfer. */
int top_record_write_sample(FILE *f, const struct top_view *v);

struct top_record;

/* Opens PATH for appending: created 0600 when missing; never through a
 * symbolic link; an existing PATH must be a regular file owned by this
 * user with one link, empty or a record of this format (its first line).
 * Returns 0, or -errno after saying what is wrong with PATH. */
int top_record_open(const char *path, double delay_s, struct top_record **out);
/* Appends a sample (the run's header before the first), then flushes: one
 * write(2) per sample of up to 64 KiB.  Returns 0 or -errno (printed). */
int top_record_append(struct top_record *r, const struct top_view *v);
/* Closes the file.  Returns 0 or -errno (printed: data may be lost). */
int top_record_close(struct top_record *r);

#endif
